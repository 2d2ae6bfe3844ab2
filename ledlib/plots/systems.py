"""Figures of the benchmark-systems chapter (and field/particle helpers the others reuse)."""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from .style import PAGE_WIDTH_IN, block_means

__all__ = ["ks_contour", "fhn_initial_conditions", "fhn_densities", "particle_density_1d",
           "particle_snapshots_3d", "moments_over_time", "field_contour"]

def field_contour(ax, field, t, x, label, cmap="RdBu_r", symmetric=True, robust=False):
    """Space–time contour of ``field`` ``(T, n)`` with time on the horizontal axis.

    ``robust`` caps the colour scale at the 99.5th percentile, so that a few extreme
    values (a point source at t=0) do not wash out the rest.
    """
    field = np.asarray(field)
    if symmetric:
        vmax = float(np.abs(field).max()) or 1.0
        kw = {"vmin": -vmax, "vmax": vmax}
    elif robust:
        kw = {"vmin": 0.0, "vmax": float(np.percentile(field, 99.5)) or None}
    else:
        kw = {}
    mesh = ax.pcolormesh(t, x, field.T, shading="auto", cmap=cmap, rasterized=True, **kw)
    ax.set_xlabel("t")
    ax.set_ylabel("x")
    ax.figure.colorbar(mesh, ax=ax, label=label, pad=0.01)
    return mesh


def ks_contour(u, t, x, lyapunov_exponent: float | None = None) -> Figure:
    """Space–time evolution of a Kuramoto–Sivashinsky trajectory (cf. the paper's Figure 8A).

    With ``lyapunov_exponent`` the time axis is in Lyapunov times, as in the paper.
    """
    t = np.asarray(t)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.2), layout="constrained")
    tt = t * lyapunov_exponent if lyapunov_exponent else t
    field_contour(ax, u, tt, x, "u(x, t)")
    if lyapunov_exponent:
        ax.set_xlabel(r"t / $T^{\Lambda_1}$ (Lyapunov times)")
    return fig


def fhn_initial_conditions(x, ics, roles=None) -> Figure:
    """The activator and inhibitor initial conditions (cf. the paper's Figure 36).

    ``ics`` ``(k, 2, n)``; ``roles`` a label per IC ("train", "val", "test").
    """
    ics = np.asarray(ics)
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.6), layout="constrained", sharex=True)
    styles = {"train": "-", "val": "--", "test": ":"}
    for i, ic in enumerate(ics):
        role = roles[i] if roles is not None else None
        for ax, comp in zip(axes, ic):
            ax.plot(x, comp, color=f"C{i}", ls=styles.get(role, "-"), lw=1.6,
                    label=f"IC {i}" + (f" ({role})" if role else ""))
    axes[0].set_ylabel("activator u(x, 0)")
    axes[1].set_ylabel("inhibitor v(x, 0)")
    for ax in axes:
        ax.set_xlabel("x")
    axes[1].legend(fontsize=8, ncol=2)
    return fig


def fhn_densities(u, v, t, x) -> Figure:
    """Space–time evolution of the activator and inhibitor densities (cf. Figures 32–33)."""
    fig, axes = plt.subplots(2, 1, figsize=(PAGE_WIDTH_IN, 5.2), layout="constrained", sharex=True)
    field_contour(axes[0], u, t, x, "u (activator)")
    field_contour(axes[1], v, t, x, "v (inhibitor)", cmap="viridis", symmetric=False)
    axes[0].set_xlabel("")
    return fig


def particle_density_1d(positions, t, L: float = 1.0, bins: int = 40) -> Figure:
    """Density of 1-D particle positions over time, ``positions`` ``(T, N)`` or ``(T, N, 1)``.

    Shows the drift-driven motion of the cloud between the two walls.
    """
    pos = np.asarray(positions).reshape(len(t), -1)
    edges = np.linspace(-L / 2, L / 2, bins + 1)
    dens = np.stack([np.histogram(p, bins=edges, density=True)[0] for p in pos])
    centres = 0.5 * (edges[1:] + edges[:-1])
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.0), layout="constrained")
    field_contour(ax, dens, np.asarray(t), centres, "density", cmap="magma", symmetric=False, robust=True)
    ax.plot(t, pos.mean(axis=1), color="w", lw=1, label="mean position M1")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def particle_snapshots_3d(snapshots, times, L: float = 1.0, max_points: int = 400) -> Figure:
    """3-D particle configurations at a few times (cf. the paper's Figure 24), at most three
    panels a row (more wrap), each with labelled x, y, z axes; a cloud smaller than a tenth of
    the box (t = 0 of a point release: one dot) gets its own limits, stated in its title."""
    from .particles import _scatter3, _zoom, _zoom_note

    snapshots = np.asarray(snapshots)
    k = len(snapshots)
    if len(times) != k:
        raise ValueError(f"times must hold one time per snapshot ({k}), got {len(times)}")
    ncol = k if k <= 3 else (2 if k == 4 else 3)
    nrow = -(-k // ncol)
    width = min(PAGE_WIDTH_IN, 3.4 * ncol)
    fig = plt.figure(figsize=(width, width / ncol * nrow + 0.3), layout="constrained")
    for i, (cfg, t) in enumerate(zip(snapshots, times)):
        ax = fig.add_subplot(nrow, ncol, i + 1, projection="3d")
        lo, side, zoomed = _zoom([cfg], L)
        _scatter3(ax, cfg, "C0", s=2, alpha=0.8, max_points=max_points, L=L, limits=(lo, side))
        note = _zoom_note(side, zoomed, len(cfg), float(np.ptp(cfg, axis=0).max()) < 1e-12, L)
        ax.set_title(f"t = {t:g}{note}", fontsize=9)
    if snapshots.shape[1] > max_points:
        fig.suptitle(f"the first {max_points} of {snapshots.shape[1]} particles drawn", fontsize=9)
    return fig


def moments_over_time(t, m1, m2, labels=("M1 (mean)", "M2 (variance)"), *, max_points: int = 600,
                      window_points: int = 200) -> Figure:
    """First and second moments of particle positions against time, one line per dimension:
    (a, b) the whole record (more than ``max_points`` times drawn as block means, said in
    the x label) and, for a record longer than ``window_points`` samples, (c, d) its first
    ``window_points`` samples, where a fast oscillation that fills the whole-record panels
    can be followed."""
    m1, m2 = np.atleast_2d(np.asarray(m1).T).T, np.atleast_2d(np.asarray(m2).T).T
    t = np.asarray(t, dtype=float)
    if m1.shape[0] != t.size or m2.shape[0] != t.size:
        raise ValueError(f"m1 and m2 must hold one row per time ({t.size}), got {m1.shape[0]} and {m2.shape[0]}")
    if not (isinstance(window_points, int) and window_points >= 2):
        raise ValueError(f"window_points must be an integer >= 2, got {window_points!r}")
    windowed = t.size > window_points
    rows = 2 if windowed else 1
    fig, axes = plt.subplots(rows, 2, figsize=(PAGE_WIDTH_IN, 3.0 * rows), layout="constrained", squeeze=False)
    k = 1
    for c, (m, lab) in enumerate(zip((m1, m2), labels)):
        for d in range(m.shape[1]):
            name = f"x{d + 1}" if m.shape[1] > 1 else None
            tm, mm, k = block_means(t, m[:, d], max_points)
            axes[0, c].plot(tm, mm, lw=0.8, alpha=0.85, label=name)
            if windowed:
                axes[1, c].plot(t[:window_points], m[:window_points, d], lw=1.0, label=name)
        axes[0, c].set_xlabel("t" + (f" (means over {k} steps)" if k > 1 else ""))
        axes[0, c].set_ylabel(lab)
        axes[0, c].set_title(f"({'ab'[c]}) the whole record", fontsize=9, loc="left")
        if windowed:
            span = t[window_points - 1] - t[0]
            axes[1, c].set_xlabel(f"t (the first {span:g} time units)")
            axes[1, c].set_ylabel(lab)
            axes[1, c].set_title(f"({'cd'[c]}) the first {window_points} samples", fontsize=9, loc="left")
    if m1.shape[1] > 1:
        axes[-1, 0].legend(fontsize=8, ncol=m1.shape[1])
    return fig
