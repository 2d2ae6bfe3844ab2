"""Tests of ``ledlib.particle_statistics``: the exact law of one particle of the
advection–diffusion micro solver against the solver itself, its limits (uniform law,
free diffusion, periodic read-off), sampling of the finite-N moments, mixing, the moment
study and the eigengap.

The reference everywhere is independent of the grid chain: Monte Carlo of
:class:`ledlib.systems.AdvectionDiffusion` (Euler–Maruyama with mirror reflection), the
closed forms of free diffusion with drift and of the reflected heat kernel's slowest
mode, and the 1/sqrt(N) law of sample means.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from scipy import stats

from ledlib import configs
from ledlib.data import MinMaxScaler
from ledlib.metrics import moment_distribution_errors
from ledlib.nn import LED
from ledlib.particle_statistics import (
    MomentStudy,
    ParticleLaw,
    eigengap,
    em_particle_law,
    law_mixing_distance,
    moment_study,
    sample_moments,
)
from ledlib.systems import AdvectionDiffusion

try:  # installed with scikit-learn; only used to keep BLAS single-threaded
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

Z_MAX = 4.5  # standard errors allowed for a sample mean against an exact expectation
P_MIN = 1e-3  # smallest accepted KS p-value (fixed seeds: the tests are deterministic)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One BLAS and one torch thread: on a shared, loaded machine multi-threaded BLAS
    (eigh of the eigengap) spin-waits and runs tens of times slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    if threadpool_limits is None:
        yield
    else:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    torch.set_num_threads(n)


# ---------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------
def _cell_centre(index: int, n_cells: int, L: float = 1.0) -> float:
    """Centre of grid cell ``index``: a point start there carries no binning error."""
    return -0.5 * L + (index + 0.5) * L / n_cells


def _law_cdf(law: ParticleLaw, ic: int, i: int, k: int):
    """CDF of the law (uniform within each cell) as a callable for ``scipy.stats.kstest``."""
    cdf = np.concatenate([[0.0], np.cumsum(law.prob[ic, i, k])])
    return lambda y: np.interp(y, law.edges, cdf)


def _solver_snapshots(system, x0, t0, times, seed):
    """Positions of one trajectory of the real solver at ``times`` (one Generator)."""
    rng = np.random.default_rng(seed)
    x, t, snaps = x0, t0, []
    for t1 in times:
        x = system.advance(x, t, t1, seed=rng)
        t = t1
        snaps.append(x[0].copy())  # (N, dim)
    return snaps


def _check_against_sample(law, snaps, ic=0):
    """Mean, variance (within a few standard errors) and KS of every (time, axis)."""
    h = law.edges[1] - law.edges[0]
    for i, x in enumerate(snaps):
        for k in range(x.shape[1]):
            y = x[:, k]
            n = y.size
            m_law = law.mean()[ic, i, k]
            # the law's variance is taken at the cell centres; positions spread uniformly
            # over a cell add h^2 / 12
            v_law = law.var()[ic, i, k] + h * h / 12
            z_mean = (y.mean() - m_law) / (y.std() / math.sqrt(n))
            dev2 = (y - y.mean()) ** 2
            z_var = (dev2.mean() - v_law) / (dev2.std() / math.sqrt(n))
            assert abs(z_mean) < Z_MAX, (i, k, z_mean)
            assert abs(z_var) < Z_MAX, (i, k, z_var)
            ks = stats.kstest(y, _law_cdf(law, ic, i, k))
            assert ks.pvalue > P_MIN, (i, k, ks.statistic, ks.pvalue)


# ---------------------------------------------------------------------------------
# 1. the law against Monte Carlo of the solver
# ---------------------------------------------------------------------------------
def test_law_matches_solver_1d_point_start():
    """2e5 particles from one point, strong oscillating drift pushing into the walls."""
    n_particles, n_cells = 200_000, 512
    system = AdvectionDiffusion(dim=1, n_particles=n_particles, D=0.2, A=2.0, omega=3.0, dt=2e-3, coarse_dt=0.1)
    x0 = np.full((1, n_particles, 1), _cell_centre(300, n_cells))
    times = [0.1, 0.5, 1.0]
    snaps = _solver_snapshots(system, x0, 0.0, times, seed=11)
    law = em_particle_law(system, x0, 0.0, times, n_cells=n_cells)
    # the drift has moved the cloud and the wall has cut it: a non-trivial law
    assert law.mean()[0, 0, 0] > x0[0, 0, 0] + 0.15
    assert law.var()[0, -1, 0] < 0.5 * system.D * times[-1]
    _check_against_sample(law, snaps)


def test_law_matches_solver_3d_cloud_start():
    """Paper's 3-D drift (A = [1, 1.5, 0]); the start is a reflected Gaussian cloud near a wall."""
    system = AdvectionDiffusion(dim=3, n_particles=50_000, dt=2e-3)
    x0 = system.initial_conditions(1, seed=3, spread=0.05)
    times = [0.2, 1.0]
    snaps = _solver_snapshots(system, x0, 0.0, times, seed=7)
    law = em_particle_law(system, x0, 0.0, times)  # default grid
    assert law.prob.shape == (1, 2, 3, law.edges.size - 1)
    _check_against_sample(law, snaps)


def test_law_is_that_of_the_discrete_solver_not_of_the_sde():
    """At a coarse dt the Euler–Maruyama chain differs visibly from its dt -> 0 limit;
    the law must follow the solver's dt (and a fine-dt law must be rejected)."""
    n_particles, n_cells = 200_000, 512
    kw = dict(dim=1, n_particles=n_particles, D=0.2, A=2.0, omega=3.0, coarse_dt=1.0)
    coarse = AdvectionDiffusion(dt=0.02, **kw)
    fine = AdvectionDiffusion(dt=0.001, **kw)
    x0 = np.full((1, n_particles, 1), _cell_centre(300, n_cells))
    y = coarse.advance(x0, 0.0, 1.0, seed=5)[0, :, 0]
    law_c = em_particle_law(coarse, x0, 0.0, [1.0], n_cells=n_cells)
    law_f = em_particle_law(fine, x0, 0.0, [1.0], n_cells=n_cells)
    assert stats.kstest(y, _law_cdf(law_c, 0, 0, 0)).pvalue > P_MIN
    assert stats.kstest(y, _law_cdf(law_f, 0, 0, 0)).pvalue < 1e-8
    se = y.std() / math.sqrt(n_particles)
    assert abs(y.mean() - law_c.mean()[0, 0, 0]) < Z_MAX * se
    assert abs(y.mean() - law_f.mean()[0, 0, 0]) > 10 * se


# ---------------------------------------------------------------------------------
# 2. limits: the axis without drift, free diffusion at short times
# ---------------------------------------------------------------------------------
def test_still_axis_uniform_and_short_time_free_diffusion():
    n_cells = 512
    system = AdvectionDiffusion(dim=3, n_particles=10, dt=2e-3)  # A = [1, 1.5, 0]
    assert system.A[2] == 0.0
    c = _cell_centre(256, n_cells)  # next to the box centre, far from the walls
    x0 = np.full((1, 1, 3), c)
    times = [0.02, 0.05, 25.0]
    law = em_particle_law(system, x0, 0.0, times, n_cells=n_cells)
    # long times: the reflected heat kernel's slowest mode has decayed by exp(-D pi^2 t / 2)
    assert np.max(np.abs(law.prob[0, 2, 2] * n_cells - 1.0)) < 1e-8
    # ... while the drifted axes stay far from uniform (the wind presses them at the walls)
    assert np.max(np.abs(law.prob[0, 2, :2] * n_cells - 1.0)) > 0.1
    for i, t in enumerate(times[:2]):
        q = round(t / system.dt)
        # away from the walls: Gaussian with variance q D dt = D t, shifted by the solver's
        # drift sum_k A cos(omega t_k) dt on every axis
        drift = (system.A * np.cos(np.multiply.outer(np.arange(q) * system.dt, system.omega))).sum(0) * system.dt
        np.testing.assert_allclose(law.var()[0, i], system.D * t, rtol=1e-3)
        np.testing.assert_allclose(law.mean()[0, i], c + drift, atol=1e-5)


# ---------------------------------------------------------------------------------
# 3. a law at every time
# ---------------------------------------------------------------------------------
def test_law_is_normalised_nonnegative_and_starts_at_the_histogram():
    system = AdvectionDiffusion(dim=3, n_particles=400, D=0.3, A=[2.0, 0.5, 0.0], omega=[2.0, 1.0, 0.5],
                                dt=1e-2, coarse_dt=0.1)
    x0 = system.initial_conditions(2, seed=4, spread=0.1)
    times = np.round(np.concatenate([[0.0, 0.01], np.arange(0.5, 12.0, 0.37)]), 10)
    # mixed_from = 4: the later times are read off the first period, interpolated between steps
    law = em_particle_law(system, x0, 0.0, times, n_cells=128, mixed_from=4.0)
    assert np.all(np.isfinite(law.prob))
    assert law.prob.min() >= 0.0
    np.testing.assert_allclose(law.prob.sum(-1), 1.0, atol=1e-12)
    # at t0 the law is the particles' histogram on the grid
    for i in range(2):
        for k in range(3):
            hist = np.histogram(x0[i, :, k], bins=law.edges)[0] / x0.shape[1]
            np.testing.assert_allclose(law.prob[i, 0, k], hist, atol=1e-12)
    # mean inside the box
    assert np.all(np.abs(law.mean()) < 0.5)


# ---------------------------------------------------------------------------------
# periodic read-off after mixing
# ---------------------------------------------------------------------------------
def test_periodic_readoff_equals_stepping_when_period_is_on_the_grid():
    dt, period = 1e-2, 3.2  # 320 solver steps per period: the read-off needs no interpolation
    system = AdvectionDiffusion(dim=1, n_particles=10, D=0.2, A=2.0, omega=2 * math.pi / period, dt=dt)
    x0 = np.full((1, 1, 1), 0.3)
    times = np.round(np.arange(20.0, 24.0, 0.1), 10)
    assert law_mixing_distance(system, 0.0, 15.0) < 1e-12
    a = em_particle_law(system, x0, 0.0, times, mixed_from=15.0, n_cells=256)
    b = em_particle_law(system, x0, 0.0, times, mixed_from=math.inf, n_cells=256)
    assert np.max(0.5 * np.abs(a.prob - b.prob).sum(-1)) < 1e-10
    assert np.ptp(b.mean()) > 0.3  # the law does move over a period


def test_periodic_readoff_interpolation_is_second_order():
    """Period pi is off the grid: the read-off interpolates linearly between two steps."""
    errs = []
    for dt in (2e-2, 5e-3):
        system = AdvectionDiffusion(dim=1, n_particles=10, D=0.2, A=2.0, omega=2.0, dt=dt)
        x0 = np.full((1, 1, 1), 0.3)
        times = np.round(np.arange(20.0, 24.0, 0.1), 10)
        a = em_particle_law(system, x0, 0.0, times, mixed_from=15.0, n_cells=256)
        b = em_particle_law(system, x0, 0.0, times, mixed_from=math.inf, n_cells=256)
        errs.append(np.max(0.5 * np.abs(a.prob - b.prob).sum(-1)))
    assert errs[0] < 2e-3
    assert errs[0] / errs[1] > 6.0  # dt / 4: 16 for O(dt^2), 4 for O(dt)


# ---------------------------------------------------------------------------------
# 4. sampling the finite-N moments
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def law_two_ics():
    system = AdvectionDiffusion(dim=1, n_particles=10, dt=1e-3)  # paper's 1-D case
    x0 = np.array([[[-0.3]], [[0.2]]])
    times = [0.05, 0.2, 0.5, 1.0, 2.0, 5.0]
    return em_particle_law(system, x0, 0.0, times)


def test_sample_moments_match_law_and_scale_like_one_over_sqrt_n(law_two_ics):
    law = law_two_ics
    h = law.edges[1] - law.edges[0]
    mean = law.mean()[1]
    var = law.var()[1] + h * h / 12  # draws are uniform within a cell
    R, N = 2000, 32
    stds = {}
    for n in (N, 16 * N):
        m1, m2 = sample_moments(law, R, n, seed=n, ic=1)
        assert m1.shape == m2.shape == (R, 6, 1)
        z1 = (m1.mean(0) - mean) / (m1.std(0) / math.sqrt(R))
        # M2 is the 1/N variance over the particles: E[M2] = (1 - 1/N) var
        z2 = (m2.mean(0) - (1 - 1 / n) * var) / (m2.std(0) / math.sqrt(R))
        assert np.all(np.abs(z1) < Z_MAX), z1
        assert np.all(np.abs(z2) < Z_MAX), z2
        # spread of the sample mean over runs: sqrt(var / N)
        np.testing.assert_allclose(m1.std(0), np.sqrt(var / n), rtol=0.1)
        stds[n] = (m1.std(0), m2.std(0))
    for j in range(2):
        ratio = stds[N][j] / stds[16 * N][j]
        assert np.all((ratio > 3.5) & (ratio < 4.5)), (j, ratio)
    # the initial condition matters at early times: ic=0 is centred elsewhere
    m1_0, _ = sample_moments(law, R, N, seed=1, ic=0)
    assert abs(m1_0.mean(0)[0, 0] - law.mean()[0, 0, 0]) < Z_MAX * m1_0.std(0)[0, 0] / math.sqrt(R)
    assert abs(law.mean()[0, 0, 0] - law.mean()[1, 0, 0]) > 0.3


def test_sample_moments_single_draws_follow_the_law(law_two_ics):
    """With N = 1, M1 is the drawn position itself: KS of the inverse-CDF sampler."""
    law = law_two_ics
    m1, m2 = sample_moments(law, 100_000, 1, seed=3, ic=0)
    assert np.all(m2 == 0.0)
    for i in range(law.times.size):
        assert stats.kstest(m1[:, i, 0], _law_cdf(law, 0, i, 0)).pvalue > P_MIN, i


def test_sample_moments_reproducible_from_seed(law_two_ics):
    a = sample_moments(law_two_ics, 50, 20, seed=9)
    b = sample_moments(law_two_ics, 50, 20, seed=9)
    c = sample_moments(law_two_ics, 50, 20, seed=10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


# ---------------------------------------------------------------------------------
# 5. mixing
# ---------------------------------------------------------------------------------
def test_mixing_distance_decreases_and_vanishes():
    system = AdvectionDiffusion(dim=1, D=0.2, L=1.0)
    tv = [law_mixing_distance(system, 0.0, d) for d in (0.25, 0.5, 1.0, 2.0, 4.0)]
    assert tv[0] > 0.5  # opposite walls barely overlap after a quarter time unit
    assert all(b < a for a, b in zip(tv, tv[1:])), tv
    assert law_mixing_distance(system, 0.0, 60.0) < 1e-6


def test_mixing_distance_follows_slowest_mode_without_drift():
    """A = 0: TV between the walls' laws is (4/pi) exp(-D pi^2 t / (2 L^2)) once the
    higher modes (decaying 9 times faster) are gone."""
    D, L = 0.5, 2.0
    system = AdvectionDiffusion(dim=1, D=D, L=L, A=0.0, omega=1.0, dt=1e-2)
    for t in (2.0, 5.0):
        expect = 4 / math.pi * math.exp(-D * math.pi**2 * t / (2 * L**2))
        assert law_mixing_distance(system, 0.0, t) == pytest.approx(expect, rel=1e-3)


# ---------------------------------------------------------------------------------
# 6. eigengap
# ---------------------------------------------------------------------------------
def _blobs(k, n, seed, sd=0.5):
    """k isotropic Gaussian blobs in 3-D at vertices of an octahedron of radius 10."""
    centres = 10.0 * np.concatenate([np.eye(3), -np.eye(3)])[:k]
    rng = np.random.default_rng(seed)
    return np.concatenate([c + sd * rng.standard_normal((n, 3)) for c in centres])


@pytest.mark.parametrize("k", [3, 6])
def test_eigengap_recovers_number_of_blobs(k):
    x = _blobs(k, 100, seed=k)
    k_hat, lam = eigengap(x, 10, seed=0)
    assert k_hat == k
    assert lam.shape == (11,)
    assert np.all(np.diff(lam) <= 1e-12)  # descending
    # D^-1/2 A D^-1/2 has top eigenvalue 1; k nearly disconnected groups give k of them
    assert lam[0] == pytest.approx(1.0, abs=1e-10)
    assert np.all(lam[:k] > 1 - 1e-6)
    assert lam[k] < 0.95


def test_eigengap_subsample_reproducible_from_seed():
    x = _blobs(6, 400, seed=1)  # 2400 points > max_points: a seeded subsample
    k0, lam0 = eigengap(x, 10, max_points=600, seed=0)
    k0b, lam0b = eigengap(x, 10, max_points=600, seed=0)
    k1, lam1 = eigengap(x, 10, max_points=600, seed=1)
    assert k0 == k0b == k1 == 6
    np.testing.assert_array_equal(lam0, lam0b)
    assert not np.array_equal(lam0[6:], lam1[6:])  # another subsample, another spectrum


# ---------------------------------------------------------------------------------
# 7. the moment study with an untrained LED
# ---------------------------------------------------------------------------------
T_WARM, HORIZON, N_RUNS = 5.0, 2.0, 24


@pytest.fixture(scope="module")
def study_setup():
    # dt = 1e-2 keeps the warm-up cheap; T_warm = 5 is well past mixing (checked below)
    system = AdvectionDiffusion(dim=1, n_particles=1000, dt=1e-2, coarse_dt=0.5)
    torch.manual_seed(0)
    led = LED(configs.get("AD1D", "quick"))
    h = 0.5 * system.L
    led.set_scaler(MinMaxScaler(channel_axis=-1).fit(np.array([[[-h] * system.dim, [h] * system.dim]])))
    led.eval()
    groups = [(0.0, system.initial_conditions(2, seed=0)), (1.5, system.initial_conditions(1, seed=1))]
    variants = {"latent": (None, 0.0), "micro": (0.0, 0.5)}  # T_m = 0: the micro solver alone
    kw = dict(T_warm=T_WARM, horizon=HORIZON, n_runs=N_RUNS, record_every=1)
    a = moment_study(led, system, groups, variants, seed=0, **kw)
    b = moment_study(led, system, groups, {"micro": (0.0, 0.5)}, seed=1, **kw)
    return system, groups, a, b


def test_moment_study_structure(study_setup):
    system, groups, st, _ = study_setup
    assert isinstance(st, MomentStudy)
    assert law_mixing_distance(system, 0.0, T_WARM) < 1e-5
    T = round(HORIZON / system.coarse_dt)
    np.testing.assert_allclose(st.times, system.coarse_dt * np.arange(1, T + 1))
    n_ic = sum(x.shape[0] for _, x in groups)
    assert set(st.pred) == set(st.errors) == set(st.wall) == {"latent", "micro"}
    for lab in st.pred:
        for m in ("M1", "M2"):
            assert st.pred[lab][m].shape == (n_ic, N_RUNS, T)
            for metric in ("wd", "l1"):
                e = st.errors[lab][m][metric]
                assert e.shape == (T,) and np.all(np.isfinite(e)) and np.all(e >= 0)
                assert np.all(st.errors[lab][m]["l1"] <= 2.0 + 1e-12)  # L1 of two normalised histograms
        assert st.wall[lab] > 0
    for m in ("M1", "M2"):
        assert st.true[m].shape == (n_ic, 2 * N_RUNS, T)
        assert np.all(np.isfinite(st.true[m]))
        assert st.floor[m]["wd"].shape == (T,)
    s = st.summary()
    assert set(s) == {"latent", "micro", "floor"}
    assert s["latent"]["M1"]["wd"] == pytest.approx(float(np.mean(st.errors["latent"]["M1"]["wd"])))


def test_moment_study_truth_matches_law(study_setup):
    """The ground truth's runs: M1 centred on the law's mean with spread sqrt(var / N)."""
    system, groups, st, _ = study_setup
    i = 0
    for t0, x0 in groups:
        law = em_particle_law(system, x0[:1], t0, t0 + T_WARM + st.times)
        n_runs_all = x0.shape[0] * 2 * N_RUNS
        m1 = st.true["M1"][i:i + x0.shape[0]].reshape(n_runs_all, -1)
        m2 = st.true["M2"][i:i + x0.shape[0]].reshape(n_runs_all, -1)
        mean, var = law.mean()[0, :, 0], law.var()[0, :, 0]
        z = (m1.mean(0) - mean) / (m1.std(0) / math.sqrt(n_runs_all))
        assert np.all(np.abs(z) < Z_MAX), z
        np.testing.assert_allclose(m1.std(0), np.sqrt(var / system.n_particles), rtol=0.35)
        z2 = (m2.mean(0) - var * (1 - 1 / system.n_particles)) / (m2.std(0) / math.sqrt(n_runs_all))
        assert np.all(np.abs(z2) < Z_MAX), z2
        i += x0.shape[0]


def test_moment_study_errors_against_floor(study_setup):
    """The micro solver (T_m = 0) is as close to the truth as two truths are to each other;
    an untrained LED is far above that floor; the truth agrees with itself across seeds."""
    _, _, a, b = study_setup
    for m in ("M1", "M2"):
        floor = float(np.mean(a.floor[m]["wd"]))
        assert floor > 0
        assert np.mean(a.errors["micro"][m]["wd"]) < 2.5 * floor
        assert np.mean(b.errors["micro"][m]["wd"]) < 2.5 * floor
        assert np.mean(a.errors["latent"][m]["wd"]) > 20 * floor
        cross = np.mean([moment_distribution_errors(a.true[m][i, :N_RUNS], b.true[m][i, :N_RUNS])["wd"]
                         for i in range(a.true[m].shape[0])])
        assert cross < 2.5 * floor
        assert not np.array_equal(a.true[m], b.true[m])  # the seeds did draw different truths


# ---------------------------------------------------------------------------------
# 8. bad inputs
# ---------------------------------------------------------------------------------
_S1 = AdvectionDiffusion(dim=1, n_particles=10, dt=1e-2)
_X1 = np.zeros((1, 5, 1))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(x0=np.zeros((5, 1))), "x0"),
        (dict(x0=np.zeros((1, 5, 2))), "x0"),
        (dict(x0=np.full((1, 5, 1), np.nan)), "x0"),
        (dict(t0=math.nan), "t0"),
        (dict(t0=True), "t0"),
        (dict(times=[]), "times"),
        (dict(times=[0.2, 0.1]), "times"),
        (dict(times=[-0.1]), "times"),
        (dict(times=[0.015]), "times"),  # off the solver grid
        (dict(n_cells=4), "n_cells"),
        (dict(n_cells=64.0), "n_cells"),
        (dict(mixed_from=-1.0), "mixed_from"),
        (dict(mixed_from=math.nan), "mixed_from"),
    ],
)
def test_em_particle_law_rejects_bad_input(kwargs, name):
    args = dict(x0=_X1, t0=0.0, times=[0.1])
    args.update(kwargs)
    extra = {k: v for k, v in args.items() if k in ("n_cells", "mixed_from")}
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must"):
        em_particle_law(_S1, args["x0"], args["t0"], args["times"], **extra)


def test_non_system_rejected():
    with pytest.raises(TypeError, match="system"):
        em_particle_law(object(), _X1, 0.0, [0.1])
    with pytest.raises(TypeError, match="system"):
        law_mixing_distance("AD1D", 0.0, 1.0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_runs=0), "n_runs"),
        (dict(n_runs=True), "n_runs"),
        (dict(n_particles=2.5), "n_particles"),
        (dict(n_particles=0), "n_particles"),
        (dict(ic=1), "ic"),
        (dict(ic=-1), "ic"),
    ],
)
def test_sample_moments_rejects_bad_input(kwargs, name):
    law = em_particle_law(_S1, _X1, 0.0, [0.1])
    args = dict(n_runs=3, n_particles=4, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must"):
        sample_moments(law, args.pop("n_runs"), args.pop("n_particles"), **args)


@pytest.mark.parametrize("duration", [-1.0, math.nan, math.inf, "5"])
def test_law_mixing_distance_rejects_bad_duration(duration):
    with pytest.raises(ValueError, match="duration"):
        law_mixing_distance(_S1, 0.0, duration)


@pytest.mark.parametrize(
    "x, kwargs, name",
    [
        (np.zeros(20), {}, "x"),
        (np.full((20, 2), np.inf), {}, "x"),
        (np.zeros((20, 2)), dict(k_max=1), "k_max"),
        (np.zeros((20, 2)), dict(k_max=19), "k_max"),
        (np.zeros((20, 2)), dict(k_max=3.0), "k_max"),
        (np.zeros((20, 2)), dict(n_neighbors=0), "n_neighbors"),
        (np.zeros((20, 2)), dict(max_points=5), "max_points"),
    ],
)
def test_eigengap_rejects_bad_input(x, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must"):
        eigengap(x, **kwargs)


def test_moment_study_rejects_bad_input():
    led = object()  # validation happens before any forecast
    good = [(0.0, np.zeros((1, 10, 1)))]
    with pytest.raises(ValueError, match="groups"):
        moment_study(led, _S1, [], {"latent": (None, 0.0)}, T_warm=0.5, horizon=0.5, n_runs=2,
                     record_every=1, seed=0)
    with pytest.raises(ValueError, match="variants"):
        moment_study(led, _S1, good, {}, T_warm=0.5, horizon=0.5, n_runs=2, record_every=1, seed=0)
    with pytest.raises(ValueError, match=r"groups\[0\] x0"):
        moment_study(led, _S1, [(0.0, np.zeros((10, 1)))], {"latent": (None, 0.0)}, T_warm=0.5,
                     horizon=0.5, n_runs=2, record_every=1, seed=0)
