"""Riemannian gradient descent, conjugate gradients and trust regions on fixed TT-rank.

The three methods share one problem record (:class:`Problem`: value,
Riemannian gradient, optional exact step and Hessian-vector product), the
TT-SVD retraction and vector transport by projection, so that the completion
solvers reuse the same loops with their sparse gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._info import IterationInfo, Timer, read_floats, warn_not_converged
from .._progress import Reporter
from .._validation import check_option, check_positive_int
from ..errors import ArgumentError, EvaluationError, ShapeError
from ..tt.tensor import TTTensor
from .autodiff import hessian_vector_product, riemannian_grad
from .project import as_tangent, project, project_each, retract
from .tangent import TangentVector, frame_norm_scale, frame_of

__all__ = ["MinimizeInfo", "Problem", "minimize"]


@dataclass
class MinimizeInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of :func:`minimize` and the completion solvers.

    ``errors`` holds the loss after each iteration (as ``losses``).

    Attributes
    ----------
    losses : list of float
        ``f`` at the start (entry 0) and after every iteration.
    grad_norms : list of float
        Riemannian gradient norm at the same points.
    evaluations : int
        Evaluations of ``f`` (line-search trials included).
    gradient_evaluations : int
    hessian_products : int
        Hessian-vector products (``"rtr"``).
    ranks : tuple of int
        TT-ranks of the result.
    method : str
    """

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    evaluations: int = 0
    gradient_evaluations: int = 0
    hessian_products: int = 0
    ranks: tuple = ()
    method: str = ""


class Problem:
    """A smooth function on the fixed-rank TT manifold, as the optimizers see it.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` for a TTTensor `x`.
    egrad : callable, optional
        Euclidean gradient ``egrad(x)`` (TTTensor, dense array or tangent
        vector); without it the gradient comes from autodiff.
    hess : callable, optional
        ``hess(x, g, v)``: Riemannian Hessian at `x` (gradient `g`) applied to
        `v`. Default: autodiff (:func:`hessian_vector_product`) where the
        backend has it, else finite differences of the gradient along the
        retraction.
    step : callable, optional
        ``step(x, eta) -> float or None``: a step along `eta` that the line
        search tries first (e.g. the exact minimizer for quadratic costs).
    """

    def __init__(self, f: Callable, egrad: Callable | None = None, hess: Callable | None = None,
                 step: Callable | None = None) -> None:
        self.f, self.egrad, self._hess, self._step = f, egrad, hess, step
        self.evaluations = 0
        self.gradient_evaluations = 0
        self.hessian_products = 0

    def value(self, x: TTTensor) -> float:
        self.evaluations += 1
        return _real_float(x, self.f(x))

    def value_grad(self, x: TTTensor) -> tuple[float, TangentVector]:
        self.evaluations += 1
        self.gradient_evaluations += 1
        value, g = riemannian_grad(self.f, x, self.egrad)
        return _real_float(x, value), g

    def step(self, x: TTTensor, eta: TangentVector) -> float | None:
        return None if self._step is None else self._step(x, eta)

    def hess(self, x: TTTensor, g: TangentVector, v: TangentVector) -> TangentVector:
        self.hessian_products += 1
        if self._hess is not None:
            return as_tangent(g.frame, self._hess(x, g, v))
        if self.egrad is None and x.backend.supports_grad:
            return hessian_vector_product(self.f, x, v)
        # finite difference of the gradient field along the retraction, transported back
        vn = _norm(v)
        if vn == 0.0:
            return 0.0 * v
        h = 2.0 ** -14 * max(1.0, _norm_point(g)) / vn
        y = retract(x, v, h)
        _, gy = riemannian_grad(self.f, y, self.egrad)
        self.gradient_evaluations += 1
        return (project(g.frame, gy) - g) / h


def minimize(f: Callable[[TTTensor], Any], x0: TTTensor, method: str = "rcg",
             grad: Callable | None = None, max_iter: int = 100, tol: float = 1e-8,
             ftol: float = 1e-14, hess: Callable | None = None, callback: Callable | None = None,
             verbose: bool = False, return_info: bool = False, manifold: str = "fixed-rank",
             max_rank: int | None = None, progress: bool = False, **options: Any) -> Any:
    """Minimize `f` over tensors with the TT-ranks of `x0` (fixed-rank matrices when ``d = 2``).

    Parameters
    ----------
    f : callable
        ``f(x) -> 0-d array`` for a TTTensor `x`. For autodiff (torch, JAX,
        TensorFlow) write it with tnlib or framework operations on the cores.
    x0 : TTTensor
        Starting point; its ranks fix the manifold. A 2-mode `x0` is a matrix
        ``x0.full()`` of rank ``x0.ranks[1]`` (Vandereycken's geometry).
    method : {"rcg", "rgd", "rtr"}
        Riemannian conjugate gradients (Polak-Ribiere+ with Powell restarts,
        or ``beta="fr"``), gradient descent, or the trust-region method with
        truncated CG on Hessian-vector products (second-order convergence).
    grad : callable, optional
        Euclidean gradient ``grad(x)`` (a TTTensor, dense array or tangent
        vector); required on NumPy and CuPy, optional elsewhere (autodiff).
    max_iter : int
    tol : float
        Stop when the Riemannian gradient norm is ``<= tol`` times its initial value.
    ftol : float
        Stop when a step changes ``f`` by less than ``ftol * max(|f|, tiny)``.
    hess : callable, optional
        ``hess(x, g, v)``, Riemannian Hessian-vector product for ``"rtr"``.
    callback : callable, optional
        ``callback(info)`` after every iteration.
    verbose : bool
        One line per iteration: iteration, f, gradient norm, step, seconds.
    return_info : bool
        Also return a :class:`MinimizeInfo`.
    manifold : {"fixed-rank", "desingularized"}
        ``"desingularized"`` (2-mode `x0` only, ``method="rcg"``): optimize
        over matrices of rank *at most* ``x0.ranks[1]`` through the
        Khrulkov-Oseledets desingularization, which stays well conditioned
        when the optimum has lower rank (see
        :mod:`tnlib.riemannian.desingularized`).
    max_rank : int, optional
        Rank-adaptive variant: after each fixed-rank run, raise the ranks by
        one at the bonds where the normal part of the Euclidean gradient
        promises a decrease (:mod:`tnlib.riemannian.adaptive`), up to
        `max_rank`, and continue; stops when no bond may or should grow.
    progress : bool
        A progress bar over the iterations (needs tqdm).
    **options
        ``beta`` ("pr" or "fr", for rcg); ``step`` (``step(x, eta)``, a first
        trial step, e.g. exact for quadratics); ``radius`` (initial trust radius).

    Returns
    -------
    TTTensor, or ``(TTTensor, MinimizeInfo)``

    References
    ----------
    P.-A. Absil, R. Mahony, R. Sepulchre, *Optimization Algorithms on Matrix
    Manifolds* (2008), Ch. 4 and 7; B. Vandereycken, "Low-rank matrix
    completion by Riemannian optimization", SIOPT 23 (2013); M. Steinlechner,
    SISC 38 (2016).

    Examples
    --------
    Best rank-3 approximation of a rank-8 TT by RCG, with the Euclidean
    gradient supplied (NumPy):

    >>> from tnlib import tt, riemannian
    >>> a = tt.random((6,) * 5, 8, seed=0)
    >>> x0 = a.round(max_rank=3)
    >>> x = riemannian.minimize(lambda y: 0.5 * tt.norm(y - a) ** 2, x0,
    ...                         grad=lambda y: y - a, max_iter=50)
    >>> bool(tt.norm(x - a) <= tt.norm(x0 - a))
    True
    """
    if not isinstance(x0, TTTensor):
        raise ShapeError(f"minimize: x0 must be a TTTensor, got {type(x0).__name__}")
    for name, fn in (("f", f), ("grad", grad), ("hess", hess)):
        if fn is not None and not callable(fn):
            raise ArgumentError(f"minimize: {name} must be callable, got {type(fn).__name__}")
    check_option(manifold, ("fixed-rank", "desingularized"), "minimize", "manifold")
    if manifold == "desingularized":
        if method != "rcg":
            raise ArgumentError("minimize: manifold='desingularized' supports method='rcg'")
        from .desingularized import desingularized_minimize

        return desingularized_minimize(f, x0, grad=grad, max_iter=max_iter, tol=tol,
                                       ftol=ftol, callback=callback, verbose=verbose,
                                       return_info=return_info)
    check_option(method, ("rcg", "rgd", "rtr"), "minimize", "method")
    if grad is None and not x0.backend.supports_grad:
        raise ArgumentError(
            f"minimize: the {x0.backend.name} backend has no automatic differentiation; pass "
            "grad= (the Euclidean gradient of f) or use torch, jax or tensorflow arrays")
    step = options.pop("step", None)
    problem = Problem(f, grad, hess, step)
    if max_rank is not None:
        max_rank = check_positive_int(max_rank, "minimize", "max_rank")
        x, info = _run_adaptive(problem, x0, method, max_rank, max_iter, tol, ftol, callback,
                                verbose, dict(options, progress=progress))
        return (x, info) if return_info else x
    return run(problem, x0, method, max_iter=max_iter, tol=tol, ftol=ftol, callback=callback,
               verbose=verbose, return_info=return_info, where="minimize", progress=progress,
               **options)


def _run_adaptive(problem: Problem, x: TTTensor, method: str, max_rank: int, max_iter: int,
                  tol: float, ftol: float, callback: Any, verbose: bool, options: dict
                  ) -> tuple[TTTensor, MinimizeInfo]:
    """Fixed-rank stages, each followed by a rank increase where it pays."""
    import warnings

    from ..errors import ConvergenceWarning
    from .adaptive import grow_ranks

    total = MinimizeInfo(method=method)
    stages = []
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            x, info = run(problem, x, method, max_iter=max_iter, tol=tol, ftol=ftol,
                          callback=callback, verbose=verbose, return_info=True,
                          where="minimize", **options)
        stages.append(info)
        # grow only while the normal gradient beats the stopping tolerance of the runs
        y, grown = grow_ranks(problem.f if problem.egrad is None else None, problem.egrad, x,
                              max_rank, problem.value, min_gain=tol * stages[0].grad_norms[0])
        if not grown:
            break
        if verbose:
            print(f"minimize: ranks {x.ranks} -> {y.ranks}", flush=True)
        x = y
    for info in stages:
        total.iterations += info.iterations
        total.losses += info.losses
        total.grad_norms += info.grad_norms
        total.errors += info.errors
        total.wall_time += info.wall_time
    last = stages[-1]
    total.converged, total.stop_reason = last.converged, last.stop_reason
    total.evaluations = problem.evaluations
    total.gradient_evaluations = problem.gradient_evaluations
    total.hessian_products = problem.hessian_products
    total.ranks = tuple(x.ranks)
    if not total.converged:
        warn_not_converged("minimize", total.stop_reason)
    return x, total


def run(problem: Problem, x0: TTTensor, method: str, max_iter: int, tol: float, ftol: float,
        callback: Callable | None, verbose: bool, return_info: bool, where: str,
        stop: Callable | None = None, progress: bool = False, **options: Any) -> Any:
    """Run one of the optimizers on `problem` from `x0` (shared by every solver here)."""
    max_iter = check_positive_int(max_iter, where, "max_iter")
    for name, value in (("tol", tol), ("ftol", ftol)):
        if not isinstance(value, (int, float)) or not value >= 0:
            raise ArgumentError(f"{where}: {name} must be a number >= 0, got {value!r}")
    frame_of(x0, where)  # ranks must fit the shape
    info = MinimizeInfo(method=method)
    report = Reporter(where, max_iter, verbose, progress, callback)
    state = _State(problem, info, Timer(), tol, ftol, report, stop, where)
    loop = {"rcg": _rcg, "rgd": _rgd, "rtr": _rtr}[method]
    with report:
        x = loop(state, x0, max_iter, **options)
    info.ranks = tuple(x.ranks)
    info.wall_time = state.timer()
    info.evaluations = problem.evaluations
    info.gradient_evaluations = problem.gradient_evaluations
    info.hessian_products = problem.hessian_products
    if not info.converged:
        warn_not_converged(where, info.stop_reason)
    return (x, info) if return_info else x


class _State:
    """Bookkeeping shared by the loops: records, stopping tests, output."""

    def __init__(self, problem: Problem, info: MinimizeInfo, timer: Timer, tol: float,
                 ftol: float, report: Reporter, stop: Any, where: str) -> None:
        self.problem, self.info, self.timer = problem, info, timer
        self.tol, self.ftol, self.report = tol, ftol, report
        self.stop, self.where = stop, where
        self.g0 = None

    def start(self, x: TTTensor, value: float, gnorm: float) -> bool:
        self.g0 = gnorm
        self.info.losses.append(value)
        self.info.grad_norms.append(gnorm)
        if not math.isfinite(value):
            raise ArgumentError(f"{self.where}: f(x0) is {value}; expected a finite value")
        finite_gradient(gnorm, self.where, "x0")
        if self.stop is not None:
            reason = self.stop(x, self.info)
            if reason:
                return self._finish(True, reason)
        if gnorm == 0.0:
            return self._finish(True, "the gradient at x0 is zero")
        return False

    def record(self, it: int, x: TTTensor, value: float, old: float | None, gnorm: float,
               step: float) -> bool:
        finite_gradient(gnorm, self.where, f"iteration {it}'s point")
        info = self.info
        info.iterations = it
        info.losses.append(value)
        info.errors.append(value)
        info.grad_norms.append(gnorm)
        self.report(info, f"iter {it:4d}  f {value:.6e}  |grad| {gnorm:.3e}  "
                          f"step {step:.3e}  {self.timer():.2f}s")
        if self.stop is not None:
            reason = self.stop(x, info)
            if reason:
                return self._finish(True, reason)
        if gnorm <= self.tol * self.g0:
            return self._finish(True, f"gradient norm {gnorm:.3e} <= tol * initial "
                                      f"({self.tol:g} * {self.g0:.3e})")
        if old is not None and abs(old - value) <= self.ftol * max(abs(old), 1e-300):
            return self._finish(True, f"relative change of f below ftol={self.ftol:g}")
        return False

    def _finish(self, converged: bool, reason: str) -> bool:
        self.info.converged = converged
        self.info.stop_reason = reason
        return True

    def fail(self, reason: str) -> None:
        self._finish(False, reason)

    def no_decrease(self, gnorm: float) -> None:
        """A failed line search: the end at working precision, or a sign of a wrong gradient."""
        if gnorm <= 1e-6 * self.g0:
            self._finish(True, f"no further decrease at working precision (gradient norm "
                               f"{gnorm:.3e}, {gnorm / self.g0:.1e} of the initial)")
        else:
            self.fail("the line search found no decrease (f may be non-smooth or the "
                      "gradient wrong)")


def finite_gradient(gnorm: float, where: str, at: str) -> None:
    """An EvaluationError when the gradient's norm at the point `at` is NaN or inf: no step
    can follow it (the line search would only fail, with a message about decrease)."""
    if not math.isfinite(gnorm):
        raise EvaluationError(f"{where}: the gradient at {at} has non-finite entries (its "
                              f"norm is {gnorm}); grad, or f's automatic derivative, must give "
                              "finite values at finite points")


# ------------------------------------------------------------------ line search
def _linesearch(problem: Problem, x: TTTensor, f0: float, eta: TangentVector, slope: float,
                t_guess: float) -> tuple[float, TTTensor | None, float]:
    """Armijo backtracking from a trial step refined by a 1-D quadratic model.

    Returns ``(t, x_new, f_new)``; ``x_new`` is None when no decrease was found.
    """
    c1 = 1e-4
    if not (math.isfinite(slope) and math.isfinite(t_guess)):
        return t_guess, None, f0
    exact = problem.step(x, eta)
    t = exact if exact is not None and math.isfinite(exact) and exact > 0 else t_guess
    y, fy = _trial(problem, x, eta, t)
    if exact is None:
        # fit q(s) = f0 + slope s + c s^2 / 2 through f(t) and jump to its minimizer
        c = 2.0 * (fy - f0 - slope * t) / (t * t)
        if c > 0 and math.isfinite(c):
            tq = min(max(-slope / c, 0.05 * t), 20.0 * t)
            if abs(tq - t) > 1e-3 * t:
                yq, fq = _trial(problem, x, eta, tq)
                if fq < fy or not math.isfinite(fy):
                    t, y, fy = tq, yq, fq
    for _ in range(40):
        if math.isfinite(fy) and fy <= f0 + c1 * t * slope:
            return t, y, fy
        denom = 2.0 * (fy - f0 - slope * t)
        tn = -slope * t * t / denom if math.isfinite(fy) and denom > 0 else 0.5 * t
        t = min(max(tn, 0.1 * t), 0.5 * t)
        y, fy = _trial(problem, x, eta, t)
    return t, None, f0


def _trial(problem: Problem, x: TTTensor, eta: TangentVector, t: float
           ) -> tuple[TTTensor | None, float]:
    """``(R_x(t eta), f)``, or ``(None, inf)`` when the step leaves the finite numbers
    (a direction blown up by a nearly rank-deficient point)."""
    try:
        y = retract(x, eta, t)
    except (ValueError, ArithmeticError):  # LAPACK refuses non-finite input
        return None, math.inf
    try:
        fy = problem.value(y)
    except EvaluationError:  # the trial point overflowed: too long a step
        return None, math.inf
    return y, (fy if math.isfinite(fy) else math.inf)


def _rgd(state: _State, x: TTTensor, max_iter: int) -> TTTensor:
    problem = state.problem
    value, g = problem.value_grad(x)
    gn = _norm(g)
    if state.start(x, value, gn):
        return x
    t_guess = _first_reach(g) / gn
    for it in range(1, max_iter + 1):
        t, y, fy = _linesearch(problem, x, value, -g, -gn * gn, t_guess)
        if y is None:
            state.no_decrease(gn)
            return x
        x, old = y, value
        value, g = problem.value_grad(x)
        gn = _norm(g)
        t_guess = 2.0 * t
        if state.record(it, x, value, old, gn, t):
            return x
    state.fail(f"max_iter={max_iter} reached with gradient norm {gn:.3e}")
    return x


def _rcg(state: _State, x: TTTensor, max_iter: int, beta: str = "pr") -> TTTensor:
    check_option(beta, ("pr", "fr"), state.where, "beta")
    problem = state.problem
    value, g = problem.value_grad(x)
    gn2 = _inner(g, g)
    if state.start(x, value, math.sqrt(gn2)):
        return x
    eta, steepest, slope = -g, True, -gn2
    reach = _first_reach(g)
    t_guess = reach / math.sqrt(gn2)
    for it in range(1, max_iter + 1):
        if slope >= 0:  # not a descent direction: restart
            eta, slope, steepest = -g, -gn2, True
        t, y, fy = _linesearch(problem, x, value, eta, slope, t_guess)
        if y is None:
            if not steepest:  # retry once along the gradient
                eta = -g
                t, y, fy = _linesearch(problem, x, value, eta, -gn2,
                                       reach / math.sqrt(gn2))
            if y is None:
                state.no_decrease(math.sqrt(gn2))
                return x
        x, old = y, value
        value, g_new = problem.value_grad(x)
        g_old, eta = project_each(g_new.frame, [g, eta])
        # the new gradient's norm, its overlap with the old one and the slope along the
        # transported direction: one read
        gn2_new, overlap, along = _inners((g_new, g_new), (g_new, g_old), (g_new, eta))
        if state.record(it, x, value, old, math.sqrt(gn2_new), t):
            return x
        b = gn2_new / gn2 if beta == "fr" else max(0.0, (gn2_new - overlap) / gn2)
        if abs(overlap) >= 0.1 * gn2_new:  # Powell: conjugacy lost
            b = 0.0
        eta, steepest = -g_new + b * eta, b == 0.0
        slope = -gn2_new + b * along  # <g_new, eta>
        g, gn2 = g_new, gn2_new
        t_guess = 2.0 * t
    state.fail(f"max_iter={max_iter} reached with gradient norm {math.sqrt(gn2):.3e}")
    return x


def _rtr(state: _State, x: TTTensor, max_iter: int, radius: float | None = None,
         max_inner: int | None = None) -> TTTensor:
    problem = state.problem
    value, g = problem.value_grad(x)
    gn = _norm(g)
    if state.start(x, value, gn):
        return x
    max_radius = math.inf
    # a first radius on the scale of the point (Manopt uses sqrt(dim) / 8); the
    # rho test shrinks it within a few rejected steps when f is less regular
    delta = radius if radius is not None else max(gn, _norm_point(g) / 8.0)
    dim_cap = max_inner or 200
    for it in range(1, max_iter + 1):
        eta, h_eta = _tcg(problem, x, g, delta, dim_cap, state.where)
        y = retract(x, eta, 1.0)
        fy = problem.value(y)
        g_eta, eta_h_eta, eta_eta = _inners((g, eta), (eta, h_eta), (eta, eta))
        model = -(g_eta + 0.5 * eta_h_eta)
        reg = 1e3 * 2.2e-16 * max(1.0, abs(value))  # Absil et al.: rho at round-off level
        rho = (value - fy + reg) / (model + reg)
        en = math.sqrt(max(eta_eta, 0.0))
        if rho < 0.25 or not math.isfinite(fy):
            delta = 0.25 * delta
        elif rho > 0.75 and en >= 0.99 * delta:
            delta = min(2.0 * delta, max_radius)
        if rho > 0.1 and math.isfinite(fy):
            x, old = y, value
            value, g = problem.value_grad(x)
            gn = _norm(g)
        else:
            old = value
            if delta < 1e-14 * max(1.0, _norm_point(g)):
                state.fail("the trust region collapsed (the Hessian model disagrees with f)")
                return x
        if state.record(it, x, value, old if rho > 0.1 else None, gn, en):
            return x
    state.fail(f"max_iter={max_iter} reached with gradient norm {gn:.3e}")
    return x


def _tcg(problem: Problem, x: TTTensor, g: TangentVector, delta: float,
         max_inner: int, where: str) -> tuple[TangentVector, TangentVector]:
    """Steihaug-Toint truncated CG for ``min <g, e> + <e, H e>/2``, ``‖e‖ <= delta``."""
    eta = 0.0 * g
    h_eta = 0.0 * g
    r = g
    r2 = _inner(r, r)
    r0 = math.sqrt(r2)
    p = -r
    for _ in range(max_inner):
        hp = problem.hess(x, g, p)
        curv, e_p, p_p, e_e = _inners((p, hp), (eta, p), (p, p), (eta, eta))  # one read
        if not math.isfinite(curv):
            raise EvaluationError(f"{where}: a Hessian-vector product has non-finite entries "
                                  "(hess, or the gradient near the point it is taken from, "
                                  "must give finite values at finite points)")
        alpha = r2 / curv if curv > 0 else math.inf
        if curv <= 0 or e_e + 2 * alpha * e_p + alpha * alpha * p_p >= delta * delta:
            # to the boundary along p
            tau = (-e_p + math.sqrt(max(e_p * e_p + p_p * (delta * delta - e_e), 0.0))) / p_p
            return eta + tau * p, h_eta + tau * hp
        eta = eta + alpha * p
        h_eta = h_eta + alpha * hp
        r = r + alpha * hp
        r2_new = _inner(r, r)
        if math.sqrt(r2_new) <= r0 * min(r0, 0.1):  # kappa = 0.1, theta = 1: superlinear
            break
        p = -r + (r2_new / r2) * p
        r2 = r2_new
    return eta, h_eta


# --------------------------------------------------------------------- helpers
def _inner(a: TangentVector, b: TangentVector) -> float:
    xp = a.backend
    return float(xp.item(xp.real(a.inner(b))))


def _inners(*pairs: tuple[TangentVector, TangentVector]) -> list[float]:
    """``Re <a, b>`` of each pair, in one read on an accelerator."""
    xp = pairs[0][0].backend
    return read_floats(xp, *(xp.real(a.inner(b)) for a, b in pairs))


def _norm(a: TangentVector) -> float:
    return float(a.backend.item(a.norm()))


def _norm_point(g: TangentVector) -> float:
    return frame_norm_scale(g.frame)


def _first_reach(g: TangentVector) -> float:
    """How far the first trial step of a line search moves: 1, or an eighth of the
    point's norm if that is larger (a first radius of RTR's kind). A unit step at a point
    of norm 1e50 changed f by 1e-50 of itself, and the iteration stopped there by ftol."""
    return max(1.0, _norm_point(g) / 8.0)


def _real_float(x: TTTensor, value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    xp = x.backend
    try:
        v = xp.item(value)
    except Exception as exc:
        raise ArgumentError(f"minimize: f must return a scalar, got {type(value).__name__}"
                            ) from exc
    if isinstance(v, complex):
        raise ArgumentError("minimize: f must return a real scalar, got a complex value")
    return float(v)
