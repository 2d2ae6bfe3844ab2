"""Argument checks shared across ``ledlib``; each error names the parameter and what is
allowed. Wrong types raise ``TypeError`` where the caller's API promises it (solvers,
metrics), ``ValueError`` otherwise (configurations, forecasting)."""

from __future__ import annotations

import math
import re
from numbers import Integral, Real

import numpy as np


def int_at_least(name: str, value, lo: int = 1) -> int:
    """``value`` as an int >= ``lo``; anything else is a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    if value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value}")
    return int(value)


def finite_real(name: str, value) -> float:
    """``value`` as a finite float; anything else is a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def positive(name: str, value, *, integer: bool = False) -> float | int:
    """``value`` if it is a finite positive number (an int if ``integer``): a wrong type is
    a ``TypeError``, a wrong value a ``ValueError``."""
    if integer:
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be a positive integer, got {value!r}")
        if value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value}")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a positive real number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def nonnegative_int(name: str, value) -> int:
    """``value`` as an int >= 0: a wrong type is a ``TypeError``, a negative a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return int(value)


def real_in(name: str, value, lo: float = 0.0, *, strict: bool = False, hi: float | None = None,
            hi_strict: bool = False) -> float:
    """``value`` as a finite float in ``[lo, hi]`` (``strict``/``hi_strict``: open ends);
    anything else is a ``ValueError`` that prints the allowed range."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    bad_lo = value <= lo if strict else value < lo
    bad_hi = hi is not None and (value >= hi if hi_strict else value > hi)
    if bad_lo or bad_hi:
        lo_s = f"{'>' if strict else '>='} {lo}"
        hi_s = "" if hi is None else f" and {'<' if hi_strict else '<='} {hi}"
        raise ValueError(f"{name} must be {lo_s}{hi_s}, got {value}")
    return float(value)


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def safe_name(name: str, value) -> str:
    """A name that may become part of a file name: letters, digits and ``-_.``, starting with
    a letter or digit (so no path separators, no ``..``, no hidden files)."""
    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value) or ".." in value:
        raise ValueError(f"{name} must be letters, digits and '-', '_', '.' (starting with a letter or "
                         f"digit, no '..' or path separators), got {value!r}")
    return value


# Named child streams of a seed. Every random stream derived from a user's seed is
# ``SeedSequence([seed, STREAMS[name]])``: one rule, and the ids are fixed numbers so that
# data generated before keep their numbers (the micro-solver noise has always been 7919).
# "truth-samples": the configurations a moment study draws from the micro solver's law.
STREAMS = {"micro-noise": 7919, "truth-samples": 104729}


def child_seed(seed, stream: str) -> np.random.SeedSequence:
    """The ``stream`` child (a key of :data:`STREAMS`) of the integer ``seed``."""
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {tuple(STREAMS)}, got {stream!r}")
    return np.random.SeedSequence([nonnegative_int("seed", seed), STREAMS[stream]])


def child_rng(seed, stream: str) -> np.random.Generator:
    """A NumPy Generator on the ``stream`` child of ``seed`` (see :func:`child_seed`)."""
    return np.random.default_rng(child_seed(seed, stream))


# Upper bounds on sizes a caller may ask for: beyond them a loop or an allocation is a
# hang or an out-of-memory kill, so the request is refused with the bound in the message.
MAX_REPEATS = 10**6          # restarts, splits, repetitions of a measurement
MAX_SOLVER_STEPS = 10**10    # solver steps of one advance (KS at dt=0.025: 2.5e8 time units)
MAX_ELEMENTS = 2**32         # numbers in one requested array (32 GiB in float64)


def int_in(name: str, value, lo: int, hi: int) -> int:
    """``value`` as an int in ``[lo, hi]``: a wrong type is a ``TypeError``, a value out of
    range a ``ValueError`` that prints the range."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value}")
    return int(value)


def count(name: str, value, per_item: int = 1, lo: int = 1) -> int:
    """A number of items (each ``per_item`` numbers) to create: an int >= ``lo`` whose
    array stays within :data:`MAX_ELEMENTS` numbers."""
    hi = max(lo, MAX_ELEMENTS // max(1, int(per_item)))
    return int_in(name, value, lo, hi)


def seed(value, name: str = "seed"):
    """A seed as NumPy takes it (a non-negative int, a sequence of them, a ``SeedSequence``
    or a ``Generator``), returned unchanged so that the numbers drawn stay the same; anything
    else is a ``ValueError`` naming ``name`` (NumPy's own message never names it)."""
    if isinstance(value, (np.random.Generator, np.random.SeedSequence)):
        return value
    ok = not isinstance(value, bool) and isinstance(value, Integral) and value >= 0
    if not ok and isinstance(value, (list, tuple)) and value:
        ok = all(not isinstance(v, bool) and isinstance(v, Integral) and v >= 0 for v in value)
    if not ok:
        raise ValueError(f"{name} must be a non-negative integer (or a numpy SeedSequence/Generator), "
                         f"got {value!r}")
    return value


def finite_array_of(name: str, value) -> np.ndarray:
    """``value`` as a real numeric array without NaN or inf (the dtype is kept)."""
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) \
            or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite: it holds {bad} NaN or infinite value(s) of {arr.size}")
    return arr


MAX_BINS = 10**7  # histogram bins per axis (an 8 MB count array)


def bins(value, name: str = "bins", *, edges_allowed: bool = False):
    """A number of histogram bins in ``[1, MAX_BINS]``; with ``edges_allowed`` a sequence
    (NumPy's bin edges, or one count per axis) passes through unchanged."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        return int_in(name, value, 1, MAX_BINS)
    if edges_allowed and not isinstance(value, (str, bytes)) and np.ndim(value) >= 1:
        return value
    allowed = "an integer in [1, %d]%s" % (MAX_BINS, " or a sequence of bin edges" if edges_allowed else "")
    raise TypeError(f"{name} must be {allowed}, got {value!r}")


def flag(name: str, value) -> bool:
    """``value`` as a bool: only ``True``/``False`` (or a NumPy bool) pass; ``"no"``, ``None``
    or ``2`` would otherwise be read as a truth value silently."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def choice(name: str, value, allowed) -> str:
    """``value`` if it is one of the strings ``allowed``, else a ``ValueError`` listing them."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def torch_generator(name: str, value):
    """``None`` or a ``torch.Generator`` (what the samplers draw with)."""
    if value is None:
        return None
    import torch

    if not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be None or a torch.Generator, got {type(value).__name__}")
    return value


def real_array(name: str, value, *, finite: bool = True, min_size: int = 0) -> np.ndarray:
    """``value`` as a float64 array: a string, ``None`` or objects are a ``TypeError`` naming
    ``name`` (NumPy's conversion message never does); with ``finite`` NaN/inf are a
    ``ValueError``; fewer than ``min_size`` numbers too."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real numeric array, got {type(value).__name__}")
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a real numeric array: {err}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) \
            or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} number(s), got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite: it holds {bad} NaN or infinite value(s) of {arr.size}")
    return arr


def float_dtype(name: str, value, allowed=(np.float32, np.float64)) -> np.dtype:
    """``value`` as one of the floating dtypes ``allowed``; ``None`` is refused (NumPy would
    read it as float64 silently)."""
    names = ", ".join(np.dtype(a).name for a in allowed)
    if value is None:
        raise TypeError(f"{name} must be a floating dtype ({names}), got None")
    try:
        dt = np.dtype(value)
    except TypeError:
        raise TypeError(f"{name} must be a floating dtype ({names}), got {value!r}") from None
    if dt not in tuple(np.dtype(a) for a in allowed):
        raise TypeError(f"{name} must be a floating dtype ({names}), got {dt}")
    return dt
