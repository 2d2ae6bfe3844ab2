"""``systems.check_system``: each broken operator of a toy System is caught, by name."""

from __future__ import annotations

import numpy as np
import pytest

from ledlib import systems


class Decay(systems.System):
    """dx/dt = -a x per component, explicit Euler: the smallest honest System."""

    name = "decay"
    stochastic = False

    def __init__(self, a: float = 0.5, dt: float = 0.01, coarse_dt: float = 0.1):
        self.a, self.dt, self.coarse_dt = a, dt, coarse_dt
        self.obs_shape = self.micro_shape = (3,)

    def initial_conditions(self, n, seed=0):
        return np.random.default_rng(seed).standard_normal((n, 3))

    def lift(self, obs, rng=None):
        return np.array(obs, dtype=float)

    def restrict(self, micro):
        return np.array(micro, dtype=float)

    def _advance_steps(self, micro, t0, n_steps, rng):
        for _ in range(n_steps):
            micro = micro - self.a * self.dt * micro
        return micro


class NoisyDecay(Decay):
    """Ornstein-Uhlenbeck by Euler-Maruyama, noise from the generator it is given."""

    stochastic = True

    def _advance_steps(self, micro, t0, n_steps, rng):
        for _ in range(n_steps):
            micro = micro - self.a * self.dt * micro + np.sqrt(self.dt) * rng.standard_normal(micro.shape)
        return micro


def test_a_correct_system_and_the_paper_systems_pass():
    report = systems.check_system(Decay())
    assert report["steps_per_coarse"] == 10 and report["moves"] and report["roundtrip_error"] == 0.0
    assert systems.check_system(NoisyDecay())["stochastic"]
    for s in (systems.KuramotoSivashinsky(), systems.FitzHughNagumo(), systems.AdvectionDiffusion(dim=1)):
        assert systems.check_system(s)["moves"]


class BadICShape(Decay):
    def initial_conditions(self, n, seed=0):
        return np.zeros((n, 4))


class BadLiftShape(Decay):
    def lift(self, obs, rng=None):
        return np.concatenate([obs, obs], axis=1)


class BadRestrictShape(Decay):
    def restrict(self, micro):
        return micro[:, :2]


class BadAdvanceShape(Decay):
    def _advance_steps(self, micro, t0, n_steps, rng):
        return micro[:1]


class NonFinite(Decay):
    def _advance_steps(self, micro, t0, n_steps, rng):
        out = super()._advance_steps(micro, t0, n_steps, rng)
        out[0, 1] = np.nan
        return out


class NotARoundTrip(Decay):
    def lift(self, obs, rng=None):
        return 2.0 * np.asarray(obs)


class IgnoresNSteps(Decay):
    def _advance_steps(self, micro, t0, n_steps, rng):
        return micro - self.a * self.dt * micro  # always one step


class FixedStepCount(Decay):
    def _advance_steps(self, micro, t0, n_steps, rng):
        return super()._advance_steps(micro, t0, 7, rng)  # a hard-coded count


class CoarseNotMultiple(Decay):
    def __init__(self):
        super().__init__(dt=0.03, coarse_dt=0.1)


class UnseededNoise(NoisyDecay):
    def _advance_steps(self, micro, t0, n_steps, rng):
        return super()._advance_steps(micro, t0, n_steps, np.random.default_rng())  # ignores its rng


class UnseededLift(Decay):
    def lift(self, obs, rng=None):
        return np.asarray(obs) + 0.0 * np.random.default_rng().random()  # same values, but...

    def restrict(self, micro):
        return micro


class DrawingLift(Decay):
    """A lift that draws hidden micro detail without the generator it is given."""

    def __init__(self):
        super().__init__()
        self.micro_shape = (6,)

    def lift(self, obs, rng=None):
        return np.concatenate([obs, np.random.default_rng().standard_normal(obs.shape)], axis=1)

    def restrict(self, micro):
        return micro[:, :3]


class OldLiftSignature(Decay):
    def lift(self, obs):  # before lift took rng
        return np.array(obs, dtype=float)


class RaisingRestrict(Decay):
    def restrict(self, micro):
        raise RuntimeError("boom")


@pytest.mark.parametrize("system, match", [
    (BadICShape(), r"^initial_conditions: returned shape \(2, 4\), expected \(2, 3\)"),
    (BadLiftShape(), r"^lift: returned shape \(2, 6\), expected \(2, 3\)"),
    (BadRestrictShape(), r"^restrict: returned shape \(2, 2\), expected \(2, 3\)"),
    (BadAdvanceShape(), r"^_advance_steps: returned shape \(1, 3\), expected \(2, 3\)"),
    (NonFinite(), r"^_advance_steps: returned 1 non-finite values"),
    (NotARoundTrip(), r"^restrict: restrict\(lift\(x\)\) != x"),
    (IgnoresNSteps(), r"^_advance_steps: one call of 20 steps differs from two calls of 10"),
    (FixedStepCount(), r"^_advance_steps: one call of 20 steps differs from two calls of 10"),
    (CoarseNotMultiple(), r"^coarse_dt: coarse_dt=0.1 must be a positive whole multiple of dt=0.03"),
    (UnseededNoise(), r"^_advance_steps: the same generator seed gave different states"),
    (DrawingLift(), r"^lift: the same generator seed gave different micro states"),
    (OldLiftSignature(), r"^lift: raised TypeError"),
    (RaisingRestrict(), r"^restrict: raised RuntimeError: boom"),
])
def test_each_broken_operator_is_named(system, match):
    with pytest.raises(ValueError, match=match):
        systems.check_system(system)


def test_a_lift_that_ignores_its_rng_but_does_not_draw_passes():
    # the check compares outputs: a lift whose draw does not reach the result is fine
    systems.check_system(UnseededLift())


def test_a_stochastic_lift_is_seeded_by_simulate():
    """simulate passes its own generator to lift: the seeded lift, then the seeded steps."""

    class SeededDrawingLift(NoisyDecay):
        def __init__(self):
            super().__init__()
            self.micro_shape = (6,)

        def lift(self, obs, rng=None):
            return np.concatenate([obs, rng.standard_normal(obs.shape)], axis=1)

        def restrict(self, micro):
            return micro[:, :3]

        def _advance_steps(self, micro, t0, n_steps, rng):
            # the hidden half drives the observable: the lift's draw shows in the data
            for _ in range(n_steps):
                micro = micro.copy()
                micro[:, :3] += self.dt * (micro[:, 3:] - self.a * micro[:, :3])
                micro[:, 3:] += np.sqrt(self.dt) * rng.standard_normal(micro[:, 3:].shape)
            return micro

    s = SeededDrawingLift()
    systems.check_system(s)
    x0 = s.initial_conditions(4, seed=1)
    a, b = s.simulate(x0, 3, seed=7), s.simulate(x0, 3, seed=7)
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(7)
    micro = s._advance_steps(s.lift(x0, rng=rng), 0.0, s.steps_per_coarse, rng)
    np.testing.assert_array_equal(a[:, 1], s.restrict(micro))
    assert not np.allclose(s.simulate(x0, 3, seed=8)[:, 1], a[:, 1])


def test_bad_arguments():
    with pytest.raises(TypeError, match="System instance"):
        systems.check_system(object())
    with pytest.raises(ValueError, match="n must be"):
        systems.check_system(Decay(), n=0)
    with pytest.raises(ValueError, match="seed must be"):
        systems.check_system(Decay(), seed=-1)
