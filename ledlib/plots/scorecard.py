"""The scorecard's figure: ours against the paper's, claim by claim."""

from __future__ import annotations

import math

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

__all__ = ["scorecard_ratios"]

_COLOURS = {"matches": "#2a9d47", "differs": "#c8553d"}


def scorecard_ratios(rows: list[dict], error_factor: float | None = None) -> Figure:
    """Ours / paper on a log axis for every row with a number on both sides (rows of
    :func:`ledlib.reproduction.scorecard_rows`), coloured by verdict; the band is the
    error tolerance (a factor ``error_factor`` either way)."""
    from ..reproduction import ERROR_FACTOR, _number

    error_factor = ERROR_FACTOR if error_factor is None else error_factor
    if not (isinstance(error_factor, (int, float)) and error_factor >= 1):
        raise ValueError(f"error_factor must be a number >= 1, got {error_factor!r}")
    pts = []
    for r in rows:
        x, ref = _number(r.get("ours")), _number(r.get("paper"))
        if x is None or ref is None or not ref or not math.isfinite(x) or x <= 0 or ref <= 0:
            continue
        if r.get("verdict") not in _COLOURS:
            continue
        pts.append((r["id"], x / ref, r["verdict"]))
    # registered claims first, then the extra rows; one line per claim
    n = max(len(pts), 1)
    fig, ax = plt.subplots(figsize=(8, 0.24 * n + 1.2), layout="constrained")
    y = np.arange(len(pts))[::-1]
    ax.axvspan(1 / error_factor, error_factor, color="0.92", zorder=0)
    ax.axvline(1.0, color="0.4", lw=0.8)
    for yi, (cid, ratio, v) in zip(y, pts):
        ax.plot([1.0, ratio], [yi, yi], color=_COLOURS[v], lw=2.2, solid_capstyle="butt")
        ax.plot([ratio], [yi], "o", color=_COLOURS[v], ms=4)
    ax.set_yticks(y, [p[0] for p in pts], fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("ours / paper")
    ax.set_ylim(-0.8, len(pts) - 0.2)
    for v, c in _COLOURS.items():
        ax.plot([], [], color=c, lw=2.2, label=v)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    ax.grid(axis="x", which="major", color="0.85", lw=0.6)
    return fig
