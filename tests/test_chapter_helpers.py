"""Helpers that moved out of the chapters: the window NAD observer of the FitzHugh-Nagumo
T_f study, and the trade-offs sweep (its inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from ledlib import metrics
from ledlib.forecast.window_observers import WindowNAD


def _reference(T=60, C=2, N=5, seed=0):
    return np.random.default_rng(seed).normal(size=(T, C, N))


def test_window_nad_is_eq22_per_window_and_channel():
    truth = _reference()
    starts, horizon = np.array([3, 10, 20]), 12
    obs = WindowNAD(truth, starts, t_start=5.0, horizon=horizon)
    rng = np.random.default_rng(1)
    preds = []
    for j in range(horizon + 1):
        states = truth[starts + j][:, None] + 0.1 * rng.normal(size=(3, 2, 2, 5))  # (window, runs, C, N)
        preds.append(states[:, 0])
        obs(5.0 + j, states)
    curves = obs.curves
    assert curves.shape == (horizon + 1, 3, 2)
    for w, s in enumerate(starts):
        for c in range(2):
            y = truth[s:s + horizon + 1, c]
            y_hat = np.stack([p[w, c] for p in preds])
            span = truth[s + 1:s + horizon + 1, c]
            want = np.abs(y_hat - y).mean(axis=-1) / (span.max() - span.min())
            np.testing.assert_allclose(curves[:, w, c], want, rtol=1e-12)
            # for the forecast steps it is metrics.nad with that window's range
            np.testing.assert_allclose(curves[1:, w, c], metrics.nad(y[1:], y_hat[1:]), rtol=1e-12)


def test_window_nad_is_zero_for_the_truth_and_refuses_bad_input():
    truth = _reference()
    obs = WindowNAD(truth, [0, 7], t_start=0.0, horizon=5)
    for j in range(6):
        obs(float(j), truth[np.array([0, 7]) + j][:, None])
    assert np.all(obs.curves == 0)
    with pytest.raises(ValueError, match="starts"):
        WindowNAD(truth, [], 0.0, 5)
    with pytest.raises(ValueError, match="horizon"):
        WindowNAD(truth, [0], 0.0, 0)
    with pytest.raises(ValueError, match="exceed"):
        WindowNAD(truth, [50], 0.0, 10)
    with pytest.raises(ValueError, match="constant"):
        WindowNAD(np.ones((20, 2, 3)), [0], 0.0, 5)
    with pytest.raises(ValueError, match="outside"):
        obs(9.0, truth[[0, 7]][:, None])
    with pytest.raises(ValueError, match="states"):
        obs(1.0, truth[[0, 7, 8]][:, None])
