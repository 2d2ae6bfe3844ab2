"""Figures of the tutorial chapter "LED on your own simulator"."""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from .style import legible

__all__ = ["own_forecast"]


def own_forecast(t, truth, forecasts: dict, *, component: int = 0, label: str = "x", bins: int = 40) -> Figure:
    """(a) One observable ``component`` of the solver's run ``truth (T, *obs)`` and of each
    forecast's first ensemble member against time ``t (T,)``; (b) its marginal density
    over every time and run (``forecasts``: name -> states ``(..., T, *obs)``), cut at twice
    the solver's highest density (a forecast stuck at one value is a spike). Drawn
    legible at the page's width (:func:`ledlib.plots.legible`)."""
    t = np.asarray(t, dtype=float)
    truth = np.asarray(truth, dtype=float)
    if truth.ndim < 2 or truth.shape[0] != t.shape[0]:
        raise ValueError(f"truth must be (T, ...) with T = len(t) = {t.shape[0]}, got {truth.shape}")
    if not forecasts:
        raise ValueError("forecasts must name at least one forecast")
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.0, 3.4), layout="constrained", width_ratios=(3, 2))  # page width
    a.plot(t, truth[:, component], "k", lw=1.2, label="solver")
    values = [truth[..., component].ravel()]
    for name, states in forecasts.items():
        s = np.asarray(states, dtype=float)
        first = s.reshape(-1, *s.shape[-truth.ndim:])[0]
        a.plot(t, first[:, component], lw=1.0, label=name)
        values.append(s[..., component].ravel())
    a.set(xlabel="t after the warm-up", ylabel=label, title="(a) one run")
    a.legend(loc="upper right", fontsize="small")
    edges = np.histogram_bin_edges(np.concatenate(values), bins=bins)
    top = b.hist(values[0], bins=edges, density=True, histtype="step", color="k", lw=1.2, label="solver")[0].max()
    for name, v in zip(forecasts, values[1:]):
        b.hist(v, bins=edges, density=True, histtype="step", lw=1.0, label=name)
    b.set(xlabel=label, ylabel="density", title=f"(b) marginal of {label}", ylim=(0, 2.0 * top))
    return legible(fig)
