"""CP by first-order optimization: L-BFGS on the factors, with missing data or any loss.

ALS solves each factor's least-squares problem exactly, which needs the loss to
be a (weighted) least-squares fit of fully observed data. :func:`cp_gradient`
instead minimizes over all factors at once with limited-memory BFGS (two-loop
recursion, Armijo backtracking, Nocedal & Wright 2006, Alg. 7.4/7.5), which
covers

* tensor completion -- ``mask`` marks the observed entries, the loss is
  ``½‖mask ∘ (x - a)‖² / ‖mask ∘ a‖²`` and its gradient is computed in closed
  form, ``∂/∂A_k = R_(k) conj(KR(A_j, j ≠ k))`` with ``R = mask ∘ (x - a)``, on
  every backend (the CP-WOPT method of Acar, Dunlavy, Kolda & Mørup 2011);
* any differentiable ``loss(x)`` of the model tensor, differentiated by the
  backend's automatic differentiation (torch, JAX, TensorFlow).

The model tensor is formed densely at every evaluation, so the cost per
iteration is a few passes over a dense tensor of the data's size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from .._info import Timer, compiled, read_floats, warn_not_converged
from .._progress import Reporter
from .._validation import (
    as_array,
    check_eps,
    check_finite,
    check_positive_int,
    checked_scalar,
    float_data,
    times_pow2,
    unit_data,
)
from ..backends import backend_of
from ..errors import ArgumentError, BackendError, EvaluationError, ShapeError
from ..linalg.tensor_ops import real_dot
from ._fit import CPInfo, cast_cp
from .als import _initialize
from .tensor import CPTensor

__all__ = ["cp_gradient"]

_LETTERS = "abcdefghijklmnopqrstuvwxy"


def cp_gradient(a: Any, rank: int, mask: Any = None, loss: Callable | None = None,
                max_iter: int = 500, tol: float = 1e-10, init: Any = "random",
                seed: Any = None, memory: int = 10, return_info: bool = False,
                callback: Callable | None = None, verbose: bool = False,
                progress: bool = False) -> Any:
    """Fit a rank-`rank` CP model by L-BFGS, for missing data or a custom loss.

    Parameters
    ----------
    a : array
        Data tensor (for ``loss``: any tensor of the model's shape; only its
        shape, dtype and backend are used unless `loss` reads it).
    rank : int
    mask : array, optional
        Same shape as `a`, 1 where an entry is observed and 0 where it is
        missing (bool or 0/1 floats). Default: everything observed.
    loss : callable, optional
        ``loss(x) -> scalar`` of the dense model tensor ``x``, differentiable
        by the backend (torch, JAX, TensorFlow). Default: the least-squares fit
        ``½‖mask ∘ (x - a)‖² / ‖mask ∘ a‖²`` with its closed-form gradient (all
        backends).
    max_iter : int, optional
        L-BFGS iterations.
    tol : float, optional
        Stop when an iteration lowers the loss by less than ``tol`` times its
        value (or when the gradient vanishes).
    init : {"random", "svd"} or CPTensor, optional
        Starting factors (as in :func:`cp_als`).
    seed : int, optional
    memory : int, optional
        Number of L-BFGS correction pairs kept.
    return_info : bool, optional
        Also return a :class:`CPInfo`; ``errors`` holds, per iteration, the
        relative error on the observed entries (default loss) or the loss.
    callback : callable, optional
        ``callback(info)`` after each iteration.
    verbose : bool, optional
        One line per iteration: error (or loss), step, seconds.
    progress : bool, optional
        A progress bar over the iterations (needs tqdm).

    Returns
    -------
    CPTensor (normalized), or (CPTensor, CPInfo)

    Raises
    ------
    ShapeError
        If `mask` does not have the shape of `a`.
    BackendError
        If `loss` is given on a backend without automatic differentiation.

    Warns
    -----
    ConvergenceWarning
        When `max_iter` is reached or the line search fails first.

    Examples
    --------
    Complete a rank-2 tensor from 40% of its entries:

    >>> import numpy as np
    >>> from tnlib import cp
    >>> x = cp.random((10, 11, 12), 2, seed=5).full()
    >>> mask = np.random.default_rng(1).random(x.shape) < 0.4
    >>> y = cp.cp_gradient(x * mask, 2, mask=mask, seed=0, tol=1e-14, max_iter=2000)
    >>> bool(np.linalg.norm(y.full() - x) < 1e-5 * np.linalg.norm(x))
    True
    """
    xp = backend_of(a) if mask is None else backend_of(a, mask)
    a = float_data(as_array(a, xp, "cp_gradient"), xp, "cp_gradient")
    half = xp.dtype_name(a) == "float16"
    if half:  # fitted in float32, returned in float16 (see cast_cp)
        a = xp.astype(a, "float32")
        if isinstance(init, CPTensor):
            init = cast_cp(init, "float32", xp, "cp_gradient")
    shape = xp.shape(a)
    if len(shape) < 2:
        raise ShapeError(f"cp_gradient: a must have at least 2 axes, got shape {shape}")
    if len(shape) > len(_LETTERS):
        raise ShapeError(f"cp_gradient: at most {len(_LETTERS)} axes, got {len(shape)}")
    rank = check_positive_int(rank, "cp_gradient", "rank")
    max_iter = check_positive_int(max_iter, "cp_gradient", "max_iter")
    memory = check_positive_int(memory, "cp_gradient", "memory")
    tol = check_eps(tol, "cp_gradient", "tol")
    if mask is not None:
        if tuple(xp.shape(mask)) != tuple(shape):
            raise ShapeError(f"cp_gradient: mask has shape {xp.shape(mask)}, expected the "
                             f"shape of a, {shape}")
        if loss is not None:
            raise ArgumentError("cp_gradient: give mask or loss, not both (a custom loss "
                                "can apply its own mask)")
        mask = xp.astype(mask, xp.dtype(a))
        check_finite(mask, xp, "cp_gradient", "mask")
        # entries that are not observed may hold anything (NaN for missing, typically)
        a = xp.where(mask != 0, a, xp.zeros_like(a))
    if loss is not None:
        if not callable(loss):
            raise ArgumentError(f"cp_gradient: loss must be callable, got {type(loss).__name__}")
        if xp.is_complex(a):
            raise ArgumentError("cp_gradient: a custom loss needs real data (frameworks differ "
                                "in their complex gradients); the default loss takes complex")
        if not xp.supports_grad:
            raise BackendError(f"cp_gradient: a custom loss needs automatic differentiation, "
                               f"which backend {xp.name!r} does not have; use torch, jax or "
                               f"tensorflow (the default least-squares loss works everywhere)")
        check_finite(a, xp, "cp_gradient")
        objective = _autodiff_objective(loss, shape, rank, xp)
        scale = 1.0
    else:
        # the fit runs on data of unit mean square: the random start and L-BFGS's first
        # steps are of unit size (data of 1e3 stopped at 69 % error, of 1e-20 diverged)
        a, scale, norm = _unit_rms(a, mask, xp)
        if scale != 1.0 and isinstance(init, CPTensor):
            init = CPTensor._from(init.weights / scale, list(init.factors), xp)
        objective = _least_squares_objective(a, mask, rank, norm, xp)  # None: all zero

    factors = _initialize(a, rank, init, seed, xp, "cp_gradient")
    if objective is None:  # fitted exactly by zero weights, as cp_als does for the zero tensor
        zero = CPTensor._from(xp.zeros((rank,), dtype=xp.dtype(a), device=xp.device(a)),
                              factors, xp).normalize()
        zero = cast_cp(zero, "float16", xp, "cp_gradient") if half else zero
        info = CPInfo(iterations=0, errors=[0.0], converged=True,
                      stop_reason="the observed entries of a are all zero: zero weights are exact")
        return (zero, info) if return_info else zero
    theta = xp.concatenate([xp.reshape(f, (-1,)) for f in factors])

    info = CPInfo()
    timer = Timer()
    report = Reporter("cp_gradient", max_iter, verbose, progress, callback)
    theta, f = _lbfgs(objective, theta, max_iter, tol, memory, loss is None, info, report, timer,
                      xp)
    report.close()
    factors = _unflat(theta, shape, rank, xp)
    weights = xp.full((rank,), scale, dtype=xp.dtype(factors[0]), device=xp.device(factors[0]))
    result = CPTensor._from(weights, factors, xp).normalize()
    if half:
        result = cast_cp(result, "float16", xp, "cp_gradient")
    info.wall_time = timer()
    if not info.converged:
        if not info.stop_reason:
            info.stop_reason = f"max_iter={max_iter} iterations reached"
        warn_not_converged("cp_gradient", f"stopped without converging ({info.stop_reason}; "
                           f"last value {info.errors[-1] if info.errors else f:.3e})")
    return (result, info) if return_info else result


def _lbfgs(objective: _Objective, theta: Any, max_iter: int, tol: float, memory: int,
           relative: bool, info: CPInfo, report: Reporter, timer: Timer,
           xp: Any) -> tuple[Any, float]:
    """L-BFGS from `theta` (two-loop recursion, Armijo backtracking); returns the last
    iterate and its objective value, and fills `info`. Each trial point's value comes
    back in one read with the quantities the next decisions need (the slope along the
    direction, the curvature pair's products, the new gradient's norm): one read per
    iteration when the full step is taken, as it nearly always is."""
    fg, value = objective
    f, g = fg(theta)
    f, gg = _scalars(xp, f, real_dot(xp, g, g))
    f = value(f)
    if not (math.isfinite(f) and math.isfinite(gg)):  # a custom loss: nothing to descend
        what = "the loss at the start is" if not math.isfinite(f) else \
            "the gradient of the loss at the start has non-finite entries; the loss is"
        raise EvaluationError(f"cp_gradient: {what} {f}; expected finite values")
    s_mem = y_mem = None  # correction pairs stacked as rows, oldest first
    pairs = 0
    gnorm0 = math.sqrt(max(gg, 0.0))
    step0 = 1.0 / max(gnorm0, 1e-300)
    for it in range(1, max_iter + 1):
        d = compiled(xp, _two_loop, pairs=pairs)(g, s_mem, y_mem) if pairs else -g
        t = 1.0 if pairs else min(1.0, step0)
        failed = 0
        while True:  # Armijo backtracking; the full step is nearly always taken, so
            trial = theta + t * d  # each trial computes the gradient along
            f_new, g_new = fg(trial)
            s, y = t * d, g_new - g
            f_new, slope, sy, ss, yy, gg = _scalars(
                xp, f_new, real_dot(xp, g, d), real_dot(xp, s, y), real_dot(xp, s, s),
                real_dot(xp, y, y), real_dot(xp, g_new, g_new))
            f_new = value(f_new)
            if pairs and not slope < 0:  # lost descent (rounding): restart from the gradient
                s_mem = y_mem = None
                pairs = 0
                d, t = -g, min(1.0, step0)
                continue
            if math.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
                break
            failed += 1
            if failed == 40:
                info.stop_reason = "the line search found no decrease (at the rounding level)"
                return theta, f
            t *= 0.5
        if sy > 1e-12 * math.sqrt(ss * yy):
            keep = pairs if pairs < memory else memory - 1
            s_mem = s[None] if keep == 0 else xp.concatenate([s_mem[pairs - keep:], s[None]])
            y_mem = y[None] if keep == 0 else xp.concatenate([y_mem[pairs - keep:], y[None]])
            pairs = keep + 1
        decrease = f - f_new
        theta, f, g = trial, f_new, g_new
        info.iterations = it
        info.errors.append(math.sqrt(max(2.0 * f, 0.0)) if relative else f)
        info.wall_time = timer()
        report(info, f"{it:4d}  {'error' if relative else 'loss'} "
                     f"{info.errors[-1]:.3e}  step {t:.2e}  {timer():.2f} s")
        gnorm = math.sqrt(max(gg, 0.0))
        if decrease <= tol * max(abs(f), 1e-300) or gnorm <= 1e-14 * gnorm0 or f == 0:
            info.converged = True
            info.stop_reason = (f"loss decreased by {decrease:.2e}, below tol times its value"
                                if gnorm > 1e-14 * gnorm0 and f != 0 else "gradient vanished")
            break
    return theta, f


def _model(factors: list, xp: Any) -> Any:
    """Dense tensor of unit-weight factors."""
    d = len(factors)
    subs = ",".join(c + "z" for c in _LETTERS[:d])
    return xp.einsum(subs + "->" + _LETTERS[:d], *factors)


def _ls_residual(factors: list, a: Any, mask: Any, masked: bool, xp: Any) -> Any:
    r = _model(factors, xp) - a
    return r * mask if masked else r


def _unflat(theta: Any, shape: tuple, rank: int, xp: Any) -> list:
    out, start = [], 0
    for n in shape:
        out.append(xp.reshape(theta[start:start + n * rank], (n, rank)))
        start += n * rank
    return out


def _ls_value_and_grad(theta: Any, a: Any, mask: Any, masked: bool, shape: tuple, rank: int,
                       xp: Any) -> tuple[Any, Any]:
    """``‖R‖²`` and the flat gradient of ``½‖R‖²``: ``R_(k) conj(KR(A_j, j ≠ k))`` per factor."""
    factors = _unflat(theta, shape, rank, xp)
    r = _ls_residual(factors, a, mask, masked, xp)
    d = len(factors)
    grads = []
    for k in range(d):
        others = [j for j in range(d) if j != k]
        subs = (_LETTERS[:d] + "," + ",".join(_LETTERS[j] + "z" for j in others)
                + "->" + _LETTERS[k] + "z")
        g = xp.einsum(subs, r, *[xp.conj(factors[j]) for j in others])
        grads.append(xp.reshape(g, (-1,)))
    return xp.real(xp.sum(xp.conj(r) * r)), xp.concatenate(grads)


def _unit_rms(a: Any, mask: Any, xp: Any) -> tuple[Any, float, float]:
    """`a` divided by a scale that brings the root mean square of its observed entries to
    [1/sqrt(2), sqrt(2)), the scale, and the norm of the scaled observed entries. The scale
    is a power of two (exact) after the largest magnitude if that is extreme
    (:func:`unit_data`, which also refuses NaN/inf). Data of unit size is left as it is.
    Two reads on an accelerator (one for the mask's count and the norm)."""
    a, peak, _ = unit_data(a, xp, "cp_gradient", norm=False)
    data = a if mask is None else a * mask
    if mask is None:
        count, nrm = math.prod(xp.shape(a)), float(xp.item(xp.norm(data)))
    else:  # with the number of entries that are neither 0 nor 1 (one read)
        m = xp.real(mask)
        count, nrm, other = read_floats(xp, xp.sum(m), xp.norm(data),
                                        xp.sum(xp.astype((m != 0) & (m != 1), xp.dtype(m))))
        if other:
            raise ArgumentError(f"cp_gradient: mask must hold 0 (missing) and 1 (observed), "
                                f"got {int(other)} other values")
        if count == 0:
            raise ArgumentError("cp_gradient: mask marks no entry as observed; there is "
                                "nothing to fit")
    if nrm == 0 or count == 0:  # all zero: the objective says so
        return a, 1.0 if peak is None else peak, 0.0
    exponent = round(math.log2(nrm / math.sqrt(count)))
    scale = (1.0 if peak is None else peak) * math.ldexp(1.0, exponent)
    # scaling by a power of two scales every square, their sum and its root exactly
    return times_pow2(a, -exponent, xp), scale, math.ldexp(nrm, -exponent)


def _least_squares_objective(a: Any, mask: Any, rank: int, norm: float,
                             xp: Any) -> _Objective | None:
    """``0.5 ‖mask * (a - model)‖^2 / norm^2`` and its gradient, `norm` being the norm of
    the observed entries; None where that is zero."""
    scale = norm**2
    if scale == 0:
        return None
    masked = mask is not None
    m = mask if masked else a  # unused when not masked; keeps one signature
    static = {"masked": masked, "shape": tuple(xp.shape(a)), "rank": rank}
    fg_fn = compiled(xp, _ls_value_and_grad, **static)

    def fg(theta: Any) -> tuple[Any, Any]:
        f, g = fg_fn(theta, a, m)
        return f, g / scale

    return _Objective(fg, lambda f: 0.5 * f / scale)


def _autodiff_objective(loss: Callable, shape: tuple, rank: int, xp: Any) -> _Objective:
    def objective(x: CPTensor) -> Any:
        return checked_scalar(loss(_model(list(x.factors), xp)), xp, "cp_gradient", "loss")

    vg = xp.value_and_grad(objective)

    def fg(theta: Any) -> tuple[Any, Any]:
        factors = _unflat(theta, shape, rank, xp)
        ones = xp.ones((xp.shape(factors[0])[1],), dtype=xp.dtype(factors[0]),
                       device=xp.device(factors[0]))
        f, grad = vg(CPTensor._from(ones, factors, xp))
        return f, xp.concatenate([xp.reshape(g, (-1,)) for g in grad.factors])

    return _Objective(fg, float)


class _Objective(NamedTuple):
    """The objective of the fit: ``fg(theta)`` gives its raw value (a 0-d array, left on
    the device) and its gradient; ``value(v)`` turns the raw value, once read, into the
    objective's."""

    fg: Callable[[Any], tuple[Any, Any]]
    value: Callable[[float], float]


def _scalars(xp: Any, f: Any, *values: Any) -> list[float]:
    """The objective's raw value `f` and the real 0-d `values`, in one read."""
    return read_floats(xp, xp.astype(xp.real(f), xp.dtype(values[0])), *values)


def _two_loop(g: Any, s_mem: Any, y_mem: Any, pairs: int, xp: Any) -> Any:
    """``-H g`` by the L-BFGS two-loop recursion over the stacked pairs (oldest first)."""
    q = g
    if pairs == 0:
        return -q
    rhos = [1.0 / real_dot(xp, s_mem[i], y_mem[i]) for i in range(pairs)]
    alphas = [None] * pairs
    for i in reversed(range(pairs)):
        alphas[i] = rhos[i] * real_dot(xp, s_mem[i], q)
        q = q - xp.astype(alphas[i], xp.dtype(q)) * y_mem[i]
    gamma = real_dot(xp, s_mem[-1], y_mem[-1]) / real_dot(xp, y_mem[-1], y_mem[-1])
    q = xp.astype(gamma, xp.dtype(q)) * q
    for i in range(pairs):
        beta = rhos[i] * real_dot(xp, y_mem[i], q)
        q = q + xp.astype(alphas[i] - beta, xp.dtype(q)) * s_mem[i]
    return -q
