"""Low-rank completion from sampled entries: TT (RTTC) and fixed-rank matrices (LRGeomCG).

Both minimize ``f(x) = 0.5 * sum_{s in Omega} (x[i_s] - a_s)^2`` on the
fixed-rank manifold with the conjugate-gradient loop of :mod:`.optimize`. The
Euclidean gradient is sparse on the samples and is projected through the
sample interfaces (:class:`.samples.SampleSet`); ``f`` is quadratic, so the
line search starts from the exact minimizer along the search direction,
``t = -<r, eta_Omega> / ‖eta_Omega‖^2``, computed from the values of the
tangent vector at the samples. Nothing of the size of the full tensor or
matrix is formed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._info import read_floats
from .._validation import (
    check_option,
    check_positive_int,
    check_shape,
    host_indices,
    pow2_scaled,
    rng_of,
    times_pow2,
)
from ..backends import Backend, backend_of, resolve
from ..errors import ArgumentError, ShapeError
from ..linalg.tensor_ops import real_dot
from ..tt._scale import spread_pow2
from ..tt.construct import _ranks
from ..tt.construct import random as tt_random
from ..tt.tensor import TTTensor
from .optimize import MinimizeInfo, Problem, run
from .samples import SampleSet, check_values, sample_data
from .tangent import TangentVector, frame_of

__all__ = ["CompletionInfo", "matrix_complete", "tt_complete"]


@dataclass
class CompletionInfo(MinimizeInfo):
    """:class:`MinimizeInfo` of the completion solvers.

    Attributes
    ----------
    residuals : list of float
        ``‖x_Omega - a_Omega‖ / ‖a_Omega‖`` on the training samples after each iteration.
    test_errors : list of float
        The same relative error on the held-out samples (empty without validation).
    residual, test_error : float
        Final values (``nan`` when not measured).
    rank_history : list of tuple
        Ranks of every stage of the rank-adaptive variant.
    """

    residuals: list[float] = field(default_factory=list)
    test_errors: list[float] = field(default_factory=list)
    residual: float = float("nan")
    test_error: float = float("nan")
    rank_history: list[tuple] = field(default_factory=list)


class CompletionProblem(Problem):
    """``0.5 ‖x_Omega - a‖^2`` with sparse gradient and exact step; interfaces are reused."""

    def __init__(self, samples: SampleSet, values: Any) -> None:
        super().__init__(f=None)
        self.samples, self.a = samples, values
        self._cache: list | None = None  # x, frame, lefts, residual, rights, value

    def _at(self, x: TTTensor, rights: bool = False) -> list:
        c = self._cache
        if c is None or c[0] is not x:
            frame = frame_of(x, "completion")
            lefts, vals = self.samples.left_sweep(frame)
            c = [x, frame, lefts, vals - self.a, None, None]
            self._cache = c
        if rights and c[4] is None:
            c[4] = self.samples.right_sweep(c[1])
        return c

    def value(self, x: TTTensor) -> float:
        self.evaluations += 1
        c = self._at(x)
        if c[5] is None:  # once per point: the line search's accepted trial is the next point
            xp = self.samples.xp
            c[5] = 0.5 * float(xp.item(real_dot(xp, c[3], c[3])))
        return c[5]

    def value_grad(self, x: TTTensor) -> tuple[float, TangentVector]:
        self.gradient_evaluations += 1
        value = self.value(x)
        _, frame, lefts, res, rights, _ = self._at(x, rights=True)
        return value, self.samples.project(frame, lefts, rights, res)

    def step(self, x: TTTensor, eta: TangentVector) -> float | None:
        _, frame, lefts, res, rights, _ = self._at(x, rights=True)
        if eta.frame is not frame:
            return None
        xp = self.samples.xp
        ev = self.samples.tangent_values(lefts, rights, eta)
        # the real step t minimizing ‖res + t ev‖²: -Re<ev, res> / ‖ev‖²
        den, num = read_floats(xp, real_dot(xp, ev, ev), real_dot(xp, ev, res))
        if den <= 0.0:
            return None
        return -num / den

    def hess(self, x: TTTensor, g: TangentVector, v: TangentVector) -> TangentVector:
        # Gauss-Newton part P_x P_Omega v (the exact Euclidean Hessian of f)
        self.hessian_products += 1
        _, frame, lefts, _, rights, _ = self._at(x, rights=True)
        ev = self.samples.tangent_values(lefts, rights, v)
        return self.samples.project(frame, lefts, rights, ev)


def tt_complete(idx: Any, values: Any, shape: Any, ranks: Any, seed: Any = None,
                max_iter: int = 1000, tol: float = 1e-12, x0: TTTensor | None = None,
                validation: Any = 0.0, max_rank: int | None = None, patience: int = 25,
                method: str = "rcg", callback: Callable | None = None, verbose: bool = False,
                return_info: bool = False) -> Any:
    """Riemannian TT completion (RTTC) from sampled entries.

    Parameters
    ----------
    idx : int array (N, d)
        Sampled positions, each at most once.
    values : (N,) array
        Sampled values ``a[idx[s]]``, finite; their backend and dtype are the result's.
    shape : sequence of int
    ranks : int or sequence of int
        TT-ranks of the result (the start ranks with `max_rank`).
    seed : int, optional
        Seed of the random start and of the validation split.
    max_iter : int
        Iterations (per rank stage with `max_rank`).
    tol : float
        Stop when ``‖x_Omega - a_Omega‖ <= tol ‖a_Omega‖`` on the training samples.
    x0 : TTTensor, optional
        Starting point (its ranks replace `ranks`).
    validation : float or (idx, values), optional
        Held-out samples: a fraction of the given ones (drawn with `seed`) or a
        separate set. Their relative error is recorded every iteration;
        iterations stop when it has not improved for `patience` iterations
        and the best iterate is returned.
    max_rank : int, optional
        Rank-adaptive variant: after each stage, raise every rank by one (up
        to `max_rank` and the shape's limits) with a small random rank-1
        perturbation and continue, while the held-out error improves
        (Steinlechner 2016, Sec. 5). Uses 10% of the samples for validation
        when `validation` is 0.
    method : {"rcg", "rgd", "rtr"}
        ``"rtr"`` uses the exact (Gauss-Newton) Hessian of the quadratic loss.
    callback, verbose, return_info
        As in :func:`minimize`; the info is a :class:`CompletionInfo`.

    Returns
    -------
    TTTensor, or ``(TTTensor, CompletionInfo)``

    References
    ----------
    M. Steinlechner, "Riemannian optimization for high-dimensional tensor
    completion", SIAM J. Sci. Comput. 38 (2016), S461-S484.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt, riemannian
    >>> a = tt.random((8,) * 4, 2, seed=0)
    >>> rng = np.random.default_rng(1)
    >>> idx = np.unique(rng.integers(0, 8, size=(1500, 4)), axis=0)
    >>> x = riemannian.tt_complete(idx, a.evaluate(idx), a.shape, 2, seed=0)
    >>> bool(np.linalg.norm(x.full() - a.full()) < 1e-6 * np.linalg.norm(a.full()))
    True
    """
    where = "tt_complete"
    shape = check_shape(shape, where)
    max_iter = check_positive_int(max_iter, where, "max_iter")
    patience = check_positive_int(patience, where, "patience")
    rng_of(seed, where)  # checked here; each draw below starts from it
    xp = _backend_of_values(values, where)
    host = _nonempty(host_indices(idx, shape, where), where, "idx")
    train_idx, train_vals, test = _split(host, values, validation, shape, xp, seed, where,
                                         adaptive=max_rank is not None)
    if x0 is not None:
        if not isinstance(x0, TTTensor) or tuple(x0.shape) != shape:
            raise ShapeError(f"{where}: x0 must be a TTTensor of shape {shape}")
        ranks = x0.ranks
    ranks = _check_ranks(ranks, shape, where)
    if max_rank is not None:
        max_rank = check_positive_int(max_rank, where, "max_rank")
    samples, a = sample_data(train_idx, train_vals, shape, xp, where)
    # values at unit scale (a power of two out: exact): the start, the line searches and
    # the tolerances are of unit size (values of 1e±100 were not fitted at all)
    a, exponent = pow2_scaled(a, xp)
    if test is not None and exponent:
        test = (test[0], times_pow2(xp.asarray(test[1]), -exponent, xp))
    if x0 is not None and exponent:
        x0 = TTTensor._from_cores(spread_pow2(list(x0.cores), -exponent, x0.backend),
                                  x0.backend)
    if x0 is None:
        x0 = _scaled_random(samples, a, shape, ranks, seed, xp)
    info = CompletionInfo(method=method)
    x = _solve_stage(samples, a, x0, test, method, max_iter, tol, patience, callback, verbose,
                     info, where)
    if max_rank is not None:
        x = _rank_adaptive(samples, a, x, test, method, max_iter, tol, patience, max_rank,
                           seed, callback, verbose, info, where)
    if exponent:
        x = TTTensor._from_cores(spread_pow2(list(x.cores), exponent, xp), xp)
    return (x, info) if return_info else x


def matrix_complete(rows: Any, cols: Any, values: Any, shape: Any, rank: int,
                    manifold: str = "fixed-rank", max_iter: int = 1000, tol: float = 1e-12,
                    seed: Any = None, method: str = "rcg", callback: Callable | None = None,
                    verbose: bool = False, return_info: bool = False) -> Any:
    """Low-rank matrix completion from samples ``a[rows[s], cols[s]] = values[s]``.

    Only the sampled entries are touched: every iteration costs
    ``O(N r + (m + n) r^2)`` for ``N`` samples, never an ``m x n`` array.

    Parameters
    ----------
    rows, cols : (N,) int arrays
    values : (N,) array
        Finite; their backend and dtype are the result's.
    shape : (m, n)
    rank : int
    manifold : {"fixed-rank", "desingularized"}
        ``"fixed-rank"``: Riemannian CG on the rank-`rank` matrices
        (Vandereycken's LRGeomCG), started from a truncated SVD of the
        rescaled sample matrix. ``"desingularized"``: the pairs ``(X, V)``
        with ``X V_perp = 0`` (Khrulkov & Oseledets), which stays well
        conditioned when the true rank is below `rank`; see
        :func:`desingularized_complete`.
    max_iter, tol, seed, method, callback, verbose, return_info
        As in :func:`tt_complete` (``tol``: relative residual on the samples).

    Returns
    -------
    (u, s, vh), or ``((u, s, vh), CompletionInfo)``
        ``u`` (m, k) and ``vh`` (k, n) with orthonormal columns/rows, ``s``
        (k,) descending, ``k = rank``.

    References
    ----------
    B. Vandereycken, "Low-rank matrix completion by Riemannian optimization",
    SIAM J. Optim. 23 (2013); V. Khrulkov, I. Oseledets, "Desingularization
    of bounded-rank matrix sets", SIAM J. Matrix Anal. Appl. 39 (2018).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import riemannian
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(60, 3)) @ rng.normal(size=(3, 50))
    >>> mask = rng.random(a.shape) < 0.4
    >>> r, c = np.nonzero(mask)
    >>> u, s, vh = riemannian.matrix_complete(r, c, a[r, c], a.shape, 3, seed=0)
    >>> bool(np.linalg.norm(u * s @ vh - a) < 1e-8 * np.linalg.norm(a))
    True
    """
    where = "matrix_complete"
    shape = check_shape(shape, where)
    if len(shape) != 2:
        raise ShapeError(f"{where}: shape must be (m, n), got {shape}")
    rank = check_positive_int(rank, where, "rank")
    if rank > min(shape):
        raise ShapeError(f"{where}: rank {rank} exceeds min(m, n) = {min(shape)}")
    check_option(manifold, ("fixed-rank", "desingularized"), where, "manifold")
    rng_of(seed, where)  # checked here; each draw below starts from it
    xp = _backend_of_values(values, where)
    idx = _nonempty(_pair_indices(rows, cols, where), where, "rows and cols")
    samples, a = sample_data(idx, values, shape, xp, where, name="rows/cols")  # checked
    a, exponent = pow2_scaled(a, xp)  # at unit scale, as in tt_complete
    if manifold == "desingularized":
        from .desingularized import desingularized_complete

        got = desingularized_complete(idx, a, shape, rank, xp, max_iter=max_iter, tol=tol,
                                      seed=seed, callback=callback, verbose=verbose,
                                      return_info=return_info)
        (u, s, vh), info = got if return_info else (got, None)
    else:
        x0 = sparse_svd_start(samples, a, shape, rank, seed, xp)
        info = CompletionInfo(method=method)
        x = _solve_stage(samples, a, x0, None, method, max_iter, tol, 1, callback, verbose,
                         info, where)
        u, s, vh = tt_to_svd(x)
    out = (u, times_pow2(s, exponent, xp), vh)
    return (out, info) if return_info else out


# --------------------------------------------------------------------- stages
def _solve_stage(samples: SampleSet, a: Any, x0: TTTensor, test: Any, method: str,
                 max_iter: int, tol: float, patience: int, callback: Any, verbose: bool,
                 info: CompletionInfo, where: str) -> TTTensor:
    """One fixed-rank run; fills `info` (appending across stages)."""
    xp = samples.xp
    a_norm = float(xp.item(xp.norm(a))) or 1.0
    best = {"x": None, "err": math.inf, "since": 0}

    def stop(x: TTTensor, run_info: MinimizeInfo) -> str | None:
        res = math.sqrt(2.0 * max(run_info.losses[-1], 0.0)) / a_norm
        info.residuals.append(res)
        if test is not None:
            err = _test_error(x, test)
            info.test_errors.append(err)
            if err < best["err"]:
                best.update(x=x, err=err, since=0)
            else:
                best["since"] += 1
                if best["since"] >= patience:
                    return f"held-out error has not improved for {patience} iterations"
        if res <= tol:
            return f"relative residual on the samples {res:.3e} <= tol={tol:g}"
        return None

    problem = CompletionProblem(samples, a)
    x, run_info = run(problem, x0, method, max_iter=max_iter, tol=0.0, ftol=1e-15,
                      callback=callback, verbose=verbose, return_info=True, where=where,
                      stop=stop)
    if test is not None and best["x"] is not None and best["err"] < _test_error(x, test):
        x = best["x"]
    for name in ("iterations", "evaluations", "gradient_evaluations", "hessian_products"):
        setattr(info, name, getattr(info, name) + getattr(run_info, name))
    info.losses += run_info.losses
    info.grad_norms += run_info.grad_norms
    info.errors += run_info.errors
    info.converged, info.stop_reason = run_info.converged, run_info.stop_reason
    info.wall_time += run_info.wall_time
    info.ranks = tuple(x.ranks)
    info.rank_history.append(tuple(x.ranks))
    info.residual = info.residuals[-1] if info.residuals else float("nan")
    if test is not None:
        info.test_error = _test_error(x, test)
    return x


def _rank_adaptive(samples: SampleSet, a: Any, x: TTTensor, test: Any, method: str,
                   max_iter: int, tol: float, patience: int, max_rank: int, seed: Any,
                   callback: Any, verbose: bool, info: CompletionInfo, where: str) -> TTTensor:
    """Raise all ranks by one per stage while the held-out error improves."""
    rng = np.random.default_rng(seed)
    shape = x.shape
    err = _test_error(x, test)
    while info.residual > tol:
        ranks = list(x.ranks)
        new = _grown_ranks(ranks, shape, max_rank)
        if new == ranks:
            break
        xp = x.backend
        pert = tt_random(shape, [1] * (len(shape) - 1), seed=rng, dtype=xp.dtype_name(
            x.cores[0]), backend=xp)
        scale = 1e-8 * float(xp.item(x.norm())) / max(float(xp.item(pert.norm())), 1e-300)
        y = _pad_ranks(x + scale * pert, new)
        snapshot = (x, err)
        y = _solve_stage(samples, a, y, test, method, max_iter, tol, patience, callback,
                         verbose, info, where)
        err_y = _test_error(y, test)
        if not err_y < (1.0 - 1e-3) * err:
            x, err = snapshot
            info.ranks = tuple(x.ranks)
            info.stop_reason = (f"raising the ranks to {tuple(new)} did not improve the "
                                "held-out error; kept the previous ranks")
            info.converged = True
            info.test_error = err
            break
        x, err = y, err_y
    return x


def _grown_ranks(ranks: list, shape: tuple, max_rank: int) -> list:
    d = len(shape)
    out = list(ranks)
    for k in range(1, d):
        left = math.prod(shape[:k])
        right = math.prod(shape[k:])
        out[k] = min(ranks[k] + 1, max_rank, left, right)
    # neighbouring ranks must chain: r_k <= n_k r_{k-1} and r_k <= n_{k+1} r_{k+1}
    for k in range(1, d):
        out[k] = min(out[k], out[k - 1] * shape[k - 1])
    for k in range(d - 1, 0, -1):
        out[k] = min(out[k], out[k + 1] * shape[k])
    return out


def _pad_ranks(x: TTTensor, ranks: list) -> TTTensor:
    """`x` (ranks >= target) rounded to exactly `ranks`."""
    from ..tt.round import round as tt_round

    return tt_round(x, max_rank=ranks[1:-1])


# -------------------------------------------------------------------- helpers
def _backend_of_values(values: Any, where: str) -> Backend:
    try:
        return backend_of(values)
    except Exception:
        if isinstance(values, (list, tuple)):
            return resolve(None)
        raise ShapeError(f"{where}: values must be a 1-D array, got "
                         f"{type(values).__name__}") from None


def _nonempty(host: np.ndarray, where: str, name: str) -> np.ndarray:
    if host.shape[0] == 0:
        raise ArgumentError(f"{where}: {name} hold no samples; completion needs at least one")
    return host


def _pair_indices(rows: Any, cols: Any, where: str) -> np.ndarray:
    r = _host(rows, where, "rows")
    c = _host(cols, where, "cols")
    if r.ndim != 1 or c.ndim != 1 or r.shape != c.shape:
        raise ShapeError(f"{where}: rows and cols must be 1-D of equal length, got shapes "
                         f"{r.shape} and {c.shape}")
    return np.stack([r, c], axis=1)


def _host(a: Any, where: str, name: str) -> np.ndarray:
    if isinstance(a, (list, tuple, np.ndarray)):
        return np.asarray(a)
    try:
        return np.asarray(backend_of(a).to_numpy(a))
    except Exception:
        raise ShapeError(f"{where}: {name} must be an int array, got {type(a).__name__}"
                         ) from None


def _check_ranks(ranks: Any, shape: tuple, where: str) -> list[int]:
    """Ranks as ``(1, r_1, .., r_{d-1}, 1)`` that a point of this shape can have."""
    r = _ranks(ranks, len(shape), where)
    for k in range(1, len(shape)):
        if r[k] > r[k - 1] * shape[k - 1] or r[k] > r[k + 1] * shape[k]:
            raise ShapeError(f"{where}: rank r_{k} = {r[k]} doesn't fit the shape {shape} "
                             f"with ranks {tuple(r)}: it must be <= r_{k - 1} n_{k} and "
                             f"<= n_{k + 1} r_{k + 1}")
    return r


def _split(host: np.ndarray, values: Any, validation: Any, shape: tuple, xp: Backend,
           seed: Any, where: str, adaptive: bool) -> tuple[np.ndarray, Any, Any]:
    """Training indices and values, and the held-out set as (SampleSet, values) or None."""
    if isinstance(validation, tuple):
        if len(validation) != 2:
            raise ArgumentError(f"{where}: validation must be a fraction or (idx, values)")
        t_host = host_indices(validation[0], shape, where, "validation idx")
        t_vals = xp.asarray(validation[1])
        return host, values, (t_host, t_vals)
    try:
        frac = float(validation)
    except (TypeError, ValueError):
        frac = math.nan
    if not 0.0 <= frac < 1.0:
        raise ArgumentError(f"{where}: validation must be in [0, 1), got {validation!r}")
    if frac == 0.0 and adaptive:
        frac = 0.1
    if frac == 0.0:
        return host, values, None
    values = check_values(values, where, xp, xp.asarray(values))  # before it is split
    if xp.shape(values)[0] != host.shape[0]:
        raise ShapeError(f"{where}: idx gives {host.shape[0]} samples but values has "
                         f"{xp.shape(values)[0]} entries")
    n = host.shape[0]
    n_test = max(1, int(round(frac * n)))
    perm = np.random.default_rng(seed).permutation(n)
    test_pos, train_pos = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    vals = xp.asarray(values)
    take = lambda pos: xp.take(vals, xp.asarray(pos, dtype="int64"), axis=0)  # noqa: E731
    return host[train_pos], take(train_pos), (host[test_pos], take(test_pos))


def _test_error(x: TTTensor, test: Any) -> float:
    t_idx, t_vals = test
    xp = x.backend
    diff = x.evaluate(xp.asarray(t_idx, dtype="int64")) - xp.astype(t_vals, x.dtype)
    den = float(xp.item(xp.norm(t_vals))) or 1.0
    return float(xp.item(xp.norm(diff))) / den


def _scaled_random(samples: SampleSet, a: Any, shape: tuple, ranks: list, seed: Any,
                   xp: Backend) -> TTTensor:
    """Start: a rank-1 term from the per-mode sample means plus a random TT of ranks ``r - 1``.

    Data with a dominant mean (entries of one sign) sit far from a random
    Gaussian start, whose sign pattern the gradient flow cannot undo without
    crossing lower rank; the mean profile ``m_k[i] = mean(a_s : i_k(s) = i)``
    carries that part, the random block the rest. Both are weighted by a
    2 x 2 least-squares fit to the samples.
    """
    d = len(shape)
    host = samples.host
    a_host = np.asarray(xp.to_numpy(a)).real
    profiles = []
    for k in range(d):
        sums = np.bincount(host[:, k], weights=a_host, minlength=shape[k])
        counts = np.bincount(host[:, k], minlength=shape[k])
        m = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
        nrm = np.linalg.norm(m)
        profiles.append(m / nrm if nrm > 0 else np.ones(shape[k]) / math.sqrt(shape[k]))
    dt = xp.dtype_name(a)
    mean = TTTensor._from_cores([xp.asarray(p.reshape(1, -1, 1), dtype=dt) for p in profiles], xp)
    if max(ranks) == 1:
        parts = [mean]
    else:
        rest = [max(r - 1, 1) for r in ranks[1:-1]]
        parts = [mean, tt_random(shape, rest, seed=seed, dtype=dt, backend=xp)]
    vals = [samples.left_sweep(frame_of(p, "tt_complete"))[1] for p in parts]
    # least-squares coefficients of the parts on the samples (complex for complex data)
    gram = np.array([[xp.item(xp.sum(xp.conj(u) * v)) for v in vals] for u in vals])
    rhs = np.array([xp.item(xp.sum(xp.conj(u) * a)) for u in vals])
    coef = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    coef = np.where(np.abs(coef) > 0, coef, 1.0).tolist()
    if not xp.is_complex(a):
        coef = [c.real for c in coef]
    x = parts[0] * coef[0]
    if len(parts) > 1:
        x = x + parts[1] * coef[1]
    return _pad_ranks(x, ranks) if tuple(x.ranks) != tuple(ranks) else x


def sparse_svd_start(samples: SampleSet, a: Any, shape: tuple, rank: int, seed: Any,
                     xp: Backend) -> TTTensor:
    """Rank-`rank` truncated SVD of the rescaled zero-filled sample matrix, as a 2-core TT.

    A randomized range finder with two power iterations; products with the
    sparse matrix are gathers and segment sums over the samples.
    """
    m, n = shape
    rows, cols = samples.modes
    w = a * (m * n / samples.size)

    def times(b: Any) -> Any:  # A_Omega @ b
        return xp.segment_sum(w[:, None] * xp.take(b, cols, axis=0), rows, m)

    wh = xp.conj(w)

    def times_t(b: Any) -> Any:  # A_Omega^H @ b
        return xp.segment_sum(wh[:, None] * xp.take(b, rows, axis=0), cols, n)

    k = min(rank + 10, m, n)
    g = xp.random_normal((n, k), seed=seed, dtype=xp.dtype_name(a), device=xp.device(a))
    q, _ = xp.qr(times(g))
    for _ in range(2):
        q, _ = xp.qr(times_t(q))
        q, _ = xp.qr(times(q))
    bt = times_t(q)  # (n, k) = (Q^H A)^H
    u, s, vh = xp.svd(xp.conj(xp.transpose(bt)))
    u = q @ u[:, :rank]
    left = u * xp.astype(s[:rank], xp.dtype(u))[None, :]
    return TTTensor._from_cores([left[None], vh[:rank, :, None]], xp)


def tt_to_svd(x: TTTensor) -> tuple[Any, Any, Any]:
    """``(u, s, vh)`` of a 2-core TT."""
    xp = x.backend
    frame = frame_of(x, "matrix_complete")
    u0 = frame.left[0][0]  # (m, r)
    u, s, vh = xp.svd(frame.last[:, :, 0])
    return u0 @ u, s, vh
