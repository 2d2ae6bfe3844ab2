"""Figures of the adaptive LED chapter: Pareto fronts and calibration, one panel per system."""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

__all__ = ["adaptive_pareto", "adaptive_calibration", "adaptive_switching"]


def _panels(n: int, height: float = 3.4):
    """One panel per system, two a row at the page's width (four in a row were ~190 px each)."""
    from .style import PAGE_WIDTH_IN, panel_grid

    rows, cols = panel_grid(n, 2)
    fig, axes = plt.subplots(rows, cols, figsize=(PAGE_WIDTH_IN if cols > 1 else PAGE_WIDTH_IN / 2 + 0.5,
                                                  height * rows), layout="constrained", squeeze=False)
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_axis_off()  # an empty slot of the last row
    return fig, axes[:n]


def _positive(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, np.nan)


def adaptive_pareto(studies: dict, error_labels: dict | None = None) -> Figure:
    """Error (x) against speed-up (y) of the fixed schedule over rho (circles, labelled
    with rho) and of the adaptive criterion over its thresholds (squares, labelled with the
    threshold), one panel per system. ``studies``: name -> :class:`ledlib.adaptive.Study`.
    Up and to the left is better; a zero error (the micro solver itself) is not drawn on
    the log axis."""
    from ..adaptive import pareto_front

    if not studies:
        raise ValueError("studies must hold at least one system's Study")
    fig, axes = _panels(len(studies))
    for ax, (name, st) in zip(axes, studies.items()):
        for pts, marker, color, label, tag in (
                (st.fixed, "o", "C0", r"fixed $\rho$", lambda p: "latent" if np.isinf(p.rho) else f"{p.rho:g}"),
                (st.adaptive, "s", "C3", "adaptive", lambda p: f"{p.criterion.spread_threshold:g}")):
            e, s = _positive([p.error for p in pts]), _positive([p.S for p in pts])
            ax.plot(e, s, marker, color=color, label=label, ms=6)
            front = pareto_front(e, s)
            ax.plot(e[front], s[front], "-", color=color, lw=1, alpha=0.7)
            for p, x, y in zip(pts, e, s):
                if np.isfinite(x) and np.isfinite(y):
                    ax.annotate(tag(p), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7, color=color)
        ax.set_xscale("log")
        ax.set_yscale("log")
        label = (error_labels or {}).get(name, st.error_kind.upper())
        ax.set_xlabel(f"forecast error ({label})")
        ax.set_ylabel("speed-up S")
        ax.set_title(name)
        ax.legend(fontsize=8)
    return fig


def adaptive_calibration(studies: dict) -> Figure:
    """Predicted spread (x) against realised latent error (y) of a latent forecast of the
    ensemble, per system: every step of every run (dots) and the means in bins of equal
    count with their 10-90 % range; the dashed line is error = spread. The title gives the
    rank correlation."""
    if not studies:
        raise ValueError("studies must hold at least one system's Study")
    fig, axes = _panels(len(studies))
    for ax, (name, st) in zip(axes, studies.items()):
        u, e = np.ravel(st.spread), np.ravel(st.latent_error)
        ok = np.isfinite(u) & np.isfinite(e) & (u > 0) & (e > 0)
        ax.plot(u[ok], e[ok], ".", color="0.6", ms=2, alpha=0.5, label="steps")
        c = st.calibration
        yerr = np.vstack([c["error"] - c["error_lo"], c["error_hi"] - c["error"]])
        ax.errorbar(c["spread"], c["error"], yerr=yerr, fmt="o-", color="C3", ms=4, capsize=2, label="binned mean")
        lo = np.nanmin(np.r_[u[ok], e[ok]]) if ok.any() else 1e-3
        hi = np.nanmax(np.r_[u[ok], e[ok]]) if ok.any() else 1.0
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="error = spread")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("ensemble spread (latent, training std units)")
        ax.set_ylabel("realised latent error")
        ax.set_title(f"{name}: rank correlation {float(c['rank_correlation']):.2f}")
        ax.legend(fontsize=8)
    return fig


def adaptive_switching(result, title: str = "") -> Figure:
    """One adaptive forecast over time: the phases (macro shaded), the spread the criterion
    read, and the comparison errors at the end of each micro block."""
    from ..forecast import MACRO

    t = np.asarray(result.step_times)
    fig, ax = plt.subplots(figsize=(8.0, 3.2), layout="constrained")  # the page width (style.PAGE_WIDTH_IN)
    macro = np.asarray(result.phases) == MACRO
    dt = result.coarse_dt
    edges = np.flatnonzero(np.r_[True, macro[1:] != macro[:-1], True])
    for a, b in zip(edges[:-1], edges[1:]):
        if macro[a]:
            ax.axvspan(t[a] - dt, t[b - 1], color="C0", alpha=0.15, lw=0)
    if result.spread is not None:
        u = result.spread.reshape(-1, result.n_steps)
        read = np.isfinite(u).any(axis=0)  # steps whose candidate the criterion looked at
        s = np.full(result.n_steps, np.nan)
        s[read] = np.nanmax(u[:, read], axis=0)
        ax.plot(t, s, ".-", color="C3", ms=3, label="spread (max over members)")
    if result.comparisons:
        ks = np.array([k for k, _ in result.comparisons])
        errs = np.array([float(np.max(e)) for _, e in result.comparisons])
        ax.plot(result.t_start + ks * dt, errs, "kx", label="comparison error")
    ax.set_yscale("log")
    ax.set_xlabel("t")
    ax.set_title(title or f"macro utilisation {result.macro_utilisation:.2f} (shaded: latent model)")
    ax.legend(fontsize=8)
    return fig
