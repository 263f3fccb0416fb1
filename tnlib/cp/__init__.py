"""CP (canonical polyadic) format: CPTensor, CP-ALS (dense and sparse data), non-negative
CP (HALS), Poisson CP of sparse counts (CP-APR) and gradient-based CP."""

from .als import CPInfo, cp_als
from .gradient import cp_gradient
from .nonnegative import cp_hals
from .poisson import APRInfo, cp_apr
from .sparse import cp_als_sparse
from .tensor import CPTensor, random

__all__ = ["APRInfo", "CPInfo", "CPTensor", "cp_als", "cp_als_sparse", "cp_apr", "cp_gradient",
           "cp_hals", "random"]
