"""A user's own stochastic System through the contract: check_system -> generate ->
template -> fit, with a value checked at each step."""

from __future__ import annotations

import numpy as np
import pytest

from ledlib import configs, data, systems


class OrnsteinUhlenbeck(systems.System):
    """dx = -theta x dt + sigma dW per component, by Euler-Maruyama.

    The scheme's own stationary law is exact and known: x_{n+1} = a x_n + s xi with
    a = 1 - theta dt and s = sigma sqrt(dt) has variance s^2 / (1 - a^2), and the
    correlation after k steps is a^k."""

    name = "ornstein-uhlenbeck"
    stochastic = True

    def __init__(self, theta: float = 1.0, sigma: float = 1.0, d: int = 2, dt: float = 0.01, coarse_dt: float = 0.1):
        self.theta, self.sigma, self.dt, self.coarse_dt = theta, sigma, dt, coarse_dt
        self.obs_shape = self.micro_shape = (d,)

    def initial_conditions(self, n, seed=0):
        return np.random.default_rng(seed).standard_normal((n, *self.obs_shape))

    def lift(self, obs, rng=None):
        return np.array(obs, dtype=float)

    def restrict(self, micro):
        return np.array(micro, dtype=float)

    def _advance_steps(self, micro, t0, n_steps, rng):
        a, s = 1.0 - self.theta * self.dt, self.sigma * np.sqrt(self.dt)
        for _ in range(n_steps):
            micro = a * micro + s * rng.standard_normal(micro.shape)
        return micro

    def stationary_variance(self) -> float:
        a, s = 1.0 - self.theta * self.dt, self.sigma * np.sqrt(self.dt)
        return s * s / (1.0 - a * a)


@pytest.fixture(scope="module")
def ou():
    return OrnsteinUhlenbeck()


def test_check_system_passes(ou):
    report = systems.check_system(ou)
    assert report["stochastic"] and report["steps_per_coarse"] == 10 and report["roundtrip_error"] == 0.0


def test_generated_data_have_the_schemes_stationary_law(ou, tmp_path):
    # 5 relaxation times of transient; then independent trajectories, two samples each
    n = 20_000
    ds = data.generate(ou, splits={"train": (n, 2, 1), "val": (n, 2, 2)}, transient=5.0, cache=tmp_path,
                       progress=False)
    x = np.concatenate([ds.train.states, ds.val.states])  # (2n, 2, d)
    var = ou.stationary_variance()  # 1 / 1.99 for theta = sigma = 1, dt = 0.01
    se = var * np.sqrt(2.0 / x[:, 0].size)  # standard error of a variance estimate
    assert abs(x[:, 0].var() - var) < 4 * se
    assert abs(x[:, 0].mean()) < 4 * np.sqrt(var / x[:, 0].size)
    rho = (1.0 - ou.theta * ou.dt) ** ou.steps_per_coarse  # correlation one coarse step apart
    r = np.mean(x[:, 0] * x[:, 1]) / np.sqrt(np.mean(x[:, 0] ** 2) * np.mean(x[:, 1] ** 2))
    assert abs(r - rho) < 4 * (1 - rho**2) / np.sqrt(x[:, 0].size)
    # the two splits are different seeds: independent samples, not copies
    assert abs(np.mean(ds.train.states[:, 0] * ds.val.states[:, 0])) < 4 * var / np.sqrt(n)
    np.testing.assert_allclose(ds.train.t[0], [5.0, 5.1])
    # the standard scaler is fitted on train: scaled training data are N(0, 1) per the fit
    z = ds.scaler.transform(ds.train.states)
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1.0) < 1e-12


def test_template_and_fit_reconstruct_the_observable(ou, tmp_path):
    from ledlib import train

    ds = data.generate(ou, splits={"train": (4, 100, 1), "val": (2, 100, 2), "test": (1, 100, 3)}, transient=2.0,
                       cache=tmp_path, progress=False)
    cfg = configs.template(ou.obs_shape, d_z=2, size="quick", system="ou")
    fit = train.fit(ds, cfg, cache=tmp_path, seed=0, device="cpu", progress=False)
    val = ds.val.flat()
    rec = fit.led.decode(fit.led.encode(val)).numpy()
    # d_z equals the observable's dimension: the autoencoder reconstructs it (relative error)
    rel = np.mean((rec - val) ** 2) / np.var(val)
    assert rel < 0.01, rel  # measured 6e-4 with 800 training samples
    again = train.fit(ds, cfg, cache=tmp_path, seed=0, device="cpu", progress=False)
    assert again.from_cache
    # other data (another seed of a split) -> another model key: trained anew, not the old one loaded
    other = data.generate(ou, splits={"train": (4, 100, 7), "val": (2, 100, 2), "test": (1, 100, 3)}, transient=2.0,
                          cache=tmp_path, progress=False)
    assert other.content_hash != ds.content_hash
    assert train.model_key(cfg, other.content_hash, 0) != train.model_key(cfg, ds.content_hash, 0)
