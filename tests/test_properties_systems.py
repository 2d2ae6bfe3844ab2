"""Property-based tests of the micro solvers' public boundary (issue 14): seeds, sizes,
times and states, valid and invalid. Valid calls return finite states of the documented
shape (and the same numbers for the same seed); invalid ones are a ValueError/TypeError
naming the parameter. Profiles: "ci" (default) and "long" (HYPOTHESIS_PROFILE=long)."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledlib.systems import AdvectionDiffusion, FitzHughNagumo, KuramotoSivashinsky

settings.register_profile("ci", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

KS = KuramotoSivashinsky(n=32)
AD1 = AdvectionDiffusion(dim=1, n_particles=16)
AD3 = AdvectionDiffusion(dim=3, n_particles=8)
FHN = FitzHughNagumo()

bad_seed = st.one_of(st.integers(max_value=-1), st.floats(), st.booleans(), st.text(min_size=1, max_size=3))
bad_count = st.one_of(st.integers(max_value=0), st.integers(min_value=10**12, max_value=10**15),
                      st.floats(), st.booleans(), st.none(), st.text(max_size=2))


@given(st.integers(1, 4), st.integers(0, 2**32))
def test_initial_conditions_shape_finite_and_seeded(n, seed):
    for sys_, kw in ((KS, dict(transient=0.0)), (AD1, {}), (AD3, dict(spread=0.3)), (FHN, {})):
        x = sys_.initial_conditions(n, seed=seed, **kw)
        assert x.shape == (n, *sys_.obs_shape) and np.all(np.isfinite(x))
        np.testing.assert_array_equal(x, sys_.initial_conditions(n, seed=seed, **kw))


@given(bad_seed)
def test_initial_conditions_name_a_bad_seed(seed):
    for sys_, kw in ((KS, dict(transient=0.0)), (AD1, {}), (FHN, {})):
        with pytest.raises(ValueError) as err:
            sys_.initial_conditions(8 if sys_ is FHN else 2, seed=seed, **kw)
        assert "seed" in str(err.value)


@given(bad_count)
def test_initial_conditions_name_a_bad_count(n):
    for sys_, kw in ((KS, dict(transient=0.0)), (AD1, {}), (FHN, {})):
        with pytest.raises((ValueError, TypeError)) as err:
            sys_.initial_conditions(n, seed=0, **kw)
        assert "n must be" in str(err.value)


@given(st.one_of(st.floats(min_value=1e6 * AD1.L, exclude_min=True), st.floats(max_value=0.0, exclude_max=True),
                 st.just(float("nan")), st.just(float("inf"))))
def test_ad_spread_is_bounded(spread):
    with pytest.raises(ValueError, match="spread must be"):
        AD1.initial_conditions(2, seed=0, spread=spread)


@given(st.integers(0, 2**32))
def test_ad_restrict_lift_is_the_identity(seed):
    x = AD3.initial_conditions(3, seed=seed, spread=0.5)
    np.testing.assert_array_equal(AD3.restrict(AD3.lift(x)), x)
    u = KS.initial_conditions(2, seed=seed, transient=0.0)
    np.testing.assert_array_equal(KS.restrict(KS.lift(u)), u)


@given(st.one_of(st.floats(min_value=1e9), st.just(float("inf")), st.just(float("nan")),
                 st.floats(max_value=-1e-3)))
def test_advance_refuses_unrepresentable_or_backward_times(t):
    u = KS.initial_conditions(1, seed=0, transient=0.0)
    with pytest.raises(ValueError) as err:
        KS.advance(u, 0.0, t)
    assert "t" in str(err.value).split()[0]


@given(st.integers(1, 3), st.integers(0, 2**16))
def test_advance_is_simulate(k, seed):
    # advancing k coarse steps lands where simulate does (one solver, two entry points)
    u = KS.initial_conditions(1, seed=seed, transient=0.0)
    a = KS.restrict(KS.advance(KS.lift(u), 0.0, k * KS.coarse_dt))
    b = KS.simulate(u, k)[:, -1]
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@given(st.sampled_from(["nan", "inf", "shape", "empty"]))
def test_states_with_nan_inf_or_a_wrong_shape_are_named(kind):
    u = KS.initial_conditions(2, seed=0, transient=0.0)
    bad = {"nan": np.where(np.arange(u.size).reshape(u.shape) == 3, np.nan, u),
           "inf": np.where(np.arange(u.size).reshape(u.shape) == 0, np.inf, u),
           "shape": u[:, :-1], "empty": u[:0]}[kind]
    with pytest.raises(ValueError, match="x0"):
        KS.simulate(bad, 1)
    with pytest.raises(ValueError, match="micro"):
        KS.advance(bad, 0.0, KS.coarse_dt)
