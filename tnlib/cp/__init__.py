"""CP (canonical polyadic) format: CPTensor and CP-ALS."""

from .als import CPInfo, cp_als
from .tensor import CPTensor, random

__all__ = ["CPInfo", "CPTensor", "cp_als", "random"]
