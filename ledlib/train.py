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
validation loss and end with the best weights. The loop is made of three parts shared
with the CSPDE network fit: :class:`EpochLoop` (the epochs), :class:`EarlyStopping` (best
loss, weights, patience) and :class:`Checkpointer`. With ``checkpoint_dir`` every epoch
writes, atomically, ``last.pt`` (model, optimiser, scheduler, the random states of
torch, numpy, python and of the training generators, epoch, history, best weights; the
one before becomes ``prev.pt``) and ``best.pt``, their sha256 in ``checkpoints.json``.
``resume=True`` continues from the newest checkpoint that passes its checksum (a damaged
one is renamed ``*.damaged-N`` with a warning; none left: from scratch), and on the same
device with the same seed ends with bitwise the same weights as an uninterrupted run. A
non-finite loss raises :class:`TrainingDivergedError` naming the epoch; ``last.pt`` keeps
the last good epoch.

:func:`fit` is the pipeline for any dataset and configuration (:func:`fit_led` the
paper's systems by name): a model is found by its key (configuration, the data's content
hash, seed, stage; never a name) among the shipped models (``models/`` with its
``manifest.json``, or ``$LED_MODELS_DIR``), then in ``<cache>/models`` as a portable
model file (:meth:`ledlib.nn.LED.save`, its training record inside), else trained there.
Damaged shipped files or cache entries are reported with their path and not used (cache
entries are rebuilt).

Data are in network units (scaled). Losses: AE, mean per reconstructed value; RNN, the
MSE of the one-step prediction in the RNN's normalised latent units.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import random
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm  # text bars: no ipywidgets needed in notebooks

from . import _checks
from ._checks import nonnegative_int
from .configs import LEDConfig, TrainConfig
from .device import resolve_device
from .nn.autoencoder import Autoencoder
from .nn.layers import randn
from .nn.led import LED, ModelFileError, atomic_write_bytes, sha256_file, temporary_beside
from .nn.rnn import LatentRNN, detach_hidden

__all__ = ["TrainResult", "TrainingDivergedError", "CheckpointError", "train_autoencoder", "train_rnn",
           "encode_trajectories", "fit", "fit_led", "fit_autoencoder", "fit_rnn", "fit_pick", "SeedPick", "FittedLED", "model_key", "model_stem",
           "models_dir", "read_manifest", "save_checkpoint", "load_checkpoint", "Checkpointer", "EarlyStopping",
           "EpochLoop", "CHECKPOINT_FORMAT", "NotCached", "loading_only", "load_shipped"]

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
    # why it ended: "patience" (early stopping), "max_epochs", or "requested" (a STOP file,
    # see EpochLoop); "" in records written before this field existed
    stop_reason: str = ""

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
        warnings.warn(f"resuming a training checkpointed on {saved_on.get(k, 'another device')} on "
                      f"{g.device.type}: the {k!r} random stream is reseeded from the saved one (not "
                      "bitwise the uninterrupted run)", RuntimeWarning, stacklevel=3)
        g.manual_seed(int.from_bytes(hashlib.sha256(state.numpy().tobytes()).digest()[:8], "little") >> 1)
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def _generators(seed: int, device: torch.device) -> dict[str, torch.Generator]:
    """``order``: CPU generator for shuffling and chunk starts; ``noise``: on the training
    device, for input noise and the VAE's reparametrisation. ``seed + 7919`` is not the
    ``_checks.child_seed`` rule on purpose: these draws made the shipped models, so changing
    them is a new :data:`KEY_VERSION` and a retraining of every model."""
    order = torch.Generator().manual_seed(seed)
    noise = torch.Generator(device=device).manual_seed(seed + 7919)
    return {"order": order, "noise": noise}


# ---------------------------------------------------------------------------------
# the shared epoch loop: checkpoints and early stopping as separate parts
# ---------------------------------------------------------------------------------
class CheckpointError(ValueError):
    """A checkpoint file is damaged, truncated or does not match its recorded checksum."""


_INDEX = "checkpoints.json"  # sha256 of every checkpoint file of a folder that was written whole


def _read_index(ckdir: Path) -> dict[str, list[str]]:
    try:
        index = json.loads((ckdir / _INDEX).read_text())
        return index if isinstance(index, dict) else {}
    except (OSError, ValueError, UnicodeDecodeError):
        return {}


def save_checkpoint(obj: dict, path: str | os.PathLike) -> None:
    """Write a training checkpoint atomically and record its sha256 in the folder's
    ``checkpoints.json`` (what :func:`load_checkpoint` verifies). For ``last.pt`` the previous
    one is kept as ``prev.pt`` so that a damaged ``last.pt`` still leaves a good state.

    Order (every step atomic): the new file is written to a temporary name; the index is
    updated to know both the new and the current hashes; the current file becomes
    ``prev.pt``; the new one is renamed into place. A kill between any two steps leaves at
    least one file whose hash the index knows."""
    path = Path(path)
    buf = io.BytesIO()
    torch.save(obj, buf)
    blob = buf.getvalue()
    digest = hashlib.sha256(blob).hexdigest()
    ckdir = path.parent
    with temporary_beside(path, "the checkpoint ") as (fd, tmp):
        with os.fdopen(fd, "wb") as f:
            _write_checkpoint_bytes(f, blob)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        index = _read_index(ckdir)
        # the current file's hash, if it is a good one (it stays valid as prev.pt)
        current = sha256_file(path) if path.exists() else None
        keep = [current] if current in index.get(path.name, []) else []
        index[path.name] = [digest] + keep
        if path.name == "last.pt" and current is not None:  # (no last.pt: prev.pt stays as it is)
            index["prev.pt"] = keep
        atomic_write_bytes(ckdir / _INDEX, json.dumps(index, indent=1).encode())
        if path.name == "last.pt" and path.exists():
            os.replace(path, ckdir / "prev.pt")
        os.replace(tmp, path)


def _write_checkpoint_bytes(f, blob: bytes) -> None:  # a seam for the fault tests (a kill mid-write)
    f.write(blob)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """A checkpoint written by :func:`save_checkpoint`, verified against its folder's index;
    :class:`CheckpointError` (naming the file) if it is damaged or unknown to the index."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read the checkpoint {path}: {err}") from err
    if hashlib.sha256(blob).hexdigest() not in _read_index(path.parent).get(path.name, []):
        raise CheckpointError(f"the checkpoint {path} does not match its recorded checksum "
                              f"({_INDEX}): damaged, truncated or written by something else")
    try:
        return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(f"the checkpoint {path} cannot be read: {err}") from err


def _set_aside(path: Path, why: str) -> None:
    n = 0
    while (aside := path.with_name(f"{path.name}.damaged-{n}")).exists():
        n += 1
    os.replace(path, aside)
    warnings.warn(f"{why}; set aside as {aside.name}", RuntimeWarning, stacklevel=4)


class Checkpointer:
    """``last.pt`` (everything to resume: weights, optimiser, scheduler, random states,
    history, early-stopping state) and ``best.pt`` (the best weights) in ``directory``,
    checksummed. :meth:`resume_state` returns the newest good checkpoint: a damaged one
    is set aside (renamed ``*.damaged-N``, with a warning) and the previous one is tried,
    then nothing (training starts from scratch)."""

    def __init__(self, directory, stage: str, config: dict, seed: int):
        self.dir = Path(directory)
        self.stage, self.config, self.seed = stage, config, seed
        self.last = self.dir / "last.pt"

    def resume_state(self) -> dict | None:
        for tmp in self.dir.glob(".*.pt.*.tmp"):  # left by a process killed mid-write
            tmp.unlink(missing_ok=True)
        for path in (self.last, self.dir / "prev.pt"):
            if not path.exists():
                continue
            try:
                ck = load_checkpoint(path)
            except CheckpointError as err:
                _set_aside(path, str(err))
                continue
            if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT or ck.get("stage") != self.stage:
                raise ValueError(f"{path} is not a {self.stage!r} training checkpoint")
            if ck["config"] != self.config or ck["seed"] != self.seed:
                raise ValueError(f"{path} was written with a different config or seed; "
                                 "use another checkpoint_dir or resume=False")
            return ck
        return None

    def last_good_model(self) -> dict | None:
        try:
            return load_checkpoint(self.last)["model"] if self.last.exists() else None
        except CheckpointError:
            return None

    def save_best(self, epoch: int, val_loss: float, state: dict) -> None:
        save_checkpoint({"format": CHECKPOINT_FORMAT, "stage": self.stage, "epoch": epoch, "val_loss": val_loss,
                         "model": state}, self.dir / "best.pt")

    def save_last(self, state: dict) -> None:
        save_checkpoint({"format": CHECKPOINT_FORMAT, "stage": self.stage, "config": self.config,
                         "seed": self.seed, **state}, self.last)


STOP_FILE = "STOP"  # in a stage's checkpoint folder: end that training after this epoch


class EarlyStopping:
    """Keeps the best validation loss, its epoch and weights; ``stop`` after ``patience``
    epochs without an improvement. An improvement is ``val < best * (1 - rel_tol)``
    (``rel_tol=0``: any decrease)."""

    def __init__(self, patience: int, rel_tol: float = 0.0):
        self.patience, self.rel_tol = patience, rel_tol
        self.best_val, self.best_epoch, self.bad_epochs, self.best_state = math.inf, -1, 0, None

    def update(self, epoch: int, val_loss: float, module: torch.nn.Module) -> bool:
        if val_loss < self.best_val * (1 - self.rel_tol):
            self.best_val, self.best_epoch, self.bad_epochs = val_loss, epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            return True
        self.bad_epochs += 1
        return False

    @property
    def stop(self) -> bool:
        return self.bad_epochs >= self.patience

    def state(self) -> dict:
        return {"best_val": self.best_val, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs,
                "best_state": self.best_state}

    def restore(self, ck: dict) -> None:
        self.best_val, self.best_epoch, self.bad_epochs = ck["best_val"], ck["best_epoch"], ck["bad_epochs"]
        self.best_state = ck["best_state"]


@dataclass
class EpochLoop:
    """What one training needs beyond its two functions: ``train_epoch(epoch, gens, opt)``
    returns the training loss, ``validate()`` the validation loss. ``diverge``: ``"raise"``
    (a non-finite loss raises :class:`TrainingDivergedError`, the module back at the last
    checkpointed weights) or ``"continue"`` (it counts as an epoch without improvement).

    A file named ``STOP`` in the checkpoint folder ends the training after the current
    epoch, as early stopping would (best weights kept, the checkpoint marked finished, the
    file removed); the record's ``stop_reason`` says ``"requested"``. It is how a person
    ends a long training that has flattened out without losing it (``touch .../ae/STOP``)."""

    stage: str
    module: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    stopper: EarlyStopping
    max_epochs: int
    gens: dict = field(default_factory=dict)
    checkpointer: Checkpointer | None = None
    device: str = "cpu"
    diverge: str = "raise"
    progress: bool = False
    callback: Callable[[int, dict], None] | None = None
    stop_reason: str = field(default="", init=False)  # set when the training ends (see above)

    def run(self, train_epoch, validate, resume: bool = False) -> dict[str, list]:
        """Train to early stopping or ``max_epochs``; the module ends with the best weights."""
        history = {"epoch": [], "train_loss": [], "val_loss": [], "lr": [], "epoch_time_s": [], "device": []}
        start, finished, self.stop_reason = 0, False, ""
        ck = self.checkpointer.resume_state() if (resume and self.checkpointer is not None) else None
        if ck is not None:
            # on the CPU: random states stay CPU tensors; weights and Adam moments are
            # copied onto the model's device by load_state_dict
            self.module.load_state_dict(ck["model"])
            self.optimizer.load_state_dict(ck["optimizer"])
            self.scheduler.load_state_dict(ck["scheduler"])
            _set_rng_state(ck["rng"], self.gens)
            history = ck["history"]
            # where each epoch ran (a training may move between machines); older checkpoints lack it
            history.setdefault("device", ["unrecorded"] * len(history["epoch"]))
            self.stopper.restore(ck)
            finished, start = ck["finished"], ck["epoch"] + 1
            self.stop_reason = ck.get("stop_reason", "")
        bar = tqdm(total=self.max_epochs, initial=start, desc=self.stage, unit="epoch", disable=not self.progress,
                   leave=False)
        try:
            for epoch in (range(start, self.max_epochs) if not finished else ()):
                if self._epoch(epoch, train_epoch, validate, history, bar):
                    break
        finally:
            bar.close()
        if self.stopper.best_state is not None:
            self.module.load_state_dict(self.stopper.best_state)
        self.module.eval()
        return history

    def _epoch(self, epoch, train_epoch, validate, history, bar) -> bool:
        t0 = time.perf_counter()
        self.module.train()
        train_loss = float(train_epoch(epoch, self.gens, self.optimizer))
        self.module.eval()
        val_loss = float(validate()) if (math.isfinite(train_loss) or self.diverge != "raise") else math.nan
        if self.diverge == "raise" and not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            self._diverged(epoch, train_loss, val_loss)
        self.scheduler.step(val_loss)
        if self.stopper.update(epoch, val_loss, self.module) and self.checkpointer is not None:
            self.checkpointer.save_best(epoch, val_loss, self.stopper.best_state)
        lr = self.optimizer.param_groups[0]["lr"]
        for k, v in (("epoch", epoch), ("train_loss", train_loss), ("val_loss", val_loss), ("lr", lr),
                     ("epoch_time_s", time.perf_counter() - t0), ("device", str(self.device))):
            history[k].append(v)
        stop_file = self.checkpointer.dir / STOP_FILE if self.checkpointer is not None else None
        requested = stop_file is not None and stop_file.exists()
        finished = self.stopper.stop or epoch == self.max_epochs - 1 or requested
        if finished:
            self.stop_reason = ("patience" if self.stopper.stop else "requested" if requested else "max_epochs")
        if self.checkpointer is not None:
            self.checkpointer.save_last({
                "epoch": epoch, "model": self.module.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "rng": _rng_state(self.gens), "history": history,
                **self.stopper.state(), "finished": finished, "stop_reason": self.stop_reason})
        if requested:
            stop_file.unlink(missing_ok=True)  # honoured: the checkpoint says finished
        bar.update(1)
        bar.set_postfix(train=f"{train_loss:.3e}", val=f"{val_loss:.3e}", lr=f"{lr:.1e}")
        if self.callback is not None:
            self.callback(epoch, history)
        return finished

    def _diverged(self, epoch, train_loss, val_loss):
        last = self.checkpointer.last if self.checkpointer is not None else None
        good = self.checkpointer.last_good_model() if self.checkpointer is not None else None
        if good is not None:  # back to the last good weights
            self.module.load_state_dict(good)
        raise TrainingDivergedError(
            f"{self.stage} training diverged at epoch {epoch}: train loss {train_loss}, val loss {val_loss}"
            + (f"; the last good checkpoint is {last}" if last is not None else ""),
            epoch, str(last) if last is not None else None)


def _fit(stage: str, module: torch.nn.Module, cfg: TrainConfig, train_epoch, validate, gens, device,
         seed: int, *, checkpoint_dir=None, resume: bool = False, progress: bool = True, callback=None,
         extra: dict | None = None) -> TrainResult:
    """One stage with the tables' optimiser (Adam, ReduceLROnPlateau) and early stopping."""
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=cfg.lr_factor,
                                                       patience=cfg.lr_patience, min_lr=cfg.min_lr)
    ckpt = (Checkpointer(checkpoint_dir, stage, dataclasses.asdict(cfg), seed)
            if checkpoint_dir is not None else None)
    loop = EpochLoop(stage, module, opt, sched, EarlyStopping(cfg.patience), cfg.max_epochs, gens, ckpt,
                     str(device), "raise", progress, callback)
    history = loop.run(train_epoch, validate, resume=resume)
    stop = loop.stopper
    return TrainResult(stage=stage, history=history, best_epoch=stop.best_epoch, best_val_loss=stop.best_val,
                       epochs_run=len(history["epoch"]), stopped_early=stop.stop,
                       wall_time_s=float(sum(history["epoch_time_s"])),
                       device="+".join(dict.fromkeys(history["device"])) or str(device), seed=seed,
                       checkpoint_dir=str(checkpoint_dir) if checkpoint_dir is not None else None,
                       extra=extra or {}, stop_reason=loop.stop_reason)


def _stage_config(config, which: str) -> TrainConfig:
    if isinstance(config, LEDConfig):
        return getattr(config, which)
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig or LEDConfig, got {type(config).__name__}")
    return config


def _writable(x: np.ndarray) -> np.ndarray:
    """A contiguous array torch may wrap (cached datasets are read-only: copy those)."""
    return np.ascontiguousarray(x) if x.flags.writeable else np.array(x, order="C")


def _to_tensor(name: str, x, device: torch.device) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(_writable(x))
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
    seed = nonnegative_int("seed", seed)
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

    return _fit("autoencoder", ae, cfg, train_epoch, validate, gens, dev, seed, checkpoint_dir=checkpoint_dir,
                resume=resume, progress=progress, callback=callback,
                extra={"n_train": int(n), "n_val": int(xva.shape[0])})



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
    seed = nonnegative_int("seed", seed)
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

    return _fit("rnn", rnn, cfg, train_epoch, validate, _generators(seed, dev), dev, seed,
                checkpoint_dir=checkpoint_dir, resume=resume, progress=progress, callback=callback,
                extra={"n_traj": int(n_traj), "T": int(T), "transitions_per_chunk": int(P), "windows_per_chunk": n_win,
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
    batch_size = _checks.positive("batch_size", batch_size, integer=True)
    if isinstance(states, torch.Tensor):
        x = states
    else:  # named here: the encoder's own check would say "x"
        x = torch.from_numpy(_writable(_checks.finite_array_of("states", states)))
    if x.ndim >= 2 and (x.shape[0] == 0 or x.shape[1] == 0):
        raise ValueError(f"states must hold at least one trajectory of one state, got shape {tuple(x.shape)}")
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
    """A trained LED with the data it was trained on and both training records.

    ``path``: the model's weights file (in the cache, or in the shipped ``models/``);
    ``from_cache``: ``True`` when nothing was trained (found shipped or cached);
    ``source``: ``"shipped"``, ``"cache"`` or ``"trained"``; ``pick``: what
    :func:`fit_pick` chose (``ae_seed``, ``rnn_seed``, ``score``, ``scores``), else ``None``."""

    led: LED
    dataset: Any  # ledlib.data.Dataset
    ae: dict[str, Any]  # TrainResult.to_dict() of the autoencoder stage
    rnn: dict[str, Any]  # ... of the RNN stage
    path: Path
    from_cache: bool
    source: str = "trained"
    pick: dict[str, Any] | None = None  # fit_pick: the seeds kept and every candidate's score


KEY_VERSION = 4  # bump when training changes what a key's weights are


def model_key(config, data_hash: str, seed: int, stage: str = "led") -> str:
    """Hash of what a trained model is: its configuration, the content hash of its data
    (:func:`ledlib.data.content_hash`), the seed, the stage and the code version; never a
    name. The device and torch build are not in it, so that a model trained on a GPU
    machine (``scripts/pretrain.py``) is found by a chapter run elsewhere; the training
    record keeps both (``device``, ``torch``)."""
    if not isinstance(data_hash, str) or not data_hash:
        raise TypeError(f"data_hash must be a non-empty str (ledlib.data.content_hash), got {data_hash!r}")
    payload = json.dumps({"config": config.to_dict(), "data": data_hash, "seed": seed, "stage": stage,
                          "version": KEY_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _safe(part) -> str:
    """A name as a harmless file-name part: letters, digits, ``_``, ``-`` (others become ``_``)."""
    s = "".join(c if (c.isascii() and (c.isalnum() or c in "_-")) else "_" for c in str(part))[:48]
    return s or "_"


def _inside(root: Path, path: Path) -> Path:
    """``path`` if it resolves inside ``root``, else a ValueError (no name leaves the cache)."""
    root_r, path_r = root.resolve(), path.resolve()
    if root_r != path_r and root_r not in path_r.parents:
        raise ValueError(f"refusing a model path outside the cache {root_r}: {path_r}")
    return path


def _cache_root(cache) -> Path:
    from . import data as _data

    return _data.cache_dir(None if cache == "" else cache)  # "" means the default cache, as in the chapters


def _dataset_hash(dataset) -> str:
    from . import data as _data

    return _data.content_hash(dataset)


def model_stem(config, stage: str, key: str) -> str:
    """The file-name stem of a model: ``<system>-<profile>[-<stage>]-<key>``, each name
    sanitised (letters, digits, ``_``, ``-``), so that it never holds a path separator."""
    parts = [_safe(config.system), _safe(config.profile)] + ([_safe(stage)] if stage not in ("", "led") else [])
    return "-".join(parts + [_safe(key)])


def _cache_paths(cache, config, data_hash: str, seed: int, stage: str) -> tuple[Path, Path]:
    """The model stem (``<stem>.safetensors`` + ``<stem>.json``, the training record inside)
    and the checkpoint folder of one cached training. Names are sanitised and the paths
    checked to lie inside ``<cache>/models``."""
    key = model_key(config, data_hash, seed, stage or "led")
    root = _cache_root(cache) / "models"
    stem = model_stem(config, stage, key)
    return _inside(root, root / stem), _inside(root, root / f"{stem}-checkpoints")


# -- shipped models: <repo>/models (or $LED_MODELS_DIR) with manifest.json ----------------
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "ledlib.models/1"


def models_dir(path=None) -> Path:
    """The shipped models: ``path``, else ``$LED_MODELS_DIR``, else ``<repo>/models``."""
    if path is None:
        path = os.environ.get("LED_MODELS_DIR") or Path(__file__).resolve().parent.parent / "models"
    return Path(path)


def read_manifest(root=None) -> dict:
    """The manifest of the shipped models (``{"format", "models": {key: entry}}``); an
    empty one if there is none. A damaged manifest is warned about and ignored."""
    root = models_dir(root)
    path = root / MANIFEST
    if not path.exists():
        return {"format": MANIFEST_FORMAT, "models": {}}
    try:
        manifest = json.loads(path.read_text())
        if manifest.get("format") != MANIFEST_FORMAT or not isinstance(manifest.get("models"), dict):
            raise ValueError(f"not a {MANIFEST_FORMAT} manifest")
    except (OSError, ValueError, UnicodeDecodeError, AttributeError) as err:
        warnings.warn(f"ignoring the shipped-models manifest {path}: {err}", RuntimeWarning, stacklevel=2)
        return {"format": MANIFEST_FORMAT, "models": {}}
    return manifest


def _load_shipped(key: str, device) -> tuple[LED, dict, Path] | None:
    """The shipped model of ``key`` if the manifest lists it and its files match the
    manifest's checksums; a damaged one is warned about (with its path) and not used."""
    from .nn.led import model_files

    dev = resolve_device(device)
    root = models_dir()
    entry = read_manifest(root)["models"].get(key)
    if entry is None:
        return None
    try:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise ModelFileError(f"the entry of {key} in {root / MANIFEST} names no file", root / MANIFEST)
        try:
            weights, sidecar = model_files(_inside(root, root / entry["file"]))
        except ValueError as err:  # a file outside models/
            raise ModelFileError(f"{root / MANIFEST}: {err}", root / MANIFEST) from err
        for path, want in ((weights, entry.get("sha256")), (sidecar, entry.get("sidecar_sha256"))):
            if not path.exists() or sha256_file(path) != want:
                raise ModelFileError(f"the shipped model file {path} is missing or does not match the checksum "
                                     f"in {root / MANIFEST}", path)
        led = LED.load(weights, device=dev)
    except ModelFileError as err:
        warnings.warn(f"{err}; not using it", RuntimeWarning, stacklevel=3)
        return None
    rec = led.train_record if isinstance(led.train_record, dict) else {}
    return led, rec.get("record", {}), weights


def load_shipped(key: str, device="auto") -> LED | None:
    """The shipped model of ``key`` (``models/``, or ``$LED_MODELS_DIR``), its files checked
    against the manifest's checksums; ``None`` if it is not shipped or is damaged (warned)."""
    found = _load_shipped(key, device)
    return None if found is None else found[0]


def _load_cached(stem: Path, device) -> tuple[LED | None, dict | None]:
    """The cached model at ``stem`` and its record; a damaged entry is warned about (with
    its path), moved aside and reported as missing, so that it is rebuilt."""
    from .nn.led import model_files

    weights, sidecar = model_files(stem)
    if not (weights.exists() or sidecar.exists()):
        return None, None
    try:
        led = LED.load(stem, device=resolve_device(device))
        if not isinstance(led.train_record, dict) or "record" not in led.train_record:
            raise ModelFileError(f"{sidecar} holds no training record", sidecar)
    except ModelFileError as err:
        warnings.warn(f"damaged cache entry: {err}; rebuilding it", RuntimeWarning, stacklevel=3)
        for f in (weights, sidecar):
            if f.exists():
                os.replace(f, f.with_name(f.name + ".damaged"))
        return None, None
    return led, led.train_record["record"]


class NotCached(LookupError):
    """A model asked for inside :func:`loading_only` is neither shipped nor cached."""

    def __init__(self, stem: Path):
        super().__init__(f"not shipped or cached, and training is refused (loading_only): {stem}")
        self.stem = stem


_loads: list | None = None  # inside loading_only(): the models loaded; training refused


@contextmanager
def loading_only():
    """Within it, :func:`fit`, :func:`fit_led`, :func:`fit_autoencoder` and :func:`fit_rnn`
    only load: a model neither shipped nor cached raises :class:`NotCached` instead of
    training. Yields the list of ``(cache stem, source)`` of every model loaded, ``source``
    ``"shipped"`` or ``"cache"`` (``scripts/ship_models.py --jobs`` ships exactly those)."""
    global _loads
    outer, _loads = _loads, []
    try:
        yield _loads
    finally:
        _loads = outer


def _load_or_train(stem: Path, key: str, device, train, data_hash: str, stage: str,
                   seed: int) -> tuple[LED, dict, Path, str]:
    """The model of ``key``: shipped (``models/``), else cached at ``stem``, else
    ``train()``'s ``(led, record)``, saved there. A lock beside the model makes a second
    process asking for the same model wait and then load it, rather than train it again
    into the same checkpoints. Returns (led, record, path, source)."""
    from .data import file_lock
    from .nn.led import model_files

    def found(result):
        if _loads is not None:
            _loads.append((stem, result[-1]))
        return result

    shipped = _load_shipped(key, device)
    if shipped is not None:
        return found((*shipped, "shipped"))
    weights = model_files(stem)[0]
    led, info = _load_cached(stem, device)
    if led is not None:
        return found((led, info, weights, "cache"))
    if _loads is not None:
        raise NotCached(stem)
    with file_lock(stem.with_name(f".{stem.name}.lock")):
        led, info = _load_cached(stem, device)
        if led is not None:
            return found((led, info, weights, "cache"))
        led, info = train()
        # what the model is, for scripts/ship_models.py: its key, stage and seed with the record
        led.data_hash = data_hash
        led.train_record = {"key": key, "stage": stage, "seed": seed, "record": info}
        led.save(stem)
    return led, info, weights, "trained"


def _new_led(config, scaler, seed: int) -> LED:
    """An LED whose initial weights depend on ``seed`` only, not on what ran before."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LED(config, scaler=scaler)


def _check_dataset(dataset) -> None:
    for attr in ("train", "val", "scaler"):
        try:
            getattr(dataset, attr)
        except (AttributeError, KeyError) as err:
            raise TypeError("dataset must be a ledlib.data.Dataset with train and val splits and a scaler "
                            f"(from data.load, data.generate or data.from_arrays), got {type(dataset).__name__} "
                            f"without {attr!r}") from err


def _check_config(config) -> None:
    if not isinstance(config, LEDConfig):
        raise TypeError(f"config must be a ledlib.configs.LEDConfig (e.g. configs.template(...)), "
                        f"got {type(config).__name__}")


def fit_autoencoder(config, dataset, *, cache=None, seed: int = 0, device: str = "auto",
                    progress: bool = True) -> tuple[LED, dict]:
    """The autoencoder stage of ``config`` alone (e.g. for a latent-dimension study), trained
    once on ``dataset`` and then loaded (shipped models first, then the cache). Returns the
    LED (its RNN untrained) and the training record."""
    seed = nonnegative_int("seed", seed)
    _check_config(config)
    _check_dataset(dataset)
    data_hash = _dataset_hash(dataset)
    stem, ckpt = _cache_paths(cache, config, data_hash, seed, "ae")

    def train():
        led = _new_led(config, dataset.scaler, seed)
        result = train_autoencoder(led, dataset.train.states, dataset.val.states, config, ckpt, seed=seed,
                                   device=device, progress=progress, resume=True, scaled=False)
        return led, result.to_dict()

    led, info, _, _ = _load_or_train(stem, model_key(config, data_hash, seed, "ae"), device, train, data_hash,
                                     "ae", seed)
    return led, info


def fit_rnn(led: LED, rnn_config, dataset, *, cache=None, seed: int = 0, device: str = "auto",
            progress: bool = True) -> tuple[LED, dict]:
    """A new LED with ``led``'s (trained) autoencoder and a latent RNN of ``rnn_config``
    (an :class:`~ledlib.configs.RNNConfig`; the RNN schedule stays ``led``'s), trained
    once on the encoded ``dataset`` and then loaded (shipped, then cached). Returns the LED
    and the RNN training record."""
    other, info, _, _ = _fit_rnn(led, rnn_config, dataset, cache=cache, seed=seed, device=device, progress=progress)
    return other, info


def _fit_rnn(led: LED, rnn_config, dataset, *, cache, seed: int, device: str, progress: bool
             ) -> tuple[LED, dict, Path, str]:
    seed = nonnegative_int("seed", seed)
    if not isinstance(led, LED):
        raise TypeError(f"led must be an LED, got {type(led).__name__}")
    _check_dataset(dataset)
    config = led.config.replace(rnn=rnn_config)
    # the autoencoder's weights are part of what the RNN is trained on: key them too
    digest = hashlib.sha256()
    for name, tensor in led.autoencoder.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    stage = f"rnn-{digest.hexdigest()[:8]}"
    data_hash = _dataset_hash(dataset)
    stem, ckpt = _cache_paths(cache, config, data_hash, seed, stage)

    def train():
        other = _new_led(config, dataset.scaler, seed)
        other.autoencoder.load_state_dict(led.autoencoder.state_dict())
        z = [encode_trajectories(led, s.states) for s in (dataset.train, dataset.val)]
        result = train_rnn(other, *z, config, ckpt, seed=seed, device=device, progress=progress, resume=True)
        return other, result.to_dict()

    return _load_or_train(stem, model_key(config, data_hash, seed, stage), device, train, data_hash, stage, seed)


def fit(dataset, config, *, cache=None, seed: int = 0, device: str = "auto", progress: bool = True) -> FittedLED:
    """Train LED on ``dataset`` with ``config`` in the paper's two stages, or load it.

    Any system's data (``data.load``, ``data.generate``, ``data.from_arrays``) and any
    :class:`~ledlib.configs.LEDConfig` (``configs.template``, ``configs.get``). The model is
    found by its key (:func:`model_key`: config, data content, seed): first among the shipped
    models (``models/`` or ``$LED_MODELS_DIR``), then in ``<cache>/models/`` (a portable
    model file with both training records), else trained there with per-epoch checkpoints,
    so that an interrupted training resumes where it stopped. Initial weights are drawn
    from ``seed``.
    """
    seed = nonnegative_int("seed", seed)
    _check_config(config)
    _check_dataset(dataset)
    resolve_device(device)
    data_hash = _dataset_hash(dataset)
    stem, ckpt = _cache_paths(cache, config, data_hash, seed, "")

    def train():
        led = _new_led(config, dataset.scaler, seed)
        ae = train_autoencoder(led, dataset.train.states, dataset.val.states, config, ckpt / "ae", seed=seed,
                               device=device, progress=progress, resume=True, scaled=False)
        z_train = encode_trajectories(led, dataset.train.states)
        z_val = encode_trajectories(led, dataset.val.states)
        rnn = train_rnn(led, z_train, z_val, config, ckpt / "rnn", seed=seed, device=device,
                        progress=progress, resume=True)
        return led, {"ae": ae.to_dict(), "rnn": rnn.to_dict()}

    led, info, path, source = _load_or_train(stem, model_key(config, data_hash, seed), device, train, data_hash,
                                             "led", seed)
    return FittedLED(led, dataset, info.get("ae", {}), info.get("rnn", {}), path, from_cache=source != "trained",
                     source=source)


@dataclass(frozen=True)
class SeedPick:
    """The candidates of :func:`fit_pick` and how they are judged.

    ``ae_seeds`` and ``rnn_seeds``: offsets added to the fit's ``seed``; the candidates are
    every pair (an autoencoder of seed ``seed + a``, an RNN of seed ``seed + r`` on it),
    and ``(0, 0)`` is the LED :func:`fit` trains. ``other_rnns``: ``(name, RNNConfig)``
    pairs, RNNs to try on every autoencoder and seed besides the config's (e.g. another
    readout). ``score(led, dataset) -> float``, lower is better, must read the validation
    split only (the test data play no part); ``label`` says what it measures, for the
    record."""

    ae_seeds: tuple[int, ...]
    rnn_seeds: tuple[int, ...]
    score: Callable[[LED, Any], float]
    label: str
    other_rnns: tuple = ()

    def __post_init__(self):
        for name in ("ae_seeds", "rnn_seeds"):
            v = getattr(self, name)
            if (not isinstance(v, tuple) or not v or 0 not in v or len(set(v)) != len(v)
                    or any(isinstance(x, bool) or not isinstance(x, int) or x < 0 for x in v)):
                raise ValueError(f"{name} must be a tuple of distinct integers >= 0 holding 0, got {v!r}")
        if not callable(self.score):
            raise TypeError(f"score must be callable (led, dataset) -> float, got {type(self.score).__name__}")
        if not isinstance(self.label, str) or not self.label:
            raise TypeError(f"label must be a non-empty str, got {self.label!r}")
        from .configs import RNNConfig

        o = self.other_rnns
        if (not isinstance(o, tuple) or any(not isinstance(p, tuple) or len(p) != 2 or not isinstance(p[0], str)
                                            or not p[0] or not isinstance(p[1], RNNConfig) for p in o)
                or len({p[0] for p in o}) != len(o)):
            raise TypeError(f"other_rnns must be a tuple of (name, RNNConfig) pairs with distinct non-empty names, "
                            f"got {o!r}")


def fit_pick(dataset, config, pick: SeedPick, *, cache=None, seed: int = 0, device: str = "auto",
             progress: bool = True) -> FittedLED:
    """The LED of ``config`` on ``dataset`` whose validation score is lowest among the
    seed candidates of ``pick`` (:class:`SeedPick`): one autoencoder per AE seed, one RNN
    per RNN seed on each, every model trained once and then loaded as :func:`fit`,
    :func:`fit_autoencoder` and :func:`fit_rnn` cache them. A one-step validation loss
    need not tell a forecast that stays on the data from one that drifts off; a forecast
    of the validation data can. Ties go to the first candidate (``(0, 0)`` with the
    config's RNN first). The result's ``pick`` holds the seeds kept, the RNN (``rnn``:
    ``None`` for the config's, else its name in ``other_rnns``) and every candidate's
    score, keyed ``"ae_seed/rnn_seed"`` (``"ae_seed/rnn_seed name"`` for another RNN)."""
    if not isinstance(pick, SeedPick):
        raise TypeError(f"pick must be a SeedPick, got {type(pick).__name__}")
    seed = nonnegative_int("seed", seed)
    kw = dict(cache=cache, device=device, progress=progress)
    base = fit(dataset, config, seed=seed, **kw)
    best, scores = None, {}
    for a in sorted(pick.ae_seeds):
        ae_led, ae_rec = (base.led, base.ae) if a == 0 else fit_autoencoder(config, dataset, seed=seed + a, **kw)
        for name, rnn in ((None, config.rnn),) + pick.other_rnns:
            for r in sorted(pick.rnn_seeds):
                if a == 0 and r == 0 and name is None:
                    cand = base
                else:
                    led, rnn_rec, path, source = _fit_rnn(ae_led, rnn, dataset, seed=seed + r, **kw)
                    cand = FittedLED(led, dataset, ae_rec, rnn_rec, path, source != "trained", source)
                score = float(pick.score(cand.led, dataset))
                if not math.isfinite(score):
                    score = math.inf  # a forecast that blew up is the worst candidate, not an error
                scores[f"{seed + a}/{seed + r}" + ("" if name is None else f" {name}")] = score
                if best is None or score < best[0]:
                    best = (score, a, r, name, cand)
    score, a, r, name, cand = best
    return dataclasses.replace(cand, pick={"ae_seed": seed + a, "rnn_seed": seed + r, "rnn": name,
                                           "score": pick.label, "scores": scores})


def fit_led(system: str, profile: str = "quick", *, config=None, dataset=None, cache=None, seed: int = 0,
            device: str = "auto", progress: bool = True) -> FittedLED:
    """The paper's entry point: :func:`fit` on ``system``'s dataset and configuration.

    ``config`` defaults to ``ledlib.configs.get(system, profile)`` and ``dataset`` to
    ``ledlib.data.load(system, profile)``; for any other system call :func:`fit` with
    ``data.generate``/``data.from_arrays`` and ``configs.template``. Where the system's
    chapter picks its LED among seeds by a validation forecast
    (:func:`ledlib.paper.seed_pick`: AD 1-D in the paper profile), and ``config`` is the
    system's own, this is :func:`fit_pick` with that pick.
    """
    from . import configs as _configs
    from . import data as _data
    from . import paper as _paper

    seed = nonnegative_int("seed", seed)
    own = _configs.get(system, profile)
    config = config if config is not None else own
    dataset = dataset if dataset is not None else _data.load(system, profile, progress=progress, cache=cache)
    pick = _paper.seed_pick(system, profile) if config == own else None
    if pick is not None:
        return fit_pick(dataset, config, pick, cache=cache, seed=seed, device=device, progress=progress)
    return fit(dataset, config, cache=cache, seed=seed, device=device, progress=progress)
