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

from ledlib import configs, grid_search, metrics
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


def test_toy_slice_through_the_dask_path_and_a_rerun_loads(tmp_path):
    """The script on a quick-profile toy slice of Table 6 (a LocalCluster, real training)."""
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
