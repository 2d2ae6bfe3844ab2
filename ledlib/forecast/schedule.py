"""When a forecast runs on the latent model and when on the micro solver.

A :class:`Schedule` is the time grid of one forecast (warm-up, horizon, coarse step) with
the paper's fixed alternation of ``T_m`` macro and ``T_mu`` micro time. It is also the
simplest *criterion*: the object the propagation loop asks, at every coarse step, "go on
in the latent space?". :class:`ledlib.adaptive.AdaptiveCriterion` is another one, and the
loop of :mod:`ledlib.forecast.propagator` runs either.

The criterion interface (what the loop calls; all lengths in coarse steps):

- ``n_compare``: steps at the end of the warm-up and of each micro block during which
  the latent model runs beside the solver, so that its error can be measured (0: none);
- ``needs_spread``: whether ``go_on`` is given the ensemble's spread;
- ``planned_macro(k)``: the length of a macro phase starting after step ``k`` when it is
  known in advance (the loop then reads the latent state only where it must), or
  ``None``: ``go_on`` is asked before every macro step;
- ``go_on(k, run, spread)``: take macro step ``k + 1``? ``run`` macro steps of this
  phase are done; ``spread()`` returns the members' spread of the candidate state
  ``(B,)`` (``None`` unless ``needs_spread``; called only when the decision needs it);
- ``enter(k, comparison_error)``: at the end of the warm-up or of a micro block ending at
  step ``k``, start a macro phase? ``comparison_error`` is ``None`` without comparison;
- ``micro_length(k)``: the length of the micro block starting after step ``k``;
- ``may_enter``: ``False`` if no macro phase can ever follow a micro block (then micro
  states are not encoded for teacher forcing).

Every decision is batch-wide: the ensemble is propagated in one network call and one
solver call, so all members switch together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .._checks import finite_real as _real
from .._checks import positive as _positive

__all__ = ["MACRO", "MICRO", "Schedule", "phase_schedule", "MAX_STEPS"]

MACRO = "macro"
MICRO = "micro"

# Relative tolerance for "a whole number of coarse steps".
_GRID_TOL = 1e-9
# Most coarse steps one forecast may have: beyond this a run would not end in any
# reasonable time, and the per-step bookkeeping (phases, masks) would not fit in memory.
MAX_STEPS = 10**8
# Absolute times must be resolved to this fraction of a coarse step (t0 = 1e308 is not).
_TIME_RESOLUTION = 1e-6


def n_coarse(name: str, value, coarse_dt: float, *, lo: int) -> int:
    """``value / coarse_dt`` as an int >= ``lo`` (0 or 1); the quotient must be whole and
    at most :data:`MAX_STEPS`."""
    value = _real(name, value)
    if value < 0:
        low = "0" if lo == 0 else f"one coarse step (coarse_dt={coarse_dt})"
        raise ValueError(f"{name} must be >= {low}, got {value}")
    q = value / coarse_dt
    if not math.isfinite(q) or q > MAX_STEPS:
        raise ValueError(f"{name}={value} is {q:.3g} coarse steps (coarse_dt={coarse_dt}); at most "
                         f"{MAX_STEPS} are allowed")
    k = int(round(q))
    if lo >= 1 and q < 1.0 - _GRID_TOL:
        raise ValueError(f"{name}={value} must be at least one coarse step (coarse_dt={coarse_dt})")
    if abs(q - k) > _GRID_TOL * max(1.0, q):
        raise ValueError(f"{name}={value} must be a whole multiple of coarse_dt={coarse_dt}")
    return k


def check_time_axis(t0: float, n_total: int, coarse_dt: float, name: str = "t0") -> float:
    """``t0`` such that ``t0 + j coarse_dt``, ``j = 0..n_total``, are distinct finite times."""
    t0 = _real(name, t0)
    t_end = t0 + n_total * coarse_dt
    if not math.isfinite(t_end) or np.spacing(max(abs(t0), abs(t_end))) > _TIME_RESOLUTION * coarse_dt:
        raise ValueError(f"{name}={t0} is too large for a time axis with coarse_dt={coarse_dt}: the times "
                         f"t0 + j*coarse_dt up to {n_total} steps must be finite and resolved to "
                         f"{_TIME_RESOLUTION:g} of a step (|t| up to about {coarse_dt * 2e9:.3g})")
    return t0


def _steps(name: str, value, lo: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer >= {lo} (coarse steps), got {value!r}")
    if value < lo or value > MAX_STEPS:
        raise ValueError(f"{name} must be an integer in [{lo}, {MAX_STEPS}] (coarse steps), got {value}")
    return int(value)


def phase_schedule(n_steps: int, n_m: int, n_mu: int) -> np.ndarray:
    """Phase of forecast steps ``1..n_steps``: :data:`MACRO` while ``(j-1) mod (n_m+n_mu) < n_m``
    (``n_mu = 0``: all macro; ``n_m = 0``: all micro; not both 0)."""
    n_steps = _steps("n_steps", n_steps)
    n_m = _steps("n_m", n_m)
    n_mu = _steps("n_mu", n_mu)
    if n_m == 0 and n_mu == 0:
        raise ValueError("n_m and n_mu cannot both be 0 (no phase would advance the state)")
    j = np.arange(n_steps)
    if n_mu == 0:
        return np.full(n_steps, MACRO)
    if n_m == 0:
        return np.full(n_steps, MICRO)
    return np.where(j % (n_m + n_mu) < n_m, MACRO, MICRO)


@dataclass(frozen=True)
class Schedule:
    """The time grid of a forecast and the paper's fixed alternation (a criterion).

    ``coarse_dt``; ``n_warm >= 1`` warm-up steps, ``n_steps >= 1`` forecast steps,
    macro phases of ``n_m`` and micro phases of ``n_mu`` steps (``n_mu = 0``: latent
    propagation, one macro phase over the horizon; ``n_m = 0``: the micro solver alone).
    Build it from times with :meth:`from_times`.
    """

    coarse_dt: float
    n_warm: int
    n_steps: int
    n_m: int
    n_mu: int

    n_compare = 0
    needs_spread = False

    def __post_init__(self):
        if not (isinstance(self.coarse_dt, float) and math.isfinite(self.coarse_dt) and self.coarse_dt > 0):
            raise ValueError(f"coarse_dt must be a finite float > 0, got {self.coarse_dt!r}")
        _steps("n_warm", self.n_warm, 1)
        _steps("n_steps", self.n_steps, 1)
        _steps("n_m", self.n_m)
        _steps("n_mu", self.n_mu)
        if self.n_m == 0 and self.n_mu == 0:
            raise ValueError("T_m and T_mu cannot both be 0 (nothing would advance the state)")

    @classmethod
    def from_times(cls, coarse_dt: float, *, T_warm, horizon, T_m=None, T_mu=0.0) -> "Schedule":
        """The schedule of :func:`~ledlib.forecast.forecast`'s arguments: all whole multiples of
        ``coarse_dt``; ``T_mu = 0`` is latent propagation (``T_m`` ignored), ``T_m`` must be
        given when ``T_mu > 0``."""
        coarse_dt = float(_positive("coarse_dt", coarse_dt))
        n_steps = n_coarse("horizon", horizon, coarse_dt, lo=1)
        n_warm = n_coarse("T_warm", T_warm, coarse_dt, lo=1)
        n_mu = n_coarse("T_mu", T_mu, coarse_dt, lo=0)
        if T_m is None:
            if n_mu > 0:
                raise ValueError("T_m must be given for multiscale propagation (T_mu > 0)")
            n_m = n_steps
        else:
            n_m = n_coarse("T_m", T_m, coarse_dt, lo=0)
            if n_m == 0 and n_mu == 0:
                raise ValueError("T_m and T_mu cannot both be 0 (nothing would advance the state)")
        if n_mu == 0:
            n_m = n_steps  # latent propagation: one macro phase
        return cls(coarse_dt, n_warm, n_steps, n_m, n_mu)

    # -- times ----------------------------------------------------------------------
    @property
    def T_warm(self) -> float:
        return self.n_warm * self.coarse_dt

    @property
    def T_m(self) -> float:
        return self.n_m * self.coarse_dt

    @property
    def T_mu(self) -> float:
        return self.n_mu * self.coarse_dt

    @property
    def horizon(self) -> float:
        return self.n_steps * self.coarse_dt

    @property
    def uses_model(self) -> bool:
        """Whether any step runs on the latent model (else the warm-up need not encode)."""
        return self.n_m > 0

    def phases(self) -> np.ndarray:
        """:data:`MACRO`/:data:`MICRO` of steps ``1..n_steps`` (:func:`phase_schedule`)."""
        return phase_schedule(self.n_steps, self.n_m, self.n_mu)

    # -- the criterion interface ----------------------------------------------------
    @property
    def may_enter(self) -> bool:
        return self.n_m > 0

    def planned_macro(self, k: int) -> int:
        return self.n_m

    def go_on(self, k: int, run: int, spread=None) -> bool:
        return run < self.n_m

    def enter(self, k: int, comparison_error=None) -> bool:
        return self.n_m > 0

    def micro_length(self, k: int) -> int:
        return self.n_mu

    def macro_utilisation_bound(self) -> float:
        """Fraction of steps on the latent model over whole cycles: ``n_m / (n_m + n_mu)``."""
        return self.n_m / (self.n_m + self.n_mu)
