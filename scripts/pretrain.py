"""Train the models the book's chapters use, ahead of executing them (e.g. on a GPU).

Each model lands in the cache (``<cache>/models``) under the key a chapter looks up
(:mod:`ledlib.studies`), so a later ``make book PROFILE=paper`` loads instead of
training. The jobs run on Dask distributed (:mod:`ledlib.distributed`): by default a
LocalCluster of ``--workers`` processes on this machine (small networks leave a GPU
mostly idle, so several share it), or the cluster at ``--scheduler tcp://HOST:PORT``
(its workers must see the same ``--cache-dir``). Every job checkpoints each epoch into
the cache, so a job whose worker dies is rerun by the scheduler from its last epoch, and a
run stopped by a time limit resumes where it stopped, here or on another machine; a job
whose model is cached just loads it. Datasets are loaded (or generated) here first.

    python scripts/pretrain.py --profile paper --device cuda --workers 8 AD1D AD3D KS FHN
    python scripts/pretrain.py --profile paper --list KS      # what would be trained
    python scripts/pretrain.py --profile paper --only 'FHN-latent-*' FHN
    python scripts/pretrain.py --scheduler tcp://head:8786 --cache-dir /shared/led-cache KS
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, no install

import argparse
import signal

from ledlib import configs, distributed, studies


def add_cluster_arguments(ap: argparse.ArgumentParser) -> None:
    """The options pretrain.py and grid_search.py share: where the jobs run."""
    ap.add_argument("--device", choices=distributed.DEVICES, default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache-dir", default=None,
                    help="data/model cache (default $LED_CACHE_DIR or .cache); with --scheduler, a folder "
                         "every worker sees")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                    help="an existing Dask scheduler (default: a LocalCluster on this machine)")
    ap.add_argument("--connect-timeout", type=float, default=distributed.DEFAULT_CONNECT_TIMEOUT,
                    help="seconds to wait for --scheduler before giving up (default %(default)g)")
    ap.add_argument("--workers", type=int, default=1,
                    help="LocalCluster worker processes, one job each at a time (with --scheduler: the cluster's)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per job")
    ap.add_argument("--retries", type=int, default=1, help="reruns of a job that raised (default %(default)d)")


def check_cluster_arguments(ap: argparse.ArgumentParser, a) -> None:
    if a.workers < 1 or a.threads < 1:
        ap.error("--workers and --threads must be >= 1")
    if a.seed < 0 or a.retries < 0:
        ap.error("--seed and --retries must be >= 0")
    if not a.connect_timeout > 0:
        ap.error(f"--connect-timeout must be > 0 seconds, got {a.connect_timeout:g}")


def submit(a, jobs, prepare=None) -> int:
    """Run ``jobs`` where the options say; print a line per job; the exit status.
    ``prepare()`` runs once the cluster answers (an unreachable one fails before it)."""
    # a kill (SIGTERM) must take a LocalCluster's workers down too, not leave them training
    # unowned: SystemExit unwinds connect()'s `with`, which closes the cluster
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    failed = 0
    try:
        with distributed.connect(a.scheduler, workers=a.workers, threads=a.threads, device=a.device,
                                 timeout=a.connect_timeout) as client:
            if prepare is not None:
                prepare()
            for report in distributed.run_jobs(client, jobs, cache=a.cache_dir, seed=a.seed, device=a.device,
                                               threads=a.threads, retries=a.retries):
                failed += not report.ok
                print(report.line(), flush=True)
    except distributed.SchedulerUnreachable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 1 if failed else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("systems", nargs="+", choices=configs.SYSTEMS)
    ap.add_argument("--profile", choices=configs.PROFILES, default="paper")
    add_cluster_arguments(ap)
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="run only the jobs whose name matches (a shell pattern, e.g. 'FHN-latent-*'; "
                         "repeatable; see --list)")
    ap.add_argument("--list", action="store_true", help="print the jobs and stop")
    a = ap.parse_args(argv)
    check_cluster_arguments(ap, a)

    selected = [(s, j) for s in a.systems for j in distributed.jobs_matching(studies.jobs(s, a.profile), a.only)]
    if a.list:
        print("\n".join(j.name for _, j in selected))
        return 0

    def load_datasets():
        # the datasets first, in this process: their progress shows here, and the workers
        # find them cached (the cache is locked per dataset, so none is generated twice)
        from ledlib import data

        for s, j in selected:
            data.load(j.data if j.data is not None else data.spec(s, a.profile), cache=a.cache_dir, progress=True)

    return submit(a, [j for _, j in selected], prepare=load_datasets)


if __name__ == "__main__":
    sys.exit(main())
