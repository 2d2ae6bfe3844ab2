"""Training loops: exact resume, divergence, early stopping, truncated BPTT, devices."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from ledlib import configs
from ledlib.configs import AutoencoderConfig, TrainConfig
from ledlib.device import resolve_device
from ledlib.nn import LED, LatentRNN, build_autoencoder
from ledlib.train import STOP_FILE, TrainingDivergedError, encode_trajectories, save_checkpoint, train_autoencoder, train_rnn


pytestmark = pytest.mark.usefixtures("one_thread")


class _Interrupt(Exception):
    pass


def _interrupt_after(k):
    def cb(epoch, history):
        if epoch == k:
            raise _Interrupt
    return cb


def _field_data(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, (n, 1))
    x = np.sin(t + np.linspace(0, np.pi, 12)[None]) + 0.05 * rng.normal(size=(n, 12))
    return x.astype(np.float32)


def _latents(n_traj, T, seed, d_z=2):
    rng = np.random.default_rng(seed)
    t = 0.2 * np.arange(T)[None, :, None] + rng.uniform(0, 6, (n_traj, 1, 1))
    z = np.concatenate([np.sin(t), np.cos(1.3 * t)], -1)[..., :d_z]
    return (3.0 * z + 0.05 * rng.normal(size=z.shape)).astype(np.float32)


def _curves(h):
    return {k: v for k, v in h.items() if k != "epoch_time_s"}


def _params(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def _assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


# ---------------------------------------------------------------------------------
# resume == uninterrupted
# ---------------------------------------------------------------------------------
def test_autoencoder_resume_is_bitwise_identical(tmp_path):
    # a VAE with input noise, so shuffling, noise and reparametrisation draws all matter
    cfg = TrainConfig(max_epochs=6, batch_size=16, noise_level=0.1, weight_decay=1e-4, lr_patience=1, patience=50)
    ae_cfg = AutoencoderConfig((12,), d_z=2, n_layers=2, width=16, variational=True)
    xtr, xva = _field_data(100, 0), _field_data(40, 1)

    torch.manual_seed(0)
    full = build_autoencoder(ae_cfg)
    r_full = train_autoencoder(full, xtr, xva, cfg, tmp_path / "full", seed=3, progress=False, device="cpu")

    torch.manual_seed(0)
    part = build_autoencoder(ae_cfg)
    with pytest.raises(_Interrupt):
        train_autoencoder(part, xtr, xva, cfg, tmp_path / "part", seed=3, progress=False, device="cpu",
                          callback=_interrupt_after(2))
    torch.manual_seed(123)  # a fresh process: other weights, other global random state
    again = build_autoencoder(ae_cfg)
    r_res = train_autoencoder(again, xtr, xva, cfg, tmp_path / "part", seed=3, progress=False, device="cpu",
                              resume=True)
    assert _curves(r_res.history) == _curves(r_full.history) and r_res.best_epoch == r_full.best_epoch
    _assert_bitwise_equal(_params(again), _params(full))
    last_full = torch.load(tmp_path / "full" / "last.pt", weights_only=True)["model"]
    last_res = torch.load(tmp_path / "part" / "last.pt", weights_only=True)["model"]
    _assert_bitwise_equal(last_full, last_res)
    # the run really continued from epoch 3 (not from scratch or from the end)
    assert r_full.history["epoch"] == list(range(6))


def test_a_stop_file_ends_the_training_as_early_stopping_would(tmp_path):
    cfg = TrainConfig(max_epochs=6, batch_size=16, noise_level=0.1, lr_patience=1, patience=50)
    ae_cfg = AutoencoderConfig((12,), d_z=2, n_layers=2, width=16)
    xtr, xva = _field_data(100, 0), _field_data(40, 1)
    torch.manual_seed(0)
    full = train_autoencoder(build_autoencoder(ae_cfg), xtr, xva, cfg, tmp_path / "full", seed=3, progress=False,
                             device="cpu")

    def request_stop(epoch, history):  # a person's `touch STOP` while epoch 3 runs
        if epoch == 2:
            (tmp_path / "part" / STOP_FILE).touch()

    torch.manual_seed(0)
    part = build_autoencoder(ae_cfg)
    r = train_autoencoder(part, xtr, xva, cfg, tmp_path / "part", seed=3, progress=False, device="cpu",
                          callback=request_stop)
    assert full.stop_reason == "max_epochs" and full.epochs_run == 6
    assert r.stop_reason == "requested" and r.epochs_run == 4 and not (tmp_path / "part" / STOP_FILE).exists()
    assert _curves(r.history) == {k: v[:4] for k, v in _curves(full.history).items()}
    best = int(np.argmin(r.history["val_loss"]))
    assert r.best_epoch == best
    # resuming a requested stop trains nothing more and keeps its best weights and reason
    again = build_autoencoder(ae_cfg)
    r2 = train_autoencoder(again, xtr, xva, cfg, tmp_path / "part", seed=3, progress=False, device="cpu",
                           resume=True)
    assert r2.epochs_run == 4 and r2.stop_reason == "requested"
    _assert_bitwise_equal(_params(again), _params(part))


@pytest.mark.parametrize("named", [True, False])
def test_resume_of_a_checkpoint_from_another_device(tmp_path, named):
    """A GPU checkpoint resumed on the CPU (e.g. training cut short on a GPU machine): the
    device generator's stream cannot continue, so it is reseeded from the saved state, with
    a warning; the weights, optimiser and epoch carry on. ``named=False``: a checkpoint
    written before the generators' devices were recorded."""
    cfg = TrainConfig(max_epochs=4, batch_size=16, noise_level=0.1, patience=50)
    ae_cfg = AutoencoderConfig((12,), d_z=2, n_layers=2, width=16, variational=True)
    xtr, xva = _field_data(100, 0), _field_data(40, 1)
    torch.manual_seed(0)
    ae = build_autoencoder(ae_cfg)
    with pytest.raises(_Interrupt):
        train_autoencoder(ae, xtr, xva, cfg, tmp_path, seed=3, progress=False, device="cpu",
                          callback=_interrupt_after(2))
    ck = torch.load(tmp_path / "last.pt", weights_only=True)
    ck["rng"]["generators"]["noise"] = torch.arange(16, dtype=torch.uint8)  # a CUDA generator's state
    if named:
        ck["rng"]["generator_devices"]["noise"] = "cuda"
        ck["history"]["device"] = ["cuda"] * len(ck["history"]["epoch"])
    else:
        del ck["rng"]["generator_devices"]
        del ck["history"]["device"]
    save_checkpoint(ck, tmp_path / "last.pt")  # an edited checkpoint is written with its checksum
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        again = build_autoencoder(ae_cfg)
        with pytest.warns(RuntimeWarning, match="reseeded"):
            runs.append(train_autoencoder(again, xtr, xva, cfg, tmp_path, seed=3, progress=False, device="cpu",
                                          resume=True))
        save_checkpoint(ck, tmp_path / "last.pt")  # the same starting point for the second resume
    assert runs[0].history["epoch"] == list(range(4))
    done = len(ck["history"]["epoch"])  # epochs before the interruption are kept as they were
    assert 0 < done < 4 and runs[0].history["train_loss"][:done] == ck["history"]["train_loss"]
    # the record says where the epochs ran
    assert runs[0].device == ("cuda+cpu" if named else "unrecorded+cpu")
    assert runs[0].history["device"][done:] == ["cpu"] * (4 - done)
    assert _curves(runs[0].history) == _curves(runs[1].history)  # the reseeding is deterministic
    assert all(math.isfinite(v) for v in runs[0].history["val_loss"])


def test_rnn_resume_is_bitwise_identical(tmp_path):
    cfg = TrainConfig(max_epochs=5, batch_size=4, bptt=10, hidden_propagation_length=40, noise_level=0.02,
                      patience=50)
    ztr, zva = _latents(3, 120, 0), _latents(2, 120, 1)
    torch.manual_seed(0)
    full = LatentRNN(2, 12, "lstm")
    r_full = train_rnn(full, ztr, zva, cfg, tmp_path / "full", seed=1, progress=False, device="cpu")
    torch.manual_seed(0)
    part = LatentRNN(2, 12, "lstm")
    with pytest.raises(_Interrupt):
        train_rnn(part, ztr, zva, cfg, tmp_path / "part", seed=1, progress=False, device="cpu",
                  callback=_interrupt_after(1))
    torch.manual_seed(9)
    again = LatentRNN(2, 12, "lstm")
    r_res = train_rnn(again, ztr, zva, cfg, tmp_path / "part", seed=1, progress=False, device="cpu", resume=True)
    assert _curves(r_res.history) == _curves(r_full.history)
    _assert_bitwise_equal(_params(again), _params(full))
    # another seed gives other weights: the comparison above can fail
    torch.manual_seed(0)
    other = LatentRNN(2, 12, "lstm")
    train_rnn(other, ztr, zva, cfg, None, seed=2, progress=False, device="cpu")
    assert not torch.equal(other.readout.weight, full.readout.weight)


def test_resume_refuses_a_checkpoint_of_another_config(tmp_path):
    xtr, xva = _field_data(40, 0), _field_data(20, 1)
    ae = build_autoencoder(AutoencoderConfig((12,), d_z=2, n_layers=1, width=8))
    train_autoencoder(ae, xtr, xva, TrainConfig(max_epochs=1), tmp_path, progress=False, device="cpu")
    with pytest.raises(ValueError, match="different config"):
        train_autoencoder(ae, xtr, xva, TrainConfig(max_epochs=2, lr=1e-2), tmp_path, progress=False,
                          device="cpu", resume=True)


# ---------------------------------------------------------------------------------
# divergence, early stopping, learning-rate reduction
# ---------------------------------------------------------------------------------
def test_nan_loss_stops_with_the_epoch_and_keeps_the_last_good_checkpoint(tmp_path):
    xtr, xva = _field_data(64, 0), _field_data(20, 1)
    torch.manual_seed(0)
    ae = build_autoencoder(AutoencoderConfig((12,), d_z=2, n_layers=2, width=8))

    def poison(epoch, history):  # something goes wrong after epoch 1 is checkpointed
        if epoch == 1:
            with torch.no_grad():
                ae.decoder.net.out.bias[0] = float("nan")

    with pytest.raises(TrainingDivergedError, match="epoch 2") as info:
        train_autoencoder(ae, xtr, xva, TrainConfig(max_epochs=10), tmp_path, progress=False, device="cpu",
                          callback=poison)
    assert isinstance(info.value, ValueError) and info.value.epoch == 2
    ck = torch.load(tmp_path / "last.pt", weights_only=True)
    assert ck["epoch"] == 1 and all(torch.isfinite(v).all() for v in ck["model"].values())
    assert all(torch.isfinite(p).all() for p in ae.parameters())  # back to the last good weights


def test_early_stopping_restores_the_best_weights_and_reduces_the_lr():
    xtr, xva = _field_data(64, 0), _field_data(64, 1)
    torch.manual_seed(0)
    ae = build_autoencoder(AutoencoderConfig((12,), d_z=1, n_layers=2, width=32))
    cfg = TrainConfig(max_epochs=300, lr=2e-2, batch_size=8, patience=6, lr_patience=1, lr_factor=0.5)
    res = train_autoencoder(ae, xtr, xva, cfg, progress=False, device="cpu")
    val = res.history["val_loss"]
    assert res.stopped_early and res.epochs_run < 300
    assert res.best_epoch == int(np.argmin(val)) and res.epochs_run == res.best_epoch + 1 + cfg.patience
    lr = res.history["lr"]
    assert all(b <= a for a, b in zip(lr, lr[1:])) and lr[-1] < cfg.lr
    with torch.no_grad():  # the model holds the best epoch's weights, not the last epoch's
        mse = (ae(torch.from_numpy(xva)) - torch.from_numpy(xva)).pow(2).mean().item()
    assert mse == pytest.approx(res.best_val_loss, rel=1e-5)
    assert mse < val[-1]


# ---------------------------------------------------------------------------------
# truncated BPTT
# ---------------------------------------------------------------------------------
def test_validation_carries_the_hidden_state_across_bptt_windows():
    bptt, prop = 8, 40
    ztr, zva = _latents(2, 100, 0), _latents(2, 81, 1)
    torch.manual_seed(0)
    rnn = LatentRNN(2, 10, "gru")
    res = train_rnn(rnn, ztr, zva, TrainConfig(max_epochs=3, bptt=bptt, hidden_propagation_length=prop),
                    progress=False, device="cpu")
    u = rnn.normalize(torch.from_numpy(zva))
    chunks = torch.cat([u[:, 0:41], u[:, 40:81]])  # two consecutive chunks of 40 transitions per trajectory
    with torch.no_grad():
        pred, _ = rnn.forward_normalized(chunks[:, :-1])  # one pass: the state flows through all windows
        carried = (pred - chunks[:, 1:]).pow(2).mean().item()
        resets = []
        for w in range(prop // bptt):  # reset every window, for contrast
            p, _ = rnn.forward_normalized(chunks[:, w * bptt:(w + 1) * bptt])
            resets.append((p - chunks[:, w * bptt + 1:(w + 1) * bptt + 1]).pow(2).mean().item())
    assert res.best_val_loss == pytest.approx(carried, rel=1e-5)
    assert abs(np.mean(resets) - carried) > 1e-3 * carried
    assert res.extra["windows_per_chunk"] == prop // bptt and res.extra["n_val_chunks"] == 4


def test_rnn_training_rejects_too_short_trajectories():
    rnn = LatentRNN(2, 4)
    with pytest.raises(ValueError, match="bptt"):
        train_rnn(rnn, _latents(2, 10, 0), _latents(1, 50, 1), TrainConfig(bptt=20, hidden_propagation_length=40),
                  progress=False, device="cpu")
    with pytest.raises(ValueError, match="latent_train"):
        train_rnn(rnn, _latents(2, 50, 0, d_z=1), _latents(1, 50, 1), TrainConfig(bptt=5,
                  hidden_propagation_length=10), progress=False, device="cpu")


# ---------------------------------------------------------------------------------
# devices and the two stages on an LED
# ---------------------------------------------------------------------------------
def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_led_two_stages_on_physical_units(tmp_path):
    from ledlib.data import StandardScaler
    cfg = configs.get("KS", "quick")
    cfg = cfg.replace(ae_train=dataclasses.replace(cfg.ae_train, max_epochs=3),
                      rnn_train=dataclasses.replace(cfg.rnn_train, max_epochs=3))
    rng = np.random.default_rng(0)
    # travelling waves on 64 points: a field with two latent coordinates, in physical units
    t = 0.25 * np.arange(160)
    x = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    states = np.stack([2.0 * np.sin(x[None] - 0.7 * t[:, None] + p) + 1.0 for p in rng.uniform(0, 6, 3)])
    states = (states + 0.01 * rng.normal(size=states.shape)).astype(np.float32)  # (3, 160, 64)
    scaler = StandardScaler(channel_axis=-1).fit(states[:2].reshape(-1, 64))
    led = LED(cfg, scaler=scaler)
    r_ae = train_autoencoder(led, states[:2], states[2:], cfg, tmp_path / "ae", scaled=False, progress=False,
                             device="cpu")
    assert r_ae.history["val_loss"][-1] < r_ae.history["val_loss"][0]
    z = encode_trajectories(led, states)
    assert z.shape == (3, 160, cfg.d_z)
    np.testing.assert_allclose(z[1, :5], led.encode(torch.from_numpy(states[1, :5])).numpy(), rtol=1e-6)
    r_rnn = train_rnn(led, z[:2], z[2:], cfg, tmp_path / "rnn", progress=False, device="cpu")
    assert r_rnn.epochs_run == 3 and np.isfinite(r_rnn.best_val_loss)
    led.save(tmp_path / "led.pt")
    back = LED.load(tmp_path / "led.pt")
    zl, h = back.warm_up(torch.from_numpy(z[2:, :20]))
    assert torch.equal(zl, led.warm_up(torch.from_numpy(z[2:, :20]))[0])
    assert back.decode(zl).shape == (1, 64)


def test_encoding_refuses_non_finite_states_and_bad_batch_sizes():
    """NaN or inf in would be NaN latents out, silently: refused, as is a batch size of 0."""
    led = LED(configs.get("KS", "quick"))
    x = np.zeros((2, 3, 64))
    x[1, 2, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        encode_trajectories(led, x)
    with pytest.raises(ValueError, match="NaN or infinite"):
        led.encode(np.full((1, 64), np.inf))
    with pytest.raises(ValueError, match="batch_size"):
        encode_trajectories(led, np.zeros((1, 3, 64)), batch_size=0)
    z = encode_trajectories(led, np.zeros((2, 3, 64)), batch_size=4)
    # one state, one latent (up to the float32 rounding of batches of different sizes)
    assert z.shape == (2, 3, led.d_z) and np.allclose(z, z[0, 0], rtol=0, atol=1e-6)
