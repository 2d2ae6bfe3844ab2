"""Statistics of particle ensembles: the exact law of one particle and the moment study.

- :func:`em_particle_law`: the exact law of one particle of the micro solver, i.e. of the
  Euler–Maruyama chain with mirror reflection that :class:`~ledlib.systems.AdvectionDiffusion`
  runs, on a grid, per axis. The particles do not interact, so after the chain has
  forgotten where it started every particle of every run is an independent draw from this
  law; the statistics over runs of the finite-N moments M1, M2 then follow by sampling
  (:func:`sample_moments`) at the cost of drawing N positions, not of simulating them.
  What it does not give: correlations between times within one run (the studies of the
  paper do not use them). :func:`law_mixing_distance` measures how well the start is
  forgotten.
- :func:`moment_study`: the statistical study of Figures 3, 19–20 and 25–26 (LED ensembles
  from several initial conditions, the M1/M2 of every run at the recorded times, the
  ground-truth ensembles, and the WD / L1 errors of the distributions over runs).
- :func:`eigengap`: how many clusters a point cloud supports, from the spectrum of the
  affinity that :func:`ledlib.analysis.spectral_labels` clusters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from scipy import fft as sfft
from scipy.linalg import eigh

from .metrics import moment_distribution_errors, sampling_floor
from ._checks import child_seed
from ._checks import seed as _check_seed

__all__ = ["ParticleLaw", "em_particle_law", "sample_moments", "law_mixing_distance", "MomentStudy",
           "moment_study", "eigengap"]


def _check_particle_system(system) -> None:
    for attr in ("L", "D", "dt", "A", "omega", "dim"):
        if getattr(system, attr, None) is None:
            raise TypeError(f"system must be an AdvectionDiffusion-like system with attribute {attr!r}, "
                            f"got {type(system).__name__}")


def _positions(name: str, x, dim: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] != dim or x.shape[1] < 1 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n_ic, N, {dim}) with n_ic, N >= 1, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


@dataclass
class ParticleLaw:
    """Law of one particle on a grid: ``prob (n_ic, n_times, dim, n_cells)`` (cell masses,
    each row summing to 1) on the cells between ``edges`` (n_cells + 1,), at ``times``."""

    edges: np.ndarray
    prob: np.ndarray
    times: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    def mean(self) -> np.ndarray:
        """Mean position ``(n_ic, n_times, dim)``."""
        return (self.prob * self.centres).sum(-1)

    def var(self) -> np.ndarray:
        """Variance of the position ``(n_ic, n_times, dim)`` (cell masses at the centres)."""
        return (self.prob * self.centres**2).sum(-1) - self.mean() ** 2


def em_particle_law(system, x0, t0: float, times, *, n_cells: int | None = None, mixed_from: float | None = None,
                    progress: bool = False) -> ParticleLaw:
    """Law of one particle of the micro solver, per axis, at the absolute ``times``.

    The solver's step ``x <- R(x + A cos(omega t_k) dt + sqrt(D dt) xi)`` (``R`` the mirror
    fold into ``[-L/2, L/2]``) maps the law ``p`` of a particle to ``f(x) = h(x) + h(L - x)``
    with ``h = p * g`` the convolution with the step's Gaussian ``g`` on the circle of
    length ``2L`` (``p`` zero-padded on ``[L/2, 3L/2]``): the fold identifies the images of
    the triangle wave. One step is one FFT pair, so the chain is exact on the grid, with
    the solver's own ``dt`` (the Euler–Maruyama bias is kept, as it must be: the chain is
    the law of *this* solver, not of the SDE's limit). Axes are independent; an axis with
    ``A = 0`` has a symmetric kernel, its steps commute with the fold, and its law at any
    time is one convolution (no stepping).

    ``x0 (n_ic, N, dim)``: each initial condition's particles at ``t0`` (their histogram
    starts the chain, i.e. the law of a particle picked at random). ``times``: absolute
    times on the solver grid, ``>= t0``. ``n_cells``: cells on the box (default: a power of
    two with at least six per step's standard deviation). ``mixed_from`` (default
    ``times[0]``): from this time on the law is taken as time-periodic, ``law(t) =
    law(t - m 2 pi / omega)``, which holds once the chain has forgotten its start (check
    with :func:`law_mixing_distance`); times beyond the first period are then read off the
    first period, interpolated linearly between the two neighbouring solver steps
    (error O(dt^2)). ``mixed_from=math.inf`` steps through every time.
    """
    _check_particle_system(system)
    dim = int(system.dim)
    x0 = _positions("x0", x0, dim)
    n_ic = x0.shape[0]
    L, D, dt = float(system.L), float(system.D), float(system.dt)
    A, omega = np.asarray(system.A, dtype=float), np.asarray(system.omega, dtype=float)
    if isinstance(t0, bool) or not isinstance(t0, Real) or not math.isfinite(t0):
        raise ValueError(f"t0 must be a finite real number, got {t0!r}")
    times = np.asarray(times, dtype=np.float64).ravel()
    if times.size == 0 or not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0) or times[0] < t0:
        raise ValueError(f"times must be a non-empty sorted sequence of finite times >= t0={t0}")
    q_all = (times - t0) / dt
    if np.any(np.abs(q_all - np.rint(q_all)) > 1e-6 * np.maximum(1.0, q_all)):
        raise ValueError(f"times must lie on the solver grid t0 + k dt (dt={dt})")
    sigma = math.sqrt(D * dt)
    if n_cells is None:
        n_cells = 1 << max(6, math.ceil(math.log2(6.0 * L / sigma)))
    if isinstance(n_cells, bool) or not isinstance(n_cells, Integral) or n_cells < 8:
        raise ValueError(f"n_cells must be an integer >= 8, got {n_cells!r}")
    n_cells = int(n_cells)
    if mixed_from is not None and (isinstance(mixed_from, bool) or not isinstance(mixed_from, Real)
                                   or math.isnan(mixed_from) or mixed_from < t0):
        raise ValueError(f"mixed_from must be a real number >= t0={t0} (math.inf: no periodic read-off), "
                         f"got {mixed_from!r}")
    mixed_from = times[0] if mixed_from is None else float(mixed_from)
    h = L / n_cells
    edges = np.linspace(-L / 2, L / 2, n_cells + 1)
    idx = np.clip(((x0 + L / 2) / h).astype(np.int64), 0, n_cells - 1)
    p0 = np.stack([np.stack([np.bincount(idx[i, :, k], minlength=n_cells) for k in range(dim)])
                   for i in range(n_ic)]).astype(np.float64) / x0.shape[1]  # (n_ic, dim, n_cells)
    out = np.zeros((n_ic, times.size, dim, n_cells))
    k0 = math.pi / L  # fundamental wavenumber of the circle of length 2L
    wav = k0 * np.arange(n_cells + 1)
    mirror = slice(2 * n_cells - 1, n_cells - 1, -1)  # cell i of the box <-> its image about L/2

    def pad(p):
        z = np.zeros(p.shape[:-1] + (2 * n_cells,))
        z[..., :n_cells] = p
        return z

    # axes without drift: one symmetric convolution per time (variance D dt per step)
    still = [k for k in range(dim) if A[k] == 0.0]
    for k in still:
        P = sfft.rfft(pad(p0[:, k]) + pad(p0[:, k])[..., ::-1], axis=-1)  # symmetric extension
        for i, q in enumerate(np.rint(q_all)):
            f = sfft.irfft(P * np.exp(-0.5 * D * dt * q * wav**2), n=2 * n_cells, axis=-1)
            out[:, i, k] = f[:, :n_cells]

    # axes with drift: step the chain; rows are (initial condition, axis)
    moving = [k for k in range(dim) if A[k] != 0.0]
    if moving:
        # where each (time, axis) is read: step lo with weight 1 - w and lo + 1 with weight w
        reads: dict[int, list] = {}
        for k in moving:
            period = 2 * math.pi / abs(omega[k]) if omega[k] != 0 else math.inf
            for i, t in enumerate(times):
                if t - mixed_from >= period:
                    t = t - math.floor((t - mixed_from) / period) * period
                q = (t - t0) / dt
                lo = int(math.floor(q + 1e-9))
                w = q - lo if q - lo > 1e-9 else 0.0
                reads.setdefault(lo, []).append((i, k, 1.0 - w))
                if w > 0:
                    reads.setdefault(lo + 1, []).append((i, k, w))
        n_steps = max(reads)
        rows_A = np.tile(A[moving], n_ic)
        rows_w = np.tile(omega[moving], n_ic)
        row_of = {k: j for j, k in enumerate(moving)}
        p = pad(p0[:, moving].reshape(n_ic * len(moving), n_cells))
        damp = np.exp(-0.5 * sigma**2 * wav**2)
        block = max(1, (1 << 20) // (p.shape[0] * (n_cells + 1)))  # steps whose multipliers are made at once

        def read(step):
            box = np.maximum(p[:, :n_cells], 0.0).reshape(n_ic, len(moving), n_cells)
            for i, k, w in reads.get(step, ()):
                out[:, i, k] += w * box[:, row_of[k]]

        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=n_steps, desc="particle law", leave=False, mininterval=1.0)
        read(0)
        for j0 in range(0, n_steps, block):
            js = np.arange(j0, min(n_steps, j0 + block))
            mu = rows_A * np.cos(np.multiply.outer(t0 + js * dt, rows_w)) * dt  # the solver's drift at t_j
            # multiplier damp * exp(-i m k0 mu), m = 0..n_cells, by a running product over m
            mult = np.empty((js.size, p.shape[0], n_cells + 1), dtype=complex)
            mult[..., 0] = 1.0
            mult[..., 1:] = np.exp(-1j * k0 * mu)[..., None]
            np.cumprod(mult, axis=-1, out=mult)
            mult *= damp
            for b, j in enumerate(js):
                f = sfft.irfft(sfft.rfft(p, axis=1) * mult[b], n=2 * n_cells, axis=1)
                np.add(f[:, :n_cells], f[:, mirror], out=p[:, :n_cells])
                if j + 1 in reads:
                    read(j + 1)
            if bar is not None:
                bar.update(js.size)
        if bar is not None:
            bar.close()
    np.maximum(out, 0.0, out=out)  # FFT round-off
    out /= out.sum(axis=-1, keepdims=True)
    return ParticleLaw(edges, out, times)


def sample_moments(law: ParticleLaw, n_runs: int, n_particles: int, *, seed: int, ic: int = 0) -> tuple:
    """M1, M2 of ``n_runs`` configurations of ``n_particles`` independent draws from the law
    of initial condition ``ic`` at every time: two arrays ``(n_runs, n_times, dim)``.

    Positions are drawn by inverting the piecewise-uniform CDF; M2 is the variance over
    the particles (1/N), as :class:`ledlib.forecast.ParticleMoments`.
    """
    for name, v in (("n_runs", n_runs), ("n_particles", n_particles)):
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if not isinstance(ic, Integral) or not 0 <= ic < law.prob.shape[0]:
        raise ValueError(f"ic must be an index in [0, {law.prob.shape[0] - 1}], got {ic!r}")
    rng = np.random.default_rng(_check_seed(seed))
    prob = law.prob[ic]  # (T, dim, n)
    T, dim, n = prob.shape
    h = law.edges[1] - law.edges[0]
    m1 = np.empty((n_runs, T, dim))
    m2 = np.empty((n_runs, T, dim))
    # One search for a block of times: the CDF of time s is shifted up by s, so that the
    # concatenation is monotone and u + s falls in the block of time s.
    chunk = max(1, (1 << 22) // (n_runs * n_particles))
    cdf = np.concatenate([np.zeros((T, dim, 1)), np.cumsum(prob, axis=-1)], axis=-1)
    cdf[..., -1] = 1.0
    for k in range(dim):
        for s0 in range(0, T, chunk):
            s = np.arange(s0, min(T, s0 + chunk))
            c = (cdf[s, k] + np.arange(s.size)[:, None]).ravel()  # (len(s) * (n + 1),)
            u = rng.random((s.size, n_runs, n_particles))
            u_shift = u + np.arange(s.size)[:, None, None]
            pos = np.searchsorted(c, u_shift, side="right") - 1
            cell = pos - np.arange(s.size)[:, None, None] * (n + 1)
            cell = np.clip(cell, 0, n - 1)
            lo = c[np.arange(s.size)[:, None, None] * (n + 1) + cell] - np.arange(s.size)[:, None, None]
            width = prob[s[:, None, None], k, cell]
            frac = np.clip((u - lo) / np.maximum(width, 1e-300), 0.0, 1.0)
            x = law.edges[cell] + frac * h
            m1[:, s, k] = x.mean(axis=-1).T
            m2[:, s, k] = x.var(axis=-1).T
    return m1, m2


def law_mixing_distance(system, t0: float, duration: float, *, n_cells: int | None = None) -> float:
    """Total-variation distance, after ``duration``, between the laws of two particles that
    started at opposite corners of the box at ``t0`` (largest over the axes).

    Near 0: the chain has forgotten its start, so every particle of every run follows the
    same law and :func:`em_particle_law` with :func:`sample_moments` gives the statistics
    of the runs exactly.
    """
    _check_particle_system(system)
    if isinstance(duration, bool) or not isinstance(duration, Real) or not math.isfinite(duration) or duration < 0:
        raise ValueError(f"duration must be a finite real number >= 0, got {duration!r}")
    h = 0.5 * float(system.L) * (1 - 1e-9)
    corners = np.array([[[-h] * system.dim], [[h] * system.dim]])
    t1 = t0 + round(duration / system.dt) * system.dt
    law = em_particle_law(system, corners, t0, [t1], n_cells=n_cells, mixed_from=math.inf)
    return float(0.5 * np.abs(law.prob[0, 0] - law.prob[1, 0]).sum(axis=-1).max())


@dataclass
class MomentStudy:
    """Result of :func:`moment_study`.

    ``times`` (after the warm-up, ``t - t_start``); ``pred[label]`` and ``true``: dicts
    ``{"M1": (n_ic, runs, T), "M2": ...}``; ``errors[label][moment] = {"wd": (T,), "l1":
    (T,)}`` (mean over the initial conditions) and ``floor[moment]`` the same for two
    independent halves of the ground truth; ``wall[label]`` seconds of LED's forecast.
    """

    times: np.ndarray
    pred: dict
    true: dict
    errors: dict
    floor: dict
    wall: dict = field(default_factory=dict)
    mixing_tv: float = float("nan")

    def summary(self) -> dict:
        """Errors averaged over time: ``{label: {moment: {"wd": float, "l1": float}}}`` and ``"floor"``."""
        mean = {lab: {m: {k: float(np.mean(v)) for k, v in e.items()} for m, e in err.items()}
                for lab, err in self.errors.items()}
        mean["floor"] = {m: {k: float(np.mean(v)) for k, v in e.items()} for m, e in self.floor.items()}
        return mean


def moment_study(model, system, groups, variants: dict, *, T_warm: float, horizon: float, n_runs: int,
                 record_every: int, seed: int, progress: bool = False) -> MomentStudy:
    """Statistical study of LED on advection–diffusion (Figures 3, 19–20, 25–26).

    ``groups``: list of ``(t0, x0 (n, N, dim))``, initial conditions sharing an absolute time.
    ``variants``: ``label -> (T_m, T_mu)`` (``T_mu = 0``: latent propagation). Every variant
    runs ``n_runs`` LED forecasts per initial condition (:func:`ledlib.forecast.forecast`,
    one batch per group, the same seed for every variant) and records M1 and M2 (averaged
    over the axes) every ``record_every`` coarse steps. The ground truth is ``2 n_runs``
    configurations per initial condition drawn from the micro solver's law
    (:func:`em_particle_law`, :func:`sample_moments`): the first ``n_runs`` are compared
    with LED, and the two halves with each other give the sampling floor.
    """
    import time

    from .forecast import ParticleMoments, forecast

    _check_particle_system(system)
    if not groups:
        raise ValueError("groups must hold at least one (t0, x0) pair")
    if not variants:
        raise ValueError("variants must hold at least one label -> (T_m, T_mu)")
    pred = {lab: {"M1": [], "M2": []} for lab in variants}
    true = {"M1": [], "M2": []}
    wall = dict.fromkeys(variants, 0.0)
    times = None
    truth_seeds = child_seed(seed, "truth-samples").spawn(len(groups))  # one stream per group
    for g, (t0, x0) in enumerate(groups):
        x0 = _positions(f"groups[{g}] x0", x0, system.dim)
        for lab, (T_m, T_mu) in variants.items():
            obs = ParticleMoments(average_dims=True, dtype=np.float64)
            start = time.perf_counter()
            res = forecast(model, system, x0, horizon, T_warm=T_warm, T_m=T_m if T_mu else None, T_mu=T_mu,
                           n_runs=n_runs, t0=t0, seed=seed + g, record_at=record_every, keep_states=False,
                           keep_latents="none", observers=[obs], progress=progress)
            wall[lab] += time.perf_counter() - start
            pred[lab]["M1"].append(obs.m1)
            pred[lab]["M2"].append(obs.m2)
        law = em_particle_law(system, x0.reshape(1, -1, system.dim), t0, res.times, progress=progress)
        m1, m2 = sample_moments(law, 2 * n_runs * x0.shape[0], x0.shape[1], seed=truth_seeds[g])
        true["M1"].append(m1.mean(-1).reshape(x0.shape[0], 2 * n_runs, -1))
        true["M2"].append(m2.mean(-1).reshape(x0.shape[0], 2 * n_runs, -1))
        times = res.times - res.t_start
    pred = {lab: {m: np.concatenate(v) for m, v in d.items()} for lab, d in pred.items()}
    true = {m: np.concatenate(v) for m, v in true.items()}

    def per_ic_mean(fn, *arrays):
        parts = [fn(*(a[i] for a in arrays)) for i in range(arrays[0].shape[0])]
        return {k: np.mean([p[k] for p in parts], axis=0) for k in parts[0]}

    errors = {lab: {m: per_ic_mean(moment_distribution_errors, true[m][:, :n_runs], d[m]) for m in d}
              for lab, d in pred.items()}
    floor = {m: per_ic_mean(lambda tr: sampling_floor(tr, moment_distribution_errors, seed=seed), true[m])
             for m in true}
    return MomentStudy(times, pred, true, errors, floor, wall)


def eigengap(x, k_max: int = 10, *, n_neighbors: int = 7, max_points: int = 2000, seed: int = 0):
    """Number of clusters by the eigengap heuristic (von Luxburg 2007, §8.3).

    Builds the locally scaled affinity of :func:`ledlib.analysis.spectral_labels` on a
    seeded subsample of at most ``max_points`` points of ``x (n, d)``, takes the largest
    ``k_max + 1`` eigenvalues ``1 = l_1 >= l_2 >= ...`` of ``D^-1/2 A D^-1/2`` and returns
    ``(k, eigenvalues)`` with ``k`` in ``2..k_max`` maximising the gap ``l_k - l_{k+1}``:
    ``k`` nearly disconnected groups give ``k`` eigenvalues close to 1.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite (n, d) array, got shape {x.shape}")
    if isinstance(k_max, bool) or not isinstance(k_max, Integral) or not 2 <= k_max < x.shape[0] - 1:
        raise ValueError(f"k_max must be an integer in [2, n_points - 2 = {x.shape[0] - 2}], got {k_max!r}")
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, Integral) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be an integer >= 1, got {n_neighbors!r}")
    if isinstance(max_points, bool) or not isinstance(max_points, Integral) or max_points < k_max + 2:
        raise ValueError(f"max_points must be an integer >= k_max + 2 = {k_max + 2}, got {max_points!r}")
    rng = np.random.default_rng(_check_seed(seed))
    if x.shape[0] > max_points:
        x = x[np.sort(rng.choice(x.shape[0], size=max_points, replace=False))]
    m = x.shape[0]
    sq = np.einsum("ij,ij->i", x, x)
    d2 = np.maximum(sq[:, None] - 2.0 * x @ x.T + sq[None, :], 0.0)
    np.fill_diagonal(d2, 0.0)
    nn = min(n_neighbors, m - 1)
    s = np.sqrt(np.partition(d2, nn, axis=1)[:, nn])
    s = np.maximum(s, 1e-12 * max(float(s.max()), 1e-300))
    aff = np.exp(-d2 / np.outer(s, s))
    np.fill_diagonal(aff, 0.0)
    dm = 1.0 / np.sqrt(np.maximum(aff.sum(axis=1), 1e-300))
    lam = eigh(dm[:, None] * aff * dm[None, :], eigvals_only=True, subset_by_index=[m - k_max - 1, m - 1])[::-1]
    gaps = lam[1:k_max] - lam[2:k_max + 1]  # gap after the k-th eigenvalue, k = 2..k_max
    return int(np.argmax(gaps)) + 2, lam
