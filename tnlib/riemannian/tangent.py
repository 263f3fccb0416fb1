"""Points and tangent vectors of the manifold of tensors with fixed TT-ranks.

A point ``x`` of ``M_r = {x : TT-ranks(x) = r}`` is kept in both orthogonal
forms: left-orthonormal cores ``U_1 .. U_{d-1}`` with the rest in ``X_d``, and
right-orthonormal cores ``V_2 .. V_d``, with the invertible bond matrices
``R_k`` that join them, ``x = U_{<=k} R_k V_{>k}``. A tangent vector at ``x`` is

    ``xi = sum_k U_1 .. U_{k-1} dU_k V_{k+1} .. V_d``

with the gauge ``U_k^H dU_k = 0`` (left unfoldings) for ``k < d``. Under the
gauge the ``d`` terms are orthogonal and ``‖xi‖ = sqrt(sum_k ‖dU_k‖^2)``, so
inner products, norms and linear combinations of vectors at one point cost
``O(d n r^2)`` and never touch a rank-``2r`` train. The same vector is also an
ordinary :class:`~tnlib.tt.TTTensor` of ranks ``2r`` with cores

    ``[dU_1, U_1]``, ``[[V_k, 0], [dU_k, U_k]]``, ``[[V_d], [dU_d]]``,

built only when a TT operation asks for them.

References
----------
C. Lubich, I. V. Oseledets, B. Vandereycken, "Time integration of tensor
trains", SINUM 53 (2015); M. Steinlechner, "Riemannian optimization for
high-dimensional tensor completion", SISC 38 (2016), Sec. 3.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from .._pytree import register_container
from ..backends import Backend
from ..backends._host import host_eager
from ..errors import EvaluationError, ShapeError
from ..tt.tensor import TTTensor

__all__ = ["Frame", "TangentVector", "frame_of"]


@register_container
class Frame:
    """A point of the fixed-rank TT manifold in both orthogonal gauges.

    Attributes
    ----------
    left : list of arrays
        ``U_1 .. U_{d-1}``, left-orthonormal ``(r_{k-1}, n_k, r_k)`` cores.
    last : array
        ``X_d``: ``x = U_1 .. U_{d-1} X_d``.
    right : list of arrays
        ``V_2 .. V_d`` (``right[0]`` is ``None``), right-orthonormal cores.
    bonds : list of arrays
        ``R_1 .. R_{d-1}``, ``(r_k, r_k)``, with ``x = U_{<=k} R_k V_{>k}``.
    backend : Backend
    """

    # _twin: its copy on the other side of host execution (one object each way), so that
    # tangent vectors computed on the host come back at the caller's frame
    __slots__ = ("left", "last", "right", "bonds", "backend", "_conditioned", "_twin")

    def __init__(self, left: list, last: Any, right: list, bonds: list, backend: Backend):
        self.left, self.last, self.right, self.bonds = left, last, right, bonds
        self.backend = backend
        self._conditioned = None
        self._twin = None

    def __getstate__(self) -> dict:  # the host twin and the cached check stay behind
        return {"left": self.left, "last": self.last, "right": self.right,
                "bonds": self.bonds, "backend": self.backend}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def well_conditioned(self, limit: float = 1e4) -> bool:
        """Whether every bond matrix ``R_k`` has condition number ``<= limit`` (cached).

        Then solves with ``R_k`` lose at most ``log10(limit)`` digits; the point is
        far from lower rank.
        """
        if self._conditioned is None:
            xp = self.backend
            ok = True
            for b in self.bonds:
                s = xp.to_numpy(xp.svdvals(b))
                if not (s.size and s[-1] > 0 and s[0] <= limit * s[-1]):
                    ok = False
                    break
            self._conditioned = ok
        return self._conditioned

    @property
    def ndim(self) -> int:
        return len(self.left) + 1

    @property
    def ranks(self) -> tuple[int, ...]:
        xp = self.backend
        return (1,) + tuple(xp.shape(u)[2] for u in self.left) + (1,)

    @property
    def shape(self) -> tuple[int, ...]:
        xp = self.backend
        return tuple(xp.shape(u)[1] for u in self.left) + (xp.shape(self.last)[1],)

    def point(self) -> TTTensor:
        """The point itself, left-orthogonal cores."""
        return TTTensor._from_cores(list(self.left) + [self.last], self.backend)

    def gauge(self, k: int, delta: Any) -> Any:
        """`delta` with its component along ``U_k`` removed (``U_k^H delta = 0``); ``k < d``."""
        if k == self.ndim - 1:
            return delta
        xp = self.backend
        u = self.left[k]
        r, n, rr = xp.shape(u)
        um = xp.reshape(u, (r * n, rr))
        dm = xp.reshape(delta, (r * n, rr))
        return xp.reshape(dm - um @ (xp.conj(xp.transpose(um)) @ dm), (r, n, rr))

    def _tree_flatten(self) -> tuple[tuple, Any]:
        d = self.ndim
        return tuple(self.left) + (self.last,) + tuple(self.right[1:]) + tuple(self.bonds), d

    @classmethod
    def _tree_unflatten(cls, d: int, children: Sequence[Any]) -> Frame:
        ch = list(children)
        left, last = ch[: d - 1], ch[d - 1]
        right = [None] + ch[d : 2 * d - 1]
        bonds = ch[2 * d - 1 :]
        from ..backends import backend_of

        return cls(left, last, right, bonds, backend_of(last))


@host_eager
def build_frame(x: TTTensor, where: str = "riemannian") -> Frame:
    """Both orthogonal forms of `x` by two QR sweeps, ``O(d n r^3)``.

    Raises :class:`~tnlib.ShapeError` when a rank of `x` is larger than its
    unfolding allows (then `x` is not a point of a fixed-rank manifold).
    """
    xp = x.backend
    d = x.ndim
    cores = list(x.cores)
    left = []
    for k in range(d - 1):
        r, n, rr = xp.shape(cores[k])
        q, rf = xp.qr(xp.reshape(cores[k], (r * n, rr)))
        if xp.shape(q)[1] != rr:
            raise ShapeError(f"{where}: rank r_{k + 1} = {rr} of the point exceeds "
                             f"r_{k} * n_{k + 1} = {r * n}; the ranks don't fit the shape "
                             f"{x.shape}")
        left.append(xp.reshape(q, (r, n, rr)))
        _, n2, r2 = xp.shape(cores[k + 1])
        cores[k + 1] = xp.reshape(rf @ xp.reshape(cores[k + 1], (rr, n2 * r2)), (rr, n2, r2))
    last = cores[d - 1]
    right: list = [None] * d
    bonds: list = [None] * (d - 1)
    c = last
    for k in range(d - 1, 0, -1):
        r, n, rr = xp.shape(c)
        # LQ of the (r, n r') unfolding as the QR of its adjoint: c = L Q^H
        q, rf = xp.qr(xp.conj(xp.transpose(xp.reshape(c, (r, n * rr)))))
        if xp.shape(q)[1] != r:
            raise ShapeError(f"{where}: rank r_{k} = {r} of the point exceeds "
                             f"n_{k + 1} * r_{k + 1} = {n * rr}; the ranks don't fit the shape "
                             f"{x.shape}")
        right[k] = xp.reshape(xp.conj(xp.transpose(q)), (r, n, rr))
        bonds[k - 1] = xp.conj(xp.transpose(rf))
        u = left[k - 1]
        r0, n0, _ = xp.shape(u)
        c = xp.reshape(xp.reshape(u, (r0 * n0, r)) @ bonds[k - 1], (r0, n0, r))
    # NaN or inf in any core reaches X_d through the QR sweep: one reduction finds it,
    # before a later SVD (rounding in a retraction) meets it
    if not xp.is_traced(last) and not bool(xp.item(xp.all(xp.isfinite(last)))):
        raise EvaluationError(f"{where}: the point has non-finite entries (NaN or inf in its "
                              "cores, or values beyond the dtype's range); expected a finite "
                              "TT")
    return Frame(left, last, right, bonds, xp)


_FRAMES: OrderedDict = OrderedDict()


def frame_of(x: Any, where: str = "riemannian") -> Frame:
    """The :class:`Frame` of a point (TTTensor or Frame), cached for the last few points.

    Tangent vectors made at one point share its frame object, which is how
    their arithmetic knows they live in the same tangent space.
    """
    if isinstance(x, Frame):
        return x
    if isinstance(x, TangentVector):
        x = TTTensor._from_cores(x.cores, x.backend)
    if not isinstance(x, TTTensor):
        raise ShapeError(f"{where}: the point x must be a TTTensor, got {type(x).__name__}")
    xp = x.backend
    if xp.is_traced(x.cores[0]):  # never keep tracers alive across traces
        return build_frame(x, where)
    key = id(x)
    hit = _FRAMES.get(key)
    if hit is not None and hit[0] is x:
        _FRAMES.move_to_end(key)
        return hit[1]
    frame = build_frame(x, where)
    _FRAMES[key] = (x, frame)
    while len(_FRAMES) > 8:
        _FRAMES.popitem(last=False)
    return frame


@register_container
class TangentVector(TTTensor):
    """A tangent vector of the fixed-rank TT manifold at a point.

    Behaves as the :class:`~tnlib.tt.TTTensor` of ranks ``<= 2r`` it stands
    for (``.full()``, ``.ranks``, ``.round()``, arithmetic with any TT), and
    keeps its point (:attr:`frame`) and gauge-fixed :attr:`deltas` so that
    vectors at the same point add, scale, and take inner products in
    ``O(d n r^2)`` without forming the rank-``2r`` cores.

    Parameters
    ----------
    frame : Frame
        The point (from :func:`frame_of`).
    deltas : sequence of arrays
        ``dU_1 .. dU_d``, shaped like the point's cores; must satisfy the gauge
        ``U_k^H dU_k = 0`` for ``k < d`` (use :meth:`Frame.gauge`).

    Examples
    --------
    >>> from tnlib import tt, riemannian
    >>> x = tt.random((4, 5, 6), 2, seed=0)
    >>> v = riemannian.project(x, tt.random((4, 5, 6), 3, seed=1))
    >>> v.ranks
    (1, 4, 4, 1)
    >>> w = 2.0 * v - v                        # stays in the tangent space, no rounding
    >>> bool(abs(float(w.dot(v)) - float(v.norm()) ** 2) < 1e-10)
    True
    """

    __slots__ = ("frame", "deltas", "_built")

    def __init__(self, frame: Frame, deltas: Sequence[Any]) -> None:
        self.frame = frame
        self.deltas = tuple(deltas)
        self._built = None
        self._backend = frame.backend

    # the rank-2r cores, built on first use
    @property
    def _cores(self) -> tuple[Any, ...]:  # type: ignore[override]
        if self._built is None:
            self._built = tuple(_tangent_cores(self.frame, self.deltas))
        return self._built

    @property
    def shape(self) -> tuple[int, ...]:
        return self.frame.shape

    @property
    def ndim(self) -> int:
        return len(self.deltas)

    @property
    def dtype(self) -> Any:
        return self.backend.dtype(self.deltas[0])

    @property
    def device(self) -> Any:
        return self.backend.device(self.deltas[0])

    def __repr__(self) -> str:
        xp = self.backend
        return (f"TangentVector(shape={self.shape}, point_ranks={self.frame.ranks}, "
                f"dtype={xp.dtype_name(self.deltas[0])}, backend={xp.name})")

    def to_tt(self) -> TTTensor:
        """The same tensor as a plain TTTensor (ranks ``<= 2r``)."""
        return TTTensor._from_cores(self.cores, self.backend)

    # pytree and pickle
    def _tree_flatten(self) -> tuple[tuple, Any]:
        return tuple(self.deltas) + (self.frame,), len(self.deltas)

    @classmethod
    def _tree_unflatten(cls, d: int, children: Sequence[Any]) -> TangentVector:
        return cls(children[d], children[:d])

    def __getstate__(self) -> dict:
        return {"frame": self.frame, "deltas": self.deltas}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["frame"], state["deltas"])

    # ------------------------------------------------- same-point arithmetic
    def _same(self, other: Any) -> bool:
        return isinstance(other, TangentVector) and other.frame is self.frame

    @host_eager
    def inner(self, other: TangentVector) -> Any:
        """``<self, other>`` for vectors at the same point, ``O(d n r^2)`` (0-d array)."""
        if not self._same(other):
            raise ShapeError("TangentVector.inner: the vectors are at different points; "
                             "transport one with riemannian.project(x, v) first")
        xp = self.backend
        return sum(xp.sum(xp.conj(a) * b) for a, b in zip(self.deltas, other.deltas))

    def dot(self, other: Any) -> Any:
        if self._same(other):
            return self.inner(other)
        return super().dot(other)

    @host_eager
    def norm(self) -> Any:
        """``sqrt(<self, self>)``, summed at unit scale: vectors of 1e-200 or 1e200 (whose
        squares leave the float range) keep their norm."""
        xp = self.backend
        unit, scale = _unit_flat(xp, self.deltas)
        return xp.real(scale) * xp.sqrt(xp.sum(xp.real(xp.conj(unit) * unit)))

    @host_eager
    def _combine(self, other: TangentVector, sign: float) -> TangentVector:
        return TangentVector(self.frame, [a + sign * b for a, b in zip(self.deltas, other.deltas)])

    def __add__(self, other: Any) -> Any:
        if self._same(other):
            return self._combine(other, 1.0)
        return super().__add__(other)

    def __sub__(self, other: Any) -> Any:
        if self._same(other):
            return self._combine(other, -1.0)
        return super().__sub__(other)

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, TTTensor):
            return super().__mul__(other)
        if not isinstance(other, numbers.Number) and self.backend.ndim(other) != 0:
            return super().__mul__(other)
        return self._scaled(other)

    @host_eager
    def _scaled(self, other: Any) -> TangentVector:
        return TangentVector(self.frame, [other * a for a in self.deltas])

    def __rmul__(self, other: Any) -> Any:
        return self.__mul__(other)

    def __neg__(self) -> TangentVector:
        return self.__mul__(-1.0)

    def __truediv__(self, other: Any) -> Any:
        if isinstance(other, TTTensor):
            return super().__truediv__(other)
        return self.__mul__(1.0 / other)


def _tangent_cores(frame: Frame, deltas: Sequence[Any]) -> list:
    """The rank-``2r`` TT cores of ``sum_k U_<k dU_k V_>k``.

    Every term passes exactly one ``dU_k``: their common scale ``s`` (the largest entry)
    is taken out of them and put on the whole first core, so that each core holds blocks
    of one scale. Otherwise the orthonormal ``U_k``, ``V_k`` sit next to ``dU_k`` of the
    point's size, and a point of norm 1e10 lost half its digits in a retraction's rounding
    (the blocks' squares 1e20 apart), one of 1e50 all of them.
    """
    xp = frame.backend
    d = len(deltas)
    if d == 1:
        return [deltas[0]]
    unit, scale = _unit_flat(xp, deltas)
    sizes = [math.prod(xp.shape(dk)) for dk in deltas]
    starts = [sum(sizes[:k]) for k in range(d)]
    deltas = [xp.reshape(unit[a:a + n], xp.shape(dk))
              for a, n, dk in zip(starts, sizes, deltas)]
    cores = [xp.concatenate([deltas[0], frame.left[0]], axis=2) * scale]
    for k in range(1, d - 1):
        v, u, dk = frame.right[k], frame.left[k], deltas[k]
        top = xp.concatenate([v, xp.zeros_like(v)], axis=2)
        bottom = xp.concatenate([dk, u], axis=2)
        cores.append(xp.concatenate([top, bottom], axis=0))
    cores.append(xp.concatenate([frame.right[d - 1], deltas[d - 1]], axis=0))
    return cores


def _unit_flat(xp: Any, deltas: Sequence[Any]) -> tuple[Any, Any]:
    """The deltas flattened into one vector divided by its largest magnitude, and that
    divisor (1 for zero deltas, and for inf ones -- a step past the range, which the
    rounding reports -- as they are): a few kernels whatever the number of cores. No
    derivative flows through the divisor (what it scales does not depend on it)."""
    flat = xp.concatenate([xp.reshape(dk, (-1,)) for dk in deltas])
    peak = xp.max(xp.abs(flat))
    usable = xp.isfinite(peak) & (peak > 0)
    scale = xp.stop_gradient(xp.astype(xp.where(usable, peak, xp.ones_like(peak)),
                                       xp.dtype(flat)))
    return flat / scale, scale


def zero_deltas(frame: Frame) -> list:
    """Zero deltas shaped like the point's cores."""
    xp = frame.backend
    return [xp.zeros_like(u) for u in frame.left] + [xp.zeros_like(frame.last)]


def point_deltas(frame: Frame) -> list:
    """Deltas whose tangent-form TT is the point itself: ``dU_d = X_d``, the rest zero."""
    return zero_deltas(frame)[:-1] + [frame.last]


def check_point(x: Any, where: str, name: str = "x") -> None:
    """`x` must be a TTTensor."""
    if not isinstance(x, TTTensor):
        raise ShapeError(f"{where}: {name} must be a TTTensor, got {type(x).__name__}")


def frame_norm_scale(frame: Frame) -> float:
    """``‖x‖`` of the frame's point as a Python float (the norm lives in ``X_d``)."""
    xp = frame.backend
    unit, scale = _unit_flat(xp, [frame.last])  # at unit scale: 1e200 has a norm
    return float(xp.item(xp.real(scale) * xp.norm(unit)))
