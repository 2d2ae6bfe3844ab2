"""Kuramoto–Sivashinsky micro solver: accuracy, invariances, long-time behaviour."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from ledlib.systems.kuramoto_sivashinsky import KuramotoSivashinsky


def smooth_ic(L=22.0, n=64, mean=0.0):
    x = np.arange(n) * L / n
    q = 2 * np.pi * x / L
    return (mean + np.cos(q) * (1 + np.sin(q)) + 0.5 * np.sin(2 * q + 1.0))[None]


def trig_differentiation_matrices(L, n):
    """First and second derivative matrices of the periodic trigonometric interpolant
    on n (even) equispaced points, from their closed forms (entries via cot and csc^2)."""
    h = 2 * np.pi / n
    m = np.subtract.outer(np.arange(n), np.arange(n))
    off = m != 0
    sign = np.where(m % 2 == 0, 1.0, -1.0)
    d1 = np.zeros((n, n))
    d2 = np.full((n, n), -np.pi**2 / (3 * h**2) - 1.0 / 6.0)
    d1[off] = 0.5 * sign[off] / np.tan(m[off] * h / 2)
    d2[off] = -0.5 * sign[off] / np.sin(m[off] * h / 2) ** 2
    s = 2 * np.pi / L
    return s * d1, s**2 * d2


# 1. ---------------------------------------------------------------------------------
def test_etdrk4_fourth_order_in_dt():
    # At the paper's step dt=0.025 the scheme is in its asymptotic regime: halving dt
    # twice divides the error by ~2^4 each time (reference: dt/64).
    T, dt = 10.0, 0.025
    u0 = smooth_ic()
    ref = KuramotoSivashinsky(dt=dt / 64, coarse_dt=T).advance(u0, 0.0, T)
    steps = np.array([dt, dt / 2, dt / 4])
    err = [np.max(np.abs(KuramotoSivashinsky(dt=h, coarse_dt=T).advance(u0, 0.0, T) - ref)) for h in steps]
    order = np.polyfit(np.log(steps), np.log(err), 1)[0]
    assert 3.6 <= order <= 4.4, (order, err)
    assert err[0] < 1e-5  # absolute accuracy at the paper's step, |u| ~ 2


# 2. ---------------------------------------------------------------------------------
@pytest.mark.parametrize("L,n", [(22.0, 64), (32 * np.pi, 128)])
def test_agrees_with_independent_method_of_lines(L, n):
    # Method of lines in physical space with closed-form spectral differentiation
    # matrices, integrated by implicit Radau IIA with a tight tolerance.
    nu, T = 1.0, 5.0
    d1, d2 = trig_differentiation_matrices(L, n)
    A = -d2 - nu * d2 @ d2

    def rhs(t, u):
        return A @ u - 0.5 * d1 @ (u * u)

    def jac(t, u):
        return A - d1 * u[None, :]

    u0 = smooth_ic(L, n)
    sol = solve_ivp(rhs, (0.0, T), u0[0], method="Radau", jac=jac, rtol=1e-11, atol=1e-11)
    assert sol.success
    expected = sol.y[:, -1]
    scale = np.max(np.abs(expected))
    # paper step: ETDRK4 error dominates
    got = KuramotoSivashinsky(L=L, n=n, dt=0.025, coarse_dt=0.25).advance(u0, 0.0, T)[0]
    assert np.max(np.abs(got - expected)) / scale < 1e-5
    # finer step: agreement down to the reference integrator's tolerance
    got = KuramotoSivashinsky(L=L, n=n, dt=0.00625, coarse_dt=0.25).advance(u0, 0.0, T)[0]
    assert np.max(np.abs(got - expected)) / scale < 1e-8


# 3. ---------------------------------------------------------------------------------
def _long_run(n_steps, batch):
    ks = KuramotoSivashinsky()
    u0 = ks.initial_conditions(batch, seed=11, transient=0)  # raw random fields
    u = u0
    peak = 0.0
    chunk = 20_000
    done = 0
    while done < n_steps:
        k = min(chunk, n_steps - done)
        u = ks.advance(u, done * ks.dt, (done + k) * ks.dt)  # raises if non-finite
        done += k
        peak = max(peak, np.max(np.abs(u)))
    return u, peak


def test_long_run_stays_bounded_and_chaotic():
    u, peak = _long_run(200_000, batch=1)  # t = 5000
    assert np.all(np.isfinite(u))
    assert peak < 5.0
    # still on the chaotic attractor (not collapsed to u=0 or blown up)
    energy = np.mean(u**2, axis=1)
    assert 0.3 < energy[0] < 4.0, energy


@pytest.mark.slow
def test_million_steps_stay_bounded():
    u, peak = _long_run(1_000_000, batch=1)  # t = 25000
    assert peak < 5.0
    assert 0.3 < np.mean(u**2) < 4.0


# 4. ---------------------------------------------------------------------------------
def test_translation_and_reflection_equivariance():
    ks = KuramotoSivashinsky()
    u0 = ks.initial_conditions(2, seed=4)
    T = 20.0
    out = ks.advance(u0, 0.0, T)
    # shift by one grid cell
    shifted = ks.advance(np.roll(u0, 1, axis=1), 0.0, T)
    np.testing.assert_allclose(shifted, np.roll(out, 1, axis=1), atol=1e-10, rtol=0)
    # u(x) -> -u(-x) is a symmetry of KS; on the grid x_j -> x_{-j mod n}
    reflect = lambda u: -np.roll(u[:, ::-1], 1, axis=1)  # noqa: E731
    np.testing.assert_allclose(ks.advance(reflect(u0), 0.0, T), reflect(out), atol=1e-10, rtol=0)
    # the run is not trivial: the field changed by O(1)
    assert np.max(np.abs(out - u0)) > 0.5


def test_mean_conserved_and_galilean_invariance():
    T = 2.0
    w0 = KuramotoSivashinsky().initial_conditions(1, seed=2)
    errors = []
    for dt in (0.025, 0.00625):
        ks = KuramotoSivashinsky(dt=dt)
        dx = ks.L / ks.n
        c = 3 * dx / T  # the boost carries the pattern exactly three grid cells in time T
        boosted = ks.advance(w0 + c, 0.0, T)
        assert abs(boosted.mean() - c) < 1e-12  # mean of u conserved to roundoff
        # u(x,t) = c + w(x - c t, t) solves KS when w does; the boost's advection
        # -c u_x enters the explicit (nonlinear) part of ETDRK4, so the identity holds
        # up to the O(dt^4) time-stepping error
        expected = c + np.roll(ks.advance(w0, 0.0, T), 3, axis=1)
        errors.append(np.max(np.abs(boosted - expected)))
    assert errors[0] < 1e-5 and errors[1] < 1e-8, errors
    assert errors[0] / errors[1] > 100, errors  # ~4^4
    ks = KuramotoSivashinsky()
    u = ks.advance(smooth_ic(mean=0.7), 0.0, 100.0)
    assert abs(u.mean() - 0.7) < 1e-12


# 5. ---------------------------------------------------------------------------------
def test_largest_lyapunov_exponent_L22():
    # paper: Lambda_1 = 0.048; 16 trajectories x 1000 time units give a standard error
    # of about 0.0015 in the mean.
    est = KuramotoSivashinsky().lyapunov_exponent(t_total=1000.0, t_renorm=5.0, n_trajectories=16, seed=0)
    assert 0.040 <= est.exponent <= 0.056, est
    assert est.stderr < 0.003
    assert 17.8 < est.lyapunov_time < 25.0


# 6. ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(dt=0.0), "dt"),
        (dict(dt=-0.025), "dt"),
        (dict(n=63), "n"),
        (dict(n=6), "n"),
        (dict(L=-1.0), "L"),
        (dict(L=float("nan")), "L"),
        (dict(nu=0.0), "nu"),
        (dict(coarse_dt=0.26), "coarse_dt"),
        (dict(coarse_dt=0.0), "coarse_dt"),
    ],
)
def test_bad_parameters_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        KuramotoSivashinsky(**kwargs)


def test_bad_inputs_raise():
    with pytest.raises(TypeError, match="n"):
        KuramotoSivashinsky(n=64.0)
    ks = KuramotoSivashinsky()
    with pytest.raises(ValueError, match="shape"):
        ks.advance(np.zeros((2, 63)), 0.0, 1.0)
    with pytest.raises(ValueError, match="shape"):
        ks.advance(np.zeros(64), 0.0, 1.0)
    bad = np.zeros((1, 64))
    bad[0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ks.advance(bad, 0.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        ks.simulate(bad, 3)
    with pytest.raises(ValueError, match="t - t0"):
        ks.advance(np.zeros((1, 64)), 0.0, 0.01)
    with pytest.raises(ValueError, match="n must be a positive"):
        ks.initial_conditions(0)
    with pytest.raises(ValueError, match="transient"):
        ks.initial_conditions(2, transient=-1.0)
    with pytest.raises(ValueError, match="transient"):
        ks.initial_conditions(2, transient=0.01)
    with pytest.raises(ValueError, match="t_renorm"):
        ks.lyapunov_exponent(t_renorm=0.01)


# 7. ---------------------------------------------------------------------------------
def test_simulate_matches_advance_at_coarse_times():
    ks = KuramotoSivashinsky()
    x0 = ks.initial_conditions(3, seed=1)
    traj = ks.simulate(x0, 8)
    assert traj.shape == (3, 9, 64)
    np.testing.assert_array_equal(traj[:, 0], x0)
    for j in (1, 4, 8):
        np.testing.assert_allclose(traj[:, j], ks.advance(x0, 0.0, j * ks.coarse_dt), atol=1e-11, rtol=0)
    # autonomous: the start time does not matter
    np.testing.assert_allclose(ks.advance(x0, 7.5, 8.0), traj[:, 2], atol=1e-11, rtol=0)
    # lift/restrict are identity copies
    y = ks.lift(x0)
    assert y is not x0
    np.testing.assert_array_equal(ks.restrict(y), x0)


# extras -------------------------------------------------------------------------------
def test_initial_conditions_are_on_the_attractor():
    ks = KuramotoSivashinsky()
    ics = ks.initial_conditions(32, seed=7)
    assert abs(ics.mean()) < 1e-12
    # seeded: same seed, same states; other seed, other states
    np.testing.assert_array_equal(ks.initial_conditions(2, seed=7), ics[:2])
    assert np.max(np.abs(ks.initial_conditions(2, seed=8) - ics[:2])) > 0.1
    # the ensemble's mean power spectrum matches the time average along one long
    # trajectory (raw random fields would have no power beyond mode 3)
    long = ks.simulate(ks.initial_conditions(1, seed=99), 2400)[0, 400::4]  # t in [100, 600]
    spec = lambda u: np.mean(np.abs(np.fft.rfft(u, axis=-1)) ** 2, axis=0)  # noqa: E731
    modes = slice(1, 17)
    ratio = spec(ics)[modes] / spec(long)[modes]
    assert np.all((ratio > 0.4) & (ratio < 2.5)), ratio


def test_grid_and_kassam_trefethen_case():
    ks = KuramotoSivashinsky(L=32 * np.pi, n=128)
    assert ks.obs_shape == (128,)
    np.testing.assert_allclose(ks.x[1] - ks.x[0], 32 * np.pi / 128)
    x = ks.x[None]
    u0 = np.cos(x / 16) * (1 + np.sin(x / 16))  # the Kassam–Trefethen initial condition
    u = ks.advance(u0, 0.0, 150.0)
    assert np.all(np.isfinite(u)) and 1.0 < np.max(np.abs(u)) < 5.0


# 9. ---------------------------------------------------------------------------------
def _benettin_reference(ks, t_total, t_renorm, n_traj, seed, transient, t_align, eps):
    """The two-trajectory loop as the KS method ran it before it delegated to
    ledlib.analysis.lyapunov_exponent: same draws, same steps, written out here."""
    rng = np.random.default_rng(seed)
    ref = ks.initial_conditions(n_traj, seed=rng, transient=transient)
    delta = rng.standard_normal(ref.shape)
    delta -= delta.mean(axis=-1, keepdims=True)
    delta *= eps / np.sqrt(np.mean(delta**2, axis=-1, keepdims=True))
    state = np.concatenate([ref, ref + delta])
    k, n_renorm, n_align = round(t_renorm / ks.dt), round(t_total / t_renorm), round(t_align / t_renorm)
    log_growth = np.zeros(n_traj)
    for j in range(1, n_align + n_renorm + 1):
        state = ks._advance_steps(state, 0.0, k, None)
        sep = state[n_traj:] - state[:n_traj]
        d = np.sqrt(np.mean(sep**2, axis=-1))
        if j > n_align:
            log_growth += np.log(d / eps)
        state[n_traj:] = state[:n_traj] + sep * (eps / d)[:, None]
    return log_growth / (n_renorm * t_renorm)


@pytest.mark.parametrize("kw", [dict(t_total=40.0, t_renorm=1.0, n_traj=3, seed=0, transient=100.0, t_align=50.0,
                                     eps=1e-7),
                                dict(t_total=30.0, t_renorm=0.5, n_traj=2, seed=5, transient=20.0, t_align=10.0,
                                     eps=1e-6)])
def test_lyapunov_method_is_the_generic_estimator_with_the_same_numbers(kw):
    # the method is a thin wrapper over analysis.lyapunov_exponent; same seed, same number
    ks = KuramotoSivashinsky()
    per = _benettin_reference(ks, **kw)
    est = ks.lyapunov_exponent(t_total=kw["t_total"], t_renorm=kw["t_renorm"], n_trajectories=kw["n_traj"],
                               seed=kw["seed"], transient=kw["transient"], t_align=kw["t_align"], eps=kw["eps"])
    np.testing.assert_array_equal(est.per_trajectory, per)
    assert est.exponent == float(per.mean())
    assert est.stderr == pytest.approx(per.std(ddof=1) / np.sqrt(kw["n_traj"]), rel=1e-12)
    assert est.t_total == kw["t_total"]
    with pytest.raises(ValueError, match="t_align"):
        ks.lyapunov_exponent(t_total=10.0, t_align=0.3)
    with pytest.raises(ValueError, match="t_total"):
        ks.lyapunov_exponent(t_total=10.5, t_renorm=1.0)
