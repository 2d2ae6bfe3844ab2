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
# # Advection–diffusion in 1-D
#
# The first test of LED in the paper (§3.1 and §8.1) is the simplest multiscale system one
# can write down: $N = 1000$ Brownian particles on the segment $[-1/2, 1/2]$ with
# reflecting walls, pushed back and forth by a slow periodic wind,
#
# $$ \mathrm{d}x = A\cos(\omega t)\,\mathrm{d}t + \sqrt{D}\,\mathrm{d}W, \qquad
#    D = 0.2,\ A = 1,\ \omega = 0.1, $$
#
# integrated by Euler–Maruyama at $\delta t = 10^{-3}$ and observed every $\Delta t = 0.5$.
# The state is a set of a thousand positions with no natural order, yet what matters is
# its shape: the wind carries the whole cloud against one wall, then the other. LED must
# find that coarse variable without being told, and forecast it.
#
# The LED of this chapter is the paper's: a variational autoencoder whose encoder is
# permutation invariant (every particle goes through the same network $\phi$ and the
# results are averaged, so the order of the particles does not matter and any $N$ can be
# encoded), a latent space of **one** dimension, a mixture-density decoder that returns a
# distribution from which the particles are sampled, and an LSTM that steps the latent
# state forward by $\Delta t$. We reproduce the paper's Tables 1–2 (the configuration),
# Figures 16–18 (single forecasts) and Figures 19–20 (the statistics of many forecasts,
# with and without the micro solver in the loop, and the speed-up).

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

from ledlib import analysis, chapter, metrics, particle_statistics, plots, train
from ledlib.forecast import ParticleMoments, forecast, measure_speedup, time_micro_solver
from ledlib.paper import ad1d

ch = chapter.setup(profile, device, results_dir=results_dir, cache_dir=cache_dir)
paper, cache, dev, record = ch.paper, ch.cache, ch.device, ch.record
P = ad1d.PROTOCOL[profile]  # the paper's times (§8.1); the quick profile's shorter ones
N_IC, N_RUNS = n_ic or P.n_ic, n_runs or P.n_runs


# %% [markdown]
# ## Data and configuration (Tables 1 and 2)
#
# Training and validation data are one trajectory each ($10^3$ samples in the paper
# profile), the test data ten more from other random initial conditions; every initial
# condition is a point source at a random place in the box. The paper searched the
# autoencoder over the grid of Table 1 and the RNN over Table 2, keeping a VAE with five
# residual tanh layers of 100 units on each side, a permutation-invariant layer of
# dimension $d_p = 200$, $d_z = 1$, four mixture kernels and an LSTM of 100 units. Bold
# values are that pick; the paper profile trains it, the quick profile a small version.
#
# In the paper profile that configuration is trained from several seeds, three
# autoencoders with four LSTMs on each, and we keep the LED that forecasts best from the
# *validation* trajectory: the mean position $M_1$ of its decoded latent forecast over the
# test horizon, against $M_1$'s expectation under the micro solver's law from the same
# state (`ledlib.paper.ad1d.validation_forecast_m1`; the test data play no part). The
# one-step validation losses cannot make this choice. A latent forecast must
# keep the wind's phase over the whole horizon $T_f = 4000$, about 64 periods, and the
# latent state changes little while the cloud is pressed against a wall, so the LSTM's
# memory has to keep the time. LSTMs with the same validation loss keep it or lose it.

# %% tags=["hide-input"]
fitted = train.fit_led("AD1D", profile, cache=cache, seed=seed, device=str(dev), progress=paper)
led, ds = fitted.led.eval(), fitted.dataset
ad1 = ds.system()
config = led.config
print(f"train {ds.train.states.shape}, validation {ds.val.states.shape}, test {ds.test.states.shape} "
      "(trajectories, samples, particles, dimension)")
ours, theirs = chapter.config_summary(config), chapter.config_summary(ad1d.paper_config())
print(f"trained here ({profile} profile): {ours}\n{chapter.training_report(fitted)}")
record("T1", ours.split(";")[0], paper=theirs.split(";")[0], figure="Table 1",
       note="autoencoder trained here (the paper's pick in the paper profile; a small version in quick)")
record("T2", ours, paper=theirs, figure="Table 2",
       note="LED trained here (the paper's pick in the paper profile; a small version in quick)")

# %% tags=["remove-input"]
chapter.paper_table(1)

# %% tags=["remove-input"]
chapter.paper_table(2)

# %% [markdown]
# ## One forecast (Figures 16 and 17)
#
# From a test configuration LED first watches the micro solver for $T_{warm}$ (the
# warm-up: every state is encoded and fed to the LSTM, so that its memory describes the
# recent past), then runs on its own: the LSTM iterates the latent state and the decoder
# samples a thousand positions whenever a configuration is wanted. We compare it with the
# micro solver continued from the same warm-up (the same random numbers up to the end of
# the warm-up): the Wasserstein distance (WD) and the L1 distance of the histograms
# (L1-NHD) between the two clouds, and the errors of their mean (M1) and variance (M2).
# Both runs are stochastic, so even a perfect model would not follow the true run
# particle by particle; what it can do is keep the cloud's shape and phase.

# %%
x_ic, t_ic = ds.test.states[:1, P.i0].astype(np.float64), float(ds.test.t[0, P.i0])
kw = dict(T_warm=P.T_warm, t0=t_ic, seed=seed, record_at="all")
truth = forecast(led, ad1, x_ic, P.T_show, T_m=0.0, T_mu=P.T_show, keep_latents="recorded", **kw)
latent = forecast(led, ad1, x_ic, P.T_show, keep_latents="recorded", **kw)
T_m9 = P.T_ms[-2]  # rho = 9, the paper's Figure 18
multi = forecast(led, ad1, x_ic, P.T_show, T_m=T_m9, T_mu=P.T_mu, keep_latents="recorded", **kw)
t_show = truth.times - truth.t_start
show = {}
for name, res in (("latent", latent), (plots.variant_label(T_m9, P.T_mu), multi)):
    show[name] = dict(t=t_show, z_pred=res.latents[0, 0], z_true=truth.latents[0, 0], phases=res.phases,
                      **metrics.particle_errors(res.states[0, 0], truth.states[0, 0], l1_hist=True))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 16: LED (d_z = 1) forecasting a test configuration after a warm-up of T_warm, iterating in its latent space only: (a) the latent state of LED (solid) and of the true run encoded (dotted), (b) WD and L1-NHD between the predicted and true particle distributions, (c, d) absolute errors of the mean M1 and the variance M2 of the positions.", "name": "fig-ad1-latent"}}
plots.particle_forecast({"latent": show["latent"]}, n_latent=1);

# %% [markdown]
# What to look for: the encoded true run (dotted) oscillates with the wind, one
# coordinate saying on which side of the box the cloud is. A well-trained LSTM
# reproduces the oscillation, but any error in its period accumulates into a phase lag,
# so the predicted cloud reaches a wall early or late and the error of M1 grows with
# time; the variance, which depends less on the phase, stays closer. (The quick
# profile's training data span less than two periods of the wind, too little for its
# small LSTM to learn the oscillation reliably.) Figure 17 shows the latent dynamics as
# a map $z_t \mapsto z_{t+1}$ over a long latent-only run (4000 time units after the
# warm-up; no micro solver, so it costs seconds), with the same map of the encoded test
# trajectories, and the distribution of all positions of the forecast against the true
# run.

# %% tags=["hide-input"]
long = forecast(led, ad1, x_ic, P.T_long, T_warm=P.T_warm, t0=t_ic, seed=seed, record_at="none",
                keep_latents="all")
z_long = long.latents[0, 0, :, 0]
z_test = train.encode_trajectories(led, ds.test.states)[..., 0]  # the true dynamics, encoded
m1_test = ds.test.states[..., 0].mean(axis=-1)
z_modes, dip = analysis.density_peaks(z_test, bins=30, smooth=3)  # the two wells' latent values
gen = torch.Generator(device=led.device).manual_seed(seed)
m1_modes = led.decode(torch.tensor(z_modes[:, None], dtype=torch.float32), generator=gen).cpu().numpy()[..., 0]
m1_modes = m1_modes.mean(axis=1)
r = np.corrcoef(z_test.ravel(), m1_test.ravel())[0, 1]

# %% tags=["hide-input"]
print(f"encoded test data: correlation of z with the mean position M1: {r:+.3f}")
print(f"density of z: highest peaks at z = {z_modes[0]:.3g} and {z_modes[1]:.3g}, lowest density between "
      f"them {dip:.2f} of the smaller peak; decoded, clouds with mean positions {m1_modes[0]:+.3f} and "
      f"{m1_modes[1]:+.3f} (walls at -0.5, +0.5)")
record("AD1.latent_dim", int(led.d_z), paper=1, figure="F16, F17",
       note=f"d_z={led.d_z} trained; on the encoded test data z vs M1 correlation {r:+.2f}, density peaks at "
            f"z={z_modes[0]:.2f}, {z_modes[1]:.2f} (dip {dip:.2f}) decoding to mean positions "
            f"{m1_modes[0]:+.2f}, {m1_modes[1]:+.2f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 17: (a) the latent state z_{t+1} of LED against z_t over a long latent run, coloured by how often each pair occurs; (b) the distribution of all particle positions of the latent forecast above against the true run.", "name": "fig-ad1-latent-map"}}
plots.latent_return_map(z_long, truth.states[0, 0], latent.states[0, 0], L=ad1.L, z_true=z_test);

# %% [markdown]
# Where the latent dynamics spend their time shows as dense regions of the return map:
# in the paper two of them, the two quasi-stable states, the cloud pressed against the
# left or the right wall for most of each half period, with fast passages in between.
# The printout above tests this on the test data encoded: how closely $z$ follows the
# cloud's mean position, where the density of $z$ peaks, and where the clouds decoded
# at the peaks sit (near opposite walls if the two states are there).
#
# ## Multiscale forecasting (Figure 18)
#
# In the multiscale mode LED alternates $T_m$ in its latent space with $T_\mu$ of the
# micro solver: the decoded cloud is handed to the solver, and the solver's states,
# encoded, update the LSTM's memory before the next latent phase. The paper uses
# $T_m = 450$, $T_\mu = 50$ ($\rho = T_m/T_\mu = 9$), so 10 % of the time runs on
# particles. Shaded: micro phases.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 18: multiscale LED on the test configuration above, alternating the latent dynamics (T_m) and the particle solver (T_mu, shaded), rho = 9; panels as above.", "name": "fig-ad1-multiscale"}}
plots.particle_forecast({plots.variant_label(T_m9, P.T_mu): show[plots.variant_label(T_m9, P.T_mu)]}, n_latent=1);

# %% [markdown]
# ## The statistics of many forecasts (Figures 19 and 20)
#
# A single run of a stochastic system says little. The paper starts LED 400 times from
# each of 20 test configurations, to $T_f = 4000$ (8000 steps), computes M1 and M2 of
# every run at every step, and compares the *distribution over runs* of each moment with
# the ground truth's, by the WD and the L1-NHD, at every time; the mean over time and
# initial conditions gives one number per variant. Variants: latent propagation and
# $T_\mu = 50$ with $T_m = 900, 450, 250$ ($\rho = 18, 9, 5$), the values the paper uses
# in 3-D, where its text names them (its 1-D text only says "four variants").
#
# **How we get the ground truth.** Running the particle solver 400 times per initial
# condition for 8000 coarse steps is $3\cdot 10^{13}$ particle steps, days on a CPU. But
# the particles do not interact, so the law of every particle is the solution of a
# linear problem, and after the chain has forgotten its start every particle of every run
# is an independent draw from that law. We compute the law of *our solver* exactly on a
# grid (`particle_statistics.em_particle_law`: each Euler–Maruyama step with reflection is a
# convolution followed by a fold, one FFT pair; the solver's own $\delta t$ is kept,
# because its bias, about $5\cdot 10^{-4}$ in the mean position against the continuous
# SDE, is as large as the sampling noise of the study), and then draw the $N = 1000$
# positions of each true run at each recorded time. This gives, exactly (up to the grid,
# whose error is below $10^{-6}$), the distribution over runs of the finite-$N$ moments at
# each time. It does not give correlations between times within a run, which the study
# does not use. Two checks below: the law forgets its start within the warm-up, and a
# real micro-solver ensemble agrees with the sampled one to within sampling noise.

# %%
groups = chapter.test_groups(ds.test, N_IC, P.i0)  # ICs: test trajectories, at one or more sample times
t0_study = groups[0][0]
tv = particle_statistics.law_mixing_distance(ad1, t0_study, P.T_warm)
print(f"total variation between the laws of particles started at the two walls, after T_warm = {P.T_warm:g}: "
      f"{tv:.1e}")
n_check, t_check = (64, 50.0) if paper else (16, 5.0)

# %%
obs = ParticleMoments(average_dims=True, dtype=np.float64)
x_chk = groups[0][1][:1]
chk = forecast(led, ad1, x_chk, t_check, T_warm=P.T_warm, T_m=0.0, T_mu=t_check, n_runs=n_check, t0=t0_study,
               seed=seed + 1, record_at=P.record_every, keep_states=False, keep_latents="none", observers=[obs])
law = particle_statistics.em_particle_law(ad1, x_chk, t0_study, chk.times)
m_law = dict(zip(("M1", "M2"), (m.mean(-1) for m in particle_statistics.sample_moments(law, 2 * n_check, ad1.n_particles,
                                                                           seed=seed + 2))))
expect = {"M1": law.mean()[0, :, 0], "M2": law.var()[0, :, 0] * (1 - 1 / ad1.n_particles)}
for name, micro_m in (("M1", obs.m1[0]), ("M2", obs.m2[0])):
    wd_ml = metrics.moment_distribution_errors(m_law[name][:n_check], micro_m)["wd"].mean()
    wd_ll = metrics.moment_distribution_errors(m_law[name][:n_check], m_law[name][n_check:])["wd"].mean()
    z = (micro_m.mean(0) - expect[name]) / (micro_m.std(0) / math.sqrt(n_check))
    print(f"{name}: WD micro solver vs law {wd_ml:.2e}, law vs law {wd_ll:.2e}; mean over {n_check} micro runs "
          f"minus the law's expectation: {np.abs(z).mean():.2f} standard errors on average (0.8 if exact)")

# %% [markdown]
# The law has forgotten where the particles started long before the warm-up ends (the
# wind presses every particle against a wall twice a period), and a real ensemble of the
# micro solver is as far from the sampled law as two samples of the law are from each
# other. We use the law for the ground truth of the study.

# %%
variants = {"latent": (None, 0.0), **{plots.variant_label(T_m, P.T_mu): (T_m, P.T_mu) for T_m in P.T_ms}}
rho = {lab: (T_m / T_mu if T_mu else math.inf) for lab, (T_m, T_mu) in variants.items()}
study = particle_statistics.moment_study(led, ad1, groups, variants, T_warm=P.T_warm, horizon=P.T_f, n_runs=N_RUNS,
                           record_every=P.record_every, seed=seed, progress=paper)
summ = study.summary()
print(f"{N_IC} initial conditions x {N_RUNS} runs to T_f = {P.T_f:g}, moments every {P.record_every} steps")
for lab, e in summ.items():
    wall = f"   (LED wall time {study.wall[lab]:.0f} s)" if lab in study.wall else ""
    print(f"{lab:>10}: WD M1 {e['M1']['wd']:.2e}  M2 {e['M2']['wd']:.2e}   "
          f"L1 M1 {e['M1']['l1']:.2f}  M2 {e['M2']['l1']:.2f}{wall}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 19: WD and L1-NHD between the predicted and true distributions over runs of the mean (M1) and the variance (M2) of the particle positions, against time after the warm-up, mean over the initial conditions, for latent LED and three multiscale variants (T_mu fixed, rho = T_m / T_mu); dashed: two independent true ensembles of the same size (the sampling floor). Unlike the paper's, the true ensembles are sampled from the particles' law (checked against the micro solver above), and the numbers of initial conditions and runs are the ones printed above (the paper: 20 x 400).", "name": "fig-ad1-stat-curves"}}
plots.moment_error_curves(study.times, study.errors, study.floor, smooth=5 if paper else 1);

# %% [markdown]
# ### Speed-up
#
# The speed-up $S$ is the micro solver's wall time per coarse step over LED's, for one
# run, both timed here on one CPU thread over the same horizon after the warm-up, with a
# configuration decoded only where the next phase needs it
# (`ledlib.forecast.measure_speedup`; for latent propagation, at the end). A user who
# wants the cloud at every step pays a decoder call per step as well; we report that
# number too.

# %%
micro = time_micro_solver(ad1, x_ic, P.T_speed / 2, t0=t_ic)
speedup = {}
for lab, (T_m, T_mu) in tqdm(variants.items(), desc="speed-up", disable=not paper):
    speedup[lab] = measure_speedup(led, ad1, x_ic, (T_m + T_mu) if T_mu else P.T_speed, T_m, T_mu, t0=t_ic,
                                   seed=seed, micro_per_step=micro, repeats=3 if paper else 1).S
s_every = measure_speedup(led, ad1, x_ic, P.T_speed, t0=t_ic, seed=seed, micro_per_step=micro, record_at="all").S
print(f"micro solver: {1e3 * micro:.3g} ms per coarse step (500 Euler-Maruyama steps of {ad1.n_particles} "
      f"particles)")
for lab, S in speedup.items():
    print(f"{lab:>10}: S = {S:8.3g}")
print(f"latent, decoding a configuration at every step: S = {s_every:.3g}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 20: the errors above averaged over time and initial conditions, per LED variant, with the sampling floor (dashed), and (e) the speed-up against rho (dotted: ours, latent propagation; dashed black: the paper's latent speed-up, from the scorecard).", "name": "fig-ad1-stat-summary"}}
plots.moment_error_summary(summ, speedup, rho, system="AD1");

# %% tags=["remove-cell"]
lab9 = plots.variant_label(P.T_ms[-2], P.T_mu)
size = (f"{N_IC} ICs x {N_RUNS} runs (paper 20 x 400), T_f={P.T_f:g}, moments every {P.record_every} steps; truth: "
        f"{2 * N_RUNS} runs per IC drawn from the solver's exact law")
fl = summ["floor"]
for m in ("m1", "m2"):
    M = m.upper()
    record(f"AD1.wd_{m}_latent", float(f"{summ['latent'][M]['wd']:.3g}"), figure="F19, F20",
           note=f"{size}; truth vs truth {fl[M]['wd']:.2g}")
    record(f"AD1.wd_{m}_multiscale", float(f"{summ[lab9][M]['wd']:.3g}"), figure="F18-F20",
           note=f"T_m={P.T_ms[-2]:g}, T_mu={P.T_mu:g}; {size}; truth vs truth {fl[M]['wd']:.2g}")
record("AD1.speedup_latent", float(f"{speedup['latent']:.3g}"), paper=100.0, unit="x", figure="F20",
       note=f"batch 1, 1 thread, {dev}, decode at the end; {s_every:.3g}x when decoding every step")

# %% [markdown]
# ## What to take away
#
# Every number this chapter measured is a row of the
# [scorecard](scorecard.ipynb#advection-diffusion-in-1-d), with the paper's value and the verdict; the
# [trade-offs chapter](tradeoffs.ipynb) sets this system beside the others.
#
# - **One number suffices.** A thousand unordered positions compress to a single latent
#   coordinate that tracks the cloud from wall to wall. Its density has two peaks, the
#   two quasi-stable states, and decoding them gives clouds at opposite walls.
# - **Latent propagation drifts in phase.** The LSTM reproduces the oscillation but not
#   its period exactly, so the distribution of M1 over runs moves away from the truth as
#   the horizon grows; M2 suffers less. Compare every error with the truth-against-truth
#   floor: only the part above it is LED's.
# - **The micro solver corrects the phase.** Every multiscale cycle restarts the latent
#   dynamics from encoded true states, so the errors stop growing; the more time on the
#   solver (smaller $\rho$), the smaller they are, and the smaller the speed-up, which
#   is bounded by about $1 + \rho$.
# - **Ground truth by physics, not brute force.** Non-interacting particles make the
#   true statistics of the finite-$N$ moments computable exactly from the one-particle
#   law of the solver; we checked it against a real ensemble.

# %% [markdown] tags=["only-quick"]
# - **Quick profile.** Its networks are small and trained for seconds on 200 samples, the
#   ensembles and horizons are tiny, the phases are a tenth of the paper's and only
#   $\rho = 9$ and 5 are run: its
#   numbers show that every step runs, not what LED can do. The paper profile trains the
#   paper's configuration and runs the study at the paper's horizon with smaller
#   ensembles (stated in the scorecard).
