"""Projector-splitting (KSL / TDVP) integration of ``dx/dt = A x`` in TT format.

Lubich, Oseledets, Vandereycken, "Time integration of tensor trains", SIAM J.
Numer. Anal. 53 (2015); Haegeman et al., "Unifying time evolution and
optimization with matrix product states", PRB 94 (2016). Each step is the
symmetric (second-order) composition of a left-to-right and a right-to-left
half-step: every core is evolved forward with its one-site effective operator,
and every bond backward with its zero-site operator. The local exponentials
are computed by Krylov (Arnoldi) on the backend.

The two-site variant (``method="2site"``) evolves neighbouring pairs of cores
forward and single cores backward; splitting each evolved pair by a truncated
SVD lets the ranks grow (or shrink) to the accuracy ``eps`` -- from a product
state, for instance, which the one-site scheme keeps at rank one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._info import IterationInfo, Timer, compiled, warn_not_converged
from .._progress import Reporter
from .._validation import (
    DefaultTol,
    check_count,
    check_eps,
    check_finite_cores,
    check_option,
    check_positive_int,
    check_real,
    honour_eps,
    safe_exponent,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, NonFiniteError, ShapeError
from ..linalg.krylov import MAX_SUBSTEPS, expm_run
from . import _env as env
from ._scale import balanced
from .matrix import TTMatrix
from .round import apply_scale
from .tensor import TTTensor

__all__ = ["TdvpInfo", "tdvp"]


@dataclass
class TdvpInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of :func:`tdvp`.

    ``iterations`` counts time steps; ``errors`` holds, for the two-site
    method, the largest relative truncation error of a step (empty otherwise).

    Attributes
    ----------
    max_ranks : list of int
        Largest rank after each step.
    """

    max_ranks: list = field(default_factory=list)


@host_eager
def tdvp(A: TTMatrix, x0: TTTensor, t: float, steps: int = 10, krylov_dim: int = 30,
         tol: float = DefaultTol(1e-12), method: str = "1site", eps: float = DefaultTol(1e-10),
         max_rank: int | None = None, return_info: bool = False,
         callback: Callable | None = None, verbose: bool = False,
         progress: bool = False) -> Any:
    """Integrate ``dx/dt = A x`` from ``x0`` to time `t`.

    ``method="1site"`` keeps the ranks of `x0`; ``method="2site"`` adapts them
    to the relative truncation accuracy `eps` per bond (at most `max_rank`).

    For the Schrödinger equation pass ``A = -1j * H`` and a complex ``x0``; the
    norm and the energy ``<x|H|x>`` are then conserved up to the Krylov
    tolerance. With ranks large enough to be exact, the result is
    ``expm(t A) x0`` up to the splitting error ``O((t/steps)^2)``, which
    vanishes for exact ranks.

    Parameters
    ----------
    A : TTMatrix
        Square, ``row_shape == col_shape == x0.shape``.
    x0 : TTTensor
    t : float
        Final time (may be negative).
    steps : int, optional
        Number of time steps (each a symmetric sweep pair).
    krylov_dim : int, optional
        Arnoldi basis size for the local exponentials.
    tol : float, optional
        Accuracy of the local exponentials. Below the resolution of the data's dtype
        (4 unit roundoffs; the defaults are for double precision) it is raised to it,
        with a :class:`~tnlib.PrecisionWarning`; so is `eps`.
    method : {"1site", "2site"}, optional
    eps : float, optional
        Two-site method: relative accuracy of each split of a bond.
    max_rank : int, optional
        Two-site method: upper bound on the ranks.
    return_info : bool, optional
        Also return a :class:`TdvpInfo`.
    callback : callable, optional
        ``callback(info)`` after every step.
    verbose : bool, optional
        One line per step: time, max rank, seconds.
    progress : bool, optional
        A progress bar over the steps (needs tqdm).

    Returns
    -------
    TTTensor, or (TTTensor, TdvpInfo)
        Dtype and backend of `x0`; its ranks with the one-site method.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> h = tt.laplacian(4, 3).to(dtype="complex128")
    >>> x0 = tt.random((4, 4, 4), (4, 4), seed=0, dtype="complex128")
    >>> x = tt.tdvp(-1j * h, x0, t=0.5, steps=4)
    >>> bool(abs(float(x.norm()) - float(x0.norm())) < 1e-10 * float(x0.norm()))
    True

    The two-site method grows the ranks from a product (Néel) state of the
    Heisenberg chain:

    >>> sp, sz = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([0.5, -0.5])
    >>> chain = tt.nearest_neighbor(6, pair=[(0.5, sp, sp.T), (0.5, sp.T, sp), (1.0, sz, sz)],
    ...                             dtype="complex128")
    >>> neel = tt.TTTensor([np.eye(2, dtype=complex)[k % 2].reshape(1, 2, 1) for k in range(6)])
    >>> y = tt.tdvp(-1j * chain, neel, t=1.0, steps=10, method="2site")
    >>> y.ranks
    (1, 2, 4, 8, 4, 2, 1)
    """
    if not isinstance(A, TTMatrix) or not isinstance(x0, TTTensor):
        raise ArgumentError("tdvp: expects a TTMatrix A and a TTTensor x0")
    if A.row_shape != A.col_shape:
        raise ShapeError(f"tdvp: A must be square, got row_shape {A.row_shape} and col_shape "
                         f"{A.col_shape}")
    if A.col_shape != x0.shape:
        raise ShapeError(f"tdvp: A has shape {A.col_shape} but x0 has shape {x0.shape}")
    steps = check_positive_int(steps, "tdvp", "steps")
    t = check_real(t, "tdvp", "t")
    for name, z in (("A", A), ("x0", x0)):
        check_finite_cores(z, "tdvp", name)
    check_option(method, ("1site", "2site"), "tdvp", "method")
    eps = check_eps(eps, "tdvp")
    krylov_dim = check_count(krylov_dim, "tdvp", "krylov_dim", 2, 1000)
    cap = None if max_rank is None else check_positive_int(max_rank, "tdvp", "max_rank")
    xp = backend_of(A, x0)
    da, dx = xp.dtype_name(A.cores[0]), xp.dtype_name(x0.cores[0])
    if da != dx:
        raise ArgumentError(f"tdvp: A has dtype {da} but x0 has {dx}; for the Schrödinger "
                            "equation convert both to complex")
    # what the data's dtype resolves: a warning and its floor, not Krylov runs and
    # truncations that chase rounding noise
    eps = honour_eps(eps, xp, x0.cores[0], "tdvp")
    tol = honour_eps(check_eps(tol, "tdvp", "tol"), xp, x0.cores[0], "tdvp", name="tol")
    dt = float(t) / steps
    d = x0.ndim
    # A = 2^a_exp * ops: an operator near the float limits evolves at unit scale, for
    # times 2^a_exp longer
    ops, a_exp = balanced(list(A.cores), xp, limit=safe_exponent(A.cores[0], xp))
    try:
        time_unit = math.ldexp(1.0, a_exp)
    except OverflowError:
        raise ArgumentError(f"tdvp: A's scale (2^{a_exp}) is beyond the float range") from None
    opts = [env.op_layout(xp, c) for c in ops]  # the operator's layouts, once per call
    # x0 = exp(log_scale) * cores: the evolution is linear, the scale goes back at the end
    cores, log_scale = env.right_orthogonalize_scaled(xp, list(x0.cores))
    one = env.ones_env(xp, xp.dtype(cores[0]), xp.device(cores[0]))
    right = [None] * (d + 1)
    right[d] = one
    for k in range(d - 1, 0, -1):
        right[k] = env.right3(xp, right[k + 1], cores[k], ops[k], cores[k], opts[k])
    left = [one] + [None] * d
    info = TdvpInfo()
    timer = Timer()
    report = Reporter("tdvp", steps, verbose, progress, callback)
    apply0 = compiled(xp, env.k_apply0)

    dims: dict = {}  # Krylov dimension of the last forward (True) and backward step
    short = [0, 0]  # local exponentials accepted above tol, and all of them

    def evolve(v: Any, apply: Callable, tau: float) -> Any:
        # on an accelerator the first run of Krylov steps goes as far as the last alike
        # step's dimension (the same result; fewer reads)
        try:
            out, dims[tau > 0], missed = expm_run(apply, v, tau * time_unit, krylov_dim, tol,
                                                  ahead=dims.get(tau > 0))
        except NonFiniteError as err:  # finite input (checked): the evolution overflowed
            raise _not_finite(step, dt) from err
        short[0] += missed
        short[1] += 1
        return out

    if method == "2site" and d > 1:
        two_site = _TwoSite(xp, (ops, opts), cores, left, right, evolve, eps, cap)
    for step in range(1, steps + 1):
        half = dt / 2
        if method == "2site" and d > 1:
            info.errors.append(two_site.step(half))
            cores = two_site.cores
            _report(info, step, steps, dt, cores, timer, report, xp)
            continue
        for k in range(d):  # left to right
            cores[k] = evolve(cores[k], env.one_site(xp, left[k], ops[k], right[k + 1], opts[k]),
                              half)
            if k == d - 1:
                break
            r, n, rr = xp.shape(cores[k])
            q, rf = xp.qr(xp.reshape(cores[k], (r * n, rr)), signs=False)  # any basis
            cores[k] = xp.reshape(q, (r, n, xp.shape(q)[1]))
            left[k + 1] = env.left3(xp, left[k], cores[k], ops[k], cores[k], opts[k])
            rf = evolve(rf, lambda c, k=k: apply0(left[k + 1], right[k + 1], c), -half)
            cores[k + 1] = xp.einsum("ab,bnc->anc", rf, cores[k + 1])
        for k in range(d - 1, -1, -1):  # right to left
            cores[k] = evolve(cores[k], env.one_site(xp, left[k], ops[k], right[k + 1], opts[k]),
                              half)
            if k == 0:
                break
            r, n, rr = xp.shape(cores[k])
            q, rf = xp.qr(xp.conj(xp.transpose(xp.reshape(cores[k], (r, n * rr)))),
                          signs=False)
            cores[k] = xp.reshape(xp.conj(xp.transpose(q)), (xp.shape(q)[1], n, rr))
            right[k] = env.right3(xp, right[k + 1], cores[k], ops[k], cores[k], opts[k])
            lf = xp.conj(xp.transpose(rf))  # core = lf @ q^H
            lf = evolve(lf, lambda c, k=k: apply0(left[k], right[k], c), -half)
            cores[k - 1] = xp.einsum("anb,bc->anc", cores[k - 1], lf)
        _report(info, step, steps, dt, cores, timer, report, xp)
    report.close()
    if short[0]:  # one warning for the call, not one per local step
        warn_not_converged("tdvp", f"{short[0]} of {short[1]} local exponentials miss tol = "
                           f"{tol:g} with {krylov_dim} Krylov vectors (krylov_dim) even in "
                           f"{MAX_SUBSTEPS} sub-steps; the result's error may exceed it "
                           "(raise krylov_dim or steps)")
    info.converged = True
    info.stop_reason = f"{steps} steps done"
    result = TTTensor._from_cores(apply_scale(cores, log_scale, xp), xp)
    return (result, info) if return_info else result


def _not_finite(step: int, dt: float) -> NonFiniteError:
    """The error for a state that left the float range during step `step` (a
    :class:`NonFiniteError`, as the Krylov exponential's own)."""
    return NonFiniteError(f"tdvp: the solution is no longer finite at step {step} "
                         f"(t = {step * dt:g}): exp(t A) x0 overflows; integrate to a "
                         "shorter t or scale A")


def _report(info: TdvpInfo, step: int, steps: int, dt: float, cores: list, timer: Timer,
            report: Reporter, xp: Any) -> None:
    info.iterations = step
    if not xp.is_traced(cores[0]):  # one host read per step: NaN/inf anywhere shows here
        total = float(xp.item(sum(xp.norm(c) for c in cores)))
        if not math.isfinite(total):
            raise _not_finite(step, dt)
    info.max_ranks.append(max(xp.shape(c)[2] for c in cores))
    info.wall_time = timer()
    report(info, f"step {step:4d}/{steps}  t = {step * dt:.4g}  max rank "
                 f"{info.max_ranks[-1]}  {timer():.2f} s")


class _TwoSite:
    """Two-site TDVP sweeps over shared cores and interfaces (updated in place)."""

    def __init__(self, xp: Any, operator: tuple, cores: list, left: list, right: list,
                 evolve: Callable, eps: float, cap: int | None) -> None:
        ops, self.opts = operator  # the MPO cores and their layouts (env.op_layout)
        self.xp, self.ops, self.cores, self.left, self.right = xp, ops, cores, left, right
        self.evolve, self.cap = evolve, cap
        d = len(cores)
        self.eps = eps / max(1.0, (d - 1) ** 0.5)  # per split, as in rounding
        self.fused = [env.two_site_operator(xp, ops[k], ops[k + 1]) for k in range(d - 1)]
        self.gram = [True] * (d - 1)  # per bond: split by the Gram matrix (env.split)

    def _pair(self, k: int, tau: float) -> tuple[Any, float]:
        """Evolve cores k, k+1 together; return the (r n1, n2 r') matrix and its norm."""
        xp, c1, c2 = self.xp, self.cores[k], self.cores[k + 1]
        r, n1, _ = xp.shape(c1)
        _, n2, rr = xp.shape(c2)
        w = xp.einsum("anb,bmc->anmc", c1, c2)
        w = self.evolve(w, env.two_site(xp, self.left[k], self.fused[k], self.right[k + 2]),
                        tau)
        return xp.reshape(w, (r * n1, n2 * rr)), (r, n1, n2, rr)

    def _split(self, mat: Any, k: int, side: str) -> tuple[Any, Any, float]:
        """Truncated split of an evolved pair at bond `k` (:func:`env.split`): the
        orthonormal factor on `side`, the other, and the relative truncation error."""
        part = env.split(self.xp, mat, self.eps, self.cap, side, self.gram[k])
        self.gram[k] = part.gram_ok
        return part.ortho, part.other, part.lost**0.5

    def step(self, half: float) -> float:
        xp, cores, ops, left, right = self.xp, self.cores, self.ops, self.left, self.right
        opts = self.opts
        d = len(cores)
        worst = 0.0
        for k in range(d - 1):  # left to right
            mat, (r, n1, n2, rr) = self._pair(k, half)
            u, carry, err = self._split(mat, k, "left")
            worst = max(worst, err)
            rk = xp.shape(u)[1]
            cores[k] = xp.reshape(u, (r, n1, rk))
            cores[k + 1] = xp.reshape(carry, (rk, n2, rr))
            left[k + 1] = env.left3(xp, left[k], cores[k], ops[k], cores[k], opts[k])
            if k < d - 2:
                cores[k + 1] = self.evolve(cores[k + 1], env.one_site(
                    xp, left[k + 1], ops[k + 1], right[k + 2], opts[k + 1]), -half)
        for k in range(d - 2, -1, -1):  # right to left
            mat, (r, n1, n2, rr) = self._pair(k, half)
            vh, carry, err = self._split(mat, k, "right")
            worst = max(worst, err)
            rk = xp.shape(vh)[0]
            cores[k + 1] = xp.reshape(vh, (rk, n2, rr))
            cores[k] = xp.reshape(carry, (r, n1, rk))
            right[k + 1] = env.right3(xp, right[k + 2], cores[k + 1], ops[k + 1], cores[k + 1],
                                      opts[k + 1])
            if k > 0:
                cores[k] = self.evolve(cores[k], env.one_site(
                    xp, left[k], ops[k], right[k + 1], opts[k]), -half)
        return worst
