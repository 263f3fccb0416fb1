"""HOOI of a sparse tensor given by its nonzeros (coordinate format).

The tensor is ``values[s]`` at ``idx[s]`` and zero elsewhere. A sweep is HOOI's: factor
``k`` becomes the leading left singular vectors of ``Y_k = a ×_{j != k} U_j^T`` (mode-k
unfolding, ``n_k x prod_{j != k} r_j``), here computed from the nonzeros alone -- each
nonzero adds its value times the Kronecker product of the factor rows it indexes to row
``idx[s, k]`` of ``Y_k`` (Kolda, Sun 2008) -- in chunks of nonzeros that bound the
temporary to a few million numbers. The last mode's ``Y`` gives the core, and the
orthonormal factors the error, ``‖a‖² - ‖core‖²``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._info import Timer, compiled
from .._progress import Reporter
from .._sparse import coo_entries, leading_subspaces, sparse_shape
from .._validation import (
    DefaultTol,
    check_eps,
    check_positive_int,
    honour_eps,
    rng_of,
    unit_data,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from .hooi import TuckerInfo, finish, run_sweeps
from .hosvd import mode_ranks
from .tensor import TuckerTensor

__all__ = ["hooi_sparse"]

_CHUNK = 2**22  # numbers in one chunk's Kronecker rows


@host_eager
def hooi_sparse(idx: Any, values: Any, shape: Any, ranks: Any, max_iter: int = 50,
                tol: float = DefaultTol(1e-10), init: Any = "svd", seed: Any = None,
                return_info: bool = False, callback: Callable | None = None,
                verbose: bool = False, progress: bool = False) -> Any:
    """Tucker decomposition (HOOI) of the sparse tensor with entries `values` at `idx`.

    Parameters
    ----------
    idx : int array (nnz, d)
        Positions of the nonzeros; a position listed twice holds the sum of its values.
    values : (nnz,) real array
        The entries; their backend, dtype and device are the result's.
    shape : sequence of int
    ranks : int or sequence of int
        Multilinear ranks (each at most its mode's size and the product of the others).
    max_iter : int, optional
        Maximum number of sweeps.
    tol : float, optional
        Stop when the relative error changes by less than `tol` (0: run all sweeps);
        raised to four machine epsilons of the values' dtype.
    init : {"svd", "random"} or TuckerTensor, optional
        ``"svd"``: the truncated HOSVD's factors (each unfolding's leading left singular
        vectors, by seeded randomized subspace iteration on the nonzeros: a few products
        per mode, each a segment sum over the nonzeros each way; 1.1 M nonzeros, ranks 5:
        1.5 s, and the first sweep's error 0.53 against 0.76 from a random start);
        ``"random"``: orthonormalized Gaussian factors (seeded); or the factors of a
        TuckerTensor of this shape and ranks.
    seed : int, optional
    return_info : bool, optional
        Also return a :class:`~tnlib.tucker.TuckerInfo` (``errors``: relative error per
        sweep).
    callback, verbose, progress : optional
        As for :func:`~tnlib.tucker.hooi`.

    Returns
    -------
    TuckerTensor, or (TuckerTensor, TuckerInfo)
        Orthonormal factors; on the backend, dtype and device of `values`.

    Notes
    -----
    The error ``sqrt(‖a‖² - ‖core‖²) / ‖a‖`` resolves relative errors down to about the
    square root of the dtype's resolution (1e-8 in float64); the residual itself would
    need the dense tensor.

    References
    ----------
    T. G. Kolda, J. Sun, "Scalable tensor decompositions for multi-aspect data mining",
    ICDM 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tucker
    >>> rng = np.random.default_rng(0)
    >>> u, v, w = (rng.standard_normal((n, 2)) * (rng.random((n, 1)) < 0.2)
    ...            for n in (60, 50, 40))
    >>> a = np.einsum("abc,ia,jb,kc->ijk", rng.standard_normal((2, 2, 2)), u, v, w)
    >>> idx = np.argwhere(a)                       # ranks (2, 2, 2), mostly zeros
    >>> x = tucker.hooi_sparse(idx, a[tuple(idx.T)], a.shape, 2, seed=0)
    >>> bool(np.linalg.norm(x.full() - a) < 1e-6 * np.linalg.norm(a))
    True
    """
    where = "hooi_sparse"
    shape = sparse_shape(shape, where)
    d = len(shape)
    r = mode_ranks(ranks, d, where)
    if r is None:
        raise ArgumentError(f"{where}: ranks is required")
    r = _feasible(r, shape)
    max_iter = check_positive_int(max_iter, where, "max_iter")
    rng = rng_of(seed, where)
    entries = coo_entries(idx, values, shape, where)
    xp, vals, modes = entries.xp, entries.values, entries.modes
    tol = honour_eps(check_eps(tol, where, "tol"), xp, vals, where, name="tol")
    if xp.shape(vals)[0]:
        vals, scale, norm = unit_data(vals, xp, where, "values")
    else:
        scale, norm = None, 0.0
    svd = isinstance(init, str) and init == "svd" and norm != 0
    factors = leading_subspaces(vals, entries.host, modes, shape, r, rng, xp) if svd else \
        _start("random" if isinstance(init, str) and init == "svd" else init, shape, r, rng,
               vals, xp, where)
    info, timer = TuckerInfo(), Timer()
    if norm == 0:
        info.iterations, info.errors, info.converged = 0, [0.0], True
        info.stop_reason = "a is the zero tensor: a zero core is exact"
        core = xp.zeros(tuple(r), dtype=xp.dtype(vals), device=xp.device(vals))
        return finish(core, factors, info, xp, where, scale=None, half=entries.half,
                      return_info=return_info)
    chunks = _chunks(xp.shape(vals)[0], max(math.prod(r) // min(r), 1))
    sweep = compiled(xp, _sweep, shape=shape, ranks=tuple(r), chunks=chunks)
    report = Reporter(where, max_iter, verbose, progress, callback)

    def step(core: Any, factors: list) -> tuple:
        new_factors, new_core, core_sq = sweep(vals, modes, factors)
        core_sq = float(xp.item(core_sq))  # (first: under tracing this read names the call)
        return new_factors, new_core, math.sqrt(max(norm ** 2 - core_sq, 0.0)) / norm

    core, factors = run_sweeps(step, None, factors, info, max_iter, tol, timer, report)
    if core is None:  # no finite sweep: a zero core on the start's factors
        core = xp.zeros(tuple(r), dtype=xp.dtype(vals), device=xp.device(vals))
    return finish(core, factors, info, xp, where, scale=scale, half=entries.half,
                  max_iter=max_iter, tol=tol, return_info=return_info)


def _feasible(r: list[int], shape: tuple) -> list[int]:
    """Ranks a Tucker tensor of `shape` can have: ``r_k <= n_k`` and ``r_k <= prod of the
    other ranks`` (a mode's unfolding has no more columns)."""
    r = [min(rk, n) for rk, n in zip(r, shape)]
    while True:
        clipped = [min(rk, math.prod(r[:k] + r[k + 1:])) for k, rk in enumerate(r)]
        if clipped == r:
            return r
        r = clipped


def _start(init: Any, shape: tuple, r: list[int], rng: Any, like: Any, xp: Any,
           where: str) -> list:
    dt, dev = xp.dtype(like), xp.device(like)
    if isinstance(init, TuckerTensor):
        backend_of(like, init)
        if init.shape != shape or list(init.ranks) != r:
            raise ShapeError(f"{where}: init has shape {init.shape} and ranks {init.ranks}, "
                             f"expected {shape} and {tuple(r)}")
        return [xp.qr(xp.astype(f, dt))[0] for f in init.factors]
    if not (isinstance(init, str) and init == "random"):
        raise ArgumentError(f"{where}: init must be 'svd', 'random' or a TuckerTensor, got "
                            f"{init!r}")
    return [xp.qr(xp.random_normal((n, rk), seed=rng, dtype=dt, device=dev))[0]
            for n, rk in zip(shape, r)]


def _chunks(nnz: int, width: int) -> tuple:
    """Static (start, stop) bounds of the nonzeros processed together: at most `_CHUNK`
    numbers of Kronecker rows of `width` each."""
    step = max(1, _CHUNK // max(width, 1))
    return tuple((s, min(s + step, nnz)) for s in range(0, nnz, step))


def _projected(vals: Any, modes: list, factors: list, k: int, n: int, chunks: tuple,
               xp: Any) -> Any:
    """``Y_k = a ×_{j != k} U_j^T`` unfolded, ``(n_k, prod_{j != k} r_j)``, from the
    nonzeros: each adds its value times the Kronecker product of its other factor rows."""
    y = None
    for lo, hi in chunks:
        rows = vals[lo:hi, None]
        for j, (f, m) in enumerate(zip(factors, modes)):
            if j != k:
                g = xp.take(f, m[lo:hi], axis=0)
                rows = xp.reshape(rows[:, :, None] * g[:, None, :], (hi - lo, -1))
        part = xp.segment_sum(rows, modes[k][lo:hi], n)
        y = part if y is None else y + part
    return y


def _sweep(vals: Any, modes: list, factors: list, shape: tuple, ranks: tuple,
           chunks: tuple, xp: Any) -> tuple[list, Any, Any]:
    """One HOOI sweep from the nonzeros; the factors, the core and ``‖core‖²``."""
    factors = list(factors)
    d = len(shape)
    y = None
    for k in range(d):
        y = _projected(vals, modes, factors, k, shape[k], chunks, xp)
        u, _, _ = xp.svd(y)
        factors[k] = u[:, :ranks[k]]
    g = xp.matmul(xp.transpose(factors[-1]), y)  # (r_d, r_1 ... r_{d-1})
    core = xp.moveaxis(xp.reshape(g, (ranks[-1],) + ranks[:-1]), 0, d - 1)
    return factors, core, xp.sum(core * core)

