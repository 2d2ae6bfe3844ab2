"""Choosing the torch device from the book's ``device`` parameter."""

from __future__ import annotations

import re

import torch

__all__ = ["resolve_device"]

_CUDA_INDEX = re.compile(r"^cuda:(\d+)$")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Map ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` to a :class:`torch.device`.

    ``"auto"`` picks CUDA when a GPU is visible and the CPU otherwise. Asking for CUDA
    on a machine without it raises ``ValueError`` instead of failing later inside torch.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be a string ('auto', 'cpu', 'cuda' or 'cuda:N'), got {device!r}")
    name = device.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    m = _CUDA_INDEX.match(name)
    if name == "cuda" or m:
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was asked for but CUDA is not available on this machine; "
                             "use device='cpu' or 'auto'")
        if m and int(m.group(1)) >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) are visible")
        return torch.device(name)
    raise ValueError(f"device must be one of 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
