"""Backend-generic matrix tools: truncated and randomized SVD, maxvol, skeleton."""

from .svd import left_svd, randomized_svd, truncated_svd, truncation_rank

__all__ = ["left_svd", "randomized_svd", "truncated_svd", "truncation_rank"]
