"""Figures of the advection–diffusion chapters (paper §3.1, §8.1, §8.2; Figures 3–5, 16–29).

Each takes arrays a chapter computed (see :mod:`ledlib.particle_statistics` for the
ensemble statistics) and returns the :class:`~matplotlib.figure.Figure`.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .style import PAGE_WIDTH_IN, paper_line, paper_value

__all__ = [
    "particle_forecast", "latent_return_map", "moment_error_curves", "moment_error_summary",
    "particle_snapshots_compare", "latent_pca_density", "metastable_states", "latent_orbit", "peclet_study",
    "variant_label",
]

TRUE = "0.2"  # ground truth in every plot
LATENT_WINDOW_POINTS = 400  # a latent series longer than this shows its first 400 steps
ERROR_POINTS = 400  # an error series longer than this is drawn as block means (about one a px)
MICRO_SHADE = "0.88"  # background where the micro solver runs


def variant_label(T_m: float | None, T_mu: float) -> str:
    """``"latent"`` for ``T_mu = 0``, else ``"rho = T_m/T_mu"``."""
    if not T_mu:
        return "latent"
    return f"ρ = {T_m / T_mu:g}"


def _shade_micro(ax, t, phases):
    """Grey background over the forecast steps that ran on the micro solver."""
    if phases is None:
        return
    micro = np.asarray(phases) == "micro"
    if not micro.any():
        return
    t = np.asarray(t, dtype=float)
    dt = (t[-1] - t[0]) / max(1, len(t) - 1)
    edges = np.flatnonzero(np.diff(np.r_[0, micro.astype(int), 0]))
    for a, b in zip(edges[::2], edges[1::2]):
        ax.axvspan(t[a] - dt, t[b - 1], color=MICRO_SHADE, lw=0, zorder=0)


def particle_forecast(runs: dict, *, n_latent: int = 3) -> Figure:
    """One LED forecast per block of two rows against a true run (Figures 16, 18, 21, 27).

    ``runs``: label -> dict with ``t (T,)`` (time after the warm-up), ``z_pred (T, d_z)``,
    optional ``z_true (T, d_z)`` (the true run encoded), ``wd (T,)`` and optional ``l1 (T,)``
    (distance between the predicted and true particle distributions), ``m1_err``, ``m2_err``
    (absolute errors of the mean and variance of the positions) and optional ``phases``
    (``"macro"``/``"micro"`` per step; micro steps are shaded). Panels, two a row: (a) the
    first ``n_latent`` latent components, (b) WD (and L1-NHD) of the positions, (c) |M1
    error|, (d) |M2 error|. A latent series longer than :data:`LATENT_WINDOW_POINTS` shows
    its first steps (said in the title); error series longer than :data:`ERROR_POINTS` are
    drawn as block means (said in the x label).
    """
    if not runs:
        raise ValueError("runs must hold at least one forecast")
    if not (isinstance(n_latent, int) and n_latent >= 1):
        raise ValueError(f"n_latent must be a positive integer, got {n_latent!r}")
    from matplotlib.lines import Line2D

    from .style import block_means

    n = len(runs)
    # four panels in one row leave each ~140 px at the page's width: two rows of two per run
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, 5.2 * n + 0.2), layout="constrained")
    subs = np.atleast_1d(fig.subfigures(n, 1))
    for sub, (label, d) in zip(subs, runs.items()):
        t = np.asarray(d["t"], dtype=float)
        axes = sub.subplots(2, 2, sharex=False)
        ax = axes.ravel()
        z = np.asarray(d["z_pred"]).reshape(len(t), -1)
        # a latent state oscillating over a long horizon draws as a solid block: show a window
        # of its start, long enough to see the oscillation (the error panels keep the horizon)
        keep, window = slice(None), None
        if len(t) > LATENT_WINDOW_POINTS:
            keep = slice(0, LATENT_WINDOW_POINTS)
            window = t[LATENT_WINDOW_POINTS - 1] - t[0]
        for c in range(min(n_latent, z.shape[1])):
            ax[0].plot(t[keep], z[keep, c], color=f"C{c}", lw=0.9)
            if d.get("z_true") is not None:
                zt = np.asarray(d["z_true"]).reshape(len(t), -1)
                ax[0].plot(t[keep], zt[keep, c], color=f"C{c}", lw=0.8, ls=":")
        ax[0].set_ylabel("latent state")
        k = 1
        for a, key, colour, name in ((ax[1], "wd", "C3", "WD"), (ax[1], "l1", "C4", "L1-NHD"),
                                     (ax[2], "m1_err", "C0", None), (ax[3], "m2_err", "C2", None)):
            if d.get(key) is None:
                continue
            tm, ym, k = block_means(t, d[key], ERROR_POINTS)
            a.plot(tm, ym, color=colour, lw=0.9, label=name)
        ax[1].set_ylabel("distribution error")
        ax[2].set_ylabel("|M1 error| (mean)")
        ax[3].set_ylabel("|M2 error| (variance)")
        for a in ax:
            _shade_micro(a, t, d.get("phases"))
            a.set_xlim(t[0], t[-1])
        for a in ax[1:]:
            a.set_yscale("log")
            a.set_xlabel("t after the warm-up" + (f" (means over {k} steps)" if k > 1 else ""))
        ax[0].set_xlabel("t after the warm-up")
        if window is not None:
            ax[0].set_xlim(t[0], t[0] + window)
        # the legend shows the curves' own colour (the first component's), solid LED, dotted truth
        style = [Line2D([], [], color="C0", lw=0.9, label="LED")]
        if d.get("z_true") is not None:
            style.append(Line2D([], [], color="C0", lw=0.8, ls=":", label="true run, encoded"))
        ax[0].legend(handles=style, fontsize=8, loc="best")
        ax[1].legend(fontsize=8, loc="best")
        titles = ["(a) latent state" + (f", first {window:g} time units" if window is not None else ""),
                  "(b) WD" + (" and L1-NHD" if d.get("l1") is not None else "") + " of the positions",
                  "(c) error of the mean M1", "(d) error of the variance M2"]
        for a, title in zip(ax, titles):
            a.set_title(title, fontsize=9, loc="left")
        micro = d.get("phases") is not None and (np.asarray(d["phases"]) == "micro").any()
        sub.suptitle(f"LED, {label}" + (" (micro-solver steps shaded)" if micro else ""), fontsize=10)
    return fig


def latent_return_map(z, x_true, x_pred, L: float = 1.0, bins: int = 60, z_true=None) -> Figure:
    """Figure 17: (a) ``z_{t+1}`` against ``z_t`` of a 1-D latent trajectory ``z (T,)`` of
    LED, coloured by the density of points, with the same map of encoded true trajectories
    ``z_true (n_traj, T)`` (grey dots) if given; (b) histograms of all true and predicted
    positions."""
    z = np.asarray(z, dtype=float).ravel()
    if z.size < 3:
        raise ValueError(f"z must hold at least 3 latent states, got {z.size}")
    fig, (a, b) = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.4), layout="constrained")
    H, xe, ye = np.histogram2d(z[:-1], z[1:], bins=bins)
    mesh = a.pcolormesh(xe, ye, np.ma.masked_equal(H.T, 0), norm=LogNorm(), cmap="viridis", rasterized=True)
    fig.colorbar(mesh, ax=a, label="number of steps")
    lo, hi = xe[0], xe[-1]
    if z_true is not None:
        zt = np.atleast_2d(np.asarray(z_true, dtype=float))
        a.plot(zt[:, :-1].ravel(), zt[:, 1:].ravel(), ".", ms=1.5, color=TRUE, alpha=0.5,
               label="true trajectories, encoded")
        a.legend(fontsize=7, loc="upper left", markerscale=4)
        lo, hi = min(lo, zt.min()), max(hi, zt.max())
    a.plot([lo, hi], [lo, hi], color="0.6", lw=0.7, ls=":")
    a.set_xlabel("$z_t$")
    a.set_ylabel("$z_{t+1}$")
    a.set_title("(a) latent return map", fontsize=9, loc="left")
    edges = np.linspace(-L / 2, L / 2, bins + 1)
    b.hist(np.ravel(x_true), bins=edges, density=True, histtype="stepfilled", color="0.8", label="true")
    b.hist(np.ravel(x_pred), bins=edges, density=True, histtype="step", color="C1", lw=1.5, label="LED")
    b.set_xlabel("particle position x")
    b.set_ylabel("density")
    b.legend(fontsize=8)
    b.set_title("(b) positions over all times", fontsize=9, loc="left")
    return fig


def moment_error_curves(times, errors: dict, floor: dict | None = None, *, smooth: int = 1) -> Figure:
    """Figures 19, 25 (3A–B): WD and L1-NHD between the predicted and true distributions
    of M1 and M2 over runs, against time, one line per LED variant.

    ``errors``: label -> ``{"M1": {"wd", "l1"}, "M2": {...}}`` curves; ``floor`` the same
    for truth against truth (dashed). ``smooth``: moving-average window, for readability.
    """
    t = np.asarray(times, dtype=float)

    def sm(y):
        y = np.asarray(y, dtype=float)
        if smooth <= 1 or y.size < smooth:
            return t, y
        k = np.ones(smooth) / smooth
        return t[smooth // 2: smooth // 2 + y.size - smooth + 1], np.convolve(y, k, mode="valid")

    fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH_IN, 5.6), layout="constrained", sharex=True)
    for c, mom in enumerate(("M1", "M2")):
        for r, (key, name) in enumerate((("wd", "WD"), ("l1", "L1-NHD"))):
            ax = axes[r, c]
            for i, (label, err) in enumerate(errors.items()):
                ax.plot(*sm(err[mom][key]), color=f"C{i}", lw=1.0, label=label)
            if floor is not None:
                ax.plot(*sm(floor[mom][key]), color=TRUE, lw=1.0, ls="--", label="truth vs truth")
            ax.set_yscale("log")
            ax.set_ylabel(f"{name} of {mom}")
            ax.set_title(f"({'ab'[c] if r == 0 else 'cd'[c]}) {name}, distribution of {mom} over runs", fontsize=9,
                         loc="left")
    for ax in axes[1]:
        ax.set_xlabel("t after the warm-up" + (f" (moving mean over {smooth} points)" if smooth > 1 else ""))
    axes[0, 0].legend(fontsize=8, ncol=2)
    return fig


def moment_error_summary(summary: dict, speedup: dict | None = None, rho: dict | None = None, *,
                         system: str | None = None) -> Figure:
    """Figures 20, 26 (3C–D, 3H): time-averaged errors per LED variant as bars, the
    truth-against-truth floor as a line, and the speed-up against rho.

    ``summary``: label -> ``{"M1": {"wd", "l1"}, "M2": {...}}`` (numbers), with the key
    ``"floor"`` for the floor; ``speedup``: label -> S; ``rho``: label -> rho (``inf`` for
    latent), the x position of each speed-up. ``system`` (``"AD1"``, ``"AD3"``): the paper's
    latent speed-up of that system (the scorecard's ``<system>.speedup_latent``) is drawn
    beside ours, labelled "paper".
    """
    labels = [k for k in summary if k != "floor"]
    floor = summary.get("floor")
    paper_S = None
    if system is not None:
        if not isinstance(system, str):
            raise TypeError(f"system must be a claim prefix such as 'AD1' or 'AD3', got {type(system).__name__}")
        paper_S = paper_value(f"{system}.speedup_latent")
    # two bars a row (the WD pair, the L1 pair), the speed-up across the last row: five panels
    # in one row are too narrow to read at the page's width
    rows = 3 if speedup else 2
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, 3.0 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, 2)
    axes = [fig.add_subplot(grid[r, c]) for r in range(2) for c in range(2)]
    x = np.arange(len(labels))
    panels = [("M1", "wd", "WD"), ("M2", "wd", "WD"), ("M1", "l1", "L1-NHD"), ("M2", "l1", "L1-NHD")]
    for ax, (mom, key, name), tag in zip(axes, panels, "abcd"):
        vals = [summary[k][mom][key] for k in labels]
        ax.bar(x, vals, color=[f"C{i}" for i in range(len(labels))], width=0.7)
        if floor is not None:
            ax.axhline(floor[mom][key], color=TRUE, ls="--", lw=1, label="truth vs truth")
        ax.set_xticks(x, labels, rotation=35 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center")
        if key == "wd":
            ax.set_yscale("log")
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi * 3.0)  # head room for the legend above the bars
        else:
            ax.set_ylim(0, 2.05)  # L1-NHD lies in [0, 2]
        ax.set_title(f"({tag}) {name} of {mom}", fontsize=9, loc="left")
    if floor is not None:
        axes[0].legend(fontsize=8, loc="upper left")
    if speedup:
        ax = fig.add_subplot(grid[2, :])
        finite = {k: r for k, r in (rho or {}).items() if k in speedup and math.isfinite(r)}
        if finite:
            ks = sorted(finite, key=finite.get)
            ax.plot([finite[k] for k in ks], [speedup[k] for k in ks], marker="o", color="C0", label="multiscale, ours")
        for k, s in speedup.items():
            if rho is None or not math.isfinite(rho.get(k, math.inf)):
                ax.axhline(s, color="C3", ls=":", lw=1.2, label=f"{k}, ours: S = {s:.3g}")
        if paper_S is not None:
            c = _claim(f"{system}.speedup_latent")
            bound = "at least " if c.compare == "at_least" else "about "
            paper_line(ax, paper_S, f"paper, latent: S {bound}{paper_S:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        if finite:
            ax.set_xticks(sorted(finite.values()), [f"{r:g}" for r in sorted(finite.values())])
            ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.set_xlabel("ρ = T_m / T_μ")
        ax.set_ylabel("speed-up S")
        ax.set_title("(e) speed-up over the micro solver", fontsize=9, loc="left")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 10.0)  # head room for the legend
        ax.legend(fontsize=8, loc="upper left", ncol=2)
    return fig


def _claim(claim_id: str):
    from .. import reproduction

    return reproduction.claim(claim_id)


ZOOM_BELOW = 0.1  # a cloud smaller than this fraction of the box gets its own limits


def _zoom(cfgs, L: float):
    """Limits for a 3-D panel: the box ``[-L/2, L/2]`` per axis, or, when every cloud in
    ``cfgs`` fits in a cube of side ``ZOOM_BELOW * L`` (a point release at t = 0 is one dot
    in the box), a cube around them (side at least ``0.02 L``): ``(lo (3,), side, zoomed)``."""
    pts = np.concatenate([np.asarray(c, dtype=float).reshape(-1, 3) for c in cfgs])
    if not len(pts):
        return np.full(3, -L / 2), float(L), False
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    spread = float((hi - lo).max())
    if spread >= ZOOM_BELOW * L:
        return np.full(3, -L / 2), float(L), False
    side = max(1.4 * spread, 0.02 * L)
    return 0.5 * (lo + hi) - side / 2, side, True


def _scatter3(ax, cfg, color, s=2, alpha=0.6, max_points=400, L=1.0, limits=None):
    """Particles of ``cfg (N, 3)`` with labelled x, y, z axes; ``limits`` ``(lo, side)`` from
    :func:`_zoom`, else the domain's box."""
    cfg = np.asarray(cfg)[:max_points]
    ax.scatter(cfg[:, 0], cfg[:, 1], cfg[:, 2], s=s, color=color, alpha=alpha, depthshade=False)
    lo, side = limits if limits is not None else (np.full(3, -L / 2), float(L))
    # the box's (or the zoomed cube's) ends and centre as ticks, so a cloud's size and place can
    # be read; y and z leave out their lower end, which meets x's upper and y's upper end
    for i, (setlim, setticks) in enumerate(((ax.set_xlim, ax.set_xticks), (ax.set_ylim, ax.set_yticks),
                                            (ax.set_zlim, ax.set_zticks))):
        a, b = float(lo[i]), float(lo[i] + side)
        setlim(a, b)
        ticks = [a, (a + b) / 2, b] if i == 0 else [(a + b) / 2, b]
        setticks(ticks, [f"{v:.2g}" if abs(v) > 1e-12 * side else "0" for v in ticks])
    ax.set_xlabel("x", labelpad=1)
    ax.set_ylabel("y", labelpad=1)
    ax.set_zlabel("z", labelpad=-1)
    ax.tick_params(pad=-2)
    ax.set_box_aspect(None, zoom=0.85)  # room for the z label inside the panel


def _zoom_note(side, zoomed, n_points, spread_zero, L):
    """The title's line for a zoomed panel (empty if not zoomed)."""
    if not zoomed:
        return ""
    return f"\nzoomed {L / side:.3g}x" + (f": all {n_points} at one point" if spread_zero else "")


def particle_snapshots_compare(times, truth, preds: dict, L: float = 1.0, max_points: int = 400) -> Figure:
    """Figures 24, 28 (3E–F): 3-D particle configurations at a few times after the warm-up,
    one row per LED variant (colour) over the true run (grey). A time at which every cloud
    is small (t = 0 of a point release) gets its own limits, stated in its title.

    ``truth (k, N, 3)`` and ``preds[label] (k, N, 3)`` at ``times (k,)``.
    """
    truth = np.asarray(truth)
    k = len(times)
    if truth.shape[0] != k:
        raise ValueError(f"truth must hold one configuration per time ({k}), got {truth.shape[0]}")
    ncol = k if k <= 3 else (2 if k == 4 else 3)  # more times wrap: 3-D panels stay large enough to read
    per = -(-k // ncol)  # rows per variant
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN / ncol * per * len(preds) + 0.6), layout="constrained")
    for r, (label, cfgs) in enumerate(preds.items()):
        for c, t in enumerate(times):
            ax = fig.add_subplot(per * len(preds), ncol, r * per * ncol + c + 1, projection="3d")
            pred = np.asarray(cfgs)[c]
            lo, side, zoomed = _zoom([truth[c], pred], L)
            _scatter3(ax, truth[c], TRUE, s=1, alpha=0.35, max_points=max_points, L=L, limits=(lo, side))
            _scatter3(ax, pred, f"C{r + 1}", s=2, alpha=0.7, max_points=max_points, L=L, limits=(lo, side))
            both = np.concatenate([truth[c], pred])
            note = _zoom_note(side, zoomed, len(pred), float(np.ptp(both, axis=0).max()) < 1e-12, L)
            ax.set_title(f"{label}, t = {t:g}{note}", fontsize=9)
    n = truth.shape[1]
    fig.suptitle("LED in colour over the true run in grey" +
                 (f"; the first {max_points} of {n} particles drawn" if n > max_points else ""), fontsize=9)
    return fig


def _density(ax, a, b, bins=80):
    H, xe, ye = np.histogram2d(a, b, bins=bins)
    return ax.pcolormesh(xe, ye, np.ma.masked_equal(H.T, 0), norm=LogNorm(), cmap="viridis", rasterized=True)


def latent_pca_density(z_pca, x_true, x_pred, L: float = 1.0, bins: int = 50) -> Figure:
    """Figure 22 (and 4C): the first three PCA modes of LED's latent trajectory against each
    other, coloured by density ((a) 2 vs 1, (b) 3 vs 1, (c) 2 vs 3), and (d) the true and
    predicted distributions of the particle positions per axis."""
    zp = np.asarray(z_pca, dtype=float)
    if zp.ndim != 2 or zp.shape[1] < 3:
        raise ValueError(f"z_pca must be (T, >= 3), got {zp.shape}")
    fig, grid = plt.subplots(2, 2, figsize=(PAGE_WIDTH_IN, 6.4), layout="constrained")  # 2 x 2 at the page width
    axes = grid.ravel()
    for ax, (i, j), tag in zip(axes, ((0, 1), (0, 2), (2, 1)), "abc"):
        mesh = _density(ax, zp[:, i], zp[:, j])
        ax.set_xlabel(f"PCA mode {i + 1}")
        ax.set_ylabel(f"PCA mode {j + 1}")
        ax.set_title(f"({tag})", fontsize=9, loc="left")
    fig.colorbar(mesh, ax=axes[2], label="number of steps")
    edges = np.linspace(-L / 2, L / 2, bins + 1)
    xt, xp = np.asarray(x_true), np.asarray(x_pred)
    for d in range(xt.shape[-1]):
        axes[3].hist(xt[..., d].ravel(), bins=edges, density=True, histtype="step", color=f"C{d}", lw=2.2,
                     alpha=0.35, label=f"$x_{d + 1}$ true")
        axes[3].hist(xp[..., d].ravel(), bins=edges, density=True, histtype="step", color=f"C{d}", lw=1,
                     label=f"$x_{d + 1}$ LED")
    axes[3].set_xlabel("position")
    axes[3].set_ylabel("density")
    axes[3].legend(fontsize=7, ncol=2)
    axes[3].set_title("(d) particle positions", fontsize=9, loc="left")
    return fig


def metastable_states(z_pca, labels, centres, configs, eigenvalues=None, L: float = 1.0, *,
                      paper_claim: str | None = "AD3.n_metastable_states") -> Figure:
    """Figures 4 and 23: spectral clusters of the latent PCA modes and the configuration the
    decoder produces at each cluster centre.

    Top, two a row: (A) mode 2 against mode 1, coloured by density, the centres marked; (B)
    mode 2 against mode 3 coloured by cluster; (C) the leading eigenvalues of the affinity
    (the eigengap chooses the number of clusters; the paper's number, the scorecard's
    ``paper_claim``, dashed beside ours). Bottom, three a row: one decoded configuration
    ``configs (k, N, 3)`` per cluster centre.
    """
    zp = np.asarray(z_pca, dtype=float)
    labels = np.asarray(labels)
    centres = np.asarray(centres, dtype=float)
    k = centres.shape[0]
    if len(configs) != k:
        raise ValueError(f"configs must hold one configuration per cluster centre ({k}), got {len(configs)}")
    paper_k = paper_value(paper_claim) if paper_claim else None
    per_row = 3  # decoded clouds: three a row, so each 3-D panel is ~250 px wide on the page
    rows = -(-k // per_row)
    n_top = 3 if eigenvalues is not None else 2
    top_rows = -(-n_top // 2)
    top_h, cloud_h = 3.0 * top_rows, PAGE_WIDTH_IN / per_row * rows
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, top_h + cloud_h + 0.3), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[top_h, cloud_h])
    axes = np.atleast_1d(top.subplots(top_rows, 2)).ravel()
    for ax in axes[n_top:]:
        ax.set_axis_off()  # an empty slot of the two-a-row grid
    mesh = _density(axes[0], zp[:, 0], zp[:, 1])
    top.colorbar(mesh, ax=axes[0], label="number of steps")
    for c in range(k):
        axes[0].plot(*centres[c, :2], marker="X", ms=9, color=f"C{c % 10}", mec="k")
        axes[0].annotate(str(c + 1), centres[c, :2], xytext=(5, 4), textcoords="offset points", fontsize=9)
    axes[0].set_xlabel("PCA mode 1")
    axes[0].set_ylabel("PCA mode 2")
    axes[0].set_title("(A) density and cluster centres", fontsize=9, loc="left")
    colours = np.array([f"C{c % 10}" for c in range(k)])
    axes[1].scatter(zp[:, 2], zp[:, 1], c=colours[labels], s=2, alpha=0.5, rasterized=True)
    axes[1].set_xlabel("PCA mode 3")
    axes[1].set_ylabel("PCA mode 2")
    axes[1].set_title("(B) spectral clusters", fontsize=9, loc="left")
    if eigenvalues is not None:
        lam = np.asarray(eigenvalues, dtype=float)
        axes[2].plot(np.arange(1, lam.size + 1), lam, marker="o", color="0.3")
        axes[2].axvline(k + 0.5, color="C3", ls=":", lw=1.2, label=f"ours: largest gap, k = {k}")
        if paper_k is not None:
            paper_line(axes[2], paper_k + 0.5, f"paper: k = {paper_k:g}", vertical=True)
        axes[2].xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        axes[2].set_xlabel("index")
        axes[2].set_ylabel("eigenvalue of $D^{-1/2} A D^{-1/2}$")
        axes[2].legend(fontsize=8)
        axes[2].set_title("(C) eigengap", fontsize=9, loc="left")
    for c in range(k):
        ax = bottom.add_subplot(rows, min(k, per_row), c + 1, projection="3d")
        _scatter3(ax, configs[c], f"C{c % 10}", s=2, alpha=0.7, L=L)
        ax.set_title(f"cluster {c + 1}", fontsize=9)
    return fig


def latent_orbit(z_true_pca, orbit_pca, eig_model=None, eig_true=None) -> Figure:
    """Figure 22 against the truth: (a, b) the encoded true run in the latent PCA modes
    (density) with the model's closed orbit ``orbit_pca (p, >= 3)`` drawn over it, (c) the
    leading eigenvalues of the affinity of the model's run and of the true run (a gap
    after the k-th would mean k metastable states)."""
    zt, orb = np.asarray(z_true_pca, dtype=float), np.asarray(orbit_pca, dtype=float)
    if zt.ndim != 2 or zt.shape[1] < 3 or orb.ndim != 2 or orb.shape[1] < 3:
        raise ValueError(f"z_true_pca and orbit_pca must be (T, >= 3), got {zt.shape} and {orb.shape}")
    n_top = 3 if eig_model is not None or eig_true is not None else 2
    mosaic = [["a", "b"], ["c", "c"]] if n_top == 3 else [["a", "b"]]
    panels = plt.figure(figsize=(PAGE_WIDTH_IN, 3.4 * len(mosaic)), layout="constrained").subplot_mosaic(mosaic)
    axes = [panels[k] for k in "abc"[:n_top]]
    fig = axes[0].figure
    closed = np.vstack([orb, orb[:1]])
    for ax, (i, j), tag in zip(axes, ((0, 1), (2, 1)), "ab"):
        mesh = _density(ax, zt[:, i], zt[:, j], bins=60)
        ax.plot(closed[:, i], closed[:, j], color="C3", lw=0.9, marker="o", ms=2.2, label="LED's orbit")
        ax.set_xlabel(f"PCA mode {i + 1}")
        ax.set_ylabel(f"PCA mode {j + 1}")
        ax.set_title(f"({tag}) true run, encoded", fontsize=9, loc="left")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.colorbar(mesh, ax=axes[1], label="number of samples")
    if n_top == 3:
        for lam, lab, col in ((eig_model, "LED's run", "C3"), (eig_true, "true run", "0.3")):
            if lam is not None:
                lam = np.asarray(lam, dtype=float)
                axes[2].plot(np.arange(1, lam.size + 1), lam, marker="o", ms=3, color=col, label=lab)
        axes[2].xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        axes[2].set_xlabel("index")
        axes[2].set_ylabel("eigenvalue of $D^{-1/2} A D^{-1/2}$")
        axes[2].legend(fontsize=7)
        axes[2].set_title("(c) eigenvalues (a gap after the k-th: k states)", fontsize=9, loc="left")
    return fig


def peclet_study(wd_m1: dict, wd_m2: dict, speedup: dict, floor_m1: dict | None = None,
                 floor_m2: dict | None = None) -> Figure:
    """Figures 5 and 29: (A, B) time-averaged WD of the M1 / M2 distributions per Péclet
    number, (C) speed-up against rho per Péclet number.

    ``wd_m1``, ``wd_m2``, ``floor_*``: Pe -> number; ``speedup``: Pe -> {rho: S}
    (``rho = inf`` for latent propagation, drawn at the right end).
    """
    pes = sorted(wd_m1)
    # (A) and (B) side by side, the speed-up across the row below: three in a row were ~200 px each
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, 6.2), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])]
    x = np.arange(len(pes))
    for ax, wd, fl, name, tag in ((axes[0], wd_m1, floor_m1, "M1", "A"), (axes[1], wd_m2, floor_m2, "M2", "B")):
        ax.bar(x, [wd[p] for p in pes], color=[f"C{i}" for i in range(len(pes))], width=0.6)
        if fl:
            ax.scatter(x, [fl[p] for p in pes], marker="_", s=600, color=TRUE, label="truth vs truth", zorder=3)
            ax.legend(fontsize=8)
        ax.set_xticks(x, [f"Pe = {p:g}" for p in pes])
        ax.set_yscale("log")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 2.5)  # head room for the legend
        ax.set_ylabel(f"WD of {name} (time mean)")
        ax.set_title(f"({tag}) latent LED, {name}", fontsize=9, loc="left")
    ax = axes[2]
    rhos = sorted({r for s in speedup.values() for r in s if math.isfinite(r)})
    x_latent = 4 * max(rhos) if rhos else 1.0  # where latent propagation (rho = inf) is drawn
    for i, p in enumerate(pes):
        s = speedup.get(p, {})
        finite = sorted(r for r in s if math.isfinite(r))
        xs = finite + ([x_latent] if math.inf in s else [])
        ys = [s[r] for r in finite] + ([s[math.inf]] if math.inf in s else [])
        ax.plot(xs, ys, marker="o", color=f"C{i}", label=f"Pe = {p:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(rhos + [x_latent], [f"{r:g}" for r in rhos] + ["latent"])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlabel("ρ = T_m / T_μ")
    ax.set_ylabel("speed-up S")
    ax.legend(fontsize=8)
    ax.set_title("(C) speed-up over the micro solver", fontsize=9, loc="left")
    return fig
