"""Tucker format: TuckerTensor, ST-HOSVD, HOOI (dense and sparse data) and non-negative
Tucker (HALS), random Tucker tensors."""

from .hooi import TuckerInfo, hooi
from .hosvd import hosvd
from .nonnegative import tucker_hals
from .sparse import hooi_sparse
from .tensor import TuckerTensor, random

__all__ = ["TuckerInfo", "TuckerTensor", "hooi", "hooi_sparse", "hosvd", "random", "tucker_hals"]
