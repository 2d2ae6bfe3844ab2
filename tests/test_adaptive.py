"""Adaptive LED (issue 13): the switching criterion in the forecast loop.

A perfect surrogate of the KS solver (identity autoencoder, the solver's own coarse map)
checks that any switching reproduces the solver and that the adaptive criterion reduces to
the fixed schedules at its limits. A toy "clock" system, whose state is the time itself,
gives the criterion a hand-made spread as a function of time, so that the switching can be
predicted by hand. Real (untrained) LED ensembles check equality with the fixed schedule's
code path and reproducibility.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ledlib import configs, systems
from ledlib.adaptive import AdaptiveCriterion, switching_sequence
from ledlib.ensemble import LatentEnsemble
from ledlib.forecast import MACRO, MICRO, forecast, measure_speedup, phase_schedule, utilisation_speedup_bound
from ledlib.nn import LED

from test_forecast import MapSurrogate
from untrained import shared_autoencoder_members


pytestmark = pytest.mark.usefixtures("one_thread")


class PerfectEnsemble(MapSurrogate):
    """The perfect KS surrogate with an ensemble's ``spread``: members that all agree (0)."""

    def spread(self, hidden):
        return torch.zeros(self.batch)

    def step(self, z, hidden):
        self.batch = z.shape[0]
        return super().step(z, hidden)


def perfect(ks):
    return PerfectEnsemble(ks.obs_shape, lambda u: ks.advance(u, 0.0, ks.coarse_dt), log=False)


@pytest.fixture(scope="module")
def ks():
    return systems.KuramotoSivashinsky()


@pytest.fixture(scope="module")
def ks_x0(ks):
    return ks.initial_conditions(2, seed=4, transient=20.0)


N_WARM, N_STEPS = 3, 16


@pytest.fixture(scope="module")
def ks_truth(ks, ks_x0):
    return ks.simulate(ks_x0, N_WARM + N_STEPS)[:, None, N_WARM + 1:]


def _run(model, ks, x0, **kw):
    h = ks.coarse_dt
    return forecast(model, ks, x0, N_STEPS * h, T_warm=N_WARM * h, dtype=np.float64, keep_latents="all", **kw)


def _assert_same(a, b):
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.latents, b.latents)
    np.testing.assert_array_equal(a.phases, b.phases)


# ---------------------------------------------------------------------------------
# a perfect surrogate: the limits of the thresholds are the fixed schedules
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("crit", [
    AdaptiveCriterion(spread_threshold=None, comparison_threshold=0.0, n_compare=2, n_micro=3),
    AdaptiveCriterion(spread_threshold=0.0, comparison_threshold=None, n_compare=0, n_micro=3),
    AdaptiveCriterion(spread_threshold=0.0, comparison_threshold=0.0, n_compare=1, n_micro=2),
])
def test_threshold_zero_is_the_micro_solver(ks, ks_x0, ks_truth, crit):
    """The perfect surrogate's comparison error and spread are exactly 0, and 0 < 0 fails:
    threshold 0 never goes on in the latent space."""
    res = _run(perfect(ks), ks, ks_x0, criterion=crit)
    assert (res.phases == MICRO).all() and res.macro_utilisation == 0.0
    np.testing.assert_allclose(res.states, ks_truth, rtol=0, atol=1e-10)
    fixed = _run(perfect(ks), ks, ks_x0, T_m=0.0, T_mu=ks.coarse_dt)
    np.testing.assert_array_equal(res.states, fixed.states)
    if crit.n_compare:  # one comparison at the end of the warm-up and of every micro block
        steps = [k for k, _ in res.comparisons]
        assert steps == list(range(0, N_STEPS, crit.n_micro))[:len(steps)] and len(steps) >= 5
        assert max(float(e.max()) for _, e in res.comparisons) == 0.0


@pytest.mark.parametrize("n_compare", [0, 2])
def test_infinite_thresholds_are_latent_propagation(ks, ks_x0, ks_truth, n_compare):
    crit = AdaptiveCriterion(spread_threshold=math.inf, comparison_threshold=math.inf if n_compare else None,
                             n_compare=n_compare, n_micro=3)
    res = _run(perfect(ks), ks, ks_x0, criterion=crit)
    assert (res.phases == MACRO).all() and res.macro_utilisation == 1.0
    np.testing.assert_allclose(res.states, ks_truth, rtol=0, atol=1e-10)
    _assert_same(res, _run(perfect(ks), ks, ks_x0))  # the fixed schedule's latent propagation
    assert np.isfinite(res.spread).all() and (res.spread == 0).all()
    assert math.isnan(res.T_m) and res.criterion.startswith("AdaptiveCriterion")


def test_accepting_everything_with_max_macro_is_the_fixed_cycle(ks, ks_x0, ks_truth):
    h = ks.coarse_dt
    crit = AdaptiveCriterion(spread_threshold=math.inf, comparison_threshold=math.inf, n_compare=1,
                             n_micro=3, max_macro=4)
    res = _run(perfect(ks), ks, ks_x0, criterion=crit)
    np.testing.assert_array_equal(res.phases, phase_schedule(N_STEPS, 4, 3))
    np.testing.assert_allclose(res.states, ks_truth, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(res.states, _run(perfect(ks), ks, ks_x0, T_m=4 * h, T_mu=3 * h).states)
    # the bound of the criterion's cycle lengths is reached when every test passes
    assert res.macro_utilisation == crit.macro_utilisation_bound(N_STEPS) == 10 / 16
    assert crit.macro_utilisation_bound() == 4 / 7


# ---------------------------------------------------------------------------------
# a real ensemble: the step-by-step macro path equals the fixed schedule's path
# ---------------------------------------------------------------------------------
def _ensemble(name: str, K: int = 3) -> LatentEnsemble:
    return LatentEnsemble(shared_autoencoder_members(name, K, normalised=False))


@pytest.fixture(scope="module")
def ks_ens():
    return _ensemble("KS")


def test_stepwise_switching_equals_the_fixed_schedule_it_reduces_to(ks, ks_x0, ks_ens):
    """spread_threshold=inf decides step by step (reading the spread every step), yet with
    max_macro = n_m and n_micro = n_mu and no comparison it is the fixed schedule."""
    h = ks.coarse_dt
    crit = AdaptiveCriterion(spread_threshold=math.inf, comparison_threshold=None, n_compare=0, n_micro=2,
                             max_macro=3)
    ada = forecast(ks_ens, ks, ks_x0, 13 * h, T_warm=2 * h, criterion=crit, n_runs=2, record_at="all",
                   keep_latents="all")
    fixed = forecast(ks_ens, ks, ks_x0, 13 * h, T_warm=2 * h, T_m=3 * h, T_mu=2 * h, n_runs=2, record_at="all",
                     keep_latents="all")
    _assert_same(ada, fixed)
    macro = ada.phases == MACRO
    assert np.isfinite(ada.spread[..., macro]).all() and (ada.spread[..., macro] > 0).all()
    assert np.isnan(ada.spread[..., ~macro]).all()  # micro steps: no spread asked for


def test_same_seed_same_switching_sequence():
    """AD1D: stochastic micro solver and sampling decoder; the switching depends on both."""
    ad = systems.AdvectionDiffusion(dim=1, n_particles=40, dt=1e-2)
    ens = _ensemble("AD1D")
    x0 = ad.initial_conditions(2, seed=0, spread=0.05)
    h = ad.coarse_dt
    first = forecast(ens, ad, x0, 16 * h, T_warm=2 * h, n_runs=2, seed=5, record_at="all",
                     criterion=AdaptiveCriterion(spread_threshold=math.inf, comparison_threshold=math.inf,
                                                 n_compare=1, n_micro=2, max_macro=3))
    # thresholds between the values seen, so that both outcomes occur
    u = np.nanmedian(first.spread)
    e = np.median([float(x.max()) for _, x in first.comparisons])
    crit = AdaptiveCriterion(spread_threshold=float(u), comparison_threshold=float(e) * 1.01, n_compare=1,
                             n_micro=2, max_macro=6)
    runs = [forecast(ens, ad, x0, 16 * h, T_warm=2 * h, n_runs=2, seed=s, record_at="all", criterion=crit)
            for s in (5, 5, 6)]
    a, b, _ = runs
    assert switching_sequence(a.phases) == switching_sequence(b.phases)
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.spread, b.spread)
    assert 0 < a.macro_utilisation < 1  # the thresholds do switch


# ---------------------------------------------------------------------------------
# the criterion on hand-made spread sequences
# ---------------------------------------------------------------------------------
def test_criterion_decisions_on_hand_made_sequences():
    c = AdaptiveCriterion(spread_threshold=0.1, comparison_threshold=0.05, n_compare=1, n_micro=2,
                          min_macro=2, max_macro=5)
    spreads = [0.5, 0.5, 0.05, 0.09, 0.2, 0.0]
    assert [c.go_on(0, run, u) for run, u in enumerate(spreads)] == [True, True, True, True, False, False]
    assert [c.go_on(0, run, 0.0) for run in range(7)] == [True] * 5 + [False] * 2  # max_macro
    assert [c.enter(0, e) for e in (0.01, 0.05, 0.2, math.nan, None)] == [True, False, False, False, True]
    assert not c.go_on(0, 3, math.nan)  # an undefined spread stops
    # batch-wide rules
    worst = AdaptiveCriterion(spread_threshold=0.15, comparison_threshold=0.15, n_compare=1, reduce="max")
    mean = AdaptiveCriterion(spread_threshold=0.15, comparison_threshold=0.15, n_compare=1, reduce="mean")
    members = np.array([0.05, 0.2])
    assert not worst.go_on(0, 0, members) and mean.go_on(0, 0, members)
    assert not worst.enter(0, members) and mean.enter(0, members)
    assert switching_sequence([MACRO, MACRO, MICRO, MACRO]) == [(MACRO, 2), (MICRO, 1), (MACRO, 1)]


class Clock(systems.System):
    """A toy system whose state is the time: ``x(t) = t``, exactly, one solver step per
    coarse step."""

    name = "clock"
    dt = coarse_dt = 1.0
    obs_shape = micro_shape = (1,)

    def initial_conditions(self, n, seed=0):
        return np.zeros((n, 1))

    def lift(self, obs, rng=None):
        return np.array(obs, dtype=np.float64)

    def restrict(self, micro):
        return np.array(micro)

    def _advance_steps(self, micro, t0, n_steps, rng):
        return micro + n_steps * self.dt


class ScriptedClock:
    """The clock's perfect surrogate with a spread scripted as a function of time: the
    hidden state is the predicted state (the time of the candidate step)."""

    d_z, obs_shape = 1, (1,)

    def __init__(self, uncertain_times):
        self.uncertain = set(uncertain_times)

    def encode(self, x):
        return torch.as_tensor(np.asarray(x, dtype=np.float64).reshape(-1, 1))

    def decode(self, z, n_particles=None, generator=None):
        return z.numpy().reshape(-1, 1)

    def step(self, z, hidden):
        return z + 1.0, z + 1.0

    def warm_up(self, z_seq, hidden):
        return z_seq[:, -1] + 1.0, z_seq[:, -1] + 1.0

    def spread(self, hidden):
        return torch.tensor([1.0 if round(float(t)) in self.uncertain else 0.0 for t in hidden[:, 0]])


def test_switching_follows_a_scripted_spread():
    """Warm-up to t = 2, then macro steps at t = 3..6; the candidate at t = 7 is uncertain,
    so a micro block of 2 steps (t = 7, 8) runs and is compared; from t = 9 on macro again
    until the uncertain t = 12: micro at t = 12, 13 (13 is uncertain too, but a micro step
    asks nothing), then macro from t = 14 to the horizon."""
    clock = Clock()
    crit = AdaptiveCriterion(spread_threshold=0.5, comparison_threshold=1e-9, n_compare=1, n_micro=2)
    res = forecast(ScriptedClock({7, 12, 13}), clock, clock.initial_conditions(1), 14.0, T_warm=2.0,
                   criterion=crit, dtype=np.float64)
    assert res.times.tolist() == list(np.arange(3.0, 17.0))
    np.testing.assert_array_equal(res.states[0, 0, :, 0], np.arange(3.0, 17.0))  # exact, whatever ran
    phases = res.phases.tolist()
    assert phases[:4] == [MACRO] * 4  # t = 3..6
    assert phases[4:6] == [MICRO] * 2  # t = 7, 8: the uncertain candidate was not taken
    assert phases[6:9] == [MACRO] * 3  # t = 9..11
    assert phases[9:11] == [MICRO] * 2  # t = 12, 13
    assert phases[11:] == [MACRO] * 3  # t = 14..16
    # the spread was read for every candidate looked at, and only for those
    seen = np.flatnonzero(np.isfinite(res.spread[0, 0])) + 3  # times of the candidates
    assert seen.tolist() == [3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16]
    # comparisons: warm-up (k=0) and the end of each micro block, all exact (error 0)
    assert [k for k, _ in res.comparisons] == [0, 6, 11]
    assert all(float(e.max()) == 0.0 for _, e in res.comparisons)


# ---------------------------------------------------------------------------------
# measures and bad input
# ---------------------------------------------------------------------------------
def test_speedup_counts_the_ensemble_and_the_comparisons(ks, ks_x0, ks_ens):
    h = ks.coarse_dt
    crit = AdaptiveCriterion(spread_threshold=math.inf, comparison_threshold=math.inf, n_compare=1, n_micro=2,
                             max_macro=4)
    r = measure_speedup(ks_ens, ks, ks_x0, 12 * h, T_warm=2 * h, criterion=crit)
    t = r.timings
    assert t.compare > 0 and t.micro > 0 and t.latent > 0
    assert t.latent + t.teacher + t.decode + t.encode + t.micro + t.compare <= t.propagation * 1.05 + 1e-4
    assert r.macro_utilisation == crit.macro_utilisation_bound(12) == 8 / 12
    assert 0 < r.S < 2 * float(utilisation_speedup_bound(r.macro_utilisation, 1e9))
    assert utilisation_speedup_bound(0.5, 1e12) == pytest.approx(2.0)
    assert utilisation_speedup_bound(1.0, 50.0) == 50.0


@pytest.mark.parametrize("kw,match", [
    (dict(spread_threshold=-0.1), "spread_threshold"),
    (dict(spread_threshold=math.nan), "spread_threshold"),
    (dict(spread_threshold="0.1"), "spread_threshold"),
    (dict(comparison_threshold=-1.0), "comparison_threshold"),
    (dict(comparison_threshold=0.1, n_compare=0), "n_compare"),
    (dict(n_compare=-1), "n_compare"),
    (dict(n_compare=3, n_micro=3), "n_micro"),
    (dict(n_micro=0), "n_micro"),
    (dict(min_macro=-1), "min_macro"),
    (dict(min_macro=4, max_macro=2), "max_macro"),
    (dict(max_macro=0), "max_macro"),
    (dict(max_macro=2.5), "max_macro"),
    (dict(reduce="median"), "reduce"),
])
def test_bad_criterion_arguments_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveCriterion(**kw)


def test_bad_use_in_forecast_raises(ks, ks_x0, ks_ens):
    h = ks.coarse_dt
    crit = AdaptiveCriterion(n_compare=2, n_micro=3)
    with pytest.raises(ValueError, match="T_m and T_mu"):
        forecast(ks_ens, ks, ks_x0, 4 * h, T_warm=2 * h, T_m=h, T_mu=h, criterion=crit)
    with pytest.raises(ValueError, match="T_warm"):  # the warm-up must hold the comparison
        forecast(ks_ens, ks, ks_x0, 4 * h, T_warm=h, criterion=crit)
    single = MapSurrogate(ks.obs_shape, lambda u: u, log=False)
    with pytest.raises(ValueError, match="spread"):
        forecast(single, ks, ks_x0, 4 * h, T_warm=2 * h, criterion=crit)
    with pytest.raises(TypeError, match="criterion"):
        forecast(ks_ens, ks, ks_x0, 4 * h, T_warm=2 * h, criterion="adaptive")


# ---------------------------------------------------------------------------------
# the trade-off against the fixed schedule: fronts, interpolation, calibration
# ---------------------------------------------------------------------------------
def test_pareto_front_and_speedup_at_the_same_error():
    from ledlib.adaptive import fixed_speedup_at, pareto_front, speedup_ratio_at_error

    e = [0.4, 0.1, 0.2, 0.3, np.nan, 0.05]
    s = [10.0, 2.0, 1.5, 8.0, 99.0, 1.0]
    # (0.2, 1.5) is beaten by (0.1, 2.0); NaN is out; the rest sorted by error
    assert pareto_front(e, s).tolist() == [5, 1, 3, 0]
    # log-log interpolation between (0.1, 2) and (0.3, 8): at sqrt(0.03) the geometric mean
    assert fixed_speedup_at(math.sqrt(0.1 * 0.3), e, s) == pytest.approx(4.0)
    assert fixed_speedup_at(0.3, e, s) == pytest.approx(8.0)
    assert math.isnan(fixed_speedup_at(0.5, e, s)) and math.isnan(fixed_speedup_at(0.01, e, s))
    assert speedup_ratio_at_error(0.3, 12.0, e, s) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="same length"):
        pareto_front([1.0], [1.0, 2.0])


def test_calibration_of_a_spread_that_tells_the_error():
    from ledlib.adaptive import calibration

    rng = np.random.default_rng(0)
    u = rng.uniform(0, 1, 400)
    good = calibration(u, 2 * u + 0.01 * rng.normal(size=400), n_bins=4)
    assert good["count"].tolist() == [100] * 4
    np.testing.assert_allclose(good["error"], 2 * good["spread"], atol=0.01)
    assert good["rank_correlation"] > 0.99 and (good["error_lo"] <= good["error"]).all()
    useless = calibration(u, rng.uniform(0, 1, 400), n_bins=4)
    assert abs(float(useless["rank_correlation"])) < 0.15
    with_nan = calibration(np.r_[u, np.nan], np.r_[u, 1.0], n_bins=1)
    assert with_nan["count"].tolist() == [400]  # pairs without a spread are left out
    with pytest.raises(ValueError, match="n_bins"):
        calibration(u, u, n_bins=0)
    with pytest.raises(ValueError, match="at least 2"):
        calibration([np.nan, 1.0], [1.0, 1.0])


def test_threshold_sweep_and_latent_error_with_a_perfect_surrogate(ks, ks_x0, ks_truth):
    from ledlib.adaptive import latent_error, threshold_sweep

    h = ks.coarse_dt
    crits = [AdaptiveCriterion(spread_threshold=t, comparison_threshold=t, n_compare=1, n_micro=3, max_macro=4)
             for t in (0.0, math.inf)]

    def err(res):
        return float(np.abs(res.states - ks_truth).max())

    pts = threshold_sweep(perfect(ks), ks, ks_x0, N_STEPS * h, T_warm=N_WARM * h, criteria=crits, error=err,
                          n_runs=1, micro_per_step=1.0)
    assert [p.macro_utilisation for p in pts] == [0.0, 10 / 16]
    assert max(p.error for p in pts) < 1e-5 and all(p.S > 0 for p in pts)
    res = _run(perfect(ks), ks, ks_x0, criterion=crits[1])
    z_true = ks.simulate(ks_x0, N_WARM + N_STEPS)[:, N_WARM:]
    e = latent_error(res, z_true)
    assert e.shape == (2, 1, N_STEPS) and e.max() < 1e-5
    with pytest.raises(ValueError, match="keep_latents"):
        latent_error(_run(perfect(ks), ks, ks_x0, criterion=crits[1]).__class__(
            **{**res.__dict__, "latents": None}), z_true)
    with pytest.raises(TypeError, match="criteria"):
        threshold_sweep(perfect(ks), ks, ks_x0, N_STEPS * h, T_warm=N_WARM * h, criteria=[None], error=err)


def test_run_study_end_to_end_on_a_tiny_model(tmp_path):
    """The chapter's pipeline on a 2-epoch KS model: every number it reports is consistent
    with the forecasts it ran (the values themselves are those of an untrained model)."""
    import dataclasses

    from ledlib import data
    from ledlib.adaptive import STUDY, StudySettings, run_study

    s = data.spec("KS", "quick")
    sizes = {"train": 40, "val": 40, "test": 320}
    s = s.with_(splits=tuple((n, dataclasses.replace(sp, n_samples=sizes[n], n_traj=1)) for n, sp in s.splits),
                transient=5.0)
    ds = data.load(s, cache=tmp_path, progress=False)
    cfg = configs.get("KS", "quick")
    short = {"max_epochs": 2}
    cfg = dataclasses.replace(cfg, ae_train=dataclasses.replace(cfg.ae_train, **short),
                              rnn_train=dataclasses.replace(cfg.rnn_train, bptt=5, hidden_propagation_length=10,
                                                            **short))
    st = StudySettings(2, (0.0, 0.3, math.inf), 0.3, n_compare=5, n_micro=10, max_macro=100)
    study = run_study("KS", "quick", cache=tmp_path, seed=0, device="cpu", settings=st, config=cfg, dataset=ds)
    assert [p.rho for p in study.fixed] == [math.inf, 10.0, 5.0, 1.0]
    u = [p.macro_utilisation for p in study.adaptive]
    assert u[0] == 0.0 and u[-1] == st.criteria()[-1].macro_utilisation_bound(240)  # threshold 0 / inf
    assert u[0] <= u[1] <= u[2]
    # threshold 0 is the micro solver: its error is the solver's against itself
    assert study.adaptive[0].error < 1e-5
    card = study.scorecard()
    assert set(card) == {f"KS.adaptive_{k}" for k in ("macro_utilisation", "error", "speedup",
                                                      "vs_fixed_speedup_ratio")}
    assert card["KS.adaptive_macro_utilisation"] == u[1] and card["KS.adaptive_speedup"] > 0
    cal = study.calibration
    assert cal["count"].sum() == np.isfinite(study.spread).sum() == 240
    assert study.ensemble_records[0] is None and np.isfinite(study.ensemble_records[1]["best_val_loss"])
    assert set(STUDY) == {"KS", "FHN", "AD1D"}
    # the chapter's figures draw what was measured
    import matplotlib

    matplotlib.use("Agg")
    from ledlib.plots.adaptive import adaptive_calibration, adaptive_pareto, adaptive_switching

    ax = adaptive_pareto({"KS": study}).axes[0]
    drawn = {tuple(np.round(line.get_xdata(), 12)) for line in ax.lines}
    assert tuple(np.round([p.error for p in study.fixed], 12)) in drawn
    ax = adaptive_calibration({"KS": study}).axes[0]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), cal["error"])
    adaptive_switching(study.report.result)
