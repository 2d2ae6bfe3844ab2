"""The advection–diffusion micro solver: NumPy backend against the torch backend.

The multiscale loop spends its time in the micro phases, stepping every run of an
ensemble (the paper's 3-D study: 12 initial conditions x 600 runs x 1000 particles).
``AdvectionDiffusion.on_device`` steps the same Euler–Maruyama scheme with torch. This
prints, per batch size, the time per solver step of each backend, measured in one
process over the same number of steps, and the ratio NumPy / torch (above 1: torch is
faster). The transfer of the state to the device and back, once per ``advance`` as in
the forecasting loop, is included.

    python benchmarks/particle_solver.py                       # torch on the CPU
    python benchmarks/particle_solver.py --device cuda --batches 1 64 1024 7200
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, no install

import argparse
import time

import torch

from ledlib import systems


def time_per_step(system, batch: int, n_steps: int, repeats: int) -> float:
    """Best-of-``repeats`` seconds per solver step of one ``advance`` over ``n_steps``."""
    x0 = system.initial_conditions(batch, seed=0)
    system.advance(x0, 0.0, system.dt, seed=0)  # warm-up (allocations, kernels)
    best = float("inf")
    for r in range(repeats):
        if system.torch_device is not None and system.torch_device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        system.advance(x0, 0.0, n_steps * system.dt, seed=r)  # returns NumPy: synchronised
        best = min(best, time.perf_counter() - start)
    return best / n_steps


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="torch backend's device: cpu, cuda, auto")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64], help="runs stepped together")
    ap.add_argument("--particles", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=200, help="solver steps per timing")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (NumPy's loop is one thread)")
    a = ap.parse_args(argv)
    if min(a.batches) < 1 or a.steps < 1 or a.repeats < 1 or a.particles < 1:
        ap.error("--batches, --steps, --repeats and --particles must be >= 1")
    torch.set_num_threads(a.threads)
    numpy_solver = systems.AdvectionDiffusion(dim=3, n_particles=a.particles)  # the paper's 3-D case
    torch_solver = numpy_solver.on_device(a.device)
    print(f"AD 3-D, N = {a.particles}, dt = {numpy_solver.dt}; torch on {torch_solver.torch_device}, "
          f"{a.steps} steps per timing, best of {a.repeats}")
    print(f"{'batch':>6} {'NumPy us/step':>14} {'torch us/step':>14} {'NumPy/torch':>12}")
    for batch in a.batches:
        t_np = time_per_step(numpy_solver, batch, a.steps, a.repeats)
        t_torch = time_per_step(torch_solver, batch, a.steps, a.repeats)
        print(f"{batch:>6} {1e6 * t_np:>14.1f} {1e6 * t_torch:>14.1f} {t_np / t_torch:>12.2f}", flush=True)


if __name__ == "__main__":
    main()
