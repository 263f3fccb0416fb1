"""What every CP fit shares: its data prepared once, its start, the record of its sweeps,
its result and its stopping warning (CP-ALS, HALS, sparse ALS)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._info import IterationInfo, Timer, warn_not_converged
from .._progress import Reporter
from .._validation import multiway_data, scaled_back, unit_data, within_range
from ..backends import backend_of
from ..errors import ArgumentError, ShapeError
from .tensor import CPTensor

__all__ = ["CPInfo", "FitData", "cast_cp", "fit_data", "fit_loop", "fit_result",
           "record_sweep", "start_factors", "stopped_short", "zero_fit"]


@dataclass
class CPInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of the CP fits (:func:`~tnlib.cp.cp_als`,
    :func:`~tnlib.cp.cp_hals`, :func:`~tnlib.cp.cp_als_sparse`).

    ``errors`` holds the relative error ``‖a - x‖ / ‖a‖`` after each iteration. It
    comes from ``‖a‖² - 2 Re<a, x> + ‖x‖²``, which cancels below about ``sqrt(eps)``
    of the dtype (1e-7 in float64, 3e-3 in float32); such an error is recomputed from the
    residual itself (about one sweep's product) -- except, with ``tol=0`` and nothing
    watching the iterations, for all but the last sweep, where no decision needs it.

    Attributes
    ----------
    max_weight : list of float
        Largest component weight after each iteration (diverging weights signal
        CP degeneracy).
    congruence : float
        Smallest off-diagonal entry of the final congruence matrix
        ``⊙_k Â_k^H Â_k`` (unit columns); near -1 means two components cancel
        each other (degeneracy).
    restarts : int
        1 when the SVD start was degenerate (a factor collapsed to zero in the
        first sweeps) and the fit restarted from the seeded random start.
    """

    max_weight: list[float] = field(default_factory=list)
    congruence: float = float("nan")
    restarts: int = 0


@dataclass
class FitData:
    """The data of a CP fit, prepared once (:func:`fit_data`)."""

    xp: Any
    a: Any            # at unit scale, float32 for float16 data
    shape: tuple
    init: Any         # a CPTensor start rescaled (and cast) as `a` was
    half: bool        # float16 data: fitted in float32, returned in float16
    scale: Any        # what unit_data took out (None: nothing)
    norm_a: Any
    h: int            # the mode split of the two partial MTTKRPs
    x_mat: Any        # a as (prod shape[:h], prod shape[h:]) ...
    x_mat_t: Any      # ... and its transpose, copied once


def fit_data(a: Any, init: Any, where: str) -> FitData:
    """The checks and preparation CP-ALS and HALS share: an array of at least two axes,
    as floats; float16 fitted in float32 (the error formula, a difference of squared
    norms, resolves only ~3 % in float16); data near the float limits at unit scale
    (Grams and normal equations would overflow), a CPTensor start rescaled alike; the
    balanced matricization and its transpose (so no sweep pays for a transpose)."""
    xp = backend_of(a)
    a = multiway_data(a, xp, where)
    shape = xp.shape(a)
    half = xp.dtype_name(a) == "float16"
    if half:
        a = xp.astype(a, "float32")
        if isinstance(init, CPTensor):
            init = cast_cp(init, "float32", xp, where)
    a, scale, norm_a = unit_data(a, xp, where)
    if scale is not None and isinstance(init, CPTensor):
        init = CPTensor._from(init.weights / scale, list(init.factors), xp)
    h = _split(shape)
    x_mat = xp.reshape(a, (math.prod(shape[:h]), -1))
    return FitData(xp, a, shape, init, half, scale, norm_a, h, x_mat,
                   xp.copy(xp.transpose(x_mat)))


def zero_fit(data: FitData, factors: list, rank: int, where: str) -> tuple:
    """The exact fit of the zero tensor: zero weights on the start's factors."""
    xp, a = data.xp, data.a
    zero = CPTensor._from(xp.zeros((rank,), dtype=xp.dtype(a), device=xp.device(a)),
                          factors, xp).normalize()
    info = CPInfo(iterations=0, errors=[0.0], converged=True,
                  stop_reason="a is the zero tensor: zero weights are exact")
    return (cast_cp(zero, "float16", xp, where) if data.half else zero), info


def fit_result(data: FitData, weights: Any, factors: list, rank: int, where: str
               ) -> CPTensor:
    """The fitted CPTensor: unit columns, the norms in the weights (ones if no sweep was
    finite), at the data's scale and dtype."""
    xp, a = data.xp, data.a
    if weights is None:
        weights = xp.ones((rank,), dtype=xp.dtype(a), device=xp.device(a))
    result = CPTensor._from(weights, factors, xp).normalize()
    if data.scale is not None:
        result = CPTensor._from(scaled_back(result.weights, data.scale, xp, where),
                                result.factors, xp)
    return cast_cp(result, "float16", xp, where) if data.half else result


def fit_loop(data: FitData, factors: list, step: Callable, rank: int, max_iter: int,
             tol: float, where: str, return_info: bool, verbose: bool, progress: bool,
             callback: Callable | None) -> Any:
    """The sweeps of a CP fit and its end (HALS, sparse ALS): ``step(factors, weights)``
    gives the next factors, weights, ``‖a - x‖²`` and the largest weight; stops when the
    error settles to `tol`, after `max_iter` sweeps or at a non-finite error (keeping the
    last finite iterate); returns the CPTensor (and the info), warning if it stopped
    short."""
    info, timer = CPInfo(), Timer()
    report = Reporter(where, max_iter, verbose, progress, callback)
    weights, prev_err = None, None
    for it in range(1, max_iter + 1):
        new_factors, new_weights, err_sq, max_weight = step(factors, weights)
        err = math.sqrt(max(err_sq, 0.0)) / data.norm_a
        if not math.isfinite(err):
            info.stop_reason = "non-finite values; returning the last finite iterate"
            break
        factors, weights = new_factors, new_weights
        if record_sweep(info, it, err, max_weight, prev_err, tol, timer, report):
            break
        prev_err = err
    report.close()
    result = fit_result(data, weights, factors, rank, where)
    info.wall_time = timer()
    stopped_short(info, max_iter, tol, rank, where)
    return (result, info) if return_info else result


def record_sweep(info: CPInfo, it: int, err: float, max_weight: float, prev_err: Any,
                 tol: float, timer: Timer, report: Reporter) -> bool:
    """Record sweep `it` in `info` and report it; True when the error changed by less
    than `tol` (converged)."""
    info.iterations = it
    info.errors.append(err)
    info.max_weight.append(max_weight)
    change = abs(prev_err - err) if prev_err is not None else float("inf")
    info.wall_time = timer()
    report(info, f"{it:4d}  error {err:.3e}  change {change:.2e}  "
                 f"max weight {max_weight:.3g}  {timer():.2f} s")
    if tol > 0 and change < tol:
        info.converged = True
        info.stop_reason = f"error changed by {change:.2e} < tol"
        return True
    return False


def cast_cp(x: CPTensor, dtype: str, xp: Any, where: str) -> CPTensor:
    """`x` in `dtype`. CP-ALS and the CP gradient fit float16 data in float32 (their
    error and line-search quantities are differences of squared norms, which float16
    resolves to a few percent and overflows) and return float16: weights past its range
    are a NonFiniteError, not inf."""
    with np.errstate(over="ignore"):  # (NumPy's warning; the error below says more)
        weights = xp.astype(x.weights, dtype)
    if dtype == "float16":
        weights = within_range(weights, xp, where, "a weight")
    return CPTensor._from(weights, [xp.astype(f, dtype) for f in x.factors], xp)


def _split(shape: tuple) -> int:
    """Mode split ``h`` making ``prod(shape[:h])`` and ``prod(shape[h:])`` most balanced."""
    logs = np.cumsum(np.log(shape))
    total = logs[-1]
    return int(np.argmin(np.abs(2 * logs[:-1] - total))) + 1


def start_factors(like: Any, shape: tuple, rank: int, init: Any, rng: Any, xp: Any,
                  where: str, choices: tuple = ("random",)) -> list:
    """The start of a CP fit that needs no data: a CPTensor (its weights in the first
    factor) or seeded Gaussian factors (``init="random"``), with the dtype and device of
    `like`; anything else is an ArgumentError listing `choices`."""
    dt, dev = xp.dtype(like), xp.device(like)
    if isinstance(init, CPTensor):
        if init.shape != shape or init.rank != rank:
            raise ShapeError(f"{where}: init has shape {init.shape} and rank {init.rank}, "
                             f"expected {shape} and {rank}")
        backend_of(like, init)
        first = init.factors[0] * xp.astype(init.weights, dt)[None, :]
        return [first, *init.factors[1:]]
    if not isinstance(init, str) or init not in choices:
        names = ", ".join(repr(c) for c in choices)
        raise ArgumentError(f"{where}: init must be {names} or a CPTensor, got "
                            f"{type(init).__name__ if not isinstance(init, str) else repr(init)}")
    return [xp.random_normal((n, rank), seed=rng, dtype=dt, device=dev) for n in shape]


def stopped_short(info: CPInfo, max_iter: int, tol: float, rank: int, where: str) -> None:
    """The stop reason of a CP fit that did not converge, and its warning (not for
    ``tol=0``, which asks for every sweep, unless the sweeps turned non-finite)."""
    if info.converged:
        return
    if not info.stop_reason:
        info.stop_reason = f"max_iter={max_iter} sweeps reached"
    if tol > 0 or info.stop_reason.startswith("non-finite"):
        _warn(info, tol, rank, where)


def _warn(info: CPInfo, tol: float, rank: int, where: str = "cp_als") -> None:
    """The ConvergenceWarning of a CP fit that stopped short; with the degeneracy hint
    when the components cancel while their weights grow (a NaN congruence never does)."""
    msg = f"stopped without converging ({info.stop_reason}; tol={tol:g})"
    if info.errors:
        msg += f", relative error {info.errors[-1]:.3e}"
    w = info.max_weight
    if info.congruence < -0.8 and len(w) > 3 and w[-1] > 1.05 * w[len(w) // 2]:
        msg += (f"; components cancel each other (congruence {info.congruence:.4f}) while "
                f"their weights grow (max {w[-1]:.3g}, from {w[len(w) // 2]:.3g} halfway): "
                f"the tensor may have no best rank-{rank} "
                f"approximation (CP degeneracy); try l2_reg > 0 or a lower rank")
    warn_not_converged(where, msg)
