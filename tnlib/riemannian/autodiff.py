"""Riemannian gradients and Hessian-vector products by automatic differentiation.

The Riemannian gradient of ``f`` at ``x`` is the projection of the Euclidean
gradient. Writing the tangent space as the image of the linear map
``T(dU) = sum_k U_<k dU_k V_>k`` and evaluating ``f`` at ``T(dU*)`` with
``dU* = (0, .., 0, X_d)`` (so ``T(dU*) = x``), one reverse pass gives
``d f / d dU_k = U_<k^H grad f V_>k^H``; a gauge projection of each block
gives exactly the deltas of ``P_x grad f`` (Novikov, Rakhuba, Oseledets 2022).
No Euclidean gradient of the size of the full tensor is ever formed. When the
bond matrices ``R_k`` of ``x`` are well conditioned the same deltas come
cheaper from the rank-``r`` cores: ``d f / d U_k = U_<k^H grad f V_>k^H R_k^H``.

For the Hessian the curvature term is included by differentiating ``f`` along
the on-manifold curve ``phi(theta) = (U_1 + theta_1) .. (X_d + theta_d)``: its
second derivative minus ``<grad f, phi''>`` is the Riemannian Hessian form
(the Gauss formula for an embedded submanifold).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._info import compiled
from .._validation import checked_scalar
from ..errors import ArgumentError, ShapeError
from ..tt.algebra import dot as tt_dot
from ..tt.tensor import TTTensor
from .project import as_tangent, project
from .tangent import (
    Frame,
    TangentVector,
    check_point,
    frame_of,
    point_deltas,
)

__all__ = ["grad", "value_and_grad", "hessian_vector_product"]

_HVP = "hessian_vector_product"


def grad(f: Callable[[TTTensor], Any], x: TTTensor) -> TangentVector:
    """Riemannian gradient of a scalar function of a TTTensor, by autodiff.

    One reverse-mode pass of `f` (torch, JAX, TensorFlow): on the rank-``r``
    cores of `x` when `x` is well conditioned, else on the rank-``2r``
    tangent-space parametrization (see :func:`value_and_grad`); works under
    ``jax.jit``.

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
    """``(f(x), grad(f, x))`` in one pass (see :func:`grad`).

    Two exact routes to the same deltas ``U_<k^H (grad f) V_>k^H``. When the
    bond matrices ``R_k`` of `x` are well conditioned (``cond <= 1e4``, so at
    most 4 digits of the working precision are at stake), one reverse pass of
    `f` on the rank-``r`` cores of `x` gives ``U_<k^H (grad f) V_>k^H R_k^H``
    and a small solve removes ``R_k``: about the cost of differentiating `f`
    itself. Otherwise `f` is differentiated on the rank-``2r`` tangent-space
    train (Novikov, Rakhuba, Oseledets), which needs no inverse at all. On JAX
    and TensorFlow the pass is compiled once per `f` and rank pattern, unless
    `f` cannot be traced (it then runs eagerly).
    """
    check_point(x, "grad")
    xp = x.backend
    if not xp.supports_grad:
        raise ArgumentError(
            f"grad: the {xp.name} backend has no automatic differentiation; pass the "
            "Euclidean gradient instead (riemannian.minimize(f, x0, grad=egrad)) or use "
            "torch, jax or tensorflow arrays")
    frame = frame_of(x, "grad")
    fast = not xp.is_traced(frame.last) and frame.well_conditioned()
    children = list(frame._tree_flatten()[0])
    fn = _fast_arrays if fast else _stable_arrays
    out = _maybe_compiled(xp, fn, children, f=f)
    if out is None:
        out = fn(*children, f=f, xp=xp)
    value, deltas = out
    return value, TangentVector(frame, list(deltas))


def _grad_deltas(f: Callable, frame: Frame, xp: Any) -> tuple[Any, list]:
    """Through the rank-2r tangent parametrization: no inverses."""
    def through_tangent(deltas: list) -> Any:
        return checked_scalar(f(TTTensor._from_cores(TangentVector(frame, deltas).cores, xp)),
                              xp, "grad")

    value, egrads = xp.value_and_grad(through_tangent)(point_deltas(frame))
    return value, [frame.gauge(k, g) for k, g in enumerate(egrads)]


def _fast_deltas(f: Callable, frame: Frame, xp: Any, where: str = "grad"
                 ) -> tuple[Any, list]:
    """Through the rank-r cores ``U_1 .. U_{d-1} X_d``: ``d f / d U_k = D_k R_k^H``."""
    base = list(frame.left) + [frame.last]
    value, g = xp.value_and_grad(
        lambda cores: checked_scalar(f(TTTensor._from_cores(cores, xp)), xp, where))(base)
    deltas = [frame.gauge(k, _right_solve(xp, gk, xp.conj(xp.transpose(frame.bonds[k]))))
              for k, gk in enumerate(g[:-1])]
    return value, deltas + [g[-1]]


def _frame_from(children: tuple, xp: Any) -> Frame:
    """The Frame of flattened frame arrays (inside a compiled function too)."""
    d = (len(children) + 2) // 3
    ch = list(children)
    return Frame(ch[: d - 1], ch[d - 1], [None] + ch[d : 2 * d - 1], ch[2 * d - 1 :], xp)


def _stable_arrays(*children: Any, f: Callable, xp: Any) -> tuple:
    value, deltas = _grad_deltas(f, _frame_from(children, xp), xp)
    return value, tuple(deltas)


def _fast_arrays(*children: Any, f: Callable, xp: Any) -> tuple:
    value, deltas = _fast_deltas(f, _frame_from(children, xp), xp)
    return value, tuple(deltas)


def _maybe_compiled(xp: Any, fn: Callable, arrays: list, **static: Any) -> Any:
    """``fn(*arrays)`` compiled per `static` on JAX/TF, or None to run eagerly.

    None when the backend does not compile, the call is already being traced,
    or `f` cannot be traced (Python control flow on values, host conversions).
    """
    if not xp.supports_jit or xp.is_traced(arrays[0]):
        return None
    try:
        return compiled(xp, fn, **static)(*arrays)
    except Exception:  # not traceable: the eager path gives the same result
        return None


def riemannian_grad(f: Callable, x: TTTensor | Frame, egrad: Callable | None = None
                    ) -> tuple[Any, TangentVector]:
    """``(f(x), grad)`` by autodiff, or by projecting a supplied Euclidean gradient."""
    frame = frame_of(x, "minimize")
    if egrad is None:
        return value_and_grad(f, frame.point() if isinstance(x, Frame) else x)
    point = frame.point() if isinstance(x, Frame) else x
    g = egrad(point)
    if not isinstance(g, (TTTensor, TangentVector)) and not frame.backend.is_array(g):
        raise ArgumentError(f"minimize: grad(x) returned {type(g).__name__}; expected the "
                            f"Euclidean gradient as a TTTensor or an array of shape "
                            f"{tuple(frame.shape)}")
    g_shape = tuple(g.shape) if isinstance(g, (TTTensor, TangentVector)) else \
        tuple(frame.backend.shape(g))
    if g_shape != tuple(frame.shape):
        raise ShapeError(f"minimize: grad(x) returned shape {g_shape}; expected the Euclidean "
                         f"gradient of shape {tuple(frame.shape)}")
    return f(point), as_tangent(frame, g)


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
    children = list(frame._tree_flatten()[0])
    out = _maybe_compiled(xp, _hvp_arrays, children + list(v.deltas), f=f,
                          curvature=bool(curvature))
    if out is not None:
        return TangentVector(frame, list(out))
    return TangentVector(frame, _hvp_deltas(f, frame, list(v.deltas), curvature, xp))


def _hvp_arrays(*arrays: Any, f: Callable, curvature: bool, xp: Any) -> tuple:
    d = (len(arrays) + 2) // 4  # 3d - 2 frame arrays, then d deltas
    frame = _frame_from(arrays[: 3 * d - 2], xp)
    return tuple(_hvp_deltas(f, frame, list(arrays[3 * d - 2 :]), curvature, xp))


def _hvp_deltas(f: Callable, frame: Frame, v_deltas: list, curvature: bool, xp: Any) -> list:
    """Deltas of the Riemannian Hessian (or of ``P_x hess P_x`` without curvature) times v."""
    d = frame.ndim
    if not curvature or d == 1:
        def through_tangent(deltas: list) -> Any:
            return checked_scalar(f(TTTensor._from_cores(TangentVector(frame, deltas).cores, xp)),
                                  xp, _HVP)

        _, _, hv = xp.hvp(through_tangent, point_deltas(frame), v_deltas)
        return [frame.gauge(k, h) for k, h in enumerate(hv)]
    _, g_deltas = _fast_deltas(f, frame, xp, _HVP)  # this branch solves with R_k anyway
    g = TangentVector(frame, g_deltas)
    g_tt = TTTensor._from_cores([xp.stop_gradient(c) for c in g.cores], xp)
    base = list(frame.left) + [frame.last]

    def along_curve(theta: list) -> Any:
        y = TTTensor._from_cores([b + t for b, t in zip(base, theta)], xp)
        return checked_scalar(f(y), xp, _HVP) - xp.real(tt_dot(g_tt, y))  # Re <g, y>

    # theta-direction whose image under dphi(0) is v: A_k = dU_k R_k^{-1}
    direction = [_right_solve(xp, dk, frame.bonds[k]) for k, dk in enumerate(v_deltas[:-1])]
    direction.append(v_deltas[-1])
    zeros = [xp.zeros_like(b) for b in base]
    _, _, hv = xp.hvp(along_curve, zeros, direction)
    # <A(w), H A(v)> = sum_k <w_k, (H A(v))_k R_k^{-H}>
    deltas = [frame.gauge(k, _right_solve(xp, hk, xp.conj(xp.transpose(frame.bonds[k]))))
              for k, hk in enumerate(hv[:-1])]
    deltas.append(hv[-1])
    return deltas


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
