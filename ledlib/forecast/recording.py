"""What a forecast keeps: the recorded times, stored states and latents, observers.

:class:`Recording` holds the user's choices (validated once); :meth:`Recording.plan`
turns them into step indices on a forecast's grid, and :class:`Recorder` owns the output
arrays and calls the observers while the loop runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any, Callable

import numpy as np

from .._checks import flag, int_at_least as _int, int_in, positive
from .schedule import _GRID_TOL, MAX_STEPS, check_time_axis

__all__ = ["Recording", "Recorder", "record_steps"]

_KEEP_LATENTS = ("recorded", "all", "none")


def record_steps(record_at, n_steps: int, t_start: float, coarse_dt: float) -> np.ndarray:
    """Sorted step indices ``j`` (0..n_steps) at which states are produced."""
    if isinstance(record_at, str):
        key = record_at.lower()
        if key == "all":
            return np.arange(1, n_steps + 1)
        if key == "last":
            return np.array([n_steps])
        if key == "none":
            return np.zeros(0, dtype=np.int64)
        raise ValueError(f"record_at must be 'all', 'last', 'none', an integer k >= 1 or a sequence of "
                         f"times, got {record_at!r}")
    if isinstance(record_at, Integral) and not isinstance(record_at, bool):
        k = int_in("record_at", record_at, 1, MAX_STEPS) if record_at >= 1 else _int("record_at", record_at)
        return np.arange(k, n_steps + 1, k)
    if record_at is None or isinstance(record_at, (bool, bytes)):
        raise ValueError(f"record_at must be 'all', 'last', 'none', an integer k >= 1 or a sequence of "
                         f"times, got {record_at!r}")
    try:
        t = np.asarray(record_at, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"record_at must be 'all', 'last', 'none', an integer k >= 1 or a sequence of "
                         f"times, got {record_at!r}") from None
    if not np.all(np.isfinite(t)):
        raise ValueError("record_at times must be finite")
    q = (t - t_start) / coarse_dt
    j = np.rint(q).astype(np.int64)
    if np.any(np.abs(q - j) > _GRID_TOL * np.maximum(1.0, np.abs(q))) or np.any(j < 0) or np.any(j > n_steps):
        raise ValueError(f"record_at times must lie on the forecast grid t_start + j*coarse_dt, "
                         f"j = 0..{n_steps} (t_start={t_start}, coarse_dt={coarse_dt})")
    return np.unique(j)


def _is_times(record_at) -> bool:
    """A sequence of absolute times (checked against the grid only once it is known)."""
    if isinstance(record_at, (str, bytes, bool, Integral)) or record_at is None:
        return False
    try:
        t = np.asarray(record_at, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if not np.all(np.isfinite(t)):
        raise ValueError("record_at times must be finite")
    return True


@dataclass(frozen=True)
class Recording:
    """``record_at`` (``"all"``, ``"last"``, ``"none"``, every k-th step, or absolute times),
    ``keep_states`` (store the states as ``dtype``), ``keep_latents`` (``"recorded"``,
    ``"all"`` steps 0..n_steps, ``"none"``), ``observers`` (callables ``f(t, states)``)."""

    record_at: Any = "all"
    keep_states: bool = True
    keep_latents: str = "recorded"
    observers: tuple = ()
    dtype: Any = np.float32

    def __post_init__(self):
        if not isinstance(self.keep_latents, str) or self.keep_latents.lower() not in _KEEP_LATENTS:
            raise ValueError(f"keep_latents must be 'recorded', 'all' or 'none', got {self.keep_latents!r}")
        object.__setattr__(self, "keep_latents", self.keep_latents.lower())
        try:
            dtype = None if self.dtype is None else np.dtype(self.dtype)
        except TypeError:
            dtype = None
        if dtype is None or dtype not in (np.dtype(np.float32), np.dtype(np.float64)):  # (dtype == None is float64)
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        object.__setattr__(self, "dtype", dtype)
        # the form of record_at is checked here, its times against a forecast's grid in plan()
        if not _is_times(self.record_at):
            record_steps(self.record_at, 1, 0.0, 1.0)
        if callable(self.observers) or isinstance(self.observers, (str, bytes)):
            raise TypeError(f"observers must be a sequence of callables f(t, states), got {self.observers!r}")
        try:
            observers = tuple(self.observers)
        except TypeError:
            raise TypeError(f"observers must be a sequence of callables f(t, states), "
                            f"got {self.observers!r}") from None
        for i, f in enumerate(observers):
            if not callable(f):
                raise TypeError(f"observers[{i}] must be callable as f(t, states), got {type(f).__name__}")
        object.__setattr__(self, "observers", observers)
        object.__setattr__(self, "keep_states", flag("keep_states", self.keep_states))

    def plan(self, n_steps: int, t_start: float, coarse_dt: float) -> tuple[np.ndarray, np.ndarray]:
        """``(state steps, latent steps)``: the indices ``j`` in 0..n_steps recorded."""
        n_steps = int_in("n_steps", n_steps, 0, MAX_STEPS)
        coarse_dt = positive("coarse_dt", coarse_dt)
        t_start = check_time_axis(t_start, n_steps, coarse_dt, name="t_start")
        rec = record_steps(self.record_at, n_steps, t_start, coarse_dt)
        if self.keep_latents == "all":
            lat = np.arange(n_steps + 1)
        elif self.keep_latents == "recorded":
            lat = rec
        else:
            lat = np.zeros(0, dtype=np.int64)
        return rec, lat


def _index(steps: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros(n_steps + 1, dtype=bool)
    mask[steps] = True
    index = np.full(n_steps + 1, -1, dtype=np.int64)
    index[steps] = np.arange(steps.size)
    return mask, index


class Recorder:
    """The output arrays of one forecast, filled at the planned steps."""

    def __init__(self, recording: Recording, n_steps: int, t_start: float, coarse_dt: float,
                 n_ic: int, n_runs: int, obs_shape: tuple, d_z: int):
        self.recording = recording
        self.t_start, self.coarse_dt = t_start, coarse_dt
        self.n_ic, self.n_runs, self.obs_shape, self.d_z = n_ic, n_runs, obs_shape, d_z
        self.rec, self.lat_steps = recording.plan(n_steps, t_start, coarse_dt)
        self.rec_mask, self.rec_index = _index(self.rec, n_steps)
        self.lat_mask, self.lat_index = _index(self.lat_steps, n_steps)
        self.states = (np.empty((n_ic, n_runs, self.rec.size, *obs_shape), dtype=recording.dtype)
                       if recording.keep_states else None)
        self.latents = (np.empty((n_ic, n_runs, self.lat_steps.size, d_z), dtype=np.float32)
                        if self.lat_steps.size else None)
        self.observers: tuple[Callable, ...] = recording.observers

    @property
    def keeps_latents(self) -> bool:
        return self.recording.keep_latents != "none"

    def state(self, j: int, x: np.ndarray) -> None:
        view = x.reshape(self.n_ic, self.n_runs, *self.obs_shape)
        if self.states is not None:
            self.states[:, :, self.rec_index[j]] = view
        for f in self.observers:
            f(self.t_start + j * self.coarse_dt, view)

    def latent(self, j: int, z: np.ndarray) -> None:
        self.latents[:, :, self.lat_index[j]] = z.reshape(self.n_ic, self.n_runs, self.d_z)
