"""CP-ALS: alternating least squares for the canonical polyadic decomposition.

MTTKRP without the full Khatri-Rao product
------------------------------------------
The modes are split into a left group ``[0, h)`` and a right group ``[h, d)``
of balanced sizes. Each sweep forms two partial MTTKRPs by one matrix product
each, ``P_L = X_(L) conj(KR(A_h .. A_{d-1}))`` and
``P_R = X_(L)^T conj(KR(A_0 .. A_{h-1}))`` -- the Khatri-Rao products involved
are of half the modes only -- and every mode's MTTKRP is a small contraction of
``P_L`` or ``P_R`` with the other factors of its group. A sweep thus reads the
tensor twice, whatever ``d`` (Phan, Tichavský, Cichocki 2013; the same
dimension-tree idea as in PLANC and Tensor Toolbox). The sweep is a pure
function of arrays, compiled with ``jax.jit`` / ``tf.function`` on backends
that have them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from .._info import Timer, compiled
from .._progress import Reporter
from .._validation import (
    DefaultTol,
    check_eps,
    check_positive_int,
    honour_eps,
    rng_of,
)
from ..backends._host import host_eager
from ..errors import ArgumentError, TnlibError
from ..linalg.nnls import unit_columns
from ..linalg.tensor_ops import khatri_rao
from ._fit import (
    CPInfo,
    fit_data,
    fit_result,
    record_sweep,
    start_factors,
    stopped_short,
    zero_fit,
)
from .tensor import CPTensor

__all__ = ["CPInfo", "cp_als"]

_LETTERS = "abcdefghijklmnopqrstuvwxy"


@host_eager
def cp_als(a: Any, rank: int, max_iter: int = 100, tol: float = DefaultTol(1e-8),
           init: Any = "svd", seed: Any = None, return_info: bool = False, l2_reg: float = 0.0,
           linesearch: bool = False, callback: Callable | None = None,
           verbose: bool = False, progress: bool = False) -> Any:
    """Fit a rank-`rank` CP decomposition by alternating least squares.

    Parameters
    ----------
    a : array with d >= 2 axes
    rank : int
    max_iter : int, optional
        Maximum number of sweeps.
    tol : float, optional
        Stop when the relative error changes by less than `tol` between sweeps
        (0: run all `max_iter` sweeps). At least four machine epsilons of the data's
        dtype (the default is raised silently; a smaller explicit `tol` with a
        :class:`~tnlib.errors.PrecisionWarning`): changes below that are rounding.
    init : {"svd", "random"} or CPTensor, optional
        ``"svd"``: leading left singular vectors of each unfolding, from its Gram
        matrix (never a full SVD of a wide unfolding); random columns fill in
        where ``rank > n_k``. A degenerate SVD start (a factor that collapses to
        zero, e.g. from tied singular values) restarts once from the random start.
    seed : int, optional
        For random initialization / filling.
    return_info : bool, optional
        Also return a :class:`CPInfo`.
    l2_reg : float, optional
        Ridge term ``l2_reg ‖A_k‖^2`` added to each least-squares problem; it
        keeps swamps and degenerate problems bounded.
    linesearch : bool, optional
        Extrapolate the factors along the last step (Bro 1998) when that lowers
        the error; costs about half a sweep per iteration.
    callback : callable, optional
        Called as ``callback(info)`` after every sweep.
    verbose : bool, optional
        One line per sweep: iteration, relative error, change, max weight, seconds.
    progress : bool, optional
        A progress bar over the sweeps (needs tqdm), showing the same quantities.

    Returns
    -------
    CPTensor, or (CPTensor, CPInfo)
        Same backend, dtype and device as `a`.

    Warns
    -----
    ConvergenceWarning
        When `max_iter` is reached first; the message points out diverging,
        mutually cancelling components (CP degeneracy) when it sees them.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import cp
    >>> x = cp.random((6, 5, 4), 2, seed=0)
    >>> y = cp.cp_als(x.full(), 2, tol=1e-12, max_iter=500)
    >>> bool(np.linalg.norm(y.full() - x.full()) < 1e-6 * np.linalg.norm(x.full()))
    True
    """
    data = fit_data(a, init, "cp_als")
    xp, a, shape, init = data.xp, data.a, data.shape, data.init
    rank = check_positive_int(rank, "cp_als", "rank")
    max_iter = check_positive_int(max_iter, "cp_als", "max_iter")
    tol = honour_eps(check_eps(tol, "cp_als", "tol"), xp, a, "cp_als", name="tol")
    l2_reg = check_eps(l2_reg, "cp_als", "l2_reg")
    norm_a, h, x_mat, x_mat_t = data.norm_a, data.h, data.x_mat, data.x_mat_t
    factors = _initialize(a, rank, init, seed, xp)
    if norm_a == 0:  # exactly the CP with zero weights (a zero-initialized layer, say)
        zero, info = zero_fit(data, factors, rank, "cp_als")
        return (zero, info) if return_info else zero

    norm_sq = xp.astype(xp.norm(a) ** 2, xp.real_dtype(a))
    # whole-sweep native compilation (XLA on TF: a 100^3 sweep runs ~25% faster)
    # pays for its longer compile on large tensors; XLA has no complex solve
    fuse = math.prod(shape) >= _FUSE_SIZE and not xp.is_complex(a)
    sweep = compiled(xp, _sweep, fuse=fuse, h=h, shape=shape, l2_reg=l2_reg)
    errfn = compiled(xp, _error_sq, fuse=fuse, h=h, shape=shape)
    # the error formula ‖a‖² - 2 Re<a, x> + ‖x‖² cancels for close fits: below _RESOLVED
    # epsilons of ‖a‖² its value is rounding noise (float32 fits of 6e-4 read 0 to 8e-4)
    floor_sq = _RESOLVED * xp.finfo_eps(a) * norm_a ** 2 if norm_a is not None else 0.0

    def unresolved(err_sq: float) -> bool:
        return math.isfinite(err_sq) and err_sq < floor_sq

    info = CPInfo()
    timer = Timer()
    report = Reporter("cp_als", max_iter, verbose, progress, callback)
    weights = None
    prev_err = None
    prev_full = None  # previous iterate with the weights inside the last factor
    restarted = False
    watched = linesearch or verbose or progress or callback is not None
    ahead = _Ahead(partial(sweep, x_mat, x_mat_t), norm_sq, xp, tol, watched)
    for it in range(1, max_iter + 1):
        singular = None
        try:
            new_factors, new_weights, err_sq, max_weight = ahead.next(factors, max_iter - it + 1)
        except TnlibError:
            raise
        except Exception as exc:  # noqa: BLE001 - each framework names a singular solve its way
            singular, err_sq = exc, math.nan
        if singular is None and unresolved(err_sq) and (tol > 0 or watched or it == max_iter):
            err_sq = _residual_sq(x_mat, new_factors, new_weights, h, xp)
        err = math.sqrt(max(err_sq, 0.0)) / norm_a if math.isfinite(err_sq) else math.nan
        if not math.isfinite(err) and isinstance(init, str) and init == "svd" and not restarted:
            # ties among singular vectors can pick a start whose components miss the data
            # entirely (a factor of zeros); the seeded random start cannot. A singular solve
            # raises (NumPy) or gives a non-finite sweep (the frameworks, unchecked)
            factors, restarted = _initialize(a, rank, "random", seed, xp), True
            info.restarts += 1
            prev_err = prev_full = None
            ahead.clear()
            continue
        if singular is not None:
            raise ArgumentError(
                f"cp_als: the normal equations of sweep {it} are singular: a factor collapsed "
                f"to zero from init={init if isinstance(init, str) else 'CPTensor'!r} (a "
                f"degenerate start for this tensor); use init='random' or another "
                f"CPTensor ({type(singular).__name__})") from singular
        full = (new_factors[:-1] + [new_factors[-1] * new_weights[None, :]] if linesearch
                else None)
        if linesearch and prev_full is not None and it > 2:
            step = it ** (1.0 / 3.0)
            trial = [f + step * (f - p) for f, p in zip(full, prev_full)]
            trial_sq = float(xp.item(errfn(x_mat, trial, norm_sq)))
            if unresolved(trial_sq):
                trial_sq = _residual_sq(x_mat, trial, None, h, xp)
            trial_err = math.sqrt(max(trial_sq, 0.0))
            if trial_err / norm_a < err:
                full, err = trial, trial_err / norm_a
                new_factors, new_weights = trial, xp.ones_like(new_weights)
                max_weight = 1.0
        if not math.isfinite(err):
            info.stop_reason = "non-finite values; returning the last finite iterate"
            break
        prev_full = full
        factors, weights = new_factors, new_weights
        if record_sweep(info, it, err, max_weight, prev_err, tol, timer, report):
            break
        prev_err = err
    report.close()
    # factors keep unit columns except the last sweep's; move all norms into weights
    result = fit_result(data, weights, factors, rank, "cp_als")
    info.wall_time = timer()
    info.congruence = _congruence(result, xp)
    stopped_short(info, max_iter, tol, rank, "cp_als")
    return (result, info) if return_info else result


_FUSE_SIZE = 2**16


class _Ahead:
    """The sweeps of :func:`cp_als`, computed ahead of the reads of their statistics.

    Where reads are free (the host), or a run is watched sweep by sweep (a line search,
    a callback, a printed line, a progress bar), each sweep's error and largest weight
    are read before the next sweep starts. On an accelerator, where every read waits for
    the device, runs of sweeps (4, then 8; up to 16 when ``tol == 0`` stops nothing) are
    chained from the last computed iterate and their statistics come back in one read.
    :meth:`next` hands them out in order, and the loop stops at the same sweep as
    the one-sweep loop: sweeps computed past it are discarded, so the result and the
    info record are those of the host. An exception of a sweep is raised when its
    turn comes, not before (an earlier sweep may stop the loop first)."""

    def __init__(self, sweep: Callable, norm_sq: Any, xp: Any, tol: float,
                 watched: bool) -> None:
        self.sweep, self.norm_sq, self.xp = sweep, norm_sq, xp
        self.block = 1 if watched or not xp.reads_synchronize(norm_sq) else 4
        self.cap = 16 if tol == 0 else 8  # sweeps past convergence are wasted work
        self.queue: deque = deque()

    def next(self, factors: list, remaining: int) -> tuple:
        """``(factors, weights, error², max weight)`` of the next sweep after `factors`
        (when none was computed ahead), with at most `remaining` sweeps left to run."""
        if not self.queue:
            self._run(factors, min(self.block, remaining))
            if self.block > 1:
                self.block = min(2 * self.block, self.cap)
        entry = self.queue.popleft()
        if isinstance(entry, Exception):
            raise entry
        return entry

    def clear(self) -> None:
        """Forget the sweeps computed ahead (the loop restarts from other factors)."""
        self.queue.clear()

    def _run(self, factors: list, n: int) -> None:
        xp, done, stats = self.xp, [], []
        for _ in range(n):
            try:
                factors, weights, st = self.sweep(factors, self.norm_sq)
            except Exception as exc:  # noqa: BLE001 - raised in turn, by next()
                done.append(exc)
                break
            done.append((factors, weights))
            stats.append(st)
        if stats:  # one transfer for the run
            values = (xp.to_numpy(stats[0])[None, :] if len(stats) == 1
                      else xp.to_numpy(xp.stack(stats)))
            for j, row in enumerate(np.asarray(values).real.astype(float)):
                done[j] = (*done[j], float(row[0]), float(row[1]))
        self.queue.extend(done)


def _initialize(a: Any, rank: int, init: Any, seed: Any, xp: Any, where: str = "cp_als"
                ) -> list:
    shape = xp.shape(a)
    dt, dev = xp.dtype(a), xp.device(a)
    rng = rng_of(seed, where)
    if not isinstance(init, str) or init != "svd":
        return start_factors(a, shape, rank, init, rng, xp, where, ("svd", "random"))
    factors = []
    for k, n in enumerate(shape):
        others = [j for j in range(len(shape)) if j != k]
        gram = xp.tensordot(a, xp.conj(a), axes=(others, others))  # (n_k, n_k)
        _, v = xp.eigh(gram)  # leading left singular vectors of the unfolding
        u = xp.flip(v, 1)[:, : min(rank, n)]
        if rank > n:
            u = xp.concatenate([u, xp.random_normal((n, rank - n), seed=rng, dtype=dt,
                                                    device=dev)], axis=1)
        factors.append(u)
    return factors


def _khatri_rao_h(factors: list, xp: Any) -> Any:
    """``khatri_rao(factors)^H`` built directly in its (R, prod n) layout (no big transpose)."""
    out = None
    for f in factors:
        ft = xp.conj(xp.transpose(f))  # (R, n): small
        out = ft if out is None else xp.reshape(out[:, :, None] * ft[:, None, :],
                                                (xp.shape(ft)[0], -1))
    return out


def _group_mttkrp(p: Any, factors: list, modes: list, k: int, xp: Any) -> Any:
    """MTTKRP of mode `k` from the partial `p` of its group (shape (R,) + group sizes)."""
    if len(modes) == 1:
        return xp.transpose(p)
    letters = _LETTERS[: len(modes)]
    operands, subs = [p], ["z" + letters]
    for j, m in enumerate(modes):
        if m != k:
            operands.append(xp.conj(factors[m]))
            subs.append(letters[j] + "z")
    out = letters[modes.index(k)] + "z"
    return xp.einsum(",".join(subs) + "->" + out, *operands)


def _gram(f: Any, xp: Any) -> Any:
    return xp.conj(xp.transpose(f)) @ f


def _solve_mode(mttkrp: Any, grams: list, k: int, shifts: Any, xp: Any) -> Any:
    """Least-squares update ``A_k = M V^{-1}`` with ``V = ⊙_{j != k} A_j^H A_j`` (the
    factors' Gram matrices `grams`, kept up to date by the sweep); `shifts` from
    :func:`_shifts`."""
    v = None
    for j, g in enumerate(grams):
        if j != k:
            v = g if v is None else v * g
    # V is PSD but singular for degenerate iterates (e.g. an SVD start of a border-rank
    # tensor); a shift at rounding level keeps the solve defined without biasing the fit.
    # Its diagonal is real and non-negative: its largest entry is the scale
    rel, ridge = shifts
    v = v + xp.max(xp.real(xp.diag(v))) * rel
    if ridge is not None:
        v = v + ridge
    # unchecked: a non-finite update shows in the sweep's error, which is read anyway
    return xp.transpose(xp.solve(v, xp.transpose(mttkrp), check=False))


def _shifts(r: int, l2_reg: float, like: Any, xp: Any) -> tuple[Any, Any]:
    """The two diagonal matrices the normal equations are shifted by, made once per sweep:
    ``10 r eps I`` (times ``max diag V``) and ``l2_reg I`` (None for no ridge)."""
    eye = xp.eye(r, dtype=xp.dtype(like), device=xp.device(like))
    rel = eye * (10 * r * xp.finfo_eps(like))
    return rel, (eye * l2_reg if l2_reg else None)


def _sweep(x_mat: Any, x_mat_t: Any, factors: list, norm_sq: Any, h: int, shape: tuple,
           l2_reg: float, xp: Any) -> tuple[list, Any, Any]:
    """One ALS sweep over all modes; returns factors, weights and ``[‖a - x‖², max |w|]``."""
    factors = list(factors)
    d = len(shape)
    r = xp.shape(factors[0])[1]
    left, right = list(range(h)), list(range(h, d))
    weights = None
    mttkrp = None
    shifts = _shifts(r, l2_reg, factors[0], xp)
    # each updated with its factor: d products. The first factor's is never read (the
    # first update replaces it; a start far from the data's scale would overflow it)
    grams = [None] + [_gram(f, xp) for f in factors[1:]]
    # partials as (R, group sizes...): the small factor on the left of the big product,
    # the shape BLAS runs fastest, reading the stored layout of X (or of X^T)
    for group, x, x_t, other in ((left, x_mat_t, x_mat, right), (right, x_mat, x_mat_t, left)):
        p = xp.reshape(xp.matmul_wide(_khatri_rao_h([factors[j] for j in other], xp), x, x_t),
                       [r] + [shape[j] for j in group])
        for k in group:
            mttkrp = _group_mttkrp(p, factors, group, k, xp)
            f, weights = unit_columns(_solve_mode(mttkrp, grams, k, shifts, xp), xp)
            factors[k], grams[k] = f, _gram(f, xp)
    # error from the last mode's MTTKRP: ‖a‖² - 2 Re<a, x> + ‖x‖²
    last = factors[-1]
    inner = xp.sum(xp.conj(weights) * xp.sum(xp.conj(last) * mttkrp, axis=0))
    gram = None
    for g in grams:
        gram = g if gram is None else gram * g
    norm_x = xp.sum(xp.conj(weights)[:, None] * gram * weights[None, :])
    err_sq = norm_sq - 2 * xp.real(inner) + xp.real(norm_x)
    # the error and the largest weight in one array: one device-to-host transfer per sweep
    return factors, weights, xp.stack([err_sq, xp.max(xp.abs(weights))])


def _error_sq(x_mat: Any, factors: list, norm_sq: Any, h: int, shape: tuple, xp: Any) -> Any:
    """``‖a - x‖²`` for arbitrary (unnormalized) factors, by one partial MTTKRP."""
    d = len(shape)
    r = xp.shape(factors[0])[1]
    left, right = list(range(h)), list(range(h, d))
    kr = khatri_rao([factors[j] for j in right])
    p = xp.transpose(xp.reshape(x_mat @ xp.conj(kr), [shape[j] for j in left] + [r]),
                     [len(left)] + list(range(len(left))))
    m0 = _group_mttkrp(p, factors, left, 0, xp)
    inner = xp.sum(xp.conj(factors[0]) * m0)
    gram = None
    for f in factors:
        g = _gram(f, xp)
        gram = g if gram is None else gram * g
    return norm_sq - 2 * xp.real(inner) + xp.real(xp.sum(gram))


#: an error² from the cancelling formula below this many machine epsilons of ‖a‖² is
#: recomputed from the residual itself (the formula's terms are each about ‖a‖²)
_RESOLVED = 64.0


def _residual_sq(x_mat: Any, factors: list, weights: Any, h: int, xp: Any) -> float:
    """``‖a - x‖²`` from the residual, accurate where the formula cancels: about the
    cost of one sweep's product, in row blocks of ~2^22 entries (no second copy of `a`).
    `weights` None: they are inside the factors."""
    left = khatri_rao(factors[:h])
    if weights is not None:
        left = left * weights[None, :]
    right_t = xp.transpose(khatri_rao(factors[h:]))
    rows, cols = xp.shape(x_mat)
    step = max(1, (1 << 22) // max(cols, 1))
    total = None
    for i in range(0, rows, step):
        part = xp.norm(x_mat[i:i + step] - left[i:i + step] @ right_t) ** 2
        total = part if total is None else total + part
    return float(xp.item(total))


def _congruence(x: CPTensor, xp: Any) -> float:
    if x.rank < 2:
        return float("nan")
    c = np.array(xp.to_numpy(x.gram()).real)  # unit columns: products of cosines
    np.fill_diagonal(c, np.inf)
    return float(c.min())
