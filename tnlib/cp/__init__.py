"""CP (canonical polyadic) format: CPTensor, CP-ALS (dense and sparse data), non-negative
CP (HALS) and gradient-based CP."""

from .als import CPInfo, cp_als
from .gradient import cp_gradient
from .nonnegative import cp_hals
from .sparse import cp_als_sparse
from .tensor import CPTensor, random

__all__ = ["CPInfo", "CPTensor", "cp_als", "cp_als_sparse", "cp_gradient", "cp_hals", "random"]
