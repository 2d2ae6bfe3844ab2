"""Training throughput of LED's two stages for each system's configuration.

Synthetic data of the right shapes (KS (64,), FHN (2, 101), AD1D (1000, 1), AD3D (1000, 3))
and the dataset sizes of the chosen profile; the numbers measure the networks, not the
physics. Autoencoder: observations per second through a training step (forward, backward,
Adam). RNN: latent transitions per second under truncated BPTT.

    python benchmarks/train_throughput.py                  # paper configs, device auto
    python benchmarks/train_throughput.py --device cpu --epochs 2
    python benchmarks/train_throughput.py --profile quick --full   # whole quick trainings, wall time
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, no install

import argparse
import dataclasses
import time

import numpy as np
import torch

from ledlib import configs
from ledlib.device import resolve_device
from ledlib.nn import LED
from ledlib.train import train_autoencoder, train_rnn

# (training trajectories, samples per trajectory) of each profile's datasets (ledlib.data.spec)
SIZES = {
    "paper": {"KS": (1, 5000), "FHN": (3, 451), "AD1D": (1, 1000), "AD3D": (1, 1000)},
    "quick": {"KS": (1, 1000), "FHN": (3, 451), "AD1D": (1, 200), "AD3D": (1, 200)},
}


def synthetic(cfg, n_traj, T, rng):
    shape = (n_traj, T, *cfg.obs_shape)
    if cfg.ae.kind == "particle":
        return rng.uniform(0, 1, shape).astype(np.float32)  # min-max scaled positions
    return rng.normal(size=shape).astype(np.float32)  # standardised fields


def bench(system, profile, device, epochs, full, seed=0):
    cfg = configs.get(system, profile)
    n_traj, T = SIZES[profile][system]
    rng = np.random.default_rng(seed)
    train = synthetic(cfg, n_traj, T, rng)
    torch.manual_seed(seed)
    led = LED(cfg)
    ae_cfg, rnn_cfg = cfg.ae_train, cfg.rnn_train
    if not full:  # a fixed number of epochs, no early stop
        ae_cfg = dataclasses.replace(ae_cfg, max_epochs=epochs, patience=epochs + 1)
        rnn_cfg = dataclasses.replace(rnn_cfg, max_epochs=epochs, patience=epochs + 1)
    val = train[:, : min(T, 64)] if not full else synthetic(cfg, n_traj, T, rng)
    t0 = time.perf_counter()
    r_ae = train_autoencoder(led, train, val.reshape(-1, *cfg.obs_shape), ae_cfg, seed=seed, device=device,
                             progress=False)
    t_ae = time.perf_counter() - t0
    z = rng.normal(size=(n_traj, T, cfg.d_z)).astype(np.float32).cumsum(1) * 0.1  # latent-like walks
    zval = z if full else z[:, : rnn_cfg.bptt + 1]
    t0 = time.perf_counter()
    r_rnn = train_rnn(led, z, zval, rnn_cfg, seed=seed, device=device, progress=False)
    t_rnn = time.perf_counter() - t0
    # skip the first epoch (allocation, kernel selection) when there is more than one
    def rate(r, per_epoch):
        times = r.history["epoch_time_s"][1:] or r.history["epoch_time_s"]
        return per_epoch * len(times) / sum(times)
    ae_rate = rate(r_ae, n_traj * T)
    rnn_rate = rate(r_rnn, r_rnn.extra["chunks_per_epoch"] * r_rnn.extra["transitions_per_chunk"])
    n_params = sum(p.numel() for p in led.parameters())
    return dict(system=system, params=n_params, ae_rate=ae_rate, rnn_rate=rnn_rate, t_ae=t_ae, t_rnn=t_rnn,
                ae_epochs=r_ae.epochs_run, rnn_epochs=r_rnn.epochs_run)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--profile", default="paper", choices=configs.PROFILES)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--systems", nargs="*", default=list(configs.SYSTEMS))
    ap.add_argument("--full", action="store_true", help="run the profile's whole training schedule")
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = resolve_device(a.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"# LED training throughput, profile={a.profile}, device={dev} ({name}), torch {torch.__version__}")
    print(f"{'system':6} {'params':>8} {'AE samples/s':>13} {'RNN steps/s':>12} {'AE wall s':>10} "
          f"{'RNN wall s':>10} {'epochs AE/RNN':>14}")
    for s in a.systems:
        r = bench(s, a.profile, dev, a.epochs, a.full)
        print(f"{r['system']:6} {r['params']:8d} {r['ae_rate']:13.0f} {r['rnn_rate']:12.0f} {r['t_ae']:10.1f} "
              f"{r['t_rnn']:10.1f} {r['ae_epochs']:>7d}/{r['rnn_epochs']:<6d}", flush=True)


if __name__ == "__main__":
    main()
