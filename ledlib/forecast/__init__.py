"""LED at test time: warm-up, latent and multiscale propagation, speed-up (§2, §6.6).

The package is made of small parts: :class:`Schedule` (the time grid and the fixed
alternation, :mod:`.schedule`), :class:`Recording` (what is kept, :mod:`.recording`), the
:class:`Propagator` with its phases and the one loop :func:`propagate`
(:mod:`.propagator`), the observers (:mod:`.observers`), the results (:mod:`.results`)
and the speed-up measurements (:mod:`.speedup`). A switching criterion other than the
fixed schedule (:class:`ledlib.adaptive.AdaptiveCriterion`) runs in the same loop.

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
Randomness: ``seed`` makes a :class:`numpy.random.Generator` for the micro solver (its
steps and its lifts, ``system.lift(obs, rng=...)``, so a stochastic lift is seeded) and a
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
recording, comparison and spread of an adaptive criterion), measured in the same process, synchronising CUDA when the category changes.
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

from .observers import ParticleMoments, ValueHistogram
from .propagator import Propagator, forecast, make_generators, propagate
from .recording import Recording
from .results import ForecastResult, SpeedupResult, Timings
from .schedule import MACRO, MAX_STEPS, MICRO, Schedule, phase_schedule
from .speedup import (SweepPoint, measure_speedup, rho_sweep, speedup_bound, time_micro_solver,
                      utilisation_speedup_bound)

__all__ = [
    "forecast", "measure_speedup", "time_micro_solver", "make_generators", "phase_schedule",
    "rho_sweep", "speedup_bound", "utilisation_speedup_bound", "SweepPoint",
    "ForecastResult", "SpeedupResult", "Timings", "ParticleMoments", "ValueHistogram",
    "MACRO", "MICRO", "MAX_STEPS", "Schedule", "Recording", "Propagator", "propagate",
]
