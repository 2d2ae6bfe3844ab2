"""scripts/paper_size_ensembles.py: the GPU study's export -> run -> merge path, on a CPU
at a tiny size, against ledlib.particle_statistics.moment_study called directly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ledlib import chapter, paper, particle_statistics, plots, scorecard, train

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import paper_size_ensembles as pse  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


def test_export_run_merge_gives_the_studys_numbers_under_the_chapters_keys(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    pse.export(["AD1D"], tmp_path / "ics.npz", "quick", str(cache), {"AD1D": 3})
    # the exported initial conditions are the chapter's
    fit = train.fit_led("AD1D", "quick", cache=str(cache), device="cpu", progress=False)
    P = paper.protocol("AD1D", "quick")
    meta, groups = pse._load_ics(tmp_path / "ics.npz")
    want = chapter.test_groups(fit.dataset.test, 3, P.i0)
    assert [t for t, _ in groups["AD1D"]] == [t for t, _ in want]
    for (_, a), (_, b) in zip(groups["AD1D"], want):
        np.testing.assert_array_equal(a, b)

    # the device run finds the LED among the shipped models only
    models = tmp_path / "models"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "ship_models.py"), "--cache", str(cache), "--out",
                    str(models)], check=True, capture_output=True)
    monkeypatch.setenv("LED_MODELS_DIR", str(models))
    out = tmp_path / "out"
    summ = pse.run(["AD1D"], tmp_path / "ics.npz", "cpu", out, {"AD1D": 2}, {"AD1D": 2}, 6.0, seed=0)["AD1D"]

    variants = {"latent": (None, 0.0), **{plots.variant_label(T_m, P.T_mu): (T_m, P.T_mu) for T_m in P.T_ms}}
    direct = particle_statistics.moment_study(fit.led, fit.dataset.system(), pse._first_ics(want, 2), variants,
                                              T_warm=P.T_warm, horizon=6.0, n_runs=2, record_every=P.record_every,
                                              seed=0).summary()
    assert summ == direct
    card = scorecard.load(out)
    ms = plots.variant_label(P.T_ms[-2], P.T_mu)
    for m in ("m1", "m2"):
        for tag, lab in (("latent", "latent"), ("multiscale", ms)):
            e = card[f"AD1.wd_{m}_{tag}"]
            assert e["ours"] == float(f"{direct[lab][m.upper()]['wd']:.3g}")
            assert "2 ICs x 2 runs (paper 20 x 400)" in e["note"] and "NumPy particle backend" in e["note"]
    speed = json.loads((out / "timings.json").read_text())["AD1D"]["particle_steps_per_s"]
    assert set(speed) == {"numpy", "torch-cpu"} and min(speed.values()) > 0

    book = tmp_path / "book_results"
    pse.merge(out, book)
    assert scorecard.load(book) == card


def test_bad_arguments_say_what_is_allowed(tmp_path):
    with pytest.raises(SystemExit, match="systems must be some of"):
        pse.main(["run", "--ics", str(tmp_path / "x.npz"), "--results-dir", str(tmp_path), "KS"])
    with pytest.raises(SystemExit, match="--n-runs must be one integer >= 1"):
        pse.main(["run", "--ics", str(tmp_path / "x.npz"), "--results-dir", str(tmp_path), "--n-runs", "0", "AD1D"])
    with pytest.raises(SystemExit, match="--horizon must be a positive number"):
        pse.main(["run", "--ics", str(tmp_path / "x.npz"), "--results-dir", str(tmp_path), "--horizon", "nan",
                  "AD1D"])
