"""The toy problems of the theory chapter: data that shows one idea each, drawn from a
given generator so that the chapter's numbers are reproducible.

- :func:`curve_sample`: noisy points on a curve (a 1-D manifold) embedded in R^10, for
  the autoencoder and the VAE;
- :func:`wall_sample`: particles piled up against both walls of [0, 1], for the mixture
  density decoder's softplus transform, fitted by :func:`fit_mixture`;
- :func:`oscillator`: sine waves of random amplitude and phase, for the latent RNN's
  warm-up, forecast by :func:`rnn_forecast`.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

__all__ = ["curve_sample", "wall_sample", "fit_mixture", "oscillator", "rnn_forecast"]


def _count(name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _generator(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (seeded), got {type(rng).__name__}")
    return rng


def curve_sample(n: int, rng, Q, noise: float = 0.02):
    """``n`` points on the curve ``(cos 1.5 pi theta, sin 1.5 pi theta, 0.6 sin 3 pi
    theta)``, ``theta ~ U(0, 1)``, embedded by the orthonormal columns of ``Q (D, 3)``
    and perturbed by Gaussian noise of standard deviation ``noise``. Returns ``(theta
    (n,), x (n, D) float32)``."""
    n, rng = _count("n", n), _generator(rng)
    Q = np.asarray(Q, dtype=float)
    if Q.ndim != 2 or Q.shape[1] != 3:
        raise ValueError(f"Q must be (D, 3), got shape {Q.shape}")
    theta = rng.uniform(0, 1, n)
    c = np.stack([np.cos(1.5 * np.pi * theta), np.sin(1.5 * np.pi * theta), 0.6 * np.sin(3 * np.pi * theta)], 1)
    return theta, (c @ Q.T + noise * rng.normal(size=(n, Q.shape[0]))).astype(np.float32)


def wall_sample(n: int, rng, p_low: float = 0.55):
    """``n`` positions in [0, 1]: with probability ``p_low`` from Beta(0.8, 6) near 0,
    else mirrored from Beta(1.2, 5) near 1 (float32)."""
    n, rng = _count("n", n), _generator(rng)
    if not 0.0 <= p_low <= 1.0:
        raise ValueError(f"p_low must be a probability in [0, 1], got {p_low!r}")
    near0 = rng.random(n) < p_low
    return np.where(near0, rng.beta(0.8, 6, n), 1 - rng.beta(1.2, 5, n)).astype(np.float32)


def fit_mixture(y, transform: bool, steps: int, *, z0, seed: int = 0, n_kernels: int = 4, lr: float = 1e-2):
    """A :class:`~ledlib.nn.MixtureDensityDecoder` (1-D, ``n_kernels`` kernels, 2x16) fitted
    by Adam to the samples ``y (N,)`` at the fixed latent input ``z0 (1, 1)`` for ``steps``
    full-batch steps from weights drawn with ``seed``; ``transform``: fit the density of
    ``v = softplus^-1(y)`` (the paper's), else of ``y`` itself. Returns the decoder in
    eval mode, on ``z0``'s device."""
    import torch

    from .nn import MixtureDensityDecoder

    steps = _count("steps", steps)
    if not isinstance(transform, bool):
        raise TypeError(f"transform must be True or False, got {transform!r}")
    dev = z0.device
    torch.manual_seed(seed)
    dec = MixtureDensityDecoder(d_z=1, d_x=1, n_kernels=n_kernels, n_layers=2, width=16, md_hidden=16).to(dev)
    target = torch.as_tensor(y, device=dev)[None, :, None]
    v = dec.to_v(target) if transform else target  # v = softplus^{-1}(y), or y itself
    opt = torch.optim.Adam(dec.parameters(), lr=lr)
    for _ in range(steps):
        loss = -dec.log_prob(v, z0).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return dec.eval()


def oscillator(n: int, T: int, rng, period: float = 20.0):
    """``n`` sequences ``a sin(2 pi t / period + phase)``, ``t = 0..T-1``, amplitude
    ``a ~ U(0.5, 1.5)`` and phase ``~ U(0, 2 pi)``: ``(n, T, 1)`` float32."""
    n, T, rng = _count("n", n), _count("T", T), _generator(rng)
    if not period > 0:
        raise ValueError(f"period must be positive, got {period!r}")
    a, phase = rng.uniform(0.5, 1.5, (n, 1)), rng.uniform(0, 2 * np.pi, (n, 1))
    return (a * np.sin(2 * np.pi * np.arange(T) / period + phase))[..., None].astype(np.float32)


def rnn_forecast(rnn, z_warm, n_steps: int) -> np.ndarray:
    """Teacher-force a :class:`~ledlib.nn.LatentRNN` on ``z_warm (B, T, d_z)`` (a tensor),
    then iterate it on its own output for ``n_steps``: ``(B, n_steps)`` of the first latent
    coordinate, the first being the prediction after the warm-up."""
    import torch

    n_steps = _count("n_steps", n_steps)
    with torch.no_grad():
        z_pred, h = rnn(z_warm)  # the hidden state after the warm-up, and the first forecast
        z, out = z_pred[:, -1], []
        for _ in range(n_steps):
            out.append(z)
            z, h = rnn.step(z, h)
        return torch.stack(out, 1)[..., 0].cpu().numpy()
