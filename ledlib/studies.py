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

__all__ = ["KS_LATENT_GRID", "FHN_LATENT_GRID", "FHN_LED_VARIANTS", "FHN_NOISE_GRID", "PECLET", "PECLET_N",
           "PECLET_SPLITS", "with_latent", "fhn_config", "peclet_case", "Job", "jobs"]

# KS (Figure 37): a subset of Table 7's latent dimensions, dense around the pick d_z = 8
KS_LATENT_GRID = {"paper": (1, 2, 4, 6, 8, 10, 12, 16, 24, 32, 64), "quick": (2, 4, 8, 16)}
# FHN: Table 5's latent grid (Figure 30), Table 6's LED variants d_z x (AE, VAE), and
# Table 6's input-noise grid {0, 1, 10} %, searched for the RNN
FHN_LATENT_GRID = {"paper": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 18, 22, 24, 28, 32, 64), "quick": (2, 4, 8)}
FHN_LED_VARIANTS = {"paper": tuple((d, v) for v in (False, True) for d in (4, 8, 32, 64)),
                    "quick": ((8, False), (8, True))}
FHN_NOISE_GRID = {"paper": (0.0, 0.01, 0.1), "quick": (0.0, 0.01)}
# AD 3-D Péclet study (§8.2.4): Pe -> (D, solver dt), A = (1, 1.74, 0), coarse dt 1, one
# trajectory each of train / val / test, an LSTM of 40 units; quick: 100 particles, tiny data
PECLET = {100: (0.02, 1e-2), 10: (0.2, 1e-3), 1: (2.0, 1e-4)}
PECLET_N = {"paper": 1000, "quick": 100}
PECLET_SPLITS = {"paper": (500, 500, 101), "quick": (60, 30, 21)}


def with_latent(config, d_z: int, variational: bool):
    """``config`` with its autoencoder's latent size and AE/VAE kind replaced."""
    return config.replace(ae=dataclasses.replace(config.ae, d_z=d_z, variational=variational))


def fhn_config(base, d_z: int, variational: bool, noise: float, full: bool = True):
    """The FHN chapter's variant of ``base`` at (d_z, AE/VAE, RNN input noise). ``full=False``
    cuts the RNN stage to one epoch: the latent-dimension study needs the autoencoder only."""
    rnn_train = dataclasses.replace(base.rnn_train, noise_level=noise, **({} if full else {"max_epochs": 1}))
    return with_latent(base, d_z, variational).replace(rnn_train=rnn_train)


def peclet_case(profile: str, pe: int):
    """Dataset spec and LED configuration of the Péclet study's case ``pe`` (a key of PECLET)."""
    from . import data

    config = _configs.get("AD3D", profile)
    D, dt = PECLET[pe]
    n, (n_tr, n_va, n_te) = PECLET_N[config.profile], PECLET_SPLITS[config.profile]
    spec = data.spec("AD3D", config.profile, D=D, dt=dt, A=(1.0, 1.74, 0.0), coarse_dt=1.0, n_particles=n)
    spec = spec.with_(splits=(("train", data.SplitSpec(1, n_tr, seed=1)), ("val", data.SplitSpec(1, n_va, seed=2)),
                              ("test", data.SplitSpec(1, n_te, seed=3))))
    rnn = dataclasses.replace(config.rnn, d_h=40) if config.profile == "paper" else config.rnn
    return spec, config.replace(ae=dataclasses.replace(config.ae, obs_shape=(n, 3)), rnn=rnn)


@dataclass(frozen=True)
class Job:
    """One model to train: ``run(cache, seed, device)`` trains it (or loads it if cached)."""

    name: str
    run: Callable[[str | None, int, str], object]
    data: object = None  # the DatasetSpec it trains on, where not the system's default


def _led(system: str, config, spec=None):
    def run(cache, seed, device):
        from . import data, train

        ds = data.load(spec, cache=cache, progress=False) if spec is not None else None
        return train.fit_led(system, config.profile, config=config, dataset=ds, cache=cache, seed=seed,
                             device=device, progress=False)
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
    out = [Job(config.system, _led(config.system, config))]
    if system == "AD3D":
        for pe in PECLET:
            spec, cfg = peclet_case(config.profile, pe)
            out.append(Job(f"AD3D-Pe{pe}", _led("AD3D", cfg, spec), data=spec))
    return out
