"""LED's networks: invariances, the mixture likelihood against scipy, what training can learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from ledlib import configs
from ledlib.configs import AutoencoderConfig, RNNConfig, TrainConfig
from ledlib.nn import (LED, FieldDecoder, FieldEncoder, LatentRNN, MixtureDensityDecoder,
                       PermutationInvariantEncoder, build_autoencoder, inverse_softplus,
                       kl_to_standard_normal)
from ledlib.train import train_autoencoder, train_rnn


pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------------------------
# permutation-invariant encoder (§6.3)
# ---------------------------------------------------------------------------------
def _pi_encoder(variational=False, seed=0):
    torch.manual_seed(seed)
    return PermutationInvariantEncoder(d_x=3, d_p=24, d_z=4, n_layers=3, width=16, variational=variational)


@pytest.mark.parametrize("variational", [False, True])
def test_permutation_invariance(variational):
    enc = _pi_encoder(variational)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(5, 300, 3, generator=g)
    perm = torch.stack([torch.randperm(300, generator=g) for _ in range(5)])
    x_perm = torch.gather(x, 1, perm[..., None].expand(-1, -1, 3))
    assert not torch.allclose(x, x_perm)
    mu, lv = enc(x)
    mu_p, lv_p = enc(x_perm)
    scale = mu.abs().max().item()
    torch.testing.assert_close(mu_p, mu, atol=1e-6 * max(scale, 1.0), rtol=1e-5)
    if variational:
        torch.testing.assert_close(lv_p, lv, atol=1e-5, rtol=1e-5)
    # a shuffled batch is not a shuffled configuration: mixing particles across
    # configurations changes z, so the invariance above is not trivial
    mixed = x.clone()
    mixed[0, :150], mixed[1, :150] = x[1, :150], x[0, :150]
    assert (enc(mixed)[0][:2] - mu[:2]).abs().max() > 1e-4


def test_encoder_is_defined_for_any_number_of_particles():
    enc = _pi_encoder()
    g = torch.Generator().manual_seed(2)
    x = torch.rand(3, 400, 3, generator=g)
    # the mean over particles: k copies of each particle (N -> kN) leave z unchanged
    z = enc(x)[0]
    torch.testing.assert_close(enc(x.repeat(1, 5, 1))[0], z, atol=1e-6, rtol=1e-5)
    # i.i.d. configurations of one density: z(N) converges like 1/sqrt(N) (law of large
    # numbers), so an encoder trained on N=1000 sees N=400 as a noisier version of the same
    def spread(n):
        draws = torch.rand(200, n, 3, generator=g) ** 2  # one fixed non-uniform density
        return enc(draws)[0].std(0).mean().item()
    ratio = spread(100) / spread(1600)
    assert 3.0 < ratio < 5.3, ratio  # sqrt(16) = 4


def test_encoder_rejects_wrong_particle_dimension():
    enc = _pi_encoder()
    with pytest.raises(ValueError, match="d_x=3"):
        enc(torch.rand(2, 10, 2))
    with pytest.raises(ValueError, match="N, d_x"):
        enc(torch.rand(2, 3))


# ---------------------------------------------------------------------------------
# mixture-density decoder (§6.4)
# ---------------------------------------------------------------------------------
def _md_decoder(d_x, K, seed=0):
    torch.manual_seed(seed)
    dec = MixtureDensityDecoder(d_z=3, d_x=d_x, n_kernels=K, n_layers=2, width=16, md_hidden=12).double()
    with torch.no_grad():  # spread the random outputs so kernels differ clearly
        dec.head.weight.mul_(4.0)
        dec.head.bias.normal_(0.0, 1.0)
    return dec


@pytest.mark.parametrize("d_x,K", [(1, 4), (3, 5), (2, 1)])
def test_mixture_log_likelihood_matches_scipy(d_x, K):
    dec = _md_decoder(d_x, K)
    g = torch.Generator().manual_seed(3)
    z = torch.randn(4, 3, generator=g, dtype=torch.float64)
    v = 2.0 * torch.randn(4, 9, d_x, generator=g, dtype=torch.float64)
    with torch.no_grad():
        ours = dec.log_prob(v, z).numpy()
        log_pi, mu, L = (t.numpy() for t in dec.params(z))
    assert np.allclose(np.tril(L), L) and np.all(np.diagonal(L, axis1=-2, axis2=-1) > 0)
    for b in range(4):
        assert math.isclose(np.exp(log_pi[b]).sum(), 1.0, rel_tol=1e-12)
        comp = np.stack([log_pi[b, k] + multivariate_normal(mu[b, k], L[b, k] @ L[b, k].T).logpdf(v[b].numpy())
                         for k in range(K)], axis=-1).reshape(9, K)
        np.testing.assert_allclose(ours[b], logsumexp(comp, axis=-1), rtol=1e-10, atol=1e-10)


def test_mixture_samples_have_the_mixture_moments():
    dec = _md_decoder(d_x=3, K=3, seed=4)
    z = torch.randn(2, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    n = 200_000
    with torch.no_grad():
        v = dec.sample_v(z, n, generator=torch.Generator().manual_seed(6)).numpy()
        log_pi, mu, L = (t.numpy() for t in dec.params(z))
    for b in range(2):
        pi = np.exp(log_pi[b])
        sig = L[b] @ np.swapaxes(L[b], -1, -2)
        mean = (pi[:, None] * mu[b]).sum(0)
        second = (pi[:, None, None] * (sig + mu[b][:, :, None] * mu[b][:, None, :])).sum(0)
        cov = second - np.outer(mean, mean)
        se = np.sqrt(np.diag(cov) / n)
        assert np.all(np.abs(v[b].mean(0) - mean) < 5 * se), (v[b].mean(0), mean)
        np.testing.assert_allclose(np.cov(v[b].T), cov, atol=0.02 * np.abs(cov).max())


def test_mixture_sampling_reproducible_and_bounded():
    dec = _md_decoder(d_x=2, K=3).float()
    z = torch.randn(3, 3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = dec.sample(z, 500, generator=torch.Generator().manual_seed(11))
        b = dec.sample(z, 500, generator=torch.Generator().manual_seed(11))
        c = dec.sample(z, 500, generator=torch.Generator().manual_seed(12))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (3, 500, 2) and a.min() >= 0 and a.max() <= 1


def test_inverse_softplus_and_the_density_of_scaled_positions():
    y = torch.linspace(1e-3, 8.0, 1001, dtype=torch.float64)
    torch.testing.assert_close(torch.nn.functional.softplus(inverse_softplus(y)), y, rtol=1e-12, atol=1e-12)
    # clipping: y = 0 maps to softplus^{-1}(eps), finite
    assert torch.isfinite(inverse_softplus(torch.zeros(1, dtype=torch.float64), eps=1e-3)).all()
    # with the Jacobian log|dv/dy| the density of y integrates to one (d_x = 1)
    dec = _md_decoder(d_x=1, K=3, seed=7)
    z = torch.randn(1, 3, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    with torch.no_grad():
        _, mu, L = dec.params(z)
        dec.softplus_eps = 1e-12  # the clip would otherwise flatten the density below eps
        grid = torch.logspace(-10, 2, 200_001, dtype=torch.float64)
        p = dec.log_prob_y(grid[None, :, None], z).exp()[0].numpy()
    mass = np.trapezoid(p, grid.numpy())
    assert abs(mass - 1.0) < 2e-3, mass


# ---------------------------------------------------------------------------------
# autoencoders (§6.1–6.2)
# ---------------------------------------------------------------------------------
def _sheet(n, seed, D=20):
    """Points on a smooth two-dimensional sheet in R^D (a fixed random tanh map of [-1,1]^2)."""
    rng = np.random.default_rng(123)
    W1, b1, W2 = rng.normal(size=(2, 6)), rng.normal(size=6), rng.normal(size=(6, D)) / np.sqrt(6)
    theta = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
    return (np.tanh(theta @ W1 + b1) @ W2).astype(np.float32)


def test_autoencoder_finds_the_manifold_dimension():
    xtr, xva = _sheet(1000, 0), _sheet(500, 1)
    m, s = xtr.mean(0), xtr.std(0)
    xtr, xva = (xtr - m) / s, (xva - m) / s  # unit variance per feature
    loss = {}
    for d_z in (2, 1):
        torch.manual_seed(0)
        ae = build_autoencoder(AutoencoderConfig((20,), d_z=d_z, n_layers=2, width=32))
        res = train_autoencoder(ae, xtr, xva, TrainConfig(max_epochs=30, lr=3e-3, lr_patience=4),
                                progress=False, device="cpu")
        loss[d_z] = res.best_val_loss
    assert loss[2] < 5e-3, loss      # < 0.5 % of the variance with d_z = manifold dimension
    assert loss[1] > 20 * loss[2], loss  # one latent coordinate cannot unfold a sheet


def test_vae_kl_and_forecast_time_mean():
    mu = torch.randn(6, 4, dtype=torch.float64)
    logvar = torch.randn(6, 4, dtype=torch.float64)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar),
                               torch.distributions.kl_divergence(q, p).sum(-1))
    torch.manual_seed(0)
    ae = build_autoencoder(AutoencoderConfig((2, 5), d_z=3, n_layers=2, width=8, variational=True))
    x = torch.randn(4000, 2, 5)
    with torch.no_grad():
        mean, lv = ae.encoder(x)
        torch.testing.assert_close(ae.encode(x), mean)  # forecasting uses the mean
        draws = ae.encode(x, sample=True, generator=torch.Generator().manual_seed(0))
    u = (draws - mean) / (0.5 * lv).exp()  # standardised draws must be N(0, 1)
    assert abs(u.mean().item()) < 0.03 and abs(u.std().item() - 1) < 0.03


def _blobs(n, N, seed):
    """Configurations of N particles in [0,1]: N(m, 0.08^2) clipped, centre m ~ U(0.2, 0.8)."""
    rng = np.random.default_rng(seed)
    m = rng.uniform(0.2, 0.8, n)
    x = np.clip(m[:, None] + 0.08 * rng.normal(size=(n, N)), 0, 1)
    return x[..., None].astype(np.float32), m


def test_particle_autoencoder_learns_the_configuration_density():
    xtr, _ = _blobs(400, 100, 0)
    xva, _ = _blobs(100, 100, 1)
    torch.manual_seed(0)
    cfg = AutoencoderConfig((100, 1), d_z=1, kind="particle", n_layers=2, width=32, d_p=16,
                            n_kernels=2, md_hidden=16)
    ae = build_autoencoder(cfg)
    res = train_autoencoder(ae, xtr, xva, TrainConfig(max_epochs=20, lr=3e-3), progress=False, device="cpu")
    assert res.history["val_loss"][-1] < res.history["val_loss"][0] - 0.5
    # encode configurations of another size (N=37), decode 2000 particles each
    xte, m = _blobs(200, 37, 2)
    with torch.no_grad():
        y = ae.decode(ae.encode(torch.from_numpy(xte)), n_particles=2000,
                      generator=torch.Generator().manual_seed(0))[..., 0].numpy()
    assert np.corrcoef(y.mean(1), m)[0, 1] > 0.98
    assert np.abs(y.mean(1) - m).mean() < 0.03  # the sample mean of 37 particles errs by ~0.013
    assert abs(y.std(1).mean() - 0.08) < 0.02


# ---------------------------------------------------------------------------------
# latent RNN (§6.5)
# ---------------------------------------------------------------------------------
def _noisy_sines(n_traj, T, seed, noise=0.02, dt=0.3):
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (n_traj, 1))
    omega = rng.uniform(0.8, 1.2, (n_traj, 1))
    z = 2.0 * np.sin(omega * dt * np.arange(T)[None] + phase) + 1.0 + noise * rng.normal(size=(n_traj, T))
    return z[..., None].astype(np.float32)


def test_rnn_continues_a_noisy_sine_better_than_persistence():
    ztr, zva, zte = _noisy_sines(8, 400, 0), _noisy_sines(4, 400, 1), _noisy_sines(8, 400, 2)
    torch.manual_seed(0)
    rnn = LatentRNN(d_z=1, d_h=16, cell="gru")
    train_rnn(rnn, ztr, zva, TrainConfig(max_epochs=15, lr=3e-3, bptt=20, hidden_propagation_length=100),
              progress=False, device="cpu")
    z = torch.from_numpy(zte)
    with torch.no_grad():
        # one step, after a warm-up of 20 steps
        pred, hidden = rnn(z[:, :-1])
        one = (pred[:, 20:] - z[:, 21:]).pow(2).mean().item()
        persist = (z[:, 20:-1] - z[:, 21:]).pow(2).mean().item()
        # ten steps on its own output, from 30 starts
        err_rnn, err_pers = [], []
        for t0 in range(40, 340, 10):
            _, h = rnn(z[:, :t0])
            zt = z[:, t0]
            for _ in range(10):
                zt, h = rnn.step(zt, h)
            err_rnn.append((zt - z[:, t0 + 10]).pow(2).mean().item())
            err_pers.append((z[:, t0] - z[:, t0 + 10]).pow(2).mean().item())
    assert one < 0.1 * persist, (one, persist)
    assert np.mean(err_rnn) < 0.2 * np.mean(err_pers), (np.mean(err_rnn), np.mean(err_pers))


def test_rnn_is_stateful():
    torch.manual_seed(0)
    for cell in ("lstm", "gru"):
        rnn = LatentRNN(d_z=3, d_h=8, cell=cell, n_layers=2)
        rnn.set_normalization(torch.tensor([1.0, -2.0, 0.5]), torch.tensor([2.0, 0.5, 1.0]))
        z = torch.randn(4, 12, 3)
        with torch.no_grad():
            whole, h_whole = rnn(z)
            first, h = rnn(z[:, :7])
            rest = []
            for t in range(7, 12):  # carried hidden state, one step at a time
                zt, h = rnn.step(z[:, t], h)
                rest.append(zt)
        torch.testing.assert_close(torch.cat([first, torch.stack(rest, 1)], 1), whole, atol=1e-6, rtol=1e-5)


# ---------------------------------------------------------------------------------
# LED object: save -> load, scaler, bad configurations
# ---------------------------------------------------------------------------------
def _scaler(kind, x, channel_axis):
    from ledlib.data import MinMaxScaler, StandardScaler
    cls = MinMaxScaler if kind == "minmax" else StandardScaler
    return cls(channel_axis=channel_axis).fit(x)


@pytest.mark.parametrize("system", ["FHN", "AD3D"])
def test_save_load_gives_identical_outputs(tmp_path, system):
    cfg = configs.get(system, "quick")
    rng = np.random.default_rng(0)
    if system == "FHN":
        data = rng.normal(size=(50, 2, 101)) * np.array([1.0, 0.2])[:, None] + np.array([0.3, 0.1])[:, None]
        scaler = _scaler("standard", data, -2)
    else:
        data = rng.uniform(-0.5, 0.5, size=(20, 1000, 3))
        scaler = _scaler("minmax", data, -1)
    torch.manual_seed(1)
    led = LED(cfg, scaler=scaler)
    led.rnn.set_normalization(torch.linspace(-1, 1, cfg.d_z), torch.linspace(0.5, 2, cfg.d_z))
    path = tmp_path / "led.pt"
    led.save(path)
    back = LED.load(path, map_location="cpu")
    assert back.config == cfg and back.scaler_dict == scaler.to_dict()
    x = torch.from_numpy(data[:4]).float()
    z = led.encode(x)
    assert torch.equal(back.encode(x), z)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(back.decode(z, generator=g1), led.decode(z, generator=g2))
    zs = torch.randn(4, 6, cfg.d_z)
    (a, ha), (b, hb) = led.warm_up(zs), back.warm_up(zs)
    assert torch.equal(a, b)
    assert torch.equal(led.rollout(a, ha, 5)[0], back.rollout(b, hb, 5)[0])
    # the scaler is honoured: physical units in and out
    if system == "FHN":
        torch.testing.assert_close(back.scale(x).double(), torch.from_numpy(scaler.transform(data[:4])),
                                   atol=1e-5, rtol=1e-5)
    else:  # decoded particles stay in the physical domain the scaler was fitted on
        xr = back.decode(z, n_particles=400, generator=torch.Generator().manual_seed(0))
        assert xr.shape == (4, 400, 3) and xr.min() >= data.min() - 1e-6 and xr.max() <= data.max() + 1e-6


def test_bad_configurations_raise_value_error_at_construction():
    with pytest.raises(ValueError, match="d_z"):
        AutoencoderConfig((64,), d_z=0)
    with pytest.raises(ValueError, match="n_kernels"):
        AutoencoderConfig((1000, 3), d_z=8, kind="particle", n_kernels=0)
    with pytest.raises(ValueError, match="cell"):
        RNNConfig(cell="rnn")
    with pytest.raises(ValueError, match="activation"):
        AutoencoderConfig((64,), d_z=8, activation="relu")
    with pytest.raises(ValueError, match="obs_shape"):
        AutoencoderConfig((64,), d_z=2, kind="particle")  # particles need (N, d_x)
    with pytest.raises(ValueError, match="d_z"):
        FieldEncoder((64,), d_z=0, n_layers=2, width=8)
    with pytest.raises(ValueError, match="n_kernels"):
        MixtureDensityDecoder(d_z=2, d_x=3, n_kernels=0, n_layers=2, width=8)
    with pytest.raises(ValueError, match="cell"):
        LatentRNN(d_z=2, cell="vanilla")
    with pytest.raises(ValueError, match="activation"):
        FieldDecoder((64,), d_z=2, n_layers=2, width=8, act="relu")
    # a scaler fitted on other observables is refused when the LED is built
    bad = _scaler("standard", np.random.default_rng(0).normal(size=(10, 32)), -1)
    with pytest.raises(ValueError, match="shape"):
        LED(configs.get("KS", "quick"), scaler=bad)
    # mismatched inputs give ValueError, not a torch shape error
    led = LED(configs.get("KS", "quick"))
    with pytest.raises(ValueError, match="64"):
        led.encode(torch.zeros(2, 63))
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        led.decode(torch.zeros(2, 7))
    with pytest.raises(ValueError, match="d_z|8"):
        led.step(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="train_data"):
        train_autoencoder(led, np.zeros((10, 65), np.float32), np.zeros((10, 64), np.float32),
                          TrainConfig(max_epochs=1), progress=False, device="cpu")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("residual", [True, False])
def test_fused_inference_step_equals_the_sequence_module(cell, residual):
    from ledlib.nn import LatentRNN

    torch.manual_seed(0)
    rnn = LatentRNN(3, 16, cell, residual=residual)
    rnn.set_normalization(torch.tensor([0.5, -1.0, 2.0]), torch.tensor([2.0, 0.5, 1.5]))
    z_seq = torch.randn(4, 12, 3)
    with torch.enable_grad():  # the autograd path runs nn.LSTM / nn.GRU
        ref, ref_h = rnn(z_seq)
    hidden = None
    with torch.no_grad():  # the inference path runs the fused cell
        for t in range(z_seq.shape[1]):
            z_next, hidden = rnn.step(z_seq[:, t], hidden)
            torch.testing.assert_close(z_next, ref[:, t].detach(), rtol=1e-5, atol=1e-6)
    ref_h = ref_h if isinstance(ref_h, tuple) else (ref_h,)
    hidden = hidden if isinstance(hidden, tuple) else (hidden,)
    for a, b in zip(hidden, ref_h):
        torch.testing.assert_close(a, b.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("residual", [True, False])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_latent_rollout_equals_iterating_the_sequence_module(cell, residual, n_layers):
    """advance(n) in normalised units (one layer: fused cells) = n free-running steps of
    nn.LSTM / nn.GRU, whatever the reads in between; the hidden state comes out in their format."""
    from ledlib.nn import LatentRNN, LatentRollout

    torch.manual_seed(1)
    rnn = LatentRNN(3, 16, cell, n_layers=n_layers, residual=residual)
    rnn.set_normalization(torch.tensor([0.5, -1.0, 2.0]), torch.tensor([2.0, 0.5, 1.5]))
    z0 = torch.randn(5, 3)
    _, h0 = rnn(torch.randn(5, 4, 3))  # a non-trivial hidden state to start from
    h0 = tuple(h.detach() for h in h0) if isinstance(h0, tuple) else h0.detach()
    ref_z, ref_h, traj = z0, h0, []
    with torch.enable_grad():  # reference: the sequence module, one step at a time
        for _ in range(9):
            out, ref_h = rnn(ref_z[:, None], ref_h)
            ref_z = out[:, 0].detach()
            ref_h = tuple(h.detach() for h in ref_h) if isinstance(ref_h, tuple) else ref_h.detach()
            traj.append(ref_z)
    with torch.no_grad():
        roll = LatentRollout(rnn, z0, h0)
        torch.testing.assert_close(roll.z, z0)
        done = 0
        for n in (1, 3, 0, 5):  # reads after 1, 4, 4 and 9 steps
            roll.advance(n)
            done += n
            torch.testing.assert_close(roll.z, traj[done - 1], rtol=1e-5, atol=1e-5)
    got = roll.hidden if isinstance(roll.hidden, tuple) else (roll.hidden,)
    want = ref_h if isinstance(ref_h, tuple) else (ref_h,)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        LatentRollout(rnn, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="n must be"):
        roll.advance(-1)
    with pytest.raises(ValueError, match=r"n must be at most 100000000 steps, got 1000000000000"):
        roll.advance(10**12)  # refused at once, not looped


def test_the_papers_readout_is_bounded_and_the_increment_is_not():
    """Eq. (16), z = W h with |h| < 1, keeps every prediction within max(std) ||W|| sqrt(d_h)
    of the normalisation's mean, however far the input; the increment z + W h carries a far
    input along (why FHN's d_z = 32/64 LEDs use eq. 16: paper.fhn.paper_readout)."""
    from ledlib.nn import LatentRNN

    torch.manual_seed(2)
    mean, std = torch.tensor([0.5, -1.0, 2.0]), torch.tensor([2.0, 0.5, 1.5])
    far = torch.tensor([[1e3, -1e3, 5e2]])
    for residual in (False, True):
        rnn = LatentRNN(3, 16, "lstm", residual=residual)
        rnn.set_normalization(mean, std)
        bound = float(std.max() * torch.linalg.matrix_norm(rnn.readout.weight.detach(), 2) * 16 ** 0.5)
        with torch.no_grad():
            z, h = far, None
            for _ in range(20):
                z, h = rnn.step(z, h)
        off = float(torch.linalg.vector_norm(z - mean))
        if residual:
            assert off > 100 * bound  # the far input is still there
        else:
            assert off <= bound
