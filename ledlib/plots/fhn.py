"""Figures of the FitzHugh–Nagumo chapter (paper §3.2, §8.3; Figures 6, 7, 30–35).

Each function draws one figure from arrays the chapter computed and returns it; none
computes a model or a metric itself.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from .style import PAGE_WIDTH_IN, block_means, paper_line, paper_value
from .systems import field_contour

__all__ = ["fhn_latent_dim_study", "fhn_prediction_contours", "fhn_prediction_surfaces", "fhn_mnad_bars",
           "fhn_multiscale_tradeoff", "fhn_nad_over_time", "fhn_paper_tradeoff"]

_SPECIES = ("u (activator)", "v (inhibitor)")


def _pair(truth, pred, name="truth"):
    truth, pred = np.asarray(truth, dtype=float), np.asarray(pred, dtype=float)
    if truth.ndim != 3 or truth.shape[1] != 2:
        raise ValueError(f"{name} must have shape (T, 2, n) (time, species u/v, node), got {truth.shape}")
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {pred.shape} must equal the {name} shape {truth.shape}")
    return truth, pred


def fhn_latent_dim_study(d_z, mse_ae, mse_vae=None, *, paper_claim: str | None = "FHN.latent_dim") -> Figure:
    """Test reconstruction MSE against the latent dimension (cf. Figure 30): (a) linear,
    (b) log10, for the autoencoder and, if given, the variational autoencoder; the paper's
    latent dimension (the scorecard's ``paper_claim``) dashed.

    ``d_z`` a sequence of latent sizes; ``mse_ae``/``mse_vae`` the MSEs at those sizes
    (``nan`` where a variant was not trained).
    """
    d_z = np.asarray(d_z)
    curves = {"AE": np.asarray(mse_ae, dtype=float)}
    if mse_vae is not None:
        curves["VAE"] = np.asarray(mse_vae, dtype=float)
    for name, c in curves.items():
        if c.shape != d_z.shape:
            raise ValueError(f"mse_{name.lower()} must have one value per d_z ({d_z.shape}), got {c.shape}")
    paper_dz = paper_value(paper_claim) if paper_claim else None
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.4), layout="constrained", sharex=True)
    for (name, c), marker in zip(curves.items(), "os"):
        ok = np.isfinite(c)
        axes[0].plot(d_z[ok], c[ok], marker=marker, ms=4, label=name)
        axes[1].plot(d_z[ok], np.log10(c[ok]), marker=marker, ms=4, label=name)
    axes[0].set_ylabel("test MSE (scaled units)")
    axes[1].set_ylabel(r"$\log_{10}$ test MSE")
    for ax, tag in zip(axes, "ab"):
        ax.set_xscale("log", base=2)
        ax.set_xticks(d_z, [str(int(d)) for d in d_z], rotation=90 if len(d_z) > 8 else 0)
        ax.minorticks_off()
        if paper_dz is not None:
            paper_line(ax, paper_dz, f"paper: $d_z$ = {paper_dz:g}", vertical=True)
        ax.set_xlabel(r"latent dimension $d_z$")
        ax.set_title(f"({tag})", loc="left", fontsize=9)
        ax.legend(fontsize=8)
    return fig


def fhn_prediction_contours(truth, pred, t, x) -> Figure:
    """Target, LED prediction and absolute error of u and v over space and time
    (cf. Figures 33 and 6B); ``truth``/``pred`` ``(T, 2, n)`` at times ``t`` on nodes ``x``.
    One column per species, rows target / prediction / error: three panels with their
    colourbars in one row were ~200 px each at the page's width."""
    truth, pred = _pair(truth, pred)
    fig, axes = plt.subplots(3, 2, figsize=(PAGE_WIDTH_IN, 7.6), layout="constrained", sharex=True, sharey=True)
    for col, name in enumerate(_SPECIES):
        y, yh = truth[:, col], pred[:, col]
        lo, hi = float(min(y.min(), yh.min())), float(max(y.max(), yh.max()))
        for row, (field, title) in enumerate(((y, "target"), (yh, "LED prediction"))):
            mesh = axes[row, col].pcolormesh(t, x, field.T, shading="auto", cmap="RdBu_r", vmin=lo, vmax=hi,
                                             rasterized=True)
            axes[row, col].set_title(f"{title}: {name}", fontsize=9)
        fig.colorbar(mesh, ax=axes[:2, col], pad=0.01, label=name.split()[0])
        field_contour(axes[2, col], np.abs(y - yh), t, x, "|error|", cmap="magma", symmetric=False)
        axes[2, col].set_title(f"absolute error: {name}", fontsize=9)
    for ax in axes.flat:
        ax.set_xlabel("t" if ax in axes[2] else "")
        ax.set_ylabel("x" if ax in axes[:, 0] else "")
    return fig


def fhn_prediction_surfaces(truth, pred, t, x, max_points: int = 60) -> Figure:
    """Surface plots of the target, the LED prediction and the absolute error of u and v
    (cf. Figure 32), one column per species; the grid is thinned to at most ``max_points``
    per axis for drawing."""
    truth, pred = _pair(truth, pred)
    t, x = np.asarray(t, dtype=float), np.asarray(x, dtype=float)
    st = max(1, math.ceil(len(t) / max_points))
    sx = max(1, math.ceil(len(x) / max_points))
    T, X = np.meshgrid(t[::st], x[::sx], indexing="ij")
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, 10.5), layout="constrained")
    for col, name in enumerate(_SPECIES):
        y, yh = truth[::st, col, ::sx], pred[::st, col, ::sx]
        for row, (field, title, cmap) in enumerate(((y, "target", "RdBu_r"), (yh, "LED prediction", "RdBu_r"),
                                                    (np.abs(y - yh), "absolute error", "magma"))):
            ax = fig.add_subplot(3, 2, 2 * row + col + 1, projection="3d")
            ax.plot_surface(T, X, field, cmap=cmap, linewidth=0, antialiased=False, rcount=len(T), ccount=len(X))
            ax.set_title(f"{title}: {name}", fontsize=9)
            ax.set_xlabel("t")
            ax.set_ylabel("x")
            for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
                axis.set_major_locator(plt.MaxNLocator(4))  # few ticks: they fit the panel at 9 px
            ax.set_box_aspect(None, zoom=0.85)  # room for the labels inside the panel
            ax.view_init(elev=30, azim=-60)
    return fig


def fhn_mnad_bars(paper_cspde: dict, ours_cspde: dict | None = None, led: dict | None = None,
                  true_pde: tuple | None = None) -> Figure:
    """MNAD of u (a) and v (b) per model, the paper's bars beside ours (cf. Figures 6A, 31).

    ``paper_cspde``: ``{variant: (mnad_u, mnad_v)}`` as plotted in the paper;
    ``ours_cspde``: the same variants measured here (``None``: not available, only the
    paper's bars are drawn; ``nan``: the learned PDE blew up, marked so); ``led``:
    ``{label: (mnad_u, mnad_v)}`` of our LED models; ``true_pde``: ``(mnad_u, mnad_v)`` of
    the true FHN PDE on the same grid (ours).
    Log scale: the models differ by orders of magnitude.
    """
    led = led or {}
    names = list(paper_cspde)
    # u above v, each across the page: side by side, a dozen rotated labels did not fit
    fig, axes = plt.subplots(2, 1, figsize=(PAGE_WIDTH_IN, 8.2), layout="constrained", sharey=True)
    w = 0.38
    for k, (ax, species) in enumerate(zip(axes, _SPECIES)):
        pos = np.arange(len(names), dtype=float)
        ax.bar(pos - (w / 2 if ours_cspde else 0), [paper_cspde[n][k] for n in names], w,
               color="0.7", edgecolor="0.3", hatch="//", label="CSPDE, paper")
        if ours_cspde:
            vals = np.array([ours_cspde.get(n, (np.nan, np.nan))[k] for n in names], dtype=float)
            ax.bar(pos + w / 2, vals, w, color="C0", label="CSPDE, ours")
            for p in pos[~np.isfinite(vals)]:  # a learned PDE whose integration blew up has no MNAD
                ax.text(p + w / 2, 0.02, "blew up", transform=ax.get_xaxis_transform(), rotation=90,
                        ha="center", va="bottom", fontsize=7, color="C0")
        labels = list(names)
        nxt = len(names)
        if true_pde is not None:
            ax.bar(nxt, true_pde[k], 2 * w, color="C2", label="true PDE (FD), ours")
            labels.append("true PDE")
            nxt += 1
        for i, (name, vals) in enumerate(led.items()):
            ax.bar(nxt + i, vals[k], 2 * w, color="C3", label="LED, ours" if i == 0 else None)
            labels.append(name)
        ax.set_xticks(np.arange(len(labels)), labels, rotation=45, ha="right", rotation_mode="anchor")
        ax.set_yscale("log")
        ax.set_title(f"({'ab'[k]}) MNAD of {species}", loc="left", fontsize=9)
        ax.grid(axis="y", which="both", alpha=0.3)
    # bars on a log axis: start them a decade boundary below the smallest value, so the
    # lowest bar keeps a visible height
    vals = [x for d in (paper_cspde, ours_cspde or {}, led) for pair in d.values() for x in pair]
    vals += list(true_pde or ())
    vals = [x for x in vals if np.isfinite(x) and x > 0]
    if vals:
        axes[0].set_ylim(bottom=10.0 ** math.floor(math.log10(min(vals)) - 0.3))
    for ax in axes:
        ax.set_ylabel("MNAD")
    handles, names_ = axes[0].get_legend_handles_labels()
    fig.legend(handles, names_, loc="outside upper center", ncol=4, fontsize=8, frameon=False)
    return fig


def _rho_label(rho: float) -> str:
    return "Latent" if math.isinf(rho) else f"{rho:g}"


def fhn_paper_tradeoff() -> dict:
    """The points the paper quotes for Figures 7 and 34, from the scorecard's registry:
    ``{rho: (mnad_u, speedup)}`` for latent propagation (``rho = inf``) and ``rho = 1``."""
    return {math.inf: (paper_value("FHN.mnad_latent_tf8000"), paper_value("FHN.speedup_latent")),
            1.0: (paper_value("FHN.mnad_rho1_tf8000"), paper_value("FHN.speedup_rho1"))}


def fhn_multiscale_tradeoff(rho, mnad_u, mnad_v, speedup, *, floor=None, paper="registry") -> Figure:
    """Error and speed-up against the macro-to-micro ratio ``rho = T_m / T_mu`` (cf. Figures
    7 and 34), two panels a row: (a) MNAD of u, (b) MNAD of v, (c) speed-up, (d) its
    logarithm (log axis).

    ``rho`` per variant (``inf`` for latent propagation), placed in increasing order;
    ``mnad_u``, ``mnad_v``: ``(n_variants, n_ic)`` per-IC values (mean and spread drawn) or
    ``(n_variants,)``; ``speedup`` ``(n_variants,)``. ``floor``: ``(mnad_u, mnad_v)`` of the
    micro solver restarted from the lifted initial conditions (drawn as a line).
    ``paper``: the points the paper quotes, ``{rho: (mnad_u, speedup)}`` (the paper quotes
    the activator's error only: drawn in (a)) or ``{rho: (mnad_u, mnad_v, speedup)}``;
    ``"registry"`` (default): :func:`fhn_paper_tradeoff`; ``None``: none.
    """
    if isinstance(paper, str):
        if paper != "registry":
            raise ValueError(f"paper must be a dict, None or 'registry', got {paper!r}")
        paper = fhn_paper_tradeoff()
    rho = np.asarray(rho, dtype=float)
    order = np.argsort(rho)
    pos = np.arange(len(rho))
    labels = [_rho_label(r) for r in rho[order]]
    where = {r: i for i, r in enumerate(rho[order])}
    pts = {}  # panel -> [(position, paper value)]
    for r, v in (paper or {}).items():
        if r not in where:
            continue
        if len(v) not in (2, 3):
            raise ValueError(f"paper[{r!r}] must be (mnad_u, speedup) or (mnad_u, mnad_v, speedup), got {v!r}")
        pts.setdefault(0, []).append((where[r], v[0]))
        if len(v) == 3:
            pts.setdefault(1, []).append((where[r], v[1]))
        for k in (2, 3):
            pts.setdefault(k, []).append((where[r], v[-1]))
    fig, grid = plt.subplots(2, 2, figsize=(PAGE_WIDTH_IN, 6.4), layout="constrained")
    axes = grid.ravel()
    for k, (ax, m) in enumerate(zip(axes[:2], (mnad_u, mnad_v))):
        m = np.asarray(m, dtype=float)
        m = m[:, None] if m.ndim == 1 else m
        m = m[order]
        mean = m.mean(axis=1)
        ax.plot(pos, mean, "o-", color="C0", label="LED, ours (mean over ICs)")
        if m.shape[1] > 1:
            ax.fill_between(pos, m.min(axis=1), m.max(axis=1), color="C0", alpha=0.2, label="min–max over ICs")
        if floor is not None:
            ax.axhline(floor[k], color="C2", ls="--", lw=1, label="LB restarted from lifted IC")
        ax.set_yscale("log")
        ax.set_ylabel("MNAD")
        ax.set_title(f"({'ab'[k]}) {_SPECIES[k]}", loc="left", fontsize=9)
    sp = np.asarray(speedup, dtype=float)[order]
    for ax, tag, log in ((axes[2], "c", False), (axes[3], "d", True)):
        ax.plot(pos, sp, "o-", color="C1", label="ours")
        ax.axhline(1.0, color="0.5", lw=0.8)
        if log:
            ax.set_yscale("log")
        ax.set_ylabel("speed-up S" + (" (log scale)" if log else ""))
        ax.set_title(f"({tag}) speed-up over the LB solver" + (", log scale" if log else ""), loc="left", fontsize=9)
    for k, ax in enumerate(axes):
        if pts.get(k):
            ax.plot(*zip(*pts[k]), "s", color="k", mfc="none", ms=8, mew=1.4, label="paper (quoted values)")
        ax.set_xticks(pos, labels)
        ax.set_xlabel(r"$\rho = T_m / T_\mu$")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return fig


def fhn_nad_over_time(t, nad_u: dict, nad_v: dict, *, max_points: int = 500) -> Figure:
    """NAD of u (a) and v (b) against time, averaged over initial conditions, one curve per
    variant (cf. Figure 35), one panel a row; ``nad_u``/``nad_v`` map a label to an array
    over ``t``. Curves of more than ``max_points`` times are drawn as block means (the x
    label says over how many steps)."""
    t = np.asarray(t, dtype=float)
    fig, axes = plt.subplots(2, 1, figsize=(PAGE_WIDTH_IN, 6.0), layout="constrained", sharex=True, sharey=True)
    k = 1
    for j, (ax, curves) in enumerate(zip(axes, (nad_u, nad_v))):
        for i, (label, c) in enumerate(curves.items()):
            c = np.asarray(c, dtype=float)
            if c.shape != t.shape:
                raise ValueError(f"NAD curve {label!r} has shape {c.shape}, expected one value per time {t.shape}")
            tm, cm, k = block_means(t, c, max_points)
            ax.plot(tm, cm, lw=0.9, color=f"C{i}", label=label)
        ax.set_yscale("log")
        ax.set_ylabel("NAD")
        ax.set_title(f"({'ab'[j]}) NAD of {_SPECIES[j]}, mean over ICs", loc="left", fontsize=9)
        ax.grid(alpha=0.3, which="both")
    axes[1].set_xlabel("t (time after the warm-up)" + (f"; means over {k} steps" if k > 1 else ""))
    axes[0].legend(fontsize=8, ncol=4)
    return fig
