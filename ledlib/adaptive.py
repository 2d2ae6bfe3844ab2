"""Adaptive LED: switch between the latent model and the micro solver by need (issue 13).

The paper alternates on a fixed schedule (``T_m`` macro, ``T_mu`` micro). AdaLED (Kičić
et al., CMAME 2023) switches when the model is unsure. :class:`AdaptiveCriterion` is that
rule as a criterion of :func:`ledlib.forecast.forecast` (``criterion=``), run by the same
propagation loop as the fixed schedule (:mod:`ledlib.forecast.propagator`). Its cycle:

1. **warm-up** (the forecast's ``T_warm``; later cycles: a micro block of ``n_micro``
   steps from the lifted macro state): the micro solver runs, its states are encoded and
   the RNN is teacher-forced on them;
2. **comparison**, the last ``n_compare`` steps of the warm-up or block: the latent model
   runs on its own beside the solver from the teacher-forced state before them; the
   comparison error is the RMS difference of the two latent trajectories, in units of the
   latent coordinates' training std. Below ``comparison_threshold`` a macro phase starts;
   otherwise another micro block follows (and is compared again at its end);
3. **macro**: the RNN on its own output while the ensemble's spread
   (:meth:`ledlib.ensemble.LatentEnsemble.spread`, same units) of the next state stays
   below ``spread_threshold``: a step whose candidate state is too uncertain is not taken.
   The first ``min_macro`` steps are taken whatever the spread, at most ``max_macro``;
4. **micro**: the last macro state is decoded and lifted, and the cycle starts again.

Thresholds compare strictly (go on while ``value < threshold``): a threshold 0 never
goes on (all micro), ``inf`` always does; a NaN spread or error stops. ``None``
switches a test off. Lengths are in coarse steps.

Decisions are batch-wide (``reduce``: the largest spread or error over the ensemble
decides, ``"max"``, the default, or their mean, ``"mean"``): the ensemble is propagated
in one network call and one solver call, and a member that switches alone would need its
own solver call. For per-member decisions, forecast the members one at a time.

Measures: :attr:`ledlib.forecast.ForecastResult.macro_utilisation` (the fraction of steps
on the latent model), :meth:`AdaptiveCriterion.macro_utilisation_bound` (the most a
criterion's cycle lengths allow), :func:`ledlib.forecast.utilisation_speedup_bound`, and
:func:`ledlib.forecast.measure_speedup` with ``criterion=``: the ensemble's members and
the comparison steps are timed as part of LED's propagation (``Timings.compare``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .forecast.schedule import MACRO, MAX_STEPS, phase_schedule

__all__ = ["AdaptiveCriterion", "switching_sequence"]

_REDUCE = ("max", "mean")


def _threshold(name: str, value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0 (inf allowed) or None, got {value!r}")
    return float(value)


def _length(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or not lo <= value <= MAX_STEPS:
        raise ValueError(f"{name} must be an integer in [{lo}, {MAX_STEPS}] (coarse steps), got {value!r}")
    return int(value)


@dataclass(frozen=True)
class AdaptiveCriterion:
    """AdaLED's switching rule (see the module doc).

    ``spread_threshold`` on the ensemble's latent spread (``None``: not used; then any
    surrogate will do), ``comparison_threshold`` on the comparison error (``None``: a
    comparison never blocks), ``n_compare`` comparison steps (>= 1 when
    ``comparison_threshold`` is set), ``n_micro`` steps per micro block (> ``n_compare``),
    ``min_macro``/``max_macro`` macro steps per phase (``max_macro=None``: no limit),
    ``reduce`` the batch-wide rule.
    """

    spread_threshold: float | None = 0.01
    comparison_threshold: float | None = 0.01
    n_compare: int = 2
    n_micro: int = 4
    min_macro: int = 0
    max_macro: int | None = None
    reduce: str = "max"

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("spread_threshold", _threshold("spread_threshold", self.spread_threshold))
        set_("comparison_threshold", _threshold("comparison_threshold", self.comparison_threshold))
        set_("n_compare", _length("n_compare", self.n_compare, 0))
        if self.comparison_threshold is not None and self.n_compare == 0:
            raise ValueError("n_compare must be >= 1 when comparison_threshold is set (nothing to compare), "
                             "or set comparison_threshold=None")
        set_("n_micro", _length("n_micro", self.n_micro, 1))
        if self.n_micro <= self.n_compare:
            raise ValueError(f"n_micro must be > n_compare={self.n_compare} (the RNN is teacher-forced on the "
                             f"block's first states before the comparison), got {self.n_micro}")
        set_("min_macro", _length("min_macro", self.min_macro, 0))
        if self.max_macro is not None:
            set_("max_macro", _length("max_macro", self.max_macro, max(1, self.min_macro)))
        if not isinstance(self.reduce, str) or self.reduce not in _REDUCE:
            raise ValueError(f"reduce must be one of {_REDUCE}, got {self.reduce!r}")

    # -- the criterion interface (ledlib.forecast.schedule) -----------------------------
    may_enter = True

    @property
    def needs_spread(self) -> bool:
        return self.spread_threshold is not None

    def _value(self, x) -> float:
        x = np.asarray(x, dtype=np.float64)
        if x.size == 0:
            raise ValueError("an empty spread or comparison error cannot be judged")
        return float(np.max(x) if self.reduce == "max" else np.mean(x))

    def planned_macro(self, k: int) -> int | None:
        """Without a spread test a macro phase runs ``max_macro`` steps (no limit: to the
        horizon): known in advance. Otherwise decided step by step."""
        if self.spread_threshold is None:
            return MAX_STEPS if self.max_macro is None else self.max_macro
        return None

    def go_on(self, k: int, run: int, spread=None) -> bool:
        if self.max_macro is not None and run >= self.max_macro:
            return False
        if run < self.min_macro or self.spread_threshold is None:
            return True
        if spread is None:
            raise ValueError("this criterion needs the ensemble spread of every macro step")
        return self._value(spread() if callable(spread) else spread) < self.spread_threshold

    def enter(self, k: int, comparison_error=None) -> bool:
        if self.comparison_threshold is None or comparison_error is None:
            return True
        return self._value(comparison_error) < self.comparison_threshold

    def micro_length(self, k: int) -> int:
        return self.n_micro

    # -- measures -----------------------------------------------------------------
    def macro_utilisation_bound(self, n_steps: int | None = None) -> float:
        """The largest fraction of steps this criterion can run on the latent model: every
        comparison passed and every macro phase ``max_macro`` long, so cycles of
        ``max_macro`` macro and ``n_micro`` micro steps from the first step on. Over one
        cycle if ``n_steps`` is None, else over a horizon of ``n_steps`` (``max_macro=None``:
        1, one macro phase over the horizon)."""
        if self.max_macro is None:
            return 1.0
        if n_steps is None:
            return self.max_macro / (self.max_macro + self.n_micro)
        n_steps = _length("n_steps", n_steps, 1)
        return float(np.count_nonzero(phase_schedule(n_steps, self.max_macro, self.n_micro) == MACRO)) / n_steps


def switching_sequence(phases) -> list[tuple[str, int]]:
    """The phases of a forecast as runs ``[(phase, length), ...]`` (e.g. to compare two
    forecasts' switching, or to read the macro phases' lengths)."""
    ph = np.asarray(phases)
    if ph.ndim != 1:
        raise ValueError(f"phases must be one-dimensional, got shape {ph.shape}")
    if ph.size == 0:
        return []
    edges = np.flatnonzero(np.r_[True, ph[1:] != ph[:-1], True])
    return [(str(ph[a]), int(b - a)) for a, b in zip(edges[:-1], edges[1:])]
