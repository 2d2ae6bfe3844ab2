"""Legible at the page's width: every figure of :mod:`ledlib.plots` passes through
:func:`legible` before a chapter shows it.

The book's text column is about 850 px wide at a 1400 px window, and a PNG wider than it
is shrunk to it. What a reader sees of a text of ``s`` points in a figure ``w`` inches wide
is then ``s / 72 * 850 / w`` px, whatever the dpi: so the rule is on point sizes (at least
9 px as rendered), the dpi only makes the pixels sharp (at least 150).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import AutoLocator, MaxNLocator

__all__ = ["legible", "rendered_text_px", "COLUMN_PX", "MIN_TEXT_PX", "MIN_DPI"]

COLUMN_PX = 848  # the text column of the book at 1400 x 900 (measured in Chromium)
MIN_TEXT_PX = 9.0
MIN_DPI = 150


def _min_points(fig: Figure, column_px: float, min_px: float) -> float:
    shown_px = min(fig.get_figwidth() * fig.dpi, column_px)  # narrower figures are shown at their size
    return min_px * 72.0 * fig.get_figwidth() / shown_px


def rendered_text_px(fig: Figure, column_px: float = COLUMN_PX) -> float:
    """The smallest text of ``fig`` (labels, ticks, legends, titles) in px as the page shows it."""
    shown_px = min(fig.get_figwidth() * fig.dpi, column_px)
    scale = shown_px / fig.get_figwidth() / 72.0  # px per point on the page
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    for ax in fig.axes:  # tick labels are made when drawn: take the size they will get
        for axis in (ax.xaxis, ax.yaxis):
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
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            ticks = axis.get_major_ticks()
            if ticks and ticks[0].label1.get_fontsize() < pt:
                ax.tick_params(axis=name, which="both", labelsize=pt)
        if getattr(ax, "name", "") == "rectilinear" and isinstance(ax.xaxis.get_major_locator(), AutoLocator) \
                and ax.get_xscale() == "linear":
            width_in = ax.get_position().width * fig.get_figwidth()
            # a tick label is ~4 characters of ~0.6 em; keep one label's width free between two
            ax.xaxis.set_major_locator(MaxNLocator(nbins=max(2, int(width_in / (5.0 * pt / 72.0))),
                                                   steps=[1, 2, 2.5, 5, 10]))
    return fig
