"""The models the book's chapters train, named in one place.

A chapter trains its LED and, for the hyperparameter and latent-dimension studies, a
family of variants. Each is cached under a key of its configuration, data and seed
(:func:`ledlib.train.model_key`), so whatever trains a model first, a chapter or
``scripts/pretrain.py`` on another machine (a GPU, say), the chapter then loads it.
The grids below are the chapters' own; :func:`jobs` lists every model of a system and
profile in the order a pretraining run should take them (the most expensive first).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from . import configs as _configs

__all__ = ["KS_LATENT_GRID", "FHN_LATENT_GRID", "FHN_LED_VARIANTS", "FHN_NOISE_GRID", "with_latent",
           "fhn_config", "Job", "jobs"]

# KS (Figure 37): a subset of Table 7's latent dimensions, dense around the pick d_z = 8
KS_LATENT_GRID = {"paper": (1, 2, 4, 6, 8, 10, 12, 16, 24, 32, 64), "quick": (2, 4, 8, 16)}
# FHN: Table 5's latent grid (Figure 30), Table 6's LED variants d_z x (AE, VAE), and
# Table 6's input-noise grid {0, 1, 10} %, searched for the RNN
FHN_LATENT_GRID = {"paper": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 18, 22, 24, 28, 32, 64), "quick": (2, 4, 8)}
FHN_LED_VARIANTS = {"paper": tuple((d, v) for v in (False, True) for d in (4, 8, 32, 64)),
                    "quick": ((8, False), (8, True))}
FHN_NOISE_GRID = {"paper": (0.0, 0.01, 0.1), "quick": (0.0, 0.01)}


def with_latent(config, d_z: int, variational: bool):
    """``config`` with its autoencoder's latent size and AE/VAE kind replaced."""
    return config.replace(ae=dataclasses.replace(config.ae, d_z=d_z, variational=variational))


def fhn_config(base, d_z: int, variational: bool, noise: float, full: bool = True):
    """The FHN chapter's variant of ``base`` at (d_z, AE/VAE, RNN input noise). ``full=False``
    cuts the RNN stage to one epoch: the latent-dimension study needs the autoencoder only."""
    rnn_train = dataclasses.replace(base.rnn_train, noise_level=noise, **({} if full else {"max_epochs": 1}))
    return with_latent(base, d_z, variational).replace(rnn_train=rnn_train)


@dataclass(frozen=True)
class Job:
    """One model to train: ``run(cache, seed, device)`` trains it (or loads it if cached)."""

    name: str
    run: Callable[[str | None, int, str], object]


def _led(system: str, config):
    def run(cache, seed, device):
        from . import train

        return train.fit_led(system, config.profile, config=config, cache=cache, seed=seed, device=device,
                             progress=False)
    return run


def _autoencoder(system: str, config):
    def run(cache, seed, device):
        from . import data, train

        ds = data.load(system, config.profile, cache=cache, progress=False)
        return train.fit_autoencoder(config, ds, cache=cache, seed=seed, device=device, progress=False)
    return run


def _ks_with_residual_readout(config):
    def run(cache, seed, device):
        from . import train

        fitted = _led("KS", config)(cache, seed, device)
        return train.fit_rnn(fitted.led, dataclasses.replace(config.rnn, residual=True), fitted.dataset,
                             cache=cache, seed=seed, device=device, progress=False)
    return run


def jobs(system: str, profile: str) -> list[Job]:
    """Every model the chapter of ``system`` trains in ``profile``, the main LED first.

    The FHN variants assume the chapter's noise search picks the configured level (it
    picks by validation forecasts; a different pick trains the rest in the chapter)."""
    config = _configs.get(system, profile)
    if system == "KS":
        out = [Job("KS", _ks_with_residual_readout(config))]
        for d_z in KS_LATENT_GRID[config.profile]:
            for v in (False, True):
                c = with_latent(config, d_z, v)
                if c != config:
                    out.append(Job(f"KS-{'VAE' if v else 'AE'}-{d_z}", _autoencoder("KS", c)))
        return out
    if system == "FHN":
        noise = config.rnn_train.noise_level
        out = [Job(f"FHN-noise-{n:g}", _led("FHN", fhn_config(config, config.ae.d_z, config.ae.variational, n)))
               for n in FHN_NOISE_GRID[config.profile]]
        out += [Job(f"FHN-{'VAE' if v else 'AE'}-{d}", _led("FHN", fhn_config(config, d, v, noise)))
                for d, v in FHN_LED_VARIANTS[config.profile] if (d, v) != (config.ae.d_z, config.ae.variational)]
        variants = set(FHN_LED_VARIANTS[config.profile]) | {(config.ae.d_z, config.ae.variational)}
        out += [Job(f"FHN-latent-{'VAE' if v else 'AE'}-{d}", _led("FHN", fhn_config(config, d, v, noise, full=False)))
                for v in (False, True) for d in FHN_LATENT_GRID[config.profile] if (d, v) not in variants]
        return out
    return [Job(config.system, _led(config.system, config))]
