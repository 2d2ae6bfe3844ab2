"""Property-based tests of metrics and analysis at the public boundary (issue 14): valid
arrays give finite results of the documented shape and the values the definitions imply
(NAD of identical arrays is 0, the Wasserstein distance is a symmetric distance, k-means
labels are a partition); invalid arguments are a ValueError/TypeError naming the parameter.
Profiles: "ci" (default) and "long" (HYPOTHESIS_PROFILE=long)."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ledlib import analysis, metrics

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
fields = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6), elements=finite)
samples = hnp.arrays(np.float64, st.integers(1, 40), elements=finite)
bad_bins = st.one_of(st.integers(max_value=0), st.integers(min_value=10**7 + 1, max_value=10**13),
                     st.floats(), st.text(max_size=2), st.booleans())


@given(fields, st.sampled_from(["global", "per_time"]))
def test_nad_of_identical_arrays_is_zero(y, normalization):
    out = metrics.nad(y, y.copy(), normalization=normalization)
    assert out.shape == (y.shape[0],) and np.all(out == 0.0)


@given(fields, st.floats(0.1, 10.0))
def test_nad_is_finite_nonnegative_and_scale_invariant(y, c):
    y_hat = y[::-1].copy()
    a = metrics.nad(y, y_hat)
    assert np.all(np.isfinite(a)) and np.all(a >= 0)
    np.testing.assert_allclose(metrics.nad(c * y, c * y_hat), a, rtol=1e-9, atol=1e-12)


@given(fields, st.sampled_from(["nan", "inf", "shape"]))
def test_nad_names_a_bad_prediction(y, kind):
    bad = y.copy()
    if kind == "nan":
        bad.flat[0] = np.nan
    elif kind == "inf":
        bad.flat[-1] = -np.inf
    else:
        bad = bad[..., :0] if bad.shape[-1] > 1 else np.concatenate([bad, bad], axis=-1)
    with pytest.raises((ValueError, TypeError), match="y_hat"):
        metrics.nad(y, bad)


@given(samples, samples)
def test_wasserstein_is_symmetric_nonnegative_and_zero_on_equal_samples(a, b):
    d = metrics.wasserstein(a, b)
    assert np.isfinite(d) and d >= 0
    assert d == pytest.approx(metrics.wasserstein(b, a), rel=1e-12, abs=1e-9)
    assert metrics.wasserstein(a, np.random.default_rng(0).permutation(a)) == 0.0


@given(samples, finite)
def test_wasserstein_of_a_shift_is_the_shift(a, s):
    # W1 between a sample and its translate by s is |s| (the quantile functions differ by s)
    assert metrics.wasserstein(a, a + s) == pytest.approx(abs(s), rel=1e-9, abs=1e-6 * (1 + np.abs(a).max()))


@given(samples, samples, bad_bins)
def test_histogram_distances_name_bad_bins(a, b, bins):
    with pytest.raises((ValueError, TypeError), match="bins"):
        metrics.l1_hist_distance(a, b, bins=bins)
    with pytest.raises((ValueError, TypeError), match="bins"):
        analysis.density_2d(a[:1], a[:1], bins=bins)


@given(samples, st.integers(1, 60))
def test_l1_hist_distance_lies_in_0_2_and_is_zero_on_itself(a, bins):
    b = a[::-1] + 1.0
    d = metrics.l1_hist_distance(a, b, bins=bins)
    assert 0.0 <= d <= 2.0 + 1e-12
    assert metrics.l1_hist_distance(a, a.copy(), bins=bins) == pytest.approx(0.0, abs=1e-12)


@given(st.integers(0, 2**32), st.integers(1, 3))
def test_kmeans_labels_partition_and_are_seeded(seed, k):
    x = np.random.default_rng(seed % 1000).normal(size=(20, 2))
    labels, centres, inertia = analysis.kmeans(x, k, seed=seed, n_init=2)
    assert labels.shape == (20,) and set(np.unique(labels)) <= set(range(k)) and centres.shape == (k, 2)
    assert np.isfinite(inertia) and inertia >= 0
    again = analysis.kmeans(x, k, seed=seed, n_init=2)
    np.testing.assert_array_equal(labels, again[0])


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=10**6 + 1, max_value=10**15)))
def test_kmeans_refuses_absurd_restarts(n_init):
    x = np.arange(10.0).reshape(5, 2)
    with pytest.raises(ValueError, match="n_init"):
        analysis.kmeans(x, 2, seed=0, n_init=n_init)


@given(st.one_of(st.integers(max_value=-1), st.floats(), st.text(min_size=1, max_size=2), st.booleans()))
def test_seeded_functions_name_a_bad_seed(seed):
    x = np.arange(20.0).reshape(10, 2)
    for call in (lambda: analysis.kmeans(x, 2, seed=seed, n_init=1),
                 lambda: metrics.sampling_floor(x, lambda a, b: 0.0, seed=seed)):
        with pytest.raises(ValueError, match="seed"):
            call()


@given(st.one_of(st.integers(min_value=10**6 + 1, max_value=10**15), st.integers(max_value=0)))
def test_sampling_floor_refuses_absurd_splits(n_splits):
    with pytest.raises(ValueError, match="n_splits"):
        metrics.sampling_floor(np.arange(10.0), lambda a, b: 0.0, seed=0, n_splits=n_splits)


@given(st.integers(65, 10**13))
def test_spectral_derivative_order_is_bounded(order):
    with pytest.raises(ValueError, match="order"):
        metrics.spectral_derivative(np.sin(np.linspace(0, 2 * np.pi, 16, endpoint=False)), 2 * np.pi, order)


@given(st.integers(1, 4))
def test_spectral_derivative_of_a_sine(order):
    x = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    want = np.sin(x + order * np.pi / 2)  # d^k/dx^k sin x = sin(x + k pi/2)
    np.testing.assert_allclose(metrics.spectral_derivative(np.sin(x), 2 * np.pi, order), want, atol=1e-10)
