"""The equation-free contract, checked on every system the same way."""

import numpy as np
import pytest

from ledlib import systems


def small_systems():
    return [
        systems.KuramotoSivashinsky(),
        systems.FitzHughNagumo(),
        systems.FitzHughNagumo(boundary="bounce-back"),
        systems.AdvectionDiffusion(dim=1, n_particles=50),
        systems.AdvectionDiffusion(dim=3, n_particles=50),
        systems.AdvectionDiffusion(dim=3, n_particles=50).on_device("cpu"),  # the torch backend
    ]


@pytest.mark.parametrize("system", small_systems(), ids=repr)
@pytest.mark.parametrize("batch", [1, 3])
def test_advance_never_modifies_the_callers_state(system, batch):
    micro = system.lift(system.initial_conditions(batch, seed=0))
    before = micro.copy()
    out = system.advance(micro, 0.0, system.coarse_dt, seed=1)
    np.testing.assert_array_equal(micro, before)
    assert not np.shares_memory(out, micro)
    assert np.abs(out - before).max() > 0


@pytest.mark.parametrize("system", small_systems(), ids=repr)
def test_simulate_equals_chained_advance_and_restrict(system):
    # one Generator shared by the chained calls: the stochastic systems draw their noise in
    # the same order either way, so the paths agree too
    x0 = system.initial_conditions(2, seed=0)
    traj = system.simulate(x0, 3, t0=0.5, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(traj[:, 0], x0)
    rng = np.random.default_rng(7)
    micro = system.lift(x0)
    for j in range(1, 4):
        micro = system.advance(micro, 0.5 + (j - 1) * system.coarse_dt, 0.5 + j * system.coarse_dt, seed=rng)
        np.testing.assert_allclose(traj[:, j], system.restrict(micro), rtol=0, atol=1e-12)


@pytest.mark.parametrize("system", small_systems(), ids=repr)
def test_restrict_inverts_lift_and_time_arguments_are_checked(system):
    x0 = system.initial_conditions(2, seed=0)
    np.testing.assert_allclose(system.restrict(system.lift(x0)), x0, rtol=0, atol=1e-14)
    micro = system.lift(x0)
    np.testing.assert_array_equal(system.advance(micro, 1.0, 1.0, seed=0), micro)
    with pytest.raises(ValueError, match="t must be >= t0"):
        system.advance(micro, 1.0, 0.5, seed=0)
    with pytest.raises(ValueError, match="multiple of dt"):
        system.advance(micro, 0.0, 0.3 * system.dt, seed=0)
    with pytest.raises(ValueError, match="n_steps"):
        system.simulate(x0, -1)
