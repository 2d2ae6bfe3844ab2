"""Search a slice of one of the paper's RNN grids (Table 6 FHN, Table 8 KS) on Dask.

The paper's autoencoder is trained once, then one latent RNN per (cell, size, layers)
combination of the table (or of the values given); each gets its validation loss and a
latent forecast error (MNAD) on the validation trajectories. The results, with the
paper's pick marked, go to a JSON file (atomic, checksummed) that a chapter renders with
``ledlib.grid_search.render``. Where the jobs run, and how a lost worker is recovered, is
as in pretrain.py (same options). Every model is cached: a rerun loads.

    python scripts/grid_search.py --table 6 --profile paper --slice --out /tmp/grid_fhn.json   # the book's slice
    python scripts/grid_search.py --table 6 --profile paper --workers 8 --out book/results/grid_fhn.json
    python scripts/grid_search.py --table 6 --profile quick --sizes 8 16 --out /tmp/grid.json   # toy, seconds
    python scripts/grid_search.py --table 8 --list
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, no install
sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse

from ledlib import configs, distributed, grid_search
from pretrain import add_cluster_arguments, check_cluster_arguments


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", type=int, choices=sorted(grid_search.RNN_TABLES), required=True)
    ap.add_argument("--profile", choices=configs.PROFILES, default="paper")
    ap.add_argument("--cells", nargs="+", default=None, help="RNN cells to search (default: the table's)")
    ap.add_argument("--sizes", nargs="+", type=int, default=None, help="RNN sizes (default: the table's)")
    ap.add_argument("--layers", nargs="+", type=int, default=None, help="RNN layer counts (default: the table's)")
    ap.add_argument("--slice", action="store_true",
                    help="the book's slice of the table (ledlib.grid_search.SLICES); --cells/--sizes/--layers override it")
    ap.add_argument("--warm-steps", type=int, default=None,
                    help="forecast warm-up, coarse steps (default: Table 6 the FHN chapter's 75, Table 8 60)")
    ap.add_argument("--horizon-steps", type=int, default=None,
                    help="forecast horizon, coarse steps (Table 8 only, default 100; Table 6 runs to the end)")
    ap.add_argument("--out", default=None, help="results JSON (default: print only)")
    ap.add_argument("--list", action="store_true", help="print the configurations and stop")
    add_cluster_arguments(ap)
    a = ap.parse_args(argv)
    check_cluster_arguments(ap, a)
    chosen = grid_search.SLICES.get(a.table, {}).get(a.profile, {}) if a.slice else {}
    try:
        points = grid_search.grid(a.table, a.profile, cells=a.cells or chosen.get("cells"),
                                  sizes=a.sizes or chosen.get("sizes"), layers=a.layers or chosen.get("layers"))
        grid_search.forecast_protocol(a.table, a.profile, warm_steps=a.warm_steps, horizon_steps=a.horizon_steps)
    except ValueError as err:
        ap.error(str(err))
    if a.list:
        label = "the paper's pick" if a.profile == "paper" else "the quick profile's pick"
        print("\n".join(p.name + (f"  ({label})" if p.paper_pick else "") for p in points))
        return 0
    try:
        with distributed.connect(a.scheduler, workers=a.workers, threads=a.threads, device=a.device,
                                 timeout=a.connect_timeout) as client:
            results = grid_search.search(client, a.table, a.profile, points, cache=a.cache_dir, seed=a.seed,
                                         device=a.device, threads=a.threads, warm_steps=a.warm_steps,
                                         horizon_steps=a.horizon_steps)
    except distributed.SchedulerUnreachable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(grid_search.render(results))
    print(f"{len(points)} configurations in {results['wall_s']:.0f} s")
    if a.out:
        print(f"results: {grid_search.write_results(a.out, results)}")
    return 0 if all(r["status"] == "ok" for r in results["points"]) else 1


if __name__ == "__main__":
    sys.exit(main())
