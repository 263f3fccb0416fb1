"""Projector-splitting (KSL / one-site TDVP) integration of ``dx/dt = A x`` at fixed TT-ranks.

Lubich, Oseledets, Vandereycken, "Time integration of tensor trains", SIAM J.
Numer. Anal. 53 (2015); Haegeman et al., "Unifying time evolution and
optimization with matrix product states", PRB 94 (2016). Each step is the
symmetric (second-order) composition of a left-to-right and a right-to-left
half-step: every core is evolved forward with its one-site effective operator,
and every bond backward with its zero-site operator. The local exponentials
are computed by Krylov (Arnoldi) on the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._info import IterationInfo, Timer, compiled
from .._validation import check_positive_int
from ..backends import backend_of
from ..errors import ArgumentError, ShapeError
from ..linalg.krylov import expm_krylov
from . import _env as env
from .matrix import TTMatrix
from .tensor import TTTensor

__all__ = ["TdvpInfo", "tdvp"]


@dataclass
class TdvpInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of :func:`tdvp`; ``errors`` stays empty.

    ``iterations`` counts time steps.
    """


def tdvp(A: TTMatrix, x0: TTTensor, t: float, steps: int = 10, krylov_dim: int = 30,
         tol: float = 1e-12, return_info: bool = False, callback: Callable | None = None,
         verbose: bool = False) -> Any:
    """Integrate ``dx/dt = A x`` from ``x0`` to time `t` with the ranks of `x0`.

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
        Accuracy of the local exponentials.
    return_info, callback, verbose : optional
        ``callback(info)`` after every step.

    Returns
    -------
    TTTensor, or (TTTensor, TdvpInfo)
        Same ranks, dtype and backend as `x0`.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> h = tt.laplacian(4, 3).to(dtype="complex128")
    >>> x0 = tt.random((4, 4, 4), (4, 4), seed=0, dtype="complex128")
    >>> x = tt.tdvp(-1j * h, x0, t=0.5, steps=4)
    >>> bool(abs(float(x.norm()) - float(x0.norm())) < 1e-10 * float(x0.norm()))
    True
    """
    if not isinstance(A, TTMatrix) or not isinstance(x0, TTTensor):
        raise ArgumentError("tdvp: expects a TTMatrix A and a TTTensor x0")
    if A.row_shape != A.col_shape:
        raise ShapeError(f"tdvp: A must be square, got row_shape {A.row_shape} and col_shape "
                         f"{A.col_shape}")
    if A.col_shape != x0.shape:
        raise ShapeError(f"tdvp: A has shape {A.col_shape} but x0 has shape {x0.shape}")
    steps = check_positive_int(steps, "tdvp", "steps")
    xp = backend_of(A, x0)
    da, dx = xp.dtype_name(A.cores[0]), xp.dtype_name(x0.cores[0])
    if da != dx:
        raise ArgumentError(f"tdvp: A has dtype {da} but x0 has {dx}; for the Schrödinger "
                            "equation convert both to complex")
    dt = float(t) / steps
    d = x0.ndim
    ops = list(A.cores)
    cores = env.right_orthogonalize(xp, list(x0.cores))
    one = env.ones_env(xp, xp.dtype(cores[0]), xp.device(cores[0]))
    right = [None] * (d + 1)
    right[d] = one
    for k in range(d - 1, 0, -1):
        right[k] = env.right3(xp, right[k + 1], cores[k], ops[k], cores[k])
    left = [one] + [None] * d
    info = TdvpInfo()
    timer = Timer()
    apply1, apply0 = compiled(xp, env.k_apply1), compiled(xp, env.k_apply0)

    def evolve(v: Any, apply: Callable, tau: float) -> Any:
        shape = xp.shape(v)
        out = expm_krylov(lambda u: xp.reshape(apply(xp.reshape(u, shape)), (-1,)),
                          xp.reshape(v, (-1,)), tau, krylov_dim=krylov_dim, tol=tol)
        return xp.reshape(out, shape)

    for step in range(1, steps + 1):
        half = dt / 2
        for k in range(d):  # left to right
            cores[k] = evolve(cores[k], lambda u, k=k: apply1(left[k], ops[k], right[k + 1],
                                                              u), half)
            if k == d - 1:
                break
            r, n, rr = xp.shape(cores[k])
            q, rf = xp.qr(xp.reshape(cores[k], (r * n, rr)))
            cores[k] = xp.reshape(q, (r, n, xp.shape(q)[1]))
            left[k + 1] = env.left3(xp, left[k], cores[k], ops[k], cores[k])
            rf = evolve(rf, lambda c, k=k: apply0(left[k + 1], right[k + 1], c), -half)
            cores[k + 1] = xp.einsum("ab,bnc->anc", rf, cores[k + 1])
        for k in range(d - 1, -1, -1):  # right to left
            cores[k] = evolve(cores[k], lambda u, k=k: apply1(left[k], ops[k], right[k + 1],
                                                              u), half)
            if k == 0:
                break
            r, n, rr = xp.shape(cores[k])
            q, rf = xp.qr(xp.conj(xp.transpose(xp.reshape(cores[k], (r, n * rr)))))
            cores[k] = xp.reshape(xp.conj(xp.transpose(q)), (xp.shape(q)[1], n, rr))
            right[k] = env.right3(xp, right[k + 1], cores[k], ops[k], cores[k])
            lf = xp.conj(xp.transpose(rf))  # core = lf @ q^H
            lf = evolve(lf, lambda c, k=k: apply0(left[k], right[k], c), -half)
            cores[k - 1] = xp.einsum("anb,bc->anc", cores[k - 1], lf)
        info.iterations = step
        info.wall_time = timer()
        if verbose:
            print(f"tdvp step {step:4d}/{steps}  t = {step * dt:.4g}  {timer():.2f} s")
        if callback is not None:
            callback(info)
    info.converged = True
    info.stop_reason = f"{steps} steps done"
    result = TTTensor._from_cores(cores, xp)
    return (result, info) if return_info else result
