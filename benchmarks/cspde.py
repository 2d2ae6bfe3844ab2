"""The equation-free coarse-scale PDE baselines (Lee et al. 2020) on FitzHugh–Nagumo.

Trains the eight CSPDE variants of the LED paper's Figure 31 (GP / NN on the full input
set and on the feature sets F1–F3), forecasts the test IC from t = 2 to t = 452, and
prints MNAD u / v and wall times next to the paper's values, with the true FHN PDE
(finite differences on the same grid) as the floor.

    python benchmarks/cspde.py                    # quick profile
    python benchmarks/cspde.py --profile paper --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledlib.baselines import cspde  # noqa: E402


def _fmt(x: float) -> str:
    return "   nan   " if x != x else f"{x:.3e}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=tuple(cspde.PROFILES), default="quick")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads (default 1)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    r = cspde.run_all(args.profile, seed=args.seed, progress=True, threads=args.threads)
    total = time.perf_counter() - t0

    print(f"\nprofile={r['profile']} seed={r['seed']}  data {r['data_seconds']:.1f} s, "
          f"feature selection {r['selection_seconds']:.1f} s, total {total:.1f} s\n")
    print("Feature selection (LOO local-linear residual of the target from each 3-subset; "
          "diffusion-map manifold residual):")
    for target in ("u", "v"):
        sel = r["selection"][target]
        print(f"  {target}_t: intrinsic dimension {sel.intrinsic_dim} (non-harmonic DM coordinates "
              f"{sel.dm_unique.tolist()}), true inputs ranked #{sel.true_rank + 1}")
        for k, s in enumerate(sel.ranking[:5]):
            print(f"    {k + 1}. {', '.join(s.names):18s} target {s.target_residual:.3f}   manifold {s.manifold_residual:.3f}")
    print()
    for name, (fu, fv) in r["feature_sets"].items():
        print(f"  {name:4s}: u_t <- {fu}   v_t <- {fv}")
    print()
    hdr = f"{'variant':8s} {'MNAD u':>10s} {'paper u':>10s} {'MNAD v':>10s} {'paper v':>10s} {'train s':>8s} {'fcst s':>7s}  notes"
    print(hdr)
    print("-" * len(hdr))
    for name, res in r["variants"].items():
        pu, pv = r["paper"][name]
        note = "" if res["forecast"]["success"] else f"stopped at t={res['forecast']['t_stop']:.4g}: {res['forecast']['message']}"
        print(f"{name:8s} {_fmt(res['mnad_u']):>10s} {pu:10.2e} {_fmt(res['mnad_v']):>10s} {pv:10.2e} "
              f"{res['train_seconds']:8.1f} {res['forecast_seconds']:7.1f}  {note}")
    tp = r["true_pde"]
    print(f"{'true PDE':8s} {_fmt(tp['mnad_u']):>10s} {'-':>10s} {_fmt(tp['mnad_v']):>10s} {'-':>10s} "
          f"{0.0:8.1f} {tp['forecast_seconds']:7.1f}  finite differences, same grid: the floor")
    b = r["best"]
    print(f"\nbest CSPDE variant: {b['variant']} (MNAD u {_fmt(b['mnad_u'])}, v {_fmt(b['mnad_v'])})\n")
    for name, res in r["variants"].items():
        print(f"{name:6s} u: {res['model']['u']}\n       v: {res['model']['v']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
