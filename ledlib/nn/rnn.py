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
import torch.nn.functional as F
from torch import nn

from .layers import check_int

__all__ = ["LatentRNN", "LatentRollout", "detach_hidden", "Hidden"]

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
            rollout = LatentRollout(self, z, hidden)
            rollout.advance(1)
            return rollout.z, rollout.hidden
        z_next, hidden = self(z[:, None, :], hidden)
        return z_next[:, 0], hidden


class LatentRollout:
    """The RNN iterating on its own output, for inference (no autograd).

    ``LatentRollout(rnn, z, hidden)``, then ``advance(n)`` any number of times; ``z`` and
    ``hidden`` read the current state in the module's units and format. With one layer,
    the state stays normalised between reads and each step is one fused ATen cell call and
    the readout: the same arithmetic as ``nn.LSTM``/``GRU`` for one layer and one time step,
    without their sequence machinery or a (de)normalisation per step. At small batch a
    latent step is bound by per-operation overhead, so this is where LED's speed-up lives.
    Other cases step through the module.
    """

    def __init__(self, rnn: LatentRNN, z: torch.Tensor, hidden: Hidden = None):
        if z.ndim != 2 or z.shape[-1] != rnn.d_z:
            raise ValueError(f"LatentRollout: z must have shape (B, {rnn.d_z}), got {tuple(z.shape)}")
        self._rnn = rnn
        self._fused = rnn.n_layers == 1 and not torch.is_grad_enabled()
        self._z, self._hidden = z, hidden
        if self._fused:
            self._u = rnn.normalize(z)
            if hidden is None:
                h0 = z.new_zeros(z.shape[0], rnn.d_h)
                self._h, self._c = h0, h0
            elif rnn.cell == "lstm":
                self._h, self._c = hidden[0][0], hidden[1][0]
            else:
                self._h, self._c = hidden[0], None

    def advance(self, n: int) -> None:
        """``n`` steps of the RNN on its own output."""
        from ..forecast.schedule import MAX_STEPS  # a Python loop: refuse what would never end

        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if n > MAX_STEPS:
            raise ValueError(f"n must be at most {MAX_STEPS} steps, got {n}")
        r = self._rnn
        if not self._fused:
            for _ in range(n):
                self._z, self._hidden = r(self._z[:, None, :], self._hidden)
                self._z = self._z[:, 0]
            return
        c = r.core
        weights = (c.weight_ih_l0, c.weight_hh_l0, c.bias_ih_l0, c.bias_hh_l0)
        W, residual, lstm = r.readout.weight, r.residual, r.cell == "lstm"
        u, h, cc = self._u, self._h, self._c
        for _ in range(n):
            if lstm:
                h, cc = torch.lstm_cell(u, (h, cc), *weights)
            else:
                h = torch.gru_cell(u, h, *weights)
            out = F.linear(h, W)
            u = u + out if residual else out
        self._u, self._h, self._c = u, h, cc
        if n:
            self._z = self._hidden = None  # read lazily: most steps are never looked at

    @property
    def z(self) -> torch.Tensor:
        """The current latent state ``(B, d_z)`` in the module's (unnormalised) units."""
        if self._z is None:
            self._z = self._rnn.denormalize(self._u)
        return self._z

    @property
    def hidden(self) -> Hidden:
        """The current hidden state in ``nn.LSTM``/``GRU`` format."""
        if self._hidden is None:
            self._hidden = (self._h[None], self._c[None]) if self._rnn.cell == "lstm" else self._h[None]
        return self._hidden
