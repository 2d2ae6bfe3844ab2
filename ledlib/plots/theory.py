"""Figures of the theory chapter: our own diagrams of the paper's schematics (Figures 1, 2,
9–15) and the plots of the chapter's small live demonstrations.

Diagrams are drawn with boxes and arrows on a blank axes in data coordinates, so that a
reader can change a label or a phase length and redraw them.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import patheffects
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Polygon

__all__ = [
    "equation_free_diagram", "autoencoder_diagram", "latent_manifold", "permutation_encoder_diagram",
    "mixture_decoder_diagram", "mixture_fit", "rnn_cells_diagram", "rnn_forecasts",
    "multiscale_timeline", "speedup_model", "comparison_measures",
]

# One colour per role, used in every diagram of the chapter.
MICRO = "#4C72B0"  # fine scale: states and the micro solver
LATENT = "#DD8452"  # coarse scale: latent states and their propagation
NET = "#55A868"  # learned networks
OP = "0.35"  # fixed operations (mean, sampling, element-wise ops)
WARM = "0.75"  # the warm-up


# ------------------------------------------------------------------ drawing helpers
def _canvas(width: float, height: float, xlim, ylim, nrows: int = 1):
    fig, axes = plt.subplots(nrows, 1, figsize=(width, height), layout="constrained", squeeze=False)
    for ax in axes[:, 0]:
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_axis_off()
    return fig, axes[:, 0]


def _box(ax, x, y, w, h, text="", color=NET, alpha=0.25, fontsize=9, round_=True, **text_kw):
    """A labelled box centred at ``(x, y)``."""
    style = "round,pad=0.0,rounding_size=0.08" if round_ else "square,pad=0.0"
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, fc=color, ec=color,
                                alpha=alpha, lw=1.2))
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, fc="none", ec=color, lw=1.2))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, **text_kw)


def _op(ax, x, y, text, r=0.17, color=OP, fontsize=10):
    """An element-wise operation (a circle with its symbol)."""
    ax.add_patch(Circle((x, y), r, fc="white", ec=color, lw=1.2, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _arrow(ax, p, q, color="0.25", lw=1.2, rad=0.0, style="-|>", ls="-", text=None, text_xy=None,
           fontsize=8, shrink=0.0, **text_kw):
    ax.annotate("", xy=q, xytext=p, arrowprops=dict(
        arrowstyle=style, color=color, lw=lw, ls=ls, shrinkA=shrink, shrinkB=shrink,
        connectionstyle=f"arc3,rad={rad}", mutation_scale=10))
    if text:
        tx, ty = text_xy if text_xy is not None else ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
        ax.text(tx, ty, text, fontsize=fontsize, ha=text_kw.pop("ha", "center"),
                va=text_kw.pop("va", "center"), color=text_kw.pop("tc", "0.1"), **text_kw)


def _line(ax, xs, ys, color="0.25", lw=1.2, **kw):
    ax.plot(xs, ys, color=color, lw=lw, solid_capstyle="butt", **kw)


def _trapezoid(ax, x0, x1, h0, h1, y, text, color=NET, fontsize=9):
    """A layer stack narrowing (encoder) or widening (decoder) from height ``h0`` to ``h1``."""
    ax.add_patch(Polygon([(x0, y - h0 / 2), (x1, y - h1 / 2), (x1, y + h1 / 2), (x0, y + h0 / 2)],
                         closed=True, fc=color, ec=color, alpha=0.25, lw=1.2))
    ax.add_patch(Polygon([(x0, y - h0 / 2), (x1, y - h1 / 2), (x1, y + h1 / 2), (x0, y + h0 / 2)],
                         closed=True, fc="none", ec=color, lw=1.2))
    ax.text((x0 + x1) / 2, y, text, ha="center", va="center", fontsize=fontsize)


def _brace(ax, x0, x1, y, text, color="0.2", fontsize=9, below=True):
    """A bracket under (or over) ``[x0, x1]`` with a label."""
    d = -0.12 if below else 0.12
    _line(ax, [x0, x0, x1, x1], [y - d, y, y, y - d], color=color, lw=1.0)
    ax.text((x0 + x1) / 2, y + (-0.22 if below else 0.22), text, ha="center",
            va="top" if below else "bottom", fontsize=fontsize, color=color)


# ------------------------------------------------------------------ Figures 1–2
def equation_free_diagram() -> Figure:
    """Paper Figures 1–2 redrawn: one forecast of LED on a fine lane and a coarse lane.

    The fine lane carries the micro solver, the coarse lane the latent states; the
    arrows between them are the equation-free restriction (LED's encoder) and lifting
    (LED's decoder), and the coarse lane's arrows are the coarse time-stepper (the RNN).
    """
    fig, (ax,) = _canvas(10, 4.3, (-0.2, 12.2), (-0.9, 5.0))
    y_lat, y_mic = 3.0, 0.9
    ax.text(0.0, y_lat, "coarse (latent)\n" + r"$z \in \mathbb{R}^{d_z}$", ha="left", va="center",
            fontsize=9, color=LATENT, fontweight="bold")
    ax.text(0.0, y_mic, "fine (micro)\n" + r"$s \in \mathbb{R}^{d_s}$", ha="left", va="center",
            fontsize=9, color=MICRO, fontweight="bold")
    # phases along time: warm-up, macro, micro, macro
    x_w0, x_w1, x_m1, x_mu1, x_end = 1.9, 4.1, 7.3, 9.1, 11.9
    _line(ax, [x_w0, x_w1], [y_mic, y_mic], color=MICRO, lw=4)
    _line(ax, [x_m1, x_mu1], [y_mic, y_mic], color=MICRO, lw=4)
    for xa, xb in ((x_w1, x_m1), (x_mu1, x_end)):  # the micro solver is not run here: the saving
        _line(ax, [xa, xb], [y_mic, y_mic], color=MICRO, lw=1.0, ls=(0, (2, 3)), alpha=0.6)
        ax.text((xa + xb) / 2, y_mic + 0.12, "not simulated", ha="center", va="bottom", fontsize=7.5,
                color=MICRO, alpha=0.8)
    ax.text((x_w0 + x_w1) / 2, y_mic - 0.35, r"micro solver $\mathbf{F}$", ha="center", va="top", fontsize=8)
    ax.text((x_m1 + x_mu1) / 2, y_mic - 0.35, r"micro solver $\mathbf{F}$", ha="center", va="top", fontsize=8)
    # warm-up: every state restricted (encoded) and fed to the RNN, no forecast
    xs = np.linspace(x_w0 + 0.3, x_w1, 4)
    for i, x in enumerate(xs):
        _arrow(ax, (x, y_mic + 0.12), (x, y_lat - 0.14), color=NET, lw=1.0)
        ax.plot(x, y_lat, "o", ms=5, color=LATENT, mfc="white")
        if i:
            _arrow(ax, (xs[i - 1] + 0.1, y_lat), (x - 0.1, y_lat), color="0.6", lw=0.8, ls=":")
    ax.text(xs[0] - 0.12, (y_lat + y_mic) / 2, r"encoder $\mathcal{E}$" + "\n(restriction)", ha="right",
            va="center", fontsize=8, color=NET)
    ax.text((x_w0 + x_w1) / 2, y_lat + 0.42, "RNN teacher-forced:\nmemory $h$ warms up", ha="center",
            va="bottom", fontsize=8)
    # macro phase: the RNN iterates on its own output
    xs_m = np.linspace(x_w1, x_m1, 6)
    for i in range(1, len(xs_m)):
        _arrow(ax, (xs_m[i - 1] + 0.08, y_lat), (xs_m[i] - 0.08, y_lat), color=LATENT, lw=1.4, rad=-0.5)
        ax.plot(xs_m[i], y_lat, "o", ms=5, color=LATENT)
    ax.text((x_w1 + x_m1) / 2, y_lat + 0.55, "RNN: coarse time-stepper with memory\n"
            r"$h_t = \mathcal{H}(z_t, h_{t-\Delta t})$,  $\tilde z_{t+\Delta t} = \mathcal{R}(h_t)$",
            ha="center", va="bottom", fontsize=8)
    # lifting, micro phase, restriction
    _arrow(ax, (x_m1, y_lat - 0.14), (x_m1, y_mic + 0.12), color=NET, lw=1.4)
    ax.text(x_m1 - 0.1, (y_lat + y_mic) / 2, r"decoder $\mathcal{D}$" + "\n(lifting)", ha="right",
            va="center", fontsize=8, color=NET)
    xs_mu = np.linspace(x_m1 + 0.45, x_mu1, 3)
    for i, x in enumerate(xs_mu):
        _arrow(ax, (x, y_mic + 0.12), (x, y_lat - 0.14), color=NET, lw=0.8, ls="--")
        ax.plot(x, y_lat, "o", ms=5, color=LATENT, mfc="white")
        if i:
            _arrow(ax, (xs_mu[i - 1] + 0.1, y_lat), (x - 0.1, y_lat), color="0.6", lw=0.8, ls=":")
    ax.text(x_mu1 + 0.1, (y_lat + y_mic) / 2, r"$\mathcal{E}$", ha="left", va="center", fontsize=8, color=NET)
    xs_m2 = np.linspace(x_mu1, x_end - 0.5, 4)
    for i in range(1, len(xs_m2)):
        _arrow(ax, (xs_m2[i - 1] + 0.08, y_lat), (xs_m2[i] - 0.08, y_lat), color=LATENT, lw=1.4, rad=-0.5)
        ax.plot(xs_m2[i], y_lat, "o", ms=5, color=LATENT)
    ax.text(x_end - 0.3, y_lat, "...", ha="left", va="center", fontsize=11)
    # the phases
    yb = -0.35
    _brace(ax, x_w0, x_w1, yb, r"warm-up $T_{warm}$")
    _brace(ax, x_w1, x_m1, yb, r"macro: $T_m$ in the latent space")
    _brace(ax, x_m1, x_mu1, yb, r"micro: $T_\mu$")
    _brace(ax, x_mu1, x_end, yb, r"macro: $T_m$ ...")
    ax.text(6.0, 4.95, "equation-free (restrict, step the coarse state, lift)  →  LED (learn all three)",
            ha="center", va="top", fontsize=9.5, fontweight="bold")
    return fig


# ------------------------------------------------------------------ Figure 9 and the AE demo
def autoencoder_diagram() -> Figure:
    """Paper Figure 9 redrawn: (a) an autoencoder, (b) a variational autoencoder."""
    fig, (a, b) = _canvas(9, 4.8, (-0.3, 10.6), (-0.2, 2.3), nrows=2)
    for ax, label in ((a, "(a) AE"), (b, "(b) VAE")):
        ax.text(-0.3, 2.2, label, fontsize=10, fontweight="bold", va="top")
        _box(ax, 0.5, 1.0, 0.5, 1.8, r"$x$", color=MICRO)
        _trapezoid(ax, 1.0, 3.0, 1.8, 0.6, 1.0, "encoder\n" + r"$\mathcal{E}$")
        _arrow(ax, (0.75, 1.0), (1.0, 1.0))
    # (a) deterministic bottleneck
    _box(a, 3.6, 1.0, 0.6, 0.45, r"$z$", color=LATENT)
    _arrow(a, (3.0, 1.0), (3.3, 1.0))
    _trapezoid(a, 4.2, 6.2, 0.6, 1.8, 1.0, "decoder\n" + r"$\mathcal{D}$")
    _arrow(a, (3.9, 1.0), (4.2, 1.0))
    _box(a, 6.7, 1.0, 0.5, 1.8, r"$\tilde x$", color=MICRO)
    _arrow(a, (6.2, 1.0), (6.45, 1.0))
    a.text(7.3, 1.0, "loss: reconstruction error\n" + r"$\|x - \tilde x\|^2$" + "\n(a nonlinear PCA)",
           fontsize=9, va="center")
    # (b) the encoder outputs a distribution; z is a reparametrised draw from it
    _box(b, 3.6, 1.45, 0.7, 0.42, r"$\mu_z$", color=LATENT)
    _box(b, 3.6, 0.55, 0.7, 0.42, r"$\sigma_z$", color=LATENT)
    _arrow(b, (3.0, 1.2), (3.25, 1.42))
    _arrow(b, (3.0, 0.8), (3.25, 0.58))
    _box(b, 5.2, 1.0, 1.8, 0.75, r"$z = \mu_z + \sigma_z \odot \epsilon$" + "\n" + r"$\epsilon \sim \mathcal{N}(0, I)$",
         color=OP, alpha=0.12, fontsize=8.5)
    _arrow(b, (3.95, 1.45), (4.3, 1.15))
    _arrow(b, (3.95, 0.55), (4.3, 0.85))
    _trapezoid(b, 6.4, 8.0, 0.6, 1.8, 1.0, "decoder\n" + r"$\mathcal{D}$")
    _arrow(b, (6.1, 1.0), (6.4, 1.0))
    _box(b, 8.5, 1.0, 0.5, 1.8, r"$\tilde x$", color=MICRO)
    _arrow(b, (8.0, 1.0), (8.25, 1.0))
    b.text(3.6, 2.05, r"$q(z\,|\,x) = \mathcal{N}(\mu_z(x), \mathrm{diag}\,\sigma_z^2(x))$", fontsize=9,
           ha="center")
    b.text(9.0, 1.0, "loss:\nreconstruction\n+ KL$(q\\,\\|\\,\\mathcal{N}(0, I))$", fontsize=8.5, va="center")
    return fig


def _principal_plane(x):
    """Coordinates of ``x (n, d)`` on its two leading principal directions, and the map."""
    x = np.asarray(x, dtype=float)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    return (lambda y: (np.asarray(y, dtype=float) - mean) @ vt[:2].T), (x - mean) @ vt[:2].T


def latent_manifold(theta, x, reconstructions: dict, latents: dict) -> Figure:
    """Autoencoders on a curve embedded in a higher-dimensional space.

    ``theta (n,)`` the curve's parameter, ``x (n, d)`` the data; ``reconstructions`` maps a
    model name to its reconstruction ``(n, d)``; ``latents`` maps a model name to ``z (n,)``
    or to ``(z, sigma)`` (a VAE's posterior mean and standard deviation). Left: the data and
    reconstructions in the data's leading principal plane. Right: latent against ``theta``.
    """
    theta = np.asarray(theta)
    order = np.argsort(theta)
    project, xy = _principal_plane(x)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.6), layout="constrained")  # the page width (style.PAGE_WIDTH_IN)
    ax = axes[0]
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=theta, s=6, cmap="viridis", alpha=0.6, label="data")
    for i, (name, rec) in enumerate(reconstructions.items()):
        p = project(rec)[order]
        ax.plot(p[:, 0], p[:, 1], color=f"C{i + 1}", lw=1.6, label=f"{name} reconstruction")
    ax.set_xlabel("principal coordinate 1")
    ax.set_ylabel("principal coordinate 2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=8, loc="best")
    fig.colorbar(sc, ax=ax, label=r"curve parameter $\theta$", pad=0.01)
    ax = axes[1]
    for i, (name, lat) in enumerate(latents.items()):
        z, sigma = (lat if isinstance(lat, tuple) else (lat, None))
        z = np.asarray(z).reshape(-1)
        ax.plot(theta[order], z[order], color=f"C{i + 1}", lw=1.6, label=name)
        if sigma is not None:
            s = np.asarray(sigma).reshape(-1)[order]
            ax.fill_between(theta[order], z[order] - s, z[order] + s, color=f"C{i + 1}", alpha=0.25, lw=0,
                            label=rf"{name} $\pm\sigma_z$")
    ax.set_xlabel(r"curve parameter $\theta$")
    ax.set_ylabel(r"latent $z$ (posterior mean)")
    ax.legend(fontsize=8)
    return fig


# ------------------------------------------------------------------ Figure 10
def permutation_encoder_diagram() -> Figure:
    """Paper Figure 10 redrawn: phi on every particle, a mean over particles, then g."""
    fig, (ax,) = _canvas(9, 3.4, (-0.2, 10.2), (-0.3, 3.6))
    ys = [3.0, 2.2, 1.4, 0.2]
    names = [r"$x^1$", r"$x^2$", r"$x^3$", r"$x^N$"]
    for y, name in zip(ys, names):
        _box(ax, 0.6, y, 0.7, 0.5, name, color=MICRO)
        _box(ax, 2.3, y, 1.3, 0.5, r"$\phi$", color=NET)
        _arrow(ax, (0.95, y), (1.65, y))
        _box(ax, 4.1, y, 1.1, 0.5, rf"$\phi(${name}$)$", color=LATENT, alpha=0.15, fontsize=8)
        _arrow(ax, (2.95, y), (3.55, y))
        _arrow(ax, (4.65, y), (5.55, 1.6), color="0.45")
    for x in (0.6, 2.3, 4.1):
        ax.text(x, 0.8, r"$\vdots$", ha="center", va="center", fontsize=12)
    ax.text(0.6, 3.5, r"particles $x^i \in \mathbb{R}^{d_x}$", ha="center", fontsize=8)
    ax.text(2.3, 3.5, "one network, shared\nby all particles", ha="center", fontsize=8, va="bottom")
    ax.text(4.1, 3.5, r"features in $\mathbb{R}^{d_p}$", ha="center", fontsize=8)
    _op(ax, 5.9, 1.6, r"$\frac{1}{N}\Sigma$", r=0.38, fontsize=10)
    ax.text(5.9, 0.95, "mean over\nparticles", ha="center", va="top", fontsize=8)
    _box(ax, 7.4, 1.6, 1.0, 0.6, r"$g$", color=NET)
    _arrow(ax, (6.28, 1.6), (6.9, 1.6))
    _box(ax, 8.9, 1.6, 0.7, 0.5, r"$z$", color=LATENT)
    _arrow(ax, (7.9, 1.6), (8.55, 1.6))
    ax.text(7.4, 2.6, "unchanged by any reordering\nof the particles; any $N$ works",
            ha="center", fontsize=8.5, style="italic")
    return fig


# ------------------------------------------------------------------ Figure 11 and the mixture demo
def mixture_decoder_diagram() -> Figure:
    """Paper Figure 11 redrawn: the mixture-density decoder, its sampling and training paths."""
    fig, (ax,) = _canvas(10, 3.6, (-0.2, 12.2), (0.0, 4.1))
    _box(ax, 0.5, 2.4, 0.7, 0.5, r"$z$", color=LATENT)
    _trapezoid(ax, 1.1, 2.7, 0.6, 1.8, 2.4, "MLP")
    _arrow(ax, (0.85, 2.4), (1.1, 2.4))
    outs = [(3.6, r"softmax $\to \pi^k$"), (2.4, r"linear $\to \mu_v^k$"),
            (1.2, "softplus (diagonal),\n" + r"linear (below) $\to L_v^k$")]
    for y, text in outs:
        _box(ax, 4.0, y, 2.2, 0.75 if y < 2 else 0.5, text, color=NET, alpha=0.12, fontsize=8)
        _arrow(ax, (2.7, 2.4), (2.9, y))
    _box(ax, 7.2, 2.4, 2.9, 1.0, r"$p(v\,|\,z) = \sum_k \pi^k\, \mathcal{N}(\mu_v^k,\ L_v^k L_v^{k\top})$",
         color=OP, alpha=0.1, fontsize=9)
    for y in (3.6, 2.4, 1.2):
        _arrow(ax, (5.1, y), (5.75, 2.4 + 0.25 * (y - 2.4)))
    # sampling path (test time)
    _box(ax, 10.6, 3.3, 2.6, 0.8, "sample $v$, then\n" + r"$\tilde y = \mathrm{softplus}(v) > 0$," + "\nclip to [0, 1]",
         color=MICRO, alpha=0.12, fontsize=8)
    _arrow(ax, (8.65, 2.7), (9.3, 3.2), text="sample", text_xy=(8.85, 3.2), fontsize=8)
    # training path
    _box(ax, 10.6, 1.2, 2.6, 0.9, r"data $x$ $\to$ $y \in [0,1]$ (min-max)" + "\n"
         + r"$\to$ $v = \mathrm{softplus}^{-1}(y)$", color=MICRO, alpha=0.12, fontsize=8)
    _arrow(ax, (9.3, 1.3), (8.65, 2.1), text="maximise\n" + r"$\log p(v\,|\,z)$", text_xy=(8.6, 1.3),
           fontsize=8, ha="right")
    ax.text(6.0, 0.25, r"$\Sigma_v^k = L_v^k L_v^{k\top}$ is positive definite by construction; "
            r"$\mathrm{softplus}(v) = \ln(1 + e^v)$ maps $\mathbb{R}$ onto $(0, \infty)$",
            ha="center", fontsize=8.5)
    return fig


def _eval_mixture(decoder, z, pts, on_y: bool):
    """Density of ``decoder`` at ``pts (n,)`` given one latent ``z``: of ``y`` (through the
    inverse softplus) when ``on_y``, else of the variable the mixture is defined on."""
    import torch

    dev = next(decoder.parameters()).device
    p = torch.as_tensor(pts, dtype=torch.float32, device=dev)[None, :, None]
    zz = torch.as_tensor(z, dtype=torch.float32, device=dev).reshape(1, -1)
    with torch.no_grad():
        logp = decoder.log_prob_y(p, zz) if on_y else decoder.log_prob(p, zz)
        params = decoder.params(zz)
    return logp.exp()[0].cpu().numpy(), [t[0].cpu().numpy() for t in params]


def mixture_fit(y, decoder, z, direct=None, bins: int = 50) -> Figure:
    """A 1-D mixture-density decoder fitted to particles ``y`` in [0, 1].

    ``decoder``: a :class:`~ledlib.nn.MixtureDensityDecoder` with ``d_x = 1`` fitted to
    ``v = softplus^{-1}(y)`` given the latent ``z``; ``direct`` (optional): one fitted to
    ``y`` itself (no transform). Left: the histogram of ``y`` and the fitted densities of
    ``y`` (the walls shaded). Right: the same fit in ``v``, with its weighted components.
    """
    y = np.asarray(y).reshape(-1)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.6), layout="constrained")  # the page width (style.PAGE_WIDTH_IN)
    ax = axes[0]
    ax.hist(y, bins=bins, range=(0, 1), density=True, color="0.8", label="sample")
    eps = getattr(decoder, "softplus_eps", 1e-3)
    g = np.linspace(eps, 1.0, 600)
    p, _ = _eval_mixture(decoder, z, g, on_y=True)
    ax.plot(g, p, color="C1", lw=1.8, label="mixture on $v$ = softplus$^{-1}(y)$")
    if direct is not None:
        gd = np.linspace(-0.2, 1.2, 700)
        pd, _ = _eval_mixture(direct, z, gd, on_y=False)
        ax.plot(gd, pd, color="C0", lw=1.4, ls="--", label="mixture on $y$ directly")
    for lo, hi in ((-0.2, 0.0), (1.0, 1.2)):
        ax.axvspan(lo, hi, color="0.9", zorder=0)
    ax.set_xlim(-0.2, 1.2)
    ax.set_ylim(0, np.percentile(p, 99.5) * 1.3)
    ax.set_xlabel("scaled position $y$ (walls at 0 and 1)")
    ax.set_ylabel("density")
    ax.legend(fontsize=8, loc="upper center")
    ax = axes[1]
    v = np.log(np.expm1(np.clip(y, eps, None)))
    ax.hist(v, bins=bins, density=True, color="0.8", label=r"sample, $v$")
    gv = np.linspace(v.min() - 0.5, v.max() + 1.0, 600)
    pv, (log_pi, mu, L) = _eval_mixture(decoder, z, gv, on_y=False)
    ax.plot(gv, pv, color="C1", lw=1.8, label="mixture")
    for k in range(len(log_pi)):
        s = L[k, 0, 0]
        comp = np.exp(log_pi[k] - 0.5 * ((gv - mu[k, 0]) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        ax.plot(gv, comp, color="C1", lw=0.8, ls=":", label="components" if k == 0 else None)
    ax.axvline(np.log(np.expm1(1.0)), color="0.4", lw=0.8, ls="--")
    ax.text(np.log(np.expm1(1.0)), ax.get_ylim()[1] * 0.95, " y = 1", fontsize=8, va="top")
    ax.set_xlabel(r"$v = \mathrm{softplus}^{-1}(y)$")
    ax.set_ylabel("density")
    ax.legend(fontsize=8, loc="upper left")
    return fig


# ------------------------------------------------------------------ Figure 12 and the RNN demo
def _gru(ax):
    yt, yb = 3.3, 0.55  # the hidden-state line and the input bus
    ax.text(3.6, 4.05, "(a) GRU", ha="center", fontsize=10, fontweight="bold")
    ax.text(-0.1, yt, r"$h_{t-\Delta t}$", ha="right", va="center", fontsize=9)
    ax.text(7.4, yt, r"$h_t$", ha="left", va="center", fontsize=9)
    ax.text(1.0, -0.35, r"$z_t$", ha="center", va="center", fontsize=9)
    x_r, x_c, x_u, x_plus = 1.6, 2.9, 4.3, 5.4  # reset gate, candidate, update gate, sum
    _line(ax, [0.0, x_u - 0.17], [yt, yt])
    _line(ax, [x_u + 0.17, x_plus - 0.17], [yt, yt])
    _arrow(ax, (x_plus + 0.17, yt), (7.3, yt))
    _line(ax, [0.4, 0.4], [yt, yb])  # h_{t-dt} down to the bus ...
    _line(ax, [1.0, 1.0], [-0.2, yb])  # ... joined by z_t
    _line(ax, [0.4, x_u], [yb, yb], lw=1.6)
    _box(ax, x_r, 1.45, 0.7, 0.5, r"$\sigma_g$", color=NET)
    _box(ax, x_c, 1.45, 0.8, 0.5, "tanh", color=NET)
    _box(ax, x_u, 1.45, 0.7, 0.5, r"$\sigma_g$", color=NET)
    for x in (x_r, x_c, x_u):
        _arrow(ax, (x, yb), (x, 1.2))
    ax.text(x_r - 0.4, 1.45, r"$r_t$", ha="right", va="center", fontsize=9)
    ax.text(x_c - 0.45, 1.1, r"$\tilde h_t$", ha="right", va="center", fontsize=9)
    ax.text(x_u + 0.4, 1.45, r"$u_t$", ha="left", va="center", fontsize=9)
    # reset gate: r ⊙ h_{t-dt} is the candidate's view of the past
    _op(ax, x_r, 2.45, r"$\times$")
    _arrow(ax, (x_r, 1.7), (x_r, 2.28))
    _arrow(ax, (x_r, yt), (x_r, 2.62))
    _arrow(ax, (x_r + 0.13, 2.34), (x_c - 0.2, 1.72))
    # update gate: h_t = (1 - u) ⊙ h_{t-dt} + u ⊙ h~
    _op(ax, x_u, yt, r"$\times$")
    _op(ax, x_u, 2.6, r"$1-$", fontsize=8)
    _line(ax, [x_u, x_u], [1.7, 2.05])
    _arrow(ax, (x_u, 2.05), (x_u, 2.43))
    _arrow(ax, (x_u, 2.77), (x_u, yt - 0.17))
    _op(ax, x_c, 2.45, r"$\times$")
    _arrow(ax, (x_c, 1.7), (x_c, 2.28))
    _arrow(ax, (x_u, 2.05), (x_c + 0.16, 2.4))
    _op(ax, x_plus, yt, "+")
    # u ⊙ h~ travels up to the sum, crossing (not joining) the 1 - u branch
    _line(ax, [x_c, x_c], [2.62, 2.95])
    halo = [patheffects.Stroke(linewidth=5, foreground="white"), patheffects.Normal()]
    ax.plot([x_c, x_plus], [2.95, 2.95], color="0.25", lw=1.2, path_effects=halo, zorder=2.5)
    _arrow(ax, (x_plus, 2.95), (x_plus, yt - 0.17))


def _lstm(ax):
    yc, yh, yb = 3.3, 2.55, 0.55  # cell line, hidden line, input bus
    ax.text(3.6, 4.05, "(b) LSTM", ha="center", fontsize=10, fontweight="bold")
    ax.text(-0.1, yc, r"$c_{t-\Delta t}$", ha="right", va="center", fontsize=9)
    ax.text(7.4, yc, r"$c_t$", ha="left", va="center", fontsize=9)
    ax.text(-0.1, yb, r"$h_{t-\Delta t}$", ha="right", va="center", fontsize=9)
    ax.text(7.4, 1.1, r"$h_t$", ha="left", va="center", fontsize=9)
    ax.text(1.0, -0.35, r"$z_t$", ha="center", va="center", fontsize=9)
    _line(ax, [0.0, 1.43], [yc, yc])
    _line(ax, [1.77, 3.63], [yc, yc])
    _arrow(ax, (3.97, yc), (7.3, yc))
    _line(ax, [0.0, 5.2], [yb, yb], lw=1.6)
    _line(ax, [1.0, 1.0], [-0.2, yb])
    gates = [(1.6, r"$\sigma$", r"$g^f_t$"), (2.8, r"$\sigma$", r"$g^i_t$"), (3.8, "tanh", r"$\tilde c_t$"),
             (5.2, r"$\sigma$", r"$g^o_t$")]
    for x, text, lab in gates:
        _box(ax, x, 1.45, 0.7, 0.5, text, color=NET, fontsize=8.5)
        _arrow(ax, (x, yb), (x, 1.2))
        ax.text(x + 0.38, 1.05, lab, ha="left", va="center", fontsize=8.5)
    _op(ax, 1.6, yc, r"$\times$")  # forget
    _arrow(ax, (1.6, 1.7), (1.6, yc - 0.17))
    _op(ax, 3.3, 2.3, r"$\times$")  # input ⊙ candidate
    _arrow(ax, (2.9, 1.7), (3.17, 2.2))
    _arrow(ax, (3.7, 1.7), (3.43, 2.2))
    _op(ax, 3.8, yc, "+")
    _arrow(ax, (3.43, 2.42), (3.7, yc - 0.14))
    # output: h_t = g^o ⊙ tanh(c_t)
    ax.add_patch(FancyBboxPatch((5.95, yh - 0.17), 0.7, 0.34, boxstyle="round,pad=0.0,rounding_size=0.17",
                                fc="white", ec=OP, lw=1.2, zorder=3))
    ax.text(6.3, yh, "tanh", ha="center", va="center", fontsize=8, zorder=4)
    _arrow(ax, (6.3, yc), (6.3, yh + 0.17))
    _op(ax, 6.3, 1.45, r"$\times$")
    _arrow(ax, (6.3, yh - 0.17), (6.3, 1.62))
    _arrow(ax, (5.55, 1.45), (6.13, 1.45))
    _line(ax, [6.3, 6.3], [1.28, 1.1])
    _arrow(ax, (6.3, 1.1), (7.3, 1.1))


def rnn_cells_diagram() -> Figure:
    """Paper Figure 12 redrawn: information flow in a GRU and an LSTM cell.

    Boxes are layers (an affine map of ``[h_{t-dt}, z_t]`` and an activation); circles and
    the rounded ``tanh`` are element-wise operations.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    for ax, draw in zip(axes, (_gru, _lstm)):
        ax.set_xlim(-0.9, 8.0)
        ax.set_ylim(-0.6, 4.3)
        ax.set_axis_off()
        draw(ax)
    return fig


def rnn_forecasts(t, truth, forecasts: dict, t_start: float, n_show: int = 3) -> Figure:
    """Latent forecasts of RNNs after a teacher-forced warm-up (and without one).

    ``t (T,)`` times; ``truth (n, T)`` true latent trajectories; ``forecasts`` maps a model
    name to ``{variant: (t_f (T_f,), z_f (n, T_f))}``: one colour per model, the first
    variant drawn solid and the others dashed, dotted. ``t_start`` is the end of the
    warm-up. One panel per trajectory (the first ``n_show``).
    """
    truth = np.asarray(truth)
    n = min(n_show, truth.shape[0])
    fig, axes = plt.subplots(n, 1, figsize=(9, 1.2 + 1.05 * n), layout="constrained", sharex=True,
                             squeeze=False)
    styles = ("-", "--", ":")
    for i, ax in enumerate(axes[:, 0]):
        first = i == 0
        ax.axvspan(t[0], t_start, color=WARM, alpha=0.5, lw=0, label="warm-up (teacher forcing)" if first else None)
        ax.plot(t, truth[i], color="k", lw=1.2, label="truth" if first else None)
        for j, (model, variants) in enumerate(forecasts.items()):
            for k, (variant, (t_f, z_f)) in enumerate(variants.items()):
                ax.plot(t_f, np.asarray(z_f)[i], color=f"C{j}", lw=1.3, ls=styles[k % len(styles)],
                        label=f"{model}, {variant}" if first else None)
        ax.set_ylabel("z")
    axes[-1, 0].set_xlabel("time step")
    fig.legend(loc="outside upper center", ncol=3, fontsize=8, frameon=False)
    return fig


# ------------------------------------------------------------------ Figures 13–14
def multiscale_timeline(T_warm: float, schemes, horizon: float, coarse_dt: float = 1.0) -> Figure:
    """Paper Figures 13–14 redrawn: the phases of LED's forecast for several ``(T_m, T_mu)``.

    ``schemes``: pairs ``(T_m, T_mu)`` in time units (``T_mu = 0``: latent propagation
    only). Each row shows the warm-up, then every coarse step coloured by its phase as
    :func:`ledlib.forecast.phase_schedule` assigns it; triangles mark where the decoder
    lifts a latent state (down) and where the encoder restricts a micro state (up).
    """
    from ..forecast import MACRO, phase_schedule

    for name, val in (("T_warm", T_warm), ("horizon", horizon), ("coarse_dt", coarse_dt)):
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {val!r}")
    if coarse_dt <= 0 or horizon <= 0:
        raise ValueError(f"coarse_dt and horizon must be > 0, got {coarse_dt!r} and {horizon!r}")
    schemes = [tuple(s) for s in schemes]
    if not schemes or any(len(s) != 2 or min(s) < 0 or s[0] == 0 for s in schemes):
        raise ValueError("schemes must be a non-empty list of (T_m, T_mu) with T_m > 0 and T_mu >= 0, "
                         f"got {schemes!r}")
    for name, val in [("horizon", horizon)] + [(f"schemes[{i}]", v) for i, s in enumerate(schemes) for v in s]:
        q = val / coarse_dt
        if abs(q - round(q)) > 1e-9 * max(1.0, q):
            raise ValueError(f"{name}: times must be whole multiples of coarse_dt={coarse_dt}, got {val}")
    n_steps = int(round(horizon / coarse_dt))
    fig, ax = plt.subplots(figsize=(10, 0.9 + 0.6 * len(schemes)), layout="constrained")
    for row, (T_m, T_mu) in enumerate(schemes):
        y = len(schemes) - 1 - row
        n_m, n_mu = int(round(T_m / coarse_dt)), int(round(T_mu / coarse_dt))
        ph = phase_schedule(n_steps, n_m, n_mu)
        ax.broken_barh([(-T_warm, T_warm)], (y - 0.3, 0.6), color=WARM)
        # runs of equal phase as bars; step j covers (j-1, j] * coarse_dt
        edges = np.flatnonzero(np.r_[True, ph[1:] != ph[:-1], True])
        for a, b in zip(edges[:-1], edges[1:]):
            macro = ph[a] == MACRO
            ax.broken_barh([(a * coarse_dt, (b - a) * coarse_dt)], (y - 0.3, 0.6), color=LATENT if macro else MICRO)
            if a > 0:
                ax.plot(a * coarse_dt, y + 0.42, "v" if not macro else "^", color=NET, ms=5)
    labels = [r"latent only ($T_\mu$ = 0)" if T_mu == 0 else
              rf"$\rho$ = {T_m / T_mu:g}" + "\n" + rf"($T_m$ = {T_m:g}, $T_\mu$ = {T_mu:g})" for T_m, T_mu in schemes]
    ax.set_yticks(np.arange(len(schemes))[::-1], labels, fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, len(schemes) - 0.3)
    ax.set_xlim(-1.02 * T_warm - 0.01 * horizon, horizon)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("time after the warm-up")
    for s in ("left", "right", "top"):
        ax.spines[s].set_visible(False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in (WARM, LATENT, MICRO)]
    handles += [plt.Line2D([], [], ls="", marker=m, color=NET) for m in ("v", "^")]
    fig.legend(handles, ["warm-up (micro solver, RNN teacher-forced)", "macro: RNN in the latent space",
                        "micro: solver from the decoded state", "decode + lift", "restrict + encode"],
              loc="outside upper center", ncol=3, fontsize=8, frameon=False)
    return fig


def speedup_model(S_latent=(10.0, 100.0, 1000.0), rho=None, marks: dict | None = None) -> Figure:
    """Speed-up of multiscale LED against rho when the encode/decode cost is negligible.

    Per cycle, the micro solver alone costs ``(T_m + T_mu) c_mu`` and LED
    ``T_m c_z + T_mu c_mu``; with the latent-only speed-up ``S_inf = c_mu / c_z``,
    ``S(rho) = (1 + rho) / (1 + rho / S_inf)``, which tends to ``S_inf`` as rho grows and
    never exceeds ``1 + rho``. ``marks`` maps a label to a point ``(rho, S)`` to overlay.
    """
    S_latent = np.atleast_1d(np.asarray(S_latent, dtype=float))
    if np.any(~np.isfinite(S_latent)) or np.any(S_latent <= 0):
        raise ValueError(f"S_latent must be finite and > 0, got {S_latent!r}")
    rho = np.logspace(-2, 4, 300) if rho is None else np.asarray(rho, dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
    for i, s in enumerate(S_latent):
        ax.loglog(rho, (1 + rho) / (1 + rho / s), color=f"C{i}", lw=1.6, label=rf"$S_\infty$ = {s:g}")
        ax.axhline(s, color=f"C{i}", lw=0.6, ls=":")
    ax.loglog(rho, 1 + rho, color="k", lw=0.8, ls="--", label=r"bound $1 + \rho$")
    for j, (label, (r, S)) in enumerate((marks or {}).items()):
        ax.plot(r, S, "o", color="k", mfc="white", ms=6)
        ax.annotate(label, (r, S), textcoords="offset points", xytext=(6, -10), fontsize=8)
    ax.set_xlabel(r"$\rho = T_m / T_\mu$")
    ax.set_ylabel(r"speed-up $S = t_{micro} / t_{LED}$")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", lw=0.3)
    return fig


# ------------------------------------------------------------------ Figure 15
def comparison_measures(a, b, shift_curve=None, bins: int | None = None, labels=("$Z_1$", "$Z_2$")) -> Figure:
    """Paper Figure 15 redrawn with two samples ``a``, ``b``.

    (a) their density histograms on one shared grid (the Rice rule on the pooled range, as
    :func:`ledlib.metrics.l1_hist_distance` uses) with ``|p - q|`` shaded: the L1 histogram
    distance is the shaded area; (b) their quantile functions with the area between them
    shaded: the Wasserstein-1 distance. ``shift_curve = (c, wd, l1)`` adds (c) both
    distances between ``a`` and ``a + c`` against the shift ``c``.
    """
    from ..metrics import rice_bins

    a = np.sort(np.asarray(a, dtype=float).reshape(-1))
    b = np.sort(np.asarray(b, dtype=float).reshape(-1))
    nb = rice_bins(min(a.size, b.size)) if bins is None else int(bins)
    edges = np.linspace(min(a[0], b[0]), max(a[-1], b[-1]), nb + 1)
    p, _ = np.histogram(a, edges, density=True)
    q, _ = np.histogram(b, edges, density=True)
    # (a) and (b) side by side, (c) across the row below: three in a row were ~220 px each
    from .style import PAGE_WIDTH_IN

    rows = 2 if shift_curve is not None else 1
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, 3.3 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, 2)
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
    if shift_curve is not None:
        axes.append(fig.add_subplot(grid[1, :]))
    ax = axes[0]
    ax.stairs(p, edges, color="C0", lw=1.4, label=labels[0])
    ax.stairs(q, edges, color="C1", lw=1.4, label=labels[1])
    ax.stairs(np.maximum(p, q), edges, baseline=np.minimum(p, q), fill=True, color="C3", alpha=0.3,
              label="|p - q|")
    ax.set_xlabel("value")
    ax.set_ylabel("density")
    ax.set_title("(a) L1 histogram distance", fontsize=9)
    ax.legend(fontsize=8)
    ax = axes[1]
    # the empirical quantile functions on a common grid of levels tau
    tau = np.linspace(0, 1, 2001)[1:-1]
    qa = a[np.minimum((tau * a.size).astype(int), a.size - 1)]
    qb = b[np.minimum((tau * b.size).astype(int), b.size - 1)]
    ax.plot(tau, qa, color="C0", lw=1.4, label=rf"$F^{{-1}}$ of {labels[0]}")
    ax.plot(tau, qb, color="C1", lw=1.4, label=rf"$F^{{-1}}$ of {labels[1]}")
    ax.fill_between(tau, qa, qb, color="C3", alpha=0.3, lw=0, label="area = WD")
    ax.set_xlabel(r"level $\tau$")
    ax.set_ylabel("quantile")
    ax.set_title("(b) Wasserstein distance", fontsize=9)
    ax.legend(fontsize=8)
    if shift_curve is not None:
        c, wd, l1 = (np.asarray(v, dtype=float) for v in shift_curve)
        ax = axes[2]
        ax.plot(c, wd, "o-", color="C2", ms=3, label="WD")
        ax.plot(c, l1, "s-", color="C4", ms=3, label="L1 histogram")
        ax.axhline(2.0, color="C4", lw=0.6, ls=":")
        ax.set_xlabel(f"shift $c$ ({labels[0]} against {labels[0]} + $c$)")
        ax.set_ylabel("distance")
        ax.set_title("(c) distance against a shift", fontsize=9)
        ax.legend(fontsize=8)
    return fig
