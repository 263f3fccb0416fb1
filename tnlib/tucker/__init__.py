"""Tucker format: TuckerTensor, ST-HOSVD and HOOI."""

from .hooi import TuckerInfo, hooi
from .hosvd import hosvd
from .tensor import TuckerTensor

__all__ = ["TuckerInfo", "TuckerTensor", "hooi", "hosvd"]
