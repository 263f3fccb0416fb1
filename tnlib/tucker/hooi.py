"""Higher-order orthogonal iteration (De Lathauwer, De Moor, Vandewalle 2000)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._info import IterationInfo, Timer, compiled, warn_not_converged
from .._progress import Reporter
from .._validation import (
    check_eps,
    check_positive_int,
    honour_eps,
    multiway_data,
    scaled_back,
    unit_data,
    within_range,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..linalg.tensor_ops import multi_mode_product, unfold
from .hosvd import mode_ranks, sequential_hosvd
from .tensor import TuckerTensor

__all__ = ["TuckerInfo", "hooi"]


@dataclass
class TuckerInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of :func:`hooi`; ``errors`` are relative errors."""


@host_eager
def hooi(a: Any, ranks: Any, max_iter: int = 50, tol: float | None = None, init: Any = "hosvd",
         return_info: bool = False, callback: Callable | None = None,
         verbose: bool = False, progress: bool = False) -> Any:
    """Best multilinear-rank approximation by higher-order orthogonal iteration.

    Each sweep updates every factor to the leading left singular vectors of
    ``a ×_{j != k} U_j^H``. The modes are split into two balanced groups and
    ``a`` contracted with the factors of one group is shared by every mode of
    the other, so a sweep costs two passes over ``a``. The sweep is compiled
    with ``jax.jit`` / ``tf.function`` where the backend has them.

    Parameters
    ----------
    a : array with d >= 2 axes
    ranks : int or sequence of int
    max_iter : int, optional
    tol : float, optional
        Stop when the relative error changes by less than `tol` (0: run all sweeps).
        Default: 1e-10, or four units of roundoff of the data's dtype where that is
        larger (float32); an explicit `tol` below that is raised with a
        :class:`~tnlib.PrecisionWarning`.
    init : {"hosvd", "random"} or TuckerTensor, optional
    return_info : bool, optional
    callback : callable, optional
        ``callback(info)`` after every sweep.
    verbose : bool, optional
        One line per sweep: relative error, its change, seconds.
    progress : bool, optional
        A progress bar over the sweeps (needs tqdm).

    Returns
    -------
    TuckerTensor, or (TuckerTensor, TuckerInfo)

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tucker
    >>> rng = np.random.default_rng(0)
    >>> u, v, w = (rng.standard_normal((n, 2)) for n in (6, 7, 8))
    >>> a = np.einsum("ir,jr,kr->ijk", u, v, w) + 0.01 * rng.standard_normal((6, 7, 8))
    >>> x = tucker.hooi(a, (2, 2, 2))
    >>> y = tucker.hosvd(a, ranks=(2, 2, 2))
    >>> bool(np.linalg.norm(a - x.full()) <= np.linalg.norm(a - y.full()) + 1e-12)
    True
    """
    xp, a, r = fit_data(a, ranks, "hooi")
    shape, d = xp.shape(a), len(r)
    max_iter = check_positive_int(max_iter, "hooi", "max_iter")
    if tol is None:
        tol = max(1e-10, 4.0 * xp.finfo_eps(a))
    tol = honour_eps(check_eps(tol, "hooi", "tol"), xp, a, "hooi", name="tol")
    # Grams of data near the float limits overflow: fit at unit scale
    a, scale, norm_a = unit_data(a, xp, "hooi")
    if isinstance(init, TuckerTensor):
        if init.shape != shape or list(init.ranks) != r:
            raise ShapeError(f"hooi: init has shape {init.shape} and ranks {init.ranks}, "
                             f"expected {shape} and {tuple(r)}")
        factors = list(init.factors)
    elif init == "hosvd":
        factors = sequential_hosvd(a, 0.0, r, xp)[1]
    elif init == "random":
        rng = np.random.default_rng(0)
        factors = [xp.qr(xp.random_normal((n, rk), seed=rng, dtype=xp.dtype(a),
                                          device=xp.device(a)))[0] for n, rk in zip(shape, r)]
    else:
        raise ArgumentError(f"hooi: init must be 'hosvd', 'random' or a TuckerTensor, "
                            f"got {init!r}")
    h = max(1, d // 2)
    sweep = compiled(xp, _sweep, ranks=tuple(r), h=h)
    info = TuckerInfo()
    timer = Timer()
    report = Reporter("hooi", max_iter, verbose, progress, callback)
    prev = None
    core = None
    for it in range(1, max_iter + 1):
        factors, core, core_norm = sweep(a, factors)
        cn = float(xp.item(core_norm))
        err = _relative_error(a, core, factors, norm_a, cn, xp)
        if record(info, it, err, prev, tol, timer, report):
            break
        prev = err
    report.close()
    return finish(core, factors, info, xp, "hooi", scale=scale, max_iter=max_iter, tol=tol,
                  return_info=return_info)


def fit_data(a: Any, ranks: Any, where: str) -> tuple[Any, Any, list[int]]:
    """The checks HOOI and non-negative Tucker share: the backend, `a` as a float array of
    at least two axes, and the required `ranks` as one int per mode (each at most its
    mode's size)."""
    xp = backend_of(a)
    a = multiway_data(a, xp, where)
    shape = xp.shape(a)
    r = mode_ranks(ranks, len(shape), where)
    if r is None:
        raise ArgumentError(f"{where}: ranks is required")
    return xp, a, [min(rk, n) for rk, n in zip(r, shape)]


def run_sweeps(step: Callable, core: Any, factors: list, info: TuckerInfo, max_iter: int,
               tol: float, timer: Timer, report: Reporter) -> tuple[Any, list]:
    """The sweeps of a Tucker fit: ``step(core, factors)`` gives the next factors, core
    and relative error; stops when the error settles to `tol`, after `max_iter` sweeps or
    at a non-finite error (keeping the last finite iterate)."""
    prev = None
    for it in range(1, max_iter + 1):
        new_factors, new_core, err = step(core, factors)
        if not math.isfinite(err):
            info.stop_reason = "non-finite values; returning the last finite iterate"
            break
        factors, core = list(new_factors), new_core
        if record(info, it, err, prev, tol, timer, report):
            break
        prev = err
    report.close()
    return core, factors


def record(info: TuckerInfo, it: int, err: float, prev: float | None, tol: float,
           timer: Timer, report: Reporter) -> bool:
    """Record sweep `it` of a Tucker fit in `info` and report it; True when the error
    changed by less than `tol` (converged)."""
    info.iterations = it
    info.errors.append(err)
    info.wall_time = timer()
    change = abs(prev - err) if prev is not None else float("inf")
    report(info, f"{it:4d}  error {err:.6e}  change {change:.2e}  {timer():.2f} s")
    if tol > 0 and change < tol:
        info.converged = True
        info.stop_reason = f"error changed by {change:.2e} < tol"
        return True
    return False


def finish(core: Any, factors: list, info: TuckerInfo, xp: Any, where: str, *,
           scale: float | None, half: bool = False, max_iter: int = 0, tol: float = 0.0,
           return_info: bool = False) -> Any:
    """The end of a Tucker fit: the stop reason and :class:`~tnlib.ConvergenceWarning` of
    one that stopped short (not for ``tol=0``, which asks for every sweep, unless the
    sweeps turned non-finite), the core at the data's scale, float16 data's result cast
    back."""
    if not info.converged:
        info.stop_reason = info.stop_reason or f"max_iter={max_iter} sweeps reached"
        if tol > 0 or info.stop_reason.startswith("non-finite"):
            last = f", relative error {info.errors[-1]:.3e}" if info.errors else ""
            warn_not_converged(where, f"stopped without converging ({info.stop_reason}; "
                               f"tol={tol:g}){last}")
    core = scaled_back(core, scale, xp, where)
    if half:  # a core entry past float16's range is a NonFiniteError, not inf
        with np.errstate(over="ignore"):
            core = within_range(xp.astype(core, "float16"), xp, where, "a core entry")
        factors = [xp.astype(f, "float16") for f in factors]
    result = TuckerTensor._from(core, factors, xp)
    return (result, info) if return_info else result


def _relative_error(a: Any, core: Any, factors: list, norm_a: float, core_norm: float,
                    xp: Any) -> float:
    """``‖a - X‖ / ‖a‖`` for the Tucker tensor ``X`` of orthonormal `factors`.

    ``‖a‖^2 - ‖core‖^2`` is exact in exact arithmetic, but below ``~1e-4`` of
    ``‖a‖`` it is all rounding error (the difference of two nearly equal
    squares): there the residual is formed explicitly, one more pass over `a`.
    """
    if norm_a == 0:
        return 0.0
    gap = max(norm_a**2 - core_norm**2, 0.0)
    if gap > 1e-8 * norm_a**2:
        return math.sqrt(gap) / norm_a
    full = multi_mode_product(core, list(factors), list(range(len(factors))))
    return float(xp.item(xp.norm(a - full))) / norm_a


def _leading(y: Any, k: int, rank: int, xp: Any) -> Any:
    """Leading `rank` left singular vectors of the mode-k unfolding.

    By an SVD of the unfolding itself, not an eigendecomposition of its Gram
    matrix: the Gram squares the singular values, so directions whose
    singular values are below ``sqrt(eps)`` of the largest come out with
    errors of order one, and the approximation stalls near ``1e-8``.
    """
    m = unfold(y, k)
    u, _, _ = xp.svd(m)
    return u[:, :rank]


def _sweep(a: Any, factors: list, ranks: tuple, h: int, xp: Any) -> tuple[list, Any, Any]:
    factors = list(factors)
    d = len(factors)
    groups = (list(range(h)), list(range(h, d)))
    y = None
    for group, other in (groups, groups[::-1]):
        part = multi_mode_product(a, [xp.conj(xp.transpose(factors[j])) for j in other], other)
        for k in group:
            rest = [j for j in group if j != k]
            y = multi_mode_product(part, [xp.conj(xp.transpose(factors[j])) for j in rest],
                                   rest)
            factors[k] = _leading(y, k, ranks[k], xp)
    last = d - 1
    core = multi_mode_product(y, [xp.conj(xp.transpose(factors[last]))], [last])
    return factors, core, xp.norm(core)
