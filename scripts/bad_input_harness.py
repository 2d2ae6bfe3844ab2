"""Bad-input harness: call the public functions of ``ledlib`` with bad arguments and classify
what happens (issue 14).

Every public function of ``systems``, ``data``, ``metrics``, ``forecast``, ``train``,
``configs`` and ``analysis`` listed in :func:`entries` is first called with valid arguments;
then each of its parameters in turn is replaced by the bad values of the parameter's kind
(:data:`BAD`), one forked process per case, with a wall-clock timeout and a memory limit.
Outcomes:

- ``clear``: ``ValueError``/``TypeError`` (or a subclass) whose message names the parameter;
- ``unclear``: any other exception, a message that does not name the parameter, or a crash;
- ``garbage``: returned a result holding NaN/inf; ``accepted``: returned without complaint;
- ``hang``: still running at the timeout (killed).

Usage::

    python scripts/bad_input_harness.py [--root DIR] [--timeout 10] [--json OUT] [--only NAME]

``--root`` imports ``ledlib`` from another checkout (e.g. a worktree of an older commit), so
the same cases measure the code before and after. An entry whose valid call fails there (an
API that did not exist yet) is skipped and listed.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import multiprocessing as mp
import os
import resource
import sys
import time
import traceback
import warnings
from collections import Counter

import numpy as np

NAN, INF = float("nan"), float("inf")

# Bad values per kind of parameter. Values a kind may legitimately take are left out (0 for
# a non-negative int, 1e308 for a threshold), so that "accepted" means a bad value passed.
BAD = {
    "count": [0, -1, 1.5, "2", None, True, 10**12],
    "nonneg_int": [-1, 1.5, "2", None, True, 10**12],
    "seed": [-1, 1.5, "0", True, [-1]],
    "pos_real": [0.0, -1.0, NAN, INF, "1", None],
    "nonneg_real": [-1.0, NAN, INF, "1", None],
    "time": [NAN, INF, -INF, "1", None, 1e308],       # absolute times and durations
    "real": [NAN, INF, -INF, "1", None],
    "duration": [NAN, INF, -1.0, "1", None, 1e308],
    "array": ["abc", None, "nan", "inf", "empty", "object"],
    "choice": [None, 3, "bogus", ""],
    "device": ["cuda:99", "bogus", 3],
    "dtype": [np.int8, "abc", None],
    "callable": [None, 3],
    "name": [None, 3, "../escaped", ""],
    "fraction": [-0.1, 1.5, NAN, "0.5", None],
}


def _bad_array(tag, valid):
    v = np.asarray(valid)
    if tag == "nan":
        a = v.astype(np.float64).copy()
        a.flat[0] = np.nan
        return a
    if tag == "inf":
        a = v.astype(np.float64).copy()
        a.flat[-1] = np.inf
        return a
    if tag == "empty":
        return v[:0]
    if tag == "object":
        return np.array([object()] * max(1, min(v.size, 3)), dtype=object)
    return tag


def entries(ledlib):
    """``(name, make)`` pairs: ``make()`` (run in the child) returns ``(fn, kwargs, kinds)``,
    the function, a valid call's keyword arguments and the kind of each tested parameter."""
    from ledlib import analysis, configs, data, metrics, systems
    import ledlib.forecast as fc

    rng = np.random.default_rng(0)
    E = []

    def add(name, make):
        E.append((name, make))

    def ks():
        return systems.KuramotoSivashinsky()

    def ks_x(n=2):
        return ks().initial_conditions(n, seed=0, transient=0.0)

    # -- systems ------------------------------------------------------------------------
    add("KS()", lambda: (systems.KuramotoSivashinsky, dict(L=22.0, n=64, dt=0.025, coarse_dt=0.25),
                         dict(L="pos_real", n="count", dt="pos_real", coarse_dt="pos_real")))
    add("FHN()", lambda: (systems.FitzHughNagumo, dict(), {}))
    add("AD()", lambda: (systems.AdvectionDiffusion, dict(dim=1, n_particles=20), dict(dim="count", n_particles="count")))
    add("KS.initial_conditions", lambda: (ks().initial_conditions, dict(n=2, seed=0, transient=0.0),
                                          dict(n="count", seed="seed", transient="duration")))
    add("FHN.initial_conditions", lambda: (systems.FitzHughNagumo().initial_conditions, dict(n=8, seed=0),
                                           dict(n="count", seed="seed")))
    add("AD.initial_conditions", lambda: (systems.AdvectionDiffusion(dim=1, n_particles=20).initial_conditions,
                                          dict(n=2, seed=0, spread=0.1),
                                          dict(n="count", seed="seed", spread="duration")))
    add("KS.advance", lambda: (ks().advance, dict(micro=ks_x(), t0=0.0, t=0.25),
                               dict(micro="array", t0="time", t="time")))
    add("AD.advance", lambda: (systems.AdvectionDiffusion(dim=1, n_particles=20).advance,
                               dict(micro=systems.AdvectionDiffusion(dim=1, n_particles=20).initial_conditions(2, seed=0),
                                    t0=0.0, t=0.002, seed=0),
                               dict(micro="array", t0="time", t="time", seed="seed")))
    add("KS.simulate", lambda: (ks().simulate, dict(x0=ks_x(), n_steps=2, t0=0.0),
                                dict(x0="array", n_steps="nonneg_int", t0="time")))
    add("AD.simulate", lambda: (systems.AdvectionDiffusion(dim=1, n_particles=20).simulate,
                                dict(x0=systems.AdvectionDiffusion(dim=1, n_particles=20).initial_conditions(2, seed=0),
                                     n_steps=2, seed=0),
                                dict(x0="array", n_steps="nonneg_int", seed="seed")))
    add("KS.lift", lambda: (ks().lift, dict(obs=ks_x()), dict(obs="array")))
    add("KS.restrict", lambda: (ks().restrict, dict(micro=ks_x()), dict(micro="array")))

    # -- metrics ------------------------------------------------------------------------
    y = rng.normal(size=(20, 8))
    add("metrics.nad", lambda: (metrics.nad, dict(y=y, y_hat=y + 0.1, normalization="global"),
                                dict(y="array", y_hat="array", normalization="choice")))
    add("metrics.mnad", lambda: (metrics.mnad, dict(y=y, y_hat=y + 0.1), dict(y="array", y_hat="array")))
    add("metrics.wasserstein", lambda: (metrics.wasserstein, dict(a=y[:, 0], b=y[:, 1]),
                                        dict(a="array", b="array")))
    add("metrics.wasserstein_columns", lambda: (metrics.wasserstein_columns, dict(a=y, b=y + 1),
                                                dict(a="array", b="array")))
    add("metrics.l1_hist_distance", lambda: (metrics.l1_hist_distance, dict(a=y[:, 0], b=y[:, 1], bins=5),
                                             dict(a="array", b="array", bins="count")))
    add("metrics.rice_bins", lambda: (metrics.rice_bins, dict(n=100), dict(n="count")))
    add("metrics.moments", lambda: (metrics.moments, dict(positions=rng.normal(size=(3, 10, 2))),
                                    dict(positions="array")))
    add("metrics.sampling_floor", lambda: (metrics.sampling_floor,
                                           dict(truth=y, metric=lambda a, b: float(np.mean(a) - np.mean(b)),
                                                seed=0, n_splits=2),
                                           dict(truth="array", metric="callable", seed="seed",
                                                n_splits="count")))
    add("metrics.spectral_derivative", lambda: (metrics.spectral_derivative, dict(u=y, L=22.0, order=1),
                                                dict(u="array", L="pos_real", order="count")))
    add("metrics.power_spectrum", lambda: (metrics.power_spectrum, dict(u=y, L=22.0),
                                           dict(u="array", L="pos_real")))
    add("metrics.joint_density_ux_uxx", lambda: (metrics.joint_density_ux_uxx, dict(u=y, L=22.0, bins=10),
                                                 dict(u="array", L="pos_real", bins="count")))
    add("metrics.nrmse", lambda: (metrics.nrmse, dict(y=y, y_hat=y + 0.1), dict(y="array", y_hat="array")))
    add("metrics.valid_prediction_time", lambda: (metrics.valid_prediction_time,
                                                  dict(t=np.arange(5.0), err=np.linspace(0, 1, 5),
                                                       threshold=0.5),
                                                  dict(t="array", err="array", threshold="pos_real")))
    add("metrics.lyapunov_times", lambda: (metrics.lyapunov_times, dict(t=np.arange(5.0), lyapunov_exponent=0.05),
                                           dict(t="array", lyapunov_exponent="pos_real")))
    add("metrics.RunningHistogram", lambda: (metrics.RunningHistogram, dict(lo=0.0, hi=1.0, bins=10),
                                             dict(lo="real", hi="real", bins="count")))

    # -- analysis -----------------------------------------------------------------------
    pts = np.concatenate([rng.normal(size=(20, 2)), rng.normal(size=(20, 2)) + 6.0])
    add("analysis.kmeans", lambda: (analysis.kmeans, dict(x=pts, n_clusters=2, seed=0, n_init=2),
                                    dict(x="array", n_clusters="count", seed="seed", n_init="count")))
    add("analysis.spectral_labels", lambda: (analysis.spectral_labels, dict(x=pts, n_clusters=2, seed=0, n_init=2),
                                             dict(x="array", n_clusters="count", seed="seed", n_init="count")))
    add("analysis.density_2d", lambda: (analysis.density_2d, dict(a=pts[:, 0], b=pts[:, 1], bins=10),
                                        dict(a="array", b="array", bins="count")))
    add("analysis.density_at_points", lambda: (analysis.density_at_points, dict(a=pts[:, 0], b=pts[:, 1], bins=10),
                                               dict(a="array", b="array", bins="count")))
    add("analysis.latent_pca", lambda: (analysis.latent_pca, dict(z=pts, n_components=2),
                                        dict(z="array", n_components="count")))
    add("analysis.adjusted_rand_index", lambda: (analysis.adjusted_rand_index,
                                                 dict(labels_a=np.arange(10) % 2, labels_b=np.arange(10) % 3),
                                                 dict(labels_a="array", labels_b="array")))

    # -- data ---------------------------------------------------------------------------
    add("data.spec", lambda: (data.spec, dict(system="KS", profile="quick"),
                              dict(system="choice", profile="name")))
    add("data.SplitSpec", lambda: (data.SplitSpec, dict(n_traj=2, n_samples=5, seed=0),
                                   dict(n_traj="count", n_samples="count", seed="seed")))
    add("data.DatasetSpec.with_", lambda: (data.spec("KS", "quick").with_,
                                           dict(profile="quick", splits=data.spec("KS", "quick").splits,
                                                system_kwargs=(), transient=1.0),
                                           dict(profile="name", splits="choice", system_kwargs="choice",
                                                transient="duration")))
    tr = rng.normal(size=(2, 6, 8))
    add("data.from_arrays", lambda: (data.from_arrays, dict(train=tr, val=tr + 0.1, coarse_dt=0.25),
                                     dict(train="array", val="array", coarse_dt="pos_real")))
    add("data.MinMaxScaler.fit", lambda: (data.MinMaxScaler().fit, dict(x=tr), dict(x="array")))
    add("data.StandardScaler.transform", lambda: (data.StandardScaler(-1).fit(tr).transform, dict(x=tr),
                                                  dict(x="array")))
    add("data.scaler_from_dict", lambda: (data.scaler_from_dict,
                                          dict(d={"kind": "minmax", "channel_axis": None, "a": 0.0, "b": 1.0}),
                                          dict(d="choice")))

    # -- configs ------------------------------------------------------------------------
    add("configs.get", lambda: (configs.get, dict(system="KS", profile="quick"),
                                dict(system="choice", profile="choice")))
    add("configs.template", lambda: (configs.template, dict(obs_shape=(8,), d_z=2),
                                     dict(obs_shape="choice", d_z="count")))
    add("configs.TrainConfig", lambda: (configs.TrainConfig, dict(),
                                        dict(lr="pos_real", batch_size="count", max_epochs="count")))

    # -- forecast -----------------------------------------------------------------------
    add("forecast.phase_schedule", lambda: (fc.phase_schedule, dict(n_steps=10, n_m=2, n_mu=1),
                                            dict(n_steps="nonneg_int", n_m="nonneg_int", n_mu="nonneg_int")))
    add("forecast.speedup_bound", lambda: (fc.speedup_bound, dict(rho=2.0, S_latent=100.0),
                                           dict(rho="nonneg_real", S_latent="pos_real")))
    add("forecast.make_generators", lambda: (fc.make_generators, dict(seed=0, device="cpu"),
                                             dict(seed="seed", device="device")))
    add("forecast.ParticleMoments", lambda: (fc.ParticleMoments, dict(dtype=np.float32), dict(dtype="dtype")))
    add("forecast.time_micro_solver", lambda: (fc.time_micro_solver, dict(system=ks(), x0=ks_x(), horizon=0.5),
                                               dict(x0="array", horizon="duration")))

    def led_case(fn_name):
        def make():
            import torch
            from ledlib.nn import LED
            torch.manual_seed(0)
            led = LED(configs.get("KS", profile="quick")).eval()
            x = ks_x(2)
            n = led.obs_shape[-1]
            x = np.resize(x, (2, n)) if x.shape[-1] != n else x
            if fn_name == "LED.encode":
                return led.encode, dict(x=x), dict(x="array")
            if fn_name == "train.encode_trajectories":
                from ledlib import train
                return (train.encode_trajectories, dict(led=led, states=x[:, None].repeat(3, 1), batch_size=4),
                        dict(states="array", batch_size="count"))
            if fn_name == "forecast.forecast":
                sys_ = systems.KuramotoSivashinsky(n=n)
                return (fc.forecast, dict(model=led, system=sys_, x0=sys_.initial_conditions(1, seed=0, transient=0.0),
                                          horizon=0.5, T_warm=0.25, seed=0),
                        dict(x0="array", horizon="duration", T_warm="duration", seed="seed"))
            if fn_name == "forecast.measure_speedup":
                sys_ = systems.KuramotoSivashinsky(n=n)
                return (fc.measure_speedup, dict(model=led, system=sys_, x0=sys_.initial_conditions(1, seed=0, transient=0.0),
                                                 horizon=0.5, T_warm=0.25, micro_per_step=1e-3),
                        dict(horizon="duration", T_warm="duration", micro_per_step="pos_real", repeats="count"))
            raise KeyError(fn_name)
        return make

    for nm in ("LED.encode", "train.encode_trajectories", "forecast.forecast", "forecast.measure_speedup"):
        add(nm, led_case(nm))
    return E


HUGE = 10**12


def _defaults(fn) -> dict:
    try:
        return {k: p.default for k, p in inspect.signature(fn).parameters.items()
                if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        return {}


def _summarise(value) -> str:
    try:
        arrs = []

        def walk(v, depth=0):
            if depth > 3:
                return
            if isinstance(v, (list, tuple)):
                for w in v:
                    walk(w, depth + 1)
            elif isinstance(v, dict):
                for w in v.values():
                    walk(w, depth + 1)
            elif hasattr(v, "detach"):
                arrs.append(v.detach().cpu().numpy())
            elif isinstance(v, (np.ndarray, float, np.floating)):
                arrs.append(np.asarray(v))
        walk(value)
        for a in arrs:
            if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
                return "garbage"
    except Exception:
        pass
    return "accepted"


def _child(conn, make, param, bad, mem_gb):
    resource.setrlimit(resource.RLIMIT_AS, (mem_gb * 2**30, mem_gb * 2**30))
    warnings.simplefilter("ignore")
    try:
        fn, kwargs, _kinds = make()
        kwargs = dict(kwargs)
        if param is not None:
            kwargs[param] = _bad_array(bad, kwargs[param]) if isinstance(bad, str) and _kinds[param] == "array" \
                else bad
        out = fn(**kwargs)
        conn.send(("return", _summarise(out), ""))
    except BaseException as err:  # noqa: BLE001 - classified by the parent
        conn.send(("raise", type(err).__name__, f"{err}"[:300],
                   isinstance(err, (ValueError, TypeError))))
    conn.close()


def run_case(make, param, bad, timeout, mem_gb=6):
    ctx = mp.get_context("fork")
    a, b = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(b, make, param, bad, mem_gb))
    t0 = time.monotonic()
    p.start()
    b.close()
    got = None
    if a.poll(timeout):
        try:
            got = a.recv()
        except EOFError:
            got = None
    p.join(max(0.1, timeout - (time.monotonic() - t0)))
    if p.is_alive():
        p.kill()
        p.join()
        if got is None:
            return "hang", ""
    if got is None:
        return "unclear", f"crashed (exit {p.exitcode})"
    if got[0] == "return":
        return got[1], ""
    _, etype, msg, is_vt = got
    if param is not None and is_vt and param.lower() in msg.lower():
        return "clear", f"{etype}: {msg}"
    return "unclear", f"{etype}: {msg}"


def table(rows) -> str:
    c = Counter(r["outcome"] for r in rows)
    n = len(rows)
    params = len({(r["entry"], r["param"]) for r in rows})
    return "\n".join([
        "| | tried | clear error naming the parameter | huge size run lazily | unclear | "
        "silent NaN/garbage or accepted | hang |",
        "|---|---|---|---|---|---|---|",
        f"| bad inputs | {n} ({params} parameters) | {c['clear']} ({100 * c['clear'] / max(n, 1):.0f} %) | "
        f"{c['lazy']} | {c['unclear']} | {c['garbage'] + c['accepted']} ({c['garbage']} NaN/inf, "
        f"{c['accepted']} accepted) | {c['hang']} |"])


def compare(before: str, after: str) -> None:
    """Both tables restricted to the cases the two runs have in common."""
    a, b = (json.load(open(p))["rows"] for p in (before, after))
    key = lambda r: (r["entry"], r["param"], r["bad"])  # noqa: E731
    common = {key(r) for r in a} & {key(r) for r in b}
    for label, rows in (("before", a), ("after", b)):
        print(f"{label} ({len(common)} common cases):")
        print(table([r for r in rows if key(r) in common]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help="import ledlib from this checkout")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--json", help="write every case and its outcome here")
    ap.add_argument("--only", help="run only entries whose name contains this")
    ap.add_argument("--compare", nargs=2, metavar=("BEFORE_JSON", "AFTER_JSON"),
                    help="print both tables on the cases two --json runs share, and exit")
    args = ap.parse_args(argv)
    if args.compare:
        compare(*args.compare)
        return 0
    if args.root:
        sys.path.insert(0, os.path.abspath(args.root))
    import ledlib  # noqa: F401  (imported before forking: the children share it)
    import torch  # noqa: F401

    rows, skipped = [], []
    for name, make in entries(ledlib):
        if args.only and args.only not in name:
            continue
        outcome, detail = run_case(make, None, None, 4 * args.timeout)
        if outcome not in ("accepted", "garbage"):
            skipped.append((name, detail or outcome))
            continue
        try:
            _fn, _kw, kinds = make()
        except Exception as err:  # noqa: BLE001
            skipped.append((name, repr(err)))
            continue
        defaults = _defaults(_fn)
        for param, kind in kinds.items():
            for bad in BAD[kind]:
                if bad is None and param in defaults and defaults[param] is None:
                    continue  # None is this parameter's documented default
                outcome, detail = run_case(make, param, bad, args.timeout)
                if outcome == "accepted" and bad == HUGE and kind in ("count", "nonneg_int"):
                    outcome = "lazy"  # a huge size that runs lazily (no loop, no allocation) is fine
                rows.append(dict(entry=name, param=param, kind=kind, bad=repr(bad), outcome=outcome,
                                 detail=detail))
                print(f"{outcome:9s} {name}({param}={bad!r}) {detail[:110]}", flush=True)
    c = Counter(r["outcome"] for r in rows)
    print()
    print(table(rows))
    if skipped:
        print(f"skipped (valid call failed): {len(skipped)}")
        for name, why in skipped:
            print(f"  {name}: {why[:160]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "skipped": skipped, "counts": dict(c)}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
