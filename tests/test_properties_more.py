"""Property-based tests at the public boundary of LED's inference helpers, the ensemble, the
adaptive criterion, the baselines, clustering and forecast.Schedule/Recording (issue 14):
invalid arguments raise ValueError/TypeError naming the parameter, valid ones give finite
results with a value checked where one can be. Profiles: "ci" (default) and "long"
(HYPOTHESIS_PROFILE=long)."""

import importlib
import math
import os
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ledlib.forecast as fc
from ledlib import adaptive, clustering, configs, ensemble
from ledlib.baselines import cspde
from ledlib.baselines import finite_differences as fd
from ledlib.nn import LED
from untrained import shared_autoencoder_members, untrained_led

dm = importlib.import_module("ledlib.baselines.diffusion_maps")  # the package re-exports a function of that name

settings.register_profile("ci", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

NAN, INF = float("nan"), float("inf")
finite = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)
not_a_flag = st.sampled_from(["yes", None, 2, 1.5, "False"])
not_an_array = st.sampled_from(["abc", None, np.array([object()] * 3, dtype=object)])


def raises_naming(param: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` raises ValueError/TypeError whose message names ``param`` as a word."""
    with pytest.raises((ValueError, TypeError)) as err:
        fn(*args, **kwargs)
    msg = str(err.value)
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(param)}(?![A-Za-z0-9_])", msg, re.IGNORECASE), msg


_LEDS: dict = {}


def _led(system: str = "KS", seed: int = 0) -> LED:
    if (system, seed) not in _LEDS:
        _LEDS[system, seed] = untrained_led(system, seed)
    return _LEDS[system, seed]


def _members(k: int = 3) -> list:
    return shared_autoencoder_members("KS", k, first=_led("KS", 0))


def _latents(d_z: int, b: int, values) -> torch.Tensor:
    return torch.as_tensor(np.resize(np.asarray(values, dtype=np.float32), (b, d_z)))


# -- LED's inference helpers ---------------------------------------------------------------
@given(st.integers(1, 3), st.integers(0, 6), st.lists(finite, min_size=1, max_size=8))
def test_rollout_is_repeated_steps_and_latent_rollout_ends_where_it_does(b, n, values):
    led = _led()
    z = _latents(led.d_z, b, values)
    traj, h = led.rollout(z, None, n)
    assert traj.shape == (b, n, led.d_z) and bool(torch.isfinite(traj).all())
    zk, hk = z, None
    for k in range(n):
        zk, hk = led.step(zk, hk)
        torch.testing.assert_close(traj[:, k], zk, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        r = led.latent_rollout(z)
        r.advance(n)
        torch.testing.assert_close(r.z, zk, rtol=1e-5, atol=1e-6)


@given(st.sampled_from(["nan", "inf", "empty", "shape", "abc", None, "object"]),
       st.sampled_from(["decode", "step", "rollout", "latent_rollout", "warm_up"]))
def test_bad_latents_are_named(kind, method):
    led = _led()
    good = torch.zeros(2, led.d_z) if method != "warm_up" else torch.zeros(2, 3, led.d_z)
    bad = {"nan": good.clone().fill_(NAN), "inf": good.clone().fill_(INF), "empty": good[:0],
           "shape": torch.zeros(2, led.d_z + 1), "abc": "abc", None: None,
           "object": np.array([object()] * 2, dtype=object)}[kind]
    name = "z_seq" if method == "warm_up" else "z"
    call = {"decode": lambda z: led.decode(z), "step": lambda z: led.step(z),
            "rollout": lambda z: led.rollout(z, None, 2), "latent_rollout": lambda z: led.latent_rollout(z),
            "warm_up": lambda z: led.warm_up(z)}[method]
    raises_naming(name, call, bad)


@given(st.sampled_from(["abc", 3, "wrong batch", "wrong width", "one tensor for an LSTM"]),
       st.sampled_from(["step", "rollout", "warm_up", "latent_rollout"]))
def test_a_bad_hidden_state_is_named(kind, method):
    led = _led("KS") if kind != "one tensor for an LSTM" else _lstm_led()
    z = torch.zeros(2, led.d_z)
    _, good = led.step(z)
    h = good[0] if isinstance(good, tuple) else good
    bad = {"abc": "abc", 3: 3, "wrong batch": _reshape_hidden(good, lambda t: t[:, :1]),
           "wrong width": _reshape_hidden(good, lambda t: t[..., :-1]), "one tensor for an LSTM": h}[kind]
    call = {"step": lambda: led.step(z, bad), "rollout": lambda: led.rollout(z, bad, 1),
            "warm_up": lambda: led.warm_up(z[:, None], bad), "latent_rollout": lambda: led.latent_rollout(z, bad)}
    raises_naming("hidden", call[method])


def _reshape_hidden(hidden, f):
    return tuple(f(t) for t in hidden) if isinstance(hidden, tuple) else f(hidden)


def _lstm_led() -> LED:
    if "lstm" not in _LEDS:
        cfg = configs.get("KS", profile="quick")
        cfg = cfg.replace(rnn=cfg.rnn.__class__(**{**cfg.rnn.__dict__, "cell": "lstm"}))
        torch.manual_seed(0)
        _LEDS["lstm"] = LED(cfg).eval()
    return _LEDS["lstm"]


@given(st.sampled_from([-1, 1.5, "2", None, True, 10**12]))
def test_rollout_refuses_a_bad_or_absurd_number_of_steps(n):
    led = _led()
    raises_naming("n_steps", led.rollout, torch.zeros(1, led.d_z), None, n)


@given(not_a_flag, st.sampled_from(["encode_scaled", "encode_sample", "decode_scaled"]))
def test_led_flags_must_be_booleans(value, where):
    led = _led()
    if where == "decode_scaled":
        raises_naming("scaled", led.decode, torch.zeros(1, led.d_z), scaled=value)
    else:
        kw = where.split("_")[1]
        raises_naming(kw, led.encode, np.zeros((1, *led.obs_shape)), **{kw: value})


@given(st.integers(1, 6), st.integers(0, 2**16))
def test_particle_decode_draws_n_particles_and_refuses_absurd_counts(n, seed):
    led = _led("AD1D")
    z = torch.zeros(2, led.d_z)
    x = led.decode(z, n_particles=n, generator=torch.Generator().manual_seed(seed))
    assert x.shape == (2, n, led.obs_shape[-1]) and bool(torch.isfinite(x).all())
    y = led.decode(z, n_particles=n, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(x, y)  # same seed, same draws
    raises_naming("n_particles", led.decode, z, n_particles=10**12)
    raises_naming("generator", led.decode, z, n_particles=n, generator=seed)


# -- ensemble -----------------------------------------------------------------------------
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=finite),
       hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=finite),
       st.floats(0.1, 10.0))
def test_latent_spread_of_two_members_is_their_scaled_distance_over_root_two(a, b, scale):
    b = np.resize(b, a.shape)
    z = torch.as_tensor(np.stack([a, b]))
    got = ensemble.latent_spread(z, scale).numpy()
    want = np.sqrt((((b - a) / scale) ** 2 / 2.0).mean(axis=-1))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@given(st.sampled_from([0.0, -1.0, NAN, INF, "1", None]))
def test_latent_spread_names_a_bad_scale(scale):
    raises_naming("scale", ensemble.latent_spread, torch.zeros(2, 1, 3), scale)


@given(st.sampled_from(["nan", "inf", "abc", None, "2-D"]))
def test_latent_spread_names_a_bad_z(kind):
    z = {"nan": torch.full((2, 1, 3), NAN), "inf": torch.full((2, 1, 3), INF), "abc": "abc", None: None,
         "2-D": torch.zeros(2, 3)}[kind]
    raises_naming("z", ensemble.latent_spread, z)


@given(st.sampled_from([0, 1, ensemble.MAX_MEMBERS + 1]))
def test_an_ensemble_of_a_wrong_size_names_leds(k):
    raises_naming("leds", ensemble.LatentEnsemble, [_led()] * k)


@given(st.sampled_from(["nan", "shape"]), st.sampled_from(["step", "warm_up"]))
def test_ensemble_steps_name_bad_latents(kind, method):
    ens = ensemble.LatentEnsemble(_members())
    d = ens.d_z
    z = torch.full((2, d), NAN) if kind == "nan" else torch.zeros(2, d + 1)
    if method == "step":
        raises_naming("z", ens.step, z)
    else:
        raises_naming("z_seq", ens.warm_up, z[:, None])


@given(not_a_flag, st.sampled_from(["progress", "include_led"]))
def test_fit_ensemble_checks_its_flags_before_training(value, name):
    led = _led()
    raises_naming(name, ensemble.fit_ensemble, led, None, 2, **{name: value})


@given(st.sampled_from([None, 3, "abc"]))
def test_fit_ensemble_names_a_bad_led_or_rnn_config(value):
    raises_naming("led", ensemble.fit_ensemble, value, None, 2)
    if value is not None:
        raises_naming("rnn_config", ensemble.fit_ensemble, _led(), None, 2, rnn_config=value)


# -- adaptive -----------------------------------------------------------------------------
@given(st.integers(1, 20), st.integers(1, 6), st.integers(1, 200))
def test_macro_utilisation_bound_counts_the_cycle(max_macro, n_micro, n_steps):
    c = adaptive.AdaptiveCriterion(max_macro=max_macro, n_micro=n_micro, n_compare=min(2, n_micro - 1),
                                   comparison_threshold=None if n_micro == 1 else 0.01)
    macro = sum((j % (max_macro + n_micro)) < max_macro for j in range(n_steps))
    assert c.macro_utilisation_bound(n_steps) == macro / n_steps
    assert c.macro_utilisation_bound() == max_macro / (max_macro + n_micro)


@given(st.sampled_from(["spread_threshold", "comparison_threshold"]), st.sampled_from([-1.0, NAN, -INF, "1", True]))
def test_bad_thresholds_are_named(name, value):
    raises_naming(name, adaptive.AdaptiveCriterion, **{name: value})


@given(st.lists(st.sampled_from([fc.MACRO, fc.MICRO]), max_size=30))
def test_switching_sequence_runs_expand_back_to_the_phases(phases):
    runs = adaptive.switching_sequence(phases)
    assert [p for p, n in runs for _ in range(n)] == phases
    assert all(a[0] != b[0] for a, b in zip(runs, runs[1:]))  # maximal runs


@given(st.sampled_from(["abc", None, ["macro", "bogus"], [1.0, 2.0], [[fc.MACRO]]]))
def test_switching_sequence_names_bad_phases(phases):
    raises_naming("phases", adaptive.switching_sequence, phases)


@given(hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(0.01, 10.0)),
       hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(0.01, 10.0)))
def test_pareto_front_points_are_not_dominated_and_the_rest_are(e, s):
    s = np.resize(s, e.shape)
    front = set(adaptive.pareto_front(e, s).tolist())
    for i in range(e.size):
        dominated = any((e[j] <= e[i] and s[j] >= s[i]) and (e[j] < e[i] or s[j] > s[i]) for j in range(e.size))
        if i in front:
            assert not dominated
        else:  # dominated, or equal to a front point
            assert dominated or any(e[j] == e[i] and s[j] == s[i] for j in front)


@given(not_an_array, st.sampled_from(["errors", "speedups"]))
def test_pareto_front_names_an_array_that_is_not_numeric(bad, name):
    kw = dict(errors=[1.0, 2.0], speedups=[1.0, 2.0])
    kw[name] = bad
    raises_naming(name, adaptive.pareto_front, **kw)


@given(not_an_array, st.sampled_from(["spread", "error"]))
def test_calibration_names_an_array_that_is_not_numeric(bad, name):
    kw = dict(spread=np.linspace(0, 1, 10), error=np.linspace(0, 1, 10))
    kw[name] = bad
    raises_naming(name, adaptive.calibration, **kw)


@given(st.sampled_from([dict(system="bogus"), dict(system=None), dict(profile="bogus"), dict(profile=3),
                        dict(settings="abc"), dict(progress="yes")]))
def test_run_study_checks_its_arguments_before_training(change):
    kw = dict(system="KS", profile="quick")
    kw.update(change)
    raises_naming(next(iter(change)), adaptive.run_study, **kw)


# -- baselines -------------------------------------------------------------------------------
@given(st.integers(3, 12), st.floats(0.01, 2.0), st.floats(-3, 3), st.floats(-3, 3))
def test_second_differences_are_exact_for_quadratics_inside(n, dx, a, b):
    x = dx * np.arange(n)
    f_x, f_xx = fd.spatial_derivatives(a * x**2 + b * x, dx)
    np.testing.assert_allclose(f_xx[1:-1], 2 * a, rtol=1e-6, atol=1e-6 * (1 + abs(a)))
    np.testing.assert_allclose(f_x[1:-1], 2 * a * x[1:-1] + b, rtol=1e-6, atol=1e-6 * (1 + abs(a) + abs(b)))
    assert f_x[0] == 0.0 and f_x[-1] == 0.0  # the no-flux walls


@given(st.integers(3, 12), st.floats(0.01, 2.0), st.floats(-3, 3), st.floats(-3, 3))
def test_time_derivative_is_exact_for_quadratics(n, dt, a, b):
    t = dt * np.arange(n)
    got = fd.time_derivative((a * t**2 + b * t)[:, None], dt, axis=0)[:, 0]
    np.testing.assert_allclose(got, 2 * a * t + b, rtol=1e-6, atol=1e-6 * (1 + abs(a) + abs(b)) * (1 + t.max()))


@given(st.sampled_from(["nan", "inf", "abc", None, "empty"]))
def test_finite_differences_name_bad_fields(kind):
    f = np.ones((2, 5))
    bad = {"nan": np.full((2, 5), NAN), "inf": np.full((2, 5), INF), "abc": "abc", None: None,
           "empty": f[:0]}[kind]
    raises_naming("f", fd.spatial_derivatives, bad, 0.1)
    if kind != "empty":
        raises_naming("states", fd.time_derivative, bad.T if isinstance(bad, np.ndarray) else bad, 0.1)


@given(st.permutations(cspde.FEATURE_NAMES).map(lambda p: tuple(p[:3])))
def test_features_follow_the_names_given(names):
    rng = np.random.default_rng(0)
    u, v = rng.random((2, 7)), rng.random((2, 7))
    all_ = cspde.features(u, v, 0.1)
    got = cspde.features(u, v, 0.1, names)
    np.testing.assert_array_equal(got, all_[:, [cspde.FEATURE_NAMES.index(n) for n in names]])


@given(st.sampled_from([None, 3, "bogus", [], ["u", "u"]]), st.sampled_from(["features_u", "features_v"]))
def test_coarse_pde_names_bad_feature_sets(value, name):
    raises_naming(name, cspde.CoarsePDE, 0.1, **{name: value})


@given(st.sampled_from(["u", "v"]), st.sampled_from(["nan", "inf", "abc"]))
def test_features_name_a_bad_field(name, kind):
    kw = dict(u=np.ones((2, 5)), v=np.ones((2, 5)))
    kw[name] = {"nan": np.full((2, 5), NAN), "inf": np.full((2, 5), INF), "abc": "abc"}[kind]
    raises_naming(name, cspde.features, dx=0.1, **kw)


@given(st.sampled_from([dict(ics=None), dict(ics=[99]), dict(ics=[1.5]), dict(ics=[]),
                        dict(t_start=-1.0), dict(t_end=NAN), dict(t_end=1e308), dict(t_start="1")]))
def test_fhn_fine_data_checks_before_simulating(change):
    kw = dict(ics=(0,), sample_dt=0.05, t_start=2.0, t_end=2.5)
    kw.update(change)
    name = next(iter(change))
    raises_naming(name, cspde.fhn_fine_data, **kw)


@given(hnp.arrays(np.float64, st.tuples(st.integers(6, 25), st.integers(1, 3)), elements=finite, unique=True),
       hnp.arrays(np.float64, 3, elements=finite))
def test_local_linear_regression_reproduces_affine_functions(X, w):
    X = X + np.arange(X.shape[0])[:, None] * 1e-3  # distinct points
    Y = X @ w[:X.shape[1]] + 0.5
    np.testing.assert_allclose(dm.local_linear_regression(X, Y, ridge=0.0, bandwidth_scale=10.0), Y,
                               rtol=1e-6, atol=1e-6 * (1 + np.abs(Y).max()))


@given(st.sampled_from([-1.0, NAN, INF, "1", None]))
def test_local_linear_regression_names_a_bad_ridge(ridge):
    X = np.linspace(0, 1, 10)[:, None]
    raises_naming("ridge", dm.local_linear_regression, X, X[:, 0], ridge=ridge)


@given(st.integers(10, 40), st.integers(1, 3), st.integers(0, 2**16))
def test_diffusion_map_eigenvalues_descend_below_one(n, k, seed):
    X = np.random.default_rng(seed).normal(size=(n, 2))
    res = dm.diffusion_maps(X, k)
    lam = res.eigenvalues
    assert lam.shape == (k,) and np.all(np.diff(lam) <= 1e-12) and np.all(lam < 1 + 1e-9)
    np.testing.assert_allclose(np.mean(res.coordinates**2, axis=0), 1.0, rtol=1e-9)


@given(st.sampled_from([None, 3, "abc", [], [0.0], [NAN]]))
def test_bandwidth_scales_are_named(scales):
    X = np.linspace(0, 1, 10)[:, None]
    raises_naming("bandwidth_scales", dm.llr_residuals_cv, X, X[:, 0] ** 2, scales)


# -- clustering ------------------------------------------------------------------------------
@given(st.lists(st.integers(0, 3), min_size=1, max_size=40))
def test_count_transitions_with_dwell_one_counts_label_changes(labels):
    want = sum(a != b for a, b in zip(labels, labels[1:]))
    assert clustering.count_transitions(np.array(labels), 1) == want


@given(st.sampled_from(["abc", None, np.array([0.0, NAN, 1.0]), np.array([object()] * 3, dtype=object)]))
def test_count_transitions_names_bad_labels(labels):
    raises_naming("labels", clustering.count_transitions, labels)


@given(st.sampled_from([0, -1, clustering.MAX_SURROGATES + 1, 10**12, 1.5]))
def test_eigengap_test_bounds_the_surrogates(n):
    x = np.random.default_rng(0).normal(size=(20, 2))
    raises_naming("n_surrogates", clustering.eigengap_test, x, 3, n_surrogates=n)


@given(st.sampled_from([("min_effective", INF), ("min_effective", 0.0), ("min_dwell", 0), ("min_dwell", "2"),
                        ("min_transitions", -1)]))
def test_mixing_checks_its_limits_even_without_labels(kw):
    z = np.random.default_rng(0).normal(size=(30, 2))
    raises_naming(kw[0], clustering.mixing, z, **{kw[0]: kw[1]})


@given(st.floats(0.0, 0.8), st.integers(0, 2**16))
def test_autocorrelation_time_of_an_ar1_series(phi, seed):
    from scipy.signal import lfilter

    n = 20000
    y = lfilter([1.0], [1.0, -phi], np.random.default_rng(seed).normal(size=n))  # y_t = phi y_{t-1} + e_t
    tau = clustering.integrated_autocorrelation_time(y)
    want = (1 + phi) / (1 - phi)
    # Madras & Sokal: var(tau_hat) ~ 2 (2W + 1) / n tau^2, window W ~ c tau = 5 tau; 4 sigma
    sigma = want * math.sqrt(2 * (2 * 5 * want + 1) / n)
    assert abs(tau - want) < 4 * sigma
    raises_naming("c", clustering.integrated_autocorrelation_time, y, c=INF)


# -- forecast.Schedule and forecast.Recording ------------------------------------------------
@given(st.sampled_from([0.1, 0.25, 1.0]), st.integers(1, 10), st.integers(1, 40), st.integers(0, 5),
       st.integers(0, 5))
def test_schedule_from_times_counts_coarse_steps(dt, n_warm, n_steps, n_m, n_mu):
    if n_m == 0 and n_mu == 0:
        raises_naming("T_m", fc.Schedule.from_times, dt, T_warm=n_warm * dt, horizon=n_steps * dt, T_m=0.0,
                      T_mu=0.0)
        return
    s = fc.Schedule.from_times(dt, T_warm=n_warm * dt, horizon=n_steps * dt, T_m=n_m * dt, T_mu=n_mu * dt)
    assert (s.n_warm, s.n_steps, s.n_mu) == (n_warm, n_steps, n_mu)
    assert s.n_m == (n_m if n_mu else n_steps)
    assert np.count_nonzero(s.phases() == fc.MACRO) == sum(
        (j % (s.n_m + s.n_mu)) < s.n_m for j in range(n_steps))


@given(st.sampled_from([0.0, -1.0, NAN, INF, "1", None]))
def test_schedule_names_a_bad_coarse_dt(dt):
    raises_naming("coarse_dt", fc.Schedule.from_times, dt, T_warm=1.0, horizon=1.0)
    raises_naming("coarse_dt", fc.Schedule, dt, 1, 1, 1, 0)


@given(st.integers(1, 12), st.integers(0, 60), finite, st.sampled_from([0.1, 0.25, 1.0]))
def test_recording_plans_every_kth_step(k, n_steps, t_start, dt):
    rec, lat = fc.Recording(record_at=k, keep_latents="all").plan(n_steps, t_start, dt)
    assert rec.tolist() == list(range(k, n_steps + 1, k)) and lat.tolist() == list(range(n_steps + 1))


@given(st.sampled_from([("record_at", 0), ("record_at", None), ("record_at", "bogus"), ("record_at", [NAN]),
                        ("record_at", True), ("keep_states", "yes"), ("keep_states", None), ("observers", 3),
                        ("observers", None), ("dtype", None), ("dtype", "abc"), ("dtype", np.int8),
                        ("keep_latents", "some")]))
def test_recording_names_a_bad_field(kw):
    raises_naming(kw[0], fc.Recording, **{kw[0]: kw[1]})


@given(st.sampled_from([("n_steps", -1), ("n_steps", 1.5), ("n_steps", 10**12), ("t_start", NAN),
                        ("t_start", 1e308), ("coarse_dt", 0.0), ("coarse_dt", "1")]))
def test_recording_plan_names_a_bad_grid(kw):
    args = dict(n_steps=10, t_start=0.0, coarse_dt=0.25)
    args.update({kw[0]: kw[1]})
    raises_naming(kw[0], fc.Recording(record_at=2).plan, **args)


@given(st.floats(0.1, 3.0), st.floats(0.5, 2.0), st.floats(0.0, 1.0), st.integers(2, 6))
def test_fixed_speedup_at_interpolates_a_power_law_exactly(c, p, where, n):
    e = np.logspace(-3, 0, n)
    s = c * e**p  # a front: a larger error buys a larger speed-up
    x = float(np.exp(np.log(e[0]) + where * (np.log(e[-1]) - np.log(e[0]))))
    np.testing.assert_allclose(adaptive.fixed_speedup_at(x, e, s), c * x**p, rtol=1e-9)
    assert math.isnan(adaptive.fixed_speedup_at(e[-1] * 2, e, s))  # no extrapolation
    np.testing.assert_allclose(adaptive.speedup_ratio_at_error(x, 2 * c * x**p, e, s), 2.0, rtol=1e-9)


@given(st.sampled_from([("error", "1"), ("error", None), ("error", True), ("fixed_errors", "abc"),
                        ("fixed_speedups", None), ("S", "1"), ("S", -1.0)]))
def test_speedup_at_error_names_a_bad_argument(kw):
    args = dict(error=0.5, S=3.0, fixed_errors=[0.1, 1.0], fixed_speedups=[1.0, 10.0])
    args[kw[0]] = kw[1]
    raises_naming(kw[0], adaptive.speedup_ratio_at_error, **args)


@given(st.floats(0.0, 1.0), st.floats(1.0, 1e3))
def test_utilisation_speedup_bound_is_amdahls_law(u, S):
    np.testing.assert_allclose(fc.utilisation_speedup_bound(u, S), 1.0 / (1.0 - u + u / S), rtol=1e-9)
    raises_naming("utilisation", fc.utilisation_speedup_bound, str(u), S)
