"""FitzHugh–Nagumo lattice-Boltzmann micro solver (paper §8.3.1) and its FD reference.

The lattice-Boltzmann (LB) solution is checked against an independent method-of-lines
finite-difference (FD) solution of the PDE, against the exact Gaussian solution of pure
diffusion, and for the conservation properties of its two wall treatments.
"""

from __future__ import annotations

import numpy as np
import pytest

from ledlib.systems.base import NonFiniteStateError
from ledlib.systems.fhn_reference import neumann_laplacian, solve_fhn_pde
from ledlib.systems.fitzhugh_nagumo import (
    FitzHughNagumo,
    check_relaxation_rate,
    load_paper_initial_conditions,
    relaxation_rate,
)

BOUNDARIES = ["paper", "bounce-back"]


def rel_l2(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def lb_run(system, x0, times):
    """LB observables of one initial state ``(2, n)`` at integer ``times``."""
    tr = system.simulate(x0[None], max(times))[0]
    return {t: tr[t] for t in times}


@pytest.fixture(scope="module")
def paper_ics():
    return FitzHughNagumo().paper_initial_conditions()


# -- scheme ---------------------------------------------------------------------------
def test_relaxation_rate_gives_the_diffusivity():
    # Chapman–Enskog for the equal-weight D1Q3 BGK model: D = (2/3)(1/omega - 1/2) dx^2/dt.
    for D, dt, dx in [(1.0, 0.005, 0.2), (4.0, 0.005, 0.2), (0.3, 1e-3, 0.05)]:
        omega = relaxation_rate(D, dt, dx)
        assert 0 < omega < 2
        assert (2.0 / 3.0) * (1.0 / omega - 0.5) * dx**2 / dt == pytest.approx(D, rel=1e-14)
    fhn = FitzHughNagumo()
    assert fhn.dx == pytest.approx(0.2)
    assert fhn.omega_u == pytest.approx(2 / 1.375) and fhn.omega_v == pytest.approx(0.8)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_gaussian_diffusion_is_second_order(boundary):
    """Reaction off, a Gaussian far from the walls: the LB densities converge to the exact
    heat-kernel solution at second order under n -> 2n-1, dt -> dt/4 (measured ratio
    4.00), which checks the relaxation rates of eq. (39) independently of the FD solver."""
    errors = []
    for n, dt in [(201, 0.005), (401, 0.005 / 4)]:
        s = FitzHughNagumo(L=40.0, n=n, dt=dt, boundary=boundary, reaction=False)

        def gauss(t, D):
            var = 1.0 + 2.0 * D * t
            return np.exp(-((s.x - 20.0) ** 2) / (2 * var)) / np.sqrt(var)

        x0 = np.stack([gauss(0.0, s.du), gauss(0.0, s.dv)])[None]
        y = s.restrict(s.advance(s.lift(x0), 0.0, 2.0))[0]
        exact = np.stack([gauss(2.0, s.du), gauss(2.0, s.dv)])
        errors.append([rel_l2(y[c], exact[c]) for c in range(2)])
    errors = np.array(errors)
    assert np.all(errors[0] < 2e-3)
    ratio = errors[0] / errors[1]
    assert np.all((ratio > 3.7) & (ratio < 4.3)), ratio


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_lb_matches_finite_difference_pde(boundary, paper_ics):
    """LB vs the FD solution of eq. (29) from the paper's IC 0 on the same 101 nodes.

    Measured relative L2 errors (u, v): t=5: 0.15%, 0.72% (paper), 0.15%, 0.50%
    (bounce-back); t=20: 0.68%, 1.15% (paper), 0.38%, 0.71% (bounce-back). The FD
    solution is itself ~0.1% from the converged PDE, so the gap is the O(dx) LB wall
    error. The bounds leave about 2x margin; a 10% error in dv or eps moves v by 2–4%
    at t=20, so they would catch a wrong relaxation rate or reaction term."""
    fhn = FitzHughNagumo(boundary=boundary)
    x0 = paper_ics[0]
    lb = lb_run(fhn, x0, [5, 20])
    u, v = solve_fhn_pde(x0[0], x0[1], [0.0, 5.0, 20.0])
    tol = {5: (0.005, 0.015), 20: (0.015, 0.02)}
    for j, t in [(1, 5), (2, 20)]:
        assert rel_l2(lb[t][0], u[j]) < tol[t][0], (t, rel_l2(lb[t][0], u[j]))
        assert rel_l2(lb[t][1], v[j]) < tol[t][1], (t, rel_l2(lb[t][1], v[j]))


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_refinement_reduces_discrepancy(boundary):
    """Diffusive refinement (n=101 -> 201, dt -> dt/4, omega fixed) against the FD
    solution on 401 nodes (converged to ~1e-4): the activator error shrinks ~3.6x at
    t=2 (interior second order), the inhibitor error ~2.0x (first-order walls), and both
    shrink ~2x at t=20."""
    truth_sys = FitzHughNagumo(n=401)
    x_fine = truth_sys.paper_initial_conditions()[0]
    u4, v4 = solve_fhn_pde(x_fine[0], x_fine[1], [0.0, 2.0, 20.0], rtol=1e-10, atol=1e-12)
    errs = []
    for n, dt in [(101, 0.005), (201, 0.005 / 4)]:
        s = FitzHughNagumo(n=n, dt=dt, boundary=boundary)
        stride = 400 // (n - 1)
        lb = lb_run(s, s.paper_initial_conditions()[0], [2, 20])
        errs.append(
            [
                [rel_l2(lb[t][c], ref[j, ::stride]) for c, ref in enumerate((u4, v4))]
                for j, t in [(1, 2), (2, 20)]
            ]
        )
    errs = np.array(errs)  # (refinement, time, species)
    ratio = errs[0] / errs[1]
    assert ratio[0, 0] > 3.0, ratio  # activator, t=2: near second order
    assert np.all(ratio > 1.7), ratio  # everything at least first order


# -- conservation and the wall treatments -----------------------------------------------
def test_bounce_back_conserves_mass_without_reaction(paper_ics):
    fhn = FitzHughNagumo(boundary="bounce-back", reaction=False)
    tr = fhn.simulate(paper_ics, 20)
    mass = tr.sum(axis=-1)  # (6, 21, 2)
    scale = np.abs(paper_ics).sum(axis=-1)  # (6, 2)
    drift = np.abs(mass - mass[:, :1]) / scale[:, None, :]
    assert drift.max() < 1e-12
    # ... and the profile did evolve (so conservation is not trivial)
    assert rel_l2(tr[0, -1], paper_ics[0]) > 0.05


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_mass_changes_exactly_by_the_reaction(boundary, paper_ics):
    """With bounce-back walls each step changes sum_j rho_j by dt sum_j R(u_j, v_j)
    exactly (eqs. 30–34: R/3 dt on each of the three populations). The paper walls
    add their O(dx) wall flux on top."""
    fhn = FitzHughNagumo(boundary=boundary)
    micro = fhn.advance(fhn.lift(paper_ics), 0.0, 1.0)  # relaxed populations
    u, v = fhn.restrict(micro).transpose(1, 0, 2)
    after = fhn.restrict(fhn.advance(micro, 1.0, 1.0 + fhn.dt))
    r_u = (u - u**3 - v).sum(-1) * fhn.dt
    r_v = fhn.eps * (u - fhn.a1 * v - fhn.a0).sum(-1) * fhn.dt
    d_u = after[:, 0].sum(-1) - u.sum(-1)
    d_v = after[:, 1].sum(-1) - v.sum(-1)
    if boundary == "bounce-back":
        np.testing.assert_allclose(d_u, r_u, rtol=0, atol=1e-12)
        np.testing.assert_allclose(d_v, r_v, rtol=0, atol=1e-13)
    else:
        assert np.max(np.abs(d_u - r_u)) > 1e-8  # the paper walls are not conservative


def test_paper_walls_leak_documented_amount(paper_ics):
    """Reaction off, t=20, the paper's six ICs: measured inhibitor mass change relative
    to the initial inhibitor mass -0.60, -0.71, +0.51, +2.46, -0.64, +0.50 % (the
    absolute change dx*sum v is -0.007..-0.012 for all six). The leak is a first-order
    wall error: it halves under n -> 2n-1, dt -> dt/4 (measured ratio 2.0)."""
    leaks = []
    for n, dt in [(101, 0.005), (201, 0.005 / 4)]:
        fhn = FitzHughNagumo(n=n, dt=dt, boundary="paper", reaction=False)
        x0 = fhn.paper_initial_conditions()
        end = fhn.restrict(fhn.advance(fhn.lift(x0), 0.0, 20.0))
        m0 = x0.sum(-1) * fhn.dx
        leaks.append((end.sum(-1) * fhn.dx - m0) / np.abs(m0))
    rel_v = np.abs(leaks[0][:, 1])
    assert np.all((rel_v > 0.003) & (rel_v < 0.04)), rel_v
    assert 0.015 < rel_v.max() < 0.04  # IC 3: "a few percent"
    assert 0.004 < rel_v[0] < 0.008  # IC 0, the value quoted in the docstring
    ratio = np.abs(leaks[0]) / np.abs(leaks[1])
    assert np.all((ratio > 1.7) & (ratio < 2.3)), ratio


def equilibria(a0, a1):
    """Uniform steady states: u - u^3 - v = 0 and u - a1 v - a0 = 0."""
    roots = np.roots([1.0, 0.0, -(1.0 - 1.0 / a1), -a0 / a1])  # u^3 - (1 - 1/a1) u - a0/a1
    u = np.sort(roots[np.abs(roots.imag) < 1e-12].real)
    return u, (u - a0) / a1


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_uniform_steady_state_is_kept(boundary):
    fhn = FitzHughNagumo(boundary=boundary)
    us, vs = equilibria(fhn.a0, fhn.a1)
    assert us.size == 3
    np.testing.assert_allclose(us - us**3 - vs, 0.0, atol=1e-14)
    # the outer two are linearly stable (trace < 0, det > 0 of the reaction Jacobian)
    states = []
    for u, v in [(us[0], vs[0]), (us[2], vs[2])]:
        jac = np.array([[1 - 3 * u**2, -1.0], [fhn.eps, -fhn.eps * fhn.a1]])
        assert np.trace(jac) < 0 and np.linalg.det(jac) > 0
        states.append(np.stack([np.full(fhn.n, u), np.full(fhn.n, v)]))
    x0 = np.array(states)
    tr = fhn.simulate(x0, 20)
    assert np.max(np.abs(tr - x0[:, None])) < 1e-12


def test_restrict_lift_roundtrip():
    fhn = FitzHughNagumo()
    x = np.random.default_rng(3).normal(size=(5, 2, fhn.n))
    micro = fhn.lift(x)
    assert micro.shape == (5, 2, 3, fhn.n)
    np.testing.assert_allclose(fhn.restrict(micro), x, rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(micro[:, :, 0], micro[:, :, 2])  # equal weights (eqs. 40–41)


# -- operators and trajectories -----------------------------------------------------------
def test_simulate_matches_advance_and_is_batch_independent(paper_ics):
    fhn = FitzHughNagumo(coarse_dt=0.5)
    x0 = paper_ics[[0, 5]]
    tr = fhn.simulate(x0, 3, t0=1.0)
    assert tr.shape == (2, 4, 2, fhn.n)
    np.testing.assert_array_equal(tr[:, 0], x0)
    micro = fhn.lift(x0)
    for j in range(1, 4):
        micro = fhn.advance(micro, 1.0 + 0.5 * (j - 1), 1.0 + 0.5 * j)
        np.testing.assert_allclose(tr[:, j], fhn.restrict(micro), rtol=0, atol=1e-14)
    # one long advance equals the chain of short ones (the scheme is autonomous)
    direct = fhn.restrict(fhn.advance(fhn.lift(x0), 0.0, 1.5))
    np.testing.assert_allclose(direct, tr[:, 3], rtol=0, atol=1e-13)
    # batch members evolve independently
    single = fhn.simulate(x0[1:], 3)
    np.testing.assert_allclose(single[0], tr[1], rtol=0, atol=1e-14)
    # advance leaves its input untouched
    m0 = fhn.lift(x0)
    m0_copy = m0.copy()
    fhn.advance(m0, 0.0, 0.1)
    np.testing.assert_array_equal(m0, m0_copy)


# -- initial conditions -------------------------------------------------------------------
def test_paper_initial_conditions(paper_ics):
    x, raw = load_paper_initial_conditions()
    assert raw.shape == (6, 2, 101)
    np.testing.assert_allclose(x, np.linspace(0, 20, 101), atol=1e-12)
    fhn = FitzHughNagumo()
    np.testing.assert_array_equal(fhn.paper_initial_conditions(), raw)
    np.testing.assert_array_equal(fhn.initial_conditions(4, seed=123), raw[:4])
    # the activator switches between the two branches u ~ +-1 (Figure 36)
    assert np.all(raw[:, 0].max(-1) > 0.85) and np.all(raw[:, 0].min(-1) < -0.85)
    # on a refined grid the shipped nodes are reproduced exactly
    fine = FitzHughNagumo(n=201, dt=0.005 / 4).paper_initial_conditions()
    np.testing.assert_allclose(fine[:, :, ::2], raw, rtol=0, atol=1e-14)


def test_extra_initial_conditions_are_seeded_mixtures(paper_ics):
    fhn = FitzHughNagumo()
    a = fhn.initial_conditions(10, seed=7)
    b = fhn.initial_conditions(10, seed=7)
    c = fhn.initial_conditions(10, seed=8)
    assert a.shape == (10, 2, 101)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:6], paper_ics)
    assert not np.allclose(a[6:], c[6:])
    # mixtures stay within the envelope of the paper's states up to the small perturbation
    lo, hi = paper_ics.min(axis=(0, 2)), paper_ics.max(axis=(0, 2))
    span = hi - lo
    assert np.all(a[6:].min(axis=(0, 2)) > lo - 0.2 * span)
    assert np.all(a[6:].max(axis=(0, 2)) < hi + 0.2 * span)


# -- the reference solver -----------------------------------------------------------------
def test_fd_reference_cosine_decay_and_mass():
    """Reaction off: cos(pi x/L) is an exact eigenmode of the ghost-node Laplacian with
    eigenvalue -(2 - 2 cos(pi dx/L))/dx^2 = -(pi/L)^2 (1 + O(dx^2)); and the trapezoid
    mass is conserved."""
    L, n = 20.0, 101
    x = np.linspace(0, L, n)
    dx = x[1]
    u0 = 1.0 + np.cos(np.pi * x / L)
    v0 = 0.5 - np.cos(2 * np.pi * x / L)
    t = np.array([0.0, 3.0])
    u, v = solve_fhn_pde(u0, v0, t, L=L, du=1.0, dv=4.0, reaction=False, rtol=1e-11, atol=1e-13)
    lam1 = (2 - 2 * np.cos(np.pi * dx / L)) / dx**2
    lam2 = (2 - 2 * np.cos(2 * np.pi * dx / L)) / dx**2
    u_exact = 1.0 + np.exp(-1.0 * lam1 * 3) * np.cos(np.pi * x / L)
    v_exact = 0.5 - np.exp(-4.0 * lam2 * 3) * np.cos(2 * np.pi * x / L)
    np.testing.assert_allclose(u[1], u_exact, atol=1e-8)
    np.testing.assert_allclose(v[1], v_exact, atol=1e-8)
    assert lam1 == pytest.approx((np.pi / L) ** 2, rel=1e-3)
    w = np.full(n, dx)
    w[[0, -1]] = dx / 2
    assert abs(w @ (u[1] - u0)) < 1e-8 and abs(w @ (v[1] - v0)) < 1e-8
    lap = neumann_laplacian(n, dx)
    np.testing.assert_allclose(w @ lap.toarray(), 0.0, atol=1e-10)


def test_fd_reference_is_second_order(paper_ics):
    s4 = FitzHughNagumo(n=401)
    x4 = s4.paper_initial_conditions()[0]
    ref = solve_fhn_pde(x4[0], x4[1], [0.0, 5.0], rtol=1e-10, atol=1e-12)
    errs = []
    for n in (101, 201):
        x0 = FitzHughNagumo(n=n).paper_initial_conditions()[0]
        sol = solve_fhn_pde(x0[0], x0[1], [0.0, 5.0], rtol=1e-10, atol=1e-12)
        st = 400 // (n - 1)
        errs.append(max(rel_l2(sol[c][1], ref[c][1, ::st]) for c in range(2)))
    assert errs[0] < 2e-3
    assert errs[0] / errs[1] > 3.5  # second order (the 401-node truth has its own error)


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(D=-1.0), dict(dt=0.0), dict(dx=-0.2), dict(D=float("nan"))])
def test_relaxation_rate_rejects_nonpositive(kw):
    args = dict(D=1.0, dt=0.005, dx=0.2) | kw
    name = next(iter(kw))
    with pytest.raises(ValueError, match=name):
        relaxation_rate(**args)


@pytest.mark.parametrize("omega", [0.0, 2.0, -0.5, 2.5])
def test_relaxation_rate_range(omega):
    with pytest.raises(ValueError, match=r"omega_u.*\(0, 2\)"):
        check_relaxation_rate("omega_u", omega)
    assert check_relaxation_rate("omega_u", 1.9) == 1.9


@pytest.mark.parametrize(
    "kw, name",
    [
        (dict(boundary="periodic"), "boundary"),
        (dict(du=-1.0), "du"),
        (dict(dv=0.0), "dv"),
        (dict(eps=-0.1), "eps"),
        (dict(n=2), "n"),
        (dict(L=0.0), "L"),
        (dict(coarse_dt=0.0071), "coarse_dt"),
        (dict(a0=float("nan")), "a0"),
    ],
)
def test_bad_parameters(kw, name):
    with pytest.raises(ValueError, match=name):
        FitzHughNagumo(**kw)


def test_bad_types():
    with pytest.raises(TypeError, match="reaction"):
        FitzHughNagumo(reaction="yes")
    with pytest.raises(TypeError, match="n"):
        FitzHughNagumo(n=101.0)


def test_bad_states():
    fhn = FitzHughNagumo()
    good = fhn.paper_initial_conditions()[:1]
    with pytest.raises(ValueError, match="obs"):
        fhn.lift(good[:, 0])
    with pytest.raises(ValueError, match="micro"):
        fhn.restrict(good)
    with pytest.raises(ValueError, match="micro"):
        fhn.advance(np.zeros((1, 2, 3, 50)), 0.0, 1.0)
    bad = good.copy()
    bad[0, 1, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fhn.simulate(bad, 2)
    micro = fhn.lift(good)
    micro[0, 0, 1, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        fhn.advance(micro, 0.0, 1.0)
    with pytest.raises(ValueError, match="t - t0"):
        fhn.advance(fhn.lift(good), 0.0, 0.0012)
    with pytest.raises(ValueError, match="n must be a positive"):
        fhn.initial_conditions(0)
    with pytest.raises(ValueError, match="seed"):
        fhn.initial_conditions(8, seed=None)


def test_blow_up_is_reported():
    # A huge activator makes the explicit cubic reaction diverge within a few steps.
    fhn = FitzHughNagumo()
    x0 = np.full((1, 2, fhn.n), 100.0)
    with pytest.raises(NonFiniteStateError, match="FHN"):
        fhn.simulate(x0, 2)


def test_fd_reference_bad_input():
    x = np.zeros(101)
    with pytest.raises(ValueError, match="u0 and v0"):
        solve_fhn_pde(x, np.zeros(50), [0.0, 1.0])
    with pytest.raises(ValueError, match="t_eval"):
        solve_fhn_pde(x, x, [1.0, 0.0])
    with pytest.raises(ValueError, match="method"):
        solve_fhn_pde(x, x, [0.0, 1.0], method="RK45")
    with pytest.raises(ValueError, match="dv"):
        solve_fhn_pde(x, x, [0.0, 1.0], dv=-4.0)
