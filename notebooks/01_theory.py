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
# # Theory: from equation-free multiscale methods to LED
#
# This chapter explains what LED is made of and why, one piece at a time: the
# equation-free view of multiscale simulation it builds on, the autoencoders that move
# information between the fine and the coarse scale, the two pieces of network design the
# paper adds for particle systems (a permutation-invariant encoder and a mixture-density
# decoder), the recurrent networks that advance the coarse state, the multiscale loop
# that alternates between them and the micro solver, and the measures used to score it
# all. The paper's schematic Figures 1, 2 and 9–15 are replaced by our own diagrams, and
# most sections end with a small live demonstration that trains in seconds.

# %% tags=["parameters"]
profile = "quick"  # "quick" (seconds on a CPU) or "paper" (longer training of the demos)
device = "auto"  # "auto", "cpu" or "cuda": where the demo networks train
seed = 0
results_dir = ".cache/results"  # unused: this chapter records no claims
cache_dir = ""  # unused: nothing here is cached

# %% tags=["remove-cell"]
import time

import numpy as np
import torch
from scipy.stats import spearmanr, wasserstein_distance

from ledlib import chapter, metrics, plots, toy_data
from ledlib.configs import AutoencoderConfig, TrainConfig
from ledlib.nn import FieldEncoder, LatentRNN, PermutationInvariantEncoder, build_autoencoder
from ledlib.train import train_autoencoder, train_rnn

ch = chapter.setup(profile, device, results_dir=results_dir, cache_dir=cache_dir)  # the demo networks are tiny: 1 thread
paper, dev, rng = ch.paper, ch.device, np.random.default_rng(seed)
torch.manual_seed(seed)
print(f"profile {profile}, demos train on {dev}")

# %% [markdown]
# ## The equation-free view
#
# Write the fine-scale ("micro") simulator as a map $s_{t+\Delta t} = \mathbf{F}(s_t)$ on a
# state $s_t \in \mathbb{R}^{d_s}$ with $d_s$ large: the positions of a thousand particles,
# the populations of a lattice-Boltzmann model, a fine grid. It may be deterministic or
# stochastic. Often what we want to know evolves on a much smaller set of coarse
# variables, and the **equation-free** framework of Kevrekidis and co-workers {cite:p}`kevrekidis2003equationfree`, like
# the heterogeneous multiscale method of E and Engquist (2003) and the flow-averaging
# integrators (FLAVOR) of Tao, Owhadi and Marsden {cite:p}`tao2010flavors`, exploits this without ever writing
# an equation for those coarse variables. It needs three operators:
#
# - a **restriction** that maps a micro state to its coarse description (a density, a few
#   moments);
# - a **lifting** that builds a micro state consistent with a given coarse state (there
#   are many; which one is picked matters, because the micro solver then has to "heal"
#   the details the lifting got wrong);
# - a **coarse time-stepper** that advances the coarse state, typically by estimating its
#   time derivative from short bursts of micro simulation and taking a large
#   extrapolating step.
#
# The paper's diagnosis is that the accuracy of such schemes hinges on two hand-made
# choices: the coarse integrator, and above all the lifting. LED {cite:p}`vlachas2020led`
# replaces both by learned components: an **autoencoder** whose encoder $\mathcal{E}$
# plays the restriction and whose decoder $\mathcal{D}$ plays the lifting, and a
# **recurrent network** (RNN) as the coarse time-stepper. The RNN carries a memory: when
# only a few coarse variables are kept, their future generally depends on their past and
# not only on their present value (the Mori–Zwanzig picture of reduced dynamics), and a
# hidden state $h_t$ can represent that dependence.
#
# In `ledlib` the boundary is split in two. Every system has fixed `lift`/`restrict`
# operators between its micro state and its *observable* (for FitzHugh–Nagumo, the
# lattice populations and the two densities; for the particle and KS systems, the
# identity), and LED's autoencoder maps the observable to the latent state and back.
# The full restriction is therefore $\mathcal{E} \circ$ `restrict`, the full lifting
# `lift` $\circ\, \mathcal{D}$.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figures 1–2, redrawn: a forecast with LED on two lanes. After a warm-up on the micro solver, during which each state is encoded and the RNN is fed the encodings (teacher forcing), the RNN advances the latent state alone for T_m; the decoder then lifts it to a micro state, the micro solver runs for T_mu with its states encoded back, and the cycle repeats. In the equation-free vocabulary the encoder is the restriction, the decoder the lifting and the RNN the coarse time-stepper; the dotted stretches of the fine lane are the simulation LED saves.", "name": "fig-theory-led-loop"}}
plots.equation_free_diagram();

# %% [markdown]
# Training happens in two stages on short micro simulations. First the autoencoder is
# fitted alone, maximising the likelihood of reconstructing each state from its latent
# code (for a deterministic decoder this is the squared reconstruction error). Then the
# encoder is frozen, the training trajectories are encoded into latent trajectories, and
# the RNN learns the one-step forecast $\tilde z_{t+\Delta t} \approx z_{t+\Delta t}$ on
# them by backpropagation through time. The sections below take the pieces in turn.
#
# ## Autoencoders and variational autoencoders
#
# An autoencoder is a network with a narrow waist: an encoder maps $x \in \mathbb{R}^{d}$ to
# $z \in \mathbb{R}^{d_z}$, $d_z \ll d$, a decoder maps $z$ back to $\tilde x$, and both are
# trained so that $\tilde x \approx x$. Kramer (1991) proposed it as a nonlinear
# generalisation of principal component analysis: a linear autoencoder trained on the
# squared error spans the same subspace as the leading principal components (Baldi and
# Hornik, 1989), while a nonlinear one can follow a curved manifold.
#
# A variational autoencoder {cite:p}`kingma2014vae` makes the encoder probabilistic. For
# each $x$ it returns the mean $\mu_z(x)$ and standard deviation $\sigma_z(x)$ of a diagonal
# Gaussian $q(z \mid x)$; the decoder is fed a draw
# $z = \mu_z + \sigma_z \odot \epsilon$, $\epsilon \sim \mathcal{N}(0, I)$ (written this way
# so the gradient flows through $\mu_z$ and $\sigma_z$), and the loss adds to the
# reconstruction term the Kullback–Leibler divergence from $q(z \mid x)$ to
# $\mathcal{N}(0, I)$. The sum is the negative evidence lower bound. In practice the noise
# keeps nearby latent codes decoding to similar states and the KL term keeps the codes
# in a bounded region: a regularised autoencoder. At forecast time LED uses the mean
# $\mu_z$. (`ledlib` divides both terms by the number of reconstructed values, so the
# loss reads as an error per value.)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 9, redrawn: (a) an autoencoder squeezes x through a low-dimensional code z and is trained on the reconstruction error; (b) a variational autoencoder's encoder returns the mean and spread of a Gaussian over z, the decoder sees a draw from it, and the loss adds the KL divergence to a standard normal.", "name": "fig-theory-ae"}}
plots.autoencoder_diagram();

# %% [markdown]
# **A live example.** We sample points on a curve, a three-quarter circle that also rises
# and falls, rotate it into $\mathbb{R}^{10}$ with a random orthogonal map and add a little
# noise (standard deviation 0.02 per coordinate). The curve has one intrinsic coordinate,
# its parameter $\theta \in [0, 1]$. An autoencoder and a VAE from `ledlib.nn`, each with
# $d_z = 1$ and three residual layers of 32 units, are trained with
# `ledlib.train.train_autoencoder`; one principal component serves as the linear
# baseline. As LED does with its data sets, the networks see the data centred and scaled
# to unit variance. For the VAE this is not a detail: the squared error is the
# log-likelihood of a Gaussian of *fixed* variance, so the data's scale sets how much
# reconstruction the KL term may trade away, and on the raw data (variance about 0.1 per
# coordinate) the KL term wins and the latent code loses most of its information.

# %%
Q, _ = np.linalg.qr(rng.normal(size=(10, 3)))  # orthonormal embedding R^3 -> R^10
noise = 0.02


(_, x_train), (_, x_val), (theta, x_test) = (toy_data.curve_sample(n, rng, Q, noise)
                                             for n in (3000 if paper else 1500, 300, 500))
shift, scale = x_train.mean(0), x_train.std()  # the networks see (x - shift) / scale

# %%
t0 = time.perf_counter()
ae_fit = TrainConfig(lr=3e-3, batch_size=128, max_epochs=300 if paper else 30, patience=30 if paper else 10)
models = {}
for name, variational in (("AE", False), ("VAE", True)):
    torch.manual_seed(seed)
    models[name] = build_autoencoder(AutoencoderConfig((10,), d_z=1, n_layers=3, width=32, variational=variational))
    res = train_autoencoder(models[name], (x_train - shift) / scale, (x_val - shift) / scale, ae_fit, seed=seed,
                            device=dev, progress=False)
    print(f"{name}: {res.epochs_run} epochs, validation loss {res.best_val_loss:.2e}")
print(f"(training: {time.perf_counter() - t0:.1f} s)")

# %%
xt = torch.as_tensor((x_test - shift) / scale, device=dev)
recon, latents = {}, {}
with torch.no_grad():
    for name, m in models.items():
        mu, logvar = m.encoder(xt)
        recon[name] = m.decode(mu).cpu().numpy() * scale + shift
        z = mu[:, 0].cpu().numpy()
        latents[name] = z if logvar is None else (z, (0.5 * logvar[:, 0]).exp().cpu().numpy())
        print(f"{name:>11}: reconstruction MSE {np.mean((recon[name] - x_test) ** 2):.2e}, "
              f"|rank correlation of z with theta| {abs(spearmanr(z, theta).statistic):.4f}")
pc1 = np.linalg.svd(x_train - shift, full_matrices=False)[2][:1]  # the leading principal direction
recon["PCA, 1 mode"] = (x_test - shift) @ pc1.T @ pc1 + shift
print(f"PCA, 1 mode: reconstruction MSE {np.mean((recon['PCA, 1 mode'] - x_test) ** 2):.2e}")
print(f"noise floor: {noise ** 2:.2e} (the variance of the added noise)")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 9, live: an autoencoder and a VAE with a one-dimensional latent space, trained for a few seconds on noisy points of a curve embedded in R^10. Left: the test points (coloured by the curve parameter) and the reconstructions, in the data's leading principal plane; one principal component can only draw a straight line through the curve. Right: the latent coordinate against the curve parameter: both networks found a one-to-one coordinate along the curve; the band is the VAE's posterior standard deviation.", "name": "fig-theory-ae-demo"}}
plots.latent_manifold(theta, x_test, recon, latents);

# %% [markdown]
# Both networks reconstruct the curve to within a few times the noise floor, the
# variance of the added noise (the VAE a little less closely: its loss pays for the
# noise injected into $z$), while one principal component cannot do better than a chord
# through the curve. The latent coordinate is a monotone function of $\theta$ (rank correlation
# near 1; its sign and scale are arbitrary): the autoencoder discovered the intrinsic
# coordinate without being told it. This is what LED asks of its autoencoder on the
# benchmark systems, with $d_z = 1$ for the 1-D particle cloud and $d_z = 8$ for KS and
# FitzHugh–Nagumo.
#
# ## A permutation-invariant encoder for particles
#
# A configuration of $N$ identical particles is a *set*: listing the particles in another
# order describes the same state, so the encoder must return the same $z$ for all $N!$
# orderings. A dense network on the flattened list of positions does not. The paper
# borrows the construction of Deep Sets {cite:p}`zaheer2017deepsets`: a network $\phi$ maps each
# particle's features $x^i \in \mathbb{R}^{d_x}$ to $\mathbb{R}^{d_p}$, the features are
# averaged over the particles, and a second network $g$ maps the average to the latent
# state,
#
# $$ z = g\Big(\frac{1}{N} \sum_{i=1}^{N} \phi(x^i)\Big). $$
#
# Averaging is blind to order, and because it is an average (not a sum) the same network
# accepts any number of particles, which the paper later uses to forecast $N = 400$ with
# a model trained on $N = 1000$. The mean of $\phi$ over the particles is an estimate of
# the expectation of $\phi$ under the particles' distribution, so $z$ is in effect a
# learned summary of the density of the cloud.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 10, redrawn: the permutation-invariant encoder. One network phi, shared by all particles, lifts each particle to a feature vector; the mean over particles removes the ordering; g maps the mean to the latent state z.", "name": "fig-theory-perm"}}
plots.permutation_encoder_diagram();

# %% [markdown]
# The check: encode eight random configurations of 1000 particles in 3-D, shuffle the
# particles, encode again. A dense encoder on the flattened positions, of similar size,
# is the contrast.

# %%
gen = torch.Generator().manual_seed(seed)
x_cfg = torch.rand(8, 1000, 3, generator=gen).to(dev)
shuffled = x_cfg[:, torch.randperm(1000, generator=gen).to(dev)]
perm_enc = PermutationInvariantEncoder(d_x=3, d_p=64, d_z=4, n_layers=3, width=32).to(dev)
dense_enc = FieldEncoder((1000, 3), d_z=4, n_layers=3, width=32).to(dev)
with torch.no_grad():
    for name, enc in (("permutation-invariant", perm_enc), ("dense on the flat list", dense_enc)):
        dz = (enc(x_cfg)[0] - enc(shuffled)[0]).abs().max().item()
        print(f"{name:>22}: max |z(shuffled) - z(original)| = {dz:.1e}   (|z| ~ {enc(x_cfg)[0].abs().mean().item():.2f})")

# %% [markdown]
# The invariant encoder agrees to float32 round-off (the sum is taken in another order);
# the dense one changes at the size of $z$ itself.
#
# ## A mixture-density decoder for bounded, random states
#
# Decoding is the harder direction for particles. A latent state describes a
# *distribution* of particles, not one configuration, so the decoder should return a
# probability density from which configurations can be drawn. Following Bishop's
# mixture density networks {cite:p}`bishop1994mdn`, the paper's decoder outputs, for each $z$, the
# parameters of a mixture of $K$ Gaussians for a single particle,
#
# $$ p(v \mid z) = \sum_{k=1}^{K} \pi^k(z)\, \mathcal{N}\big(v;\ \mu_v^k(z),\ L_v^k(z) L_v^k(z)^\top\big), $$
#
# with the weights $\pi^k$ from a softmax, the means from linear outputs, and the
# covariance through a lower-triangular Cholesky factor $L_v^k$ whose diagonal passes a
# softplus, so that the covariance is positive definite for any network output and
# correlations between the coordinates of a particle are allowed. A configuration is
# decoded by drawing its $N$ particles independently from this density. Training
# maximises the log-likelihood of the observed particles.
#
# **The inverse-softplus trick.** Particles live in a box, but a Gaussian mixture has
# unbounded support and would put particles outside the walls. The positions are first
# min-max scaled to $y \in [0, 1]$ and then mapped to
# $v = \mathrm{softplus}^{-1}(y) = \ln(e^{y} - 1)$, and the mixture is fitted to $v$.
# Since $\mathrm{softplus}(v) = \ln(1 + e^{v}) > 0$ for every $v$, a sample mapped back
# through the softplus can never cross the lower wall: a pile-up of particles at $y = 0$
# becomes a long left tail in $v$, which Gaussians describe well. The upper wall is
# treated differently: $y = 1$ corresponds to the finite $v = \ln(e - 1) \approx 0.54$,
# so samples beyond it are possible, and `ledlib` clips them to the box. Because the
# change of variables has a Jacobian $\mathrm{d}v/\mathrm{d}y = 1/(1 - e^{-y})$ that does
# not depend on the network's weights, maximising the likelihood of $v$ is the same as
# maximising that of $y$.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 11, redrawn: the mixture-density decoder. An MLP maps z to the weights, means and Cholesky factors of a Gaussian mixture over the per-particle variable v; training maximises the likelihood of the data mapped through the inverse softplus, and decoding draws v and maps it back through the softplus.", "name": "fig-theory-mdn"}}
plots.mixture_decoder_diagram();

# %% [markdown]
# **A live example.** We draw particles piled up against both walls of $[0, 1]$
# (55 % from a Beta(0.8, 6) near $y = 0$, the rest mirrored from a Beta(1.2, 5) near
# $y = 1$) and fit a `MixtureDensityDecoder` with $K = 4$ kernels to them, holding the
# latent input fixed, so that the network only has to learn one density. For comparison
# the same decoder is fitted to $y$ itself, without the transform.

# %% tags=["hide-input"]
y_train, y_test = toy_data.wall_sample(8000 if paper else 3000, rng), toy_data.wall_sample(4000, rng)
z0 = torch.zeros(1, 1, device=dev)  # one fixed latent state


fits = {name: toy_data.fit_mixture(y_train, name == "softplus", 2000 if paper else 300, z0=z0, seed=seed)
        for name in ("softplus", "direct")}
print(f"(two fits: {time.perf_counter() - t0:.1f} s)")

# %%
yt = torch.as_tensor(y_test, device=dev)[None, :, None]
gen = torch.Generator().manual_seed(seed + 1)
with torch.no_grad():
    for name, dec in fits.items():
        ll = (dec.log_prob_y(yt, z0) if name == "softplus" else dec.log_prob(yt, z0)).mean().item()
        raw = dec.sample_v(z0, 20000, gen)[0, :, 0]
        raw = torch.nn.functional.softplus(raw) if name == "softplus" else raw
        out = ((raw < 0) | (raw > 1)).float().mean().item()
        s = raw.clamp(0, 1).cpu().numpy()
        print(f"{name:>8}: test log-likelihood per particle {ll:+.3f}; samples outside [0, 1]: {out:.1%} "
              f"(below 0: {(raw < 0).float().mean().item():.1%}); after clipping, WD to the test sample "
              f"{metrics.wasserstein(y_test, s):.4f}, L1 histogram distance {metrics.l1_hist_distance(y_test, s):.3f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 11, live: a four-kernel mixture-density decoder fitted to particles piled up against both walls. Left: in the scaled position y, the fit made through the inverse softplus follows both peaks and puts no mass below the lower wall; the same mixture fitted to y directly spills over both walls (shaded). Right: the same fit in v = softplus^{-1}(y), where the lower pile-up has become a long tail; dotted lines are the weighted kernels.", "name": "fig-theory-mdn-demo"}}
plots.mixture_fit(y_train, fits["softplus"], z0, direct=fits["direct"]);

# %% [markdown]
# The transformed fit has the higher likelihood on held-out particles and loses no
# samples below the lower wall; what it loses beyond the upper wall is a small fraction,
# which the clipping puts back on the wall.
#
# ## Recurrent networks: the coarse time-stepper
#
# The RNN keeps a hidden state $h_t \in \mathbb{R}^{d_h}$ and, at each coarse step, updates
# it from the current latent state and forecasts the next one:
#
# $$ h_t = \mathcal{H}(z_t, h_{t-\Delta t}), \qquad \tilde z_{t+\Delta t} = \mathcal{R}(h_t). $$
#
# The paper uses two gated cells for $\mathcal{H}$, with sigmoid gates $\sigma$ acting
# element-wise on the hidden units. The **GRU** {cite:p}`cho2014gru` computes a reset gate
# $r_t$ and an update gate $u_t$ from $[h_{t-\Delta t}, z_t]$, a candidate
# $\tilde h_t = \tanh(W_h [r_t \odot h_{t-\Delta t}, z_t] + b_h)$ that sees only the part of the
# past the reset gate lets through, and blends
# $h_t = (1 - u_t) \odot h_{t-\Delta t} + u_t \odot \tilde h_t$. The **LSTM**
# {cite:p}`hochreiter1997lstm` adds a second state, the cell $c_t$, updated additively,
# $c_t = g^f_t \odot c_{t-\Delta t} + g^i_t \odot \tilde c_t$, with forget and input gates
# $g^f_t, g^i_t$, and exposes $h_t = g^o_t \odot \tanh(c_t)$ through an output gate. In both,
# the gates let the cell keep information for many steps or overwrite it, and the
# additive update of the memory keeps gradients from vanishing over long sequences.
#
# The readout $\mathcal{R}$ is linear. In the paper it predicts the next state directly,
# $\tilde z_{t+\Delta t} = W h_t$; `ledlib`'s `LatentRNN` by default predicts the
# increment, $\tilde z_{t+\Delta t} = z_t + W h_t$, on latent states normalised to zero
# mean and unit variance, which trained faster in our tests (`residual=False` gives the
# paper's form).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 12, redrawn: the information flow through (a) a GRU and (b) an LSTM cell. Boxes are layers (an affine map of the previous hidden state and the latent input, then a sigmoid or tanh); circles and the rounded tanh are element-wise operations.", "name": "fig-theory-cells"}}
plots.rnn_cells_diagram();

# %% [markdown]
# **Stateful propagation, teacher forcing and warm-up.** Training feeds the RNN the true
# latent sequence and penalises the one-step forecast error, $\|\tilde z_{t+\Delta t} -
# z_{t+\Delta t}\|^2$ ("teacher forcing": the input is always the true state, never the
# network's own forecast). Gradients are propagated back through time over windows of a
# fixed length, while the hidden state is carried from one window to the next, so the
# network learns to use a memory longer than the window. At test time the hidden state
# starts at zero and knows nothing. LED therefore **warms up**: it runs the micro solver
# for $T_{warm}$, encodes each state and feeds the encodings to the RNN, again teacher
# forcing, so that $h_t$ summarises the recent past before the first forecast. Only then
# does the RNN iterate on its own outputs.
#
# **A live example.** The value of memory is easiest to see when the present does not
# determine the future. We observe only one coordinate of an oscillator,
# $z_t = a \sin(2\pi t / 20 + \varphi)$ with a random amplitude $a \in [0.5, 1.5]$ and
# phase $\varphi$: the same value $z_t$ occurs on the way up and on the way down and for
# many amplitudes, so no map $z_t \mapsto z_{t+1}$ can forecast it, but a few past values
# pin down both $a$ and $\varphi$. We train an LSTM and a GRU with 32 hidden units with
# `ledlib.train.train_rnn` and forecast unseen sequences after a warm-up of 15 steps,
# and, for contrast, from the last of those states alone.

# %%
period, n_warm = 20.0, 15


z_train, z_val, z_test = (toy_data.oscillator(n, T, rng, period)
                          for n, T in ((128 if paper else 32, 201), (16, 201), (8, 160)))
rnn_fit = TrainConfig(lr=3e-3, batch_size=32, bptt=25, hidden_propagation_length=100,
                      max_epochs=300 if paper else 40, patience=30 if paper else 15)
t0 = time.perf_counter()
rnns = {}
for cell in ("lstm", "gru"):
    torch.manual_seed(seed)
    rnns[cell] = LatentRNN(d_z=1, d_h=32, cell=cell)
    res = train_rnn(rnns[cell], z_train, z_val, rnn_fit, seed=seed, device=dev, progress=False)
    print(f"{cell.upper()}: {res.epochs_run} epochs, validation one-step MSE (normalised units) {res.best_val_loss:.1e}")
print(f"(training: {time.perf_counter() - t0:.1f} s)")


# %% tags=["hide-input"]
zt = torch.as_tensor(z_test, device=dev)
n_f = z_test.shape[1] - n_warm
t_f = np.arange(n_warm, z_test.shape[1])
runs = {cell.upper(): {f"warm-up of {n_warm} steps": (t_f, toy_data.rnn_forecast(rnn, zt[:, :n_warm], n_f)),
                       "no warm-up": (t_f, toy_data.rnn_forecast(rnn, zt[:, n_warm - 1:n_warm], n_f))}
        for cell, rnn in rnns.items()}
truth = z_test[:, n_warm:, 0]
print(f"RMS of the signal: {np.sqrt(np.mean(truth ** 2)):.3f}")
for model, variants in runs.items():
    for variant, (_, zf) in variants.items():
        print(f"{model}, {variant}: RMSE over the first period {np.sqrt(np.mean((zf - truth)[:, :20] ** 2)):.3f}, "
              f"over all {n_f} steps {np.sqrt(np.mean((zf - truth) ** 2)):.3f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 12, live: an LSTM and a GRU forecasting a partially observed oscillator of unknown amplitude and phase. After a teacher-forced warm-up (grey) both follow the truth for several periods, slowly losing phase; started from the same last state without the warm-up (dashed), they have to guess the amplitude and the direction of motion, and in most cases are wrong from the first steps.", "name": "fig-theory-rnn-demo"}}
plots.rnn_forecasts(np.arange(z_test.shape[1]), z_test[..., 0], runs, t_start=n_warm - 1);

# %% [markdown]
# With the warm-up, the error over the first period is a small fraction of the signal's
# RMS; without it, it is of the size of the signal. The network's input is the same in
# both cases: what differs is what its hidden state knows. This is why LED spends
# $T_{warm}$ on the micro solver before it forecasts anything, and why the system
# chapters choose $T_{warm}$ long enough to cover the memory the RNN has learned to use.
#
# ## The multiscale loop
#
# After the warm-up, LED can run in two modes. In **latent propagation** the RNN iterates
# on its own forecasts for the whole horizon, and the decoder is called only when a
# micro state is wanted. This is the cheapest mode, but every forecast error is fed back
# as the next input and the errors accumulate. In **multiscale propagation** (the paper
# calls it LEDMuS) the forecast alternates between $T_m$ time units in the latent space
# and $T_\mu$ on the micro solver: the last latent state of a macro phase is decoded and
# lifted, the micro solver evolves it for $T_\mu$, its states are encoded, and the RNN is
# teacher-forced on them so that its memory describes the trajectory actually followed.
# The micro phases pull the forecast back onto the true dynamics (and, for stochastic
# systems, back onto the right statistics); their cost is the price. The ratio
# $\rho = T_m / T_\mu$ sets the trade-off. `ledlib.forecast.forecast` implements both
# modes, and `ledlib.forecast.phase_schedule` assigns each coarse step to a phase; the
# diagram below is drawn from it.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figures 13–14, redrawn: the phases of an LED forecast with the paper's 3-D advection–diffusion settings (warm-up 60, coarse step 0.5, rho = 9 and 5), and rho = 1 for contrast. Latent propagation never returns to the particles; the multiscale schemes alternate T_m in the latent space with T_mu = 50 on the particle solver, each switch costing one decoding (down) or encoding (up).", "name": "fig-theory-timeline"}}
T_warm, horizon = 60.0, 1000.0
plots.multiscale_timeline(T_warm, [(horizon, 0.0), (450.0, 50.0), (250.0, 50.0), (50.0, 50.0)], horizon, coarse_dt=0.5);

# %% [markdown]
# **What the loop saves.** The paper measures the speed-up as the wall time of the micro
# solver per coarse time step divided by that of LED, $S = t_{micro} / t_{LED}$, both
# averaged over the forecast. (The paper writes the ratio the other way round in §3.2 and
# §8.3, but its reported values, $S \approx 10^2$, are micro over LED.) A cost model makes
# the trade-off explicit. Let one coarse step cost $c_\mu$ on the micro solver and $c_z$
# as an RNN step, and call $S_\infty = c_\mu / c_z$ the speed-up of pure latent
# propagation. Over one cycle the micro solver alone costs $(T_m + T_\mu) c_\mu$ and LED
# $T_m c_z + T_\mu c_\mu$ (neglecting the encoding and decoding at the switches), so
#
# $$ S(\rho) = \frac{T_m + T_\mu}{T_m / S_\infty + T_\mu} = \frac{1 + \rho}{1 + \rho / S_\infty}. $$
#
# Two limits follow. $S$ tends to $S_\infty$ only when $\rho \gg S_\infty$, and for any
# $S_\infty$ it stays below $1 + \rho$: at $\rho = 1$ LED can at best halve the cost,
# however fast the RNN is. The paper's FitzHugh–Nagumo study is a check on this model:

# %%
S_inf, rho = 120.0, 1.0  # the paper's latent-only speed-up for FitzHugh-Nagumo, and T_m = T_mu
S_model = (1 + rho) / (1 + rho / S_inf)
print(f"cost model: S_inf = {S_inf:g}, rho = {rho:g}  ->  S = {S_model:.2f}   (the paper measured S ≈ 2 at rho = 1)")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 14, in numbers: the speed-up of multiscale LED against rho = T_m/T_mu from the cost model, for three latent-only speed-ups, with the bound 1 + rho. The marked point is the model's value for the paper's FitzHugh–Nagumo setting (S_inf ≈ 120, rho = 1), close to the S ≈ 2 the paper measured. The measured speed-ups of our models are in the system chapters.", "name": "fig-theory-speedup"}}
plots.speedup_model(S_latent=(10.0, 100.0, 1000.0), marks={f"FHN: S = {S_model:.2f}": (rho, S_model)});

# %% [markdown]
# ## How forecasts are scored
#
# For the deterministic FitzHugh–Nagumo system the paper compares fields point by point
# with the **normalised absolute difference**, the mean over grid points of
# $|y - \hat y|$ divided by the range of the true field, and its time average, the MNAD
# (`ledlib.metrics.nad`, `mnad`). For the stochastic particle systems, and for the
# long-term statistics of KS, a forecast can only be right in distribution, and two
# distances between samples are used, both in `ledlib.metrics`:
#
# - the **L1 histogram distance** {cite:p}`cao2006accuracy`: both samples are binned on one grid spanning their
#   pooled range, with the number of bins from the Rice rule, $\lceil 2 n^{1/3} \rceil$,
#   the histograms are normalised to densities $p, q$, and the distance is the area
#   $\int |p - q|$, between 0 (same histogram) and 2 (no shared bin);
# - the **Wasserstein-1 distance**, the area between the two quantile functions,
#   $\mathrm{WD} = \int_0^1 |F_1^{-1}(\tau) - F_2^{-1}(\tau)|\, \mathrm{d}\tau$: the least
#   average distance the probability mass of one sample must be moved to turn it into
#   the other, in the units of the variable.
#
# For vector samples (3-D positions) the paper averages the distances of the marginals.
# Two samples of 2000 points show the difference between the two: a standard normal
# $Z_1$ and a two-component mixture $Z_2$.

# %%
a = rng.normal(0.0, 1.0, 2000)
b = np.where(rng.random(2000) < 0.7, rng.normal(0.5, 0.6, 2000), rng.normal(2.5, 0.5, 2000))
print(f"WD(Z1, Z2) = {metrics.wasserstein(a, b):.4f}   (scipy.stats.wasserstein_distance: {wasserstein_distance(a, b):.4f})")
print(f"L1 histogram distance = {metrics.l1_hist_distance(a, b):.4f} with {metrics.rice_bins(2000)} bins (Rice rule)")
shifts = np.linspace(0, 6, 13)
wd_shift = [metrics.wasserstein(a, a + c) for c in shifts]
l1_shift = [metrics.l1_hist_distance(a, a + c) for c in shifts]
print("shifting Z1 by c = 1, 3, 6: WD", [round(wd_shift[i], 3) for i in (2, 6, 12)],
      "  L1", [round(l1_shift[i], 3) for i in (2, 6, 12)])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Paper Figure 15, redrawn from two live samples: (a) the L1 histogram distance is the shaded area between the two density histograms on a shared Rice-rule grid; (b) the Wasserstein distance is the area between the quantile functions. (c) Shifting a sample by c: the Wasserstein distance grows as c, while the histogram distance saturates at 2 once the two samples no longer overlap.", "name": "fig-theory-measures"}}
plots.comparison_measures(a, b, shift_curve=(shifts, wd_shift, l1_shift));

# %% [markdown]
# The two measures answer different questions. The histogram distance asks how much the
# two densities overlap, regardless of how far apart the non-overlapping parts are, and
# it depends on the bins. The Wasserstein distance has the units of the variable and
# keeps growing with the separation: a forecast cloud of particles in the wrong place is
# penalised by how far it is from the right one. For the same reason, when the reference
# itself is a finite sample, neither distance goes to zero even for a perfect model, and
# the system chapters compare against the distance between two independent samples of
# the truth (the paper's "self-similar error").
#
# With these pieces in hand, the next chapters train LED on each system and reproduce the
# paper's results.
