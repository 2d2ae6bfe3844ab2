"""Building blocks shared by LED's networks: activations, the residual MLP, random draws."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["activation", "MLP", "randn", "multinomial", "check_int"]

_ACTIVATIONS = {"tanh": nn.Tanh, "selu": nn.SELU}


def check_int(name: str, value, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return value


def activation(name: str) -> nn.Module:
    """The activation module for ``name`` in {tanh, selu} (Tables 1–8)."""
    if not isinstance(name, str) or name.lower() not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(_ACTIVATIONS)}, got {name!r}")
    return _ACTIVATIONS[name.lower()]()


class MLP(nn.Module):
    """Fully connected network ``d_in -> n_layers x width -> d_out`` (§6.1).

    The first hidden layer maps ``d_in`` to ``width``; each further hidden layer is
    ``h <- h + act(W h + b)`` when ``residual`` (same width, so the skip needs no
    projection) and ``h <- act(W h + b)`` otherwise. The output layer is linear.
    """

    def __init__(self, d_in: int, d_out: int, n_layers: int, width: int, act: str = "tanh",
                 residual: bool = True):
        super().__init__()
        check_int("d_in", d_in)
        check_int("d_out", d_out)
        check_int("n_layers", n_layers)
        check_int("width", width)
        self.d_in, self.d_out, self.residual = d_in, d_out, bool(residual)
        self.inp = nn.Linear(d_in, width)
        self.hidden = nn.ModuleList(nn.Linear(width, width) for _ in range(n_layers - 1))
        self.act = activation(act)
        self.out = nn.Linear(width, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.inp(x))
        for layer in self.hidden:
            h = h + self.act(layer(h)) if self.residual else self.act(layer(h))
        return self.out(h)


def randn(shape, generator: torch.Generator | None, device, dtype=torch.float32) -> torch.Tensor:
    """Standard normal draws made on the generator's device, then moved to ``device``.

    Drawing where the generator lives lets a seeded CPU generator drive sampling on any
    device, with the same numbers on CPU and GPU.
    """
    gdev = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=gdev, dtype=dtype).to(device)


def multinomial(probs: torch.Tensor, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` category draws with replacement per row of ``probs`` (see :func:`randn`)."""
    gdev = generator.device if generator is not None else probs.device
    idx = torch.multinomial(probs.detach().to(gdev), n, replacement=True, generator=generator)
    return idx.to(probs.device)
