"""Comparison measures of the LED paper (Vlachas et al. 2020, Section 7) and their helpers.

- NAD / MNAD, eqs. (22)-(23): pointwise absolute error normalised by the range of the
  true field, averaged over space (NAD(t_j)) and then over time (MNAD).
- Wasserstein distance (WD), eq. (24): the L1 distance between the two quantile
  functions; for random vectors the mean WD of the marginals (Section 7.2).
- L1-norm histogram distance (L1-NHD), Section 7.3: L1 distance between the two
  normalised histograms on a common grid, Rice-rule bin count.
- Moments of particle configurations (M1 = mean, M2 = variance, per axis; the paper
  averages them over the three axes, Section 8.2.1) and the WD / L1-NHD between their
  distributions over an ensemble of runs, at every time step (Figures 3, 19, 20, 25, 26).
- The sampling-noise floor (the paper's "self-similar error", Cao & Petzold 2006).
- Kuramoto-Sivashinsky statistics (Figure 41): power spectrum, the u_x-u_xx density.
- Streaming accumulators (histogram, Welford moments) for long ensembles.
- NRMSE and the valid prediction time (the first time the NRMSE reaches 0.5), and
  :func:`first_crossing` (when a curve first exceeds a level).

Every function validates its input and raises ``ValueError`` naming the parameter.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Callable

import numpy as np

from ._checks import positive
from ._checks import MAX_REPEATS, int_in as _int_in, seed as _check_seed
from ._checks import bins as _check_bins

MAX_ORDER = 64  # beyond it round-off times k^order swamps any field (and 10**12 overflows to NaN)

__all__ = [
    "forecast_error",
    "nad",
    "mnad",
    "wasserstein",
    "wasserstein_columns",
    "wasserstein_marginals",
    "rice_bins",
    "l1_hist_distance",
    "l1_hist_distance_columns",
    "moments",
    "moment_distribution_errors",
    "sampling_floor",
    "spectral_derivative",
    "power_spectrum",
    "spectrum_error",
    "joint_density_ux_uxx",
    "lyapunov_times",
    "nrmse",
    "valid_prediction_time",
    "first_crossing",
    "finite_array",
    "RunningHistogram",
    "RunningMoments",
]


# --------------------------------------------------------------------------- validation


def finite_array(name: str, x, *, min_ndim: int = 1, allow_empty: bool = False) -> np.ndarray:
    """(Shared with :mod:`ledlib.analysis`.) ``x`` as a float64 array with at least ``min_ndim`` axes, finite, non-empty."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be convertible to a numeric array ({exc})") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real, got a complex array")
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axes, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _sample_1d(name: str, x) -> np.ndarray:
    """A 1-D sample (any array is flattened: the sample is the set of its entries)."""
    arr = finite_array(name, x, min_ndim=0)
    return arr.reshape(-1)


def _same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


# --------------------------------------------------------------------------- NAD / MNAD


def nad(y, y_hat, *, normalization: str = "global", batched: bool = False) -> np.ndarray:
    """Normalised absolute difference NAD(t_j), eq. (22) of the paper.

    ``NAD(t_j) = 1/N_x sum_i |y(x_i,t_j) - y_hat(x_i,t_j)| / (max_{i,j} y - min_{i,j} y)``.

    Parameters
    ----------
    y, y_hat : arrays ``(T, *space)`` (``(B, T, *space)`` if ``batched``): ground truth and
        prediction of ONE field component (pass FHN's u and v separately).
    normalization : ``"global"`` (default, eq. 22 as printed: the max and min run over
        space AND time, i.e. one range for the whole true trajectory) or ``"per_time"``
        (the range of the true field at each time step separately).
    batched : if True a leading run axis is present; each run is normalised by its own
        range and the result has shape ``(B, T)``.

    Zero range (a constant true field, over the set the range is taken on): the
    denominator becomes ``max|y|`` over the same set, and 1 if that is zero too. So an
    exact prediction always scores 0, the score stays invariant to a common rescaling,
    and a constant-zero truth falls back to the plain mean absolute difference.

    Returns NAD at every time step, shape ``(T,)`` (``(B, T)`` if batched).
    """
    lead = 2 if batched else 1
    y = finite_array("y", y, min_ndim=lead + 1)
    y_hat = finite_array("y_hat", y_hat, min_ndim=lead + 1)
    _same_shape("y", y, "y_hat", y_hat)
    if normalization not in ("global", "per_time"):
        raise ValueError(f"normalization must be 'global' or 'per_time', got {normalization!r}")
    # Collapse space so that the array is (..., T, N_x).
    yy = y.reshape(y.shape[:lead] + (-1,))
    ee = np.abs(yy - y_hat.reshape(yy.shape))
    if normalization == "global":
        axes = tuple(range(lead - 1, yy.ndim))  # time and space of each run
    else:
        axes = (yy.ndim - 1,)  # space only
    rng = yy.max(axis=axes, keepdims=True) - yy.min(axis=axes, keepdims=True)
    scale = np.abs(yy).max(axis=axes, keepdims=True)
    denom = np.where(rng > 0, rng, np.where(scale > 0, scale, 1.0))
    return (ee / denom).mean(axis=-1)


def mnad(y, y_hat, *, normalization: str = "global", batched: bool = False):
    """Mean NAD over the N_T time steps, eq. (23). A float (``(B,)`` if ``batched``)."""
    out = nad(y, y_hat, normalization=normalization, batched=batched).mean(axis=-1)
    return float(out) if not batched else out


# --------------------------------------------------------------------------- Wasserstein


def _column_pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Two finite 2-D samples ``(n, K)``, ``(m, K)`` with the same number of columns."""
    a = finite_array("a", a, min_ndim=2)
    b = finite_array("b", b, min_ndim=2)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"a and b must be 2-D (samples, columns), got {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have the same number of columns, got {a.shape[1]} and {b.shape[1]}")
    return a, b


def wasserstein_columns(a, b) -> np.ndarray:
    """Wasserstein-1 distance, eq. (24), between the columns of ``a`` (n, K) and ``b`` (m, K).

    ``WD = int_0^1 |F_a^{-1}(tau) - F_b^{-1}(tau)| dtau``. For empirical samples both
    quantile functions are step functions with jumps at tau = i/n and tau = j/m; these
    breakpoints do not depend on the data, so the integral over the merged breakpoints
    is a fixed gather from the sorted columns, vectorised over all K columns at once.
    Returns shape ``(K,)``.
    """
    a, b = _column_pair(a, b)
    n, m = a.shape[0], b.shape[0]
    sa = np.sort(a, axis=0)
    sb = np.sort(b, axis=0)
    if n == m:  # equal weights: the quantile functions jump together
        return np.abs(sa - sb).mean(axis=0)
    # Merge breakpoints exactly with integer arithmetic on the common denominator n*m.
    knots = np.union1d(np.arange(1, n + 1) * m, np.arange(1, m + 1) * n)  # tau * n * m
    lo = np.concatenate(([0], knots[:-1]))
    dtau = (knots - lo) / (n * m)
    # On (lo, knot] the quantile index is ceil(tau*n) - 1 = lo // m (and lo // n for b).
    ia = lo // m
    ib = lo // n
    return (dtau[:, None] * np.abs(sa[ia] - sb[ib])).sum(axis=0)


def wasserstein(a, b) -> float:
    """Wasserstein-1 distance, eq. (24), between two 1-D empirical samples.

    Arrays of any shape are flattened (the sample is the set of entries). Agrees with
    ``scipy.stats.wasserstein_distance`` and POT's ``ot.wasserstein_1d`` (tested).
    """
    a = _sample_1d("a", a)
    b = _sample_1d("b", b)
    return float(wasserstein_columns(a[:, None], b[:, None])[0])


def wasserstein_marginals(A, B) -> float:
    """Mean WD of the marginals of two vector samples ``A`` (n, d), ``B`` (m, d) (Section 7.2).

    Used for particle positions in 3-D: the WD of each axis, averaged over the axes.
    """
    A = finite_array("A", A, min_ndim=2)
    B = finite_array("B", B, min_ndim=2)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(f"A and B must be (samples, d) with the same d, got {A.shape} and {B.shape}")
    return float(wasserstein_columns(A, B).mean())


# --------------------------------------------------------------------------- L1 histogram


def rice_bins(n: int) -> int:
    """Rice rule, Section 7.3: ``N_bins = ceil(2 n^(1/3))``."""
    n = positive("n", n, integer=True)
    # Round before ceil so that perfect cubes (n = 8, 27, ...) are not pushed up by one.
    return int(math.ceil(round(2.0 * n ** (1.0 / 3.0), 9)))


def l1_hist_distance_columns(a, b, bins: int | None = None) -> np.ndarray:
    """L1-NHD between the columns of ``a`` (n, K) and ``b`` (m, K), vectorised over K.

    Per column: a uniform grid on the pooled range [min(a,b), max(a,b)], ``bins`` bins
    (default: Rice rule with n = min(n, m), see :func:`l1_hist_distance`), both
    histograms normalised as densities, distance ``sum_k |p_k - q_k| * width``, which
    lies in [0, 2]. A column whose pooled range is zero (both samples one and the same
    point) has distance 0. Returns shape ``(K,)``.
    """
    a, b = _column_pair(a, b)
    n, m = a.shape[0], b.shape[0]
    nb = rice_bins(min(n, m)) if bins is None else _check_bins(bins)
    K = a.shape[1]
    lo = np.minimum(a.min(axis=0), b.min(axis=0))
    hi = np.maximum(a.max(axis=0), b.max(axis=0))
    width = hi - lo
    ok = width > 0
    safe = np.where(ok, width, 1.0)

    def counts(x: np.ndarray) -> np.ndarray:
        # Bin index as numpy.histogram does: half-open bins, the last one closed.
        idx = np.floor((x - lo) / safe * nb).astype(np.int64)
        idx = np.clip(idx, 0, nb - 1)
        flat = idx + nb * np.arange(K)[None, :]
        return np.bincount(flat.ravel(), minlength=nb * K).reshape(K, nb)

    # With densities p = c / (n * h), sum |p - q| h = sum |c_a/n - c_b/m|: h cancels.
    dist = np.abs(counts(a) / n - counts(b) / m).sum(axis=1)
    return np.where(ok, dist, 0.0)


def l1_hist_distance(a, b, bins: int | None = None) -> float:
    """L1-norm histogram distance (L1-NHD), Section 7.3, between two 1-D samples.

    Both samples are binned on one uniform grid spanning the pooled range. The number
    of bins follows the Rice rule ``ceil(2 n^(1/3))`` with n the number of observations
    in a sample, as in the paper; when the two samples differ in size the smaller n is
    used (the coarser grid, so that neither histogram is under-resolved). Histograms are
    normalised as densities; the distance is ``sum |p - q| * width`` in [0, 2]: 0 for
    identical samples, 2 for samples whose values never share a bin.
    """
    a = _sample_1d("a", a)
    b = _sample_1d("b", b)
    return float(l1_hist_distance_columns(a[:, None], b[:, None], bins=bins)[0])


# --------------------------------------------------------------------------- moments


def moments(positions, *, average_dims: bool = False):
    """First two moments of particle configurations ``(..., N, dim)``.

    M1 is the mean position and M2 the variance (central, 1/N) over the N particles, per
    axis: both of shape ``(..., dim)``. With ``average_dims`` they are averaged over the
    axes, shape ``(...)``, as the paper reports them for the 3-D case (Section 8.2.1).
    A 1-D problem may pass ``(..., N)`` only if wrapped as ``(..., N, 1)``.
    """
    x = finite_array("positions", positions, min_ndim=2)
    m1 = x.mean(axis=-2)
    m2 = ((x - m1[..., None, :]) ** 2).mean(axis=-2)
    if average_dims:
        return m1.mean(axis=-1), m2.mean(axis=-1)
    return m1, m2


def moment_distribution_errors(m_true, m_pred, *, bins: int | None = None) -> dict[str, np.ndarray]:
    """WD and L1-NHD between the distributions of a moment over runs, at each time step.

    ``m_true`` (runs_true, T) and ``m_pred`` (runs_pred, T): e.g. M1 of 600 LED runs from
    one initial condition against the ground-truth ensemble (Figures 19 and 25).
    Returns ``{"wd": (T,), "l1": (T,)}``.
    """
    m_true = finite_array("m_true", m_true, min_ndim=2)
    m_pred = finite_array("m_pred", m_pred, min_ndim=2)
    if m_true.ndim != 2 or m_pred.ndim != 2:
        raise ValueError(f"m_true and m_pred must be (runs, T), got {m_true.shape} and {m_pred.shape}")
    if m_true.shape[1] != m_pred.shape[1]:
        raise ValueError(
            f"m_true and m_pred must have the same number of time steps T, got "
            f"{m_true.shape[1]} and {m_pred.shape[1]}"
        )
    return {
        "wd": wasserstein_columns(m_true, m_pred),
        "l1": l1_hist_distance_columns(m_true, m_pred, bins=bins),
    }


def sampling_floor(truth, metric: Callable, *, seed: int, n_splits: int = 1, axis: int = 0):
    """Sampling-noise floor of a statistical error (the paper's "self-similar error").

    Following Cao & Petzold (2006), the error between two independent ensembles of the
    TRUE system bounds from below what any model can be shown to achieve with that many
    runs: errors below it are statistically insignificant. The ground-truth ensemble
    ``truth`` is split along ``axis`` (the run axis) by a seeded random permutation into
    two halves and ``metric(half1, half2)`` is returned, averaged over ``n_splits``
    independent splits. ``metric`` may return a number, an array or a dict of arrays
    (e.g. :func:`moment_distribution_errors`).

    Each half holds only half the runs, so the floor is that of a comparison of two
    ensembles of size n/2 (sampling noise of WD scales like 1/sqrt(n)); to match a
    prediction ensemble of size n, pass a ground truth of 2n runs.
    """
    x = finite_array("truth", truth, min_ndim=1)
    if not callable(metric):
        raise TypeError(f"metric must be callable, got {type(metric).__name__}")
    n_splits = _int_in("n_splits", positive("n_splits", n_splits, integer=True), 1, MAX_REPEATS)
    if isinstance(axis, bool) or not isinstance(axis, Integral) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an integer in [{-x.ndim}, {x.ndim - 1}], got {axis!r}")
    n = x.shape[axis]
    if n < 2:
        raise ValueError(f"truth must hold at least 2 runs along axis {axis}, got {n}")
    rng = np.random.default_rng(_check_seed(seed))
    results = []
    for _ in range(n_splits):
        perm = rng.permutation(n)
        h = n // 2
        results.append(metric(np.take(x, perm[:h], axis=axis), np.take(x, perm[h : 2 * h], axis=axis)))
    if isinstance(results[0], dict):
        return {k: np.mean([np.asarray(r[k]) for r in results], axis=0) for k in results[0]}
    out = np.mean([np.asarray(r, dtype=float) for r in results], axis=0)
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------- KS statistics


def _field_pair(u_true, u_pred, L):
    """Two periodic fields on the same grid (:func:`_periodic_field` each): ``(u_true, u_pred, L)``."""
    u_true, L = _periodic_field("u_true", u_true, L)
    u_pred, _ = _periodic_field("u_pred", u_pred, L)
    if u_true.shape[-1] != u_pred.shape[-1]:
        raise ValueError(
            f"u_true and u_pred must have the same grid size n, got {u_true.shape[-1]} and {u_pred.shape[-1]}"
        )
    return u_true, u_pred, L


def _periodic_field(name: str, u, L) -> tuple[np.ndarray, float]:
    u = finite_array(name, u, min_ndim=1)
    if u.shape[-1] < 2:
        raise ValueError(f"{name} must have at least 2 grid points on its last axis, got {u.shape}")
    return u, positive("L", L)


def spectral_derivative(u, L, order: int = 1) -> np.ndarray:
    """``d^order u / dx^order`` of periodic fields ``(..., n)`` on [0, L), by FFT.

    The n grid points are x_i = i L / n (the periodic point x = L is not repeated). For
    odd orders the Nyquist mode of an even n is dropped (its derivative is not real).
    """
    u, L = _periodic_field("u", u, L)
    order = positive("order", order, integer=True)
    if order > MAX_ORDER:
        raise ValueError(f"order must be an integer in [1, {MAX_ORDER}], got {order}")
    n = u.shape[-1]
    k = 2.0 * np.pi / L * np.fft.rfftfreq(n, d=1.0 / n)
    mult = (1j * k) ** order
    if order % 2 == 1 and n % 2 == 0:
        mult[-1] = 0.0
    return np.fft.irfft(mult * np.fft.rfft(u, axis=-1), n=n, axis=-1)


def power_spectrum(u, L) -> tuple[np.ndarray, np.ndarray]:
    """Time-averaged power spectrum of periodic fields ``(..., n)`` (e.g. KS ``(T, 64)``).

    Returns ``(k, P)`` with wavenumbers ``k_m = 2 pi m / L``, m = 0..n//2, and the energy
    of each Fourier mode ``P_m = c_m |u_hat_m|^2`` (u_hat = rfft(u)/n, c_m = 2 for the
    modes that stand for a +/- pair, 1 for m = 0 and the Nyquist mode), averaged over
    all leading axes. Normalised so that Parseval holds: ``sum_m P_m = mean(u**2)``.
    """
    u, L = _periodic_field("u", u, L)
    n = u.shape[-1]
    uh = np.fft.rfft(u, axis=-1) / n
    c = np.full(uh.shape[-1], 2.0)
    c[0] = 1.0
    if n % 2 == 0:
        c[-1] = 1.0
    P = (c * np.abs(uh) ** 2).reshape(-1, uh.shape[-1]).mean(axis=0)
    k = 2.0 * np.pi / L * np.arange(uh.shape[-1])
    return k, P


def spectrum_error(u_true, u_pred, L, *, kind: str = "log", floor: float = 1e-12) -> float:
    """Distance between the power spectra of two sets of trajectories (Figure 41a).

    ``kind="log"``: mean over wavenumbers of ``|log10(P_pred + f) - log10(P_true + f)|``
    with ``f = floor * max(P_true)`` (spectra span decades; the floor keeps modes with no
    energy, such as the conserved zero mean of KS, from dominating).
    ``kind="relative"``: ``sum |P_pred - P_true| / sum P_true``.
    """
    u_true, u_pred, L = _field_pair(u_true, u_pred, L)
    floor = positive("floor", floor)
    _, Pt = power_spectrum(u_true, L)
    _, Pp = power_spectrum(u_pred, L)
    if kind == "log":
        f = floor * max(Pt.max(), np.finfo(float).tiny)
        return float(np.mean(np.abs(np.log10(Pp + f) - np.log10(Pt + f))))
    if kind == "relative":
        total = Pt.sum()
        if total <= 0:
            raise ValueError("u_true has zero power: relative spectrum error is undefined")
        return float(np.abs(Pp - Pt).sum() / total)
    raise ValueError(f"kind must be 'log' or 'relative', got {kind!r}")


def joint_density_ux_uxx(u, L, bins=50, range=None):
    """Joint density of (u_x, u_xx) over all grid points and times (Figure 41c,d).

    Derivatives are spectral (periodic domain [0, L)). Returns ``(density, ux_edges,
    uxx_edges)`` from a 2-D histogram normalised to integrate to 1. Pass the same
    ``range=[[ux_lo, ux_hi], [uxx_lo, uxx_hi]]`` and ``bins`` for truth and prediction to
    compare them on one grid.
    """
    u, L = _periodic_field("u", u, L)
    bins = _check_bins(bins, edges_allowed=True)
    ux = spectral_derivative(u, L, 1).ravel()
    uxx = spectral_derivative(u, L, 2).ravel()
    if range is not None:
        r = np.asarray(range, dtype=float)
        if r.shape != (2, 2) or not np.all(np.isfinite(r)) or np.any(r[:, 1] <= r[:, 0]):
            raise ValueError(f"range must be [[ux_lo, ux_hi], [uxx_lo, uxx_hi]] with lo < hi, got {range!r}")
        range = r
    H, ex, ey = np.histogram2d(ux, uxx, bins=bins, range=range, density=True)
    return H, ex, ey


def forecast_error(pred, truth, kind: str = "mnad") -> float:
    """One number for a forecast ensemble against the true trajectories.

    ``pred (n_ic, n_runs, T, *obs)`` (as :class:`ledlib.forecast.ForecastResult.states`),
    ``truth (n_ic, T, *obs)``. ``kind="mnad"``: MNAD (eq. 23) of each run, fields of shape
    ``(n,)`` or ``(C, n)`` (each component scored separately, then averaged);
    ``kind="wd"``: particle configurations ``(N, d)``, the WD between predicted and true
    positions (mean over the axes, eq. 24) averaged over time. Both are averaged over
    initial conditions and runs.
    """
    pred = finite_array("pred", pred, min_ndim=4)
    truth = finite_array("truth", truth, min_ndim=3)
    if pred.shape[0] != truth.shape[0] or pred.shape[2:] != truth.shape[1:]:
        raise ValueError(f"pred (n_ic, n_runs, T, *obs) and truth (n_ic, T, *obs) disagree: "
                         f"{pred.shape} vs {truth.shape}")
    scores = []
    for i in range(pred.shape[0]):
        for r in range(pred.shape[1]):
            p, y = pred[i, r], truth[i]
            if kind == "mnad":
                if p.ndim == 2:
                    scores.append(mnad(y, p))
                else:  # (T, C, n): each component on its own range
                    scores.append(np.mean([mnad(y[:, c], p[:, c]) for c in range(p.shape[1])]))
            elif kind == "wd":
                if p.ndim != 3:
                    raise ValueError(f"kind='wd' needs particle configurations (T, N, d), got {p.shape[1:]}")
                scores.append(np.mean([wasserstein_marginals(y[t], p[t]) for t in range(p.shape[0])]))
            else:
                raise ValueError(f"kind must be 'mnad' or 'wd', got {kind!r}")
    return float(np.mean(scores))


def lyapunov_times(t, lyapunov_exponent):
    """Time in units of the Lyapunov time 1/Lambda_1: ``t * Lambda_1`` (KS: Lambda_1 = 0.048)."""
    lam = positive("lyapunov_exponent", lyapunov_exponent)
    t = finite_array("t", t, min_ndim=0)
    out = t * lam
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- accumulators


class RunningHistogram:
    """Histogram on a fixed uniform grid, accumulated batch by batch.

    ``RunningHistogram(lo, hi, bins)``; ``update(samples)`` adds all entries of an array.
    Bins are numpy's: half-open, the last closed. Values outside [lo, hi] are not binned
    but counted in ``n_below`` / ``n_above``; ``density`` is normalised over the binned
    values (as ``numpy.histogram(..., density=True)``), so after any sequence of updates
    it equals the batch histogram of the concatenated data.
    """

    def __init__(self, lo: float, hi: float, bins: int):
        for name, v in (("lo", lo), ("hi", hi)):
            if isinstance(v, (bool, str, bytes)) or not isinstance(v, (Integral, float, np.floating)):
                raise TypeError(f"{name} must be a finite real number, got {v!r}")
        lo = float(lo)
        hi = float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            raise ValueError(f"lo and hi must be finite with lo < hi, got lo={lo}, hi={hi}")
        self.bins = _check_bins(bins)
        self.lo, self.hi = lo, hi
        self.edges = np.linspace(lo, hi, self.bins + 1)
        self.counts = np.zeros(self.bins, dtype=np.int64)
        self.n_below = 0
        self.n_above = 0

    def update(self, samples) -> "RunningHistogram":
        x = finite_array("samples", samples, min_ndim=0, allow_empty=True).ravel()
        below = x < self.lo
        above = x > self.hi
        self.n_below += int(below.sum())
        self.n_above += int(above.sum())
        x = x[~(below | above)]
        idx = np.floor((x - self.lo) / (self.hi - self.lo) * self.bins).astype(np.int64)
        idx = np.minimum(idx, self.bins - 1)  # x == hi goes to the closed last bin
        self.counts += np.bincount(idx, minlength=self.bins)
        return self

    @property
    def n(self) -> int:
        """Number of binned values."""
        return int(self.counts.sum())

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def density(self) -> np.ndarray:
        if self.n == 0:
            raise ValueError("density is undefined before any value fell inside [lo, hi]")
        return self.counts / (self.n * np.diff(self.edges))

    def l1_distance(self, other: "RunningHistogram") -> float:
        """L1-NHD ``sum |p - q| * width`` against a histogram on the same grid."""
        if not isinstance(other, RunningHistogram) or not np.array_equal(self.edges, other.edges):
            raise ValueError("other must be a RunningHistogram on the same grid (lo, hi, bins)")
        return float(np.sum(np.abs(self.density - other.density) * np.diff(self.edges)))


class RunningMoments:
    """Element-wise mean and variance over a stream of batches (Welford / Chan et al.).

    ``update(batch)`` takes ``(n, *shape)`` with the samples on axis 0; the first call fixes
    ``shape``. Batches are merged with the pairwise update of Chan, Golub & LeVeque
    (1979), which stays accurate when the mean is large against the spread. ``var`` is
    the population variance (1/count), ``sample_var`` the unbiased one.
    """

    def __init__(self):
        self.count = 0
        self._mean = None
        self._m2 = None

    def update(self, batch) -> "RunningMoments":
        x = finite_array("batch", batch, min_ndim=1, allow_empty=True)
        if self._mean is not None and x.shape[1:] != self._mean.shape:
            raise ValueError(f"batch must have shape (n, {self._mean.shape}), got {x.shape}")
        nb = x.shape[0]
        if nb == 0:
            return self
        mb = x.mean(axis=0)
        m2b = ((x - mb) ** 2).sum(axis=0)
        if self._mean is None:
            self.count, self._mean, self._m2 = nb, mb, m2b
            return self
        n = self.count + nb
        delta = mb - self._mean
        self._mean = self._mean + delta * (nb / n)
        self._m2 = self._m2 + m2b + delta**2 * (self.count * nb / n)
        self.count = n
        return self

    def _check(self) -> None:
        if self.count == 0:
            raise ValueError("no samples yet: call update(batch) first")

    @property
    def mean(self) -> np.ndarray:
        self._check()
        return self._mean

    @property
    def var(self) -> np.ndarray:
        self._check()
        return self._m2 / self.count

    @property
    def sample_var(self) -> np.ndarray:
        self._check()
        if self.count < 2:
            raise ValueError("sample_var needs at least 2 samples")
        return self._m2 / (self.count - 1)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.var)


# --------------------------------------------------------------------------- NRMSE, VPT


def nrmse(y, y_hat, scale=None) -> np.ndarray:
    """Normalised root-mean-square error at every time, ``(T,)``, for ``y, y_hat (T, *space)``:

    ``NRMSE(t) = sqrt( mean_i ((y_hat_i(t) - y_i(t)) / sigma_i)^2 )``,

    the mean over the space axes ``i``. ``scale`` is ``sigma``: a positive number or an
    array broadcastable to ``space`` (e.g. the per-point standard deviation of the
    training data); ``None`` uses the standard deviation of ``y`` over time, at each
    point (it must be non-zero everywhere). The valid prediction time is where this
    first exceeds a threshold (:func:`valid_prediction_time`)."""
    y = finite_array("y", y, min_ndim=2)
    y_hat = finite_array("y_hat", y_hat, min_ndim=2)
    _same_shape("y", y, "y_hat", y_hat)
    if scale is None:
        if y.shape[0] < 2:
            raise ValueError("scale=None needs at least two times in y to take a standard deviation; pass scale")
        sigma = y.std(axis=0)
        if np.any(sigma == 0):
            raise ValueError("y is constant in time at some point, so its standard deviation is 0 there; "
                             "pass scale (a positive number or array)")
    else:
        sigma = finite_array("scale", scale, min_ndim=0)
        if np.any(sigma <= 0):
            raise ValueError(f"scale must be positive everywhere, got a minimum of {sigma.min()}")
        try:
            np.broadcast_shapes(sigma.shape, y.shape[1:])
        except ValueError:
            raise ValueError(f"scale of shape {sigma.shape} does not broadcast to the space axes "
                             f"{y.shape[1:]}") from None
    err = ((y_hat - y) / sigma) ** 2
    return np.sqrt(err.reshape(err.shape[0], -1).mean(axis=1))


def _curve_and_times(t, curve, threshold, name: str) -> tuple[np.ndarray, np.ndarray, float]:
    t = finite_array("t", t, min_ndim=1)
    curve = finite_array(name, curve, min_ndim=1)
    if t.ndim != 1 or curve.shape != t.shape:
        raise ValueError(f"t and {name} must be 1-D of the same length, got {t.shape} and {curve.shape}")
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("t must be strictly increasing")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating, np.integer)) \
            or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite real number, got {threshold!r}")
    return t, curve, float(threshold)


def valid_prediction_time(t, err, threshold: float = 0.5) -> float:
    """The valid prediction time (VPT): the last time ``t_k`` up to which the error stays
    below ``threshold`` (``err[j] < threshold`` for every ``j <= k``); ``0.0`` if ``err[0]``
    is already at or above it, ``t[-1]`` if it never reaches it.

    ``t`` ``(T,)`` are the times since the forecast started (strictly increasing; e.g. in
    Lyapunov times via :func:`lyapunov_times`), ``err`` ``(T,)`` an error curve such as
    :func:`nrmse`. The paper's threshold for the NRMSE is 0.5."""
    t, err, threshold = _curve_and_times(t, err, threshold, "err")
    if threshold <= 0:  # an error is >= 0: every forecast would be invalid from the start
        raise ValueError(f"threshold must be > 0 (an error level), got {threshold}")
    bad = np.flatnonzero(err >= threshold)
    if bad.size == 0:
        return float(t[-1])
    return 0.0 if bad[0] == 0 else float(t[bad[0] - 1])


def first_crossing(t, curve, threshold: float) -> float:
    """The first time at which ``curve`` exceeds ``threshold`` (strictly), ``t[-1]`` if it
    never does; e.g. when an error curve leaves the sampling-noise floor."""
    t, curve, threshold = _curve_and_times(t, curve, threshold, "curve")
    above = np.flatnonzero(curve > threshold)
    return float(t[above[0]]) if above.size else float(t[-1])


# ---------------------------------------------------------------------------------
# Per-time errors of one particle forecast against one true run (the AD chapters)
# ---------------------------------------------------------------------------------
def particle_errors(pred, true, *, l1_hist: bool = False) -> dict[str, np.ndarray]:
    """Per-time errors of predicted particle positions ``pred (T, N, d)`` against true
    ones ``true (T, N, d)`` (the same ``T`` and ``d``; ``N`` may differ), each averaged
    over the ``d`` axes as in the paper: ``wd`` the Wasserstein distance of the marginals,
    ``m1_err``/``m2_err`` the absolute errors of their mean and variance, and, with
    ``l1_hist``, ``l1`` the L1 histogram distance (Rice bins)."""
    p = finite_array("pred", pred, min_ndim=3)
    q = finite_array("true", true, min_ndim=3)
    if p.ndim != 3 or q.ndim != 3 or p.shape[0] != q.shape[0] or p.shape[2] != q.shape[2]:
        raise ValueError(f"pred and true must be (T, N, d) with the same T and d, got {p.shape} and {q.shape}")
    if not isinstance(l1_hist, bool):
        raise TypeError(f"l1_hist must be True or False, got {l1_hist!r}")
    p, q = np.moveaxis(p, 0, -1), np.moveaxis(q, 0, -1)  # (N, d, T): one column per time
    d = p.shape[1]
    out = dict(wd=np.mean([wasserstein_columns(p[:, k], q[:, k]) for k in range(d)], axis=0))
    if l1_hist:
        out["l1"] = np.mean([l1_hist_distance_columns(p[:, k], q[:, k]) for k in range(d)], axis=0)
    out["m1_err"] = np.abs(p.mean(0) - q.mean(0)).mean(0)
    out["m2_err"] = np.abs(p.var(0) - q.var(0)).mean(0)
    return out


# ---------------------------------------------------------------------------------
# The spectrum over the resolved wavenumbers (Figure 41) and the uncertainty of a
# first crossing over initial conditions (Figure 42)
# ---------------------------------------------------------------------------------
def _mode_spectrum(name: str, P) -> np.ndarray:
    P = finite_array(name, P, min_ndim=1)
    if P.ndim != 1 or P.size < 2:
        raise ValueError(f"{name} must be a 1-D spectrum over the modes m = 0..n//2 (at least 2), got {P.shape}")
    if np.any(P < 0):
        raise ValueError(f"{name} must be a power spectrum (>= 0 everywhere), got a minimum of {P.min():.3g}")
    return P


def resolved_modes(P_true, P_floor) -> int:
    """The last resolved Fourier mode ``m_c`` of a spectrum against a floor: the largest
    ``m`` with ``P_true[j] > P_floor[j]`` for every ``1 <= j <= m``; 0 when mode 1 already
    lies at or below the floor. Mode 0, the mean, is left out (KS conserves it; its true
    power is round-off). ``P_true`` and ``P_floor`` are ``(n//2 + 1,)`` spectra as from
    :func:`power_spectrum`, e.g. the floor of a decoder's reconstruction error
    (:func:`ledlib.analysis.spectrum_floor`). The modes up to ``m_c`` are the ones whose
    power a model with that floor can represent at all."""
    P_true = _mode_spectrum("P_true", P_true)
    P_floor = _mode_spectrum("P_floor", P_floor)
    if P_true.shape != P_floor.shape:
        raise ValueError(f"P_true and P_floor must cover the same modes, got {P_true.shape} and {P_floor.shape}")
    above = P_true[1:] > P_floor[1:]
    return int(above.size if above.all() else np.argmin(above))


def spectrum_error_resolved(u_true, u_pred, L, k_max, *, kind: str = "relative") -> float:
    """:func:`spectrum_error` over the wavenumbers ``0 < k <= k_max`` only (the modes that
    carry the dynamics; e.g. ``k_max`` the last mode above a decoder's error floor,
    :func:`resolved_modes`). ``kind="relative"``: ``sum |P_pred - P_true| / sum P_true``
    over those modes; ``kind="log"``: the mean of ``|log10(P_pred / P_true)|`` over them
    (no floor is added: every one of them must carry power in both spectra).
    A ``k_max`` within 1e-9 relative of a mode's wavenumber includes that mode."""
    u_true, u_pred, L = _field_pair(u_true, u_pred, L)
    k_max = positive("k_max", k_max)
    if kind not in ("relative", "log"):
        raise ValueError(f"kind must be 'relative' or 'log', got {kind!r}")
    k, Pt = power_spectrum(u_true, L)
    _, Pp = power_spectrum(u_pred, L)
    sel = (k > 0) & (k <= k_max * (1 + 1e-9))
    if not sel.any():
        raise ValueError(f"k_max must be at least the first wavenumber 2 pi / L = {k[1]:.4g}, got {k_max}")
    Pt, Pp = Pt[sel], Pp[sel]
    if kind == "relative":
        total = Pt.sum()
        if total <= 0:
            raise ValueError("u_true has zero power at 0 < k <= k_max: the relative error is undefined")
        return float(np.abs(Pp - Pt).sum() / total)
    if np.any(Pt <= 0) or np.any(Pp <= 0):
        raise ValueError("kind='log' needs power in every mode with 0 < k <= k_max in both spectra; "
                         "lower k_max or use kind='relative'")
    return float(np.mean(np.abs(np.log10(Pp / Pt))))


def first_crossing_interval(t, curves, threshold: float, *, seed, n_boot: int = 2000,
                            level: float = 0.9) -> tuple[float, float, float]:
    """:func:`first_crossing` of the mean of ``curves (n, T)`` (e.g. the NAD of each of
    ``n`` initial conditions) and a bootstrap percentile interval for it: the curves are
    resampled with replacement ``n_boot`` times (seeded) and the crossing of each
    resample's mean taken; returns ``(estimate, lo, hi)`` with ``lo``/``hi`` the
    ``(1 -+ level) / 2`` quantiles. It says how much of a difference from a claimed time
    the choice of initial conditions alone can make."""
    t = finite_array("t", t, min_ndim=1)
    curves = finite_array("curves", curves, min_ndim=2)
    if curves.ndim != 2 or t.ndim != 1 or curves.shape[1] != t.size:
        raise ValueError(f"curves must be (n, T) with T = len(t) = {t.size}, got {curves.shape}")
    n_boot = _int_in("n_boot", n_boot, 1, MAX_REPEATS)
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    estimate = first_crossing(t, curves.mean(axis=0), threshold)
    rng = np.random.default_rng(_check_seed(seed))
    n = curves.shape[0]
    boot = np.empty(n_boot)
    for b in range(n_boot):
        boot[b] = first_crossing(t, curves[rng.integers(n, size=n)].mean(axis=0), threshold)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return estimate, float(lo), float(hi)


__all__ += ["resolved_modes", "spectrum_error_resolved", "first_crossing_interval"]
