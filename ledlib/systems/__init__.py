"""Micro solvers of the paper's benchmark families, behind :class:`System`, and
:func:`check_system`, the contract checks for a user's own System."""

from .base import NonFiniteStateError, System
from .kuramoto_sivashinsky import KuramotoSivashinsky
from .fitzhugh_nagumo import FitzHughNagumo
from .advection_diffusion import AdvectionDiffusion
from .check import check_system

__all__ = ["System", "NonFiniteStateError", "KuramotoSivashinsky", "FitzHughNagumo", "AdvectionDiffusion",
           "check_system"]
