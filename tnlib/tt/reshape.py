"""A train with the same entries under other mode sizes (the same row-major index).

Left to right, the current core is split while its mode holds the next target size as a
factor -- a truncated SVD that leaves a left-orthonormal core of the target size -- and is
merged with the next core (exactly, by contraction) while it does not. Splitting a mode
of 1024 into ten of 2 is TT-SVD of that core; merging ten modes of 2 into one of 1024 is a
contraction; ``(6, 4) -> (4, 6)`` merges to 24 and splits again. The train is orthonormal
to the right of the current core from the start, so every cut is measured against the
whole norm and their errors are orthogonal, as in TT-SVD.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._validation import (
    DefaultTol,
    check_eps,
    check_finite_cores,
    check_max_rank,
    check_shape,
    honour_eps,
    traced_read_error,
)
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ._env import resolvable_eps, right_orthogonalize_scaled, split
from .round import apply_scale
from .tensor import TTTensor

__all__ = ["reshape"]


@host_eager
def reshape(x: TTTensor, shape: Sequence[int], eps: float = DefaultTol(1e-14),
            max_rank: Any = None) -> TTTensor:
    """The train of ``x.full().reshape(shape)``, without forming the tensor.

    The modes are split and merged in place: a TT of shape ``(1024, 1024)`` becomes the QTT
    of shape ``(2,) * 20`` (the same grid function, its index in binary digits), or back,
    and ``(6, 4)`` becomes ``(4, 6)``. Splits are truncated SVDs in the form orthonormal
    around the core; merges are exact and multiply no ranks.

    Parameters
    ----------
    x : TTTensor
    shape : sequence of int
        The new mode sizes, with the same product as ``x.shape``.
    eps : float, optional
        Relative accuracy, ``‖reshape(x) - x.full().reshape(shape)‖_F <= eps ‖x‖_F``: each
        split discards at most ``eps / sqrt(len(shape) - 1)`` (and never less than its
        SVD's own rounding, which would keep rounding noise as rank).
    max_rank : int or sequence of ``len(shape) - 1`` ints, optional
        Bound on the new bonds (with it, the error is not bounded by `eps`).

    Returns
    -------
    TTTensor
        On `x`'s backend, of shape `shape`.

    Raises
    ------
    ShapeError
        If the sizes' products differ.
    ArgumentError
        If the cores hold NaN or inf, or the call is traced (ranks are chosen from
        singular values read on the host).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> t = np.linspace(0, 1, 2**10)
    >>> x = tt.tt_svd(np.sin(t[:, None] + 2 * t[None, :]))       # (1024, 1024), rank 2
    >>> q = tt.reshape(x, (2,) * 20, eps=1e-12)                   # its QTT
    >>> max(q.ranks) <= 4
    True
    >>> bool(np.allclose(tt.reshape(q, (1024, 1024)).full(), x.full()))
    True
    """
    where = "reshape"
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"{where}: x must be a TTTensor, got {type(x).__name__}")
    target = check_shape(shape, where)
    if math.prod(target) != math.prod(x.shape):
        raise ShapeError(f"{where}: shape {target} has {math.prod(target)} entries, x of shape "
                         f"{x.shape} has {math.prod(x.shape)}")
    eps = check_eps(eps, where, ranks="max_rank")
    bounds = check_max_rank(max_rank, len(target) - 1, where) if len(target) > 1 else None
    xp = x.backend
    if xp.is_traced(x.cores[0]):
        raise traced_read_error(where)
    check_finite_cores(x, where, "x")
    if target == x.shape:
        return x
    eps = honour_eps(eps, xp, x.cores[0], where)
    step = eps / math.sqrt(max(len(target) - 1, 1))
    cores, log_scale = right_orthogonalize_scaled(xp, list(x.cores))
    log_scale = float(xp.item(log_scale))
    out: list = []
    core, nxt = cores[0], 1
    for j, size in enumerate(target):
        last = j == len(target) - 1
        # merge until the mode holds the target size (the last takes every core left)
        while xp.shape(core)[1] % size or (last and nxt < len(cores)):
            core = _merged(xp, core, cores[nxt])
            nxt += 1
        if last:
            out.append(core)
            break
        left, core, nrm = _split(xp, core, size, step, None if bounds is None else bounds[j])
        out.append(left)
        log_scale += math.log(nrm) if nrm > 0 else 0.0
    return TTTensor._from_cores(apply_scale(out, log_scale, xp), xp)


def _merged(xp: Any, core: Any, nxt: Any) -> Any:
    r, n, k = xp.shape(core)
    _, m, rr = xp.shape(nxt)
    return xp.reshape(xp.reshape(core, (r * n, k)) @ xp.reshape(nxt, (k, m * rr)),
                      (r, n * m, rr))


def _split(xp: Any, core: Any, size: int, eps: float, bound: Any) -> tuple[Any, Any, float]:
    """`core`'s mode split as ``size x rest``: a left-orthonormal core of mode `size` and the
    rest (the centre, divided by the core's norm, which is returned)."""
    r, n, rr = xp.shape(core)
    mat = xp.reshape(core, (r * size, (n // size) * rr))
    part = split(xp, mat, resolvable_eps(eps, mat, xp), bound, side="left")
    rank = xp.shape(part.ortho)[1]
    nrm = part.norm
    rest = part.other / nrm if nrm > 0 else part.other
    return (xp.reshape(part.ortho, (r, size, rank)), xp.reshape(rest, (rank, n // size, rr)),
            float(nrm))
