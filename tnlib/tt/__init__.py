"""Tensor trains: TTTensor, TTMatrix, TT-SVD, rounding, algebra, QTT."""

from .algebra import add, dot, evaluate, full, hadamard, kron, log_norm, norm, scale
from .algebra import tt_sum as sum  # noqa: A004 - the name users expect, tt.sum(x)
from .amen import AmenInfo, amen_mv, amen_solve
from .chebyshev import ChebyshevInfo, ChebyshevTT, chebyshev
from .construct import diag, eye, laplacian, ones, random, zeros
from .cross import CrossInfo, cross
from .divide import divide
from .dmrg import DmrgInfo, dmrg_eig, dmrg_eigs
from .elementwise import apply
from .fft import qtt_fft
from .join import concatenate, pad, stack
from .marginal import trace
from .matrix import TTMatrix
from .mpo import nearest_neighbor, operator_sum, qtt_laplacian
from .optima import Extrema, extrema, max_abs
from .permute import permute
from .qtt import dequantize, qtt_function, quantize
from .reshape import reshape
from .round import orthogonalize, round  # noqa: A004
from .sample import sample
from .sketch import SketchInfo, tt_sketch
from .sobol import SobolIndices, sobol, sobol_pairs
from .spectrum import entanglement_entropy, singular_values
from .svd import DecompositionInfo, tt_matrix, tt_svd
from .tdvp import TdvpInfo, tdvp
from .tensor import TTTensor
from .toeplitz import circulant, cumsum, qtt_conv, toeplitz

__all__ = [
    "AmenInfo",
    "amen_mv",
    "amen_solve",
    "ChebyshevInfo",
    "ChebyshevTT",
    "CrossInfo",
    "DecompositionInfo",
    "DmrgInfo",
    "Extrema",
    "TdvpInfo",
    "SketchInfo",
    "SobolIndices",
    "TTMatrix",
    "TTTensor",
    "add",
    "apply",
    "dequantize",
    "chebyshev",
    "circulant",
    "concatenate",
    "cross",
    "cumsum",
    "diag",
    "divide",
    "dmrg_eig",
    "dmrg_eigs",
    "dot",
    "entanglement_entropy",
    "evaluate",
    "eye",
    "extrema",
    "full",
    "hadamard",
    "kron",
    "laplacian",
    "nearest_neighbor",
    "log_norm",
    "max_abs",
    "norm",
    "ones",
    "operator_sum",
    "orthogonalize",
    "pad",
    "permute",
    "qtt_conv",
    "qtt_fft",
    "qtt_function",
    "qtt_laplacian",
    "quantize",
    "random",
    "reshape",
    "round",
    "sample",
    "scale",
    "singular_values",
    "sobol",
    "sobol_pairs",
    "stack",
    "sum",
    "tdvp",
    "toeplitz",
    "trace",
    "tt_matrix",
    "tt_sketch",
    "tt_svd",
    "zeros",
]
