"""What every chapter of the book sets up, in one place.

A chapter's first code cell is ``ch = chapter.setup(profile, device, results_dir=...,
cache_dir=...)``; it then records into the scorecard with ``ch.record(claim, ours, ...)``
(the profile and device filled in), names a configuration with :func:`config_summary`,
reports a fit with :func:`training_report` and shows a paper table with
:func:`paper_table`.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import scorecard
from .paper.common import PROFILES

__all__ = ["Chapter", "setup", "config_summary", "training_report", "paper_table", "single_forecasts",
           "forecast_panels", "snapshots", "peclet_case", "test_groups",
           "tradeoff_sweep", "led_label", "noise_summary", "fit_fhn_variant", "forecast_split", "mnad_channels",
           "first_time_text", "validation_mnad"]


@dataclass
class Chapter:
    """One chapter's execution: ``profile`` (``"quick"`` or ``"paper"``), the resolved
    ``device`` (a ``torch.device``), ``results_dir`` (the scorecard's folder) and
    ``cache`` (the data and model cache; ``None``: ``$LED_CACHE_DIR`` or ``.cache/``).
    ``recorded`` maps each claim this execution recorded to its value (the scorecard
    file may hold other runs' entries); ``walls`` each :meth:`stage`'s wall time (s)."""

    profile: str
    device: object
    results_dir: str
    cache: str | None
    recorded: dict = field(default_factory=dict)
    walls: dict = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        """Time the block under ``name`` (added up if a name comes back)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        start = time.perf_counter()
        try:
            yield
        finally:
            self.walls[name] = self.walls.get(name, 0.0) + time.perf_counter() - start

    def stage_report(self) -> str:
        """One line: the wall time of every stage timed so far, in order."""
        return "wall time per stage: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.walls.items())

    @property
    def paper(self) -> bool:
        """Whether this is the paper profile."""
        return self.profile == "paper"

    def record(self, claim: str, ours, *, from_claims: bool = False, **kw) -> None:
        """Write ``claim`` into the scorecard with this chapter's profile and device.
        ``from_claims``: fill ``paper``, ``figure`` and ``unit`` not given from the claim
        of that ID in :data:`ledlib.reproduction.CLAIMS` (if there is one). Returns nothing,
        so that a cell ending in a record shows no output (the entry is in the file)."""
        if from_claims:
            from . import reproduction

            c = reproduction.claim(claim) if claim in {c.id for c in reproduction.CLAIMS} else None
            kw.setdefault("paper", c.paper if c else None)
            kw.setdefault("figure", c.figure if c else "")
            kw.setdefault("unit", c.unit if c else "")
        scorecard.record(self.results_dir, claim, ours, profile=self.profile, device=str(self.device), **kw)
        self.recorded[claim] = ours


def setup(profile: str, device: str = "auto", *, results_dir=".cache/results", cache_dir: str = "",
          threads: int = 1, dpi: int = 90, font_size: int = 9) -> Chapter:
    """Check ``profile``, resolve ``device``, and set what every chapter sets: ``threads``
    torch threads (small networks: per-op overhead dominates; one thread matches the
    NumPy solvers) and the figures' ``dpi`` and ``font_size`` on screen. ``cache_dir``
    ``""`` means the default cache."""
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if not isinstance(cache_dir, str):
        raise TypeError(f"cache_dir must be a string ('' for the default cache), got {type(cache_dir).__name__}")
    for name, v in (("threads", threads), ("dpi", dpi), ("font_size", font_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    import torch
    from matplotlib import pyplot as plt

    from .device import resolve_device

    dev = resolve_device(device)
    torch.set_num_threads(threads)
    plt.rcParams.update({"figure.dpi": dpi, "font.size": font_size})
    return Chapter(profile, dev, str(results_dir), cache_dir or None)


def config_summary(cfg) -> str:
    """One line naming an LED configuration in the paper tables' terms: the autoencoder,
    then (after ``;``) the RNN and its training windows."""
    from .configs import LEDConfig

    if not isinstance(cfg, LEDConfig):
        raise TypeError(f"cfg must be a ledlib.configs.LEDConfig, got {type(cfg).__name__}")
    a, r, ta, tr = cfg.ae, cfg.rnn, cfg.ae_train, cfg.rnn_train
    kind = "VAE" if a.variational else "AE"
    if a.kind == "particle":
        return (f"{kind}, permutation-invariant encoder {a.n_layers}x{a.width} "
                f"{a.activation} -> d_p={a.d_p}, d_z={a.d_z}, mixture decoder K={a.n_kernels} "
                f"({a.md_hidden} hidden), weight decay {ta.weight_decay:g}; {r.cell.upper()} "
                f"{r.n_layers}x{r.d_h}, BPTT {tr.bptt}, hidden propagation {tr.hidden_propagation_length}")
    return (f"{kind} {a.n_layers}x{a.width} {a.activation}{' residual' if a.residual else ''}, d_z={a.d_z}, "
            f"noise {100 * ta.noise_level:g}%, weight decay {ta.weight_decay:g}; {r.cell.upper()} "
            f"{r.n_layers}x{r.d_h} ({'residual readout' if r.residual else 'readout W h, eq. 16'}), "
            f"BPTT {tr.bptt}, hidden propagation {tr.hidden_propagation_length}")


def _how_it_ended(rec: dict) -> str:
    """A training record's end: early stopping, the epoch limit, or a person's request
    (a STOP file, :class:`ledlib.train.EpochLoop`)."""
    if rec.get("stop_reason") == "requested":
        return "stopped by request"
    return "stopped early" if rec["stopped_early"] else "epoch limit"


def training_report(fitted) -> str:
    """The two training stages of a fit (:class:`ledlib.train.FittedLED`), a line each:
    best validation loss, its epoch, the epochs run, the wall time and the device; for a
    pick among seeds (:func:`ledlib.train.fit_pick`), the seeds kept and the scores."""
    lines = []
    for stage, rec in (("autoencoder", getattr(fitted, "ae", None)), ("RNN", getattr(fitted, "rnn", None))):
        if not isinstance(rec, dict):
            raise TypeError(f"fitted must carry the training records .ae and .rnn (dicts), got {type(fitted).__name__}")
        lines.append(f"{stage}: best validation loss {rec['best_val_loss']:.3g} at epoch {rec['best_epoch']} of "
                     f"{rec['epochs_run']} ({_how_it_ended(rec)}), {rec['wall_time_s']:.0f} s on {rec['device']}"
                     + (" (loaded from the cache)" if fitted.from_cache else ""))
    pick = getattr(fitted, "pick", None)
    if pick:
        scores = pick["scores"]
        lo, hi = min(scores.values()), max(scores.values())
        rnn = pick.get("rnn")  # None: the config's RNN, else the name of another (SeedPick.other_rnns)
        kept = scores[f"{pick['ae_seed']}/{pick['rnn_seed']}" + ("" if rnn is None else f" {rnn}")]
        lines.append(f"picked autoencoder seed {pick['ae_seed']}, RNN seed {pick['rnn_seed']}"
                     + ("" if rnn is None else f" ({rnn})") + f" of {len(scores)} "
                     f"candidates by the {pick['score']}: {kept:.3g} (all: {lo:.3g} to {hi:.3g})")
    return "\n".join(lines)


def paper_table(number: int):
    """Paper Table ``number`` as Markdown, the paper's pick in bold."""
    from IPython.display import Markdown

    from .configs import render_table

    head, body = render_table(number, mark_selected=True).split("\n", 1)
    return Markdown(f"Paper {head} (bold: the paper's pick).\n{body}")


# ---------------------------------------------------------------------------------
# The particle chapters (AD 1-D and 3-D): single forecasts and their panels
# ---------------------------------------------------------------------------------
def single_forecasts(model, system, x0, t0: float, variants: dict, *, T_warm: float, horizon: float, seed: int):
    """The true run (the micro solver alone) and one LED run per variant from ``x0`` at
    ``t0``, recorded at every coarse step from the end of the warm-up (step 0) on, with
    the same random numbers up to there. ``variants``: label -> ``(T_m, T_mu)``
    (``T_mu = 0``: latent). Returns ``(truth, {label: result})``."""
    import numpy as np

    from .forecast import forecast

    if not isinstance(variants, dict):
        raise TypeError(f"variants must be a dict label -> (T_m, T_mu), got {type(variants).__name__}")
    grid = t0 + T_warm + system.coarse_dt * np.arange(round(horizon / system.coarse_dt) + 1)
    kw = dict(T_warm=T_warm, t0=t0, seed=seed, record_at=grid, keep_latents="recorded")
    truth = forecast(model, system, x0, horizon, T_m=0.0, T_mu=horizon, **kw)
    runs = {lab: forecast(model, system, x0, horizon, T_m=T_m if T_mu else None, T_mu=T_mu, **kw)
            for lab, (T_m, T_mu) in variants.items()}
    return truth, runs


def encoded_true_run(model, system, x0, horizon: float, *, T_warm: float, t0: float, seed: int):
    """The micro solver's run from ``x0`` (its first configuration) at ``t0``, encoded by
    ``model`` at each of the ``horizon / coarse_dt`` coarse steps after the warm-up:
    ``(n_steps, d_z)``. With the ``seed`` of a latent forecast, the warm-up is that
    forecast's."""
    from .forecast import forecast

    truth = forecast(model, system, x0[:1], horizon, T_warm=T_warm, T_m=0.0, T_mu=horizon, t0=t0, seed=seed,
                     record_at="all", keep_states=False, keep_latents="recorded")
    return truth.latents[0, 0]


def forecast_panels(truth, runs: dict, *, l1_hist: bool = False) -> dict:
    """What :func:`ledlib.plots.particle_forecast` draws for every run of
    :func:`single_forecasts`: times after the warm-up, LED's and the true latent state,
    the phases and :func:`ledlib.metrics.particle_errors` of the first run."""
    import numpy as np

    from .metrics import particle_errors

    t = truth.times - truth.t_start
    return {lab: dict(t=t, z_pred=r.latents[0, 0], z_true=truth.latents[0, 0], phases=np.r_[["macro"], r.phases],
                      **particle_errors(r.states[0, 0], truth.states[0, 0], l1_hist=l1_hist))
            for lab, r in runs.items()}


def snapshots(result, times):
    """The first run's states of a forecast ``result`` at ``times`` after the start of its
    recording (whole multiples of its coarse step)."""
    import numpy as np

    steps = np.rint(np.asarray(times, dtype=float) / result.coarse_dt).astype(int)
    if steps.size and (steps.min() < 0 or steps.max() >= result.states.shape[2]):
        raise ValueError(f"times must lie in [0, {(result.states.shape[2] - 1) * result.coarse_dt:g}], got {times}")
    return result.states[0, 0, steps]


def peclet_case(profile: str, pe: int, *, cache=None, seed: int = 0, device="cpu", record_every: int = 1,
                progress: bool = False):
    """One case of the AD 3-D Péclet study (§8.2.4) under
    :data:`ledlib.paper.ad3d.PECLET_PROTOCOL`: its data, the trained LED, the statistical
    study of latent LED from the last test sample, and the speed-ups (latent, rho = 5, 9)
    against the solver timed once. Returns ``(peclet number, study, {rho: S}, solver s
    per coarse step)``; ``study.mixing_tv`` is the mixing distance after the warm-up."""
    import math

    import numpy as np

    from . import data, particle_statistics, train
    from .forecast import measure_speedup, time_micro_solver
    from .paper import ad3d

    P = ad3d.PECLET_PROTOCOL[profile] if profile in ad3d.PECLET_PROTOCOL else None
    if P is None:
        raise ValueError(f"profile must be one of {tuple(ad3d.PECLET_PROTOCOL)}, got {profile!r}")
    sp, cfg = ad3d.peclet_case(profile, pe)
    d = data.load(sp, cache=cache, progress=progress)
    model = train.fit_led("AD3D", profile, config=cfg, dataset=d, cache=cache, seed=seed, device=str(device),
                          progress=progress).led.eval()
    system, x0, t0 = d.system(), d.test.states[:, -1].astype(np.float64), float(d.test.t[0, -1])
    st = particle_statistics.moment_study(model, system, [(t0, x0)], {"latent": (None, 0.0)}, T_warm=P.T_warm,
                                          horizon=P.T_f, n_runs=P.n_runs, record_every=record_every, seed=seed,
                                          progress=progress)
    st.mixing_tv = particle_statistics.law_mixing_distance(system, t0, min(P.T_warm, 1e5 * system.dt))  # a bound if shorter
    micro = time_micro_solver(system, x0, 5.0 if profile == "paper" else 2.0, t0=t0)
    s = {math.inf: measure_speedup(model, system, x0, 5 * P.T_mu, t0=t0, seed=seed, micro_per_step=micro).S}
    for r in (5, 9):
        s[float(r)] = measure_speedup(model, system, x0, (r + 1) * P.T_mu, r * P.T_mu, P.T_mu, t0=t0, seed=seed,
                                      micro_per_step=micro).S
    return system.peclet, st, s, micro


def test_groups(split, n_ic: int, i0: int) -> list:
    """``n_ic`` initial conditions of a statistical study from a test split (``Split``:
    ``states (n_traj, n_samples, ...)``, ``t``): every trajectory at sample ``i0``, then
    (if more are asked for than there are trajectories) at later samples spaced evenly
    over the rest. Returns ``[(t0, x0 (n, ...) float64), ...]``, one group per start time,
    the form :func:`ledlib.particle_statistics.moment_study` takes."""
    import math

    import numpy as np

    n_traj, n_samples = split.states.shape[:2]
    for name, v, hi in (("n_ic", n_ic, None), ("i0", i0, n_samples - 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (1 if name == "n_ic" else 0) \
                or (hi is not None and v > hi):
            raise ValueError(f"{name} must be an integer in [{1 if name == 'n_ic' else 0}, {hi or 'inf'}], got {v!r}")
    n_groups = math.ceil(n_ic / n_traj)
    step = max(1, (n_samples - i0) // n_groups)
    if i0 + (n_groups - 1) * step >= n_samples:
        raise ValueError(f"{n_ic} initial conditions from {n_traj} trajectories do not fit after sample {i0} "
                         f"of {n_samples}")
    return [(float(split.t[0, i0 + g * step]), split.states[:min(n_traj, n_ic - g * n_traj), i0 + g * step]
             .astype(np.float64)) for g in range(n_groups)]


# ---------------------------------------------------------------------------------
# The trade-offs chapter: one system's sweep of rho
# ---------------------------------------------------------------------------------
def tradeoff_sweep(system: str, profile: str, *, cache=None, seed: int = 0, device="auto"):
    """Error and speed-up of every ``T_m`` of ``system``'s :data:`TRADEOFF` row
    (:func:`ledlib.paper.tradeoff_settings`), from the start of its test trajectories
    (one in the quick profile, all in the paper's): :func:`ledlib.forecast.rho_sweep`
    with the row's error measure against the true trajectories."""
    from . import forecast, metrics, paper, train

    row = paper.module(system).TRADEOFF
    profile = paper.check_profile(profile)
    horizon = row.horizon[profile]
    fit = train.fit_led(paper.system_name(system), profile, cache=cache, seed=seed, device=str(device),
                        progress=False)
    sim, test = fit.dataset.system(), fit.dataset.test
    n_ic = test.n_traj if profile == "paper" else 1
    n_warm, n_steps = round(row.T_warm / sim.coarse_dt), round(horizon / sim.coarse_dt)
    truth = test.states[:n_ic, n_warm + 1: n_warm + 1 + n_steps]
    return forecast.rho_sweep(fit.led, sim, test.states[:n_ic, 0], horizon, T_warm=row.T_warm, T_mu=row.T_mu,
                              T_m_values=list(row.T_ms), t0=float(test.t[0, 0]), seed=seed,
                              error=lambda res: metrics.forecast_error(res.states, truth, kind=row.error))


# ---------------------------------------------------------------------------------
# The FitzHugh-Nagumo chapter: its variants, their summary and the test forecast
# ---------------------------------------------------------------------------------
def led_label(d_z: int, variational: bool) -> str:
    """The paper's name of an LED variant, e.g. ``LED-AE-LD8`` (Figures 30-34)."""
    return f"LED-{'VAE' if variational else 'AE'}-LD{d_z}"


def noise_summary(cfg, profile: str) -> str:
    """:func:`config_summary` in the FHN tables' order, with the RNN's input noise and the
    profile (Tables 5-6 search the input noise)."""
    ae, rnn, tr = cfg.ae, cfg.rnn, cfg.rnn_train
    return (f"AE {ae.n_layers}x{ae.width} {ae.activation}{' residual' if ae.residual else ''}, "
            f"d_z={ae.d_z}, {'VAE' if ae.variational else 'AE'}, noise {100 * cfg.ae_train.noise_level:g}%, "
            f"weight decay {cfg.ae_train.weight_decay:g}; {rnn.cell.upper()} {rnn.n_layers}x{rnn.d_h}, "
            f"BPTT {tr.bptt}, hidden propagation {tr.hidden_propagation_length}, input noise "
            f"{100 * tr.noise_level:g}% ({profile} profile)")


def fit_fhn_variant(base, d_z: int, variational: bool, noise: float, *, dataset, profile: str, full: bool = True,
                    cache=None, seed: int = 0, device="cpu"):
    """LED of :func:`ledlib.paper.fhn.variant` of ``base`` (d_z, AE/VAE, RNN input noise),
    trained on ``dataset`` or loaded; ``full=False`` trains the autoencoder only (the RNN
    stage is cut to one epoch), for the latent-dimension study."""
    from . import train
    from .paper import fhn

    cfg = fhn.variant(base, d_z, variational, noise, full)
    return train.fit(dataset, cfg, cache=cache, seed=seed, device=str(device), progress=False)


def fit_line(name: str, fitted) -> str:
    """One line on a trained LED (:class:`ledlib.train.FittedLED`) or FHN variant
    (:class:`ledlib.paper.fhn.VariantFit`): each stage's epochs (stopped early or at the
    limit), best validation loss and wall time; for a variant, the RNN seed picked and every
    seed's validation forecast MNAD."""
    for stage in ("ae", "rnn"):
        if not isinstance(getattr(fitted, stage, None), dict):
            raise TypeError(f"fitted must carry the training records .ae and .rnn (dicts), got {type(fitted).__name__}")

    def stage(label, rec):
        return (f"{label} {rec['epochs_run']} epochs ({_how_it_ended(rec)}), best val loss {rec['best_val_loss']:.2e} "
                f"({rec['wall_time_s']:.0f} s)")

    line = f"{name}: {stage('AE', fitted.ae)}; {stage('RNN', fitted.rnn)}"
    scores = getattr(fitted, "val_mnad", None)
    if scores:
        line += (f"; RNN seed {fitted.rnn_seed} picked (validation forecast MNAD "
                 + ", ".join(f"seed {s}: {v:.2g}" for s, v in sorted(scores.items())) + ")")
    return line + (" [cached]" if getattr(fitted, "from_cache", False) else "")


def off_span_line(name: str, model, system, train_split, test_split, T_warm: int, *, seed: int = 0,
                  energy: float = 0.9999) -> str:
    """How far LED's latent forecast of the first trajectory of ``test_split`` (after a
    warm-up of ``T_warm`` samples) leaves the span of the latents of ``train_split``
    (:func:`ledlib.analysis.latent_span`): one line with the span's size and the forecast's
    mean distance from it over its first ten and its last fifty steps, beside the encoded
    truth's, in units of the training latents' spread."""
    import numpy as np

    from .analysis import latent_span
    from .forecast import forecast
    from .train import encode_trajectories

    span = latent_span(encode_trajectories(model, train_split.states).reshape(-1, model.d_z), energy)
    x, t = test_split.states[:1], test_split.t[0]
    n = x.shape[1] - 1 - T_warm
    if n < 50:
        raise ValueError(f"the test trajectory must leave at least 50 forecast steps after T_warm={T_warm}, got {n}")
    r = forecast(model, system, x[:, 0], float(n) * float(system.coarse_dt), T_warm=T_warm * float(system.coarse_dt),
                 t0=float(t[0]), seed=seed, record_at="none", keep_latents="all")
    z_fc = r.latents[0, 0, 1:]
    z_true = encode_trajectories(model, x)[0, T_warm + 1:]
    d_fc, d_true = span.off_span(z_fc), span.off_span(z_true)
    return (f"{name}: training latents span {span.k} of {model.d_z} directions ({100 * energy:g} % of their "
            f"variance); distance of the forecast from that span: first 10 steps {np.mean(d_fc[:10]):.2g}, "
            f"last 50 {np.mean(d_fc[-50:]):.2g} (the encoded truth: {np.mean(d_true):.2g})")


def forecast_split(model, system, split, T_warm: int, *, traj=None, seed: int = 0):
    """LED's forecast of a split's trajectories from their first sample to their end after a
    warm-up of ``T_warm`` samples (``T_warm`` coarse steps of ``system.coarse_dt``). ``traj``: ``None`` (all), a slice of the
    trajectories, or an int (that trajectory alone, without the trajectory axis). Returns
    ``(truth (n, T - T_warm - 1, ...), prediction (same, float), times)``."""
    from numbers import Integral

    from .forecast import forecast

    one = isinstance(traj, Integral) and not isinstance(traj, bool)
    sel = slice(traj, traj + 1) if one else (slice(None) if traj is None else traj)
    if not isinstance(sel, slice):
        raise TypeError(f"traj must be None, an int or a slice, got {type(traj).__name__}")
    x, t = split.states[sel], split.t[sel]
    n = x.shape[1] - 1 - T_warm
    if x.shape[0] == 0 or n < 1:
        raise ValueError(f"the split has {x.shape[:2]} (trajectories, samples) selected; T_warm={T_warm} must leave "
                         "a forecast step")
    dt = float(system.coarse_dt)  # FHN's is 1: then these are the sample counts themselves
    r = forecast(model, system, x[:, 0], n * dt, T_warm=T_warm * dt, t0=float(t[0, 0]), seed=seed)
    truth, pred = x[:, T_warm + 1:], r.states[:, 0].astype(float)
    return (truth[0], pred[0], r.times) if one else (truth, pred, r.times)


def mnad_channels(truth, pred, channels=(0, 1)) -> tuple:
    """The MNAD of each channel of ``pred (T, C, *space)`` against ``truth`` (FHN: u and v;
    each channel needs a space axis)."""
    from .metrics import mnad

    return tuple(mnad(truth[:, k], pred[:, k]) for k in channels)


def first_time_text(t, curve, threshold: float) -> str:
    """``"t = ..."``, the first time ``curve`` exceeds ``threshold``
    (:func:`ledlib.metrics.first_crossing`), or ``"never"``."""
    import numpy as np

    from .metrics import first_crossing

    return f"t = {first_crossing(t, curve, threshold):g}" if np.any(np.asarray(curve) > threshold) else "never"


def validation_mnad(model, system, split, T_warm: int, *, seed: int = 0) -> float:
    """The MNAD of :func:`forecast_split` over every trajectory and channel of ``split``,
    averaged (the FHN chapter's pick of the RNN's input noise)."""
    import numpy as np

    truth, pred, _ = forecast_split(model, system, split, T_warm, seed=seed)
    return float(np.mean([m for i in range(len(truth)) for m in mnad_channels(truth[i], pred[i])]))
