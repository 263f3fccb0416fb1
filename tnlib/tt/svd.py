"""TT-SVD of dense tensors and matrices (Oseledets 2011, Algorithm 1).

How each unfolding is factorized
--------------------------------
At bond ``k`` the remaining data is a ``(r_{k-1} n_k) x (n_{k+1} ... n_d)``
matrix ``B``, usually very wide. TT-SVD needs only its left singular vectors
``U``, its singular values, and ``U^H B`` for the next step, so a wide ``B``
never goes to a full SVD. :func:`tnlib.linalg.left_svd` works on the short
side: the Gram matrix ``B B^H`` with a refinement of its small eigenvalues when
the requested accuracy allows it (``eps`` above about ``1e-10`` in float64),
else the triangular factor of a QR of ``B^H`` without forming ``Q``. A
Householder QR of a tall-skinny matrix is memory-bound (12 times slower than
the Gram product for ``10^5 x 100`` with OpenBLAS), which is why the Gram side
is taken whenever it is accurate enough. In both cases the discarded energy is
bounded exactly and ``‖A - X‖_F <= eps ‖A‖_F`` holds. Tall unfoldings (near the
end of the train) are small and go to a plain SVD.
"""

from __future__ import annotations

import math
from typing import Any

from .._info import DecompositionInfo, in_memory_info
from .._validation import (
    DefaultTol,
    as_array,
    check_eps,
    check_max_rank,
    check_option,
    check_positive_int,
    check_shape,
    finite_float,
    float_data,
    honour_eps,
    traced_eps,
    unit_data,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ShapeError
from ..linalg.svd import left_svd_abs
from ..scale.blocks import is_dask
from ._scale import times_scale
from .matrix import TTMatrix
from .tensor import TTTensor

__all__ = ["DecompositionInfo", "tt_svd", "tt_matrix"]


@host_eager
def tt_svd(a: Any, eps: float = DefaultTol(1e-14), max_rank: Any = None, return_info: bool = False,
           gram_limit: int | None = None, method: str = "auto") -> Any:
    """TT decomposition of a dense tensor with ``‖a - x‖_F <= eps ‖a‖_F``.

    Parameters
    ----------
    a : array of d >= 1 axes, or a ``dask.array.Array``
        A Dask array (zarr stores, HDF5 datasets and memmaps through
        ``dask.array.from_zarr`` / ``from_array``) is decomposed out of core in
        two passes over its chunks (:mod:`tnlib.scale.outofcore`), on the active
        Dask scheduler or distributed client; the result is on NumPy.
    eps : float, optional
        Relative Frobenius accuracy, split as ``eps / sqrt(d - 1)`` per bond.
    max_rank : int or sequence of int, optional
        Bound on every rank or one per bond; the stricter of the two limits wins.
    return_info : bool, optional
        Also return a :class:`DecompositionInfo` (passes over the data, bytes
        read, relative error).
    gram_limit : int, optional
        Dask input: reduce the unfoldings with at most this many rows (from the
        left) or columns (from the right) in the first pass. By default the
        smallest ones that leave a middle part of at most ``2**20`` entries times
        its two ranks, which the second pass builds in memory.
    method : {"auto", "gram", "tsqr"}, optional
        Dask input: how the first pass reduces those unfoldings -- by their Gram
        matrices (cheapest; accurate to about ``1e-8`` relative) or by a tree of
        QR factorizations (TSQR; about twice the flops, accurate to the working
        precision). ``"auto"`` takes TSQR for ``eps < 1e-7``.

    Returns
    -------
    TTTensor, or (TTTensor, DecompositionInfo)
        Left-orthogonal (in memory), same backend, dtype and device as `a`.

    References
    ----------
    I. V. Oseledets, "Tensor-train decomposition", SIAM J. Sci. Comput. 33 (2011),
    Algorithm 1.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> i = np.arange(8.0)
    >>> a = 1.0 / (1.0 + i[:, None, None] + i[None, :, None] + i[None, None, :])
    >>> x = tt.tt_svd(a, eps=1e-6)
    >>> x.ranks, bool(np.linalg.norm(x.full() - a) <= 1e-6 * np.linalg.norm(a))
    ((1, 6, 6, 1), True)
    """
    eps = check_eps(eps, "tt_svd", ranks="max_rank")
    check_option(method, ("auto", "gram", "tsqr"), "tt_svd", "method")
    if is_dask(a):
        return _tt_svd_dask(a, eps, max_rank, return_info, gram_limit, method)
    xp = backend_of(a)
    a = as_array(a, xp, "tt_svd")
    shape = xp.shape(a)
    if len(shape) == 0:
        raise ShapeError("tt_svd: a must have at least one axis, got a 0-d array")
    a = float_data(a, xp, "tt_svd")
    eps = traced_eps(eps, xp, a, "tt_svd", "max_rank")
    eps = honour_eps(eps, xp, a, "tt_svd")
    d = len(shape)
    bounds = check_max_rank(max_rank, d - 1, "tt_svd")
    data = a
    # factor data of unit size, scale the last core back; `norm` (None under tracing)
    # bounds the norm of every later unfolding
    a, scale, norm = unit_data(a, xp, "tt_svd")
    if d == 1:
        return TTTensor._from_cores([xp.reshape(data, (1, shape[0], 1))], xp)
    delta = 0.0 if norm is None else eps / math.sqrt(d - 1) * norm
    cores = []
    r = 1
    b = xp.reshape(a, (shape[0], -1))
    for k in range(d - 1):
        rows = r * shape[k]
        b = xp.reshape(b, (rows, -1))
        bound = None if bounds is None else bounds[k]
        u, _, b = left_svd_abs(b, delta, bound, xp, norm)
        rk = xp.shape(u)[1]
        cores.append(xp.reshape(u, (r, shape[k], rk)))
        r = rk
    cores = times_scale(cores + [xp.reshape(b, (r, shape[-1], 1))], scale, xp)
    x = TTTensor._from_cores(cores, xp)
    if return_info:
        return x, in_memory_info(data, x, xp)
    return x


def _tt_svd_dask(a: Any, eps: float, max_rank: Any, return_info: bool,
                 gram_limit: int | None, method: str) -> Any:
    from ..backends import get
    from ..scale.outofcore import tt_svd_dask

    d = a.ndim
    if d < 2:
        raise ShapeError(f"tt_svd: a dask array needs at least 2 axes, got shape {a.shape}")
    bounds = check_max_rank(max_rank, d - 1, "tt_svd")
    if gram_limit is not None:
        gram_limit = check_positive_int(gram_limit, "tt_svd", "gram_limit")
    cores, info = tt_svd_dask(a, eps, bounds, gram_limit, method)
    x = TTTensor._from_cores(cores, get("numpy"))
    return (x, DecompositionInfo(**info)) if return_info else x


@host_eager
def tt_matrix(a: Any, row_shape: Any, col_shape: Any, eps: float = DefaultTol(1e-14),
              max_rank: Any = None) -> TTMatrix:
    """TT-matrix of a dense ``(prod(row_shape), prod(col_shape))`` matrix.

    Row index ``i = (i_1, ..., i_d)`` and column index ``j = (j_1, ..., j_d)``
    follow NumPy's reshape order; core ``k`` holds modes ``(i_k, j_k)``.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> a = np.kron(np.eye(2), np.ones((3, 3)))
    >>> m = tt.tt_matrix(a, (2, 3), (2, 3))
    >>> m.ranks, bool(np.allclose(m.full(), a))
    ((1, 1, 1), True)
    """
    xp = backend_of(a)
    row_shape = check_shape(row_shape, "tt_matrix", "row_shape")
    col_shape = check_shape(col_shape, "tt_matrix", "col_shape")
    if len(row_shape) != len(col_shape):
        raise ShapeError(f"tt_matrix: row_shape {row_shape} and col_shape {col_shape} must have "
                         "the same number of modes")
    m, n = math.prod(row_shape), math.prod(col_shape)
    a = finite_float(a, xp, "tt_matrix")
    check_eps(eps, "tt_matrix", ranks="max_rank")  # named here, not as tt_svd's
    if xp.shape(a) != (m, n):
        raise ShapeError(f"tt_matrix: a has shape {xp.shape(a)}, expected ({m}, {n}) from "
                         f"row_shape {row_shape} and col_shape {col_shape}")
    d = len(row_shape)
    t = xp.reshape(a, row_shape + col_shape)
    t = xp.transpose(t, [ax for k in range(d) for ax in (k, d + k)])
    t = xp.reshape(t, [row_shape[k] * col_shape[k] for k in range(d)])
    x = tt_svd(t, eps=eps, max_rank=max_rank)
    cores = [xp.reshape(c, (xp.shape(c)[0], row_shape[k], col_shape[k], xp.shape(c)[2]))
             for k, c in enumerate(x.cores)]
    return TTMatrix._from_cores(cores, xp)
