"""Hierarchical Tucker format: dimension trees, HTTensor, HSVD, truncation."""

from .hsvd import from_tt, hsvd, random, truncate
from .tensor import HTTensor
from .tree import DimensionTree

__all__ = ["DimensionTree", "HTTensor", "from_tt", "hsvd", "random", "truncate"]
