"""Picking an LED among seeds by a validation score (train.fit_pick), and the AD 1-D
chapter's score: the latent forecast's M1 error on the validation trajectory."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ledlib import data, paper, train
from ledlib.paper import ad1d, fhn
from untrained import untrained_led
from test_fhn_training import pulses


def tiny(tmp_path):
    ds = data.from_arrays(pulses(3, 120, 0), pulses(2, 120, 1), coarse_dt=1.0, scaler_channel_axis=-2)
    cfg = fhn.variant_config("quick", 4, False)
    cfg = cfg.replace(ae_train=dataclasses.replace(cfg.ae_train, max_epochs=4),
                      rnn_train=dataclasses.replace(cfg.rnn_train, max_epochs=3))
    return ds, cfg


def rnn_weight_sum(led, dataset):
    """A score known in advance that differs between seeds (a from_arrays dataset has no
    solver to forecast with)."""
    return float(next(led.rnn.parameters()).detach().sum() + next(led.autoencoder.parameters()).detach().sum())


def same_weights(a, b):
    a, b = a.state_dict(), b.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_fit_pick_keeps_the_lowest_score_and_loads_on_the_second_call(tmp_path):
    torch.set_num_threads(1)
    ds, cfg = tiny(tmp_path)
    pick = train.SeedPick((0, 1), (0, 2), rnn_weight_sum, "weight sum")
    got = train.fit_pick(ds, cfg, pick, cache=tmp_path, seed=3, device="cpu", progress=False)
    scores = got.pick["scores"]
    assert set(scores) == {"3/3", "3/5", "4/3", "4/5"}
    kept = f"{got.pick['ae_seed']}/{got.pick['rnn_seed']}"
    assert scores[kept] == min(scores.values()) and got.pick["score"] == "weight sum"
    assert rnn_weight_sum(got.led, ds) == scores[kept]
    # the candidates are the models fit, fit_autoencoder and fit_rnn train: (0, 0) is fit's LED
    base = train.fit(ds, cfg, cache=tmp_path, seed=3, device="cpu", progress=False)
    assert rnn_weight_sum(base.led, ds) == scores["3/3"]
    ae4, _ = train.fit_autoencoder(cfg, ds, cache=tmp_path, seed=4, device="cpu", progress=False)
    led45, _ = train.fit_rnn(ae4, cfg.rnn, ds, cache=tmp_path, seed=5, device="cpu", progress=False)
    assert rnn_weight_sum(led45, ds) == scores["4/5"]
    if kept == "4/5":
        assert same_weights(got.led, led45)
    # everything is cached now: a second pick trains nothing and keeps the same model
    with train.loading_only():
        again = train.fit_pick(ds, cfg, pick, cache=tmp_path, seed=3, device="cpu", progress=False)
    assert again.pick == got.pick and same_weights(again.led, got.led)


def test_fit_pick_tries_other_rnns_on_the_same_autoencoder(tmp_path):
    """SeedPick.other_rnns: every seed once more with another RNN (here the paper's readout),
    each candidate the model fit_rnn trains; the pick names the RNN it kept."""
    torch.set_num_threads(1)
    ds, cfg = tiny(tmp_path)
    eq16 = fhn.paper_readout(cfg)
    pick = train.SeedPick((0,), (0, 1), rnn_weight_sum, "weight sum", other_rnns=(("eq. 16", eq16),))
    got = train.fit_pick(ds, cfg, pick, cache=tmp_path, device="cpu", progress=False)
    scores = got.pick["scores"]
    assert set(scores) == {"0/0", "0/1", "0/0 eq. 16", "0/1 eq. 16"}
    kept = min(scores, key=scores.get)
    assert kept == f"0/{got.pick['rnn_seed']}" + ("" if got.pick["rnn"] is None else f" {got.pick['rnn']}")
    assert got.led.rnn.residual == (got.pick["rnn"] is None)
    base = train.fit(ds, cfg, cache=tmp_path, device="cpu", progress=False)
    led, _ = train.fit_rnn(base.led, eq16, ds, cache=tmp_path, seed=1, device="cpu", progress=False)
    assert not led.rnn.residual and rnn_weight_sum(led, ds) == scores["0/1 eq. 16"]
    assert same_weights(led.autoencoder, base.led.autoencoder)
    for bad in ((("eq. 16", "W h"),), (("", eq16),), (("a", eq16), ("a", eq16)), [("a", eq16)]):
        with pytest.raises(TypeError, match="other_rnns"):
            train.SeedPick((0,), (0,), rnn_weight_sum, "x", other_rnns=bad)


def test_a_non_finite_score_is_the_worst_candidate(tmp_path):
    torch.set_num_threads(1)
    ds, cfg = tiny(tmp_path)
    calls = []

    def nan_for_base(led, dataset):
        calls.append(led)
        return float("nan") if len(calls) == 1 else float(len(calls))

    got = train.fit_pick(ds, cfg, train.SeedPick((0,), (0, 1), nan_for_base, "x"), cache=tmp_path, device="cpu",
                         progress=False)
    assert got.pick["scores"] == {"0/0": float("inf"), "0/1": 2.0} and got.pick["rnn_seed"] == 1


@pytest.mark.parametrize("kw, match", [
    (dict(ae_seeds=(1, 2)), "ae_seeds"), (dict(rnn_seeds=()), "rnn_seeds"), (dict(rnn_seeds=(0, 0)), "rnn_seeds"),
    (dict(ae_seeds=[0]), "ae_seeds"), (dict(rnn_seeds=(0, -1)), "rnn_seeds"), (dict(ae_seeds=(0, True)), "ae_seeds"),
])
def test_seed_pick_rejects_bad_seeds(kw, match):
    args = dict(ae_seeds=(0,), rnn_seeds=(0,), score=rnn_weight_sum, label="x") | kw
    with pytest.raises(ValueError, match=match):
        train.SeedPick(**args)
    with pytest.raises(TypeError, match="score"):
        train.SeedPick((0,), (0,), 3.0, "x")


def test_only_the_paper_ad1d_and_fhn_leds_are_picked():
    p = paper.seed_pick("AD1D", "paper")
    assert p.ae_seeds == ad1d.AE_SEEDS["paper"] and p.rnn_seeds == ad1d.RNN_SEEDS["paper"]
    assert p.score is ad1d.validation_forecast_m1 and p.other_rnns == ()
    f = paper.seed_pick("FHN", "paper")  # RNN seeds with either readout, on one autoencoder
    assert f.ae_seeds == (0,) and f.rnn_seeds == fhn.RNN_SEEDS["paper"] and f.score is fhn.validation_forecast_mnad
    assert [(n, r.residual) for n, r in f.other_rnns] == [("eq. 16", False)] and fhn.config("paper").rnn.residual
    assert paper.seed_pick("AD1D", "quick") is None and paper.seed_pick("FHN", "quick") is None
    assert all(paper.seed_pick(s, prof) is None for s in ("KS", "AD3D") for prof in paper.PROFILES)


def test_latent_forecast_m1_agrees_with_a_step_by_step_forecast():
    """The criterion's forecast equals the same forecast written out one step at a time:
    encode each warm-up state, teacher-force the RNN through it, iterate it on its own
    output, and decode every k-th state (a decoder made deterministic, so that the two
    agree to rounding)."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    n_traj, n_warm, N, n_steps, every = 2, 6, 30, 25, 3
    warm = (0.3 * rng.standard_normal((n_traj, 1, 1, 1)) + 0.05 * rng.standard_normal((n_traj, n_warm, N, 1)))
    warm = warm.astype(np.float32)
    led = untrained_led("AD1D", 0)
    led.decode = lambda z, n_particles=None, generator=None, **kw: 0.4 * torch.tanh(z)[:, None, :].expand(-1, 7, 1)
    got = ad1d.latent_forecast_m1(led, warm, n_steps, every, n_particles=7)

    want = np.empty((n_traj, len(range(0, n_steps, every))))
    with torch.no_grad():
        for j in range(n_traj):
            hidden = None
            for k in range(n_warm):
                z, hidden = led.step(led.encode(torch.as_tensor(warm[j, k][None])), hidden)
            for k in range(n_steps):
                if k % every == 0:
                    want[j, k // every] = float(led.decode(z)[0].mean())
                z, hidden = led.step(z, hidden)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.ptp(want) > 1e-3  # the forecast moves: a step off would be seen


def test_expected_m1_is_the_mean_of_the_micro_solver():
    """M1's expectation from the law agrees with the mean M1 of many independent runs of
    the micro solver from the same particles (within four standard errors at every time)."""
    from ledlib.systems import AdvectionDiffusion

    sim = AdvectionDiffusion(dim=1, n_particles=200)
    x0 = sim.initial_conditions(1, seed=4)[0]
    times = 3.0 + sim.coarse_dt * np.array([1, 4, 10, 30])
    law = ad1d.expected_m1(sim, x0, 3.0, times)
    runs = sim.simulate(np.repeat(x0[None], 40, axis=0), 30, t0=3.0, seed=5)[:, [1, 4, 10, 30]].mean(axis=(2, 3))
    se = runs.std(0, ddof=1) / np.sqrt(runs.shape[0])
    assert np.all(np.abs(runs.mean(0) - law) < 4 * se + 1e-4), (runs.mean(0), law, se)
    assert np.ptp(law) > 10 * se.max()  # the wind moves the cloud by more than the test's noise


def test_validation_forecast_m1_compares_the_forecast_with_the_law_from_where_it_starts():
    """The criterion is the mean |M1 error| of latent_forecast_m1 against expected_m1 from
    the validation state after the warm-up, at the times the forecast's states have."""
    from ledlib.systems import AdvectionDiffusion

    torch.set_num_threads(1)
    sim = AdvectionDiffusion(dim=1, n_particles=50)
    states = sim.simulate(sim.initial_conditions(1, seed=1), 40, t0=0.0, seed=2).astype(np.float32)
    t = (sim.coarse_dt * np.arange(41))[None]
    ds = SimpleNamespace(val=SimpleNamespace(states=states, t=t), system=lambda: sim)
    led = untrained_led("AD1D", 0)
    i0, T_warm, horizon = 5, 3.0, 20.0
    got = ad1d.validation_forecast_m1(led, ds, i0=i0, T_warm=T_warm, horizon=horizon, n_particles=500)
    pred = ad1d.latent_forecast_m1(led, states[:, i0:i0 + 6], 40, ad1d.PROTOCOL["quick"].record_every,
                                   n_particles=500)
    t_start = t[0, i0] + 6 * sim.coarse_dt
    true = ad1d.expected_m1(sim, states[0, i0 + 6], t_start,
                            t_start + sim.coarse_dt * np.arange(0, 40, ad1d.PROTOCOL["quick"].record_every))
    assert got == pytest.approx(float(np.mean(np.abs(pred[0] - true))), rel=1e-12)
    # started one sample later, the law would be another: the alignment is what is tested
    shifted = ad1d.expected_m1(sim, states[0, i0 + 7], t_start + sim.coarse_dt,
                               t_start + sim.coarse_dt * (1 + np.arange(0, 40, ad1d.PROTOCOL["quick"].record_every)))
    assert abs(float(np.mean(np.abs(pred[0] - shifted))) - got) > 1e-4


@pytest.mark.parametrize("kw, match", [(dict(i0=-1), "i0"), (dict(i0=35), "i0"), (dict(i0=True), "i0"),
                                       (dict(T_warm=0.1), "T_warm"), (dict(horizon=0.1), "horizon")])
def test_validation_forecast_m1_rejects_a_bad_window(kw, match):
    states = np.zeros((1, 40, 5, 1), np.float32)
    ds = SimpleNamespace(val=SimpleNamespace(states=states, t=np.zeros((1, 40))),
                         system=lambda: SimpleNamespace(coarse_dt=0.5))
    with pytest.raises(ValueError, match=match):
        ad1d.validation_forecast_m1(untrained_led("AD1D", 0), ds, **({"i0": 5, "T_warm": 3.0} | kw))
