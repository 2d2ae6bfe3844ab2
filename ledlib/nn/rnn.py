"""Latent RNN of LED (§6.5, eqs. 13–19): a stateful LSTM or GRU with a linear readout.

``h_t = H(z_t, h_{t-dt})`` and ``z~_{t+dt} = z_t + W h_t`` (``residual=True``, the default:
the network learns the increment, which trained faster and to a lower error than the
paper's ``z~_{t+dt} = W h_t`` of eq. (16) in our tests; ``residual=False`` gives eq. (16)).

The latent states are normalised inside the module, ``(z - mean) / std`` with statistics
of the training latents (:meth:`LatentRNN.set_normalization`), because an encoder's latent
coordinates can have any scale while the gates saturate beyond O(1) inputs. Predictions
are returned in the original latent units.

The hidden state is whatever ``torch.nn.LSTM``/``GRU`` use: a tensor ``(n_layers, B, d_h)``
for the GRU, a tuple ``(h, c)`` of two such tensors for the LSTM; ``None`` means zeros.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import check_int

__all__ = ["LatentRNN", "detach_hidden", "Hidden"]

Hidden = torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None


def detach_hidden(hidden: Hidden) -> Hidden:
    """The hidden state cut from the autograd graph (truncated BPTT carries it across windows)."""
    if hidden is None:
        return None
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


class LatentRNN(nn.Module):
    """``forward(z_seq (B, T, d_z), hidden) -> (z_pred (B, T, d_z), hidden)``, ``z_pred[:, t] ~ z_{t+1}``."""

    def __init__(self, d_z: int, d_h: int = 100, cell: str = "lstm", n_layers: int = 1, residual: bool = True):
        super().__init__()
        self.d_z = check_int("d_z", d_z)
        self.d_h = check_int("d_h", d_h)
        self.n_layers = check_int("n_layers", n_layers)
        if not isinstance(cell, str) or cell.lower() not in ("lstm", "gru"):
            raise ValueError(f"cell must be one of ('lstm', 'gru'), got {cell!r}")
        self.cell = cell.lower()
        self.residual = bool(residual)
        rnn_cls = nn.LSTM if self.cell == "lstm" else nn.GRU
        self.core = rnn_cls(d_z, d_h, num_layers=n_layers, batch_first=True)
        self.readout = nn.Linear(d_h, d_z, bias=False)  # eq. (16): W_{z,h}
        self.register_buffer("z_mean", torch.zeros(d_z))
        self.register_buffer("z_std", torch.ones(d_z))

    @torch.no_grad()
    def set_normalization(self, mean, std) -> None:
        """Fix the latent normalisation (mean and std per latent coordinate, std > 0)."""
        mean = torch.as_tensor(mean, dtype=self.z_mean.dtype, device=self.z_mean.device).reshape(-1)
        std = torch.as_tensor(std, dtype=self.z_std.dtype, device=self.z_std.device).reshape(-1)
        if mean.numel() != self.d_z or std.numel() != self.d_z:
            raise ValueError(f"mean and std must have {self.d_z} entries, got {mean.numel()} and {std.numel()}")
        if not bool(torch.all(torch.isfinite(mean))) or not bool(torch.all(std > 0)):
            raise ValueError("mean must be finite and std > 0")
        self.z_mean.copy_(mean)
        self.z_std.copy_(std)

    def normalize(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.z_mean) / self.z_std

    def denormalize(self, u: torch.Tensor) -> torch.Tensor:
        return u * self.z_std + self.z_mean

    def forward_normalized(self, u_seq: torch.Tensor, hidden: Hidden = None) -> tuple[torch.Tensor, Hidden]:
        """Teacher-forced one-step predictions in normalised units (used by training)."""
        if u_seq.ndim != 3 or u_seq.shape[-1] != self.d_z:
            raise ValueError(f"LatentRNN: z_seq must have shape (B, T, {self.d_z}), got {tuple(u_seq.shape)}")
        h_seq, hidden = self.core(u_seq, hidden)
        out = self.readout(h_seq)
        return (u_seq + out if self.residual else out), hidden

    def forward(self, z_seq: torch.Tensor, hidden: Hidden = None) -> tuple[torch.Tensor, Hidden]:
        u_pred, hidden = self.forward_normalized(self.normalize(z_seq), hidden)
        return self.denormalize(u_pred), hidden

    def step(self, z: torch.Tensor, hidden: Hidden = None) -> tuple[torch.Tensor, Hidden]:
        """One step: ``z (B, d_z)`` and ``h_{t-dt}`` -> ``(z~_{t+dt} (B, d_z), h_t)``."""
        if z.ndim != 2 or z.shape[-1] != self.d_z:
            raise ValueError(f"LatentRNN.step: z must have shape (B, {self.d_z}), got {tuple(z.shape)}")
        if self.n_layers == 1 and not torch.is_grad_enabled():
            return self._fused_step(z, hidden)
        z_next, hidden = self(z[:, None, :], hidden)
        return z_next[:, 0], hidden

    def _fused_step(self, z: torch.Tensor, hidden: Hidden) -> tuple[torch.Tensor, Hidden]:
        """Inference step through the fused ATen cell: the same arithmetic as ``nn.LSTM``/``GRU``
        for one layer and one time step, without their per-call sequence machinery, which
        dominates the cost of a latent step at small batch (LED's speed-up lives here)."""
        c = self.core
        u = (z - self.z_mean) / self.z_std
        weights = (c.weight_ih_l0, c.weight_hh_l0, c.bias_ih_l0, c.bias_hh_l0)
        if hidden is None:
            h0 = u.new_zeros(z.shape[0], self.d_h)
            hidden = (h0[None], h0[None]) if self.cell == "lstm" else h0[None]
        if self.cell == "lstm":
            h, cc = torch.lstm_cell(u, (hidden[0][0], hidden[1][0]), *weights)
            new_hidden = (h[None], cc[None])
        else:
            h = torch.gru_cell(u, hidden[0], *weights)
            new_hidden = h[None]
        out = self.readout(h)
        u_next = u + out if self.residual else out
        return u_next * self.z_std + self.z_mean, new_hidden
