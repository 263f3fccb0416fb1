"""CP-ALS of a sparse tensor given by its nonzeros (coordinate format).

The tensor is ``values[s]`` at ``idx[s]`` and zero elsewhere. A sweep is CP-ALS's
(:mod:`tnlib.cp.als`: the same normal equations, shifts and unit columns), with the
MTTKRP of mode k computed from the nonzeros alone (Bader, Kolda 2007): each nonzero
multiplies its value by the rows of the other factors it indexes, and the products are
summed by its mode-k index (a segment sum),

    M_k[i, :] = sum_{s : idx[s, k] = i} values[s] * prod_{j != k} A_j[idx[s, j], :],

``O(nnz d R)`` per mode, never a dense array of the tensor's shape. The error follows
from the last mode's MTTKRP and the factors' Grams, ``‖a‖² - 2<a, x> + ‖x‖²``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._info import compiled
from .._sparse import CooEntries, coo_entries, leading_subspaces, sparse_shape
from .._validation import (
    DefaultTol,
    check_eps,
    check_positive_int,
    honour_eps,
    rng_of,
    unit_data,
)
from ..backends._host import host_eager
from ..linalg.nnls import unit_columns
from ._fit import FitData, fit_loop, start_factors, zero_fit
from .als import _gram, _shifts, _solve_mode

__all__ = ["cp_als_sparse"]


@host_eager
def cp_als_sparse(idx: Any, values: Any, shape: Any, rank: int, max_iter: int = 100,
                  tol: float = DefaultTol(1e-8), init: Any = "svd", seed: Any = None,
                  return_info: bool = False, l2_reg: float = 0.0,
                  callback: Callable | None = None, verbose: bool = False,
                  progress: bool = False) -> Any:
    """CP-ALS of the sparse tensor with entries `values` at `idx` (zero elsewhere).

    Parameters
    ----------
    idx : int array (nnz, d)
        Positions of the nonzeros; a position listed more than once holds the sum of its
        values (as in coordinate-format sparse arrays).
    values : (nnz,) real array
        The entries; their backend, dtype and device are the result's.
    shape : sequence of int
    rank : int
    max_iter : int, optional
        Maximum number of sweeps.
    tol : float, optional
        Stop when the relative error changes by less than `tol` between sweeps (0: run
        all sweeps); raised to four machine epsilons of the values' dtype.
    init : {"random", "svd"} or CPTensor, optional
        Seeded Gaussian factors; the leading left singular vectors of each unfolding
        (``"svd"``, pyttb's ``"nvecs"``: by randomized subspace iteration on the nonzeros,
        random columns beyond a mode's size); or a start of this shape and rank.
    seed : int, optional
    return_info : bool, optional
        Also return a :class:`~tnlib.cp.CPInfo` (``errors``: relative error per sweep).
    l2_reg : float, optional
        Ridge term ``l2_reg ‖A_k‖²`` in each least-squares problem.
    callback, verbose, progress : optional
        As for :func:`~tnlib.cp.cp_als`.

    Returns
    -------
    CPTensor, or (CPTensor, CPInfo)

    Notes
    -----
    The error is computed from ``‖a‖² - 2<a, x> + ‖x‖²`` (the residual off the nonzeros
    would need the dense tensor), which resolves relative errors down to about the square
    root of the dtype's resolution (1e-7 in float64); below that the reported errors are
    rounding.

    References
    ----------
    B. W. Bader, T. G. Kolda, "Efficient MATLAB computations with sparse and factored
    tensors", SIAM J. Sci. Comput. 30 (2007).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import cp
    >>> rng = np.random.default_rng(0)
    >>> parts = [rng.uniform(size=(n, 2)) * (rng.random((n, 2)) < 0.3) for n in (40, 30, 20)]
    >>> a = np.einsum("ir,jr,kr->ijk", *parts)          # rank 2, mostly zeros
    >>> idx = np.argwhere(a)
    >>> x = cp.cp_als_sparse(idx, a[tuple(idx.T)], a.shape, 2, seed=0, tol=1e-12)
    >>> bool(np.linalg.norm(x.full() - a) < 1e-6 * np.linalg.norm(a))
    True
    """
    where = "cp_als_sparse"
    shape, rank, max_iter = sparse_args(shape, rank, max_iter, where)
    l2_reg = check_eps(l2_reg, where, "l2_reg")
    rng = rng_of(seed, where)
    data, entries = sparse_data(idx, values, shape, where, init=init)
    xp, vals, modes = data.xp, data.a, entries.modes
    tol = honour_eps(check_eps(tol, where, "tol"), xp, vals, where, name="tol")
    svd = isinstance(init, str) and init == "svd"
    factors = start_factors(vals, shape, rank, "random" if svd else data.init, rng, xp, where,
                            choices=("random", "svd"))
    if svd and data.norm_a != 0:
        factors = _svd_start(vals, entries.host, modes, shape, rank, factors, rng, xp)
    if data.norm_a == 0:  # (None, not 0, under tracing: the first read names the problem)
        zero, info = zero_fit(data, factors, rank, where)
        return (zero, info) if return_info else zero
    norm_sq = xp.astype(xp.norm(vals) ** 2, xp.dtype(vals))
    sweep = compiled(xp, _sweep, shape=shape, l2_reg=l2_reg)
    def step(factors: list, weights: Any) -> tuple:
        new_factors, new_weights, stats = sweep(vals, modes, factors, norm_sq)
        err_sq, max_weight = (float(v) for v in xp.to_numpy(stats))
        return new_factors, new_weights, err_sq, max_weight

    return fit_loop(data, factors, step, rank, max_iter, tol, where, return_info, verbose,
                    progress, callback)


def _svd_start(vals: Any, host: Any, modes: list, shape: tuple, rank: int, factors: list,
               rng: Any, xp: Any) -> list:
    """The leading left singular vectors of each unfolding but the first (ALS's first
    update replaces the first factor unread), from the nonzeros; beyond a mode's size,
    the random start's columns fill the rank."""
    r = [None] + [min(rank, n) for n in shape[1:]]
    bases = leading_subspaces(vals, host, modes, shape, r, rng, xp)
    out = [factors[0]]
    for k in range(1, len(shape)):
        b = bases[k]
        out.append(b if r[k] == rank else xp.concatenate([b, factors[k][:, r[k]:]], axis=1))
    return out


def sparse_args(shape: Any, rank: Any, max_iter: Any, where: str) -> tuple:
    """The shape (at least two modes), rank and iteration limit of a sparse CP fit,
    checked."""
    return (sparse_shape(shape, where), check_positive_int(rank, where, "rank"),
            check_positive_int(max_iter, where, "max_iter"))


def sparse_data(idx: Any, values: Any, shape: tuple, where: str, init: Any = None
                ) -> tuple[FitData, CooEntries]:
    """The nonzeros prepared once (:func:`tnlib._sparse.coo_entries`), at unit scale (in
    the FitData; the entries keep the positions). A CPTensor start is not rescaled with
    the values: ALS's first update replaces the factor that carries its weights."""
    entries = coo_entries(idx, values, shape, where)
    xp, vals = entries.xp, entries.values
    if not xp.shape(vals)[0]:
        scale, norm = None, 0.0
    else:
        vals, scale, norm = unit_data(vals, xp, where, "values")
    return FitData(xp, vals, shape, init, entries.half, scale, norm, 0, None, None), entries


def _sweep(vals: Any, modes: list, factors: list, norm_sq: Any, shape: tuple,
           l2_reg: float, xp: Any) -> tuple[list, Any, Any]:
    """One ALS sweep; returns factors (unit columns), the last mode's weights and
    ``[‖a - x‖², max |w|]``."""
    factors = list(factors)
    d = len(shape)
    r = xp.shape(factors[0])[1]
    shifts = _shifts(r, l2_reg, factors[0], xp)
    # the first factor's Gram and rows are never read: the first update replaces them
    grams = [None] + [_gram(f, xp) for f in factors[1:]]
    rows = [None] + [xp.take(f, m, axis=0) for f, m in zip(factors[1:], modes[1:])]
    # values times the rows of the modes after k (old factors), and the running product
    # of the updated rows before k: one product of (nnz, R) arrays per mode and update
    after = [vals[:, None]] * d
    for k in range(d - 2, -1, -1):
        after[k] = after[k + 1] * rows[k + 1]
    before = mttkrp = weights = None
    for k in range(d):
        prod = after[k] if before is None else after[k] * before
        mttkrp = xp.segment_sum(prod, modes[k], shape[k])
        f, weights = unit_columns(_solve_mode(mttkrp, grams, k, shifts, xp), xp)
        factors[k], grams[k] = f, _gram(f, xp)
        if k < d - 1:  # the last mode's rows are read by no later update of this sweep
            row = xp.take(f, modes[k], axis=0)
            before = row if before is None else before * row
    inner = xp.sum(weights * xp.sum(factors[-1] * mttkrp, axis=0))
    gram = None
    for g in grams:
        gram = g if gram is None else gram * g
    err_sq = norm_sq - 2 * inner + xp.sum(weights[:, None] * gram * weights[None, :])
    return factors, weights, xp.stack([err_sq, xp.max(xp.abs(weights))])
