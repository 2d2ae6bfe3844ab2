"""ledlib.clustering: the eigengap test finds k metastable states where there are k and
reports no gap where there are none; the mixing checks measure what they say."""

import numpy as np
import pytest

from ledlib import clustering as C


def markov_blobs(k, n=3000, stay=0.97, d=5, sep=4.0, width=0.3, seed=0):
    """A sticky Markov chain between k Gaussian blobs on a sphere of radius ``sep`` in d dims."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(k, d))
    c = sep * c / np.linalg.norm(c, axis=1, keepdims=True)
    s = np.empty(n, dtype=int)
    s[0] = 0
    jump = rng.random(n) > stay
    to = rng.integers(k, size=n)
    for t in range(1, n):
        s[t] = to[t] if jump[t] else s[t - 1]
    return c[s] + width * rng.normal(size=(n, d)), s


def ornstein_uhlenbeck(n=3000, phi=0.95, d=5, seed=0):
    """An AR(1) (discretised OU) run, linearly mixed: one Gaussian mode, no metastability."""
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, d))
    x = np.zeros((n, d))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x @ rng.normal(size=(d, d))


@pytest.mark.parametrize("k", [3, 5])
def test_finds_k_metastable_states(k):
    z, s = markov_blobs(k, seed=k)
    r = C.metastable_states(z, max_points=400, seed=1)
    assert r.k == k and r.p_value <= 0.05
    assert r.gap > np.quantile(r.surrogate_gaps, 0.95)
    # the clusters are the blobs: every blob's samples share one label (up to a few strays)
    agree = sum(np.bincount(r.labels[s == j]).max() for j in range(k)) / len(s)
    assert agree > 0.98
    assert r.centres.shape == (k, 3) and r.z_latent_centres.shape == (k, 5)
    assert r.mixing.transitions > 10 and r.mixing.visited == k


@pytest.mark.parametrize("seed", [0, 1])
def test_no_gap_without_metastability(seed):
    r = C.metastable_states(ornstein_uhlenbeck(seed=seed), max_points=400, seed=seed)
    assert r.k is None and r.p_value > 0.05
    assert r.k_eigengap >= 2  # the bare heuristic still names a count: the test is what refuses it
    assert np.all(r.labels == 0) and r.centres.shape == (1, 3)
    assert "no gap" in r.summary()


def test_same_seed_same_result():
    z, _ = markov_blobs(3, n=1500, seed=2)
    a = C.eigengap_test(z, n_surrogates=19, max_points=300, seed=4)
    b = C.eigengap_test(z, n_surrogates=19, max_points=300, seed=4)
    assert np.array_equal(a["surrogate_gaps"], b["surrogate_gaps"]) and a["gap"] == b["gap"]


def test_autocorrelation_time_of_ar1():
    # tau = (1 + phi) / (1 - phi) for an AR(1); white noise gives 1
    rng = np.random.default_rng(0)
    phi, n = 0.8, 200_000
    e = rng.normal(size=n)
    y = np.empty(n)
    y[0] = e[0]
    for t in range(1, n):
        y[t] = phi * y[t - 1] + e[t]
    assert C.integrated_autocorrelation_time(y) == pytest.approx((1 + phi) / (1 - phi), rel=0.05)
    assert C.integrated_autocorrelation_time(e) == pytest.approx(1.0, abs=0.05)


def test_count_transitions_ignores_jitter():
    labels = np.array([0] * 10 + [1] + [0] * 10 + [1] * 10 + [2] * 2 + [1] * 10 + [0] * 10)
    assert C.count_transitions(labels, min_dwell=1) == 6
    assert C.count_transitions(labels, min_dwell=5) == 2  # 0 -> 1 -> 0; the blips do not count


def test_mixing_flags_a_run_that_did_not_mix():
    z, s = markov_blobs(3, n=3000, stay=0.9995, seed=3)  # a few jumps only
    labels = s
    m = C.mixing(z[:, :3], labels)
    assert not m.mixed and m.transitions < 10
    z, s = markov_blobs(3, n=6000, stay=0.9, seed=3)
    m = C.mixing(z[:, :3], s)
    assert m.mixed and m.transitions > 100 and m.visited == 3
    assert m.n_effective == pytest.approx(6000 / (2 * max(m.tau)))


def test_bad_input():
    z, _ = markov_blobs(2, n=200)
    with pytest.raises(ValueError, match="n_surrogates"):
        C.eigengap_test(z, n_surrogates=5, alpha=0.05)
    with pytest.raises(ValueError, match="alpha"):
        C.eigengap_test(z, alpha=1.5)
    with pytest.raises(ValueError, match="z must be"):
        C.metastable_states(np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="labels"):
        C.mixing(z, np.zeros(5))
    with pytest.raises(ValueError, match="min_dwell"):
        C.count_transitions([0, 1], min_dwell=0)


def limit_cycle(period=37, n=4000, d=8, transient=300.0, seed=0):
    """A closed orbit of ``period`` samples embedded in d dims, reached through a decaying
    transient (as a deterministic latent run settles on its attractor)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = 2 * np.pi * t / period
    basis = np.stack([np.cos(phase), np.sin(phase), np.cos(2 * phase), np.sin(3 * phase)], axis=1)
    x = basis @ rng.normal(size=(4, d))
    return x + np.exp(-t / transient)[:, None] * rng.normal(size=(1, d))


def test_recurrence_period_finds_the_orbit_and_nothing_in_noise():
    assert C.recurrence_period(limit_cycle(37)) == 37
    assert C.recurrence_period(limit_cycle(189, n=40001)) == 189  # a long orbit in a run as long as AD 3-D's
    assert C.recurrence_period(np.full((100, 2), 0.3)) == 1  # constant from the start
    # the transient is still there in the first half: the whole run does not repeat
    assert C.recurrence_period(limit_cycle(37, transient=3000.0), tail=1.0) is None
    x_fixed = np.ones((500, 3)) + np.exp(-np.arange(500) / 20.0)[:, None]
    assert C.recurrence_period(x_fixed) == 1
    assert C.recurrence_period(ornstein_uhlenbeck()) is None
    blobs, _ = markov_blobs(4)
    assert C.recurrence_period(blobs) is None
    # a tolerance below the orbit's jitter finds nothing, one above it finds the period
    jitter = limit_cycle(37) + 1e-4 * np.random.default_rng(1).normal(size=(4000, 8))
    assert C.recurrence_period(jitter, rtol=1e-6) is None
    assert C.recurrence_period(jitter, rtol=1e-3) == 37
    # an orbit longer than max_period is not reported
    assert C.recurrence_period(limit_cycle(37), max_period=30) is None


@pytest.mark.parametrize("kw, match", [(dict(rtol=0.0), "rtol"), (dict(tail=0.0), "tail"), (dict(tail=1.5), "tail"),
                                       (dict(max_period=0), "max_period"), (dict(max_period=10**6), "max_period")])
def test_recurrence_period_refuses_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        C.recurrence_period(limit_cycle(37), **kw)
    with pytest.raises(ValueError, match="z must be"):
        C.recurrence_period(np.zeros(100))


def periodic_truth(period=62.83, n=4000, noise=0.02, radius=1.0, seed=0):
    """A noisy sampled circle whose period is not a whole number of samples (the AD 3-D
    wind's 10 pi in steps of 0.5), as an encoded true run of a periodically forced system."""
    rng = np.random.default_rng(seed)
    phase = 2 * np.pi * np.arange(n) / period
    return radius * np.stack([np.cos(phase), np.sin(phase)], axis=1) + noise * rng.normal(size=(n, 2))


def exact_cycle(period=63, n=20000, radius=1.0):
    phase = 2 * np.pi * np.arange(n) / period
    return radius * np.stack([np.cos(phase), np.sin(phase)], axis=1)


def test_orbit_agreement_measures_the_distance_between_orbits():
    truth = periodic_truth()
    scale = np.linalg.norm(truth.max(0) - truth.min(0))
    same = C.orbit_agreement(exact_cycle(), truth)
    assert same.period == 63 and same.scale == pytest.approx(scale)
    # the model's orbit is the true circle: distances are the noise, a small fraction of the range
    assert same.model_to_truth < 0.02 and same.truth_to_model < 0.03
    # the true run comes back after the whole number of samples nearest its period, to about
    # its noise (two noisy copies of a point lie ~1.7 x 0.02 apart; the phase slips 0.17 of a step)
    assert same.true_period == 63
    assert same.true_return == pytest.approx(1.7 * 0.02 / scale, rel=0.35)
    assert same.true_step == pytest.approx(2 * np.sin(np.pi / 62.83) / scale, rel=0.1)
    # an orbit of half the radius lies 0.5 inside the true circle (the nearest noisy true
    # point a few noise widths less)
    small = C.orbit_agreement(exact_cycle(radius=0.5), truth)
    assert (0.5 - 4 * 0.02) / scale < small.model_to_truth < 0.5 / scale
    assert small.truth_to_model == pytest.approx(0.5 / scale, rel=0.05)
    # a fixed point at the centre: period 1, a radius away from every true point
    centre = C.orbit_agreement(np.zeros((500, 2)), truth)
    assert centre.period == 1 and centre.truth_to_model == pytest.approx(1 / scale, rel=0.05)
    # a model that covers only a quarter of the orbit lies on it but does not cover it
    arc = exact_cycle()[:16]
    part = C.orbit_agreement(np.tile(arc, (50, 1)), truth)
    assert part.model_to_truth < 0.02 and part.truth_to_model_q95 > 0.3


def test_orbit_agreement_keeps_the_orbit_it_compared_and_the_noise_of_the_truth():
    """points: the model's last period; return_noise: the truth's noise per coordinate, from
    its return distance (a circle in 8 dimensions with noise 0.02 in each)."""
    model = exact_cycle()
    r = C.orbit_agreement(model, periodic_truth())
    np.testing.assert_array_equal(r.points, model[-63:])
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(8, 2)))  # the plane of the circle in 8-D
    truth8 = periodic_truth(noise=0.0) @ q.T + 0.02 * rng.normal(size=(4000, 8))
    r8 = C.orbit_agreement(exact_cycle() @ q.T, truth8)
    assert r8.true_period == 63 and r8.return_noise == pytest.approx(0.02, rel=0.15)
    half = C.orbit_agreement(ornstein_uhlenbeck(d=2)[:1000], periodic_truth())  # no period: its last half
    assert half.period is None and len(half.points) == 500


def test_orbit_agreement_finds_no_return_in_noise():
    ou = ornstein_uhlenbeck(d=2)
    r = C.orbit_agreement(exact_cycle(), ou)
    assert r.true_period is None and r.true_return is None
    assert r.true_best_return > 0.25 * r.true_step
    assert "does not come back" in r.summary(0.5)


@pytest.mark.parametrize("kw, match", [(dict(max_lag=0), "max_lag"), (dict(return_fraction=0.0), "return_fraction"),
                                       (dict(rtol=-1.0), "rtol")])
def test_orbit_agreement_refuses_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        C.orbit_agreement(exact_cycle(), periodic_truth(), **kw)
    with pytest.raises(ValueError, match="same dimension"):
        C.orbit_agreement(exact_cycle(), np.zeros((100, 3)) + np.arange(100)[:, None])
    with pytest.raises(ValueError, match="constant"):
        C.orbit_agreement(exact_cycle(), np.ones((100, 2)))


def test_a_uniform_speed_orbit_has_the_gaps_of_its_null_and_one_that_lingers_does_not():
    period, n = 63, 3000
    orbit = limit_cycle(period, n=period, transient=1e-9)  # the closed orbit's points, in order
    sigma = 0.02 * np.ptp(orbit, axis=0).max()
    null = C.orbit_null_gaps(orbit, n, sigma=sigma, n_surrogates=9, max_points=500)
    assert null["gaps"].shape == (9,) and np.all(null["gaps"] >= 0)
    rng = np.random.default_rng(5)
    # a run along the same orbit at uniform speed: its gap is one of the null's
    u = rng.random(n) * period
    j = np.floor(u).astype(int)
    f = (u - j)[:, None]
    uniform = orbit[j] + f * (orbit[(j + 1) % period] - orbit[j]) + sigma * rng.normal(size=(n, 8))
    g_uniform = C.eigengap_test(C.latent_pca(uniform, n_components=3)[0], max_points=500, n_surrogates=19)["gap"]
    assert g_uniform <= 2 * null["gaps"].max()
    # a run along the same orbit that lingers at three places (its density there 1000 times
    # the rest, over half a sample): three eigenvalues at 1, then a drop above every null gap
    u = rng.random(400 * n) * period
    arc = lambda c: ((u - c + period / 2) % period) - period / 2  # noqa: E731  (signed distance along the orbit)
    dens = 1 + 1000 * sum(np.exp(-0.5 * (arc(c) / 0.5) ** 2) for c in (0, 21, 42))
    u = u[rng.random(u.size) * dens.max() < dens][:n]
    j = np.floor(u).astype(int)
    f = (u - j)[:, None]
    lingering = orbit[j] + f * (orbit[(j + 1) % period] - orbit[j]) + sigma * rng.normal(size=(n, 8))
    t = C.eigengap_test(C.latent_pca(lingering, n_components=3)[0], max_points=500, n_surrogates=19)
    lam = t["eigenvalues"]
    assert lam[2] > 0.999 and lam[2] - lam[3] > 2 * null["gaps"].max() and t["gap"] > 3 * null["gaps"].max()
    for bad in (-1.0, np.nan, "0.1", True):
        with pytest.raises(ValueError, match="sigma"):
            C.orbit_null_gaps(orbit, n, sigma=bad)
    with pytest.raises(ValueError, match="single point"):
        C.orbit_null_gaps(np.zeros((5, 2)), n, sigma=0.1)
