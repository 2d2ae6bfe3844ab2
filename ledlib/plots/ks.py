"""Figures of the Kuramoto–Sivashinsky chapter (paper §3.3, §8.4; Figures 8, 37–45).

Each function takes arrays the chapter has already computed (forecasts, errors, PCA
energies) and draws them; the only computations here are the ones a plot needs
(spectra, histograms and derivative densities of the fields it is given, through
:mod:`ledlib.metrics`).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ..metrics import joint_density_ux_uxx, power_spectrum
from .style import PAGE_WIDTH_IN, paper_line, paper_value

__all__ = [
    "ks_latent_dim_study", "ks_pca_energy", "ks_reconstruction", "ks_forecast", "ks_statistics",
    "ks_multiscale_summary", "ks_rho_label",
]

TRUE = "0.15"  # ground truth in every line plot
PRED = "C1"  # LED's latent forecast


def ks_rho_label(rho: float) -> str:
    """``"latent"`` for ``rho = inf`` (T_mu = 0), else the ratio ``T_m / T_mu`` as printed."""
    return "latent" if math.isinf(rho) else f"{rho:g}"


def _time_axis(t, lyapunov_exponent):
    t = np.asarray(t, dtype=float)
    if lyapunov_exponent:
        return t * lyapunov_exponent, r"t / $T^{\Lambda_1}$ (Lyapunov times)"
    return t, "t"


def _mesh(ax, field, t, x, label, *, vmin=None, vmax=None, cmap="RdBu_r"):
    mesh = ax.pcolormesh(t, x, np.asarray(field).T, shading="auto", cmap=cmap, vmin=vmin, vmax=vmax,
                         rasterized=True)
    ax.set_ylabel("x")
    ax.figure.colorbar(mesh, ax=ax, label=label, pad=0.01)
    return mesh


def _phase_strip(ax, t, phases):
    """A thin bar above the contours: black where the micro solver runs."""
    micro = (np.asarray(phases) == "micro").astype(float)[None, :]
    dt = (t[-1] - t[0]) / max(1, len(t) - 1)
    ax.imshow(micro, aspect="auto", cmap="Greys", vmin=0, vmax=1, interpolation="nearest",
              extent=(t[0] - dt / 2, t[-1] + dt / 2, 0, 1))
    ax.set_yticks([])
    ax.set_ylabel("micro", rotation=0, ha="right", va="center", fontsize=8)
    ax.tick_params(labelbottom=False)


# ------------------------------------------------------------------ Figure 37 / 45
def ks_latent_dim_study(results: dict, *, pca=None, chosen: int | None = None, log_only: bool = False,
                        paper_claim: str | None = "KS.latent_dim") -> Figure:
    """Test MSE of the autoencoders against the latent dimension (Figure 37).

    ``results``: label -> ``(d_z values, test MSE)``, e.g. ``{"AE": (...), "VAE": (...)}``.
    ``pca``: optional ``(k values, test MSE)`` of the rank-k PCA reconstruction (Figure 45's
    comparison); ``chosen``: a latent dimension to mark (ours). The paper's latent
    dimension (the scorecard's ``paper_claim``) is dashed. Panels (a) MSE and (b) log10 MSE,
    or only the log panel with ``log_only``.
    """
    n = 1 if log_only else 2
    paper_dz = paper_value(paper_claim) if paper_claim else None
    fig, axes = plt.subplots(1, n, figsize=(min(PAGE_WIDTH_IN, 4.6 * n), 3.4), layout="constrained", squeeze=False)
    axes = axes[0]
    series = dict(results)
    if pca is not None:
        series = {"PCA (k modes)": pca, **series}
    for i, ax in enumerate(axes):
        use_log = log_only or i == 1
        for j, (label, (d, mse)) in enumerate(series.items()):
            d, mse = np.asarray(d), np.asarray(mse, dtype=float)
            y = np.log10(mse) if use_log else mse
            style = dict(color="0.45", ls="--", marker=".") if label.startswith("PCA") else dict(marker="o", ms=4)
            ax.plot(d, y, label=label, **style)
        if chosen is not None:
            ax.axvline(chosen, color="C3", lw=1.2, ls=":", label=f"ours: $d_z$ = {chosen}")
        if paper_dz is not None:
            paper_line(ax, paper_dz, f"paper: $d_z$ = {paper_dz:g}", vertical=True)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("latent dimension $d_z$ (PCA: number of modes k)" if pca is not None else "latent dimension $d_z$")
        ax.set_ylabel("log$_{10}$ test MSE" if use_log else "test MSE")
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
        if use_log and pca is not None:
            # PCA becomes exact at full rank (log MSE ~ -30): keep the networks' range readable
            lowest = min(np.log10(np.asarray(m, dtype=float)).min() for _, m in results.values())
            ax.set_ylim(bottom=lowest - 2.0)
        if not log_only:
            ax.set_title("(b) log scale" if use_log else "(a) linear scale", fontsize=9)
    axes[-1].legend(fontsize=8)
    return fig


# ------------------------------------------------------------------ Figure 43
def ks_pca_energy(energy, k: int = 8, *, paper_claim: str | None = "KS.pca_energy_8_modes") -> Figure:
    """Energy of each PCA mode (a) and the cumulative energy (b), the first ``k`` marked;
    the paper's energy of its first 8 modes (the scorecard's ``paper_claim``) dashed in (b)."""
    energy = np.asarray(energy, dtype=float)
    modes = np.arange(1, energy.size + 1)
    cum = np.cumsum(energy)
    paper_e = paper_value(paper_claim) if paper_claim else None
    fig, (a, b) = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.4), layout="constrained")
    colours = np.where(modes <= k, "C0", "0.7")
    a.bar(modes, energy, color=colours, width=0.8)
    a.set_yscale("log")
    a.set_xlabel("PCA mode")
    a.set_ylabel("fraction of the energy")
    a.set_title(f"(a) per mode (first {k} in colour)", fontsize=9)
    b.plot(modes, cum, marker=".", color="C0")
    b.axvline(k, color="0.6", lw=0.8, ls=":")
    b.axhline(cum[k - 1], color="0.6", lw=0.8, ls=":")
    b.annotate(f"ours, {k} modes: {cum[k - 1]:.4f}", (k, cum[k - 1]), xytext=(8, -18), textcoords="offset points",
               fontsize=8)
    if paper_e is not None:
        paper_line(b, paper_e, f"paper: 8 modes hold {100 * paper_e:g} %")
        b.legend(fontsize=8, loc="lower right")
    b.set_xscale("log", base=2)
    b.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    b.set_xlabel("number of modes")
    b.set_ylabel("cumulative energy")
    b.set_title("(b) cumulative", fontsize=9)
    return fig


# ------------------------------------------------------------------ Figures 44, 45
def ks_reconstruction(u, u_rec, t, x, *, z=None, lyapunov_exponent: float | None = None,
                      rec_label: str = "reconstruction", z_label: str = "z") -> Figure:
    """A trajectory ``u (T, n)``, its reconstruction, the pointwise error ``|u - u_rec|`` and,
    if given, the reduced coordinates ``z (T, k)`` over time (Figures 44, 45)."""
    u, u_rec = np.asarray(u), np.asarray(u_rec)
    tt, xlabel = _time_axis(t, lyapunov_exponent)
    rows = 4 if z is not None else 3
    fig, axes = plt.subplots(rows, 1, figsize=(PAGE_WIDTH_IN, 1.8 * rows + 0.4), layout="constrained", sharex=True)
    vmax = float(np.abs(u).max())
    _mesh(axes[0], u, tt, x, "u", vmin=-vmax, vmax=vmax)
    _mesh(axes[1], u_rec, tt, x, "$u_{rec}$", vmin=-vmax, vmax=vmax)
    err = np.abs(u - u_rec)
    _mesh(axes[2], err, tt, x, "$|u - u_{rec}|$", vmin=0, cmap="magma")
    axes[0].set_title("true u(x, t)", fontsize=9)
    axes[1].set_title(f"{rec_label}", fontsize=9)
    rmse = float(np.sqrt(np.mean((u - u_rec) ** 2)))
    axes[2].set_title(f"pointwise error (RMSE {rmse:.3g})", fontsize=9)
    if z is not None:
        z = np.asarray(z)
        for i in range(z.shape[1]):
            axes[3].plot(tt, z[:, i], lw=0.8)
        axes[3].set_ylabel(z_label)
        axes[3].set_title(f"the {z.shape[1]} reduced coordinates", fontsize=9)
        # keep the line panel as wide as the contours above (they carry a colourbar)
        fig.colorbar(plt.cm.ScalarMappable(), ax=axes[3], pad=0.01).ax.set_visible(False)
    axes[-1].set_xlabel(xlabel)
    return fig


# ------------------------------------------------------------------ Figures 8A-C, 38-40
def ks_forecast(t, x, u_true, u_pred, *, lyapunov_exponent: float | None = None, z=None, phases=None,
                title: str = "LED") -> Figure:
    """True field, LED's forecast and their absolute difference over the forecast, with
    LED's latent state ``z (T, d_z)`` (Figure 8B) or, for multiscale runs, a strip that is
    black where the micro solver ran (``phases``: "macro"/"micro" per time)."""
    u_true, u_pred = np.asarray(u_true), np.asarray(u_pred)
    tt, xlabel = _time_axis(t, lyapunov_exponent)
    n_rows = 3 + (z is not None)
    ratios = ([0.12] if phases is not None else []) + [1] * n_rows
    fig, axes = plt.subplots(len(ratios), 1, figsize=(PAGE_WIDTH_IN, 1.8 * n_rows + 0.6), layout="constrained",
                             sharex=True, gridspec_kw={"height_ratios": ratios})
    if phases is not None:
        _phase_strip(axes[0], tt, phases)
        cb = fig.colorbar(plt.cm.ScalarMappable(), ax=axes[0], pad=0.01)
        cb.ax.set_visible(False)
        axes = axes[1:]
    vmax = float(np.abs(u_true).max())
    _mesh(axes[0], u_true, tt, x, "u", vmin=-vmax, vmax=vmax)
    axes[0].set_title("true u(x, t) (micro solver)", fontsize=9)
    row = 1
    if z is not None:
        z = np.asarray(z)
        _mesh(axes[1], z, tt, np.arange(1, z.shape[1] + 1), "z", cmap="PuOr_r",
              vmin=-float(np.abs(z).max()), vmax=float(np.abs(z).max()))
        axes[1].set_ylabel("latent\ncomponent")
        axes[1].set_title(f"latent state of LED ($d_z$ = {z.shape[1]})", fontsize=9)
        row = 2
    _mesh(axes[row], u_pred, tt, x, r"$\tilde u$", vmin=-vmax, vmax=vmax)
    axes[row].set_title(f"{title} forecast", fontsize=9)
    _mesh(axes[row + 1], np.abs(u_true - u_pred), tt, x, r"$|u - \tilde u|$", vmin=0, vmax=2 * vmax,
          cmap="magma")
    axes[row + 1].set_title("absolute difference", fontsize=9)
    axes[-1].set_xlabel(xlabel)
    return fig


# ------------------------------------------------------------------ Figures 8D-E, 41
def ks_statistics(u_true, u_pred, L: float, *, bins: int = 60, labels=("true", "LED")) -> Figure:
    """Long-term statistics of predicted against true fields ``(..., n)`` (Figure 41):
    (a) power spectra, (b) distributions of the values of u, (c, d) joint densities of
    ``(u_x, u_xx)`` of the truth and of the prediction on one grid and colour scale."""
    u_true, u_pred = np.asarray(u_true, dtype=float), np.asarray(u_pred, dtype=float)
    fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH_IN, 6.4), layout="constrained")
    (a, b), (c, d) = axes
    for u, lab, col in ((u_true, labels[0], TRUE), (u_pred, labels[1], PRED)):
        k, P = power_spectrum(u, L)
        a.semilogy(k[1:], P[1:], marker=".", color=col, label=lab, lw=1.2)
    a.set_xlabel("wavenumber k")
    a.set_ylabel("power P(k)")
    a.set_title("(a) power spectrum", fontsize=9)
    a.legend(fontsize=8)
    lo, hi = float(u_true.min()), float(u_true.max())
    pad = 0.1 * (hi - lo)
    edges = np.linspace(lo - pad, hi + pad, bins + 1)
    for u, lab, col in ((u_true, labels[0], TRUE), (u_pred, labels[1], PRED)):
        h, _ = np.histogram(np.clip(u.ravel(), edges[0], edges[-1]), bins=edges, density=True)
        b.stairs(h, edges, color=col, label=lab, lw=1.4)
    b.set_xlabel("u")
    b.set_ylabel("density")
    b.set_title("(b) distribution of the state values", fontsize=9)
    b.legend(fontsize=8)
    # one grid from the truth's derivative range (slightly widened), shared by both panels
    ref, ex, ey = joint_density_ux_uxx(u_true, L, bins=bins)
    wx, wy = 0.1 * (ex[-1] - ex[0]), 0.1 * (ey[-1] - ey[0])
    rng = [[ex[0] - wx, ex[-1] + wx], [ey[0] - wy, ey[-1] + wy]]
    dens = [joint_density_ux_uxx(u, L, bins=bins, range=rng) for u in (u_true, u_pred)]
    positive = np.concatenate([h[h > 0].ravel() for h, _, _ in dens])
    norm = LogNorm(vmin=float(np.percentile(positive, 1)), vmax=float(positive.max()))
    for ax, (h, ex, ey), lab, tag in zip((c, d), dens, labels, "cd"):
        mesh = ax.pcolormesh(ex, ey, np.ma.masked_equal(h, 0).T, norm=norm, cmap="viridis", rasterized=True)
        ax.set_xlabel("$u_x$")
        ax.set_ylabel("$u_{xx}$")
        ax.set_title(f"({tag}) density of ($u_x$, $u_{{xx}}$): {lab}", fontsize=9)
    fig.colorbar(mesh, ax=[c, d], label="density", pad=0.01)
    return fig


# ------------------------------------------------------------------ Figures 8F, 8H, 42
def ks_multiscale_summary(t, nad: dict, wd: dict, speedup: dict, *, lyapunov_exponent: float,
                          threshold: float = 0.1, wd_floor: float | None = None,
                          speedup_fine: dict | None = None, paper: bool = True) -> Figure:
    """LED's variants side by side (Figure 42; Figure 8F, H): (a) mean NAD against time in
    Lyapunov times (across the top), (b) WD between the predicted and true distributions of
    u, (c) speed-up.

    ``nad``, ``wd``, ``speedup``: rho -> value (``inf`` = latent propagation), ``nad``
    values curves on ``t`` (time since the forecast started). ``wd_floor``: WD between two
    independent halves of the truth (the sampling noise). ``speedup_fine``: rho -> speed-up
    against a finer-stepping solver, drawn beside ``speedup``. ``paper``: draw the paper's
    numbers from the scorecard registry beside ours: its "NAD under ``threshold`` for at
    least ``KS.nad_lyapunov_times`` Lyapunov times" in (a) and its latent speed-ups
    (``KS.speedup_latent``, ``KS.speedup_latent_dt2.5e-4``) in (c).
    """
    order = sorted(wd, key=lambda r: (math.isinf(r), r))
    pos = np.arange(len(order))
    names = [ks_rho_label(r) for r in order]
    # three panels in a row were ~215 px each: the time series across the top, two below
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, 6.6), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    a, b, c = fig.add_subplot(grid[0, :]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    tt = np.asarray(t, dtype=float) * lyapunov_exponent
    cmap = plt.get_cmap("viridis")
    finite = [r for r in order if not math.isinf(r)]
    for r in order:
        if r not in nad:
            continue
        if math.isinf(r):
            style = dict(color=PRED, lw=1.8, label="latent")
        else:
            i = finite.index(r)
            style = dict(color=cmap(i / max(1, len(finite) - 1) * 0.9), lw=1.0, label=rf"$\rho$ = {r:g}")
        a.plot(tt, nad[r], **style)
    a.axhline(threshold, color="0.5", ls="--", lw=0.8, label=f"NAD = {threshold:g}")
    if paper:
        paper_line(a, paper_value("KS.nad_lyapunov_times"),
                   f"paper: NAD < {threshold:g} for {paper_value('KS.nad_lyapunov_times'):g} Lyapunov time or more",
                   vertical=True)
    else:
        a.axvline(1.0, color="0.5", ls=":", lw=0.8)
    a.set_xlabel(r"t / $T^{\Lambda_1}$ (Lyapunov times)")
    a.set_ylabel("mean NAD")
    a.set_title("(a) error over time", fontsize=9, loc="left")
    a.legend(fontsize=8, ncol=3)
    b.plot(pos, [wd[r] for r in order], marker="o", color="C0", label="ours")
    if wd_floor is not None:
        b.axhline(wd_floor, color="0.5", ls="--", lw=0.8, label="truth vs truth\n(two halves)")
    b.legend(fontsize=8)
    b.set_ylabel("WD of the distribution of u")
    b.set_title("(b) statistical error", fontsize=9, loc="left")
    c.plot(pos, [speedup[r] for r in order], marker="o", color="C0", label="ours, solver at the paper's δt")
    if speedup_fine:
        c.plot(pos, [speedup_fine.get(r, np.nan) for r in order], marker="s", color="C3",
               label="ours, solver at δt = 2.5e-4")
    if paper and math.inf in speedup:
        S = paper_value("KS.speedup_latent")
        c.plot([pos[order.index(math.inf)]], [S], "D", color="k", mfc="none", ms=8, mew=1.4,
               label=f"paper, latent: about {S:g}")
    c.axhline(1.0, color="0.5", lw=0.8)
    c.set_yscale("log")
    c.set_ylabel("speed-up S")
    c.set_title("(c) speed-up", fontsize=9, loc="left")
    c.legend(fontsize=8)
    for ax in (b, c):
        ax.set_xticks(pos, names)
        ax.set_xlabel(r"$\rho = T_m / T_\mu$")
    return fig
