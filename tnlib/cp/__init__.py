"""CP (canonical polyadic) format: CPTensor, CP-ALS, non-negative CP (HALS) and
gradient-based CP."""

from .als import CPInfo, cp_als
from .gradient import cp_gradient
from .nonnegative import cp_hals
from .tensor import CPTensor, random

__all__ = ["CPInfo", "CPTensor", "cp_als", "cp_gradient", "cp_hals", "random"]
