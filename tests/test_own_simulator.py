"""A user's own simulator through the whole contract, with a value checked at each step:
check_system -> generate -> template -> fit -> forecast -> measure_speedup -> save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ledlib import analysis, configs, data, forecast, metrics, systems, train
from ledlib.nn import LED


class TravellingWave(systems.System):
    """Linear advection u_t + c u_x = 0 on a periodic grid of ``n`` points, advanced by the
    exact spectral shift of one small step ``dt`` at a time (a deliberately costly micro
    solver). Initial states hold Fourier modes 1 and 2 only, so the dynamics are two
    rotations (frequencies c and 2c) on a 4-dimensional manifold, and the energy
    (the mean of u^2) is conserved."""

    name = "travelling-wave"

    def __init__(self, n: int = 16, c: float = 1.0, dt: float = 0.002, coarse_dt: float = 0.1):
        self.n, self.c, self.dt, self.coarse_dt = n, c, dt, coarse_dt
        self.obs_shape = self.micro_shape = (n,)
        self.x = 2 * np.pi * np.arange(n) / n
        self._shift = np.exp(-1j * np.fft.rfftfreq(n, 1.0 / n) * c * dt)

    def initial_conditions(self, n, seed=0):
        a = np.random.default_rng(seed).normal(size=(n, 4))
        x = self.x[None]
        return (a[:, :1] * np.sin(x) + a[:, 1:2] * np.cos(x) + 0.5 * a[:, 2:3] * np.sin(2 * x)
                + 0.5 * a[:, 3:] * np.cos(2 * x))

    def lift(self, obs, rng=None):
        return np.array(obs, dtype=float)

    def restrict(self, micro):
        return np.array(micro, dtype=float)

    def _advance_steps(self, micro, t0, n_steps, rng):
        u = np.fft.rfft(micro, axis=-1)
        for _ in range(n_steps):
            u = u * self._shift
        return np.fft.irfft(u, n=self.n, axis=-1)

    def exact(self, u0, t):
        """The solution at time ``t``: ``u0`` shifted by ``c t``."""
        k = np.fft.rfftfreq(self.n, 1.0 / self.n)
        return np.fft.irfft(np.fft.rfft(u0, axis=-1) * np.exp(-1j * k * self.c * t), n=self.n, axis=-1)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("own")
    sim = TravellingWave()
    report = systems.check_system(sim)
    ds = data.generate(sim, splits={"train": (16, 100, 1), "val": (4, 100, 2), "test": (2, 100, 3)},
                       cache=root / "cache", progress=False)
    cfg = configs.template(sim.obs_shape, d_z=4, size="quick", system="wave")
    fit = train.fit(ds, cfg, cache=root / "cache", seed=0, device="cpu", progress=False)
    return sim, report, ds, cfg, fit, root


def test_check_system_and_generate(pipeline):
    sim, report, ds, *_ = pipeline
    assert not report["stochastic"] and report["steps_per_coarse"] == 50 and report["roundtrip_error"] == 0.0
    u = ds.train.states
    assert u.shape == (16, 100, 16)
    # the solver conserves energy and agrees with the exact shift
    energy = np.mean(u**2, axis=-1)
    np.testing.assert_allclose(energy, energy[:, :1] * np.ones_like(energy), rtol=1e-10)
    np.testing.assert_allclose(u[:, 37], sim.exact(u[:, 0], 37 * sim.coarse_dt), atol=1e-9)


def test_template_and_fit(pipeline):
    sim, _, ds, cfg, fit, root = pipeline
    assert cfg.ae.obs_shape == (16,) and cfg.d_z == 4 and fit.source == "trained"
    # four latent dimensions for a four-dimensional manifold: a small reconstruction error
    # (network units: the data variance there is 1)
    err = analysis.reconstruction_error(fit.led, ds.test.states)
    print(f"reconstruction MSE {err:.2e}")
    assert err < 0.05
    assert fit.ae["epochs_run"] >= 1 and np.isfinite(fit.rnn["best_val_loss"])
    assert train.fit(ds, cfg, cache=root / "cache", seed=0, device="cpu", progress=False).source == "cache"


def _latent_forecast(led, sim, x0, horizon):
    return forecast.forecast(led, sim, x0, horizon, T_warm=1.0, seed=0)


def test_latent_forecast_beats_persistence(pipeline):
    sim, _, ds, _, fit, _ = pipeline
    x0 = ds.test.states[:, 0]
    res = _latent_forecast(fit.led, sim, x0, 2.0)
    pred = res.states[:, 0]  # (n_ic, T, n)
    t_rel = res.times - res.t_start
    truth = np.stack([np.stack([sim.exact(x0[i], t) for t in res.times - res.t0]) for i in range(len(x0))])
    scale = ds.train.states.reshape(-1, 16).std(0)
    start = truth[:, :1]  # persistence: the state at the end of the warm-up
    for i in range(len(x0)):
        e_led = metrics.nrmse(truth[i], pred[i], scale=scale)
        e_pers = metrics.nrmse(truth[i], np.broadcast_to(start[i], truth[i].shape), scale=scale)
        print(f"NRMSE LED {e_led[1:].mean():.3f}, persistence {e_pers[1:].mean():.3f}")
        assert e_led[1:].mean() < 0.5 * e_pers[1:].mean(), (e_led.mean(), e_pers.mean())
        assert metrics.valid_prediction_time(t_rel, e_led) > metrics.valid_prediction_time(t_rel, e_pers)


def test_measure_speedup_and_save_load(pipeline):
    sim, _, ds, _, fit, root = pipeline
    x0 = ds.test.states[:, 0]
    sp = forecast.measure_speedup(fit.led, sim, x0, 2.0, n_runs=8, repeats=2)
    assert sp.S == pytest.approx(sp.micro_per_step / sp.led_per_step)
    print(f"S = {sp.S:.1f}")
    assert sp.S > 1.0  # fifty spectral steps per coarse step against one GRU step
    # portable: the loaded model forecasts the same numbers
    fit.led.save(root / "wave-led")
    back = LED.load(root / "wave-led")
    assert back.data_hash == ds.content_hash and back.train_record["record"]["ae"]["epochs_run"] >= 1
    a = _latent_forecast(fit.led, sim, x0, 1.0).states
    b = _latent_forecast(back, sim, x0, 1.0).states
    np.testing.assert_array_equal(a, b)
