"""Maximum-volume row selection and cross (skeleton) approximation of matrices.

The pivot searches run on host NumPy copies: they are sequences of tiny
rank-one updates and argmax searches over small matrices, where a device
round trip per step would cost more than the arithmetic (DESIGN.md allows
host-side index selection). The selected indices and the coefficient
matrices go back to the input's backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._info import warn_not_converged
from .._validation import check_positive_int, check_real, rng_of
from ..errors import ArgumentError, NonFiniteError, ShapeError
from .svd import _matrix

__all__ = ["maxvol", "rect_maxvol", "skeleton"]


def maxvol(a: Any, tol: float = 1.05, max_iter: int = 100) -> tuple[Any, Any]:
    """Rows of a tall matrix spanning a submatrix of (locally) maximal volume.

    Greedy row swaps with rank-one updates of ``coef = a @ inv(a[rows])``
    (Goreinov, Oseledets, Savostyanov, Tyrtyshnikov, Zamarashkin 2010), started
    from the pivots of Gaussian elimination with partial pivoting.

    Parameters
    ----------
    a : (n, r) array, n >= r, of full column rank
    tol : float, optional
        Stop when ``max |coef| <= tol`` (>= 1).
    max_iter : int, optional

    Returns
    -------
    rows : (r,) int64 array
        Distinct row indices; ``coef[rows] = I``.
    coef : (n, r) array
        ``a @ inv(a[rows])``, with ``max |coef| <= tol`` unless `max_iter` ran out.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import maxvol
    >>> a = np.random.default_rng(0).standard_normal((100, 5))
    >>> rows, coef = maxvol(a)
    >>> bool(np.abs(coef).max() <= 1.05), bool(np.allclose(coef @ a[rows], a))
    (True, True)
    """
    tol = _check_tol(tol, "maxvol")
    max_iter = check_positive_int(max_iter, "maxvol", "max_iter")
    xp, a, host = _host_matrix(a, "maxvol")
    n, r = host.shape
    if n < r:
        raise ShapeError(f"maxvol: a must be tall, (n, r) with n >= r, got shape {host.shape}")
    rows, coef = maxvol_host(host, tol, max_iter)
    _check_volume(host, rows, "maxvol")
    coef = _coef_on_device(a, rows, xp)
    worst = float(xp.item(xp.max(xp.abs(coef)))) if n > r else 1.0
    if worst > tol * (1 + 1e-8):
        warn_not_converged("maxvol", f"max |coef| = {worst:.4g} > tol = {tol:g} after "
                           f"max_iter={max_iter} row swaps; raise max_iter (or tol)")
    return xp.asarray(rows, device=xp.device(a)), coef


def maxvol_host(a: np.ndarray, tol: float = 1.05, max_iter: int = 100,
                start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`maxvol` on a NumPy matrix; returns host ``(rows, coef)``.

    `start` (distinct row indices, possibly fewer than ``r``) seeds the search;
    the remaining rows come from partial pivoting. Seeding with the previous
    pivots keeps them as long as they are within `tol` of maximal volume, which
    keeps index sets of iterative cross methods stable.
    """
    n, r = a.shape
    rows = _lu_pivots(a, start)
    coef = _solve_coef(a, rows)
    if not np.all(np.isfinite(coef)):  # a singular seed: start afresh
        rows = _lu_pivots(a)
        coef = _solve_coef(a, rows)
    if n == r:  # every row is needed
        return rows, coef
    for _ in range(max_iter):
        flat = int(np.argmax(np.abs(coef)))
        i, j = divmod(flat, r)
        pivot = coef[i, j]
        if abs(pivot) <= tol:
            break
        # Sherman-Morrison for swapping row j of the submatrix with row i of a
        col = coef[:, j].copy()
        row = coef[i, :].copy()
        row[j] -= 1.0
        coef -= np.outer(col, row / pivot)
        rows[j] = i
    return rows, coef


def _lu_pivots(a: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Row pivots of Gaussian elimination with partial pivoting: a good starting volume.

    Rows in `start` are taken first (while their pivots are not negligible).
    """
    n, r = a.shape
    work = np.array(a, dtype=np.result_type(a.dtype, np.float64), copy=True)
    rows = np.empty(r, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    seeds = [] if start is None else [int(i) for i in start][:r]
    scale = np.abs(a).max() if a.size else 0.0
    for k in range(r):
        mags = np.abs(work[:, k])
        mags[~alive] = -1.0
        p = int(np.argmax(mags))
        while seeds:
            cand = seeds.pop(0)
            if alive[cand] and mags[cand] > 1e-8 * max(mags[p], 1e-300) and scale > 0:
                p = cand
                break
        rows[k] = p
        alive[p] = False
        if work[p, k] != 0:
            work -= np.outer(work[:, k] / work[p, k], work[p, :]) * alive[:, None]
    return rows


def _solve_coef(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    sub = a[rows]
    try:
        return np.linalg.solve(sub.T, a.T).T
    except np.linalg.LinAlgError:
        return a @ np.linalg.pinv(sub)


def _check_tol(tol: Any, where: str) -> float:
    """A maxvol tolerance: a finite number >= 1 (no row set has coefficients below 1)."""
    tol = check_real(tol, where, "tol")
    if tol < 1:
        raise ArgumentError(f"{where}: tol must be >= 1, got {tol!r}")
    return tol


def _check_volume(host: np.ndarray, rows: np.ndarray, where: str) -> None:
    """An ArgumentError if the square submatrix ``host[rows]`` chosen by maxvol is singular:
    then `host` has dependent columns and no row set has a volume."""
    r = host.shape[1]
    if np.linalg.matrix_rank(host[rows]) < r:
        raise ArgumentError(f"{where}: a has rank {np.linalg.matrix_rank(host)} < r = {r} "
                            "columns; every r x r submatrix is singular, so no row set has a "
                            "volume (drop dependent columns first)")


def _host_matrix(a: Any, where: str) -> tuple[Any, Any, np.ndarray]:
    """`a` checked as :func:`~tnlib.linalg.svd` checks a matrix (integers as floats): its
    backend, the checked array and a host copy for the row selection."""
    xp, a = _matrix(a, where)
    return xp, a, np.asarray(xp.to_numpy(a))


def _coef_on_device(a: Any, rows: np.ndarray, xp: Any) -> Any:
    """``a @ pinv(a[rows])`` computed on the backend of `a` (so it stays differentiable)."""
    sub = xp.take(a, xp.asarray(rows, device=xp.device(a)), axis=0)
    k, r = xp.shape(sub)
    if k == r:
        return xp.transpose(xp.solve(xp.transpose(sub), xp.transpose(a)))
    return a @ xp.pinv(sub)


def rect_maxvol(a: Any, tol: float = 1.1, max_rank: int | None = None) -> tuple[Any, Any]:
    """Rectangular maxvol: at least ``r`` rows, added greedily until the coefficients are small.

    Starting from :func:`maxvol`, the row with the largest coefficient norm is
    added (with a rank-one update of ``coef = a @ pinv(a[rows])``) until every
    row of ``coef`` has norm ``<= tol`` or `max_rank` rows are chosen
    (Mikhalev, Oseledets 2018).

    Parameters
    ----------
    a : (n, r) array
    tol : float, optional
    max_rank : int, optional
        Upper bound on the number of rows (default ``n``).

    Returns
    -------
    rows : (k,) int64 array, ``r <= k``
    coef : (n, k) array
        ``a @ pinv(a[rows])``.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import rect_maxvol
    >>> a = np.random.default_rng(0).standard_normal((200, 4))
    >>> rows, coef = rect_maxvol(a, tol=1.2)
    >>> bool(np.linalg.norm(coef, axis=1).max() <= 1.2), len(rows) >= 4
    (True, True)
    """
    tol = _check_tol(tol, "rect_maxvol")
    xp, a, host = _host_matrix(a, "rect_maxvol")
    n, r = host.shape
    if n < r:
        raise ShapeError(f"rect_maxvol: a must be tall, got shape {host.shape}")
    limit = n if max_rank is None else min(n, check_positive_int(max_rank, "rect_maxvol",
                                                                  "max_rank"))
    if limit < r:
        raise ArgumentError(f"rect_maxvol: max_rank must be >= the number of columns {r}, "
                            f"got {max_rank}")
    rows = rect_maxvol_host(host, tol, limit)
    _check_volume(host, rows[:r], "rect_maxvol")  # its square start: maxvol's rows
    return xp.asarray(rows, device=xp.device(a)), _coef_on_device(a, rows, xp)


def rect_maxvol_host(a: np.ndarray, tol: float = 1.1, limit: int | None = None) -> np.ndarray:
    """Rows chosen by :func:`rect_maxvol` on a host matrix."""
    n, r = a.shape
    limit = n if limit is None else limit
    rows, coef = maxvol_host(a, 1.05, 100)
    rows = list(rows)
    chosen = np.zeros(n, dtype=bool)
    chosen[rows] = True
    norms = np.sum(np.abs(coef) ** 2, axis=1)
    norms[chosen] = -1.0
    while len(rows) < limit:
        i = int(np.argmax(norms))
        if norms[i] <= tol * tol:
            break
        ci = coef[i].copy()
        # coef <- [coef - coef ci^H ci / (1 + |ci|^2), coef ci^H / (1 + |ci|^2)]
        gain = coef @ np.conj(ci) / (1.0 + norms[i])
        coef = np.hstack([coef - np.outer(gain, ci), gain[:, None]])
        norms = norms - np.abs(gain) ** 2 * (1.0 + norms[i])
        chosen[i] = True
        rows.append(i)
        norms[chosen] = -1.0
    return np.asarray(rows, dtype=np.int64)


def skeleton(a: Any, rank: int, max_iter: int = 10, seed: Any = 0) -> tuple[Any, Any, Any]:
    """Cross (CUR / skeleton) approximation ``a ≈ a[:, cols] @ core @ a[rows, :]``.

    Rows and columns are chosen by alternating :func:`maxvol` on ``a[:, cols]``
    and ``a[rows, :]^T`` until the sets stop changing. The core is the
    pseudo-inverse of ``a[rows][:, cols]`` through its SVD, with singular values
    below ``u * max(shape) * s_1`` dropped, never an explicit inverse of an
    ill-conditioned block.

    Parameters
    ----------
    a : (m, n) array
    rank : int
    max_iter : int, optional
    seed : int, optional
        For the starting columns.

    Returns
    -------
    cols : (rank,) int64 array
    rows : (rank,) int64 array
    core : (rank, rank) array

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import skeleton
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal((60, 3)) @ rng.standard_normal((3, 50))
    >>> cols, rows, core = skeleton(a, 3)
    >>> bool(np.allclose(a[:, cols] @ core @ a[rows, :], a))
    True
    """
    rank = check_positive_int(rank, "skeleton", "rank")
    xp, a, host = _host_matrix(a, "skeleton")
    m, n = host.shape
    if rank > min(m, n):
        raise ArgumentError(f"skeleton: rank {rank} exceeds min(a.shape) = {min(m, n)}")
    rng = rng_of(seed, "skeleton")
    # start from the column space seen by a random sketch
    q, _ = np.linalg.qr(host.T @ rng.standard_normal((m, rank)))
    cols, _ = maxvol_host(q)
    rows = cols
    for _ in range(max_iter):
        new_rows, _ = maxvol_host(_orth(host[:, cols]))
        new_cols, _ = maxvol_host(_orth(host[new_rows, :].T))
        done = set(new_rows) == set(rows) and set(new_cols) == set(cols)
        rows, cols = new_rows, new_cols
        if done:
            break
    dev = xp.device(a)
    rows_d, cols_d = xp.asarray(rows, device=dev), xp.asarray(cols, device=dev)
    block = xp.take(xp.take(a, rows_d, axis=0), cols_d, axis=1)
    u, s, vh = xp.svd(block)
    sh = xp.to_numpy(s)
    if not sh[0] > 0:  # a zero block (a zero matrix): its pseudo-inverse is zero
        return cols_d, rows_d, xp.zeros((rank, rank), dtype=xp.dtype(a), device=dev)
    keep = max(1, int(np.sum(sh > xp.finfo_eps(a) * max(m, n) * sh[0])))
    if float(sh[keep - 1]) * xp.finfo_max(a) < 1.0:  # data near the underflow threshold
        raise NonFiniteError(
            f"skeleton: the core, the pseudo-inverse of a[rows][:, cols], reaches "
            f"1 / {float(sh[keep - 1]):.3g}, beyond the range of {xp.dtype_name(a)} "
            f"(largest finite value {xp.finfo_max(a):.6g}); scale a up")
    inv_s = xp.astype(1.0 / s[:keep], xp.dtype(u))
    core = xp.conj(xp.transpose(vh[:keep])) @ (inv_s[:, None] * xp.conj(xp.transpose(u[:, :keep])))
    return cols_d, rows_d, core


def _orth(m: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the columns (maxvol is invariant under column mixing)."""
    q, _ = np.linalg.qr(m)
    return q
