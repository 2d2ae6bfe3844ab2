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

from ._checks import flag, real_array
from .forecast.schedule import MACRO, MAX_STEPS, MICRO, phase_schedule

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
    if phases is None or isinstance(phases, (str, bytes)):
        raise TypeError(f"phases must be a sequence of {MACRO!r}/{MICRO!r}, got {phases!r}")
    ph = np.asarray(phases)
    if ph.ndim != 1:
        raise ValueError(f"phases must be one-dimensional, got shape {ph.shape}")
    if ph.size == 0:
        return []
    if ph.dtype.kind not in "US" or not np.all(np.isin(ph, (MACRO, MICRO))):
        raise ValueError(f"phases must hold only {MACRO!r} and {MICRO!r} (a forecast's phases), got {ph[:5]!r}")
    edges = np.flatnonzero(np.r_[True, ph[1:] != ph[:-1], True])
    return [(str(ph[a]), int(b - a)) for a, b in zip(edges[:-1], edges[1:])]


# ---------------------------------------------------------------------------------
# the accuracy / cost trade-off of a criterion, against the fixed schedule's
# ---------------------------------------------------------------------------------
@dataclass
class AdaptivePoint:
    """One criterion of :func:`threshold_sweep`: its error against the truth, speed-up and
    macro utilisation, and the forecast."""

    criterion: AdaptiveCriterion
    error: float
    S: float
    macro_utilisation: float
    result: object  # ledlib.forecast.ForecastResult


def threshold_sweep(model, system, x0, horizon: float, *, T_warm: float, criteria, error, n_runs: int = 1,
                    t0: float = 0.0, seed: int = 0, record_at="all", micro_per_step: float | None = None
                    ) -> list[AdaptivePoint]:
    """Error and speed-up of each criterion in ``criteria``, as
    :func:`ledlib.forecast.rho_sweep` does for the fixed schedule: the same initial
    conditions and seed, ``error(result)`` against the truth, ``S`` the micro solver's
    time per coarse step (timed once here unless given) over LED's propagation time per
    coarse step (the ensemble, the comparisons and the spread included)."""
    from .forecast import forecast, time_micro_solver
    from .forecast.speedup import _positive_seconds

    if criteria is None or isinstance(criteria, (str, bytes)) or not hasattr(criteria, "__iter__"):
        raise TypeError(f"criteria must be a sequence of AdaptiveCriterion, got {criteria!r}")
    criteria = list(criteria)
    if not criteria:
        raise ValueError("criteria must list at least one AdaptiveCriterion")
    for i, c in enumerate(criteria):
        if not isinstance(c, AdaptiveCriterion):
            raise TypeError(f"criteria[{i}] must be an AdaptiveCriterion, got {type(c).__name__}")
    if not callable(error):
        raise TypeError("error must be a callable error(ForecastResult) -> float")
    if micro_per_step is None:
        micro_per_step = time_micro_solver(system, x0, horizon, t0=float(t0) + float(T_warm), n_runs=n_runs,
                                           record_at=record_at, seed=seed)
    micro_per_step = _positive_seconds("micro_per_step", micro_per_step)
    points = []
    for c in criteria:
        res = forecast(model, system, x0, horizon, T_warm=T_warm, n_runs=n_runs, t0=t0, seed=seed,
                       record_at=record_at, criterion=c)
        points.append(AdaptivePoint(c, float(error(res)), res.speedup(micro_per_step), res.macro_utilisation, res))
    return points


def pareto_front(errors, speedups) -> np.ndarray:
    """Indices of the points no other point beats in both error (lower) and speed-up
    (higher), sorted by error; non-finite points are left out."""
    return _pareto(real_array("errors", errors, finite=False).ravel(), real_array("speedups", speedups, finite=False).ravel())


def _pareto(e: np.ndarray, s: np.ndarray, names=("errors", "speedups")) -> np.ndarray:
    if e.shape != s.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same length, got {e.size} and {s.size}")
    ok = np.flatnonzero(np.isfinite(e) & np.isfinite(s))
    order = ok[np.lexsort((-s[ok], e[ok]))]  # by error, the fastest first among equal errors
    front, best = [], -np.inf
    for i in order:
        if s[i] > best:
            front.append(i)
            best = s[i]
    return np.asarray(front, dtype=np.int64)


def _real_or_nan(name: str, value) -> float:
    """A real number (NaN and inf allowed: a failed measurement stays NaN downstream)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def fixed_speedup_at(error: float, fixed_errors, fixed_speedups) -> float:
    """The fixed schedule's speed-up at ``error``: interpolated (linear in log error and
    log S) along the Pareto front of the fixed points; NaN outside its error range (no
    extrapolation)."""
    error = _real_or_nan("error", error)
    e = real_array("fixed_errors", fixed_errors, finite=False).ravel()
    s = real_array("fixed_speedups", fixed_speedups, finite=False).ravel()
    front = _pareto(e, s, ("fixed_errors", "fixed_speedups"))
    front = front[(e[front] > 0) & (s[front] > 0)]
    if front.size == 0 or not np.isfinite(error) or error <= 0:
        return math.nan
    le, ls = np.log(e[front]), np.log(s[front])
    x = math.log(error)
    if x < le[0] - 1e-12 or x > le[-1] + 1e-12:
        return math.nan
    if front.size == 1:
        return float(s[front[0]])
    return float(np.exp(np.interp(x, le, ls)))


def speedup_ratio_at_error(error: float, S: float, fixed_errors, fixed_speedups) -> float:
    """``S`` over the fixed schedule's speed-up at the same ``error``
    (:func:`fixed_speedup_at`): above 1 the adaptive criterion is faster for that accuracy."""
    S = _real_or_nan("S", S)
    if S < 0:
        raise ValueError(f"S must be a speed-up >= 0 (or NaN), got {S}")
    ref = fixed_speedup_at(error, fixed_errors, fixed_speedups)
    return float(S) / ref if np.isfinite(ref) and ref > 0 else math.nan


def latent_error(result, z_true, scale=1.0) -> np.ndarray:
    """Realised latent error of a forecast, per member and step: the scaled RMS over latent
    coordinates of ``result.latents`` (kept at every step, ``keep_latents="all"``) minus
    ``z_true (n_ic, n_steps + 1, d_z)`` (the truth encoded at steps 0..n_steps) ->
    ``(n_ic, n_runs, n_steps)`` for steps 1..n_steps."""
    lat = getattr(result, "latents", None)
    if lat is None or lat.shape[2] != result.n_steps + 1:
        raise ValueError("result must keep the latents of every step (forecast(..., keep_latents='all'))")
    z_true = np.asarray(z_true, dtype=np.float64)
    if z_true.shape != (lat.shape[0], lat.shape[2], lat.shape[3]):
        raise ValueError(f"z_true must have shape {(lat.shape[0], lat.shape[2], lat.shape[3])}, got {z_true.shape}")
    d = (lat.astype(np.float64) - z_true[:, None]) / np.asarray(scale, dtype=np.float64)
    return np.sqrt((d ** 2).mean(axis=-1))[:, :, 1:]


def calibration(spread, error, n_bins: int = 8) -> dict[str, np.ndarray]:
    """How well the predicted spread tells the realised error: the pairs with a finite
    spread grouped into ``n_bins`` bins of equal count by spread; per bin the mean spread,
    the mean and the 10/90 % quantiles of the error, and the count. Also the Spearman
    rank correlation of all pairs (``rank_correlation``)."""
    u = real_array("spread", spread, finite=False).ravel()  # non-finite pairs are left out below
    e = real_array("error", error, finite=False).ravel()
    if u.shape != e.shape:
        raise ValueError(f"spread and error must have the same size, got {u.size} and {e.size}")
    if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or not 1 <= n_bins <= 1000:
        raise ValueError(f"n_bins must be an integer in [1, 1000], got {n_bins!r}")
    ok = np.isfinite(u) & np.isfinite(e)
    u, e = u[ok], e[ok]
    if u.size < 2:
        raise ValueError(f"calibration needs at least 2 finite (spread, error) pairs, got {u.size}")
    order = np.argsort(u, kind="stable")
    parts = [p for p in np.array_split(order, min(int(n_bins), u.size)) if p.size]
    out = {
        "spread": np.array([u[p].mean() for p in parts]),
        "error": np.array([e[p].mean() for p in parts]),
        "error_lo": np.array([np.quantile(e[p], 0.1) for p in parts]),
        "error_hi": np.array([np.quantile(e[p], 0.9) for p in parts]),
        "count": np.array([p.size for p in parts]),
    }
    from scipy.stats import rankdata

    ru, re = rankdata(u), rankdata(e)  # ties get their mean rank
    out["rank_correlation"] = np.array(np.corrcoef(ru, re)[0, 1] if ru.std() > 0 and re.std() > 0 else np.nan)
    return out


# ---------------------------------------------------------------------------------
# the chapter's study: fixed rho sweep and adaptive threshold sweep on one system
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class StudySettings:
    """The adaptive chapter's choices for one system (lengths in coarse steps): ``K``
    ensemble members, the thresholds swept (spread and comparison thresholds set equal),
    the one reported in the scorecard, the comparison and micro block lengths and the
    longest macro phase (the fixed sweep's longest ``T_m``)."""

    K: int
    thresholds: tuple
    report_threshold: float
    n_compare: int
    n_micro: int
    max_macro: int | None

    def criteria(self) -> list[AdaptiveCriterion]:
        return [AdaptiveCriterion(spread_threshold=t, comparison_threshold=t, n_compare=self.n_compare,
                                  n_micro=self.n_micro, max_macro=self.max_macro) for t in self.thresholds]


_THRESHOLDS = (0.01, 0.03, 0.1, 0.3, 1.0)
# n_micro = T_mu / coarse_dt and max_macro = the longest T_m / coarse_dt of the trade-offs
# chapter's sweep (ledlib.paper.tradeoff_settings), so that both sweeps span the same cycles.
STUDY = {
    "KS": StudySettings(3, _THRESHOLDS, 0.1, n_compare=5, n_micro=10, max_macro=100),
    "FHN": StudySettings(3, _THRESHOLDS, 0.1, n_compare=5, n_micro=10, max_macro=100),
    "AD1D": StudySettings(3, _THRESHOLDS, 0.1, n_compare=5, n_micro=10, max_macro=90),
}
# the scorecard's prefix of each system
SCORECARD_PREFIX = {"KS": "KS", "FHN": "FHN", "AD1D": "AD1", "AD3D": "AD3"}


@dataclass
class Study:
    """What :func:`run_study` measured on one system."""

    system: str
    profile: str
    settings: StudySettings
    error_kind: str
    fixed: list  # ledlib.forecast.SweepPoint, the fixed schedule over rho (a single LED)
    adaptive: list[AdaptivePoint]  # the criterion over the thresholds (the ensemble)
    calibration: dict  # calibration(...) of a latent run that reads the spread every step
    spread: np.ndarray  # that run's spread and realised latent error, (n_ic, n_runs, n_steps)
    latent_error: np.ndarray
    micro_per_step: float
    ensemble_records: list

    @property
    def report(self) -> AdaptivePoint:
        """The adaptive point of the reported threshold."""
        for p in self.adaptive:
            if p.criterion.spread_threshold == self.settings.report_threshold:
                return p
        raise ValueError(f"no adaptive point at the reported threshold {self.settings.report_threshold}")

    @property
    def note(self) -> str:
        """The settings a scorecard entry of this study was measured with."""
        st = self.settings
        return f"threshold {st.report_threshold:g}, K={st.K}, n_compare={st.n_compare}, n_micro={st.n_micro}"

    def table_rows(self) -> list[str]:
        """One markdown row per schedule measured: error, speed-up and macro utilisation."""
        rows = [f"| {self.system} | fixed, rho = {'latent' if math.isinf(p.rho) else f'{p.rho:g}'} | {p.error:.3g} | "
                f"{p.S:.3g} | {np.mean(p.result.phases == 'macro'):.2f} |" for p in self.fixed]
        return rows + [f"| {self.system} | adaptive, threshold {p.criterion.spread_threshold:g} | {p.error:.3g} | "
                       f"{p.S:.3g} | {p.macro_utilisation:.2f} |" for p in self.adaptive]

    def scorecard(self) -> dict[str, float]:
        """``SYS.adaptive_macro_utilisation``, ``_error``, ``_speedup`` and
        ``_vs_fixed_speedup_ratio`` (S over the fixed front's S at the same error; NaN where
        that error is outside the fixed sweep's range)."""
        p, pre = self.report, SCORECARD_PREFIX[self.system]
        ratio = speedup_ratio_at_error(p.error, p.S, [q.error for q in self.fixed], [q.S for q in self.fixed])
        return {f"{pre}.adaptive_macro_utilisation": p.macro_utilisation, f"{pre}.adaptive_error": p.error,
                f"{pre}.adaptive_speedup": p.S, f"{pre}.adaptive_vs_fixed_speedup_ratio": ratio}


def run_study(system: str, profile: str = "quick", *, cache=None, seed: int = 0, device: str = "auto",
              progress: bool = False, settings: StudySettings | None = None, config=None, dataset=None) -> Study:
    """The adaptive chapter on one paper system: LED from :func:`ledlib.train.fit_led`
    (cached), an ensemble of ``settings.K`` RNNs on its autoencoder (member 0 is LED's own
    RNN), the fixed schedule over the trade-offs chapter's rho and the adaptive criterion
    over ``settings.thresholds`` from the same initial conditions, error measure, seed
    and micro solver timing; and a calibration run (latent propagation of the ensemble,
    spread against the realised latent error). ``config``/``dataset``: as for ``fit_led``."""
    from . import paper as _paper
    from . import train
    from .ensemble import fit_ensemble, other_seeds
    from .forecast import forecast, rho_sweep, time_micro_solver
    from .metrics import forecast_error

    systems = _paper.tradeoff_settings()
    if not isinstance(system, str) or system not in systems:
        raise ValueError(f"system must be one of {tuple(systems)}, got {system!r}")
    if system not in STUDY and settings is None:
        raise ValueError(f"system must be one of {tuple(STUDY)} (or pass settings=), got {system!r}")
    if not isinstance(profile, str) or profile not in _paper.PROFILES:
        raise ValueError(f"profile must be one of {tuple(_paper.PROFILES)}, got {profile!r}")
    if settings is not None and not isinstance(settings, StudySettings):
        raise TypeError(f"settings must be None (the chapter's) or a StudySettings, got {type(settings).__name__}")
    progress = flag("progress", progress)
    st = STUDY[system] if settings is None else settings
    kind, T_warm, T_mu, T_ms, horizons = systems[system]
    is_paper = profile == "paper"
    horizon = horizons[is_paper]
    fit = train.fit_led(system, profile, config=config, dataset=dataset, cache=cache, seed=seed, device=device,
                        progress=progress)
    own = fit.pick["rnn_seed"] if fit.pick else seed  # the seed of LED's own RNN (member 0)
    ens, records = fit_ensemble(fit.led, fit.dataset, st.K, cache=cache, device=device, progress=progress,
                                include_led=True, seeds=other_seeds(seed, own, st.K - 1))
    sys_, test = fit.dataset.system(), fit.dataset.test
    n_ic = test.n_traj if is_paper else 1
    dt = sys_.coarse_dt
    n_warm, n_steps = round(T_warm / dt), round(horizon / dt)
    if test.states.shape[1] < n_warm + n_steps + 1:
        raise ValueError(f"the test trajectories ({test.states.shape[1]} samples) are shorter than the warm-up "
                         f"and horizon ({n_warm + n_steps + 1})")
    truth = test.states[:n_ic, n_warm + 1:n_warm + 1 + n_steps]
    x0, t0 = test.states[:n_ic, 0], float(test.t[0, 0])

    def error(res):
        return forecast_error(res.states, truth, kind=kind)

    micro = time_micro_solver(sys_, x0, horizon, t0=t0 + T_warm, record_at="all", seed=seed)
    fixed = rho_sweep(fit.led, sys_, x0, horizon, T_warm=T_warm, T_mu=T_mu, T_m_values=T_ms, error=error, t0=t0,
                      seed=seed, micro_per_step=micro)
    adaptive = threshold_sweep(ens, sys_, x0, horizon, T_warm=T_warm, criteria=st.criteria(), error=error, t0=t0,
                               seed=seed, micro_per_step=micro)
    # calibration: the ensemble in the latent space all the way, its spread read every step
    always = AdaptiveCriterion(spread_threshold=math.inf, comparison_threshold=None, n_compare=0, n_micro=1)
    cal = forecast(ens, sys_, x0, horizon, T_warm=T_warm, t0=t0, seed=seed, record_at="none",
                   keep_latents="all", criterion=always)
    states = test.states[:n_ic, n_warm:n_warm + n_steps + 1]
    z_true = np.asarray(ens.encode(states.reshape(-1, *states.shape[2:])).cpu()).reshape(n_ic, n_steps + 1, -1)
    err = latent_error(cal, z_true, ens.latent_scale.cpu().numpy())
    return Study(system, profile, st, kind, fixed, adaptive, calibration(cal.spread, err), cal.spread, err, micro,
                 records)


def study_table(studies) -> str:
    """The chapter's table of every schedule of ``studies`` (a mapping of :class:`Study`)."""
    head = ["| system | schedule | error | speed-up S | macro utilisation |", "|---|---|---|---|---|"]
    return "\n".join(head + [row for st in studies.values() for row in st.table_rows()])
