"""The paper's four systems, each LED's first users: one module per system.

Each of :mod:`~ledlib.paper.ks`, :mod:`~ledlib.paper.fhn`, :mod:`~ledlib.paper.ad1d`
and :mod:`~ledlib.paper.ad3d` holds, for the profiles ``"quick"`` and ``"paper"``:

- ``dataset_spec(profile, **system_kwargs)``: the dataset (§8.1–8.4);
- ``paper_config()`` / ``config(profile)``: the LED configuration (Tables 1–8);
- ``PROTOCOL[profile]``: the chapter's forecast protocol (warm-up, phases, horizons);
- ``TRADEOFF``: its row of the trade-offs chapter's rho sweep;
- the study grids and ``jobs(profile)``: every model the chapter trains;
- where the chapter picks its LED among seeds by a validation forecast,
  ``seed_pick(profile)`` (a :class:`ledlib.train.SeedPick`, or ``None``).

:func:`ledlib.configs.get`, :func:`ledlib.data.spec` and :func:`ledlib.studies.jobs`
are thin wrappers over these. For your own simulator none of this is needed: subclass
:class:`ledlib.systems.System`, then :func:`ledlib.data.generate` and
:func:`ledlib.configs.template`.
"""

from __future__ import annotations

from types import ModuleType

from . import ad1d, ad3d, fhn, ks
from .common import DEFAULT_PROFILE, PROFILES, Job, TradeoffSweep, check_profile

__all__ = ["SYSTEMS", "PROFILES", "DEFAULT_PROFILE", "MODULES", "system_name", "check_profile", "module",
           "config", "dataset_spec", "jobs", "protocol", "seed_pick", "tradeoff_settings", "Job", "TradeoffSweep",
           "ks", "fhn", "ad1d", "ad3d"]

MODULES: dict[str, ModuleType] = {"KS": ks, "FHN": fhn, "AD1D": ad1d, "AD3D": ad3d}
SYSTEMS = tuple(MODULES)

_OWN = ("for your own simulator subclass ledlib.systems.System and use data.generate(system, splits=...) "
        "(or data.from_arrays for your own trajectories) with configs.template(obs_shape, d_z) and train.fit")


def system_name(system) -> str:
    """The paper system's canonical name (``"ad-3d"`` -> ``"AD3D"``); a ``ValueError``
    that says what to do instead for any other name."""
    key = system.upper().replace("-", "").replace("_", "").replace(" ", "") if isinstance(system, str) else None
    if key not in MODULES:
        raise ValueError(f"system must be one of the paper's {SYSTEMS}, got {system!r}; {_OWN}")
    return key


def module(system) -> ModuleType:
    """The module of the paper system ``system``."""
    return MODULES[system_name(system)]


def config(system, profile: str = DEFAULT_PROFILE):
    """The LED configuration of ``system`` in ``profile``."""
    return module(system).config(check_profile(profile))


def dataset_spec(system, profile: str = DEFAULT_PROFILE, **system_kwargs):
    """The dataset spec of ``system`` in ``profile`` (keywords go to its constructor)."""
    return module(system).dataset_spec(check_profile(profile), **system_kwargs)


def jobs(system, profile: str = DEFAULT_PROFILE) -> list[Job]:
    """Every model the chapter of ``system`` trains in ``profile``, the main LED first."""
    return module(system).jobs(check_profile(profile))


def protocol(system, profile: str = DEFAULT_PROFILE):
    """The forecast protocol of ``system``'s chapter in ``profile``."""
    return module(system).PROTOCOL[check_profile(profile)]


def seed_pick(system, profile: str = DEFAULT_PROFILE):
    """How ``system``'s chapter picks its LED among seeds in ``profile``
    (:func:`ledlib.train.fit_pick`), or ``None`` where it trains one seed."""
    fn = getattr(module(system), "seed_pick", None)
    return fn(check_profile(profile)) if fn is not None else None


def tradeoff_settings() -> dict[str, tuple]:
    """The trade-offs chapter's ``SETTINGS``: system -> (error, T_warm, T_mu, [T_m...],
    (quick horizon, paper horizon))."""
    return {name: m.TRADEOFF.as_setting() for name, m in MODULES.items()}
