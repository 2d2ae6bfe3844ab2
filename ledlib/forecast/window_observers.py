"""Observers that score forecasts of windows of one long reference run as they go.

A study that starts ``n`` forecasts from samples of one long true trajectory (the
FitzHugh–Nagumo chapter's T_f = 8000 study, Figure 34) needs each window's error at
every step, not its states: :class:`WindowNAD` accumulates the normalised absolute
difference (eq. 22) of every window against the reference, at a few bytes a step.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ..metrics import finite_array

__all__ = ["WindowNAD"]


class WindowNAD:
    """Observer: NAD(t) of every window's forecast against a long reference run.

    ``truth (T, C, *space)``: the reference run at unit coarse steps, ``C`` channels
    (e.g. the activator u and the inhibitor v). ``starts (n,)``: the sample at which
    window ``i``'s forecast starts (the end of its warm-up), so that the forecast's step
    ``j`` (time ``t_start + j``) is compared with ``truth[starts[i] + j]``. ``horizon``:
    the number of forecast steps; each channel is normalised by its range (max - min)
    over the window's forecast steps and space, as eq. 22. Called with ``states (n,
    n_runs, C, *space)`` it scores run 0; ``nad`` holds one ``(n, C)`` array per call,
    :attr:`curves` stacks them ``(n_calls, n, C)``.
    """

    def __init__(self, truth, starts, t_start: float, horizon: int, coarse_dt: float = 1.0):
        self.truth = finite_array("truth", truth, min_ndim=2)
        starts = np.asarray(starts)
        if starts.ndim != 1 or starts.size == 0 or not np.issubdtype(starts.dtype, np.integer):
            raise ValueError(f"starts must be a non-empty 1-D integer array, got {starts!r}")
        if isinstance(horizon, bool) or not isinstance(horizon, Integral) or horizon < 1:
            raise ValueError(f"horizon must be a positive integer (forecast steps), got {horizon!r}")
        if starts.min() < 0 or starts.max() + horizon >= len(self.truth):
            raise ValueError(f"every window needs truth[start + 1 .. start + horizon]: starts in "
                             f"[{starts.min()}, {starts.max()}] with horizon {horizon} exceed the {len(self.truth)} "
                             "samples of truth")
        if not np.isfinite(t_start) or not (np.isfinite(coarse_dt) and coarse_dt > 0):
            raise ValueError(f"t_start must be finite and coarse_dt positive, got {t_start!r}, {coarse_dt!r}")
        self.offset, self.t_start, self.coarse_dt, self.horizon = starts, float(t_start), float(coarse_dt), int(horizon)
        axes = (0,) + tuple(range(2, self.truth.ndim))  # time and space: one range per channel
        span = [self.truth[o + 1:o + horizon + 1] for o in self.offset]  # the forecast steps
        self.range = np.stack([w.max(axis=axes) - w.min(axis=axes) for w in span])  # (window, channel)
        if np.any(self.range <= 0):
            raise ValueError("a channel of the reference is constant over a window: its NAD is undefined")
        self.nad: list[np.ndarray] = []

    def __call__(self, t: float, states) -> None:
        j = int(round((t - self.t_start) / self.coarse_dt))
        if not 0 <= j <= self.horizon:
            raise ValueError(f"time {t} is step {j} of the forecast, outside 0..{self.horizon}")
        x = np.asarray(states)
        if x.shape[0] != len(self.offset) or x.shape[2:] != self.truth.shape[1:]:
            raise ValueError(f"states must be ({len(self.offset)}, n_runs, {', '.join(map(str, self.truth.shape[1:]))})"
                             f", got {x.shape}")
        err = np.abs(x[:, 0] - self.truth[self.offset + j])
        err = err.reshape(*err.shape[:2], -1).mean(axis=-1)  # (window, channel)
        self.nad.append(err / self.range)

    @property
    def curves(self) -> np.ndarray:
        """``(n_calls, n_windows, C)``: every recorded NAD."""
        return np.stack(self.nad)
