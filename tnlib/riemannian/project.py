"""Orthogonal projection onto the tangent space, retraction and vector transport."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_finite, finite_float
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..tt.round import round as tt_round
from ..tt.tensor import TTTensor
from .tangent import Frame, TangentVector, check_point, frame_of, point_deltas

__all__ = ["project", "project_sum", "retract", "transport"]


def project(x: TTTensor | Frame, z: Any) -> TangentVector:
    """Orthogonal projection of `z` onto the tangent space of the fixed-rank manifold at `x`.

    ``P_x z = sum_k U_<k dU_k V_>k`` with ``dU_k = (I - U_k U_k^H) U_<k^H z V_>k^H``
    (no gauge projection on the last core): the unique tangent vector with
    ``<P_x z, xi> = <z, xi>`` for every tangent `xi`.

    Parameters
    ----------
    x : TTTensor
        The point; its ranks are those of the manifold.
    z : TTTensor, TangentVector or array
        What to project: a TT (cost ``O(d n r r_z (r + r_z))``, never forming
        ``x + z``), a tangent vector at another point (this is vector
        transport), or a dense tensor of shape ``x.shape``.

    Returns
    -------
    TangentVector
        A TTTensor of ranks ``<= 2 x.ranks`` on the backend, dtype and device of `x`.

    References
    ----------
    C. Lubich, I. V. Oseledets, B. Vandereycken, "Time integration of tensor
    trains", SINUM 53 (2015), Theorem 3.1; A. Novikov et al., t3f (2020),
    ``riemannian.project``.

    Examples
    --------
    >>> from tnlib import tt, riemannian
    >>> import numpy as np
    >>> x = tt.random((5,) * 4, 3, seed=0)
    >>> v = riemannian.project(x, x)           # x lies in its own tangent space
    >>> bool(np.allclose(v.full(), x.full()))
    True
    """
    return _project_at(frame_of(x, "project"), z)


@host_eager
def _project_at(frame: Frame, z: Any) -> TangentVector:
    """:func:`project` at the point's frame (made on the caller's side, where it is kept:
    host execution returns vectors at that same frame)."""
    if isinstance(z, TTTensor):
        _check_tt(frame, z, "project")
        return _project_trains(frame, [z], None)
    return _project_dense(frame, z)


def project_sum(x: TTTensor | Frame, zs: Sequence[TTTensor],
                weights: Sequence[Any] | Any | None = None) -> TangentVector:
    """``project(x, sum_j w_j z_j)`` in one pass over the cores for all terms.

    Terms with equal ranks are stacked and contracted together (one batched
    contraction per core and rank pattern), so a thousand rank-1 terms cost
    about as much as one TT of rank 1000 would in `project` -- without
    forming their sum.

    Parameters
    ----------
    x : TTTensor
    zs : sequence of TTTensor
        Same shape as `x`.
    weights : sequence of scalars or 1-D array, optional
        One weight per term (default all 1).

    Returns
    -------
    TangentVector

    Examples
    --------
    >>> from tnlib import tt, riemannian
    >>> x = tt.random((4,) * 5, 2, seed=0)
    >>> zs = [tt.random((4,) * 5, 1, seed=s) for s in range(1, 4)]
    >>> a = riemannian.project_sum(x, zs, [1.0, -2.0, 0.5])
    >>> b = riemannian.project(x, zs[0] - 2.0 * zs[1] + 0.5 * zs[2])
    >>> bool((a - b).norm() < 1e-10 * b.norm())   # same point: exact delta arithmetic
    True
    """
    return _project_sum_at(frame_of(x, "project_sum"), zs, weights)


@host_eager
def _project_sum_at(frame: Frame, zs: Any, weights: Any) -> TangentVector:
    if isinstance(zs, TTTensor) or not isinstance(zs, (list, tuple)):
        raise ArgumentError(f"project_sum: zs must be a list or tuple of TTTensors, got "
                            f"{type(zs).__name__}")
    zs = list(zs)
    if not zs:
        raise ArgumentError("project_sum: zs must hold at least one TTTensor")
    for j, z in enumerate(zs):
        if not isinstance(z, TTTensor):
            raise ShapeError(f"project_sum: zs[{j}] must be a TTTensor, got {type(z).__name__}")
        _check_tt(frame, z, f"project_sum: zs[{j}]")
    if weights is not None:
        _check_weights(weights, len(zs), frame.backend)
    return _project_trains(frame, zs, weights)


def _check_weights(weights: Any, n: int, xp: Any) -> None:
    """One finite real (or complex) number per term: a list/tuple, or a 1-D array."""
    where = "project_sum: weights"
    if isinstance(weights, (list, tuple)):
        for j, w in enumerate(weights):
            if isinstance(w, bool) or not (isinstance(w, numbers.Number) or (
                    xp.is_array(w) and xp.ndim(w) == 0)):
                raise ArgumentError(f"{where}[{j}] must be a number, got {type(w).__name__}")
            if isinstance(w, numbers.Number) and not math.isfinite(abs(w)):
                raise ArgumentError(f"{where}[{j}] is {w}; expected a finite number")
        n_w = len(weights)
    elif xp.is_array(weights) and xp.ndim(weights) == 1:
        check_finite(weights, xp, "project_sum", "weights")
        n_w = xp.shape(weights)[0]
    else:
        raise ShapeError(f"{where} must be a list, tuple or 1-D array with one entry per term, "
                         f"got {type(weights).__name__}"
                         + (f" of shape {tuple(xp.shape(weights))}" if xp.is_array(weights)
                            else ""))
    if n_w != n:
        raise ShapeError(f"project_sum: {n} terms but {n_w} weights")


def retract(x: TTTensor, v: Any, step: Any = 1.0) -> TTTensor:
    """``x + step v`` rounded back to the ranks of `x` (the TT-SVD retraction).

    For a tangent vector `v` at `x`, ``x + step v`` is written directly in the
    rank-``2r`` tangent form (``dU_d`` gains ``X_d``), so the cost is one
    rounding of a rank-``2r`` train, ``O(d n r^3)``; nothing dense is formed.

    Parameters
    ----------
    x : TTTensor
    v : TangentVector or TTTensor
        Direction; a TTTensor that is not a tangent vector at `x` is added as is.
    step : float or 0-d array

    Returns
    -------
    TTTensor
        Ranks ``<= x.ranks`` (equal unless the sum is exactly rank deficient).

    References
    ----------
    P.-A. Absil, I. V. Oseledets, "Low-rank retractions: a survey and new
    results", Comput. Optim. Appl. 62 (2015).

    Examples
    --------
    >>> from tnlib import tt, riemannian
    >>> x = tt.random((4,) * 5, 3, seed=0)
    >>> v = riemannian.project(x, tt.random((4,) * 5, 2, seed=1))
    >>> riemannian.retract(x, v, 0.1).ranks == x.ranks
    True
    """
    check_point(x, "retract")
    scalar_array = x.backend.is_array(step) and x.backend.ndim(step) == 0
    if isinstance(step, bool) or not (scalar_array or (
            isinstance(step, numbers.Real) and math.isfinite(step))):
        raise ArgumentError(f"retract: step must be a finite real number, got {step!r}")
    return _retract_at(frame_of(x, "retract"), v, step)


@host_eager
def _retract_at(frame: Frame, v: Any, step: Any) -> TTTensor:
    xp = frame.backend
    bounds = list(frame.ranks[1:-1])
    if isinstance(v, TangentVector) and v.frame is frame:
        with np.errstate(over="ignore"):  # a step past the float range: the error below
            deltas = [step * dk for dk in v.deltas]
        deltas[-1] = deltas[-1] + frame.last
        y = TangentVector(frame, deltas)
    elif isinstance(v, TTTensor):
        _check_tt(frame, v, "retract: v")
        y = frame.point() + step * v
    else:
        raise ShapeError(f"retract: v must be a TangentVector or TTTensor, got "
                         f"{type(v).__name__}")
    if frame.ndim == 1:
        return TTTensor._from_cores(list(y.cores), xp)
    try:
        return tt_round(TTTensor._from_cores(y.cores, xp), max_rank=bounds)
    except ArgumentError as exc:  # the only way: cores that over- or underflowed, or NaN
        raise ArgumentError(f"retract: x + step * v is not finite (step={step!r}); take a "
                            "smaller step or check v") from exc


def transport(v: TangentVector, y: TTTensor | Frame) -> TangentVector:
    """Vector transport by projection: ``project(y, v)``."""
    return project(y, v)


# --------------------------------------------------------------------- helpers
def _check_tt(frame: Frame, z: TTTensor, where: str) -> None:
    if tuple(z.shape) != tuple(frame.shape):
        raise ShapeError(f"{where}: shape {z.shape} differs from the point's {frame.shape}")
    xp = frame.backend
    zb = z.backend
    if zb.name != xp.name:
        from ..errors import BackendMismatchError

        raise BackendMismatchError(f"{where}: a {zb.name} TT projected at a {xp.name} point")


def _project_trains(frame: Frame, zs: list, weights: Any) -> TangentVector:
    """Sum of projections of TTs: one sweep per distinct rank pattern, terms stacked."""
    xp = frame.backend
    if len(zs) == 1 and isinstance(zs[0], TangentVector) and zs[0].frame is frame:
        return zs[0]  # already in this tangent space
    groups: dict[tuple, list[int]] = {}
    for j, z in enumerate(zs):
        groups.setdefault(tuple(z.ranks), []).append(j)
    if len(zs) == 1 and weights is None:
        return TangentVector(frame, _project_one(frame, list(zs[0].cores)))
    total = None
    for idx in groups.values():
        stacked = [xp.stack([zs[j].cores[k] for j in idx], axis=0) for k in range(frame.ndim)]
        if weights is not None:
            if isinstance(weights, (list, tuple)):
                w = xp.stack([xp.asarray(weights[j]) for j in idx], axis=0)
            else:
                w = xp.take(weights, xp.asarray([int(j) for j in idx]), axis=0)
            w = xp.astype(w, xp.dtype(stacked[0]))
            stacked[0] = stacked[0] * w[:, None, None, None]
        deltas = _project_stacked(frame, stacked)
        total = deltas if total is None else [a + b for a, b in zip(total, deltas)]
    return TangentVector(frame, total)


def _project_one(frame: Frame, zc: list) -> list:
    """Deltas of ``P_x z`` for one TT `z`, as plain GEMMs (fewest calls, any backend).

    Per core: ``T = L_k Z_k`` is shared by the delta ``T R_k`` and the next left
    interface ``U_k^H T``; the right interfaces come from a first sweep.
    """
    xp = frame.backend
    d = frame.ndim
    cdt = xp.result_dtype(frame.last, zc[0])
    zc = [xp.astype(c, cdt) if xp.dtype_name(c) != xp.dtype_name(cdt) else c for c in zc]
    rights: list = [None] * d  # rights[k]: (rz_{k+1}, r_{k+1}) = Z_>k V_>k^H
    rights[d - 1] = xp.ones((1, 1), dtype=cdt, device=xp.device(zc[0]))
    for k in range(d - 1, 0, -1):
        rz, n, rz2 = xp.shape(zc[k])
        v = frame.right[k]
        r = xp.shape(v)[0]
        t = xp.reshape(xp.reshape(zc[k], (rz * n, rz2)) @ rights[k], (rz, -1))  # (rz, n r')
        rights[k - 1] = t @ xp.conj(xp.transpose(xp.reshape(v, (r, -1))))
    deltas = []
    left = None  # (r_k, rz_k) = U_<k^H Z_<k
    for k in range(d):
        rz, n, rz2 = xp.shape(zc[k])
        t = zc[k] if left is None else xp.reshape(left @ xp.reshape(zc[k], (rz, n * rz2)),
                                                  (-1, n, rz2))
        r = xp.shape(t)[0]
        tm = xp.reshape(t, (r * n, rz2))
        rr = xp.shape(rights[k])[1]
        deltas.append(frame.gauge(k, xp.reshape(tm @ rights[k], (r, n, rr))))
        if k < d - 1:
            u = xp.reshape(frame.left[k], (r * n, -1))
            left = xp.conj(xp.transpose(u)) @ tm
    return deltas


@host_eager
def project_each(frame: Frame, vs: Sequence[TTTensor]) -> list[TangentVector]:
    """``[project(frame, v) for v in vs]`` in one batched sweep when the ranks agree."""
    if len({tuple(v.ranks) for v in vs}) != 1:
        return [project(frame, v) for v in vs]
    xp = frame.backend
    stacked = [xp.stack([v.cores[k] for v in vs], axis=0) for k in range(frame.ndim)]
    per_term = _project_stacked(frame, stacked, keep_batch=True)
    return [TangentVector(frame, [dk[j] for dk in per_term]) for j in range(len(vs))]


def _project_stacked(frame: Frame, zc: list, keep_batch: bool = False) -> list:
    """Deltas of ``sum_b P_x z_b`` for cores stacked on a leading batch axis ``b``.

    With `keep_batch`, the deltas of every term separately, stacked on axis 0.
    """
    xp = frame.backend
    d = frame.ndim
    cdt = xp.result_dtype(frame.last, zc[0])
    zc = [xp.astype(c, cdt) if xp.dtype_name(c) != xp.dtype_name(cdt) else c for c in zc]
    left, right = frame.left, frame.right
    # lefts[k]: (b, r_{k}, rz_{k}) = U_<k^H Z_<k ; rights[k]: (b, rz_k+1, r_k+1) = Z_>k V_>k^H
    lefts: list = [None] * d
    batch = xp.shape(zc[0])[0]
    lefts[0] = xp.ones((batch, 1, 1), dtype=cdt, device=xp.device(zc[0]))
    for k in range(d - 1):
        lefts[k + 1] = xp.einsum("bac,anx,bcny->bxy", lefts[k], xp.conj(left[k]), zc[k])
    rights: list = [None] * d
    rights[d - 1] = xp.ones((batch, 1, 1), dtype=cdt, device=xp.device(zc[0]))
    for k in range(d - 1, 0, -1):
        rights[k - 1] = xp.einsum("bcny,bya,xna->bcx", zc[k], rights[k], xp.conj(right[k]))
    deltas = []
    for k in range(d):
        if keep_batch:
            dk = xp.einsum("bac,bcny,byx->banx", lefts[k], zc[k], rights[k])
            deltas.append(xp.stack([frame.gauge(k, dk[j]) for j in range(batch)], axis=0))
        else:
            dk = xp.einsum("bac,bcny,byx->anx", lefts[k], zc[k], rights[k])
            deltas.append(frame.gauge(k, dk))
    return deltas


def _project_dense(frame: Frame, z: Any) -> TangentVector:
    """Deltas of ``P_x z`` for a dense `z`: left partial contractions meet right bases."""
    xp = frame.backend
    try:
        zb = backend_of(z)
    except Exception as exc:  # not an array of any backend
        raise ShapeError(f"project: z must be a TTTensor or an array of shape {frame.shape}, "
                         f"got {type(z).__name__}") from exc
    if not zb.is_array(z):
        raise ShapeError(f"project: z must be a TTTensor or an array of shape {frame.shape}, "
                         f"got {type(z).__name__}")
    if zb.name != xp.name:
        from ..errors import BackendMismatchError

        raise BackendMismatchError(f"project: a {zb.name} array projected at a {xp.name} point")
    z = finite_float(z, xp, "project", "z")
    shape = frame.shape
    if tuple(xp.shape(z)) != tuple(shape):
        raise ShapeError(f"project: z has shape {tuple(xp.shape(z))}, expected {shape}")
    d = len(shape)
    cdt = xp.result_dtype(frame.last, z)
    z = xp.astype(z, cdt)
    # right bases: vr[k] = V_{>k} as a (r_k, prod n_{k+1..d}) matrix
    vr: list = [None] * d
    vr[d - 1] = xp.ones((1, 1), dtype=cdt, device=xp.device(z))
    for k in range(d - 1, 0, -1):
        v = frame.right[k]
        r, n, rr = xp.shape(v)
        vr[k - 1] = xp.reshape(xp.reshape(v, (r * n, rr)) @ vr[k], (r, -1))
    deltas = []
    w = xp.reshape(z, (1, -1))  # U_<k^H z as (r_{k-1}, n_k ... n_d)
    for k in range(d):
        r = xp.shape(w)[0]
        n = shape[k]
        wk = xp.reshape(w, (r * n, -1))
        dk = wk @ xp.conj(xp.transpose(vr[k]))
        rr = xp.shape(vr[k])[0]
        deltas.append(frame.gauge(k, xp.reshape(dk, (r, n, rr))))
        if k < d - 1:
            u = xp.reshape(frame.left[k], (r * n, rr))
            w = xp.conj(xp.transpose(u)) @ wk
    return TangentVector(frame, deltas)


def as_tangent(frame: Frame, v: Any) -> TangentVector:
    """`v` as a tangent vector at `frame` (projected if it lives elsewhere)."""
    if isinstance(v, TangentVector) and v.frame is frame:
        return v
    return project(frame, v)


def point_as_tangent(frame: Frame) -> TangentVector:
    """The point as an element of its own tangent space."""
    return TangentVector(frame, point_deltas(frame))
