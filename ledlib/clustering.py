"""Metastable states of a latent trajectory, found the way the paper finds them, with a
test of whether there are any (advection-diffusion 3-D, Paper Figures 4, 22, 23).

The paper takes the PCA of a long latent run, clusters the latent density by spectral
clustering and decodes each cluster centre into a configuration. The number of clusters
comes from the eigengap of the normalised affinity ``D^-1/2 A D^-1/2`` (k well separated
groups give k eigenvalues near 1, then a drop). The eigengap always names *some* k, even
for a single blob; :func:`metastable_states` therefore also asks whether the largest gap
is larger than the largest gap of a surrogate with no metastability: Gaussian clouds of
the same size, mean and covariance as the PCA points. It reports ``k = None`` ("no gap")
when the observed gap is not above the surrogates' (a one-sided Monte Carlo test).

A deterministic latent run (the RNN propagates without noise) may also end on a fixed
point or a limit cycle; its density is then a closed curve, not states it lingers in, and
its points pile up along the curve so that the locally scaled affinity falls apart (every
leading eigenvalue 1, no gap). :func:`recurrence_period` detects that case, and
:func:`orbit_agreement` asks whether that orbit is the true one: how far the model's
points lie from an encoded true run, how well they cover it, and the lag after which the
true run comes back closest to itself (its period, if it has one, and its noise about it).
The Gaussian surrogates of :func:`eigengap_test` are blobs; the spectrum of points along a
curve falls more slowly, so for a run on a closed orbit :func:`orbit_null_gaps` gives the
gaps of the null that fits it: the same orbit traversed at uniform speed (no place where
the run lingers), with noise.

A clustering of a run that did not mix says little, so :func:`mixing` reports the
integrated autocorrelation time of each PCA coordinate against the run length (effective
samples), and the number of transitions between clusters (runs shorter than
``min_dwell`` samples are not counted as visits: boundary jitter is not a transition).

The spectral machinery is :func:`ledlib.analysis.spectral_labels` /
:func:`ledlib.analysis.cluster_latent` and the spectrum is that of
:func:`ledlib.particle_statistics.eigengap`; this module adds the test and the checks.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from ._checks import real_array
from .analysis import PCA, cluster_latent, latent_pca
from .particle_statistics import eigengap

__all__ = ["MetastableStates", "Mixing", "eigengap_test", "integrated_autocorrelation_time", "count_transitions",
           "mixing", "metastable_states", "recurrence_period", "OrbitAgreement", "orbit_agreement",
           "orbit_null_gaps"]


# Surrogates of the eigengap test: each is one eigenproblem; 10^4 resolve p-values to 1e-4,
# far below any alpha one tests at, while 10^12 would run for ever.
MAX_SURROGATES = 10_000


def _int(name: str, v, lo: int, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral) or v < lo or (hi is not None and v > hi):
        span = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be an integer {span}, got {v!r}")
    return int(v)


def _positive_finite(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, Real) or not (0 < v < np.inf):
        raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    return float(v)


def _labels(labels) -> np.ndarray:
    """A 1-D label sequence of integers or strings (float labels must be finite: NaN != NaN
    would make every NaN sample a transition)."""
    if labels is None or isinstance(labels, (str, bytes)):
        raise TypeError(f"labels must be a 1-D array of integer or string labels, got {labels!r}")
    labels = np.asarray(labels)
    if labels.dtype == object or labels.dtype.kind not in "biufUS":
        raise TypeError(f"labels must be a 1-D array of integer or string labels, got dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError("labels must be finite: they hold NaN or infinite values")
    return labels


def _points(name: str, x, min_points: int = 4) -> np.ndarray:
    x = real_array(name, x, finite=False)
    if x.ndim != 2 or x.shape[0] < min_points or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be a finite (n, d) array with n >= {min_points}, got shape {x.shape}")
    return x


def _gaps(lam: np.ndarray, k_max: int) -> np.ndarray:
    """Gap after the k-th eigenvalue for k = 2..k_max (the rule of particle_statistics.eigengap)."""
    return lam[1:k_max] - lam[2:k_max + 1]


def eigengap_test(x, k_max: int = 10, *, n_surrogates: int = 19, alpha: float = 0.05, n_neighbors: int = 7,
                  max_points: int = 2000, seed: int = 0) -> dict:
    """Is there an eigengap in the points ``x`` (n, d)?

    The largest gap ``g`` (after eigenvalue k in 2..k_max) of the locally scaled
    normalised affinity is compared with the largest gaps of ``n_surrogates`` seeded
    Gaussian clouds with the sample's mean and covariance and ``min(n, max_points)``
    points (one density mode, no metastability). ``p = (1 + #{g_s >= g}) / (1 +
    n_surrogates)``; a gap is declared when ``p <= alpha``. Returns a dict with ``k``
    (None without a gap), ``k_eigengap`` (the heuristic's pick regardless), ``gap``,
    ``surrogate_gaps``, ``p_value``, ``eigenvalues``.
    """
    x = _points("x", x)
    k_max = _int("k_max", k_max, 2)
    n_surrogates = _int("n_surrogates", n_surrogates, 1, MAX_SURROGATES)
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a float in (0, 1), got {alpha!r}")
    if 1.0 / (1 + n_surrogates) > alpha:
        raise ValueError(f"n_surrogates must be >= 1/alpha - 1 = {1 / alpha - 1:g} for a test at alpha={alpha}, "
                         f"got {n_surrogates}")
    k_obs, lam = eigengap(x, k_max, n_neighbors=n_neighbors, max_points=max_points, seed=seed)
    g = float(_gaps(lam, k_max).max())
    m = min(x.shape[0], max_points)
    mean, cov = x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))
    rng = np.random.default_rng([seed, 1])  # a stream apart from the subsample's
    gs = []
    for _ in range(n_surrogates):
        y = rng.multivariate_normal(mean, cov, size=m, method="eigh")
        _, lam_s = eigengap(y, k_max, n_neighbors=n_neighbors, max_points=max_points, seed=seed)
        gs.append(float(_gaps(lam_s, k_max).max()))
    gs = np.array(gs)
    p = float((1 + np.sum(gs >= g)) / (1 + n_surrogates))
    return dict(k=k_obs if p <= alpha else None, k_eigengap=k_obs, gap=g, surrogate_gaps=gs, p_value=p,
                eigenvalues=lam)


def integrated_autocorrelation_time(y, c: float = 5.0) -> float:
    """Integrated autocorrelation time ``tau = 1 + 2 sum_t rho(t)`` of a series ``y`` (n,),
    in samples, with Sokal's automatic window (the smallest W with W >= c tau(W)).
    A white series gives ~1; an AR(1) with coefficient phi gives (1 + phi) / (1 - phi)."""
    y = real_array("y", y, finite=False)
    if y.ndim != 1 or y.size < 4 or not np.all(np.isfinite(y)):
        raise ValueError(f"y must be a finite 1-D series of >= 4 values, got shape {y.shape}")
    c = _positive_finite("c", c)
    n = y.size
    y = y - y.mean()
    f = np.fft.rfft(y, n=2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n]
    if acf[0] <= 0:
        return 1.0  # a constant series: no correlation to measure
    rho = acf / acf[0]
    taus = 2.0 * np.cumsum(rho) - 1.0
    w = np.arange(n)
    ok = w >= c * taus
    return float(taus[np.argmax(ok)] if ok.any() else taus[-1])


def recurrence_period(z, *, rtol: float = 1e-3, tail: float = 0.5, max_period: int | None = None) -> int | None:
    """The period, in samples, of a run ``z`` (n, d) that has settled on a closed orbit
    (1 for a fixed point), or None if it has not.

    Over the last ``tail`` fraction of the run, the smallest ``p <= max_period`` (default: a
    quarter of that part, so that the orbit repeats at least four times) with
    ``max_t |z(t + p) - z(t)| <= rtol * R`` is returned, ``R`` being the largest range of one
    coordinate over the whole run. A noisy or chaotic run never returns to within ``rtol``.
    """
    x = _points("z", z)
    rtol = _positive_finite("rtol", rtol)
    if isinstance(tail, bool) or not isinstance(tail, Real) or not 0 < tail <= 1:
        raise ValueError(f"tail must be a number in (0, 1], got {tail!r}")
    end = x[x.shape[0] - max(int(tail * x.shape[0]), 4):]
    limit = end.shape[0] // 4 if max_period is None else _int("max_period", max_period, 1, end.shape[0] - 1)
    scale = float((x.max(axis=0) - x.min(axis=0)).max())  # 0 for a constant run: p = 1 then passes
    for p in range(1, limit + 1):
        if np.abs(end[p:] - end[:-p]).max() <= rtol * scale:
            return p
    return None


@dataclass(frozen=True)
class OrbitAgreement:
    """The result of :func:`orbit_agreement`. Distances are relative to ``scale``, the
    diagonal of the true run's bounding box. ``period``: the model run's
    :func:`recurrence_period` (None: not closed; its last half is then compared).
    ``model_to_truth`` / ``model_to_truth_max``: median / largest distance from a model
    point to the nearest true point; ``truth_to_model`` / ``truth_to_model_q95``: median /
    95 % quantile from a true point to the nearest model point (small both ways: the
    model's orbit is the true one). Return distances of the true run are medians over the
    run of ``|z(t + lag) - z(t)|``: ``true_step`` at lag 1, ``true_typical`` the median over
    the searched lags (how far apart two samples of the run usually are);
    ``true_period``: the lag of the closest return in the first stretch of lags where the
    run, having moved away (a return distance above ``true_typical``), is back within
    ``return_fraction x true_typical`` (None if it never is), ``true_return`` its return
    distance; ``true_best_lag`` / ``true_best_return``: the closest return over all the
    searched lags (a multiple of the period when the period is not a whole number of
    samples). ``points``: the model's orbit that was compared (its last period, else its
    last half), in order."""

    period: int | None
    model_to_truth: float
    model_to_truth_max: float
    truth_to_model: float
    truth_to_model_q95: float
    true_step: float
    true_typical: float
    true_period: int | None
    true_return: float | None
    true_best_lag: int
    true_best_return: float
    scale: float
    points: np.ndarray = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def return_noise(self) -> float:
        """The Gaussian noise per coordinate (in the runs' units) that puts two samples of
        one point ``true_return`` apart (``true_step`` if the true run never returns): their
        difference has mean square ``2 d sigma^2``, whose root the median distance is close
        to in many dimensions. What :func:`orbit_null_gaps` adds to its runs."""
        d = self.points.shape[1]
        return (self.true_return or self.true_step) * self.scale / math.sqrt(2 * d)

    def summary(self, dt: float | None = None) -> str:
        unit = lambda p: f"{p} samples" + (f" ({p * dt:.4g} time units)" if dt else "")  # noqa: E731
        closed = "not closed" if self.period is None else f"closed, period {unit(self.period)}"
        return (f"model run {closed}; model -> truth {self.model_to_truth:.3g} (largest {self.model_to_truth_max:.3g}), "
                f"truth -> model {self.truth_to_model:.3g} (95 %: {self.truth_to_model_q95:.3g}) of the true range; "
                + ("the true run does not come back to itself" if self.true_period is None else
                   f"the true run comes back after {unit(self.true_period)}, to {self.true_return:.3g}")
                + f" (one step moves {self.true_step:.3g}, two samples lie {self.true_typical:.3g} apart; "
                  f"closest return {self.true_best_return:.3g} after "
                  f"{unit(self.true_best_lag)})")


def orbit_agreement(z_model, z_true, *, max_lag: int | None = None, rtol: float = 1e-3,
                    return_fraction: float = 0.25) -> OrbitAgreement:
    """Does the model's long run ``z_model`` (n, d) trace the orbit of the true run ``z_true``
    (m, d) (e.g. its encoded micro run), both in time order after their transients?

    The model's orbit is its last period if :func:`recurrence_period` (with ``rtol``)
    finds one, else its last half. The true run's return lag is searched over
    ``1..max_lag`` (default a quarter of its length). See :class:`OrbitAgreement`.
    """
    from scipy.spatial import cKDTree

    zm, zt = _points("z_model", z_model), _points("z_true", z_true)
    if zm.shape[1] != zt.shape[1]:
        raise ValueError(f"z_model and z_true must have the same dimension, got {zm.shape[1]} and {zt.shape[1]}")
    m = zt.shape[0]
    max_lag = max(m // 4, 1) if max_lag is None else _int("max_lag", max_lag, 1, m - 1)
    return_fraction = _positive_finite("return_fraction", return_fraction)
    scale = float(np.linalg.norm(zt.max(axis=0) - zt.min(axis=0)))
    if scale == 0:
        raise ValueError("z_true must not be constant: its range sets the scale of the distances")
    period = recurrence_period(zm, rtol=rtol)
    orbit = zm[-period:] if period is not None else zm[zm.shape[0] // 2:]
    d_mt = cKDTree(zt).query(orbit)[0] / scale
    d_tm = cKDTree(orbit).query(zt)[0] / scale
    ret = np.array([np.median(np.linalg.norm(zt[p:] - zt[:-p], axis=1)) for p in range(1, max_lag + 1)]) / scale
    best = int(np.argmin(ret)) + 1
    typical = float(np.median(ret))
    away = np.flatnonzero(ret > typical)  # not empty unless every lag returns alike (then no period)
    true_period = None
    if away.size:
        near = np.flatnonzero(ret[away[0]:] <= return_fraction * typical) + away[0]
        if near.size:
            stretch = near[: np.argmax(np.diff(near, append=near[-1] + 2) > 1) + 1]  # the first run of lags
            true_period = int(stretch[np.argmin(ret[stretch])]) + 1
    return OrbitAgreement(period, float(np.median(d_mt)), float(d_mt.max()), float(np.median(d_tm)),
                          float(np.quantile(d_tm, 0.95)), float(ret[0]), typical, true_period,
                          None if true_period is None else float(ret[true_period - 1]), best, float(ret[best - 1]),
                          scale, orbit)


def orbit_null_gaps(orbit, n: int, *, sigma: float, k_max: int = 10, n_surrogates: int = 19, n_components: int = 3,
                    n_neighbors: int = 7, max_points: int = 2000, seed: int = 0) -> dict:
    """Largest eigengaps of runs with no metastability on the closed orbit ``orbit`` (p, d)
    (its points in order; the last joins the first): ``n`` points drawn at uniform
    arc length along the closed polyline plus Gaussian noise of standard deviation
    ``sigma`` per coordinate, each taken through the PCA (``n_components``) and the
    spectrum of :func:`metastable_states`. Returns ``gaps`` (one per surrogate) and
    ``k`` (the eigengap heuristic's pick on each): compare a run's gap with them."""
    x = _points("orbit", orbit, min_points=3)
    n = _int("n", n, 4)
    if isinstance(sigma, bool) or not isinstance(sigma, Real) or not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    sigma = float(sigma)
    k_max = _int("k_max", k_max, 2)
    n_surrogates = _int("n_surrogates", n_surrogates, 1, MAX_SURROGATES)
    closed = np.vstack([x, x[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if cum[-1] == 0:
        raise ValueError("orbit must not be a single point")
    rng = np.random.default_rng([seed, 2])
    gaps, ks = [], []
    for _ in range(n_surrogates):
        u = rng.random(n) * cum[-1]
        i = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, seg.size - 1)
        f = np.divide(u - cum[i], seg[i], out=np.zeros(n), where=seg[i] > 0)[:, None]
        y = closed[i] + f * (closed[i + 1] - closed[i]) + sigma * rng.normal(size=(n, x.shape[1]))
        y_pca, _ = latent_pca(y, n_components=min(n_components, x.shape[1]))
        k, lam = eigengap(y_pca, k_max, n_neighbors=n_neighbors, max_points=max_points, seed=seed)
        gaps.append(float(_gaps(lam, k_max).max()))
        ks.append(int(k))
    return dict(gaps=np.array(gaps), k=np.array(ks))


def count_transitions(labels, min_dwell: int = 1) -> int:
    """Transitions between states in the label sequence ``labels`` (n,): changes of the
    state last visited for at least ``min_dwell`` consecutive samples (shorter runs are
    boundary jitter and do not count as visits)."""
    labels = _labels(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    min_dwell = _int("min_dwell", min_dwell, 1)
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [labels.size]]))
    visits = labels[starts][lengths >= min_dwell]
    return int(np.sum(visits[1:] != visits[:-1])) if visits.size else 0


@dataclass(frozen=True)
class Mixing:
    """How well a run samples its own density: ``tau`` (per PCA coordinate, samples),
    ``n_effective = n / (2 max tau)``, ``transitions`` between clusters (None without
    clusters), ``visited`` (clusters with at least one counted visit) and ``mixed``
    (n_effective >= min_effective and, with k clusters, every cluster visited and
    >= min_transitions transitions)."""

    n: int
    tau: tuple[float, ...]
    n_effective: float
    transitions: int | None
    visited: int | None
    mixed: bool


def mixing(z_pca, labels=None, *, min_dwell: int = 5, min_effective: float = 50.0,
           min_transitions: int = 10) -> Mixing:
    """Is the run ``z_pca`` (n, p), in time order, long and mixed enough? See :class:`Mixing`."""
    x = _points("z_pca", z_pca)
    n = x.shape[0]
    min_effective = _positive_finite("min_effective", min_effective)
    min_transitions = _int("min_transitions", min_transitions, 0)
    min_dwell = _int("min_dwell", min_dwell, 1)  # checked even when no labels use it
    tau = tuple(integrated_autocorrelation_time(x[:, j]) for j in range(x.shape[1]))
    n_eff = n / (2.0 * max(tau))
    mixed = n_eff >= min_effective
    transitions = visited = None
    if labels is not None:
        labels = _labels(labels)
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},) like z_pca's rows, got {labels.shape}")
        transitions = count_transitions(labels, min_dwell)
        change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
        starts = np.concatenate([[0], change])
        lengths = np.diff(np.concatenate([starts, [n]]))
        visited = int(np.unique(labels[starts][lengths >= min_dwell]).size)
        mixed = mixed and visited == np.unique(labels).size and transitions >= min_transitions
    return Mixing(n, tau, float(n_eff), transitions, visited, bool(mixed))


@dataclass(frozen=True)
class MetastableStates:
    """The result of :func:`metastable_states`. ``k`` is None when there is no gap
    (``labels``/``centres`` then hold one cluster: the whole run). ``z_latent_centres``
    are the centres mapped back to the latent space, for the decoder (Figure 23)."""

    k: int | None
    k_eigengap: int
    gap: float
    surrogate_gaps: np.ndarray
    p_value: float
    eigenvalues: np.ndarray
    z_pca: np.ndarray
    pca: PCA
    labels: np.ndarray
    centres: np.ndarray
    z_latent_centres: np.ndarray
    mixing: Mixing

    def summary(self) -> str:
        count = "no gap" if self.k is None else f"{self.k} metastable states"
        q = np.quantile(self.surrogate_gaps, 0.95)
        m = self.mixing
        return (f"{count}: largest eigengap {self.gap:.3g} after eigenvalue {self.k_eigengap}, against "
                f"{q:.3g} (95 % of {self.surrogate_gaps.size} Gaussian surrogates), p = {self.p_value:.3g}; "
                f"run of {m.n} samples, autocorrelation time {max(m.tau):.3g} -> {m.n_effective:.0f} effective"
                + (f", {m.transitions} transitions" if m.transitions is not None else "")
                + ("" if m.mixed else " (NOT mixed enough to trust the count)"))


def metastable_states(z, *, n_components: int = 3, k_max: int = 10, n_surrogates: int = 19, alpha: float = 0.05,
                      n_neighbors: int = 7, max_points: int = 2000, seed: int = 0, min_dwell: int = 5,
                      min_effective: float = 50.0, min_transitions: int = 10) -> MetastableStates:
    """PCA of the latent run ``z`` (n, d_z) (time order), the eigengap test, spectral
    clustering with the tested k (one cluster without a gap) and the mixing check."""
    z = _points("z", z)
    z_pca, pca = latent_pca(z, n_components=n_components)
    t = eigengap_test(z_pca, k_max, n_surrogates=n_surrogates, alpha=alpha, n_neighbors=n_neighbors,
                      max_points=max_points, seed=seed)
    if t["k"] is None:
        labels = np.zeros(z_pca.shape[0], dtype=np.int64)
        centres = z_pca.mean(axis=0, keepdims=True)
    else:
        labels, centres = cluster_latent(z_pca, t["k"], seed, max_points=max_points, n_neighbors=n_neighbors)
    mix = mixing(z_pca, labels if t["k"] is not None else None, min_dwell=min_dwell, min_effective=min_effective,
                 min_transitions=min_transitions)
    return MetastableStates(t["k"], t["k_eigengap"], t["gap"], t["surrogate_gaps"], t["p_value"], t["eigenvalues"],
                            z_pca, pca, labels, centres, pca.inverse_transform(centres), mix)
