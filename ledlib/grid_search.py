"""A slice of one of the paper's RNN hyperparameter grids (Table 6 FHN, Table 8 KS), searched.

The paper picked each system's LED from a grid (Tables 1-8) searched on a supercomputer.
This module reruns a slice of the RNN grid: the paper's autoencoder (its pick, trained
once) and, for every combination of the searched RNN rows (cell type, size, number of
layers), a latent RNN trained on its encodings with the paper's schedule (BPTT, noise,
hidden-state propagation fixed at the pick). Each configuration gets its validation
loss and a short latent forecast error on the validation trajectories, and the results
file (JSON, checksummed, written atomically) marks the paper's pick, so a chapter shows
whether the pick is the best here too. The jobs run on Dask (:mod:`ledlib.distributed`);
every model is cached under its key, so a rerun loads instead of training.

    points = grid(8, "paper")                       # Table 8's cell x size x layers, 12 points
    with distributed.connect(workers=4) as client:
        results = search(client, 8, "paper", points, cache=None, seed=0, device="cpu")
    write_results("book/results/grid_ks.json", results); print(render(results))
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import configs as _configs

__all__ = ["RNN_TABLES", "AXES", "RESULTS_FORMAT", "GridPoint", "grid", "jobs", "latent_forecast_error",
           "search", "write_results", "load_results", "render"]

RNN_TABLES = {6: "FHN", 8: "KS"}  # the RNN grids of the field systems (AD's Tables 2 and 4 are LSTM-only)
# searched row of the table -> field of RNNConfig
AXES = {"RNN cell type": "cell", "Size of RNN layers": "d_h", "Number of RNN layers": "n_layers"}
RESULTS_FORMAT = "ledlib.grid_search/1"


@dataclass(frozen=True)
class GridPoint:
    """One configuration of the slice: ``values`` by the table's row names."""

    name: str
    values: dict
    config: Any  # LEDConfig
    paper_pick: bool


def _check_table(table) -> str:
    if isinstance(table, bool) or table not in RNN_TABLES:
        raise ValueError(f"table must be one of the RNN grids {sorted(RNN_TABLES)} (FHN, KS), got {table!r}")
    return RNN_TABLES[table]


def _axis(name: str, given, allowed: tuple, kind) -> tuple:
    if given is None:
        return allowed
    values = tuple(given)
    if not values:
        raise ValueError(f"{name}: give at least one value, got none")
    for v in values:
        if kind is int and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{name} values must be positive integers, got {v!r}")
        if kind is str and v not in allowed:
            raise ValueError(f"{name} values must be among {allowed}, got {v!r}")
    return values


def grid(table: int, profile: str = "paper", *, cells=None, sizes=None, layers=None) -> list[GridPoint]:
    """The slice of Table ``table``'s RNN rows: every (cell, size, layers) combination,
    each axis the table's values unless given (``sizes=(8, 16)`` for a toy run). The
    rest of each configuration is ``configs.get(system, profile)``, i.e. the paper's pick
    for ``"paper"``."""
    system = _check_table(table)
    rows = _configs.table_grid(table)
    cells = _axis("cells", cells, tuple(rows["RNN cell type"]), str)
    sizes = _axis("sizes", sizes, tuple(rows["Size of RNN layers"]), int)
    layers = _axis("layers", layers, tuple(rows["Number of RNN layers"]), int)
    base = _configs.get(system, profile)
    pick = _configs.get(system, "paper").rnn
    out = []
    for cell, d_h, n in itertools.product(cells, sizes, layers):
        rnn = dataclasses.replace(base.rnn, cell=cell, d_h=d_h, n_layers=n)
        values = {"RNN cell type": cell, "Size of RNN layers": d_h, "Number of RNN layers": n}
        is_pick = (cell, d_h, n) == (pick.cell, pick.d_h, pick.n_layers)
        out.append(GridPoint(f"{system}-{cell.upper()}-{n}x{d_h}", values, base.replace(rnn=rnn), is_pick))
    return out


def _dataset(system: str, profile: str, cache):
    from . import data

    return data.load(system, profile, cache=cache, progress=False)


def latent_forecast_error(led, states: np.ndarray, *, warm_steps: int, horizon_steps: int,
                          n_starts: int = 4) -> float:
    """MNAD (eq. 23, :func:`ledlib.metrics.forecast_error`) of latent-only forecasts from
    ``n_starts`` evenly spaced points of the trajectories ``states (n_traj, T, *obs)``:
    encode ``warm_steps`` true states, warm the RNN up on them, iterate it for
    ``horizon_steps``, decode, compare with the true continuation."""
    import torch

    from . import metrics

    for name, v, lo in (("warm_steps", warm_steps, 1), ("horizon_steps", horizon_steps, 1), ("n_starts", n_starts, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    states = np.asarray(states)
    n_traj, T = states.shape[:2]
    span = warm_steps + horizon_steps
    if span > T:
        raise ValueError(f"warm_steps + horizon_steps = {span} exceeds the trajectories' {T} samples")
    starts = [(i, s) for i in range(n_traj) for s in np.linspace(0, T - span, n_starts).astype(int)]
    warm = np.stack([states[i, s:s + warm_steps] for i, s in starts])
    truth = np.stack([states[i, s + warm_steps:s + span] for i, s in starts])
    with torch.no_grad():
        z = led.encode(warm.reshape(-1, *warm.shape[2:])).reshape(len(starts), warm_steps, -1)
        z_next, hidden = led.warm_up(z)
        rest, _ = led.rollout(z_next, hidden, horizon_steps - 1)
        z_path = torch.cat([z_next[:, None], rest], 1)
        pred = led.decode(z_path.reshape(-1, z_path.shape[-1])).reshape(truth.shape)
    return metrics.forecast_error(pred.cpu().numpy()[:, None], truth, "mnad")


def _ae_job(system, profile):
    def run(cache, seed, device):
        from . import train

        return train.fit_autoencoder(_configs.get(system, profile), _dataset(system, profile, cache), cache=cache,
                                     seed=seed, device=device, progress=False)
    return run


def _rnn_job(system, profile, config, warm_steps, horizon_steps):
    def run(cache, seed, device):
        from . import train

        ds = _dataset(system, profile, cache)
        ae, _ = train.fit_autoencoder(_configs.get(system, profile), ds, cache=cache, seed=seed, device=device,
                                      progress=False)
        led, record = train.fit_rnn(ae, config.rnn, ds, cache=cache, seed=seed, device=device, progress=False)
        error = latent_forecast_error(led, ds.val.states, warm_steps=warm_steps, horizon_steps=horizon_steps)
        return {"val_loss": record["best_val_loss"], "forecast_mnad": error, "epochs_run": record["epochs_run"],
                "train_wall_s": record.get("wall_time_s"), "device": record.get("device")}
    return run


def jobs(table: int, profile: str, points, *, warm_steps: int = 60, horizon_steps: int = 100) -> tuple:
    """``(autoencoder job, [one job per point])`` for :func:`ledlib.distributed.run_jobs`:
    the autoencoder first (the RNN jobs load it)."""
    from .studies import Job

    system = _check_table(table)
    ae = Job(f"{system}-grid-AE", _ae_job(system, profile))
    return ae, [Job(p.name, _rnn_job(system, profile, p.config, warm_steps, horizon_steps)) for p in points]


def search(client, table: int, profile: str, points, *, cache=None, seed: int = 0, device: str = "cpu",
           threads: int = 1, warm_steps: int = 60, horizon_steps: int = 100, report=print) -> dict:
    """Train and score every point on ``client``'s cluster; the results (see :func:`render`).
    ``report(line)`` gets each job's report line as it finishes."""
    from . import distributed

    from .scorecard import _commit

    system = _check_table(table)
    points = list(points)
    commit = _commit()  # the code the search started from (a long search may outlive HEAD)
    start = time.perf_counter()
    ae_job, rnn_jobs = jobs(table, profile, points, warm_steps=warm_steps, horizon_steps=horizon_steps)
    done = {}
    for stage in ([ae_job], rnn_jobs):  # the autoencoder once, then the RNNs that load it
        for r in distributed.run_jobs(client, stage, cache=cache, seed=seed, device=device, threads=threads):
            if report is not None:
                report(r.line())
            done[r.name] = r
        if not done[ae_job.name].ok:
            break
    pick = _configs.get(system, "paper").rnn
    base = _configs.get(system, profile)
    rows = []
    for p in points:
        r = done.get(p.name)
        row = {"name": p.name, "values": p.values, "paper_pick": p.paper_pick,
               "status": r.status if r is not None else "not run: the autoencoder failed"}
        if r is not None and r.ok:
            row.update(r.result)
        rows.append(row)
    scored = [r for r in rows if math.isfinite(r.get("val_loss", math.nan))]
    return {
        "format": RESULTS_FORMAT, "table": table, "system": system, "profile": profile, "seed": seed,
        "device": device, "searched": list(AXES),
        "fixed": {k: v for k, v in _configs.paper_choices(base).items()  # the autoencoder's rows
                  if k not in AXES and k in _configs.table_grid(table)},
        # the RNN stage's schedule, the same for every point (Table 6/8's BPTT and noise rows)
        "rnn_schedule": {"bptt": base.rnn_train.bptt, "hidden_propagation_length": base.rnn_train.hidden_propagation_length,
                         "noise_level_percent": round(100 * base.rnn_train.noise_level, 6),
                         "max_epochs": base.rnn_train.max_epochs, "patience": base.rnn_train.patience},
        "paper_pick": {"RNN cell type": pick.cell, "Size of RNN layers": pick.d_h, "Number of RNN layers": pick.n_layers},
        "forecast": {"metric": "MNAD", "warm_steps": warm_steps, "horizon_steps": horizon_steps, "on": "val"},
        "autoencoder": done[ae_job.name].result if done[ae_job.name].ok else done[ae_job.name].status,
        "points": rows,
        "best_val_loss": min(scored, key=lambda r: r["val_loss"])["name"] if scored else None,
        "best_forecast": min(scored, key=lambda r: r["forecast_mnad"])["name"] if scored else None,
        "wall_s": time.perf_counter() - start, "commit": commit,
    }


def _digest(results: dict) -> str:
    body = {k: v for k, v in results.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def write_results(path, results: dict) -> Path:
    """``results`` as JSON at ``path``, atomically, with the SHA-256 of its content."""
    from .data import atomic_write

    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        raise ValueError(f"results must be a dict of format {RESULTS_FORMAT!r} (from search), got {type(results).__name__}")
    out = dict(results, sha256=_digest(results))
    path = Path(path)
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(out, indent=1, default=str) + "\n"))
    return path


def load_results(path) -> dict:
    """The results written by :func:`write_results`; ValueError if damaged (checksum)."""
    path = Path(path)
    results = json.loads(path.read_text())
    if results.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{path} is not a grid-search results file (format {results.get('format')!r})")
    if results.get("sha256") != _digest(results):
        raise ValueError(f"{path} is damaged: its content does not match its sha256")
    return results


def render(results: dict) -> str:
    """A markdown table of every configuration, sorted by validation loss: its RNN rows,
    validation loss, forecast MNAD, the paper's pick in bold and the best marked."""
    head = results["searched"]
    lines = [f"| {' | '.join(head)} | validation loss | forecast MNAD ({results['forecast']['horizon_steps']} steps) | |",
             "|" + "---|" * (len(head) + 3)]
    ok = sorted((r for r in results["points"] if "val_loss" in r), key=lambda r: r["val_loss"])
    for r in ok + [r for r in results["points"] if "val_loss" not in r]:
        cells = [str(r["values"][h]) for h in head]
        if "val_loss" in r:
            cells += [f"{r['val_loss']:.4g}", f"{r['forecast_mnad']:.4g}"]
        else:
            cells += [r["status"], ""]
        notes = [n for n, flag in (("paper's pick", r["paper_pick"]), ("lowest loss", r["name"] == results["best_val_loss"]),
                                   ("lowest forecast error", r["name"] == results["best_forecast"])) if flag]
        if r["paper_pick"]:
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append(f"| {' | '.join(cells)} | {', '.join(notes)} |")
    if not any(r["paper_pick"] for r in results["points"]):
        pick = ", ".join(f"{k} {v}" for k, v in results["paper_pick"].items())
        lines.append(f"\nThe paper's pick ({pick}) is not in this slice.")
    return "\n".join(lines)
