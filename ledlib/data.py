"""Datasets of the paper: generation, splits, scaling and an on-disk cache.

A dataset is a set of trajectories of one system, in three splits (train, validation,
test), each an array ``(n_traj, n_samples, *obs_shape)`` spaced ``coarse_dt`` apart with
the absolute time of every sample. :func:`spec` gives the paper's sizes (``profile=
"paper"``) or a small ``"quick"`` profile; :func:`load` generates once and then reads the
cache. Cache files are written atomically and carry a SHA-256 checksum that is verified
on every load, so a corrupted or truncated file is regenerated, never used.

The paper's splits (§8.1–8.4):

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
import os
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import systems as _systems

__all__ = [
    "SplitSpec", "DatasetSpec", "Split", "Dataset", "spec", "load", "generate",
    "cache_dir", "MinMaxScaler", "StandardScaler", "scaler_from_dict", "SYSTEMS", "PROFILES",
]

# Bump when the generation procedure changes, so old cache files are not reused.
DATA_VERSION = 2

SYSTEMS = ("KS", "FHN", "AD1D", "AD3D")
PROFILES = ("quick", "paper")
SPLITS = ("train", "val", "test")


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
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
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
        if self.system not in SYSTEMS:
            raise ValueError(f"system must be one of {SYSTEMS}, got {self.system!r}")
        if not self.transient >= 0:
            raise ValueError(f"transient must be >= 0, got {self.transient}")
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
        kwargs = dict(self.system_kwargs)
        if self.system == "KS":
            return _systems.KuramotoSivashinsky(**kwargs)
        if self.system == "FHN":
            return _systems.FitzHughNagumo(**kwargs)
        return _systems.AdvectionDiffusion(dim=1 if self.system == "AD1D" else 3, **kwargs)

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


def _splits(**kw: SplitSpec) -> tuple[tuple[str, SplitSpec], ...]:
    return tuple(kw.items())


def spec(system: str, profile: str = "quick", **system_kwargs) -> DatasetSpec:
    """The paper's dataset for ``system`` (``"KS"``, ``"FHN"``, ``"AD1D"``, ``"AD3D"``).

    ``profile="paper"`` gives the paper's sizes, ``"quick"`` a small version for CI.
    Extra keywords go to the system's constructor (e.g. ``n_particles=400``) and are part
    of the cache key.
    """
    if system not in SYSTEMS:
        raise ValueError(f"system must be one of {SYSTEMS}, got {system!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    paper = profile == "paper"
    kw = tuple(sorted(system_kwargs.items()))
    if system == "KS":
        # Seeds differ per split: the test set comes "from another seed", as in the paper.
        splits = _splits(
            train=SplitSpec(1, 5000 if paper else 1000, seed=1),
            val=SplitSpec(1, 5000 if paper else 1000, seed=2),
            test=SplitSpec(10 if paper else 2, 10_000 if paper else 2000, seed=3),
        )
        # initial_conditions() already discards 100 time units; this drops as much again
        return DatasetSpec("KS", profile, kw, splits, transient=100.0, scaling="standard")
    if system == "FHN":
        n = 451  # cheap enough to keep the paper's horizon in both profiles
        splits = _splits(
            train=SplitSpec(3, n, seed=0, ic=(0, 1, 2)),
            val=SplitSpec(2, n, seed=0, ic=(3, 4)),
            test=SplitSpec(1, n, seed=0, ic=(5,)),
            # long run of the test IC: 100 windows for the T_f=8000 study (Figures 7, 34, 35)
            long=SplitSpec(1, 9001 if paper else 1001, seed=0, ic=(5,)),
        )
        return DatasetSpec("FHN", profile, kw, splits, transient=2.0, scaling="standard",
                           scaler_channel_axis=-2)  # u and v scaled separately
    splits = _splits(
        train=SplitSpec(1, 1000 if paper else 200, seed=1),
        val=SplitSpec(1, 1000 if paper else 200, seed=2),
        test=SplitSpec(10 if paper else 2, 1000 if paper else 200, seed=3),
    )
    return DatasetSpec(system, profile, kw, splits, transient=0.0, dtype="float32", scaling="minmax",
                       scaler_channel_axis=-1)  # one map per coordinate, valid for any N


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
    spec: DatasetSpec
    coarse_dt: float
    splits: dict[str, Split] = field(default_factory=dict)
    scaler: "_Scaler | None" = None  # fitted on the training split only
    path: Path | None = None

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

    def system(self) -> _systems.System:
        return self.spec.make_system()


def _initial_conditions(system: _systems.System, sp: SplitSpec) -> np.ndarray:
    if sp.ic is not None:
        if not hasattr(system, "paper_initial_conditions"):
            raise ValueError(f"ic indices are only defined for FHN, got ic={sp.ic}")
        return system.paper_initial_conditions()[list(sp.ic)]
    return system.initial_conditions(sp.n_traj, seed=sp.seed)


def generate_split(s: DatasetSpec, name: str, progress: bool = True) -> Split:
    """Simulate one split: initial conditions, drop the transient, record n_samples."""
    system = s.make_system()
    sp = s.split(name)
    rng = np.random.default_rng([sp.seed, 7919])  # micro-solver noise, separate from the ICs
    x0 = _initial_conditions(system, sp)
    t0 = 0.0
    if s.transient > 0:
        micro = system.advance(system.lift(x0), 0.0, s.transient, seed=rng)
        x0, t0 = system.restrict(micro), s.transient
    states = system.simulate(x0, sp.n_samples - 1, t0=t0, seed=rng, progress=progress)
    t = t0 + system.coarse_dt * np.arange(sp.n_samples)
    return Split(states.astype(s.dtype), np.broadcast_to(t, (sp.n_traj, sp.n_samples)).copy())


def generate(s: DatasetSpec, progress: bool = True) -> Dataset:
    system = s.make_system()
    ds = Dataset(s, system.coarse_dt)
    for name, _ in s.splits:
        ds.splits[name] = generate_split(s, name, progress=progress)
    ds.scaler = _SCALERS[s.scaling](s.scaler_channel_axis).fit(ds.train.states)
    return ds


# ---------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------
def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The data/model cache: ``path``, else ``$LED_CACHE_DIR``, else ``<repo>/.cache``."""
    if path is None:
        path = os.environ.get("LED_CACHE_DIR") or Path(__file__).resolve().parent.parent / ".cache"
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    return p


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results and caches are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


@contextmanager
def file_lock(path):
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Guards work that two processes would otherwise both do on the same cache entry (a
    chapter and ``scripts/pretrain.py`` training one model; two chapters generating one
    dataset; chapters updating the scorecard): the second one waits, then finds the
    first one's result. The lock is released when the holder exits, even if it crashes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _paths(s: DatasetSpec, root: Path) -> tuple[Path, Path]:
    stem = f"{s.system}-{s.profile}-{s.key()}"
    return root / "data" / f"{stem}.npz", root / "data" / f"{stem}.json"


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
    info = {
        "sha256": _sha256(npz),
        "spec": _jsonable(dataclasses.asdict(ds.spec)),
        "coarse_dt": ds.coarse_dt,
        "version": DATA_VERSION,
    }
    atomic_write(meta, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=1)))
    ds.path = npz
    return npz


class CacheError(RuntimeError):
    """A cache file is missing, corrupted or does not match its checksum."""


def read(s: DatasetSpec, root: Path) -> Dataset:
    npz, meta = _paths(s, root)
    if not npz.exists() or not meta.exists():
        raise CacheError(f"no cached dataset at {npz}")
    try:
        info = json.loads(meta.read_text())
    except (OSError, ValueError) as e:
        raise CacheError(f"unreadable cache metadata {meta}: {e}") from e
    if info.get("sha256") != _sha256(npz):
        raise CacheError(f"checksum mismatch for {npz}: the file is corrupted or truncated")
    ds = Dataset(s, float(info["coarse_dt"]), path=npz)
    with np.load(npz) as f:
        for name, _ in s.splits:
            ds.splits[name] = Split(f[f"{name}/states"], f[f"{name}/t"])
        ds.scaler = scaler_from_dict(json.loads(str(f["scaler"])))
    return ds


def load(s: DatasetSpec | str, profile: str = "quick", cache: str | os.PathLike | None = None,
         progress: bool = True, **system_kwargs) -> Dataset:
    """The dataset of ``s`` (a :class:`DatasetSpec` or a system name), from the cache
    if a valid copy exists, else generated and cached."""
    if isinstance(s, str):
        s = spec(s, profile, **system_kwargs)
    elif system_kwargs:
        raise ValueError("system keywords go to spec(), not load(), when a DatasetSpec is given")
    root = cache_dir(cache)
    npz = _paths(s, root)[0]
    try:
        return read(s, root)
    except CacheError:
        pass
    with file_lock(npz.with_name(f".{npz.name}.lock")):
        try:  # another process may have generated it while this one waited
            return read(s, root)
        except CacheError as e:
            if npz.exists():
                warnings.warn(f"{e}; regenerating", RuntimeWarning, stacklevel=2)
        ds = generate(s, progress=progress)
        save(ds, root)
    return ds


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
        x = np.asarray(x, dtype=np.float64)
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

    def transform(self, x):
        self._check()
        return (np.asarray(x) - self._a) / self._b

    def inverse_transform(self, x):
        self._check()
        return np.asarray(x) * self._b + self._a

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
    for cls in (MinMaxScaler, StandardScaler):
        if d.get("kind") == cls.kind:
            return cls.from_dict(d)
    raise ValueError(f"unknown scaler kind {d.get('kind')!r}; expected 'minmax' or 'standard'")
