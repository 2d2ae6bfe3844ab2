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
# # LED on your own simulator
#
# The chapters before this one run LED on the paper's four systems. This one does what a
# new user does with a simulator of their own, one that is not in the paper: a damped
# particle in the double well $U(x) = x^4/4 - x^2/2$, kicked by a fast random force
# $\eta$, an Ornstein–Uhlenbeck process of correlation time $\varepsilon = 0.01$,
#
# $$ \dot x = v, \qquad \dot v = x - x^3 - \gamma v + \eta, \qquad
#    \mathrm{d}\eta = -\frac{\eta}{\varepsilon}\,\mathrm{d}t + \sigma\sqrt{2/\varepsilon}\,\mathrm{d}W, $$
#
# with $\gamma = 0.5$, $\sigma = 3$, integrated at $\delta t = 10^{-3}$ and observed every
# $\Delta t = 0.1$. The observable is $(x, v)$; the fast force is the micro detail that
# the observable does not show, so *lifting* an observed state draws $\eta$ from its
# stationary law $N(0, \sigma^2)$, with the generator the library hands over. Every few
# tens of time units the force kicks the particle over the barrier into the other well:
# a slow, rare event on top of fast noise, the kind of multiscale behaviour LED is for.
#
# The recipe is the library's contract: subclass `System`, check it, generate data, take
# a configuration template, fit, forecast (latent and multiscale), compare with the
# solver, measure the speed-up, save and load the model.

# %% tags=["parameters"]
profile = "quick"  # "quick" (about a minute on a CPU) or "paper" (more data, the "medium" template)
device = "auto"  # "auto", "cpu" or "cuda": where the networks train and run
seed = 0
results_dir = ".cache/results"  # your run's scorecard entries (the book's runner passes book/results)
cache_dir = ""  # data and model cache; "" uses $LED_CACHE_DIR or .cache/

# %% tags=["remove-cell"]
import tempfile

import numpy as np

from ledlib import chapter, configs, data, forecast, metrics, plots, systems, train
from ledlib.nn import LED

ch = chapter.setup(profile, device, results_dir=results_dir, cache_dir=cache_dir)
SIZES = {"quick": dict(n_traj=16, n_samples=400, template="quick", T_f=100.0, n_runs=32),
         "paper": dict(n_traj=64, n_samples=1000, template="medium", T_f=400.0, n_runs=64)}[profile]

# %% [markdown]
# ## 1. The simulator
#
# A `System` declares its solver step `dt`, its observation spacing `coarse_dt`, the
# shapes of the observable and of the micro state, and four operators. Everything else
# (validation, `advance`, `simulate`, the forecast loop) comes from the library.

# %%
class NoisyDoubleWell(systems.System):
    """A damped particle in the double well x^4/4 - x^2/2 under a fast Ornstein-Uhlenbeck force."""
    name, stochastic = "noisy-double-well", True
    obs_shape, micro_shape = (2,), (3,)  # observed (x, v); micro (x, v, eta)

    def __init__(self, gamma=0.5, sigma=3.0, eps=0.01, dt=1e-3, coarse_dt=0.1):
        self.gamma, self.sigma, self.eps, self.dt, self.coarse_dt = gamma, sigma, eps, dt, coarse_dt

    def initial_conditions(self, n, seed=0):
        return np.random.default_rng(seed).uniform(-1.5, 1.5, size=(n, 2))

    def lift(self, obs, rng=None):  # the hidden force from its stationary law, drawn from rng
        eta = self.sigma * np.random.default_rng(rng).standard_normal((len(obs), 1))
        return np.concatenate([obs, eta], axis=1)

    def restrict(self, micro):
        return micro[:, :2].copy()

    def _advance_steps(self, micro, t0, n_steps, rng):
        x, v, eta = micro.T.copy()
        decay = np.exp(-self.dt / self.eps)  # the Ornstein-Uhlenbeck step is exact
        kick = self.sigma * np.sqrt(1.0 - decay**2)
        for _ in range(n_steps):
            x, v = x + self.dt * v, v + self.dt * (x - x**3 - self.gamma * v + eta)
            eta = decay * eta + kick * rng.standard_normal(len(eta))
        return np.stack([x, v, eta], axis=1)

# %% [markdown]
# ## 2. Check it, generate data, configure and fit
#
# `check_system` runs the contract on the simulator (shapes, finiteness,
# `restrict(lift(x)) == x`, that `n_steps` is honoured, that a seed reproduces a run) and
# names the operator that breaks it. `data.generate` simulates each split from its own
# seeded initial conditions and caches the result by its content; `configs.template`
# sizes the networks for the observable (two latent dimensions for the slow pair
# $(x, v)$, and a deterministic autoencoder: the observable itself is smooth, the noise
# enters the dynamics through $\eta$); `train.fit` trains the autoencoder and then the
# RNN (or loads them from the cache: the key hashes the data, the configuration and the
# seed).

# %%
sim, n, m = NoisyDoubleWell(), SIZES["n_traj"], SIZES["n_samples"]
with ch.stage("check_system and generate"):
    print("check_system:", systems.check_system(sim))
    ds = data.generate(sim, splits={"train": (n, m, 1), "val": (n // 4, m, 2), "test": (4, m, 3)},
                       cache=ch.cache, progress=ch.paper)
cfg = configs.template(sim.obs_shape, d_z=2, size=SIZES["template"], system=sim.name)
with ch.stage("fit"):
    fit = train.fit(ds, cfg, cache=ch.cache, seed=seed, device=str(ch.device), progress=ch.paper)
print(f"data: train {ds.train.states.shape}, test {ds.test.states.shape}\n{chapter.config_summary(cfg)}")
print(chapter.training_report(fit))

# %% [markdown]
# ## 3. Forecast: the solver, latent LED and multiscale LED
#
# From each test initial condition the forecast watches the solver for $T_{warm} = 2$,
# then runs an ensemble from the same warm-up in four ways: the micro solver alone (the
# reference), LED in its latent space only, and multiscale LED alternating $T_m$ of
# latent propagation with $T_\mu = 0.5$ of the solver, for $T_m = 2$ and $T_m = 0.5$
# ($\rho = T_m / T_\mu = 4$ and $1$).

# %%
x0, T_f = ds.test.states[:, 0], SIZES["T_f"]
kw = dict(T_warm=2.0, n_runs=SIZES["n_runs"], seed=seed)
PHASES = {"solver": dict(T_m=0.0, T_mu=T_f), "latent LED": {},
          "LED, rho = 4": dict(T_m=2.0, T_mu=0.5), "LED, rho = 1": dict(T_m=0.5, T_mu=0.5)}
with ch.stage("forecasts"):
    runs = {name: forecast.forecast(fit.led, sim, x0, T_f, **phases, **kw) for name, phases in PHASES.items()}

# %% [markdown]
# ## 4. Error against the solver
#
# The state is random, so the error is measured between ensembles: the short-time error
# is the NRMSE between the mean over the first half of an ensemble's runs and the mean
# over the second half of the solver's (scaled by the training data's standard
# deviation), and the valid prediction time the time it stays under 0.5. The long-time
# error is the climate: the Wasserstein distance between the marginal densities of $x$
# over those runs and all times. The solver's first half against its second half is the
# floor that the ensemble's size allows.

# %%
ref, t_rel, half = runs["solver"].states, runs["solver"].times - runs["solver"].t_start, SIZES["n_runs"] // 2
scale = ds.train.states.reshape(-1, 2).std(0)
for name, res in runs.items():
    a, b = ref[:, half:], res.states[:, :half]
    err = np.mean([metrics.nrmse(a[i].mean(0), b[i].mean(0), scale=scale) for i in range(len(x0))], axis=0)
    print(f"{name}: valid prediction time {metrics.valid_prediction_time(t_rel, err):.1f}, Wasserstein "
          f"distance of x's marginal {metrics.wasserstein(a[..., 0].ravel(), b[..., 0].ravel()):.3f}, "
          f"fraction of time in the right well {np.mean(b[..., 0] > 0):.2f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The tutorial's own simulator (not a paper figure): (a) the position x of one run from the first test initial condition after the warm-up, for the micro solver, latent LED and multiscale LED (rho = 4 and 1); (b) the marginal density of x over every run and time.", "name": "fig-own-forecast"}}
plots.own_forecast(t_rel, ref[0, 0], {k: v.states[0] for k, v in runs.items() if k != "solver"});

# %% [markdown]
# ## 5. Speed-up, and a model file that travels
#
# `measure_speedup` times the solver and LED on the same batch and horizon. The trained
# model is saved as a portable file (weights with checksums and a JSON of the
# configuration, scaler and data hash) and loaded back without the cache.

# %%
for name, phases in list(PHASES.items())[1:]:
    with ch.stage("speed-up"):
        sp = forecast.measure_speedup(fit.led, sim, x0, 20.0, n_runs=SIZES["n_runs"], repeats=2, **phases)
    print(f"{name}: speed-up S = {sp.S:.1f} (solver {1e3 * sp.micro_per_step:.2f} ms, LED "
          f"{1e3 * sp.led_per_step:.3f} ms per coarse step, batch {sp.batch})")
with ch.stage("save and load"):
    fit.led.save(path := tempfile.mkdtemp() + "/noisy-double-well")
    back = LED.load(path, device=str(ch.device))
same = [forecast.forecast(model, sim, x0, 10.0, **kw).states for model in (fit.led, back)]
print(f"loaded model forecasts the same numbers: {np.array_equal(*same)}; "
      f"data hash matches: {back.data_hash == ds.content_hash}\n{ch.stage_report()}")

# %% [markdown]
# ## What it shows
#
# The simulator took the class above; the rest of the recipe is a few calls. Latent LED,
# a deterministic RNN on the latent state, follows the solver's mean for a while and then
# relaxes to a fixed point: the noise-driven hops between the wells are not in a
# deterministic map, so its climate is wrong (a spike in the density of $x$). Multiscale
# LED gives part of the time back to the solver, which keeps the noise and the hops: the
# more of it ($\rho = 1$ against $\rho = 4$), the closer its density of $x$ to the solver's,
# and the smaller its speed-up. This is the paper's trade-off
# ([trade-offs chapter](tradeoffs.ipynb)) on a system it never saw.
