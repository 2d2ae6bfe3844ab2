"""Figure of a hyperparameter-grid slice (:mod:`ledlib.grid_search`): every configuration's
validation loss and forecast error, the pick and the best here marked."""

from __future__ import annotations

import math

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .style import PAGE_WIDTH_IN, legible

__all__ = ["grid_search_figure"]

PICK_COLOR, OTHER_COLOR = "C3", "C0"


def _label(values: dict) -> str:
    return f"{values['RNN cell type'].upper()} {values['Number of RNN layers']}x{values['Size of RNN layers']}"


def grid_search_figure(results: dict) -> Figure:
    """Two panels of horizontal bars, one bar per scored configuration of ``results``
    (from :func:`ledlib.grid_search.run_or_load` or ``search``), in the slice's order:
    (a) the validation loss, (b) the forecast MNAD, both on a log axis. The pick's bar is
    red and its label starts with ``*``; the best here on each score is marked ``best``
    beside its bar. Where the results hold several RNN seeds of the pick, their range is
    a grey band across the panel: differences inside it are seed noise."""
    if not isinstance(results, dict) or "points" not in results or "best_val_loss" not in results:
        raise TypeError(f"results must be a grid-search results dict (ledlib.grid_search.run_or_load), "
                        f"got {type(results).__name__}")
    rows = [r for r in results["points"] if math.isfinite(r.get("val_loss", math.nan))]
    if not rows:
        raise ValueError("results hold no scored configuration to draw")
    labels = [("* " if r["paper_pick"] else "") + _label(r["values"]) for r in rows]
    y = np.arange(len(rows))[::-1]  # the first configuration on top
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 1.2 + 0.45 * len(rows)), layout="constrained",
                             sharey=True, squeeze=True)
    seeds = results.get("pick_seeds") or []
    fc = results["forecast"]
    for ax, key, best, title in (
            (axes[0], "val_loss", results["best_val_loss"], "(a) validation loss"),
            (axes[1], "forecast_mnad", results["best_forecast"],
             f"(b) forecast MNAD (warm-up {fc.get('warm_steps')}, {fc['horizon_steps']} steps)")):
        vals = np.array([r[key] for r in rows], dtype=float)
        ax.barh(y, vals, color=[PICK_COLOR if r["paper_pick"] else OTHER_COLOR for r in rows], height=0.6, zorder=2)
        if len(seeds) > 1:
            sv = [s[key] for s in seeds if math.isfinite(s.get(key, math.nan))]
            band = ax.axvspan(min(sv), max(sv), color="0.6", alpha=0.35, lw=0, zorder=0,
                              label=f"the pick's range over RNN seeds {', '.join(str(s['seed']) for s in seeds)} "
                                    "(seed noise)")
        for yi, r, v in zip(y, rows, vals):
            if r["name"] == best:
                ax.annotate("best", (v, yi), textcoords="offset points", xytext=(4, -4), fontsize=9)
        ax.set_xscale("log")
        # the scores of a slice often span less than a decade: ticks at 1, 2, 5 x 10^k, no minor labels
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}".replace("e-0", "e-")))
        ax.xaxis.set_minor_formatter(NullFormatter())
        lo, hi = np.nanmin(vals), np.nanmax(vals)
        if seeds:
            lo = min(lo, min(s[key] for s in seeds))
        ax.set_xlim(lo / 3, hi * 3)  # room for the "best" mark
        ax.set_title(title, fontsize=10)
    axes[0].set_yticks(y, labels)
    if len(seeds) > 1:
        fig.legend(handles=[band], loc="outside lower center", fontsize=9, frameon=False)
    pick = results.get("pick") or results.get("paper_pick")
    fig.suptitle(f"Table {results.get('table')} slice, {results.get('system')} ({results.get('profile')} profile); "
                 f"* = the {'paper' if results.get('profile') == 'paper' else 'profile'}'s pick "
                 f"({_label(pick) if pick else '?'})", fontsize=10)
    return legible(fig)
