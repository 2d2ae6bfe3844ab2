"""Training LED in the paper's two stages (§2, §6.5, §8).

1. :func:`train_autoencoder`: the (V)AE alone, reconstruction MSE (or the mixture
   decoder's negative log-likelihood) plus the VAE's KL term, with Gaussian input noise
   (denoising: the target is the clean sample) and Adam's weight decay.
2. :func:`train_rnn`: the latent RNN on trajectories of the frozen encoder
   (:func:`encode_trajectories`), by truncated backpropagation through time. Every
   training chunk holds ``hidden_propagation_length`` transitions of one trajectory; it is
   cut into consecutive windows of ``bptt`` steps; after each window the optimiser steps
   and the hidden state is carried, detached, into the next window, so it is reset only
   at the start of the next chunk. A batch runs ``batch_size`` chunks (random
   trajectories and start offsets) in parallel.

Both use Adam (lr and batch from the tables), lower the learning rate when the validation
loss stalls (``ReduceLROnPlateau``), stop early after ``patience`` epochs without a better
validation loss and end with the best weights. With ``checkpoint_dir`` every epoch writes,
atomically, ``last.pt`` (model, optimiser, scheduler, the random states of torch, numpy,
python and of the training generators, epoch, history, best weights) and ``best.pt``;
``resume=True`` continues from ``last.pt``, and on the same device with the same seed
ends with bitwise the same weights as an uninterrupted run. A non-finite loss raises
:class:`TrainingDivergedError` naming the epoch; ``last.pt`` keeps the last good epoch.

Data are in network units (scaled). Losses: AE, mean per reconstructed value; RNN, the
MSE of the one-step prediction in the RNN's normalised latent units.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm  # text bars: no ipywidgets needed in notebooks

from .configs import LEDConfig, TrainConfig
from .device import resolve_device
from .nn.autoencoder import Autoencoder
from .nn.layers import randn
from .nn.led import LED, atomic_torch_save
from .nn.rnn import LatentRNN, detach_hidden

__all__ = ["TrainResult", "TrainingDivergedError", "train_autoencoder", "train_rnn", "encode_trajectories",
           "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "ledlib.train/1"
_EVAL_BATCH = 256


class TrainingDivergedError(ValueError):
    """The training loss became NaN or infinite; ``epoch`` says when."""

    def __init__(self, message: str, epoch: int, checkpoint_path: str | None = None):
        super().__init__(message)
        self.epoch = epoch
        self.checkpoint_path = checkpoint_path


@dataclass
class TrainResult:
    """Outcome of a training stage; ``history`` holds the per-epoch curves for the book."""

    stage: str
    history: dict[str, list]
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    stopped_early: bool
    wall_time_s: float
    device: str  # where the epochs ran: "cpu", "cuda", or e.g. "cuda+cpu" for a resumed training
    seed: int
    checkpoint_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    torch: str = field(default_factory=lambda: torch.__version__)  # the build that trained it

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------
# random states
# ---------------------------------------------------------------------------------
def _rng_state(gens: dict[str, torch.Generator]) -> dict[str, Any]:
    np_state = np.random.get_state()
    st = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": random.getstate(),
        "generators": {k: g.get_state() for k, g in gens.items()},
        "generator_devices": {k: g.device.type for k, g in gens.items()},
    }
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def _set_rng_state(st: dict[str, Any], gens: dict[str, torch.Generator]) -> None:
    torch.set_rng_state(st["torch"])
    n = st["numpy"]
    np.random.set_state((n[0], np.asarray(n[1], dtype=np.uint32), n[2], n[3], n[4]))
    py = st["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    saved_on = st.get("generator_devices", {})
    for k, g in gens.items():
        state = st["generators"][k]
        if saved_on.get(k, g.device.type) == g.device.type:
            try:
                g.set_state(state)
                continue
            except RuntimeError:  # a checkpoint older than generator_devices, from another device
                pass
        # resumed on another kind of device: its stream cannot continue; reseed from it
        import hashlib
        import warnings

        warnings.warn(f"resuming a training checkpointed on {saved_on.get(k, 'another device')} on "
                      f"{g.device.type}: the {k!r} random stream is reseeded from the saved one (not "
                      "bitwise the uninterrupted run)", RuntimeWarning, stacklevel=3)
        g.manual_seed(int.from_bytes(hashlib.sha256(state.numpy().tobytes()).digest()[:8], "little") >> 1)
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def _generators(seed: int, device: torch.device) -> dict[str, torch.Generator]:
    """``order``: CPU generator for shuffling and chunk starts; ``noise``: on the training
    device, for input noise and the VAE's reparametrisation."""
    order = torch.Generator().manual_seed(seed)
    noise = torch.Generator(device=device).manual_seed(seed + 7919)
    return {"order": order, "noise": noise}


# ---------------------------------------------------------------------------------
# the shared epoch loop
# ---------------------------------------------------------------------------------
def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return seed


def _fit(stage: str, module: torch.nn.Module, cfg: TrainConfig, weight_decay: float,
         train_epoch: Callable[[int, dict, torch.optim.Optimizer], float], validate: Callable[[], float],
         gens: dict[str, torch.Generator], device: torch.device, seed: int,
         checkpoint_dir, resume: bool, progress: bool, callback, extra: dict) -> TrainResult:
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=cfg.lr_factor,
                                                       patience=cfg.lr_patience, min_lr=cfg.min_lr)
    history: dict[str, list] = {"epoch": [], "train_loss": [], "val_loss": [], "lr": [], "epoch_time_s": [],
                                "device": []}
    best_val, best_epoch, bad_epochs, start, finished = math.inf, -1, 0, 0, False
    best_state = None
    ckdir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    last_path = ckdir / "last.pt" if ckdir is not None else None
    cfg_dict = dataclasses.asdict(cfg)

    if resume and last_path is not None and last_path.exists():
        # on the CPU: random states must stay CPU tensors; weights and Adam moments are
        # copied onto the model's device by load_state_dict
        ck = torch.load(last_path, map_location="cpu", weights_only=True)
        if ck.get("format") != CHECKPOINT_FORMAT or ck.get("stage") != stage:
            raise ValueError(f"{last_path} is not a {stage!r} training checkpoint")
        if ck["config"] != cfg_dict or ck["seed"] != seed:
            raise ValueError(f"{last_path} was written with a different config or seed; "
                             "use another checkpoint_dir or resume=False")
        module.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        _set_rng_state(ck["rng"], gens)
        history = ck["history"]
        # where each epoch ran (a training may move between machines); older checkpoints lack it
        history.setdefault("device", ["unrecorded"] * len(history["epoch"]))
        best_val, best_epoch, bad_epochs = ck["best_val"], ck["best_epoch"], ck["bad_epochs"]
        best_state, finished = ck["best_state"], ck["finished"]
        start = ck["epoch"] + 1

    bar = tqdm(total=cfg.max_epochs, initial=start, desc=stage, unit="epoch", disable=not progress, leave=False)
    for epoch in (range(start, cfg.max_epochs) if not finished else ()):
        t0 = time.perf_counter()
        module.train()
        train_loss = float(train_epoch(epoch, gens, opt))
        module.eval()
        val_loss = float(validate()) if math.isfinite(train_loss) else math.nan
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            if last_path is not None and last_path.exists():  # back to the last good weights
                module.load_state_dict(torch.load(last_path, map_location="cpu", weights_only=True)["model"])
            bar.close()
            raise TrainingDivergedError(
                f"{stage} training diverged at epoch {epoch}: train loss {train_loss}, val loss {val_loss}"
                + (f"; the last good checkpoint is {last_path}" if last_path is not None else ""),
                epoch, str(last_path) if last_path is not None else None)
        sched.step(val_loss)
        if val_loss < best_val:
            best_val, best_epoch, bad_epochs = val_loss, epoch, 0
            best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            if ckdir is not None:
                atomic_torch_save({"format": CHECKPOINT_FORMAT, "stage": stage, "epoch": epoch,
                                   "val_loss": val_loss, "model": best_state}, ckdir / "best.pt")
        else:
            bad_epochs += 1
        for k, v in (("epoch", epoch), ("train_loss", train_loss), ("val_loss", val_loss),
                     ("lr", opt.param_groups[0]["lr"]), ("epoch_time_s", time.perf_counter() - t0),
                     ("device", str(device))):
            history[k].append(v)
        finished = bad_epochs >= cfg.patience or epoch == cfg.max_epochs - 1
        if last_path is not None:
            atomic_torch_save({
                "format": CHECKPOINT_FORMAT, "stage": stage, "config": cfg_dict, "seed": seed,
                "epoch": epoch, "model": module.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "rng": _rng_state(gens), "history": history,
                "best_val": best_val, "best_epoch": best_epoch, "bad_epochs": bad_epochs,
                "best_state": best_state, "finished": finished}, last_path)
        bar.update(1)
        bar.set_postfix(train=f"{train_loss:.3e}", val=f"{val_loss:.3e}", lr=f"{opt.param_groups[0]['lr']:.1e}")
        if callback is not None:
            callback(epoch, history)
        if finished:
            break
    bar.close()
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return TrainResult(stage=stage, history=history, best_epoch=best_epoch, best_val_loss=best_val,
                       epochs_run=len(history["epoch"]), stopped_early=bad_epochs >= cfg.patience,
                       wall_time_s=float(sum(history["epoch_time_s"])),
                       device="+".join(dict.fromkeys(history["device"])) or str(device), seed=seed,
                       checkpoint_dir=str(ckdir) if ckdir is not None else None, extra=extra)


def _stage_config(config, which: str) -> TrainConfig:
    if isinstance(config, LEDConfig):
        return getattr(config, which)
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig or LEDConfig, got {type(config).__name__}")
    return config


def _to_tensor(name: str, x, device: torch.device) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}")
    x = x.to(device=device, dtype=torch.float32)
    if not bool(torch.all(torch.isfinite(x))):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


# ---------------------------------------------------------------------------------
# stage 1: the autoencoder
# ---------------------------------------------------------------------------------
def _ae_of(model) -> tuple[Autoencoder, LED | None]:
    if isinstance(model, LED):
        return model.autoencoder, model
    if isinstance(model, Autoencoder):
        return model, None
    raise TypeError(f"model must be an LED or an Autoencoder, got {type(model).__name__}")


def _ae_data(name: str, x, ae: Autoencoder, led: LED | None, scaled: bool, device) -> torch.Tensor:
    x = _to_tensor(name, x, device)
    enc = ae.encoder
    if hasattr(enc, "obs_shape"):  # field: (n, *obs_shape) or (n_traj, T, *obs_shape)
        k = len(enc.obs_shape)
        if x.ndim == k + 2:
            x = x.reshape(-1, *x.shape[2:])
        if x.ndim != k + 1 or tuple(x.shape[1:]) != enc.obs_shape:
            raise ValueError(f"{name} must have shape (n, {', '.join(map(str, enc.obs_shape))}) "
                             f"for this autoencoder, got {tuple(x.shape)}")
    else:  # particles: (n, N, d_x) or (n_traj, T, N, d_x), any N
        if x.ndim == 4:
            x = x.reshape(-1, *x.shape[2:])
        if x.ndim != 3 or x.shape[-1] != enc.d_x:
            raise ValueError(f"{name} must have shape (n, N, {enc.d_x}) for this autoencoder, "
                             f"got {tuple(x.shape)}")
    if x.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one sample")
    if not scaled:
        if led is None or led.scaler_dict is None:
            raise ValueError("scaled=False needs an LED with a scaler to scale the data")
        x = led.scale(x.to(led.scale_a.device)).to(device)
    return x


def train_autoencoder(model, train_data, val_data, config, checkpoint_dir=None, seed: int = 0,
                      device: str = "auto", progress: bool = True, resume: bool = False, *,
                      scaled: bool = True, callback: Callable[[int, dict], None] | None = None) -> TrainResult:
    """Fit the autoencoder of ``model`` (an :class:`~ledlib.nn.LED` or an Autoencoder).

    ``train_data``/``val_data``: ``(n, *obs_shape)`` (or ``(n_traj, T, *obs_shape)``), in
    network units unless ``scaled=False`` (then the LED's scaler is applied). ``config``: a
    :class:`TrainConfig` (or an LEDConfig, whose ``ae_train`` is used). The model is
    moved to ``device`` and ends with the weights of the best validation epoch.
    ``callback(epoch, history)`` runs after each epoch's checkpoint.
    """
    cfg = _stage_config(config, "ae_train")
    seed = _check_seed(seed)
    dev = resolve_device(device)
    ae, led = _ae_of(model)
    (led if led is not None else ae).to(dev)
    xtr = _ae_data("train_data", train_data, ae, led, scaled, dev)
    xva = _ae_data("val_data", val_data, ae, led, scaled, dev)
    gens = _generators(seed, dev)
    particle = not hasattr(ae.encoder, "obs_shape")
    # input noise: a fraction of the per-feature std of the training data
    noise_std = None
    if cfg.noise_level > 0:
        std = xtr.reshape(-1, xtr.shape[-1]).std(0) if particle else xtr.std(0)
        noise_std = cfg.noise_level * std
    n, bs = xtr.shape[0], cfg.batch_size

    def train_epoch(epoch, gens, opt):
        perm = torch.randperm(n, generator=gens["order"]).to(dev)
        total = torch.zeros((), device=dev)
        for i in range(0, n, bs):
            target = xtr[perm[i:i + bs]]
            x = target if noise_std is None else target + noise_std * randn(target.shape, gens["noise"], dev)
            loss, _ = ae.loss(x, target, sample=True, generator=gens["noise"], kl_weight=cfg.kl_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(ae.parameters(), cfg.grad_clip)
            opt.step()
            total += loss.detach() * target.shape[0]
        return (total / n).item()

    @torch.no_grad()
    def validate():
        total = 0.0
        for i in range(0, xva.shape[0], _EVAL_BATCH):
            xb = xva[i:i + _EVAL_BATCH]
            loss, _ = ae.loss(xb, sample=False, kl_weight=cfg.kl_weight)
            total += loss.item() * xb.shape[0]
        return total / xva.shape[0]

    return _fit(
        "autoencoder", ae, cfg, cfg.weight_decay, train_epoch, validate, gens, dev, seed, checkpoint_dir,
        resume, progress, callback, {"n_train": int(n), "n_val": int(xva.shape[0])})



# ---------------------------------------------------------------------------------
# stage 2: the latent RNN
# ---------------------------------------------------------------------------------
def _latent_data(name: str, z, d_z: int, device) -> torch.Tensor:
    z = _to_tensor(name, z, device)
    if z.ndim == 2:
        z = z[None]
    if z.ndim != 3 or z.shape[-1] != d_z:
        raise ValueError(f"{name} must have shape (n_traj, T, {d_z}), got {tuple(z.shape)}")
    return z


def _windows_per_chunk(T: int, cfg: TrainConfig, name: str) -> tuple[int, int]:
    """(transitions per chunk, windows per chunk) for trajectories of length ``T``."""
    if T - 1 < cfg.bptt:
        raise ValueError(f"{name} trajectories have {T} steps; bptt={cfg.bptt} needs at least {cfg.bptt + 1}")
    P = (min(cfg.hidden_propagation_length, T - 1) // cfg.bptt) * cfg.bptt
    return P, P // cfg.bptt


def train_rnn(model, latent_train, latent_val, config, checkpoint_dir=None, seed: int = 0,
              device: str = "auto", progress: bool = True, resume: bool = False, *,
              fit_normalization: bool = True,
              callback: Callable[[int, dict], None] | None = None) -> TrainResult:
    """Fit the latent RNN of ``model`` (an LED or a :class:`~ledlib.nn.LatentRNN`) by truncated BPTT.

    ``latent_train``/``latent_val``: latent trajectories ``(n_traj, T, d_z)`` of the frozen
    encoder. ``config``: a :class:`TrainConfig` (or an LEDConfig, whose ``rnn_train`` is
    used) with ``bptt`` and ``hidden_propagation_length``. With ``fit_normalization`` the
    RNN's latent normalisation is set to the mean and std of ``latent_train`` first.
    """
    cfg = _stage_config(config, "rnn_train")
    seed = _check_seed(seed)
    dev = resolve_device(device)
    if isinstance(model, LED):
        rnn = model.rnn
        model.to(dev)
    elif isinstance(model, LatentRNN):
        rnn = model.to(dev)
    else:
        raise TypeError(f"model must be an LED or a LatentRNN, got {type(model).__name__}")
    ztr = _latent_data("latent_train", latent_train, rnn.d_z, dev)
    zva = _latent_data("latent_val", latent_val, rnn.d_z, dev)
    if fit_normalization:
        flat = ztr.reshape(-1, rnn.d_z)
        std = flat.std(0) if flat.shape[0] > 1 else torch.ones(rnn.d_z, device=dev)
        rnn.set_normalization(flat.mean(0), torch.where(std > 0, std, torch.ones_like(std)))
    with torch.no_grad():
        utr, uva = rnn.normalize(ztr), rnn.normalize(zva)
    n_traj, T = utr.shape[:2]
    P, n_win = _windows_per_chunk(T, cfg, "latent_train")
    Pv, n_win_v = _windows_per_chunk(zva.shape[1], cfg, "latent_val")
    n_chunks = cfg.chunks_per_epoch or max(cfg.batch_size, math.ceil(n_traj * (T - 1) / P))
    bptt, bs = cfg.bptt, cfg.batch_size
    offsets = torch.arange(P + 1, device=dev)
    mse = torch.nn.functional.mse_loss

    def train_epoch(epoch, gens, opt):
        traj = torch.randint(n_traj, (n_chunks,), generator=gens["order"]).to(dev)
        start = torch.randint(T - P, (n_chunks,), generator=gens["order"]).to(dev)
        total = torch.zeros((), device=dev)
        for i in range(0, n_chunks, bs):
            chunk = utr[traj[i:i + bs, None], start[i:i + bs, None] + offsets]  # (b, P+1, d_z)
            hidden = None  # reset at the start of every chunk ...
            for w in range(n_win):
                inp = chunk[:, w * bptt:(w + 1) * bptt]
                tgt = chunk[:, w * bptt + 1:(w + 1) * bptt + 1]
                if cfg.noise_level > 0:
                    inp = inp + cfg.noise_level * randn(inp.shape, gens["noise"], dev)
                pred, hidden = rnn.forward_normalized(inp, hidden)
                loss = mse(pred, tgt)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(rnn.parameters(), cfg.grad_clip)
                opt.step()
                hidden = detach_hidden(hidden)  # ... and carried across its windows
                total += loss.detach() * inp.shape[0]
        return (total / (n_chunks * n_win)).item()

    # validation: each trajectory tiled by consecutive chunks from its start
    n_val_chunks = (zva.shape[1] - 1) // Pv
    val_chunks = torch.stack([uva[j, c * Pv:c * Pv + Pv + 1] for j in range(uva.shape[0])
                              for c in range(n_val_chunks)])

    @torch.no_grad()
    def validate():
        sq, count = 0.0, 0
        for i in range(0, val_chunks.shape[0], _EVAL_BATCH):
            chunk = val_chunks[i:i + _EVAL_BATCH]
            hidden = None
            for w in range(n_win_v):
                pred, hidden = rnn.forward_normalized(chunk[:, w * bptt:(w + 1) * bptt], hidden)
                err = pred - chunk[:, w * bptt + 1:(w + 1) * bptt + 1]
                sq += err.pow(2).sum().item()
                count += err.numel()
        return sq / count

    return _fit("rnn", rnn, cfg, cfg.weight_decay, train_epoch, validate, _generators(seed, dev), dev, seed,
                checkpoint_dir, resume, progress, callback,
                {"n_traj": int(n_traj), "T": int(T), "transitions_per_chunk": int(P), "windows_per_chunk": n_win,
                 "chunks_per_epoch": int(n_chunks), "n_val_chunks": int(val_chunks.shape[0])})


@torch.no_grad()
def encode_trajectories(led: LED, states, *, scaled: bool = False, batch_size: int = 1024,
                        device: str | None = None) -> np.ndarray:
    """Latent trajectories ``(n_traj, T, d_z)`` of ``states (n_traj, T, *obs_shape)`` (VAE: the means).

    ``scaled=False``: ``states`` in physical units (the LED's scaler is applied).
    """
    if not isinstance(led, LED):
        raise TypeError(f"led must be an LED, got {type(led).__name__}")
    if device is not None:
        led.to(resolve_device(device))
    x = states if isinstance(states, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(states))
    k = len(led.obs_shape)
    if x.ndim != k + 2:
        raise ValueError(f"states must have shape (n_traj, T, *obs_shape) with obs_shape of {k} axes, "
                         f"got {tuple(x.shape)}")
    n_traj, T = x.shape[:2]
    flat = x.reshape(n_traj * T, *x.shape[2:])
    out = [led.encode(flat[i:i + batch_size], scaled=scaled).cpu() for i in range(0, flat.shape[0], batch_size)]
    return torch.cat(out).reshape(n_traj, T, led.d_z).numpy()


# ---------------------------------------------------------------------------------
# The whole pipeline, cached: what a chapter calls
# ---------------------------------------------------------------------------------
@dataclass
class FittedLED:
    """A trained LED with the data it was trained on and both training records."""

    led: LED
    dataset: Any  # ledlib.data.Dataset
    ae: dict[str, Any]  # TrainResult.to_dict() of the autoencoder stage
    rnn: dict[str, Any]  # ... of the RNN stage
    path: Path
    from_cache: bool


def model_key(config, dataset_key: str, seed: int) -> str:
    """Hash of what a trained model is (config, data, seed, code version). The device and
    torch build it was trained with are not in it, so that a model trained on a GPU machine
    (``scripts/pretrain.py``) is found by a chapter run elsewhere; the training record keeps
    both (``device``, ``torch``)."""
    import hashlib
    import json

    payload = json.dumps({"config": config.to_dict(), "data": dataset_key, "seed": seed, "version": 3},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _new_led(config, scaler, seed: int) -> LED:
    """An LED whose initial weights depend on ``seed`` only, not on what ran before."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LED(config, scaler=scaler)


def _cache_paths(cache, config, dataset, seed: int, stage: str) -> tuple[Path, Path, Path]:
    """Model file, training record and checkpoint folder of one cached training."""
    from . import data as _data

    key = model_key(config, dataset.spec.key(), seed)
    stem = f"{config.system}-{config.profile}-{stage}-{key}" if stage else f"{config.system}-{config.profile}-{key}"
    root = _data.cache_dir(cache) / "models"
    return root / f"{stem}.pt", root / f"{stem}.json", root / f"{stem}-checkpoints"


def _save_record(path: Path, record: dict) -> None:
    import json

    from .data import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(record, default=str)))


def _load_cached(path: Path, record: Path, device):
    import json

    if path.exists() and record.exists():
        return LED.load(path, map_location=resolve_device(device)), json.loads(record.read_text())
    return None, None


def _load_or_train(path: Path, record: Path, device, train) -> tuple[LED, dict, bool]:
    """The LED cached at ``path`` with its record, else ``train()``'s ``(led, record)``,
    saved there; the flag says whether it came from the cache. A lock beside the model
    makes a second process asking for the same model wait and then load it, rather than
    train it again into the same checkpoints."""
    from .data import file_lock

    led, info = _load_cached(path, record, device)
    if led is not None:
        return led, info, True
    with file_lock(path.with_name(f".{path.name}.lock")):
        led, info = _load_cached(path, record, device)
        if led is not None:
            return led, info, True
        led, info = train()
        led.save(path)
        _save_record(record, info)
    return led, info, False


def fit_autoencoder(config, dataset, *, cache=None, seed: int = 0, device: str = "auto",
                    progress: bool = True) -> tuple[LED, dict]:
    """The autoencoder stage of ``config`` alone (e.g. for a latent-dimension study), trained
    once on ``dataset`` and then loaded from the cache. Returns the LED (its RNN untrained)
    and the training record."""
    seed = _check_seed(seed)
    path, record, ckpt = _cache_paths(cache, config, dataset, seed, "ae")

    def train():
        led = _new_led(config, dataset.scaler, seed)
        result = train_autoencoder(led, dataset.train.states, dataset.val.states, config, ckpt, seed=seed,
                                   device=device, progress=progress, resume=True, scaled=False)
        return led, result.to_dict()

    led, info, _ = _load_or_train(path, record, device, train)
    return led, info


def fit_rnn(led: LED, rnn_config, dataset, *, cache=None, seed: int = 0, device: str = "auto",
            progress: bool = True) -> tuple[LED, dict]:
    """A new LED with ``led``'s (trained) autoencoder and a latent RNN of ``rnn_config``
    (an :class:`~ledlib.configs.RNNConfig`; the RNN schedule stays ``led``'s), trained
    once on the encoded ``dataset`` and then loaded from the cache. Returns the LED and
    the RNN training record."""
    seed = _check_seed(seed)
    config = led.config.replace(rnn=rnn_config)
    # the autoencoder's weights are part of what the RNN is trained on: key them too
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in led.autoencoder.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    path, record, ckpt = _cache_paths(cache, config, dataset, seed, f"rnn-{digest.hexdigest()[:8]}")

    def train():
        other = _new_led(config, dataset.scaler, seed)
        other.autoencoder.load_state_dict(led.autoencoder.state_dict())
        z = [encode_trajectories(led, s.states) for s in (dataset.train, dataset.val)]
        result = train_rnn(other, *z, config, ckpt, seed=seed, device=device, progress=progress, resume=True)
        return other, result.to_dict()

    other, info, _ = _load_or_train(path, record, device, train)
    return other, info


def fit_led(system: str, profile: str = "quick", *, config=None, dataset=None, cache=None, seed: int = 0,
            device: str = "auto", progress: bool = True) -> FittedLED:
    """Train LED on ``system``'s dataset in the paper's two stages, or load it if cached.

    ``config`` defaults to ``ledlib.configs.get(system, profile)`` and ``dataset`` to
    ``ledlib.data.load(system, profile)``. The model is saved under
    ``<cache>/models/<system>-<profile>-<key>.pt`` (key: config, data, seed), together with
    both training records; per-epoch checkpoints live beside it, so an interrupted
    training resumes where it stopped. The initial weights are drawn from ``seed``.
    """
    from . import configs as _configs
    from . import data as _data

    seed = _check_seed(seed)
    config = config if config is not None else _configs.get(system, profile)
    dataset = dataset if dataset is not None else _data.load(system, profile, progress=progress, cache=cache)
    path, record, ckpt = _cache_paths(cache, config, dataset, seed, "")

    def train():
        led = _new_led(config, dataset.scaler, seed)
        ae = train_autoencoder(led, dataset.train.states, dataset.val.states, config, ckpt / "ae", seed=seed,
                               device=device, progress=progress, resume=True, scaled=False)
        z_train = encode_trajectories(led, dataset.train.states)
        z_val = encode_trajectories(led, dataset.val.states)
        rnn = train_rnn(led, z_train, z_val, config, ckpt / "rnn", seed=seed, device=device,
                        progress=progress, resume=True)
        return led, {"ae": ae.to_dict(), "rnn": rnn.to_dict()}

    led, info, from_cache = _load_or_train(path, record, device, train)
    return FittedLED(led, dataset, info["ae"], info["rnn"], path, from_cache=from_cache)
