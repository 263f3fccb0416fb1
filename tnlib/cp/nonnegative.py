"""Non-negative CP by hierarchical alternating least squares (HALS).

Each sweep visits the modes as CP-ALS does (the same two partial MTTKRPs per sweep,
see :mod:`tnlib.cp.als`), but a factor is not solved for as a whole: with
``M = MTTKRP`` and ``V = ⊙_{j != k} A_j^T A_j``, each column is set to its exact
non-negative minimizer given the others,

    a_r <- max(0, a_r + (M[:, r] - A V[:, r]) / V[r, r]),

one column after another (Cichocki, Phan 2009), which is block coordinate descent on
the columns: the error never increases. After a factor's update its column norms move
into the next factor, so the model is unchanged between updates and the last factor
carries the weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from .._info import compiled
from .._validation import DefaultTol, check_eps, check_positive_int, honour_eps
from ..backends._host import host_eager
from ..errors import ArgumentError
from ..linalg.nnls import hals_columns, unit_columns
from ._fit import fit_data, fit_loop, zero_fit
from .als import _RESOLVED, _gram, _group_mttkrp, _initialize, _khatri_rao_h, _residual_sq

__all__ = ["cp_hals"]


@host_eager
def cp_hals(a: Any, rank: int, max_iter: int = 100, tol: float = DefaultTol(1e-8),
            init: Any = "svd", seed: Any = None, return_info: bool = False, inner: int = 4,
            callback: Callable | None = None, verbose: bool = False,
            progress: bool = False) -> Any:
    """Non-negative CP decomposition (every factor entry >= 0) by HALS.

    Parameters
    ----------
    a : real array with d >= 2 axes
        Usually non-negative data (counts, intensities, spectra); negative entries
        are allowed, the factors stay non-negative.
    rank : int
    max_iter : int, optional
        Maximum number of sweeps.
    tol : float, optional
        Stop when the relative error changes by less than `tol` between sweeps
        (0: run all sweeps); raised to four machine epsilons of the data's dtype.
    init : {"svd", "random"} or CPTensor, optional
        ``"svd"``: the absolute values of CP-ALS's SVD start; ``"random"``: the
        absolute values of Gaussian factors (seeded); a CPTensor (its absolute values).
    seed : int, optional
        For the random start and the columns that fill ``rank > n_k``.
    return_info : bool, optional
        Also return a :class:`~tnlib.cp.CPInfo` (``errors``: relative error per sweep).
    inner : int, optional
        HALS passes over each factor's columns per sweep, all from one MTTKRP (which is
        the cost of a sweep): 4 passes reach in 50 sweeps what one pass needs about 100
        for, at 20 % more time per sweep.
    callback, verbose, progress : optional
        As for :func:`~tnlib.cp.cp_als`.

    Returns
    -------
    CPTensor, or (CPTensor, CPInfo)
        Non-negative weights and factors (unit columns), on the backend, dtype and
        device of `a`.

    References
    ----------
    A. Cichocki, A.-H. Phan, "Fast local algorithms for large scale nonnegative matrix
    and tensor factorizations", IEICE Trans. Fundamentals E92-A (2009).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import cp
    >>> rng = np.random.default_rng(0)
    >>> parts = [rng.uniform(size=(n, 3)) for n in (8, 7, 6)]
    >>> a = np.einsum("ir,jr,kr->ijk", *parts)          # non-negative, rank 3
    >>> x = cp.cp_hals(a, 3, max_iter=300, seed=0)
    >>> bool(min(float(f.min()) for f in x.factors) >= 0)
    True
    >>> bool(np.linalg.norm(x.full() - a) < 1e-3 * np.linalg.norm(a))
    True
    """
    data = fit_data(a, init, "cp_hals")
    xp, a, shape = data.xp, data.a, data.shape
    if xp.is_complex(a):
        raise ArgumentError(f"cp_hals: a is complex ({xp.dtype_name(a)}); non-negative "
                            "factors need real data")
    rank = check_positive_int(rank, "cp_hals", "rank")
    max_iter = check_positive_int(max_iter, "cp_hals", "max_iter")
    inner = check_positive_int(inner, "cp_hals", "inner")
    tol = honour_eps(check_eps(tol, "cp_hals", "tol"), xp, a, "cp_hals", name="tol")
    factors = [xp.abs(f) for f in _initialize(a, rank, data.init, seed, xp, "cp_hals")]
    if data.norm_a == 0:
        zero, info = zero_fit(data, factors, rank, "cp_hals")
        return (zero, info) if return_info else zero
    h, x_mat = data.h, data.x_mat
    norm_sq = xp.astype(xp.norm(a) ** 2, xp.real_dtype(a))
    sweep = partial(compiled(xp, _hals_sweep, h=h, shape=shape, passes=inner), x_mat,
                    data.x_mat_t)
    floor_sq = _RESOLVED * xp.finfo_eps(a) * data.norm_a ** 2

    def step(factors: list, weights: Any) -> tuple:
        # the weights ride in the first factor: each sweep starts from the model itself
        start = factors if weights is None else [factors[0] * weights[None, :]] + factors[1:]
        new_factors, new_weights, stats = sweep(start, norm_sq)
        err_sq, max_weight = (float(v) for v in xp.to_numpy(stats))
        if math.isfinite(err_sq) and err_sq < floor_sq:  # the formula's rounding: recompute
            err_sq = _residual_sq(x_mat, new_factors, new_weights, h, xp)
        return new_factors, new_weights, err_sq, max_weight

    return fit_loop(data, factors, step, rank, max_iter, tol, "cp_hals", return_info, verbose,
                    progress, callback)


def _hals_sweep(x_mat: Any, x_mat_t: Any, factors: list, norm_sq: Any, h: int,
                shape: tuple, passes: int, xp: Any) -> tuple[list, Any, Any]:
    """One HALS sweep; returns the factors (unit columns but the last), the last factor's
    column norms (the weights) and ``[‖a - x‖², max weight]``."""
    factors = list(factors)
    d = len(shape)
    r = xp.shape(factors[0])[1]
    left, right = list(range(h)), list(range(h, d))
    grams = [_gram(f, xp) for f in factors]
    m = None
    for group, x, x_t, other in ((left, x_mat_t, x_mat, right), (right, x_mat, x_mat_t, left)):
        p = xp.reshape(xp.matmul_wide(_khatri_rao_h([factors[j] for j in other], xp), x, x_t),
                       [r] + [shape[j] for j in group])
        for k in group:
            m = _group_mttkrp(p, factors, group, k, xp)
            v = None
            for j, g in enumerate(grams):
                if j != k:
                    v = g if v is None else v * g
            f = factors[k]
            for _ in range(passes):  # the MTTKRP is the cost; more passes over it are cheap
                f = hals_columns(f, m, v, xp)
            if k < d - 1:  # the scale moves on: the model is unchanged between updates
                f, norms = unit_columns(f, xp)
                factors[k + 1] = factors[k + 1] * norms[None, :]
                grams[k + 1] = grams[k + 1] * (norms[:, None] * norms[None, :])
            factors[k], grams[k] = f, _gram(f, xp)
    inner = xp.sum(factors[-1] * m)  # <a, x> from the last mode's MTTKRP
    gram = None
    for g in grams:
        gram = g if gram is None else gram * g
    err_sq = norm_sq - 2 * inner + xp.sum(gram)
    last, weights = unit_columns(factors[-1], xp)
    factors[-1] = last
    return factors, weights, xp.stack([err_sq, xp.max(weights)])
