"""Mixture-density decoder for bounded particle states (§6.4, eqs. 10–12, Figure 11).

Given ``z``, every particle of a configuration is an independent draw of an auxiliary
variable ``v in R^{d_x}`` from a mixture of K full-covariance Gaussians,

    p(v | z) = sum_k pi^k(z) N(v; mu^k(z), L^k(z) L^k(z)^T),

with ``pi = softmax`` of K outputs, linear means, and lower-triangular Cholesky factors
whose diagonal passes through a softplus (plus a small floor, so the covariance never
becomes singular in float32) and whose strictly lower entries are linear.

Bounded positions: the data are min-max scaled to ``y in [0, 1]^{d_x}`` and mapped to
``v = softplus^{-1}(y) = log(exp(y) - 1)``; ``y`` is clipped to ``[eps, inf)`` first,
since ``softplus^{-1}(0) = -inf`` (``eps = 1e-3`` by default gives ``v >= -6.9``). As in the
paper the likelihood is maximised on ``v``; the Jacobian ``log|dv/dy|`` does not depend on
the weights, so it is left out of the training loss and only added by :meth:`log_prob_y`.
Samples are drawn as: kernel index ``k ~ pi``, ``v = mu^k + L^k eps``, ``y = softplus(v)``,
clipped to ``[0, 1]`` (the scaled domain), then inverse-scaled by the caller.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import MLP, activation, check_int, multinomial, randn

__all__ = ["MixtureDensityDecoder", "mixture_log_prob", "inverse_softplus", "CHOLESKY_FLOOR"]

# Floor on the Cholesky diagonal (in units of v).
CHOLESKY_FLOOR = 1e-4


def inverse_softplus(y: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """``log(exp(y) - 1)`` for ``y`` clipped to ``[eps, inf)``; stable for small and large y."""
    y = y.clamp(min=eps)
    return y + torch.log(-torch.expm1(-y))


def mixture_log_prob(v: torch.Tensor, log_pi: torch.Tensor, mu: torch.Tensor, L: torch.Tensor) -> torch.Tensor:
    """log p(v) of a Gaussian mixture, vectorised over configurations and particles.

    ``v (B, N, d)``; ``log_pi (B, K)``; ``mu (B, K, d)``; ``L (B, K, d, d)`` lower triangular
    with positive diagonal. Returns ``(B, N)``.
    """
    d = v.shape[-1]
    eye = torch.eye(d, dtype=L.dtype, device=L.device).expand_as(L)
    L_inv = torch.linalg.solve_triangular(L, eye, upper=False)  # one inverse per kernel, not per particle
    diff = v[:, :, None, :] - mu[:, None, :, :]  # (B, N, K, d)
    w = torch.einsum("bkij,bnkj->bnki", L_inv, diff)  # L^{-1}(v - mu)
    maha = w.pow(2).sum(-1)  # (B, N, K)
    log_det = torch.diagonal(L, dim1=-2, dim2=-1).log().sum(-1)  # log sqrt(det Sigma), (B, K)
    log_n = -0.5 * maha - log_det[:, None, :] - 0.5 * d * math.log(2.0 * math.pi)
    return torch.logsumexp(log_pi[:, None, :] + log_n, dim=-1)


class MixtureDensityDecoder(nn.Module):
    """``z (B, d_z)`` -> mixture over per-particle ``v in R^{d_x}`` with ``K`` kernels.

    Architecture (Figure 11): residual MLP ``d_z -> n_layers x width -> md_hidden``, the
    activation, then one linear layer giving K mixing logits, K means, K Cholesky diagonals
    and K d_x(d_x-1)/2 strictly lower entries.
    """

    probabilistic = True

    def __init__(self, d_z: int, d_x: int, n_kernels: int, n_layers: int, width: int, md_hidden: int = 50,
                 act: str = "tanh", residual: bool = True, softplus_eps: float = 1e-3,
                 n_particles: int | None = None):
        super().__init__()
        self.d_z = check_int("d_z", d_z)
        self.d_x = check_int("d_x", d_x)
        self.K = check_int("n_kernels (K)", n_kernels)
        check_int("md_hidden", md_hidden)
        if not (isinstance(softplus_eps, (int, float)) and 0 < softplus_eps < 0.5):
            raise ValueError(f"softplus_eps must be in (0, 0.5), got {softplus_eps!r}")
        self.softplus_eps = float(softplus_eps)
        self.n_particles = None if n_particles is None else check_int("n_particles", n_particles)
        self.n_offdiag = d_x * (d_x - 1) // 2
        self.trunk = MLP(d_z, md_hidden, n_layers, width, act, residual)
        self.act = activation(act)
        self.head = nn.Linear(md_hidden, self.K * (1 + 2 * d_x + self.n_offdiag))
        rows, cols = torch.tril_indices(d_x, d_x, offset=-1)
        self.register_buffer("_rows", rows, persistent=False)
        self.register_buffer("_cols", cols, persistent=False)

    def params(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mixture parameters ``(log_pi (B,K), mu (B,K,d_x), L (B,K,d_x,d_x))`` of ``p(v|z)``."""
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.d_z:
            raise ValueError(f"MixtureDensityDecoder: z must have shape (B, {self.d_z}), "
                             f"got {tuple(getattr(z, 'shape', ()))}")
        B, K, d = z.shape[0], self.K, self.d_x
        out = self.head(self.act(self.trunk(z)))
        logits, mu, diag, off = out.split([K, K * d, K * d, K * self.n_offdiag], dim=-1)
        log_pi = torch.log_softmax(logits, dim=-1)
        mu = mu.reshape(B, K, d)
        L = torch.diag_embed(F.softplus(diag.reshape(B, K, d)) + CHOLESKY_FLOOR)
        if self.n_offdiag:
            L = _fill_lower(L, off.reshape(B, K, self.n_offdiag), self._rows, self._cols)
        return log_pi, mu, L

    # -- likelihood ---------------------------------------------------------------
    def to_v(self, y: torch.Tensor) -> torch.Tensor:
        return inverse_softplus(y, self.softplus_eps)

    def _check_particles(self, y: torch.Tensor, B: int) -> None:
        if y.ndim != 3 or y.shape[0] != B or y.shape[-1] != self.d_x:
            raise ValueError(f"MixtureDensityDecoder: particles must have shape ({B}, N, {self.d_x}), "
                             f"got {tuple(y.shape)}")

    def log_prob(self, v: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``log p(v | z)`` per particle, ``v (B, N, d_x)`` -> ``(B, N)``."""
        self._check_particles(v, z.shape[0])
        return mixture_log_prob(v, *self.params(z))

    def log_prob_y(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Log density of the scaled positions ``y`` (adds ``log|dv/dy| = -log(1-exp(-y))``)."""
        y = y.clamp(min=self.softplus_eps)
        return self.log_prob(self.to_v(y), z) - torch.log(-torch.expm1(-y)).sum(-1)

    def reconstruction_loss(self, z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood on ``v = softplus^{-1}(target)``, mean over particles and batch."""
        self._check_particles(target, z.shape[0])
        return -self.log_prob(self.to_v(target), z).mean()

    def n_outputs(self, target: torch.Tensor) -> int:
        return int(target.shape[1])

    # -- sampling -----------------------------------------------------------------
    def sample_v(self, z: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws of ``v`` per configuration, shape ``(B, n, d_x)``."""
        check_int("n_particles", n)
        log_pi, mu, L = self.params(z)
        k = multinomial(log_pi.exp(), n, generator)  # (B, n)
        b = torch.arange(z.shape[0], device=z.device)[:, None]
        eps = randn((z.shape[0], n, self.d_x), generator, z.device, mu.dtype)
        return mu[b, k] + (L[b, k] @ eps[..., None])[..., 0]

    def sample(self, z: torch.Tensor, n: int, generator: torch.Generator | None = None,
               clip: bool = True) -> torch.Tensor:
        """``n`` particles per configuration in scaled units ``y = softplus(v)``, clipped to [0, 1]."""
        y = F.softplus(self.sample_v(z, n, generator))
        return y.clamp(0.0, 1.0) if clip else y

    def reconstruct(self, z: torch.Tensor, n_particles: int | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
        n = n_particles if n_particles is not None else self.n_particles
        if n is None:
            raise ValueError("n_particles must be given (the decoder has no default number of particles)")
        return self.sample(z, n, generator)


def _fill_lower(L: torch.Tensor, off: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``L`` with its strictly lower entries set to ``off`` (out of place, differentiable)."""
    lower = torch.zeros_like(L)
    lower[..., rows, cols] = off
    return L + lower
