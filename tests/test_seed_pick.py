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


def test_only_the_paper_ad1d_led_is_picked():
    p = paper.seed_pick("AD1D", "paper")
    assert p.ae_seeds == ad1d.AE_SEEDS["paper"] and p.rnn_seeds == ad1d.RNN_SEEDS["paper"]
    assert p.score is ad1d.validation_forecast_m1
    assert paper.seed_pick("AD1D", "quick") is None
    assert all(paper.seed_pick(s, prof) is None for s in ("KS", "FHN", "AD3D") for prof in paper.PROFILES)


def test_validation_forecast_m1_agrees_with_a_step_by_step_forecast():
    """The criterion equals the same forecast written out one step at a time: encode each
    validation state, teacher-force the RNN through the warm-up, iterate it on its own
    output, and compare the decoded M1 with the data's at the same sample (a decoder
    made deterministic, so that the two agree to rounding)."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    n_traj, T, N = 2, 40, 30
    t = 0.5 * np.arange(T)
    centre = 0.3 * np.cos(0.4 * t)[None, :, None, None] + 0.05 * rng.standard_normal((n_traj, 1, 1, 1))
    states = (centre + 0.05 * rng.standard_normal((n_traj, T, N, 1))).astype(np.float32)
    ds = SimpleNamespace(val=SimpleNamespace(states=states), system=lambda: SimpleNamespace(coarse_dt=0.5))
    led = untrained_led("AD1D", 0)
    led.decode = lambda z, n_particles=None, generator=None, **kw: 0.4 * torch.tanh(z)[:, None, :].expand(-1, N, 1)
    i0, T_warm = 5, 3.0
    n_warm = 6
    got = ad1d.validation_forecast_m1(led, ds, i0=i0, T_warm=T_warm)

    errors = []
    with torch.no_grad():
        for j in range(n_traj):
            hidden = None
            for k in range(i0, i0 + n_warm):
                z, hidden = led.step(led.encode(torch.as_tensor(states[j, k][None])), hidden)
            for k in range(i0 + n_warm, T):
                errors.append(abs(float(led.decode(z)[0].mean()) - float(states[j, k].mean())))
                z, hidden = led.step(z, hidden)
    assert got == pytest.approx(np.mean(errors), rel=1e-5, abs=1e-7)
    # one step off in the comparison would be seen: the data move by more than rounding
    shifted = np.mean(np.abs(np.diff(states.mean(axis=(2, 3))[:, i0 + n_warm:], axis=1)))
    assert shifted > 100 * 1e-5 * got


@pytest.mark.parametrize("kw, match", [(dict(i0=-1), "i0"), (dict(i0=35), "i0"), (dict(i0=True), "i0"),
                                       (dict(T_warm=0.1), "T_warm")])
def test_validation_forecast_m1_rejects_a_bad_window(kw, match):
    states = np.zeros((1, 40, 5, 1), np.float32)
    ds = SimpleNamespace(val=SimpleNamespace(states=states), system=lambda: SimpleNamespace(coarse_dt=0.5))
    with pytest.raises(ValueError, match=match):
        ad1d.validation_forecast_m1(untrained_led("AD1D", 0), ds, **({"i0": 5, "T_warm": 3.0} | kw))
