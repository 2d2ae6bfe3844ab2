"""Helpers that moved out of the chapters: the window NAD observer of the FitzHugh-Nagumo
T_f study, and the trade-offs sweep (its inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from ledlib import metrics
from ledlib.forecast.window_observers import WindowNAD


def _reference(T=60, C=2, N=5, seed=0):
    return np.random.default_rng(seed).normal(size=(T, C, N))


def test_window_nad_is_eq22_per_window_and_channel():
    truth = _reference()
    starts, horizon = np.array([3, 10, 20]), 12
    obs = WindowNAD(truth, starts, t_start=5.0, horizon=horizon)
    rng = np.random.default_rng(1)
    preds = []
    for j in range(horizon + 1):
        states = truth[starts + j][:, None] + 0.1 * rng.normal(size=(3, 2, 2, 5))  # (window, runs, C, N)
        preds.append(states[:, 0])
        obs(5.0 + j, states)
    curves = obs.curves
    assert curves.shape == (horizon + 1, 3, 2)
    for w, s in enumerate(starts):
        for c in range(2):
            y = truth[s:s + horizon + 1, c]
            y_hat = np.stack([p[w, c] for p in preds])
            span = truth[s + 1:s + horizon + 1, c]
            want = np.abs(y_hat - y).mean(axis=-1) / (span.max() - span.min())
            np.testing.assert_allclose(curves[:, w, c], want, rtol=1e-12)
            # for the forecast steps it is metrics.nad with that window's range
            np.testing.assert_allclose(curves[1:, w, c], metrics.nad(y[1:], y_hat[1:]), rtol=1e-12)


def test_window_nad_is_zero_for_the_truth_and_refuses_bad_input():
    truth = _reference()
    obs = WindowNAD(truth, [0, 7], t_start=0.0, horizon=5)
    for j in range(6):
        obs(float(j), truth[np.array([0, 7]) + j][:, None])
    assert np.all(obs.curves == 0)
    with pytest.raises(ValueError, match="starts"):
        WindowNAD(truth, [], 0.0, 5)
    with pytest.raises(ValueError, match="horizon"):
        WindowNAD(truth, [0], 0.0, 0)
    with pytest.raises(ValueError, match="exceed"):
        WindowNAD(truth, [50], 0.0, 10)
    with pytest.raises(ValueError, match="constant"):
        WindowNAD(np.ones((20, 2, 3)), [0], 0.0, 5)
    with pytest.raises(ValueError, match="outside"):
        obs(9.0, truth[[0, 7]][:, None])
    with pytest.raises(ValueError, match="states"):
        obs(1.0, truth[[0, 7, 8]][:, None])


def test_toy_data_draws_from_the_generator_it_is_given():
    from ledlib import toy_data

    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(10, 3)))
    th1, x1 = toy_data.curve_sample(200, np.random.default_rng(5), Q, noise=0.0)
    th2, x2 = toy_data.curve_sample(200, np.random.default_rng(5), Q, noise=0.0)
    np.testing.assert_array_equal(x1, x2)
    # without noise the points lie on the curve: projected back by Q they are the curve itself
    c = x1.astype(float) @ Q
    np.testing.assert_allclose(c[:, 0], np.cos(1.5 * np.pi * th1), atol=1e-6)
    np.testing.assert_allclose(c[:, 2], 0.6 * np.sin(3 * np.pi * th1), atol=1e-6)
    y = toy_data.wall_sample(20000, np.random.default_rng(1))
    assert y.min() >= 0 and y.max() <= 1
    # Beta(0.8, 6) has mean 0.8/6.8, the mirrored Beta(1.2, 5) mean 1 - 1.2/6.2
    np.testing.assert_allclose(y.mean(), 0.55 * 0.8 / 6.8 + 0.45 * (1 - 1.2 / 6.2), atol=0.01)
    z = toy_data.oscillator(64, 201, np.random.default_rng(2))
    assert z.shape == (64, 201, 1)
    np.testing.assert_allclose(z[:, 20], z[:, 0], atol=1e-5)  # period 20
    assert 0.5 <= np.abs(z).max(axis=1).min() and np.abs(z).max() <= 1.5
    with pytest.raises(TypeError, match="rng"):
        toy_data.wall_sample(3, 0)
    with pytest.raises(ValueError, match="n"):
        toy_data.oscillator(0, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Q"):
        toy_data.curve_sample(3, np.random.default_rng(0), np.eye(3, 2))


def test_fit_mixture_learns_the_walls_and_rnn_forecast_continues_a_warm_up():
    import torch

    from ledlib import toy_data
    from ledlib.nn import LatentRNN

    torch.set_num_threads(1)
    y = toy_data.wall_sample(2000, np.random.default_rng(3))
    z0 = torch.zeros(1, 1)
    dec = toy_data.fit_mixture(y, True, 150, z0=z0, seed=0)
    again = toy_data.fit_mixture(y, True, 150, z0=z0, seed=0)
    yt = torch.as_tensor(y)[None, :, None]
    ll = dec.log_prob_y(yt, z0).mean().item()
    assert ll == again.log_prob_y(yt, z0).mean().item()  # same seed, same fit
    # close to the true density's mean log-likelihood on these samples (a uniform one has 0)
    from scipy import stats

    yd = y.astype(float)
    ll_true = np.log(0.55 * stats.beta(0.8, 6).pdf(yd) + 0.45 * stats.beta(1.2, 5).pdf(1 - yd)).mean()
    assert ll > 0 and abs(ll - ll_true) < 0.1, (ll, ll_true)
    rnn = LatentRNN(d_z=1, d_h=8, cell="gru")
    zw = torch.as_tensor(toy_data.oscillator(3, 30, np.random.default_rng(4)))
    out = toy_data.rnn_forecast(rnn, zw, 5)
    with torch.no_grad():
        first = rnn(zw)[0][:, -1, 0].numpy()
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out[:, 0], first, rtol=1e-6)


def test_fhn_labels_summary_mnad_and_first_time():
    from ledlib import chapter
    from ledlib.paper import fhn

    assert chapter.led_label(8, False) == "LED-AE-LD8" and chapter.led_label(4, True) == "LED-VAE-LD4"
    cfg = fhn.config("quick")
    s = chapter.noise_summary(cfg, "quick")
    assert s.endswith(f"input noise {100 * cfg.rnn_train.noise_level:g}% (quick profile)")
    assert f"d_z={cfg.ae.d_z}, {'VAE' if cfg.ae.variational else 'AE'}" in s
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(30, 2, 7))
    pred = truth + rng.normal(scale=[[0.1], [0.3]], size=(30, 2, 7))
    u, v = chapter.mnad_channels(truth, pred)
    assert u == metrics.mnad(truth[:, 0], pred[:, 0]) and v == metrics.mnad(truth[:, 1], pred[:, 1]) and u < v
    t = np.arange(5.0) + 2
    assert chapter.first_time_text(t, [0, 0.2, 0.6, 0.1, 0.9], 0.5) == "t = 4"
    assert chapter.first_time_text(t, np.zeros(5, bool), 0.5) == "never"
    assert chapter.first_time_text(t, np.array([0, 0, 0, 1, 1], bool), 0.5) == "t = 5"


def _wave_system():
    from ledlib import systems

    class Rotation(systems.System):
        """x'' = -x on (x, v): a rotation, exact steps of dt."""
        name, obs_shape, micro_shape, dt, coarse_dt = "rotation", (2,), (2,), 0.01, 0.1

        def initial_conditions(self, n, seed=0):
            return np.random.default_rng(seed).normal(size=(n, 2))

        def lift(self, obs, rng=None):
            return np.array(obs, dtype=float)

        def restrict(self, micro):
            return np.array(micro, dtype=float)

        def _advance_steps(self, micro, t0, n_steps, rng):
            a = n_steps * self.dt
            c, s = np.cos(a), np.sin(a)
            return np.stack([c * micro[:, 0] + s * micro[:, 1], -s * micro[:, 0] + c * micro[:, 1]], axis=1)

    return Rotation()


@pytest.fixture(scope="module")
def rotation_fit(tmp_path_factory):
    import torch

    from ledlib import configs, data, train

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("rot")
    sim = _wave_system()
    ds = data.generate(sim, splits={"train": (8, 80, 1), "val": (2, 80, 2), "test": (2, 80, 3)},
                       cache=root, progress=False)
    cfg = configs.template(sim.obs_shape, d_z=2, size="quick", system="rotation")
    return sim, ds, train.fit(ds, cfg, cache=root, seed=0, device="cpu", progress=False)


def test_forecast_split_is_the_forecast_of_the_split_and_its_mnad(rotation_fit):
    from ledlib import chapter, forecast

    sim, ds, fit = rotation_fit
    truth, pred, times = chapter.forecast_split(fit.led, sim, ds.test, 20, seed=0)
    direct = forecast.forecast(fit.led, sim, ds.test.states[:, 0], float((80 - 1 - 20) * sim.coarse_dt),
                               T_warm=20 * sim.coarse_dt, t0=float(ds.test.t[0, 0]), seed=0)
    np.testing.assert_array_equal(pred, direct.states[:, 0].astype(float))
    np.testing.assert_array_equal(truth, ds.test.states[:, 21:])
    one = chapter.forecast_split(fit.led, sim, ds.test, 20, traj=1, seed=0)
    np.testing.assert_array_equal(one[0], truth[1])
    with pytest.raises(ValueError, match="T_warm"):
        chapter.forecast_split(fit.led, sim, ds.test, 79)
    with pytest.raises(TypeError, match="traj"):
        chapter.forecast_split(fit.led, sim, ds.test, 20, traj="first")


def test_single_forecasts_share_the_warm_up_and_the_truth_is_the_solver(rotation_fit):
    from ledlib import chapter

    sim, ds, fit = rotation_fit
    x0 = ds.test.states[:1, 0]
    truth, runs = chapter.single_forecasts(fit.led, sim, x0, 0.0, {"latent": (None, 0.0), "rho 1": (0.5, 0.5)},
                                           T_warm=1.0, horizon=2.0, seed=0)
    # the solver alone from x0 is the exact rotation: step 0 is the end of the warm-up (t = 1)
    a = truth.times - 0.0
    exact = np.stack([np.cos(a) * x0[0, 0] + np.sin(a) * x0[0, 1], -np.sin(a) * x0[0, 0] + np.cos(a) * x0[0, 1]], 1)
    np.testing.assert_allclose(truth.states[0, 0], exact, atol=1e-5)
    assert truth.times[0] == pytest.approx(1.0) and len(truth.times) == 21
    assert set(runs) == {"latent", "rho 1"} and all(len(r.times) == 21 for r in runs.values())
    # a multiscale run is the solver again in its micro phase (steps 6..10 after the warm-up):
    # the exact rotation of the state LED handed over at step 5
    ms = runs["rho 1"].states[0, 0].astype(float)
    for j in range(1, 6):
        c, s_ = np.cos(0.1 * j), np.sin(0.1 * j)
        want = np.array([c * ms[5, 0] + s_ * ms[5, 1], -s_ * ms[5, 0] + c * ms[5, 1]])
        np.testing.assert_allclose(ms[5 + j], want, atol=1e-5)
    assert not np.allclose(runs["latent"].states[0, 0], truth.states[0, 0], atol=1e-3)  # LED is not the solver


def test_fit_line_names_each_stage_and_the_picked_rnn_seed():
    from types import SimpleNamespace

    from ledlib import chapter

    rec = lambda n, stop, loss, s: dict(epochs_run=n, stopped_early=stop, best_val_loss=loss, wall_time_s=s)
    f = SimpleNamespace(ae=rec(120, True, 2.5e-5, 40.0), rnn=rec(1000, False, 3.6e-5, 90.4), from_cache=True)
    assert chapter.fit_line("LED-AE-LD8", f) == ("LED-AE-LD8: AE 120 epochs (stopped early), best val loss 2.50e-05 "
                                                 "(40 s); RNN 1000 epochs (epoch limit), best val loss 3.60e-05 "
                                                 "(90 s) [cached]")
    v = SimpleNamespace(ae=f.ae, rnn=f.rnn, rnn_seed=1, val_mnad={2: 0.155, 0: 0.112, 1: 0.0072})
    line = chapter.fit_line("LED-AE-LD4", v)
    assert line.endswith("RNN seed 1 picked (validation forecast MNAD seed 0: 0.11, seed 1: 0.0072, seed 2: 0.15)")
    with pytest.raises(TypeError, match="fitted"):
        chapter.fit_line("x", SimpleNamespace(ae=None, rnn={}))


def test_off_span_line_reports_the_span_and_the_forecasts_distance_from_it(rotation_fit):
    """The numbers of the line are those of analysis.latent_span applied to the encoded
    training latents and to the split's own forecast (same seed, same forecast)."""
    import re

    from ledlib import analysis, chapter, forecast, train

    sim, ds, fit = rotation_fit
    line = chapter.off_span_line("rot", fit.led, sim, ds.train, ds.test, 20, seed=0)
    span = analysis.latent_span(train.encode_trajectories(fit.led, ds.train.states).reshape(-1, 2))
    r = forecast.forecast(fit.led, sim, ds.test.states[:1, 0], float((80 - 1 - 20) * sim.coarse_dt),
                          T_warm=20 * sim.coarse_dt, t0=float(ds.test.t[0, 0]), seed=0, record_at="none",
                          keep_latents="all")
    d = span.off_span(r.latents[0, 0, 1:])
    assert line.startswith(f"rot: training latents span {span.k} of 2 directions")
    first, last = (float(v) for v in re.search(r"first 10 steps (\S+), last 50 (\S+) ", line).groups())
    assert first == pytest.approx(float(f"{d[:10].mean():.2g}")) and last == pytest.approx(float(f"{d[-50:].mean():.2g}"))
    with pytest.raises(ValueError, match="at least 50 forecast steps"):
        chapter.off_span_line("rot", fit.led, sim, ds.train, ds.test, 40)


def test_forecast_panels_hold_each_runs_errors_against_the_truth_and_its_phases():
    """Times after the warm-up, the true and predicted latents, the phases with the leading
    macro step, and metrics.particle_errors of each run's first trajectory."""
    from types import SimpleNamespace

    from ledlib import chapter, metrics

    rng = np.random.default_rng(3)
    T, N = 6, 40
    truth = SimpleNamespace(times=np.arange(T) + 10.0, t_start=10.0, latents=rng.normal(size=(1, 1, T, 2)),
                            states=rng.normal(size=(1, 1, T, N, 3)))
    runs = {"latent": SimpleNamespace(latents=rng.normal(size=(1, 1, T, 2)), phases=np.array(["macro"] * (T - 1)),
                                      states=truth.states + 0.1),
            "rho=5": SimpleNamespace(latents=rng.normal(size=(1, 1, T, 2)),
                                     phases=np.array(["macro", "micro"] * 2 + ["macro"]),
                                     states=rng.normal(size=(1, 1, T, N, 3)))}
    panels = chapter.forecast_panels(truth, runs)
    assert list(panels) == ["latent", "rho=5"]
    for lab, r in runs.items():
        p = panels[lab]
        np.testing.assert_array_equal(p["t"], np.arange(T))
        np.testing.assert_array_equal(p["z_true"], truth.latents[0, 0])
        np.testing.assert_array_equal(p["z_pred"], r.latents[0, 0])
        assert list(p["phases"]) == ["macro"] + list(r.phases)
        want = metrics.particle_errors(r.states[0, 0], truth.states[0, 0])
        for k in ("wd", "m1_err", "m2_err"):
            np.testing.assert_allclose(p[k], want[k])
    # a shift of every particle by 0.1 moves each marginal's mean by exactly 0.1, not its variance
    np.testing.assert_allclose(panels["latent"]["m1_err"], 0.1, atol=1e-12)
    np.testing.assert_allclose(panels["latent"]["m2_err"], 0.0, atol=1e-12)


def test_tradeoff_sweep_scores_every_rho_against_the_test_states_at_the_forecasts_own_times(tiny_ks, tmp_path,
                                                                                            monkeypatch):
    """The sweep's truth is found by the forecast's recorded times here, independently of
    the sweep's step arithmetic (an off-by-one in the warm-up would change every error)."""
    from ledlib import chapter, forecast, paper, train
    from ledlib.paper.common import TradeoffSweep

    ds, cfg = tiny_ks
    fit = train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=tmp_path, progress=False, device="cpu")
    monkeypatch.setattr(train, "fit_led", lambda *a, **k: fit)
    monkeypatch.setattr(paper.module("KS"), "TRADEOFF",
                        TradeoffSweep("mnad", 1.0, 0.5, (None, 1.0, 0.5), {"quick": 6.0, "paper": 6.0}))
    points = chapter.tradeoff_sweep("KS", "quick", cache=str(tmp_path), seed=3, device="cpu")
    assert [p.T_m for p in points] == [None, 1.0, 0.5]
    test, sim = ds.test, ds.system()
    for p in points:
        res = forecast.forecast(fit.led, sim, test.states[:1, 0], 6.0, T_warm=1.0, T_m=p.T_m,
                                T_mu=0.0 if p.T_m is None else 0.5, t0=float(test.t[0, 0]), seed=3, record_at="all")
        idx = [int(np.argmin(np.abs(test.t[0] - t))) for t in res.times]
        np.testing.assert_allclose(test.t[0, idx], res.times, atol=1e-9)
        want = metrics.forecast_error(res.states, test.states[:1, idx], kind="mnad")
        assert p.error == pytest.approx(want, rel=1e-12) and np.isfinite(want) and want > 0
        assert p.S > 0 and (p.rho == np.inf if p.T_m is None else p.rho == p.T_m / 0.5)
