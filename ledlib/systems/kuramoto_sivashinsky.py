"""Kuramoto–Sivashinsky micro solver (paper eq. 42, §8.4).

    u_t = -nu u_xxxx - u_xx - u u_x,    x in [0, L) periodic,

discretised with a Fourier pseudo-spectral method on the grid x_j = j L / n and
advanced with the fourth-order exponential time-differencing Runge–Kutta scheme
ETDRK4 of Cox & Matthews (2002), with the phi-functions evaluated by the contour
integrals of Kassam & Trefethen (2005, SIAM J. Sci. Comput. 26:1214).

Choices (and why):

- The real FFT (``rfft``/``irfft``) carries the state as the ``n//2 + 1`` non-negative
  Fourier modes, so the field is real by construction. With a complex FFT roundoff
  breaks Hermitian symmetry, and the spurious imaginary field, invisible to the
  nonlinear term, is amplified by the linearly unstable modes until long runs fail.
- The first derivative of the Nyquist mode (wavenumber ``n/2``) is set to zero: the
  sawtooth ``(-1)^j`` has no odd derivative that is real on the grid. Its even
  derivatives are well defined, so the linear operator keeps the true (strongly
  damping) ``k^2 - nu k^4`` there.
- The nonlinear term is ``-1/2 d/dx (u^2)`` evaluated pseudo-spectrally *without*
  dealiasing, as in the paper's setup; at n=64, L=22 the mean power per mode falls
  from about 10^3 at mode 4 to about 10^-17 at mode 28, so aliasing is negligible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from .base import (
    System,
    as_generator,
    check_positive,
    check_state,
    steps_per,
)
from .._checks import count as check_count

# Points on the upper half of the unit circle used to evaluate the ETDRK4 coefficients
# (the real part of the mean over the half circle equals the mean over the full circle
# of 2*M points because the linear operator is real). The trapezoid rule converges
# geometrically for these entire functions; M=32 gives coefficients at roundoff level.
_CONTOUR_POINTS = 32


@dataclass(frozen=True)
class LyapunovEstimate:
    """Largest Lyapunov exponent from ``n_trajectories`` independent Benettin runs."""

    exponent: float  # mean over trajectories
    stderr: float  # standard error of the mean over trajectories
    per_trajectory: np.ndarray  # (n_trajectories,) finite-time estimates
    t_total: float  # averaging time of each trajectory

    @property
    def lyapunov_time(self) -> float:
        return 1.0 / self.exponent


def _remove_mean(delta: np.ndarray) -> np.ndarray:
    """A perturbation without its spatial mean: the mean of u is conserved (a neutral direction)."""
    return delta - delta.mean(axis=-1, keepdims=True)


class KuramotoSivashinsky(System):
    """Kuramoto–Sivashinsky equation on ``[0, L)`` with ``n`` grid points (ETDRK4).

    Parameters follow the paper: ``L`` domain length, ``n`` grid points (even, >= 8),
    ``nu`` hyperdiffusion coefficient, ``dt`` solver step, ``coarse_dt`` observation
    spacing (a whole multiple of ``dt``). The micro state is the observable: the field
    values ``u(x_j)`` with shape ``(batch, n)``.
    """

    name = "KS"
    stochastic = False

    def __init__(
        self,
        L: float = 22.0,
        n: int = 64,
        nu: float = 1.0,
        dt: float = 0.025,
        coarse_dt: float = 0.25,
    ):
        self.L = check_positive("L", L)
        n = check_count("n", check_positive("n", n, integer=True), per_item=64)  # ETDRK4 keeps ~64 numbers a mode
        if n < 8 or n % 2:
            raise ValueError(f"n must be an even integer >= 8, got {n}")
        self.n = n
        self.nu = check_positive("nu", nu)
        self.dt = check_positive("dt", dt)
        self.coarse_dt = check_positive("coarse_dt", coarse_dt)
        steps_per(self.coarse_dt, self.dt)  # raises if coarse_dt is not a multiple of dt
        self.obs_shape = (n,)
        self.micro_shape = (n,)
        self._precompute()

    # -- ETDRK4 coefficients -------------------------------------------------------
    def _precompute(self) -> None:
        n, h = self.n, self.dt
        m = np.arange(n // 2 + 1)
        self.k = 2.0 * np.pi * m / self.L  # wavenumbers of the rfft modes
        lin = self.k**2 - self.nu * self.k**4  # Fourier symbol of -u_xx - nu u_xxxx
        ik = 1j * self.k
        ik[-1] = 0.0  # Nyquist: no real odd derivative (keeps the scheme exactly real)
        g = -0.5 * ik  # N(u) = -1/2 d/dx (u^2)

        hl = h * lin
        self._E = np.exp(hl)
        self._E2 = np.exp(hl / 2)
        r = np.exp(1j * np.pi * (np.arange(1, _CONTOUR_POINTS + 1) - 0.5) / _CONTOUR_POINTS)
        z = hl[:, None] + r[None, :]
        ez = np.exp(z)
        q = h * np.real(np.mean((np.exp(z / 2) - 1.0) / z, axis=1))
        f1 = h * np.real(np.mean((-4.0 - z + ez * (4.0 - 3.0 * z + z**2)) / z**3, axis=1))
        f2 = h * np.real(np.mean((2.0 + z + ez * (-2.0 + z)) / z**3, axis=1))
        f3 = h * np.real(np.mean((-4.0 - 3.0 * z - z**2 + ez * (4.0 - z)) / z**3, axis=1))
        # Fold the nonlinear symbol g into the coefficients: the stages then only need
        # the transform of u^2, saving one complex multiply per stage.
        self._Qg = q * g
        self._f1g = f1 * g
        self._f2g = 2.0 * f2 * g
        self._f3g = f3 * g

    # -- equation-free operators ---------------------------------------------------
    @property
    def x(self) -> np.ndarray:
        """Grid points ``x_j = j L / n``, ``j = 0..n-1``."""
        return np.arange(self.n) * (self.L / self.n)

    def lift(self, obs, rng=None) -> np.ndarray:
        """Identity (a validated copy): the field is the micro state; ``rng`` is unused."""
        return check_state("obs", obs, self.obs_shape).copy()

    def restrict(self, micro) -> np.ndarray:
        return check_state("micro", micro, self.micro_shape).copy()

    def _advance_steps(self, micro: np.ndarray, t0: float, n_steps: int, rng) -> np.ndarray:
        """``n_steps`` ETDRK4 steps (Cox–Matthews; coefficients as Kassam–Trefethen).

        The state stays in Fourier space between steps; each step costs four
        inverse/forward real-FFT pairs, all vectorised over the batch axis.
        """
        n = self.n
        rfft, irfft = np.fft.rfft, np.fft.irfft
        E, E2, Qg, f1g, f2g, f3g = self._E, self._E2, self._Qg, self._f1g, self._f2g, self._f3g
        v = rfft(micro, axis=-1)
        u = np.empty((micro.shape[0], n))  # physical-space work array
        Ev2 = np.empty_like(v)
        a = np.empty_like(v)
        b = np.empty_like(v)
        c = np.empty_like(v)
        Nv = np.empty_like(v)
        Na = np.empty_like(v)
        Nb = np.empty_like(v)
        Nc = np.empty_like(v)
        tmp = np.empty_like(v)

        def transform_of_square(w, out):
            # FFT of u^2 with u = irfft(w); the factor g sits in the coefficients
            irfft(w, n, axis=-1, out=u)
            np.square(u, out=u)
            rfft(u, axis=-1, out=out)

        for _ in range(n_steps):
            transform_of_square(v, Nv)
            np.multiply(E2, v, out=Ev2)
            np.multiply(Qg, Nv, out=a)
            a += Ev2
            transform_of_square(a, Na)
            np.multiply(Qg, Na, out=b)
            b += Ev2
            transform_of_square(b, Nb)
            # c = E2 a + Q (2 Nb - Nv)
            np.multiply(Nb, 2.0, out=tmp)
            tmp -= Nv
            tmp *= Qg
            np.multiply(E2, a, out=c)
            c += tmp
            transform_of_square(c, Nc)
            # v <- E v + f1 Nv + 2 f2 (Na + Nb) + f3 Nc
            v *= E
            np.multiply(f1g, Nv, out=tmp)
            v += tmp
            Na += Nb
            np.multiply(f2g, Na, out=tmp)
            v += tmp
            np.multiply(f3g, Nc, out=tmp)
            v += tmp
        return irfft(v, n, axis=-1)

    # -- initial conditions ----------------------------------------------------------
    def initial_conditions(self, n: int, seed=0, transient: float = 100.0) -> np.ndarray:
        """``n`` states on the attractor, shape ``(n, self.n)``.

        Each starts as a random smooth zero-mean field made of the linearly unstable
        Fourier modes (``0 < k < 1/sqrt(nu)``; at least mode 1) with seeded complex
        Gaussian amplitudes, scaled to unit RMS, and is then evolved for ``transient``
        time units (a whole number of ``dt``; 0 returns the random fields). For L=22 the
        ensemble's energy and spectrum stop drifting after t of about 30; the default
        100 (about five Lyapunov times) leaves a margin, and the tests check that the
        returned states carry the spectrum of a long trajectory.
        """
        n = check_count("n", check_positive("n", n, integer=True), per_item=self.n)
        rng = as_generator(seed)
        if isinstance(transient, bool) or not isinstance(transient, Real) or not (
            math.isfinite(transient) and transient >= 0
        ):
            raise ValueError(f"transient must be a finite number >= 0, got {transient!r}")
        n_steps = 0 if transient == 0 else steps_per(float(transient), self.dt, name="transient")
        kk = self.k[1:-1]
        n_modes = max(1, int(np.count_nonzero(kk < 1.0 / math.sqrt(self.nu))))
        coef = np.zeros((n, self.n // 2 + 1), dtype=complex)
        # drawn state by state, so the first m of n states do not depend on n
        z = rng.standard_normal((n, n_modes, 2))
        coef[:, 1 : n_modes + 1] = z[..., 0] + 1j * z[..., 1]
        u0 = np.fft.irfft(coef, self.n, axis=-1)
        u0 /= np.sqrt(np.mean(u0**2, axis=-1, keepdims=True))
        if n_steps == 0:
            return u0
        u = self._advance_steps(u0, 0.0, n_steps, None)
        self._check_finite(u, float(transient))
        return u

    # -- diagnostics -----------------------------------------------------------------
    def lyapunov_exponent(
        self,
        t_total: float = 1000.0,
        t_renorm: float = 1.0,
        n_trajectories: int = 8,
        seed=0,
        transient: float = 100.0,
        t_align: float = 50.0,
        eps: float = 1e-7,
    ) -> LyapunovEstimate:
        """Largest Lyapunov exponent by Benettin's two-trajectory method.

        ``n_trajectories`` reference states on the attractor (``initial_conditions``
        with ``transient``) and one partner each, displaced by a random zero-mean
        perturbation of RMS ``eps``, are advanced together in one batch. During the
        first ``t_align`` time units the separation is only renormalised (it turns
        towards the most unstable direction); afterwards, every
        ``t_renorm`` the separation ``d`` is measured (RMS over the grid), ``log(d/eps)``
        accumulated, and the partner pulled back to distance ``eps`` along the current
        separation. The per-trajectory average growth rate over ``t_total`` is returned
        with the mean and its standard error. The loop is
        :func:`ledlib.analysis.lyapunov_exponent` (any deterministic system); this method
        adds the KS choices: references drawn on the attractor and a zero-mean perturbation.
        """
        t_total = check_positive("t_total", t_total)
        t_renorm = check_positive("t_renorm", t_renorm)
        n_traj = check_positive("n_trajectories", n_trajectories, integer=True)
        eps = check_positive("eps", eps)
        steps_per(t_renorm, self.dt, name="t_renorm")  # a whole number of solver steps
        n_renorm = steps_per(t_total, t_renorm, name="t_total")
        if isinstance(t_align, bool) or not isinstance(t_align, Real) or not (
            math.isfinite(t_align) and t_align >= 0
        ):
            raise ValueError(f"t_align must be a finite number >= 0, got {t_align!r}")
        if t_align:
            steps_per(float(t_align), t_renorm, name="t_align")  # named here as in this signature
        from ..analysis import lyapunov_exponent

        # the references come first from the stream, then the partners' perturbation
        # (drawn by analysis.lyapunov_exponent from the same generator): the numbers of
        # the method as it stood before it delegated
        rng = as_generator(seed)
        ref = self.initial_conditions(n_traj, seed=rng, transient=transient)
        return lyapunov_exponent(self, ref, n_renorm * t_renorm, renorm_every=t_renorm, eps=eps, seed=rng,
                                 t_align=float(t_align), neutral=_remove_mean)

    def __repr__(self) -> str:
        return (
            f"KuramotoSivashinsky(L={self.L}, n={self.n}, nu={self.nu}, "
            f"dt={self.dt}, coarse_dt={self.coarse_dt})"
        )
