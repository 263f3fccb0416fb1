"""Riemannian gradients and Hessian-vector products by automatic differentiation.

The Riemannian gradient of ``f`` at ``x`` is the projection of the Euclidean
gradient. Writing the tangent space as the image of the linear map
``T(dU) = sum_k U_<k dU_k V_>k`` and evaluating ``f`` at ``T(dU*)`` with
``dU* = (0, .., 0, X_d)`` (so ``T(dU*) = x``), one reverse pass gives
``d f / d dU_k = U_<k^H grad f V_>k^H``; a gauge projection of each block
gives exactly the deltas of ``P_x grad f`` (Novikov, Rakhuba, Oseledets 2022).
No Euclidean gradient of the size of the full tensor is ever formed.

For the Hessian the curvature term is included by differentiating ``f`` along
the on-manifold curve ``phi(theta) = (U_1 + theta_1) .. (X_d + theta_d)``: its
second derivative minus ``<grad f, phi''>`` is the Riemannian Hessian form
(the Gauss formula for an embedded submanifold).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ArgumentError
from ..tt.algebra import dot as tt_dot
from ..tt.tensor import TTTensor
from .project import as_tangent, project
from .tangent import Frame, TangentVector, check_point, frame_of, point_deltas

__all__ = ["grad", "value_and_grad", "hessian_vector_product"]


def grad(f: Callable[[TTTensor], Any], x: TTTensor) -> TangentVector:
    """Riemannian gradient of a scalar function of a TTTensor, by autodiff.

    One reverse-mode pass of `f` on the rank-``2r`` tangent-space
    parametrization at `x` (torch, JAX, TensorFlow); works under ``jax.jit``.

    Parameters
    ----------
    f : callable
        ``f(y) -> 0-d array`` for a TTTensor `y`, written with tnlib or
        framework operations on the cores.
    x : TTTensor

    Returns
    -------
    TangentVector
        ``P_x grad f(x)`` at `x`.

    References
    ----------
    A. Novikov, M. Rakhuba, I. Oseledets, "Automatic differentiation for
    Riemannian optimization on low-rank matrix and tensor-train manifolds",
    SIAM J. Sci. Comput. 44 (2022).

    Examples
    --------
    >>> import torch
    >>> from tnlib import tt, riemannian
    >>> x = tt.random((4,) * 4, 2, seed=0).to(backend="torch")
    >>> a = tt.random((4,) * 4, 3, seed=1).to(backend="torch")
    >>> g = riemannian.grad(lambda y: 0.5 * tt.norm(y - a) ** 2, x)
    >>> bool((g - riemannian.project(x, x - a)).norm() < 1e-10)
    True
    """
    return value_and_grad(f, x)[1]


def value_and_grad(f: Callable[[TTTensor], Any], x: TTTensor) -> tuple[Any, TangentVector]:
    """``(f(x), grad(f, x))`` in one pass (see :func:`grad`)."""
    check_point(x, "grad")
    xp = x.backend
    if not xp.supports_grad:
        raise ArgumentError(
            f"grad: the {xp.name} backend has no automatic differentiation; pass the "
            "Euclidean gradient instead (riemannian.minimize(f, x0, grad=egrad)) or use "
            "torch, jax or tensorflow arrays")
    frame = frame_of(x, "grad")

    def through_tangent(deltas: list) -> Any:
        return f(TTTensor._from_cores(TangentVector(frame, deltas).cores, xp))

    value, egrads = xp.value_and_grad(through_tangent)(point_deltas(frame))
    return value, TangentVector(frame, [frame.gauge(k, g) for k, g in enumerate(egrads)])


def riemannian_grad(f: Callable, x: TTTensor | Frame, egrad: Callable | None = None
                    ) -> tuple[Any, TangentVector]:
    """``(f(x), grad)`` by autodiff, or by projecting a supplied Euclidean gradient."""
    frame = frame_of(x, "minimize")
    if egrad is None:
        return value_and_grad(f, frame.point() if isinstance(x, Frame) else x)
    point = frame.point() if isinstance(x, Frame) else x
    return f(point), as_tangent(frame, egrad(point))


def hessian_vector_product(f: Callable[[TTTensor], Any], x: TTTensor, v: Any,
                           curvature: bool = True) -> TangentVector:
    """Riemannian Hessian of `f` at `x` applied to the tangent vector `v`, by autodiff.

    Parameters
    ----------
    f : callable
        Scalar function of a TTTensor (torch, JAX or TensorFlow cores).
    x : TTTensor
    v : TangentVector or TTTensor
        Direction; projected onto the tangent space at `x` if it is not there.
    curvature : bool, optional
        Include the curvature (Weingarten) term, so the result is the exact
        Riemannian Hessian (default). It involves the inverses of the bond
        matrices ``R_k`` of `x` and so loses accuracy when `x` is close to
        lower rank; ``False`` gives the projected Euclidean Hessian
        ``P_x (hess f) P_x v`` (exact at critical points, always stable).

    Returns
    -------
    TangentVector

    Notes
    -----
    With curvature: one forward-over-reverse pass of `f` at ranks `r`;
    without: at ranks ``2r``.

    Examples
    --------
    >>> import torch
    >>> from tnlib import tt, riemannian
    >>> x = tt.random((3,) * 4, 2, seed=0).to(backend="torch")
    >>> v = riemannian.project(x, tt.random((3,) * 4, 2, seed=1).to(backend="torch"))
    >>> h = riemannian.hessian_vector_product(lambda y: 0.5 * tt.dot(y, y), x, v)
    >>> bool((h - v).norm() < 1e-10 * v.norm())     # Hess of ‖y‖²/2 is the identity
    True
    """
    check_point(x, "hessian_vector_product")
    xp = x.backend
    if not xp.supports_grad:
        raise ArgumentError(
            f"hessian_vector_product: the {xp.name} backend has no automatic "
            "differentiation; use torch, jax or tensorflow arrays")
    frame = frame_of(x, "hessian_vector_product")
    v = as_tangent(frame, v)
    d = frame.ndim
    if not curvature or d == 1:
        def through_tangent(deltas: list) -> Any:
            return f(TTTensor._from_cores(TangentVector(frame, deltas).cores, xp))

        _, _, hv = xp.hvp(through_tangent, point_deltas(frame), list(v.deltas))
        return TangentVector(frame, [frame.gauge(k, h) for k, h in enumerate(hv)])
    g = grad(f, x)
    g_tt = TTTensor._from_cores([xp.stop_gradient(c) for c in g.cores], xp)
    base = list(frame.left) + [frame.last]

    def along_curve(theta: list) -> Any:
        y = TTTensor._from_cores([b + t for b, t in zip(base, theta)], xp)
        return f(y) - tt_dot(g_tt, y)

    # theta-direction whose image under dphi(0) is v: A_k = dU_k R_k^{-1}
    direction = [_right_solve(xp, dk, frame.bonds[k]) for k, dk in enumerate(v.deltas[:-1])]
    direction.append(v.deltas[-1])
    zeros = [xp.zeros_like(b) for b in base]
    _, _, hv = xp.hvp(along_curve, zeros, direction)
    # <A(w), H A(v)> = sum_k <w_k, (H A(v))_k R_k^{-H}>
    deltas = [frame.gauge(k, _right_solve(xp, hk, xp.conj(xp.transpose(frame.bonds[k]))))
              for k, hk in enumerate(hv[:-1])]
    deltas.append(hv[-1])
    return TangentVector(frame, deltas)


def _right_solve(xp: Any, core: Any, r: Any) -> Any:
    """``core ×_3 R^{-1}``: solves ``Y R = C`` on the right unfolding."""
    a, n, b = xp.shape(core)
    cm = xp.reshape(core, (a * n, b))
    # Y R = C  <=>  R^T Y^T = C^T
    y = xp.transpose(xp.solve(xp.transpose(r), xp.transpose(cm)))
    return xp.reshape(y, (a, n, b))


def projected_egrad(x: TTTensor, egrad_value: Any) -> TangentVector:
    """The Riemannian gradient from a Euclidean gradient value (TT, tangent or dense)."""
    return project(x, egrad_value)
