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
# # Multiscale trade-offs
#
# A user of LED chooses how long to stay in the latent space ($T_m$) and how long to run
# the micro solver ($T_\mu$) each cycle. The ratio $\rho = T_m/T_\mu$ trades accuracy for
# speed: the micro phases pull the state back onto the true dynamics, but they cost what
# the micro solver costs. This chapter puts that choice side by side for the four
# benchmark systems, with the models trained in their chapters (loaded from the cache),
# the same initial conditions for every $\rho$, and the speed-up measured in the same
# process as the solver.
#
# A simple cost model bounds what multiscale propagation can gain. If a latent step costs
# $1/S_\infty$ of a micro step, a cycle of $T_m + T_\mu$ costs $T_\mu + T_m/S_\infty$ instead of
# $T_m + T_\mu$, so
#
# $$ S(\rho) = \frac{1 + \rho}{1 + \rho / S_\infty} < 1 + \rho . $$
#
# However fast the network, a run that spends half its time on the micro solver ($\rho=1$)
# is at most twice as fast as the micro solver alone.

# %% tags=["parameters"]
profile = "quick"
device = "auto"
seed = 0
results_dir = ".cache/results"  # your run's scorecard entries (the book's runner passes book/results)
cache_dir = ""

# %% tags=["remove-cell"]
import numpy as np
from IPython.display import Markdown

from ledlib import chapter, paper, plots

# matplotlib's own figure size and font here (the other chapters use 90 dpi, 9 pt)
ch = chapter.setup(profile, device, results_dir=results_dir, cache_dir=cache_dir, dpi=100, font_size=10)
# system: error kind, T_warm, T_mu, the T_m values (None: latent only), horizon (quick, paper)
SETTINGS = paper.tradeoff_settings()


# %% [markdown]
# For the deterministic systems (Kuramoto–Sivashinsky, FitzHugh–Nagumo) the error is the
# MNAD of the forecast against the true trajectory (for FitzHugh–Nagumo, the mean of the
# activator's and the inhibitor's). For the particle systems it is the Wasserstein
# distance between the predicted and the true particle positions, averaged over the
# axes and over time. Every forecast decodes at every coarse step (that is what the error
# needs, and it is the expensive way to run LED), and the micro solver is timed over the
# same horizon and batch. Where the horizon ends inside a macro phase, the run spends less
# time on the micro solver than $T_m/T_\mu$ says: the table gives the effective ratio of
# macro to micro steps, which is what the cost model and the figure use. Each time is a
# single measurement: on a shared CPU they scatter by tens of percent, so a point can sit
# slightly above the bound $1+\rho$.

# %%
sweeps = {name: chapter.tradeoff_sweep(name, profile, cache=ch.cache, seed=seed, device=device)
          for name in SETTINGS}
rows = ["| system | T_m | T_mu | rho | effective rho | error | speed-up S | bound 1 + rho |",
        "|---|---|---|---|---|---|---|---|"]
for name, pts in sweeps.items():
    for p in pts:
        rho, eff = (f"{x:.3g}" if np.isfinite(x) else "latent" for x in (p.rho, p.rho_effective))
        bound = f"{1 + p.rho_effective:.3g}" if np.isfinite(p.rho_effective) else "–"
        rows.append(f"| {name} | {'–' if p.T_m is None else f'{p.T_m:g}'} | {p.T_mu:g} | {rho} | {eff} | "
                    f"{p.error:.3g} | {p.S:.3g} | {bound} |")
Markdown("\n".join(rows))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figures 7, 20, 26 and 42 side by side: forecast error (left) and speed-up (right) against rho = T_m / T_mu for the four systems; dashed, the cost model S(rho) = (1 + rho)/(1 + rho / S_latent) with each system's measured latent speed-up; open diamonds, the paper's latent speed-up of each system (from the scorecard).", "name": "fig-tradeoffs"}}
labels = {name: ("MNAD" if SETTINGS[name][0] == "mnad" else "WD") for name in SETTINGS}
plots.tradeoff_curves(sweeps, labels);

# %% [markdown]
# ## How to choose $T_m$, $T_\mu$ and $T_{warm}$
#
# - **$T_{warm}$** must be long enough for the RNN's hidden state to forget its zero
#   initialisation: at least the window it was trained to carry (the BPTT length, and for
#   stateful training the hidden-state propagation length). Shorter warm-ups give
#   forecasts that start off the manifold ([the theory chapter](theory.ipynb) shows the effect).
# - **$T_\mu$** must be long enough for the micro solver to absorb the lifting: a decoded
#   state is a plausible coarse state, but the fine scales it implies (lattice populations
#   at equilibrium, a sampled particle configuration) relax over the micro solver's own
#   time scale — for FitzHugh–Nagumo about the 2 time units the paper drops after lifting.
#   Beyond that, longer micro phases only buy accuracy at the solver's price.
# - **$T_m$** should stay below the time over which the latent error grows past what the
#   application tolerates: about a Lyapunov time for a chaotic system, the phase-drift time
#   of the forcing for the particle systems. The speed-up then follows from the cost model:
#   choose the largest $\rho$ whose error is acceptable; $S$ cannot exceed $1 + \rho$.
# - With a trained model, the cheapest way to pick is the sweep above on a few validation
#   trajectories: `ledlib.forecast.rho_sweep` runs it for any system and error measure.
#   Choosing the phases online, switching to the micro solver when the model is
#   uncertain and retraining on the fly, is the adaptive variant AdaLED {cite:p}`kicic2023adaled`.
