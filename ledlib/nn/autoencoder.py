"""Autoencoders of LED (§6.1–6.2, Figure 9).

An :class:`Autoencoder` composes an encoder and a decoder:

- an encoder maps ``x (B, *obs_shape)`` to ``(mu, logvar)``, where ``logvar`` is
  ``None`` unless the encoder is variational; ``z = mu`` for a plain AE;
- a decoder maps ``z (B, d_z)`` to a reconstruction and provides
  ``reconstruction_loss(z, target)`` (mean per reconstructed value) and
  ``n_outputs(target)`` (how many values one sample reconstructs).

Field systems (KS, FHN) use :class:`FieldEncoder`/:class:`FieldDecoder` on the flattened
observable and the MSE loss; particle systems use the permutation-invariant encoder and the
mixture-density decoder (:mod:`.permutation`, :mod:`.mixture`) with the negative
log-likelihood. The VAE adds the KL divergence of ``N(mu, diag(exp(logvar)))`` to N(0, I).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import MLP, check_int, randn

__all__ = ["FieldEncoder", "FieldDecoder", "Autoencoder", "kl_to_standard_normal", "LOGVAR_MIN", "LOGVAR_MAX"]

# The log-variance is clipped so exp() neither under- nor overflows in float32.
LOGVAR_MIN, LOGVAR_MAX = -20.0, 10.0


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) per sample, summed over latent dims, shape (B,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def _check_shape(x: torch.Tensor, obs_shape: tuple[int, ...], who: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != len(obs_shape) + 1 or tuple(x.shape[1:]) != tuple(obs_shape):
        raise ValueError(f"{who}: x must have shape (B, {', '.join(map(str, obs_shape))}), "
                         f"got {tuple(x.shape)}")


class FieldEncoder(nn.Module):
    """``x (B, *obs_shape)`` -> flatten -> residual MLP -> ``mu`` (and ``logvar`` if variational)."""

    def __init__(self, obs_shape: tuple[int, ...], d_z: int, n_layers: int, width: int,
                 act: str = "tanh", residual: bool = True, variational: bool = False):
        super().__init__()
        self.obs_shape = tuple(int(s) for s in obs_shape)
        self.d_z = check_int("d_z", d_z)
        self.variational = bool(variational)
        d_in = math.prod(self.obs_shape)
        self.net = MLP(d_in, 2 * d_z if self.variational else d_z, n_layers, width, act, residual)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        _check_shape(x, self.obs_shape, "FieldEncoder")
        out = self.net(x.reshape(x.shape[0], -1))
        if not self.variational:
            return out, None
        mu, logvar = out.split(self.d_z, dim=-1)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)


class FieldDecoder(nn.Module):
    """``z (B, d_z)`` -> residual MLP -> ``x (B, *obs_shape)``; trained with the MSE (§6.1)."""

    probabilistic = False

    def __init__(self, obs_shape: tuple[int, ...], d_z: int, n_layers: int, width: int,
                 act: str = "tanh", residual: bool = True):
        super().__init__()
        self.obs_shape = tuple(int(s) for s in obs_shape)
        self.d_z = check_int("d_z", d_z)
        self.net = MLP(d_z, math.prod(self.obs_shape), n_layers, width, act, residual)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.d_z:
            raise ValueError(f"FieldDecoder: z must have shape (B, {self.d_z}), got {tuple(z.shape)}")
        return self.net(z).reshape(z.shape[0], *self.obs_shape)

    def reconstruct(self, z, n_particles=None, generator=None) -> torch.Tensor:
        return self(z)

    def reconstruction_loss(self, z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (self(z) - target).pow(2).mean()

    def n_outputs(self, target: torch.Tensor) -> int:
        return math.prod(self.obs_shape)


class Autoencoder(nn.Module):
    """Encoder + decoder; a VAE when the encoder is variational (§6.2)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        if encoder.d_z != decoder.d_z:
            raise ValueError(f"encoder d_z={encoder.d_z} and decoder d_z={decoder.d_z} must match")
        self.encoder, self.decoder = encoder, decoder

    @property
    def d_z(self) -> int:
        return self.encoder.d_z

    @property
    def variational(self) -> bool:
        return self.encoder.variational

    @property
    def probabilistic(self) -> bool:
        """True when the decoder is a distribution (mixture density) rather than a map."""
        return bool(getattr(self.decoder, "probabilistic", False))

    def encode(self, x: torch.Tensor, sample: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Latent state ``z (B, d_z)``: the mean, or a reparametrised draw if ``sample`` (VAE)."""
        mu, logvar = self.encoder(x)
        if sample and logvar is not None:
            return mu + (0.5 * logvar).exp() * randn(mu.shape, generator, mu.device, mu.dtype)
        return mu

    def decode(self, z: torch.Tensor, n_particles: int | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        return self.decoder.reconstruct(z, n_particles=n_particles, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor, target: torch.Tensor | None = None, *, sample: bool = True,
             generator: torch.Generator | None = None, kl_weight: float = 1.0
             ) -> tuple[torch.Tensor, dict[str, float]]:
        """Training objective on a batch, per reconstructed value.

        ``x`` is the (possibly noisy) encoder input, ``target`` the clean data (default
        ``x``). Loss = reconstruction (MSE, or the mixture's negative log-likelihood)
        ``+ kl_weight * KL / n_outputs`` for a VAE, i.e. the negative evidence lower bound
        divided by the number of reconstructed values when ``kl_weight=1``.
        """
        target = x if target is None else target
        mu, logvar = self.encoder(x)
        z = mu
        if logvar is not None and sample:
            z = mu + (0.5 * logvar).exp() * randn(mu.shape, generator, mu.device, mu.dtype)
        recon = self.decoder.reconstruction_loss(z, target)
        parts = {"recon": recon.detach()}
        total = recon
        if logvar is not None:
            kl = kl_to_standard_normal(mu, logvar).mean()
            total = total + kl_weight * kl / self.decoder.n_outputs(target)
            parts["kl"] = kl.detach()
        return total, parts
