"""Advection–diffusion in 3-D (§8.2, Tables 3–4, Figures 19–28): dataset,
configuration, the AD 3-D chapter's protocol and its Péclet study (§8.2.4)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..configs import AutoencoderConfig, LEDConfig, PaperTable, RNNConfig, TrainConfig
from ..data import DatasetSpec, SplitSpec  # noqa: F401  (DatasetSpec: the return type)
from .ad1d import Protocol, particle_dataset_spec
from ..systems import AdvectionDiffusion
from .common import (DEFAULT_PROFILE, LATENT_GRID_TABLE, PAPER_SCHEDULE, ad_rows, check_profile, Job, led_job,
                     quick_variant, rnn_rows, TradeoffSweep)

NAME = "AD3D"


def make_system(**system_kwargs) -> AdvectionDiffusion:
    """The solver with the paper's parameters (keywords override them)."""
    return AdvectionDiffusion(dim=3, **system_kwargs)


def dataset_spec(profile: str = DEFAULT_PROFILE, **system_kwargs) -> DatasetSpec:
    return particle_dataset_spec("AD3D", profile, **system_kwargs)


def paper_config() -> LEDConfig:
    """§8.2: as AD 1-D with d_z=8 and K=5; Table 4: noise 0, weight decay 0."""
    s = PAPER_SCHEDULE
    return LEDConfig(
        "AD3D",
        AutoencoderConfig((1000, 3), d_z=8, kind="particle", n_layers=5, width=100, activation="tanh",
                          residual=True, variational=True, d_p=200, n_kernels=5, md_hidden=50),
        RNNConfig("lstm", d_h=100, n_layers=1),
        TrainConfig(weight_decay=0.0, noise_level=0.0, **s),
        TrainConfig(bptt=100, hidden_propagation_length=500, **s),
        scaling="minmax", profile="paper", note="§8.2 and Tables 3-4")


def config(profile: str = DEFAULT_PROFILE) -> LEDConfig:
    """The LED configuration of ``profile``: the paper's pick, or its quick variant."""
    p = paper_config()
    return p if check_profile(profile) == "paper" else quick_variant(p, d_h=16, bptt=20, hidden_propagation_length=60)


# Tables 3-4 as printed in the paper
TABLES = {
    3: PaperTable(3, "Autoencoder Hyperparameters for Advection-Diffusion in 3-D (d_x = 3)", "AD3D", "ae",
                  tuple(ad_rows(LATENT_GRID_TABLE, 5, (0.0, 0.00001), (0, 1, 10), False))),
    4: PaperTable(4, "LED-RNN Hyperparameters for Advection-Diffusion in 3-D (d_x = 3)", "AD3D", "rnn",
                  tuple(ad_rows((8,), 5, (0.0,), (0,), True)
                        + rnn_rows((100,), 500, (1,), (10, 20, 50, 100), "BBTT Sequence length"))),
}


# T_long: the latent-only run the metastable states are read from (the paper does not say
# its length). Latent steps cost microseconds, and a count needs a run that visits its
# states many times: the quick model's run of T = 1000 had an integrated autocorrelation
# time of 291 samples (3 effective samples); 50 effective samples need ~100 of them.
PROTOCOL = {
    "paper": Protocol(T_warm=60.0, T_mu=50.0, T_ms=(900.0, 450.0, 250.0), T_f=4000.0, T_show=1000.0, T_long=20000.0,
                      record_every=10, n_ic=4, n_runs=16, i0=200, T_speed=100.0,
                      snaps=(0.0, 500.0, 625.0, 875.0)),
    "quick": Protocol(T_warm=5.0, T_mu=5.0, T_ms=(45.0, 25.0), T_f=100.0, T_show=50.0, T_long=1000.0,
                      record_every=2, n_ic=2, n_runs=4, i0=100, T_speed=20.0,
                      snaps=(0.0, 25.0, 31.5, 44.0)),
}

# The encoded true run the latent orbit is compared with: T after the warm-up (the paper
# profile's: 64 periods of the wind, ~90 s of the micro solver on one core).
T_TRUE_LONG = {"paper": 2000.0, "quick": 200.0}

# the trade-offs chapter (Figure 26)
TRADEOFF = TradeoffSweep("wd", 5.0, 5.0, (None, 45.0, 25.0, 5.0), {"quick": 80.0, "paper": 400.0})

# Péclet study (§8.2.4): Pe -> (D, solver dt), A = (1, 1.74, 0), coarse dt 1, one
# trajectory each of train / val / test, an LSTM of 40 units; quick: 100 particles, tiny data
PECLET = {100: (0.02, 1e-2), 10: (0.2, 1e-3), 1: (2.0, 1e-4)}
PECLET_N = {"paper": 1000, "quick": 100}
PECLET_SPLITS = {"paper": (500, 500, 101), "quick": (60, 30, 21)}

# The metastable-state analysis of the long latent run (Figures 4, 22, 23): keywords of
# ledlib.clustering.metastable_states. 19 Gaussian surrogates: the smallest number for a
# test at the 5 % level; points clustered: dense eigenproblems of this size, one per
# surrogate (2000 points took ~57 s each on a shared core, 1000 about an eighth of that).
METASTABLE = {"paper": dict(n_components=3, k_max=10, max_points=1000, n_surrogates=19, alpha=0.05, seed=0),
              "quick": dict(n_components=3, k_max=10, max_points=800, n_surrogates=19, alpha=0.05, seed=0)}
# its null for a run on a closed orbit (ledlib.clustering.orbit_null_gaps), alike
ORBIT_NULL = {p: {k: v for k, v in kw.items() if k in ("n_components", "k_max", "max_points", "n_surrogates")}
              for p, kw in METASTABLE.items()}


@dataclass(frozen=True)
class PecletProtocol:
    """The Péclet study's forecasts: warm-up, horizon, micro phases, runs per case."""

    T_warm: float
    T_f: float
    T_mu: float
    n_runs: int


PECLET_PROTOCOL = {"paper": PecletProtocol(T_warm=60.0, T_f=3000.0, T_mu=50.0, n_runs=32),
                   "quick": PecletProtocol(T_warm=2.0, T_f=6.0, T_mu=2.0, n_runs=4)}


def peclet_case(profile: str, pe: int):
    """Dataset spec and LED configuration of the Péclet study's case ``pe`` (a key of PECLET)."""
    if pe not in PECLET:
        raise ValueError(f"pe must be one of {tuple(PECLET)}, got {pe!r}")
    cfg = config(profile)
    D, dt = PECLET[pe]
    n, (n_tr, n_va, n_te) = PECLET_N[cfg.profile], PECLET_SPLITS[cfg.profile]
    spec = dataset_spec(cfg.profile, D=D, dt=dt, A=(1.0, 1.74, 0.0), coarse_dt=1.0, n_particles=n)
    spec = spec.with_(splits=(("train", SplitSpec(1, n_tr, seed=1)), ("val", SplitSpec(1, n_va, seed=2)),
                              ("test", SplitSpec(1, n_te, seed=3))))
    rnn = dataclasses.replace(cfg.rnn, d_h=40) if cfg.profile == "paper" else cfg.rnn
    return spec, cfg.replace(ae=dataclasses.replace(cfg.ae, obs_shape=(n, 3)), rnn=rnn)


def jobs(profile: str = DEFAULT_PROFILE) -> list[Job]:
    """The chapter's LED, then one LED per Péclet case."""
    cfg = config(profile)
    out = [Job(cfg.system, led_job(cfg.system, cfg))]
    for pe in PECLET:
        spec, c = peclet_case(cfg.profile, pe)
        out.append(Job(f"AD3D-Pe{pe}", led_job("AD3D", c, spec), data=spec))
    return out
