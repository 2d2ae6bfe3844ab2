"""Second-order finite differences on a uniform 1-D grid with no-flux walls.

Space (the coarse features of Lee et al. 2020): on the nodes ``x_j = j dx``,
``j = 0..n-1``, the three-point formulas

    f_x(x_j)  = (f_{j+1} - f_{j-1}) / (2 dx),
    f_xx(x_j) = (f_{j+1} - 2 f_j + f_{j-1}) / dx^2,

with mirror ghost nodes ``f_{-1} = f_1`` and ``f_n = f_{n-2}`` at the walls. The mirror
makes ``f_x = 0`` exactly at the walls (the no-flux condition) and keeps the wall
stencil of ``f_xx = 2 (f_1 - f_0)/dx^2`` second order for fields with ``f_x = 0`` there;
it is the same closure as :func:`ledlib.systems.fhn_reference.neumann_laplacian`.

Time: central differences ``(f(t+h) - f(t-h)) / (2h)`` inside and the second-order
one-sided formulas ``(-3 f_0 + 4 f_1 - f_2)/(2h)`` (and its mirror) at the two ends.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .._checks import real_array

__all__ = ["check_grid_spacing", "spatial_derivatives", "time_derivative"]


def check_grid_spacing(name: str, dx) -> float:
    """``dx`` as a float if it is a finite positive real number, else ``ValueError``."""
    if isinstance(dx, bool) or not isinstance(dx, Real) or not math.isfinite(dx) or dx <= 0:
        raise ValueError(f"{name} must be a finite real number > 0, got {dx!r}")
    return float(dx)


def _field(name: str, f, min_len: int) -> np.ndarray:
    arr = real_array(name, f)  # finite: a NaN would spread to its neighbours' derivatives
    if arr.ndim < 1 or arr.shape[-1] < min_len:
        raise ValueError(
            f"{name} must have at least {min_len} grid nodes on its last axis, got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one field, got shape {arr.shape}")
    return arr


def spatial_derivatives(f, dx) -> tuple[np.ndarray, np.ndarray]:
    """``(f_x, f_xx)`` of ``f`` (``(..., n)``, nodes on the last axis), no-flux walls.

    Second order everywhere for fields that satisfy the no-flux condition; vectorised
    over all leading axes. Needs ``n >= 3``.
    """
    f = _field("f", f, 3)
    dx = check_grid_spacing("dx", dx)
    # Pad with the mirror ghost nodes f_{-1} = f_1, f_n = f_{n-2}.
    g = np.concatenate([f[..., 1:2], f, f[..., -2:-1]], axis=-1)
    f_x = (g[..., 2:] - g[..., :-2]) / (2.0 * dx)
    f_xx = (g[..., 2:] - 2.0 * f + g[..., :-2]) / dx**2
    return f_x, f_xx


def time_derivative(states, dt, axis: int = 0) -> np.ndarray:
    """Time derivative of samples spaced ``dt`` along ``axis`` (second order).

    Central differences at interior samples, second-order one-sided formulas at the
    first and last sample; needs at least 3 samples along ``axis``.
    """
    dt = check_grid_spacing("dt", dt)
    s = real_array("states", states)
    if not isinstance(axis, Integral) or isinstance(axis, bool):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    if not -s.ndim <= axis < s.ndim:
        raise ValueError(f"axis must lie in [-{s.ndim}, {s.ndim - 1}] for shape {s.shape}, got {axis}")
    s = np.moveaxis(s, axis, 0)
    if s.shape[0] < 3:
        raise ValueError(f"states needs at least 3 samples along axis {axis}, got {s.shape[0]}")
    out = np.empty_like(s)
    out[1:-1] = (s[2:] - s[:-2]) / (2.0 * dt)
    out[0] = (-3.0 * s[0] + 4.0 * s[1] - s[2]) / (2.0 * dt)
    out[-1] = (3.0 * s[-1] - 4.0 * s[-2] + s[-3]) / (2.0 * dt)
    return np.moveaxis(out, 0, axis)
