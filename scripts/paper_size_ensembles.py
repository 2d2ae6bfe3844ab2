"""The advection-diffusion moment studies at the paper's ensemble sizes, on a GPU.

On a CPU the AD chapters run 4 initial conditions x 32 runs (1-D) and 4 x 16 (3-D); the
paper has 20 x 400 and 12 x 600. The cost is the micro solver inside the multiscale runs,
which the torch particle backend moves onto a GPU. Two steps:

    # here, where the datasets are cached: the initial conditions and the model keys
    python scripts/paper_size_ensembles.py export --out ics.npz AD1D AD3D
    # on the GPU machine (only the repository with models/ and ics.npz travel)
    python scripts/paper_size_ensembles.py run --ics ics.npz --device cuda --results-dir OUT AD1D AD3D
    # here: the entries into the book's scorecard
    python scripts/paper_size_ensembles.py merge --results-dir OUT

``run`` loads each system's shipped paper LED (``models/``, checksummed), runs
:func:`ledlib.particle_statistics.moment_study` with the chapter's variants, horizon and
seed at the paper's ensemble size, and writes the chapter's scorecard keys
(``AD1.wd_m1_latent``, ``AD3.wd_m2_rho9``...) with the ensemble size in the note. It also
measures the particle backends: particle steps per second of the torch backend on the
device against the NumPy backend on one CPU thread, printed as a ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # particle_solver: the backends' timing

# the paper's ensembles (§8.1: 20 ICs x 400 runs; §8.2: 12 x 600) and the scorecard prefixes
PAPER_SIZE = {"AD1D": (20, 400), "AD3D": (12, 600)}
PREFIX = {"AD1D": "AD1", "AD3D": "AD3"}
SYSTEMS = tuple(PAPER_SIZE)


def _systems(names) -> list[str]:
    bad = [n for n in names if n not in SYSTEMS]
    if bad or not names:
        raise SystemExit(f"systems must be some of {SYSTEMS}, got {list(names)}")
    return list(names)


def export(names, out: Path, profile: str, cache, n_ic: dict) -> None:
    """The studies' initial conditions (the chapter's: test trajectories from sample i0) and
    the key of each system's shipped LED, into one small ``.npz``."""
    from ledlib import chapter, data, paper, train

    arrays, meta = {}, {}
    for name in names:
        fit = train.fit_led(name, profile, cache=cache, device="cpu", progress=False)
        P = paper.protocol(name, profile)
        groups = chapter.test_groups(fit.dataset.test, n_ic[name], P.i0)
        for g, (t0, x0) in enumerate(groups):
            arrays[f"{name}_x0_{g}"] = x0.astype(np.float64)
        key = train.model_key(fit.led.config, data.content_hash(fit.dataset), 0)
        meta[name] = {"key": key, "t0": [t0 for t0, _ in groups], "profile": profile,
                      "system_kwargs": dict(fit.dataset.spec.system_kwargs)}
    arrays["meta"] = np.array(json.dumps(meta))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB): " + ", ".join(
        f"{n}: {sum(a.shape[0] for k, a in arrays.items() if k.startswith(n + '_'))} ICs" for n in names))


def _load_ics(path: Path) -> tuple[dict, dict]:
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        groups = {n: [(float(t0), f[f"{n}_x0_{g}"]) for g, t0 in enumerate(m["t0"])] for n, m in meta.items()}
    return meta, groups


def _shipped_led(key: str, device: str):
    from ledlib import train

    led = train.load_shipped(key, device)
    if led is None:
        raise SystemExit(f"no usable shipped model {key} in {train.models_dir()}: ship it (scripts/ship_models.py)")
    return led


def backend_speed(system, device: str, n_runs: int, n_steps: int = 200) -> dict:
    """Particle steps per second of the NumPy backend (this process's thread) and of the
    torch backend on ``device`` for a batch of ``n_runs`` configurations
    (``benchmarks/particle_solver.py``'s timing, best of 3)."""
    from particle_solver import time_per_step

    return {label: n_runs * system.n_particles / time_per_step(sys_, n_runs, n_steps, repeats=3)
            for label, sys_ in (("numpy", system), (f"torch-{device}", system.on_device(device)))}


def run(names, ics: Path, device: str, results_dir: Path, n_ic: dict, n_runs: dict, horizon: float | None,
        seed: int) -> dict:
    """The moment studies at the given sizes; scorecard entries into ``results_dir`` and the
    timings into ``results_dir/timings.json``. Returns ``{system: study summary}``."""
    import torch

    from ledlib import paper, particle_statistics, plots, scorecard
    from ledlib.device import resolve_device

    dev = str(resolve_device(device))
    torch.set_num_threads(1)
    meta, all_groups = _load_ics(ics)
    summaries, timings = {}, {}
    for name in names:
        if name not in meta:
            raise SystemExit(f"{ics} holds no initial conditions of {name}: export them first")
        m = meta[name]
        P = paper.protocol(name, m["profile"])
        groups = _first_ics(all_groups[name], n_ic[name])
        n_ic_used = sum(x0.shape[0] for _, x0 in groups)
        led = _shipped_led(m["key"], dev)
        system = paper.module(name).make_system(**m["system_kwargs"])
        speed = backend_speed(system, dev, n_runs[name])
        print(f"{name}: particle steps/s, numpy 1 thread {speed['numpy']:.3g}, torch on {dev} "
              f"{speed[f'torch-{dev}']:.3g}: ratio {speed[f'torch-{dev}'] / speed['numpy']:.3g}", flush=True)
        micro = system.on_device(dev) if dev != "cpu" else system
        variants = {"latent": (None, 0.0), **{plots.variant_label(T_m, P.T_mu): (T_m, P.T_mu) for T_m in P.T_ms}}
        T_f = P.T_f if horizon is None else horizon
        start = time.perf_counter()
        study = particle_statistics.moment_study(led, micro, groups, variants, T_warm=P.T_warm, horizon=T_f,
                                                 n_runs=n_runs[name], record_every=P.record_every, seed=seed)
        wall = time.perf_counter() - start
        summ = study.summary()
        print(f"{name}: {n_ic_used} ICs x {n_runs[name]} runs to T_f = {T_f:g} in {wall:.0f} s on {dev}")
        for lab, e in summ.items():
            print(f"  {lab:>10}: WD M1 {e['M1']['wd']:.3e}  M2 {e['M2']['wd']:.3e}", flush=True)
        backend = "NumPy" if dev == "cpu" else "torch"
        size = (f"{n_ic_used} ICs x {n_runs[name]} runs (paper {PAPER_SIZE[name][0]} x {PAPER_SIZE[name][1]}), "
                f"T_f={T_f:g}, on {dev} with the {backend} particle backend (scripts/paper_size_ensembles.py, "
                f"{wall:.0f} s); truth: {2 * n_runs[name]} runs per IC drawn from the solver's exact law")
        for key, (label, fig) in _claims(name, P).items():
            M = key.split("_")[1].upper()
            scorecard.record(results_dir, f"{PREFIX[name]}.{key}", float(f"{summ[label][M]['wd']:.3g}"),
                             figure=fig, profile=m["profile"], device=dev,
                             note=f"{label}; {size}; truth vs truth {summ['floor'][M]['wd']:.2g}")
        summaries[name] = summ
        timings[name] = {"particle_steps_per_s": speed, "study_wall_s": wall, "n_ic": n_ic_used,
                         "n_runs": n_runs[name], "T_f": T_f, "device": dev}
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    return summaries


def _first_ics(groups, n: int):
    """The first ``n`` initial conditions of ``groups``, in order."""
    out, left = [], n
    for t0, x0 in groups:
        if left <= 0:
            break
        out.append((t0, x0[:left]))
        left -= x0[:left].shape[0]
    if left > 0:
        raise SystemExit(f"asked for {n} initial conditions, the file holds {n - left}")
    return out


def _claims(name: str, P) -> dict:
    """Scorecard key (without the prefix) -> (variant label, figures), as the chapters record them."""
    from ledlib import plots

    if name == "AD1D":
        ms = plots.variant_label(P.T_ms[-2], P.T_mu)
        return {f"wd_{m}_{tag}": (lab, fig) for m in ("m1", "m2")
                for tag, lab, fig in (("latent", "latent", "F19, F20"), ("multiscale", ms, "F18-F20"))}
    return {f"wd_{m}_{tag}": (lab, "F3, F21, F25, F26") for m in ("m1", "m2")
            for tag, lab in (("latent", "latent"), ("rho5", plots.variant_label(P.T_ms[-1], P.T_mu)),
                             ("rho9", plots.variant_label(P.T_ms[-2], P.T_mu)))}


def merge(results_dir: Path, into: Path) -> None:
    from ledlib import scorecard

    entries = scorecard.load(results_dir)
    scorecard.merge(into, entries)
    print(f"merged {len(entries)} entries into {into}: {', '.join(sorted(entries))}")


def _sizes(values, default: dict, what: str) -> dict:
    if values is None:
        return dict(default)
    if len(values) != 1 or values[0] < 1:
        raise SystemExit(f"{what} must be one integer >= 1")
    return dict.fromkeys(default, values[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="initial conditions and model keys, from the cached datasets")
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--profile", choices=("quick", "paper"), default="paper")
    ex.add_argument("--cache-dir", default=None)
    ex.add_argument("--n-ic", type=int, nargs=1, default=None, help="initial conditions (default: the paper's)")
    ex.add_argument("systems", nargs="+")
    rn = sub.add_parser("run", help="the studies, on the device")
    rn.add_argument("--ics", type=Path, required=True)
    rn.add_argument("--device", default="auto")
    rn.add_argument("--results-dir", type=Path, required=True)
    rn.add_argument("--n-ic", type=int, nargs=1, default=None, help="initial conditions (default: the paper's)")
    rn.add_argument("--n-runs", type=int, nargs=1, default=None, help="runs per IC (default: the paper's)")
    rn.add_argument("--horizon", type=float, default=None, help="T_f (default: the chapter's)")
    rn.add_argument("--seed", type=int, default=0)
    rn.add_argument("systems", nargs="+")
    mg = sub.add_parser("merge", help="a run's scorecard entries into the book's")
    mg.add_argument("--results-dir", type=Path, required=True)
    mg.add_argument("--into", type=Path, default=ROOT / "book" / "results")
    args = ap.parse_args(argv)
    if args.command == "merge":
        merge(args.results_dir, args.into)
        return 0
    names = _systems(args.systems)
    n_ic = _sizes(args.n_ic, {n: PAPER_SIZE[n][0] for n in SYSTEMS}, "--n-ic")
    if args.command == "export":
        export(names, args.out, args.profile, args.cache_dir, n_ic)
    else:
        if args.horizon is not None and not (math.isfinite(args.horizon) and args.horizon > 0):
            raise SystemExit("--horizon must be a positive number")
        n_runs = _sizes(args.n_runs, {n: PAPER_SIZE[n][1] for n in SYSTEMS}, "--n-runs")
        run(names, args.ics, args.device, args.results_dir, n_ic, n_runs, args.horizon, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
