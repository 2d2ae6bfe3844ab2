"""Diffusion maps and local-linear-regression tools for feature selection.

- :func:`diffusion_maps`: Coifman & Lafon (2006). Gaussian kernel
  ``K_ij = exp(-|x_i - x_j|^2 / epsilon)`` (``epsilon`` by default the median of the
  squared pairwise distances), density normalisation ``K~ = D^-alpha K D^-alpha``
  (``alpha = 1`` recovers the Laplace–Beltrami operator whatever the sampling density),
  row normalisation to a Markov matrix ``P``; its leading non-trivial right
  eigenvectors ``phi_1, phi_2, ...`` are the diffusion-map coordinates. The eigenpairs
  come from the symmetric conjugate ``S = d^-1/2 K~ d^-1/2``, which has the same
  eigenvalues, so a dense symmetric eigensolver is used.
- :func:`local_linear_regression`: leave-one-out, kernel-weighted local linear fit of
  ``Y`` from ``X`` (Dsilva, Talmon, Coifman & Kevrekidis 2018, "Parsimonious
  representation of nonlinear dynamical systems through manifold learning").
  :func:`llr_residual` turns it into the normalised residual
  ``r = |y - y_hat| / |y - mean(y)|``: ``r ~ 0`` when ``y`` is a (smooth) function of
  ``X`` on the data, ``r ~ 1`` when ``X`` carries no information about ``y``.
- :func:`parsimonious_coordinates`: Dsilva et al.'s test for repeated eigendirections:
  ``phi_k`` is a harmonic of the earlier coordinates when it is a function of
  ``phi_1..phi_{k-1}`` (small residual); the others are the unique eigendirections, and
  their number estimates the intrinsic dimension.
- :func:`rank_feature_subsets`: which subsets of candidate inputs parametrise the
  manifold and the targets (used by the coarse-scale PDE baselines, Lee et al. 2020).

Everything is dense ``O(n^2)`` in memory; keep ``n`` to a few thousand points.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.linalg import eigh
from scipy.sparse.linalg import eigsh
from scipy.spatial.distance import pdist, squareform

from .._checks import real_array, real_in

__all__ = [
    "DiffusionMap",
    "diffusion_maps",
    "local_linear_regression",
    "llr_residual",
    "llr_residuals_cv",
    "parsimonious_coordinates",
    "SubsetScore",
    "rank_feature_subsets",
    "MAX_POINTS",
]

# Dense kernels: 5000 points already take 200 MB per n x n array.
MAX_POINTS = 5000


def _points(name: str, X, min_points: int = 3) -> np.ndarray:
    arr = real_array(name, X, finite=False)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (points, coordinates), got shape {arr.shape}")
    if not min_points <= arr.shape[0] <= MAX_POINTS:
        raise ValueError(
            f"{name} must hold between {min_points} and {MAX_POINTS} points, got {arr.shape[0]}"
        )
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one coordinate, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _targets(name: str, Y, n: int, vector_ok: bool = True) -> np.ndarray:
    """Regression targets: a finite ``(n,)`` or ``(n, m)`` array."""
    Y = real_array(name, Y, finite=False)
    Y2 = Y[:, None] if Y.ndim == 1 and vector_ok else Y
    if Y2.ndim != 2 or Y2.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows like X, got shape {Y.shape}")
    if not np.all(np.isfinite(Y2)):
        raise ValueError(f"{name} contains NaN or inf")
    return Y


def _sequence(name: str, value, what: str) -> tuple:
    """``value`` as a tuple; a string, ``None`` or a non-iterable is a TypeError naming ``name``."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of {what}, got {value!r}")
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of {what}, got {value!r}") from None


def _scales(bandwidth_scales) -> tuple:
    scales = _sequence("bandwidth_scales", bandwidth_scales, "numbers > 0")
    if not scales:
        raise ValueError("bandwidth_scales must hold at least one value")
    return tuple(real_in("bandwidth_scales", b, 0.0, strict=True) for b in scales)


def _median_sq_distance(d2: np.ndarray) -> float:
    """Median of the off-diagonal squared distances (the median heuristic)."""
    iu = np.triu_indices(d2.shape[0], k=1)
    med = float(np.median(d2[iu]))
    if med <= 0:  # more than half the points coincide: fall back to the mean
        med = float(d2[iu].mean())
    if med <= 0:
        raise ValueError("all points coincide; the kernel bandwidth is undefined")
    return med


@dataclass(frozen=True)
class DiffusionMap:
    """``eigenvalues`` ``(m,)`` (descending, the trivial 1 excluded), ``coordinates``
    ``(n, m)`` (right eigenvectors of the Markov matrix, unit mean square), ``epsilon``."""

    eigenvalues: np.ndarray
    coordinates: np.ndarray
    epsilon: float


def diffusion_maps(X, n_components: int, epsilon=None, alpha: float = 1.0) -> DiffusionMap:
    """Leading ``n_components`` non-trivial diffusion-map coordinates of the points ``X``.

    ``X`` is ``(n, d)``; ``epsilon`` the kernel bandwidth (default: median of the squared
    pairwise distances); ``alpha`` in ``[0, 1]`` the density normalisation exponent.
    The coordinates are not scaled by the eigenvalues (diffusion time 0); their sign is
    fixed so that the first entry of each is non-negative.
    """
    X = _points("X", X)
    n = X.shape[0]
    if isinstance(n_components, bool) or not isinstance(n_components, Integral) or not 1 <= n_components <= n - 2:
        raise ValueError(f"n_components must be an integer in [1, {n - 2}], got {n_components!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be a real number in [0, 1], got {alpha!r}")
    d2 = squareform(pdist(X, "sqeuclidean"))
    eps = _median_sq_distance(d2) if epsilon is None else real_in("epsilon", epsilon, 0.0, strict=True)
    K = np.exp(-d2 / eps)
    q = K.sum(axis=1)
    K /= np.outer(q**alpha, q**alpha)
    d = K.sum(axis=1)
    s = 1.0 / np.sqrt(d)
    S = K * np.outer(s, s)
    S = 0.5 * (S + S.T)  # symmetric up to roundoff; make it exact for eigh
    k = n_components + 1
    if n <= 400:
        lam, vec = eigh(S, subset_by_index=[n - k, n - 1])
    else:
        # Lanczos for the top of the spectrum; a fixed start vector keeps it deterministic.
        lam, vec = eigsh(S, k=k, which="LA", v0=np.full(n, 1.0 / np.sqrt(n)), tol=1e-10)
    order = np.argsort(lam)[::-1]
    lam, vec = lam[order], vec[:, order]
    psi = vec * s[:, None]  # right eigenvectors of P = D^-1 K~
    psi /= np.sqrt(np.mean(psi**2, axis=0, keepdims=True))
    psi *= np.where(psi[0] < 0, -1.0, 1.0)
    # psi[:, 0] is the constant vector with eigenvalue 1: drop it.
    return DiffusionMap(lam[1:].copy(), np.ascontiguousarray(psi[:, 1:]), eps)


def local_linear_regression(X, Y, bandwidth=None, bandwidth_scale: float = 1.0 / 3.0,
                            ridge: float = 1e-8) -> np.ndarray:
    """Leave-one-out local linear prediction of ``Y`` (``(n,)`` or ``(n, m)``) from ``X``.

    At each point ``x_i`` the affine model ``y ~ a + b.(x - x_i)`` is fitted by least
    squares with weights ``w_ij = exp(-|x_i - x_j|^2 / bandwidth)``, ``w_ii = 0``, and
    ``a`` is the prediction. ``bandwidth`` defaults to ``bandwidth_scale`` times the
    median squared pairwise distance (Dsilva et al. 2018 use one third). ``ridge``
    (relative to the weight mass) keeps isolated points solvable.
    """
    X = _points("X", X, min_points=4)
    Y = _targets("Y", Y, X.shape[0])
    vector = Y.ndim == 1
    Y2 = Y[:, None] if vector else Y
    ridge = real_in("ridge", ridge, 0.0)
    d2 = squareform(pdist(X, "sqeuclidean"))
    bw = (real_in("bandwidth_scale", bandwidth_scale, 0.0, strict=True) * _median_sq_distance(d2)
          if bandwidth is None else real_in("bandwidth", bandwidth, 0.0, strict=True))
    return _llr_from_distances(d2, bw, X, Y2, ridge)[:, 0] if vector else _llr_from_distances(d2, bw, X, Y2, ridge)


def _llr_from_distances(d2, bw, X, Y, ridge) -> np.ndarray:
    n, p = X.shape
    W = np.exp(-d2 / bw)
    np.fill_diagonal(W, 0.0)
    # Weighted least squares at every point at once. With the absolute design rows
    # a_j = [1, x_j] the normal equations are G_i beta_i = h_i, G_i = sum_j w_ij a_j a_j^T,
    # h_i = sum_j w_ij a_j y_j^T: two matrix products with W (BLAS), not an n^2 loop.
    # The affine fit is the same as the one centred at x_i, and a_i.beta_i its value there.
    A = np.concatenate([np.ones((n, 1)), X], axis=1)  # (n, p+1)
    q = p + 1
    G = (W @ (A[:, :, None] * A[:, None, :]).reshape(n, q * q)).reshape(n, q, q)
    H = (W @ (A[:, :, None] * Y[:, None, :]).reshape(n, -1)).reshape(n, q, Y.shape[1])
    mass = W.sum(axis=1)
    G += (ridge * np.maximum(mass, 1e-300))[:, None, None] * np.eye(q)
    beta = np.linalg.solve(G, H)  # (n, q, m)
    return np.einsum("ia,iam->im", A, beta)


def llr_residual(X, y, **kwargs) -> float:
    """Normalised leave-one-out residual ``|y - y_hat| / |y - mean(y)|`` of
    :func:`local_linear_regression` (0: ``y`` is a function of ``X``; ~1: unrelated)."""
    y = real_array("y", y, finite=False)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    return float(_normalised_residuals(y[:, None], local_linear_regression(X, y[:, None], **kwargs))[0])


def _normalised_residuals(Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray:
    spread = np.linalg.norm(Y - Y.mean(axis=0), axis=0)
    err = np.linalg.norm(Y - Y_hat, axis=0)
    return np.where(spread > 0, err / np.where(spread > 0, spread, 1.0), 0.0)


# Bandwidths (fractions of the median squared distance) tried by the leave-one-out choice.
BANDWIDTH_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)


def llr_residuals_cv(X, Y, bandwidth_scales=BANDWIDTH_GRID) -> np.ndarray:
    """Per column of ``Y`` (``(n, m)``), the smallest normalised leave-one-out LLR residual
    over ``bandwidth_scales``: the bandwidth is chosen by leave-one-out cross-validation,
    so that every candidate input set is judged at its own best resolution."""
    scales = _scales(bandwidth_scales)
    X = _points("X", X, min_points=4)
    Y = _targets("Y", Y, X.shape[0])
    if Y.ndim == 1:
        Y = Y[:, None]
    d2 = squareform(pdist(X, "sqeuclidean"))
    med = _median_sq_distance(d2)
    best = np.full(Y.shape[1], np.inf)
    for bs in scales:
        pred = _llr_from_distances(d2, bs * med, X, Y, 1e-8)
        best = np.minimum(best, _normalised_residuals(Y, pred))
    return best


def parsimonious_coordinates(coordinates, threshold: float = 0.3, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Dsilva et al. (2018) residuals ``r_k`` of each diffusion-map coordinate regressed
    on the earlier ones (``r_1 = 1``), and the indices with ``r_k > threshold``: the
    unique eigendirections (the others are harmonics)."""
    phi = _points("coordinates", coordinates, min_points=4)
    threshold = real_in("threshold", threshold, 0.0, strict=True)
    r = np.ones(phi.shape[1])
    for k in range(1, phi.shape[1]):
        r[k] = llr_residual(phi[:, :k], phi[:, k], **kwargs)
    return r, np.flatnonzero(r > threshold)


@dataclass(frozen=True)
class SubsetScore:
    """One candidate input set: ``names``; ``score`` (the ranking key) equals
    ``target_residual``, the leave-one-out LLR residual of the target from the subset;
    ``manifold_residual`` is the largest LLR residual of the reference diffusion-map
    coordinates from the subset (0 if none were given)."""

    names: tuple[str, ...]
    score: float
    target_residual: float
    manifold_residual: float


def rank_feature_subsets(X, y, names, size: int, coordinates=None,
                         bandwidth_scales=BANDWIDTH_GRID) -> list[SubsetScore]:
    """Rank every ``size``-subset of the columns of ``X`` by how well it parametrises ``y``.

    The key is the leave-one-out local-linear-regression residual of ``y`` from the
    subset (bandwidth chosen by leave-one-out over ``bandwidth_scales``). If reference
    diffusion-map ``coordinates`` (``(n, m)``) are given, the largest residual of those
    from the subset is reported too (does the subset parametrise the manifold?); it is
    not part of the ranking, because on data that lie close to a low-dimensional slow
    manifold many subsets parametrise the leading coordinates about equally well.
    Columns are standardised first so that the kernels see every input on the same
    scale. Returns all subsets, best (lowest score) first.
    """
    X = _points("X", X, min_points=4)
    y = real_array("y", y, finite=False)
    if y.shape != (X.shape[0],) or not np.all(np.isfinite(y)):
        raise ValueError(f"y must be a finite 1-D array of length {X.shape[0]}, got shape {y.shape}")
    names = _sequence("names", names, f"{X.shape[1]} column names")
    bandwidth_scales = _scales(bandwidth_scales)
    if len(names) != X.shape[1] or len(set(names)) != len(names):
        raise ValueError(f"names must list {X.shape[1]} distinct column names, got {names}")
    if isinstance(size, bool) or not isinstance(size, Integral) or not 1 <= size <= X.shape[1]:
        raise ValueError(f"size must be an integer in [1, {X.shape[1]}], got {size!r}")
    phi = None
    if coordinates is not None:
        phi = _points("coordinates", coordinates, min_points=4)
        if phi.shape[0] != X.shape[0]:
            raise ValueError(f"coordinates must have {X.shape[0]} rows like X, got {phi.shape[0]}")
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    out = []
    for cols in itertools.combinations(range(X.shape[1]), size):
        Y = y[:, None] if phi is None else np.concatenate([y[:, None], phi], axis=1)
        r = llr_residuals_cv(Z[:, cols], Y, bandwidth_scales)
        r_y = float(r[0])
        r_phi = float(r[1:].max()) if phi is not None else 0.0
        out.append(SubsetScore(tuple(names[c] for c in cols), r_y, r_y, r_phi))
    out.sort(key=lambda s: (s.score, s.names))
    return out
