"""Permutation-invariant encoder (§6.3, Figure 10).

A configuration ``s = {x^1, ..., x^N}``, ``x^i in R^{d_x}``, is encoded as
``z = g( (1/N) sum_i phi(x^i) )`` with ``phi: R^{d_x} -> R^{d_p}`` and
``g: R^{d_p} -> R^{d_z}`` residual MLPs. The mean over particles makes ``z`` invariant
to the order of the particles and defined for any ``N`` (a model trained on N=1000
encodes N=400, Figures 27–28).
"""

from __future__ import annotations

import torch
from torch import nn

from .autoencoder import LOGVAR_MAX, LOGVAR_MIN
from .layers import MLP, check_int

__all__ = ["PermutationInvariantEncoder"]


class PermutationInvariantEncoder(nn.Module):
    """``x (B, N, d_x)`` -> ``(mu, logvar)`` with ``mu (B, d_z)`` (``logvar`` None unless variational)."""

    def __init__(self, d_x: int, d_p: int, d_z: int, n_layers: int, width: int, act: str = "tanh",
                 residual: bool = True, variational: bool = False):
        super().__init__()
        self.d_x = check_int("d_x", d_x)
        self.d_p = check_int("d_p", d_p)
        self.d_z = check_int("d_z", d_z)
        self.variational = bool(variational)
        self.phi = MLP(d_x, d_p, n_layers, width, act, residual)
        self.g = MLP(d_p, 2 * d_z if self.variational else d_z, n_layers, width, act, residual)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The permutation-invariant feature ``(1/N) sum_i phi(x^i)``, shape ``(B, d_p)``."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"PermutationInvariantEncoder: x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 3 or x.shape[-1] != self.d_x or x.shape[1] < 1:
            raise ValueError("PermutationInvariantEncoder: x must have shape (B, N, d_x) with "
                             f"d_x={self.d_x} and N >= 1, got {tuple(x.shape)}")
        return self.phi(x).mean(dim=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = self.g(self.features(x))
        if not self.variational:
            return out, None
        mu, logvar = out.split(self.d_z, dim=-1)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)
