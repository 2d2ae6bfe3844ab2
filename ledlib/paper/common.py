"""What the four paper systems share: the profiles, the training schedules, the rule
that derives a "quick" configuration from the paper's, and the pretraining jobs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from ..configs import SCALING_LABELS, TANH, TableRow

PROFILES = ("quick", "paper")
# The default profile everywhere (configs.get, data.spec, train.fit_led, studies.jobs):
# "quick", because a default must never start hours of work by itself; the paper's
# sizes are always asked for by name.
DEFAULT_PROFILE = "quick"

# Table rows shared by the systems' Tables 1-8 (printed as in the paper)
LATENT_GRID_TABLE = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 18, 22, 24, 28, 32, 64)  # Tables 1, 3, 5, 7
MINMAX = SCALING_LABELS["minmax"]
STANDARD = SCALING_LABELS["standard"]

# Training-length knobs the paper does not report; ours for the paper profile.
PAPER_SCHEDULE = dict(max_epochs=1000, patience=40, lr_patience=10, lr_factor=0.5, min_lr=1e-6)
QUICK_SCHEDULE = dict(max_epochs=30, patience=8, lr_patience=3, lr_factor=0.5, min_lr=1e-5)


def check_profile(profile) -> str:
    """``profile`` ("quick" or "paper", any case) in lower case; else a ``ValueError``."""
    if not isinstance(profile, str) or profile.lower() not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    return profile.lower()


def quick_variant(paper, d_h: int, bptt: int, hidden_propagation_length: int):
    """The quick profile of the paper's configuration ``paper``: the same architecture
    family with a few thousand weights (field AE 3x32; particle AE 2x32 with d_p 32 and
    16 mixture-density units), an RNN of ``d_h`` units, and few epochs."""
    q = QUICK_SCHEDULE
    if paper.ae.kind == "field":
        ae = dataclasses.replace(paper.ae, n_layers=3, width=32)
    else:
        ae = dataclasses.replace(paper.ae, n_layers=2, width=32, d_p=32, md_hidden=16)
    rnn = dataclasses.replace(paper.rnn, d_h=d_h)
    return dataclasses.replace(
        paper, ae=ae, rnn=rnn,
        ae_train=dataclasses.replace(paper.ae_train, **q),
        # four batches of chunks per epoch: one batch of the paper's rule is too few steps
        rnn_train=dataclasses.replace(paper.rnn_train, bptt=bptt, hidden_propagation_length=hidden_propagation_length,
                                      chunks_per_epoch=4 * paper.rnn_train.batch_size, **q),
        profile="quick", note=f"quick profile of: {paper.note}")


def with_latent(config, d_z: int, variational: bool):
    """``config`` with its autoencoder's latent size and AE/VAE kind replaced."""
    return config.replace(ae=dataclasses.replace(config.ae, d_z=d_z, variational=variational))


@dataclass(frozen=True)
class TradeoffSweep:
    """The trade-offs chapter's sweep of rho = T_m / T_mu for one system: the error
    measure (``"mnad"`` or ``"wd"``), the warm-up, the micro phase, the macro phases
    (``None``: latent only) and the horizon per profile."""

    error: str
    T_warm: float
    T_mu: float
    T_ms: tuple
    horizon: dict

    def as_setting(self) -> tuple:
        """The chapter's ``SETTINGS`` row: (error, T_warm, T_mu, [T_m...], (quick, paper) horizon)."""
        return (self.error, self.T_warm, self.T_mu, list(self.T_ms),
                (self.horizon["quick"], self.horizon["paper"]))


@dataclass(frozen=True)
class Job:
    """One model to train: ``run(cache, seed, device)`` trains it (or loads it if cached)."""

    name: str
    run: Callable[[str | None, int, str], object]
    data: object = None  # the DatasetSpec it trains on, where not the system's default


def led_job(system: str, config, spec=None):
    """A job body that trains (or loads) the LED ``config`` on the paper dataset of
    ``system`` (or on ``spec``)."""
    def run(cache, seed, device):
        from .. import data, train

        ds = data.load(spec, cache=cache, progress=False) if spec is not None else None
        return train.fit_led(system, config.profile, config=config, dataset=ds, cache=cache, seed=seed,
                             device=device, progress=False)
    return run


def autoencoder_job(system: str, config):
    """A job body that trains (or loads) the autoencoder stage of ``config`` alone."""
    def run(cache, seed, device):
        from .. import data, train

        ds = data.load(system, config.profile, cache=cache, progress=False)
        return train.fit_autoencoder(config, ds, cache=cache, seed=seed, device=device, progress=False)
    return run


# ---------------------------------------------------------------------------------
# rows of the paper's hyperparameter tables
# ---------------------------------------------------------------------------------
def ad_rows(d_z, k, wd, noise, rnn_part):
    """The rows of the particle systems' tables (1-4); ``rnn_part``: the RNN table's version."""
    rows = [
        TableRow("Number of AE layers", (5,)),
        TableRow("Size of AE layers", (100,)),
        TableRow("Activation of AE layers", TANH),
        TableRow("Latent dimension", d_z),
        TableRow("Residual connections", True),
        TableRow("Variational", "True/False"),
        TableRow("Permutation Invariant Layer d_p", (200, 1001) if not rnn_part else (200,)),
        TableRow("Number of MD kernels K", (k,)),
        TableRow("Hidden units of MD decoder", (50,)),
        TableRow("Input/Output data scaling", SCALING_LABELS["minmax"]),
        TableRow("Noise level in the data", noise, "(%)" if not rnn_part else ""),
        TableRow("Weight decay rate", wd),
        TableRow("Batch size", 32),
        TableRow("Initial learning rate", 0.001),
    ]
    return rows


def rnn_rows(bptt, prop, layers, sizes, name_bptt="BPTT sequence length"):
    """The RNN rows of Tables 2, 4, 6 and 8 (``name_bptt``: the row's name as printed)."""
    return [
        TableRow(name_bptt, bptt),
        TableRow("Hidden state propagation length", prop),
        TableRow("RNN cell type", ("lstm", "gru")),
        TableRow("Number of RNN layers", layers),
        TableRow("Size of RNN layers", sizes),
        TableRow("Activation of RNN Cell", TANH),
    ]


def field_rows(layers, sizes, acts, d_z, residual, scaling, noise, wd, noise_unit=""):
    """The autoencoder rows of the field systems' tables (5-8)."""
    return [
        TableRow("Number of AE layers", layers),
        TableRow("Size of AE layers", sizes),
        TableRow("Activation of AE layers", acts),
        TableRow("Latent dimension", d_z),
        TableRow("Residual connections", residual),
        TableRow("Variational", "True/False"),
        TableRow("Input/Output data scaling", scaling),
        TableRow("Noise level in the data", noise, noise_unit),
        TableRow("Weight decay rate", wd),
        TableRow("Batch size", 32),
        TableRow("Initial learning rate", 0.001),
    ]
