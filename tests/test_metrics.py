"""Tests of ledlib.metrics: the paper's comparison measures (Section 7) and helpers."""

import math

import numpy as np
import pytest
from scipy import stats

from ledlib import metrics as M


# --------------------------------------------------------------------------- NAD / MNAD


def test_mnad_zero_for_identical_fields():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(20, 2, 11))
    assert M.mnad(y, y.copy()) == 0.0
    assert np.all(M.nad(y, y, normalization="per_time") == 0.0)


def test_nad_hand_computed_global_range():
    # Eq. (22): the range runs over space AND time of the true field.
    y = np.array([[0.0, 1.0, 2.0], [4.0, 3.0, 2.0]])  # range 4 - 0 = 4
    y_hat = np.array([[1.0, 1.0, 0.0], [4.0, 2.0, 2.5]])
    # |diff| rows: [1, 0, 2] and [0, 1, 0.5]
    expected = np.array([3.0 / 3 / 4, 1.5 / 3 / 4])
    np.testing.assert_allclose(M.nad(y, y_hat), expected, rtol=1e-14)
    assert M.mnad(y, y_hat) == pytest.approx(expected.mean(), rel=1e-14)
    # Per-time ranges: 2 and 2.
    np.testing.assert_allclose(M.nad(y, y_hat, normalization="per_time"), [0.5, 0.25], rtol=1e-14)


@pytest.mark.parametrize("normalization", ["global", "per_time"])
def test_nad_invariant_to_common_affine_map(normalization):
    rng = np.random.default_rng(1)
    y = rng.normal(size=(15, 32))
    y_hat = y + 0.1 * rng.normal(size=y.shape)
    ref = M.nad(y, y_hat, normalization=normalization)
    for c, b in [(3.7, 0.0), (0.01, 0.0), (1.0, 42.0), (2.5, -7.0)]:
        got = M.nad(c * y + b, c * y_hat + b, normalization=normalization)
        np.testing.assert_allclose(got, ref, rtol=1e-10)
    # Not invariant to scaling only the prediction: the score must move.
    assert not np.allclose(M.nad(y, 2 * y_hat, normalization=normalization), ref)


def test_nad_batched_matches_loop_and_multidim_space():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(3, 7, 2, 5))
    y_hat = rng.normal(size=y.shape)
    out = M.nad(y, y_hat, batched=True)
    for b in range(3):
        np.testing.assert_allclose(out[b], M.nad(y[b], y_hat[b]), rtol=1e-14)
    np.testing.assert_allclose(M.mnad(y, y_hat, batched=True), out.mean(axis=1))


def test_nad_constant_field_rule():
    y = np.full((4, 6), 2.0)
    assert M.mnad(y, y) == 0.0
    # zero range -> normalised by max|y| = 2
    np.testing.assert_allclose(M.nad(y, y + 1.0), 0.5)
    # constant zero -> plain mean absolute difference
    z = np.zeros((4, 6))
    np.testing.assert_allclose(M.nad(z, z + 0.3), 0.3)


def test_nad_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        M.nad(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="y_hat.*NaN"):
        M.nad(np.zeros((3, 4)), np.full((3, 4), np.nan))
    with pytest.raises(ValueError, match="y must"):
        M.nad(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="normalization"):
        M.nad(np.zeros((3, 4)), np.zeros((3, 4)), normalization="max")
    with pytest.raises(ValueError, match="empty"):
        M.nad(np.zeros((0, 4)), np.zeros((0, 4)))


# --------------------------------------------------------------------------- Wasserstein


def test_wasserstein_of_shifted_copy_is_the_shift():
    rng = np.random.default_rng(3)
    a = rng.normal(size=500)
    for s in (0.1, 2.0, -3.5):
        assert M.wasserstein(a, a + s) == pytest.approx(abs(s), rel=1e-12)
    assert M.wasserstein(a, a) == 0.0


def test_wasserstein_agrees_with_scipy_and_pot_unequal_sizes():
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(4)
    for n, m in [(7, 13), (100, 100), (250, 40), (1, 9)]:
        a = rng.gamma(2.0, size=n)
        b = rng.normal(1.0, 2.0, size=m)
        ours = M.wasserstein(a, b)
        sp = stats.wasserstein_distance(a, b)
        pot = float(ot.wasserstein_1d(a, b, p=1))
        assert ours == pytest.approx(sp, rel=1e-10, abs=1e-12)
        assert pot == pytest.approx(sp, rel=1e-8, abs=1e-10)


def test_wasserstein_columns_matches_scipy_per_column():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(31, 6))
    b = rng.exponential(size=(17, 6))
    ref = [stats.wasserstein_distance(a[:, j], b[:, j]) for j in range(6)]
    np.testing.assert_allclose(M.wasserstein_columns(a, b), ref, rtol=1e-10)
    assert M.wasserstein_marginals(a, b) == pytest.approx(np.mean(ref), rel=1e-10)


def test_wasserstein_normals_approaches_mean_difference():
    # W1 between N(mu1, s) and N(mu2, s) is |mu1 - mu2| (a pure translation).
    rng = np.random.default_rng(6)
    n = 200_000
    a = rng.normal(0.0, 1.3, size=n)
    b = rng.normal(0.75, 1.3, size=n)
    assert M.wasserstein(a, b) == pytest.approx(0.75, abs=0.02)


def test_wasserstein_bad_input():
    with pytest.raises(ValueError, match="a must not be empty"):
        M.wasserstein([], [1.0])
    with pytest.raises(ValueError, match="b contains NaN"):
        M.wasserstein([1.0], [np.inf])
    with pytest.raises(ValueError, match="columns"):
        M.wasserstein_columns(np.zeros((3, 2)), np.zeros((3, 4)))


# --------------------------------------------------------------------------- L1 histogram


def test_rice_rule():
    assert [M.rice_bins(n) for n in (1, 8, 9, 27, 1000)] == [2, 4, 5, 6, 20]
    assert M.rice_bins(600) == math.ceil(2 * 600 ** (1 / 3))


def test_l1_hist_identical_disjoint_symmetric():
    rng = np.random.default_rng(7)
    a = rng.normal(size=400)
    b = rng.normal(0.3, 1.5, size=300)
    assert M.l1_hist_distance(a, a) == 0.0
    assert M.l1_hist_distance(a, b) == pytest.approx(M.l1_hist_distance(b, a), abs=1e-15)
    assert 0.0 < M.l1_hist_distance(a, b) < 2.0
    # Disjoint supports, far apart: no bin holds both samples.
    c = rng.uniform(0.0, 1.0, size=200)
    d = rng.uniform(10.0, 11.0, size=200)
    assert M.l1_hist_distance(c, d) == pytest.approx(2.0, abs=1e-14)


def test_l1_hist_hand_computed():
    # Pooled range [0, 4]; n = 4 -> Rice ceil(2 * 4^(1/3)) = 4 bins of width 1.
    a = np.array([0.0, 0.5, 1.5, 4.0])  # counts [2, 1, 0, 1]
    b = np.array([0.2, 2.5, 2.6, 3.0])  # counts [1, 0, 2, 1] (3.0 falls in the last bin)
    # densities /4, width 1: |2-1| + |1-0| + |0-2| + |1-1| = 4 -> 4/4 = 1
    assert M.l1_hist_distance(a, b) == pytest.approx(1.0, abs=1e-15)
    # Same grid from numpy as an independent check.
    e = np.linspace(0, 4, 5)
    p, _ = np.histogram(a, e, density=True)
    q, _ = np.histogram(b, e, density=True)
    assert M.l1_hist_distance(a, b) == pytest.approx(np.sum(np.abs(p - q) * 1.0), abs=1e-15)


def test_l1_hist_columns_match_numpy_unequal_sizes():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(90, 5))
    b = rng.normal(0.5, 0.7, size=(50, 5))
    nb = M.rice_bins(50)
    out = M.l1_hist_distance_columns(a, b)
    for j in range(5):
        lo = min(a[:, j].min(), b[:, j].min())
        hi = max(a[:, j].max(), b[:, j].max())
        p, e = np.histogram(a[:, j], nb, range=(lo, hi), density=True)
        q, _ = np.histogram(b[:, j], nb, range=(lo, hi), density=True)
        assert out[j] == pytest.approx(np.sum(np.abs(p - q) * np.diff(e)), rel=1e-12)


def test_l1_hist_point_masses_and_bad_input():
    assert M.l1_hist_distance([1.0, 1.0], [1.0]) == 0.0
    with pytest.raises(ValueError, match="bins"):
        M.l1_hist_distance([0.0, 1.0], [0.5], bins=0)
    with pytest.raises(ValueError, match="b must not be empty"):
        M.l1_hist_distance([0.0], [])


# --------------------------------------------------------------------------- moments


def test_moments_analytic_configuration():
    # Particles at +/-h around c per axis: mean c, variance h^2.
    c = np.array([0.1, -0.2, 0.3])
    h = np.array([0.05, 0.2, 0.4])
    x = np.stack([c + h, c - h, c + h, c - h])  # (N=4, 3)
    m1, m2 = M.moments(x)
    np.testing.assert_allclose(m1, c, atol=1e-15)
    np.testing.assert_allclose(m2, h**2, rtol=1e-12)
    a1, a2 = M.moments(np.stack([x, x + 1.0]), average_dims=True)  # leading run axis
    np.testing.assert_allclose(a1, [c.mean(), c.mean() + 1.0], rtol=1e-12)
    np.testing.assert_allclose(a2, [np.mean(h**2)] * 2, rtol=1e-12)


def test_moments_of_uniform_particles():
    # N uniform particles on [-1/2, 1/2]: mean -> 0, variance -> 1/12.
    rng = np.random.default_rng(9)
    x = rng.uniform(-0.5, 0.5, size=(200_000, 1))
    m1, m2 = M.moments(x)
    assert abs(m1[0]) < 5e-3
    assert m2[0] == pytest.approx(1 / 12, rel=1e-2)


def test_moment_distribution_errors_against_scipy_and_shift():
    rng = np.random.default_rng(10)
    mt = rng.normal(size=(60, 8))
    mp = rng.normal(0.4, 1.0, size=(45, 8))
    err = M.moment_distribution_errors(mt, mp)
    ref = [stats.wasserstein_distance(mt[:, t], mp[:, t]) for t in range(8)]
    np.testing.assert_allclose(err["wd"], ref, rtol=1e-10)
    assert np.all((err["l1"] > 0) & (err["l1"] <= 2))
    shifted = M.moment_distribution_errors(mt, mt + 0.25)
    np.testing.assert_allclose(shifted["wd"], 0.25, rtol=1e-12)
    with pytest.raises(ValueError, match="time steps"):
        M.moment_distribution_errors(mt, mp[:, :5])


def test_sampling_floor_shrinks_with_ensemble_size():
    # The floor of WD between two halves of a N(0,1) ensemble scales like n^(-1/2).
    rng = np.random.default_rng(11)
    small = rng.normal(size=(200, 50))
    large = rng.normal(size=(3200, 50))
    f_small = M.sampling_floor(small, lambda a, b: M.moment_distribution_errors(a, b)["wd"].mean(), seed=0)
    f_large = M.sampling_floor(large, lambda a, b: M.moment_distribution_errors(a, b)["wd"].mean(), seed=0)
    assert f_large < f_small
    assert f_small / f_large == pytest.approx(4.0, rel=0.25)  # sqrt(3200/200)
    # dict metrics are averaged key by key; reproducible from the seed
    d1 = M.sampling_floor(small, M.moment_distribution_errors, seed=3, n_splits=3)
    d2 = M.sampling_floor(small, M.moment_distribution_errors, seed=3, n_splits=3)
    np.testing.assert_array_equal(d1["wd"], d2["wd"])
    with pytest.raises(ValueError, match="at least 2 runs"):
        M.sampling_floor(small[:1], M.wasserstein, seed=0)


# --------------------------------------------------------------------------- KS statistics


def test_power_spectrum_parseval_and_single_peak():
    L, n = 22.0, 64
    x = np.arange(n) * L / n
    rng = np.random.default_rng(12)
    u = rng.normal(size=(40, n))
    k, P = M.power_spectrum(u, L)
    assert P.sum() == pytest.approx(np.mean(u**2), rel=1e-12)
    np.testing.assert_allclose(k[1], 2 * np.pi / L)
    # A pure sine of wavenumber 3 * 2pi/L and amplitude a: all power a^2/2 at m = 3.
    a, m = 1.7, 3
    t = np.linspace(0.0, 5.0, 30)[:, None]
    s = a * np.sin(2 * np.pi * m * x / L + t)  # travelling: phase changes, power does not
    k, P = M.power_spectrum(s, L)
    assert np.argmax(P) == m
    assert P[m] == pytest.approx(a**2 / 2, rel=1e-12)
    assert P.sum() - P[m] < 1e-20
    # Odd n: Parseval still holds.
    u_odd = rng.normal(size=(10, 33))
    assert M.power_spectrum(u_odd, L)[1].sum() == pytest.approx(np.mean(u_odd**2), rel=1e-12)


def test_spectral_derivative_exact_for_trig():
    L, n = 22.0, 64
    x = np.arange(n) * L / n
    q = 2 * np.pi * 4 / L
    u = np.sin(q * x) + 0.5 * np.cos(2 * q * x)
    np.testing.assert_allclose(M.spectral_derivative(u, L, 1), q * np.cos(q * x) - q * np.sin(2 * q * x), atol=1e-12)
    np.testing.assert_allclose(
        M.spectral_derivative(u, L, 2), -(q**2) * np.sin(q * x) - 2 * q**2 * np.cos(2 * q * x), atol=1e-11
    )


def test_joint_density_integrates_to_one_and_follows_ellipse():
    L, n = 22.0, 64
    x = np.arange(n) * L / n
    q = 2 * np.pi * 2 / L
    t = np.linspace(0, 6.0, 50)[:, None]
    u = np.sin(q * x + t)
    H, ex, ey = M.joint_density_ux_uxx(u, L, bins=40)
    assert np.sum(H * np.diff(ex)[:, None] * np.diff(ey)[None, :]) == pytest.approx(1.0, rel=1e-12)
    # For one sine the pairs (u_x, u_xx) lie on the ellipse (u_x/q)^2 + (u_xx/q^2)^2 = 1.
    ux = M.spectral_derivative(u, L, 1)
    uxx = M.spectral_derivative(u, L, 2)
    np.testing.assert_allclose((ux / q) ** 2 + (uxx / q**2) ** 2, 1.0, atol=1e-10)
    assert ex[-1] == pytest.approx(q, rel=1e-3) and ey[0] == pytest.approx(-(q**2), rel=1e-2)


def test_spectrum_error():
    L = 22.0
    rng = np.random.default_rng(13)
    u = rng.normal(size=(50, 64))
    assert M.spectrum_error(u, u, L) == 0.0
    # Doubling the amplitude multiplies every power by 4: log10 error = log10 4.
    assert M.spectrum_error(u, 2 * u, L) == pytest.approx(np.log10(4.0), rel=1e-6)
    assert M.spectrum_error(u, 2 * u, L, kind="relative") == pytest.approx(3.0, rel=1e-12)
    with pytest.raises(ValueError, match="kind"):
        M.spectrum_error(u, u, L, kind="l2")
    with pytest.raises(ValueError, match="L must"):
        M.power_spectrum(u, -1.0)


def test_lyapunov_times():
    assert M.lyapunov_times(1 / 0.048, 0.048) == pytest.approx(1.0)
    np.testing.assert_allclose(M.lyapunov_times(np.array([0.0, 20.83]), 0.048), [0.0, 0.99984])
    with pytest.raises(ValueError, match="lyapunov_exponent"):
        M.lyapunov_times(1.0, 0.0)


# --------------------------------------------------------------------------- accumulators


def test_running_histogram_equals_batch():
    rng = np.random.default_rng(14)
    chunks = [rng.normal(size=s) for s in [(100,), (7, 9), (0,), (1000,)]]
    h = M.RunningHistogram(-2.0, 2.5, 23)
    for c in chunks:
        h.update(c)
    allx = np.concatenate([c.ravel() for c in chunks])
    ref, edges = np.histogram(allx, 23, range=(-2.0, 2.5))
    np.testing.assert_array_equal(h.counts, ref)
    np.testing.assert_allclose(h.density, np.histogram(allx, 23, range=(-2.0, 2.5), density=True)[0], rtol=1e-12)
    assert h.n_below == np.sum(allx < -2.0) and h.n_above == np.sum(allx > 2.5)
    assert np.sum(h.density * np.diff(h.edges)) == pytest.approx(1.0)
    g = M.RunningHistogram(-2.0, 2.5, 23).update(allx)
    assert h.l1_distance(g) == 0.0
    with pytest.raises(ValueError, match="lo and hi"):
        M.RunningHistogram(1.0, 1.0, 5)


def test_running_moments_equal_batch_with_large_offset():
    rng = np.random.default_rng(15)
    # A large common offset is where naive sum-of-squares loses every digit.
    chunks = [1e8 + rng.normal(size=(s, 4, 3)) for s in (1, 50, 3, 200)]
    rm = M.RunningMoments()
    for c in chunks:
        rm.update(c)
    allx = np.concatenate(chunks)
    np.testing.assert_allclose(rm.mean, allx.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(rm.var, allx.var(axis=0), rtol=1e-7)
    np.testing.assert_allclose(rm.sample_var, allx.var(axis=0, ddof=1), rtol=1e-7)
    assert rm.count == allx.shape[0]
    with pytest.raises(ValueError, match="batch must have shape"):
        rm.update(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="no samples"):
        M.RunningMoments().mean


def test_forecast_error_is_zero_for_the_truth_and_matches_direct_computations():
    rng = np.random.default_rng(5)
    truth = rng.normal(size=(2, 6, 2, 9))  # (n_ic, T, C, n): two components
    pred = truth[:, None] + 0.1 * rng.normal(size=(2, 3, 6, 2, 9))
    assert M.forecast_error(np.repeat(truth[:, None], 3, axis=1), truth) == 0.0
    want = np.mean([[np.mean([M.mnad(truth[i][:, c], pred[i, r][:, c]) for c in range(2)])
                     for r in range(3)] for i in range(2)])
    assert M.forecast_error(pred, truth) == pytest.approx(want)
    parts = rng.uniform(size=(1, 4, 50, 3))  # particles: (n_ic, T, N, d)
    shifted = (parts + 0.05)[:, None]
    assert M.forecast_error(shifted, parts, kind="wd") == pytest.approx(0.05)
    with pytest.raises(ValueError, match="kind"):
        M.forecast_error(pred, truth, kind="rmse")
    with pytest.raises(ValueError, match="disagree"):
        M.forecast_error(pred[:, :, :5], truth)


# --------------------------------------------------------------------------- NRMSE, VPT, first crossing
def test_nrmse_hand_computed_with_each_kind_of_scale():
    y = np.array([[0.0, 2.0], [2.0, 6.0], [4.0, 10.0]])  # std over time: [1.633, 3.266]
    y_hat = y + np.array([[0.0, 0.0], [1.0, -2.0], [2.0, 4.0]])
    # scalar scale 2: sqrt(mean((e / 2)^2)) per time
    np.testing.assert_allclose(M.nrmse(y, y_hat, scale=2.0), [0.0, math.sqrt((0.25 + 1.0) / 2), math.sqrt((1 + 4) / 2)])
    # per-point scale
    np.testing.assert_allclose(M.nrmse(y, y_hat, scale=[1.0, 2.0]), [0.0, 1.0, math.sqrt((4 + 4) / 2)])
    # default: the standard deviation of y over time at each point (population std)
    s = np.array([np.std([0, 2, 4]), np.std([2, 6, 10])])
    expected = np.sqrt(np.mean(((y_hat - y) / s) ** 2, axis=1))
    np.testing.assert_allclose(M.nrmse(y, y_hat), expected, rtol=1e-14)
    assert expected[1] == pytest.approx(math.sqrt((1 / s[0] ** 2 + 4 / s[1] ** 2) / 2))
    # scale invariance: the same NRMSE for y and y_hat in other units
    np.testing.assert_allclose(M.nrmse(3 * y + 1, 3 * y_hat + 1), expected, rtol=1e-12)


def test_nrmse_bad_input():
    y = np.ones((4, 3))
    with pytest.raises(ValueError, match="standard deviation is 0"):
        M.nrmse(y, y)
    with pytest.raises(ValueError, match="scale must be positive"):
        M.nrmse(y, y, scale=0.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        M.nrmse(y, y, scale=[1.0, 2.0])
    with pytest.raises(ValueError, match="same shape"):
        M.nrmse(y, np.ones((4, 2)), scale=1.0)
    with pytest.raises(ValueError, match="y_hat contains NaN"):
        M.nrmse(y, np.full((4, 3), np.nan), scale=1.0)
    with pytest.raises(ValueError, match="at least two times"):
        M.nrmse(y[:1], y[:1])


def test_valid_prediction_time_hand_computed():
    t = np.array([0.5, 1.0, 1.5, 2.0, 2.5])
    assert M.valid_prediction_time(t, [0.1, 0.2, 0.4, 0.6, 0.3]) == 1.5  # later dip below does not count
    assert M.valid_prediction_time(t, [0.1, 0.2, 0.5, 0.1, 0.1]) == 1.0  # reaching the threshold ends it
    assert M.valid_prediction_time(t, [0.7, 0.1, 0.1, 0.1, 0.1]) == 0.0
    assert M.valid_prediction_time(t, [0.1] * 5) == 2.5
    assert M.valid_prediction_time(t, [0.1, 0.2, 0.25, 0.3, 1.0], threshold=0.22) == 1.0
    # with the NRMSE of a forecast that drifts linearly: e(t) = 0.1 t crosses 0.5 at t = 5
    tt = np.arange(1, 101) * 0.1
    y = np.sin(np.linspace(0, 20, 100))[:, None] * np.ones((1, 4))
    err = M.nrmse(y, y + 0.1 * tt[:, None], scale=1.0)
    assert M.valid_prediction_time(tt, err) == pytest.approx(4.9)


def test_first_crossing_hand_computed_and_bad_input():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    assert M.first_crossing(t, [0.0, 0.5, 0.7, 0.2], 0.5) == 2.0  # strictly above
    assert M.first_crossing(t, [0.0, 0.1, 0.2, 0.3], 0.5) == 3.0  # never: the end
    assert M.first_crossing(t, [0.9, 0.1, 0.2, 0.3], 0.5) == 0.0
    with pytest.raises(ValueError, match="same length"):
        M.first_crossing(t, [0.0, 1.0], 0.5)
    with pytest.raises(ValueError, match="strictly increasing"):
        M.first_crossing([0.0, 2.0, 1.0], [0.0, 1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="threshold"):
        M.valid_prediction_time(t, [0.0] * 4, threshold=float("nan"))
    with pytest.raises(ValueError, match="err contains NaN"):
        M.valid_prediction_time(t, [0.0, np.nan, 0.0, 0.0])
