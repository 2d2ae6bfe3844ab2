"""Benchmarks that print ratios measured in one process.

    python -m ledlib.bench systems [--units 4] [--batch 1 64]

``systems``: each micro solver's cost per coarse time unit, for one trajectory and for a
batch, against a plain one-trajectory NumPy loop of the same scheme (looped over the
batch). LED's speed-ups are measured against these solvers, so they must be good ones.
The plain loops are written here, independently of the solvers, and the benchmark
checks that both give the same states (deterministic systems) or the same statistics.
"""

from __future__ import annotations

import argparse
import sys
import time

import math

import numpy as np
from torch import nn

from . import systems


# ---------------------------------------------------------------------------------
# Plain reference loops: one trajectory, the textbook form of each scheme
# ---------------------------------------------------------------------------------
def plain_ks(ks: systems.KuramotoSivashinsky, u: np.ndarray, n_steps: int) -> np.ndarray:
    """ETDRK4 (Kassam & Trefethen 2005), one trajectory, allocating as it goes."""
    h, k = ks.dt, 2 * np.pi * np.arange(ks.n // 2 + 1) / ks.L
    lin = k**2 - ks.nu * k**4
    g = -0.5j * k
    g[-1] = 0.0
    E, E2 = np.exp(h * lin), np.exp(h * lin / 2)
    r = np.exp(1j * np.pi * (np.arange(1, 33) - 0.5) / 32)
    z = h * lin[:, None] + r[None, :]
    Q = h * np.real(np.mean((np.exp(z / 2) - 1) / z, axis=1))
    f1 = h * np.real(np.mean((-4 - z + np.exp(z) * (4 - 3 * z + z**2)) / z**3, axis=1))
    f2 = h * np.real(np.mean((2 + z + np.exp(z) * (-2 + z)) / z**3, axis=1))
    f3 = h * np.real(np.mean((-4 - 3 * z - z**2 + np.exp(z) * (4 - z)) / z**3, axis=1))

    def N(v):
        return g * np.fft.rfft(np.fft.irfft(v, ks.n) ** 2)

    v = np.fft.rfft(u)
    for _ in range(n_steps):
        Nv = N(v)
        a = E2 * v + Q * Nv
        Na = N(a)
        b = E2 * v + Q * Na
        Nb = N(b)
        c = E2 * a + Q * (2 * Nb - Nv)
        Nc = N(c)
        v = E * v + Nv * f1 + 2 * (Na + Nb) * f2 + Nc * f3
    return np.fft.irfft(v, ks.n)


def plain_fhn(fhn: systems.FitzHughNagumo, f: np.ndarray, n_steps: int) -> np.ndarray:
    """D1Q3 lattice Boltzmann, one trajectory ``f`` ``(2, 3, n)``, collide then stream."""
    f = f.copy()
    omega = np.array([fhn.omega_u, fhn.omega_v])[:, None, None]
    h = fhn.dt
    for _ in range(n_steps):
        rho = f.sum(axis=1)
        u, v = rho
        R = np.stack([u - u**3 - v, fhn.eps * (u - fhn.a1 * v - fhn.a0)])
        post = f - omega * (f - rho[:, None, :] / 3) + h * R[:, None, :] / 3
        new = np.empty_like(post)
        new[:, 1] = post[:, 1]
        new[:, 2, 1:] = post[:, 2, :-1]
        new[:, 0, :-1] = post[:, 0, 1:]
        if fhn.boundary == "bounce-back":
            new[:, 2, 0] = post[:, 0, 0]
            new[:, 0, -1] = post[:, 2, -1]
        else:
            new[:, 2, 0] = post[:, 2, 0]
            new[:, 0, -1] = new[:, 2, -1]
        f = new
    return f


def plain_ad(ad: systems.AdvectionDiffusion, x: np.ndarray, t0: float, n_steps: int, rng) -> np.ndarray:
    """Euler–Maruyama with reflecting walls, one trajectory ``x`` ``(N, dim)``.

    One mirror per wall: valid while a step moves a particle less than a box width,
    as at the paper's settings.
    """
    x = x.copy()
    half = ad.L / 2
    for j in range(n_steps):
        t = t0 + j * ad.dt
        x += ad.A * np.cos(ad.omega * t) * ad.dt + np.sqrt(ad.D * ad.dt) * rng.standard_normal(x.shape)
        x = np.where(x > half, 2 * half - x, x)
        x = np.where(x < -half, -2 * half - x, x)
    return x


# ---------------------------------------------------------------------------------
# FLOP estimates (multiply and add counted separately)
# ---------------------------------------------------------------------------------
def rfft_flops(n: int) -> float:
    """A real FFT of length n: about half a complex one, ~2.5 n log2 n."""
    return 2.5 * n * math.log2(n)


def ks_solver_flops(ks) -> dict:
    """ETDRK4 (Kassam & Trefethen 2005) per step: 4 nonlinear terms, each an irfft/rfft pair,
    the square and the multiplication by -ik/2; plus the stage combinations on n/2+1 modes."""
    m = ks.n // 2 + 1
    fft = 4 * 2 * rfft_flops(ks.n)
    pointwise = 4 * (ks.n + 6 * m)  # u^2, complex * (-ik/2)
    # a, b, c and the update: ~10 complex-by-real products and ~8 complex additions
    stages = m * (10 * 2 + 8 * 2)
    per_step = fft + pointwise + stages
    return {"fft": fft, "pointwise": pointwise + stages, "per_step": per_step,
            "per_coarse_step": per_step * ks.steps_per_coarse}


def module_flops(module: nn.Module) -> float:
    """Matrix products of one forward pass of one sample: 2 * in * out per Linear, and per
    step of an RNN 2 * (numel(W_ih) + numel(W_hh)) per layer (gates' elementwise work left out)."""
    total = 0.0
    for mod in module.modules():
        if isinstance(mod, nn.Linear):
            total += 2 * mod.in_features * mod.out_features
        elif isinstance(mod, (nn.GRU, nn.LSTM)):
            for name, p in mod.named_parameters():
                if name.startswith("weight_"):
                    total += 2 * p.numel()
    return total


# ---------------------------------------------------------------------------------
def _time(fn, repeat: int = 3) -> float:
    """Best of ``repeat`` wall times of ``fn()`` (seconds)."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_system(name: str, system, units: int, batches, plain) -> list[dict]:
    rows = []
    t_end = units * system.coarse_dt
    n_steps = system.steps_per_coarse * units
    for B in batches:
        x0 = system.initial_conditions(B, seed=0) if name != "FHN" else np.tile(
            system.paper_initial_conditions()[:1], (B, 1, 1))
        micro = system.lift(x0)
        ours = _time(lambda: system.advance(micro, 0.0, t_end, seed=1)) / units
        # the plain loop runs one trajectory; a batch costs B of them
        one = _time(lambda: plain(system, micro[0], n_steps)) / units
        rows.append({"system": name, "batch": B, "ours_ms": 1e3 * ours, "plain_ms": 1e3 * one * B,
                     "ratio": one * B / ours})
    return rows


def check_agreement(ks, fhn) -> dict:
    """Max difference between the solvers and the plain loops (deterministic systems)."""
    u0 = ks.initial_conditions(1, seed=0)
    d_ks = np.abs(ks.advance(u0, 0.0, 10.0) - plain_ks(ks, u0[0], 400)).max()
    f0 = fhn.lift(fhn.paper_initial_conditions()[:1])
    d_fhn = np.abs(fhn.advance(f0, 0.0, 10.0) - plain_fhn(fhn, f0[0], 2000)).max()
    return {"KS": d_ks, "FHN": d_fhn}


def run_systems(units: int = 4, batches=(1, 64)) -> list[dict]:
    ks, fhn = systems.KuramotoSivashinsky(), systems.FitzHughNagumo()
    ad1, ad3 = systems.AdvectionDiffusion(dim=1), systems.AdvectionDiffusion(dim=3)
    agree = check_agreement(ks, fhn)
    print("plain loop vs solver, max |difference| after 10 time units: "
          + ", ".join(f"{k} {v:.1e}" for k, v in agree.items()))
    rows = []
    rows += bench_system("KS", ks, units * 10, batches, lambda s, m, n: plain_ks(s, m, n))
    rows += bench_system("FHN", fhn, units, batches, lambda s, m, n: plain_fhn(s, m, n))
    rng = np.random.default_rng(0)
    rows += bench_system("AD1D", ad1, units, batches, lambda s, m, n: plain_ad(s, m, 0.0, n, rng))
    rows += bench_system("AD3D", ad3, units, batches, lambda s, m, n: plain_ad(s, m, 0.0, n, rng))
    print(f"\n{'system':<6} {'coarse_dt':>9} {'steps':>6} {'batch':>5} {'ours ms':>10} {'plain ms':>10} {'ratio':>7}")
    dts = {"KS": ks, "FHN": fhn, "AD1D": ad1, "AD3D": ad3}
    for r in rows:
        s = dts[r["system"]]
        print(f"{r['system']:<6} {s.coarse_dt:>9g} {s.steps_per_coarse:>6} {r['batch']:>5} {r['ours_ms']:>10.3f} "
              f"{r['plain_ms']:>10.3f} {r['ratio']:>6.1f}x")
    print("\nms: wall time per coarse time step (coarse_dt) for the whole batch; "
          "plain: the one-trajectory loop, run batch times.")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ledlib.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("systems", help="micro solvers vs plain NumPy loops")
    s.add_argument("--units", type=int, default=2, help="coarse steps per timing (KS: x10)")
    s.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    args = ap.parse_args(argv)
    if args.what == "systems":
        run_systems(args.units, tuple(args.batch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
