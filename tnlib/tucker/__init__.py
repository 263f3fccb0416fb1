"""Tucker format: TuckerTensor, ST-HOSVD, HOOI and non-negative Tucker (HALS)."""

from .hooi import TuckerInfo, hooi
from .hosvd import hosvd
from .nonnegative import tucker_hals
from .tensor import TuckerTensor

__all__ = ["TuckerInfo", "TuckerTensor", "hooi", "hosvd", "tucker_hals"]
