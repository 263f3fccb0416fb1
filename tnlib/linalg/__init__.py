"""Backend-generic matrix and tensor tools: truncated, randomized and Gram SVDs,
maxvol, skeleton, unfoldings, mode products, Khatri-Rao."""

from .maxvol import maxvol, rect_maxvol, skeleton
from .svd import left_svd, randomized_svd, truncated_svd, truncation_rank
from .tensor_ops import fold, khatri_rao, mode_product, multi_mode_product, unfold

__all__ = [
    "fold",
    "khatri_rao",
    "left_svd",
    "maxvol",
    "mode_product",
    "multi_mode_product",
    "randomized_svd",
    "rect_maxvol",
    "skeleton",
    "truncated_svd",
    "truncation_rank",
    "unfold",
]
