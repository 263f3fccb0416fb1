"""Sums over some modes of a train (marginals), and the trace of a TT-matrix."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import pow2_scaled
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ._scale import balanced, spread_or_warn
from .matrix import TTMatrix
from .tensor import TTTensor

__all__ = ["sum_over", "trace"]


def axes_of(axis: Any, d: int, where: str) -> tuple[int, ...]:
    """`axis` (an int or a sequence of ints, negative counting from the end) as sorted
    distinct modes of a train with `d` modes."""
    items = (axis,) if isinstance(axis, numbers.Integral) else axis
    try:
        items = tuple(items)
    except TypeError:
        raise ArgumentError(f"{where}: axis must be None, an int or a sequence of ints, got "
                            f"{axis!r}") from None
    out = set()
    for a in items:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise ArgumentError(f"{where}: axis must be None, an int or a sequence of ints, "
                                f"got {axis!r}")
        if not -d <= a < d:
            raise ShapeError(f"{where}: axis {a} is out of range for a train of {d} modes")
        k = int(a) % d
        if k in out:
            raise ArgumentError(f"{where}: axis {a} is repeated in {axis!r} (mode {k})")
        out.add(k)
    return tuple(sorted(out))


def sum_over(x: TTTensor, axes: tuple[int, ...]) -> TTTensor:
    """The train of the sums of `x` over the modes `axes` (not all of them): each summed
    core becomes the matrix ``Σ_i G_k[:, i, :]``, and the product of each run of them
    joins the next kept core (the last kept core, for a run at the end). The cores are
    balanced first and each running product is kept at unit scale by powers of two, the
    exponent spread over the result's cores at the end: a marginal of a long train
    neither overflows nor underflows on the way (its value may, as any train's)."""
    xp = x.backend
    cores, exponent = balanced(list(x.cores), xp, always=True)
    kept: list = []
    pending = None  # the product of the summed cores since the last kept one
    for k, core in enumerate(cores):
        if k in axes:
            m = xp.sum(core, axis=1)
            pending = m if pending is None else pending @ m
            pending, e = pow2_scaled(pending, xp)
            exponent += e
            continue
        if pending is not None:
            r, n, rr = xp.shape(core)
            core = xp.reshape(pending @ xp.reshape(core, (r, n * rr)),
                              (xp.shape(pending)[0], n, rr))
            pending = None
        kept.append(core)
    if pending is not None:  # summed modes at the end: into the last kept core
        r, n, rr = xp.shape(kept[-1])
        kept[-1] = xp.reshape(xp.reshape(kept[-1], (r * n, rr)) @ pending,
                              (r, n, xp.shape(pending)[1]))
    # entries beyond the range whatever the cores: as a sum past it, inf (or 0)
    return TTTensor._from_cores(spread_or_warn(kept, exponent, xp, "sum",
                                               "the entries of the sum over axis"), xp)


@host_eager
def trace(a: TTMatrix, log: bool = False) -> Any:
    """Trace of a square TT-matrix: the sum of its diagonal, ``Π_k Σ_i A_k[:, i, i, :]``.

    Parameters
    ----------
    a : TTMatrix
        With ``row_shape == col_shape``.
    log : bool, optional
        Return ``(sign, log|trace|)`` instead, for traces beyond the float range (as
        :func:`tnlib.tt.sum` does).

    Returns
    -------
    0-d array of the backend, or a pair of them.

    Examples
    --------
    >>> from tnlib import tt
    >>> float(tt.trace(tt.eye((2, 3, 4))))
    24.0
    >>> float(tt.laplacian(5, 3).trace())      # 125 diagonal entries, each 3 * 2
    750.0
    """
    if not isinstance(a, TTMatrix):
        raise ArgumentError(f"trace: a must be a TTMatrix, got {type(a).__name__}")
    if a.row_shape != a.col_shape:
        raise ShapeError(f"trace: needs row_shape == col_shape, got {a.row_shape} and "
                         f"{a.col_shape}")
    if not isinstance(log, (bool, np.bool_)):
        raise ArgumentError(f"trace: log must be True or False, got {log!r}")
    from .algebra import tt_sum

    return tt_sum(a.diag(), log=log)
