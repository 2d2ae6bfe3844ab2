"""The models the book's chapters train, named in one place (a wrapper over :mod:`ledlib.paper`).

A chapter trains its LED and, for the hyperparameter and latent-dimension studies, a
family of variants. Each is cached under a key of its configuration, data and seed
(:func:`ledlib.train.model_key`), so whatever trains a model first, a chapter or
``scripts/pretrain.py`` on another machine (a GPU, say), the chapter then loads it.
The grids are the chapters' own and live in the systems' modules (``ledlib.paper.ks``,
``.fhn``, ``.ad3d``); :func:`jobs` lists every model of a system and profile in the
order a pretraining run should take them (the most expensive first).
"""

from __future__ import annotations

from . import paper as _paper
from .paper.ad3d import PECLET, PECLET_N, PECLET_SPLITS, peclet_case
from .paper.common import Job, with_latent
from .paper.fhn import LATENT_GRID as FHN_LATENT_GRID
from .paper.fhn import LED_VARIANTS as FHN_LED_VARIANTS
from .paper.fhn import NOISE_GRID as FHN_NOISE_GRID
from .paper.fhn import variant as fhn_config
from .paper.ks import LATENT_GRID as KS_LATENT_GRID

__all__ = ["KS_LATENT_GRID", "FHN_LATENT_GRID", "FHN_LED_VARIANTS", "FHN_NOISE_GRID", "PECLET", "PECLET_N",
           "PECLET_SPLITS", "with_latent", "fhn_config", "peclet_case", "Job", "jobs"]


def jobs(system: str, profile: str | None = None) -> list[Job]:
    """Every model the chapter of ``system`` trains in ``profile`` (default "quick"), the
    main LED first. See :func:`ledlib.paper.jobs`."""
    return _paper.jobs(system, _paper.DEFAULT_PROFILE if profile is None else profile)
