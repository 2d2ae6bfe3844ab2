"""FitzHugh–Nagumo micro solver: D1Q3 lattice Boltzmann (paper §8.3, §8.3.1, eqs. 29–41).

The PDE (eq. 29) on ``x in [0, L]`` with no-flux walls,

    u_t = Du u_xx + u - u^3 - v,
    v_t = Dv v_xx + eps (u - a1 v - a0),

is solved at the mesoscale by one D1Q3 lattice-Boltzmann model per species s in {u, v}
on the ``n`` nodes ``x_j = j dx``, ``dx = L/(n-1)`` (the paper's ``L/N = 0.2`` counts
intervals: 101 nodes, 100 intervals). Populations ``f_i^s`` move with ``c_i in {-1,0,+1}``
lattice sites per step ``dt``. One step (eqs. 30–39) is

    rho^s    = sum_i f_i^s                                   (eq. 32)
    f_i^s*   = f_i^s - omega_s (f_i^s - rho^s/3) + dt R^s/3  (BGK + reaction, eqs. 33–38)
    f_i^s(x_j + c_i dx, t + dt) = f_i^s*(x_j, t)             (streaming)

with ``omega_s = 2/(1 + 3 D_s dt/dx^2)`` (eq. 39): the Chapman–Enskog diffusivity of
this equal-weight D1Q3 model is ``(2/3)(1/omega - 1/2) dx^2/dt``, which equals ``D_s``.
The reaction ``R^u = u - u^3 - v``, ``R^v = eps (u - a1 v - a0)`` is evaluated from the
pre-collision densities.

Micro state layout: ``(B, 2, 3, n)`` = batch x species (u, v) x velocity (-1, 0, +1) x
node. The observable is ``(B, 2, n)`` = (u, v) on the nodes.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

from .base import (
    System,
    as_generator,
    check_finite_real,
    check_nonnegative_int,
    check_positive,
    check_state,
    steps_per,
)
from .._checks import count as check_count
from .._checks import seed as check_seed

BOUNDARIES = ("paper", "bounce-back")

# The paper's six initial conditions (Lee et al., Chaos 30, 013141, 2020; LED Figure 36).
_IC_PACKAGE = __package__  # ledlib.systems
_IC_FOLDER = ("data", "fhn_initial_conditions")
N_PAPER_ICS = 6
PAPER_L = 20.0
PAPER_N = 101
# The paper drops this many time units after the equal-weight lifting before recording.
PAPER_TRANSIENT = 2.0


def relaxation_rate(D: float, dt: float, dx: float) -> float:
    """BGK relaxation rate ``omega = 2/(1 + 3 D dt/dx^2)`` of eq. (39).

    Raises ``ValueError`` unless ``D``, ``dt``, ``dx`` are finite and positive, and unless
    the result lies in the stable range ``(0, 2)``.
    """
    D = check_positive("D", D)
    dt = check_positive("dt", dt)
    dx = check_positive("dx", dx)
    omega = 2.0 / (1.0 + 3.0 * D * dt / dx**2)
    return check_relaxation_rate("omega", omega)


def check_relaxation_rate(name: str, omega: float) -> float:
    """Return ``omega`` if it lies in the open interval (0, 2) where BGK is stable."""
    omega = check_finite_real(name, omega)
    if not 0.0 < omega < 2.0:
        raise ValueError(
            f"{name} must lie in the open interval (0, 2) for a stable BGK collision, got {omega}"
        )
    return omega


def load_paper_initial_conditions() -> tuple[np.ndarray, np.ndarray]:
    """The paper's six FHN initial conditions as shipped.

    Returns ``(x, ics)``: the 101 nodes in ``[0, 20]`` and ``ics`` of shape ``(6, 2, 101)``
    (initial condition x (u, v) x node). Fresh copies on every call.
    """
    x, ics = _read_paper_initial_conditions()
    return x.copy(), ics.copy()


@lru_cache(maxsize=1)
def _read_paper_initial_conditions() -> tuple[np.ndarray, np.ndarray]:
    folder = resources.files(_IC_PACKAGE).joinpath(*_IC_FOLDER)
    with folder.joinpath("y0x.txt").open("r") as fh:
        x = np.loadtxt(fh)
    ics = np.empty((N_PAPER_ICS, 2, x.size))
    for k in range(N_PAPER_ICS):
        for s, species in enumerate("uv"):
            with folder.joinpath(f"y0{k}{species}.txt").open("r") as fh:
                ics[k, s] = np.loadtxt(fh)
    if x.size != PAPER_N or ics.shape != (N_PAPER_ICS, 2, PAPER_N):
        raise RuntimeError(f"the shipped FHN initial conditions in {folder} are malformed")
    return x, ics


class FitzHughNagumo(System):
    """FitzHugh–Nagumo PDE (eq. 29) by D1Q3 lattice Boltzmann (eqs. 30–41).

    Parameters (paper values as defaults): ``L`` domain length, ``n`` nodes on ``[0, L]``
    (``dx = L/(n-1)``), ``dt`` lattice time step, ``coarse_dt`` observation spacing (a
    whole multiple of ``dt``), ``eps``, ``du``, ``dv``, ``a0``, ``a1`` as in eq. (29);
    ``boundary`` selects the no-flux wall treatment; ``reaction=False`` switches the
    reaction terms off (pure diffusion, for conservation checks).

    Wall treatments (applied to the populations that would stream in from outside):

    - ``"paper"``: the data set's walls. The left wall's right-moving population keeps
      its post-collision value; the right wall's left-moving population is set equal to
      the node's (streamed) right-moving one. Per step the left wall gains
      ``f*_{+1}(x_0) - f*_{-1}(x_0)`` and the right wall ``f*_{+1}(x_{n-2}) - f*_{+1}(x_{n-1})``,
      both ``O(dx d_x rho)``, so mass is not conserved and the error is first order.
      Measured with the reaction off (``reaction=False``), default parameters, over
      t = 20 from the paper's six initial conditions: the inhibitor mass ``dx sum_j v_j``
      drops by 0.007–0.012, i.e. 0.6% of it for IC 0 and 0.5–2.5% over the six (2.5% for
      IC 3, whose net inhibitor mass is small); the activator mass changes by 0.4–1.1%.
      The change halves under the refinement ``n -> 2n - 1``, ``dt -> dt/4``. A uniform
      state is kept exactly.
    - ``"bounce-back"``: halfway bounce-back (the incoming population is the node's own
      post-collision outgoing population, reversed); the wall sits half a lattice
      spacing outside the end nodes and, with the reaction off, ``sum_j v_j`` and
      ``sum_j u_j`` are conserved to roundoff (~1e-15 relative).

    Accuracy against the second-order finite-difference solution of eq. (29) with
    Neumann walls (:func:`ledlib.systems.fhn_reference.solve_fhn_pde`), from the paper's
    IC 0 at the default parameters (relative L2 error of u, v): t = 5: 0.15%, 0.7%
    (paper walls), 0.15%, 0.5% (bounce-back); t = 20: 0.7%, 1.2% (paper), 0.4%, 0.7%
    (bounce-back). Under ``n -> 2n - 1``, ``dt -> dt/4`` (fixed ``omega``) the interior is
    second order (a Gaussian away from the walls: error / 4.00) and the wall treatments
    are first order (the inhibitor error halves), for both walls.

    The paper records data after dropping the first ``T = 2`` time units
    (``PAPER_TRANSIENT``) so that the populations relax from the equal-weight lifting;
    this class does not drop it (the data module does).
    """

    name = "FHN"
    stochastic = False

    def __init__(
        self,
        L: float = 20.0,
        n: int = 101,
        dt: float = 0.005,
        coarse_dt: float = 1.0,
        eps: float = 0.006,
        du: float = 1.0,
        dv: float = 4.0,
        a0: float = -0.03,
        a1: float = 2.0,
        boundary: str = "paper",
        reaction: bool = True,
    ):
        self.L = check_positive("L", L)
        n = check_positive("n", n, integer=True)
        if n < 3:
            raise ValueError(f"n must be an integer >= 3 (grid nodes on [0, L]), got {n}")
        self.n = n
        self.dt = check_positive("dt", dt)
        self.coarse_dt = check_positive("coarse_dt", coarse_dt)
        steps_per(self.coarse_dt, self.dt)  # raises unless coarse_dt is a multiple of dt
        self.eps = check_positive("eps", eps)
        self.du = check_positive("du", du)
        self.dv = check_positive("dv", dv)
        self.a0 = check_finite_real("a0", a0)
        self.a1 = check_finite_real("a1", a1)
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
        self.boundary = boundary
        if not isinstance(reaction, (bool, np.bool_)):
            raise TypeError(f"reaction must be a bool, got {reaction!r}")
        self.reaction = bool(reaction)
        self.dx = self.L / (n - 1)
        self.omega_u = check_relaxation_rate("omega_u", relaxation_rate(self.du, self.dt, self.dx))
        self.omega_v = check_relaxation_rate("omega_v", relaxation_rate(self.dv, self.dt, self.dx))
        self.obs_shape = (2, n)
        self.micro_shape = (2, 3, n)
        self._precompute()

    def _precompute(self) -> None:
        """Fold collision and reaction into ``f* = keep_s f + g_s(u, v)`` with

        g_u = (omega_u/3 + h) u - h u^3 - h v,
        g_v = h eps u + (omega_v/3 - h eps a1) v - h eps a0,    h = dt/3 (0 without reaction),

        so a step needs one linear pass over the populations plus a few node-sized ops.
        """
        h = self.dt / 3.0 if self.reaction else 0.0
        self._keep = np.array([1.0 - self.omega_u, 1.0 - self.omega_v])[:, None]  # (2, 1)
        self._cu_u = self.omega_u / 3.0 + h
        self._cu_u3 = -h
        self._cu_v = -h
        self._cv_u = h * self.eps
        self._cv_v = self.omega_v / 3.0 - h * self.eps * self.a1
        self._cv_1 = -h * self.eps * self.a0

    # -- grid ---------------------------------------------------------------------
    @property
    def x(self) -> np.ndarray:
        """Lattice nodes ``x_j = j L/(n-1)``, ``j = 0..n-1``."""
        return np.linspace(0.0, self.L, self.n)

    # -- equation-free operators ----------------------------------------------------
    def lift(self, obs, rng=None) -> np.ndarray:
        """Equal-weight lifting ``f_i^s = rho^s/3`` for every velocity (eqs. 40–41);
        deterministic, ``rng`` is unused."""
        obs = check_state("obs", obs, self.obs_shape)
        micro = np.empty((obs.shape[0], 2, 3, self.n))
        micro[:] = (obs / 3.0)[:, :, None, :]
        return micro

    def restrict(self, micro) -> np.ndarray:
        """Densities ``rho^s = sum_i f_i^s`` (eq. 32)."""
        micro = check_state("micro", micro, self.micro_shape)
        return micro.sum(axis=2)

    def _advance_steps(self, micro: np.ndarray, t0: float, n_steps: int, rng) -> np.ndarray:
        """``n_steps`` lattice-Boltzmann steps, vectorised over the batch.

        Internally the populations are held batch-last, ``(2, 3, n, B)``, so every
        streamed slice is one contiguous block per species whatever the batch size.
        Collision and streaming are fused: the post-collision populations are written
        straight into the shifted slots of a second buffer (ping-pong), so each step
        reads and writes every population once; slices are built once per call (at
        batch 1 the cost is per-operation overhead).
        """
        B, n = micro.shape[0], self.n
        # Batch-last working copies; the caller's array is never modified.
        bufs = (np.array(micro.transpose(1, 2, 3, 0), order="C", copy=True), np.empty((2, 3, n, B)))
        rho = np.empty((2, n, B))
        g = np.empty((2, n, B))
        tmp = np.empty((n, B))
        wall = np.empty((2, B))
        keep = self._keep[:, :, None]  # (2, 1, 1): broadcasts over (2, nodes, B)
        keep_w = self._keep  # (2, 1): broadcasts over (2, B)

        def views(f):
            # (f_{-1}, f_0, f_{+1}) whole; streamed source/target slices; wall slots.
            return (
                f[:, 0], f[:, 1], f[:, 2],
                f[:, 2, :-1], f[:, 2, 1:],  # f_{+1}: source j, target j+1
                f[:, 0, 1:], f[:, 0, :-1],  # f_{-1}: source j, target j-1
                f[:, 0, 0], f[:, 2, 0], f[:, 0, -1], f[:, 2, -1],
            )

        vs = (views(bufs[0]), views(bufs[1]))
        # Overflow is reported by the caller's finiteness check (NonFiniteStateError).
        with np.errstate(over="ignore", invalid="ignore"):
            self._lb_loop(vs, n_steps, rho, g, tmp, wall, keep, keep_w)
        return np.ascontiguousarray(bufs[n_steps & 1].transpose(3, 0, 1, 2))

    def _lb_loop(self, vs, n_steps, rho, g, tmp, wall, keep, keep_w) -> None:
        """The step loop of :meth:`_advance_steps` on prebuilt views (see there)."""
        cu_u, cu_u3, cu_v = self._cu_u, self._cu_u3, self._cu_v
        cv_u, cv_v, cv_1 = self._cv_u, self._cv_v, self._cv_1
        bounce = self.boundary == "bounce-back"
        u, v = rho[0], rho[1]
        gu, gv = g[0], g[1]
        g_up, g_dn, g_first, g_last = g[:, :-1], g[:, 1:], g[:, 0], g[:, -1]
        for step in range(n_steps):
            (sm, s0, sp, sp_src, _, sm_src, _, sm_first, sp_first, _, sp_last) = vs[step & 1]
            (_, d0, _, _, dp_dst, _, dm_dst, _, dp_first, dm_last, dp_last) = vs[(step + 1) & 1]
            # Densities (eq. 32).
            np.add(sm, s0, out=rho)
            rho += sp
            # g_u = u (cu_u + cu_u3 u^2) + cu_v v
            np.multiply(u, u, out=tmp)
            tmp *= cu_u3
            tmp += cu_u
            np.multiply(tmp, u, out=gu)
            np.multiply(v, cu_v, out=tmp)
            gu += tmp
            # g_v = cv_u u + cv_v v + cv_1
            np.multiply(v, cv_v, out=gv)
            np.multiply(u, cv_u, out=tmp)
            gv += tmp
            gv += cv_1
            # Collide and stream: f_{+1} moves right, f_{-1} left, f_0 stays.
            np.multiply(sp_src, keep, out=dp_dst)
            dp_dst += g_up
            np.multiply(sm_src, keep, out=dm_dst)
            dm_dst += g_dn
            np.multiply(s0, keep, out=d0)
            d0 += g
            # Populations entering through the walls.
            if bounce:
                # Halfway bounce-back: the outgoing post-collision population returns reversed.
                np.multiply(sm_first, keep_w, out=wall)
                np.add(wall, g_first, out=dp_first)
                np.multiply(sp_last, keep_w, out=wall)
                np.add(wall, g_last, out=dm_last)
            else:
                # The paper's walls: the left node keeps its own post-collision f_{+1};
                # the right node's f_{-1} copies its streamed f_{+1}.
                np.multiply(sp_first, keep_w, out=wall)
                np.add(wall, g_first, out=dp_first)
                dm_last[...] = dp_last

    # -- initial conditions -----------------------------------------------------------
    def paper_initial_conditions(self) -> np.ndarray:
        """The paper's six initial conditions (Figure 36) on this system's nodes, ``(6, 2, n)``.

        For the paper's grid (``L = 20``, ``n = 101``) these are the shipped values
        exactly. Otherwise the profiles are taken as functions of the relative position
        ``x/L`` and interpolated linearly onto the nodes (exact at the shipped nodes when
        ``n - 1`` is a multiple of 100); for ``L != 20`` this stretches the profiles, so
        the result is a paper-like initial condition, not the paper's.
        """
        x_paper, ics = load_paper_initial_conditions()
        if self.n == PAPER_N and self.L == PAPER_L:
            return ics
        s_paper = x_paper / x_paper[-1]
        s = np.linspace(0.0, 1.0, self.n)
        out = np.empty((N_PAPER_ICS, 2, self.n))
        for k in range(N_PAPER_ICS):
            for c in range(2):
                out[k, c] = np.interp(s, s_paper, ics[k, c])
        return out

    def initial_conditions(self, n: int, seed=0) -> np.ndarray:
        """``n`` observable initial states ``(n, 2, self.n)``.

        The first ``min(n, 6)`` are the paper's six initial conditions in order (see
        :meth:`paper_initial_conditions`; deterministic, ``seed`` unused when ``n <= 6``).
        Each further state is a seeded mixture: a convex combination ``lam a + (1-lam) b``
        of two distinct paper states (``lam ~ U(0, 1)``) plus, on each species, a smooth
        no-flux perturbation ``sum_{m=1..4} c_m cos(m pi x/L)`` with
        ``c_m ~ N(0, (0.05 std/m)^2)`` scaled by the species' standard deviation in the
        paper's states. The cosines satisfy the no-flux walls, so the mixtures are
        admissible initial conditions.
        """
        n = check_nonnegative_int("n", n)
        if n < 1:
            raise ValueError(f"n must be a positive integer, got {n}")
        n = check_count("n", n, per_item=2 * self.n)  # the mixtures are drawn in a Python loop
        if seed is not None:
            check_seed(seed)  # named even where the paper's states leave it unused
        paper = self.paper_initial_conditions()
        if n <= N_PAPER_ICS:
            return paper[:n].copy()
        rng = as_generator(seed)
        extra = n - N_PAPER_ICS
        pairs = np.array([rng.choice(N_PAPER_ICS, size=2, replace=False) for _ in range(extra)])
        lam = rng.uniform(0.0, 1.0, size=(extra, 1, 1))
        mixed = lam * paper[pairs[:, 0]] + (1.0 - lam) * paper[pairs[:, 1]]
        modes = np.arange(1, 5)
        scale = 0.05 * paper.std(axis=(0, 2))  # (2,) per species
        coef = rng.normal(size=(extra, 2, modes.size)) * scale[None, :, None] / modes
        basis = np.cos(np.pi * modes[:, None] * self.x[None, :] / self.L)  # (4, n)
        mixed += coef @ basis
        return np.concatenate([paper, mixed], axis=0)

    def __repr__(self) -> str:
        return (
            f"FitzHughNagumo(L={self.L}, n={self.n}, dt={self.dt}, coarse_dt={self.coarse_dt}, "
            f"eps={self.eps}, du={self.du}, dv={self.dv}, a0={self.a0}, a1={self.a1}, "
            f"boundary={self.boundary!r}, reaction={self.reaction})"
        )
