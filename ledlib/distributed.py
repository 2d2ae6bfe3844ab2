"""Training jobs on Dask distributed: a LocalCluster here, or any cluster by its address.

A job is anything with a ``name`` and a ``run(cache, seed, device)`` (a
:class:`ledlib.studies.Job`); ``scripts/pretrain.py`` and ``scripts/grid_search.py`` both
hand theirs to :func:`run_jobs`. The fault model rests on two properties of the jobs, not
on Dask: a job is *idempotent* (its model is cached under its key, so running it again
loads it) and *resumable* (every epoch checkpoints into the cache), so when a worker dies
the scheduler gives the job to another worker, which resumes from the last checkpoint.
The cache must therefore be one folder that every worker sees (a shared file system on
a cluster).

    with connect(workers=2) as client:                      # LocalCluster, 2 processes
        for report in run_jobs(client, jobs, cache=".cache", seed=0, device="cpu"):
            print(report.line())

    with connect("tcp://head:8786") as client: ...          # `dask scheduler` / dask-jobqueue

GPU jobs (``device="cuda"``) ask for the Dask resource ``{"GPU": 1}``: they run only on
workers started with ``--resources GPU=n`` (n jobs at a time on that worker; small LEDs
leave a GPU mostly idle, so several may share one).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEVICES", "SchedulerUnreachable", "JobReport", "connect", "run_jobs",
           "jobs_matching", "summary"]

DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds: a scheduler on a cluster answers in well under one
DEVICES = ("auto", "cpu", "cuda")
# tcp://host:port (also tls://, inproc://...): what `dask scheduler` prints as its address
_ADDRESS = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")


class SchedulerUnreachable(ConnectionError):
    """No Dask scheduler answered at the given address in time."""

    def __init__(self, address: str, timeout: float, cause: BaseException | None = None):
        self.address = address
        super().__init__(f"no Dask scheduler answered at {address} within {timeout:g} s"
                         + (f" ({type(cause).__name__}: {cause})" if cause is not None else "")
                         + "; start one with `dask scheduler` (it prints its tcp://HOST:PORT address) "
                           "and workers with `dask worker tcp://HOST:PORT`, or omit --scheduler to use a "
                           "LocalCluster on this machine")


@dataclass(frozen=True)
class JobReport:
    """What became of one job: ``status`` is ``"ok"`` or ``"failed: <error>"``; ``wall_s``
    the job's own time on its (last) worker, or the time until it failed; ``result`` the
    job's :func:`summary` (None if it failed)."""

    name: str
    status: str
    wall_s: float
    worker: str | None
    result: Any = None
    elapsed_s: float = math.nan  # since run_jobs started, when the report came

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        """The per-job report line of scripts/pretrain.py."""
        where = f" on {self.worker}" if self.worker else ""
        if isinstance(self.result, dict) and self.result.get("from_cache"):
            where += ", loaded from the cache"
        return f"[{self.elapsed_s:7.0f} s] {self.name}: {self.status} ({self.wall_s:.0f} s{where})"


def _check_int(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return value


def _check_device(device) -> str:
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    return device


@contextlib.contextmanager
def connect(scheduler: str | None = None, *, workers: int = 1, threads: int = 1, device: str = "cpu",
            timeout: float = DEFAULT_CONNECT_TIMEOUT, allowed_failures: int = 3) -> Iterator[Any]:
    """A ``distributed.Client`` for the ``with`` block.

    ``scheduler=None`` starts a LocalCluster of ``workers`` processes on the loopback (one
    job at a time each; ``threads`` is the torch threads a job uses, set by
    :func:`run_jobs`), closed when the block ends. With ``device="cuda"`` its workers offer
    the resource ``GPU=1``, so the GPU jobs spread over all of them (they share the
    machine's GPU). ``scheduler="tcp://HOST:PORT"`` connects to a running scheduler and
    raises :class:`SchedulerUnreachable`, naming the address, if none answers within
    ``timeout`` seconds. ``allowed_failures`` (LocalCluster only; a remote scheduler keeps
    its own ``distributed.scheduler.allowed-failures``) is how many worker deaths one job
    may go through before it is reported failed.
    """
    import dask
    from distributed import Client, LocalCluster

    _check_int("workers", workers, 1)
    _check_int("threads", threads, 1)
    _check_int("allowed_failures", allowed_failures, 0)
    _check_device(device)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if scheduler is None:
        # the scheduler reads allowed-failures when it starts: set it around the cluster's start
        with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.CRITICAL,  # the reports say it
                                   resources={"GPU": 1} if device == "cuda" else None,
                                   # its HTTP endpoints (health, metrics) on a free loopback port, not on 8787
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    if not isinstance(scheduler, str) or not _ADDRESS.match(scheduler):
        raise ValueError(f"scheduler must be an address like tcp://HOST:PORT, got {scheduler!r}")
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as err:  # refused, unresolvable, or silent past the timeout
        raise SchedulerUnreachable(scheduler, timeout, err) from None
    with client:
        yield client


def summary(result) -> Any:
    """What of a job's return value travels back to the client: dicts, lists, numbers,
    strings and NumPy arrays as they are; a fitted LED (or ``(led, record)``) as its training record's
    numbers, never the model or its dataset (they stay in the cache)."""
    if result is None or isinstance(result, (bool, int, float, str)):
        return result
    if isinstance(result, dict):
        return {str(k): summary(v) for k, v in result.items()}
    if hasattr(result, "ae") and hasattr(result, "rnn") and hasattr(result, "from_cache"):  # train.FittedLED
        return {"from_cache": bool(result.from_cache), "ae": _record(result.ae), "rnn": _record(result.rnn)}
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):  # (led, record)
        return _record(result[1])
    if isinstance(result, (list, tuple)):
        return [summary(v) for v in result]
    if type(result).__module__ == "numpy":  # arrays and scalars: a job's own numbers
        return result
    return type(result).__name__


def _record(rec: dict) -> dict:
    keys = ("best_val_loss", "best_epoch", "epochs_run", "wall_time_s", "device")
    return {k: rec[k] for k in keys if k in rec}


def _execute(run, cache, seed, device, threads):
    """On a worker: one job with ``threads`` torch threads; its summary and wall time."""
    import torch
    from distributed import get_worker

    torch.set_num_threads(threads)  # small networks: per-op overhead dominates, not FLOPs
    start = time.perf_counter()
    out = run(cache, seed, device)
    return {"result": summary(out), "wall_s": time.perf_counter() - start, "worker": get_worker().address}


def _error_text(err: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(err, KilledWorker):  # more worker deaths than the scheduler's allowed-failures
        return f"failed: its worker died too often (KilledWorker: {err})"
    return f"failed: {type(err).__name__}: {err}"


def run_jobs(client, jobs: Iterable, *, cache=None, seed: int = 0, device: str = "cpu", threads: int = 1,
             retries: int = 1) -> Iterator[JobReport]:
    """Submit every job to ``client``'s cluster; yield a :class:`JobReport` per job as each
    finishes (failed ones too: one failure does not stop the others).

    ``cache`` must be a folder every worker sees. A job whose worker dies is handed to
    another worker by the scheduler and resumes from its checkpoints; a job that raises is
    run ``retries`` more times (it also resumes, e.g. after a GPU ran out of memory).
    ``device="cuda"`` jobs need the worker resource ``GPU`` (see :func:`connect`).
    """
    from distributed import as_completed

    _check_device(device)
    _check_int("threads", threads, 1)
    _check_int("retries", retries, 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    jobs = list(jobs)
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"job names must be unique, got duplicates {sorted({n for n in names if names.count(n) > 1})}")
    cache = None if cache is None else str(cache)
    resources = {"GPU": 1} if device == "cuda" else None
    if resources and not any(w.get("resources", {}).get("GPU") for w in client.scheduler_info()["workers"].values()):
        logging.getLogger(__name__).warning(
            "no worker offers the resource GPU yet: the cuda jobs wait for one started with --resources GPU=1")
    start = time.perf_counter()
    # the key names the job and what it depends on, so the same job submitted twice (two
    # clients of one cluster) is one task; its result is the cached model anyway
    from dask.base import tokenize

    # priority keeps the jobs' order (the most expensive first): Dask runs ready tasks of equal
    # priority in no particular order
    futures = {client.submit(_execute, j.run, cache, seed, device, threads, retries=retries, resources=resources,
                             key=f"{j.name}-{tokenize(j.name, cache, seed, device)}", priority=len(jobs) - i): j.name
               for i, j in enumerate(jobs)}
    try:
        for fut in as_completed(futures):
            elapsed = time.perf_counter() - start
            name = futures[fut]
            if fut.status == "finished":
                out = fut.result()
                yield JobReport(name, "ok", out["wall_s"], out["worker"], out["result"], elapsed)
            elif fut.status == "error":
                yield JobReport(name, _error_text(fut.exception()), elapsed, None, None, elapsed)
            else:  # cancelled: e.g. the scheduler went away, or another client cancelled it
                yield JobReport(name, f"failed: {fut.status}", elapsed, None, None, elapsed)
    finally:
        for fut in futures:  # an interrupted caller: nothing left running for it
            fut.cancel()


def jobs_matching(jobs: Iterable, patterns: Iterable[str] | None) -> list:
    """The jobs whose name matches any of the shell ``patterns`` (all for None)."""
    import fnmatch

    patterns = list(patterns) if patterns else ["*"]
    return [j for j in jobs if any(fnmatch.fnmatchcase(j.name, p) for p in patterns)]

