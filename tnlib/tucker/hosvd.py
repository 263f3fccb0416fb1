"""Sequentially truncated HOSVD (Vannieuwenhoven, Vandebril, Meerbergen 2012)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from .._info import DecompositionInfo, in_memory_info
from .._validation import (
    as_array,
    check_eps,
    check_max_rank,
    float_data,
    honour_eps,
    plain,
    scaled_back,
    traced_eps,
    unit_data,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ShapeError
from ..linalg.svd import mode_svd_abs
from ..scale.blocks import is_dask
from .tensor import TuckerTensor

__all__ = ["hosvd", "mode_ranks", "sequential_hosvd"]


def mode_ranks(ranks: Any, d: int, where: str) -> list[int] | None:
    """`ranks` (None, an int, or one int per mode) as a list of `d` ints, or None."""
    if ranks is None:
        return None
    ranks = plain(ranks)
    if isinstance(ranks, numbers.Integral) or not isinstance(ranks, Sequence) or isinstance(
            ranks, str):
        return check_max_rank(ranks, d, where, "ranks")  # an int, or the error for the rest
    values = list(ranks)
    if len(values) != d:
        raise ShapeError(f"{where}: ranks must be an int or have one entry per mode ({d}), "
                         f"got {ranks!r}")
    return check_max_rank(values, d, where, "ranks")


@host_eager
def hosvd(a: Any, eps: float = 0.0, ranks: Any = None, return_info: bool = False) -> Any:
    """Sequentially truncated HOSVD with ``‖a - x‖_F <= eps ‖a‖_F``.

    Mode by mode, the current core is projected onto the leading left singular
    vectors of its unfolding, so later modes work on an already smaller core.
    Each mode may discard ``eps ‖a‖ / sqrt(d)``, which gives the bound. The
    unfoldings are factorized through their short side
    (:func:`tnlib.linalg.left_svd`): a ``100 x 10^4`` unfolding costs one
    ``100 x 100`` Gram product, never a full SVD.

    A ``dask.array.Array`` is decomposed out of core in two passes: all mode
    Gram matrices in the first, the core in the second
    (:func:`tnlib.scale.outofcore.hosvd_dask`, a truncated -- not sequential --
    HOSVD with the same bound); the result is on NumPy.

    Parameters
    ----------
    a : array with d >= 1 axes, or a ``dask.array.Array``
    eps : float, optional
        Relative accuracy (0: keep every direction, only `ranks` truncates).
    ranks : int or sequence of int, optional
        Upper bounds on the multilinear ranks; the stricter limit wins.
    return_info : bool, optional
        Also return a :class:`~tnlib.tt.DecompositionInfo` (passes, bytes read,
        relative error).

    Returns
    -------
    TuckerTensor, or (TuckerTensor, DecompositionInfo)
        Orthonormal factors; same backend, dtype and device as `a`.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tucker
    >>> a = np.random.default_rng(0).standard_normal((6, 7, 8))
    >>> x = tucker.hosvd(a, ranks=(2, 3, 4))
    >>> x.ranks
    (2, 3, 4)
    """
    eps = check_eps(eps, "hosvd", ranks="ranks")
    if is_dask(a):
        return _hosvd_dask(a, eps, ranks, return_info)
    xp = backend_of(a)
    a = as_array(a, xp, "hosvd")
    shape = xp.shape(a)
    d = len(shape)
    if d == 0:
        raise ShapeError("hosvd: a must have at least one axis")
    a = float_data(a, xp, "hosvd")
    eps = honour_eps(traced_eps(eps, xp, a, "hosvd", "ranks"), xp, a, "hosvd")
    bounds = mode_ranks(ranks, d, "hosvd")
    data = a
    # Grams of data near the float limits overflow: factor it at unit scale
    a, scale, norm = unit_data(a, xp, "hosvd", norm=eps > 0)
    delta = eps * norm / math.sqrt(d) if norm is not None else 0.0
    core, factors = sequential_hosvd(a, delta, bounds, xp, norm)
    core = scaled_back(core, scale, xp, "hosvd")
    x = TuckerTensor._from(core, factors, xp)
    return (x, in_memory_info(data, x, xp)) if return_info else x


def sequential_hosvd(a: Any, delta: float, bounds: list[int] | None, xp: Any,
                     norm: float | None = None) -> tuple[Any, list[Any]]:
    """The core and factors of :func:`hosvd` of checked float data `a` with an absolute
    tolerance `delta` per mode (internal; `norm` bounds ``‖a‖_F`` where known)."""
    core = a
    factors = []
    for k in range(len(xp.shape(a))):
        u, _, core = mode_svd_abs(core, k, delta, None if bounds is None else bounds[k], xp,
                                  norm)
        factors.append(u)
    return core, factors


def _hosvd_dask(a: Any, eps: float, ranks: Any, return_info: bool) -> Any:
    from ..backends import get
    from ..scale.outofcore import hosvd_dask

    bounds = mode_ranks(ranks, a.ndim, "hosvd")
    core, factors, info = hosvd_dask(a, eps, bounds)
    x = TuckerTensor._from(core, factors, get("numpy"))
    return (x, DecompositionInfo(**info)) if return_info else x
