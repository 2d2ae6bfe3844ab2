"""The paper's hyperparameters (Tables 1–8) and the configurations LED uses per system.

Configurations are frozen dataclasses validated at construction:

- :class:`AutoencoderConfig`: the autoencoder (§6.1–6.4). ``kind="field"`` is a fully
  connected (V)AE on the flattened observable (KS, FHN); ``kind="particle"`` is the
  permutation-invariant encoder (Figure 10) with the mixture-density decoder (Figure 11)
  for a configuration of particles ``(N, d_x)`` (advection–diffusion).
- :class:`RNNConfig`: the latent LSTM/GRU (§6.5).
- :class:`TrainConfig`: optimiser and schedule of one training stage.
- :class:`LEDConfig`: all of the above for one system.

:func:`template` gives a configuration for any system by size (``"quick"``, ``"medium"``,
``"paper"``). ``get(system, profile)`` returns the configuration the paper picked for one
of its systems (``"paper"``) or a small ``"quick"`` one (the default) that trains in
seconds on a CPU; those live in :mod:`ledlib.paper`. ``TABLES`` gathers the grids of
Tables 1–8 as printed in the paper (each defined in its system's module there) and
:func:`render_table` renders them as markdown.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from ._checks import int_at_least as _int

MAX_LAYER_WIDTH = 10**5  # units in one layer (and latent dimensions): far above any LED, far below allocation errors
from ._checks import real_in as _real
from ._checks import safe_name as _safe_name

__all__ = [
    "AutoencoderConfig", "RNNConfig", "TrainConfig", "LEDConfig", "PaperTable", "TableRow",
    "TABLES", "SYSTEM_TABLES", "TANH", "SCALING_LABELS", "SYSTEMS", "PROFILES", "DEFAULT_PROFILE", "SIZES",
    "get", "template", "render_table", "table_grid", "paper_choices",
]

ACTIVATIONS = ("tanh", "selu")
CELLS = ("lstm", "gru")
AE_KINDS = ("field", "particle")
SCALINGS = ("standard", "minmax")


# ---------------------------------------------------------------------------------
# validation helpers (each names the field and the allowed range)
# ---------------------------------------------------------------------------------
def _choice(name: str, value, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value.lower()


def _set(obj, name, value):
    # frozen dataclasses: normalised values are written once in __post_init__
    object.__setattr__(obj, name, value)


# ---------------------------------------------------------------------------------
# configurations
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AutoencoderConfig:
    """Autoencoder of LED (§6.1–6.4).

    ``obs_shape``: shape of one observable sample: ``(64,)`` for KS, ``(2, 101)`` for FHN,
    ``(N, d_x)`` for particles (the network itself accepts any ``N``).
    ``n_layers`` x ``width``: the hidden layers of the encoder and of the decoder (for
    particles also of phi and g), with ``activation`` and optional ``residual`` connections.
    ``variational``: the encoder gives mean and log-variance (§6.2).
    Particle only: ``d_p`` (permutation-invariant feature dimension, the paper's M),
    ``n_kernels`` (K), ``md_hidden`` (hidden units of the mixture-density output layer) and
    ``softplus_eps`` (scaled positions are clipped to ``[eps, 1]`` before the inverse softplus).
    """

    obs_shape: tuple[int, ...]
    d_z: int
    kind: str = "field"
    n_layers: int = 5
    width: int = 100
    activation: str = "tanh"
    residual: bool = True
    variational: bool = False
    d_p: int = 200
    n_kernels: int = 5
    md_hidden: int = 50
    softplus_eps: float = 1e-3

    def __post_init__(self):
        shape = self.obs_shape
        if isinstance(shape, Integral) and not isinstance(shape, bool):
            shape = (shape,)
        if not isinstance(shape, (tuple, list)) or len(shape) == 0:
            raise ValueError(f"obs_shape must be a non-empty tuple of positive integers, got {self.obs_shape!r}")
        _set(self, "obs_shape", tuple(_int(f"obs_shape[{i}]", s) for i, s in enumerate(shape)))
        _set(self, "d_z", _int("d_z", self.d_z))
        _set(self, "kind", _choice("kind", self.kind, AE_KINDS))
        _set(self, "n_layers", _int("n_layers", self.n_layers))
        _set(self, "width", _int("width", self.width))
        _set(self, "activation", _choice("activation", self.activation, ACTIVATIONS))
        if not isinstance(self.residual, bool):
            raise ValueError(f"residual must be True or False, got {self.residual!r}")
        if not isinstance(self.variational, bool):
            raise ValueError(f"variational must be True or False, got {self.variational!r}")
        _set(self, "d_p", _int("d_p", self.d_p))
        _set(self, "n_kernels", _int("n_kernels (K)", self.n_kernels))
        _set(self, "md_hidden", _int("md_hidden", self.md_hidden))
        for name in ("d_z", "width", "d_p", "md_hidden"):  # a layer of 10^12 units dies in torch's allocator
            if getattr(self, name) > MAX_LAYER_WIDTH:
                raise ValueError(f"{name} must be an integer in [1, {MAX_LAYER_WIDTH}], got {getattr(self, name)}")
        _set(self, "softplus_eps", _real("softplus_eps", self.softplus_eps, 0.0, strict=True, hi=0.5))
        if self.kind == "particle" and len(self.obs_shape) != 2:
            raise ValueError("obs_shape must be (n_particles, d_x) for kind='particle', "
                             f"got {self.obs_shape!r}")

    @property
    def input_dim(self) -> int:
        """Flattened input size of a field autoencoder (``prod(obs_shape)``)."""
        return int(math.prod(self.obs_shape))

    @property
    def d_x(self) -> int:
        """Per-particle dimension (particle autoencoders)."""
        return self.obs_shape[-1]


@dataclass(frozen=True)
class RNNConfig:
    """Latent RNN (§6.5): ``cell`` in {lstm, gru}, ``n_layers`` stacked layers of ``d_h`` units.

    ``residual=True`` predicts the increment, ``z_{t+dt} = z_t + W h_t``; ``False`` is the
    paper's eq. (16), ``z_{t+dt} = W h_t``.
    """

    cell: str = "lstm"
    d_h: int = 100
    n_layers: int = 1
    residual: bool = True

    def __post_init__(self):
        _set(self, "cell", _choice("cell", self.cell, CELLS))
        _set(self, "d_h", _int("d_h", self.d_h))
        _set(self, "n_layers", _int("n_layers", self.n_layers))
        if not isinstance(self.residual, bool):
            raise ValueError(f"residual must be True or False, got {self.residual!r}")


@dataclass(frozen=True)
class TrainConfig:
    """One training stage (Adam, the tables' lr 1e-3 and batch 32).

    ``noise_level``: std of the Gaussian noise added to the inputs, as a fraction of the
    per-feature std of the training data (the tables' "noise level" 10 % is 0.1).
    ``weight_decay``: Adam's L2 penalty. ``kl_weight``: weight of the VAE's KL term, with
    the loss normalised per reconstructed value (1.0 is the evidence lower bound).
    The learning rate is multiplied by ``lr_factor`` after ``lr_patience`` epochs without a
    better validation loss (down to ``min_lr``); training stops after ``patience`` such
    epochs or ``max_epochs``. RNN stage only: ``bptt`` (truncated BPTT sequence length),
    ``hidden_propagation_length`` (steps the hidden state is carried across consecutive
    windows before a reset) and ``chunks_per_epoch`` (``None``: enough chunks to cover
    the data once, at least one full batch).

    The defaults are a medium schedule, neither the quick profile's (30 epochs, patience
    8) nor the paper's (1000 epochs, patience 40): lr 1e-3, batch 32, 100 epochs,
    patience 20, lr x0.5 after 5 epochs without progress (down to 1e-6), no noise, no
    weight decay, BPTT 100 with hidden propagation 500 (the AD tables). They are kept
    for the configurations written with them; :func:`template` and :mod:`ledlib.paper`
    set every field explicitly.
    """

    lr: float = 1e-3
    batch_size: int = 32
    max_epochs: int = 100
    weight_decay: float = 0.0
    noise_level: float = 0.0
    kl_weight: float = 1.0
    patience: int = 20
    lr_patience: int = 5
    lr_factor: float = 0.5
    min_lr: float = 1e-6
    grad_clip: float | None = None
    bptt: int = 100
    hidden_propagation_length: int = 500
    chunks_per_epoch: int | None = None

    def __post_init__(self):
        _set(self, "lr", _real("lr", self.lr, 0.0, strict=True))
        _set(self, "batch_size", _int("batch_size", self.batch_size))
        _set(self, "max_epochs", _int("max_epochs", self.max_epochs))
        _set(self, "weight_decay", _real("weight_decay", self.weight_decay, 0.0))
        _set(self, "noise_level", _real("noise_level", self.noise_level, 0.0))
        _set(self, "kl_weight", _real("kl_weight", self.kl_weight, 0.0))
        _set(self, "patience", _int("patience", self.patience))
        _set(self, "lr_patience", _int("lr_patience", self.lr_patience, lo=0))
        _set(self, "lr_factor", _real("lr_factor", self.lr_factor, 0.0, strict=True, hi=1.0, hi_strict=True))
        _set(self, "min_lr", _real("min_lr", self.min_lr, 0.0))
        if self.grad_clip is not None:
            _set(self, "grad_clip", _real("grad_clip", self.grad_clip, 0.0, strict=True))
        _set(self, "bptt", _int("bptt", self.bptt))
        _set(self, "hidden_propagation_length",
             _int("hidden_propagation_length", self.hidden_propagation_length))
        if self.hidden_propagation_length < self.bptt:
            raise ValueError(f"hidden_propagation_length must be >= bptt={self.bptt}, "
                             f"got {self.hidden_propagation_length}")
        if self.chunks_per_epoch is not None:
            _set(self, "chunks_per_epoch", _int("chunks_per_epoch", self.chunks_per_epoch))


@dataclass(frozen=True)
class LEDConfig:
    """Everything that defines one LED model and its two training stages."""

    system: str
    ae: AutoencoderConfig
    rnn: RNNConfig = field(default_factory=RNNConfig)
    ae_train: TrainConfig = field(default_factory=TrainConfig)
    rnn_train: TrainConfig = field(default_factory=TrainConfig)
    scaling: str = "standard"
    profile: str = "custom"
    note: str = ""

    def __post_init__(self):
        _safe_name("system", self.system)  # it becomes part of cache file names
        _safe_name("profile", self.profile)
        for name, cls in (("ae", AutoencoderConfig), ("rnn", RNNConfig),
                          ("ae_train", TrainConfig), ("rnn_train", TrainConfig)):
            value = getattr(self, name)
            if isinstance(value, dict):
                value = cls(**value)
                _set(self, name, value)
            if not isinstance(value, cls):
                raise ValueError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")
        _set(self, "scaling", _choice("scaling", self.scaling, SCALINGS))

    @property
    def d_z(self) -> int:
        return self.ae.d_z

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return self.ae.obs_shape

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-able) of the configuration."""
        d = dataclasses.asdict(self)
        d["ae"]["obs_shape"] = list(self.ae.obs_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LEDConfig":
        d = dict(d)
        ae = dict(d["ae"])
        ae["obs_shape"] = tuple(ae["obs_shape"])
        d["ae"] = AutoencoderConfig(**ae)
        d["rnn"] = RNNConfig(**d["rnn"])
        d["ae_train"] = TrainConfig(**d["ae_train"])
        d["rnn_train"] = TrainConfig(**d["rnn_train"])
        return cls(**d)

    def replace(self, **changes) -> "LEDConfig":
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------------------
# the paper's systems (ledlib.paper) and templates for any other system
# ---------------------------------------------------------------------------------
def __getattr__(name):
    # one definition of the paper's systems and profiles, in ledlib.paper (imported
    # lazily: its modules build their configurations from the classes above)
    if name in ("SYSTEMS", "PROFILES", "DEFAULT_PROFILE"):
        from . import paper

        return getattr(paper, name)
    if name == "TABLES":  # Tables 1-8 live with their systems, in ledlib.paper
        return _paper_tables()
    if name == "SYSTEM_TABLES":  # (autoencoder table, RNN table) of each system
        out: dict[str, tuple[int, ...]] = {}
        for n, t in _paper_tables().items():
            out[t.system] = out.get(t.system, ()) + (n,)
        return out
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get(system: str, profile: str | None = None) -> LEDConfig:
    """The LED configuration of a paper system (KS, FHN, AD1D, AD3D) for ``profile``
    ("quick", the default, or "paper"): a wrapper over :mod:`ledlib.paper`. For your own
    system use :func:`template`."""
    from . import paper

    return paper.config(system, paper.DEFAULT_PROFILE if profile is None else profile)


# Sizes of template(): what each trains in. "quick": well under a minute on a CPU for
# ~10^3 samples (measured: 33 s for 800 two-dimensional samples, both stages, on a
# shared 2-core machine), the size of the quick profile; "medium": minutes on a
# CPU, a middle ground for a first real model; "paper": the paper's sizes (the AD
# Tables: 5x100 layers, an RNN of 100 units, up to 1000 epochs), hours on a CPU, meant
# for a GPU. Every schedule field is set here, none is left to TrainConfig's defaults.
SIZES = ("quick", "medium", "paper")
_TEMPLATE = {
    #           AE layers x width, d_p, MD hidden, RNN units, bptt, propagation, schedule
    "quick": dict(n_layers=3, width=32, d_p=32, md_hidden=16, d_h=32, bptt=20, prop=60,
                  schedule=dict(max_epochs=30, patience=8, lr_patience=3, lr_factor=0.5, min_lr=1e-5),
                  chunks_per_epoch=128),
    "medium": dict(n_layers=4, width=64, d_p=100, md_hidden=32, d_h=64, bptt=50, prop=200,
                   schedule=dict(max_epochs=200, patience=20, lr_patience=5, lr_factor=0.5, min_lr=1e-6),
                   chunks_per_epoch=None),
    "paper": dict(n_layers=5, width=100, d_p=200, md_hidden=50, d_h=100, bptt=100, prop=500,
                  schedule=dict(max_epochs=1000, patience=40, lr_patience=10, lr_factor=0.5, min_lr=1e-6),
                  chunks_per_epoch=None),
}


def template(obs_shape, d_z: int, size: str = "quick", particles: bool = False, stochastic: bool = False,
             cell: str = "gru", *, system: str = "custom", n_kernels: int = 5) -> LEDConfig:
    """An LED configuration for any system with observables of shape ``obs_shape``.

    ``d_z``: the latent dimension. ``size``: ``"quick"`` (3x32 autoencoder, RNN of 32
    units, 30 epochs: well under a minute on a CPU for ~10^3 samples), ``"medium"`` (4x64, 64 units, 200
    epochs: minutes) or ``"paper"`` (the paper's 5x100, 100 units, 1000 epochs: hours on
    a CPU). ``particles``: observables are ``(n_particles, d_x)`` positions, encoded by
    the permutation-invariant encoder with a mixture-density decoder of ``n_kernels``
    kernels (min-max scaling, as the paper); else a fully connected autoencoder on the
    flattened field (standard scaling). ``stochastic``: a variational autoencoder, as
    the paper's for its stochastic systems. ``cell``: ``"gru"`` or ``"lstm"``.
    ``system``: the model's name in cache file names (letters, digits, ``-_.``).
    The RNN is trained on windows of ``bptt`` steps (20, 50, 100 by size): the
    trajectories need more samples than that.
    """
    if not isinstance(size, str) or size not in _TEMPLATE:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    for name, flag in (("particles", particles), ("stochastic", stochastic)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be True or False, got {flag!r}")
    _safe_name("system", system)
    t = _TEMPLATE[size]
    kind = "particle" if particles else "field"
    extra = dict(d_p=t["d_p"], md_hidden=t["md_hidden"], n_kernels=n_kernels) if particles else {}
    ae = AutoencoderConfig(obs_shape, d_z=d_z, kind=kind, n_layers=t["n_layers"], width=t["width"],
                           activation="tanh", residual=True, variational=stochastic, **extra)
    rnn = RNNConfig(cell, d_h=t["d_h"], n_layers=1, residual=True)
    common = dict(lr=1e-3, batch_size=32, weight_decay=0.0, noise_level=0.0, kl_weight=1.0, grad_clip=None,
                  **t["schedule"])
    ae_train = TrainConfig(bptt=t["bptt"], hidden_propagation_length=t["prop"], chunks_per_epoch=None, **common)
    rnn_train = TrainConfig(bptt=t["bptt"], hidden_propagation_length=t["prop"],
                            chunks_per_epoch=t["chunks_per_epoch"], **common)
    return LEDConfig(system, ae, rnn, ae_train, rnn_train, scaling="minmax" if particles else "standard",
                     profile=size, note=f"configs.template size={size!r}")


# ---------------------------------------------------------------------------------
# Tables 1-8 as data
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableRow:
    """One hyperparameter: ``values`` is a tuple for a searched grid (rendered ``{a, b}``)
    or a single value/string printed as is; ``unit`` is appended (e.g. ``"(%)"``)."""

    name: str
    values: Any
    unit: str = ""

    @property
    def grid(self) -> tuple:
        return self.values if isinstance(self.values, tuple) else (self.values,)


@dataclass(frozen=True)
class PaperTable:
    number: int
    title: str
    system: str
    stage: str  # "ae" or "rnn"
    rows: tuple[TableRow, ...]


# How the tables print a few values (also what paper_choices reports)
TANH = "tanh(·)"
SCALING_LABELS = {"minmax": "Min-Max in [0, 1]", "standard": "N(0, 1)"}


def _paper_tables() -> dict[int, PaperTable]:
    """Tables 1-8, each from its system's module in :mod:`ledlib.paper`."""
    from . import paper

    return dict(sorted((n, t) for m in paper.MODULES.values() for n, t in m.TABLES.items()))


def _table(n) -> PaperTable:
    tables = _paper_tables()
    if isinstance(n, bool) or not isinstance(n, Integral) or n not in tables:
        raise ValueError(f"table number must be one of {sorted(tables)}, got {n!r}")
    return tables[int(n)]


def table_grid(n: int) -> dict[str, tuple]:
    """Row name -> tuple of the values of Table ``n`` (a fixed value gives a 1-tuple)."""
    return {r.name: r.grid for r in _table(n).rows}


def paper_choices(config: LEDConfig) -> dict[str, Any]:
    """The table-row values a configuration corresponds to (noise in %, as the tables)."""
    ae, rnn, ta, tr = config.ae, config.rnn, config.ae_train, config.rnn_train
    out = {
        "Number of AE layers": ae.n_layers,
        "Size of AE layers": ae.width,
        "Activation of AE layers": f"{ae.activation}(·)",
        "Latent dimension": ae.d_z,
        "Residual connections": ae.residual,
        "Input/Output data scaling": SCALING_LABELS[config.scaling],
        "Noise level in the data": round(100 * ta.noise_level, 6),
        "Weight decay rate": ta.weight_decay,
        "Batch size": ta.batch_size,
        "Initial learning rate": ta.lr,
        "BPTT sequence length": tr.bptt,
        "BBTT Sequence length": tr.bptt,
        "BPTT Sequence length": tr.bptt,
        "Hidden state propagation length": tr.hidden_propagation_length,
        "RNN cell type": rnn.cell,
        "Number of RNN layers": rnn.n_layers,
        "Size of RNN layers": rnn.d_h,
    }
    if ae.kind == "particle":
        out.update({"Permutation Invariant Layer d_p": ae.d_p, "Number of MD kernels K": ae.n_kernels,
                    "Hidden units of MD decoder": ae.md_hidden})
    return out


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):  # positional, as the paper prints them (0.00001, not 1e-05)
        text = f"{v:.12f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    return str(v)


def render_table(n: int, mark_selected: bool = False) -> str:
    """Table ``n`` (1–8) of the paper as a markdown table, values as the paper prints them.

    With ``mark_selected`` the value of the paper's configuration (``get(system)``) is bold
    in every searched grid that contains it.
    """
    t = _table(n)
    chosen = paper_choices(get(t.system, "paper")) if mark_selected else {}
    lines = [f"Table {t.number}: {t.title}", "", "| Hyperparameter | Values |", "|---|---|"]
    for r in t.rows:
        if isinstance(r.values, tuple):
            c = chosen.get(r.name, object())
            items = [f"**{_fmt(v)}**" if mark_selected and len(r.values) > 1 and _same(v, c) else _fmt(v)
                     for v in r.values]
            text = "{" + ", ".join(items) + "}"
        else:
            text = _fmt(r.values)
        if r.unit:
            text += f" {r.unit}"
        lines.append(f"| {r.name} | {text} |")
    return "\n".join(lines)


def _same(a, b) -> bool:
    if isinstance(a, Real) and isinstance(b, Real) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b
