"""Tensor trains: TTTensor, TTMatrix, TT-SVD, rounding, algebra, QTT."""

from .algebra import add, dot, evaluate, full, hadamard, kron, norm, scale
from .algebra import tt_sum as sum  # noqa: A004 - the name users expect, tt.sum(x)
from .construct import diag, eye, laplacian, ones, random, zeros
from .cross import CrossInfo, apply, cross
from .matrix import TTMatrix
from .qtt import dequantize, qtt_function, quantize
from .round import orthogonalize, round  # noqa: A004
from .svd import tt_matrix, tt_svd
from .tensor import TTTensor

__all__ = [
    "CrossInfo",
    "TTMatrix",
    "TTTensor",
    "add",
    "apply",
    "dequantize",
    "cross",
    "diag",
    "dot",
    "evaluate",
    "eye",
    "full",
    "hadamard",
    "kron",
    "laplacian",
    "norm",
    "ones",
    "orthogonalize",
    "qtt_function",
    "quantize",
    "random",
    "round",
    "scale",
    "sum",
    "tt_matrix",
    "tt_svd",
    "zeros",
]
