"""Datasets: generation for any System, user trajectories, splits, scaling and an on-disk cache.

A dataset is a set of trajectories of one system, in named splits (train, validation,
usually test), each an array ``(n_traj, n_samples, *obs_shape)`` spaced ``coarse_dt``
apart with the absolute time of every sample, and the scaler fitted on ``train``.

- :func:`generate` simulates any :class:`~ledlib.systems.System` (yours included) once
  and caches the result under a hash of the system's class and parameters, the splits,
  the transient and the scaling.
- :func:`from_arrays` wraps trajectories you already have.
- :func:`spec` / :func:`load` give the paper's datasets (their sizes per profile live in
  :mod:`ledlib.paper`): ``"quick"`` (the default) or ``"paper"``.
- :func:`content_hash` fingerprints the data themselves; models are keyed by it.

Cache files are written atomically, 0644, with a SHA-256 checksum of the arrays and of
the metadata verified on every load, so a corrupted, truncated or edited file is
regenerated, never used. Names in cache paths are checked (no ``..``, no separators).

The paper's splits (§8.1–8.4, in :mod:`ledlib.paper`):

- KS: 5·10^3 training and 5·10^3 validation samples at coarse dt=0.25 after a transient,
  10^5 test samples from another seed. We cut the test set into 10 trajectories of 10^4
  samples so that they are generated as one batch; the sample count is the paper's.
- FHN: the six initial conditions of the paper's Figure 36, lifted by the equal-weight
  rule, a transient of 2 time units dropped, 451 samples at coarse dt=1: ICs 0–2
  train, 3–4 validate, 5 tests; plus a long run of IC 5 from which the T_f=8000 study
  takes 100 windows.
- Advection–diffusion: 10^3 training, 10^3 validation and 10^4 test samples at coarse
  dt=0.5, from seeded random initial conditions.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import math
import os
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from . import _checks
from . import systems as _systems

__all__ = [
    "SplitSpec", "DatasetSpec", "CustomSpec", "Split", "Dataset", "spec", "load", "generate",
    "from_arrays", "content_hash", "system_fingerprint", "cache_dir", "cache_path", "MinMaxScaler", "StandardScaler",
    "scaler_from_dict", "SYSTEMS", "PROFILES",
]

# Bump when the generation procedure changes, so old cache files are not reused.
DATA_VERSION = 2

SPLITS = ("train", "val", "test")


def __getattr__(name):
    # one definition of the paper's systems and profiles, in ledlib.paper (imported lazily:
    # its modules build their dataset specs from the classes here)
    if name in ("SYSTEMS", "PROFILES", "DEFAULT_PROFILE"):
        from . import paper

        return getattr(paper, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------
# Specifications
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SplitSpec:
    """One split: ``n_traj`` trajectories of ``n_samples`` observations each.

    ``ic`` are the indices of the paper's initial conditions (FHN); otherwise initial
    conditions are drawn from the system with ``seed``.
    """

    n_traj: int
    n_samples: int
    seed: int
    ic: tuple[int, ...] | None = None

    def __post_init__(self):
        for name in ("n_traj", "n_samples"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        # the split is n_traj * n_samples states held in memory at once
        _checks.int_in("n_traj * n_samples", self.n_traj * self.n_samples, 1, _checks.MAX_ELEMENTS)
        _checks.seed(self.seed)
        if self.ic is not None and len(self.ic) != self.n_traj:
            raise ValueError(f"ic must list n_traj={self.n_traj} initial conditions, got {self.ic}")


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that determines a dataset; its hash keys the cache."""

    system: str
    profile: str
    system_kwargs: tuple[tuple[str, object], ...]
    splits: tuple[tuple[str, SplitSpec], ...]
    transient: float
    dtype: str = "float64"
    scaling: str = "standard"  # the paper's: "minmax" to [0, 1] or "standard" N(0, 1)
    scaler_channel_axis: int | None = None  # per-channel statistics (from the end), None: global

    def __post_init__(self):
        from . import paper

        if self.system not in paper.SYSTEMS:
            paper.system_name(self.system)  # the error says what to use for other systems
            raise ValueError(f"system must be one of {paper.SYSTEMS} exactly, got {self.system!r}")
        _checks.safe_name("profile", self.profile)  # part of the cache file name
        if not isinstance(self.system_kwargs, tuple) or not all(
                isinstance(kv, tuple) and len(kv) == 2 and isinstance(kv[0], str) for kv in self.system_kwargs):
            raise ValueError(f"system_kwargs must be a tuple of (name, value) pairs (see data.spec), "
                             f"got {self.system_kwargs!r}")
        if not isinstance(self.splits, tuple) or not all(
                isinstance(kv, tuple) and len(kv) == 2 and isinstance(kv[0], str) and isinstance(kv[1], SplitSpec)
                for kv in self.splits):
            raise ValueError(f"splits must be a tuple of (name, SplitSpec) pairs, got {self.splits!r}")
        if isinstance(self.transient, bool) or not isinstance(self.transient, Real) \
                or not math.isfinite(self.transient):
            raise ValueError(f"transient must be a finite number >= 0, got {self.transient!r}")
        if not self.transient >= 0:
            raise ValueError(f"transient must be >= 0, got {self.transient}")
        if self.transient > 0:  # a whole, representable number of solver steps (as generate() checks)
            _systems.base.steps_per(self.transient, self.make_system().dt, name="transient")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.scaling not in _SCALERS:
            raise ValueError(f"scaling must be one of {tuple(_SCALERS)}, got {self.scaling!r}")

    def split(self, name: str) -> SplitSpec:
        d = dict(self.splits)
        if name not in d:
            raise ValueError(f"split must be one of {tuple(d)}, got {name!r}")
        return d[name]

    def make_system(self) -> _systems.System:
        from . import paper

        return paper.module(self.system).make_system(**dict(self.system_kwargs))

    def key(self) -> str:
        """A short hash of every field that changes the data."""
        payload = json.dumps(
            {"version": DATA_VERSION, **_jsonable(dataclasses.asdict(self))}, sort_keys=True
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def with_(self, **changes) -> "DatasetSpec":
        return dataclasses.replace(self, **changes)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj


def spec(system: str, profile: str | None = None, **system_kwargs) -> DatasetSpec:
    """The paper's dataset for ``system`` (``"KS"``, ``"FHN"``, ``"AD1D"``, ``"AD3D"``): a
    wrapper over :mod:`ledlib.paper`.

    ``profile="paper"`` gives the paper's sizes, ``"quick"`` (the default) a small version
    for CI. Extra keywords go to the system's constructor (e.g. ``n_particles=400``) and
    are part of the cache key. For your own simulator use :func:`generate`.
    """
    from . import paper

    return paper.dataset_spec(system, paper.DEFAULT_PROFILE if profile is None else profile, **system_kwargs)


# ---------------------------------------------------------------------------------
# Specifications of datasets that are not the paper's
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomSpec:
    """What determines a dataset of a user's :class:`~ledlib.systems.System` (made by
    :func:`generate`) or of user trajectories (:func:`from_arrays`, ``system="arrays"``).

    ``digest`` is the SHA-256 of the system's class and parameters, the splits, the
    transient, the scaling, the dtype and :data:`DATA_VERSION` (or, for arrays, of the
    arrays themselves); :meth:`key` is its first 16 hex digits, like
    :meth:`DatasetSpec.key`.
    """

    system: str
    digest: str
    splits: tuple[tuple[str, SplitSpec], ...] = ()
    transient: float = 0.0
    dtype: str = "float64"
    scaling: str = "standard"
    scaler_channel_axis: int | None = None
    profile: str = "custom"

    def key(self) -> str:
        return self.digest[:16]

    split = DatasetSpec.split

    def make_system(self) -> _systems.System:
        raise ValueError(f"this dataset ({self.system}) does not know how to rebuild its system: use the "
                         "System instance it was generated from (Dataset.system() returns it where it was kept)")


# ---------------------------------------------------------------------------------
# Generated data
# ---------------------------------------------------------------------------------
@dataclass
class Split:
    """``states`` ``(n_traj, n_samples, *obs_shape)`` and absolute times ``t`` ``(n_traj, n_samples)``."""

    states: np.ndarray
    t: np.ndarray

    @property
    def n_traj(self) -> int:
        return self.states.shape[0]

    @property
    def n_samples(self) -> int:
        return self.states.shape[1]

    def flat(self) -> np.ndarray:
        """All samples as one batch ``(n_traj * n_samples, *obs_shape)`` (e.g. for the autoencoder)."""
        return self.states.reshape(-1, *self.states.shape[2:])


@dataclass
class Dataset:
    """Trajectories of one system in named splits (``train``, ``val``, optionally ``test``
    and more), the scaler fitted on ``train``, and what made them (``spec``)."""

    spec: "DatasetSpec | CustomSpec"
    coarse_dt: float
    splits: dict[str, Split] = field(default_factory=dict)
    scaler: "_Scaler | None" = None  # fitted on the training split only
    path: Path | None = None
    source: "_systems.System | None" = field(default=None, repr=False)  # the System generate() ran
    _hash_memo: tuple | None = field(default=None, repr=False, compare=False)

    def __getitem__(self, name: str) -> Split:
        if name not in self.splits:
            raise KeyError(f"no split {name!r}; available: {tuple(self.splits)}")
        return self.splits[name]

    @property
    def train(self) -> Split:
        return self["train"]

    @property
    def val(self) -> Split:
        return self["val"]

    @property
    def test(self) -> Split:
        return self["test"]

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return tuple(self.train.states.shape[2:])

    @property
    def t0(self) -> float:
        """Absolute time of the first training sample."""
        return float(self.train.t.flat[0])

    @property
    def content_hash(self) -> str:
        """SHA-256 of the data themselves (see :func:`content_hash`)."""
        return content_hash(self)

    def system(self) -> _systems.System:
        """The System the data come from: the instance given to :func:`generate`, or the
        paper's system rebuilt from the spec."""
        if self.source is not None:
            return self.source
        return self.spec.make_system()


def _fingerprint(ds: Dataset):
    """Identity of the arrays and the small fields; ``None`` if an array is writable (then
    its bytes may have changed and the hash is computed again)."""
    parts = []
    for name, sp in ds.splits.items():
        for a in (sp.states, sp.t):
            if a.flags.writeable:
                return None
            parts.append((name, id(a)))
    scaler = None if ds.scaler is None else json.dumps(ds.scaler.to_dict(), sort_keys=True)
    return tuple(parts), float(ds.coarse_dt), scaler


def _hash_array(h, label: str, a: np.ndarray) -> None:
    a = np.ascontiguousarray(a)
    h.update(json.dumps([label, list(a.shape), a.dtype.str]).encode())
    h.update(memoryview(a.reshape(-1).view(np.uint8)))


def content_hash(dataset: Dataset) -> str:
    """SHA-256 (hex) of everything a model trained on ``dataset`` depends on: every
    split's arrays (name, shape, dtype, bytes), ``coarse_dt``, ``t0`` and the scaler's
    parameters. Regenerated or edited data give a new hash; the same data give the same
    hash however they were made. It reads every byte (about 0.2 s for the largest paper
    dataset, AD 3-D's 144 MB), except that a dataset whose arrays are all read-only
    (``setflags(write=False)``) and unchanged objects reuses the hash computed last."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a ledlib.data.Dataset, got {type(dataset).__name__}")
    fp = _fingerprint(dataset)
    if fp is not None and dataset._hash_memo is not None and dataset._hash_memo[0] == fp:
        return dataset._hash_memo[1]
    h = hashlib.sha256(b"ledlib-dataset-content-1")
    for name in sorted(dataset.splits):
        sp = dataset.splits[name]
        _hash_array(h, f"{name}/states", sp.states)
        _hash_array(h, f"{name}/t", sp.t)
    small = {"coarse_dt": float(dataset.coarse_dt), "t0": dataset.t0 if "train" in dataset.splits else None,
             "scaler": None if dataset.scaler is None else dataset.scaler.to_dict()}
    h.update(json.dumps(small, sort_keys=True).encode())
    digest = h.hexdigest()
    if fp is not None:
        dataset._hash_memo = (fp, digest)
    return digest


def _initial_conditions(system: _systems.System, sp: SplitSpec) -> np.ndarray:
    if sp.ic is not None:
        if not hasattr(system, "paper_initial_conditions"):
            raise ValueError(f"ic indices are only defined for FHN, got ic={sp.ic}")
        return system.paper_initial_conditions()[list(sp.ic)]
    return system.initial_conditions(sp.n_traj, seed=sp.seed)


def _simulate_split(system: _systems.System, sp: SplitSpec, transient: float, dtype: str,
                    progress: bool) -> Split:
    """Initial conditions from ``sp.seed``, the transient dropped, ``n_samples`` recorded;
    the solver's noise (and a lift's) from the seed's "micro-noise" child stream."""
    rng = _checks.child_rng(sp.seed, "micro-noise")  # micro-solver noise, separate from the ICs
    x0 = _initial_conditions(system, sp)
    t0 = 0.0
    if transient > 0:
        micro = system.advance(system.lift(x0, rng=rng), 0.0, transient, seed=rng)
        x0, t0 = system.restrict(micro), transient
    states = system.simulate(x0, sp.n_samples - 1, t0=t0, seed=rng, progress=progress)
    t = t0 + system.coarse_dt * np.arange(sp.n_samples)
    return Split(states.astype(dtype), np.broadcast_to(t, (sp.n_traj, sp.n_samples)).copy())


def generate_split(s: DatasetSpec, name: str, progress: bool = True) -> Split:
    """Simulate one split of a paper dataset: initial conditions, drop the transient, record n_samples."""
    return _simulate_split(s.make_system(), s.split(name), s.transient, s.dtype, progress)


def _generate_spec(s: DatasetSpec, progress: bool = True, system: _systems.System | None = None) -> Dataset:
    system = s.make_system() if system is None else system
    ds = Dataset(s, system.coarse_dt, source=system if isinstance(s, CustomSpec) else None)
    for name, sp in s.splits:
        ds.splits[name] = _simulate_split(system, sp, s.transient, s.dtype, progress)
    ds.scaler = _SCALERS[s.scaling](s.scaler_channel_axis).fit(ds.train.states)
    return ds


# ---------------------------------------------------------------------------------
# A user's system: generate(system, splits=...)
# ---------------------------------------------------------------------------------
def _param_value(where: str, v):
    """A JSON-able stand-in for one attribute of a System (arrays by their bytes' hash)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, Integral):
        return int(v)
    if isinstance(v, Real):
        f = float(v)
        return f if math.isfinite(f) else repr(f)
    if isinstance(v, np.ndarray) and v.dtype != object:
        h = hashlib.sha256()
        _hash_array(h, "", v)
        return {"ndarray": h.hexdigest()}
    if isinstance(v, (tuple, list)):
        return [_param_value(f"{where}[{i}]", x) for i, x in enumerate(v)]
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {k: _param_value(f"{where}[{k!r}]", x) for k, x in sorted(v.items())}
    if type(v).__module__ == "torch" and type(v).__name__ == "device":  # a backend choice, e.g. AD's on_device
        return str(v)
    raise ValueError(f"cannot hash {where} (a {type(v).__name__}) to key the cached data; give the data an "
                     "explicit name with generate(..., key='my-sim-v1') (change it when the system changes)")


def system_fingerprint(system: _systems.System) -> dict:
    """The class and every attribute of ``system`` as JSON-able data: what keys its
    generated data. Raises ``ValueError`` for an attribute that cannot be hashed."""
    cls = type(system)
    params = {k: _param_value(f"{cls.__name__}.{k}", v) for k, v in sorted(vars(system).items())}
    for k in ("dt", "coarse_dt", "obs_shape", "micro_shape", "stochastic", "name"):  # class attributes too
        params.setdefault(k, _param_value(f"{cls.__name__}.{k}", getattr(system, k, None)))
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "params": params}


def _as_split_spec(name: str, value) -> SplitSpec:
    if isinstance(value, SplitSpec):
        return value
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"splits[{name!r}] must be (n_traj, n_samples, seed), got {value!r}")
    n_traj, n_samples, seed = value
    n_traj = _checks.int_at_least(f"splits[{name!r}] n_traj", n_traj)
    n_samples = _checks.int_at_least(f"splits[{name!r}] n_samples", n_samples, lo=2)
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"splits[{name!r}] seed must be an integer >= 0, got {seed!r}")
    return SplitSpec(n_traj, n_samples, seed=int(seed))


def _check_splits(splits) -> tuple[tuple[str, SplitSpec], ...]:
    if not isinstance(splits, dict) or not splits:
        raise ValueError("splits must be a dict {'train': (n_traj, n_samples, seed), 'val': (...), ...}, "
                         f"got {splits!r}")
    missing = [n for n in ("train", "val") if n not in splits]
    if missing:
        raise ValueError(f"splits must include 'train' and 'val'; missing {missing}")
    out = []
    for name, value in splits.items():
        _checks.safe_name("split name", name)
        out.append((name, _as_split_spec(name, value)))
    return tuple(out)


def _check_scaling(scaling, scaler_channel_axis):
    if scaling not in _SCALERS:
        raise ValueError(f"scaling must be one of {tuple(_SCALERS)}, got {scaling!r}")
    if scaler_channel_axis is not None and (isinstance(scaler_channel_axis, bool)
                                            or not isinstance(scaler_channel_axis, Integral)
                                            or scaler_channel_axis >= 0):
        raise ValueError(f"scaler_channel_axis must be None or a negative int (counted from the end of the "
                         f"observable's shape), got {scaler_channel_axis!r}")


def generate(system, splits=None, transient: float = 0.0, scaling: str = "standard", cache=None,
             progress: bool = True, *, dtype: str = "float64", scaler_channel_axis: int | None = None,
             key: str | None = None) -> Dataset:
    """A dataset of any :class:`~ledlib.systems.System`, simulated once and then read from
    the cache.

    ``splits`` maps a split name to ``(n_traj, n_samples, seed)``; ``train`` and ``val``
    are required (``test`` is usual). Each split draws its initial conditions with
    ``system.initial_conditions(n_traj, seed=seed)``, drops ``transient`` time units
    (a whole number of ``system.dt``), then records ``n_samples`` observables
    ``coarse_dt`` apart; stochastic solvers (and lifts) draw from the seed's
    "micro-noise" child stream. The scaler (``"standard"`` or ``"minmax"``; per channel
    along ``scaler_channel_axis``, else global) is fitted on ``train``.

    The cache key hashes the system's class and all its attributes, the splits, the
    transient, the scaling, ``dtype`` and the data version: change any and the data are
    generated again. A system with an attribute that cannot be hashed (a function, a
    handle) needs ``key=`` (a safe name you change when the system changes).
    ``cache``: a folder, ``None`` or ``""`` for the default (:func:`cache_dir`), ``False``
    for none.

    ``generate(dataset_spec, progress=...)`` (a paper :class:`DatasetSpec`) simulates it
    without the cache, as :func:`load` does on a miss.
    """
    if isinstance(system, DatasetSpec):
        if splits is not None:
            raise ValueError("splits is given by the DatasetSpec; pass a System to choose splits")
        return _generate_spec(system, progress=progress)
    if not isinstance(system, _systems.System):
        raise TypeError(f"system must be a ledlib.systems.System instance, got {type(system).__name__}")
    split_specs = _check_splits(splits)
    transient = _checks.real_in("transient", transient, 0.0)
    if transient > 0:
        _systems.base.steps_per(transient, system.dt, name="transient")
    _check_scaling(scaling, scaler_channel_axis)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    if not isinstance(progress, bool):
        raise ValueError(f"progress must be True or False, got {progress!r}")
    if key is not None:
        _checks.safe_name("key", key)
        what = {"class": f"{type(system).__module__}.{type(system).__qualname__}", "key": key}
    else:
        what = system_fingerprint(system)
    payload = {"version": DATA_VERSION, "system": what, "splits": _jsonable([(n, dataclasses.asdict(sp))
                                                                             for n, sp in split_specs]),
               "transient": transient, "scaling": scaling, "scaler_channel_axis": scaler_channel_axis,
               "dtype": dtype}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    s = CustomSpec(type(system).__name__, digest, split_specs, transient, dtype, scaling, scaler_channel_axis)
    if cache is False:
        return _generate_spec(s, progress=progress, system=system)
    return _load_or_generate(s, cache, progress, system=system)


# ---------------------------------------------------------------------------------
# User trajectories: from_arrays(train=..., val=...)
# ---------------------------------------------------------------------------------
def _trajectories(name: str, x, obs_shape) -> np.ndarray:
    try:
        a = np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{name} must be an array (n_traj, n_samples, *obs_shape) or (n_samples, *obs_shape): {e}")
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.iscomplexobj(a):
        raise ValueError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    if obs_shape is not None:
        if a.ndim == len(obs_shape) + 1:
            a = a[None]
        if a.ndim != len(obs_shape) + 2 or tuple(a.shape[2:]) != obs_shape:
            raise ValueError(f"{name} must have shape (n_traj, n_samples, {', '.join(map(str, obs_shape))}) or "
                             f"(n_samples, {', '.join(map(str, obs_shape))}), got {a.shape}")
    elif a.ndim == 2:
        a = a[None]  # one trajectory of vectors
    elif a.ndim < 2:
        raise ValueError(f"{name} must be (n_traj, n_samples, *obs_shape) or (n_samples, d), got shape {a.shape}; "
                         "a scalar series is (n_samples, 1)")
    if a.shape[0] < 1:
        raise ValueError(f"{name} holds no trajectory (shape {a.shape})")
    if a.shape[1] < 2:
        raise ValueError(f"{name} must hold at least 2 samples per trajectory (one step of coarse_dt), "
                         f"got {a.shape[1]} (shape {a.shape})")
    if 0 in a.shape[2:]:
        raise ValueError(f"{name} has an empty observable (shape {a.shape})")
    bad = ~np.isfinite(a.astype(np.float64, copy=False))
    if bad.any():
        traj, sample = np.argwhere(bad)[0][:2]
        raise ValueError(f"{name} contains {int(bad.sum())} NaN or inf values (first in trajectory {traj}, "
                         f"sample {sample})")
    return a


def from_arrays(train, val, test=None, coarse_dt=None, t0: float = 0.0, scaling: str = "standard",
                scaler_channel_axis: int | None = None, *, obs_shape=None, dtype: str | None = None) -> Dataset:
    """A dataset from your own trajectories, e.g. of a simulator ledlib cannot run.

    Each split is ``(n_traj, n_samples, *obs_shape)`` or one trajectory; a 2-D array is
    one trajectory ``(n_samples, d)`` unless ``obs_shape`` says otherwise (give
    ``obs_shape`` for one trajectory of a multi-dimensional observable). Samples are
    ``coarse_dt`` apart from absolute time ``t0``. The scaler is fitted on ``train``.
    ``dtype``: ``"float32"``/``"float64"``; ``None`` keeps float32 input as float32,
    anything else becomes float64. Not cached (the arrays are in memory already); the
    dataset's :attr:`Dataset.content_hash` keys models trained on it.
    """
    if coarse_dt is None:
        raise ValueError("coarse_dt must be given: the time between consecutive samples")
    if isinstance(coarse_dt, bool) or not isinstance(coarse_dt, Real) or not math.isfinite(coarse_dt) \
            or coarse_dt <= 0:
        raise ValueError(f"coarse_dt must be a finite number > 0, got {coarse_dt!r}")
    t0 = _checks.finite_real("t0", t0)
    _check_scaling(scaling, scaler_channel_axis)
    if obs_shape is not None:
        shape = (obs_shape,) if isinstance(obs_shape, Integral) else obs_shape
        if not isinstance(shape, (tuple, list)) or not shape:
            raise ValueError(f"obs_shape must be a non-empty tuple of positive ints, got {obs_shape!r}")
        obs_shape = tuple(_checks.int_at_least(f"obs_shape[{i}]", v) for i, v in enumerate(shape))
    given = {"train": train, "val": val, **({} if test is None else {"test": test})}
    arrays = {name: _trajectories(name, x, obs_shape) for name, x in given.items()}
    shape = arrays["train"].shape[2:]
    for name, a in arrays.items():
        if a.shape[2:] != shape:
            raise ValueError(f"{name} has observables of shape {a.shape[2:]}, train has {shape}: every split "
                             "must have the same observable shape")
    if scaler_channel_axis is not None and -scaler_channel_axis > len(shape):
        raise ValueError(f"scaler_channel_axis={scaler_channel_axis} is out of range for observables of shape {shape}")
    if dtype is None:
        dtype = "float32" if all(a.dtype == np.float32 for a in arrays.values()) else "float64"
    elif dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be None, 'float32' or 'float64', got {dtype!r}")
    splits = {}
    for name, a in arrays.items():
        t = t0 + float(coarse_dt) * np.arange(a.shape[1])
        splits[name] = Split(np.array(a, dtype=dtype), np.broadcast_to(t, a.shape[:2]).copy())
    scaler = _SCALERS[scaling](scaler_channel_axis).fit(splits["train"].states)
    ds = Dataset(None, float(coarse_dt), splits, scaler)  # spec set below, from the content
    digest = content_hash(ds)
    ds.spec = CustomSpec("arrays", digest, (), 0.0, dtype, scaling, scaler_channel_axis)
    return ds


# ---------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------
def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The data/model cache: ``path``, else ``$LED_CACHE_DIR``, else ``<repo>/.cache``
    (``None`` and ``""`` both mean the default)."""
    if path is None or (isinstance(path, str) and path == ""):
        path = os.environ.get("LED_CACHE_DIR") or Path(__file__).resolve().parent.parent / ".cache"
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"cache must be a folder path, None or '' (the default), got {path!r}")
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    return p


def cache_path(root, *names: str) -> Path:
    """``root / names[0] / names[1] ...`` where every name is a safe file name (letters,
    digits, ``-_.``) and the resolved path stays inside ``root``: a name such as
    ``"../x"`` is a ``ValueError``, never a file outside the cache."""
    root = Path(root)
    for n in names:
        _checks.safe_name("cache file name", n)
    p = root.joinpath(*names)
    base = root.resolve()
    if not p.resolve().is_relative_to(base):
        raise ValueError(f"cache path {p} is outside the cache root {base}")
    return p


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: readers never see a partial file.
    The file is 0644 (caches and results are meant to be shared)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def remove_stale_tmp(path) -> list[Path]:
    """Remove the temporary files :func:`atomic_write` left beside ``path`` when a writer
    was killed. Call it only while holding ``path``'s lock: then no live writer owns one."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:
            pass
    return removed


@contextmanager
def file_lock(path):
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Guards work that two processes would otherwise both do on the same cache entry (a
    chapter and ``scripts/pretrain.py`` training one model; two chapters generating one
    dataset; chapters updating the scorecard): the second one waits, then finds the
    first one's result. The lock is released when the holder exits, even if it crashes.
    The lock file is removed on release; a waiter that then holds a lock on the removed
    file notices (the path no longer names its file) and locks the path anew.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        handle = open(path, "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            handle.close()
            raise
        if same:
            break
        handle.close()  # the holder before us removed this file: lock the new one
    try:
        yield
    finally:
        try:
            os.unlink(path)  # still holding the lock: no one else owns this path now
        except FileNotFoundError:
            pass
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _paths(s: "DatasetSpec | CustomSpec", root: Path) -> tuple[Path, Path]:
    stem = f"{s.system}-{s.profile}-{s.key()}"
    return cache_path(root, "data", f"{stem}.npz"), cache_path(root, "data", f"{stem}.json")


def _meta_digest(info: dict) -> str:
    body = {k: v for k, v in info.items() if k != "meta_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _write_meta(ds: Dataset, meta: Path, npz_sha: str) -> None:
    info = {
        "sha256": npz_sha,
        "spec": _jsonable(dataclasses.asdict(ds.spec)),
        "coarse_dt": ds.coarse_dt,
        "version": DATA_VERSION,
        "content_hash": content_hash(ds),
    }
    info["meta_sha256"] = _meta_digest(info)  # the metadata is checksummed too (e.g. coarse_dt)
    atomic_write(meta, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=1)))


def save(ds: Dataset, root: Path) -> Path:
    npz, meta = _paths(ds.spec, root)
    arrays = {}
    for name, sp in ds.splits.items():
        arrays[f"{name}/states"] = sp.states
        arrays[f"{name}/t"] = sp.t
    arrays["scaler"] = np.array(json.dumps(ds.scaler.to_dict()))  # under the checksum with the data

    def write_npz(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    atomic_write(npz, write_npz)
    _write_meta(ds, meta, _sha256(npz))
    ds.path = npz
    return npz


class CacheError(RuntimeError):
    """A cache file is missing, corrupted or does not match its checksum."""


def read(s: "DatasetSpec | CustomSpec", root: Path, system: _systems.System | None = None) -> Dataset:
    """The cached dataset of ``s`` under ``root``; :class:`CacheError` if it is missing or
    fails a checksum (of the arrays or of the metadata)."""
    npz, meta = _paths(s, root)
    if not npz.exists() or not meta.exists():
        raise CacheError(f"no cached dataset at {npz}")
    try:
        info = json.loads(meta.read_text())
        coarse_dt = float(info["coarse_dt"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CacheError(f"unreadable cache metadata {meta}: {e}") from e
    legacy = "meta_sha256" not in info
    if legacy:
        # written before the metadata was checksummed: trust it only where the spec says the same
        if isinstance(s, CustomSpec) or not math.isclose(coarse_dt, s.make_system().coarse_dt, rel_tol=1e-12):
            raise CacheError(f"cache metadata {meta} has no checksum and does not match its spec")
    elif info["meta_sha256"] != _meta_digest(info):
        raise CacheError(f"checksum mismatch for {meta}: the metadata was edited or is corrupted")
    if info.get("sha256") != _sha256(npz):
        raise CacheError(f"checksum mismatch for {npz}: the file is corrupted or truncated")
    ds = Dataset(s, coarse_dt, path=npz, source=system)
    try:
        with np.load(npz) as f:
            for name, _ in s.splits:
                ds.splits[name] = Split(f[f"{name}/states"], f[f"{name}/t"])
            ds.scaler = scaler_from_dict(json.loads(str(f["scaler"])))
    except (OSError, ValueError, KeyError) as e:
        raise CacheError(f"unreadable cached dataset {npz}: {e}") from e
    if legacy or "content_hash" not in info:
        try:  # bring the metadata up to date (checksummed, with the content hash); best effort
            _write_meta(ds, meta, info["sha256"])
        except OSError:
            pass
    return ds


def _load_or_generate(s, cache, progress: bool, system: _systems.System | None = None) -> Dataset:
    root = cache_dir(cache)
    npz, meta = _paths(s, root)
    try:
        return read(s, root, system)
    except CacheError:
        pass
    with file_lock(npz.with_name(f".{npz.name}.lock")):
        remove_stale_tmp(npz)  # a killed writer's leftovers: no live writer holds this lock
        remove_stale_tmp(meta)
        try:  # another process may have generated it while this one waited
            return read(s, root, system)
        except CacheError as e:
            if npz.exists():
                warnings.warn(f"{e}; regenerating", RuntimeWarning, stacklevel=3)
        if system is None:
            ds = generate(s, progress=progress)
        else:
            ds = _generate_spec(s, progress=progress, system=system)
        save(ds, root)
    return ds


def load(s: DatasetSpec | str, profile: str | None = None, cache: str | os.PathLike | None = None,
         progress: bool = True, **system_kwargs) -> Dataset:
    """The dataset of ``s`` (a :class:`DatasetSpec` or a paper system's name), from the
    cache if a valid copy exists, else generated and cached. For your own simulator use
    :func:`generate`; for your own trajectories :func:`from_arrays`."""
    if isinstance(s, str):
        s = spec(s, profile, **system_kwargs)
    elif system_kwargs:
        raise ValueError("system keywords go to spec(), not load(), when a DatasetSpec is given")
    elif not isinstance(s, DatasetSpec):
        raise TypeError(f"s must be a DatasetSpec or a paper system's name, got {type(s).__name__}; "
                        "for your own simulator use data.generate(system, splits=...)")
    return _load_or_generate(s, cache, progress)



# ---------------------------------------------------------------------------------
# Scalers (fitted on training data only; saved with models as plain dicts)
# ---------------------------------------------------------------------------------
class _Scaler:
    """Statistics over every axis except ``channel_axis`` (counted from the end of the
    observable shape; ``None`` for one global statistic)."""

    kind = ""

    def __init__(self, channel_axis: int | None = None):
        if channel_axis is not None and (not isinstance(channel_axis, int) or channel_axis >= 0):
            raise ValueError(f"channel_axis must be None or a negative int, got {channel_axis!r}")
        self.channel_axis = channel_axis
        self._a = self._b = None  # x_scaled = (x - a) / b

    def _reduce_axes(self, x: np.ndarray) -> tuple[int, ...]:
        if self.channel_axis is None:
            return tuple(range(x.ndim))
        if -self.channel_axis > x.ndim:
            raise ValueError(f"channel_axis={self.channel_axis} is out of range for shape {x.shape}")
        ax = x.ndim + self.channel_axis
        return tuple(i for i in range(x.ndim) if i != ax)

    def _stats(self, x, axes):
        raise NotImplementedError

    def fit(self, x) -> "_Scaler":
        x = _checks.finite_array_of("x", x).astype(np.float64, copy=False)
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError("x must be a non-empty finite array to fit a scaler")
        axes = self._reduce_axes(x)
        a, b = self._stats(x, axes)
        b = np.where(b > 0, b, 1.0)  # a constant channel is shifted, not divided by zero
        if self.channel_axis is None:
            self._a, self._b = np.asarray(a).reshape(()), np.asarray(b).reshape(())
        else:  # keep the trailing dims from the channel axis on, so stats broadcast over batches
            self._a, self._b = a[(0,) * (x.ndim + self.channel_axis)], b[(0,) * (x.ndim + self.channel_axis)]
        return self

    def _check(self):
        if self._a is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() on training data")

    def _check_channels(self, x: np.ndarray) -> np.ndarray:
        # a per-channel scaler must not broadcast onto another number of channels
        if self.channel_axis is not None:
            n_ch = self._a.shape[0] if self._a.ndim else 1
            if x.ndim < -self.channel_axis or x.shape[x.ndim + self.channel_axis] != n_ch:
                raise ValueError(f"x must have {n_ch} channels on axis {self.channel_axis} (the scaler's "
                                 f"fitted channels), got shape {x.shape}")
        return x

    def transform(self, x):
        self._check()
        return (self._check_channels(_checks.finite_array_of("x", x)) - self._a) / self._b

    def inverse_transform(self, x):
        self._check()
        return self._check_channels(_checks.finite_array_of("x", x)) * self._b + self._a

    def to_dict(self) -> dict:
        self._check()
        return {"kind": self.kind, "channel_axis": self.channel_axis,
                "a": self._a.tolist(), "b": self._b.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "_Scaler":
        if d.get("kind") != cls.kind:
            raise ValueError(f"expected a {cls.kind!r} scaler dict, got kind={d.get('kind')!r}")
        s = cls(d["channel_axis"])
        s._a, s._b = np.asarray(d["a"], dtype=np.float64), np.asarray(d["b"], dtype=np.float64)
        if s._a.shape != s._b.shape or not np.all(np.isfinite(s._a)):
            raise ValueError(f"scaler a must be finite and shaped like b {s._b.shape}, got {d['a']!r}")
        if not np.all(np.isfinite(s._b) & (s._b > 0)):  # a zero range would scale to inf
            raise ValueError(f"scaler b (the range or standard deviation) must be finite and > 0, got {d['b']!r}")
        return s


class MinMaxScaler(_Scaler):
    """Min-max to [0, 1] (the paper's scaling for the particle systems)."""

    kind = "minmax"

    def _stats(self, x, axes):
        lo, hi = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
        return lo, hi - lo


class StandardScaler(_Scaler):
    """Zero mean, unit variance (the paper's N(0, 1) scaling for KS and FHN)."""

    kind = "standard"

    def _stats(self, x, axes):
        return x.mean(axis=axes, keepdims=True), x.std(axis=axes, keepdims=True)


_SCALERS = {"minmax": MinMaxScaler, "standard": StandardScaler}


def scaler_from_dict(d: dict) -> _Scaler:
    if not isinstance(d, dict):
        raise TypeError(f"d must be a scaler dict (from to_dict), got {type(d).__name__} {d!r:.40}")
    for cls in (MinMaxScaler, StandardScaler):
        if d.get("kind") == cls.kind:
            return cls.from_dict(d)
    raise ValueError(f"unknown scaler kind {d.get('kind')!r}; expected 'minmax' or 'standard'")
