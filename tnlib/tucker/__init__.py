"""Tucker format: TuckerTensor, ST-HOSVD, HOOI (dense and sparse data) and non-negative
Tucker (HALS)."""

from .hooi import TuckerInfo, hooi
from .hosvd import hosvd
from .nonnegative import tucker_hals
from .sparse import hooi_sparse
from .tensor import TuckerTensor

__all__ = ["TuckerInfo", "TuckerTensor", "hooi", "hooi_sparse", "hosvd", "tucker_hals"]
