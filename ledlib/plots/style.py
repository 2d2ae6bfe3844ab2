"""Legible at the page's width: every figure of :mod:`ledlib.plots` passes through
:func:`legible` before a chapter shows it.

The book's text column measures 848 px at a 1400 px window, and a PNG wider than it is
shrunk to it; figures were measured at about 780 px as a reader meets them (the column
less the figure's margins, or a narrower window), and that is the width the rules hold
at (:data:`COLUMN_PX`): a figure legible at 780 px is legible at 848. What a reader sees
of a text of ``s`` points in a figure ``w`` inches wide is then ``s / 72 * 780 / w`` px,
whatever the dpi: so the rule is on point sizes (at least 9 px as rendered), the dpi
only makes the pixels sharp (at least 150).

Figures are drawn :data:`PAGE_WIDTH_IN` inches wide (their own fonts then render at 9 px
or more without enlarging), with at most :data:`MAX_PANELS_PER_ROW` panels a row
(:func:`panel_grid` wraps more), and :func:`layout_report` measures all of it. Numbers
the paper gives for a figure come from the scorecard's registry
(:func:`paper_value`, :mod:`ledlib.reproduction`), drawn as artists labelled
``"paper"...`` (:data:`PAPER_STYLE`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import AutoLocator, MaxNLocator

__all__ = ["legible", "rendered_text_px", "layout_report", "panel_grid", "paper_value", "COLUMN_PX", "MIN_TEXT_PX",
           "MIN_DPI", "PAGE_WIDTH_IN", "MAX_PANELS_PER_ROW", "PAPER_STYLE", "paper_line", "block_means"]

COLUMN_PX = 780  # a figure as a reader sees it in the book's 848 px column at 1400 x 900
PAGE_WIDTH_IN = 8.0  # width of a full-width figure: 10 pt text renders at 13.5 px at 780 px
MAX_PANELS_PER_ROW = 3  # more side by side leaves each under ~250 px at the page's width
PAPER_STYLE = dict(color="k", ls="--", lw=1.1)  # the paper's numbers, drawn beside ours
MIN_TEXT_PX = 9.0
MIN_DPI = 150


def _axes_of(ax):
    """The x, y (and a 3-D panel's z) axes of ``ax``."""
    return [a for a in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)) if a is not None]


def _min_points(fig: Figure, column_px: float, min_px: float) -> float:
    shown_px = min(fig.get_figwidth() * fig.dpi, column_px)  # narrower figures are shown at their size
    return min_px * 72.0 * fig.get_figwidth() / shown_px


def rendered_text_px(fig: Figure, column_px: float = COLUMN_PX) -> float:
    """The smallest text of ``fig`` (labels, ticks, legends, titles) in px as the page shows it."""
    shown_px = min(fig.get_figwidth() * fig.dpi, column_px)
    scale = shown_px / fig.get_figwidth() / 72.0  # px per point on the page
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    for ax in fig.axes:  # tick labels are made when drawn: take the size they will get
        for axis in _axes_of(ax):
            if axis.get_visible() and axis.get_major_ticks():
                sizes.append(axis.get_major_ticks()[0].label1.get_fontsize())
    return min(sizes) * scale if sizes else float("inf")


def legible(fig: Figure, column_px: float = COLUMN_PX, min_px: float = MIN_TEXT_PX, min_dpi: int = MIN_DPI) -> Figure:
    """Make ``fig`` readable at the page's width (in place; returns it): dpi at least
    ``min_dpi``, every text at least ``min_px`` as rendered, and at most as many x ticks as
    fit the panel's width at that size (labels do not overlap)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not (column_px > 0 and min_px > 0 and min_dpi > 0):
        raise ValueError(f"column_px, min_px and min_dpi must be positive, got {column_px}, {min_px}, {min_dpi}")
    if fig.dpi < min_dpi:
        fig.set_dpi(min_dpi)
    pt = _min_points(fig, column_px, min_px)
    for text in fig.findobj(Text):
        if text.get_text().strip() and text.get_fontsize() < pt:
            text.set_fontsize(pt)
    for ax in fig.axes:
        for axis in _axes_of(ax):
            ticks = axis.get_major_ticks()
            if ticks and ticks[0].label1.get_fontsize() < pt:
                axis.set_tick_params(which="both", labelsize=pt)
        if getattr(ax, "name", "") == "rectilinear" and isinstance(ax.xaxis.get_major_locator(), AutoLocator) \
                and ax.get_xscale() == "linear":
            width_in = ax.get_position().width * fig.get_figwidth()
            # a tick label is ~4 characters of ~0.6 em; keep one label's width free between two
            ax.xaxis.set_major_locator(MaxNLocator(nbins=max(2, int(width_in / (5.0 * pt / 72.0))),
                                                   steps=[1, 2, 2.5, 5, 10]))
    return fig


def _is_panel(ax) -> bool:
    """A plotting panel (not a colourbar, an inset or an empty filler slot)."""
    if not ax.get_visible() or ax.get_label() in ("<colorbar>", "inset") or hasattr(ax, "_colorbar"):
        return False
    if not ax.axison and not (ax.lines or ax.patches or ax.collections or ax.texts or ax.images or ax.artists):
        return False
    return True


def layout_report(fig: Figure, column_px: float = COLUMN_PX) -> dict:
    """What a reader meets of ``fig`` at a column ``column_px`` wide: ``dpi``,
    ``min_text_px`` (:func:`rendered_text_px`), ``panels_per_row`` (the most panels that
    share a row; colourbars and insets are not panels), ``min_panel_px`` (the narrowest
    panel's width as shown) and ``rows`` (the number of panel rows)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    fig.canvas.draw()  # constrained layout places the axes when drawn
    shown_px = min(fig.get_figwidth() * fig.dpi, column_px)
    # window extents, in the figure's fraction: they hold for axes in subfigures too
    boxes = sorted((ax.get_window_extent().transformed(fig.transFigure.inverted())
                    for ax in fig.axes if _is_panel(ax)), key=lambda b: -(b.y0 + b.y1))
    rows: list[list] = []
    for b in boxes:  # a row: panels whose vertical extents overlap by half the smaller height
        for row in rows:
            r = row[0]
            if min(b.y1, r.y1) - max(b.y0, r.y0) > 0.5 * min(b.height, r.height):
                row.append(b)
                break
        else:
            rows.append([b])
    return {"dpi": float(fig.dpi), "min_text_px": float(rendered_text_px(fig, column_px)),
            "panels_per_row": max((len(r) for r in rows), default=0),
            "min_panel_px": float(min((b.width * shown_px for b in boxes), default=float("inf"))), "rows": len(rows)}


def panel_grid(n: int, max_per_row: int = 2) -> tuple[int, int]:
    """``(rows, columns)`` for ``n`` panels at most ``max_per_row`` a row, rows as full as
    they can be (4 -> 2 x 2, 3 at two a row -> 2 x 2 with one slot left)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer (panels), got {n!r}")
    if not isinstance(max_per_row, (int, np.integer)) or isinstance(max_per_row, bool) or max_per_row < 1:
        raise ValueError(f"max_per_row must be a positive integer, got {max_per_row!r}")
    cols = min(n, max_per_row)
    return -(-n // cols), cols


def paper_value(claim_id: str):
    """The paper's number for ``claim_id`` as the scorecard's registry holds it
    (:func:`ledlib.reproduction.claim`), so that a figure and the scorecard draw the same one;
    ``None`` where the paper gives no number."""
    from .. import reproduction

    return reproduction.claim(claim_id).paper


def paper_line(ax, value: float, label: str = "paper", *, vertical: bool = False):
    """The paper's ``value`` as a dashed black line across ``ax`` (vertical: at x = value),
    labelled ``label`` (which starts with "paper", so a legend and a test can find it)."""
    if not label.startswith("paper"):
        raise ValueError(f"label must start with 'paper', got {label!r}")
    if not (isinstance(value, (int, float, np.number)) and np.isfinite(value)):
        raise ValueError(f"value must be a finite number, got {value!r}")
    return (ax.axvline if vertical else ax.axhline)(float(value), label=label, zorder=4, **PAPER_STYLE)


def block_means(t, y, max_points: int):
    """A dense series ``y`` over ``t`` as the means over blocks of ``k`` consecutive steps,
    ``k`` the smallest that leaves at most ``max_points`` points: ``(t_mid, y_mean, k)``
    (``k = 1``: unchanged). A noisy error curve of thousands of steps drawn in a few hundred
    pixels is a solid band; its block means show the trend (the axis label says ``k``)."""
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"t and y must be 1-D of one length, got {t.shape} and {y.shape}")
    if not (isinstance(max_points, (int, np.integer)) and max_points >= 1):
        raise ValueError(f"max_points must be a positive integer, got {max_points!r}")
    k = -(-t.size // max_points)
    if k <= 1:
        return t, y, 1
    n = t.size // k * k  # a last partial block is dropped
    return t[:n].reshape(-1, k).mean(axis=1), y[:n].reshape(-1, k).mean(axis=1), k
