"""TT-cross: a tensor train from a few entries of a black-box tensor.

Algorithm
---------
One-site alternating cross with rank adaptation by enrichment (in the line of
Oseledets & Tyrtyshnikov 2010, Savostyanov 2014 and Dolgov & Savostyanov's
AMEn-cross): sweeps alternate left-to-right and right-to-left. At core ``k``
the fibres ``f(I_{k-1}, :, J_{k+1})`` are evaluated -- one batched call of
``f`` -- together with ``kick`` fibres through random index tails. The SVD of
this ``r n x (r + kick)`` matrix reveals the rank of the bond (truncated at
``eps``), :func:`~tnlib.linalg.maxvol` picks the new index set among the
leading singular vectors, and the interpolating core ``U (U[rows])^{-1}`` is
stored. Ranks therefore grow when the random fibres carry new directions and
shrink when the data allow; ``kick`` is doubled at bonds whose rank saturates.

Why one-site: a two-site (DMRG) cross evaluates ``r n^2 r`` entries per bond,
``n`` times more than the ``r n (r + kick)`` here, for the same rank
information; with n = 32 that is the difference between 10^4 and 10^5
evaluations for a rank-2 function in 10 dimensions. Every point goes through a
cache, so a point is never asked twice (JAX aside, see `f`): once the index sets settle, a sweep
costs only its random fibres, which is how convergence is confirmed.

Ranks: each bond keeps two pivots beyond its truncation rank (at ``eps/(d-1)``).
The extra pivots make the interpolation better conditioned, so it reaches
``eps`` in fewer sweeps (Ackley and Brown in d = 50 need a half and a third of
the evaluations); the result is rounded to ``eps`` at the end.

Stopping: after a half-sweep in which no rank moved and no bond saturated, or
which changed the tensor by less than ``10 eps``, if the tensor matches ``f``
to ``eps`` on random *probe* points (counted as evaluations and reused from the
cache; a few hundred, growing to 1% of the evaluations so far). A small change
alone is not enough: on functions whose mass sits in a few corners (Brown's),
a half-sweep can leave the interpolation at a fixed point with an error 10x
above ``eps`` while changing it by less than ``eps``, and the probe sees it.
A rank-1 function is done after a single half-sweep.

Error-driven enrichment: the probe points the tensor misses most lie on
directions the index sets lack, which random fibres find only by chance. After
a failed probe, two of the next half-sweep's kick fibres at every core pass
through the two worst points (in the spirit of greedy cross, which adds pivots
where the residual peaks). On Brown d = 50 this takes the median over ten seeds
from 531,000 to 434,000 distinct evaluations, each run reaching ``eps = 1e-8``.

The pivot bookkeeping runs on host NumPy copies (small matrices, many tiny
steps); ``f`` receives index arrays on the active backend and the result is a
TTTensor on that backend, rounded to ``eps``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._info import IterationInfo, Timer, warn_not_converged
from .._progress import Reporter
from .._validation import (
    check_count,
    check_eps,
    check_positive_int,
    check_shape,
    honour_eps,
    rng_of,
    times_pow2,
)
from ..backends import Backend, resolve
from ..backends._host import host_eager
from ..errors import (
    ArgumentError,
    BackendMismatchError,
    EvaluationError,
    ShapeError,
)
from ..linalg.maxvol import maxvol_host
from ..scale.executor import check_executor
from ._cross_cache import _NUMPY, _BudgetExceeded, _Cache
from ._scale import spread_pow2
from .tensor import TTTensor

__all__ = ["CrossInfo", "cross"]


@dataclass
class CrossInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of :func:`cross`.

    ``iterations`` counts half-sweeps; ``errors`` holds the relative change
    ``‖x_s - x_{s-1}‖ / ‖x_s‖`` after each; ``probe_errors`` the relative
    error on the random confirmation points, after each half-sweep in which
    the ranks had settled.

    Attributes
    ----------
    evaluations : int
        Distinct points at which ``f`` was evaluated (validation points included).
    ranks : tuple of int
        Ranks of the returned tensor.
    max_ranks : list of int
        Largest rank after each half-sweep.
    validation_errors : list of float
        Relative error on the validation points after each half-sweep (when given).
    eval_time : float
        Seconds spent inside ``f``.
    """

    evaluations: int = 0
    ranks: tuple = ()
    max_ranks: list[int] = field(default_factory=list)
    validation_errors: list[float] = field(default_factory=list)
    eval_time: float = 0.0
    probe_errors: list[float] = field(default_factory=list)


_PROBE_POINTS = 256  # random points that confirm a settled tensor (counted as evaluations)
_PROBE_SHARE = 100  # ... or one per this many evaluations so far, if that is more
_PROBE_CHANGE = 10  # ... also checked once a half-sweep changes the tensor by < 10 eps
_OVERSAMPLE = 2  # pivots kept beyond the truncation rank of a bond
_HINTS = 2  # the worst probe points steer this many of the next half-sweep's kick fibres
_MAX_KICK = 1024  # random fibres per bond and sweep: more only allocates
#: a tensor of at most this many entries is evaluated whole and decomposed by TT-SVD:
#: cross would ask for most of them anyway (1012 of 1024 for a cosine on 2^10 points),
#: and its sampled stopping test could miss an entry (that cosine came out 9e-9 wrong
#: at eps 1e-12 for one seed in six)
_WHOLE = 4096


@host_eager
def cross(f: Callable, shape: Any, eps: float = 1e-6, max_rank: int | None = None,
          max_sweeps: int = 10, x0: TTTensor | None = None, seed: Any = None,
          return_info: bool = False, kickrank: int = 2, max_evals: int | None = None,
          validation: Any = None, callback: Callable | None = None, verbose: bool = False,
          backend: str | Backend | None = None, executor: Any = None,
          batch_size: int | None = None, progress: bool = False) -> Any:
    """TT approximation of a black-box tensor from adaptively chosen entries.

    Parameters
    ----------
    f : callable
        ``f(idx)`` takes an int array of shape ``(N, d)`` on the active backend
        and returns ``N`` values (real or complex). No point is asked twice,
        except on JAX, whose operations compile for every new array length:
        there each batch is padded to one of a few lengths (two per octave)
        with repeats of its first point, whose values are discarded -- at most
        half again as many rows, instead of a compilation for every call.
    shape : sequence of int
    eps : float, optional
        Target relative accuracy: ranks are truncated at ``eps`` and the
        iteration stops once the ranks settle (or a half-sweep changes the tensor
        by less than ``10 eps``) and the error on random probe points is below
        `eps` (or, if given, the validation error is). The result is rounded
        to `eps`. These tests sample the tensor: for a function whose mass sits
        in a few rare entries, pass a larger `validation` set. A tensor of at most
        4,096 entries (without a smaller `max_evals`) is evaluated whole and
        decomposed by TT-SVD to `eps`: cross would ask for most of its entries anyway.
    max_rank : int, optional
        Upper bound on every rank.
    max_sweeps : int, optional
        Maximum number of full sweeps (each is two half-sweeps).
    x0 : TTTensor, optional
        Initial approximation; its index sets start the iteration.
    seed : int, optional
    return_info : bool, optional
        Also return a :class:`CrossInfo`.
    kickrank : int, optional
        Random fibres added at each core (doubled where a rank saturates).
    max_evals : int, optional
        Budget of distinct evaluations; the best tensor so far is returned,
        with a :class:`~tnlib.ConvergenceWarning`.
    validation : int or (idx, values), optional
        Random validation points (their number, counted as evaluations) or given
        ones; the iteration stops when their relative error is below `eps`.
    callback : callable, optional
        ``callback(info)`` after each half-sweep.
    verbose : bool, optional
        One line per half-sweep: sweep, max rank, change, evaluations, seconds.
    backend : str, optional
        Backend for the index arrays given to `f` and for the result.
    executor : concurrent.futures.Executor, optional
        Evaluate each batch of new points on this executor (threads, processes,
        or ``dask.distributed.Client.get_executor()``), split into chunks; the
        cache of evaluated points stays here, so the points asked, the result
        and ``info.evaluations`` are those of the serial run. With processes
        (and Dask), `f` must pickle.
    batch_size : int, optional
        Points per chunk on the executor (default: four chunks per worker).
    progress : bool, optional
        A progress bar over the half-sweeps (needs tqdm), showing the same quantities
        as `verbose`.

    Returns
    -------
    TTTensor, or (TTTensor, CrossInfo)

    Raises
    ------
    EvaluationError
        If `f` returns the wrong shape, NaN or inf (the message names the index),
        or raises on an executor (the message names the chunk's first point).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = np.linspace(0, 1, 32)
    >>> f = lambda idx: np.sum(x[idx], axis=1)      # rank 2
    >>> y, info = tt.cross(f, (32,) * 10, eps=1e-10, return_info=True, seed=0)
    >>> max(y.ranks), info.evaluations < 32 ** 10
    (2, True)
    """
    shape = check_shape(shape, "cross")
    eps = check_eps(eps, "cross", ranks="max_rank")
    max_sweeps = check_positive_int(max_sweeps, "cross", "max_sweeps")
    kickrank = check_count(kickrank, "cross", "kickrank", 0, _MAX_KICK)
    if max_evals is not None:
        max_evals = check_positive_int(max_evals, "cross", "max_evals")
    cap = None if max_rank is None else check_positive_int(max_rank, "cross", "max_rank")
    if not callable(f):
        raise ArgumentError(f"cross: f must be callable, got {type(f).__name__}")
    if x0 is not None and not isinstance(x0, TTTensor):
        raise ArgumentError(f"cross: x0 must be a TTTensor, got {type(x0).__name__}")
    xp = resolve(backend) if x0 is None else x0.backend
    if backend is not None and x0 is not None and resolve(backend).name != xp.name:
        raise BackendMismatchError(f"cross: backend={resolve(backend).name!r} but x0 holds "
                                   f"{xp.name} arrays; move x0 with x0.to(backend=...)")
    d = len(shape)
    rng = rng_of(seed, "cross")
    executor, batch_size = check_executor(executor, batch_size, "cross")
    cache = _Cache(f, shape, xp, max_evals, executor, batch_size)
    info = CrossInfo()
    timer = Timer()
    report = Reporter("cross", 2 * max_sweeps, verbose, progress, callback)
    val_idx, val_ref = _validation_set(validation, shape, rng, xp, cache)
    given_ref = val_idx is not None and not isinstance(validation, (int, np.integer))
    probe_idx, probe_rng = None, np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])
    if d == 1:
        vals = times_pow2(cache(np.arange(shape[0])[:, None]), cache.exponent, _NUMPY)
        result = TTTensor._from_cores([xp.asarray(vals.reshape(1, -1, 1))], xp)
        info.evaluations, info.ranks, info.converged = cache.count, result.ranks, True
        return (result, info) if return_info else result
    if math.prod(shape) <= _WHOLE and (max_evals is None or max_evals >= math.prod(shape)):
        best = _whole(shape, cache, eps, cap, info)  # on the host, f's values / 2^exponent
        if val_idx is not None:
            ref = cache.unit(val_ref) if given_ref else val_ref
            info.validation_errors.append(float(np.linalg.norm(best.evaluate(val_idx) - ref)
                                                / max(np.linalg.norm(ref), 1e-300)))
        result = _result(best, 0.0, None, cache.result_dtype(), xp, cache.exponent)
        info.ranks, info.wall_time = result.ranks, timer()
        info.max_ranks.append(max(result.ranks))
        report(info, f"all {info.evaluations} entries  max rank {info.max_ranks[-1]:3d}  "
                     f"{timer():.2f} s")
        report.close()
        return (result, info) if return_info else result
    left, right = _start_sets(x0, shape, rng)
    # one point of the first fibre (asked anyway) tells the precision of f's values:
    # float32 values cannot be interpolated to 1e-8, and trying costs millions of points
    cache(np.concatenate([np.zeros((1, 1), dtype=np.int64), right[1][:1]], axis=1))
    eps = honour_eps(eps, resolve("numpy"), np.empty(0, dtype=cache.value_dtype), "cross")
    sweep = _Sweep(shape, cache, rng, kickrank, eps, cap, left, right, first=x0 is None)
    previous = None
    best = None
    half, scale_of_previous = 0, cache.exponent
    try:
        while half < 2 * max_sweeps:
            current, any_saturated = sweep.half_sweep(forward=half % 2 == 0)
            if previous is not None and cache.exponent != scale_of_previous:
                # f's values set the cache's scale anew: the last train to its scale
                previous = TTTensor._from_cores([times_pow2(
                    previous.cores[0], scale_of_previous - cache.exponent, _NUMPY),
                    *previous.cores[1:]], None)
            scale_of_previous = cache.exponent
            half += 1
            info.iterations = half
            info.max_ranks.append(max(current.ranks))
            change = _relative_change(current, previous)
            info.errors.append(change)
            if val_idx is not None:  # the cache's values are f's divided by 2^exponent
                approx = current.evaluate(val_idx)
                ref = cache.unit(val_ref) if given_ref else cache(val_idx)  # at its scale
                info.validation_errors.append(float(np.linalg.norm(approx - ref)
                                                    / max(np.linalg.norm(ref), 1e-300)))
            info.evaluations = cache.count
            info.eval_time = cache.eval_time
            info.wall_time = timer()
            best = current
            extra = (f"  validation {info.validation_errors[-1]:.2e}"
                     if info.validation_errors else "")
            report(info, f"sweep {half / 2:4.1f}  max rank {info.max_ranks[-1]:3d}  change "
                         f"{change:.2e}{extra}  evaluations {info.evaluations}  {timer():.2f} s")
            settled = not any_saturated and (current.ranks == previous.ranks if previous
                                             is not None else max(current.ranks) == 1)
            probe_ok, sweep.hints = False, None
            if val_idx is None and (settled or change < _PROBE_CHANGE * eps):
                # ranks settled or the change is near eps: check the tensor on random points
                probe_idx = _grow_probe(probe_idx, max(min(sum(shape), _PROBE_POINTS),
                                                       cache.count // _PROBE_SHARE),
                                        shape, probe_rng)
                probe_ok, sweep.hints = _probe(current, probe_idx, cache, eps, info)
            if info.validation_errors and info.validation_errors[-1] < eps or probe_ok:
                info.converged = True
                info.stop_reason = (
                    "validation error below eps" if info.validation_errors
                    else f"the error on {len(probe_idx)} random points is "
                         f"{info.probe_errors[-1]:.2e} (last change {change:.2e})")
                break
            if _stagnated(info):
                info.stop_reason = (f"stagnated: the change stays near {min(info.errors):.2e} "
                                    "with fixed ranks (noise or interpolation error above eps)")
                break
            previous = current
    except _BudgetExceeded:
        info.stop_reason = f"max_evals={max_evals} evaluations reached"
    finally:
        report.close()
    if best is None:  # the budget ran out within the first half-sweep
        raise EvaluationError(f"cross: max_evals={max_evals} is too small for one sweep")
    if not info.converged and not info.stop_reason:
        info.stop_reason = f"max_sweeps={max_sweeps} reached"
    result = _result(best, eps, cap, cache.result_dtype(), xp, cache.exponent)
    info.ranks = result.ranks
    info.evaluations = cache.count
    info.wall_time = timer()
    if not info.converged:
        warn_not_converged("cross", f"stopped without converging ({info.stop_reason}; last "
                           f"change {info.errors[-1] if info.errors else float('nan'):.2e}, "
                           f"eps={eps:g})")
    return (result, info) if return_info else result


class _Sweep:
    """The alternating half-sweeps: index sets, kick sizes and the cores of the train."""

    def __init__(self, shape: tuple, cache: _Cache, rng: np.random.Generator, kickrank: int,
                 eps: float, cap: int | None, left: list, right: list, first: bool) -> None:
        self.shape, self.cache, self.rng, self.cap = shape, cache, rng, cap
        self.left, self.right = left, right
        self.kickrank, self.kick = kickrank, [kickrank] * len(shape)
        # each of the d-1 bonds truncated at eps/(d-1): the interpolation error of a
        # maxvol cross grows with d, and a sqrt(d-1) split leaves an error floor
        # near eps that costs more sweeps than the slightly larger ranks
        self.tol = eps / (len(shape) - 1)
        self.cores: list[Any] = [None] * len(shape)
        self.first = first  # no x0: the first half-sweep may probe with one fibre
        self.hints: np.ndarray | None = None  # points the last probe missed most

    def half_sweep(self, forward: bool) -> tuple[TTTensor, bool]:
        """One half-sweep; returns the train (host copies) and whether a bond saturated."""
        d, kick = len(self.shape), self.kick
        any_saturated = False
        for k in (range(d - 1) if forward else range(d - 1, 0, -1)):
            # until a bond shows rank > 1, the first half-sweep probes with one
            # random fibre: a product function is then found at 2/3 of the cost
            probing = self.first and not any_saturated and kick[k] > 1
            core, new_set, saturated = self._step(k, forward, 1 if probing else kick[k])
            if probing and saturated:  # not a product after all: redo with full kick
                core, new_set, saturated = self._step(k, forward, kick[k])
            self.cores[k] = core
            any_saturated |= bool(saturated)
            if forward:
                self.left[k + 1] = new_set
            else:
                self.right[k] = new_set
            kick[k] = min(2 * kick[k], 64) if saturated else max(self.kickrank, kick[k] // 2)
        self.first = False
        # the core at the end of the sweep holds the values themselves
        last = d - 1 if forward else 0
        self.cores[last] = _fibres(last, self.left, self.right, self.shape, self.cache)
        return TTTensor._from_cores([c.copy() for c in self.cores], None), any_saturated

    def _step(self, k: int, forward: bool, kick: int) -> tuple[np.ndarray, np.ndarray, bool]:
        return _step(k, forward, self.left, self.right, self.shape, self.cache, kick, self.tol,
                     self.cap, self.rng, self.hints)


def _start_sets(x0: TTTensor | None, shape: tuple, rng: np.random.Generator
                ) -> tuple[list, list]:
    """Index sets to start from: ``x0``'s right sets, or one random point's tails."""
    d = len(shape)
    left = [np.zeros((1, 0), dtype=np.int64)] + [None] * (d - 1)   # I_k: (r, k) modes < k
    right = [None] * d + [np.zeros((1, 0), dtype=np.int64)]        # J_k: (r, d-k) modes >= k
    if x0 is not None:
        if x0.shape != shape:
            raise ShapeError(f"cross: x0 has shape {x0.shape}, expected {shape}")
        return left, _right_sets_from(x0, right)
    start = np.stack([rng.integers(0, n, size=1) for n in shape], axis=1)
    for k in range(1, d):
        right[k] = start[:, k:]
    return left, right


def _probe(current: TTTensor, idx: np.ndarray, cache: _Cache, eps: float, info: CrossInfo
           ) -> tuple[bool, np.ndarray | None]:
    """Whether `current` matches f to `eps` on the probe points; if not, the points it
    misses most -- directions the index sets lack, through which the next half-sweep's
    kick fibres pass (error-driven enrichment)."""
    values = cache(idx)
    miss = np.abs(current.evaluate(idx) - values)
    info.probe_errors.append(float(np.linalg.norm(miss)
                                   / max(np.linalg.norm(values), 1e-300)))
    ok = info.probe_errors[-1] < eps
    return ok, None if ok else idx[np.argsort(miss)[::-1][:_HINTS]]


def _whole(shape: tuple, cache: _Cache, eps: float, cap: int | None, info: CrossInfo
           ) -> TTTensor:
    """The train of a small tensor from all its entries (the cache's, on the host): TT-SVD
    to `eps` and `cap`."""
    idx = np.indices(shape).reshape(len(shape), -1).T
    values = cache(idx)
    eps = honour_eps(eps, resolve("numpy"), np.empty(0, dtype=cache.value_dtype), "cross")
    from .svd import tt_svd

    info.evaluations, info.eval_time, info.converged = cache.count, cache.eval_time, True
    info.stop_reason = f"all {len(idx)} entries evaluated (a tensor this small is decomposed whole)"
    return tt_svd(values.reshape(shape), eps=eps, max_rank=cap)


def _result(best: TTTensor, eps: float, cap: int | None, dtype: np.dtype, xp: Backend,
            exponent: int = 0) -> TTTensor:
    """The train on the caller's backend in f's precision, rounded to `eps` in double
    precision first (on the host copies, like the sweeps), times ``2^exponent`` (the
    cache's scale, spread over the cores)."""
    if eps > 0:
        best = best.round(eps, max_rank=cap)
    cores = spread_pow2(list(best.cores), exponent, _NUMPY) if exponent else best.cores
    return TTTensor._from_cores([xp.asarray(c.astype(dtype, copy=False)) for c in cores], xp)


def _validation_set(validation: Any, shape: tuple, rng: np.random.Generator, xp: Backend,
                    cache: _Cache) -> tuple[np.ndarray | None, np.ndarray | None]:
    if validation is None:
        return None, None
    if isinstance(validation, (int, np.integer)) and not isinstance(validation, bool):
        if validation < 1:
            raise ArgumentError(f"cross: validation must be a number of points >= 1 or a pair "
                                f"(idx, values), got {validation!r}")
        idx = np.stack([rng.integers(0, n, size=int(validation)) for n in shape], axis=1)
        return idx, cache(idx)
    try:
        idx, values = validation
    except (TypeError, ValueError):
        raise ArgumentError("cross: validation must be an int or a pair (idx, values)") from None
    idx = np.asarray(xp.to_numpy(idx) if xp.is_array(idx) else idx, dtype=np.int64)
    values = np.asarray(xp.to_numpy(values) if xp.is_array(values) else values)
    if idx.ndim != 2 or idx.shape[1] != len(shape) or values.shape != (idx.shape[0],):
        raise ShapeError(f"cross: validation idx must be (N, {len(shape)}) and values (N,), got "
                         f"{idx.shape} and {values.shape}")
    if idx.shape[0] == 0:
        raise ArgumentError("cross: the validation set is empty; give at least one point (an "
                            "empty set would confirm any approximation)")
    return idx, values


def _grow_probe(probe: np.ndarray | None, count: int, shape: tuple,
                rng: np.random.Generator) -> np.ndarray:
    """The probe points, extended with fresh random points to `count`."""
    have = 0 if probe is None else len(probe)
    if count <= have:
        return probe
    more = np.stack([rng.integers(0, n, size=count - have) for n in shape], axis=1)
    return more if probe is None else np.concatenate([probe, more])


def _points(k: int, rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """All points (rows[a], i, cols[b]) in (a, i, b) C order."""
    r, c = len(rows), len(cols)
    a = np.repeat(rows, n * c, axis=0)
    i = np.tile(np.repeat(np.arange(n), c), r)[:, None]
    b = np.tile(cols, (r * n, 1))
    return np.concatenate([a, i, b], axis=1)


def _fibres(k: int, left: list, right: list, shape: tuple, cache: _Cache) -> np.ndarray:
    rows, cols = left[k], right[k + 1]
    vals = cache(_points(k, rows, cols, shape[k]))
    return vals.reshape(len(rows), shape[k], len(cols))


def _random_tails(count: int, modes: range, shape: tuple, rng: np.random.Generator
                  ) -> np.ndarray:
    return np.stack([rng.integers(0, shape[m], size=count) for m in modes], axis=1) if len(
        modes) else np.zeros((count, 0), dtype=np.int64)


def _step(k: int, forward: bool, left: list, right: list, shape: tuple, cache: _Cache,
          kick: int, tol: float, cap: int | None, rng: np.random.Generator,
          hints: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Update the index set on one side of core `k`; return the core, the set, saturation."""
    n = shape[k]
    rows, cols = left[k], right[k + 1]
    # kick fibres: through the points the last probe missed most, the rest at random
    h = hints[:kick] if hints is not None else np.zeros((0, len(shape)), dtype=np.int64)
    if forward:
        extra = np.concatenate([h[:, k + 1:], _random_tails(kick - len(h), range(k + 1,
                                                                                 len(shape)),
                                                              shape, rng)])
        cols_all = np.concatenate([cols, extra]) if kick else cols
        vals = cache(_points(k, rows, cols_all, n)).reshape(len(rows) * n, len(cols_all))
    else:
        extra = np.concatenate([h[:, :k], _random_tails(kick - len(h), range(k), shape, rng)])
        rows_all = np.concatenate([rows, extra]) if kick else rows
        vals = cache(_points(k, rows_all, cols, n)).reshape(len(rows_all), n * len(cols)).T
    # rank of the bond from the enriched fibres
    u, s, _ = np.linalg.svd(vals, full_matrices=False)
    rank = _rank(s, tol, cap)
    if rank > 1:
        # keep a few pivots beyond the truncation rank: the interpolation is better
        # conditioned and converges in far fewer sweeps (the result is rounded at
        # the end); a rank-1 bond stays rank 1 (products, the cheapest case)
        rank = min(rank + _OVERSAMPLE, int(np.sum(s > s[0] * 1e-14)) or 1,
                   cap or rank + _OVERSAMPLE)
    saturated = rank >= min(vals.shape) and rank < (cap or np.inf)
    basis = u[:, :rank]
    piv, coef = maxvol_host(basis, start=_previous_pivots(k, forward, left, right, shape))
    if forward:
        core = coef.reshape(len(rows), n, rank)
        new_set = np.concatenate([rows[piv // n], (piv % n)[:, None]], axis=1)
    else:
        core = np.transpose(coef.reshape(n, len(cols), rank), (2, 0, 1))
        new_set = np.concatenate([(piv // len(cols))[:, None], cols[piv % len(cols)]], axis=1)
    return core, new_set, saturated


def _previous_pivots(k: int, forward: bool, left: list, right: list, shape: tuple
                     ) -> np.ndarray | None:
    """Rows of the current fibre matrix holding the index set of the previous sweep."""
    old = left[k + 1] if forward else right[k]
    if old is None:
        return None
    n = shape[k]
    if forward:
        rows = {tuple(m): a for a, m in enumerate(left[k].tolist())}
        pos = [rows.get(tuple(m[:-1]), -1) * n + m[-1] for m in old.tolist()]
        ok = [p for p, m in zip(pos, old.tolist()) if rows.get(tuple(m[:-1]), -1) >= 0]
    else:
        cols = {tuple(m): b for b, m in enumerate(right[k + 1].tolist())}
        c = len(cols)
        ok = [m[0] * c + cols[tuple(m[1:])] for m in old.tolist() if tuple(m[1:]) in cols]
        pos = ok
    return np.asarray(ok if forward else pos, dtype=np.int64)


def _rank(s: np.ndarray, tol: float, cap: int | None) -> int:
    if s.size == 0 or s[0] == 0:
        return 1
    tail = np.sqrt(np.concatenate([np.cumsum((s**2)[::-1])[::-1], [0.0]]))
    r = int(np.argmax(tail <= tol * tail[0])) if tol > 0 else int(np.sum(s > 0))
    # never keep directions below rounding level: maxvol needs a well-conditioned basis
    r = min(max(r, 1), int(np.sum(s > s[0] * 1e-14)) or 1)
    return r if cap is None else min(r, cap)


def _stagnated(info: CrossInfo, window: int = 6) -> bool:
    """No new best change for `window` half-sweeps while the largest rank stayed put."""
    e, r = info.errors, info.max_ranks
    if len(e) <= window + 2:
        return False
    return min(e[-window:]) >= 0.5 * min(e[:-window]) and len(set(r[-window:])) == 1


def _relative_change(current: TTTensor, previous: TTTensor | None) -> float:
    if previous is None:
        return float("inf")
    # the norm of a difference needs an orthogonal sweep: a Gram sweep would lose
    # everything below sqrt(u) of the operands to cancellation
    diff = float(np.linalg.norm((current - previous).orthogonalize("left").cores[-1]))
    nc = float(np.abs(current.norm()))
    return diff / nc if nc > 0 else diff


def _right_sets_from(x0: TTTensor, right: list) -> list:
    """Right index sets of `x0` by a right-to-left QR + maxvol sweep (on host copies)."""
    xp = x0.backend
    cores = [np.asarray(xp.to_numpy(c)) for c in x0.cores]
    d = len(cores)
    carry = np.ones((1, 1))
    for k in range(d - 1, 0, -1):
        c = np.einsum("anb,bc->anc", cores[k], carry)
        r, n, rr = c.shape
        mat = c.reshape(r, n * rr).T  # (n r', r)
        q, rf = np.linalg.qr(mat)
        piv, _ = maxvol_host(q)
        nxt = right[k + 1]
        right[k] = np.concatenate([(piv // rr)[:, None], nxt[piv % rr]], axis=1)
        carry = q[piv].T  # interface from the chosen rows
    return right
