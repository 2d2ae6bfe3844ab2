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
# # The benchmark systems
#
# LED is tested in the paper on three families of fine-scale ("micro") simulators, each
# hard in its own way: a cloud of **Brownian particles** under periodic forcing (a
# stochastic state with no natural ordering), the **FitzHugh–Nagumo** reaction–diffusion
# system simulated by lattice Boltzmann (a mesoscale state that is not the observed
# density), and the chaotic **Kuramoto–Sivashinsky** equation. This chapter introduces
# them, shows their dynamics as the paper does, and checks the solvers' physics.
#
# Every system in `ledlib.systems` offers the same equation-free operators: `lift` (from
# the observed coarse state to a micro state), `restrict` (back), and `advance` (evolve
# the micro state in time). `simulate` strings them together and records the observable
# every `coarse_dt`. A simulator of your own becomes an LED system by providing the same
# three operators.

# %% tags=["parameters"]
profile = "quick"  # "quick" (minutes on a CPU) or "paper" (the paper's sizes)
device = "auto"  # unused here: the micro solvers run in NumPy
seed = 0
results_dir = ".cache/results"  # your run's scorecard entries (the book's runner passes book/results)
cache_dir = ""  # data cache; "" uses $LED_CACHE_DIR or .cache/

# %% tags=["remove-cell"]
import time

import numpy as np

from ledlib import bench, chapter, data, plots, systems
from ledlib.systems.fhn_reference import solve_fhn_pde

ch = chapter.setup(profile, "cpu", results_dir=results_dir, cache_dir=cache_dir)  # the solvers run in NumPy
paper, cache, record = ch.paper, ch.cache, ch.record


# %% [markdown]
# ## Kuramoto–Sivashinsky
#
# The Kuramoto–Sivashinsky (KS) equation
#
# $$ \partial_t u = -\nu\,\partial_x^4 u - \partial_x^2 u - u\,\partial_x u, \qquad x \in [0, L),\ \text{periodic}, $$
#
# destabilises long waves ($-\partial_x^2 u$), damps short ones ($-\nu\partial_x^4 u$) and
# transfers energy between them through the advective nonlinearity. With $L = 22$ and
# $\nu = 1$ it is chaotic on a low-dimensional inertial manifold, which is why the paper
# uses it to ask whether LED finds that manifold. We discretise it on $n = 64$ nodes and
# integrate with the exponential time-differencing Runge–Kutta scheme ETDRK4 of Kassam &
# Trefethen {cite:p}`kassam2005etdrk4` at $\delta t = 0.025$, observing every $\Delta t = 0.25$. The solver
# works with the real FFT: with a complex FFT, round-off breaks the Hermitian symmetry of
# the spectrum and grows in the linearly unstable modes until the run blows up.

# %%
ks = systems.KuramotoSivashinsky()
ks_data = data.load("KS", profile, cache=cache, progress=False)
u = ks_data.test.states[0, : 800 if paper else 400]
t_u = ks_data.test.t[0, : len(u)] - ks_data.test.t[0, 0]
print(f"KS test data: {ks_data.test.states.shape[0]} trajectories x {ks_data.test.n_samples} samples, "
      f"{ks_data.train.n_samples} training samples")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 8A: a Kuramoto–Sivashinsky trajectory (L = 22, 64 nodes) from the test data, time in Lyapunov times (the exponent measured below).", "name": "fig-systems-ks-contour"}}
lyap = ks.lyapunov_exponent(t_total=2000.0 if paper else 300.0, n_trajectories=16 if paper else 4, seed=seed)
plots.ks_contour(u, t_u, ks.x, lyapunov_exponent=lyap.exponent);

# %% [markdown]
# The largest Lyapunov exponent, from Benettin's method {cite:p}`benettin1980lyapunov` (a reference and a perturbed
# trajectory advanced together, the separation renormalised every time unit), tells how
# fast forecasts must lose accuracy: the paper reports $\Lambda_1 = 0.048$, a Lyapunov
# time of 20.8.

# %% tags=["hide-input"]
print(f"largest Lyapunov exponent: {lyap.exponent:.4f} ± {lyap.stderr:.4f} "
      f"(Lyapunov time {1 / lyap.exponent:.1f}); paper: 0.048 (20.83)")
record("KS.lyapunov_exponent", round(lyap.exponent, 4), paper=0.048, unit="1/time", figure="§8.4",
       note=f"Benettin, {len(lyap.per_trajectory)} trajectories x {lyap.t_total:g} time units")

# %% [markdown]
# ## FitzHugh–Nagumo by lattice Boltzmann
#
# The FitzHugh–Nagumo (FHN) equations couple an activator $u$ and an inhibitor $v$,
#
# $$ \partial_t u = D^u \partial_x^2 u + u - u^3 - v, \qquad
#    \partial_t v = D^v \partial_x^2 v + \epsilon\,(u - a_1 v - a_0), $$
#
# on $[0, 20]$ with no-flux walls, $D^u = 1$, $D^v = 4$, $a_0 = -0.03$, $a_1 = 2$ and a
# slow inhibitor, $\epsilon = 0.006$. As in the paper (after {cite:t}`lee2020cspde`) the fine
# scale is a lattice-Boltzmann model: on each of 101 nodes three populations per species
# move left, stay, or move right each step $\delta t = 0.005$, relax towards the
# equal-weight equilibrium $\rho/3$ at the rate $\omega = 2/(1 + 3D\,\delta t/\delta x^2)$,
# and gain the reaction term. The observed densities are the sums of the populations
# (restriction); lifting a density sets all three populations to a third of it, so the
# first time units after a lifting are a transient, which the paper drops ($T = 2$).
# Training uses the paper's six initial conditions:

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 36: the six initial conditions of the activator u and inhibitor v (initial conditions 0–2 train, 3–4 validate, 5 tests).", "name": "fig-systems-fhn-ics"}}
fhn = systems.FitzHughNagumo()
roles = ["train"] * 3 + ["val"] * 2 + ["test"]
plots.fhn_initial_conditions(fhn.x, fhn.paper_initial_conditions(), roles);

# %%
fhn_data = data.load("FHN", profile, cache=cache, progress=False)
test = fhn_data.test
print(f"FHN test trajectory: t = {test.t[0, 0]:g} ... {test.t[0, -1]:g}, {test.n_samples} samples")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figures 32–33, ground truth only: lattice-Boltzmann activator and inhibitor densities from the test initial condition, after the transient of 2 time units (LED's prediction follows in the FitzHugh–Nagumo chapter).", "name": "fig-systems-fhn-densities"}}
plots.fhn_densities(test.states[0, :, 0], test.states[0, :, 1], test.t[0], fhn.x);

# %% [markdown]
# Two checks of this solver belong in the book. First, lattice Boltzmann is a
# mesoscale *discretisation* of the FHN PDE, so it should agree with an independent
# finite-difference solution of the PDE on the same grid to $O(\delta x^2)$. Second, the
# walls: the paper's data set copies a wall node's own outgoing population into the
# population that should enter from outside. That wall is first order and not
# conservative. We measure the leak with the reaction switched off, where the total
# mass of each species must stay constant, against the textbook halfway bounce-back wall.

# %%
ic0 = fhn.paper_initial_conditions()[:1]  # the first training IC
t_check = np.array([0.0, 5.0, 20.0])  # the first time is the initial one
ref = np.stack(solve_fhn_pde(ic0[0, 0], ic0[0, 1], t_check), axis=1)  # (time, species, node)
for boundary in ("paper", "bounce-back"):
    lb = systems.FitzHughNagumo(boundary=boundary)
    micro = lb.lift(ic0)
    for j in (1, 2):
        micro = lb.advance(micro, t_check[j - 1], t_check[j])
        err = np.linalg.norm(lb.restrict(micro)[0] - ref[j], axis=-1) / np.linalg.norm(ref[j], axis=-1)
        print(f"{boundary:>11} walls, t = {t_check[j]:4g}: relative L2 difference LB vs finite differences "
              f"u {err[0]:.2%}, v {err[1]:.2%}")

# %%
ics = fhn.paper_initial_conditions()
for boundary in ("paper", "bounce-back"):
    pure = systems.FitzHughNagumo(boundary=boundary, reaction=False)
    rho = pure.restrict(pure.advance(pure.lift(ics), 0.0, 20.0))
    change = rho.sum(axis=-1) / ics.sum(axis=-1) - 1  # (IC, species)
    print(f"{boundary} walls, reaction off, relative mass change by t = 20, ICs 0-5:")
    for name, c in zip("uv", change.T):
        print(f"   {name}: " + "  ".join(f"{x:+.1e}" for x in c))

# %% [markdown]
# With nothing but diffusion acting, the paper's walls change the mass by a fraction of a
# percent to a few percent over 20 time units, depending on the initial condition
# (the tests bound it for all six), and the error halves when the grid is refined: a
# first-order wall. Bounce-back keeps the mass to round-off. We keep the paper's walls as the
# default so that our data match the paper's, and offer `boundary="bounce-back"`.
#
# ## Advection–diffusion of Brownian particles
#
# $N = 1000$ non-interacting particles in the box $[-1/2, 1/2]^{d}$ follow
#
# $$ \mathrm{d}\mathbf{x} = \mathbf{A}\cos(\boldsymbol{\omega} t)\,\mathrm{d}t + \sqrt{D}\,\mathrm{d}\mathbf{W}, $$
#
# with reflecting walls, integrated by Euler–Maruyama at $\delta t = 10^{-3}$ and
# observed every $\Delta t = 0.5$. (The paper's convention puts $\sqrt{D}$ in front of the
# Wiener increment, so each coordinate's variance grows like $D t$.) The forcing depends
# on absolute time, so a trajectory remembers when it started. In 1-D ($D = 0.2$, $A = 1$,
# $\omega = 0.1$) the cloud is pushed back and forth between the walls; in 3-D ($D = 0.2$,
# $\mathbf{A} = [1, 1.5, 0]$, $\boldsymbol{\omega} = [0.2, 1, 0.5]$) the forcing in two
# directions beats at different frequencies.

# %%
ad1_data = data.load("AD1D", profile, cache=cache, progress=False)
ad3_data = data.load("AD3D", profile, cache=cache, progress=False)
ad1 = ad1_data.system()
x1, t1 = ad1_data.train.states[0], ad1_data.train.t[0]
print(f"AD 1-D training data: {x1.shape[0]} samples of {x1.shape[1]} particles, t = {t1[0]:g} ... {t1[-1]:g}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figures 16–20 (the data beneath them, not their results: LED's forecasts and errors are in the 1-D chapter): advection–diffusion of 1000 particles in 1-D, the density of their positions over time, with the mean position M1.", "name": "fig-systems-ad1-density"}}
plots.particle_density_1d(x1, t1, L=ad1.L);

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 24 (the training data only; the 3-D chapter sets LED's forecast beside it): advection–diffusion in 3-D, particle configurations at four times; the point release at t = 0 is drawn in its own, zoomed limits (said in its title).", "name": "fig-systems-ad3-snapshots"}}
x3, t3 = ad3_data.train.states[0], ad3_data.train.t[0]
pick = np.linspace(0, len(t3) - 1, 4).astype(int)
plots.particle_snapshots_3d(x3[pick], t3[pick]);

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figures 25–26 (the true statistics only; LED's errors in them are in the 3-D chapter): mean (M1) and variance (M2) of the 3-D particle positions per direction over time: (a, b) the whole training record, (c, d) its first 200 samples, where the oscillation can be followed.", "name": "fig-systems-ad3-moments"}}
plots.moments_over_time(t3, x3.mean(axis=1), x3.var(axis=1));

# %% [markdown]
# ## What the solvers cost
#
# LED's speed-up is the micro solver's cost per coarse time step divided by LED's, so
# the micro solvers must be good ones. Each is vectorised over a batch of trajectories.
# The benchmark below times them, for one trajectory and a batch of 64, against a plain
# NumPy loop of the same scheme that advances one trajectory at a time (first checking
# that both give the same states).

# %%
t_start = time.perf_counter()
rows = bench.run_systems(units=2 if paper else 1, batches=(1, 64))
print(f"\n(benchmark wall time {time.perf_counter() - t_start:.0f} s)")
