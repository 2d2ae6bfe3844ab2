"""A slice of the paper's RNN grids searched on Dask (``ledlib.grid_search``, ``scripts/grid_search.py``)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ledlib import configs, data, grid_search, metrics, train
from ledlib.nn import LED

ROOT = Path(__file__).resolve().parent.parent


def test_the_slices_are_the_tables_rows_with_the_paper_pick_once():
    fhn = grid_search.grid(6, "paper")
    assert len(fhn) == 2 * 4 * 1  # Table 6: {lstm, gru} x {50, 100, 200, 400} x {1}
    assert [p.name for p in fhn if p.paper_pick] == ["FHN-LSTM-1x50"]
    ks = grid_search.grid(8, "paper")
    assert len(ks) == 2 * 3 * 2  # Table 8: {lstm, gru} x {100, 200, 400} x {1, 2}
    (pick,) = [p for p in ks if p.paper_pick]
    assert pick.config == configs.get("KS", "paper")  # the pick's point is the paper configuration itself
    # every point differs from the pick only in the searched RNN rows
    for p in ks:
        assert p.config.ae == pick.config.ae and p.config.rnn_train == pick.config.rnn_train
        assert (p.config.rnn.cell, p.config.rnn.d_h, p.config.rnn.n_layers) == tuple(p.values.values())
    assert not any(p.paper_pick for p in grid_search.grid(6, "quick", sizes=(8,)))


@pytest.mark.parametrize("kw, word", [({"table": 5}, "table"), ({"table": 7}, "table"),
                                      ({"table": 6, "sizes": (0,)}, "sizes"),
                                      ({"table": 6, "cells": ("rnn",)}, "cells"),
                                      ({"table": 8, "layers": ()}, "layers")])
def test_bad_slices_name_the_parameter(kw, word):
    with pytest.raises(ValueError, match=word):
        grid_search.grid(**kw)


@pytest.mark.parametrize("kw, word, value", [({"sizes": (50, 64)}, "sizes", "64"), ({"layers": (1, 2)}, "layers", "2"),
                                             ({"cells": ("lstm", "rnn")}, "cells", "'rnn'")])
def test_a_value_outside_the_table_is_refused_naming_the_parameter(kw, word, value):
    """Table 6 searched sizes {50, 100, 200, 400} and one layer: the paper slice takes
    nothing else, and says which parameter, what was given and what the table has; the
    chapter's entry point refuses it before it loads or trains anything."""
    with pytest.raises(ValueError, match=rf"^{word}: {value} is not in Table 6's row .*values are \(") as err:
        grid_search.grid(6, "paper", **kw)
    with pytest.raises(ValueError, match=rf"^{word}: {value}"):
        grid_search.run_or_load(6, "paper", dataset=object(), **kw)  # refused before the dataset is looked at
    assert str(configs.table_grid(6)[{"sizes": "Size of RNN layers", "layers": "Number of RNN layers",
                                      "cells": "RNN cell type"}[word]]) in str(err.value)
    # the quick profile's models are scaled down: its sizes are free, its layers and cells are the table's
    assert [p.values["Size of RNN layers"] for p in grid_search.grid(6, "quick", cells=("lstm",), sizes=(4, 64))] == [4, 64]
    if word != "sizes":
        with pytest.raises(ValueError, match=word):
            grid_search.grid(6, "quick", **kw)


def test_the_books_slice_keeps_the_pick_and_its_neighbours_on_each_axis():
    points = grid_search.grid(6, "paper", **grid_search.SLICES[6]["paper"])
    pick = configs.get("FHN", "paper").rnn
    rows = configs.table_grid(6)
    (p,) = [p for p in points if p.paper_pick]
    assert (p.config.rnn.cell, p.config.rnn.d_h, p.config.rnn.n_layers) == (pick.cell, pick.d_h, pick.n_layers)
    have = {(q.config.rnn.cell, q.config.rnn.d_h, q.config.rnn.n_layers) for q in points}
    for axis, field in (("RNN cell type", "cell"), ("Size of RNN layers", "d_h"), ("Number of RNN layers", "n_layers")):
        values = rows[axis]
        i = values.index(getattr(pick, field))
        for v in values[max(i - 1, 0):i + 2]:  # the pick's value on this axis and its neighbours in the table
            moved = {**dict(cell=pick.cell, d_h=pick.d_h, n_layers=pick.n_layers), field: v}
            assert (moved["cell"], moved["d_h"], moved["n_layers"]) in have, (axis, v)


def _fake_scores(monkeypatch, val_loss, forecast):
    """run_or_load with the models replaced by scores computed from each configuration."""
    monkeypatch.setattr(grid_search, "_fit_ae", lambda *a: (None, {"best_val_loss": 1e-5, "epochs_run": 1}))

    def score(ae, config, dataset, protocol, cache, seed, device):
        r = config.rnn
        return {"val_loss": val_loss(r.cell, r.d_h, seed), "forecast_mnad": forecast(r.cell, r.d_h, seed),
                "epochs_run": 1, "seed": seed}
    monkeypatch.setattr(grid_search, "_fit_and_score", score)


def test_the_pick_marked_is_the_tables_pick_and_the_best_is_the_lowest_loss(monkeypatch):
    """The paper slice through run_or_load with scores that put the best elsewhere than the
    pick: the marked pick is configs' paper pick (LSTM 1x50), the best is the argmin."""
    losses = {("lstm", 50): 3e-5, ("lstm", 100): 2e-5, ("lstm", 200): 4e-5,
              ("gru", 50): 5e-5, ("gru", 100): 1e-5, ("gru", 200): 6e-5}
    mnads = {("lstm", 50): 0.01, ("lstm", 100): 0.2, ("lstm", 200): 0.03,
             ("gru", 50): 0.04, ("gru", 100): 0.05, ("gru", 200): 0.06}
    _fake_scores(monkeypatch, lambda c, d, s: losses[c, d] * (1 + 0.1 * s), lambda c, d, s: mnads[c, d] * (1 + s))
    res = grid_search.run_or_load(6, "paper", dataset=_FakeFHN(), cache=None)
    assert [p["name"] for p in res["points"] if p["paper_pick"]] == ["FHN-LSTM-1x50"]
    pick = configs.get("FHN", "paper").rnn
    assert res["paper_pick"] == {"RNN cell type": pick.cell, "Size of RNN layers": pick.d_h,
                                 "Number of RNN layers": pick.n_layers}
    by_name = {p["name"]: p for p in res["points"]}
    assert res["best_val_loss"] == min(by_name, key=lambda n: by_name[n]["val_loss"]) == "FHN-GRU-1x100"
    assert res["best_forecast"] == "FHN-LSTM-1x50"
    assert [s["seed"] for s in res["pick_seeds"]] == list(grid_search.PICK_SEEDS["paper"])
    text = grid_search.render(res)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert "| gru | 100 | 1 |" in rows[0] and "best here (lowest loss)" in rows[0]  # sorted by loss
    (marked,) = [r for r in rows if "paper's pick" in r]
    assert marked.startswith("| **lstm** | **50** | **1** |") and "best here (lowest forecast error)" in marked
    assert sum("**" in r for r in rows) == 1
    assert "ranks 3 of 6" in text and "GRU, 100 units" in text  # lstm 50 is third by validation loss
    assert "spans a validation loss of 3e-05 to 3.9e-05" in text  # seeds 0-3 of the pick: 3e-5 x (1 + 0.1 s)
    assert ("By validation loss 0 of the 5 others lie in that range, LSTM 1x100, GRU 1x100 below it (better than "
            "every seed of the pick) and LSTM 1x200, GRU 1x50, GRU 1x200 above it") in text


class _FakeFHN:
    class spec:
        system = "FHN"


def test_the_figure_marks_the_pick_and_the_best(monkeypatch):
    from ledlib.plots.grid import grid_search_figure

    _fake_scores(monkeypatch, lambda c, d, s: 1e-5 * d * (2 if c == "gru" else 1) * (1 + 0.1 * s),
                 lambda c, d, s: 0.1 / d * (1.5 if c == "gru" else 1))
    res = grid_search.run_or_load(6, "paper", dataset=_FakeFHN(), cache=None)
    fig = grid_search_figure(res)
    ax_loss, ax_mnad = fig.axes[:2]
    labels = [t.get_text() for t in ax_loss.get_yticklabels()]
    assert labels == ["* LSTM 1x50", "LSTM 1x100", "LSTM 1x200", "GRU 1x50", "GRU 1x100", "GRU 1x200"]
    for ax, key in ((ax_loss, "val_loss"), (ax_mnad, "forecast_mnad")):
        bars = ax.containers[0].patches
        assert [b.get_width() for b in bars] == [p[key] for p in res["points"]]
        assert [b.get_facecolor() == bars[0].get_facecolor() for b in bars] == [True] + [False] * 5  # the pick's colour
        y_of = {lab: b.get_y() + b.get_height() / 2 for lab, b in zip(labels, bars)}
        best = [t.xy[1] for t in ax.texts if t.get_text() == "best"]
        want = "* LSTM 1x50" if key == "val_loss" else "LSTM 1x200"  # the lowest of each score
        assert best == [y_of[want]]


def test_latent_forecast_error_is_the_mnad_of_a_step_by_step_forecast():
    config = configs.get("FHN", "quick")
    torch.manual_seed(0)
    led = LED(config).eval()
    rng = np.random.default_rng(0)
    states = rng.normal(size=(2, 40, 2, 101)).astype(np.float32)
    got = grid_search.latent_forecast_error(led, states, warm_steps=5, horizon_steps=7, n_starts=3)
    # independently: one start at a time, the RNN stepped by hand
    scores = []
    for i in range(2):
        for s in np.linspace(0, 40 - 12, 3).astype(int):
            z = led.encode(states[i, s:s + 5])
            hidden, z_hat = None, None
            for t in range(5):
                z_hat, hidden = led.step(z[t:t + 1], hidden)
            path = [z_hat]
            for _ in range(6):
                z_hat, hidden = led.step(z_hat, hidden)
                path.append(z_hat)
            pred = led.decode(torch.cat(path)).numpy()
            truth = states[i, s + 5:s + 12]
            scores.append(np.mean([metrics.mnad(truth[:, c], pred[:, c]) for c in range(2)]))
    assert math.isclose(got, float(np.mean(scores)), rel_tol=1e-5)
    with pytest.raises(ValueError, match="exceeds"):
        grid_search.latent_forecast_error(led, states, warm_steps=30, horizon_steps=11)


def _results(picked: bool):
    points = [{"name": "A", "values": {"RNN cell type": "lstm", "Size of RNN layers": 50, "Number of RNN layers": 1},
               "paper_pick": picked, "status": "ok", "val_loss": 2.0, "forecast_mnad": 0.1},
              {"name": "B", "values": {"RNN cell type": "gru", "Size of RNN layers": 50, "Number of RNN layers": 1},
               "paper_pick": False, "status": "ok", "val_loss": 1.0, "forecast_mnad": 0.3}]
    return {"format": grid_search.RESULTS_FORMAT, "searched": list(grid_search.AXES), "points": points,
            "paper_pick": points[0]["values"], "forecast": {"horizon_steps": 100},
            "best_val_loss": "B", "best_forecast": "A"}


def test_render_marks_the_pick_and_the_best_and_sorts_by_loss():
    text = grid_search.render(_results(True))
    rows = [line for line in text.splitlines() if line.startswith("| ") and ("lstm" in line or "gru" in line)]
    assert "gru" in rows[0] and "lowest loss" in rows[0]  # sorted by validation loss
    assert "**lstm**" in rows[1] and "paper's pick" in rows[1] and "lowest forecast error" in rows[1]
    assert "not in this slice" in grid_search.render(_results(False))


def test_results_file_is_atomic_and_checksummed(tmp_path):
    path = grid_search.write_results(tmp_path / "g.json", _results(True))
    assert grid_search.load_results(path)["points"][1]["val_loss"] == 1.0
    assert not list(tmp_path.glob(".*.tmp"))
    damaged = json.loads(path.read_text())
    damaged["points"][1]["val_loss"] = 0.5  # a better number typed in by hand
    path.write_text(json.dumps(damaged))
    with pytest.raises(ValueError, match="damaged"):
        grid_search.load_results(path)
    with pytest.raises(ValueError, match="format"):
        grid_search.write_results(tmp_path / "x.json", {"points": []})


def test_toy_slice_through_the_dask_path_and_a_rerun_loads(tmp_path, monkeypatch, one_thread):
    """The script on a quick-profile toy slice of Table 6 (a LocalCluster, real training);
    then the chapter's entry point loads those models in this process and gets the same
    numbers with no epoch run."""
    out = tmp_path / "grid.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "grid_search.py"), "--table", "6", "--profile", "quick",
           "--cells", "lstm", "--sizes", "4", "8", "--device", "cpu", "--workers", "1",
           "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    res = grid_search.load_results(out)
    assert [p["name"] for p in res["points"]] == ["FHN-LSTM-1x4", "FHN-LSTM-1x8"]
    assert all(p["status"] == "ok" and p["epochs_run"] >= 1 for p in res["points"])
    losses = {p["name"]: p["val_loss"] for p in res["points"]}
    assert all(math.isfinite(v) and v > 0 for v in losses.values())
    assert res["best_val_loss"] == min(losses, key=losses.get)
    assert all(0 < p["forecast_mnad"] < 10 for p in res["points"])
    assert "FHN-LSTM-1x4: ok" in first.stdout and "| lstm | 4 | 1 |" in first.stdout
    # a rerun trains nothing: every model loads from the cache, with the same numbers
    models = sorted((tmp_path / "cache" / "models").glob("*.safetensors"))
    stamps = [m.stat().st_mtime_ns for m in models]
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    again = grid_search.load_results(out)
    assert [(p["val_loss"], p["forecast_mnad"]) for p in again["points"]] == \
           [(p["val_loss"], p["forecast_mnad"]) for p in res["points"]]
    assert [m.stat().st_mtime_ns for m in sorted((tmp_path / "cache" / "models").glob("*.safetensors"))] == stamps
    # the chapter's call on the same cache: nothing may train, and the numbers are the search's
    def no_training(*args, **kwargs):
        raise AssertionError("an epoch ran: run_or_load trained instead of loading")

    for name in ("train_rnn", "train_autoencoder"):
        monkeypatch.setattr(train, name, no_training)
    monkeypatch.setattr(train.EpochLoop, "run", no_training)
    ds = data.load("FHN", "quick", cache=tmp_path / "cache", progress=False)
    book = grid_search.run_or_load(6, "quick", dataset=ds, cache=tmp_path / "cache", cells=("lstm",), sizes=(4, 8))
    assert book["ran"] == "in-process" and res["ran"] == "dask"
    assert [(p["name"], p["val_loss"], p["epochs_run"]) for p in book["points"]] == \
           [(p["name"], p["val_loss"], p["epochs_run"]) for p in res["points"]]
    for mine, theirs in zip(book["points"], res["points"]):
        assert math.isclose(mine["forecast_mnad"], theirs["forecast_mnad"], rel_tol=1e-6)
    assert (book["best_val_loss"], book["best_forecast"]) == (res["best_val_loss"], res["best_forecast"])
    assert "pick_seeds" not in book  # the quick pick (LSTM 1x16) is not in this slice: no seeds of it
    assert [m.stat().st_mtime_ns for m in sorted((tmp_path / "cache" / "models").glob("*.safetensors"))] == stamps

