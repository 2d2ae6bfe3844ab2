"""Coarse-scale PDE baselines (Lee et al. 2020): finite differences, diffusion maps,
feature selection, and learned right-hand sides checked against a known PDE.

The "known PDE" is the FitzHugh–Nagumo PDE (eq. 29) solved by the independent
finite-difference reference :func:`ledlib.systems.fhn_reference.solve_fhn_pde`: its
right-hand side is known exactly, so the learned one and the integrated learned PDE can
be compared with the truth.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from ledlib.baselines import cspde
from ledlib.baselines.diffusion_maps import (
    diffusion_maps,
    llr_residual,
    parsimonious_coordinates,
    rank_feature_subsets,
)
from ledlib.baselines.finite_differences import spatial_derivatives, time_derivative
from ledlib.systems.fhn_reference import solve_fhn_pde
from ledlib.systems.fitzhugh_nagumo import FitzHughNagumo

L = 20.0


def true_rhs(u, v, dx, eps=0.006, a0=-0.03, a1=2.0):
    """Eq. (29) with the same second-order no-flux Laplacian as the reference solver."""
    _, uxx = spatial_derivatives(u, dx)
    _, vxx = spatial_derivatives(v, dx)
    return uxx + u - u**3 - v, 4.0 * vxx + eps * (u - a1 * v - a0)


# -- finite differences -----------------------------------------------------------------
def _fd_errors(n, k=1):
    x = np.linspace(0.0, L, n)
    w = k * np.pi / L
    f = np.cos(w * x)  # f_x = 0 at both walls: an admissible no-flux field
    fx, fxx = spatial_derivatives(f, L / (n - 1))
    return np.abs(fx + w * np.sin(w * x)).max(), np.abs(fxx + w**2 * np.cos(w * x)).max()


@pytest.mark.parametrize("k", [1, 3])
def test_spatial_derivatives_second_order_including_walls(k):
    e = np.array([_fd_errors(n, k) for n in (26, 51, 101, 201)])  # dx halves each time
    ratios = e[:-1] / e[1:]
    assert np.all((ratios > 3.8) & (ratios < 4.2)), ratios


def test_no_flux_walls_by_ghost_symmetry():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(3, 17))
    dx = 0.3
    fx, fxx = spatial_derivatives(f, dx)
    assert np.all(fx[:, 0] == 0.0) and np.all(fx[:, -1] == 0.0)  # mirror ghost: f_x = 0 exactly
    np.testing.assert_allclose(fxx[:, 0], 2 * (f[:, 1] - f[:, 0]) / dx**2, rtol=1e-12)
    np.testing.assert_allclose(fxx[:, -1], 2 * (f[:, -2] - f[:, -1]) / dx**2, rtol=1e-12)
    # The wall stencil is the reference solver's Laplacian.
    from ledlib.systems.fhn_reference import neumann_laplacian

    np.testing.assert_allclose(fxx, f @ neumann_laplacian(17, dx).T.toarray(), rtol=1e-12, atol=1e-12)
    # A mirrored field has mirrored derivatives (reflection x -> L - x).
    fx_r, fxx_r = spatial_derivatives(f[:, ::-1], dx)
    np.testing.assert_allclose(fx_r, -fx[:, ::-1], atol=1e-12)
    np.testing.assert_allclose(fxx_r, fxx[:, ::-1], atol=1e-12)


def test_time_derivative_second_order_at_every_sample():
    errs = []
    for n in (21, 41, 81):
        t = np.linspace(0.0, 2.0, n)
        s = np.stack([np.sin(3 * t), np.exp(-t)], axis=1)  # (T, 2), time on axis 0
        d = time_derivative(s[None], t[1] - t[0], axis=1)[0]
        exact = np.stack([3 * np.cos(3 * t), -np.exp(-t)], axis=1)
        errs.append(np.abs(d - exact).max())
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 3.5) & (ratios < 4.5)), ratios


# -- diffusion maps -------------------------------------------------------------------------
def test_diffusion_maps_recover_the_angle_on_a_nonuniform_circle():
    rng = np.random.default_rng(0)
    th = np.sort(rng.uniform(0, 2 * np.pi, 400))
    th = th + 0.3 * np.sin(th)  # non-uniform sampling density: alpha = 1 removes it
    dmap = diffusion_maps(np.c_[np.cos(th), np.sin(th)], 4)
    ang = np.arctan2(dmap.coordinates[:, 1], dmap.coordinates[:, 0])
    # Same angle up to a rotation and a reflection: |mean exp(i (theta -/+ angle))| ~ 1.
    score = max(abs(np.mean(np.exp(1j * (th - ang)))), abs(np.mean(np.exp(1j * (th + ang)))))
    assert score > 0.99
    # The first two eigenvalues are the degenerate pair of the circle's first harmonic.
    assert abs(dmap.eigenvalues[0] - dmap.eigenvalues[1]) < 0.1 * dmap.eigenvalues[0]


def test_diffusion_maps_first_coordinate_is_monotone_along_a_spiral():
    rng = np.random.default_rng(1)
    s = np.sort(rng.uniform(0, 1, 300))
    r, phi = 1 + 2 * s, 3 * np.pi * s
    dmap = diffusion_maps(np.c_[r * np.cos(phi), r * np.sin(phi)], 3, epsilon=0.05)
    assert abs(spearmanr(s, dmap.coordinates[:, 0]).statistic) > 0.99


def test_parsimonious_coordinates_find_the_second_direction_of_a_strip():
    rng = np.random.default_rng(2)
    Z = np.c_[rng.uniform(0, 4, 800), rng.uniform(0, 1, 800)]
    dmap = diffusion_maps(Z, 5, epsilon=0.05)
    r, unique = parsimonious_coordinates(dmap.coordinates)
    # phi_1 ~ cos(pi x/4); phi_2, phi_3 are its harmonics; the short side appears later.
    assert abs(np.corrcoef(dmap.coordinates[:, 0], np.cos(np.pi * Z[:, 0] / 4))[0, 1]) > 0.99
    k = int(np.argmax([abs(np.corrcoef(dmap.coordinates[:, j], np.cos(np.pi * Z[:, 1]))[0, 1])
                       for j in range(5)]))
    assert k > 1 and r[k] > 0.9 and k in unique
    assert np.all(r[1:k] < 0.3)


def test_llr_residual_separates_functions_from_unrelated_data():
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (400, 2))
    assert llr_residual(X, np.sin(2 * X[:, 0]) * X[:, 1], bandwidth_scale=0.05) < 0.1
    assert llr_residual(X, rng.normal(size=400)) > 0.9


def test_feature_selection_ranks_the_true_subset_first():
    rng = np.random.default_rng(4)
    names = ("a", "b", "c", "d", "e", "f")
    X = rng.uniform(-1, 1, (500, 6))
    y = np.sin(2 * X[:, 0]) + X[:, 2] ** 2 - X[:, 4]
    ranking = rank_feature_subsets(X, y, names, 3)
    assert ranking[0].names == ("a", "c", "e")
    assert ranking[0].score < 0.1 < 0.3 < ranking[1].score


# -- learned right-hand sides on a known PDE -------------------------------------------------
@pytest.fixture(scope="module")
def known_pde():
    """FHN PDE solutions from five of the paper's profiles (unlifted: transients and
    fronts), t in [0, 30] every 0.1, with the exact right-hand side as target. Even
    samples train, odd samples are held out."""
    ics = FitzHughNagumo().paper_initial_conditions()
    dx = L / 100
    t = np.arange(0.0, 30.0 + 1e-9, 0.1)
    states = np.stack([np.stack(solve_fhn_pde(ics[k, 0], ics[k, 1], t), axis=1) for k in range(5)])
    ut, vt = true_rhs(states[:, :, 0], states[:, :, 1], dx)
    return dx, t, states, np.stack([ut, vt], axis=2), ics


def _fit(known_pde, regressor):
    dx, _, states, rhs, _ = known_pde
    if regressor == "gp":
        model = cspde.CoarsePDE(dx, cspde.TRUE_INPUTS["u"], cspde.TRUE_INPUTS["v"], "gp", max_points=300,
                                n_restarts=0)
    else:
        model = cspde.CoarsePDE(dx, cspde.TRUE_INPUTS["u"], cspde.TRUE_INPUTS["v"], "nn", max_points=2000,
                                width=24, max_epochs=20, batch_size=128, lr=3e-3, patience=5, lbfgs_iters=1500)
    return model.fit(states[:, ::2], rhs[:, ::2])


@pytest.fixture(scope="module")
def fitted(known_pde):
    import torch
    from threadpoolctl import threadpool_limits

    # One thread: on shared CI cores, BLAS / OpenMP oversubscription slows these
    # small dense problems by an order of magnitude.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            return {reg: _fit(known_pde, reg) for reg in ("gp", "nn")}
    finally:
        torch.set_num_threads(before)


# Stated tolerances: relative L2 error of the learned right-hand side on the held-out
# samples; max error of the integrated learned PDE over 10 time units from a held-out IC.
RHS_TOL = {"gp": 1e-3, "nn": 0.03}
STATE_TOL = {"gp": 1e-3, "nn": 0.03}


@pytest.mark.parametrize("regressor", ["gp", "nn"])
def test_learned_rhs_matches_the_true_rhs_on_held_out_data(known_pde, fitted, regressor):
    _, _, states, rhs, _ = known_pde
    model = fitted[regressor]
    u, v = states[:, 1::2, 0], states[:, 1::2, 1]
    ut, vt = model.rhs(u, v)
    for got, want in ((ut, rhs[:, 1::2, 0]), (vt, rhs[:, 1::2, 1])):
        rel = np.linalg.norm(got - want) / np.linalg.norm(want)
        assert rel < RHS_TOL[regressor], rel
    # The learned laws are diffusive: d u_t / d u_xx ~ D_u = 1 and d v_t / d v_xx ~ D_v = 4
    # (the GP to 1%; the NN, whose u_xx slope is loosely pinned where u_xx ~ 0, only in sign
    # and size).
    _, gu = model.model_u.predict_grad(cspde.features(u, v, model.dx, model.features_u))
    _, gv = model.model_v.predict_grad(cspde.features(u, v, model.dx, model.features_v))
    slope_u, slope_v = np.median(gu[:, 1]), np.median(gv[:, 2])
    if regressor == "gp":
        assert abs(slope_u - 1.0) < 0.01 and abs(slope_v - 4.0) < 0.04
    else:
        assert 0.4 < slope_u < 1.6 and abs(slope_v - 4.0) < 0.2


@pytest.mark.parametrize("regressor", ["gp", "nn"])
def test_integrated_learned_pde_tracks_the_true_solution(known_pde, fitted, regressor):
    dx, _, _, _, ics = known_pde
    model = fitted[regressor]
    # A held-out initial condition (paper IC 5), first relaxed for 5 time units.
    u5, v5 = solve_fhn_pde(ics[5, 0], ics[5, 1], [0.0, 5.0])
    t = np.linspace(5.0, 15.0, 21)
    u_true, v_true = solve_fhn_pde(u5[-1], v5[-1], t)
    u, v = model.forecast(u5[-1], v5[-1], t)
    assert model.forecast_info["success"]
    assert np.abs(u - u_true).max() < STATE_TOL[regressor]
    assert np.abs(v - v_true).max() < STATE_TOL[regressor]


def test_jacobian_is_the_derivative_of_the_learned_rhs(fitted):
    model = fitted["nn"]
    rng = np.random.default_rng(5)
    n = model.n
    x = np.linspace(0, L, n)
    u = np.tanh(x - 8.0) + 0.01 * rng.normal(size=n)
    v = 0.1 * np.cos(np.pi * x / L)
    J = model.jacobian(u, v).toarray()
    y = np.concatenate([u, v])
    h = 1e-6
    for j in rng.choice(2 * n, 12, replace=False):
        e = np.zeros(2 * n)
        e[j] = h
        fp = np.concatenate(model.rhs((y + e)[:n], (y + e)[n:]))
        fm = np.concatenate(model.rhs((y - e)[:n], (y - e)[n:]))
        np.testing.assert_allclose(J[:, j], (fp - fm) / (2 * h), rtol=1e-4, atol=1e-4 * np.abs(J).max())


class _Square:
    """A stand-in regressor ``f = x_0^2``: ``u_t = u^2`` blows up at ``t = 1/u(0)``."""

    def predict(self, X):
        return X[:, 0] ** 2

    def predict_grad(self, X):
        g = np.zeros_like(X)
        g[:, 0] = 2 * X[:, 0]
        return X[:, 0] ** 2, g


def test_blow_up_is_reported_as_nan_not_an_exception(fitted):
    model = cspde.CoarsePDE(0.1, ("u",), ("v",), "gp")
    model.model_u = model.model_v = _Square()
    model.n = 11
    t = np.linspace(0.0, 2.0, 21)
    u, v = model.forecast(np.ones(11), np.zeros(11), t)
    info = model.forecast_info
    assert not info["success"] and "blow-up" in info["message"]
    # u = 1/(1 - t) until it leaves the bound 10 * (1 + 1) = 20 at t = 0.95; NaN after.
    ok = t < 0.95
    np.testing.assert_allclose(u[ok], np.broadcast_to((1 / (1 - t[ok]))[:, None], u[ok].shape), rtol=1e-3)
    assert np.isnan(u[~ok]).all() and np.isnan(v[~ok]).all()
    assert abs(info["t_stop"] - 0.95) < 1e-3


# -- the FHN data protocol -------------------------------------------------------------------
def test_fine_data_follow_the_dataset_protocol():
    t, fine = cspde.fhn_fine_data((5,), sample_dt=0.5, t_start=2.0, t_end=8.0)
    fhn = FitzHughNagumo()
    x0 = fhn.paper_initial_conditions()[[5]]
    x2 = fhn.restrict(fhn.advance(fhn.lift(x0), 0.0, 2.0))
    coarse = fhn.simulate(x2, 6, t0=2.0)
    np.testing.assert_array_equal(fine[:, ::2], coarse)
    np.testing.assert_allclose(t[::2], 2.0 + np.arange(7))


# -- bad inputs -----------------------------------------------------------------------------
def test_bad_inputs_raise_value_error(fitted):
    u = np.zeros((4, 11))
    with pytest.raises(ValueError, match="unknown feature"):
        cspde.features(u, u, 0.1, ("u", "u_xxx"))
    with pytest.raises(ValueError, match="same grid"):
        cspde.features(np.zeros(11), np.zeros(12), 0.1)
    with pytest.raises(ValueError, match="dx"):
        cspde.features(u, u, -0.1)
    with pytest.raises(ValueError, match="unknown feature"):
        cspde.CoarsePDE(0.1, features_u=("u", "w"))
    with pytest.raises(ValueError, match="regressor"):
        cspde.CoarsePDE(0.1, regressor="svm")
    with pytest.raises(ValueError, match="invalid option"):
        cspde.CoarsePDE(0.1, regressor="gp", width=3)
    with pytest.raises(ValueError, match="width"):
        cspde.CoarsePDE(0.1, regressor="nn", width=0)
    states = np.random.default_rng(0).normal(size=(3, 2, 11))
    with pytest.raises(ValueError, match="at least 20 training points"):
        cspde.CoarsePDE(0.1, regressor="gp", max_points=10).fit(states, states)
    with pytest.raises(ValueError, match="same shape"):
        cspde.CoarsePDE(0.1).fit(states, states[:, :, :10])
    with pytest.raises(ValueError, match="fitted grid"):
        fitted["gp"].rhs(np.zeros(50), np.zeros(50))
    with pytest.raises(ValueError, match="fitted grid"):
        fitted["gp"].forecast(np.zeros(50), np.zeros(50), [0.0, 1.0])
    with pytest.raises(ValueError, match="method"):
        fitted["gp"].forecast(np.zeros(101), np.zeros(101), [0.0, 1.0], method="Euler")
    with pytest.raises(ValueError, match="n_components"):
        diffusion_maps(np.zeros((10, 2)) + np.arange(10)[:, None], 9)
    with pytest.raises(ValueError, match="3 grid nodes"):
        spatial_derivatives(np.zeros(2), 0.1)
    with pytest.raises(ValueError, match="profile"):
        cspde.run_all("huge")
