"""Tests of the advection–diffusion particle solver against analytical results.

Conventions (paper eq. 25): dx = A cos(omega t) dt + sqrt(D) dW, variance D t per
dimension, reflecting walls at +-L/2. Statistical tests use fixed seeds and state
their tolerance from the sampling distribution of the statistic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ledlib.systems.advection_diffusion import AdvectionDiffusion

H = 0.5  # half-width of the default box, L = 1


def image_bin_probabilities(edges, x0, sigma, L=1.0, n_images=6):
    """Probability of each bin for reflected Brownian motion on [-L/2, L/2] started at
    x0 with variance sigma^2: method of images (sources at +-y0 + 2nL, y = x + L/2)."""
    y = np.asarray(edges) + L / 2
    y0 = x0 + L / 2
    cdf = np.zeros_like(y)
    for n in range(-n_images, n_images + 1):
        cdf += stats.norm.cdf((y - y0 - 2 * n * L) / sigma) + stats.norm.cdf((y + y0 - 2 * n * L) / sigma)
    return np.diff(cdf)


def reflect_bruteforce(v, h):
    """Mirror a scalar into [-h, h] one wall at a time (an independent reference)."""
    while abs(v) > h:
        v = 2 * h - v if v > h else -2 * h - v
    return v


# -- 1. the walls hold ---------------------------------------------------------------
@pytest.mark.parametrize("D, dt", [(0.02, 1e-2), (0.2, 1e-3), (2.0, 1e-4)])
def test_peclet_variants_stay_in_domain(D, dt):
    # The paper's §8.2.4 cases: Pe = L |A| / D with |A| = 2 gives Pe ~ 100, 10, 1.
    s = AdvectionDiffusion(dim=3, n_particles=100, D=D, A=[1, 1.74, 0], dt=dt, coarse_dt=1.0)
    assert s.peclet == pytest.approx(2.0 / D, rel=0.01)
    assert s.steps_per_coarse == round(1.0 / dt)
    x0 = s.initial_conditions(2, seed=3)
    tr = s.simulate(x0, 1, seed=4)
    assert np.all(np.abs(tr) <= H)
    # The axis without advection (A_z = 0) spreads with variance D t: 50 steps from
    # the centre (sd 0.1, walls 5 sd away); sum(z^2) / (D t) ~ chi2(n).
    n, t = 20_000, 50 * dt
    wide = AdvectionDiffusion(dim=3, n_particles=n, D=D, A=[1, 1.74, 0], dt=dt, coarse_dt=1.0)
    z = wide.advance(np.zeros((1, n, 3)), 0.0, t, seed=6)[0, :, 2]
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], n)
    assert lo < np.sum(z**2) / (D * t) < hi


def test_large_steps_never_leave_domain():
    # D = 2, dt = 1e-2: step sd 0.14, many wall hits per step, long run.
    s = AdvectionDiffusion(dim=3, n_particles=1000, D=2.0, A=[1, 1.74, 0], dt=1e-2, coarse_dt=0.5)
    tr = s.simulate(s.initial_conditions(2, seed=0), 40, seed=1)
    assert np.all(np.abs(tr) <= H)
    assert np.all(np.isfinite(tr))


def test_overshoot_by_several_widths_is_folded_to_uniform():
    # Step sd sqrt(50 * 0.1) ~ 2.2 box widths: every step takes the triangle-wave fold.
    # Without drift the folded Gaussian of variance 5 is uniform to exp(-pi^2 * 5 / 2)
    # ~ 2e-11, so KS must accept uniformity; clipping (not mirroring) would pile mass
    # at the walls and be rejected.
    s = AdvectionDiffusion(dim=3, n_particles=2000, D=50.0, A=0.0, omega=0.0, dt=0.1, coarse_dt=0.1)
    x = s.advance(np.zeros((1, 2000, 3)), 0.0, 0.1, seed=5)
    assert np.all(np.abs(x) <= H)
    assert stats.kstest(x.ravel(), "uniform", args=(-H, 2 * H)).pvalue > 1e-3


def test_reflect_matches_mirror_by_mirror_reference():
    s = AdvectionDiffusion(dim=1, n_particles=1)
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.uniform(-50, 50, 2000), rng.uniform(-1.5, 1.5, 2000), [0.5, -0.5, 1.5, -2.5, 0.0]])
    ref = np.array([reflect_bruteforce(a, H) for a in v])
    out = s.reflect(v)
    assert np.all(np.abs(out) <= H)
    # brute force accumulates roundoff over up to ~50 mirrors
    np.testing.assert_allclose(out, ref, atol=1e-12)
    inside = np.abs(v) <= H
    np.testing.assert_array_equal(out[inside], v[inside])  # positions in the box untouched


# -- 2. long-time uniformity ---------------------------------------------------------
def test_long_time_distribution_uniform_without_advection():
    # Slowest mode of the reflected heat equation decays as exp(-(D/2)(pi/L)^2 t);
    # at t = 10 it is down to 5e-5, invisible to KS with 3000 samples.
    s = AdvectionDiffusion(dim=3, n_particles=1000, D=0.2, A=0.0, omega=0.0, dt=1e-2, coarse_dt=0.5)
    x0 = np.zeros((1, 1000, 3))
    tr = s.simulate(x0, 20, seed=11)
    late = tr[0, -1].ravel()
    assert stats.kstest(late, "uniform", args=(-H, 2 * H)).pvalue > 0.01
    # The test has power: at t = 0.5 the cloud (sd 0.32) is far from uniform.
    early = tr[0, 1].ravel()
    assert stats.kstest(early, "uniform", args=(-H, 2 * H)).pvalue < 1e-6


@pytest.mark.parametrize("backend", [None, "cpu"])  # NumPy, torch
def test_stationary_density_with_constant_drift(backend):
    # omega = 0: constant drift A against the wall. Zero flux of
    # p_t = -A p_x + (D/2) p_xx gives p ~ exp(2 A x / D): checks drift and walls together.
    A, D, n = 0.4, 0.2, 10_000
    lam = 2 * A / D
    s = AdvectionDiffusion(dim=1, n_particles=n, D=D, A=A, omega=0.0, dt=2.5e-3, coarse_dt=0.5).on_device(backend)
    x = s.advance(np.zeros((1, n, 1)), 0.0, 5.0, seed=2).ravel()
    edges = np.linspace(-H, H, 31)
    counts, _ = np.histogram(x, edges)

    def expected(rate):
        cdf = np.expm1(rate * (edges + H)) / np.expm1(rate * 2 * H)
        return n * np.diff(cdf)

    assert stats.chisquare(counts, expected(lam)).pvalue > 1e-3
    mean_exact = H / math.tanh(lam * H) - 1 / lam
    assert abs(x.mean() - mean_exact) < 4 * x.std() / math.sqrt(n)
    # power: the wrong sign of the drift is rejected
    assert stats.chisquare(counts, expected(-lam)).pvalue < 1e-10


# -- 3. short-time variance D t --------------------------------------------------------
def test_short_time_variance_is_D_t_per_dimension():
    # From a point source at the centre, A = 0, t = 0.05: sd = 0.1, the walls are 5 sd
    # away. With known mean 0, sum(x^2) / (D t) ~ chi2(n); accept its central 99.9%.
    D, t, n = 0.2, 0.05, 20_000
    s = AdvectionDiffusion(dim=3, n_particles=n, D=D, A=0.0, omega=0.0, dt=1e-3, coarse_dt=0.05)
    x = s.advance(np.zeros((1, n, 3)), 0.0, t, seed=7)[0]
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], n)
    for k in range(3):
        q = np.sum(x[:, k] ** 2) / (D * t)
        assert lo < q < hi, (k, q / n)
    # The 2 D t convention would give q / n ~ 2: far outside [lo, hi] / n ~ [0.97, 1.03].
    assert hi / n < 1.1


# -- 4. the mean follows the advection ---------------------------------------------------
@pytest.mark.parametrize("t0", [0.0, math.pi / 2])
def test_mean_follows_advection(t0):
    # Small D, short time: the walls are never felt, so E[x(t1)] - x0 =
    # (A / omega)(sin(omega t1) - sin(omega t0)). Tolerance: 4 standard errors plus the
    # left-Riemann-sum error of Euler (|A| omega (t1 - t0) dt / 2).
    A = np.array([0.3, -0.2, 0.25])
    omega = np.array([1.0, 2.0, 0.5])
    D, dt, n, T = 1e-3, 1e-3, 2000, 1.0
    s = AdvectionDiffusion(dim=3, n_particles=n, D=D, A=A, omega=omega, dt=dt, coarse_dt=0.5)
    t1 = t0 + T
    x = s.advance(np.zeros((1, n, 3)), t0, t1, seed=13)[0]
    predicted = (A / omega) * (np.sin(omega * t1) - np.sin(omega * t0))
    tol = 4 * math.sqrt(D * T / n) + np.abs(A) * omega * T * dt / 2
    np.testing.assert_array_less(np.abs(x.mean(axis=0) - predicted), tol)
    if t0 > 0:  # the absolute time matters: starting the clock at 0 predicts otherwise
        from_zero = (A / omega) * np.sin(omega * T)
        assert np.all(np.abs(from_zero - predicted)[:2] > 20 * tol[:2])


# -- 5. the walls: image solution of the heat equation ----------------------------------
@pytest.mark.parametrize("backend", [None, "cpu"])  # NumPy, torch
def test_density_near_wall_matches_image_solution(backend):
    # A = 0, source 0.15 from the wall, t = 0.25 (sd 0.22): a large part of the mass
    # has met the wall. Without drift, stepwise mirroring is exact in law, so the
    # histogram must pass a chi-square test against the image series at any dt.
    D, t, x0, n = 0.2, 0.25, 0.35, 100_000
    s = AdvectionDiffusion(dim=1, n_particles=n, D=D, A=0.0, omega=0.0, dt=5e-3, coarse_dt=0.25).on_device(backend)
    x = s.advance(np.full((1, n, 1), x0), 0.0, t, seed=17).ravel()
    edges = np.linspace(-H, H, 41)
    counts, _ = np.histogram(x, edges)
    p = image_bin_probabilities(edges, x0, math.sqrt(D * t))
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert stats.chisquare(counts, n * p).pvalue > 1e-3
    # power: a Gaussian that ignores the walls (renormalised to the box) is rejected
    free = np.diff(stats.norm.cdf(edges, loc=x0, scale=math.sqrt(D * t)))
    assert stats.chisquare(counts, n * free / free.sum()).pvalue < 1e-10


# -- 6. reproducibility and the random stream ---------------------------------------------
def _naive_reference(s: AdvectionDiffusion, x0, t0, n_steps, rng):
    """Step-by-step loop with per-step draws over (batch, particle, dim), mirror walls."""
    x = x0.copy()
    sig = math.sqrt(s.D * s.dt)
    for k in range(n_steps):
        u = s.A * np.cos(s.omega * (t0 + k * s.dt))
        x = x + u * s.dt + sig * rng.standard_normal(x.shape)
        x = np.vectorize(lambda v: reflect_bruteforce(v, s.L / 2))(x)
    return x


def test_matches_naive_reference_and_chunking_is_invisible(monkeypatch):
    s = AdvectionDiffusion(dim=3, n_particles=50, D=0.5, dt=1e-2, coarse_dt=0.1)
    x0 = s.initial_conditions(3, seed=1, spread=0.2)
    ref = _naive_reference(s, x0, 0.3, 40, np.random.default_rng(99))
    out = s.advance(x0, 0.3, 0.7, seed=np.random.default_rng(99))
    np.testing.assert_allclose(out, ref, atol=1e-12)
    # Block size of pre-drawn noise: one step per block vs all 40 steps in one block.
    monkeypatch.setattr(AdvectionDiffusion, "_chunk_elems", 1)
    one = s.advance(x0, 0.3, 0.7, seed=99)
    monkeypatch.setattr(AdvectionDiffusion, "_chunk_elems", 10**9)
    many = s.advance(x0, 0.3, 0.7, seed=99)
    np.testing.assert_array_equal(one, many)


def test_same_seed_same_result_and_streams_compose():
    s = AdvectionDiffusion(dim=3, n_particles=200)
    x0 = s.initial_conditions(2, seed=5)
    x0_copy = x0.copy()
    a = s.simulate(x0, 3, seed=21)
    b = s.simulate(x0, 3, seed=21)
    c = s.simulate(x0, 3, seed=22)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:, 1:], c[:, 1:])
    np.testing.assert_array_equal(a[:, 0], x0)
    np.testing.assert_array_equal(x0, x0_copy)  # input untouched
    # simulate consumes the Generator like one advance over the horizon ...
    whole = s.advance(x0, 0.0, 1.5, seed=np.random.default_rng(21))
    np.testing.assert_allclose(a[:, -1], whole, atol=1e-12)
    # ... and like consecutive advances sharing one Generator.
    g = np.random.default_rng(21)
    x = s.advance(x0, 0.0, 0.5, seed=g)
    x = s.advance(x, 0.5, 1.5, seed=g)
    np.testing.assert_allclose(x, whole, atol=1e-12)


# -- 6b. the torch backend ----------------------------------------------------------------
@pytest.mark.parametrize("D, dt", [(0.5, 1e-2), (50.0, 0.1)])  # walls hit often; overshoot by widths
def test_torch_backend_steps_the_same_scheme_as_numpy(monkeypatch, D, dt):
    """Fed the NumPy backend's normals, the torch backend gives its positions (bit for
    bit where one mirror image suffices, to rounding where the fold is needed), for any
    size of its noise blocks."""
    import torch

    s = AdvectionDiffusion(dim=3, n_particles=50, D=D, dt=dt, coarse_dt=dt)
    x0 = s.initial_conditions(3, seed=1, spread=0.2)
    ref = s.advance(x0, 0.3, 0.3 + 40 * dt, seed=np.random.default_rng(99))
    on_torch = s.on_device("cpu")
    for block in (1, 7, 10**9):
        g = np.random.default_rng(99)
        monkeypatch.setattr(on_torch, "_torch_normals", lambda shape, gen: torch.from_numpy(g.standard_normal(shape)))
        monkeypatch.setattr(AdvectionDiffusion, "_torch_chunk_elems", block * x0.size)
        out = on_torch.advance(x0, 0.3, 0.3 + 40 * dt, seed=0)
        assert np.all(np.abs(out) <= H)
        if D < 1:  # one mirror per wall hit: the same floating-point operations
            np.testing.assert_array_equal(out, ref)
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)


def test_torch_backend_is_seeded_and_leaves_the_original_alone():
    s = AdvectionDiffusion(dim=3, n_particles=200)
    t = s.on_device("cpu")
    assert s.torch_device is None and str(t.torch_device) == "cpu" and "torch_device='cpu'" in repr(t)
    assert t.on_device(None).torch_device is None
    x0 = s.initial_conditions(2, seed=5)
    x0_copy = x0.copy()
    a, b, c = (t.simulate(x0, 3, seed=k) for k in (21, 21, 22))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:, 1:], c[:, 1:])
    np.testing.assert_array_equal(x0, x0_copy)
    assert isinstance(a, np.ndarray) and a.dtype == np.float64
    with pytest.raises(ValueError, match="device"):
        s.on_device("tpu")


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs CUDA")
def test_torch_backend_on_cuda_has_the_right_law():
    # The image-solution check of section 5 on the GPU, and seeding there.
    D, t, x0, n = 0.2, 0.25, 0.35, 100_000
    s = AdvectionDiffusion(dim=1, n_particles=n, D=D, A=0.0, omega=0.0, dt=5e-3, coarse_dt=0.25).on_device("cuda")
    x = s.advance(np.full((1, n, 1), x0), 0.0, t, seed=17)
    np.testing.assert_array_equal(x, s.advance(np.full((1, n, 1), x0), 0.0, t, seed=17))
    edges = np.linspace(-H, H, 41)
    counts, _ = np.histogram(x.ravel(), edges)
    assert stats.chisquare(counts, n * image_bin_probabilities(edges, x0, math.sqrt(D * t))).pvalue > 1e-3


def test_initial_conditions():
    s = AdvectionDiffusion(dim=3, n_particles=100)
    a = s.initial_conditions(4, seed=0)
    np.testing.assert_array_equal(a, s.initial_conditions(4, seed=0))
    assert not np.allclose(a, s.initial_conditions(4, seed=1))
    assert a.shape == (4, 100, 3) and np.all(np.abs(a) <= H)
    assert np.all(a == a[:, :1])  # point sources
    assert len({tuple(c) for c in a[:, 0]}) == 4  # at different places
    np.testing.assert_array_equal(s.initial_conditions(2, seed=0, center=0.0), 0.0)
    # The centres are uniform over the box (KS on 3 x 500 coordinates).
    one = AdvectionDiffusion(dim=3, n_particles=1)
    centres = one.initial_conditions(500, seed=3).ravel()
    assert stats.kstest(centres, "uniform", args=(-H, 2 * H)).pvalue > 0.01
    # A cloud of sd 0.05 about the centre, inside the box.
    cloud = AdvectionDiffusion(dim=1, n_particles=20_000).initial_conditions(1, seed=2, spread=0.05, center=0.0)
    assert np.all(np.abs(cloud) <= H)
    assert cloud.std() == pytest.approx(0.05, rel=0.03)


def test_defaults_follow_the_paper():
    s1, s3 = AdvectionDiffusion(dim=1), AdvectionDiffusion(dim=3)
    assert (s1.name, s3.name) == ("AD1D", "AD3D")
    assert s1.obs_shape == s1.micro_shape == (1000, 1) and s3.obs_shape == (1000, 3)
    np.testing.assert_array_equal(s1.A, [1.0])
    np.testing.assert_array_equal(s1.omega, [0.1])
    np.testing.assert_array_equal(s3.A, [1.0, 1.5, 0.0])
    np.testing.assert_array_equal(s3.omega, [0.2, 1.0, 0.5])
    assert (s3.D, s3.dt, s3.coarse_dt, s3.L) == (0.2, 1e-3, 0.5, 1.0)
    assert s3.stochastic and s3.steps_per_coarse == 500
    assert s3.peclet == pytest.approx(math.sqrt(1 + 1.5**2) / 0.2)  # the paper's Pe ~ 9
    s2 = AdvectionDiffusion(dim=2, A=1.0, omega=[0.1, 0.2])
    np.testing.assert_array_equal(s2.A, [1.0, 1.0])
    assert s2.name == "AD2D"
    x = s3.initial_conditions(1, seed=0)
    np.testing.assert_array_equal(s3.restrict(s3.lift(x)), x)


# -- 7. bad input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, word, exc",
    [
        (dict(dim=0), "dim", ValueError),
        (dict(dim=1.5), "dim", TypeError),
        (dict(n_particles=0), "n_particles", ValueError),
        (dict(D=0.0), "D", ValueError),
        (dict(D=-1.0), "D", ValueError),
        (dict(D=float("nan")), "D", ValueError),
        (dict(dt=0.0), "dt", ValueError),
        (dict(dt=0.3, coarse_dt=0.5), "coarse_dt", ValueError),
        (dict(L=-1.0), "L", ValueError),
        (dict(dim=3, A=[1.0, 2.0]), "A", ValueError),
        (dict(dim=3, omega=[0.1, float("inf"), 0.2]), "omega", ValueError),
        (dict(dim=1, A="fast"), "A", ValueError),
        (dict(dim=2), "omega", ValueError),
    ],
)
def test_bad_parameters(kwargs, word, exc):
    with pytest.raises(exc, match=word):
        AdvectionDiffusion(**kwargs)


def test_bad_states():
    s = AdvectionDiffusion(dim=3, n_particles=10)
    good = s.initial_conditions(2, seed=0)
    outside = good.copy()
    outside[1, 3, 2] = 0.6
    nan = good.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="micro.*outside the domain"):
        s.advance(outside, 0.0, 0.5, seed=0)
    with pytest.raises(ValueError, match="obs.*outside"):
        s.lift(outside)
    with pytest.raises(ValueError, match="x0.*outside"):
        s.simulate(outside, 2)
    with pytest.raises(ValueError, match="shape"):
        s.advance(good[:, :5], 0.0, 0.5, seed=0)
    with pytest.raises(ValueError, match="x0.*shape"):
        s.simulate(good[..., :2], 2)
    with pytest.raises(ValueError, match="NaN"):
        s.advance(nan, 0.0, 0.5, seed=0)
    with pytest.raises(ValueError, match="seed"):
        s.advance(good, 0.0, 0.5)
    with pytest.raises(ValueError, match="t - t0"):
        s.advance(good, 0.0, 0.0005 + 1e-4, seed=0)
    with pytest.raises(ValueError, match="t must be >= t0"):
        s.advance(good, 1.0, 0.5, seed=0)
    with pytest.raises(ValueError, match="n"):
        s.initial_conditions(0)
    with pytest.raises(ValueError, match="spread"):
        s.initial_conditions(1, spread=-0.1)
    with pytest.raises(ValueError, match="center"):
        s.initial_conditions(1, center=[0.0, 0.7, 0.0])
    # roundoff beyond the wall is accepted and clipped, not an error
    edge = good.copy()
    edge[0, 0, 0] = H + 1e-15
    assert np.all(np.abs(s.lift(edge)) <= H)
