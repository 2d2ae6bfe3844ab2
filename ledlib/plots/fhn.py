"""Figures of the FitzHugh–Nagumo chapter (paper §3.2, §8.3; Figures 6, 7, 30–35).

Each function draws one figure from arrays the chapter computed and returns it; none
computes a model or a metric itself.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from .systems import field_contour

__all__ = ["fhn_latent_dim_study", "fhn_prediction_contours", "fhn_prediction_surfaces", "fhn_mnad_bars",
           "fhn_multiscale_tradeoff", "fhn_nad_over_time"]

_SPECIES = ("u (activator)", "v (inhibitor)")


def _pair(truth, pred, name="truth"):
    truth, pred = np.asarray(truth, dtype=float), np.asarray(pred, dtype=float)
    if truth.ndim != 3 or truth.shape[1] != 2:
        raise ValueError(f"{name} must have shape (T, 2, n) (time, species u/v, node), got {truth.shape}")
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {pred.shape} must equal the {name} shape {truth.shape}")
    return truth, pred


def fhn_latent_dim_study(d_z, mse_ae, mse_vae=None) -> Figure:
    """Test reconstruction MSE against the latent dimension (cf. Figure 30): (a) linear,
    (b) log10, for the autoencoder and, if given, the variational autoencoder.

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
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained", sharex=True)
    for (name, c), marker in zip(curves.items(), "os"):
        ok = np.isfinite(c)
        axes[0].plot(d_z[ok], c[ok], marker=marker, ms=4, label=name)
        axes[1].plot(d_z[ok], np.log10(c[ok]), marker=marker, ms=4, label=name)
    axes[0].set_ylabel("test MSE (scaled units)")
    axes[1].set_ylabel(r"$\log_{10}$ test MSE")
    for ax, tag in zip(axes, "ab"):
        ax.set_xscale("log", base=2)
        ax.set_xticks(d_z, [str(int(d)) for d in d_z], fontsize=7, rotation=90 if len(d_z) > 10 else 0)
        ax.minorticks_off()
        ax.set_xlabel(r"latent dimension $d_z$")
        ax.set_title(f"({tag})", loc="left", fontsize=9)
        ax.legend(fontsize=8)
    return fig


def fhn_prediction_contours(truth, pred, t, x) -> Figure:
    """Target, LED prediction and absolute error of u and v over space and time
    (cf. Figures 33 and 6B); ``truth``/``pred`` ``(T, 2, n)`` at times ``t`` on nodes ``x``."""
    truth, pred = _pair(truth, pred)
    fig, axes = plt.subplots(2, 3, figsize=(12, 5.4), layout="constrained", sharex=True, sharey=True)
    for row, name in enumerate(_SPECIES):
        y, yh = truth[:, row], pred[:, row]
        lo, hi = float(min(y.min(), yh.min())), float(max(y.max(), yh.max()))
        for col, (field, title) in enumerate(((y, "target"), (yh, "LED prediction"))):
            mesh = axes[row, col].pcolormesh(t, x, field.T, shading="auto", cmap="RdBu_r", vmin=lo, vmax=hi,
                                             rasterized=True)
            axes[row, col].set_title(f"{title}: {name}", fontsize=9)
        fig.colorbar(mesh, ax=axes[row, :2], pad=0.01, label=name.split()[0])
        field_contour(axes[row, 2], np.abs(y - yh), t, x, "|error|", cmap="magma", symmetric=False)
        axes[row, 2].set_title(f"absolute error: {name}", fontsize=9)
    for ax in axes.flat:
        ax.set_xlabel("t" if ax in axes[1] else "")
        ax.set_ylabel("x" if ax in axes[:, 0] else "")
    return fig


def fhn_prediction_surfaces(truth, pred, t, x, max_points: int = 60) -> Figure:
    """Surface plots of the target, the LED prediction and the absolute error of u and v
    (cf. Figure 32); the grid is thinned to at most ``max_points`` per axis for drawing."""
    truth, pred = _pair(truth, pred)
    t, x = np.asarray(t, dtype=float), np.asarray(x, dtype=float)
    st = max(1, math.ceil(len(t) / max_points))
    sx = max(1, math.ceil(len(x) / max_points))
    T, X = np.meshgrid(t[::st], x[::sx], indexing="ij")
    fig = plt.figure(figsize=(12, 6.6), layout="constrained")
    for row, name in enumerate(_SPECIES):
        y, yh = truth[::st, row, ::sx], pred[::st, row, ::sx]
        for col, (field, title, cmap) in enumerate(((y, "target", "RdBu_r"), (yh, "LED prediction", "RdBu_r"),
                                                    (np.abs(y - yh), "absolute error", "magma"))):
            ax = fig.add_subplot(2, 3, 3 * row + col + 1, projection="3d")
            ax.plot_surface(T, X, field, cmap=cmap, linewidth=0, antialiased=False, rcount=len(T), ccount=len(X))
            ax.set_title(f"{title}: {name}", fontsize=9)
            ax.set_xlabel("t", fontsize=8)
            ax.set_ylabel("x", fontsize=8)
            ax.tick_params(labelsize=7)
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
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained", sharey=True)
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
        ax.set_xticks(np.arange(len(labels)), labels, rotation=60, ha="right", fontsize=7)
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
    axes[0].set_ylabel("MNAD")
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _rho_label(rho: float) -> str:
    return "Latent" if math.isinf(rho) else f"{rho:g}"


def fhn_multiscale_tradeoff(rho, mnad_u, mnad_v, speedup, *, floor=None, paper=None) -> Figure:
    """Error and speed-up against the macro-to-micro ratio ``rho = T_m / T_mu`` (cf. Figures
    7 and 34): (a) MNAD of u, (b) MNAD of v, (c) speed-up (log scale).

    ``rho`` per variant (``inf`` for latent propagation), placed in increasing order;
    ``mnad_u``, ``mnad_v``: ``(n_variants, n_ic)`` per-IC values (mean and spread drawn) or
    ``(n_variants,)``; ``speedup`` ``(n_variants,)``. ``floor``: ``(mnad_u, mnad_v)`` of the
    micro solver restarted from the lifted initial conditions (drawn as a line);
    ``paper``: ``{rho: (mnad, speedup)}`` points the paper quotes.
    """
    rho = np.asarray(rho, dtype=float)
    order = np.argsort(rho)
    pos = np.arange(len(rho))
    labels = [_rho_label(r) for r in rho[order]]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained")
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
        if paper:
            pr = [(list(rho[order]).index(r), v[0]) for r, v in paper.items() if r in set(rho)]
            if pr:
                ax.plot(*zip(*pr), "s", color="k", mfc="none", ms=7, label="paper (approx.)")
        ax.set_yscale("log")
        ax.set_ylabel("MNAD")
        ax.set_title(f"({'ab'[k]}) {_SPECIES[k]}", loc="left", fontsize=9)
    sp = np.asarray(speedup, dtype=float)[order]
    axes[2].plot(pos, sp, "o-", color="C1", label="ours")
    if paper:
        pr = [(list(rho[order]).index(r), v[1]) for r, v in paper.items() if r in set(rho)]
        if pr:
            axes[2].plot(*zip(*pr), "s", color="k", mfc="none", ms=7, label="paper (approx.)")
    axes[2].axhline(1.0, color="0.5", lw=0.8)
    axes[2].set_yscale("log")
    axes[2].set_ylabel("speed-up S")
    axes[2].set_title("(c) speed-up over the LB solver", loc="left", fontsize=9)
    for ax in axes:
        ax.set_xticks(pos, labels)
        ax.set_xlabel(r"$\rho = T_m / T_\mu$")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    return fig


def fhn_nad_over_time(t, nad_u: dict, nad_v: dict) -> Figure:
    """NAD of u (a) and v (b) against time, averaged over initial conditions, one curve per
    variant (cf. Figure 35); ``nad_u``/``nad_v`` map a label to an array over ``t``."""
    t = np.asarray(t, dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.3), layout="constrained", sharey=True)
    for k, (ax, curves) in enumerate(zip(axes, (nad_u, nad_v))):
        for i, (label, c) in enumerate(curves.items()):
            c = np.asarray(c, dtype=float)
            if c.shape != t.shape:
                raise ValueError(f"NAD curve {label!r} has shape {c.shape}, expected one value per time {t.shape}")
            ax.plot(t, c, lw=0.9, color=f"C{i}", label=label)
        ax.set_yscale("log")
        ax.set_xlabel("t (time after the warm-up)")
        ax.set_title(f"({'ab'[k]}) NAD of {_SPECIES[k]}, mean over ICs", loc="left", fontsize=9)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("NAD")
    axes[1].legend(fontsize=7, ncol=2)
    return fig
