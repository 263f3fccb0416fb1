"""Non-negative Tucker decomposition by HALS and accelerated projected gradient.

A sweep updates each factor, then the core, each to a better non-negative value with the
rest fixed:

* factor ``A_k``: with ``Y = a ×_{j != k} A_j^T`` and ``G_(k)`` the core's mode-k
  unfolding, ``M = Y_(k) G_(k)^T`` and ``V = [G ×_{j != k} A_j^T A_j]_(k) G_(k)^T``
  are the normal equations of ``min_{A_k >= 0} ‖a_(k) - A_k G_(k) (⊗_j A_j)^T‖``;
  a few HALS passes over its columns solve them (:func:`tnlib.linalg.nnls.hals_columns`).
  The factor's column norms then move into the core, so the model is unchanged and
  the factors stay at unit scale.
* core: ``min_{G >= 0} ½<G ×_k A_k^T A_k, G> - <a ×_k A_k^T, G>``, a non-negative least
  squares problem whose Hessian is the Kronecker product of the factors' Grams, by
  projected gradient with Nesterov's momentum (FISTA) at step ``1 / ∏ λ_max(A_k^T A_k)``,
  restarted whenever the objective rises (O'Donoghue, Candès), keeping the best iterate.

Every update is a descent step, so the error never increases. As in HOOI the modes are
split into two groups and ``a`` contracted with one group's factors serves every mode of
the other: two passes over ``a`` per sweep; the last mode's contraction gives the core's
right-hand side, and the error follows from the core problem's objective,
``‖a - X‖² = ‖a‖² + 2 f(G)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._info import Timer, compiled
from .._progress import Reporter
from .._validation import (
    DefaultTol,
    check_eps,
    check_positive_int,
    honour_eps,
    rng_of,
    unit_data,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..linalg.nnls import hals_columns
from ..linalg.tensor_ops import mode_product, multi_mode_product, unfold
from .hooi import TuckerInfo, finish, fit_data, run_sweeps
from .hosvd import sequential_hosvd
from .tensor import TuckerTensor

__all__ = ["tucker_hals"]

# the error formula is a difference of squares of size ‖a‖²: below this many units of
# roundoff of ‖a‖² the residual is formed explicitly
_RESOLVED = 1e3


@host_eager
def tucker_hals(a: Any, ranks: Any, max_iter: int = 100, tol: float = DefaultTol(1e-8),
                init: Any = "svd", seed: Any = None, return_info: bool = False,
                inner: int = 4, core_inner: int = 10, callback: Callable | None = None,
                verbose: bool = False, progress: bool = False) -> Any:
    """Non-negative Tucker decomposition (core and factors >= 0).

    Parameters
    ----------
    a : real array with d >= 2 axes
        Usually non-negative data; negative entries are allowed, the parts stay
        non-negative.
    ranks : int or sequence of int
        Multilinear ranks (each at most its mode's size).
    max_iter : int, optional
        Maximum number of sweeps.
    tol : float, optional
        Stop when the relative error changes by less than `tol` between sweeps
        (0: run all sweeps); raised to four machine epsilons of the data's dtype.
    init : {"svd", "random"} or TuckerTensor, optional
        ``"svd"``: the absolute values of the HOSVD's core and factors (scaled to fit);
        ``"random"``: uniform factors and core (seeded); a TuckerTensor: the absolute
        values of its parts.
    seed : int or numpy.random.Generator, optional
        For ``init="random"``.
    return_info : bool, optional
        Also return a :class:`~tnlib.tucker.TuckerInfo` (``errors``: relative error per
        sweep).
    inner : int, optional
        HALS passes over each factor's columns per sweep, all on the same normal
        equations (their cost is the contraction with the data, made once).
    core_inner : int, optional
        Accelerated projected-gradient steps on the core per sweep; each costs a product
        of the core with the ``d`` Grams, ``O(∏ r_k Σ r_k)``, never a pass over `a`.
    callback, verbose, progress : optional
        As for :func:`~tnlib.tucker.hooi`.

    Returns
    -------
    TuckerTensor, or (TuckerTensor, TuckerInfo)
        Non-negative core and factors with unit columns (the scale is in the core; a
        column that fits nothing stays zero), on the backend, dtype and device of `a`.

    Raises
    ------
    ArgumentError
        For complex data, ranks below 1, bad `init`, `inner`, `core_inner` or `seed`.
    ShapeError
        For fewer than two axes, or an `init` of another shape or ranks.

    References
    ----------
    A.-H. Phan, A. Cichocki, "Extended HALS algorithm for nonnegative Tucker
    decomposition and its applications for multiway analysis and classification",
    Neurocomputing 74 (2011). A. Beck, M. Teboulle, "A fast iterative
    shrinkage-thresholding algorithm for linear inverse problems", SIAM J. Imaging Sci.
    2 (2009). B. O'Donoghue, E. Candès, "Adaptive restart for accelerated gradient
    schemes", Found. Comput. Math. 15 (2015).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tucker
    >>> rng = np.random.default_rng(0)
    >>> u, v, w = (np.eye(r)[np.arange(n) % r] + 0.1 * rng.uniform(size=(n, r))
    ...            for n, r in ((9, 3), (8, 2), (7, 3)))
    >>> a = np.einsum("abc,ia,jb,kc->ijk", rng.uniform(size=(3, 2, 3)), u, v, w)
    >>> x, info = tucker.tucker_hals(a, (3, 2, 3), max_iter=300, return_info=True)
    >>> bool(x.core.min() >= 0 and min(f.min() for f in x.factors) >= 0)
    True
    >>> bool(np.linalg.norm(x.full() - a) < 1e-6 * np.linalg.norm(a))
    True
    """
    xp, a, r = fit_data(a, ranks, "tucker_hals")
    d = len(r)
    if xp.is_complex(a):
        raise ArgumentError(f"tucker_hals: a is complex ({xp.dtype_name(a)}); non-negative "
                            "parts need real data")
    max_iter = check_positive_int(max_iter, "tucker_hals", "max_iter")
    inner = check_positive_int(inner, "tucker_hals", "inner")
    core_inner = check_positive_int(core_inner, "tucker_hals", "core_inner")
    half = xp.dtype_name(a) == "float16"
    if half:  # the error formula, a difference of squares, resolves ~3 % in float16
        a = xp.astype(a, "float32")
    tol = honour_eps(check_eps(tol, "tucker_hals", "tol"), xp, a, "tucker_hals", name="tol")
    a, scale, norm_a = unit_data(a, xp, "tucker_hals")
    core, factors = _initialize(a, r, init, seed, scale, xp)
    info, timer = TuckerInfo(), Timer()
    if norm_a == 0:
        info.iterations, info.errors, info.converged = 0, [0.0], True
        info.stop_reason = "a is the zero tensor: a zero core is exact"
        return finish(xp.zeros_like(core), factors, info, xp, "tucker_hals", scale=scale,
                      half=half, return_info=return_info)
    norm_sq = xp.astype(xp.norm(a) ** 2, xp.dtype(a))
    sweep = compiled(xp, _sweep, h=max(1, d // 2), passes=inner, steps=core_inner)
    floor_sq = _RESOLVED * xp.finfo_eps(a) * norm_a ** 2
    report = Reporter("tucker_hals", max_iter, verbose, progress, callback)

    def step(core: Any, factors: list) -> tuple:
        new_factors, new_core, err_sq = sweep(a, core, factors, norm_sq)
        err_sq = float(xp.item(err_sq))
        if math.isfinite(err_sq) and err_sq < floor_sq:  # the formula's rounding
            full = multi_mode_product(new_core, list(new_factors))
            err_sq = float(xp.item(xp.norm(a - full))) ** 2
        return new_factors, new_core, math.sqrt(max(err_sq, 0.0)) / norm_a

    core, factors = run_sweeps(step, core, factors, info, max_iter, tol, timer, report)
    return finish(core, factors, info, xp, "tucker_hals", scale=scale, half=half,
                  max_iter=max_iter, tol=tol, return_info=return_info)


def _initialize(a: Any, r: list[int], init: Any, seed: Any, scale: Any, xp: Any
                ) -> tuple[Any, list]:
    """The non-negative start (core, factors with unit columns), at the scale of the
    unit-scaled data `a`."""
    shape = xp.shape(a)
    if isinstance(init, TuckerTensor):
        backend_of(a, init)  # a BackendMismatchError for a start on another backend
        if init.shape != shape or list(init.ranks) != r:
            raise ShapeError(f"tucker_hals: init has shape {init.shape} and ranks "
                             f"{init.ranks}, expected {shape} and {tuple(r)}")
        parts = [xp.abs(xp.astype(p, xp.dtype(a))) for p in (init.core, *init.factors)]
        core = parts[0] if scale is None else parts[0] / scale
        return _unit_factors(core, parts[1:], xp)
    if isinstance(init, str) and init == "svd":
        # all entries of the start away from zero: HALS and projected gradient rarely
        # move an entry off the bound it starts on (clipping the projection would)
        core, factors = sequential_hosvd(a, 0.0, r, xp)
        core, factors = xp.abs(core), [xp.abs(u) for u in factors]
    elif isinstance(init, str) and init == "random":
        rng = rng_of(seed, "tucker_hals")
        dt, dev = xp.dtype(a), xp.device(a)
        factors = [xp.random_uniform((n, rk), seed=rng, dtype=dt, device=dev)
                   for n, rk in zip(shape, r)]
        core = xp.random_uniform(tuple(r), seed=rng, dtype=dt, device=dev)
    else:
        raise ArgumentError(f"tucker_hals: init must be 'svd', 'random' or a TuckerTensor, "
                            f"got {init!r}")
    core, factors = _unit_factors(core, factors, xp)
    # the least-squares multiple of the start: the first sweep begins at the data's scale
    grams = [xp.matmul(xp.transpose(f), f) for f in factors]
    target = multi_mode_product(a, [xp.transpose(f) for f in factors])
    model_sq = float(xp.item(xp.sum(multi_mode_product(core, grams) * core)))
    fit = float(xp.item(xp.sum(target * core)))
    if model_sq > 0 and fit > 0:
        core = core * (fit / model_sq)
    return core, factors


def _unit_factors(core: Any, factors: list, xp: Any) -> tuple[Any, list]:
    """The same Tucker tensor with unit factor columns, their norms moved into `core`."""
    out = []
    for k, f in enumerate(factors):
        f, norms = _unit(f, xp)
        core = _scale_mode(core, norms, k, xp)
        out.append(f)
    return core, out


def _unit(f: Any, xp: Any) -> tuple[Any, Any]:
    """`f` with unit columns and the norms taken out. A column that HALS set to zero keeps
    norm 1: its core slice stays, so it can come back on the next pass (a norm of zero
    would zero the slice for good, and the smallest normal number, as CP's columns use,
    would make the slice subnormal, which some backends flush to zero and others keep)."""
    n = xp.norm(f, axis=0)
    n = xp.where(n > xp.finfo_tiny(f), n, xp.ones_like(n))
    return f / n[None, :], n


def _scale_mode(core: Any, s: Any, k: int, xp: Any) -> Any:
    """`core` with slice ``i`` of mode `k` multiplied by ``s[i]``."""
    shape = [1] * len(xp.shape(core))
    shape[k] = -1
    return core * xp.reshape(s, shape)


def _sweep(a: Any, core: Any, factors: list, norm_sq: Any, h: int, passes: int,
           steps: int, xp: Any) -> tuple[list, Any, Any]:
    """One sweep: every factor by HALS, then the core; returns the factors, the core and
    ``‖a - X‖²``."""
    factors = list(factors)
    d = len(factors)
    grams = [xp.matmul(xp.transpose(f), f) for f in factors]
    groups = (list(range(h)), list(range(h, d)))
    y = None
    for group, other in (groups, groups[::-1]):
        part = multi_mode_product(a, [xp.transpose(factors[j]) for j in other], other)
        for k in group:
            rest = [j for j in group if j != k]
            y = multi_mode_product(part, [xp.transpose(factors[j]) for j in rest], rest)
            g_k = xp.transpose(unfold(core, k))
            m = xp.matmul(unfold(y, k), g_k)
            skip = [j for j in range(d) if j != k]
            v = xp.matmul(unfold(multi_mode_product(core, [grams[j] for j in skip], skip), k),
                          g_k)
            f = factors[k]
            for _ in range(passes):
                f = hals_columns(f, m, v, xp)
            f, norms = _unit(f, xp)
            core = _scale_mode(core, norms, k, xp)
            factors[k], grams[k] = f, xp.matmul(xp.transpose(f), f)
    target = mode_product(y, xp.transpose(factors[-1]), d - 1)  # a ×_k A_k^T, all k
    core, value = _core_step(core, target, grams, steps, xp)
    return factors, core, norm_sq + 2 * value


def _core_step(core: Any, target: Any, grams: list, steps: int, xp: Any) -> tuple[Any, Any]:
    """`steps` restarted FISTA steps on ``min_{G >= 0} f(G) = ½<G ×_k V_k, G> - <T, G>``
    from `core`; the best iterate and its objective (never above the start's)."""
    lip = None
    for g in grams:
        top = xp.eigh(g)[0][-1]
        lip = top if lip is None else lip * top
    step = 1 / xp.maximum(lip, xp.finfo_tiny(core))
    one = xp.ones((), dtype=xp.dtype(core), device=xp.device(core))

    def hess(x: Any) -> Any:
        return multi_mode_product(x, grams)

    def objective(x: Any, xv: Any) -> Any:
        return 0.5 * xp.sum(xv * x) - xp.sum(target * x)

    x = core
    xv = hess(x)
    fx = objective(x, xv)
    best, f_best = x, fx
    y, yv, t = x, xv, one
    for _ in range(steps):
        z = xp.maximum(y - step * (yv - target), xp.zeros_like(y))
        zv = hess(z)
        fz = objective(z, zv)
        rose = fz > fx  # restart: no momentum from a step that went uphill
        t_next = xp.where(rose, one, (1 + xp.sqrt(1 + 4 * t * t)) / 2)
        beta = xp.where(rose, 0 * one, (t - 1) / t_next)
        y, yv = z + beta * (z - x), zv + beta * (zv - xv)
        better = fz < f_best
        best, f_best = xp.where(better, z, best), xp.where(better, fz, f_best)
        x, xv, fx, t = z, zv, fz, t_next
    return best, f_best

