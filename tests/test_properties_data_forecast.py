"""Property-based tests of data (specs, scalers), forecast (schedule, speed-up bound,
generators, observers) and train.encode_trajectories at the public boundary (issue 14).
Profiles: "ci" (default) and "long" (HYPOTHESIS_PROFILE=long)."""

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ledlib.forecast as fc
from ledlib import configs, data, train
from ledlib.nn import LED

settings.register_profile("ci", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
trajs = hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(2, 5), st.integers(1, 3), st.integers(2, 6)),
                   elements=finite)


@given(trajs, st.sampled_from([data.MinMaxScaler, data.StandardScaler]), st.sampled_from([None, -2]))
def test_scalers_invert_and_survive_a_round_trip_through_a_dict(x, cls, axis):
    s = cls(axis).fit(x)
    y = s.transform(x)
    assert np.all(np.isfinite(y))  # a constant channel is shifted, not divided by zero
    np.testing.assert_allclose(s.inverse_transform(y), x, rtol=1e-9, atol=1e-9)
    s2 = data.scaler_from_dict(s.to_dict())
    np.testing.assert_array_equal(s2.transform(x), y)


@given(trajs, st.integers(1, 3))
def test_a_per_channel_scaler_refuses_another_channel_count(x, extra):
    s = data.StandardScaler(-2).fit(x)
    other = np.concatenate([x] + [x[:, :, :1]] * extra, axis=2)
    with pytest.raises(ValueError, match="channels"):
        s.transform(other)
    with pytest.raises(ValueError, match="channels"):
        s.inverse_transform(other)


@given(st.sampled_from([0.0, -1.0, float("nan"), float("inf")]))
def test_a_scaler_dict_with_a_zero_or_bad_range_is_refused(b):
    with pytest.raises(ValueError, match="scaler b"):
        data.scaler_from_dict({"kind": "minmax", "channel_axis": None, "a": 0.0, "b": b})


@given(trajs, st.sampled_from(["nan", "inf"]))
def test_scalers_name_nan_and_inf(x, kind):
    bad = x.copy()
    bad.flat[0] = np.nan if kind == "nan" else np.inf
    with pytest.raises(ValueError, match="x must be finite"):
        data.StandardScaler().fit(bad)
    with pytest.raises(ValueError, match="x must be finite"):
        data.StandardScaler().fit(x).transform(bad)


@given(st.sampled_from([dict(profile=None), dict(splits="train"), dict(system_kwargs="abc"),
                        dict(transient=float("nan")), dict(transient="1"), dict(profile="../x")]))
def test_dataset_spec_names_a_bad_field(change):
    with pytest.raises((ValueError, TypeError)) as err:
        data.spec("KS", "quick").with_(**change)
    assert next(iter(change)) in str(err.value)


@given(st.one_of(st.integers(max_value=-1), st.floats(), st.booleans(), st.text(min_size=1, max_size=2)))
def test_split_spec_names_a_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        data.SplitSpec(2, 5, seed=seed)


@given(st.integers(0, 200), st.integers(0, 7), st.integers(0, 7))
def test_phase_schedule_macro_fraction(n_steps, n_m, n_mu):
    if n_m == 0 and n_mu == 0:
        with pytest.raises(ValueError, match="n_m and n_mu"):
            fc.phase_schedule(n_steps, n_m, n_mu)
        return
    ph = fc.phase_schedule(n_steps, n_m, n_mu)
    assert ph.shape == (n_steps,)
    cycles, rest = divmod(n_steps, n_m + n_mu)
    assert int(np.sum(ph == fc.MACRO)) == cycles * n_m + min(rest, n_m)


@given(st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=2), st.none(), st.booleans()))
def test_phase_schedule_names_a_bad_length(v):
    for name in ("n_steps", "n_m", "n_mu"):
        kw = dict(n_steps=10, n_m=2, n_mu=1)
        kw[name] = v
        with pytest.raises((ValueError, TypeError), match=name):
            fc.phase_schedule(**kw)


@given(st.floats(0, 1e6), st.floats(1.0, 1e4))
def test_speedup_bound_lies_between_one_and_both_limits(rho, S_latent):
    S = fc.speedup_bound(rho, S_latent)
    assert 1.0 - 1e-12 <= S <= min(1.0 + rho, S_latent) * (1 + 1e-12)


@given(st.one_of(st.floats(max_value=0.0), st.just(float("nan")), st.just(float("inf")), st.text(max_size=2)))
def test_speedup_bound_names_a_bad_latent_speedup(S_latent):
    with pytest.raises((ValueError, TypeError), match="S_latent"):
        fc.speedup_bound(1.0, S_latent)


@given(st.integers(0, 2**62))
def test_make_generators_same_seed_same_numbers(seed):
    (g1, t1), (g2, t2) = fc.make_generators(seed), fc.make_generators(seed)
    np.testing.assert_array_equal(g1.random(4), g2.random(4))
    assert torch.equal(torch.rand(4, generator=t1), torch.rand(4, generator=t2))


@given(st.sampled_from(["bogus", "gpu", "cuda:x", 3, None]))
def test_make_generators_names_a_bad_device(device):
    with pytest.raises((ValueError, TypeError), match="device"):
        fc.make_generators(0, device=device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_make_generators_on_a_cpu_machine_says_cuda_is_missing():
    with pytest.raises(ValueError, match="device='cuda'.*CUDA is not available"):
        fc.make_generators(0, device="cuda")


@given(st.sampled_from([np.int8, np.int64, np.bool_, "abc", object]))
def test_particle_moments_refuse_non_floating_dtypes(dtype):
    with pytest.raises(TypeError, match="dtype"):
        fc.ParticleMoments(dtype=dtype)


@given(st.sampled_from([np.float16, np.float32, np.float64]), st.integers(0, 2**16))
def test_particle_moments_are_the_mean_and_variance(dtype, seed):
    x = np.random.default_rng(seed).normal(size=(2, 3, 50, 2))
    pm = fc.ParticleMoments(dtype=dtype)
    pm(0.0, x)
    np.testing.assert_allclose(pm.m2[..., 0, :], x.var(axis=-2), rtol=2e-3 if dtype == np.float16 else 1e-6)


_LED = None


def _led():
    global _LED
    if _LED is None:
        torch.manual_seed(0)
        _LED = LED(configs.get("KS", profile="quick")).eval()
    return _LED


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 7))
def test_encode_trajectories_does_not_depend_on_the_batch_size(n_traj, T, batch_size):
    led = _led()
    x = np.random.default_rng(n_traj * 10 + T).normal(size=(n_traj, T, *led.obs_shape))
    z = train.encode_trajectories(led, x, batch_size=batch_size)
    assert z.shape == (n_traj, T, led.d_z) and np.all(np.isfinite(z))
    np.testing.assert_allclose(z, train.encode_trajectories(led, x, batch_size=n_traj * T), rtol=1e-5, atol=1e-6)


@given(st.sampled_from(["nan", "inf", "empty", "str"]))
def test_encode_trajectories_names_bad_states(kind):
    led = _led()
    x = np.zeros((2, 3, *led.obs_shape))
    bad = {"nan": np.where(x == 0, np.nan, x), "inf": x + np.inf, "empty": x[:0], "str": "abc"}[kind]
    with pytest.raises((ValueError, TypeError), match="states"):
        train.encode_trajectories(led, bad)
    if kind in ("nan", "inf"):
        with pytest.raises(ValueError, match="x contains NaN"):
            led.encode(bad[0])
