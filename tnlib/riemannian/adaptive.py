"""Rank-adaptive Riemannian optimization: grow a bond where the gradient says it pays.

At a critical point of ``f`` on ``M_r`` the Riemannian gradient vanishes, but
the Euclidean gradient ``G`` may still have a component normal to the tangent
space. At bond ``k`` that component is read off the two-site gradient
``M_k = U_<k^H G V_>k+1^H`` (an ``(r_{k-1} n_k) x (n_{k+1} r_{k+1})`` matrix):
with ``P_U``, ``P_V`` the projectors onto the bond's current left and right
subspaces, ``(I - P_U) M_k (I - P_V)`` is what no rank-``r_k`` move can use.
Its largest singular value ``sigma_k`` is the first-order decrease rate of a
rank-``r_k + 1`` step ``x - t u v^H`` (the two-site picture of DMRG), so the
ranks grow at the bonds with the largest ``sigma_k``, along ``-u v^H``.

``M_k`` comes from a supplied Euclidean gradient (a TT or dense tensor) by
contraction, or from one reverse pass of ``f`` on the point with bond ``k``
widened by ``n_{k+1} r_{k+1}`` zero columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..tt.round import round as tt_round
from ..tt.svd import tt_svd
from ..tt.tensor import TTTensor
from .tangent import Frame, TangentVector, frame_of

__all__ = ["grow_ranks"]


def two_site_gradient(f: Callable | None, egrad: Callable | None, frame: Frame, k: int) -> Any:
    """``U_<k^H G V_>k+1^H`` as a ``(r_{k-1} n_k, n_{k+1} r_{k+1})`` matrix."""
    xp = frame.backend
    if egrad is not None:
        return _from_egrad(egrad, frame, k)
    left, right = frame.left, frame.right
    r0, n1, r1 = xp.shape(left[k])
    _, n2, r2 = xp.shape(right[k + 1])
    width = n2 * r2
    dt, dev = xp.dtype(frame.last), xp.device(frame.last)
    # y(P) = x + U_<k P Q V_>k+1 with Q = I: the bond k widened by n2 r2 columns
    q = xp.reshape(xp.eye(width, dtype=dt, device=dev), (width, n2, r2))
    bond = frame.bonds[k]
    a0 = xp.reshape(xp.reshape(left[k], (r0 * n1, r1)) @ bond, (r0, n1, r1))

    def widened(p: Any) -> Any:
        a = xp.concatenate([a0, p], axis=2)
        b = xp.concatenate([right[k + 1], q], axis=0)
        cores = list(left[:k]) + [a, b] + list(right[k + 2:])
        return f(TTTensor._from_cores(cores, xp))

    zero = xp.zeros((r0, n1, width), dtype=dt, device=dev)
    return xp.reshape(xp.grad(widened)(zero), (r0 * n1, width))


def _from_egrad(egrad: Callable, frame: Frame, k: int) -> Any:
    xp = frame.backend
    g = egrad(frame.point())
    if isinstance(g, TangentVector):
        g = TTTensor._from_cores(g.cores, xp)
    if not isinstance(g, TTTensor):
        g = tt_svd(g, eps=0.0)
    zc = list(g.cores)
    d = frame.ndim
    left = xp.ones((1, 1), dtype=xp.dtype(frame.last), device=xp.device(frame.last))
    for j in range(k):
        u = frame.left[j]
        r, n, rr = xp.shape(u)
        rz, _, rz2 = xp.shape(zc[j])
        t = xp.reshape(left @ xp.reshape(zc[j], (rz, n * rz2)), (r * n, rz2))
        left = xp.conj(xp.transpose(xp.reshape(u, (r * n, rr)))) @ t
    right = xp.ones((1, 1), dtype=xp.dtype(frame.last), device=xp.device(frame.last))
    for j in range(d - 1, k + 1, -1):
        v = frame.right[j]
        r = xp.shape(v)[0]
        rz, n, rz2 = xp.shape(zc[j])
        t = xp.reshape(xp.reshape(zc[j], (rz * n, rz2)) @ right, (rz, -1))
        right = t @ xp.conj(xp.transpose(xp.reshape(v, (r, -1))))
    rz0, n1, rz1 = xp.shape(zc[k])
    _, n2, rz2 = xp.shape(zc[k + 1])
    two = xp.reshape(xp.reshape(zc[k], (rz0 * n1, rz1)) @ xp.reshape(zc[k + 1], (rz1, n2 * rz2)),
                     (rz0, n1 * n2, rz2))
    m = xp.einsum("ab,bjc,cd->ajd", left, two, right)  # (r0, n1 n2, r2)
    r0, r2 = xp.shape(m)[0], xp.shape(m)[2]
    return xp.reshape(xp.reshape(m, (r0, n1, n2, r2)), (r0 * n1, n2 * r2))


def grow_ranks(f: Callable | None, egrad: Callable | None, x: TTTensor, max_rank: int,
               value: Callable[[TTTensor], float], min_gain: float = 0.0
               ) -> tuple[TTTensor, list[int]]:
    """`x` moved along the best rank-one normal direction at every bond worth growing.

    Returns the new point (ranks + 1 at the grown bonds, `f` decreased) and the
    grown bonds; the point is `x` and the list empty when no bond can grow,
    no normal gradient exceeds `min_gain`, or no step along the normal
    directions decreases `f`.
    """
    frame = frame_of(x, "minimize")
    xp = x.backend
    d = frame.ndim
    ranks, shape = frame.ranks, frame.shape
    gains = []
    for k in range(d - 1):
        r0, n1, r1 = ranks[k], shape[k], ranks[k + 1]
        n2, r2 = shape[k + 1], ranks[k + 2]
        if r1 + 1 > min(max_rank, r0 * n1, n2 * r2):
            continue
        m = two_site_gradient(f, egrad, frame, k)
        u = xp.reshape(frame.left[k], (r0 * n1, r1))
        v = xp.reshape(frame.right[k + 1], (r1, n2 * r2))
        m = m - u @ (xp.conj(xp.transpose(u)) @ m)
        m = m - (m @ xp.conj(xp.transpose(v))) @ v
        uu, s, vh = xp.svd(m)
        sigma = float(xp.item(s[0]))
        if sigma > 0 and math.isfinite(sigma):
            gains.append((sigma, k, uu[:, 0], vh[0, :]))
    if not gains or max(g[0] for g in gains) <= min_gain:
        return x, []
    top = max(g[0] for g in gains)
    chosen = [g for g in gains if g[0] >= 1e-3 * top]  # grow only where it pays in comparison
    terms = []
    for sigma, k, uvec, vvec in chosen:
        r0, n1, n2, r2 = ranks[k], shape[k], shape[k + 1], ranks[k + 2]
        cores = list(frame.left[:k]) + [xp.reshape(sigma * uvec, (r0, n1, 1)),
                                        xp.reshape(vvec, (1, n2, r2))] + list(frame.right[k + 2:])
        terms.append(TTTensor._from_cores(cores, xp))
    bounds = list(ranks[1:-1])
    for _, k, _, _ in chosen:
        bounds[k] += 1
    f0 = value(x)
    t = 1e-2 * float(xp.item(xp.norm(frame.last))) / top  # first trial: |t sigma| = 1% of |x|
    for _ in range(30):  # backtrack until f decreases
        y = x
        for term in terms:
            y = y - t * term
        y = tt_round(y, max_rank=bounds)
        if value(y) < f0:
            return y, [k for _, k, _, _ in chosen]
        t *= 0.25
    return x, []
