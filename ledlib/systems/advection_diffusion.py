"""Advection–diffusion of Brownian particles (paper eq. 5/25, §3.1, §8.1, §8.2).

Each of the ``N`` particles follows the SDE

    dx_t = u(t) dt + sqrt(D) dW_t,      u(t) = A cos(omega t)   (componentwise),

in the box ``Omega = [-L/2, L/2]^dim`` with reflecting walls. The paper's convention
is kept: the per-dimension variance of the diffusive displacement is ``D t`` (not
``2 D t``), so the particle density solves ``p_t = -u . grad p + (D/2) lap p``.

Scheme: explicit Euler–Maruyama, ``x_{k+1} = R(x_k + u(t_k) dt + sqrt(D dt) xi_k)``
with ``t_k = t0 + k dt`` and ``xi_k ~ N(0, I)``, where ``R`` is the mirror reflection
into the box. ``R`` is the "triangle wave" ``R(x) = L/2 - |((x + L/2) mod 2L) - L|``,
which folds a step of any length (several domain widths included) back into the box,
so states never leave it, e.g. for the Péclet study of §8.2.4 (``D = 2``, ``dt = 1e-2``).
Without drift the stepwise reflection is exact in law (the reflected Brownian motion
at the grid times), which the tests use against the image solution of the heat equation.

Random numbers: every solver step draws ``B * N * dim`` standard normals from the
Generator, in C order over ``(batch, particle, dim)``, and steps draw in time order.
The stream consumed by a run is therefore independent of how it is split: internal
chunking, ``advance(x, t0, t1)`` followed by ``advance(., t1, t2)`` with the same
Generator, and ``simulate`` all use the same numbers for the same steps, and agree up
to the rounding of the time points ``t_k`` in the drift (about 1e-15).

Two backends step the same scheme. NumPy (the default) draws from the NumPy Generator
as above. ``on_device("cpu" | "cuda" | "auto")`` returns a copy that steps with torch,
in float64, on that device, for large ensembles on a GPU (e.g. the multiscale loop over
thousands of runs of a thousand particles); on a CPU the NumPy backend is the faster
(``benchmarks/particle_solver.py``). Its normals come from a torch Generator seeded by one integer drawn from
the NumPy Generator per ``advance`` call: the same seed gives the same result on the
same device, the law is the same, but the numbers differ from the NumPy backend's and
chained calls do not equal one long call draw for draw.

Initial conditions (the paper: ``x0 = 0`` in 1-D, "a random initial condition" in
3-D): by default each initial condition is a point source, all particles at one
seeded uniformly random point of the box; ``spread > 0`` replaces the point by a
reflected Gaussian cloud of standard deviation ``spread`` about that point, and
``center=`` fixes the point (``center=0`` is the paper's 1-D ``x0 = 0``).
"""

from __future__ import annotations

import copy
import math
from numbers import Real

import numpy as np

from .base import System, as_generator, check_positive, check_state, steps_per
from .._checks import count as check_count

MAX_SPREAD_BOXES = 1e6

# Default advection of the paper for the two cases it studies (§8.1: 1-D, §8.2: 3-D).
_DEFAULT_ADVECTION = {
    1: (np.array([1.0]), np.array([0.1])),
    3: (np.array([1.0, 1.5, 0.0]), np.array([0.2, 1.0, 0.5])),
}

# Positions this far outside the box (relative to L) are taken as roundoff and clipped;
# anything further out is an error.
_DOMAIN_RTOL = 1e-12


def _as_vector(name: str, value, dim: int) -> np.ndarray:
    """A finite float vector of length ``dim`` from a scalar or a length-``dim`` sequence."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite real number or a sequence of {dim}, got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a finite real number or a sequence of {dim} finite reals, got {value!r}"
        ) from None
    if arr.ndim == 0:
        arr = np.full(dim, float(arr))
    if arr.shape != (dim,):
        raise ValueError(f"{name} must be a scalar or have length dim={dim}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    return arr.copy()


class AdvectionDiffusion(System):
    """``N`` Brownian particles with cosine advection in a reflecting box (Euler–Maruyama).

    Parameters (the paper's symbols): ``dim`` space dimension ``d_x``; ``n_particles``
    ``N``; ``D`` diffusion coefficient (variance ``D t`` per dimension); ``A``, ``omega``
    amplitude and angular frequency of the drift ``u(t) = A cos(omega t)``, scalars or
    length-``dim`` sequences (defaults: the paper's values for ``dim`` 1 and 3, required
    otherwise); ``L`` box side; ``dt`` solver step; ``coarse_dt`` observation spacing.

    The observable and the micro state are the particle positions, shape
    ``(batch, N, dim)``; ``lift`` and ``restrict`` are the identity (they validate and
    copy). The Péclet study of §8.2.4 is e.g.
    ``AdvectionDiffusion(dim=3, D=2.0, A=[1, 1.74, 0], dt=1e-4, coarse_dt=1.0)``.
    """

    stochastic = True
    # Target size (in float64 numbers) of one block of pre-drawn noise: large enough to
    # amortise the per-call overhead of the generator for small batches, small enough
    # to stay in cache. The results do not depend on it (see the module docstring).
    _chunk_elems = 1 << 17

    def __init__(
        self,
        dim: int = 1,
        n_particles: int = 1000,
        D: float = 0.2,
        A=None,
        omega=None,
        L: float = 1.0,
        dt: float = 1e-3,
        coarse_dt: float = 0.5,
    ):
        self.dim = check_positive("dim", dim, integer=True)
        self.n_particles = check_positive("n_particles", n_particles, integer=True)
        self.D = check_positive("D", D)
        self.L = check_positive("L", L)
        self.dt = check_positive("dt", dt)
        self.coarse_dt = check_positive("coarse_dt", coarse_dt)
        steps_per(self.coarse_dt, self.dt)  # coarse_dt must be a whole multiple of dt

        defaults = _DEFAULT_ADVECTION.get(self.dim)
        if (A is None or omega is None) and defaults is None:
            raise ValueError(
                f"A and omega have defaults only for dim=1 and dim=3; give both for dim={self.dim}"
            )
        self.A = _as_vector("A", defaults[0] if A is None else A, self.dim)
        self.omega = _as_vector("omega", defaults[1] if omega is None else omega, self.dim)

        self.name = f"AD{self.dim}D"
        self.obs_shape = (self.n_particles, self.dim)
        self.micro_shape = self.obs_shape
        self.torch_device = None  # None: the NumPy backend; see on_device()

    def on_device(self, device):
        """A copy of this system that steps the particles with torch on ``device``
        (``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``), or with NumPy for ``None``.

        States stay NumPy arrays in and out (one transfer per ``advance``), so the copy
        drops in wherever the system is used, e.g. the micro phases of
        :func:`ledlib.forecast.forecast`. Meant for large batches on a GPU: on a CPU the
        NumPy backend is faster. The random numbers differ from the NumPy backend's (see
        the module docstring).
        """
        other = copy.copy(self)
        if device is None:
            other.torch_device = None
        else:
            from ..device import resolve_device

            other.torch_device = resolve_device(device)
        return other

    # -- physics -----------------------------------------------------------------
    @property
    def peclet(self) -> float:
        """Péclet number ``Pe = L U / D`` with ``U = |A|_2`` (paper eq. 6)."""
        return self.L * float(np.linalg.norm(self.A)) / self.D

    def drift(self, t) -> np.ndarray:
        """Advection velocity ``u(t) = A cos(omega t)``, shape ``(*t.shape, dim)``."""
        t = np.asarray(t, dtype=np.float64)
        return self.A * np.cos(np.multiply.outer(t, self.omega))

    def reflect(self, x) -> np.ndarray:
        """Mirror arbitrary positions into ``[-L/2, L/2]`` (triangle-wave fold), a copy.

        Useful to bring decoded samples, which may fall slightly outside the box, back
        into the domain before ``lift``.
        """
        x = np.array(x, dtype=np.float64, copy=True)
        if not np.all(np.isfinite(x)):
            raise ValueError("x contains NaN or inf")
        self._fold_outside(x)
        return x

    def _fold_outside(self, x: np.ndarray) -> None:
        """Triangle-wave fold of the entries outside the box only (the rest stay exact)."""
        out = np.abs(x) > 0.5 * self.L
        if np.any(out):
            v = x[out]
            self._fold(v)
            x[out] = v

    def _fold(self, v: np.ndarray) -> None:
        """In place ``v <- L/2 - |((v + L/2) mod 2L) - L|``: exact in [-L/2, L/2]."""
        h = 0.5 * self.L
        v += h
        np.mod(v, 2.0 * self.L, out=v)
        v -= self.L
        np.abs(v, out=v)
        np.subtract(h, v, out=v)

    def _reflect_inplace(self, x: np.ndarray, work: np.ndarray) -> None:
        """Mirror the particles that crossed a wall back into the box, in place.

        Two reductions find whether a wall was crossed at all (often not, for small
        batches). If no entry overshot by a full box width (``|x| <= 3L/2``) one mirror
        image is exact: ``x <- 2 clip(x, -L/2, L/2) - x``, which leaves entries inside
        the box bit-for-bit unchanged. Longer steps (huge ``D dt``) take the general
        triangle-wave fold. ``work`` is a float array of ``x``'s shape.
        """
        h = 0.5 * self.L
        hi, lo = x.max(), x.min()
        if hi <= h and lo >= -h:
            return
        if hi <= 3.0 * h and lo >= -3.0 * h:
            np.clip(x, -h, h, out=work)
            work *= 2.0
            np.subtract(work, x, out=x)
        else:
            self._fold(x)

    # -- validation ----------------------------------------------------------------
    def _check_positions(self, name: str, x) -> np.ndarray:
        """Shape, finiteness and ``x in [-L/2, L/2]^dim``; returns a validated array."""
        x = check_state(name, x, self.obs_shape)
        h = 0.5 * self.L
        extent = float(np.max(np.abs(x)))
        if extent > h:
            if extent > h + _DOMAIN_RTOL * self.L:
                raise ValueError(
                    f"{name} has particles outside the domain [-L/2, L/2]^{self.dim} = "
                    f"[{-h:g}, {h:g}]^{self.dim} (max |x| = {extent:.6g}); "
                    "use reflect() to fold positions into the box"
                )
            x = np.clip(x, -h, h)  # roundoff only
        return x

    # -- equation-free operators -----------------------------------------------------
    def initial_conditions(self, n: int, seed=0, *, spread: float = 0.0, center=None) -> np.ndarray:
        """``n`` initial particle configurations, shape ``(n, N, dim)``.

        Each is a point source at a uniformly random point of the box (drawn from
        ``seed``), or at ``center`` (scalar or length-``dim``; all ``n`` alike) when
        given. With ``spread > 0`` the particles are instead a Gaussian cloud of
        standard deviation ``spread`` about that point, mirrored into the box.
        Draw order: the ``n`` centres, then the cloud offsets.
        """
        n = check_count("n", check_positive("n", n, integer=True), per_item=math.prod(self.obs_shape))
        if isinstance(spread, bool) or not isinstance(spread, Real) or not math.isfinite(spread) or spread < 0:
            raise ValueError(f"spread must be a finite number >= 0, got {spread!r}")
        # far beyond the box the mirrored cloud is uniform anyway, and spread * N(0, 1)
        # must not overflow to inf (which would fold to NaN)
        if spread > MAX_SPREAD_BOXES * self.L:
            raise ValueError(f"spread must be at most {MAX_SPREAD_BOXES:g} box lengths "
                             f"({MAX_SPREAD_BOXES * self.L:g}), got {spread!r}")
        rng = as_generator(seed)
        h = 0.5 * self.L
        if center is None:
            centres = rng.uniform(-h, h, size=(n, 1, self.dim))
        else:
            c = _as_vector("center", center, self.dim)
            if np.any(np.abs(c) > h):
                raise ValueError(f"center must lie in the domain [{-h:g}, {h:g}]^{self.dim}, got {c.tolist()}")
            centres = np.broadcast_to(c, (n, 1, self.dim))
        x = np.empty((n, *self.obs_shape))
        x[...] = centres
        if spread > 0:
            x += spread * rng.standard_normal(x.shape)
            self._fold_outside(x)
        return x

    def lift(self, obs, rng=None) -> np.ndarray:
        """Identity (a validated copy): the particle positions are the micro state; ``rng``
        is unused."""
        return np.array(self._check_positions("obs", obs), copy=True)

    def restrict(self, micro) -> np.ndarray:
        """Identity (a validated copy)."""
        return np.array(self._check_positions("micro", micro), copy=True)

    def advance(self, micro, t0: float, t: float, seed=None) -> np.ndarray:
        """Evolve positions from absolute time ``t0`` to ``t`` (the drift depends on ``t``).

        ``seed``: int or Generator (required). Consumes ``n_steps * B * N * dim`` normals
        in step order, so consecutive calls with one Generator equal one long call.
        """
        micro = self._check_positions("micro", micro)
        return super().advance(micro, t0, t, seed=seed)

    def simulate(self, x0, n_steps: int, t0: float = 0.0, seed=0, progress: bool = False) -> np.ndarray:
        """Trajectories ``(B, n_steps + 1, N, dim)`` sampled every ``coarse_dt`` from ``t0``.

        Consumes the Generator exactly as one ``advance`` over the whole horizon would,
        so ``simulate(x0, n, seed=g)[:, -1]`` equals ``advance(x0, t0, t0 + n coarse_dt,
        seed=g')`` for identically seeded ``g, g'`` (up to rounding of the drift times).
        """
        self._check_positions("x0", x0)
        return super().simulate(x0, n_steps, t0=t0, seed=seed, progress=progress)

    def _advance_steps(self, micro: np.ndarray, t0: float, n_steps: int, rng) -> np.ndarray:
        """Euler–Maruyama with mirror reflection, vectorised over batch x particles x dim."""
        if self.torch_device is not None:
            return self._advance_steps_torch(micro, t0, n_steps, rng)
        x = np.array(micro, dtype=np.float64, order="C", copy=True)
        batch = x.shape[0]
        per_step = x.size
        chunk = max(1, min(n_steps, self._chunk_elems // per_step))
        noise = np.empty((chunk, *x.shape))
        work = np.empty_like(x)
        sigma = math.sqrt(self.D * self.dt)
        for k0 in range(0, n_steps, chunk):
            c = min(chunk, n_steps - k0)
            inc = noise[:c]
            rng.standard_normal(out=inc)
            inc *= sigma
            # Drift u(t0 + k dt) dt from the global step index k, so the result does not
            # depend on the block size. It is tiled to a row of N*dim numbers because
            # broadcasting a length-dim vector makes NumPy's inner loop only dim long.
            t_k = t0 + np.arange(k0, k0 + c, dtype=np.float64) * self.dt
            drift_row = np.tile(self.drift(t_k) * self.dt, (1, self.n_particles))
            inc.reshape(c, batch, -1)[...] += drift_row[:, None, :]
            for k in range(c):
                x += inc[k]
                self._reflect_inplace(x, work)
        return x

    # Normals per torch step block: large blocks keep a GPU busy, the cap bounds memory.
    _torch_chunk_elems = 1 << 24

    def _torch_normals(self, shape, generator):
        """Standard normals for the torch backend (a method so tests can substitute them)."""
        import torch

        return torch.randn(shape, generator=generator, dtype=torch.float64, device=self.torch_device)

    def _advance_steps_torch(self, micro: np.ndarray, t0: float, n_steps: int, rng) -> np.ndarray:
        """The NumPy backend's arithmetic with torch on ``self.torch_device``: the same
        normals give the same positions. One host sync per block of steps (not per step)
        decides the wall treatment: if no step of the block moves a particle by more than
        a box width, one mirror image ``2 clip(x) - x`` is exact (and leaves particles
        inside untouched); otherwise the triangle-wave fold, applied where a particle left."""
        import torch

        dev = self.torch_device
        generator = torch.Generator(device=dev)
        generator.manual_seed(int(rng.integers(2**63 - 1)))
        x = torch.as_tensor(np.ascontiguousarray(micro, dtype=np.float64)).to(dev)
        work = torch.empty_like(x)
        h, L = 0.5 * self.L, self.L
        sigma = math.sqrt(self.D * self.dt)
        chunk = max(1, min(n_steps, self._torch_chunk_elems // x.numel()))
        for k0 in range(0, n_steps, chunk):
            c = min(chunk, n_steps - k0)
            inc = self._torch_normals((c, *x.shape), generator)
            inc *= sigma
            t_k = t0 + np.arange(k0, k0 + c, dtype=np.float64) * self.dt
            inc += torch.as_tensor(self.drift(t_k) * self.dt, device=dev)[:, None, None, :]
            one_mirror = bool(inc.abs().max() <= L)
            for k in range(c):
                x += inc[k]
                if one_mirror:
                    torch.clamp(x, -h, h, out=work)
                    work.mul_(2.0).sub_(x)
                    x, work = work, x
                else:
                    folded = h - torch.abs(torch.remainder(x + h, 2.0 * L) - L)
                    x = torch.where(torch.abs(x) > h, folded, x)
        return x.cpu().numpy()

    def __repr__(self) -> str:
        device = "" if self.torch_device is None else f", torch_device={str(self.torch_device)!r}"
        return (
            f"AdvectionDiffusion(dim={self.dim}, n_particles={self.n_particles}, D={self.D}, "
            f"A={self.A.tolist()}, omega={self.omega.tolist()}, L={self.L}, dt={self.dt}, "
            f"coarse_dt={self.coarse_dt}{device})"
        )
