"""Reference solver of the FitzHugh–Nagumo PDE (paper eq. 29) by the method of lines.

    u_t = Du u_xx + u - u^3 - v,
    v_t = Dv v_xx + eps (u - a1 v - a0),        x in [0, L],  u_x = v_x = 0 at the walls.

The field is discretised on the ``n`` nodes ``x_j = j L/(n-1)`` (the same nodes as the
lattice-Boltzmann solver) with the second-order three-point Laplacian. The no-flux walls
use mirror ghost nodes ``u_{-1} = u_1`` and ``u_n = u_{n-2}``, which keeps the wall
stencil second order. The stiff ODE system (diffusion eigenvalues up to ``4 Dv/dx^2``)
is integrated by ``scipy.integrate.solve_ivp`` with an implicit method and the exact
sparse Jacobian.

This solver shares no code with :mod:`ledlib.systems.fitzhugh_nagumo`; it is the
independent "true PDE" baseline against which the lattice-Boltzmann micro solver is
checked.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from .base import check_finite_real, check_positive

_IMPLICIT_METHODS = ("BDF", "Radau", "LSODA")


def neumann_laplacian(n: int, dx: float) -> sp.csr_matrix:
    """Three-point Laplacian on ``n`` nodes with mirror-ghost (no-flux) walls."""
    n = check_positive("n", n, integer=True)
    if n < 3:
        raise ValueError(f"n must be >= 3 grid nodes, got {n}")
    dx = check_positive("dx", dx)
    main = np.full(n, -2.0)
    upper = np.ones(n - 1)
    lower = np.ones(n - 1)
    # Ghost nodes u_{-1} = u_1 and u_n = u_{n-2} double the inward neighbour at the walls.
    upper[0] = 2.0
    lower[-1] = 2.0
    return sp.diags([lower, main, upper], [-1, 0, 1], format="csr") / dx**2


def solve_fhn_pde(
    u0,
    v0,
    t_eval,
    L: float = 20.0,
    eps: float = 0.006,
    du: float = 1.0,
    dv: float = 4.0,
    a0: float = -0.03,
    a1: float = 2.0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    method: str = "BDF",
    reaction: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve eq. (29) from ``u(x, 0) = u0``, ``v(x, 0) = v0`` on ``n = len(u0)`` nodes.

    ``t_eval`` are the output times (non-decreasing, the first is the initial time).
    ``reaction=False`` drops the reaction terms (pure diffusion; used for mass checks).
    Returns ``(u, v)``, each of shape ``(len(t_eval), n)``.
    """
    u0 = np.asarray(u0, dtype=np.float64)
    v0 = np.asarray(v0, dtype=np.float64)
    if u0.ndim != 1 or v0.shape != u0.shape:
        raise ValueError(
            f"u0 and v0 must be 1-D arrays of equal length, got {u0.shape}, {v0.shape}"
        )
    if not (np.all(np.isfinite(u0)) and np.all(np.isfinite(v0))):
        raise ValueError("u0 and v0 must be finite")
    n = u0.size
    if n < 3:
        raise ValueError(f"u0 must hold at least 3 grid values, got {n}")
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if t_eval.ndim != 1 or t_eval.size < 1 or not np.all(np.isfinite(t_eval)):
        raise ValueError("t_eval must be a non-empty 1-D array of finite times")
    if np.any(np.diff(t_eval) < 0):
        raise ValueError("t_eval must be non-decreasing")
    L = check_positive("L", L)
    eps = check_positive("eps", eps)
    du = check_positive("du", du)
    dv = check_positive("dv", dv)
    a0 = check_finite_real("a0", a0)
    a1 = check_finite_real("a1", a1)
    rtol = check_positive("rtol", rtol)
    atol = check_positive("atol", atol)
    if method not in _IMPLICIT_METHODS:
        raise ValueError(
            f"method must be one of {_IMPLICIT_METHODS} (the system is stiff), got {method!r}"
        )

    lap = neumann_laplacian(n, L / (n - 1))
    lin_u = (du * lap).tocsr()
    lin_v = (dv * lap).tocsr()
    on = 1.0 if reaction else 0.0
    eye = sp.identity(n, format="csr")

    def rhs(_t, y):
        u, v = y[:n], y[n:]
        out = np.empty_like(y)
        out[:n] = lin_u @ u + on * (u - u**3 - v)
        out[n:] = lin_v @ v + on * eps * (u - a1 * v - a0)
        return out

    def jac(_t, y):
        u = y[:n]
        return sp.bmat(
            [
                [lin_u + on * sp.diags(1.0 - 3.0 * u**2), -on * eye],
                [on * eps * eye, lin_v - on * eps * a1 * eye],
            ],
            format="csc",
        )

    t_span = (float(t_eval[0]), float(t_eval[-1]))
    y0 = np.concatenate([u0, v0])
    if t_span[1] == t_span[0]:
        ys = np.repeat(y0[:, None], t_eval.size, axis=1)
    else:
        kw = {"jac": jac} if method != "LSODA" else {}
        sol = solve_ivp(rhs, t_span, y0, method=method, t_eval=t_eval, rtol=rtol, atol=atol, **kw)
        if not sol.success:
            raise RuntimeError(f"solve_fhn_pde: the {method} integration failed: {sol.message}")
        ys = sol.y
    return ys[:n].T.copy(), ys[n:].T.copy()
