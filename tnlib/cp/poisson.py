"""Poisson CP of sparse count tensors: CP-APR by multiplicative updates (Chi, Kolda 2012).

For counts, the CP model ``m = sum_r lambda_r a_r^(1) o ... o a_r^(d)`` is the mean of
independent Poisson entries, fitted by maximum likelihood, ``max sum x log m - sum m``,
over non-negative factors whose columns sum to one (so ``sum m = sum lambda``). The
factors are updated mode by mode; with ``B = A_n diag(lambda)`` and ``Pi`` the rows of
the other factors' Khatri-Rao product, the subproblem's KKT conditions read
``min(B, 1 - Phi) = 0`` with

    Phi = (X_(n) / (B Pi^T)) Pi,

which needs the model only at the nonzeros (a gather of factor rows, a division and a
segment sum: ``O(nnz d R)``). Its multiplicative update ``B <- B * Phi`` (the
Lee-Seung step for the Kullback-Leibler divergence) never increases the objective; the
inner iterations stop when the KKT violation of the mode is below `tol`, the outer ones
when no mode needed an update. An entry stuck at zero with ``Phi > 1`` (an inadmissible
zero, where the multiplicative step cannot move it) is nudged by ``kappa`` first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._info import IterationInfo, Timer, compiled, warn_not_converged
from .._progress import Reporter
from .._validation import check_eps, check_positive_int, rng_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ._fit import fit_result
from .sparse import sparse_args, sparse_data
from .tensor import CPTensor

__all__ = ["APRInfo", "cp_apr"]


@dataclass
class APRInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of :func:`cp_apr`.

    ``errors`` holds the KKT violation ``max_n max |min(B_n, 1 - Phi_n)|`` of each outer
    iteration (the stopping quantity; 0 at a stationary point of the likelihood).

    Attributes
    ----------
    log_likelihood : list of float
        ``sum x log m - sum m`` after each outer iteration (without the ``log x!``
        constant); it never decreases.
    inner_iterations : int
        Multiplicative updates made, over all modes and outer iterations.
    """

    log_likelihood: list[float] = field(default_factory=list)
    inner_iterations: int = 0


@host_eager
def cp_apr(idx: Any, values: Any, shape: Any, rank: int, max_iter: int = 1000,
           tol: float = 1e-4, inner: int = 10, init: Any = "random", seed: Any = None,
           kappa: float = 0.01, kappa_tol: float = 1e-10, return_info: bool = False,
           callback: Callable | None = None, verbose: bool = False,
           progress: bool = False) -> Any:
    """Poisson CP (CP-APR) of a sparse count tensor: `values` at `idx`, zero elsewhere.

    Parameters
    ----------
    idx : int array (nnz, d)
        Positions of the nonzero counts (a position listed twice holds their sum). A dense
        count array ``a`` is ``idx = np.argwhere(a)``, ``values = a[tuple(idx.T)]``.
    values : (nnz,) array of non-negative numbers
        The counts (integers or not); their backend and dtype are the result's.
    shape : sequence of int
    rank : int
    max_iter : int, optional
        Maximum number of outer iterations (each updates every mode).
    tol : float, optional
        KKT violation at which a mode counts as converged.
    inner : int, optional
        Maximum multiplicative updates per mode and outer iteration.
    init : {"random"} or CPTensor, optional
        Uniform random factors (seeded), or a non-negative start of this shape and rank.
    seed : int, optional
    kappa, kappa_tol : float, optional
        An entry below `kappa_tol` whose ``Phi`` exceeds 1 is raised by `kappa` before
        the mode's updates.
    return_info : bool, optional
        Also return an :class:`APRInfo`.
    callback, verbose, progress : optional
        As for :func:`~tnlib.cp.cp_als`.

    Returns
    -------
    CPTensor, or (CPTensor, APRInfo)
        The Poisson means' CP model, non-negative (unit columns, the scale in the
        weights).

    References
    ----------
    E. C. Chi, T. G. Kolda, "On tensors, sparsity, and nonnegative factorizations",
    SIAM J. Matrix Anal. Appl. 33 (2012).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import cp
    >>> rng = np.random.default_rng(0)
    >>> parts = [rng.gamma(0.3, size=(n, 3)) for n in (30, 20, 10)]
    >>> counts = rng.poisson(10 * np.einsum("ir,jr,kr->ijk", *parts))
    >>> idx = np.argwhere(counts)
    >>> x, info = cp.cp_apr(idx, counts[tuple(idx.T)], counts.shape, 3, seed=0,
    ...                     return_info=True)
    >>> bool(info.converged and min(float(f.min()) for f in x.factors) >= 0)
    True
    """
    where = "cp_apr"
    shape, rank, max_iter = sparse_args(shape, rank, max_iter, where)
    inner = check_positive_int(inner, where, "inner")
    tol, kappa, kappa_tol = (check_eps(v, where, n) for v, n in
                             ((tol, "tol"), (kappa, "kappa"), (kappa_tol, "kappa_tol")))
    rng = rng_of(seed, where)
    # the maximum-likelihood means scale with the counts: fitted at unit scale (counts
    # near the float limits, or rates far below 1), the weights and likelihood scaled back
    data, entries = sparse_data(idx, values, shape, where)
    modes = entries.modes
    xp, vals = data.xp, data.a
    low, peak = (float(v) for v in xp.to_numpy(xp.stack([xp.min(vals), xp.max(vals)]))) \
        if xp.shape(vals)[0] else (0.0, 0.0)
    if low < 0:
        raise ArgumentError(f"{where}: values must be non-negative counts, got a minimum "
                            f"of {low * (data.scale or 1.0):g}")
    # where the model vanishes at a nonzero, it is read as this much (Chi and Kolda's 1e-10,
    # relative to the largest count)
    floor = xp.astype(xp.asarray(1e-10 * peak), xp.dtype(vals))
    weights, factors = _start(init, shape, rank, rng, vals, xp, where)
    info, timer = APRInfo(), Timer()
    if data.norm_a == 0:
        info.converged, info.stop_reason = True, "no counts: the zero model is exact"
        return _result(data, xp.zeros_like(weights), factors, rank, info, return_info)
    phi_of = compiled(xp, _phi, shape=shape)
    report = Reporter(where, max_iter, verbose, progress, callback)
    phis: list = [None] * len(shape)
    first_rows = None
    for it in range(1, max_iter + 1):
        violation, updated = 0.0, False
        for n in range(len(shape)):
            b = factors[n] * weights[None, :]
            if phis[n] is not None and kappa > 0:  # inadmissible zeros: nudge them off
                stuck = (factors[n] < kappa_tol) & (phis[n] > 1)
                b = b + xp.where(stuck, kappa * xp.ones_like(b), xp.zeros_like(b)) * \
                    weights[None, :]
            # (the first mode's rows: those the last likelihood formed, unchanged since)
            rows = first_rows if n == 0 and first_rows is not None else \
                _other_rows(factors, modes, n, xp)
            for _ in range(inner):
                phi, kkt = phi_of(vals, modes[n], b, rows, floor)
                kkt = float(xp.item(kkt))
                if kkt < tol:
                    break
                b, updated = b * phi, True
                info.inner_iterations += 1
            violation, phis[n] = max(violation, kkt), phi
            weights = xp.sum(b, axis=0)
            factors[n] = b / xp.maximum(weights, xp.finfo_tiny(b))[None, :]
        info.iterations = it
        info.errors.append(violation)
        first_rows = _other_rows(factors, modes, 0, xp)
        info.log_likelihood.append(_log_likelihood(vals, modes[0], factors[0], first_rows,
                                                   weights, data.scale, xp))
        info.wall_time = timer()
        report(info, f"{it:4d}  KKT {violation:.2e}  log-likelihood "
                     f"{info.log_likelihood[-1]:.8e}  {timer():.2f} s")
        if not math.isfinite(info.log_likelihood[-1]):
            info.stop_reason = "non-finite values"
            break
        if not updated:
            info.converged = True
            info.stop_reason = f"KKT violation {violation:.2e} < tol in every mode"
            break
    report.close()
    if not info.converged:
        info.stop_reason = info.stop_reason or f"max_iter={max_iter} iterations reached"
        warn_not_converged(where, f"stopped without converging ({info.stop_reason}; "
                                  f"tol={tol:g}), KKT violation {info.errors[-1]:.3e}")
    return _result(data, weights, factors, rank, info, return_info)


def _start(init: Any, shape: tuple, rank: int, rng: Any, like: Any, xp: Any, where: str
           ) -> tuple[Any, list]:
    """Weights and factors whose columns sum to one: uniform random, or `init`'s."""
    dt, dev = xp.dtype(like), xp.device(like)
    if isinstance(init, CPTensor):
        if init.shape != shape or init.rank != rank:
            raise ShapeError(f"{where}: init has shape {init.shape} and rank {init.rank}, "
                             f"expected {shape} and {rank}")
        factors = [xp.astype(f, dt) * xp.astype(init.weights, dt)[None, :] ** (1 / len(shape))
                   for f in init.factors]
        if any(float(xp.item(xp.min(f))) < 0 for f in factors):
            raise ArgumentError(f"{where}: init has negative entries; CP-APR needs a "
                                "non-negative start")
    elif isinstance(init, str) and init == "random":
        factors = [xp.random_uniform((n, rank), seed=rng, dtype=dt, device=dev) for n in shape]
    else:
        raise ArgumentError(f"{where}: init must be 'random' or a CPTensor, got {init!r}")
    weights = xp.ones((rank,), dtype=dt, device=dev)
    for k, f in enumerate(factors):
        sums = xp.sum(f, axis=0)
        factors[k] = f / xp.maximum(sums, xp.finfo_tiny(f))[None, :]
        weights = weights * sums
    return weights, factors


def _other_rows(factors: list, modes: list, n: int, xp: Any) -> Any:
    """``Pi``: for each nonzero, the product of the other factors' rows it indexes."""
    rows = None
    for j, (f, m) in enumerate(zip(factors, modes)):
        if j != n:
            r = xp.take(f, m, axis=0)
            rows = r if rows is None else rows * r
    return rows


def _phi(vals: Any, mode: Any, b: Any, rows: Any, floor: Any, shape: tuple, xp: Any
         ) -> tuple[Any, Any]:
    """``Phi = (x / (B Pi^T)) Pi`` from the nonzeros, and the KKT violation
    ``max |min(B, 1 - Phi)|``; the model is floored at 1e-10 of the largest count's
    resolution where it vanishes at a nonzero."""
    model = xp.einsum("sr,sr->s", xp.take(b, mode, axis=0), rows)  # (no (nnz, R) temporary)
    ratio = vals / xp.maximum(model, floor * xp.ones_like(model))
    phi = xp.segment_sum(ratio[:, None] * rows, mode, xp.shape(b)[0])
    kkt = xp.max(xp.abs(xp.minimum(b, 1 - phi)))
    return phi, kkt


def _log_likelihood(vals: Any, mode: Any, first: Any, rows: Any, weights: Any, scale: Any,
                    xp: Any) -> float:
    """``sum x log m - sum m`` (columns summing to one: ``sum m = sum lambda``), from the
    first factor and the other factors' row products `rows` at the nonzeros, in the
    units of the given counts: of counts ``c x`` and means ``c m`` it is
    ``c (sum x log m - sum m + log(c) sum x)``."""
    model = xp.einsum("sr,sr->s", xp.take(first * weights[None, :], mode, axis=0), rows)
    positive = vals > 0
    logs = xp.where(positive, xp.log(xp.where(positive, model, xp.ones_like(model))),
                    xp.zeros_like(model))
    value, total = (float(v) for v in xp.to_numpy(xp.stack([
        xp.sum(vals * logs) - xp.sum(weights), xp.sum(vals)])))
    return value if scale is None else scale * (value + math.log(scale) * total)


def _result(data: Any, weights: Any, factors: list, rank: int, info: APRInfo,
            return_info: bool) -> Any:
    result = fit_result(data, weights, factors, rank, "cp_apr")
    return (result, info) if return_info else result
