"""Train the models the book's chapters use, ahead of executing them (e.g. on a GPU).

Each model lands in the cache (``<cache>/models``) under the key a chapter looks up
(:mod:`ledlib.studies`), so a later ``make book PROFILE=paper`` loads instead of
training. Jobs run in parallel worker processes (small networks leave a GPU mostly
idle, so several share it); each worker checkpoints every epoch, so a run stopped by a
time limit resumes where it stopped, here or on another machine. Datasets must be in the
cache or are generated first (``ledlib.data.load``).

    python scripts/pretrain.py --profile paper --device cuda --workers 8 AD1D AD3D KS FHN
    python scripts/pretrain.py --profile paper --list KS      # what would be trained
    python scripts/pretrain.py --profile paper --only 'FHN-latent-*' FHN
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, no install

import argparse
import fnmatch
import multiprocessing as mp
import signal
import time

from ledlib import configs, studies


def _work(args) -> tuple[str, float, str]:
    system, profile, index, cache, seed, device, threads = args
    import torch

    torch.set_num_threads(threads)  # small networks: per-op overhead dominates, not FLOPs
    job = studies.jobs(system, profile)[index]
    start = time.perf_counter()
    try:
        job.run(cache, seed, device)
        status = "ok"
    except Exception as err:  # report and go on with the other jobs
        status = f"failed: {type(err).__name__}: {err}"
    return job.name, time.perf_counter() - start, status


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("systems", nargs="+", choices=configs.SYSTEMS)
    ap.add_argument("--profile", choices=configs.PROFILES, default="paper")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache-dir", default=None, help="data/model cache (default $LED_CACHE_DIR or .cache)")
    ap.add_argument("--workers", type=int, default=1, help="parallel training processes")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="run only the jobs whose name matches (a shell pattern, e.g. 'FHN-latent-*'; "
                         "repeatable; see --list)")
    ap.add_argument("--list", action="store_true", help="print the jobs and stop")
    a = ap.parse_args(argv)
    if a.workers < 1 or a.threads < 1:
        ap.error("--workers and --threads must be >= 1")

    selected = [(s, i, j) for s in a.systems for i, j in enumerate(studies.jobs(s, a.profile))
                if any(fnmatch.fnmatchcase(j.name, p) for p in a.only or ["*"])]
    if a.list:
        print("\n".join(j.name for _, _, j in selected))
        return 0
    tasks = [(s, a.profile, i, a.cache_dir, a.seed, a.device, a.threads) for s, i, _ in selected]
    # the datasets first, in this process: their progress shows here, and the workers find them cached
    from ledlib import data

    for s, _, j in selected:
        data.load(j.data if j.data is not None else data.spec(s, a.profile), cache=a.cache_dir, progress=True)
    start = time.perf_counter()
    failed = 0
    # a kill (SIGTERM) must take the workers down too, not leave them training unowned:
    # SystemExit unwinds the `with`, which terminates the pool
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with mp.get_context("spawn").Pool(a.workers, maxtasksperchild=1) as pool:
        for name, wall, status in pool.imap_unordered(_work, tasks):
            failed += status != "ok"
            print(f"[{time.perf_counter() - start:7.0f} s] {name}: {status} ({wall:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
