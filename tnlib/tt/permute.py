"""The modes of a train in another order, by swaps of neighbouring modes.

Two neighbouring cores merged are a matrix ``(r n_k, n_{k+1} r')``; the same two modes
swapped are its reshuffle ``(r n_{k+1}, n_k r')``, split again by a truncated SVD. With
the train orthonormal on both sides of the pair, the SVD's truncation is measured
against the whole tensor's norm. Each mode is carried to its place by such swaps (an
insertion sort: as many swaps as the order has inversions), the orthogonality centre
riding along.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import (
    DefaultTol,
    check_eps,
    check_finite_cores,
    check_max_rank,
    honour_eps,
    traced_read_error,
)
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..linalg.svd import gram_noise
from ._env import resolvable_eps, right_orthogonalize_scaled, split
from .matrix import TTMatrix
from .round import apply_scale, qr_left
from .tensor import TTTensor

__all__ = ["permute"]


@host_eager
def permute(x: TTTensor, axes: Sequence[int], eps: float = DefaultTol(1e-14),
            max_rank: Any = None) -> TTTensor:
    """The train of ``np.transpose(x.full(), axes)``, without forming the tensor.

    Mode ``j`` of the result is mode ``axes[j]`` of `x` (NumPy's ``transpose``, torch's
    ``permute``). The modes move by swaps of neighbours, each a truncated SVD of the two
    cores concerned in the form orthonormal around them; the ranks in between are those
    the new order needs (ordering the modes of a function by how strongly they interact
    can lower them a lot, or raise them).

    Parameters
    ----------
    x : TTTensor or TTMatrix
        A TT-matrix's modes move as pairs ``(m_k, n_k)``: the operator acting on the
        permuted modes, ``A`` conjugated by the permutation.
    axes : sequence of int
        A permutation of ``0 … d-1``.
    eps : float, optional
        Relative accuracy: ``‖permute(x) - transpose(x)‖_F <= eps ‖x‖_F``. Each of the
        ``m`` swaps discards at most ``eps / m`` of the norm, and never less than its
        SVD's own rounding (``sqrt(size)`` unit roundoffs: a finer cut would keep rounding
        noise as rank); the default keeps all but that noise.
    max_rank : int or sequence of d - 1 ints, optional
        Bound on the bond between positions ``k`` and ``k + 1`` after every swap (with
        it, the error is not bounded by `eps`).

    Returns
    -------
    TTTensor or TTMatrix
        As `x`, on its backend, of shape ``[x.shape[a] for a in axes]`` (row and column
        shapes permuted alike).

    Raises
    ------
    ArgumentError
        If `axes` is not a permutation of the modes, the cores hold NaN or inf, or the call
        is traced (the ranks are chosen from singular values read on the host).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.random((3, 4, 5, 6), 3, seed=0)
    >>> y = tt.permute(x, (2, 0, 3, 1))
    >>> y.shape
    (5, 3, 6, 4)
    >>> bool(np.allclose(y.full(), np.transpose(x.full(), (2, 0, 3, 1))))
    True
    """
    where = "permute"
    if isinstance(x, TTMatrix):  # each mode pair (m_k, n_k) moves as one mode
        order = _axes(axes, x.ndim, where)
        y = permute(x.as_tt(), order, eps, max_rank)
        return TTMatrix.from_tt(y, [x.row_shape[a] for a in order],
                                [x.col_shape[a] for a in order])
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"{where}: x must be a TTTensor or TTMatrix, got "
                            f"{type(x).__name__}")
    d = x.ndim
    order = _axes(axes, d, where)
    eps = check_eps(eps, where, ranks="max_rank")
    bounds = check_max_rank(max_rank, d - 1, where) if d > 1 else None
    xp = x.backend
    if xp.is_traced(x.cores[0]):
        raise traced_read_error(where)
    check_finite_cores(x, where, "x")
    eps = honour_eps(eps, xp, x.cores[0], where)
    swaps = _inversions(order)
    if swaps == 0:
        return x
    step = eps / swaps
    cores, log_scale = right_orthogonalize_scaled(xp, list(x.cores))
    log_scale = float(xp.item(log_scale))
    labels, centre = list(range(d)), 0
    for j, want in enumerate(order):
        p = labels.index(want)
        if p == j:
            continue
        for k in range(centre, p):            # the centre to position p
            qr_left(cores, k, xp)
        for k in range(p - 1, j - 1, -1):     # then mode `want` left, one swap at a time
            cores[k], cores[k + 1], nrm = _swap(xp, cores[k], cores[k + 1], step,
                                                None if bounds is None else bounds[k])
            log_scale += math.log(nrm) if nrm > 0 else 0.0
            labels[k], labels[k + 1] = labels[k + 1], labels[k]
        centre = j
    return TTTensor._from_cores(apply_scale(cores, log_scale, xp), xp)


def _axes(axes: Any, d: int, where: str) -> list[int]:
    try:
        order = list(axes)
    except TypeError:
        raise ArgumentError(f"{where}: axes must be a sequence of {d} ints, got "
                            f"{type(axes).__name__}") from None
    if len(order) != d:
        raise ShapeError(f"{where}: axes has {len(order)} entries for a train of {d} modes")
    if not all(isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_))
               for a in order) or sorted(int(a) for a in order) != list(range(d)):
        raise ArgumentError(f"{where}: axes must be a permutation of 0 … {d - 1}, got {axes!r}")
    return [int(a) for a in order]


def _inversions(order: list[int]) -> int:
    return sum(a > b for i, a in enumerate(order) for b in order[i + 1:])


def _swap(xp: Any, left: Any, right: Any, eps: float, bound: Any) -> tuple[Any, Any, float]:
    """Cores ``k`` and ``k + 1`` with their modes exchanged: the first holds the centre,
    divided by the pair's norm (returned), the second is right-orthonormal."""
    r, n1, k = xp.shape(left)
    _, n2, rr = xp.shape(right)
    pair = xp.reshape(xp.reshape(left, (r * n1, k)) @ xp.reshape(right, (k, n2 * rr)),
                      (r, n1, n2, rr))
    mat = xp.reshape(xp.transpose(pair, (0, 2, 1, 3)), (r * n2, n1 * rr))
    eps = resolvable_eps(eps, mat, xp)
    # a Gram matrix tells a cut from its rounding only for eps above about its noise
    # (gram_resolves); below, its eigensolver would only precede the SVD
    gram = eps**2 >= min(r * n2, n1 * rr) * gram_noise(n1 * rr, mat, xp)
    part = split(xp, mat, eps, bound, side="right", gram=gram)
    ortho, other, nrm = part.ortho, part.other, part.norm
    if nrm > 0:
        other = other / nrm
    rank = xp.shape(ortho)[0]
    return (xp.reshape(other, (r, n2, rank)), xp.reshape(ortho, (rank, n1, rr)), float(nrm))
