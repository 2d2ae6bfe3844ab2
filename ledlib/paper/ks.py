"""Kuramoto–Sivashinsky (§8.4, Tables 7–8, Figures 37–42): dataset, configuration,
the KS chapter's protocol and its latent-dimension study."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..configs import AutoencoderConfig, LEDConfig, PaperTable, RNNConfig, TrainConfig
from ..data import DatasetSpec, SplitSpec
from ..systems import KuramotoSivashinsky
from .common import (DEFAULT_PROFILE, LATENT_GRID_TABLE, PAPER_SCHEDULE, STANDARD, TANH, autoencoder_job,
                     check_profile, field_rows, Job, led_job, quick_variant, rnn_rows, TradeoffSweep, with_latent)

NAME = "KS"


def make_system(**system_kwargs) -> KuramotoSivashinsky:
    """The solver with the paper's parameters (keywords override them)."""
    return KuramotoSivashinsky(**system_kwargs)


def dataset_spec(profile: str = DEFAULT_PROFILE, **system_kwargs) -> DatasetSpec:
    """5·10^3 training and 5·10^3 validation samples at coarse dt 0.25 after a transient,
    10^5 test samples from another seed (10 trajectories of 10^4, generated as one batch)."""
    paper = check_profile(profile) == "paper"
    splits = (
        ("train", SplitSpec(1, 5000 if paper else 1000, seed=1)),
        ("val", SplitSpec(1, 5000 if paper else 1000, seed=2)),
        ("test", SplitSpec(10 if paper else 2, 10_000 if paper else 2000, seed=3)),
    )
    # initial_conditions() already discards 100 time units; this drops as much again
    return DatasetSpec("KS", profile.lower(), tuple(sorted(system_kwargs.items())), splits, transient=100.0,
                       scaling="standard")


def paper_config() -> LEDConfig:
    """§8.4: AE 5x50 residual tanh, d_z=8, noise 10 %, weight decay 1e-4 (AE only), GRU
    of 200 units, BPTT 125; Table 8: hidden propagation 1000, N(0,1) scaling."""
    s = PAPER_SCHEDULE
    return LEDConfig(
        "KS",
        AutoencoderConfig((64,), d_z=8, n_layers=5, width=50, activation="tanh", residual=True),
        # eq. (16) readout z = W h: with the residual readout z + W h, long latent
        # forecasts of the paper-size model drifted off the attractor (|z| ~ 1e3 against
        # 3.8 in the data; WD of u 0.90 against 0.021 with eq. 16)
        RNNConfig("gru", d_h=200, n_layers=1, residual=False),
        TrainConfig(weight_decay=1e-4, noise_level=0.10, **s),
        TrainConfig(bptt=125, hidden_propagation_length=1000, **s),
        scaling="standard", profile="paper",
        note="§8.4 and Table 8; epochs/patience not reported in the paper")


def config(profile: str = DEFAULT_PROFILE) -> LEDConfig:
    """The LED configuration of ``profile``: the paper's pick, or its quick variant."""
    p = paper_config()
    return p if check_profile(profile) == "paper" else quick_variant(p, d_h=32, bptt=25, hidden_propagation_length=100)


def without_input_noise(config: LEDConfig) -> LEDConfig:
    """``config`` with its autoencoder trained without the paper's 10 % input noise
    (everything else the same): the chapter's check of what the noise does to the
    decoder's error floor in the power spectrum (Figure 41)."""
    if not isinstance(config, LEDConfig):
        raise TypeError(f"config must be an LEDConfig, got {type(config).__name__}")
    return config.replace(ae_train=dataclasses.replace(config.ae_train, noise_level=0.0))


# Tables 7-8 as printed in the paper
TABLES = {
    7: PaperTable(7, "Autoencoder Hyperparameters for Kuramoto-Sivashinsky", "KS", "ae",
                  tuple(field_rows((4, 5, 6, 7), (50, 100), "selu(·), tanh(·)", LATENT_GRID_TABLE,
                                   "True/False", STANDARD, (1, 10, 100), (0.0, 0.0001, 0.001)))),
    8: PaperTable(8, "LED Hyperparameters for Kuramoto-Sivashinsky", "KS", "rnn",
                  tuple(field_rows((5,), (50,), TANH, (8,), True, STANDARD, (1, 10), (0.0, 0.0001))
                        + rnn_rows((125, 250), 1000, (1, 2), (100, 200, 400)))),
}


# Figure 37: a subset of Table 7's latent dimensions, dense around the pick d_z = 8
LATENT_GRID = {"paper": (1, 2, 4, 6, 8, 10, 12, 16, 24, 32, 64), "quick": (2, 4, 8, 16)}


@dataclass(frozen=True)
class Protocol:
    """The KS chapter's forecasts: ``n_ic`` test initial conditions, warm-up ``T_warm``,
    horizon ``T_f``, micro phases ``T_mu`` between macro phases ``T_ms`` (rho = 0.5 ...
    10, with Figure 39's 64 and Figure 40's 80), the speed-up horizon ``T_speed`` (whole
    cycles of the slowest variant) and the NAD threshold of the valid time."""

    n_ic: int
    T_warm: float
    T_f: float
    T_mu: float
    T_ms: tuple[float, ...]
    T_speed: float
    nad_threshold: float


_T_MS = (4.0, 8.0, 16.0, 32.0, 64.0, 80.0)
PROTOCOL = {
    "paper": Protocol(n_ic=100, T_warm=60.0, T_f=800.0, T_mu=8.0, T_ms=_T_MS, T_speed=880.0, nad_threshold=0.1),
    "quick": Protocol(n_ic=2, T_warm=60.0, T_f=200.0, T_mu=8.0, T_ms=_T_MS, T_speed=88.0, nad_threshold=0.1),
}

# the trade-offs chapter (Figure 42)
TRADEOFF = TradeoffSweep("mnad", 15.0, 2.5, (None, 25.0, 12.5, 2.5), {"quick": 60.0, "paper": 200.0})


def _with_residual_readout(config):
    def run(cache, seed, device):
        from .. import train

        fitted = led_job("KS", config)(cache, seed, device)
        return train.fit_rnn(fitted.led, dataclasses.replace(config.rnn, residual=True), fitted.dataset,
                             cache=cache, seed=seed, device=device, progress=False)
    return run


def jobs(profile: str = DEFAULT_PROFILE) -> list[Job]:
    """The chapter's models: the LED (and its RNN with the residual readout), then the
    autoencoders of the latent study (AE and VAE at every d_z of the grid), then the LED's
    autoencoder trained without input noise (the spectrum-floor test)."""
    cfg = config(profile)
    out = [Job("KS", _with_residual_readout(cfg))]
    for d_z in LATENT_GRID[cfg.profile]:
        for v in (False, True):
            c = with_latent(cfg, d_z, v)
            if c != cfg:
                out.append(Job(f"KS-{'VAE' if v else 'AE'}-{d_z}", autoencoder_job("KS", c)))
    # the chapter's test of the decoder's error floor: the LED's autoencoder without input noise
    out.append(Job("KS-AE-8-no-noise", autoencoder_job("KS", without_input_noise(cfg))))
    return out
