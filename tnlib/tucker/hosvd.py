"""Sequentially truncated HOSVD (Vannieuwenhoven, Vandebril, Meerbergen 2012)."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .._validation import check_eps, check_max_rank
from ..backends import backend_of
from ..errors import ShapeError
from ..linalg.svd import mode_svd_abs
from .tensor import TuckerTensor

__all__ = ["hosvd", "mode_ranks"]


def mode_ranks(ranks: Any, d: int, where: str) -> list[int] | None:
    """`ranks` (None, an int, or one int per mode) as a list of `d` ints, or None."""
    if ranks is None:
        return None
    if isinstance(ranks, numbers.Integral):
        return check_max_rank(ranks, d, where, "ranks")
    values = list(ranks)
    if len(values) != d:
        raise ShapeError(f"{where}: ranks must be an int or have one entry per mode ({d}), "
                         f"got {ranks!r}")
    return check_max_rank(values, d, where, "ranks")


def hosvd(a: Any, eps: float = 0.0, ranks: Any = None) -> TuckerTensor:
    """Sequentially truncated HOSVD with ``‖a - x‖_F <= eps ‖a‖_F``.

    Mode by mode, the current core is projected onto the leading left singular
    vectors of its unfolding, so later modes work on an already smaller core.
    Each mode may discard ``eps ‖a‖ / sqrt(d)``, which gives the bound. The
    unfoldings are factorized through their short side
    (:func:`tnlib.linalg.left_svd`): a ``100 x 10^4`` unfolding costs one
    ``100 x 100`` Gram product, never a full SVD.

    Parameters
    ----------
    a : array with d >= 1 axes
    eps : float, optional
        Relative accuracy (0: keep every direction, only `ranks` truncates).
    ranks : int or sequence of int, optional
        Upper bounds on the multilinear ranks; the stricter limit wins.

    Returns
    -------
    TuckerTensor
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
    xp = backend_of(a)
    if not xp.is_array(a):
        a = xp.asarray(a)
    eps = check_eps(eps, "hosvd")
    shape = xp.shape(a)
    d = len(shape)
    if d == 0:
        raise ShapeError("hosvd: a must have at least one axis")
    bounds = mode_ranks(ranks, d, "hosvd")
    norm = float(xp.item(xp.norm(a))) if eps > 0 else None
    delta = eps * norm / math.sqrt(d) if eps > 0 else 0.0
    core = a
    factors = []
    for k in range(d):
        u, _, core = mode_svd_abs(core, k, delta, None if bounds is None else bounds[k], xp,
                                  norm)
        factors.append(u)
    return TuckerTensor._from(core, factors, xp)
