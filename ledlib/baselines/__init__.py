"""Baselines LED is compared against.

- :mod:`ledlib.baselines.cspde`: coarse-scale PDEs learned from lattice-Boltzmann data
  (Lee et al., Chaos 30, 013141, 2020), the "CSPDE" variants of the paper's Figures 6
  and 31, with the true-PDE reference; :func:`run_all` gives the scorecard numbers.
- :mod:`ledlib.baselines.diffusion_maps`: diffusion maps, local linear regression and
  feature-subset ranking.
- :mod:`ledlib.baselines.finite_differences`: second-order derivatives with no-flux walls.
"""

from .cspde import (
    FEATURE_NAMES,
    PAPER_MNAD,
    TRUE_INPUTS,
    VARIANTS,
    CoarsePDE,
    features,
    fhn_fine_data,
    run_all,
    select_feature_sets,
    true_pde_forecast,
)
from .diffusion_maps import diffusion_maps, llr_residual, parsimonious_coordinates, rank_feature_subsets
from .finite_differences import spatial_derivatives, time_derivative

__all__ = [
    "FEATURE_NAMES", "PAPER_MNAD", "TRUE_INPUTS", "VARIANTS", "CoarsePDE", "features",
    "fhn_fine_data", "run_all", "select_feature_sets", "true_pde_forecast", "diffusion_maps",
    "llr_residual", "parsimonious_coordinates", "rank_feature_subsets", "spatial_derivatives",
    "time_derivative",
]
