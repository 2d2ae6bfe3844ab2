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

A chapter does not type in or copy the search's numbers: :func:`run_or_load` gets every
model of the slice (``SLICES``) from the shipped models or the cache, in this process,
training only what is missing, and scores them again; :func:`render` shows the table.

    grid6 = run_or_load(6, "paper", dataset=ds, cache=cache)   # seconds once the models exist
    print(render(grid6))
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

__all__ = ["RNN_TABLES", "AXES", "RESULTS_FORMAT", "SLICES", "PICK_SEEDS", "GridPoint", "grid", "jobs",
           "forecast_protocol", "forecast_error", "latent_forecast_error", "search", "run_or_load",
           "write_results", "load_results", "render", "verdict"]

RNN_TABLES = {6: "FHN", 8: "KS"}  # the RNN grids of the field systems (AD's Tables 2 and 4 are LSTM-only)
# searched row of the table -> field of RNNConfig
AXES = {"RNN cell type": "cell", "Size of RNN layers": "d_h", "Number of RNN layers": "n_layers"}
RESULTS_FORMAT = "ledlib.grid_search/1"

# The slices the book runs, by table and profile (keyword arguments of grid()). Table 6
# (paper): the pick (LSTM, 50 units, 1 layer), the other cell, the next two sizes; Table
# 6 has one layer count. Measured (scripts/grid_search.py --slice, one worker, one
# thread, on a 2-core CPU shared with ~10 other processes): 5 RNNs trained in 1440 s of
# epochs (143-432 s each, 292-362 epochs, all stopped early), 26 min wall with Dask; the
# pick's RNN and the autoencoder were already trained. Loading all and scoring: 8 s.
# quick: a toy of two sizes of the quick profile's LSTM (19 s from an empty cache, one
# thread; the quick GRU trains ~3x slower on a CPU).
SLICES = {
    6: {"paper": {"cells": ("lstm", "gru"), "sizes": (50, 100, 200), "layers": (1,)},
        "quick": {"cells": ("lstm",), "sizes": (8, 16), "layers": (1,)}},
}
# RNN seeds of the paper's pick trained (one seed elsewhere): how far the validation loss
# and the forecast error move with the initial weights alone, the scale against which
# the differences between configurations are read
PICK_SEEDS = {"paper": (0, 1, 2, 3), "quick": (0,)}


@dataclass(frozen=True)
class GridPoint:
    """One configuration of the slice: ``values`` by the table's row names; ``paper_pick``:
    its RNN is the profile's configuration (paper profile: the paper's pick; quick: the
    scaled-down stand-in for it)."""

    name: str
    values: dict
    config: Any  # LEDConfig
    paper_pick: bool


def _check_table(table) -> str:
    if isinstance(table, bool) or table not in RNN_TABLES:
        raise ValueError(f"table must be one of the RNN grids {sorted(RNN_TABLES)} (FHN, KS), got {table!r}")
    return RNN_TABLES[table]


def _axis(name: str, given, allowed: tuple, kind, table: int, row: str, in_table: bool) -> tuple:
    """The values of one searched row: the table's (``given`` None), else ``given``,
    each of which must be one of the table's values where ``in_table`` (else a
    positive integer, for a quick-profile toy of the sizes)."""
    if given is None:
        return allowed
    if isinstance(given, (str, int)):
        raise TypeError(f"{name} must be a sequence of values (e.g. {name}=({allowed[0]!r},)), got {given!r}")
    values = tuple(given)
    if not values:
        raise ValueError(f"{name}: give at least one value, got none")
    if len(set(values)) != len(values):
        raise ValueError(f"{name}: each value once, got {values!r}")
    for v in values:
        if kind is int and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{name} values must be positive integers, got {v!r}")
        if (kind is str or in_table) and v not in allowed:
            raise ValueError(f"{name}: {v!r} is not in Table {table}'s row {row!r}, whose values are {allowed}")
    return values


def grid(table: int, profile: str = "paper", *, cells=None, sizes=None, layers=None) -> list[GridPoint]:
    """The slice of Table ``table``'s RNN rows: every (cell, size, layers) combination,
    each axis the table's values unless given. In the paper profile every value must be
    one the table searched (ValueError naming the axis otherwise); the quick profile's
    models are scaled down, so its sizes may be any (``sizes=(8, 16)`` for a toy run).
    The rest of each configuration is ``configs.get(system, profile)``, i.e. the paper's
    pick for ``"paper"``."""
    system = _check_table(table)
    base = _configs.get(system, profile)  # checks the profile
    rows = _configs.table_grid(table)
    cells = _axis("cells", cells, tuple(rows["RNN cell type"]), str, table, "RNN cell type", True)
    sizes = _axis("sizes", sizes, tuple(rows["Size of RNN layers"]), int, table, "Size of RNN layers",
                  base.profile == "paper")
    layers = _axis("layers", layers, tuple(rows["Number of RNN layers"]), int, table, "Number of RNN layers", True)
    pick = base.rnn  # paper: the paper's pick; quick: its scaled-down stand-in (16 units)
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


def forecast_protocol(table: int, profile: str, *, warm_steps: int | None = None,
                      horizon_steps: int | None = None) -> dict:
    """How a configuration's forecast is scored, by table: the ``"forecast"`` entry of the
    results. Table 6 (FHN): the FHN chapter's own criterion for its picks
    (:func:`ledlib.chapter.validation_mnad`): a micro-solver warm-up of ``warm_steps``
    (default the chapter's T_warm = 75) from each validation trajectory's first sample,
    then the RNN alone to the trajectory's end; MNAD over u, v and both trajectories.
    Table 8 (KS): :func:`latent_forecast_error` (default warm-up 60, horizon 100, 4 starts
    per validation trajectory)."""
    from . import data

    system = _check_table(table)
    for name, v in (("warm_steps", warm_steps), ("horizon_steps", horizon_steps)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{name} must be an integer >= 1 or None (the table's default), got {v!r}")
    n_samples = dict(data.spec(system, profile).splits)["val"].n_samples
    if table == 6:
        from .paper import fhn

        if horizon_steps is not None:
            raise ValueError("horizon_steps: Table 6's forecast runs to the end of the validation trajectories "
                             f"(the FHN chapter's criterion); give warm_steps only, got horizon_steps={horizon_steps}")
        warm = int(fhn.PROTOCOL[_configs.get(system, profile).profile].T_warm) if warm_steps is None else warm_steps
        if warm >= n_samples - 1:
            raise ValueError(f"warm_steps must leave a forecast step in the {n_samples} validation samples, got {warm}")
        return {"metric": "MNAD", "on": "val", "kind": "chapter", "warm_steps": warm,
                "horizon_steps": n_samples - 1 - warm,
                "how": "the FHN chapter's validation forecast (ledlib.chapter.validation_mnad): micro-solver warm-up, "
                       "then the RNN alone to the end of both validation trajectories; MNAD mean over u, v"}
    warm, horizon = 60 if warm_steps is None else warm_steps, 100 if horizon_steps is None else horizon_steps
    if warm + horizon > n_samples:
        raise ValueError(f"warm_steps + horizon_steps = {warm + horizon} exceeds the {n_samples} validation samples")
    return {"metric": "MNAD", "on": "val", "kind": "latent", "warm_steps": warm, "horizon_steps": horizon,
            "n_starts": 4, "how": "ledlib.grid_search.latent_forecast_error: 4 evenly spaced starts per validation "
                                  "trajectory, encoded warm-up, the RNN alone for the horizon"}


def forecast_error(led, dataset, protocol: dict, *, seed: int = 0) -> float:
    """The forecast MNAD of ``led`` on ``dataset``'s validation split by ``protocol``
    (:func:`forecast_protocol`)."""
    if protocol.get("kind") == "chapter":
        from . import chapter

        return chapter.validation_mnad(led, dataset.system(), dataset.val, protocol["warm_steps"], seed=seed)
    if protocol.get("kind") == "latent":
        return latent_forecast_error(led, dataset.val.states, warm_steps=protocol["warm_steps"],
                                     horizon_steps=protocol["horizon_steps"], n_starts=protocol["n_starts"])
    raise ValueError(f"protocol must come from forecast_protocol (kind 'chapter' or 'latent'), got {protocol!r}")


def _fit_ae(system, profile, dataset, cache, seed, device):
    from . import train

    return train.fit_autoencoder(_configs.get(system, profile), dataset, cache=cache, seed=seed, device=device,
                                 progress=False)


def _fit_and_score(ae, config, dataset, protocol, cache, seed, device) -> dict:
    """One point: its RNN on ``ae``'s encodings (trained or loaded) and its two scores."""
    from . import train

    start = time.perf_counter()
    led, record = train.fit_rnn(ae, config.rnn, dataset, cache=cache, seed=seed, device=device, progress=False)
    error = forecast_error(led, dataset, protocol, seed=seed)
    return {"val_loss": record["best_val_loss"], "forecast_mnad": error, "epochs_run": record["epochs_run"],
            "stopped_early": record.get("stopped_early"), "train_wall_s": record.get("wall_time_s"),
            "device": record.get("device"), "seed": seed, "fit_and_score_s": time.perf_counter() - start}


def _ae_job(system, profile):
    def run(cache, seed, device):
        return _ae_summary(_fit_ae(system, profile, _dataset(system, profile, cache), cache, seed, device)[1])
    return run


def _rnn_job(system, profile, config, protocol):
    def run(cache, seed, device):
        ds = _dataset(system, profile, cache)
        ae, _ = _fit_ae(system, profile, ds, cache, seed, device)
        return _fit_and_score(ae, config, ds, protocol, cache, seed, device)
    return run


def jobs(table: int, profile: str, points, *, warm_steps: int | None = None, horizon_steps: int | None = None) -> tuple:
    """``(autoencoder job, [one job per point])`` for :func:`ledlib.distributed.run_jobs`:
    the autoencoder first (the RNN jobs load it)."""
    from .studies import Job

    system = _check_table(table)
    protocol = forecast_protocol(table, profile, warm_steps=warm_steps, horizon_steps=horizon_steps)
    ae = Job(f"{system}-grid-AE", _ae_job(system, profile))
    return ae, [Job(p.name, _rnn_job(system, profile, p.config, protocol)) for p in points]


def _results(table, profile, rows, seed, device, protocol, autoencoder, start, commit, **extra) -> dict:
    """The results dict (RESULTS_FORMAT) of scored ``rows``, one per point."""
    system = RNN_TABLES[table]
    pick = _configs.get(system, "paper").rnn
    base = _configs.get(system, profile)
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
        "pick": {"RNN cell type": base.rnn.cell, "Size of RNN layers": base.rnn.d_h,
                 "Number of RNN layers": base.rnn.n_layers},  # the profile's (paper: the paper's pick)
        "forecast": protocol, "autoencoder": autoencoder, "points": rows,
        "best_val_loss": min(scored, key=lambda r: r["val_loss"])["name"] if scored else None,
        "best_forecast": min(scored, key=lambda r: r["forecast_mnad"])["name"] if scored else None,
        **extra, "wall_s": time.perf_counter() - start, "commit": commit,
    }


def _ae_summary(record: dict) -> dict:
    return {k: record.get(k) for k in ("best_val_loss", "epochs_run", "stopped_early", "wall_time_s", "device")}


def search(client, table: int, profile: str, points, *, cache=None, seed: int = 0, device: str = "cpu",
           threads: int = 1, warm_steps: int | None = None, horizon_steps: int | None = None, report=print) -> dict:
    """Train and score every point on ``client``'s cluster; the results (see :func:`render`).
    ``report(line)`` gets each job's report line as it finishes."""
    from . import distributed

    from .scorecard import _commit

    _check_table(table)
    points = list(points)
    commit = _commit()  # the code the search started from (a long search may outlive HEAD)
    start = time.perf_counter()
    protocol = forecast_protocol(table, profile, warm_steps=warm_steps, horizon_steps=horizon_steps)
    ae_job, rnn_jobs = jobs(table, profile, points, warm_steps=warm_steps, horizon_steps=horizon_steps)
    done = {}
    for stage in ([ae_job], rnn_jobs):  # the autoencoder once, then the RNNs that load it
        for r in distributed.run_jobs(client, stage, cache=cache, seed=seed, device=device, threads=threads):
            if report is not None:
                report(r.line())
            done[r.name] = r
        if not done[ae_job.name].ok:
            break
    rows = []
    for p in points:
        r = done.get(p.name)
        row = {"name": p.name, "values": p.values, "paper_pick": p.paper_pick,
               "status": r.status if r is not None else "not run: the autoencoder failed"}
        if r is not None and r.ok:
            row.update(r.result)
            row["job_wall_s"] = r.wall_s
        rows.append(row)
    ae = done[ae_job.name]
    return _results(table, profile, rows, seed, device, protocol, ae.result if ae.ok else ae.status, start, commit,
                    ran="dask")


def run_or_load(table: int = 6, profile: str = "quick", *, dataset=None, cache=None, seed: int = 0,
                device: str = "cpu", cells=None, sizes=None, layers=None, pick_seeds=None,
                warm_steps: int | None = None, horizon_steps: int | None = None) -> dict:
    """The slice ``SLICES[table][profile]`` (or the ``cells``/``sizes``/``layers`` given)
    scored from its models, in this process: the autoencoder and every RNN come from the
    shipped models (``models/``) or ``cache``, as :func:`search` left them there, and only
    what is missing is trained. Every number is computed again from the models (the
    validation loss is each RNN's training record). The paper's pick also gets RNN seeds
    ``pick_seeds`` (default ``PICK_SEEDS[profile]``; seed ``seed`` is its point), whose
    spread is the scale of seed noise (``"pick_seeds"`` in the results). ``dataset``: the
    paper dataset of the table's system (default ``data.load``). Returns the results
    (:data:`RESULTS_FORMAT`) for :func:`render` and :func:`ledlib.plots.grid.grid_search_figure`."""
    from . import data
    from ._checks import nonnegative_int
    from .scorecard import _commit

    system = _check_table(table)
    seed = nonnegative_int("seed", seed)
    chosen = {"cells": cells, "sizes": sizes, "layers": layers}
    default = SLICES.get(table, {}).get(_configs.get(system, profile).profile, {})
    points = grid(table, profile, **{k: (default.get(k) if v is None else v) for k, v in chosen.items()})
    protocol = forecast_protocol(table, profile, warm_steps=warm_steps, horizon_steps=horizon_steps)
    p_seeds = PICK_SEEDS[_configs.get(system, profile).profile] if pick_seeds is None else pick_seeds
    if isinstance(p_seeds, (str, bytes)) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                    for s in p_seeds):
        raise ValueError(f"pick_seeds must be a sequence of integers >= 0, got {pick_seeds!r}")
    commit, start = _commit(), time.perf_counter()
    ds = data.load(system, profile, cache=cache, progress=False) if dataset is None else dataset
    if getattr(getattr(ds, "spec", None), "system", None) != system:
        raise ValueError(f"dataset must be the {system} dataset of Table {table} (data.load({system!r}, profile)), "
                         f"got {type(ds).__name__} of {getattr(getattr(ds, 'spec', None), 'system', None)!r}")
    ae, ae_record = _fit_ae(system, profile, ds, cache, seed, device)
    rows = []
    for p in points:
        row = {"name": p.name, "values": p.values, "paper_pick": p.paper_pick, "status": "ok"}
        row.update(_fit_and_score(ae, p.config, ds, protocol, cache, seed, device))
        rows.append(row)
    extra = {}
    picks = [p for p in points if p.paper_pick]
    if picks:
        first = next(r for r in rows if r["paper_pick"])
        extra["pick_seeds"] = [{k: first[k] for k in ("seed", "val_loss", "forecast_mnad", "epochs_run")}] + [
            {k: v for k, v in _fit_and_score(ae, picks[0].config, ds, protocol, cache, s, device).items()
             if k in ("seed", "val_loss", "forecast_mnad", "epochs_run")}
            for s in dict.fromkeys(p_seeds) if s != seed]
    return _results(table, profile, rows, seed, device, protocol, _ae_summary(ae_record), start, commit,
                    ran="in-process", **extra)


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


def _pick_label(results: dict) -> str:
    return "paper's pick" if results.get("profile", "paper") == "paper" else "quick profile's pick"


def _ranked(results: dict, key: str) -> list:
    return sorted((r for r in results["points"] if math.isfinite(r.get(key, math.nan))), key=lambda r: r[key])


def _spread(rows: list, key: str) -> tuple:
    vals = [r[key] for r in rows if math.isfinite(r.get(key, math.nan))]
    return (min(vals), max(vals)) if vals else (math.nan, math.nan)


def _describe(values: dict) -> str:
    return (f"{values['RNN cell type'].upper()}, {values['Size of RNN layers']} units, "
            f"{values['Number of RNN layers']} layer{'s' if values['Number of RNN layers'] > 1 else ''}")


def verdict(results: dict) -> str:
    """In words, from ``results``: where the pick ranks by validation loss and by forecast
    error, which configuration is best here on each, and the pick's seed-to-seed spread."""
    pick = [r for r in results["points"] if r["paper_pick"]]
    label = _pick_label(results)
    if not pick or "val_loss" not in pick[0]:
        return f"The {label} is not among the scored configurations of this slice."
    pick = pick[0]
    out = []
    for key, what, best in (("val_loss", "validation loss", results["best_val_loss"]),
                            ("forecast_mnad", "forecast MNAD", results["best_forecast"])):
        ranked = _ranked(results, key)
        rank = [r["name"] for r in ranked].index(pick["name"]) + 1
        if best == pick["name"]:
            out.append(f"by {what} it is the best here (1 of {len(ranked)})")
        else:
            b = next(r for r in ranked if r["name"] == best)
            out.append(f"by {what} it ranks {rank} of {len(ranked)}: the best here is {_describe(b['values'])} "
                       f"({b[key]:.3g} against {pick[key]:.3g})")
    text = f"The {label} ({_describe(pick['values'])}): " + "; ".join(out) + "."
    seeds = results.get("pick_seeds") or []
    if len(seeds) > 1:
        (lo, hi), (flo, fhi) = _spread(seeds, "val_loss"), _spread(seeds, "forecast_mnad")
        text += (f" With RNN seeds {', '.join(str(s['seed']) for s in seeds)} the {label} alone spans a validation "
                 f"loss of {lo:.3g} to {hi:.3g} and a forecast MNAD of {flo:.3g} to {fhi:.3g}: each other "
                 "configuration was trained with one seed, so differences within these ranges are seed noise.")
        others = [r for r in results["points"] if not r["paper_pick"] and math.isfinite(r.get("val_loss", math.nan))]
        parts = []
        for key, what, (a, b) in (("val_loss", "validation loss", (lo, hi)), ("forecast_mnad", "forecast MNAD", (flo, fhi))):
            better = [_short(r["values"]) for r in others if r[key] < a]
            worse = [_short(r["values"]) for r in others if r[key] > b]
            parts.append(f"by {what} {len(others) - len(better) - len(worse)} of the {len(others)} others lie in "
                         f"that range, {_names(better)} below it (better than every seed of the pick) and "
                         f"{_names(worse)} above it")
        text += " " + "; ".join(parts)[0].upper() + "; ".join(parts)[1:] + "."
    return text


def _short(values: dict) -> str:
    return f"{values['RNN cell type'].upper()} {values['Number of RNN layers']}x{values['Size of RNN layers']}"


def _names(names: list) -> str:
    return "none" if not names else ", ".join(names)


def render(results: dict) -> str:
    """A markdown table of every configuration, sorted by validation loss: its RNN rows,
    validation loss, forecast MNAD, the pick in bold and the best here marked on each
    score; then :func:`verdict`."""
    head = results["searched"]
    fc = results["forecast"]
    label = _pick_label(results)
    lines = [f"| {' | '.join(head)} | validation loss | forecast MNAD (warm-up {fc.get('warm_steps')}, "
             f"{fc['horizon_steps']} steps) | |",
             "|" + "---|" * (len(head) + 3)]
    ok = _ranked(results, "val_loss")
    for r in ok + [r for r in results["points"] if r not in ok]:
        cells = [str(r["values"][h]) for h in head]
        if r in ok:
            cells += [f"{r['val_loss']:.3g}", f"{r['forecast_mnad']:.3g}"]
        else:
            cells += [r["status"], ""]
        notes = [n for n, flag in ((label, r["paper_pick"]),
                                   ("best here (lowest loss)", r["name"] == results["best_val_loss"]),
                                   ("best here (lowest forecast error)", r["name"] == results["best_forecast"])) if flag]
        if r["paper_pick"]:
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append(f"| {' | '.join(cells)} | {', '.join(notes)} |")
    if not any(r["paper_pick"] for r in results["points"]):
        pick = ", ".join(f"{k} {v}" for k, v in results["paper_pick"].items())
        lines.append(f"\nThe paper's pick ({pick}) is not in this slice.")
    else:
        lines.append("\n" + verdict(results))
    return "\n".join(lines)
