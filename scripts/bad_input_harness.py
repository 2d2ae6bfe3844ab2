"""Bad-input harness: call the public functions of ``ledlib`` with bad arguments and classify
what happens (issue 14).

Every public function of ``systems``, ``data``, ``metrics``, ``forecast``, ``train``,
``configs`` and ``analysis`` listed in :func:`entries`, and of ``ensemble``, ``adaptive``,
``baselines``, ``clustering``, LED's inference helpers and ``forecast.Schedule``/``Recording``
listed in :func:`more_entries`, is first called with valid arguments;
then each of its parameters in turn is replaced by the bad values of the parameter's kind
(:data:`BAD`), one forked process per case, with a wall-clock timeout and a memory limit.
Outcomes:

- ``clear``: ``ValueError``/``TypeError`` (or a subclass) whose message names the parameter
  (as a word: ``x`` inside "expected" does not count);
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
import re
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
    # transforming zero samples is a valid call (it returns zero samples): no "empty" here
    add("data.StandardScaler.transform", lambda: (data.StandardScaler(-1).fit(tr).transform, dict(x=tr),
                                                  dict(x=["abc", None, "nan", "inf", "object"])))
    add("data.scaler_from_dict", lambda: (data.scaler_from_dict,
                                          dict(d={"kind": "minmax", "channel_axis": None, "a": 0.0, "b": 1.0}),
                                          dict(d="choice")))

    # -- configs ------------------------------------------------------------------------
    add("configs.get", lambda: (configs.get, dict(system="KS", profile="quick"),
                                dict(system="choice", profile="choice")))
    add("configs.template", lambda: (configs.template, dict(obs_shape=(8,), d_z=2),
                                     # an int n is documented as the shape (n,)
                                     dict(obs_shape=[None, "abc", (), (0,), (-1,), (2.5,), 1.5], d_z="count")))
    add("configs.TrainConfig", lambda: (configs.TrainConfig, dict(),
                                        dict(lr="pos_real", batch_size="count", max_epochs="count")))

    # -- forecast -----------------------------------------------------------------------
    add("forecast.phase_schedule", lambda: (fc.phase_schedule, dict(n_steps=10, n_m=2, n_mu=1),
                                            dict(n_steps="nonneg_int", n_m="nonneg_int", n_mu="nonneg_int")))
    add("forecast.speedup_bound", lambda: (fc.speedup_bound, dict(rho=2.0, S_latent=100.0),
                                           # rho = inf is documented (latent propagation)
                                           dict(rho=[-1.0, NAN, -INF, "1", None], S_latent="pos_real")))
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
                        dict(x0="array", horizon="duration", T_warm="duration", seed="seed", n_runs="count"))
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


# ---------------------------------------------------------------------------------------
# ensemble, adaptive, baselines, clustering, LED's inference helpers, forecast.Schedule and
# forecast.Recording. Heavy fixtures (a fitted coarse PDE, a tiny trained LED and its
# cache) are built once in the parent, before it forks, and shared by every case.
# ---------------------------------------------------------------------------------------
_MEMO: dict = {}


def _memo(key, build):
    if key not in _MEMO:
        _MEMO[key] = build()
    return _MEMO[key]


def _hidden_bad():
    import torch
    return ["abc", 3, (torch.zeros(1),)]


def more_entries(ledlib):
    import dataclasses
    import tempfile

    import torch

    from ledlib import configs, data, systems, train
    import ledlib.forecast as fc

    rng = np.random.default_rng(1)
    E = []

    def add(name, make, slow=1.0):
        E.append((name, make, slow))

    def led(system="KS", seed=0):
        def build():
            from ledlib.nn import LED
            torch.manual_seed(seed)
            m = LED(configs.get(system, profile="quick")).eval()
            m.rnn.set_normalization(torch.linspace(-0.5, 0.5, m.d_z), torch.linspace(0.5, 2.0, m.d_z))
            return m
        return _memo(("led", system, seed), build)

    def members(k=3):
        def build():
            from ledlib.nn import LED
            first = led("KS", 0)
            out = [first]
            for s in range(1, k):
                torch.manual_seed(s)
                m = LED(first.config).eval()
                m.autoencoder.load_state_dict(first.autoencoder.state_dict())
                m.rnn.set_normalization(first.rnn.z_mean, first.rnn.z_std)
                out.append(m)
            return out
        return _memo(("members", k), build)

    def z(m, b=2):
        return torch.linspace(-1.0, 1.0, b * m.d_z).reshape(b, m.d_z)

    hidden_bad = _hidden_bad()
    flag = ["yes", None, 2, 1.5]
    generator = [3, "abc"]
    obj = [3, "abc"]

    # -- LED's inference helpers -----------------------------------------------------------
    def led_make(fn_name):
        def make():
            m = led()
            if fn_name == "decode":
                return m.decode, dict(z=z(m), scaled=False), dict(z="array", generator=generator, scaled=flag)
            if fn_name == "decode_particles":
                p = led("AD1D")
                return (p.decode, dict(z=z(p), n_particles=5, generator=torch.Generator().manual_seed(0)),
                        dict(z="array", n_particles="count", generator=generator))
            if fn_name == "encode_flags":
                x = np.zeros((2, *m.obs_shape))
                return m.encode, dict(x=x, scaled=False, sample=False), dict(scaled=flag, sample=flag,
                                                                              generator=generator)
            if fn_name == "step":
                return m.step, dict(z=z(m)), dict(z="array", hidden=hidden_bad)
            if fn_name == "warm_up":
                return m.warm_up, dict(z_seq=z(m, 6).reshape(2, 3, m.d_z)), dict(z_seq="array", hidden=hidden_bad)
            if fn_name == "rollout":
                return (m.rollout, dict(z=z(m), hidden=None, n_steps=3),
                        dict(z="array", hidden=hidden_bad, n_steps="nonneg_int"))
            if fn_name == "latent_rollout":
                def latent_rollout(z, hidden=None):
                    with torch.no_grad():
                        r = m.latent_rollout(z, hidden)
                        r.advance(2)
                        return r.z
                return latent_rollout, dict(z=z(m)), dict(z="array", hidden=hidden_bad)
            raise KeyError(fn_name)
        return make

    for nm in ("decode", "decode_particles", "encode_flags", "step", "warm_up", "rollout", "latent_rollout"):
        add(f"LED.{nm}", led_make(nm))

    # -- ensemble ----------------------------------------------------------------------------
    from ledlib import ensemble

    def ens():
        return ensemble.LatentEnsemble(members())

    def ens_hidden():
        e = ens()
        m = members()[0]
        return e.warm_up(z(m, 6).reshape(2, 3, m.d_z))[1]

    add("ensemble.LatentEnsemble", lambda: (
        ensemble.LatentEnsemble, dict(leds=members(), prediction="mean"),
        dict(leds=[[], None, 3, "abc", [members()[0]], [members()[0], object()],
                   [members()[0]] * (ensemble.MAX_MEMBERS + 1)],
             prediction="choice")))
    add("LatentEnsemble.step", lambda: (ens().step, dict(z=z(members()[0])), dict(z="array", hidden=hidden_bad)))
    add("LatentEnsemble.warm_up", lambda: (ens().warm_up, dict(z_seq=z(members()[0], 6).reshape(2, 3, -1)),
                                           dict(z_seq="array", hidden=hidden_bad)))
    add("LatentEnsemble.spread", lambda: (ens().spread, dict(hidden=ens_hidden()), dict(hidden=hidden_bad + [None])))
    add("LatentEnsemble.observable_spread", lambda: (
        ens().observable_spread, dict(hidden=ens_hidden(), generator=None),
        dict(hidden=hidden_bad + [None], generator=generator)))
    add("ensemble.latent_spread", lambda: (ensemble.latent_spread, dict(z=torch.randn(3, 2, 4, generator=torch.Generator().manual_seed(0)), scale=1.0),
                                           dict(z="array", scale="pos_real")))

    # a tiny trained KS LED in a cache the cases share (fit_ensemble, run_study)
    def tiny():
        def build():
            cache = tempfile.mkdtemp(prefix="led-harness-")
            s = data.spec("KS", "quick")
            sizes = {"train": 40, "val": 40, "test": 320}
            s = s.with_(splits=tuple((n, dataclasses.replace(sp, n_samples=sizes[n], n_traj=1))
                                     for n, sp in s.splits), transient=5.0)
            ds = data.load(s, cache=cache, progress=False)
            cfg = configs.get("KS", "quick")
            one = {"max_epochs": 1}
            cfg = dataclasses.replace(cfg, ae_train=dataclasses.replace(cfg.ae_train, **one),
                                      rnn_train=dataclasses.replace(cfg.rnn_train, bptt=5,
                                                                    hidden_propagation_length=10, **one))
            fit = train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=cache, seed=0, device="cpu",
                                progress=False)
            return dict(cache=cache, ds=ds, cfg=cfg, led=fit.led)
        return _memo("tiny", build)

    def fit_ens_make():
        t = tiny()
        ensemble.fit_ensemble(t["led"], t["ds"], 2, cache=t["cache"], seed=0, progress=False)  # cached once
        return (ensemble.fit_ensemble,
                dict(led=t["led"], dataset=t["ds"], K=2, cache=t["cache"], seed=0, device="cpu", progress=False,
                     prediction="mean", include_led=False),
                dict(led=[None, 3, "abc"], dataset=[None, 3, "abc"], K="count", seed="seed", device="device",
                     progress=flag, prediction="choice", include_led=flag, rnn_config=obj, cache=[3, 1.5]))
    add("ensemble.fit_ensemble", fit_ens_make, slow=2.0)

    # -- adaptive -----------------------------------------------------------------------------
    from ledlib import adaptive

    threshold = [-1.0, NAN, -INF, "1", True]
    add("adaptive.AdaptiveCriterion", lambda: (
        adaptive.AdaptiveCriterion,
        dict(spread_threshold=0.1, comparison_threshold=0.1, n_compare=2, n_micro=4, min_macro=0, max_macro=10,
             reduce="max"),
        dict(spread_threshold=threshold, comparison_threshold=threshold, n_compare="nonneg_int", n_micro="count",
             min_macro="nonneg_int", max_macro="count", reduce="choice")))
    add("AdaptiveCriterion.macro_utilisation_bound", lambda: (
        adaptive.AdaptiveCriterion(max_macro=10).macro_utilisation_bound, dict(n_steps=50), dict(n_steps="count")))
    add("adaptive.switching_sequence", lambda: (adaptive.switching_sequence,
                                                dict(phases=np.array(["macro", "macro", "micro"])),
                                                dict(phases=["abc", None, "object", 3])))
    add("adaptive.calibration", lambda: (adaptive.calibration,
                                         dict(spread=rng.random(20), error=rng.random(20), n_bins=4),
                                         dict(spread=["abc", None, "object"], error=["abc", None, "object"],
                                              n_bins="count")))
    add("adaptive.pareto_front", lambda: (adaptive.pareto_front, dict(errors=rng.random(6), speedups=rng.random(6)),
                                          dict(errors=["abc", None, "object"], speedups=["abc", None, "object"])))

    add("adaptive.fixed_speedup_at", lambda: (
        adaptive.fixed_speedup_at, dict(error=0.5, fixed_errors=[0.1, 1.0], fixed_speedups=[1.0, 10.0]),
        # a NaN or out-of-range error is documented to give NaN
        dict(error=["1", None, True], fixed_errors=["abc", None, "object"], fixed_speedups=["abc", None, "object"])))
    add("adaptive.speedup_ratio_at_error", lambda: (
        adaptive.speedup_ratio_at_error, dict(error=0.5, S=3.0, fixed_errors=[0.1, 1.0], fixed_speedups=[1.0, 10.0]),
        dict(error=["1", None, True], S=["1", None, True, -1.0], fixed_errors=["abc", None, "object"])))
    add("forecast.utilisation_speedup_bound", lambda: (
        fc.utilisation_speedup_bound, dict(utilisation=0.5, S_latent=10.0),
        dict(utilisation=[-0.1, 1.5, NAN, "0.5", None], S_latent="pos_real")))

    def sweep_make():
        ks = systems.KuramotoSivashinsky()
        x0 = ks.initial_conditions(1, seed=0, transient=0.0)
        h = ks.coarse_dt
        crit = [adaptive.AdaptiveCriterion(spread_threshold=INF, comparison_threshold=INF, n_compare=1, n_micro=2,
                                           max_macro=3)]
        err = lambda res: float(np.mean(res.states ** 2))  # noqa: E731
        return (adaptive.threshold_sweep,
                dict(model=ens(), system=ks, x0=x0, horizon=6 * h, T_warm=2 * h, criteria=crit, error=err,
                     n_runs=1, seed=0, micro_per_step=1e-3),
                dict(x0="array", horizon="duration", T_warm="duration", criteria=[[], None, 3, [None]],
                     error=[None, 3], n_runs="count", seed="seed", micro_per_step="pos_real"))
    add("adaptive.threshold_sweep", sweep_make, slow=2.0)

    def study_make():
        t = tiny()
        st = adaptive.StudySettings(2, (0.0, INF), 0.0, n_compare=2, n_micro=4, max_macro=10)
        return (adaptive.run_study,
                dict(system="KS", profile="quick", cache=t["cache"], seed=0, device="cpu", progress=False,
                     settings=st, config=t["cfg"], dataset=t["ds"]),
                dict(system="choice", profile="choice", seed="seed", device="device", progress=flag,
                     settings=obj, config=obj, dataset=obj, cache=[3, 1.5]))
    add("adaptive.run_study", study_make, slow=3.0)

    # -- baselines -------------------------------------------------------------------------------
    import importlib

    cspde = importlib.import_module("ledlib.baselines.cspde")
    dm = importlib.import_module("ledlib.baselines.diffusion_maps")
    fd = importlib.import_module("ledlib.baselines.finite_differences")

    names = [None, 3, "bogus", [], ["u", "u"]]

    def fhn_data():
        def build():
            _t, S = cspde.fhn_fine_data((0,), sample_dt=0.05, t_start=2.0, t_end=3.0)
            return S, fd.time_derivative(S, 0.05, axis=1)
        return _memo("fhn", build)

    def fitted():
        def build():
            S, D = fhn_data()
            return cspde.CoarsePDE(0.2, regressor="nn", max_points=200, seed=0, max_epochs=2, lbfgs_iters=0,
                                   width=8).fit(S, D)
        return _memo("cpde", build)

    u = rng.random((3, 11))
    add("cspde.features", lambda: (cspde.features, dict(u=u, v=u + 1, dx=0.1, names=("u", "u_x")),
                                   dict(u="array", v="array", dx="pos_real", names=names)))
    add("cspde.CoarsePDE", lambda: (cspde.CoarsePDE, dict(dx=0.2, regressor="nn", max_points=100, seed=0),
                                    dict(dx="pos_real", features_u=names, features_v=names, regressor="choice",
                                         max_points="count", seed="seed")))
    add("CoarsePDE.fit", lambda: (
        cspde.CoarsePDE(0.2, regressor="nn", max_points=200, seed=0, max_epochs=2, lbfgs_iters=0, width=8).fit,
        dict(states=fhn_data()[0], derivatives=fhn_data()[1], drop_walls=True),
        dict(states="array", derivatives="array", drop_walls=flag)))
    add("CoarsePDE.rhs", lambda: (fitted().rhs, dict(u=fhn_data()[0][0, :2, 0], v=fhn_data()[0][0, :2, 1]),
                                  dict(u="array", v="array")))
    add("CoarsePDE.forecast", lambda: (
        fitted().forecast, dict(u0=fhn_data()[0][0, 0, 0], v0=fhn_data()[0][0, 0, 1], t_eval=np.linspace(0, 0.1, 3),
                                method="BDF", rtol=1e-5, atol=1e-7, blowup=10.0),
        dict(u0="array", v0="array", t_eval="array", method="choice", rtol="pos_real", atol="pos_real",
             blowup="pos_real")))
    add("cspde.fhn_fine_data", lambda: (
        cspde.fhn_fine_data, dict(ics=(0,), sample_dt=0.05, t_start=2.0, t_end=2.5),
        dict(ics=[None, "abc", [-1], [99], [1.5], []], sample_dt="pos_real", t_start="duration",
             t_end="duration")), slow=2.0)
    add("cspde.select_feature_sets", lambda: (
        cspde.select_feature_sets, dict(states=fhn_data()[0], derivatives=fhn_data()[1], dx=0.2, n_points=60,
                                         size=3, seed=0, n_components=4),
        dict(states="array", derivatives="array", dx="pos_real", n_points="count", size="count", seed="seed",
             n_components="count", drop_walls=flag)))
    X = rng.normal(size=(30, 2))
    add("dm.diffusion_maps", lambda: (dm.diffusion_maps, dict(X=X, n_components=2, alpha=1.0),
                                      dict(X="array", n_components="count", epsilon="pos_real",
                                           alpha="fraction")))
    add("dm.local_linear_regression", lambda: (
        dm.local_linear_regression, dict(X=X, Y=X[:, 0] ** 2, bandwidth_scale=0.3, ridge=1e-8),
        dict(X="array", Y="array", bandwidth="pos_real", bandwidth_scale="pos_real", ridge="nonneg_real")))
    add("dm.llr_residual", lambda: (dm.llr_residual, dict(X=X, y=X[:, 0] ** 2), dict(X="array", y="array")))
    add("dm.llr_residuals_cv", lambda: (
        dm.llr_residuals_cv, dict(X=X, Y=X ** 2, bandwidth_scales=(0.1, 0.3)),
        dict(X="array", Y="array", bandwidth_scales=[[], [0.0], [NAN], "abc", None, 3])))
    add("dm.parsimonious_coordinates", lambda: (dm.parsimonious_coordinates, dict(coordinates=X, threshold=0.3),
                                                dict(coordinates="array", threshold="pos_real")))
    add("dm.rank_feature_subsets", lambda: (
        dm.rank_feature_subsets, dict(X=X, y=X[:, 0] ** 2, names=("a", "b"), size=1, coordinates=X[:, :1]),
        dict(X="array", y="array", names=[None, 3, "ab", ("a", "a"), ("a",)], size="count",
             coordinates="array", bandwidth_scales=[[], [0.0], [NAN], "abc", 3])))
    f = np.sin(np.linspace(0, 3, 12))[None].repeat(2, 0)
    add("fd.spatial_derivatives", lambda: (fd.spatial_derivatives, dict(f=f, dx=0.1), dict(f="array", dx="pos_real")))
    add("fd.time_derivative", lambda: (fd.time_derivative, dict(states=f.T, dt=0.1, axis=0),
                                       dict(states="array", dt="pos_real", axis=[1.5, "0", None, 5, True])))

    # -- clustering ------------------------------------------------------------------------------
    from ledlib import clustering

    zc = np.concatenate([rng.normal(size=(60, 3)), rng.normal(size=(60, 3)) + 6.0])
    meta_kinds = dict(z="array", n_components="count", k_max="count", n_surrogates="count", alpha="fraction",
                      n_neighbors="count", max_points="count", seed="seed", min_dwell="count",
                      min_effective="pos_real", min_transitions="nonneg_int")
    add("clustering.metastable_states", lambda: (
        clustering.metastable_states, dict(z=zc, n_components=2, k_max=4, n_surrogates=9, alpha=0.1, n_neighbors=7,
                                           max_points=120, seed=0, min_dwell=5, min_effective=5.0,
                                           min_transitions=1), meta_kinds), slow=2.0)
    add("clustering.eigengap_test", lambda: (
        clustering.eigengap_test, dict(x=zc, k_max=4, n_surrogates=9, alpha=0.1, n_neighbors=7, max_points=120,
                                       seed=0),
        {k: meta_kinds[k] for k in ("k_max", "n_surrogates", "alpha", "n_neighbors", "max_points", "seed")}
        | dict(x="array")), slow=2.0)
    add("clustering.integrated_autocorrelation_time", lambda: (
        clustering.integrated_autocorrelation_time, dict(y=zc[:, 0], c=5.0), dict(y="array", c="pos_real")))
    add("clustering.count_transitions", lambda: (
        clustering.count_transitions, dict(labels=np.r_[np.zeros(10), np.ones(10)].astype(int), min_dwell=2),
        dict(labels=["abc", None, "empty", "object", "nan"], min_dwell="count")))
    add("clustering.mixing", lambda: (
        clustering.mixing, dict(z_pca=zc[:, :2], labels=None, min_dwell=5, min_effective=5.0, min_transitions=1),
        dict(z_pca="array", labels=["abc", 3, "object"], min_dwell="count", min_effective="pos_real",
             min_transitions="nonneg_int")))

    # -- forecast.Schedule, forecast.Recording --------------------------------------------------
    add("forecast.Schedule", lambda: (fc.Schedule, dict(coarse_dt=0.25, n_warm=2, n_steps=10, n_m=2, n_mu=1),
                                      dict(coarse_dt="pos_real", n_warm="count", n_steps="count",
                                           n_m="nonneg_int", n_mu="nonneg_int")))
    add("forecast.Schedule.from_times", lambda: (
        fc.Schedule.from_times, dict(coarse_dt=0.25, T_warm=0.5, horizon=2.5, T_m=0.5, T_mu=0.25),
        dict(coarse_dt="pos_real", T_warm="duration", horizon="duration", T_m="duration", T_mu="duration")))
    add("forecast.Recording", lambda: (
        fc.Recording, dict(record_at="all", keep_states=True, keep_latents="recorded", observers=(),
                           dtype=np.float32),
        dict(record_at=[0, -1, "bogus", None, [NAN], True, 10**12], keep_states=flag,
             keep_latents="choice", observers=[3, [3], None], dtype="dtype")))
    add("forecast.Recording.plan", lambda: (
        fc.Recording(record_at=2).plan, dict(n_steps=10, t_start=0.0, coarse_dt=0.25),
        dict(n_steps="nonneg_int", t_start="time", coarse_dt="pos_real")))
    add("forecast.ValueHistogram", lambda: (
        fc.ValueHistogram, dict(lo=0.0, hi=1.0, bins=10, per_time=False, component=None),
        dict(lo="real", hi="real", bins="count", per_time=flag, component=[1.5, "0", True])))
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
            valid = kwargs.get(param)
            as_array = _kinds[param] == "array" or isinstance(valid, np.ndarray) or hasattr(valid, "detach")
            kwargs[param] = _bad_array(bad, valid) if isinstance(bad, str) and as_array and valid is not None \
                else bad
        out = fn(**kwargs)
        conn.send(("return", _summarise(out), ""))
    except BaseException as err:  # noqa: BLE001 - classified by the parent
        conn.send(("raise", type(err).__name__, f"{err}"[:300],
                   isinstance(err, (ValueError, TypeError))))
    conn.close()


def names_param(param: str, msg: str) -> bool:
    """Whether ``msg`` names ``param`` as a word ("x" in "expected" does not count)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(param)}(?![A-Za-z0-9_])", msg, re.IGNORECASE) is not None


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
    if param is not None and is_vt and names_param(param, msg):
        return "clear", f"{etype}: {msg}"
    return "unclear", f"{etype}: {msg}"


_MODULES = {"KS": "systems", "FHN": "systems", "AD": "systems", "LED": "nn.LED", "LatentEnsemble": "ensemble",
            "AdaptiveCriterion": "adaptive", "CoarsePDE": "baselines", "cspde": "baselines", "dm": "baselines",
            "fd": "baselines"}


def _module(entry: str) -> str:
    head = entry.split(".")[0].split("(")[0]
    return _MODULES.get(head, head)


def _label(bad) -> str:
    """A short, stable name of a bad value (no object addresses, no model reprs)."""
    if bad is None or isinstance(bad, (bool, int, float, str, type, np.dtype)):
        return repr(bad)
    if isinstance(bad, (list, tuple)):
        inner = ", ".join(_label(b) for b in bad[:3]) + (f", ... ({len(bad)} items)" if len(bad) > 3 else "")
        return f"[{inner}]" if isinstance(bad, list) else f"({inner}{',' if len(bad) == 1 else ''})"
    return f"<{type(bad).__name__}>"


def module_table(rows) -> str:
    """The outcomes per module."""
    out = ["| module | tried | clear | lazy | unclear | silent | hang |", "|---|---|---|---|---|---|---|"]
    mods = sorted({r.get("module", _module(r["entry"])) for r in rows})
    for m in mods:
        c = Counter(r["outcome"] for r in rows if r.get("module", _module(r["entry"])) == m)
        n = sum(c.values())
        out.append(f"| {m} | {n} | {c['clear']} | {c['lazy']} | {c['unclear']} | "
                   f"{c['garbage'] + c['accepted']} | {c['hang']} |")
    return "\n".join(out)


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
        print(module_table([r for r in rows if key(r) in common]))


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

    torch.set_num_threads(1)  # before any torch work: forked children then hold no thread pool
    E = [(name, make, 1.0) for name, make in entries(ledlib)]
    try:
        E += more_entries(ledlib)
    except Exception as err:  # noqa: BLE001 - an older checkout without these modules
        print(f"more_entries unavailable here: {err!r}")
    rows, skipped = [], []
    for name, make, slow in E:
        if args.only and args.only not in name:
            continue
        try:
            _fn, _kw, kinds = make()  # in the parent: heavy fixtures are built once and shared
        except Exception as err:  # noqa: BLE001
            skipped.append((name, repr(err)))
            continue
        outcome, detail = run_case(make, None, None, 4 * slow * args.timeout)
        if outcome not in ("accepted", "garbage"):
            skipped.append((name, detail or outcome))
            continue
        defaults = _defaults(_fn)
        for param, kind in kinds.items():
            for bad in (BAD[kind] if isinstance(kind, str) else kind):
                if bad is None and param in defaults and defaults[param] is None:
                    continue  # None is this parameter's documented default
                outcome, detail = run_case(make, param, bad, slow * args.timeout)
                if outcome == "accepted" and isinstance(bad, int) and bad == HUGE and \
                        kind in ("count", "nonneg_int"):
                    outcome = "lazy"  # a huge size that runs lazily (no loop, no allocation) is fine
                rows.append(dict(entry=name, module=_module(name), param=param,
                                 kind=kind if isinstance(kind, str) else "listed", bad=_label(bad),
                                 outcome=outcome, detail=detail))
                print(f"{outcome:9s} {name}({param}={_label(bad)}) {detail[:110]}", flush=True)
    if "tiny" in _MEMO:  # the cache of the tiny trained model the cases shared
        import shutil
        shutil.rmtree(_MEMO["tiny"]["cache"], ignore_errors=True)
    c = Counter(r["outcome"] for r in rows)
    print()
    print(table(rows))
    print()
    print(module_table(rows))
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
