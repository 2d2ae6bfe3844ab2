"""The spectrum over the resolved wavenumbers and the decoder's error floor (KS, Figure 41),
and the bootstrap interval of a first crossing (Figure 42)."""

import numpy as np
import pytest

from ledlib import analysis, metrics

L, N = 22.0, 64
M = N // 2  # modes 0..M


def field_with_spectrum(P, n_samples, seed):
    """Fields (n_samples, N) whose every sample has the power P[m] in mode m (random phases),
    so the time-averaged spectrum is P exactly (up to round-off)."""
    rng = np.random.default_rng(seed)
    c = np.full(M + 1, 2.0)
    c[0] = c[-1] = 1.0
    amp = np.sqrt(P / c) * N
    phase = rng.uniform(0, 2 * np.pi, (n_samples, M + 1))
    phase[:, [0, -1]] = 0.0  # the mean and the Nyquist mode are real
    return np.fft.irfft(amp * np.exp(1j * phase), N, axis=-1)


def only_modes(x, keep):
    """x with every Fourier mode outside the boolean mask ``keep`` removed."""
    return np.fft.irfft(np.fft.rfft(x, axis=-1) * keep, N, axis=-1)


P_TRUE = np.concatenate([[0.0], 10.0 ** -np.arange(1, M + 1)])  # 1e-1 ... 1e-32, mean 0


def test_synthetic_spectrum_round_trips():
    u = field_with_spectrum(P_TRUE, 50, seed=0)
    _, P = metrics.power_spectrum(u, L)
    # exact down to 1e-16; below, the round-off of the rfft (~1e-33 per mode) shows
    np.testing.assert_allclose(P[1:17], P_TRUE[1:17], rtol=1e-6)


def test_white_error_floor_is_found_at_its_level_and_cutoff():
    # a "decoder" that returns the truth plus white noise of std s: its error spectrum is flat
    # at 2 s^2 / n per mode, so the truth (10^-m) stands above it up to m = 6 for 3e-7
    level = 3e-7
    s = np.sqrt(level * N / 2)
    u = field_with_spectrum(P_TRUE, 4000, seed=1)
    u_rec = u + s * np.random.default_rng(2).standard_normal(u.shape)
    fl = analysis.spectrum_floor(u, u_rec, L)
    assert fl.m_c == 6
    assert fl.k_c == pytest.approx(2 * np.pi * 6 / L)
    assert fl.level == pytest.approx(level, rel=0.05)
    # a twice-lower floor resolves one more decade only if it crosses 1e-7: 1e-7 > 0.5 * 3e-7? no;
    # a floor ten times lower moves the cutoff by exactly one mode
    u_rec10 = u + s / np.sqrt(10) * np.random.default_rng(3).standard_normal(u.shape)
    assert analysis.spectrum_floor(u, u_rec10, L).m_c == 7
    # the reconstruction's spectrum levels off at the floor where the truth falls below it
    assert np.all(fl.P_rec[10:-1] > 0.5 * level)


def test_resolved_modes_rule():
    P = np.array([1e-30, 1.0, 0.1, 1e-3, 1e-9, 1e-2])
    floor = np.full(6, 1e-6)
    assert metrics.resolved_modes(P, floor) == 3  # mode 5 is above again, but not contiguous
    assert metrics.resolved_modes(P, np.full(6, 10.0)) == 0
    assert metrics.resolved_modes(P, np.zeros(6)) == 5
    with pytest.raises(ValueError, match="P_floor"):
        metrics.resolved_modes(P, floor[:5])
    with pytest.raises(ValueError, match="P_true"):
        metrics.resolved_modes(-P, floor)


def test_restricted_error_is_zero_when_right_below_k_c_and_wrong_above():
    u = field_with_spectrum(P_TRUE, 200, seed=4)
    m_c = 6
    k_c = 2 * np.pi * m_c / L
    high = np.arange(M + 1) > m_c
    wrong = only_modes(np.random.default_rng(5).standard_normal(u.shape) * 1e-2, high)  # ~3e-6 a mode
    u_pred = u + wrong
    assert metrics.spectrum_error_resolved(u, u_pred, L, k_c) < 1e-12
    assert metrics.spectrum_error_resolved(u, u_pred, L, k_c, kind="log") < 1e-9
    # the unrestricted measures see the wrong tail
    assert metrics.spectrum_error(u, u_pred, L, kind="log") > 1.0
    # one mode more (1e-7 true, ~3e-6 predicted) and the restricted error sees it too
    assert metrics.spectrum_error_resolved(u, u_pred, L, 2 * np.pi * (m_c + 1) / L, kind="log") > 0.1
    # an error inside the resolved range is seen: doubling the power of mode 3
    u_bad = u + only_modes(u, np.arange(M + 1) == 3) * (np.sqrt(2) - 1)
    rel = metrics.spectrum_error_resolved(u, u_bad, L, k_c)
    assert rel == pytest.approx(P_TRUE[3] / P_TRUE[1:m_c + 1].sum(), rel=1e-9)
    assert metrics.spectrum_error_resolved(u, u_bad, L, k_c, kind="log") == pytest.approx(np.log10(2) / m_c,
                                                                                          rel=1e-9)


def test_restricted_error_bad_input():
    u = field_with_spectrum(P_TRUE, 10, seed=6)
    with pytest.raises(ValueError, match="k_max"):
        metrics.spectrum_error_resolved(u, u, L, 0.1)  # below the first wavenumber 2 pi / 22
    with pytest.raises(ValueError, match="k_max"):
        metrics.spectrum_error_resolved(u, u, L, -1.0)
    with pytest.raises(TypeError, match="k_max"):
        metrics.spectrum_error_resolved(u, u, L, "1")
    with pytest.raises(ValueError, match="kind"):
        metrics.spectrum_error_resolved(u, u, L, 1.0, kind="l2")
    with pytest.raises(ValueError, match="grid size"):
        metrics.spectrum_error_resolved(u, u[:, :32], L, 1.0)
    with pytest.raises(ValueError, match="log"):
        metrics.spectrum_error_resolved(u, np.zeros_like(u), L, 1.0, kind="log")
    with pytest.raises(ValueError, match="same shape"):
        analysis.spectrum_floor(u, u[:5], L)


def test_first_crossing_interval():
    t = np.linspace(0, 4, 401)
    rng = np.random.default_rng(7)
    rates = rng.uniform(0.5, 2.0, 40)
    curves = 0.1 * rates[:, None] * t[None]  # curve i crosses 0.1 at 1 / rate_i
    est, lo, hi = metrics.first_crossing_interval(t, curves, 0.1, seed=0, n_boot=500)
    assert est == metrics.first_crossing(t, curves.mean(0), 0.1)
    assert est == pytest.approx(1 / rates.mean(), abs=0.011)
    # the mean of monotone curves crosses between the first and the last single crossing
    assert 1 / rates.max() - 0.01 <= lo <= est <= hi <= 1 / rates.min() + 0.01
    assert (est, lo, hi) == metrics.first_crossing_interval(t, curves, 0.1, seed=0, n_boot=500)
    # identical curves: no spread; more curves of the same kind: a narrower interval
    _, lo1, hi1 = metrics.first_crossing_interval(t, np.repeat(curves[:1], 10, 0), 0.1, seed=0, n_boot=100)
    assert lo1 == hi1 == pytest.approx(1 / rates[0], abs=0.011)
    many = 0.1 * rng.uniform(0.5, 2.0, 640)[:, None] * t[None]
    _, lo_m, hi_m = metrics.first_crossing_interval(t, many, 0.1, seed=0, n_boot=500)
    assert hi_m - lo_m < 0.5 * (hi - lo)
    with pytest.raises(ValueError, match="curves"):
        metrics.first_crossing_interval(t, curves[:, :10], 0.1, seed=0)
    with pytest.raises(ValueError, match="level"):
        metrics.first_crossing_interval(t, curves, 0.1, seed=0, level=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        metrics.first_crossing_interval(t, curves, 0.1, seed=0, n_boot=0)
    with pytest.raises(ValueError, match="seed"):
        metrics.first_crossing_interval(t, curves, 0.1, seed=-1)


def test_reconstruct_is_the_autoencoder_round_trip():
    import torch

    from ledlib import configs
    from ledlib.nn import LED

    cfg = configs.template((N,), 4, size="quick")
    torch.manual_seed(0)
    led = LED(cfg).eval()
    x = field_with_spectrum(P_TRUE, 30, seed=8).reshape(3, 10, N)
    rec = analysis.reconstruct(led, x, batch_size=7)
    assert rec.shape == x.shape and rec.dtype == np.float64
    direct = led.decode(led.encode(x.reshape(-1, N))).double().numpy().reshape(x.shape)
    # one batch: bit-equal; in batches of 7, equal to float32 round-off (the matmul blocks differ)
    np.testing.assert_array_equal(analysis.reconstruct(led, x), direct)
    np.testing.assert_allclose(rec, direct, rtol=1e-5, atol=1e-6)
    # the same mean squared error as analysis.reconstruction_error (unit scaler: same units)
    assert np.mean((rec - x) ** 2) == pytest.approx(analysis.reconstruction_error(led, x), rel=1e-5)
    with pytest.raises(ValueError, match="shape"):
        analysis.reconstruct(led, x[..., :32])
    with pytest.raises(TypeError, match="led"):
        analysis.reconstruct("model", x)


def test_without_input_noise_changes_only_the_autoencoder_noise():
    import dataclasses

    from ledlib import configs
    from ledlib.paper import ks as ks_paper

    for profile in ("quick", "paper"):
        cfg = configs.get("KS", profile)
        quiet = ks_paper.without_input_noise(cfg)
        assert cfg.ae_train.noise_level == 0.1 and quiet.ae_train.noise_level == 0.0
        assert cfg == quiet.replace(ae_train=dataclasses.replace(quiet.ae_train, noise_level=0.1))
    with pytest.raises(TypeError, match="config"):
        ks_paper.without_input_noise("KS")
