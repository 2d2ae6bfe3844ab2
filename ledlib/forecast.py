"""LED at test time: warm-up, latent and multiscale propagation, speed-up (§2, §6.6).

The scheme of Figures 1, 2, 13 and 14, for any system of the :class:`~ledlib.systems.System`
contract and any surrogate with LED's inference interface (the *surrogate protocol* below):

1. **Warm-up** (``T_warm``): the micro solver evolves ``lift(x0)`` from the absolute time
   ``t0`` for ``n_warm = T_warm / coarse_dt`` coarse steps. Every coarse step the state is
   restricted and encoded, and the RNN is teacher-forced on the ``n_warm + 1`` latents
   ``z(t0), ..., z(t0 + T_warm)`` so that its hidden state carries the recent past.
   Nothing is forecast here. The forecast starts at ``t_start = t0 + T_warm``.
2. **Latent propagation** (``T_mu = 0``, Figure 13): the RNN iterates on its own output,
   ``h_t = H(z_t, h_{t-dt})``, ``z_{t+dt} = R(h_t)`` (eq. 4), for the whole horizon. The
   decoder runs only at the requested times (``record_at``), since decoding dominates
   the cost when it runs every step.
3. **Multiscale propagation** (LEDMuS, Figure 14): after the warm-up, cycles of ``T_m``
   in the latent space and ``T_mu`` on the micro solver, ``rho = T_m / T_mu``. At the end
   of a macro phase the latent state is decoded (a sampled configuration for the
   mixture decoder), lifted, and the micro solver runs for ``T_mu``; its states are
   restricted and encoded every coarse step, and the RNN is teacher-forced on these
   encodings (starting with the encoding of the decoded, lifted state the micro phase
   started from), so that its memory describes the trajectory actually followed. The
   prediction after the last micro state opens the next macro phase. ``T_m = 0`` is the
   micro solver alone. Systems with a bounded domain may define ``reflect(obs)``
   (:class:`~ledlib.systems.AdvectionDiffusion` does): decoded samples pass through it
   before they are recorded or lifted. Each switch goes through the observable, so a
   perfect surrogate reproduces the micro solver exactly only where ``lift(restrict(m))
   == m`` (KS, advection-diffusion; not the lattice-Boltzmann populations of FHN).

Time grid: step ``j`` of the forecast is the absolute time ``t_start + j coarse_dt``,
``j = 1 .. n_steps`` with ``n_steps = horizon / coarse_dt``; ``j = 0`` is the (true)
state at the end of the warm-up. Step ``j`` lies in a macro phase if
``(j - 1) mod (n_m + n_mu) < n_m`` (``n_m, n_mu`` the phase lengths in coarse steps).

Ensembles: ``x0 (n_ic, *obs_shape)`` and ``n_runs``: the ensemble of ``n_ic * n_runs``
members (member ``i * n_runs + r`` is run ``r`` from initial condition ``i``) is
propagated in one batch, the micro solver on NumPy and the surrogate on its device.
Every member has its own warm-up path (stochastic systems) and its own decoder draws.
Randomness: ``seed`` makes a :class:`numpy.random.Generator` for the micro solver and a
:class:`torch.Generator` on the surrogate's device for the decoder (:func:`make_generators`),
so a seed reproduces an ensemble exactly on the same device and ``max_chunk``.

Memory: only the states at the requested times are kept (``keep_states``); anything else
the analysis needs is accumulated by *observers*, callables ``observer(t, states)``
called at every requested time with ``states (n_ic, n_runs, *obs_shape)`` (a view that
is reused: copy what you keep), e.g. :class:`ParticleMoments` or :class:`ValueHistogram`.
During propagation O(1) ensemble snapshots are alive: the micro state with the solver's
work arrays (a few float64 snapshots during micro phases), one decoded configuration,
and the network activations of one chunk of ``max_chunk`` members. For the paper's
3-D advection-diffusion study (12 initial conditions x 600 runs of N = 1000 particles,
8000 steps) one snapshot is 7200 * 1000 * 3 numbers = 86 MB in float32 (173 MB in
float64). Measured with the paper-profile AD3D model, the peak memory of a multiscale
run grows by 0.5 GB of chunked network activations plus ~9 float32 snapshots (0.11 MB
per member): 0.58 GB at 720 members, 0.73 GB at 2160, so about 1.3 GB at 7200, whatever
the horizon. Add the stored output: ``n_times`` snapshots of ``dtype``, and what the
observers keep (:class:`ParticleMoments` with ``average_dims=True``: 58 kB per recorded
time, 0.46 GB for 8000 steps).

Timing: per category (warm-up, RNN steps, teacher forcing, decode, encode, micro solver,
recording), measured in the same process, synchronising CUDA when the category changes.
The speed-up ``S = T_micro / T_LED`` per coarse step (§3.2) is computed by
:func:`measure_speedup`, which times the micro solver alone over the same horizon, batch
and recording times; the warm-up is excluded from ``T_LED`` and reported separately.

Surrogate protocol (what :func:`forecast` calls; :class:`ledlib.nn.LED` implements it,
and a user's own model or a test double can too):

- ``d_z: int`` and ``obs_shape: tuple``; optional ``is_particle: bool`` (then
  ``obs_shape = (N, d_x)`` and any ``N`` is accepted) and ``device`` (default CPU);
- ``encode(x)``: ``x`` a NumPy array ``(B, *obs_shape)`` in physical units ->
  latent ``(B, d_z)`` (torch tensor or NumPy array);
- ``decode(z, n_particles=None, generator=None)`` -> ``(B, *obs_shape)``; a sampling
  decoder draws with the given :class:`torch.Generator`;
- ``step(z, hidden) -> (z_next, hidden)``: one latent step, ``hidden=None`` for zeros;
- ``warm_up(z_seq, hidden) -> (z_pred, hidden)``: teacher forcing on ``z_seq (B, T, d_z)``,
  returning the prediction of the state after the last one.

Latents are handed to ``step``/``warm_up`` as torch tensors.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ._checks import finite_real as _real
from ._checks import int_at_least as _int
from .metrics import RunningHistogram
from .systems.base import check_state

__all__ = [
    "forecast", "measure_speedup", "time_micro_solver", "make_generators", "phase_schedule",
    "rho_sweep", "speedup_bound", "SweepPoint",
    "ForecastResult", "SpeedupResult", "Timings", "ParticleMoments", "ValueHistogram",
    "MACRO", "MICRO",
]

MACRO = "macro"
MICRO = "micro"

# Relative tolerance for "a whole number of coarse steps".
_GRID_TOL = 1e-9
# Default bound on (ensemble members per network call) x (numbers per observable), so
# that per-particle activations of the encoder stay small for huge ensembles.
_CHUNK_ELEMS = 1 << 20


# ---------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------
@dataclass
class Timings:
    """Wall-clock seconds per part of one :func:`forecast` call.

    ``warm_up`` (all of it: micro solver, encoding, teacher forcing; ``warm_up_micro`` is
    the solver's share), then, after the warm-up: ``latent`` (RNN steps of macro phases),
    ``teacher`` (RNN teacher forcing on encoded micro states), ``decode`` (including the
    copy to host), ``encode``, ``micro`` (lift, solver, restrict in micro phases) and
    ``record`` (storing states and latents, observers). ``propagation`` is the wall time
    after the warm-up without ``record``: LED's cost for the horizon.
    """

    warm_up: float = 0.0
    warm_up_micro: float = 0.0
    latent: float = 0.0
    teacher: float = 0.0
    decode: float = 0.0
    encode: float = 0.0
    micro: float = 0.0
    record: float = 0.0
    propagation: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass
class ForecastResult:
    """What :func:`forecast` returns.

    ``states (n_ic, n_runs, n_times, *obs_shape)`` at ``times`` (absolute; ``None`` if
    ``keep_states=False``); ``latents (n_ic, n_runs, n_latent_times, d_z)`` at
    ``latent_times`` (``None`` if not kept): the RNN's state in macro phases, the encoded
    micro state otherwise; ``warm_latents (n_ic, n_runs, n_warm + 1, d_z)`` the encoded
    warm-up; ``phases (n_steps,)`` :data:`MACRO` or :data:`MICRO` for the steps at
    ``step_times``; ``timings`` a :class:`Timings`.
    """

    times: np.ndarray
    states: np.ndarray | None
    latent_times: np.ndarray
    latents: np.ndarray | None
    warm_latents: np.ndarray | None
    step_times: np.ndarray
    phases: np.ndarray
    timings: Timings
    t0: float
    t_start: float
    horizon: float
    coarse_dt: float
    T_warm: float
    T_m: float
    T_mu: float
    n_ic: int
    n_runs: int
    seed: int
    device: str
    observers: tuple = ()

    @property
    def n_steps(self) -> int:
        return int(self.step_times.shape[0])

    @property
    def batch(self) -> int:
        return self.n_ic * self.n_runs

    @property
    def rho(self) -> float:
        """``T_m / T_mu``: ``inf`` for latent propagation, 0 for the micro solver alone."""
        if self.T_mu == 0:
            return math.inf
        return self.T_m / self.T_mu

    @property
    def led_per_step(self) -> float:
        """LED's wall time per coarse step after the warm-up (recording excluded)."""
        return self.timings.propagation / self.n_steps

    def speedup(self, micro_per_step: float) -> float:
        """``S = micro_per_step / led_per_step``."""
        return float(micro_per_step) / self.led_per_step


@dataclass
class SpeedupResult:
    """Speed-up ``S = micro_per_step / led_per_step`` of one configuration (same batch,
    horizon and recording times); ``warm_up`` (seconds) is not part of ``led_per_step``."""

    S: float
    micro_per_step: float
    led_per_step: float
    warm_up: float
    batch: int
    T_m: float
    T_mu: float
    rho: float
    horizon: float
    n_steps: int
    record_at: Any
    device: str
    timings: Timings


# ---------------------------------------------------------------------------------
# observers
# ---------------------------------------------------------------------------------
class ParticleMoments:
    """Observer: M1 and M2 of every run's particle configuration at every recorded time.

    ``m1``, ``m2``: ``(n_ic, n_runs, n_times, dim)`` (``(n_ic, n_runs, n_times)`` with
    ``average_dims``, as the paper reports the 3-D case), stored as ``dtype``; ``times``.
    M1 is the mean position and M2 the variance over the particles (as
    :func:`ledlib.metrics.moments`).
    """

    def __init__(self, average_dims: bool = False, dtype=np.float32):
        self.average_dims = bool(average_dims)
        self.dtype = np.dtype(dtype)
        self._t: list[float] = []
        self._m1: list[np.ndarray] = []
        self._m2: list[np.ndarray] = []

    def __call__(self, t: float, states: np.ndarray) -> None:
        x = np.asarray(states)
        if x.ndim < 4:
            raise ValueError(f"ParticleMoments needs states (n_ic, n_runs, N, dim), got shape {x.shape}")
        m1 = x.mean(axis=-2)
        m2 = x.var(axis=-2)
        if self.average_dims:
            m1, m2 = m1.mean(axis=-1), m2.mean(axis=-1)
        self._t.append(float(t))
        self._m1.append(m1.astype(self.dtype))
        self._m2.append(m2.astype(self.dtype))

    @property
    def times(self) -> np.ndarray:
        return np.asarray(self._t)

    def _stack(self, parts):
        if not parts:
            raise ValueError("no recorded times yet")
        return np.stack(parts, axis=2)

    @property
    def m1(self) -> np.ndarray:
        return self._stack(self._m1)

    @property
    def m2(self) -> np.ndarray:
        return self._stack(self._m2)


class ValueHistogram:
    """Observer: a :class:`~ledlib.metrics.RunningHistogram` of all state values (over
    initial conditions, runs and recorded times), or one per recorded time
    (``per_time=True``, in ``histograms``). ``component`` selects one index of the last
    axis first (e.g. one coordinate of particle positions)."""

    def __init__(self, lo: float, hi: float, bins: int, per_time: bool = False, component: int | None = None):
        self.lo, self.hi, self.bins = lo, hi, bins
        self.per_time = bool(per_time)
        self.component = component
        self.histogram = RunningHistogram(lo, hi, bins)
        self.histograms: list[RunningHistogram] = []
        self.times: list[float] = []

    def __call__(self, t: float, states: np.ndarray) -> None:
        x = np.asarray(states)
        if self.component is not None:
            x = x[..., self.component]
        self.histogram.update(x)
        if self.per_time:
            self.histograms.append(RunningHistogram(self.lo, self.hi, self.bins).update(x))
        self.times.append(float(t))


# ---------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------
def _n_coarse(name: str, value, coarse_dt: float, *, lo: int) -> int:
    """``value / coarse_dt`` as an int >= ``lo`` (0 or 1); the quotient must be whole."""
    value = _real(name, value)
    if value < 0:
        low = "0" if lo == 0 else f"one coarse step (coarse_dt={coarse_dt})"
        raise ValueError(f"{name} must be >= {low}, got {value}")
    q = value / coarse_dt
    k = int(round(q))
    if lo >= 1 and q < 1.0 - _GRID_TOL:
        raise ValueError(f"{name}={value} must be at least one coarse step (coarse_dt={coarse_dt})")
    if abs(q - k) > _GRID_TOL * max(1.0, q):
        raise ValueError(f"{name}={value} must be a whole multiple of coarse_dt={coarse_dt}")
    return k


def _check_system(system) -> None:
    for attr in ("lift", "restrict", "advance"):
        if not callable(getattr(system, attr, None)):
            raise TypeError(f"system must provide {attr}() (the System contract); got {type(system).__name__}")
    for attr in ("coarse_dt", "obs_shape"):
        if getattr(system, attr, None) is None:
            raise TypeError(f"system must have the attribute {attr} (the System contract)")


def _check_model(model, system) -> tuple[int, torch.device, bool]:
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


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _record_steps(record_at, n_steps: int, t_start: float, coarse_dt: float) -> np.ndarray:
    """Sorted step indices ``j`` (0..n_steps) at which states are produced."""
    if isinstance(record_at, str):
        key = record_at.lower()
        if key == "all":
            return np.arange(1, n_steps + 1)
        if key == "last":
            return np.array([n_steps])
        if key == "none":
            return np.zeros(0, dtype=np.int64)
        raise ValueError(f"record_at must be 'all', 'last', 'none', an integer k >= 1 or a sequence of "
                         f"times, got {record_at!r}")
    if isinstance(record_at, Integral) and not isinstance(record_at, bool):
        k = _int("record_at", record_at)
        return np.arange(k, n_steps + 1, k)
    try:
        t = np.asarray(record_at, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"record_at must be 'all', 'last', 'none', an integer k >= 1 or a sequence of "
                         f"times, got {record_at!r}") from None
    if not np.all(np.isfinite(t)):
        raise ValueError("record_at times must be finite")
    q = (t - t_start) / coarse_dt
    j = np.rint(q).astype(np.int64)
    if np.any(np.abs(q - j) > _GRID_TOL * np.maximum(1.0, np.abs(q))) or np.any(j < 0) or np.any(j > n_steps):
        raise ValueError(f"record_at times must lie on the forecast grid t_start + j*coarse_dt, "
                         f"j = 0..{n_steps} (t_start={t_start}, coarse_dt={coarse_dt})")
    return np.unique(j)


def phase_schedule(n_steps: int, n_m: int, n_mu: int) -> np.ndarray:
    """Phase of forecast steps ``1..n_steps``: :data:`MACRO` while ``(j-1) mod (n_m+n_mu) < n_m``."""
    j = np.arange(n_steps)
    if n_mu == 0:
        return np.full(n_steps, MACRO)
    if n_m == 0:
        return np.full(n_steps, MICRO)
    return np.where(j % (n_m + n_mu) < n_m, MACRO, MICRO)


def make_generators(seed: int, device="cpu") -> tuple[np.random.Generator, torch.Generator]:
    """The two independent streams of one forecast: NumPy for the micro solver, torch (on
    ``device``) for the decoder, both spawned from ``numpy.random.SeedSequence(seed)``."""
    seed = _check_seed(seed)
    micro_ss, torch_ss = np.random.SeedSequence(seed).spawn(2)
    gen = torch.Generator(device=torch.device(device))
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


# ---------------------------------------------------------------------------------
# forecast
# ---------------------------------------------------------------------------------
def forecast(model, system, x0, horizon: float, *, T_warm: float, T_m: float | None = None, T_mu: float = 0.0,
             n_runs: int = 1, t0: float = 0.0, seed: int = 0, record_at="all", keep_states: bool = True,
             keep_latents: str = "recorded", observers: Sequence[Callable] = (), dtype=np.float32,
             max_chunk: int | None = None, progress: bool = False) -> ForecastResult:
    """Warm up, then propagate an ensemble with LED (latent or multiscale); see the module doc.

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
    """
    _check_system(system)
    coarse_dt = float(system.coarse_dt)
    n_steps = _n_coarse("horizon", horizon, coarse_dt, lo=1)
    n_warm = _n_coarse("T_warm", T_warm, coarse_dt, lo=1)
    n_mu = _n_coarse("T_mu", T_mu, coarse_dt, lo=0)
    if T_m is None:
        if n_mu > 0:
            raise ValueError("T_m must be given for multiscale propagation (T_mu > 0)")
        n_m = n_steps
    else:
        n_m = _n_coarse("T_m", T_m, coarse_dt, lo=0)
        if n_m == 0 and n_mu == 0:
            raise ValueError("T_m and T_mu cannot both be 0 (nothing would advance the state)")
    if n_mu == 0:
        n_m = n_steps  # latent propagation: one macro phase
    n_runs = _int("n_runs", n_runs)
    t0 = _real("t0", t0)
    seed = _check_seed(seed)
    if not isinstance(keep_latents, str) or keep_latents.lower() not in ("recorded", "all", "none"):
        raise ValueError(f"keep_latents must be 'recorded', 'all' or 'none', got {keep_latents!r}")
    keep_latents = keep_latents.lower()
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    observers = tuple(observers)
    for i, f in enumerate(observers):
        if not callable(f):
            raise TypeError(f"observers[{i}] must be callable as f(t, states), got {type(f).__name__}")
    uses_model = n_m > 0
    d_z, device, is_particle = _check_model(model, system)
    x0 = check_state("x0", x0, tuple(system.obs_shape))
    n_ic = x0.shape[0]
    B = n_ic * n_runs
    obs_shape = tuple(system.obs_shape)
    obs_size = math.prod(obs_shape)
    if max_chunk is None:
        max_chunk = max(1, _CHUNK_ELEMS // obs_size)
    max_chunk = _int("max_chunk", max_chunk)

    t_start = t0 + n_warm * coarse_dt
    rec = _record_steps(record_at, n_steps, t_start, coarse_dt)
    rec_mask = np.zeros(n_steps + 1, dtype=bool)
    rec_mask[rec] = True
    rec_index = np.full(n_steps + 1, -1, dtype=np.int64)
    rec_index[rec] = np.arange(rec.size)
    if keep_latents == "all":
        lat_steps = np.arange(n_steps + 1)
    elif keep_latents == "recorded":
        lat_steps = rec
    else:
        lat_steps = np.zeros(0, dtype=np.int64)
    lat_mask = np.zeros(n_steps + 1, dtype=bool)
    lat_mask[lat_steps] = True
    lat_index = np.full(n_steps + 1, -1, dtype=np.int64)
    lat_index[lat_steps] = np.arange(lat_steps.size)
    phases = phase_schedule(n_steps, n_m, n_mu)

    micro_rng, torch_gen = make_generators(seed, device)
    n_particles = obs_shape[0] if is_particle else None
    fold = getattr(system, "reflect", None)  # bounded domains fold decoded samples back in
    fold = fold if callable(fold) else None

    states_out = np.empty((n_ic, n_runs, rec.size, *obs_shape), dtype=dtype) if keep_states else None
    latents_out = np.empty((n_ic, n_runs, lat_steps.size, d_z), dtype=np.float32) if lat_steps.size else None
    warm_out = None

    clock = _Clock(device)
    wall0 = time.perf_counter()

    def encode(x: np.ndarray) -> torch.Tensor:
        clock("encode")
        parts = [_tensor(model.encode(x[i:i + max_chunk])) for i in range(0, B, max_chunk)]
        z = parts[0] if len(parts) == 1 else torch.cat(parts)
        if z.ndim != 2 or z.shape[1] != d_z or z.shape[0] != B:
            raise ValueError(f"model latent size mismatch: encode returned shape {tuple(z.shape)}, "
                             f"expected ({B}, d_z={d_z})")
        return z

    def decode(z: torch.Tensor) -> np.ndarray:
        clock("decode")
        parts = [_numpy(model.decode(z[i:i + max_chunk], n_particles=n_particles, generator=torch_gen))
                 for i in range(0, B, max_chunk)]
        x = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if x.shape != (B, *obs_shape):
            raise ValueError(f"model.decode returned shape {x.shape}, expected {(B, *obs_shape)}")
        if fold is not None:
            x = fold(x)
        return x

    def teacher_force(seq: list, hidden):
        clock("teacher")
        z_pred, hidden = model.warm_up(torch.stack(seq, dim=1), hidden)
        z_pred = _tensor(z_pred)
        if tuple(z_pred.shape) != (B, d_z):
            raise ValueError(f"model latent size mismatch: warm_up returned shape {tuple(z_pred.shape)}, "
                             f"expected ({B}, d_z={d_z})")
        return z_pred, hidden

    def advance(micro, j: int, cat: str) -> np.ndarray:
        # from step j-1 to step j on the absolute time axis (the drift of AD depends on it)
        clock(cat)
        return system.advance(micro, t_start + (j - 1) * coarse_dt, t_start + j * coarse_dt, seed=micro_rng)

    def record_state(j: int, x: np.ndarray) -> None:
        clock("record")
        view = x.reshape(n_ic, n_runs, *obs_shape)
        if states_out is not None:
            states_out[:, :, rec_index[j]] = view
        for f in observers:
            f(t_start + j * coarse_dt, view)

    def record_latent(j: int, z: torch.Tensor) -> None:
        clock("record")
        latents_out[:, :, lat_index[j]] = _numpy(z).reshape(n_ic, n_runs, d_z)

    rollout = getattr(model, "latent_rollout", None) or (lambda z, hidden: _StepRollout(model, z, hidden))

    # -- warm-up: micro solver, restrict + encode every coarse step, teacher forcing ---------
    with torch.inference_mode(), _no_onednn(device):
        clock("warm_up_micro")
        micro = system.lift(np.repeat(x0, n_runs, axis=0) if n_runs > 1 else x0)
        obs = system.restrict(micro)
        encode_warm = uses_model or keep_latents != "none"
        warm_z = [encode(obs)] if encode_warm else []
        for i in range(1, n_warm + 1):
            clock("warm_up_micro")
            micro = system.advance(micro, t0 + (i - 1) * coarse_dt, t0 + i * coarse_dt, seed=micro_rng)
            obs = system.restrict(micro)
            if encode_warm:
                warm_z.append(encode(obs))
        hidden = None
        z = None
        if uses_model:
            z, hidden = teacher_force(warm_z, None)
        if keep_latents != "none":
            clock("record")
            warm_out = _numpy(torch.stack(warm_z, dim=1)).reshape(n_ic, n_runs, n_warm + 1, d_z)
            warm_out = warm_out.astype(np.float32)
        clock(None)
        warm_total = time.perf_counter() - wall0
        warm_acc = dict(clock.acc)
        clock.acc = {}
        prop0 = time.perf_counter()

        # step 0: the true state at t_start
        if rec_mask[0]:
            record_state(0, obs)
        if lat_mask[0]:
            record_latent(0, warm_z[-1])
        del warm_z

        steps = None
        if progress:
            from tqdm import tqdm
            steps = tqdm(total=n_steps, desc="LED forecast", leave=False)

        k = 0  # last completed step
        x_dec = None
        while k < n_steps:
            # -- macro phase: the RNN on its own output, decoding only where needed ----------
            if n_m > 0:
                m = min(n_m, n_steps - k)
                micro_follows = k + m < n_steps
                # the steps where z is looked at; the RNN runs through the others unread
                seen = np.flatnonzero(lat_mask[k + 1:k + m + 1] | rec_mask[k + 1:k + m + 1]) + 1
                if micro_follows and (seen.size == 0 or seen[-1] != m):
                    seen = np.append(seen, m)
                roll = rollout(z, hidden)  # holds step k + 1, the prediction already made
                at = 1
                for i in seen.tolist():
                    j = k + i
                    if i > at:
                        clock("latent")
                        roll.advance(i - at)
                        at = i
                    z = roll.z
                    if lat_mask[j]:
                        record_latent(j, z)
                    if rec_mask[j] or (i == m and micro_follows):
                        x_dec = decode(z)
                        if rec_mask[j]:
                            record_state(j, x_dec)
                hidden = roll.hidden
                k += m
                if steps is not None:
                    steps.update(m)
                if k >= n_steps:
                    break
                clock("micro")
                micro = system.lift(x_dec)
                obs = system.restrict(micro)
            # -- micro phase: the solver from the decoded (or warm-up) state -----------------
            mu = min(n_mu, n_steps - k)
            macro_follows = n_m > 0 and k + mu < n_steps
            seq = [encode(obs)] if macro_follows else []
            for i in range(1, mu + 1):
                j = k + i
                micro = advance(micro, j, "micro")
                obs = system.restrict(micro)
                if rec_mask[j]:
                    record_state(j, obs)
                if macro_follows or lat_mask[j]:
                    zc = encode(obs)
                    if macro_follows:
                        seq.append(zc)
                    if lat_mask[j]:
                        record_latent(j, zc)
            k += mu
            if steps is not None:
                steps.update(mu)
            if macro_follows:
                z, hidden = teacher_force(seq, hidden)
        clock(None)
        if steps is not None:
            steps.close()
    end = time.perf_counter()

    acc = clock.acc
    timings = Timings(
        warm_up=warm_total,
        warm_up_micro=warm_acc.get("warm_up_micro", 0.0),
        latent=acc.get("latent", 0.0),
        teacher=acc.get("teacher", 0.0),
        decode=acc.get("decode", 0.0),
        encode=acc.get("encode", 0.0),
        micro=acc.get("micro", 0.0),
        record=acc.get("record", 0.0),
        propagation=(end - prop0) - acc.get("record", 0.0),
        total=end - wall0,
    )
    return ForecastResult(
        times=t_start + rec * coarse_dt,
        states=states_out,
        latent_times=t_start + lat_steps * coarse_dt,
        latents=latents_out,
        warm_latents=warm_out,
        step_times=t_start + np.arange(1, n_steps + 1) * coarse_dt,
        phases=phases,
        timings=timings,
        t0=t0,
        t_start=t_start,
        horizon=n_steps * coarse_dt,
        coarse_dt=coarse_dt,
        T_warm=n_warm * coarse_dt,
        T_m=n_m * coarse_dt,
        T_mu=n_mu * coarse_dt,
        n_ic=n_ic,
        n_runs=n_runs,
        seed=seed,
        device=str(device),
        observers=observers,
    )


# ---------------------------------------------------------------------------------
# speed-up
# ---------------------------------------------------------------------------------
def time_micro_solver(system, x0, horizon: float, *, t0: float = 0.0, n_runs: int = 1, record_at="last",
                      seed: int = 0) -> float:
    """Wall time (s) per coarse step of the micro solver alone on ``x0`` repeated ``n_runs``
    times, from ``t0`` over ``horizon``, restricting at the same ``record_at`` steps as
    :func:`forecast` (one ``advance`` call between consecutive recorded steps)."""
    _check_system(system)
    coarse_dt = float(system.coarse_dt)
    n_steps = _n_coarse("horizon", horizon, coarse_dt, lo=1)
    n_runs = _int("n_runs", n_runs)
    t0 = _real("t0", t0)
    x0 = check_state("x0", x0, tuple(system.obs_shape))
    rng = np.random.default_rng(_check_seed(seed))
    rec = _record_steps(record_at, n_steps, t0, coarse_dt)
    stops = np.union1d(rec[rec > 0], [n_steps])
    x = np.repeat(x0, n_runs, axis=0) if n_runs > 1 else x0
    start = time.perf_counter()
    micro = system.lift(x)
    j_prev = 0
    for j in stops:
        micro = system.advance(micro, t0 + j_prev * coarse_dt, t0 + j * coarse_dt, seed=rng)
        if j in rec:
            system.restrict(micro)
        j_prev = j
    return (time.perf_counter() - start) / n_steps


def measure_speedup(model, system, x0, horizon: float, T_m: float | None = None, T_mu: float = 0.0, *,
                    T_warm: float | None = None, n_runs: int = 1, t0: float = 0.0, record_at="last",
                    seed: int = 0, repeats: int = 1, micro_per_step: float | None = None,
                    max_chunk: int | None = None, dry_run: bool = True) -> SpeedupResult:
    """``S = T_micro / T_LED`` per coarse step, measured here for the same batch, horizon
    and recording times (the best of ``repeats`` runs of each; states are not stored).

    ``T_warm`` defaults to one coarse step; the warm-up time is reported, not counted.
    ``micro_per_step``: a solver time measured before (e.g. shared by several rho) instead
    of timing :func:`time_micro_solver` here. ``dry_run``: one short untimed forecast
    first, so that one-off costs (thread pools, CUDA context) are not charged to LED.
    """
    repeats = _int("repeats", repeats)
    coarse_dt = float(system.coarse_dt)
    T_warm = coarse_dt if T_warm is None else T_warm
    kw = dict(T_warm=T_warm, T_m=T_m, T_mu=T_mu, n_runs=n_runs, t0=t0, seed=seed,
              keep_states=False, keep_latents="none", max_chunk=max_chunk)
    if dry_run:
        forecast(model, system, x0, coarse_dt, **{**kw, "T_m": None, "T_mu": 0.0, "record_at": "last"})
    best: ForecastResult | None = None
    micro_times = []
    for _ in range(repeats):
        if micro_per_step is None:
            micro_times.append(time_micro_solver(system, x0, horizon, t0=t0 + _real("T_warm", T_warm),
                                                 n_runs=n_runs, record_at=record_at, seed=seed))
        res = forecast(model, system, x0, horizon, record_at=record_at, **kw)
        if best is None or res.timings.propagation < best.timings.propagation:
            best = res
    micro = float(micro_per_step) if micro_per_step is not None else min(micro_times)
    return SpeedupResult(
        S=micro / best.led_per_step, micro_per_step=micro, led_per_step=best.led_per_step,
        warm_up=best.timings.warm_up, batch=best.batch, T_m=best.T_m, T_mu=best.T_mu, rho=best.rho,
        horizon=best.horizon, n_steps=best.n_steps, record_at=record_at, device=best.device,
        timings=best.timings)


# ---------------------------------------------------------------------------------
# the accuracy / cost trade-off
# ---------------------------------------------------------------------------------
def speedup_bound(rho, S_latent):
    """Speed-up of a multiscale run whose latent steps cost ``1/S_latent`` of a micro step:
    per cycle of ``T_m + T_mu``, ``S = (1 + rho) / (1 + rho / S_latent)``; at most
    ``1 + rho``, and ``S_latent`` as ``rho -> inf`` (switching costs neglected)."""
    rho = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.isinf(rho), S_latent, (1.0 + rho) / (1.0 + rho / S_latent))
    return out if out.ndim else float(out)


@dataclass
class SweepPoint:
    """One configuration of :func:`rho_sweep`: ``T_m=None`` is latent propagation."""

    T_m: float | None
    T_mu: float
    rho: float
    error: float
    S: float
    result: ForecastResult

    @property
    def rho_effective(self) -> float:
        """Macro steps over micro steps actually run: differs from ``rho`` when the horizon
        ends inside a cycle (``inf`` for latent propagation)."""
        n_micro = int(np.count_nonzero(self.result.phases == MICRO))
        n_macro = int(np.count_nonzero(self.result.phases == MACRO))
        return math.inf if n_micro == 0 else n_macro / n_micro


def rho_sweep(model, system, x0, horizon: float, *, T_warm: float, T_mu: float, T_m_values: Sequence,
              error: Callable[[ForecastResult], float], n_runs: int = 1, t0: float = 0.0, seed: int = 0,
              record_at="all", micro_per_step: float | None = None) -> list[SweepPoint]:
    """Error and speed-up of LED for each ``T_m`` in ``T_m_values`` (``None``: latent only),
    all with micro phases of ``T_mu``, from the same initial conditions and seed.

    ``error(result)`` scores a :class:`ForecastResult` (e.g. MNAD against the true
    trajectory). The speed-up of each point is the micro solver's time per coarse step
    (timed once here on the same batch, horizon and recording times, unless given)
    over LED's propagation time per coarse step in that same forecast.
    """
    if not T_m_values:
        raise ValueError("T_m_values must list at least one T_m (None for latent propagation)")
    if not callable(error):
        raise TypeError("error must be a callable error(ForecastResult) -> float")
    too_long = [T_m for T_m in T_m_values if T_m is not None and T_m + T_mu > horizon]
    if too_long:  # such a run never reaches a micro phase: it would be scored as multiscale
        raise ValueError(f"horizon={horizon} must hold at least one cycle T_m + T_mu for every T_m; "
                         f"too long: {too_long}")
    if micro_per_step is None:
        micro_per_step = time_micro_solver(system, x0, horizon, t0=_real("t0", t0) + _real("T_warm", T_warm),
                                           n_runs=n_runs, record_at=record_at, seed=seed)
    points = []
    for T_m in T_m_values:
        latent = T_m is None
        res = forecast(model, system, x0, horizon, T_warm=T_warm, T_m=None if latent else T_m,
                       T_mu=0.0 if latent else T_mu, n_runs=n_runs, t0=t0, seed=seed, record_at=record_at)
        points.append(SweepPoint(T_m, 0.0 if latent else float(T_mu), res.rho, float(error(res)),
                                 res.speedup(micro_per_step), res))
    return points
