"""CP (canonical polyadic) format: CPTensor, CP-ALS (dense and sparse data), non-negative
CP (HALS), Poisson CP of sparse counts (CP-APR), gradient-based CP and PARAFAC2; the
factor match score of a fit against a known model."""

from .als import CPInfo, cp_als
from .gradient import cp_gradient
from .nonnegative import cp_hals
from .parafac2 import Parafac2Tensor, parafac2
from .poisson import APRInfo, cp_apr
from .score import FactorMatch, score
from .sparse import cp_als_sparse
from .tensor import CPTensor, random

__all__ = ["APRInfo", "CPInfo", "CPTensor", "FactorMatch", "Parafac2Tensor", "cp_als",
           "cp_als_sparse", "cp_apr", "cp_gradient", "cp_hals", "parafac2", "random", "score"]
