"""Figures of the multiscale trade-offs chapter: error and speed-up against rho, all systems."""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from ..forecast import speedup_bound
from .style import PAGE_WIDTH_IN, paper_value

__all__ = ["tradeoff_curves"]

_CLAIM_PREFIX = {"AD1D": "AD1", "AD3D": "AD3", "FHN": "FHN", "KS": "KS"}  # system name -> scorecard ID prefix


def _x(points, rho_latent):
    """Effective rho per point (macro over micro steps actually run), latent propagation
    drawn at ``rho_latent``."""
    return np.array([rho_latent if np.isinf(p.rho_effective) else p.rho_effective for p in points])


def tradeoff_curves(sweeps: dict, error_labels: dict | None = None, *, paper: bool = True) -> Figure:
    """Error (left) and speed-up (right) against rho = T_m / T_mu, one line per system.

    rho is the effective ratio of macro to micro steps run over the horizon, which is below
    the nominal T_m / T_mu when the horizon ends inside a macro phase.

    ``sweeps``: system name -> list of :class:`ledlib.forecast.SweepPoint`. Latent
    propagation (rho = inf) is drawn at the right end, labelled "latent". The dashed lines
    are the cost model S(rho) = (1 + rho) / (1 + rho / S_latent) with each system's
    measured latent speed-up. ``paper``: the paper's latent speed-up of each system the
    scorecard registry holds (``<system>.speedup_latent``) as an open diamond in the
    system's colour at the latent end.
    """
    finite = [p.rho_effective for pts in sweeps.values() for p in pts
              if np.isfinite(p.rho_effective) and p.rho_effective > 0]
    rho_max = max(finite) if finite else 1.0
    rho_latent = 10 ** (np.ceil(np.log10(rho_max)) + 1)
    fig, (ax_e, ax_s) = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.8), layout="constrained")
    drawn_paper = False
    for k, (name, pts) in enumerate(sweeps.items()):
        pts = sorted(pts, key=lambda p: _x([p], rho_latent)[0])
        x = _x(pts, rho_latent)
        label = name if not error_labels else f"{name} ({error_labels.get(name, '')})"
        ax_e.plot(x, [p.error for p in pts], "o-", color=f"C{k}", label=label)
        ax_s.plot(x, [p.S for p in pts], "o-", color=f"C{k}", label=name)
        latent = [p.S for p in pts if np.isinf(p.rho_effective)]
        if latent:
            grid = np.logspace(np.log10(min(x)) - 0.3, np.log10(rho_max) + 0.3, 100)
            ax_s.plot(grid, speedup_bound(grid, latent[0]), "--", color=f"C{k}", lw=0.8)
        prefix = _CLAIM_PREFIX.get(name)
        S_paper = paper_value(f"{prefix}.speedup_latent") if (paper and prefix) else None
        if S_paper is not None:
            ax_s.plot([rho_latent], [S_paper], "D", color=f"C{k}", mfc="none", ms=9, mew=1.5,
                      label=f"paper: {name} latent, S = {S_paper:g}")
            drawn_paper = True
    for ax in (ax_e, ax_s):
        ax.set_xscale("log")
        ax.set_yscale("log")
        decades = 10.0 ** np.arange(np.floor(np.log10(min(finite + [1.0]))), np.log10(rho_latent))
        ax.set_xticks([*decades, rho_latent], [*(f"{d:g}" for d in decades), "latent"])
        ax.set_xlabel(r"effective $\rho$ = macro / micro steps")
    ax_e.set_ylabel("forecast error")
    ax_s.set_ylabel("speed-up S")
    ax_e.legend(fontsize=8)
    ax_s.plot([], [], "k--", lw=0.8, label=r"$(1+\rho)/(1+\rho/S_{latent})$")
    # one legend entry for the paper's markers (in black: each is drawn in its system's colour)
    handles, names = ax_s.get_legend_handles_labels()
    keep = [(h, n) for h, n in zip(handles, names) if not n.startswith("paper")]
    if drawn_paper:
        keep.append((plt.Line2D([], [], ls="", marker="D", color="k", mfc="none", ms=8, mew=1.5),
                     "paper, latent (system's colour)"))
    ax_s.legend(*zip(*keep), fontsize=8)
    return fig
