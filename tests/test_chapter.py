"""The chapters' shared set-up (ledlib.chapter) and the helpers that moved from the
chapters into ledlib (metrics.particle_errors)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ledlib import chapter, configs, metrics, scorecard
from ledlib.paper import ad1d, ks


def test_setup_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        chapter.setup("fast")
    with pytest.raises(ValueError, match="threads"):
        chapter.setup("quick", threads=0)
    with pytest.raises(TypeError, match="cache_dir"):
        chapter.setup("quick", cache_dir=None)
    ch = chapter.setup("quick", "cpu", results_dir=tmp_path, cache_dir="")
    assert ch.cache is None and not ch.paper and str(ch.device) == "cpu"
    assert chapter.setup("paper", "cpu", cache_dir=str(tmp_path)).paper


def test_record_writes_the_profile_and_device_and_fills_claims(tmp_path):
    ch = chapter.setup("quick", "cpu", results_dir=tmp_path)
    assert ch.record("X.value", 1.5, paper=2.0, figure="F1", note="n") is None
    entry = scorecard.load(tmp_path)["X.value"]
    assert entry["ours"] == 1.5 and entry["paper"] == 2.0 and entry["profile"] == "quick"
    assert entry["device"] == "cpu" and entry["note"] == "n"
    # from_claims: the paper's value, figure and unit come from the claim of that ID
    from ledlib import reproduction

    c = reproduction.CLAIMS[0]
    ch.record(c.id, 3.0, from_claims=True)
    entry = scorecard.load(tmp_path)[c.id]
    assert entry["paper"] == c.paper and entry["figure"] == c.figure
    assert entry["unit"] == c.unit and ch.recorded == {"X.value": 1.5, c.id: 3.0}


def test_config_summary_names_the_tables_terms():
    s = chapter.config_summary(ad1d.paper_config())
    assert s == ("VAE, permutation-invariant encoder 5x100 tanh -> d_p=200, d_z=1, mixture decoder K=4 "
                 "(50 hidden), weight decay 0.0001; LSTM 1x100, BPTT 100, hidden propagation 500")
    k = chapter.config_summary(ks.config("quick"))
    cfg = ks.config("quick")
    assert k.startswith(f"{'VAE' if cfg.ae.variational else 'AE'} {cfg.ae.n_layers}x{cfg.ae.width} ")
    assert f"d_z={cfg.ae.d_z}" in k and f"BPTT {cfg.rnn_train.bptt}" in k
    t = chapter.config_summary(configs.template((2,), d_z=2, size="quick"))
    assert t.split(";")[0] == "AE 3x32 tanh residual, d_z=2, noise 0%, weight decay 0"
    with pytest.raises(TypeError, match="cfg"):
        chapter.config_summary({"ae": 1})


class _Fit:
    from_cache = True
    ae = dict(best_val_loss=0.012345, best_epoch=7, epochs_run=9, wall_time_s=12.4, device="cpu", stopped_early=False,
              stop_reason="requested")
    rnn = dict(best_val_loss=2.0, best_epoch=1, epochs_run=3, wall_time_s=0.2, device="cuda", stopped_early=True)


def test_training_report_one_line_per_stage():
    lines = chapter.training_report(_Fit()).splitlines()
    assert lines == ["autoencoder: best validation loss 0.0123 at epoch 7 of 9 (stopped by request), 12 s on cpu "
                     "(loaded from the cache)",
                     "RNN: best validation loss 2 at epoch 1 of 3 (stopped early), 0 s on cuda (loaded from the cache)"]
    with pytest.raises(TypeError, match="fitted"):
        chapter.training_report(object())


def test_paper_table_is_the_rendered_table_in_bold_terms():
    md = chapter.paper_table(1).data
    head, body = configs.render_table(1, mark_selected=True).split("\n", 1)
    assert md == f"Paper {head} (bold: the paper's pick).\n{body}"


def test_particle_errors_against_scipy_and_moments():
    rng = np.random.default_rng(0)
    T, N, d = 4, 300, 3
    true = rng.normal(size=(T, N, d))
    pred = 0.5 + 2.0 * rng.normal(size=(T, N + 20, d))
    e = metrics.particle_errors(pred, true, l1_hist=True)
    assert list(e) == ["wd", "l1", "m1_err", "m2_err"] and all(v.shape == (T,) for v in e.values())
    for t in range(T):
        wd = np.mean([stats.wasserstein_distance(pred[t, :, k], true[t, :, k]) for k in range(d)])
        np.testing.assert_allclose(e["wd"][t], wd, rtol=1e-10)
        np.testing.assert_allclose(e["m1_err"][t], np.abs(pred[t].mean(0) - true[t].mean(0)).mean(), rtol=1e-12)
        np.testing.assert_allclose(e["m2_err"][t], np.abs(pred[t].var(0) - true[t].var(0)).mean(), rtol=1e-12)
    # a shift of 0.5 and a scale of 2: the moment errors are near 0.5 and 3
    assert abs(e["m1_err"].mean() - 0.5) < 0.2 and abs(e["m2_err"].mean() - 3.0) < 0.8
    same = metrics.particle_errors(true, true)
    assert "l1" not in same and np.all(same["wd"] == 0) and np.all(same["m1_err"] == 0)


def test_particle_errors_in_one_dimension_equal_the_former_chapter_formula():
    rng = np.random.default_rng(1)
    pred, true = rng.uniform(size=(5, 50, 1)), rng.uniform(size=(5, 60, 1))
    p, q = pred[..., 0].T, true[..., 0].T
    e = metrics.particle_errors(pred, true, l1_hist=True)
    np.testing.assert_array_equal(e["wd"], metrics.wasserstein_columns(p, q))
    np.testing.assert_array_equal(e["l1"], metrics.l1_hist_distance_columns(p, q))
    np.testing.assert_array_equal(e["m1_err"], np.abs(p.mean(0) - q.mean(0)))
    np.testing.assert_array_equal(e["m2_err"], np.abs(p.var(0) - q.var(0)))


def test_particle_errors_refuse_bad_input():
    x = np.zeros((3, 4, 2))
    with pytest.raises(ValueError, match="pred and true"):
        metrics.particle_errors(x, np.zeros((3, 4, 1)))
    with pytest.raises(ValueError, match="pred and true"):
        metrics.particle_errors(x, np.zeros((2, 4, 2)))
    with pytest.raises(ValueError, match="true"):
        metrics.particle_errors(x, np.full((3, 4, 2), np.nan))
    with pytest.raises(TypeError, match="l1_hist"):
        metrics.particle_errors(x, x, l1_hist=1)


def test_density_peaks_finds_the_two_modes_of_a_mixture():
    from ledlib import analysis

    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(-2.0, 0.3, 4000), rng.normal(1.5, 0.3, 2000)])
    modes, dip = analysis.density_peaks(x, bins=30, smooth=3)
    assert modes[0] < modes[1]
    np.testing.assert_allclose(modes, [-2.0, 1.5], atol=0.3)  # within about one bin (0.2 wide)
    assert dip < 0.05  # the gap between the two wells is almost empty
    # a density rising to the end (p(x) = 2x on [0, 1]) has no interior peak: the end bins
    # stand in, and nothing between them lies below the smaller one
    modes, dip = analysis.density_peaks(np.sqrt(np.linspace(0.0, 1.0, 10001)), bins=10, smooth=1)
    np.testing.assert_allclose(modes, [0.05, 0.95], atol=1e-12)
    assert dip == 1.0
    with pytest.raises(ValueError, match="bins"):
        analysis.density_peaks(x, bins=2)
    with pytest.raises(ValueError, match="x"):
        analysis.density_peaks([1.0])
    with pytest.raises(ValueError, match="smooth"):
        analysis.density_peaks(x, smooth=0)


def test_own_forecast_figure_is_legible_and_checks_its_input():
    import matplotlib

    matplotlib.use("Agg")
    from ledlib import plots
    from ledlib.plots.own_simulator import own_forecast

    t = np.arange(50) * 0.1
    truth = np.stack([np.sin(t), np.cos(t)], axis=1)
    stuck = np.broadcast_to(np.array([0.3, 0.0]), (3, 50, 2))  # (runs, T, obs): a spike in (b)
    fig = own_forecast(t, truth, {"latent": stuck})
    assert fig.dpi >= plots.MIN_DPI and plots.rendered_text_px(fig) >= plots.MIN_TEXT_PX - 1e-9
    a, b = fig.axes
    np.testing.assert_array_equal(a.get_lines()[1].get_ydata(), stuck[0, :, 0])
    solver_top = np.histogram(truth[:, 0], bins=np.histogram_bin_edges(
        np.concatenate([truth[:, 0], stuck[..., 0].ravel()]), bins=40), density=True)[0].max()
    assert b.get_ylim()[1] == pytest.approx(2.0 * solver_top)
    with pytest.raises(ValueError, match="truth"):
        own_forecast(t[:10], truth, {"latent": stuck})
    with pytest.raises(ValueError, match="forecasts"):
        own_forecast(t, truth, {})


def test_stages_add_up_their_wall_times(tmp_path):
    import time

    ch = chapter.setup("quick", "cpu", results_dir=tmp_path)
    with ch.stage("a"):
        time.sleep(0.05)
    with pytest.raises(RuntimeError):
        with ch.stage("b"):
            raise RuntimeError("the block failed")  # still timed
    with ch.stage("a"):
        time.sleep(0.05)
    assert list(ch.walls) == ["a", "b"] and 0.1 <= ch.walls["a"] < 1.0 and ch.walls["b"] < 0.05
    assert ch.stage_report() == f"wall time per stage: a {ch.walls['a']:.1f} s, b {ch.walls['b']:.1f} s"
    with pytest.raises(ValueError, match="name"):
        with ch.stage(""):
            pass


class _Split:
    def __init__(self, n_traj, n_samples):
        self.states = np.arange(n_traj * n_samples * 2, dtype=np.float32).reshape(n_traj, n_samples, 2)
        self.t = np.tile(0.5 * np.arange(n_samples), (n_traj, 1))


def test_test_groups_take_every_trajectory_then_later_samples():
    sp = _Split(2, 10)
    (t0, x0), = chapter.test_groups(sp, 2, 4)
    assert t0 == 2.0 and x0.dtype == np.float64
    np.testing.assert_array_equal(x0, sp.states[:, 4])
    groups = chapter.test_groups(sp, 5, 4)  # 3 groups: samples 4, 6, 8 (step (10 - 4) // 3 = 2)
    assert [g[0] for g in groups] == [2.0, 3.0, 4.0] and [len(g[1]) for g in groups] == [2, 2, 1]
    np.testing.assert_array_equal(groups[2][1], sp.states[:1, 8])
    with pytest.raises(ValueError, match="n_ic"):
        chapter.test_groups(sp, 0, 4)
    with pytest.raises(ValueError, match="i0"):
        chapter.test_groups(sp, 2, 10)
    with pytest.raises(ValueError, match="do not fit"):
        chapter.test_groups(sp, 8, 8)


class _Result:
    coarse_dt = 0.5
    states = np.arange(1 * 1 * 6 * 3, dtype=float).reshape(1, 1, 6, 3)


def test_snapshots_pick_the_recorded_steps():
    np.testing.assert_array_equal(chapter.snapshots(_Result(), (0.0, 1.0, 2.5)), _Result.states[0, 0, [0, 2, 5]])
    with pytest.raises(ValueError, match="times"):
        chapter.snapshots(_Result(), (3.0,))
