"""Tests of ledlib.analysis: the PCA baseline and the latent-space clustering."""

from itertools import combinations

import numpy as np
import pytest

from ledlib import analysis as A


def _rank_k_data(n, d, k, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(d, k)))[0].T  # k orthonormal rows
    coeff = rng.normal(size=(n, k)) * np.linspace(3.0, 1.0, k)
    x = 5.0 + coeff @ basis
    return x + noise * rng.normal(size=x.shape)


# --------------------------------------------------------------------------- PCA


def test_pca_energy_and_agreement_with_covariance_eigh():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12)) + 2.0
    p = A.PCA().fit(x)
    assert p.energy.sum() == pytest.approx(1.0, rel=1e-12)
    assert p.cumulative_energy[-1] == pytest.approx(1.0, rel=1e-12)
    assert np.all(np.diff(p.explained_variance) <= 0)
    # Independent reference: eigen-decomposition of the sample covariance.
    w, V = np.linalg.eigh(np.cov(x, rowvar=False))
    w, V = w[::-1], V[:, ::-1]
    np.testing.assert_allclose(p.explained_variance, w, rtol=1e-9)
    # Modes equal the eigenvectors up to sign.
    overlap = np.abs(np.sum(p.components * V.T, axis=1))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)
    # Modes are orthonormal.
    np.testing.assert_allclose(p.components @ p.components.T, np.eye(12), atol=1e-12)


def test_pca_reconstruction_exact_with_all_modes_and_rank_k():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 2, 8))  # feature shape kept through the round trip
    p = A.PCA().fit(x)
    np.testing.assert_allclose(p.reconstruct(x), x, atol=1e-12)
    # A rank-3 (affine) dataset is recovered exactly by 3 modes, not by 2.
    y = _rank_k_data(80, 20, 3, seed=2)
    q = A.PCA().fit(y)
    np.testing.assert_allclose(q.reconstruct(y, 3), y, atol=1e-10)
    assert np.max(np.abs(q.reconstruct(y, 2) - y)) > 1e-2
    assert q.cumulative_energy[2] == pytest.approx(1.0, abs=1e-12)


def test_pca_reconstruction_error_decreases_and_matches_tail_variance():
    # Train and test from one pool, so they share the same rank-6 subspace.
    pool = _rank_k_data(4000, 16, 6, seed=5, noise=0.01)
    train, test = pool[:3000], pool[3000:]
    ks = [0, 1, 2, 4, 6, 10, 16]
    mse = A.pca_reconstruction_error(train, test, ks)
    assert np.all(np.diff(mse) <= 1e-15)
    assert mse[-1] == pytest.approx(0.0, abs=1e-20)
    # For k >= rank only the isotropic noise remains: (d - k) / d * noise^2 per entry.
    assert mse[ks.index(6)] == pytest.approx(10 / 16 * 1e-4, rel=0.1)
    # The train-set MSE with k modes is the discarded variance / d (Eckart-Young).
    p = A.PCA().fit(train)
    tr = A.pca_reconstruction_error(train, train, [4])[0]
    n = train.shape[0]
    assert tr == pytest.approx(p.explained_variance[4:].sum() * (n - 1) / n / 16, rel=1e-9)


def test_pca_bad_input():
    with pytest.raises(ValueError, match="X contains NaN"):
        A.PCA().fit(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="n_components"):
        A.PCA(5).fit(np.zeros((3, 4)))
    p = A.PCA().fit(np.random.default_rng(0).normal(size=(10, 4)))
    with pytest.raises(ValueError, match="k must"):
        p.reconstruct(np.zeros((2, 4)), 9)
    with pytest.raises(ValueError, match="X must have shape"):
        p.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="ks"):
        A.pca_reconstruction_error(np.zeros((5, 3)), np.zeros((2, 3)), [4])


# --------------------------------------------------------------------------- densities


def test_density_2d_integrates_to_one_and_point_density():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(2, 5000))
    H, ea, eb = A.density_2d(a, b, bins=30)
    assert np.sum(H * np.outer(np.diff(ea), np.diff(eb))) == pytest.approx(1.0, rel=1e-12)
    d = A.density_at_points(a, b, bins=30)
    # Points near the centre of a standard normal are denser than points in the tails.
    r = np.hypot(a, b)
    assert d[r < 0.5].mean() > 5 * d[r > 2.5].mean()
    with pytest.raises(ValueError, match="same number"):
        A.density_2d(a, b[:10])


# --------------------------------------------------------------------------- clustering


def _ari_by_pairs(u, v):
    """Adjusted Rand index from its definition: counts over all pairs of points."""
    n = len(u)
    same_u = same_v = both = 0
    for i, j in combinations(range(n), 2):
        su, sv = u[i] == u[j], v[i] == v[j]
        same_u += su
        same_v += sv
        both += su and sv
    pairs = n * (n - 1) / 2
    expected = same_u * same_v / pairs
    return (both - expected) / (0.5 * (same_u + same_v) - expected)


def _blobs(seed, n_per=150):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [6, 0, 0], [0, 6, 0], [0, 0, 6], [6, 6, 6], [-6, 3, 0]], float)
    x = np.concatenate([c + rng.normal(scale=0.6, size=(n_per, 3)) for c in centres])
    truth = np.repeat(np.arange(len(centres)), n_per)
    return x, truth, centres


def test_adjusted_rand_index_matches_pair_counting():
    rng = np.random.default_rng(7)
    u = rng.integers(0, 3, size=60)
    v = np.where(rng.random(60) < 0.7, u, rng.integers(0, 4, size=60))
    assert A.adjusted_rand_index(u, v) == pytest.approx(_ari_by_pairs(u, v), rel=1e-12)
    assert A.adjusted_rand_index(u, (u + 1) % 3) == pytest.approx(1.0)


def test_cluster_latent_recovers_six_blobs_and_is_reproducible():
    x, truth, centres = _blobs(8)
    labels, c = A.cluster_latent(x, 6, seed=0)
    assert _ari_by_pairs(labels[::3], truth[::3]) == pytest.approx(1.0)  # pair count on a subsample
    assert A.adjusted_rand_index(labels, truth) == 1.0
    # Centres are the member means, so they sit near the true blob centres.
    dist = np.linalg.norm(c[:, None, :] - centres[None], axis=2)
    assert np.all(dist.min(axis=1) < 0.2)
    labels2, c2 = A.cluster_latent(x, 6, seed=0)
    np.testing.assert_array_equal(labels, labels2)
    np.testing.assert_array_equal(c, c2)


def test_cluster_latent_subsample_assigns_the_rest():
    x, truth, _ = _blobs(9, n_per=400)  # 2400 points, cluster only 600 of them
    labels, _ = A.cluster_latent(x, 6, seed=1, max_points=600)
    assert A.adjusted_rand_index(labels, truth) == 1.0
    # Numbered by decreasing size.
    assert np.all(np.diff(np.bincount(labels)) <= 0)


def test_spectral_separates_concentric_rings_where_kmeans_fails():
    rng = np.random.default_rng(10)
    n = 300
    th = rng.uniform(0, 2 * np.pi, size=2 * n)
    r = np.repeat([1.0, 3.0], n) + 0.08 * rng.normal(size=2 * n)
    x = np.column_stack([r * np.cos(th), r * np.sin(th)])
    truth = np.repeat([0, 1], n)
    labels, _ = A.cluster_latent(x, 2, seed=0)
    assert A.adjusted_rand_index(labels, truth) == 1.0
    km, _, _ = A.kmeans(x, 2, seed=0)
    assert A.adjusted_rand_index(km, truth) < 0.1


def test_kmeans_blobs_and_inertia():
    x, truth, centres = _blobs(11, n_per=100)
    labels, c, inertia = A.kmeans(x, 6, seed=3)
    assert A.adjusted_rand_index(labels, truth) == 1.0
    # Inertia equals the within-cluster sum of squares of the returned partition.
    wcss = sum(((x[labels == j] - x[labels == j].mean(0)) ** 2).sum() for j in range(6))
    assert inertia == pytest.approx(wcss, rel=1e-9)


def test_latent_pca_and_centres_to_latent():
    # An 8-D latent living on a 3-D affine subspace: 3 PCA modes map centres back exactly.
    z = _rank_k_data(900, 8, 3, seed=12)
    z_pca, p = A.latent_pca(z, 3)
    assert p.cumulative_energy[-1] == pytest.approx(1.0, abs=1e-12)
    labels, centres = A.cluster_latent(z_pca, 4, seed=0)
    zc = A.centres_to_latent(centres, p)
    ref = np.stack([z[labels == j].mean(axis=0) for j in range(4)])
    np.testing.assert_allclose(zc, ref, atol=1e-10)
    with pytest.raises(TypeError, match="pca"):
        A.centres_to_latent(centres, None)


def test_cluster_bad_input():
    x, _, _ = _blobs(13, n_per=5)
    with pytest.raises(ValueError, match="n_clusters"):
        A.cluster_latent(x, 100, seed=0)
    with pytest.raises(ValueError, match="z_pca contains NaN"):
        A.cluster_latent(np.full((10, 2), np.nan), 2, seed=0)
    with pytest.raises(ValueError, match="bandwidth"):
        A.spectral_labels(x, 2, seed=0, bandwidth=-1.0)


# ---------------------------------------------------------------------------------
# Lyapunov exponents (Benettin) for any deterministic System
# ---------------------------------------------------------------------------------
from ledlib import systems as _systems  # noqa: E402


class _LinearODE(_systems.System):
    """dx/dt = diag(lam) x, solved exactly: every exponent is known (the largest is max(lam))."""

    name = "linear"

    def __init__(self, lam, dt=0.1, coarse_dt=0.5):
        self.lam = np.asarray(lam, dtype=float)
        self.dt, self.coarse_dt = dt, coarse_dt
        self.obs_shape = self.micro_shape = self.lam.shape

    def initial_conditions(self, n, seed=0):
        return np.random.default_rng(seed).normal(size=(n, *self.obs_shape))

    def lift(self, obs, rng=None):
        return np.array(obs, dtype=float)

    def restrict(self, micro):
        return np.array(micro)

    def _advance_steps(self, micro, t0, n_steps, rng):
        return micro * np.exp(self.lam * n_steps * self.dt)


@pytest.mark.parametrize("lam", [[0.3], [-0.7], [0.3, -1.0, -0.2]])
def test_lyapunov_exponent_of_a_linear_ode_is_its_largest_rate(lam):
    sys_ = _LinearODE(lam)
    x0 = sys_.initial_conditions(3, seed=1)
    # the separation needs t_align to turn onto the most unstable direction when there are several;
    # eps well above the rounding of the growing state (linear: the exponent does not depend on it)
    est = A.lyapunov_exponent(sys_, x0, T=20.0, renorm_every=0.5, eps=1e-4, seed=2, t_align=20.0)
    assert est.exponent == pytest.approx(max(lam), abs=1e-6)
    assert est.per_trajectory.shape == (3,) and est.t_total == 20.0
    # without alignment the mixed case is biased: the test above could fail
    if len(lam) > 1:
        raw = A.lyapunov_exponent(sys_, x0, T=2.0, renorm_every=0.5, eps=1e-4, seed=2)
        assert raw.exponent < max(lam) - 1e-3


def test_lyapunov_exponent_refuses_bad_input():
    sys_ = _LinearODE([0.3])
    x0 = sys_.initial_conditions(2)
    with pytest.raises(ValueError, match="renorm_every"):
        A.lyapunov_exponent(sys_, x0, 10.0, renorm_every=0.25)  # not a whole number of dt=0.1 steps
    with pytest.raises(ValueError, match="T=10.2"):
        A.lyapunov_exponent(sys_, x0, 10.2, renorm_every=0.5)
    with pytest.raises((TypeError, ValueError), match="eps"):
        A.lyapunov_exponent(sys_, x0, 10.0, eps=-1.0)
    with pytest.raises(TypeError, match="system must be"):
        A.lyapunov_exponent("KS", x0, 10.0)
    with pytest.raises(ValueError, match="x0 contains NaN"):
        A.lyapunov_exponent(sys_, np.full((2, 1), np.nan), 10.0)
    stochastic = _LinearODE([0.3])
    stochastic.stochastic = True
    with pytest.raises(ValueError, match="deterministic"):
        A.lyapunov_exponent(stochastic, x0, 10.0)


def _ks_neutral(delta):
    return delta - delta.mean(axis=-1, keepdims=True)  # the mean of u is conserved: no growth there


def test_lyapunov_exponent_matches_the_ks_method_bit_for_bit():
    from ledlib.systems.base import as_generator

    ks = _systems.KuramotoSivashinsky()
    a = ks.lyapunov_exponent(t_total=20.0, t_renorm=1.0, n_trajectories=3, seed=0, transient=20.0, t_align=5.0)
    rng = as_generator(0)
    ref = ks.initial_conditions(3, seed=rng, transient=20.0)
    b = A.lyapunov_exponent(ks, ref, 20.0, renorm_every=1.0, eps=1e-7, seed=rng, t_align=5.0, neutral=_ks_neutral)
    np.testing.assert_array_equal(a.per_trajectory, b.per_trajectory)


@pytest.mark.slow
def test_ks_l22_lyapunov_exponent_is_the_papers():
    """KS L=22: Lambda_1 about 0.048 (the paper's Lyapunov time 20.83); about 3 s."""
    from ledlib.systems.base import as_generator

    ks = _systems.KuramotoSivashinsky()
    rng = as_generator(0)
    ref = ks.initial_conditions(8, seed=rng, transient=100.0)
    est = A.lyapunov_exponent(ks, ref, 1000.0, renorm_every=1.0, eps=1e-7, seed=rng, t_align=50.0,
                              neutral=_ks_neutral)
    assert abs(est.exponent - 0.048) < max(3 * est.stderr, 0.004)
    assert est.stderr < 0.005


# ---------------------------------------------------------------------------------
# reconstruction error of an LED's autoencoder
# ---------------------------------------------------------------------------------
def test_reconstruction_error_is_the_mean_square_in_network_units():
    import torch

    from ledlib import configs, data
    from ledlib.nn import LED

    cfg = configs.get("KS", "quick")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 64)) * 2.0 + 1.0
    torch.manual_seed(0)
    led = LED(cfg, scaler=data.StandardScaler().fit(x))
    flat = x.reshape(-1, 64)
    xs = (flat - x.mean()) / x.std()  # the standard scaler by hand
    with torch.no_grad():
        rec = led.autoencoder.decode(led.autoencoder.encode(torch.as_tensor(xs, dtype=torch.float32),
                                                            sample=False)).double().numpy()
    expected = np.mean((rec - xs) ** 2)
    assert A.reconstruction_error(led, x) == pytest.approx(expected, rel=1e-5)
    # batches change only the float32 rounding inside the network
    assert A.reconstruction_error(led, flat, batch_size=3) == pytest.approx(A.reconstruction_error(led, flat),
                                                                            rel=1e-6)
    with pytest.raises(ValueError, match="x must have shape"):
        A.reconstruction_error(led, np.zeros((4, 63)))
    with pytest.raises(TypeError, match="led must be"):
        A.reconstruction_error(cfg, flat)


def test_latent_span_finds_the_subspace_and_measures_the_distance_from_it():
    """Latents on a 3-plane in R^6 (plus 1e-6 noise): the span has k = 3, states on the
    plane are ~0 from it, and a state moved off the plane by a known vector is at exactly
    that distance (in units of the training latents' spread)."""
    from ledlib import analysis

    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    plane, normal = q[:, :3], q[:, 3]
    centre = np.arange(6.0)
    z = centre + rng.normal(size=(500, 3)) * [3.0, 2.0, 1.0] @ plane.T + 1e-6 * rng.normal(size=(500, 6))
    span = analysis.latent_span(z, energy=0.9999)
    assert span.k == 3
    scale = np.sqrt(np.sum((z - z.mean(0)) ** 2) / len(z))
    assert span.scale == pytest.approx(scale)
    on = centre + np.array([[1.0, -2.0, 0.5]]) @ plane.T
    assert span.off_span(on)[0] < 1e-5
    assert span.off_span(on + 4.0 * normal)[0] == pytest.approx(4.0 / scale, rel=1e-5)
    assert analysis.latent_span(z, energy=1.0).k == 6
    with pytest.raises(ValueError, match="energy must be a fraction"):
        analysis.latent_span(z, energy=0.0)
    with pytest.raises(ValueError, match="z must have 6 latent coordinates"):
        span.off_span(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="no variance"):
        analysis.latent_span(np.ones((10, 4)))
