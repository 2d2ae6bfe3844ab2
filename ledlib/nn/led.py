"""LED: encoder + latent RNN + decoder in one object (§2, Figures 1–2).

Units: ``encode`` takes observables in physical units and applies the data scaler first;
``decode`` returns physical units (pass ``scaled=True`` to work in the network's scaled
units). The scaler is any object with ``transform``/``inverse_transform``/``to_dict``
acting elementwise and affinely (``ledlib.data.MinMaxScaler``/``StandardScaler``); LED keeps
its affine map as tensors, so scaling runs on the model's device, and stores the scaler's
``to_dict()`` in the model file.

The inference helpers (``encode``, ``decode``, ``step``, ``warm_up``, ``rollout``) run
without autograd; training uses ``led.autoencoder`` and ``led.rnn`` directly
(:mod:`ledlib.train`).

Model files are portable: ``led.save("m")`` writes ``m.safetensors`` (the weights, no
pickle) and ``m.json`` (configuration, scaler, content hash of the training data,
versions, training record, and the sha256 of the weights and of the JSON itself);
``LED.load("m", device=...)`` verifies both and raises :class:`ModelFileError` (a
``ValueError``) naming the damaged file. The path is a stem; ``m.safetensors`` or
``m.json`` name the same pair.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._checks import MAX_ELEMENTS, count, flag, int_in, torch_generator
from ..configs import AutoencoderConfig, LEDConfig
from ..device import resolve_device
from .autoencoder import Autoencoder, FieldDecoder, FieldEncoder
from .mixture import MixtureDensityDecoder
from .permutation import PermutationInvariantEncoder
from .rnn import Hidden, LatentRNN, LatentRollout

__all__ = ["LED", "ModelFileError", "build_autoencoder", "build_rnn", "atomic_torch_save", "atomic_write_bytes",
           "model_files", "read_sidecar", "sha256_file", "FORMAT"]

FORMAT = "ledlib.LED/2"  # safetensors weights + JSON sidecar
LEGACY_FORMAT = "ledlib.LED/1"  # one torch.save file (read by LED.load_torch_file)


def build_autoencoder(cfg: AutoencoderConfig) -> Autoencoder:
    """The (V)AE of ``cfg``: dense for ``kind='field'``; permutation-invariant encoder and
    mixture-density decoder for ``kind='particle'``."""
    if not isinstance(cfg, AutoencoderConfig):
        raise TypeError(f"cfg must be an AutoencoderConfig, got {type(cfg).__name__}")
    if cfg.kind == "field":
        enc = FieldEncoder(cfg.obs_shape, cfg.d_z, cfg.n_layers, cfg.width, cfg.activation, cfg.residual,
                           cfg.variational)
        dec = FieldDecoder(cfg.obs_shape, cfg.d_z, cfg.n_layers, cfg.width, cfg.activation, cfg.residual)
    else:
        n, d_x = cfg.obs_shape
        enc = PermutationInvariantEncoder(d_x, cfg.d_p, cfg.d_z, cfg.n_layers, cfg.width, cfg.activation,
                                          cfg.residual, cfg.variational)
        dec = MixtureDensityDecoder(cfg.d_z, d_x, cfg.n_kernels, cfg.n_layers, cfg.width, cfg.md_hidden,
                                    cfg.activation, cfg.residual, cfg.softplus_eps, n_particles=n)
    return Autoencoder(enc, dec)


def build_rnn(config: LEDConfig) -> LatentRNN:
    r = config.rnn
    return LatentRNN(config.ae.d_z, r.d_h, r.cell, r.n_layers, r.residual)


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file in the same folder, then ``os.replace`` onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; caches are shared like the data files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _as_tensor(x, like: torch.Tensor, name: str = "x") -> torch.Tensor:
    if isinstance(x, np.ndarray):
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.iscomplexobj(x):
            raise TypeError(f"{name} must be a real numeric array, got dtype {x.dtype}")
        x = torch.from_numpy(np.ascontiguousarray(x) if x.flags.writeable else np.array(x, order="C"))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(x).__name__}")
    return x.to(device=like.device, dtype=like.dtype)


def _finite(name: str, x: torch.Tensor) -> torch.Tensor:
    if not bool(torch.isfinite(x).all()):  # NaN/inf would propagate silently into every later state
        raise ValueError(f"{name} must be finite: it holds NaN or infinite values")
    return x


class LED(nn.Module):
    """Learned effective dynamics: ``encode -> step/warm_up/rollout -> decode``.

    ``LED(config, scaler=None)``; ``config`` an :class:`~ledlib.configs.LEDConfig`, ``scaler``
    fitted on the training data (or ``None``: the network sees the data as given).
    """

    def __init__(self, config: LEDConfig, scaler=None):
        super().__init__()
        if not isinstance(config, LEDConfig):
            raise TypeError(f"config must be an LEDConfig, got {type(config).__name__}")
        self.config = config
        self.autoencoder = build_autoencoder(config.ae)
        self.rnn = build_rnn(config)
        self.scaler = None
        self.scaler_dict: dict | None = None
        self.data_hash: str | None = None  # content hash of the training data (ledlib.data.content_hash)
        self.train_record: dict | None = None  # the training records, kept in the model file
        shape = self._scale_shape()
        self.register_buffer("scale_a", torch.zeros(shape))  # x = a + b * x_scaled
        self.register_buffer("scale_b", torch.ones(shape))
        if scaler is not None:
            self.set_scaler(scaler)

    # -- structure ----------------------------------------------------------------
    @property
    def encoder(self) -> nn.Module:
        return self.autoencoder.encoder

    @property
    def decoder(self) -> nn.Module:
        return self.autoencoder.decoder

    @property
    def d_z(self) -> int:
        return self.config.ae.d_z

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return self.config.ae.obs_shape

    @property
    def is_particle(self) -> bool:
        return self.config.ae.kind == "particle"

    @property
    def device(self) -> torch.device:
        return self.scale_a.device

    def _scale_shape(self) -> tuple[int, ...]:
        # particles: one affine map per coordinate, so that any N can be scaled
        return (self.obs_shape[-1],) if self.is_particle else self.obs_shape

    # -- scaling ------------------------------------------------------------------
    def set_scaler(self, scaler) -> None:
        """Attach a fitted scaler; its elementwise affine map is probed and checked here."""
        for attr in ("transform", "inverse_transform", "to_dict"):
            if not callable(getattr(scaler, attr, None)):
                raise TypeError(f"scaler must provide {attr}(); got {type(scaler).__name__}")
        probe_shape = (1, self.obs_shape[-1]) if self.is_particle else self.obs_shape
        try:
            a = np.asarray(scaler.inverse_transform(np.zeros((1, *probe_shape))), dtype=np.float64)
            b = np.asarray(scaler.inverse_transform(np.ones((1, *probe_shape))), dtype=np.float64) - a
        except (ValueError, IndexError) as err:
            raise ValueError(f"scaler does not accept observables of shape {self.obs_shape}: {err}") from err
        if a.shape[0] != 1:
            raise ValueError(f"scaler changed the batch axis on a probe of shape {(1, *probe_shape)}")
        a, b = a[0], b[0]
        if self.is_particle:
            if a.shape[-1] != self.obs_shape[-1] or not (np.allclose(a, a[:1]) and np.allclose(b, b[:1])):
                raise ValueError("a particle scaler must act per coordinate, the same for every particle; "
                                 f"it gives parameters of shape {a.shape} for d_x={self.obs_shape[-1]}")
            a, b = a.reshape(-1, a.shape[-1])[0], b.reshape(-1, b.shape[-1])[0]
        if a.shape != tuple(self._scale_shape()):
            raise ValueError(f"scaler parameters have shape {a.shape}, the model's observables {self.obs_shape}")
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(b != 0)):
            raise ValueError("scaler must map to finite values with a non-zero scale")
        rng = np.random.default_rng(0)
        x = rng.normal(size=(2, *probe_shape))
        expected = (x - a) / b
        if not np.allclose(np.asarray(scaler.transform(x), dtype=np.float64), expected, rtol=1e-6, atol=1e-9):
            raise ValueError("scaler must be an elementwise affine map (min-max or standard scaling)")
        self.scale_a.copy_(torch.as_tensor(a, dtype=self.scale_a.dtype))
        self.scale_b.copy_(torch.as_tensor(b, dtype=self.scale_b.dtype))
        self.scaler = scaler
        self.scaler_dict = _plain(scaler.to_dict())

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        """Physical -> network units."""
        return (x - self.scale_a) / self.scale_b

    def unscale(self, x: torch.Tensor) -> torch.Tensor:
        """Network -> physical units."""
        return x * self.scale_b + self.scale_a

    # -- inference ----------------------------------------------------------------
    @torch.no_grad()
    def encode(self, x, *, scaled: bool = False, sample: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """``x (B, *obs_shape)`` (particles: any ``N``) -> ``z (B, d_z)``; VAE: the mean unless ``sample``."""
        x = _as_tensor(x, self.scale_a)
        scaled, sample = flag("scaled", scaled), flag("sample", sample)
        torch_generator("generator", generator)
        self._check_obs(x)
        if x.shape[0] == 0:
            raise ValueError(f"x must hold at least one state (B >= 1), got shape {tuple(x.shape)}")
        if not bool(torch.isfinite(x).all()):  # NaN/inf would give NaN latents silently
            raise ValueError("x contains NaN or infinite values")
        x = x if scaled else self.scale(x)
        return self.autoencoder.encode(x, sample=sample, generator=generator)

    def _check_obs(self, x: torch.Tensor) -> None:
        if self.is_particle:
            d_x = self.obs_shape[-1]
            if x.ndim != 3 or x.shape[-1] != d_x or x.shape[1] < 1:
                raise ValueError(f"x must have shape (B, N, {d_x}) (any N >= 1), got {tuple(x.shape)}")
        elif tuple(x.shape[1:]) != self.obs_shape or x.ndim != len(self.obs_shape) + 1:
            raise ValueError(f"x must have shape (B, {', '.join(map(str, self.obs_shape))}), got {tuple(x.shape)}")

    @torch.no_grad()
    def decode(self, z, n_particles: int | None = None, generator: torch.Generator | None = None, *,
               scaled: bool = False) -> torch.Tensor:
        """``z (B, d_z)`` -> reconstruction ``(B, *obs_shape)``; the mixture decoder samples
        ``n_particles`` (default: the training N) per configuration using ``generator``."""
        z = self._latent("z", z)
        scaled = flag("scaled", scaled)
        torch_generator("generator", generator)
        if n_particles is not None:
            n_particles = count("n_particles", n_particles, per_item=z.shape[0] * self.obs_shape[-1])
        x = self.autoencoder.decode(z, n_particles=n_particles, generator=generator)
        return x if scaled else self.unscale(x)

    def _latent(self, name: str, z, ndim: int = 2) -> torch.Tensor:
        """A latent input as a finite tensor on the model: ``(B, d_z)`` (``ndim=3``: ``(B, T, d_z)``),
        ``B, T >= 1``."""
        z = _as_tensor(z, self.scale_a, name)
        if z.ndim != ndim or z.shape[-1] != self.d_z or 0 in z.shape:
            want = f"(B, {self.d_z})" if ndim == 2 else f"(B, T, {self.d_z})"
            raise ValueError(f"{name} must have shape {want} with B{', T' if ndim == 3 else ''} >= 1, "
                             f"got {tuple(z.shape)}")
        return _finite(name, z)

    def _check_hidden(self, hidden, batch: int) -> None:
        """``hidden`` is ``None`` or the RNN's state for ``batch`` members, in ``nn.LSTM``/``GRU``
        format (what ``step``/``warm_up`` return)."""
        if hidden is None:
            return
        r = self.rnn
        shape = (r.n_layers, batch, r.d_h)
        if r.cell == "lstm":
            want = f"None or the LSTM state: a tuple (h, c) of two tensors of shape {shape}"
            parts = hidden if isinstance(hidden, tuple) and len(hidden) == 2 else None
        else:
            want = f"None or the GRU state: a tensor of shape {shape}"
            parts = (hidden,)
        if parts is None or not all(isinstance(h, torch.Tensor) for h in parts):
            raise TypeError(f"hidden must be {want}, got {type(hidden).__name__}")
        got = [tuple(h.shape) for h in parts]
        if any(g != shape for g in got):
            raise ValueError(f"hidden must be {want}, got shape(s) {got}")

    @torch.no_grad()
    def step(self, z, hidden: Hidden = None) -> tuple[torch.Tensor, Hidden]:
        """One latent step ``z_t -> z~_{t+dt}`` carrying the RNN hidden state."""
        z = self._latent("z", z)
        self._check_hidden(hidden, z.shape[0])
        return self.rnn.step(z, hidden)

    def latent_rollout(self, z, hidden: Hidden = None) -> LatentRollout:
        """The RNN iterating on its own output from ``z`` (B, d_z) and ``hidden``, stepped with
        ``advance(n)`` and read through ``.z`` and ``.hidden`` (what ``forecast`` uses: the
        state stays normalised between reads). Call under ``torch.no_grad()``."""
        z = self._latent("z", z)
        self._check_hidden(hidden, z.shape[0])
        return LatentRollout(self.rnn, z, hidden)

    @torch.no_grad()
    def warm_up(self, z_seq, hidden: Hidden = None) -> tuple[torch.Tensor, Hidden]:
        """Teacher-force the RNN on ``z_seq (B, T, d_z)``; return the prediction of the
        state after the last one, ``(B, d_z)``, and the hidden state (§2, Figure 2)."""
        z_seq = self._latent("z_seq", z_seq, ndim=3)
        self._check_hidden(hidden, z_seq.shape[0])
        z_pred, hidden = self.rnn(z_seq, hidden)
        return z_pred[:, -1], hidden

    @torch.no_grad()
    def rollout(self, z, hidden: Hidden, n_steps: int) -> tuple[torch.Tensor, Hidden]:
        """Iterate the RNN on its own output: the states ``z_{t+dt}, ..., z_{t+n dt}`` after ``z``
        (``z`` itself not included), shape ``(B, n_steps, d_z)``."""
        from ..forecast.schedule import MAX_STEPS

        z = self._latent("z", z)
        self._check_hidden(hidden, z.shape[0])
        # the whole trajectory is kept: at most MAX_STEPS steps and MAX_ELEMENTS numbers
        n_steps = int_in("n_steps", n_steps, 0, min(MAX_STEPS, MAX_ELEMENTS // (z.shape[0] * self.d_z)))
        out = []
        for _ in range(n_steps):
            z, hidden = self.rnn.step(z, hidden)
            out.append(z)
        traj = torch.stack(out, 1) if out else z.new_zeros((z.shape[0], 0, self.d_z))
        return traj, hidden

    # -- persistence --------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the portable model ``<stem>.safetensors`` (weights, CPU) + ``<stem>.json``.

        ``path`` is a stem: ``m`` (or ``m.safetensors`` / ``m.json``) writes ``m.safetensors``
        and ``m.json``. The JSON holds the configuration, the scaler, the content hash of
        the training data (``data_hash``), the ledlib/torch/safetensors versions, the
        training record (``train_record``) when known, and the sha256 of the weights file
        and of itself. Each file is written atomically (temporary file + rename); the
        weights go first, so an interrupted save is caught by the checksum on load.
        Returns the weights path.
        """
        from safetensors.torch import save as st_save

        weights, sidecar = model_files(path)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        blob = st_save(state, metadata={"format": FORMAT})
        info = {
            "format": FORMAT,
            "weights": {"file": weights.name, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)},
            "config": self.config.to_dict(),
            "scaler": self.scaler_dict,
            "data_hash": self.data_hash,
            "versions": _versions(),
            "train_record": self.train_record,
        }
        info["sidecar_sha256"] = _sidecar_digest(info)
        atomic_write_bytes(weights, blob)
        atomic_write_bytes(sidecar, json.dumps(info, indent=1, default=_json_default).encode())
        return weights

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu", *,
             map_location: str | torch.device | None = None) -> "LED":
        """Rebuild a model written by :meth:`save` (``path``: the same stem) on ``device``.

        Both checksums are verified first: a damaged, truncated, edited or foreign file
        raises :class:`ModelFileError` naming it. Needs neither the cache nor CUDA (weights
        are stored from the CPU). ``map_location`` is the former name of ``device``.
        """
        from safetensors.torch import load as st_load

        dev = resolve_device(map_location if map_location is not None else device)
        weights, sidecar = model_files(path)
        info = read_sidecar(sidecar)
        try:
            blob = weights.read_bytes()
        except OSError as err:
            raise ModelFileError(f"cannot read the model weights {weights}: {err}", weights) from err
        if hashlib.sha256(blob).hexdigest() != info["weights"].get("sha256"):
            raise ModelFileError(f"{weights} does not match the checksum in {sidecar.name}: the weights "
                                 "file is damaged or truncated (or belongs to another model)", weights)
        try:
            state = st_load(blob)
            led = cls(LEDConfig.from_dict(info["config"]))
            led.load_state_dict(state)
        except Exception as err:  # checksum matched, yet unreadable: another format version
            raise ModelFileError(f"{weights} cannot be read as an LED of its configuration: {err}",
                                 weights) from err
        led._restore_scaler(info.get("scaler"))
        led.data_hash = info.get("data_hash")
        led.train_record = info.get("train_record")
        return led.to(dev)

    @classmethod
    def load_torch_file(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> "LED":
        """Read a model in the earlier single-file format (``torch.save`` of config, weights
        and scaler; ``ledlib.LED/1``), e.g. to convert a cache (``scripts/ship_models.py``).
        That format carries no checksum; unreadable files raise :class:`ModelFileError`."""
        path = Path(path)
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise ModelFileError(f"{path} is not a readable torch model file: {err}", path) from err
        if not isinstance(blob, dict) or blob.get("format") != LEGACY_FORMAT:
            raise ModelFileError(f"{path} is not an LED model file (format {LEGACY_FORMAT!r})", path)
        led = cls(LEDConfig.from_dict(blob["config"]))
        led.load_state_dict(blob["state_dict"])
        led._restore_scaler(blob.get("scaler"))
        return led.to(resolve_device(device))

    def _restore_scaler(self, scaler_dict) -> None:
        self.scaler_dict = scaler_dict
        self.scaler = None
        if scaler_dict is not None:
            try:
                from ..data import scaler_from_dict
                self.scaler = scaler_from_dict(scaler_dict)
            except Exception:  # optional: the affine map used by encode/decode is in the state dict
                self.scaler = None


class ModelFileError(ValueError):
    """A model file (weights or its JSON) is missing, damaged, truncated or not an LED's;
    ``path`` is the offending file."""

    def __init__(self, message: str, path):
        super().__init__(message)
        self.path = str(path)


def model_files(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(<stem>.safetensors, <stem>.json)`` of a model path given as a stem, or as either file."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if not p.name:
        raise ValueError(f"path must name a model file stem, got {str(path)!r}")
    stem = p.with_suffix("") if p.suffix in (".safetensors", ".json") else p
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def read_sidecar(sidecar: Path) -> dict:
    """The verified JSON of a model file (its own checksum checked)."""
    sidecar = Path(sidecar)
    try:
        info = json.loads(sidecar.read_text())
    except FileNotFoundError as err:
        raise ModelFileError(f"no model file {sidecar}", sidecar) from err
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ModelFileError(f"{sidecar} is not a readable model description (damaged or truncated): {err}",
                             sidecar) from err
    if not isinstance(info, dict) or info.get("format") != FORMAT or not isinstance(info.get("weights"), dict):
        raise ModelFileError(f"{sidecar} is not an LED model description (format {FORMAT!r})", sidecar)
    if info.get("sidecar_sha256") != _sidecar_digest(info):
        raise ModelFileError(f"{sidecar} does not match its own checksum: it was damaged or edited", sidecar)
    return info


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def temporary_beside(path: Path, what: str = ""):
    """A temporary file ``(fd, name)`` in ``path``'s folder for the body to write and rename
    onto ``path``. Whatever fails, the temporary is removed; an OSError (e.g. a full disk)
    comes back naming ``path`` (``what`` says what it is, e.g. "the checkpoint ")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        yield fd, tmp
    except OSError as err:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise OSError(err.errno, f"cannot write {what}{path}: {err.strerror or err}") from err
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, blob: bytes) -> None:
    """``blob`` to a temporary file in the same folder (fsynced, mode 0644), then renamed onto ``path``."""
    path = Path(path)
    with temporary_beside(path) as (fd, tmp):
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; caches and shipped models are shared
        os.replace(tmp, path)


def _sidecar_digest(info: dict) -> str:
    rest = {k: v for k, v in info.items() if k != "sidecar_sha256"}
    # through a JSON round trip, so the digest is of what a reader sees (tuples -> lists)
    canon = json.dumps(json.loads(json.dumps(rest, default=_json_default)), sort_keys=True)
    return hashlib.sha256(canon.encode()).hexdigest()


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    return str(obj)


def _versions() -> dict:
    import safetensors

    from .. import __version__

    return {"ledlib": __version__, "torch": torch.__version__, "safetensors": safetensors.__version__}


def _plain(d):
    """Scaler dicts as plain Python (lists/floats), so ``torch.load(weights_only=True)`` reads them."""
    if isinstance(d, dict):
        return {str(k): _plain(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [_plain(v) for v in d]
    if isinstance(d, np.ndarray):
        return d.tolist()
    if isinstance(d, np.generic):
        return d.item()
    return d
