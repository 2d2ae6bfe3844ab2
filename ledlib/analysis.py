"""PCA baseline and latent-space analysis of LED (Vlachas et al. 2020).

- :class:`PCA`: principal component analysis by SVD of the centred data; the energy of
  the modes and the rank-k reconstruction (KS, Section 8.4.2, Figures 43-45).
- :func:`pca_reconstruction_error`: test MSE against the number of modes, the linear
  baseline for the autoencoder's reconstruction error (Figure 37 / 45).
- :func:`latent_pca`, :func:`density_2d`, :func:`cluster_latent`,
  :func:`centres_to_latent`: PCA of the latent trajectory z_t, its density, and spectral
  clustering of the metastable states (advection-diffusion 3-D, Figures 4, 22, 23).

The clustering is written here because scikit-learn is not a dependency; it is
spectral clustering after Ng, Jordan & Weiss (2002) with the local scaling of
Zelnik-Manor & Perona (2004). Swapping in ``sklearn.cluster.SpectralClustering`` only
means replacing :func:`spectral_labels`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from scipy.linalg import eigh

from ._checks import positive
from ._checks import MAX_REPEATS, int_in as _int_in, seed as _check_seed
from ._checks import bins as _check_bins
from .metrics import finite_array

__all__ = [
    "PCA",
    "pca_reconstruction_error",
    "latent_pca",
    "density_2d",
    "density_at_points",
    "kmeans",
    "spectral_labels",
    "cluster_latent",
    "centres_to_latent",
    "adjusted_rand_index",
    "reconstruction_error",
    "lyapunov_exponent",
]


def _data_matrix(name: str, x) -> np.ndarray:
    """``(n_samples, *feature_shape)`` as a finite 2-D array (features flattened)."""
    x = finite_array(name, x, min_ndim=2)
    return x.reshape(x.shape[0], -1)


# --------------------------------------------------------------------------- PCA


class PCA:
    """Principal component analysis by the SVD of the centred data.

    ``X - mean = U S V^T``: the rows of ``components`` (= V^T) are the modes, ordered by
    energy. ``explained_variance = S^2 / (n - 1)`` are the eigenvalues of the sample
    covariance, ``energy = S^2 / sum S^2`` the fraction of the total variance in each
    mode (Figure 43: the first 8 KS modes hold ~99.8%). Each mode's sign is fixed so that
    its largest-magnitude entry is positive, so fits are reproducible.

    Samples may have any shape ``(n, *feature_shape)``; features are flattened and
    ``inverse_transform`` / ``reconstruct`` restore ``feature_shape``.
    """

    def __init__(self, n_components: int | None = None):
        self.n_components = None if n_components is None else positive("n_components", n_components, integer=True)

    def fit(self, X) -> "PCA":
        x = finite_array("X", X, min_ndim=2)
        self.feature_shape = x.shape[1:]
        x = x.reshape(x.shape[0], -1)
        n, d = x.shape
        if n < 2:
            raise ValueError(f"X must hold at least 2 samples, got {n}")
        r = min(n, d)
        if self.n_components is not None and self.n_components > r:
            raise ValueError(f"n_components must be <= min(n_samples, n_features) = {r}, got {self.n_components}")
        self.mean = x.mean(axis=0)
        _, s, vt = np.linalg.svd(x - self.mean, full_matrices=False)
        # Deterministic signs: largest |entry| of each mode positive.
        piv = np.argmax(np.abs(vt), axis=1)
        vt = vt * np.sign(vt[np.arange(vt.shape[0]), piv])[:, None]
        total = float(np.sum(s**2))
        k = r if self.n_components is None else self.n_components
        self.singular_values = s[:k]
        self.components = vt[:k]
        self.explained_variance = s[:k] ** 2 / (n - 1)
        # Fractions of the TOTAL variance (all modes), so they sum to < 1 when truncated.
        self.energy = s[:k] ** 2 / total if total > 0 else np.zeros(k)
        self.cumulative_energy = np.cumsum(self.energy)
        self.n_samples = n
        return self

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """Alias of ``energy``: the fraction of the total variance in each mode."""
        self._check_fitted()
        return self.energy

    def _check_fitted(self) -> None:
        if not hasattr(self, "components"):
            raise ValueError("this PCA is not fitted yet: call fit(X) first")

    def _k(self, k) -> int:
        kmax = self.components.shape[0]
        if k is None:
            return kmax
        if isinstance(k, bool) or not isinstance(k, Integral) or not 0 <= k <= kmax:
            raise ValueError(f"k must be an integer in [0, {kmax}], got {k!r}")
        return int(k)

    def transform(self, X, k: int | None = None) -> np.ndarray:
        """Coefficients of the first ``k`` modes (all by default): ``(n, k)``."""
        self._check_fitted()
        x = finite_array("X", X, min_ndim=2)
        if x.shape[1:] != self.feature_shape:
            raise ValueError(f"X must have shape (n, {self.feature_shape}), got {x.shape}")
        k = self._k(k)
        return (x.reshape(x.shape[0], -1) - self.mean) @ self.components[:k].T

    def inverse_transform(self, Z) -> np.ndarray:
        """States from the coefficients ``Z`` (n, k) of the first k modes."""
        self._check_fitted()
        z = finite_array("Z", Z, min_ndim=2)
        if z.ndim != 2 or z.shape[1] > self.components.shape[0]:
            raise ValueError(f"Z must be (n, k) with k <= {self.components.shape[0]}, got {z.shape}")
        x = self.mean + z @ self.components[: z.shape[1]]
        return x.reshape((z.shape[0],) + tuple(self.feature_shape))

    def reconstruct(self, X, k: int | None = None) -> np.ndarray:
        """Projection of ``X`` onto the first ``k`` modes, in state space (Figure 44)."""
        return self.inverse_transform(self.transform(X, k))


def pca_reconstruction_error(train, test, ks) -> np.ndarray:
    """Test-set MSE of the rank-k PCA reconstruction for each k in ``ks``.

    PCA is fitted on ``train`` (n, *features); the error is the mean over samples and
    features of (x - x_rec)^2, the same loss as the autoencoders' (Figure 37, 45).
    """
    train = finite_array("train", train, min_ndim=2)
    test = finite_array("test", test, min_ndim=2)
    if train.shape[1:] != test.shape[1:]:
        raise ValueError(f"train and test must have the same feature shape, got {train.shape[1:]} and {test.shape[1:]}")
    ks = np.atleast_1d(np.asarray(ks))
    if ks.size == 0 or not np.issubdtype(ks.dtype, np.integer) or ks.ndim != 1:
        raise ValueError(f"ks must be a non-empty list of integers, got {ks!r}")
    pca = PCA().fit(train)
    kmax = pca.components.shape[0]
    if ks.min() < 0 or ks.max() > kmax:
        raise ValueError(f"ks must lie in [0, {kmax}], got {ks.tolist()}")
    z = pca.transform(test)  # all coefficients once; truncate per k
    xt = test.reshape(test.shape[0], -1)
    out = np.empty(ks.size)
    for i, k in enumerate(ks):
        rec = pca.mean + z[:, :k] @ pca.components[:k]
        out[i] = np.mean((xt - rec) ** 2)
    return out


# --------------------------------------------------------------------------- latent analysis


def latent_pca(z, n_components: int = 3) -> tuple[np.ndarray, PCA]:
    """PCA of a latent trajectory ``z`` (n, d_z): returns ``(z_pca (n, n_components), pca)``."""
    z = _data_matrix("z", z)
    n_components = positive("n_components", n_components, integer=True)
    if n_components > min(z.shape):
        raise ValueError(f"n_components must be <= min(n, d_z) = {min(z.shape)}, got {n_components}")
    pca = PCA(n_components).fit(z)
    return pca.transform(z), pca


def density_2d(a, b, bins=100, range=None):
    """2-D histogram density of the pairs (a_i, b_i): ``(density, a_edges, b_edges)``.

    Normalised to integrate to 1 (Figures 4, 17, 22: PCA mode against PCA mode).
    """
    a = finite_array("a", a, min_ndim=1).ravel()
    b = finite_array("b", b, min_ndim=1).ravel()
    if a.shape != b.shape:
        raise ValueError(f"a and b must hold the same number of values, got {a.size} and {b.size}")
    bins = _check_bins(bins, edges_allowed=True)
    return np.histogram2d(a, b, bins=bins, range=range, density=True)


def density_at_points(a, b, bins=100) -> np.ndarray:
    """Value of :func:`density_2d` at each point (a_i, b_i), for colouring scatter plots."""
    H, ea, eb = density_2d(a, b, bins=bins)
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    ia = np.clip(np.searchsorted(ea, a, side="right") - 1, 0, H.shape[0] - 1)
    ib = np.clip(np.searchsorted(eb, b, side="right") - 1, 0, H.shape[1] - 1)
    return H[ia, ib]


def kmeans(x, n_clusters: int, *, seed: int, n_init: int = 10, max_iter: int = 300):
    """Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007).

    ``x`` (n, d). The best of ``n_init`` seeded restarts (lowest inertia) is returned
    as ``(labels (n,), centres (k, d), inertia)``.
    """
    x = _data_matrix("x", x)
    k = positive("n_clusters", n_clusters, integer=True)
    n_init = _int_in("n_init", positive("n_init", n_init, integer=True), 1, MAX_REPEATS)
    max_iter = positive("max_iter", max_iter, integer=True)
    n = x.shape[0]
    if k > n:
        raise ValueError(f"n_clusters must be <= the number of points {n}, got {k}")
    rng = np.random.default_rng(_check_seed(seed))
    xx = np.einsum("ij,ij->i", x, x)

    def sqdist(c: np.ndarray) -> np.ndarray:
        # |x - c|^2 via the expansion; clipped at 0 against round-off.
        return np.maximum(xx[:, None] - 2.0 * x @ c.T + np.einsum("ij,ij->i", c, c)[None, :], 0.0)

    best = None
    for _ in range(n_init):
        # k-means++: each new centre drawn with probability proportional to D(x)^2.
        centres = np.empty((k, x.shape[1]))
        centres[0] = x[rng.integers(n)]
        d2 = sqdist(centres[:1])[:, 0]
        for j in range(1, k):
            tot = d2.sum()
            idx = rng.integers(n) if tot <= 0 else rng.choice(n, p=d2 / tot)
            centres[j] = x[idx]
            d2 = np.minimum(d2, sqdist(centres[j : j + 1])[:, 0])
        labels = None
        for _ in range(max_iter):
            D = sqdist(centres)
            new = np.argmin(D, axis=1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            counts = np.bincount(labels, minlength=k)
            sums = np.zeros_like(centres)
            np.add.at(sums, labels, x)
            empty = counts == 0
            centres = np.where(empty[:, None], centres, sums / np.maximum(counts, 1)[:, None])
            if empty.any():  # re-seed an empty cluster at the worst-served point
                far = np.argsort(D[np.arange(n), labels])[::-1][: int(empty.sum())]
                centres[empty] = x[far]
        inertia = float(sqdist(centres)[np.arange(n), labels].sum())
        if best is None or inertia < best[2]:
            best = (labels, centres, inertia)
    return best


def spectral_labels(x, n_clusters: int, *, seed: int, n_neighbors: int = 7, bandwidth=None, n_init: int = 10):
    """Spectral clustering of the points ``x`` (m, d) (Ng, Jordan & Weiss 2002).

    Affinity ``A_ij = exp(-|x_i - x_j|^2 / (s_i s_j))``. By default the scales are local
    (Zelnik-Manor & Perona 2004): s_i is the distance from x_i to its ``n_neighbors``-th
    nearest neighbour, which separates clusters of different density and non-convex
    shapes (rings) where one global bandwidth cannot. ``bandwidth="median"`` uses one
    global s = median pairwise distance; a positive float sets s. Then the leading
    eigenvectors of ``D^{-1/2} A D^{-1/2}``, rows normalised to unit length, are
    clustered by seeded k-means. Dense O(m^2): keep m to a few thousand.
    """
    x = _data_matrix("x", x)
    k = positive("n_clusters", n_clusters, integer=True)
    m = x.shape[0]
    if k > m:
        raise ValueError(f"n_clusters must be <= the number of points {m}, got {k}")
    sq = np.einsum("ij,ij->i", x, x)
    d2 = np.maximum(sq[:, None] - 2.0 * x @ x.T + sq[None, :], 0.0)
    np.fill_diagonal(d2, 0.0)
    if bandwidth is None:
        nn = min(positive("n_neighbors", n_neighbors, integer=True), m - 1)
        s = np.sqrt(np.partition(d2, nn, axis=1)[:, nn]) if nn > 0 else np.ones(m)
        s = np.maximum(s, 1e-12 * max(float(s.max()), 1e-300))
        A = np.exp(-d2 / np.outer(s, s))
    else:
        if isinstance(bandwidth, str):
            if bandwidth != "median":
                raise ValueError(f"bandwidth must be None, 'median' or a positive float, got {bandwidth!r}")
            iu = np.triu_indices(m, 1)
            sigma = float(np.median(np.sqrt(d2[iu]))) if m > 1 else 1.0
            sigma = sigma if sigma > 0 else 1.0
        else:
            sigma = float(bandwidth)
            if not math.isfinite(sigma) or sigma <= 0:
                raise ValueError(f"bandwidth must be a positive float, got {bandwidth!r}")
        A = np.exp(-d2 / (2.0 * sigma**2))
    np.fill_diagonal(A, 0.0)
    deg = np.maximum(A.sum(axis=1), 1e-300)
    dm = 1.0 / np.sqrt(deg)
    M = dm[:, None] * A * dm[None, :]
    _, V = eigh(M, subset_by_index=[m - k, m - 1])
    V = V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-300)
    labels, _, _ = kmeans(V, k, seed=seed, n_init=n_init)
    return labels


def cluster_latent(z_pca, n_clusters: int, seed: int, *, max_points: int = 2000, **spectral_kw):
    """Spectral clustering of latent PCA coordinates into metastable states (Figures 4, 23).

    A seeded random subsample of at most ``max_points`` points is clustered by
    :func:`spectral_labels`; every other point takes the label of its nearest clustered
    neighbour. Clusters are numbered by decreasing size. Returns ``(labels (n,),
    centres (n_clusters, p))`` with each centre the mean of its members in PCA space.
    """
    x = _data_matrix("z_pca", z_pca)
    k = positive("n_clusters", n_clusters, integer=True)
    max_points = positive("max_points", max_points, integer=True)
    n = x.shape[0]
    if k > min(n, max_points):
        raise ValueError(f"n_clusters must be <= min(n_points, max_points) = {min(n, max_points)}, got {k}")
    rng = np.random.default_rng(_check_seed(seed))
    sub = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else np.arange(n)
    sub_labels = spectral_labels(x[sub], k, seed=seed, **spectral_kw)
    labels = np.empty(n, dtype=np.int64)
    labels[sub] = sub_labels
    rest = np.setdiff1d(np.arange(n), sub)
    if rest.size:
        xs = x[sub]
        ss = np.einsum("ij,ij->i", xs, xs)
        for start in range(0, rest.size, 4096):  # chunks bound the (chunk, m) distance block
            r = rest[start : start + 4096]
            d2 = ss[None, :] - 2.0 * x[r] @ xs.T
            labels[r] = sub_labels[np.argmin(d2, axis=1)]
    # Relabel by decreasing cluster size for a stable, readable numbering.
    order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    labels = relabel[labels]
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x)
    centres = sums / np.maximum(counts, 1)[:, None]
    return labels, centres


def centres_to_latent(centres, pca: PCA) -> np.ndarray:
    """Map cluster centres from latent-PCA coordinates back to the latent space z.

    ``z = mean + centres @ components[:p]``: with p < d_z modes this is the projection
    of the cluster's mean latent state onto the PCA subspace. The decoder then maps each
    ``z`` to a configuration (Figure 23).
    """
    if not isinstance(pca, PCA):
        raise TypeError(f"pca must be a fitted ledlib.analysis.PCA, got {type(pca).__name__}")
    return pca.inverse_transform(centres)


def adjusted_rand_index(labels_a, labels_b) -> float:
    """Adjusted Rand index of two partitions (Hubert & Arabie 1985): 1 for identical ones."""
    a = np.asarray(labels_a).ravel()
    b = np.asarray(labels_b).ravel()
    for name, v in (("labels_a", a), ("labels_b", b)):
        if v.dtype.kind in "fc" and not np.all(np.isfinite(v)):  # each NaN would be a cluster of its own
            raise ValueError(f"{name} must be finite labels (integers or names), got NaN or inf")
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"labels_a and labels_b must be non-empty and of equal length, got {a.size} and {b.size}")
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    C = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(C, (ia, ib), 1.0)

    def pairs(v):
        return (v * (v - 1) / 2.0).sum()

    s_ij, s_a, s_b, n2 = pairs(C), pairs(C.sum(1)), pairs(C.sum(0)), a.size * (a.size - 1) / 2.0
    expected = s_a * s_b / n2 if n2 > 0 else 0.0
    max_idx = 0.5 * (s_a + s_b)
    if max_idx == expected:
        return 1.0
    return float((s_ij - expected) / (max_idx - expected))


# ---------------------------------------------------------------------------------
# Reconstruction error and Lyapunov exponents
# ---------------------------------------------------------------------------------
def reconstruction_error(led, x, *, batch_size: int = 4096) -> float:
    """Mean squared reconstruction error of a field LED's autoencoder on ``x (n, *obs_shape)``
    (or ``(n_traj, T, *obs_shape)``), in the network's scaled units (the units of the
    training loss; VAE: the mean latent, no sampling): ``mean((D(E(s(x))) - s(x))^2)`` with
    ``s`` the LED's scaler. Summed in float64 over batches of ``batch_size``."""
    import torch

    from .nn import LED

    if not isinstance(led, LED):
        raise TypeError(f"led must be an ledlib.nn.LED, got {type(led).__name__}")
    if led.is_particle:
        raise ValueError("reconstruction_error is for field autoencoders; a particle decoder samples "
                         "(compare distributions with metrics.wasserstein instead)")
    batch_size = positive("batch_size", batch_size, integer=True)
    x = finite_array("x", x, min_ndim=len(led.obs_shape) + 1)
    k = len(led.obs_shape)
    if x.ndim == k + 2:
        x = x.reshape(-1, *x.shape[2:])
    if x.ndim != k + 1 or tuple(x.shape[1:]) != tuple(led.obs_shape):
        raise ValueError(f"x must have shape (n, {', '.join(map(str, led.obs_shape))}), got {x.shape}")
    total = 0.0
    for i in range(0, x.shape[0], batch_size):
        xs = led.scale(torch.tensor(x[i:i + batch_size], dtype=led.scale_a.dtype, device=led.device))
        rec = led.decode(led.encode(xs, scaled=True), scaled=True)
        total += float(((rec - xs).double() ** 2).sum())
    return total / x.size


def lyapunov_exponent(system, x0, T, renorm_every=None, eps: float = 1e-8, seed=0, *, t_align: float = 0.0,
                      t0: float = 0.0, neutral=None):
    """Largest Lyapunov exponent of a deterministic :class:`~ledlib.systems.System` by
    Benettin's two-trajectory method, through the system's own ``lift`` and ``advance``.

    ``x0``: observable states ``(n, *obs_shape)`` (or one state), ideally on the attractor;
    each is lifted and paired with a partner displaced by a random perturbation of RMS
    ``eps`` (drawn from ``seed``, an int or a NumPy Generator; ``neutral(delta)``, if given,
    first removes directions that do not grow, e.g. the conserved mean of KS). Both are
    advanced together; every ``renorm_every`` (default: ``system.coarse_dt``) the
    separation ``d`` (RMS over the micro state) is measured, ``log(d / eps)`` accumulated
    and the partner pulled back to distance ``eps`` along the separation. The first
    ``t_align`` time units only renormalise (the separation turns to the most unstable
    direction). Returns a :class:`~ledlib.systems.kuramoto_sivashinsky.LyapunovEstimate`:
    the mean over the ``n`` growth rates averaged over ``T``, its standard error, each
    rate and ``T``.
    """
    from .systems.base import System, as_generator, steps_per
    from .systems.kuramoto_sivashinsky import LyapunovEstimate

    if not isinstance(system, System):
        raise TypeError(f"system must be an ledlib.systems.System, got {type(system).__name__}")
    if system.stochastic:
        raise ValueError(f"{type(system).__name__} is stochastic: the Lyapunov exponent of lyapunov_exponent "
                         "needs a deterministic system (two copies must see the same dynamics)")
    T = positive("T", T)
    renorm_every = system.coarse_dt if renorm_every is None else positive("renorm_every", renorm_every)
    eps = positive("eps", eps)
    if isinstance(t_align, bool) or not isinstance(t_align, (int, float)) or not math.isfinite(t_align) \
            or t_align < 0:
        raise ValueError(f"t_align must be a finite number >= 0, got {t_align!r}")
    if isinstance(t0, bool) or not isinstance(t0, (int, float)) or not math.isfinite(t0):
        raise ValueError(f"t0 must be a finite real number, got {t0!r}")
    steps_per(renorm_every, system.dt, name="renorm_every")  # a whole number of solver steps
    n_renorm = steps_per(T, renorm_every, name="T")
    n_align = 0 if t_align == 0 else steps_per(float(t_align), renorm_every, name="t_align")
    x0 = finite_array("x0", x0, min_ndim=len(system.obs_shape))
    if x0.ndim == len(system.obs_shape):
        x0 = x0[None]
    rng = as_generator(seed)
    ref = system.lift(x0)
    n = ref.shape[0]
    delta = rng.standard_normal(ref.shape)
    if neutral is not None:
        delta = np.asarray(neutral(delta), dtype=float)
    rms = np.sqrt(np.mean(delta.reshape(n, -1) ** 2, axis=1)).reshape((n,) + (1,) * (ref.ndim - 1))
    state = np.concatenate([ref, ref + delta * (eps / rms)])
    log_growth = np.zeros(n)
    for j in range(1, n_align + n_renorm + 1):
        state = system.advance(state, t0 + (j - 1) * renorm_every, t0 + j * renorm_every)
        sep = state[n:] - state[:n]
        d = np.sqrt(np.mean(sep.reshape(n, -1) ** 2, axis=1))
        if not np.all(d > 0):
            raise FloatingPointError(f"the separation vanished by t={t0 + j * renorm_every:g}: the trajectories "
                                     "coincide (eps below the state's precision?)")
        if j > n_align:
            log_growth += np.log(d / eps)
        state[n:] = state[:n] + sep * (eps / d).reshape((n,) + (1,) * (sep.ndim - 1))
    per = log_growth / (n_renorm * renorm_every)
    stderr = float(per.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return LyapunovEstimate(float(per.mean()), stderr, per, n_renorm * renorm_every)


# ---------------------------------------------------------------------------------
# The two modes of a 1-D density (the AD 1-D chapter's latent coordinate)
# ---------------------------------------------------------------------------------
def density_peaks(x, bins: int = 30, smooth: int = 3) -> tuple[np.ndarray, float]:
    """The two highest local maxima of the histogram of ``x`` (``bins`` bins, smoothed by a
    moving average of ``smooth`` bins before looking for peaks), as the centres of their
    bins in increasing order, and the dip between them: the lowest smoothed count between
    the two peaks over the lower peak (1: no dip, 0: an empty gap). With fewer than two
    local maxima the two end bins stand in (a unimodal density has no dip below 1 there
    only if it is flat)."""
    x = finite_array("x", x, min_ndim=1).ravel()
    bins = positive("bins", bins, integer=True)
    smooth = positive("smooth", smooth, integer=True)
    if bins < 3:
        raise ValueError(f"bins must be at least 3 to hold an interior peak, got {bins}")
    if x.size < 2:
        raise ValueError(f"x must hold at least two values, got {x.size}")
    counts, edges = np.histogram(x, bins=bins)
    dens = np.convolve(counts, np.ones(smooth) / smooth, mode="same")
    peaks = [i for i in range(1, bins - 1) if dens[i] >= dens[i - 1] and dens[i] > dens[i + 1]]
    peaks = sorted(sorted(peaks, key=lambda i: dens[i])[-2:]) if len(peaks) >= 2 else [0, bins - 1]
    modes = 0.5 * (edges[peaks] + edges[np.array(peaks) + 1])
    dip = float(dens[peaks[0]:peaks[1] + 1].min() / dens[peaks].min())
    return modes, dip


# ---------------------------------------------------------------------------------
# The decoder's error floor in the power spectrum (KS, Figure 41)
# ---------------------------------------------------------------------------------
def reconstruct(led, x, *, batch_size: int = 4096) -> np.ndarray:
    """``decode(encode(x))`` of a field LED's autoencoder in physical units, float64, the
    shape of ``x``: ``(n, *obs_shape)`` or ``(n_traj, T, *obs_shape)`` (VAE: the mean
    latent). Encoded in batches of ``batch_size``; no RNN is involved, so this is what the
    autoencoder alone can represent of ``x``."""
    from .nn import LED

    if not isinstance(led, LED):
        raise TypeError(f"led must be an ledlib.nn.LED, got {type(led).__name__}")
    if led.is_particle:
        raise ValueError("reconstruct is for field autoencoders; a particle decoder samples")
    batch_size = positive("batch_size", batch_size, integer=True)
    x = finite_array("x", x, min_ndim=len(led.obs_shape) + 1)
    k = len(led.obs_shape)
    if x.ndim not in (k + 1, k + 2) or tuple(x.shape[x.ndim - k:]) != tuple(led.obs_shape):
        raise ValueError(f"x must have shape (n, {', '.join(map(str, led.obs_shape))}) or (n_traj, T, ...), "
                         f"got {x.shape}")
    flat = x.reshape(-1, *led.obs_shape)
    out = np.empty(flat.shape)
    for i in range(0, flat.shape[0], batch_size):
        out[i:i + batch_size] = led.decode(led.encode(flat[i:i + batch_size])).double().cpu().numpy()
    return out.reshape(x.shape)


@dataclass(frozen=True)
class SpectrumFloor:
    """Power spectra of a field ``u``, of its reconstruction ``u_rec`` and of the error
    ``u_rec - u`` (the floor), with the last mode ``m_c`` whose true power stands above the
    floor (:func:`ledlib.metrics.resolved_modes`)."""

    k: np.ndarray  # wavenumbers 2 pi m / L, m = 0..n//2
    P_true: np.ndarray
    P_rec: np.ndarray
    P_err: np.ndarray  # spectrum of u_rec - u
    m_c: int

    @property
    def k_c(self) -> float:
        """The wavenumber of the last resolved mode (0.0 if none is resolved)."""
        return float(self.k[self.m_c])

    @property
    def level(self) -> float:
        """The floor's level: the median error power over the modes beyond ``m_c`` (where
        the reconstruction is all error); NaN when every mode is resolved."""
        rest = self.P_err[self.m_c + 1:]
        return float(np.median(rest)) if rest.size else float("nan")


def spectrum_floor(u, u_rec, L) -> SpectrumFloor:
    """The error floor of a reconstruction in the power spectrum: the spectra of ``u``
    (periodic fields ``(..., n)``, e.g. the true KS trajectories), of ``u_rec`` (the
    same states through the autoencoder, :func:`reconstruct`) and of their difference.
    An error that is spread evenly over the wavenumbers (as a network's fitting error is)
    shows as a flat tail: every prediction decoded by that decoder levels off there,
    whatever the latent dynamics. The modes above it (``m <= m_c``) are the ones the
    model can be judged on."""
    from .metrics import power_spectrum, resolved_modes

    u = finite_array("u", u, min_ndim=1)
    u_rec = finite_array("u_rec", u_rec, min_ndim=1)
    if u.shape != u_rec.shape:
        raise ValueError(f"u and u_rec must have the same shape, got {u.shape} and {u_rec.shape}")
    k, P_true = power_spectrum(u, L)
    _, P_rec = power_spectrum(u_rec, L)
    _, P_err = power_spectrum(u_rec - u, L)
    return SpectrumFloor(k, P_true, P_rec, P_err, resolved_modes(P_true, P_err))


__all__ += ["reconstruct", "SpectrumFloor", "spectrum_floor"]


@dataclass(frozen=True)
class LatentSpan:
    """The span of a model's training latents (:func:`latent_span`): their mean, the ``k``
    leading principal directions (rows of ``basis``) that hold ``energy`` of the variance,
    and ``scale``, the root-mean-square distance of the training latents from their mean."""

    mean: np.ndarray
    basis: np.ndarray
    scale: float
    energy: float

    @property
    def k(self) -> int:
        return int(self.basis.shape[0])

    def off_span(self, z) -> np.ndarray:
        """Distance of each latent state of ``z (n, d_z)`` from the span, in units of ``scale``:
        ~0 for states like the training ones; it grows when a forecast leaves the directions
        the RNN was trained in."""
        z = _data_matrix("z", z)
        if z.shape[1] != self.mean.size:
            raise ValueError(f"z must have {self.mean.size} latent coordinates, got {z.shape[1]}")
        c = z - self.mean
        return np.linalg.norm(c - (c @ self.basis.T) @ self.basis, axis=1) / self.scale


def latent_span(z_train, energy: float = 0.9999) -> LatentSpan:
    """The principal directions of the training latents ``z_train (n, d_z)`` that hold at
    least ``energy`` of their variance (e.g. FHN's d_z = 32 autoencoder puts its latents in
    15 of 32 directions); :meth:`LatentSpan.off_span` measures how far a forecast leaves them."""
    z = _data_matrix("z_train", z_train)
    if isinstance(energy, bool) or not isinstance(energy, (int, float)) or not 0 < energy <= 1:
        raise ValueError(f"energy must be a fraction in (0, 1], got {energy!r}")
    mean = z.mean(axis=0)
    _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
    total = float(np.sum(s ** 2))
    if total == 0:
        raise ValueError("z_train has no variance: every latent state is the same")
    k = int(min(np.searchsorted(np.cumsum(s ** 2) / total, energy) + 1, len(s)))
    return LatentSpan(mean, vt[:k], float(np.sqrt(total / z.shape[0])), float(energy))


__all__ += ["LatentSpan", "latent_span"]
