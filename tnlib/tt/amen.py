"""AMEn: alternating minimal energy solver for ``A x = f`` in TT format, and ``amen_mv``.

Dolgov & Savostyanov, "Alternating minimal energy methods for linear systems
in higher dimensions", SIAM J. Sci. Comput. 36 (2014). Each sweep visits the
cores in turn; at core ``k`` the Galerkin-projected local system is solved
(densely when small, by GMRES on the matrix-free local operator otherwise),
the solution is truncated by SVD, and the basis is enriched by a few
directions of the residual ``f - A x`` projected onto a low-rank TT ``z``
that tracks it. Sweeps alternate direction (the tensors are reversed, so one
left-to-right pass serves both).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._info import IterationInfo, Timer, read_floats, warn_not_converged
from .._progress import Reporter
from .._validation import (
    DefaultTol,
    check_count,
    check_eps,
    check_finite_cores,
    check_option,
    check_positive_int,
    honour_eps,
    safe_exponent,
    seed_of,
)
from ..backends import backend_of
from ..backends import get as _get_backend
from ..backends._host import host_eager
from ..errors import ArgumentError, NonFiniteError, ShapeError
from ..linalg.krylov import gmres_run
from . import _env as env
from ._amen_rank import residual_truncation
from ._scale import balanced, not_finite, spread_pow2
from .matrix import TTMatrix
from .round import apply_scale
from .tensor import TTTensor

__all__ = ["AmenInfo", "amen_mv", "amen_solve"]

_NUMPY = _get_backend("numpy")


@dataclass
class AmenInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of :func:`amen_solve`.

    ``errors`` holds the largest local relative residual of each sweep.

    Attributes
    ----------
    residual : float
        True relative residual ``‖A x - f‖ / ‖f‖`` of the result.
    ranks : list of tuple
        TT-ranks after each sweep.
    local_iterations : int
        Total GMRES iterations in local solves.
    """

    residual: float = float("nan")
    ranks: list[tuple] = field(default_factory=list)
    local_iterations: int = 0


def _check_system(a: TTMatrix, f: TTTensor, where: str) -> Any:
    if not isinstance(a, TTMatrix):
        raise ArgumentError(f"{where}: A must be a TTMatrix, got {type(a).__name__}")
    if not isinstance(f, TTTensor):
        raise ArgumentError(f"{where}: f must be a TTTensor, got {type(f).__name__}")
    if a.row_shape != a.col_shape:
        raise ShapeError(f"{where}: A must be square, got row_shape {a.row_shape} and col_shape "
                         f"{a.col_shape}")
    if a.col_shape != f.shape:
        raise ShapeError(f"{where}: A has shape {a.row_shape} but f has shape {f.shape}")
    xp = backend_of(a, f)
    da, df = xp.dtype_name(a.cores[0]), xp.dtype_name(f.cores[0])
    if da != df:
        raise ArgumentError(f"{where}: A has dtype {da} but f has {df}; convert one with "
                            ".to(dtype=...)")
    return xp


@host_eager
def amen_solve(A: TTMatrix, f: TTTensor, x0: TTTensor | None = None, eps: float = 1e-6,
               max_sweeps: int = 20, return_info: bool = False, kickrank: int = 4,
               max_rank: int | None = None, local_solver: str = "auto",
               callback: Callable | None = None, verbose: bool = False, seed: Any = 0,
               progress: bool = False) -> Any:
    """Solve ``A x = f`` to relative residual `eps` by AMEn.

    Parameters
    ----------
    A : TTMatrix
        Square operator with ``row_shape == col_shape == f.shape``.
    f : TTTensor
    x0 : TTTensor, optional
        Initial guess (default: a random rank-2 tensor).
    eps : float, optional
        Target relative residual; local problems are solved to
        ``eps / (2 sqrt(d))`` and solutions truncated at ``eps / sqrt(d)``.
    max_sweeps : int, optional
    return_info : bool, optional
        Also return an :class:`AmenInfo`.
    kickrank : int, optional
        Rank of the residual approximation used to enrich the basis.
    max_rank : int, optional
        Upper bound on the ranks of the solution (before enrichment).
    local_solver : {"auto", "direct", "gmres"}, optional
        ``"auto"`` solves local systems with at most 400 unknowns densely, and on an
        accelerator every system whose dense LU costs less than ~300 kernel launches
        (a few GMRES iterations; ``Backend.launch_flops``): about 4,000 unknowns.
    callback : callable, optional
        ``callback(info)`` after every sweep.
    verbose : bool, optional
        One line per sweep: sweep, max rank, local residual, seconds.
    seed : int, optional
        For the random starting tensors.
    progress : bool, optional
        A progress bar over the sweeps (needs tqdm).

    Returns
    -------
    TTTensor, or (TTTensor, AmenInfo)

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> a = tt.laplacian(8, 4)
    >>> f = tt.ones((8,) * 4)
    >>> x, info = tt.amen_solve(a, f, eps=1e-8, return_info=True)
    >>> bool(info.residual < 1e-8)
    True
    """
    xp = _check_system(A, f, "amen_solve")
    eps = honour_eps(check_eps(eps, "amen_solve"), xp, f.cores[0], "amen_solve")
    max_sweeps = check_positive_int(max_sweeps, "amen_solve", "max_sweeps")
    kickrank = check_count(kickrank, "amen_solve", "kickrank", 0, 1024)
    if max_rank is not None:
        max_rank = check_positive_int(max_rank, "amen_solve", "max_rank")
    check_option(local_solver, ("auto", "direct", "gmres"), "amen_solve", "local_solver")
    seed = seed_of(seed, "amen_solve")
    from .construct import random

    dt, dev = f.dtype, f.device
    given = x0 is not None  # a guess of the solution, scaled with it (a random one is not)
    if x0 is None:
        x0 = random(f.shape, 2, seed=seed, dtype=dt, device=dev, backend=xp)
    elif not isinstance(x0, TTTensor):
        raise ArgumentError(f"amen_solve: x0 must be a TTTensor, got {type(x0).__name__}")
    elif x0.shape != f.shape:
        raise ShapeError(f"amen_solve: x0 has shape {x0.shape}, expected {f.shape}")
    for name, t in (("A", A), ("f", f), ("x0", x0)):
        check_finite_cores(t, "amen_solve", name)
    # A = 2^a_exp Â and f = exp(log_scale) f̂ near the float limits: Â y = f̂ is solved,
    # with x = 2^-a_exp exp(log_scale) y
    a_cores, a_exp = balanced(list(A.cores), xp, limit=safe_exponent(A.cores[0], xp))
    A = TTMatrix._from_cores(a_cores, xp) if a_exp else A
    f, log_scale = _unit_rhs(f, xp)
    if given and (log_scale or a_exp):
        x0 = TTTensor._from_cores(spread_pow2(apply_scale(list(x0.cores), -log_scale, xp),
                                              a_exp, xp), xp)
    info = AmenInfo()
    timer = Timer()
    with Reporter("amen_solve", max_sweeps, verbose, progress, callback) as report:
        x = _amen(xp, list(A.cores), [(None, list(f.cores))], list(x0.cores), eps, max_sweeps,
                  kickrank, max_rank, local_solver, report, seed, info, timer,
                  residual_fn=lambda x: _residual(A, x, f))
    info.residual = _residual(A, x, f)
    if log_scale:
        x = TTTensor._from_cores(apply_scale(list(x.cores), log_scale, xp), xp)
    if a_exp:
        x = TTTensor._from_cores(spread_pow2(list(x.cores), -a_exp, xp), xp)
    info.wall_time = timer()
    if not info.converged:
        warn_not_converged("amen_solve", f"stopped after {info.iterations} sweeps "
                           f"({info.stop_reason}); relative residual {info.residual:.2e}, "
                           f"eps={eps:g}")
    return (x, info) if return_info else x


@host_eager
def amen_mv(A: TTMatrix, x: TTTensor, eps: float = DefaultTol(1e-8), y0: TTTensor | None = None,
            max_sweeps: int = 10, kickrank: int = 4, max_rank: int | None = None,
            return_info: bool = False, seed: Any = 0) -> Any:
    """``A @ x`` approximated to relative accuracy `eps` without forming the full-rank product.

    The product is fitted by AMEn on the identity operator: each local problem
    is a projection of ``A x`` through interfaces of ``y^H A x``, so the cost is
    ``O(d n r^2 R r_x)`` per sweep instead of rounding a rank ``R r_x`` tensor
    (``O(d n R^3 r_x^3)``).

    Parameters
    ----------
    A : TTMatrix
    x : TTTensor
        With ``x.shape == A.col_shape``.
    eps : float, optional
        Relative accuracy: the sweeps stop when every local residual is below it.
    y0 : TTTensor, optional
        A starting guess (default: a random train of rank 2).
    max_sweeps : int, optional
    kickrank : int, optional
        Rank of the residual directions added at each step: the ranks grow by at most
        about this much per sweep.
    max_rank : int, optional
        Bound on the result's ranks.
    return_info : bool, optional
        Also return the :class:`AmenInfo`.
    seed : optional
        Seed of the random start and enrichment.

    Returns
    -------
    TTTensor, or (TTTensor, AmenInfo)

    Warns
    -----
    ConvergenceWarning
        If a local residual is still above `eps` after `max_sweeps` (ranks the sweeps
        could not reach, or `max_rank`): raise `max_sweeps` or `kickrank`, or round
        ``A @ x`` instead.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> a, x = tt.laplacian(6, 5), tt.random((6,) * 5, 3, seed=0)
    >>> y = tt.amen_mv(a, x, eps=1e-10)
    >>> bool(np.allclose(y.full(), (a @ x).full()))
    True
    """
    if not isinstance(A, TTMatrix) or not isinstance(x, TTTensor):
        raise ArgumentError("amen_mv: expects a TTMatrix and a TTTensor")
    if A.col_shape != x.shape:
        raise ShapeError(f"amen_mv: A has col_shape {A.col_shape} but x has shape {x.shape}")
    xp = backend_of(A, x)
    eps = honour_eps(check_eps(eps, "amen_mv", ranks="max_rank"), xp, x.cores[0], "amen_mv")
    seed = seed_of(seed, "amen_mv")
    from .construct import eye, random

    ident = eye(A.row_shape, dtype=x.dtype, device=x.device, backend=xp)
    if y0 is None:
        y0 = random(A.row_shape, 2, seed=seed, dtype=x.dtype, device=x.device, backend=xp)
    # A = 2^a_exp Â and x = exp(log_scale) x̂ near the float limits (the local right-hand
    # sides' norms overflowed for x of 1e200): Â x̂ is fitted and scaled back, as in
    # amen_solve
    a_cores, a_exp = balanced(list(A.cores), xp, limit=safe_exponent(A.cores[0], xp))
    x, log_scale = _unit_rhs(x, xp)
    info = AmenInfo()
    timer = Timer()
    y = _amen(xp, list(ident.cores), [(a_cores, list(x.cores))], list(y0.cores), eps,
              max_sweeps, kickrank, max_rank, "identity", Reporter("amen_mv", None), seed,
              info, timer)
    y = y.round(eps, max_rank=max_rank)
    if log_scale:
        y = TTTensor._from_cores(apply_scale(list(y.cores), log_scale, xp), xp)
    if a_exp:
        y = TTTensor._from_cores(spread_pow2(list(y.cores), a_exp, xp), xp)
    info.wall_time = timer()
    if not info.converged:
        warn_not_converged("amen_mv", f"stopped after {info.iterations} sweeps "
                           f"({info.stop_reason}) at ranks up to {max(y.ranks)}; largest "
                           f"local residual {info.errors[-1]:.2e}, eps={eps:g} (raise "
                           "max_sweeps or kickrank, or round A @ x)")
    return (y, info) if return_info else y


def _unit_rhs(f: TTTensor, xp: Any) -> tuple[TTTensor, float]:
    """`f` divided by ``exp(log_scale)`` when its norm is near the float limits or beyond
    them (its local right-hand sides and residual norms would over- or underflow), else
    unchanged with ``log_scale = 0``. One read."""
    if xp.is_traced(f.cores[0]):
        return f, 0.0
    cores, log_scale = env.right_orthogonalize_scaled(xp, list(f.cores))
    head = xp.norm(cores[0])  # in range: right_orthogonalize_scaled
    logs, nrm = read_floats(xp, xp.real(log_scale), head)
    if nrm == 0:
        return f, 0.0
    value = logs + math.log(nrm)  # log ‖f‖
    if abs(value) < safe_exponent(cores[0], xp) * math.log(2.0):
        return f, 0.0
    cores[0] = cores[0] / xp.astype(head, xp.dtype(cores[0]))
    return TTTensor._from_cores(cores, xp), value


def _residual(a: TTMatrix, x: TTTensor, f: TTTensor) -> float:
    """``‖A x - f‖ / ‖f‖`` through an orthogonal sweep (a Gram sweep would lose the
    digits below sqrt(u) to cancellation)."""
    xp = x.backend
    r = (a @ x - f).orthogonalize("left").cores[-1]
    nf = f.orthogonalize("left").cores[-1]
    return float(xp.item(xp.norm(r))) / max(float(xp.item(xp.norm(nf))), 1e-300)


def _amen(xp: Any, a_cores: list, rhs: list, x_cores: list, eps: float, max_sweeps: int,
          kickrank: int, max_rank: int | None, local_solver: str, report: Reporter,
          seed: Any, info: AmenInfo, timer: Timer, residual_fn: Callable | None = None) -> TTTensor:
    """The sweeps. `rhs` is a list of (operator cores or None, TT cores) terms of f."""
    from .construct import random

    d = len(x_cores)
    dt, dev = xp.dtype(x_cores[0]), xp.device(x_cores[0])
    shape = tuple(xp.shape(c)[1] for c in x_cores)
    z_seed = (int(seed or 0) + 1 if seed is None or isinstance(seed, numbers.Integral)
              else seed)  # a Generator continues its stream
    z_cores = list(random(shape, max(kickrank, 1), seed=z_seed, dtype=dt, device=dev,
                          backend=xp).cores) if kickrank > 0 else None
    tol_trunc = eps / math.sqrt(d)
    tol_local = eps / (2 * math.sqrt(d))
    reversed_now = False
    for sweep in range(1, max_sweeps + 1):
        x_cores = env.right_orthogonalize(xp, x_cores)
        if z_cores is not None:
            z_cores = env.right_orthogonalize(xp, z_cores)
        try:
            worst = _sweep(xp, a_cores, rhs, x_cores, z_cores, tol_trunc, tol_local, max_rank,
                           local_solver, info)
        except NonFiniteError as err:  # GMRES's: finite, balanced input (checked): overflow
            raise not_finite("amen_solve", "systems", sweep) from err
        # reverse everything: the next sweep runs the other way
        x_cores = env.reverse_tt(xp, x_cores)
        if z_cores is not None:
            z_cores = env.reverse_tt(xp, z_cores)
        a_cores = env.reverse_op(xp, a_cores)
        rhs = [(None if op is None else env.reverse_op(xp, op), env.reverse_tt(xp, t))
               for op, t in rhs]
        reversed_now = not reversed_now
        ranks = (1,) + tuple(xp.shape(c)[2] for c in x_cores)
        info.iterations = sweep
        info.errors.append(worst)
        info.ranks.append(ranks[::-1] if reversed_now else ranks)
        info.wall_time = timer()
        true_res = float("nan")
        if residual_fn is not None and worst < 10 * eps:
            # local residuals are near the target: check the true one (one orthogonal sweep)
            current = env.reverse_tt(xp, x_cores) if reversed_now else x_cores
            true_res = residual_fn(TTTensor._from_cores(current, xp))
        extra = f"  residual {true_res:.2e}" if true_res == true_res else ""
        report(info, f"sweep {sweep:3d}  max rank {max(ranks):4d}  local residual "
                     f"{worst:.2e}{extra}  {timer():.2f} s")
        if worst < eps or true_res < eps:
            info.converged = True
            info.stop_reason = (f"largest local residual {worst:.2e} < eps" if worst < eps
                                else f"relative residual {true_res:.2e} < eps")
            break
    if not info.converged:
        info.stop_reason = f"max_sweeps={max_sweeps} reached"
    if reversed_now:
        x_cores = env.reverse_tt(xp, x_cores)
        a_cores = env.reverse_op(xp, a_cores)
        rhs = [(None if op is None else env.reverse_op(xp, op), env.reverse_tt(xp, t))
               for op, t in rhs]
    if z_cores is not None and info.converged:
        x_cores = _finish(xp, a_cores, rhs, x_cores, tol_trunc, tol_local, max_rank,
                          local_solver, info, residual_fn, eps)
    return TTTensor._from_cores(x_cores, xp)


def _finish(xp: Any, a_cores: list, rhs: list, x_cores: list, tol_trunc: float,
            tol_local: float, max_rank: int | None, local_solver: str, info: AmenInfo,
            residual_fn: Callable | None, eps: float) -> list:
    """A last sweep without enrichment: the kick directions leave the ranks.

    The enrichment that carried the residual into the basis is no longer
    needed once the solution has converged; one more sweep with the local
    residual truncation keeps only the rank the solution needs (Laplacian
    d = 10, n = 32, eps 1e-6: ranks 14 -> 10 at the same residual). Kept only
    if the true residual stays below `eps`.
    """
    kept = list(x_cores)
    x_cores = env.right_orthogonalize(xp, list(x_cores))
    _sweep(xp, a_cores, rhs, x_cores, None, tol_trunc, tol_local, max_rank, local_solver, info)
    if residual_fn is not None and not residual_fn(TTTensor._from_cores(x_cores, xp)) < eps:
        return kept
    info.ranks.append((1,) + tuple(xp.shape(c)[2] for c in x_cores))
    if residual_fn is None:
        return x_cores
    # the local criterion is conservative: the largest ranks can often drop by one with
    # the true residual still below eps (d = 10 Laplacian: 10 -> 9 at 3.4e-7); try twice
    for _ in range(_STEP_DOWNS):
        top = max(xp.shape(c)[2] for c in x_cores[:-1])
        cap = top - 1 if max_rank is None else min(max_rank, top - 1)
        if cap < 1:
            break
        trial = env.right_orthogonalize(xp, list(x_cores))
        _sweep(xp, a_cores, rhs, trial, None, tol_trunc, tol_local, cap, local_solver, info)
        if not residual_fn(TTTensor._from_cores(trial, xp)) < eps:
            break
        x_cores = trial
        info.ranks.append((1,) + tuple(xp.shape(c)[2] for c in x_cores))
    return x_cores


_STEP_DOWNS = 2  # capped sweeps tried after convergence, each kept if the residual holds


def _rhs_env_init(xp: Any, rhs: list, dt: Any, dev: Any) -> list:
    return [env.ones_env(xp, dt, dev, three=op is not None) for op, _ in rhs]


def _rhs_left(xp: Any, envs: list, bra: Any, rhs: list, k: int) -> list:
    return [env.left2(xp, e, bra, t[k]) if op is None else env.left3(xp, e, bra, op[k], t[k])
            for e, (op, t) in zip(envs, rhs)]


def _rhs_right(xp: Any, envs: list, bra: Any, rhs: list, k: int) -> list:
    return [env.right2(xp, e, bra, t[k]) if op is None else env.right3(xp, e, bra, op[k], t[k])
            for e, (op, t) in zip(envs, rhs)]


def _rhs_project(xp: Any, left: list, right: list, rhs: list, k: int) -> Any:
    out = None
    for l_env, r_env, (op, t) in zip(left, right, rhs):
        term = env.project2(xp, l_env, t[k], r_env) if op is None else env.apply1(
            xp, l_env, op[k], r_env, t[k])
        out = term if out is None else out + term
    return out


def _sweep(xp: Any, a: list, rhs: list, x: list, z: list | None, tol_trunc: float,
           tol_local: float, max_rank: int | None, local_solver: str, info: AmenInfo) -> float:
    """One left-to-right AMEn pass over right-orthogonal x (and z); x, z updated in place."""
    d = len(x)
    dt, dev = xp.dtype(x[0]), xp.device(x[0])
    opts = [env.op_layout(xp, c) for c in a]  # the operator's layouts, once per sweep
    one3 = env.ones_env(xp, dt, dev)
    # right interfaces, index k = bond to the right of core k-1
    xa_r = [None] * (d + 1)
    xf_r = [None] * (d + 1)
    za_r = [None] * (d + 1)
    zf_r = [None] * (d + 1)
    xa_r[d], za_r[d] = one3, one3
    xf_r[d] = _rhs_env_init(xp, rhs, dt, dev)
    zf_r[d] = _rhs_env_init(xp, rhs, dt, dev)
    for k in range(d - 1, 0, -1):
        xa_r[k] = env.right3(xp, xa_r[k + 1], x[k], a[k], x[k], opts[k])
        xf_r[k] = _rhs_right(xp, xf_r[k + 1], x[k], rhs, k)
        if z is not None:
            za_r[k] = env.right3(xp, za_r[k + 1], z[k], a[k], x[k], opts[k])
            zf_r[k] = _rhs_right(xp, zf_r[k + 1], z[k], rhs, k)
    xa_l, xf_l = one3, _rhs_env_init(xp, rhs, dt, dev)
    za_l, zf_l = one3, _rhs_env_init(xp, rhs, dt, dev)
    pending = []  # the local residuals' norms, read once at the end
    for k in range(d):
        rhs_k = _rhs_project(xp, xf_l, xf_r[k + 1], rhs, k)
        shape = xp.shape(x[k])
        u0 = x[k]

        op = env.one_site(xp, xa_l, a[k], xa_r[k + 1], opts[k])

        if local_solver == "identity":  # orthonormal bases: the projection is the solution
            u, norms = rhs_k, xp.stack([xp.norm(rhs_k), xp.norm(rhs_k - u0)])
        else:
            u, norms = _local_solve(xp, op, rhs_k, u0, shape, tol_local, local_solver, info,
                                    (xa_l, a[k], xa_r[k + 1]))
        pending.append(norms)
        if k == d - 1:
            x[k] = u
            break
        r, n, rr = shape
        mat = xp.reshape(u, (r * n, rr))
        if local_solver == "identity":
            # an SVD: tolerances near tol discard weights below the Gram matrix's noise
            part = env.split(xp, mat, tol_trunc, max_rank, gram=False)
            uu, carry = part.ortho, part.other                          # (rho, r')
        else:
            uu, carry = residual_truncation(xp, mat, op, rhs_k, (r, n, rr), tol_trunc,
                                            max_rank, _apply_flops(xp, xa_l, a[k], xa_r[k + 1]))
        x_trunc = xp.reshape(uu @ carry, (r, n, rr))
        if z is not None:
            # residual f - A x of the new solution, seen through x on the left and z on the right
            enrich = _rhs_project(xp, xf_l, zf_r[k + 1], rhs, k) - env.one_site(
                xp, xa_l, a[k], za_r[k + 1], opts[k])(x_trunc)
            zres = _rhs_project(xp, zf_l, zf_r[k + 1], rhs, k) - env.one_site(
                xp, za_l, a[k], za_r[k + 1], opts[k])(x_trunc)
            q, _ = xp.qr(xp.reshape(zres, (-1, xp.shape(zres)[2])), signs=False)
            z[k] = xp.reshape(q, (xp.shape(zres)[0], n, -1))
            kq = xp.shape(enrich)[2]
            aug = xp.concatenate([uu, xp.reshape(enrich, (r * n, kq))], axis=1)
            qa, ra = xp.qr(aug, signs=False)  # bases: their signs do not matter
            carry = ra @ xp.concatenate(
                [carry, xp.zeros((kq, rr), dtype=xp.dtype(carry), device=dev)], axis=0)
            uu = qa
        new_r = xp.shape(uu)[1]
        x[k] = xp.reshape(uu, (r, n, new_r))
        x[k + 1] = xp.einsum("ab,bnc->anc", carry, x[k + 1])
        xa_l = env.left3(xp, xa_l, x[k], a[k], x[k], opts[k])
        xf_l = _rhs_left(xp, xf_l, x[k], rhs, k)
        if z is not None:
            # z's next core must match its new left rank: re-project it from the residual
            za_l = env.left3(xp, za_l, z[k], a[k], x[k], opts[k])
            zf_l = _rhs_left(xp, zf_l, z[k], rhs, k)
            z[k + 1] = _fit_rank(xp, z[k + 1], xp.shape(z[k])[2])
    norms = np.asarray(xp.to_numpy(xp.stack(pending)), dtype=np.float64)  # one read
    return float(np.max(norms[:, 1] / np.maximum(norms[:, 0], 1e-300)))


def _apply_flops(xp: Any, left: Any, core: Any, right: Any) -> float:
    """Flops of one application of the one-site operator (:func:`env.k_apply1_fused`)."""
    (a, ra, c), (_, n, m, rb), (b, _, d) = xp.shape(left), xp.shape(core), xp.shape(right)
    return 2.0 * a * d * (ra * c * m + ra * n * m * rb + n * rb * b)


def _fit_rank(xp: Any, core: Any, left_rank: int) -> Any:
    """Pad or cut the left rank of a z core (its values are recomputed before use)."""
    r, n, rr = xp.shape(core)
    if r == left_rank:
        return core
    if r > left_rank:
        return core[:left_rank]
    pad = xp.zeros((left_rank - r, n, rr), dtype=xp.dtype(core), device=xp.device(core))
    return xp.concatenate([core, pad], axis=0)


def _dense_pays(size: int, xp: Any, like: Any) -> bool:
    """Whether ``"auto"`` solves a local system of `size` unknowns densely: always up to
    400; on an accelerator while the LU's ``2/3 size^3`` flops cost less than the ~300
    launches of a few matrix-free GMRES iterations (20 steps of ~15 operations)."""
    return size <= 400 or 2 * size**3 <= 3 * 300 * xp.launch_flops(like)


def _local_solve(xp: Any, op: Callable, rhs: Any, u0: Any, shape: tuple, tol: float,
                 solver: str, info: AmenInfo, parts: tuple) -> tuple[Any, Any]:
    """Solve the local system; return the solution and the norms ``(‖g‖, ‖g - B u_0‖)``
    of the right-hand side and of the old core's residual, on the device (the sweep reads
    them all at its end; only GMRES reads them at once, to skip a core that meets `tol`)."""
    size = shape[0] * shape[1] * shape[2]
    b = xp.reshape(rhs, (-1,))
    r0 = b - xp.reshape(op(u0), (-1,))
    norms = xp.stack([xp.norm(b), xp.norm(r0)])
    if solver == "direct" or solver == "auto" and _dense_pays(size, xp, rhs):
        left, core, right = parts
        mat = xp.reshape(xp.einsum("aAc,AijB,bBd->aibcjd", left, core, right), (size, size))
        try:
            u = xp.solve(mat, b)
        except Exception as exc:  # LAPACK's (or a framework's) singular-matrix error
            raise ArgumentError(f"amen_solve: a local system is singular ({exc}); A must be "
                                "nonsingular") from exc
    else:
        host = xp.to_numpy(norms)
        if float(host[1]) <= tol * max(float(host[0]), 1e-300):
            return u0, norms
        u, _, iters = gmres_run(op, rhs, u0, tol, 40, 400, warn=False)
        info.local_iterations += iters
    return xp.reshape(u, shape), norms
