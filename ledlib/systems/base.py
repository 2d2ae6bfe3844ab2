"""The interface every micro solver implements (the extension point of ledlib).

A *system* maps between two descriptions of the same physics:

- the **observable** (coarse) state ``obs`` that LED's autoencoder sees, with a leading
  batch axis, shape ``(B, *obs_shape)``;
- the **micro** state the fine solver advances (for KS and the particle systems the same
  array; for lattice Boltzmann the particle populations).

Equation-free operators: ``lift(obs) -> micro``, ``restrict(micro) -> obs`` and
``advance(micro, t0, t) -> micro`` (evolve from absolute time ``t0`` to absolute time
``t``). ``simulate`` strings them together and records the observable every
``coarse_dt``. A user's own simulator becomes an LED system by subclassing
:class:`System` and providing these operators.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import math

import numpy as np

from .._checks import finite_real as check_finite_real
from .._checks import nonnegative_int as check_nonnegative_int
from .._checks import positive as check_positive
from .._checks import seed as check_seed
from .._checks import MAX_SOLVER_STEPS
from .._checks import count as check_count

# Tolerance for deciding that a duration is a whole number of solver steps.
_STEP_TOL = 1e-9


def steps_per(duration: float, dt: float, name: str = "coarse_dt") -> int:
    """Number of solver steps of size ``dt`` in ``duration``; it must be a whole number."""
    n = duration / dt
    if not math.isfinite(n) or n > MAX_SOLVER_STEPS:
        raise ValueError(f"{name}={duration} must be at most {MAX_SOLVER_STEPS} solver steps of dt={dt} "
                         f"(a finite duration), got {n:g} steps")
    k = int(round(n))
    if k < 1 or abs(n - k) > _STEP_TOL * max(1.0, n):
        raise ValueError(f"{name}={duration} must be a positive whole multiple of dt={dt}")
    return k


def check_state(name: str, x, shape: tuple[int, ...]) -> np.ndarray:
    """Validate a batched state ``(B, *shape)``: a finite float array."""
    x = np.asarray(x)
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape):
        raise ValueError(
            f"{name} must have shape (batch, {', '.join(map(str, shape))}), got {x.shape}"
        )
    if x.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one state (batch size >= 1)")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise ValueError(f"{name} must be a real numeric array, got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def as_generator(seed) -> np.random.Generator:
    """A NumPy Generator from an int seed, a SeedSequence or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError("seed must be given (an int or a numpy Generator): every draw is seeded")
    return np.random.default_rng(check_seed(seed))


class NonFiniteStateError(FloatingPointError):
    """A simulation produced NaN or inf; the message says at which time."""


class System(ABC):
    """A micro solver behind LED's equation-free operators.

    Subclasses set ``dt`` (solver step), ``coarse_dt`` (observation spacing, a whole
    multiple of ``dt``), ``obs_shape`` and ``micro_shape``, and implement ``lift``,
    ``restrict``, ``_advance_steps`` and ``initial_conditions``.
    """

    name: str = "system"
    stochastic: bool = False
    dt: float
    coarse_dt: float
    obs_shape: tuple[int, ...]
    micro_shape: tuple[int, ...]

    # -- equation-free operators -------------------------------------------------
    @abstractmethod
    def initial_conditions(self, n: int, seed=0) -> np.ndarray:
        """``n`` observable initial states, shape ``(n, *obs_shape)``."""

    @abstractmethod
    def lift(self, obs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Observable ``(B, *obs_shape)`` -> micro state ``(B, *micro_shape)``.

        A lift that draws (e.g. micro details consistent with the observable) takes its
        random numbers from ``rng``, so that a simulation and a forecast started from the
        same observable with the same seed start from the same micro state; ``simulate``
        passes its own generator. A deterministic lift ignores ``rng``."""

    @abstractmethod
    def restrict(self, micro: np.ndarray) -> np.ndarray:
        """Micro state ``(B, *micro_shape)`` -> observable ``(B, *obs_shape)``."""

    @abstractmethod
    def _advance_steps(self, micro: np.ndarray, t0: float, n_steps: int, rng) -> np.ndarray:
        """Advance a validated micro state by ``n_steps`` solver steps from time ``t0``.

        ``micro`` is the system's own array (a private copy or a state produced by
        ``lift``): implementations may overwrite it.
        """

    @property
    def steps_per_coarse(self) -> int:
        return steps_per(self.coarse_dt, self.dt)

    def advance(self, micro, t0: float, t: float, seed=None) -> np.ndarray:
        """Evolve ``micro`` from absolute time ``t0`` to absolute time ``t`` (``t - t0`` a
        whole number of solver steps). Stochastic systems need ``seed`` (int or Generator)."""
        t0 = check_finite_real("t0", t0)
        t = check_finite_real("t", t)
        if t < t0:
            raise ValueError(f"t must be >= t0 (got t0={t0}, t={t})")
        micro = check_state("micro", micro, self.micro_shape).copy()  # never touch the caller's array
        if t == t0:
            return micro
        n = steps_per(t - t0, self.dt, name="t - t0")
        rng = as_generator(seed) if self.stochastic else None
        out = self._advance_steps(micro, t0, n, rng)
        self._check_finite(out, t)
        return out

    def simulate(self, x0, n_steps: int, t0: float = 0.0, seed=0, progress: bool = False) -> np.ndarray:
        """Trajectories from observable states ``x0`` ``(B, *obs_shape)``.

        Returns ``(B, n_steps + 1, *obs_shape)`` spaced ``coarse_dt`` apart, with
        ``out[:, 0] == x0`` (the lifted state is evolved; the observable is recorded).
        """
        n_steps = check_nonnegative_int("n_steps", n_steps)
        t0 = check_finite_real("t0", t0)
        x0 = check_state("x0", x0, self.obs_shape)
        # the output holds every coarse step: refuse a size that cannot be allocated
        check_count("n_steps", n_steps, per_item=x0.shape[0] * math.prod(self.obs_shape), lo=0)
        if n_steps and (t0 + self.coarse_dt == t0 or not math.isfinite(t0 + n_steps * self.coarse_dt)):
            raise ValueError(f"t0={t0} leaves no representable time step of coarse_dt={self.coarse_dt} "
                             f"(the times t0 + j coarse_dt would coincide)")
        # one generator for the lift and the steps: a stochastic lift is seeded too
        rng = as_generator(seed) if (self.stochastic or seed is not None) else None
        step_rng = rng if self.stochastic else None
        k = self.steps_per_coarse
        out = np.empty((x0.shape[0], n_steps + 1, *self.obs_shape))
        out[:, 0] = x0
        micro = self.lift(x0, rng=rng)
        steps = range(1, n_steps + 1)
        if progress:
            from tqdm import tqdm

            steps = tqdm(steps, desc=f"{self.name}: simulate", leave=False)
        for j in steps:
            t_start = t0 + (j - 1) * self.coarse_dt
            micro = self._advance_steps(micro, t_start, k, step_rng)
            self._check_finite(micro, t_start + self.coarse_dt)
            out[:, j] = self.restrict(micro)
        return out

    # -- helpers -----------------------------------------------------------------
    def _check_finite(self, micro: np.ndarray, t: float) -> None:
        if not np.all(np.isfinite(micro)):
            bad = np.where(~np.all(np.isfinite(micro.reshape(micro.shape[0], -1)), axis=1))[0]
            raise NonFiniteStateError(
                f"{self.name}: the state became non-finite by t={t:g} "
                f"(batch members {bad[:10].tolist()}); reduce dt or check parameters"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dt={self.dt}, coarse_dt={self.coarse_dt}, obs_shape={self.obs_shape})"
