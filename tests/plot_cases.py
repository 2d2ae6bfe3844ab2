"""Small synthetic inputs for every figure function a chapter calls (tests/test_plots.py
and the before/after measurements use them): shapes and ranges as the chapters pass them,
made with seeded generators, drawn in well under a second each."""

from __future__ import annotations

import math

import numpy as np


def _rng(seed=0):
    return np.random.default_rng(seed)


def _particle_run(T=3000, d_z=1, phases=None, seed=0):
    g = _rng(seed)
    t = np.arange(T, dtype=float)
    z = np.sin(0.05 * t)[:, None] * np.ones(d_z) + 0.01 * g.standard_normal((T, d_z))
    run = {"t": t, "z_pred": z, "z_true": z + 0.05, "wd": 0.05 + 0.02 * g.random(T),
           "l1": 0.3 + 0.1 * g.random(T), "m1_err": 0.01 + 0.01 * g.random(T), "m2_err": 0.001 + 0.001 * g.random(T)}
    if phases is not None:
        run["phases"] = phases
    return run


def _moment_errors(labels, T=200, seed=0):
    g = _rng(seed)
    return {k: {m: {"wd": 0.01 + 0.01 * g.random(T), "l1": 0.5 + 0.2 * g.random(T)} for m in ("M1", "M2")}
            for k in labels}


def _summary(labels, seed=0):
    g = _rng(seed)
    out = {k: {m: {"wd": float(0.01 + 0.02 * g.random()), "l1": float(0.3 + g.random())} for m in ("M1", "M2")}
           for k in labels}
    out["floor"] = {m: {"wd": 0.005, "l1": 0.2} for m in ("M1", "M2")}
    return out


def _ks_fields(T=200, n=64, seed=0):
    g = _rng(seed)
    x = np.linspace(0, 22, n, endpoint=False)
    t = 0.25 * np.arange(T)
    u = np.sin(2 * np.pi * x[None, :] / 22 * 3 + 0.05 * t[:, None]) + 0.1 * g.standard_normal((T, n))
    return t, x, u


def _fhn_fields(T=120, n=40, seed=0):
    g = _rng(seed)
    x = np.linspace(0, 20, n)
    t = np.arange(T, dtype=float)
    u = np.tanh(np.sin(x[None, :] / 3 - 0.05 * t[:, None]))
    truth = np.stack([u, 0.1 * u], axis=1)
    return t, x, truth, truth + 0.01 * g.standard_normal(truth.shape)


def _sweep_points():
    from types import SimpleNamespace

    from ledlib.forecast import MACRO, MICRO
    from ledlib.forecast.speedup import SweepPoint

    out = {}
    for k, name in enumerate(("KS", "FHN", "AD1D", "AD3D")):
        pts = []
        for T_m, T_mu in ((None, 0.0), (10.0, 10.0), (50.0, 10.0), (200.0, 10.0)):
            n_m = 0 if T_m is None else int(T_m)
            phases = np.array([MACRO] * 400) if T_m is None else np.array(
                ([MACRO] * n_m + [MICRO] * int(T_mu)) * (400 // (n_m + int(T_mu)) + 1))[:400]
            res = SimpleNamespace(phases=phases)  # rho_effective reads only the phases
            rho = math.inf if T_m is None else T_m / T_mu
            S = 100.0 * (k + 1) if T_m is None else (1 + rho) / (1 + rho / (100.0 * (k + 1)))
            pts.append(SweepPoint(T_m, T_mu, rho, 0.01 * (1 + (0 if T_m is None else 1 / rho)), S, res))
        out[name] = pts
    return out


def cases() -> dict:
    """name -> a function that draws that figure (through ``ledlib.plots``, so the page's
    legibility rules apply as in a chapter)."""
    from ledlib import plots

    g = _rng(1)
    C = {}
    # theory
    C["equation_free_diagram"] = lambda: plots.equation_free_diagram()
    C["autoencoder_diagram"] = lambda: plots.autoencoder_diagram()
    C["permutation_encoder_diagram"] = lambda: plots.permutation_encoder_diagram()
    C["mixture_decoder_diagram"] = lambda: plots.mixture_decoder_diagram()
    C["rnn_cells_diagram"] = lambda: plots.rnn_cells_diagram()

    def manifold():
        th = np.linspace(0, 2 * np.pi, 200)
        x = np.stack([np.cos(th), np.sin(th), 0.1 * th], axis=1)
        return plots.latent_manifold(th, x, {"AE": x * 0.95}, {"AE": th / 3, "VAE": (th / 4, 0.1 + 0 * th)})
    C["latent_manifold"] = manifold

    def mixture():
        import torch

        from ledlib.nn.mixture import MixtureDensityDecoder

        torch.manual_seed(0)
        dec = MixtureDensityDecoder(1, 1, 2, 1, 8)
        y = np.clip(_rng(2).beta(0.5, 0.5, 500), 1e-3, 1)
        return plots.mixture_fit(y, dec, np.zeros(1), direct=dec)
    C["mixture_fit"] = mixture

    def rnn():
        t = np.arange(100)
        truth = np.sin(0.2 * t)[None, :] * np.ones((3, 1))
        tf = t[20:]
        return plots.rnn_forecasts(t, truth, {"LSTM": {"warm": (tf, truth[:, 20:]), "cold": (tf, 0 * truth[:, 20:])}},
                                   t_start=19)
    C["rnn_forecasts"] = rnn
    C["multiscale_timeline"] = lambda: plots.multiscale_timeline(
        50.0, [(500.0, 0.0), (450.0, 50.0), (250.0, 50.0), (50.0, 50.0)], 500.0, coarse_dt=0.5)
    C["speedup_model"] = lambda: plots.speedup_model(marks={"FHN: S = 2": (1.0, 2.0)})

    def measures():
        a, b = g.normal(0, 1, 500), g.normal(1, 0.5, 500)
        c = np.linspace(0, 6, 7)
        return plots.comparison_measures(a, b, shift_curve=(c, c, np.minimum(2, c)))
    C["comparison_measures"] = measures
    # systems
    t, x, u = _ks_fields()
    C["ks_contour"] = lambda: plots.ks_contour(u, t, x, lyapunov_exponent=0.05)
    tf, xf, truth, pred = _fhn_fields()
    ics = np.stack([np.stack([np.sin(xf / (i + 1)), 0.1 * np.cos(xf)]) for i in range(6)])
    C["fhn_initial_conditions"] = lambda: plots.fhn_initial_conditions(xf, ics, ["train"] * 3 + ["val"] * 2 + ["test"])
    C["fhn_densities"] = lambda: plots.fhn_densities(truth[:, 0], truth[:, 1], tf, xf)
    pos1 = np.clip(0.1 * g.standard_normal((300, 200)) + 0.3 * np.sin(0.02 * np.arange(300))[:, None], -0.5, 0.5)
    C["particle_density_1d"] = lambda: plots.particle_density_1d(pos1, np.arange(300.0), L=1.0)
    snaps = np.stack([np.zeros((200, 3))] + [np.clip(s * g.standard_normal((200, 3)), -0.5, 0.5)
                                             for s in (0.05, 0.15, 0.3)])
    C["particle_snapshots_3d"] = lambda: plots.particle_snapshots_3d(snaps, [0.0, 100.0, 500.0, 1000.0])
    m1 = np.cumsum(0.001 * g.standard_normal((5000, 3)), axis=0)
    C["moments_over_time"] = lambda: plots.moments_over_time(np.arange(5000.0), m1, np.abs(m1) + 0.01)
    # advection-diffusion
    micro = np.array((["macro"] * 450 + ["micro"] * 50) * 6)
    C["particle_forecast_1"] = lambda: plots.particle_forecast({"latent": _particle_run()}, n_latent=1)
    C["particle_forecast_2"] = lambda: plots.particle_forecast(
        {"latent": _particle_run(d_z=8), "ρ = 9": _particle_run(d_z=8, phases=micro, seed=1)})
    zr = np.sin(0.05 * np.arange(2000))
    C["latent_return_map"] = lambda: plots.latent_return_map(zr, pos1, pos1 + 0.01, z_true=zr[None, :500])
    labels = ["latent", "ρ = 1", "ρ = 5", "ρ = 9"]
    C["moment_error_curves"] = lambda: plots.moment_error_curves(np.arange(200.0), _moment_errors(labels),
                                                                 _moment_errors(["x"])["x"], smooth=5)
    speed = {"latent": 300.0, "ρ = 1": 2.0, "ρ = 5": 5.0, "ρ = 9": 8.0}
    rho = {"latent": math.inf, "ρ = 1": 1.0, "ρ = 5": 5.0, "ρ = 9": 9.0}
    C["moment_error_summary"] = lambda: plots.moment_error_summary(_summary(labels), speed, rho, system="AD1")
    C["particle_snapshots_compare"] = lambda: plots.particle_snapshots_compare(
        [0.0, 500.0, 875.0], snaps[:3], {"latent": snaps[1:], "ρ = 5": snaps[:3]})
    zp = g.standard_normal((2000, 3))
    C["latent_pca_density"] = lambda: plots.latent_pca_density(zp, snaps, snaps)
    centres = g.standard_normal((6, 3))
    lab = g.integers(0, 6, 2000)
    C["metastable_states"] = lambda: plots.metastable_states(zp, lab, centres, snaps[[1, 2, 3, 1, 2, 3]],
                                                             np.linspace(1, 0.2, 12))
    phase = np.linspace(0, 2 * np.pi, 63, endpoint=False)
    ring = np.stack([np.cos(phase), np.sin(phase)], 1)
    orbit3 = np.hstack([ring, 0.2 * ring[:, :1] ** 2])
    C["latent_orbit"] = lambda: plots.latent_orbit(orbit3[g.integers(0, 63, 2000)] + 0.05 * zp, orbit3,
                                                   np.linspace(1, 0.9, 11), np.linspace(1, 0.95, 11))
    C["peclet_study"] = lambda: plots.peclet_study(
        {1.0: 0.01, 10.0: 0.02, 100.0: 0.05}, {1.0: 0.001, 10.0: 0.002, 100.0: 0.004},
        {p: {math.inf: 100 * p, 1.0: 2.0, 5.0: 5.0} for p in (1.0, 10.0, 100.0)},
        {1.0: 0.005, 10.0: 0.005, 100.0: 0.005}, {1.0: 0.0005, 10.0: 0.0005, 100.0: 0.0005})
    # FitzHugh-Nagumo
    dz = np.array([1, 2, 4, 8, 16, 32, 64])
    C["fhn_latent_dim_study"] = lambda: plots.fhn_latent_dim_study(dz, 1e-3 / dz ** 2, 2e-3 / dz ** 2)
    C["fhn_prediction_contours"] = lambda: plots.fhn_prediction_contours(truth, pred, tf, xf)
    C["fhn_prediction_surfaces"] = lambda: plots.fhn_prediction_surfaces(truth, pred, tf, xf)

    def mnad_bars():
        from ledlib import reproduction

        paper = reproduction.cspde_paper_values()
        ours = {k: (2 * u, 2 * v) for k, (u, v) in paper.items()}
        ours["GP-F3"] = (float("nan"), float("nan"))
        led = {"AE, LD=8": (1e-3, 2e-3), "VAE, LD=8": (1.5e-3, 2.5e-3), "AE, LD=4": (3e-3, 4e-3)}
        return plots.fhn_mnad_bars(paper, ours, led, (5e-4, 6e-4))
    C["fhn_mnad_bars"] = mnad_bars
    rhos = [math.inf, 1.0, 5.0, 10.0, 20.0]
    mn = [g.random((5,)) * 0.01 + 0.01 * (1 + i) for i in range(5)]
    C["fhn_multiscale_tradeoff"] = lambda: plots.fhn_multiscale_tradeoff(
        rhos, mn, mn, [100.0, 2.0, 5.0, 8.0, 12.0], floor=(0.005, 0.005),
        paper={math.inf: (0.04, 120.0), 1.0: (0.01, 2.0)})  # the call as the FHN chapter makes it
    tl = np.arange(8000.0)
    nad = {k: 0.01 + 0.01 * g.random(8000) for k in ("Latent", "ρ=1", "ρ=5", "ρ=10")}
    C["fhn_nad_over_time"] = lambda: plots.fhn_nad_over_time(tl, nad, nad)
    # Kuramoto-Sivashinsky
    C["ks_latent_dim_study"] = lambda: plots.ks_latent_dim_study(
        {"AE": (dz, 1e-3 / dz ** 2), "VAE": (dz, 2e-3 / dz ** 2)}, chosen=8)
    C["ks_latent_dim_study_pca"] = lambda: plots.ks_latent_dim_study(
        {"AE": (dz, 1e-3 / dz ** 2)}, pca=(dz, 1e-2 / dz ** 3), chosen=8, log_only=True)
    en = 0.5 ** np.arange(1, 33)
    C["ks_pca_energy"] = lambda: plots.ks_pca_energy(en / en.sum(), k=8)
    C["ks_reconstruction"] = lambda: plots.ks_reconstruction(u, u + 0.01, t, x, z=u[:, :8], lyapunov_exponent=0.05)
    ph = np.array((["macro"] * 64 + ["micro"] * 8) * 3)[:200]
    C["ks_forecast"] = lambda: plots.ks_forecast(t, x, u, u + 0.1, z=u[:, :8], lyapunov_exponent=0.05)
    C["ks_forecast_multiscale"] = lambda: plots.ks_forecast(t, x, u, u + 0.1, phases=ph, lyapunov_exponent=0.05)
    C["ks_statistics"] = lambda: plots.ks_statistics(u[None], u[None] + 0.05 * g.standard_normal(u.shape), 22.0)
    rr = [math.inf, 0.5, 1.0, 8.0, 10.0, 16.0]
    C["ks_multiscale_summary"] = lambda: plots.ks_multiscale_summary(
        t, {r: 0.05 + 0.01 * t * (1 + i) for i, r in enumerate(rr)}, {r: 0.01 * (i + 1) for i, r in enumerate(rr)},
        {r: (80.0 if math.isinf(r) else 1 + r) for r in rr}, lyapunov_exponent=0.05, threshold=0.1, wd_floor=0.005,
        speedup_fine={r: (8000.0 if math.isinf(r) else 10 * (1 + r)) for r in rr})
    # trade-offs
    C["tradeoff_curves"] = lambda: plots.tradeoff_curves(_sweep_points(), {"KS": "MNAD", "FHN": "MNAD",
                                                                           "AD1D": "WD", "AD3D": "WD"})
    # the own-simulator and scorecard chapters
    to = np.arange(300.0)
    xo = np.sin(0.05 * to)[:, None]
    C["own_forecast"] = lambda: plots.own_forecast(to, xo, {"latent": xo[None] + 0.1, "ρ = 5": xo[None] - 0.05})
    rows = [{"id": f"KS.claim_{i}", "ours": 1.0 + i, "paper": 2.0, "verdict": "matches" if i < 3 else "differs"}
            for i in range(6)]
    C["scorecard_ratios"] = lambda: plots.scorecard_ratios(rows)
    return C
