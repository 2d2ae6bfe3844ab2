"""LatentEnsemble: K latent RNNs on one autoencoder, their spread as the uncertainty."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ledlib import configs, systems, train
from ledlib.ensemble import LatentEnsemble, fit_ensemble, latent_spread
from ledlib.forecast import forecast
from ledlib.nn import LED
from untrained import untrained_led


pytestmark = pytest.mark.usefixtures("one_thread")


def _led(name: str, seed: int, ae_from: LED | None = None) -> LED:
    return untrained_led(name, seed, ae_from=ae_from)


@pytest.fixture(scope="module")
def ks():
    return systems.KuramotoSivashinsky()


@pytest.fixture(scope="module")
def members():
    first = _led("KS", 0)
    return [first] + [_led("KS", s, first) for s in (1, 2)]


@pytest.fixture(scope="module")
def z_seq(ks):
    x = ks.simulate(ks.initial_conditions(2, seed=1, transient=5.0), 4)  # (2, 5, 64)
    led = _led("KS", 0)
    return led.encode(x.reshape(-1, 64)).reshape(2, 5, -1)


def test_identical_members_have_zero_spread_and_forecast_as_one(ks, members):
    a = members[0]
    ens = LatentEnsemble([a, a, a])
    x0 = ks.initial_conditions(2, seed=2, transient=5.0)
    h = ks.coarse_dt
    z, hidden = ens.warm_up(ens.encode(ks.simulate(x0, 3).reshape(-1, 64)).reshape(2, 4, -1))
    for _ in range(5):
        assert torch.equal(ens.spread(hidden), torch.zeros(2))
        assert np.array_equal(ens.observable_spread(hidden), np.zeros(2))
        z, hidden = ens.step(z, hidden)
    kw = dict(T_warm=2 * h, T_m=3 * h, T_mu=h, record_at="all", keep_latents="all", n_runs=2)
    one, three = forecast(a, ks, x0, 9 * h, **kw), forecast(ens, ks, x0, 9 * h, **kw)
    # LED alone runs its macro phases through the fused LatentRollout (normalised state),
    # the ensemble through LED.step (a (de)normalisation per step): equal up to rounding
    np.testing.assert_allclose(three.states, one.states, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(three.latents, one.latents, rtol=1e-5, atol=1e-6)
    assert np.abs(three.states - one.states).max() < 1e-6 * np.abs(one.states).max() + 1e-6


def test_prediction_and_spread_are_the_members_mean_and_scaled_std(members, z_seq):
    ens = LatentEnsemble(members)
    z, hidden = ens.warm_up(z_seq)
    own = torch.stack([m.warm_up(z_seq)[0] for m in members])  # (K, B, d_z)
    torch.testing.assert_close(hidden.z, own, rtol=0, atol=0)
    torch.testing.assert_close(z, own.mean(dim=0), rtol=1e-6, atol=1e-7)
    std = members[0].rnn.z_std.numpy()
    want = np.sqrt((np.var(own.numpy() / std, axis=0, ddof=1)).mean(axis=-1))
    np.testing.assert_allclose(ens.spread(hidden).numpy(), want, rtol=1e-5)
    assert (want > 0).all()
    # the next step feeds every member the ensemble's prediction, each with its own memory
    z2, hidden2 = ens.step(z, hidden)
    own2 = torch.stack([m.step(z, h)[0] for m, h in zip(members, hidden.members)])
    torch.testing.assert_close(hidden2.z, own2, rtol=1e-5, atol=1e-6)  # stacked cells: rounding only
    # member 0 as the prediction: the others only give the spread
    first = LatentEnsemble(members, prediction="first")
    torch.testing.assert_close(first.warm_up(z_seq)[0], own[0], rtol=0, atol=0)
    # decoded spread: the std over members of the decoded predictions, in physical units
    dec = np.stack([members[0].decode(zk).numpy() for zk in own])
    np.testing.assert_allclose(ens.observable_spread(hidden), np.std(dec, axis=0, ddof=1).mean(axis=-1),
                               rtol=1e-4)


@pytest.mark.parametrize("cell,residual", [("lstm", True), ("gru", False)])
def test_stacked_member_steps_equal_each_members_own_steps(z_seq, cell, residual):
    """One batched step of the stacked cells is every member's LatentRNN step (to rounding),
    over many steps, and its hidden states convert back to the members' format."""
    cfg = configs.get("KS", profile="quick")
    cfg = cfg.replace(rnn=dataclasses.replace(cfg.rnn, cell=cell, residual=residual, d_h=16))
    leds = []
    for s in range(3):
        torch.manual_seed(s)
        led = LED(cfg).eval()
        led.rnn.set_normalization(0.1 * s * torch.ones(led.d_z), torch.linspace(0.5, 2.0, led.d_z))
        if leds:
            led.autoencoder.load_state_dict(leds[0].autoencoder.state_dict())
        leds.append(led)
    ens = LatentEnsemble(leds)
    assert ens.stacked_steps
    z, hidden = ens.warm_up(z_seq)
    own_h = list(hidden.members)
    for _ in range(20):
        own = []
        for k, m in enumerate(leds):
            zk, own_h[k] = m.step(z, own_h[k])
            own.append(zk)
        z, hidden = ens.step(z, hidden)
        torch.testing.assert_close(hidden.z, torch.stack(own), rtol=1e-4, atol=1e-5)
        for mine, theirs in zip(hidden.members, own_h):
            for a, b in zip(mine if cell == "lstm" else (mine,), theirs if cell == "lstm" else (theirs,)):
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
        z = torch.stack(own).mean(dim=0)  # both go on from the same input


def test_latent_spread_of_two_members_is_their_scaled_half_distance():
    z = torch.tensor([[[0.0, 2.0]], [[1.0, 2.0]]])  # K=2, B=1, d_z=2
    # var (ddof=1) per coordinate: (0.5, 0); / s^2 with s = (0.5, 1): (2, 0); mean 1 -> spread 1
    assert float(latent_spread(z, torch.tensor([0.5, 1.0]))[0]) == pytest.approx(1.0)


def test_particle_ensemble_spread_uses_moments():
    first = _led("AD1D", 0)
    ens = LatentEnsemble([first, _led("AD1D", 1, first)])
    ad = systems.AdvectionDiffusion(dim=1, n_particles=30, dt=1e-2)
    x = ad.simulate(ad.initial_conditions(2, seed=0, spread=0.05), 3, seed=0)
    z_seq = ens.encode(x.reshape(-1, 30, 1)).reshape(2, 4, -1)
    _, hidden = ens.warm_up(z_seq)
    gen = torch.Generator().manual_seed(0)
    u = ens.observable_spread(hidden, generator=gen)
    assert u.shape == (2,) and (u > 0).all() and np.isfinite(u).all()
    same = LatentEnsemble([first, first])
    _, h_same = same.warm_up(z_seq)
    # identical members: zero latent spread; decoded, the spread of two independent samples'
    # moments is the sampling noise, which is not zero (this is why the criterion reads the
    # latent spread)
    assert float(ens.spread(hidden).min()) > 0 and float(same.spread(h_same).max()) == 0.0
    assert (same.observable_spread(h_same, generator=torch.Generator().manual_seed(0)) > 0).all()


def test_bad_ensembles_raise(members):
    with pytest.raises(ValueError, match="K must"):
        LatentEnsemble(members[:1])
    with pytest.raises(ValueError, match="K must"):
        LatentEnsemble([])
    with pytest.raises(ValueError, match="autoencoder"):
        LatentEnsemble([members[0], _led("KS", 5)])
    with pytest.raises(ValueError, match="prediction"):
        LatentEnsemble(members, prediction="median")
    with pytest.raises(TypeError, match="leds"):
        LatentEnsemble([members[0], object()])
    with pytest.raises(ValueError, match="d_z"):
        fhn = _led("FHN", 0)
        LatentEnsemble([fhn, _led("KS", 0)])
    with pytest.raises(ValueError, match="K must"):
        fit_ensemble(members[0], None, K=1)
    with pytest.raises(ValueError, match="hidden"):
        LatentEnsemble(members).step(torch.zeros(1, members[0].d_z), hidden=("not", "ensemble"))


def test_fit_ensemble_trains_members_from_seeds_and_caches_them(tmp_path, tiny_ks):
    ds, cfg = tiny_ks
    led, _ = train.fit_autoencoder(cfg, ds, cache=tmp_path, seed=0, progress=False, device="cpu")
    ens, records = fit_ensemble(led, ds, K=2, cache=tmp_path, seed=3, progress=False)
    assert ens.K == 2 and len(records) == 2 and all(np.isfinite(r["best_val_loss"]) for r in records)
    x = torch.as_tensor(np.array(ds.test.states[0, :6]))
    z_seq = ens.encode(x)[None]
    torch.testing.assert_close(ens.encode(x), led.encode(x), rtol=0, atol=0)  # one shared autoencoder
    _, hidden = ens.warm_up(z_seq)
    assert float(ens.spread(hidden)[0]) > 0  # seeds 3 and 4 train different RNNs
    # member k is fit_rnn's model of seed + k: the same cache entry, loaded
    m1, _ = train.fit_rnn(led, led.config.rnn, ds, cache=tmp_path, seed=4, progress=False, device="cpu")
    torch.testing.assert_close(m1.warm_up(z_seq)[0], hidden.z[1], rtol=0, atol=0)
    again, _ = fit_ensemble(led, ds, K=2, cache=tmp_path, seed=3, progress=False)
    torch.testing.assert_close(again.warm_up(z_seq)[1].z, hidden.z, rtol=0, atol=0)


def test_fit_ensemble_takes_the_members_seeds_and_leaves_out_leds_own(tmp_path, tiny_ks):
    """With LED's own RNN as member 0 (a pick may have kept RNN seed 2), the other members
    are the next seeds without it: the seeds passed are the members trained."""
    from ledlib.ensemble import other_seeds

    assert other_seeds(0, 0, 2) == [1, 2] and other_seeds(0, 2, 2) == [0, 1] and other_seeds(0, 1, 2) == [0, 2]
    assert other_seeds(3, 9, 2) == [3, 4]
    ds, cfg = tiny_ks
    led, _ = train.fit_autoencoder(cfg, ds, cache=tmp_path, seed=0, progress=False, device="cpu")
    own, _ = train.fit_rnn(led, led.config.rnn, ds, cache=tmp_path, seed=2, progress=False, device="cpu")
    ens, records = fit_ensemble(own, ds, K=3, cache=tmp_path, include_led=True, seeds=other_seeds(0, 2, 2),
                                progress=False)
    assert records[0] is None and [r["seed"] for r in records[1:]] == [0, 1]
    z_seq = ens.encode(torch.as_tensor(np.array(ds.test.states[0, :6])))[None]
    z = ens.warm_up(z_seq)[1].z
    assert float((z[0] - z[1]).abs().max()) > 0 and float((z[0] - z[2]).abs().max()) > 0  # no member twice
    for bad in ([1], [1, 1], [1, -2], (1, True)):
        with pytest.raises(ValueError, match="seeds"):
            fit_ensemble(own, ds, K=3, cache=tmp_path, include_led=True, seeds=bad, progress=False)
    with pytest.raises(ValueError, match="own"):
        other_seeds(0, -1, 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_ensemble_matches_cpu(ks, members):
    from ledlib.adaptive import AdaptiveCriterion

    x0 = ks.initial_conditions(2, seed=2, transient=5.0)
    h = ks.coarse_dt
    crit = AdaptiveCriterion(spread_threshold=float("inf"), comparison_threshold=float("inf"), n_compare=1,
                             n_micro=2, max_macro=3)
    cpu = forecast(LatentEnsemble(members), ks, x0, 9 * h, T_warm=2 * h, criterion=crit)
    gpu_members = []
    for m in members:
        g = LED(m.config).to("cuda")
        g.load_state_dict(m.state_dict())
        gpu_members.append(g.eval())
    gpu = forecast(LatentEnsemble(gpu_members), ks, x0, 9 * h, T_warm=2 * h, criterion=crit)
    assert gpu.device.startswith("cuda")
    np.testing.assert_array_equal(gpu.phases, cpu.phases)
    np.testing.assert_allclose(gpu.states, cpu.states, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(gpu.spread, cpu.spread, rtol=1e-3, atol=1e-5)
