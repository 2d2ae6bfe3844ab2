"""``check_system``: the contract of :class:`~ledlib.systems.System`, run on a user's system.

Every check calls one operator and compares what it returns with what LED relies on;
a failure is a ``ValueError`` whose message starts with the operator's name.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .base import System, steps_per

__all__ = ["check_system"]


def _fail(op: str, msg: str, cause: BaseException | None = None):
    err = ValueError(f"{op}: {msg}")
    if cause is not None:
        raise err from cause
    raise err


def _call(op: str, fn, *args, **kwargs):
    """Call a user's operator; an exception inside it names the operator."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - reported with the operator's name
        _fail(op, f"raised {type(e).__name__}: {e}", e)


def _array(op: str, out, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        _fail(op, f"must return a numpy array, got {type(out).__name__}")
    if tuple(out.shape) != tuple(shape):
        _fail(op, f"returned shape {tuple(out.shape)}, expected {tuple(shape)}")
    if not np.issubdtype(out.dtype, np.number) or np.iscomplexobj(out):
        _fail(op, f"must return a real numeric array, got dtype {out.dtype}")
    bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
    if bad:
        _fail(op, f"returned {bad} non-finite values (NaN or inf)")
    return out


def _shape(name: str, value) -> tuple[int, ...]:
    if not isinstance(value, tuple) or not value or not all(
            isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in value):
        _fail(name, f"must be a non-empty tuple of positive ints, got {value!r}")
    return tuple(int(v) for v in value)


def _differs(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> float:
    """Largest difference beyond the tolerance (0.0 if ``a`` and ``b`` agree)."""
    scale = max(1.0, float(np.max(np.abs(b))))
    diff = float(np.max(np.abs(a - b)))
    return diff if diff > atol * scale + rtol * float(np.max(np.abs(b))) else 0.0


def check_system(system: System, n: int = 2, seed: int = 0, rtol: float = 1e-7, atol: float = 1e-9) -> dict:
    """Run the System contract on ``system``; raise ``ValueError`` naming the first
    operator that breaks it.

    Checked, on ``n`` initial conditions from ``seed``: ``dt`` and ``coarse_dt`` are
    positive and ``coarse_dt`` a whole multiple of ``dt``; ``initial_conditions``,
    ``lift``, ``restrict`` and ``_advance_steps`` return finite arrays of the declared
    shapes (``obs_shape``, ``micro_shape``); ``restrict(lift(x)) == x`` (within
    ``rtol``/``atol`` relative to the largest ``|x|``); ``_advance_steps`` honours
    ``n_steps`` (one call of 2k steps equals two of k, with identically seeded
    generators, and 2k steps differ from k where k steps moved the state); the same
    seed reproduces ``simulate`` (stochastic systems: lift and steps draw only from the
    generator they are given). An exception inside an operator becomes a ``ValueError``
    naming it. Returns what it measured: ``steps_per_coarse``, ``stochastic``,
    ``roundtrip_error`` (max ``|restrict(lift(x)) - x|``) and ``moves`` (whether k steps
    changed the state; ``False`` for initial conditions at a fixed point, or an
    ``_advance_steps`` that does nothing).
    """
    if not isinstance(system, System):
        raise TypeError(f"system must be a ledlib.systems.System instance, got {type(system).__name__}")
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")

    for name in ("dt", "coarse_dt"):
        v = getattr(system, name, None)
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v <= 0:
            _fail(name, f"must be a finite number > 0, got {v!r}")
    try:
        k = steps_per(system.coarse_dt, system.dt)
    except ValueError as e:
        _fail("coarse_dt", str(e), e)
    obs_shape = _shape("obs_shape", getattr(system, "obs_shape", None))
    micro_shape = _shape("micro_shape", getattr(system, "micro_shape", None))
    stochastic = bool(system.stochastic)

    def gen():
        return np.random.default_rng(seed)

    x0 = _array("initial_conditions", _call("initial_conditions", system.initial_conditions, n, seed=seed),
                (n, *obs_shape))
    again = _call("initial_conditions", system.initial_conditions, n, seed=seed)
    if not np.array_equal(again, x0):
        _fail("initial_conditions", f"the same seed ({seed}) gave different initial conditions")

    micro = _array("lift", _call("lift", system.lift, x0.copy(), rng=gen()), (n, *micro_shape))
    if not np.array_equal(_call("lift", system.lift, x0.copy(), rng=gen()), micro):
        _fail("lift", "the same generator seed gave different micro states: a lift may draw only from its rng")
    back = _array("restrict", _call("restrict", system.restrict, micro.copy()), (n, *obs_shape))
    err = _differs(back, x0, rtol, atol)
    if err:
        _fail("restrict", f"restrict(lift(x)) != x: max abs difference {err:.3g} (tolerance rtol={rtol:g}, "
                          f"atol={atol:g} relative to max|x|)")
    roundtrip = float(np.max(np.abs(back - x0)))

    def steps(m, t0, n_steps, rng):
        return _array("_advance_steps", _call("_advance_steps", system._advance_steps, m.copy(), t0, n_steps, rng),
                      (n, *micro_shape))

    rng = gen() if stochastic else None
    one = steps(micro, 0.0, 2 * k, rng)
    if stochastic and not np.array_equal(steps(micro, 0.0, 2 * k, gen()), one):
        _fail("_advance_steps", "the same generator seed gave different states: a stochastic system may "
                                "draw only from the rng it is given")
    rng = gen() if stochastic else None
    half = steps(micro, 0.0, k, rng)
    two = steps(half, k * system.dt, k, rng)
    err = _differs(one, two, rtol, atol)
    if err:
        _fail("_advance_steps", f"one call of {2 * k} steps differs from two calls of {k} (max abs difference "
                                f"{err:.3g}): it must advance exactly n_steps solver steps of dt from t0 "
                                "(and draw from rng step by step)")
    moved = not np.array_equal(half, micro)
    if moved and np.array_equal(half, one):
        _fail("_advance_steps", f"{k} and {2 * k} steps gave the same state: n_steps is ignored")

    sim = _call("simulate", system.simulate, x0.copy(), 2, seed=seed)
    _array("simulate", sim, (n, 3, *obs_shape))
    if not np.array_equal(_call("simulate", system.simulate, x0.copy(), 2, seed=seed), sim):
        _fail("simulate", f"the same seed ({seed}) gave different trajectories: every draw (lift, steps) "
                          "must come from the seeded generator")
    return {"steps_per_coarse": k, "stochastic": stochastic, "roundtrip_error": roundtrip, "moves": moved}
