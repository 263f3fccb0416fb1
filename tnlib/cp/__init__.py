"""CP (canonical polyadic) format: CPTensor, CP-ALS and gradient-based CP."""

from .als import CPInfo, cp_als
from .gradient import cp_gradient
from .tensor import CPTensor, random

__all__ = ["CPInfo", "CPTensor", "cp_als", "cp_gradient", "random"]
