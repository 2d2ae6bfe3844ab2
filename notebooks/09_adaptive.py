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
# # Adaptive LED
#
# The paper alternates on a fixed schedule: $T_m$ in the latent space, then $T_\mu$ on the
# micro solver, whatever the state. Its authors' later work, AdaLED
# {cite:p}`kicic2023adaled`, switches by need. An ensemble of latent RNNs gives an
# uncertainty, and each cycle runs
#
# 1. a **warm-up** on the micro solver, the RNNs teacher-forced on the encoded states;
# 2. a **comparison**: the last steps of the warm-up, the latent model running on its own
#    beside the solver; the cycle goes on to the latent space only if their difference
#    stays below a threshold;
# 3. **macro** steps while the ensemble's spread stays below a threshold (a step whose
#    predicted state is too uncertain is not taken), at most $T_m^{max}$;
# 4. back to the micro solver from the decoded, lifted state.
#
# The figure of merit is the **macro utilisation** $u$, the fraction of steps on the
# latent model. With latent steps costing $1/S_\infty$ of a micro step, the speed-up is at
# most $S = 1/(1 - u + u/S_\infty)$, the fixed schedule's bound at $\rho = u/(1-u)$. The
# question of this chapter is whether switching by need buys accuracy at a given cost:
# the error against the speed-up of the fixed schedule over $\rho$ and of the adaptive
# criterion over its thresholds, on equal terms (same LED, same initial conditions, seed,
# error measure and solver timing), with the ensemble's members and the comparison steps
# counted in LED's time.
#
# The ensemble has $K = 3$ members: LED's own RNN and two more trained on the same
# autoencoder from other seeds (`ledlib.ensemble.fit_ensemble`, cached like every model).
# Every member is fed the ensemble's mean; the spread is the members' standard deviation
# in the latent space, in units of each latent coordinate's standard deviation over the
# training data; the comparison error is measured in the same units. Both thresholds are
# set equal and swept over $10^{-2} \ldots 1$ (AdaLED's examples use $10^{-2}$ on the
# uncertainty and $10^{-3} \ldots 10^{-2}$ on the comparison error, in their units). Micro
# blocks last the trade-offs chapter's $T_\mu$, macro phases at most its longest $T_m$,
# and the comparison is the last half of each micro block. Decisions are batch-wide: the
# ensemble of forecasts is propagated in one network call and one solver call, so all of
# its members switch together, on the largest spread or error among them.

# %% tags=["parameters"]
profile = "quick"
device = "auto"
seed = 0
results_dir = ".cache/results"  # your run's scorecard entries (the book's runner passes book/results)
cache_dir = ""

# %% tags=["remove-cell"]
from IPython.display import Markdown

from ledlib import adaptive, chapter, plots

ch = chapter.setup(profile, device, results_dir=results_dir, cache_dir=cache_dir)
SYSTEMS = ("FHN", "KS", "AD1D")

# %% [markdown]
# ## The two schedules side by side
#
# For each system: LED and its ensemble (trained in the system's chapter and here, or
# loaded from the cache), the fixed schedule over the trade-offs chapter's $\rho$, the
# adaptive criterion over five thresholds, and one latent forecast of the ensemble that
# reads the spread at every step, for the calibration below. The error is the trade-offs
# chapter's: the MNAD against the true trajectory for FitzHugh–Nagumo and
# Kuramoto–Sivashinsky, the Wasserstein distance of the particle positions for the 1-D
# advection-diffusion.

# %%
studies = {name: adaptive.run_study(name, profile, cache=ch.cache, seed=seed, device=device) for name in SYSTEMS}

# %%
Markdown(adaptive.study_table(studies))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Adaptive LED (not a paper figure): error against speed-up of the fixed schedule over rho (circles) and of the adaptive criterion over its threshold (squares), per system; lines join each schedule's Pareto-optimal points. Up and to the left is better.", "name": "fig-adaptive-pareto"}}
plots.adaptive_pareto(studies);

# %% [markdown]
# The scorecard reports the adaptive criterion at the threshold 0.1: its macro
# utilisation, error and speed-up, and its speed-up divided by the fixed schedule's at the
# same error (interpolated along the fixed schedule's Pareto front, linearly in log error
# and log speed-up; not a number where that error lies outside the fixed sweep's range).

# %%
for st in studies.values():
    for claim, value in st.scorecard().items():
        ch.record(claim, float(value), note=st.note)
Markdown("\n".join(["| key | value |", "|---|---|"] + [f"| {k} | {v:.3g} |" for k, v in ch.recorded.items()]))

# %% [markdown]
# ## Does the spread predict the error?
#
# An uncertainty is only as useful as its calibration. The figure plots, for a latent
# forecast of each ensemble, the spread the criterion would read at every step against
# the error the forecast actually made there (the latent distance to the encoded true
# state, in the same units), and the means in bins of equal count.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Adaptive LED (not a paper figure): calibration, the ensemble's spread against the realised latent error at every step of a latent forecast, per system; red, the means in bins of equal count (bars: 10-90 % of the errors in the bin); dashed, error = spread.", "name": "fig-adaptive-calibration"}}
plots.adaptive_calibration(studies);

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Adaptive LED (not a paper figure): one adaptive forecast of Kuramoto-Sivashinsky at the reported threshold: macro phases shaded, the spread the criterion read, and the comparison errors at the end of the warm-up and of each micro block.", "name": "fig-adaptive-switching"}}
plots.adaptive_switching(studies["KS"].report.result);

# %% [markdown]
# ## When switching by need helps, and when it does not
#
# - An ensemble's spread measures disagreement among the members, not the error itself:
#   members trained on the same latents from different seeds can agree and be wrong
#   together, so a low spread is necessary for a good forecast but not sufficient. The
#   comparison step is the check against the solver that catches that case, at the cost
#   of running the model beside the solver.
# - For the stochastic particle systems the decoded configurations are samples, so the
#   spread of decoded states would mostly measure the sampling noise; the criterion reads
#   the latent spread, which is zero for identical members.
# - The adaptive criterion pays for its members ($K$ RNN steps instead of one) and for
#   its comparisons. Where the latent model's error grows steadily, the fixed schedule
#   with the right $\rho$ is already near the best and the adaptive criterion can only
#   match it; adaptive switching helps where the model is good in some regions of the
#   state space and bad in others, so that a fixed $T_m$ must be chosen for the worst.

# %% [markdown] tags=["only-paper"]
# In the paper profile the three systems fall on the three sides of that line (table and
# Pareto figure above). On FitzHugh–Nagumo the adaptive criterion reaches a lower error
# than every fixed $\rho$ at a comparable speed-up. On the 1-D
# advection-diffusion it lies above the fixed schedule's front (a ratio above one in the
# scorecard). On Kuramoto–Sivashinsky it only matches the fixed schedule's error, and at
# the same macro utilisation as the fixed $\rho = 10$ its speed-up is lower: on a solver
# this cheap, the ensemble's $K$ RNN steps and the comparison phases cost more than the
# latent steps save.

# %% [markdown] tags=["only-quick"]
# In the quick profile the models are small and briefly trained, so their spreads and
# errors are large; the numbers above are what these models give, not a verdict on the
# method.
