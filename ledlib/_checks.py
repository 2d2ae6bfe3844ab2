"""Argument checks shared across ``ledlib``; each error names the parameter and what is
allowed. Wrong types raise ``TypeError`` where the caller's API promises it (solvers,
metrics), ``ValueError`` otherwise (configurations, forecasting)."""

from __future__ import annotations

import math
from numbers import Integral, Real


def int_at_least(name: str, value, lo: int = 1) -> int:
    """``value`` as an int >= ``lo``; anything else is a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    if value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value}")
    return int(value)


def finite_real(name: str, value) -> float:
    """``value`` as a finite float; anything else is a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def positive(name: str, value, *, integer: bool = False) -> float | int:
    """``value`` if it is a finite positive number (an int if ``integer``): a wrong type is
    a ``TypeError``, a wrong value a ``ValueError``."""
    if integer:
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be a positive integer, got {value!r}")
        if value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value}")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a positive real number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)
