"""Observers: what a forecast accumulates at the recorded times instead of storing states."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._checks import flag
from ..metrics import RunningHistogram

__all__ = ["ParticleMoments", "ValueHistogram"]


class ParticleMoments:
    """Observer: M1 and M2 of every run's particle configuration at every recorded time.

    ``m1``, ``m2``: ``(n_ic, n_runs, n_times, dim)`` (``(n_ic, n_runs, n_times)`` with
    ``average_dims``, as the paper reports the 3-D case), stored as ``dtype``; ``times``.
    M1 is the mean position and M2 the variance over the particles (as
    :func:`ledlib.metrics.moments`).
    """

    def __init__(self, average_dims: bool = False, dtype=np.float32):
        self.average_dims = bool(average_dims)
        if dtype is None:  # np.dtype(None) would be float64, silently
            raise TypeError("dtype must be a floating dtype (float16/32/64), got None")
        try:
            self.dtype = np.dtype(dtype)
        except TypeError as err:
            raise TypeError(f"dtype must be a floating dtype (float16/32/64), got {dtype!r}") from err
        if not np.issubdtype(self.dtype, np.floating):  # integer moments truncate M2 to 0
            raise TypeError(f"dtype must be a floating dtype (float16/32/64), got {self.dtype}")
        self._t: list[float] = []
        self._m1: list[np.ndarray] = []
        self._m2: list[np.ndarray] = []

    def __call__(self, t: float, states: np.ndarray) -> None:
        x = np.asarray(states)
        if x.ndim < 4:
            raise ValueError(f"ParticleMoments needs states (n_ic, n_runs, N, dim), got shape {x.shape}")
        m1 = x.mean(axis=-2)
        m2 = x.var(axis=-2)
        if self.average_dims:
            m1, m2 = m1.mean(axis=-1), m2.mean(axis=-1)
        self._t.append(float(t))
        self._m1.append(m1.astype(self.dtype))
        self._m2.append(m2.astype(self.dtype))

    @property
    def times(self) -> np.ndarray:
        return np.asarray(self._t)

    def _stack(self, parts):
        if not parts:
            raise ValueError("no recorded times yet")
        return np.stack(parts, axis=2)

    @property
    def m1(self) -> np.ndarray:
        return self._stack(self._m1)

    @property
    def m2(self) -> np.ndarray:
        return self._stack(self._m2)


class ValueHistogram:
    """Observer: a :class:`~ledlib.metrics.RunningHistogram` of all state values (over
    initial conditions, runs and recorded times), or one per recorded time
    (``per_time=True``, in ``histograms``). ``component`` selects one index of the last
    axis first (e.g. one coordinate of particle positions)."""

    def __init__(self, lo: float, hi: float, bins: int, per_time: bool = False, component: int | None = None):
        self.histogram = RunningHistogram(lo, hi, bins)
        self.lo, self.hi, self.bins = lo, hi, bins
        self.per_time = flag("per_time", per_time)
        if component is not None and (isinstance(component, bool) or not isinstance(component, Integral)):
            raise TypeError(f"component must be None or an integer index of the last axis, got {component!r}")
        self.component = None if component is None else int(component)
        self.histograms: list[RunningHistogram] = []
        self.times: list[float] = []

    def __call__(self, t: float, states: np.ndarray) -> None:
        x = np.asarray(states)
        if self.component is not None:
            x = x[..., self.component]
        self.histogram.update(x)
        if self.per_time:
            self.histograms.append(RunningHistogram(self.lo, self.hi, self.bins).update(x))
        self.times.append(float(t))
