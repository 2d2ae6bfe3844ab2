"""The propagation loop: warm-up, then macro and micro phases as a criterion decides.

:class:`Propagator` holds one forecast's state (micro state, observable, latent state and
RNN memory, step counter, clocks, output) and offers the phases as methods:
:meth:`~Propagator.warm_up`, :meth:`~Propagator.macro_phase`, :meth:`~Propagator.micro_phase`
and :meth:`~Propagator.result`. :func:`propagate` strings them together under a criterion
(:class:`~ledlib.forecast.schedule.Schedule` or :class:`ledlib.adaptive.AdaptiveCriterion`);
:func:`forecast` is the public entry point.
"""

from __future__ import annotations

import inspect
import math
import time
from contextlib import contextmanager
from numbers import Integral
from typing import Callable, Sequence

import numpy as np
import torch

from .._checks import MAX_ELEMENTS, int_in
from .._checks import int_at_least as _int
from ..systems.base import check_state
from .recording import Recorder, Recording
from .results import ForecastResult, Timings
from .schedule import MACRO, MICRO, Schedule, check_time_axis

__all__ = ["forecast", "propagate", "Propagator", "make_generators", "check_seed"]

# Default bound on (ensemble members per network call) x (numbers per observable), so
# that per-particle activations of the encoder stay small for huge ensembles.
_CHUNK_ELEMS = 1 << 20


# ---------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------
def check_system(system) -> None:
    for attr in ("lift", "restrict", "advance"):
        if not callable(getattr(system, attr, None)):
            raise TypeError(f"system must provide {attr}() (the System contract); got {type(system).__name__}")
    for attr in ("coarse_dt", "obs_shape"):
        if getattr(system, attr, None) is None:
            raise TypeError(f"system must have the attribute {attr} (the System contract)")


def check_model(model, system) -> tuple[int, torch.device, bool]:
    """The surrogate's latent size, device and particle flag, checked against ``system``."""
    names = ("encode", "decode", "step", "warm_up")
    missing = [m for m in names if not callable(getattr(model, m, None))]
    if missing:
        raise TypeError(f"model must implement {', '.join(names)} (the surrogate protocol); "
                        f"{type(model).__name__} lacks {', '.join(missing)}")
    d_z = getattr(model, "d_z", None)
    if isinstance(d_z, bool) or not isinstance(d_z, Integral) or d_z < 1:
        raise ValueError(f"model.d_z must be a positive integer (the latent size), got {d_z!r}")
    rnn_dz = getattr(getattr(model, "rnn", None), "d_z", None)
    if rnn_dz is not None and rnn_dz != d_z:
        raise ValueError(f"model latent size mismatch: the autoencoder has d_z={d_z}, the RNN d_z={rnn_dz}")
    m_shape = getattr(model, "obs_shape", None)
    if m_shape is None:
        raise TypeError("model must have obs_shape (the surrogate protocol)")
    m_shape = tuple(int(s) for s in m_shape)
    s_shape = tuple(system.obs_shape)
    is_particle = bool(getattr(model, "is_particle", False))
    if is_particle:
        if len(s_shape) != 2 or s_shape[-1] != m_shape[-1]:
            raise ValueError(f"model obs_shape {m_shape} (particles of dimension {m_shape[-1]}) does not "
                             f"match the system's obs_shape {s_shape}")
    elif m_shape != s_shape:
        raise ValueError(f"model obs_shape {m_shape} does not match the system's obs_shape {s_shape}")
    device = torch.device(getattr(model, "device", "cpu"))
    return int(d_z), device, is_particle


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_criterion(criterion) -> None:
    names = ("planned_macro", "go_on", "enter", "micro_length")
    missing = [m for m in names if not callable(getattr(criterion, m, None))]
    if missing or not hasattr(criterion, "n_compare") or not hasattr(criterion, "may_enter"):
        raise TypeError(f"criterion must implement {', '.join(names)}, n_compare and may_enter (see "
                        f"ledlib.forecast.schedule); {type(criterion).__name__} does not")


def make_generators(seed: int, device="cpu") -> tuple[np.random.Generator, torch.Generator]:
    """The two independent streams of one forecast: NumPy for the micro solver (its lifts
    and steps), torch (on ``device``) for the decoder, both spawned from
    ``numpy.random.SeedSequence(seed)``."""
    seed = check_seed(seed)
    from ..device import resolve_device  # a missing CUDA is a ValueError naming device, not torch's words

    dev = torch.device(device) if isinstance(device, torch.device) and device.type not in ("cpu", "cuda") \
        else resolve_device(device)
    micro_ss, torch_ss = np.random.SeedSequence(seed).spawn(2)
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(torch_ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
    return np.random.default_rng(micro_ss), gen


# ---------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------
def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    return torch.from_numpy(np.ascontiguousarray(x))


@contextmanager
def _no_onednn(device: torch.device):
    """Run with oneDNN off on the CPU: with torch's oneDNN path an LSTM call that is handed
    a hidden state costs ~20 ms per time step (measured with torch 2.13 on x86), fifty
    times the native kernel, which would swamp LED's latent steps."""
    if device.type != "cpu" or not torch.backends.mkldnn.enabled:
        yield
        return
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = True


class _Clock:
    """Accumulates wall time per category; synchronises CUDA only when the category changes,
    so a run of latent steps stays asynchronous on the GPU."""

    def __init__(self, device: torch.device):
        self.sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else None
        self.acc: dict[str, float] = {}
        self.cat: str | None = None
        self.t = time.perf_counter()

    def __call__(self, cat: str | None) -> None:
        if cat == self.cat:
            return
        if self.sync is not None:
            self.sync()
        now = time.perf_counter()
        if self.cat is not None:
            self.acc[self.cat] = self.acc.get(self.cat, 0.0) + now - self.t
        self.cat, self.t = cat, now


class _StepRollout:
    """``LatentRollout``'s interface over a surrogate that only has ``step(z, hidden)``."""

    def __init__(self, model, z, hidden):
        self.model, self.z, self.hidden = model, z, hidden

    def advance(self, n: int) -> None:
        for _ in range(n):
            self.z, self.hidden = self.model.step(self.z, self.hidden)
            self.z = _tensor(self.z)


def _lift_takes_rng(system) -> bool:
    """Whether ``system.lift`` accepts ``rng=`` (the System contract; a user's older
    subclass may not)."""
    try:
        params = inspect.signature(system.lift).parameters
    except (TypeError, ValueError):
        return False
    return "rng" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _latent_scale(model, d_z: int, device: torch.device) -> torch.Tensor:
    """Per-coordinate latent scale for comparison errors and spreads: the model's
    ``latent_scale``, else its RNN's normalisation std, else 1."""
    scale = getattr(model, "latent_scale", None)
    if scale is None:
        scale = getattr(getattr(model, "rnn", None), "z_std", None)
    if scale is None:
        return torch.ones(d_z, device=device)
    return torch.as_tensor(scale, device=device).reshape(-1)


# ---------------------------------------------------------------------------------
# the propagator
# ---------------------------------------------------------------------------------
class Propagator:
    """One forecast of ``model`` on ``system`` from ``x0`` (see :func:`forecast`).

    ``uses_model``: encode the warm-up and teacher-force (any macro step may follow);
    ``n_compare``: comparison steps at the end of the warm-up; ``needs_spread``: keep the
    members' spread of the macro steps the criterion reads.
    """

    def __init__(self, model, system, x0, schedule: Schedule, recording: Recording, *, n_runs: int = 1,
                 t0: float = 0.0, seed: int = 0, max_chunk: int | None = None, uses_model: bool = True,
                 needs_spread: bool = False):
        d_z, device, is_particle = check_model(model, system)
        x0 = check_state("x0", x0, tuple(system.obs_shape))
        self.model, self.system, self.schedule, self.recording = model, system, schedule, recording
        self.x0, self.n_ic, self.n_runs = x0, x0.shape[0], n_runs
        self.B = self.n_ic * n_runs
        self.obs_shape = tuple(system.obs_shape)
        self.d_z, self.device = d_z, device
        if max_chunk is None:
            max_chunk = max(1, _CHUNK_ELEMS // math.prod(self.obs_shape))
        self.max_chunk = _int("max_chunk", max_chunk)
        self.coarse_dt, self.n_steps, self.n_warm = schedule.coarse_dt, schedule.n_steps, schedule.n_warm
        self.t0, self.seed = t0, seed
        self.t_start = t0 + self.n_warm * self.coarse_dt
        self.rec = Recorder(recording, self.n_steps, self.t_start, self.coarse_dt, self.n_ic, n_runs,
                            self.obs_shape, d_z)
        self.uses_model = bool(uses_model)
        self.micro_rng, self.torch_gen = make_generators(seed, device)
        self.n_particles = self.obs_shape[0] if is_particle else None
        fold = getattr(system, "reflect", None)  # bounded domains fold decoded samples back in
        self.fold = fold if callable(fold) else None
        self.lift_rng = _lift_takes_rng(system)
        self.rollout = getattr(model, "latent_rollout", None) or (lambda z, hidden: _StepRollout(model, z, hidden))
        self.scale = _latent_scale(model, d_z, device) if (uses_model or needs_spread) else None
        self.phases = np.empty(self.n_steps, dtype=np.asarray(MACRO).dtype)
        self.spread = np.full((self.B, self.n_steps), np.nan, dtype=np.float32) if needs_spread else None
        if needs_spread and not callable(getattr(model, "spread", None)):
            raise ValueError(f"the criterion reads the ensemble spread: model must provide spread(hidden) "
                             f"(e.g. a ledlib.ensemble.LatentEnsemble), {type(model).__name__} does not")
        self.comparisons: list[tuple[int, np.ndarray]] = []
        self.last_comparison: np.ndarray | None = None
        self.clock = _Clock(device)
        self.k = 0  # last completed forecast step
        self.micro = self.obs = self.z = self.hidden = self.x_dec = None
        self.progress = None

    # -- the parts every phase uses ---------------------------------------------------
    def encode(self, x: np.ndarray) -> torch.Tensor:
        self.clock("encode")
        B, c = self.B, self.max_chunk
        parts = [_tensor(self.model.encode(x[i:i + c])) for i in range(0, B, c)]
        z = parts[0] if len(parts) == 1 else torch.cat(parts)
        if z.ndim != 2 or z.shape[1] != self.d_z or z.shape[0] != B:
            raise ValueError(f"model latent size mismatch: encode returned shape {tuple(z.shape)}, "
                             f"expected ({B}, d_z={self.d_z})")
        return z

    def decode(self, z: torch.Tensor) -> np.ndarray:
        self.clock("decode")
        B, c = self.B, self.max_chunk
        parts = [_numpy(self.model.decode(z[i:i + c], n_particles=self.n_particles, generator=self.torch_gen))
                 for i in range(0, B, c)]
        x = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if x.shape != (B, *self.obs_shape):
            raise ValueError(f"model.decode returned shape {x.shape}, expected {(B, *self.obs_shape)}")
        if self.fold is not None:
            x = self.fold(x)
        return x

    def teacher_force(self, seq: list, hidden):
        self.clock("teacher")
        z_pred, hidden = self.model.warm_up(torch.stack(seq, dim=1), hidden)
        z_pred = _tensor(z_pred)
        if tuple(z_pred.shape) != (self.B, self.d_z):
            raise ValueError(f"model latent size mismatch: warm_up returned shape {tuple(z_pred.shape)}, "
                             f"expected ({self.B}, d_z={self.d_z})")
        return z_pred, hidden

    def lift(self, x: np.ndarray) -> np.ndarray:
        return self.system.lift(x, rng=self.micro_rng) if self.lift_rng else self.system.lift(x)

    def advance(self, micro, j: int, cat: str) -> np.ndarray:
        # from step j-1 to step j on the absolute time axis (the drift of AD depends on it)
        self.clock(cat)
        return self.system.advance(micro, self.t_start + (j - 1) * self.coarse_dt,
                                   self.t_start + j * self.coarse_dt, seed=self.micro_rng)

    def record_state(self, j: int, x: np.ndarray) -> None:
        self.clock("record")
        self.rec.state(j, x)

    def record_latent(self, j: int, z: torch.Tensor) -> None:
        self.clock("record")
        self.rec.latent(j, _numpy(z))

    def teacher_compare(self, seq: list, hidden, n_compare: int, k: int):
        """Teacher forcing on ``seq``; with ``n_compare > 0`` the model first runs on its own
        beside the last ``n_compare`` states, and their scaled RMS difference is stored as
        the comparison error of the cycle ending at step ``k``."""
        if n_compare == 0:
            return self.teacher_force(seq, hidden)
        if len(seq) <= n_compare:
            raise ValueError(f"a comparison of {n_compare} steps needs at least {n_compare + 1} states to "
                             f"teacher-force on, got {len(seq)}")
        z_pred, h_head = self.teacher_force(seq[:-n_compare], hidden)
        self.clock("compare")
        roll = self.rollout(z_pred, h_head)
        sq = torch.zeros(self.B, device=z_pred.device, dtype=z_pred.dtype)
        for i, z_true in enumerate(seq[-n_compare:]):
            if i:
                roll.advance(1)
            d = (_tensor(roll.z) - z_true.to(z_pred.dtype)) / self.scale.to(z_pred.dtype)
            sq += d.pow(2).mean(dim=1)
        err = _numpy(torch.sqrt(sq / n_compare)).astype(np.float64)
        self.last_comparison = err
        self.comparisons.append((k, err.reshape(self.n_ic, self.n_runs)))
        return self.teacher_force(seq[-n_compare:], h_head)

    def read_spread(self, roll, j: int) -> np.ndarray:
        """The members' spread of the candidate state of step ``j`` (kept in ``spread``)."""
        self.clock("compare")
        u = _numpy(self.model.spread(roll.hidden)).astype(np.float64).reshape(-1)
        if u.shape != (self.B,):
            raise ValueError(f"model.spread returned {u.shape[0]} values, expected one per member ({self.B})")
        self.spread[:, j - 1] = u
        return u

    def _tick(self, n: int) -> None:
        if self.progress is not None:
            self.progress.update(n)

    # -- the phases -----------------------------------------------------------------
    def warm_up(self, n_compare: int = 0) -> None:
        """The micro solver from ``lift(x0)`` over ``T_warm``, encoded every coarse step, and
        the RNN teacher-forced on those latents (with a comparison over the last
        ``n_compare`` of them); records step 0."""
        wall0 = time.perf_counter()
        self.wall0 = wall0
        clock, rec, n_warm, dt = self.clock, self.rec, self.n_warm, self.coarse_dt
        clock("warm_up_micro")
        x = np.repeat(self.x0, self.n_runs, axis=0) if self.n_runs > 1 else self.x0
        micro = self.lift(x)
        obs = self.system.restrict(micro)
        encode_warm = self.uses_model or rec.keeps_latents
        warm_z = [self.encode(obs)] if encode_warm else []
        for i in range(1, n_warm + 1):
            clock("warm_up_micro")
            micro = self.system.advance(micro, self.t0 + (i - 1) * dt, self.t0 + i * dt, seed=self.micro_rng)
            obs = self.system.restrict(micro)
            if encode_warm:
                warm_z.append(self.encode(obs))
        if self.uses_model:
            self.z, self.hidden = self.teacher_compare(warm_z, None, n_compare, 0)
        self.warm_out = None
        if rec.keeps_latents:
            clock("record")
            w = _numpy(torch.stack(warm_z, dim=1)).reshape(self.n_ic, self.n_runs, n_warm + 1, self.d_z)
            self.warm_out = w.astype(np.float32)
        clock(None)
        self.warm_total = time.perf_counter() - wall0
        self.warm_acc = dict(clock.acc)
        clock.acc = {}
        self.prop0 = time.perf_counter()
        self.micro, self.obs = micro, obs
        # step 0: the true state at t_start
        if rec.rec_mask[0]:
            self.record_state(0, obs)
        if rec.lat_mask[0]:
            self.record_latent(0, warm_z[-1])

    def macro_phase(self, criterion) -> int:
        """The RNN on its own output from the current prediction, for the criterion's planned
        length or step by step while ``criterion.go_on``; decodes where recorded and at the
        last step when the horizon goes on. Returns the number of macro steps taken."""
        planned = criterion.planned_macro(self.k)
        if planned is None:
            return self._macro_stepwise(criterion)
        k, n, rec = self.k, self.n_steps, self.rec
        m = min(int(planned), n - k)
        if m <= 0:
            return 0
        micro_follows = k + m < n
        # the steps where z is looked at; the RNN runs through the others unread
        seen = np.flatnonzero(rec.lat_mask[k + 1:k + m + 1] | rec.rec_mask[k + 1:k + m + 1]) + 1
        if micro_follows and (seen.size == 0 or seen[-1] != m):
            seen = np.append(seen, m)
        roll = self.rollout(self.z, self.hidden)  # holds step k + 1, the prediction already made
        at = 1
        z = self.z
        for i in seen.tolist():
            j = k + i
            if i > at:
                self.clock("latent")
                roll.advance(i - at)
                at = i
            z = roll.z
            if rec.lat_mask[j]:
                self.record_latent(j, z)
            if rec.rec_mask[j] or (i == m and micro_follows):
                self.x_dec = self.decode(z)
                if rec.rec_mask[j]:
                    self.record_state(j, self.x_dec)
        self.z, self.hidden = z, roll.hidden
        self.phases[k:k + m] = MACRO
        self.k += m
        self._tick(m)
        return m

    def _macro_stepwise(self, criterion) -> int:
        k, n, rec = self.k, self.n_steps, self.rec
        roll = self.rollout(self.z, self.hidden)
        needs_spread = self.spread is not None
        i, decoded_at = 0, -1
        z, hidden = self.z, self.hidden
        while k + i < n:
            # the spread is read only if the criterion asks (a CUDA sync, K decodes' worth of work)
            u = (lambda j=k + i + 1: self.read_spread(roll, j)) if needs_spread else None
            if not criterion.go_on(k + i, i, u):
                break
            i += 1
            j = k + i
            z = roll.z
            if rec.lat_mask[j]:
                self.record_latent(j, z)
            if rec.rec_mask[j]:
                self.x_dec = self.decode(z)
                decoded_at = j
                self.record_state(j, self.x_dec)
            hidden = roll.hidden
            if j < n:
                self.clock("latent")
                roll.advance(1)
        if i == 0:
            return 0
        self.z, self.hidden = z, hidden
        if k + i < n and decoded_at != k + i:
            self.x_dec = self.decode(z)
        self.phases[k:k + i] = MACRO
        self.k += i
        self._tick(i)
        return i

    def to_micro(self) -> None:
        """Lift the last decoded macro state: the micro solver goes on from it."""
        self.clock("micro")
        self.micro = self.lift(self.x_dec)
        self.obs = self.system.restrict(self.micro)

    def micro_phase(self, mu: int, *, teacher: bool, include_start: bool, n_compare: int = 0) -> None:
        """``mu`` steps of the micro solver; with ``teacher`` the states (after the start state
        if ``include_start``) are encoded and the RNN teacher-forced on them at the end, with
        a comparison over the last ``n_compare``, so that the next prediction is ready."""
        k, rec = self.k, self.rec
        seq = [self.encode(self.obs)] if (teacher and include_start) else []
        micro, obs = self.micro, self.obs
        for i in range(1, mu + 1):
            j = k + i
            micro = self.advance(micro, j, "micro")
            obs = self.system.restrict(micro)
            if rec.rec_mask[j]:
                self.record_state(j, obs)
            if teacher or rec.lat_mask[j]:
                zc = self.encode(obs)
                if teacher:
                    seq.append(zc)
                if rec.lat_mask[j]:
                    self.record_latent(j, zc)
        self.micro, self.obs = micro, obs
        self.phases[k:k + mu] = MICRO
        self.k += mu
        self._tick(mu)
        if teacher:
            self.z, self.hidden = self.teacher_compare(seq, self.hidden, n_compare, self.k)

    def result(self, criterion=None) -> ForecastResult:
        """The :class:`ForecastResult`; under a criterion other than the schedule ``T_m`` and
        ``T_mu`` are NaN (the phases say what ran)."""
        self.clock(None)
        end = time.perf_counter()
        acc, s, rec = self.clock.acc, self.schedule, self.rec
        timings = Timings(
            warm_up=self.warm_total,
            warm_up_micro=self.warm_acc.get("warm_up_micro", 0.0),
            latent=acc.get("latent", 0.0),
            teacher=acc.get("teacher", 0.0),
            decode=acc.get("decode", 0.0),
            encode=acc.get("encode", 0.0),
            micro=acc.get("micro", 0.0),
            record=acc.get("record", 0.0),
            compare=acc.get("compare", 0.0),
            propagation=(end - self.prop0) - acc.get("record", 0.0),
            total=end - self.wall0,
        )
        dt = self.coarse_dt
        fixed = criterion is None or criterion is s
        return ForecastResult(
            times=self.t_start + rec.rec * dt,
            states=rec.states,
            latent_times=self.t_start + rec.lat_steps * dt,
            latents=rec.latents,
            warm_latents=self.warm_out,
            step_times=self.t_start + np.arange(1, self.n_steps + 1) * dt,
            phases=self.phases,
            timings=timings,
            t0=self.t0,
            t_start=self.t_start,
            horizon=s.horizon,
            coarse_dt=dt,
            T_warm=s.T_warm,
            T_m=s.T_m if fixed else math.nan,
            T_mu=s.T_mu if fixed else math.nan,
            n_ic=self.n_ic,
            n_runs=self.n_runs,
            seed=self.seed,
            device=str(self.device),
            observers=rec.observers,
            spread=None if self.spread is None else self.spread.reshape(self.n_ic, self.n_runs, self.n_steps),
            comparisons=tuple(self.comparisons),
            criterion="" if fixed else repr(criterion),
        )


def propagate(prop: Propagator, criterion, progress: bool = False) -> ForecastResult:
    """Warm-up, then macro phases while ``criterion`` says so and micro blocks otherwise,
    up to the horizon: the one loop of every schedule."""
    n = prop.n_steps
    n_compare = int(criterion.n_compare) if prop.uses_model else 0
    if n_compare > prop.n_warm:
        raise ValueError(f"T_warm ({prop.n_warm} coarse steps) must be at least the criterion's comparison "
                         f"length n_compare={n_compare}")
    with torch.inference_mode(), _no_onednn(prop.device):
        prop.warm_up(n_compare)
        if progress:
            from tqdm import tqdm
            prop.progress = tqdm(total=n, desc="LED forecast", leave=False)
        macro = prop.uses_model and criterion.enter(0, prop.last_comparison)
        from_macro = False  # the micro phase starts from a lifted macro state
        while prop.k < n:
            if macro and prop.macro_phase(criterion) > 0:
                if prop.k >= n:
                    break
                prop.to_micro()
                from_macro = True
            mu = int(criterion.micro_length(prop.k))
            if mu < 1:
                raise ValueError(f"criterion.micro_length must be >= 1 coarse step, got {mu}")
            mu = min(mu, n - prop.k)
            follows = bool(criterion.may_enter) and prop.k + mu < n
            prop.micro_phase(mu, teacher=follows, include_start=from_macro,
                             n_compare=n_compare if follows else 0)
            from_macro = False
            macro = follows and criterion.enter(prop.k, prop.last_comparison)
        if prop.progress is not None:
            prop.progress.close()
        return prop.result(criterion)


def forecast(model, system, x0, horizon: float, *, T_warm: float, T_m: float | None = None, T_mu: float = 0.0,
             n_runs: int = 1, t0: float = 0.0, seed: int = 0, record_at="all", keep_states: bool = True,
             keep_latents: str = "recorded", observers: Sequence[Callable] = (), dtype=np.float32,
             max_chunk: int | None = None, progress: bool = False, criterion=None) -> ForecastResult:
    """Warm up, then propagate an ensemble with LED (latent or multiscale); see the package doc.

    ``model``: an :class:`ledlib.nn.LED` or any object of the surrogate protocol.
    ``system``: the micro solver (:class:`ledlib.systems.System` contract).
    ``x0 (n_ic, *obs_shape)``: observable initial conditions at absolute time ``t0``.
    ``horizon``: forecast length after the warm-up (a whole number of ``coarse_dt``).
    ``T_warm`` >= ``coarse_dt``; ``T_mu = 0`` (default): latent propagation (``T_m`` is
    then ignored); ``T_mu > 0``: multiscale with macro phases of ``T_m`` (``T_m = 0``: the
    micro solver alone). All three are whole multiples of ``coarse_dt``; ``seed`` an int >= 0.
    ``record_at``: where states are produced (decoded in macro phases): ``"all"`` (every
    step), ``"last"``, ``"none"``, an int ``k`` (every k-th step) or absolute times on the
    grid ``t_start + j coarse_dt``, ``0 <= j <= n_steps``. ``keep_states``: store them
    (``dtype``); ``observers``: callables ``f(t, states (n_ic, n_runs, *obs_shape))`` called
    at those times. ``keep_latents``: ``"recorded"`` (at ``record_at``), ``"all"`` (every
    step 0..n_steps) or ``"none"``. ``max_chunk``: most ensemble members per network call.
    ``criterion``: decides the phases instead of ``T_m``/``T_mu`` (which must then be left
    at their defaults), e.g. :class:`ledlib.adaptive.AdaptiveCriterion`.
    """
    check_system(system)
    coarse_dt = float(system.coarse_dt)
    if criterion is not None:
        check_criterion(criterion)
        if T_m is not None or T_mu != 0.0:
            raise ValueError("T_m and T_mu must be left unset when a criterion decides the phases "
                             f"(got T_m={T_m!r}, T_mu={T_mu!r})")
    schedule = Schedule.from_times(coarse_dt, T_warm=T_warm, horizon=horizon, T_m=T_m, T_mu=T_mu)
    n_runs = _int("n_runs", n_runs)
    # the ensemble's micro states alone are n_runs copies of x0: bounded, not a MemoryError later
    n_runs = int_in("n_runs", n_runs, 1, max(1, MAX_ELEMENTS // max(1, int(np.size(x0)))))
    t0 = check_time_axis(t0, schedule.n_warm + schedule.n_steps, coarse_dt)
    seed = check_seed(seed)
    recording = Recording(record_at=record_at, keep_states=keep_states, keep_latents=keep_latents,
                          observers=observers, dtype=dtype)
    crit = schedule if criterion is None else criterion
    prop = Propagator(model, system, x0, schedule, recording, n_runs=n_runs, t0=t0, seed=seed,
                      max_chunk=max_chunk, uses_model=bool(crit.may_enter),
                      needs_spread=bool(getattr(crit, "needs_spread", False)))
    return propagate(prop, crit, progress=progress)
