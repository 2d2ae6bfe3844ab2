# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Advection–diffusion in 3-D
#
# The three-dimensional case is the paper's headline particle example (§3.1, Figures
# 3–5, and §8.2): $N = 1000$ Brownian particles in the unit cube with reflecting walls,
#
# $$ \mathrm{d}\mathbf{x} = \mathbf{A}\cos(\boldsymbol{\omega} t)\,\mathrm{d}t + \sqrt{D}\,\mathrm{d}\mathbf{W},
#    \qquad D = 0.2,\ \mathbf{A} = [1, 1.5, 0],\ \boldsymbol{\omega} = [0.2, 1, 0.5], $$
#
# with Euler–Maruyama steps $\delta t = 10^{-3}$, observed every $\Delta t = 0.5$. The
# wind now pushes along two axes at frequencies five times apart, so the cloud visits
# corners and edges of the cube in a pattern that repeats only slowly; the third axis is
# pure diffusion. The state has 3000 numbers. LED compresses it to $d_z = 8$ with the
# same kind of network as in 1-D (a permutation-invariant VAE encoder, a mixture-density
# decoder with five kernels, an LSTM of 100 units).
#
# This chapter reproduces the paper's Tables 3–4, single forecasts (Figures 21, 24),
# the analysis of the latent space into metastable states (Figures 4, 22, 23), the
# statistics of many forecasts against the share of time given to the micro solver
# (Figures 3, 25, 26), a model trained on 1000 particles forecasting 400
# (Figures 27, 28), and the dependence on the Péclet number (Figures 5, 29).

# %% tags=["parameters"]
profile = "quick"  # "quick" (minutes on a CPU) or "paper" (the paper's sizes; hours on a CPU)
device = "auto"  # "auto", "cpu" or "cuda": where the networks train and run
seed = 0
results_dir = ".cache/results"  # your run's scorecard entries (the book's runner passes book/results)
cache_dir = ""  # data and model cache; "" uses $LED_CACHE_DIR or .cache/
n_ic = 0  # initial conditions of the statistical study (0: the profile's default)
n_runs = 0  # LED runs per initial condition (0: the profile's default)

# %% tags=["remove-cell"]
import math

import numpy as np
import torch
from tqdm import tqdm

from ledlib import chapter, clustering, metrics, particle_statistics, plots, systems, train
from ledlib.forecast import forecast, measure_speedup, time_micro_solver
from ledlib.paper import ad3d

ch = chapter.setup(profile, device, results_dir=results_dir, cache_dir=cache_dir)
paper, cache, dev, record = ch.paper, ch.cache, ch.device, ch.record
P, PE = ad3d.PROTOCOL[profile], ad3d.PECLET_PROTOCOL[profile]  # the paper's times (§8.2, §8.2.4); quick: shorter
N_IC, N_RUNS = n_ic or P.n_ic, n_runs or P.n_runs


# %% [markdown]
# ## Data and configuration (Tables 3 and 4)
#
# One training and one validation trajectory ($10^3$ samples each in the paper profile)
# and ten test trajectories, each from a point source at a random place in the cube. The
# paper searched the autoencoder over Table 3 and the RNN over Table 4; its pick (bold)
# is a VAE with five residual tanh layers of 100 units, $d_p = 200$, $d_z = 8$, five
# mixture kernels, no weight decay, and an LSTM of 100 units. The paper profile trains
# it; the quick profile trains a small version.

# %% tags=["hide-input"]
fitted = train.fit_led("AD3D", profile, cache=cache, seed=seed, device=str(dev), progress=paper)
led, ds = fitted.led.eval(), fitted.dataset
ad3 = ds.system()
config = led.config
print(f"train {ds.train.states.shape}, validation {ds.val.states.shape}, test {ds.test.states.shape} "
      "(trajectories, samples, particles, dimension)")
ours, theirs = chapter.config_summary(config), chapter.config_summary(ad3d.paper_config())
print(f"trained here ({profile} profile): {ours}\n{chapter.training_report(fitted)}")
record("T3", ours.split(";")[0], paper=theirs.split(";")[0], figure="Table 3",
       note="autoencoder trained here (the paper's pick in the paper profile; a small version in quick)")
record("T4", ours, paper=theirs, figure="Table 4",
       note="LED trained here (the paper's pick in the paper profile; a small version in quick)")

# %% tags=["remove-input"]
chapter.paper_table(3)

# %% tags=["remove-input"]
chapter.paper_table(4)

# %% [markdown]
# ## Single forecasts (Figures 21 and 24)
#
# From a test configuration, after a warm-up of $T_{warm}$ on the micro solver, LED
# forecasts in two modes: in its latent space only, and alternating $T_m = 250$ in the
# latent space with $T_\mu = 50$ on the particles ($\rho = 5$; shaded). The true run
# continues the same warm-up with the micro solver. We plot the first three latent
# components, the WD between the predicted and true clouds (mean of the three axes), and
# the errors of the mean and variance of the positions, also averaged over the axes.

# %%
x_ic, t_ic = ds.test.states[:1, P.i0].astype(np.float64), float(ds.test.t[0, P.i0])
show_variants = {"latent": (None, 0.0), plots.variant_label(P.T_ms[-1], P.T_mu): (P.T_ms[-1], P.T_mu)}
truth, runs = chapter.single_forecasts(led, ad3, x_ic, t_ic, show_variants, T_warm=P.T_warm, horizon=P.T_show,
                                       seed=seed)
panels = chapter.forecast_panels(truth, runs)
for lab, p in panels.items():
    print(f"{lab:>8}: WD of the positions, mean over the forecast {p['wd'].mean():.3g}; |M1 error| "
          f"{p['m1_err'].mean():.3g}, |M2 error| {p['m2_err'].mean():.3g}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 21: LED (d_z = 8) forecasting a test configuration of 1000 particles in 3-D, (a) latent propagation only, (b) multiscale with rho = 5 (micro solver shaded): the first three latent components (solid: LED, dotted: the true run encoded), the WD between the predicted and true particle distributions, and the errors of M1 and M2, all averaged over the three axes.", "name": "fig-ad3-forecast"}}
plots.particle_forecast(panels);

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 24 (and Figure 3E–F): particle configurations predicted by LED (colour) over the true run (grey) at four times after the warm-up, latent propagation (top) and multiscale with rho = 5 (bottom).", "name": "fig-ad3-snapshots"}}
plots.particle_snapshots_compare(P.snaps, chapter.snapshots(truth, P.snaps),
                                 {lab: chapter.snapshots(r, P.snaps) for lab, r in runs.items()});

# %% [markdown]
# ## The latent space: metastable states (Figures 22, 23 and 4)
#
# What has LED learned? A long latent-only run (cheap because no particles are moved;
# its length is printed below) traces the latent dynamics. Its principal components,
# coloured by how often each region is visited, show where the dynamics linger. The paper
# sees six dense regions, clusters them by spectral clustering of the PCA modes, and
# decodes each cluster centre into a configuration: the metastable states of the cloud.
# We do not fix the number of clusters, and we do not assume there are any. Spectral
# clustering embeds the points with the leading eigenvectors of the normalised affinity
# matrix; $k$ well-separated groups give $k$ eigenvalues close to 1 and a drop after the
# $k$-th (the *eigengap*). But some eigengap is always largest, even in a featureless
# cloud, so we test it: the same gap is computed for Gaussian surrogates with the run's
# mean and covariance (no metastable structure by construction), and a $k$ is reported
# only when the run's gap exceeds theirs (`ledlib.clustering.metastable_states`).
# A count also needs a run that visits its states many times: we report the run's
# integrated autocorrelation time, the number of effectively independent samples and the
# transitions between clusters.

# %% tags=["hide-input"]
long = forecast(led, ad3, x_ic, P.T_long, T_warm=P.T_warm, t0=t_ic, seed=seed, record_at="none", keep_latents="all")
states = clustering.metastable_states(long.latents[0, 0], **ad3d.METASTABLE[profile])
z_pca, pca, labels, centres, eig = states.z_pca, states.pca, states.labels, states.centres, states.eigenvalues
gen = torch.Generator(device=led.device).manual_seed(seed)
z_centres = torch.tensor(states.z_latent_centres, dtype=torch.float32)
configs_k = led.decode(z_centres, n_particles=ad3.n_particles, generator=gen).cpu().numpy()

# %% tags=["hide-input"]
print(f"latent run of T = {P.T_long:g} after the warm-up ({len(z_pca)} samples); PCA: the first three modes hold "
      f"{pca.energy[:3].sum():.1%} of its variance")
print("leading eigenvalues: " + ", ".join(f"{v:.4f}" for v in eig))
print(states.summary() + "; members per cluster " + ", ".join(str(n) for n in np.bincount(labels)))
record("AD3.n_metastable_states", 1 if states.k is None else states.k, paper=6, figure="F4, F22, F23",
       note=states.summary() + f"; first 3 latent PCA modes of a T={P.T_long:g} latent run"
            + ("; no gap is recorded as one state" if states.k is None else ""))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 22 (and Figure 4C): the first three PCA modes of LED's latent trajectory against each other, coloured by density, and (d) the distribution of the particle positions along each axis, true run against LED's latent forecast above.", "name": "fig-ad3-latent-pca"}}
plots.latent_pca_density(z_pca, truth.states[0, 0], runs["latent"].states[0, 0], L=ad3.L);

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 4 and Figure 23: spectral clustering of the latent PCA modes. (A) density with the cluster centres, (B) cluster membership, (C) the eigenvalues whose largest gap, if it passes the surrogate test, sets the number of clusters (dashed: the paper's k = 6); bottom: the configuration LED's decoder samples at each cluster centre.", "name": "fig-ad3-metastable"}}
plots.metastable_states(z_pca, labels, centres, configs_k, eig, L=ad3.L);

# %% [markdown]
# ### Is there structure to find? The true run, encoded
#
# A count of states is a statement about the system, so we ask the same question of the
# truth. The wind has the common period $10\pi$ (the periods of $\cos 0.2t$ and $\cos t$
# are $10\pi$ and $2\pi$), and it would carry a free particle $A/\omega$ = 5 and 1.5 box
# widths out and back along the first two axes: the cloud is pushed from wall to wall.
# Diffusion in the closed box makes the law of the particles forget where they started,
# so after a transient that law
# repeats with the wind's period. The coarse dynamics of the true system is then a closed
# orbit traversed once per period, not a set of states visited at random. We encode a
# long run of the micro solver from the same configuration, ask whether LED's long run
# closes (`ledlib.clustering.recurrence_period`), whether its orbit is the true one
# (the distance from each LED point to the nearest encoded true point, and back, as a
# fraction of the true run's range; `ledlib.clustering.orbit_agreement`), after how
# many samples the true run comes back to itself, and whether the encoded true run has
# an eigengap of its own.

# %% tags=["hide-input"]
z_true = chapter.encoded_true_run(led, ad3, x_ic, ad3d.T_TRUE_LONG[profile], T_warm=P.T_warm, t0=t_ic, seed=seed)
orbit = clustering.orbit_agreement(long.latents[0, 0], z_true)
states_true = clustering.metastable_states(z_true, **ad3d.METASTABLE[profile])
null = clustering.orbit_null_gaps(orbit.points, len(z_true), sigma=orbit.return_noise, seed=seed,
                                  **ad3d.ORBIT_NULL[profile])

# %% [markdown]
# The Gaussian surrogates of the test are blobs, and points spread along a curve give a
# spectrum that falls more slowly than a blob's. So the true run's
# gap is also compared with runs that have no place to linger by construction: points
# drawn at uniform speed along LED's orbit (its last period), with the true run's noise
# about its own orbit. A run that lingered in a few states would have a gap well above
# theirs.

# %% tags=["hide-input"]
print(f"encoded true run of T = {ad3d.T_TRUE_LONG[profile]:g} after the warm-up ({len(z_true)} samples); "
      f"the wind's common period 10 pi = {10 * np.pi:.4g} = {10 * np.pi / ad3.coarse_dt:.2f} samples")
print(orbit.summary(ad3.coarse_dt))
print("the true run, encoded: " + states_true.summary())
against = (f"largest gaps of {len(null['gaps'])} uniform-speed runs along LED's orbit {null['gaps'].min():.3g} to "
           f"{null['gaps'].max():.3g} (heuristic's k: {', '.join(map(str, sorted(set(null['k']))))}); the true "
           f"run's {states_true.gap:.3g} after eigenvalue {states_true.k_eigengap}")
print(against)
record("AD3.n_metastable_states_truth", 1 if states_true.k is None else states_true.k, paper=6, figure="F4, F22, F23",
       note=states_true.summary() + "; " + against + f"; an encoded true run of T={ad3d.T_TRUE_LONG[profile]:g}"
            + ("; no gap is recorded as one state" if states_true.k is None else ""))
record("AD3.latent_orbit", {"period": orbit.period, "true_period": orbit.true_period,
                            "model_to_truth": round(orbit.model_to_truth, 4),
                            "true_return": None if orbit.true_return is None else round(orbit.true_return, 4)},
       figure="F22", note=orbit.summary(ad3.coarse_dt) + " (periods in samples, distances as fractions of the range)")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 22 against the truth: (a, b) the encoded true run in the first three PCA modes of LED's latent run (density), with LED's orbit (the last period of its long run, or its last half if it does not close) drawn over it; (c) the leading eigenvalues of the affinity of LED's run and of the encoded true run.", "name": "fig-ad3-latent-orbit"}}
plots.latent_orbit(pca.transform(z_true), pca.transform(orbit.points), states.eigenvalues, states_true.eigenvalues);

# %% [markdown]
# ## The statistics of many forecasts (Figures 25, 26 and 3)
#
# As in 1-D (see that chapter for the method and its checks): LED starts many times from
# each of several test configurations, M1 and M2 (averaged over the axes) of every run
# are recorded, and the distributions over runs are compared with the ground truth by the
# WD and the L1-NHD at every recorded time. Variants: latent propagation and
# $T_\mu = 50$ with $T_m = 900, 450, 250$ ($\rho = 18, 9, 5$). The ground truth comes from
# the exact law of one particle of the micro solver, which in 3-D is the product of the
# three per-axis laws (the axes do not interact; the third, without wind, has a closed
# form), sampled 1000 particles per true run.

# %% tags=["hide-input"]
groups = chapter.test_groups(ds.test, N_IC, P.i0)  # ICs: test trajectories, at one or more sample times
tv = particle_statistics.law_mixing_distance(ad3, groups[0][0], P.T_warm)
print(f"total variation between the laws of particles started at opposite corners, after T_warm = {P.T_warm:g}: "
      f"{tv:.1e}")
variants = {"latent": (None, 0.0), **{plots.variant_label(T_m, P.T_mu): (T_m, P.T_mu) for T_m in P.T_ms}}
rho = {lab: (T_m / T_mu if T_mu else math.inf) for lab, (T_m, T_mu) in variants.items()}
study = particle_statistics.moment_study(led, ad3, groups, variants, T_warm=P.T_warm, horizon=P.T_f, n_runs=N_RUNS,
                           record_every=P.record_every, seed=seed, progress=paper)
summ = study.summary()
print(f"{N_IC} initial conditions x {N_RUNS} runs to T_f = {P.T_f:g}, moments every {P.record_every} steps")
for lab, e in summ.items():
    print(f"{lab:>10}: WD M1 {e['M1']['wd']:.2e}  M2 {e['M2']['wd']:.2e}   L1 M1 {e['M1']['l1']:.2f}  "
          f"M2 {e['M2']['l1']:.2f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 25 (and Figure 3A–B): WD and L1-NHD between the predicted and true distributions over runs of M1 and M2 (averaged over the axes) against time after the warm-up, mean over the initial conditions, for latent LED and three multiscale variants; dashed: two independent true ensembles of the same size.", "name": "fig-ad3-stat-curves"}}
plots.moment_error_curves(study.times, study.errors, study.floor, smooth=5 if paper else 1);

# %% [markdown]
# The speed-up is measured as in 1-D: one run, one CPU thread, solver and LED timed over
# the same horizon after the warm-up, a configuration decoded only where the next phase
# needs one.

# %%
micro = time_micro_solver(ad3, x_ic, P.T_speed / 2, t0=t_ic)
speedup = {}
for lab, (T_m, T_mu) in tqdm(variants.items(), desc="speed-up", disable=not paper):
    speedup[lab] = measure_speedup(led, ad3, x_ic, (T_m + T_mu) if T_mu else P.T_speed, T_m, T_mu, t0=t_ic,
                                   seed=seed, micro_per_step=micro, repeats=3 if paper else 1).S
s_every = measure_speedup(led, ad3, x_ic, P.T_speed, t0=t_ic, seed=seed, micro_per_step=micro, record_at="all").S
print(f"micro solver: {1e3 * micro:.3g} ms per coarse step")
for lab, S in speedup.items():
    print(f"{lab:>10}: S = {S:8.3g}")
print(f"latent, decoding a configuration at every step: S = {s_every:.3g}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 26 (and Figure 3C–D, 3H): the errors above averaged over time and initial conditions, per variant, with the sampling floor (dashed), and (e) the speed-up against rho (dotted: latent propagation; dashed black: the paper's latent speed-up).", "name": "fig-ad3-stat-summary"}}
plots.moment_error_summary(summ, speedup, rho, system="AD3");

# %% tags=["remove-cell"]
size = (f"{N_IC} ICs x {N_RUNS} runs (paper 12 x 600), T_f={P.T_f:g}, moments every {P.record_every} steps; truth: "
        f"{2 * N_RUNS} runs per IC drawn from the solver's exact law")
fl = summ["floor"]
for tag, lab in (("latent", "latent"), ("rho5", plots.variant_label(P.T_ms[-1], P.T_mu)),
                 ("rho9", plots.variant_label(P.T_ms[-2], P.T_mu))):
    for m in ("m1", "m2"):
        M = m.upper()
        record(f"AD3.wd_{m}_{tag}", float(f"{summ[lab][M]['wd']:.3g}"), figure="F3, F21, F25, F26",
               note=f"{lab}; {size}; truth vs truth {fl[M]['wd']:.2g}")
    record(f"AD3.speedup_{tag}", float(f"{speedup[lab]:.3g}"), paper=100.0 if tag == "latent" else None,
           unit="x", figure="F3H, F26", note=f"batch 1, 1 thread, {dev}, decode where needed"
           + (f"; {s_every:.3g}x when decoding every step" if tag == "latent" else ""))

# %% [markdown]
# ## A model for 1000 particles forecasting 400 (Figures 27 and 28)
#
# The encoder averages a per-particle feature over the particles, so it accepts any
# number of them, and the decoder samples as many as asked. The model trained on
# $N = 1000$ therefore runs unchanged on a cloud of 400: we encode 400 particles of the
# test configuration, decode 400, and compare with the micro solver run on 400. How far
# apart two *true* runs of 400 particles are (different random numbers) is the scale
# against which to read the WD.

# %% tags=["hide-input"]
ad400 = systems.AdvectionDiffusion(dim=3, n_particles=400)
x400 = x_ic[:, :400]
kw = dict(T_warm=P.T_warm, horizon=P.T_show)
truth400, runs400 = chapter.single_forecasts(led, ad400, x400, t_ic, show_variants, seed=seed, **kw)
panels400 = chapter.forecast_panels(truth400, runs400)
other400, _ = chapter.single_forecasts(led, ad400, x400, t_ic, {}, seed=seed + 1, **kw)  # other random numbers
wd_true = metrics.particle_errors(other400.states[0, 0], truth400.states[0, 0])["wd"]
for lab, p in panels400.items():
    print(f"N = 400, {lab:>8}: WD of the positions, mean over the forecast {p['wd'].mean():.3g}")
print(f"N = 400, two true runs: WD {wd_true.mean():.3g}")
record("AD3.generalize_n400_wd", float(f"{panels400['latent']['wd'].mean():.3g}"), figure="F27, F28",
       note=f"latent LED (trained on N=1000) on N=400, mean WD of positions over T={P.T_show:g}; "
            f"{plots.variant_label(P.T_ms[-1], P.T_mu)}: {panels400[plots.variant_label(P.T_ms[-1], P.T_mu)]['wd'].mean():.3g}; "
            f"two true runs: {wd_true.mean():.3g}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 27: the LED trained on 1000 particles forecasting 400, latent propagation (top) and multiscale with rho = 5 (bottom); panels as in the single 1000-particle forecast above.", "name": "fig-ad3-n400"}}
plots.particle_forecast(panels400);

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 28: configurations of 400 particles predicted by the LED trained on 1000 (colour) over the true run (grey) at four times after the warm-up.", "name": "fig-ad3-n400-snapshots"}}
plots.particle_snapshots_compare(P.snaps, chapter.snapshots(truth400, P.snaps),
                                 {lab: chapter.snapshots(r, P.snaps) for lab, r in runs400.items()});

# %% [markdown]
# ## Dependence on the Péclet number (Figures 5 and 29)
#
# The Péclet number $\mathrm{Pe} = L\,|\mathbf{A}|/D$ compares transport by the wind with
# diffusion. The paper sets $\mathbf{A} = [1, 1.74, 0]$ ($|\mathbf{A}| = 2$), takes
# $D = 0.02, 0.2, 2$ ($\mathrm{Pe} \approx 100, 10, 1$) with solver steps
# $\delta t = 10^{-2}, 10^{-3}, 10^{-4}$ (so that the diffusive step $\sqrt{D\delta t}$
# stays the same fraction of the box), observes every $\Delta t = 1$, and trains one LED
# per case on 500 + 500 samples with an LSTM of 40 units. The smaller $\delta t$ makes the
# micro solver ten times more expensive per decade of Pe, while LED's cost does not
# change. We compare latent LED with the truth over many runs (WD of the M1 and M2
# distributions, as above) and measure the speed-up for several $\rho$.

# %% tags=["hide-input"]
pe_results = {pe: chapter.peclet_case(profile, pe, cache=cache, seed=seed, device=dev, record_every=P.record_every,
                                     progress=paper) for pe in tqdm(ad3d.PECLET, desc="Péclet", disable=not paper)}
for pe, (pe_exact, st, s, micro_pe) in pe_results.items():
    e = st.summary()
    print(f"Pe = {pe_exact:6.2f}: WD M1 {e['latent']['M1']['wd']:.2e} (floor {e['floor']['M1']['wd']:.1e}), "
          f"M2 {e['latent']['M2']['wd']:.2e} (floor {e['floor']['M2']['wd']:.1e}); solver {1e3 * micro_pe:.3g} ms "
          f"per coarse step; S latent {s[math.inf]:.3g}, rho 5 {s[5.0]:.3g}, rho 9 {s[9.0]:.3g}; "
          f"mixing TV {st.mixing_tv:.1e}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 5 and Figure 29: (A, B) time-averaged WD between the distributions over runs of M1 and M2 of latent LED and of the micro solver, per Péclet number (bars), with two true ensembles against each other (grey); (C) speed-up against rho per Péclet number (rightmost point: latent propagation).", "name": "fig-ad3-peclet"}}
pe_sum = {pe: r[1].summary() for pe, r in pe_results.items()}
plots.peclet_study({pe: e["latent"]["M1"]["wd"] for pe, e in pe_sum.items()},
                   {pe: e["latent"]["M2"]["wd"] for pe, e in pe_sum.items()},
                   {pe: r[2] for pe, r in pe_results.items()},
                   {pe: e["floor"]["M1"]["wd"] for pe, e in pe_sum.items()},
                   {pe: e["floor"]["M2"]["wd"] for pe, e in pe_sum.items()});

# %% tags=["remove-cell"]
pe_note = (f"latent LED, 1 IC x {PE.n_runs} runs (paper 400), T_f={PE.T_f:g}, N={ad3d.PECLET_N[profile]}, "
           f"{ad3d.PECLET_SPLITS[profile][0]}+{ad3d.PECLET_SPLITS[profile][1]} training samples")
for m in ("m1", "m2"):
    record(f"AD3.pe_wd_{m}", {str(pe): float(f"{e['latent'][m.upper()]['wd']:.3g}") for pe, e in pe_sum.items()},
           figure="F5, F29", note=pe_note + "; floors " + ", ".join(
               f"Pe {pe}: {e['floor'][m.upper()]['wd']:.2g}" for pe, e in pe_sum.items()))
record("AD3.pe_speedup", {str(pe): float(f"{r[2][math.inf]:.3g}") for pe, r in pe_results.items()}, unit="x",
       figure="F5, F29", note=f"latent LED, batch 1, 1 thread, {dev}, decode at the end, N={ad3d.PECLET_N[profile]}; rho=5: "
       + ", ".join(f"Pe {pe}: {r[2][5.0]:.3g}" for pe, r in pe_results.items()))

# %% [markdown]
# ## What to take away
#
# Every number this chapter measured is a row of the
# [scorecard](scorecard.ipynb#advection-diffusion-in-3-d), with the paper's value and the verdict; the
# [trade-offs chapter](tradeoffs.ipynb) sets this system beside the others.
#
# - **Eight numbers for 3000.** The permutation-invariant VAE turns an unordered cloud
#   into eight latent coordinates, and its mixture decoder turns them back into clouds
#   with the right spread. The wind is periodic, and after a transient so is the law of
#   the cloud: the coarse dynamics to learn is a closed orbit. We test LED's long run and
#   the encoded true run alike for metastable states, against nulls that have none, and
#   measure how far LED's orbit lies from the true one; the printouts above say what they
#   find.
# - **Latent propagation alone drifts, the solver pulls it back.** The distribution of
#   M1 over runs separates from the truth as the latent phase error accumulates; M2 is
#   more robust. Handing the state to the particle solver every $T_m$ resets the phase,
#   and the errors fall as $\rho$ falls, at the price of the speed-up, which cannot
#   exceed about $1 + \rho$ however cheap the latent steps are.
# - **The network does not care how many particles there are.** The model trained on
#   1000 particles forecasts 400 with errors of the same kind; read them against the
#   distance between two true runs of 400, which is larger than for 1000 because the
#   sampling noise of a cloud grows as $1/\sqrt{N}$.
# - **Where LED pays most.** The speed-up is the solver's cost over LED's; LED's cost
#   is fixed, so the cheaper the solver the smaller the gain. The small-Pe case needs a
#   hundred times more solver steps per unit time than the large-Pe case, and the
#   speed-up grows accordingly.

# %% [markdown] tags=["only-quick"]
# - **Quick profile.** Small networks trained for seconds, tiny ensembles and horizons,
#   phases of a tenth of the paper's with $\rho = 9$ and 5 only, and 100 particles in the
#   Péclet study: every step
#   runs, the numbers are not the paper's. The paper profile keeps the paper's settings
#   with smaller ensembles (see the scorecard notes).
