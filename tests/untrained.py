"""Untrained LEDs for the tests: seeded, and members of an ensemble that share one
autoencoder (as :func:`ledlib.ensemble.fit_ensemble` builds them, without the training)."""

from __future__ import annotations

import torch

from ledlib import configs
from ledlib.nn import LED


def untrained_led(system: str, seed: int, *, ae_from: LED | None = None, normalised: bool = True) -> LED:
    """The quick configuration's LED with torch seeded by ``seed``; ``ae_from``: copy that
    LED's autoencoder weights; ``normalised``: a latent normalisation that is not the
    identity, so that the units of a spread or a latent error show."""
    torch.manual_seed(seed)
    led = LED(configs.get(system, profile="quick")).eval()
    if ae_from is not None:
        led.autoencoder.load_state_dict(ae_from.autoencoder.state_dict())
    if normalised:
        led.rnn.set_normalization(torch.linspace(-0.5, 0.5, led.d_z), torch.linspace(0.5, 2.0, led.d_z))
    return led


def shared_autoencoder_members(system: str, K: int, *, normalised: bool = True, first: LED | None = None) -> list[LED]:
    """``K`` LEDs with RNNs from seeds ``0..K-1`` on the autoencoder of the first."""
    first = untrained_led(system, 0, normalised=normalised) if first is None else first
    return [first] + [untrained_led(system, k, ae_from=first, normalised=normalised) for k in range(1, K)]
