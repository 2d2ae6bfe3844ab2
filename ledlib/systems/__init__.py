"""Micro solvers of the paper's benchmark families, behind :class:`System`."""

from .base import NonFiniteStateError, System
from .kuramoto_sivashinsky import KuramotoSivashinsky
from .fitzhugh_nagumo import FitzHughNagumo
from .advection_diffusion import AdvectionDiffusion

__all__ = ["System", "NonFiniteStateError", "KuramotoSivashinsky", "FitzHughNagumo", "AdvectionDiffusion"]
