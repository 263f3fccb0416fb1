"""Riemannian optimization on fixed-rank TT and matrix manifolds."""

from .autodiff import grad, hessian_vector_product, value_and_grad
from .completion import CompletionInfo, matrix_complete, tt_complete
from .optimize import MinimizeInfo, Problem, minimize
from .project import project, project_sum, retract, transport
from .samples import project_sparse
from .tangent import Frame, TangentVector, frame_of

__all__ = [
    "CompletionInfo",
    "matrix_complete",
    "project_sparse",
    "tt_complete",
    "Frame",
    "MinimizeInfo",
    "Problem",
    "TangentVector",
    "frame_of",
    "grad",
    "hessian_vector_product",
    "minimize",
    "project",
    "project_sum",
    "retract",
    "transport",
    "value_and_grad",
]
