"""The speed-up ``S = T_micro / T_LED`` (§3.2) and the accuracy / cost trade-off over rho."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from numbers import Real
from typing import Callable, Sequence

import numpy as np

from .._checks import finite_real as _real
from .._checks import int_at_least as _int
from ..systems.base import check_state
from .propagator import _lift_takes_rng, check_seed, check_system, forecast
from .recording import record_steps
from .results import ForecastResult, SpeedupResult
from .schedule import MACRO, MICRO, check_time_axis, n_coarse

__all__ = ["time_micro_solver", "measure_speedup", "speedup_bound", "SweepPoint", "rho_sweep"]

# Most repetitions of a timing: beyond this a measurement only burns time.
MAX_REPEATS = 1000


def _positive_seconds(name: str, value) -> float:
    """A measured time per step: a finite real number > 0 (a ``ValueError`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
    return float(value)


def time_micro_solver(system, x0, horizon: float, *, t0: float = 0.0, n_runs: int = 1, record_at="last",
                      seed: int = 0) -> float:
    """Wall time (s) per coarse step of the micro solver alone on ``x0`` repeated ``n_runs``
    times, from ``t0`` over ``horizon``, restricting at the same ``record_at`` steps as
    :func:`~ledlib.forecast.forecast` (one ``advance`` call between consecutive recorded steps)."""
    check_system(system)
    coarse_dt = float(system.coarse_dt)
    n_steps = n_coarse("horizon", horizon, coarse_dt, lo=1)
    n_runs = _int("n_runs", n_runs)
    t0 = check_time_axis(t0, n_steps, coarse_dt)
    x0 = check_state("x0", x0, tuple(system.obs_shape))
    rng = np.random.default_rng(check_seed(seed))
    rec = record_steps(record_at, n_steps, t0, coarse_dt)
    stops = np.union1d(rec[rec > 0], [n_steps])
    x = np.repeat(x0, n_runs, axis=0) if n_runs > 1 else x0
    start = time.perf_counter()
    micro = system.lift(x, rng=rng) if _lift_takes_rng(system) else system.lift(x)
    j_prev = 0
    for j in stops:
        micro = system.advance(micro, t0 + j_prev * coarse_dt, t0 + j * coarse_dt, seed=rng)
        if j in rec:
            system.restrict(micro)
        j_prev = j
    return (time.perf_counter() - start) / n_steps


def measure_speedup(model, system, x0, horizon: float, T_m: float | None = None, T_mu: float = 0.0, *,
                    T_warm: float | None = None, n_runs: int = 1, t0: float = 0.0, record_at="last",
                    seed: int = 0, repeats: int = 1, micro_per_step: float | None = None,
                    max_chunk: int | None = None, dry_run: bool = True, criterion=None) -> SpeedupResult:
    """``S = T_micro / T_LED`` per coarse step, measured here for the same batch, horizon
    and recording times (the best of ``repeats`` runs of each; states are not stored).

    ``T_warm`` defaults to one coarse step; the warm-up time is reported, not counted.
    ``micro_per_step``: a solver time measured before (e.g. shared by several rho) instead
    of timing :func:`time_micro_solver` here. ``dry_run``: one short untimed forecast
    first, so that one-off costs (thread pools, CUDA context) are not charged to LED.
    ``criterion``: an adaptive criterion instead of ``T_m``/``T_mu``; its comparisons and
    the ensemble's spread are part of LED's time.
    """
    repeats = _int("repeats", repeats)
    if repeats > MAX_REPEATS:
        raise ValueError(f"repeats must be at most {MAX_REPEATS}, got {repeats}")
    if micro_per_step is not None:
        micro_per_step = _positive_seconds("micro_per_step", micro_per_step)
    check_system(system)
    coarse_dt = float(system.coarse_dt)
    T_warm = coarse_dt if T_warm is None else T_warm
    T_warm = _real("T_warm", T_warm)
    kw = dict(T_warm=T_warm, T_m=T_m, T_mu=T_mu, n_runs=n_runs, t0=t0, seed=seed,
              keep_states=False, keep_latents="none", max_chunk=max_chunk, criterion=criterion)
    if dry_run:
        forecast(model, system, x0, coarse_dt, **{**kw, "T_m": None, "T_mu": 0.0, "criterion": None,
                                                  "record_at": "last"})
    best: ForecastResult | None = None
    micro_times = []
    for _ in range(repeats):
        if micro_per_step is None:
            micro_times.append(time_micro_solver(system, x0, horizon, t0=_real("t0", t0) + T_warm,
                                                 n_runs=n_runs, record_at=record_at, seed=seed))
        res = forecast(model, system, x0, horizon, record_at=record_at, **kw)
        if best is None or res.timings.propagation < best.timings.propagation:
            best = res
    micro = micro_per_step if micro_per_step is not None else min(micro_times)
    return SpeedupResult(
        S=micro / best.led_per_step, micro_per_step=micro, led_per_step=best.led_per_step,
        warm_up=best.timings.warm_up, batch=best.batch, T_m=best.T_m, T_mu=best.T_mu, rho=best.rho,
        horizon=best.horizon, n_steps=best.n_steps, record_at=record_at, device=best.device,
        timings=best.timings, macro_utilisation=best.macro_utilisation)


def speedup_bound(rho, S_latent):
    """Speed-up of a multiscale run whose latent steps cost ``1/S_latent`` of a micro step:
    per cycle of ``T_m + T_mu``, ``S = (1 + rho) / (1 + rho / S_latent)``; at most
    ``1 + rho``, and ``S_latent`` as ``rho -> inf`` (switching costs neglected).
    ``rho >= 0`` (``inf`` allowed, array or scalar), ``S_latent`` a finite number > 0."""
    if isinstance(S_latent, bool) or not isinstance(S_latent, Real) or not math.isfinite(S_latent) \
            or S_latent <= 0:
        raise ValueError(f"S_latent must be a finite number > 0 (the latent model's speed-up), got {S_latent!r}")
    if isinstance(rho, (str, bytes)) or np.asarray(rho).dtype.kind in "USO":  # "1" is not a ratio
        raise ValueError(f"rho must be a number or an array of numbers >= 0, got {rho!r}")
    try:
        rho = np.asarray(rho, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"rho must be a number or an array of numbers >= 0, got {rho!r}") from None
    if np.any(np.isnan(rho)) or np.any(rho < 0):
        raise ValueError(f"rho must be >= 0 (inf allowed, no NaN), got {rho}")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.isinf(rho), S_latent, (1.0 + rho) / (1.0 + rho / S_latent))
    return out if out.ndim else float(out)


def utilisation_speedup_bound(utilisation, S_latent):
    """:func:`speedup_bound` in terms of the macro utilisation ``u`` (fraction of steps on the
    latent model): ``S = 1 / (1 - u + u / S_latent)``, the same as ``rho = u / (1 - u)``."""
    if isinstance(utilisation, (str, bytes)) or np.asarray(utilisation).dtype.kind in "USO":  # "0.5" is not a fraction
        raise ValueError(f"utilisation must be a number or an array of numbers in [0, 1], got {utilisation!r}")
    try:
        u = np.asarray(utilisation, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"utilisation must be a number or an array of numbers in [0, 1], got {utilisation!r}") from None
    if np.any(~np.isfinite(u)) or np.any(u < 0) or np.any(u > 1):
        raise ValueError(f"utilisation must lie in [0, 1], got {utilisation!r}")
    with np.errstate(divide="ignore"):
        rho = np.where(u >= 1, np.inf, u / np.where(u >= 1, 1.0, 1.0 - u))
    return speedup_bound(rho if rho.ndim else float(rho), S_latent)


@dataclass
class SweepPoint:
    """One configuration of :func:`rho_sweep`: ``T_m=None`` is latent propagation."""

    T_m: float | None
    T_mu: float
    rho: float
    error: float
    S: float
    result: ForecastResult

    @property
    def rho_effective(self) -> float:
        """Macro steps over micro steps actually run: differs from ``rho`` when the horizon
        ends inside a cycle (``inf`` for latent propagation)."""
        n_micro = int(np.count_nonzero(self.result.phases == MICRO))
        n_macro = int(np.count_nonzero(self.result.phases == MACRO))
        return math.inf if n_micro == 0 else n_macro / n_micro


def rho_sweep(model, system, x0, horizon: float, *, T_warm: float, T_mu: float, T_m_values: Sequence,
              error: Callable[[ForecastResult], float], n_runs: int = 1, t0: float = 0.0, seed: int = 0,
              record_at="all", micro_per_step: float | None = None) -> list[SweepPoint]:
    """Error and speed-up of LED for each ``T_m`` in ``T_m_values`` (``None``: latent only),
    all with micro phases of ``T_mu``, from the same initial conditions and seed.

    ``error(result)`` scores a :class:`ForecastResult` (e.g. MNAD against the true
    trajectory). The speed-up of each point is the micro solver's time per coarse step
    (timed once here on the same batch, horizon and recording times, unless given)
    over LED's propagation time per coarse step in that same forecast.
    """
    try:
        T_m_values = list(T_m_values)
    except TypeError:
        raise ValueError(f"T_m_values must be a sequence of T_m (None for latent propagation), "
                         f"got {T_m_values!r}") from None
    if not T_m_values:
        raise ValueError("T_m_values must list at least one T_m (None for latent propagation)")
    if not callable(error):
        raise TypeError("error must be a callable error(ForecastResult) -> float")
    horizon_f = _real("horizon", horizon)
    T_mu_f = _real("T_mu", T_mu)
    for T_m in T_m_values:
        if T_m is not None:
            _real("T_m_values", T_m)
    too_long = [T_m for T_m in T_m_values if T_m is not None and T_m + T_mu_f > horizon_f]
    if too_long:  # such a run never reaches a micro phase: it would be scored as multiscale
        raise ValueError(f"horizon={horizon} must hold at least one cycle T_m + T_mu for every T_m; "
                         f"too long: {too_long}")
    if micro_per_step is None:
        micro_per_step = time_micro_solver(system, x0, horizon, t0=_real("t0", t0) + _real("T_warm", T_warm),
                                           n_runs=n_runs, record_at=record_at, seed=seed)
    else:
        micro_per_step = _positive_seconds("micro_per_step", micro_per_step)
    points = []
    for T_m in T_m_values:
        latent = T_m is None
        res = forecast(model, system, x0, horizon, T_warm=T_warm, T_m=None if latent else T_m,
                       T_mu=0.0 if latent else T_mu, n_runs=n_runs, t0=t0, seed=seed, record_at=record_at)
        points.append(SweepPoint(T_m, 0.0 if latent else float(T_mu), res.rho, float(error(res)),
                                 res.speedup(micro_per_step), res))
    return points
