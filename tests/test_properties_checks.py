"""Property-based tests of ``ledlib._checks``, the one home of argument checks (issue 14):
whatever a caller passes, a valid value comes back unchanged in meaning and an invalid one
is a ValueError/TypeError whose message names the parameter and what was given.

Profiles: "ci" (default, few examples) and "long" (HYPOTHESIS_PROFILE=long)."""

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledlib import _checks

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# anything a caller might pass by mistake
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                 st.floats(allow_nan=True, allow_infinity=True), st.builds(object))


def _names(err, name, given_value=None):
    msg = str(err.value)
    assert name in msg, msg
    return msg


@given(st.integers(-10**15, 10**15), st.integers(-5, 5))
def test_int_at_least_accepts_exactly_the_integers_from_lo(v, lo):
    if v >= lo:
        assert _checks.int_at_least("n_x", v, lo) == v
    else:
        with pytest.raises(ValueError) as err:
            _checks.int_at_least("n_x", v, lo)
        assert "n_x" in str(err.value) and str(v) in str(err.value)


@given(junk.filter(lambda v: not (isinstance(v, int) and not isinstance(v, bool))))
def test_integer_checks_refuse_non_integers_naming_the_parameter(v):
    for check in (lambda: _checks.int_at_least("n_x", v), lambda: _checks.positive("n_x", v, integer=True),
                  lambda: _checks.nonnegative_int("n_x", v), lambda: _checks.int_in("n_x", v, 0, 10),
                  lambda: _checks.count("n_x", v)):
        with pytest.raises((ValueError, TypeError)) as err:
            check()
        _names(err, "n_x")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_finite_real_and_positive(v):
    if math.isfinite(v):
        assert _checks.finite_real("t", v) == v
    else:
        with pytest.raises(ValueError, match="t must be a finite"):
            _checks.finite_real("t", v)
    if math.isfinite(v) and v > 0:
        assert _checks.positive("dt", v) == v
    else:
        with pytest.raises(ValueError, match="dt must be"):
            _checks.positive("dt", v)


@given(st.floats(-10, 10), st.floats(-5, 0), st.floats(0, 5), st.booleans(), st.booleans())
def test_real_in_agrees_with_the_interval(v, lo, hi, strict, hi_strict):
    inside = (v > lo if strict else v >= lo) and (v < hi if hi_strict else v <= hi)
    if inside:
        assert _checks.real_in("rho", v, lo, strict=strict, hi=hi, hi_strict=hi_strict) == v
    else:
        with pytest.raises(ValueError, match="rho must be"):
            _checks.real_in("rho", v, lo, strict=strict, hi=hi, hi_strict=hi_strict)


@given(st.integers(-10**20, 10**20), st.integers(0, 100), st.integers(100, 10**6))
def test_int_in_is_the_closed_range(v, lo, hi):
    if lo <= v <= hi:
        assert _checks.int_in("n_init", v, lo, hi) == v
    else:
        with pytest.raises(ValueError) as err:
            _checks.int_in("n_init", v, lo, hi)
        assert f"[{lo}, {hi}]" in str(err.value) and "n_init" in str(err.value)


@given(st.integers(1, 10**4))
def test_count_bounds_the_number_of_elements(per_item):
    hi = _checks.MAX_ELEMENTS // per_item
    assert _checks.count("n", hi, per_item=per_item) == hi
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, "):
        _checks.count("n", hi + 1, per_item=per_item)


@given(st.one_of(st.integers(0, 2**64), st.lists(st.integers(0, 2**32), min_size=1, max_size=3)))
def test_valid_seeds_pass_unchanged_and_draw_numpys_numbers(s):
    assert _checks.seed(s) is s
    a = np.random.default_rng(_checks.seed(s)).random(3)
    np.testing.assert_array_equal(a, np.random.default_rng(s).random(3))


@given(st.one_of(st.integers(max_value=-1), st.floats(), st.booleans(), st.text(max_size=3), st.none(),
                 st.lists(st.integers(max_value=-1), min_size=1, max_size=2)))
def test_invalid_seeds_are_named(s):
    with pytest.raises(ValueError) as err:
        _checks.seed(s)
    assert "seed" in str(err.value) and repr(s)[:20] in str(err.value)


def test_generators_and_seed_sequences_are_seeds():
    g, ss = np.random.default_rng(1), np.random.SeedSequence(2)
    assert _checks.seed(g) is g and _checks.seed(ss) is ss


@given(st.text(max_size=12))
def test_safe_name_never_lets_a_path_through(s):
    try:
        out = _checks.safe_name("profile", s)
    except ValueError as err:
        assert "profile" in str(err)
        return
    assert out == s and "/" not in s and "\\" not in s and ".." not in s and not s.startswith(".")


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=20))
def test_finite_array_of_refuses_exactly_nan_and_inf(vals):
    a = np.asarray(vals, dtype=np.float32)
    if np.all(np.isfinite(a)):
        out = _checks.finite_array_of("x", a)
        assert out.dtype == np.float32 and np.array_equal(out, a)
    else:
        with pytest.raises(ValueError, match="x must be finite"):
            _checks.finite_array_of("x", a)
