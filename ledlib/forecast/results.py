"""What :func:`~ledlib.forecast.forecast` and :func:`~ledlib.forecast.measure_speedup` return."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .schedule import MACRO

__all__ = ["Timings", "ForecastResult", "SpeedupResult"]


@dataclass
class Timings:
    """Wall-clock seconds per part of one :func:`forecast` call.

    ``warm_up`` (all of it: micro solver, encoding, teacher forcing; ``warm_up_micro`` is
    the solver's share), then, after the warm-up: ``latent`` (RNN steps of macro phases),
    ``teacher`` (RNN teacher forcing on encoded micro states), ``decode`` (including the
    copy to host), ``encode``, ``micro`` (lift, solver, restrict in micro phases) and
    ``record`` (storing states and latents, observers), ``compare`` (the latent model run
    beside the solver in comparison steps, and the spread an adaptive criterion reads;
    zero for a fixed schedule). ``propagation`` is the wall time
    after the warm-up without ``record``: LED's cost for the horizon.
    """

    warm_up: float = 0.0
    warm_up_micro: float = 0.0
    latent: float = 0.0
    teacher: float = 0.0
    decode: float = 0.0
    encode: float = 0.0
    micro: float = 0.0
    record: float = 0.0
    compare: float = 0.0
    propagation: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass
class ForecastResult:
    """What :func:`forecast` returns.

    ``states (n_ic, n_runs, n_times, *obs_shape)`` at ``times`` (absolute; ``None`` if
    ``keep_states=False``); ``latents (n_ic, n_runs, n_latent_times, d_z)`` at
    ``latent_times`` (``None`` if not kept): the RNN's state in macro phases, the encoded
    micro state otherwise; ``warm_latents (n_ic, n_runs, n_warm + 1, d_z)`` the encoded
    warm-up; ``phases (n_steps,)`` :data:`MACRO` or :data:`MICRO` for the steps at
    ``step_times``; ``timings`` a :class:`Timings`.

    Switching (an adaptive criterion or a surrogate ensemble): ``spread (n_ic, n_runs,
    n_steps)`` the members' spread of each macro step the criterion looked at (NaN
    elsewhere; ``None`` if none was computed); ``comparisons``: ``(k, errors (n_ic,
    n_runs))`` for each comparison, ending at step ``k`` (0: the warm-up); ``criterion``
    the criterion's ``repr``.
    """

    times: np.ndarray
    states: np.ndarray | None
    latent_times: np.ndarray
    latents: np.ndarray | None
    warm_latents: np.ndarray | None
    step_times: np.ndarray
    phases: np.ndarray
    timings: Timings
    t0: float
    t_start: float
    horizon: float
    coarse_dt: float
    T_warm: float
    T_m: float
    T_mu: float
    n_ic: int
    n_runs: int
    seed: int
    device: str
    observers: tuple = ()
    spread: np.ndarray | None = None
    comparisons: tuple = ()
    criterion: str = ""

    @property
    def n_steps(self) -> int:
        return int(self.step_times.shape[0])

    @property
    def batch(self) -> int:
        return self.n_ic * self.n_runs

    @property
    def rho(self) -> float:
        """``T_m / T_mu``: ``inf`` for latent propagation, 0 for the micro solver alone."""
        if self.T_mu == 0:
            return math.inf
        return self.T_m / self.T_mu

    @property
    def macro_utilisation(self) -> float:
        """Fraction of the forecast's coarse steps run on the latent model."""
        return float(np.count_nonzero(self.phases == MACRO)) / self.n_steps

    @property
    def led_per_step(self) -> float:
        """LED's wall time per coarse step after the warm-up (recording excluded)."""
        return self.timings.propagation / self.n_steps

    def speedup(self, micro_per_step: float) -> float:
        """``S = micro_per_step / led_per_step``."""
        return float(micro_per_step) / self.led_per_step


@dataclass
class SpeedupResult:
    """Speed-up ``S = micro_per_step / led_per_step`` of one configuration (same batch,
    horizon and recording times); ``warm_up`` (seconds) is not part of ``led_per_step``;
    ``macro_utilisation`` the fraction of steps the timed forecast ran on the model."""

    S: float
    micro_per_step: float
    led_per_step: float
    warm_up: float
    batch: int
    T_m: float
    T_mu: float
    rho: float
    horizon: float
    n_steps: int
    record_at: Any
    device: str
    timings: Timings
    macro_utilisation: float = math.nan
