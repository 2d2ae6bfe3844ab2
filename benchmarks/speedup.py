"""LED's speed-up over the micro solvers (§3, Figures 3H, 7c, 8H; ``ledlib.forecast``).

For each system, the quick-profile LED (``configs.get(system, "quick")``) propagates a
batch of 1 and of 100 runs, latent (``T_mu = 0``) and multiscale with ``T_mu`` one
coarse step and ``rho = T_m / T_mu`` in {1, 5, 10}, decoding at every coarse step or only
at the end. ``S = T_micro / T_LED`` per coarse step, both measured here in one process
on the same batch and recording times; the warm-up is excluded from ``T_LED`` and printed
apart. By default the weights are untrained: the cost of a forward pass does not depend on
them, so the timings hold for trained models of the same size; ``--trained`` times the
cached quick-profile models (``fit_led``) instead.

For KS, a per-coarse-step FLOP estimate of the solver (ETDRK4) and of the networks
(from the layer sizes) is printed beside the measured S.

    python benchmarks/speedup.py                      # all systems, batches 1 and 100
    python benchmarks/speedup.py --systems KS FHN --batches 1
    python benchmarks/speedup.py --trained --device cuda

Both sides run single-threaded by default (``--threads``): the NumPy solvers are.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, no install

import argparse
import time

import numpy as np
import torch

from ledlib import configs, systems, train
from ledlib.bench import ks_solver_flops, module_flops
from ledlib.data import MinMaxScaler
from ledlib.device import resolve_device
from ledlib.forecast import forecast, measure_speedup, time_micro_solver
from ledlib.nn import LED

RHOS = (1, 5, 10)
LATENT_STEPS = 40  # horizon of the latent runs, in coarse steps


def make_system(name: str):
    if name == "KS":
        return systems.KuramotoSivashinsky()
    if name == "FHN":
        return systems.FitzHughNagumo()
    return systems.AdvectionDiffusion(dim=1 if name == "AD1D" else 3, n_particles=1000)


def make_led(name: str, system, device, trained: bool = False) -> LED:
    if trained:  # the cached quick-profile model (trained here on first use, ~1 min)
        return train.fit_led(name, "quick", device=str(device), progress=False).led.to(device).eval()
    torch.manual_seed(0)
    led = LED(configs.get(name, profile="quick"))
    if led.is_particle:
        # min-max scaling onto the box, as training would fit it: decoded samples land inside
        h = 0.5 * system.L
        corners = np.array([[[-h] * system.dim, [h] * system.dim]])
        led.set_scaler(MinMaxScaler(channel_axis=-1).fit(corners))
    return led.to(device).eval()


# ---------------------------------------------------------------------------------
def bench_system(name: str, batches, device, quick_threshold: float = 0.05, trained: bool = False) -> list[dict]:
    system = make_system(name)
    led = make_led(name, system, device, trained)
    h = system.coarse_dt
    x0 = system.initial_conditions(1, seed=0)
    rows = []
    forecast(led, system, x0, h, T_warm=h, keep_states=False)  # untimed: thread pools, caches
    for batch in batches:
        # cost probe: one coarse step of the solver decides how long the runs can be
        probe = time_micro_solver(system, x0, h, n_runs=batch)
        cheap = probe < quick_threshold
        repeats = 3 if cheap else 1
        cycles = 4 if cheap else 1
        for record in ("all", "last"):
            if cheap:
                micro = min(time_micro_solver(system, x0, 20 * h, n_runs=batch, record_at=record)
                            for _ in range(repeats))
            else:  # one coarse step: recording every step or at the end is the same
                micro = probe
            variants = [("latent", None, 0.0, LATENT_STEPS)]
            variants += [(f"rho={r}", r * h, h, cycles * (r + 1)) for r in RHOS]
            for label, T_m, T_mu, n_steps in variants:
                res = measure_speedup(led, system, x0, n_steps * h, T_m, T_mu, T_warm=h, n_runs=batch,
                                      record_at=record, repeats=repeats, micro_per_step=micro,
                                      dry_run=False)
                rows.append(dict(system=name, batch=batch, variant=label, record=record, n_steps=n_steps,
                                 micro_ms=1e3 * micro, led_ms=1e3 * res.led_per_step, S=res.S,
                                 warm_s=res.warm_up, t=res.timings))
    return rows


def print_rows(rows) -> None:
    head = (f"{'system':6} {'batch':>5} {'variant':8} {'decode':6} {'steps':>5} {'micro ms/step':>13} "
            f"{'LED ms/step':>11} {'S':>8} {'warm-up s':>9}  LED parts ms/step (latent/teacher/dec/enc/micro)")
    print(head)
    print("-" * len(head))
    for r in rows:
        t, n = r["t"], r["n_steps"]
        parts = "/".join(f"{1e3 * v / n:.3g}" for v in (t.latent, t.teacher, t.decode, t.encode, t.micro))
        dec = "every" if r["record"] == "all" else "end"
        print(f"{r['system']:6} {r['batch']:5d} {r['variant']:8} {dec:6} {n:5d} {r['micro_ms']:13.4g} "
              f"{r['led_ms']:11.4g} {r['S']:8.3g} {r['warm_s']:9.3g}  {parts}")


def print_ks_flops(rows) -> None:
    ks = systems.KuramotoSivashinsky()
    led = make_led("KS", ks, "cpu")
    f = ks_solver_flops(ks)
    rnn = module_flops(led.rnn)
    dec = module_flops(led.decoder)
    enc = module_flops(led.encoder)
    print("\nKS FLOP estimate per coarse step and trajectory "
          f"(coarse_dt={ks.coarse_dt}, {ks.steps_per_coarse} ETDRK4 steps of n={ks.n}):")
    print(f"  solver: {f['per_coarse_step']:.3g} (per step {f['per_step']:.3g}: FFT pairs {f['fft']:.3g}, "
          f"pointwise {f['pointwise']:.3g})")
    print(f"  LED: RNN step {rnn:.3g}, decoder {dec:.3g}, encoder {enc:.3g} "
          f"({led.config.rnn.cell.upper()} d_h={led.config.rnn.d_h}, AE {led.config.ae.n_layers}x"
          f"{led.config.ae.width}, d_z={led.d_z})")
    print(f"  FLOP ratio solver/LED: latent, decode at end {f['per_coarse_step'] / rnn:.3g}; "
          f"decode every step {f['per_coarse_step'] / (rnn + dec):.3g}")
    for r in rows:
        if r["system"] == "KS" and r["variant"] == "latent":
            dec_s = "every" if r["record"] == "all" else "end"
            print(f"  measured S (latent, batch {r['batch']}, decode {dec_s}): {r['S']:.3g}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", nargs="+", default=["KS", "FHN", "AD1D", "AD3D"])
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 100])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1, like the NumPy solvers; on a loaded machine "
                         "more threads than free cores makes small network calls 100x slower)")
    ap.add_argument("--trained", action="store_true",
                    help="use the trained quick-profile models (fit_led, cached) instead of untrained weights")
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    print(f"LED speed-up S = T_micro / T_LED per coarse step; device {device}, torch threads "
          f"{torch.get_num_threads()}; quick-profile LEDs with "
          f"{'TRAINED weights (cached fit_led)' if args.trained else 'UNTRAINED weights (timing only)'}; "
          f"T_warm = 1 coarse step (excluded), T_mu = 1 coarse step, latent horizon {LATENT_STEPS} steps")
    start = time.perf_counter()
    rows = []
    for name in args.systems:
        t = time.perf_counter()
        rows += bench_system(name, args.batches, device, trained=args.trained)
        print(f"  [{name} done in {time.perf_counter() - t:.1f} s]", flush=True)
    print()
    print_rows(rows)
    if "KS" in args.systems:
        print_ks_flops(rows)
    print(f"\ntotal {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
