"""LED's test-time propagation (§2, §6.6): warm-up, latent and multiscale schemes.

The central checks use a *perfect surrogate* of the Kuramoto–Sivashinsky solver (encoder
and decoder the identity, the latent step the exact coarse map of the solver): any
scheduling of macro and micro phases must then reproduce the micro solver. A deliberately
wrong surrogate that logs its inputs checks the teacher forcing against a schedule
rebuilt here from ``system.simulate``. Real (untrained) LEDs check reproducibility.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import torch

from ledlib import configs, metrics, systems
from ledlib.forecast import (MACRO, MICRO, ParticleMoments, ValueHistogram, forecast, make_generators,
                             measure_speedup, phase_schedule)
from ledlib.nn import LED, LatentRNN


pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------------------------
# test doubles of the surrogate protocol
# ---------------------------------------------------------------------------------
class MapSurrogate:
    """encode = decode = identity on a field; ``step`` applies ``coarse_map`` to z.

    Logs every RNN input in order (``inputs``) with the hidden state it arrived with, and
    counts decoder calls. The hidden state is the number of inputs consumed so far, so a
    reset or a lost memory shows up as a wrong count.
    """

    def __init__(self, obs_shape, coarse_map, log=True, decode_gain=1.0):
        self.obs_shape = tuple(obs_shape)
        self.log = log
        self.decode_gain = decode_gain  # != 1: decode(encode(x)) != x
        self.d_z = math.prod(self.obs_shape)
        self.coarse_map = coarse_map
        self.inputs: list[np.ndarray] = []
        self.hidden_in: list[int] = []
        self.n_decode = 0
        self.n_decoded_rows = 0

    def encode(self, x):
        x = np.asarray(x, dtype=np.float64)
        return torch.from_numpy(x.reshape(x.shape[0], -1).copy())

    def decode(self, z, n_particles=None, generator=None):
        self.n_decode += 1
        self.n_decoded_rows += z.shape[0]
        return self.decode_gain * z.numpy().reshape(z.shape[0], *self.obs_shape)

    def step(self, z, hidden):
        count = 0 if hidden is None else hidden
        if self.log:
            self.inputs.append(z.numpy().copy())
            self.hidden_in.append(count)
        out = self.coarse_map(z.numpy().reshape(z.shape[0], *self.obs_shape))
        return torch.from_numpy(np.asarray(out, dtype=np.float64).reshape(z.shape[0], -1)), count + 1

    def warm_up(self, z_seq, hidden):
        z = None
        for t in range(z_seq.shape[1]):
            z, hidden = self.step(z_seq[:, t], hidden)
        return z, hidden


def exact_ks(ks, log=True):
    """The perfect surrogate of ``ks``: one coarse step of the solver itself (autonomous)."""
    return MapSurrogate(ks.obs_shape, lambda u: ks.advance(u, 0.0, ks.coarse_dt), log=log)


@pytest.fixture(scope="module")
def ks():
    return systems.KuramotoSivashinsky()


@pytest.fixture(scope="module")
def ks_x0(ks):
    return ks.initial_conditions(3, seed=4, transient=20.0)


# ---------------------------------------------------------------------------------
# a perfect surrogate reproduces the micro solver under every schedule
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("m,mu", [(None, 0), (0, 1), (3, 2), (1, 1), (2, 5)])
def test_perfect_surrogate_reproduces_micro_solver(ks, ks_x0, m, mu):
    n_warm, n_steps, h = 3, 13, ks.coarse_dt
    truth = ks.simulate(ks_x0, n_warm + n_steps)  # (3, 17, 64)
    T_m = None if m is None else m * h
    res = forecast(exact_ks(ks), ks, ks_x0, n_steps * h, T_warm=n_warm * h, T_m=T_m, T_mu=mu * h,
                   n_runs=2, record_at=(n_warm + np.arange(n_steps + 1)) * h, dtype=np.float64,
                   keep_latents="all")
    assert res.states.shape == (3, 2, n_steps + 1, 64)
    np.testing.assert_allclose(res.times, (n_warm + np.arange(n_steps + 1)) * h)
    want = np.broadcast_to(truth[:, None, n_warm:], res.states.shape)
    np.testing.assert_allclose(res.states, want, rtol=0, atol=1e-10)
    # identity encoder: the latents are the states too (float32 storage)
    np.testing.assert_allclose(res.latents, want, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(res.warm_latents, np.broadcast_to(truth[:, None, :n_warm + 1], res.warm_latents.shape),
                               rtol=1e-6, atol=1e-5)


def test_phase_labels_follow_the_cycle(ks, ks_x0):
    h = ks.coarse_dt
    res = forecast(exact_ks(ks), ks, ks_x0[:1], 9 * h, T_warm=h, T_m=3 * h, T_mu=2 * h, record_at="last")
    assert res.phases.tolist() == [MACRO] * 3 + [MICRO] * 2 + [MACRO] * 3 + [MICRO]
    assert res.rho == 1.5
    assert (phase_schedule(4, 0, 2) == MICRO).all() and (phase_schedule(4, 4, 0) == MACRO).all()


# ---------------------------------------------------------------------------------
# teacher forcing: the RNN sees the encoded micro states, with its memory carried over
# ---------------------------------------------------------------------------------
def test_teacher_forcing_feeds_encoded_micro_states(ks, ks_x0):
    """A wrong surrogate (a damped map, a decoder with gain g) makes macro and micro phases
    differ; its input log must follow the schedule rebuilt here from the solver alone."""
    h, n_warm, n_m, n_mu, n_steps, g = ks.coarse_dt, 2, 3, 2, 12, 1.1
    damp = lambda u: 0.8 * u  # noqa: E731
    sur = MapSurrogate(ks.obs_shape, damp, decode_gain=g)
    x0 = ks_x0[:2]
    res = forecast(sur, ks, x0, n_steps * h, T_warm=n_warm * h, T_m=n_m * h, T_mu=n_mu * h,
                   record_at="all", dtype=np.float64)

    # the schedule by hand: (RNN input at each call, state at each forecast step)
    inputs, states = [], []
    warm = ks.simulate(x0, n_warm)
    inputs += [warm[:, i] for i in range(n_warm + 1)]
    z = damp(warm[:, -1])  # prediction of step 1
    k = 0
    while k < n_steps:
        m = min(n_m, n_steps - k)
        for i in range(m):
            if i > 0:
                inputs.append(z)
                z = damp(z)
            states.append(g * z)
        k += m
        if k == n_steps:
            break
        mu = min(n_mu, n_steps - k)
        path = ks.simulate(g * z, mu)  # the micro solver from the decoded macro state
        states += [path[:, i] for i in range(1, mu + 1)]
        k += mu
        if k < n_steps:  # a macro phase follows: teacher forcing on [start, micro states]
            inputs += [path[:, i] for i in range(mu + 1)]
            z = damp(path[:, -1])

    assert len(sur.inputs) == len(inputs)
    for got, want in zip(sur.inputs, inputs):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    assert sur.hidden_in == list(range(len(inputs)))  # one memory, never reset
    np.testing.assert_allclose(res.states[:, 0], np.stack(states, axis=1), rtol=0, atol=1e-10)
    # the micro steps continue from decoded states, so they differ from the true solution
    truth = ks.simulate(x0, n_warm + n_steps)[:, n_warm + 1:]
    assert np.abs(res.states[:, 0] - truth).max() > 0.1


# ---------------------------------------------------------------------------------
# latent propagation and decoding only where asked
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ks_led():
    torch.manual_seed(0)
    return LED(configs.get("KS", profile="quick")).eval()


def test_latent_propagation_matches_led_rollout(ks, ks_x0, ks_led):
    """T_mu = 0 is warm-up + ``LED.rollout`` + ``LED.decode``, computed here by hand; a
    multiscale run whose first macro phase spans the horizon is the same forecast."""
    h, n_warm, n_steps = ks.coarse_dt, 4, 10
    warm = ks.simulate(ks_x0, n_warm)
    z_seq = ks_led.encode(warm.reshape(-1, 64)).reshape(3, n_warm + 1, -1)
    z1, hidden = ks_led.warm_up(z_seq)
    rest, _ = ks_led.rollout(z1, hidden, n_steps - 1)
    z_all = torch.cat([z1[:, None], rest], dim=1)
    want = ks_led.decode(z_all.reshape(-1, ks_led.d_z)).reshape(3, n_steps, 64).numpy()

    lat = forecast(ks_led, ks, ks_x0, n_steps * h, T_warm=n_warm * h, record_at="all")
    ms = forecast(ks_led, ks, ks_x0, n_steps * h, T_warm=n_warm * h, T_m=n_steps * h, T_mu=2 * h,
                  record_at="all")
    np.testing.assert_allclose(lat.states[:, 0], want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lat.latents[:, 0], z_all.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ms.states, lat.states)
    assert lat.rho == math.inf and lat.T_mu == 0.0


@pytest.mark.parametrize("schedule", ["latent", "multiscale"])
def test_states_read_sparsely_equal_those_read_every_step(ks, ks_x0, ks_led, schedule):
    """The latent loop skips reading (de-normalising, decoding) unrecorded steps: the
    recorded states must be those of a forecast that reads every step."""
    h = ks.coarse_dt
    kw = dict(T_warm=2 * h, record_at="all") | ({} if schedule == "latent" else dict(T_m=4 * h, T_mu=2 * h))
    full = forecast(ks_led, ks, ks_x0, 13 * h, **kw)
    for record_at in ("last", 5):
        sparse = forecast(ks_led, ks, ks_x0, 13 * h, **(kw | dict(record_at=record_at)))
        idx = np.searchsorted(full.times, sparse.times)
        np.testing.assert_allclose(full.times[idx], sparse.times)
        np.testing.assert_allclose(sparse.states, full.states[:, :, idx], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("record_at,n_dec", [("last", 1), ("all", 20), (5, 4), ("none", 0)])
def test_decoder_runs_only_at_requested_times(ks, ks_x0, record_at, n_dec):
    h = ks.coarse_dt
    sur = MapSurrogate(ks.obs_shape, lambda u: 0.9 * u)
    res = forecast(sur, ks, ks_x0, 20 * h, T_warm=h, record_at=record_at)
    assert sur.n_decode == n_dec
    assert len(res.times) == n_dec
    # multiscale also decodes at each macro->micro switch (here steps 3 and 8 of 10)
    sur = MapSurrogate(ks.obs_shape, lambda u: 0.9 * u)
    forecast(sur, ks, ks_x0, 10 * h, T_warm=h, T_m=3 * h, T_mu=2 * h, record_at="last")
    assert sur.n_decode == 2  # step 10 is a micro step: restricted, not decoded


def test_micro_only_equals_stochastic_solver_stream():
    """T_m = 0 is the micro solver, consuming the documented NumPy stream of ``seed``."""
    ad = systems.AdvectionDiffusion(dim=1, n_particles=40, dt=1e-2)
    x0 = ad.initial_conditions(2, seed=3, spread=0.05)
    torch.manual_seed(0)
    led = LED(configs.get("AD1D", profile="quick"))
    h, n_warm, n_steps, n_runs = ad.coarse_dt, 2, 5, 3
    res = forecast(led, ad, x0, n_steps * h, T_warm=n_warm * h, T_m=0.0, T_mu=2 * h, n_runs=n_runs,
                   seed=11, record_at="all", dtype=np.float64, t0=0.25)
    rng, _ = make_generators(11)
    truth = ad.simulate(np.repeat(x0, n_runs, axis=0), n_warm + n_steps, t0=0.25, seed=rng)
    want = truth[:, n_warm + 1:].reshape(2, n_runs, n_steps, 40, 1)
    np.testing.assert_allclose(res.states, want, rtol=0, atol=1e-12)
    assert np.abs(res.states[:, 0] - res.states[:, 1]).max() > 1e-3  # runs are distinct


# ---------------------------------------------------------------------------------
# reproducibility of stochastic ensembles (real LED, mixture decoder)
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ad_setup():
    ad = systems.AdvectionDiffusion(dim=1, n_particles=60, dt=1e-2)
    torch.manual_seed(1)
    led = LED(configs.get("AD1D", profile="quick"))
    return ad, led, ad.initial_conditions(2, seed=0, spread=0.05)


@pytest.mark.parametrize("T_mu", [0.0, 0.5])
def test_same_seed_same_ensemble_other_seed_differs(ad_setup, T_mu):
    ad, led, x0 = ad_setup
    h = ad.coarse_dt
    kw = dict(T_warm=h, T_m=2 * h, T_mu=T_mu, n_runs=3, record_at="all")
    a = forecast(led, ad, x0, 5 * h, seed=7, **kw)
    b = forecast(led, ad, x0, 5 * h, seed=7, **kw)
    c = forecast(led, ad, x0, 5 * h, seed=8, **kw)
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.latents, b.latents)
    assert np.abs(a.states - c.states).max() > 1e-3
    # repeated runs from one initial condition differ (decoder draws, micro noise)
    assert np.abs(a.states[:, 0] - a.states[:, 1]).max() > 1e-3
    # decoded samples are folded into the box before anything else sees them
    assert np.abs(a.states).max() <= 0.5 * ad.L


def test_particle_moments_observer_matches_metrics(ad_setup):
    ad, led, x0 = ad_setup
    h = ad.coarse_dt
    pm, hist = ParticleMoments(dtype=np.float64), ValueHistogram(-0.5, 0.5, 10)
    res = forecast(led, ad, x0, 4 * h, T_warm=h, T_m=h, T_mu=h, n_runs=2, seed=3, record_at=2,
                   observers=[pm, hist], dtype=np.float64)
    m1, m2 = metrics.moments(res.states)
    np.testing.assert_allclose(pm.m1, m1, rtol=1e-12)
    np.testing.assert_allclose(pm.m2, m2, rtol=1e-12)
    np.testing.assert_allclose(pm.times, res.times)
    ref, _ = np.histogram(res.states, bins=10, range=(-0.5, 0.5))
    np.testing.assert_array_equal(hist.histogram.counts, ref)


# ---------------------------------------------------------------------------------
# memory: output bounded by what was asked, whatever the horizon
# ---------------------------------------------------------------------------------
def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_horizon(ks):
    """A NumPy-backed perfect surrogate (tracemalloc sees NumPy's buffers): with only the
    last state stored the peak is a few ensemble snapshots for 20 or 100 steps."""
    x0 = ks.initial_conditions(4, seed=1, transient=0.0)
    n_ic, n_runs = 4, 32
    snapshot = n_ic * n_runs * 64 * 8  # bytes of one float64 ensemble state
    h = ks.coarse_dt
    out = {}

    def run(n):
        res = forecast(exact_ks(ks, log=False), ks, x0, n * h, T_warm=h, T_m=3 * h, T_mu=h, n_runs=n_runs,
                       record_at="last", dtype=np.float64, keep_latents="none")
        out[n] = res.states.nbytes

    short, long = _peak_bytes(lambda: run(20)), _peak_bytes(lambda: run(100))
    assert out[20] == out[100] == snapshot
    assert long < short + 2 * snapshot
    assert long < 40 * snapshot  # O(1) snapshots (solver work arrays, FFT buffers), not O(steps)
    # every 25th of 200 steps: the stored output is exactly 8 snapshots
    res = forecast(exact_ks(ks, log=False), ks, x0, 200 * h, T_warm=h, n_runs=n_runs, record_at=25,
                   dtype=np.float32, keep_latents="none")
    assert res.states.nbytes == 8 * snapshot // 2 and res.latents is None


# ---------------------------------------------------------------------------------
# speed-up bookkeeping
# ---------------------------------------------------------------------------------
def test_speedup_bounded_by_the_micro_share(ks, ks_x0, ks_led):
    """With rho = T_m / T_mu the micro solver runs T_mu/(T_m+T_mu) of the horizon, so
    S <= (rho + 1) up to timing noise; the parts add up to at most the propagation time."""
    h = ks.coarse_dt
    r = measure_speedup(ks_led, ks, ks_x0, 8 * h, T_m=h, T_mu=h, n_runs=2)
    assert 0 < r.S < 2 * (r.rho + 1)
    t = r.timings
    parts = t.latent + t.teacher + t.decode + t.encode + t.micro
    assert t.micro > 0 and t.encode > 0 and parts <= t.propagation * 1.05 + 1e-4
    assert r.warm_up > 0 and r.batch == 6 and r.n_steps == 8


# ---------------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------------
def _wrong_rnn_led():
    torch.manual_seed(0)
    led = LED(configs.get("KS", profile="quick"))
    led.rnn = LatentRNN(d_z=4, d_h=8)
    return led


@pytest.mark.parametrize("kw,match", [
    (dict(T_m=-0.25, T_mu=0.25), "T_m"),
    (dict(T_m=0.5, T_mu=-0.25), "T_mu"),
    (dict(T_warm=0.1), "T_warm"),
    (dict(T_warm=0.0), "T_warm"),
    (dict(T_warm=0.3), "T_warm"),
    (dict(horizon=1.1), "horizon"),
    (dict(horizon=0.0), "horizon"),
    (dict(T_m=0.3, T_mu=0.25), "T_m"),
    (dict(T_m=0.5, T_mu=0.1), "T_mu"),
    (dict(T_m=0.0, T_mu=0.0), "T_m and T_mu"),
    (dict(T_mu=0.5), "T_m must be given"),
    (dict(n_runs=0), "n_runs"),
    (dict(record_at=[0.3]), "record_at"),
    (dict(record_at=[100.0]), "record_at"),
    (dict(record_at="every"), "record_at"),
    (dict(keep_latents="some"), "keep_latents"),
    (dict(seed=-1), "seed"),
])
def test_bad_arguments_raise(ks, ks_x0, ks_led, kw, match):
    args = dict(horizon=1.0, T_warm=0.5)
    args.update(kw)
    horizon = args.pop("horizon")
    with pytest.raises(ValueError, match=match):
        forecast(ks_led, ks, ks_x0, horizon, **args)


def test_mismatched_models_raise(ks, ks_x0, ks_led):
    with pytest.raises(ValueError, match="latent size"):
        forecast(_wrong_rnn_led(), ks, ks_x0, 1.0, T_warm=0.5)
    fhn = systems.FitzHughNagumo()
    with pytest.raises(ValueError, match="obs_shape"):
        forecast(ks_led, fhn, fhn.initial_conditions(1), 1.0, T_warm=1.0)
    lying = MapSurrogate(ks.obs_shape, lambda u: u)
    lying.d_z = 8  # encode gives 64 numbers
    with pytest.raises(ValueError, match="latent size"):
        forecast(lying, ks, ks_x0, 1.0, T_warm=0.5)
    with pytest.raises(ValueError, match="x0"):
        forecast(ks_led, ks, ks_x0[0], 1.0, T_warm=0.5)
    with pytest.raises(TypeError, match="surrogate protocol"):
        forecast(object(), ks, ks_x0, 1.0, T_warm=0.5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_for_a_deterministic_system(ks, ks_x0, ks_led):
    h = ks.coarse_dt
    kw = dict(T_warm=2 * h, T_m=3 * h, T_mu=h, record_at="all")
    cpu = forecast(ks_led, ks, ks_x0, 9 * h, **kw)
    gpu_led = LED(ks_led.config).to("cuda")
    gpu_led.load_state_dict(ks_led.state_dict())
    gpu = forecast(gpu_led, ks, ks_x0, 9 * h, **kw)
    assert gpu.device.startswith("cuda")
    np.testing.assert_allclose(gpu.states, cpu.states, rtol=1e-3, atol=1e-3)


def test_speedup_bound_limits():
    from ledlib.forecast import speedup_bound

    assert speedup_bound(1.0, 120.0) == pytest.approx(2 / (1 + 1 / 120))
    assert speedup_bound(np.inf, 120.0) == 120.0
    # never above 1 + rho, and tends to S_latent for large rho
    rho = np.array([0.5, 1, 5, 10, 1e6])
    assert np.all(speedup_bound(rho, 50.0) <= 1 + rho)
    assert speedup_bound(1e9, 50.0) == pytest.approx(50.0, rel=1e-6)


def test_rho_sweep_with_a_perfect_surrogate_has_zero_error_at_every_rho():
    from ledlib.forecast import rho_sweep

    ks = systems.KuramotoSivashinsky()
    x0 = ks.initial_conditions(1, seed=3, transient=20.0)
    truth = ks.simulate(x0, 21)[0]  # T_warm = 1 coarse step, then 20 steps (record_at="all": 1..20)

    def error(res):
        return float(np.abs(res.states[0, 0] - truth[2:22]).max())

    pts = rho_sweep(exact_ks(ks, log=False), ks, x0, 20 * ks.coarse_dt, T_warm=ks.coarse_dt,
                    T_mu=2 * ks.coarse_dt, T_m_values=[None, 4 * ks.coarse_dt, 2 * ks.coarse_dt], error=error)
    assert [p.rho for p in pts] == [np.inf, 2.0, 1.0]
    assert max(p.error for p in pts) < 1e-5  # states are stored as float32
    assert all(p.S > 0 for p in pts)
    with pytest.raises(ValueError, match="T_m_values"):
        rho_sweep(exact_ks(ks), ks, x0, 1.0, T_warm=0.25, T_mu=0.5, T_m_values=[], error=error)
    with pytest.raises(ValueError, match="one cycle"):
        rho_sweep(exact_ks(ks), ks, x0, 1.0, T_warm=0.25, T_mu=0.5, T_m_values=[0.75], error=error)


# ---------------------------------------------------------------------------------
# the parts: Schedule, Recording, the loop's phases, the seeded lift
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n_m,n_mu", [(3, 2), (1, 1), (2, 5), (0, 2), (13, 0), (20, 3)])
def test_loop_phases_follow_the_schedule(ks, ks_x0, n_m, n_mu):
    from ledlib.forecast import Schedule

    h = ks.coarse_dt
    T_m = None if n_mu == 0 else n_m * h
    s = Schedule.from_times(h, T_warm=h, horizon=13 * h, T_m=T_m, T_mu=n_mu * h)
    res = forecast(exact_ks(ks, log=False), ks, ks_x0[:1], 13 * h, T_warm=h, T_m=T_m, T_mu=n_mu * h,
                   record_at="last")
    np.testing.assert_array_equal(res.phases, s.phases())
    assert res.macro_utilisation == np.count_nonzero(s.phases() == MACRO) / 13
    assert (s.T_warm, s.horizon, s.n_steps) == (h, 13 * h, 13)
    # over whole cycles the utilisation is the bound n_m / (n_m + n_mu)
    cycle = n_m + n_mu if n_mu else 1
    whole = forecast(exact_ks(ks, log=False), ks, ks_x0[:1], 2 * cycle * h, T_warm=h, T_m=T_m, T_mu=n_mu * h,
                     record_at="none", keep_latents="none")
    assert whole.macro_utilisation == s.macro_utilisation_bound()


@pytest.mark.parametrize("kw,match", [
    (dict(horizon=1e308), "horizon"),
    (dict(horizon=float("nan")), "horizon"),
    (dict(T_warm=1e308), "T_warm"),
    (dict(T_m="1", T_mu=0.25), "T_m"),
    (dict(T_mu=float("inf"), T_m=0.25), "T_mu"),
])
def test_schedule_rejects_unrepresentable_sizes(kw, match):
    from ledlib.forecast import Schedule

    args = dict(T_warm=0.5, horizon=1.0) | kw
    with pytest.raises(ValueError, match=match):
        Schedule.from_times(0.25, **args)
    with pytest.raises(ValueError, match="n_warm"):
        Schedule(0.25, 0, 4, 1, 1)
    with pytest.raises(ValueError, match="coarse_dt"):
        Schedule(float("nan"), 1, 4, 1, 1)


def test_times_that_cannot_be_told_apart_are_refused(ks, ks_x0, ks_led):
    from ledlib.forecast import time_micro_solver

    for t0 in (1e308, 1e12, float("inf")):
        with pytest.raises(ValueError, match="t0"):
            forecast(ks_led, ks, ks_x0, 1.0, T_warm=0.5, t0=t0)
        with pytest.raises(ValueError, match="t0"):
            time_micro_solver(ks, ks_x0, 1.0, t0=t0)
    # large but resolvable: fine, and the grid is exact
    res = forecast(ks_led, ks, ks_x0, 1.0, T_warm=0.5, t0=1e6, record_at="all")
    assert len(np.unique(res.times)) == 4


def test_recording_validates_once():
    from ledlib.forecast import Recording

    with pytest.raises(ValueError, match="keep_latents"):
        Recording(keep_latents="some")
    with pytest.raises(ValueError, match="dtype"):
        Recording(dtype=np.int8)
    with pytest.raises(TypeError, match="observers"):
        Recording(observers=[1])
    rec, lat = Recording(record_at=3, keep_latents="all").plan(10, 2.0, 0.5)
    assert rec.tolist() == [3, 6, 9] and lat.tolist() == list(range(11))
    rec, lat = Recording(record_at=[2.0, 3.5], keep_latents="recorded").plan(10, 2.0, 0.5)
    assert rec.tolist() == [0, 3] and lat.tolist() == [0, 3]


@pytest.mark.parametrize("bad", [-1.0, 0.0, float("nan"), float("inf"), "1", True])
def test_speedup_functions_reject_bad_costs(ks, ks_x0, bad):
    from ledlib.forecast import rho_sweep, speedup_bound

    h = ks.coarse_dt
    with pytest.raises(ValueError, match="micro_per_step"):
        measure_speedup(exact_ks(ks), ks, ks_x0, 4 * h, T_m=h, T_mu=h, micro_per_step=bad)
    with pytest.raises(ValueError, match="micro_per_step"):
        rho_sweep(exact_ks(ks), ks, ks_x0, 4 * h, T_warm=h, T_mu=h, T_m_values=[h], error=lambda r: 0.0,
                  micro_per_step=bad)
    with pytest.raises(ValueError, match="S_latent"):
        speedup_bound(1.0, bad)


def test_speedup_bound_and_phase_schedule_reject_bad_arguments():
    from ledlib.forecast import speedup_bound

    for rho in (-1.0, float("nan"), [1.0, -0.5], "x"):
        with pytest.raises(ValueError, match="rho"):
            speedup_bound(rho, 100.0)
    for args, name in [((10, -1, 1), "n_m"), ((10, 1, -1), "n_mu"), ((-1, 1, 1), "n_steps"),
                       ((10, 1.5, 1), "n_m"), ((10, 0, 0), "n_m and n_mu"), ((10**12, 1, 1), "n_steps")]:
        with pytest.raises(ValueError, match=name):
            phase_schedule(*args)
    with pytest.raises(ValueError, match="repeats"):
        measure_speedup(None, systems.KuramotoSivashinsky(), None, 1.0, repeats=10**12)


class _NoisyLift(systems.System):
    """A deterministic solver under a stochastic lift: the micro state carries a fast
    variable drawn at lift time, which drives the observable."""

    name = "noisy-lift"
    dt = coarse_dt = 0.5
    obs_shape = (3,)
    micro_shape = (6,)

    def initial_conditions(self, n, seed=0):
        return np.random.default_rng(seed).normal(size=(n, 3))

    def lift(self, obs, rng=None):
        obs = np.asarray(obs, dtype=np.float64)
        return np.concatenate([obs, rng.normal(size=obs.shape)], axis=1)

    def restrict(self, micro):
        return micro[:, :3].copy()

    def _advance_steps(self, micro, t0, n_steps, rng):
        for _ in range(n_steps):
            micro[:, :3] += self.dt * (micro[:, 3:] - micro[:, :3])
            micro[:, 3:] *= 0.5
        return micro


def test_a_stochastic_lift_draws_from_the_forecast_seed():
    """The warm-up lift takes the forecast's micro generator (make_generators(seed)[0]), so
    the micro solver alone reproduces a hand-made run from that stream, and seeds differ."""
    sys_ = _NoisyLift()
    x0 = sys_.initial_conditions(2)
    led = MapSurrogate((3,), lambda u: u, log=False)
    res = forecast(led, sys_, x0, 3.0, T_warm=1.0, T_m=0.0, T_mu=0.5, seed=4, record_at="all", dtype=np.float64)
    rng, _ = make_generators(4)
    micro = sys_.lift(x0, rng=rng)
    want = []
    for j in range(1, 9):
        micro = sys_.advance(micro, (j - 1) * 0.5, j * 0.5)
        want.append(sys_.restrict(micro))
    np.testing.assert_allclose(res.states[:, 0], np.stack(want, axis=1)[:, 2:], rtol=0, atol=1e-12)
    other = forecast(led, sys_, x0, 3.0, T_warm=1.0, T_m=0.0, T_mu=0.5, seed=5, record_at="all")
    assert np.abs(other.states - res.states).max() > 1e-3
