"""Interfaces (environments) and local operators shared by the TT solvers.

Conventions: TT cores ``(r, n, r')``, TTMatrix cores ``(R, m, n, R')`` with the
row index ``m`` before the column index ``n``. A left interface of
``<y| A |x>`` at bond ``k`` has shape ``(p, R, r)`` (bra rank, operator rank,
ket rank); a right interface the same. Two-index interfaces ``(p, s)`` hold
``<y | f>`` for a TT right-hand side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._info import compiled, grouped
from ..backends import get as _get_backend

_NUMPY = _get_backend("numpy")


def ones_env(xp: Any, dtype: Any, device: Any, three: bool = True) -> Any:
    return xp.ones((1, 1, 1) if three else (1, 1), dtype=dtype, device=device)


@grouped
def op_layout(xp: Any, op: Any) -> Any:
    """An MPO core ``(A, i, j, B)`` laid out as the matrix ``((i B), (A j))``: the form in
    which :func:`left3`, :func:`right3` and :func:`k_apply1_fused` apply it as one
    (broadcast) matrix product. The solvers make it once per core and call."""
    ra, m, n, rb = xp.shape(op)
    return xp.reshape(xp.transpose(op, (1, 3, 0, 2)), (m * rb, ra * n))


def left3(xp: Any, env: Any, bra: Any, op: Any, ket: Any, opt: Any = None) -> Any:
    """``(p, R, r) -> (p', R', r')`` across one core of ``<bra| op |ket>``.

    Three matrix products and no transposed copies (``opt``: the :func:`op_layout` of
    `op`, when the caller keeps it): ``env ket`` as ``(a, (A j), d)``, the operator on it
    as ``(a, (i B), d)``, then ``bra^H`` over ``(a i)``.
    """
    return _left3(xp, env, bra, op_layout(xp, op) if opt is None else opt, ket)


@grouped
def _left3(xp: Any, env: Any, bra: Any, opt: Any, ket: Any) -> Any:
    a, ra, b = xp.shape(env)
    _, m, c = xp.shape(bra)
    _, n, d = xp.shape(ket)
    rb = xp.shape(opt)[0] // m
    t = xp.reshape(xp.reshape(env, (a * ra, b)) @ xp.reshape(ket, (b, n * d)), (a, ra * n, d))
    t = opt @ t                                                           # (a, i B, d)
    out = xp.transpose(xp.conj(xp.reshape(bra, (a * m, c)))) @ xp.reshape(t, (a * m, rb * d))
    return xp.reshape(out, (c, rb, d))


def right3(xp: Any, env: Any, bra: Any, op: Any, ket: Any, opt: Any = None) -> Any:
    """``(p', R', r') -> (p, R, r)`` across one core of ``<bra| op |ket>`` (the mirror of
    :func:`left3`, as three matrix products)."""
    return _right3(xp, env, bra, op_layout(xp, op) if opt is None else opt, ket)


@grouped
def _right3(xp: Any, env: Any, bra: Any, opt: Any, ket: Any) -> Any:
    c, rb, d = xp.shape(env)
    a, m, _ = xp.shape(bra)
    b, n, _ = xp.shape(ket)
    ra = xp.shape(opt)[1] // n
    t = xp.reshape(xp.reshape(xp.conj(bra), (a * m, c)) @ xp.reshape(env, (c, rb * d)),
                   (a, m * rb, d))                                        # (a, i B, d)
    t = xp.transpose(opt) @ t                                             # (a, A j, d)
    out = xp.reshape(t, (a * ra, n * d)) @ xp.transpose(xp.reshape(ket, (b, n * d)))
    return xp.reshape(out, (a, ra, b))


@grouped
def left2(xp: Any, env: Any, bra: Any, ket: Any) -> Any:
    """``(p, s) -> (p', s')`` across one core of ``<bra | ket>``."""
    return xp.einsum("ab,aic,bid->cd", env, xp.conj(bra), ket)


@grouped
def right2(xp: Any, env: Any, bra: Any, ket: Any) -> Any:
    return xp.einsum("aic,bid,cd->ab", xp.conj(bra), ket, env)


@grouped
def apply1(xp: Any, left: Any, op: Any, right: Any, u: Any) -> Any:
    """One-site effective operator: ``u (r, n, r') -> (r, m, r')``."""
    return xp.einsum("aAc,AijB,bBd,cjd->aib", left, op, right, u)


@grouped
def apply0(xp: Any, left: Any, right: Any, c: Any) -> Any:
    """Zero-site (bond) effective operator on ``c (r, r')``: left (r, R, r), right (r', R, r')."""
    return xp.einsum("aAc,bAd,cd->ab", left, right, c)


@grouped
def project2(xp: Any, left: Any, core: Any, right: Any) -> Any:
    """Projection of a TT right-hand side core: ``left (p, s), core (s, n, s'), right (p', s')``."""
    return xp.einsum("ab,bic,dc->aid", left, core, right)


def reverse_tt(xp: Any, cores: list) -> list:
    """Cores of the same tensor with the mode order reversed."""
    return [xp.transpose(c, (2, 1, 0)) for c in reversed(cores)]


def reverse_op(xp: Any, cores: list) -> list:
    return [xp.transpose(c, (3, 1, 2, 0)) for c in reversed(cores)]


def right_orthogonalize(xp: Any, cores: list) -> list:
    """QR sweep from the right: cores 1..d-1 right-orthonormal (norm in core 0)."""
    from .round import qr_right

    cores = list(cores)
    for k in range(len(cores) - 1, 0, -1):
        qr_right(cores, k, xp)
    return cores


def svd_split(xp: Any, mat: Any, eps: float, max_rank: int | None
              ) -> tuple[Any, Any, Any, float]:
    """Truncated SVD of a local matrix: keep ``sum(discarded s^2) <= eps^2 sum(s^2)``.

    Returns ``u, s, vh`` truncated and the kept energy ``sum(kept s^2)``, from one read of
    the singular values."""
    from ..linalg.svd import truncation_rank

    u, s, vh = xp.svd(mat)
    sv = np.asarray(xp.to_numpy(s), dtype=np.float64)
    delta = eps * float(np.linalg.norm(sv)) if eps > 0 else 0.0
    r = truncation_rank(sv, delta, max_rank, _NUMPY)  # values on the host
    return u[:, :r], s[:r], vh[:r, :], float(np.sum(sv[:r] ** 2))


# array-first forms for tnlib._info.compiled (jax.jit / tf.function, cached per shape)
def one_site(xp: Any, left: Any, op: Any, right: Any, opt: Any = None) -> Any:
    """``u -> `` the one-site effective operator applied to ``u``, its operands laid out once
    per local problem and :func:`k_apply1_fused` compiled (:func:`tnlib._info.compiled`);
    `opt` is the :func:`op_layout` of `op` if kept."""
    left2, rightp = _interface_layouts(xp, left, right)
    opt = op_layout(xp, op) if opt is None else opt
    apply = compiled(xp, k_apply1_fused)
    return lambda u: apply(left2, opt, rightp, u)


@grouped
def _interface_layouts(xp: Any, left: Any, right: Any) -> tuple[Any, Any]:
    """The left interface as ``((a A), c)`` and the right one as ``((B d), b)``."""
    a, ra, c = xp.shape(left)
    rr, rb, rd = xp.shape(right)
    return (xp.reshape(left, (a * ra, c)),
            xp.reshape(xp.transpose(right, (1, 2, 0)), (rb * rd, rr)))


def k_apply1_fused(left2: Any, opt: Any, rightp: Any, u: Any, xp: Any) -> Any:
    """:func:`apply1` on the layouts of :func:`one_site`: ``u (c, j, d) -> (a, i, b)``.

    ``left @ u`` gives ``(a, (A j), d)``, the operator ``((i B), (A j))`` acts on it as one
    broadcast product, giving ``(a, (i B), d)``, whose ``((a i), (B d))`` view meets the
    right interface ``((B d), b)``: ``O(R n r^3 + R^2 n^2 r^2)`` flops, three kernels.
    """
    _, c = xp.shape(left2)
    _, n, d = xp.shape(u)
    ra = xp.shape(opt)[1] // n
    a = xp.shape(left2)[0] // ra
    bd, b = xp.shape(rightp)
    y = xp.reshape(left2 @ xp.reshape(u, (c, n * d)), (a, ra * n, d))
    y = opt @ y                                                           # (a, i B, d)
    m = xp.shape(opt)[0] * d // bd
    return xp.reshape(xp.reshape(y, (a * m, bd)) @ rightp, (a, m, b))


def two_site_operator(xp: Any, op1: Any, op2: Any) -> Any:
    """``O[(i k C), (A j l)]`` of two neighbouring MPO cores, for :func:`two_site`."""
    ra, n1, m1, _ = xp.shape(op1)
    _, n2, m2, rc = xp.shape(op2)
    o = xp.einsum("AijB,BklC->ikCAjl", op1, op2)
    return xp.reshape(o, (n1 * n2 * rc, ra * m1 * m2))


def two_site(xp: Any, left: Any, o: Any, right: Any, shape: tuple | None = None) -> Any:
    """``w -> `` the two-site effective operator applied to ``w (r, n1, n2, r')``, its
    interfaces laid out once per local problem and :func:`k_apply2_fused` compiled
    (:func:`tnlib._info.compiled`); `o` is the :func:`two_site_operator`. With `shape`,
    ``w``'s, the map takes and gives flat vectors (the reshapes inside the compiled
    program): a Krylov loop then compiles once per vector length, not per shape."""
    left2, rightp = _interface_layouts(xp, left, right)
    apply = compiled(xp, k_apply2_fused, shape=shape)
    return lambda w: apply(left2, o, rightp, w)


def k_apply2_fused(left2: Any, o: Any, rightp: Any, w: Any, xp: Any,
                   shape: tuple | None = None) -> Any:
    """The two-site effective operator ``aAc,AijB,BklC,bCd,cjld->aikb`` on the layouts of
    :func:`two_site`: ``w (c, j, l, d) -> (a, i, k, b)`` for square MPO cores (``i``,
    ``k`` of the sizes of ``j``, ``l``), as the eigen- and evolution solvers have; flat
    ``w`` and result if `shape` (``w``'s) is given.

    ``left @ w`` gives ``(a, (A j l), d)``, the operator ``((i k C), (A j l))`` acts on it
    as one broadcast product, giving ``(a, (i k C), d)``, whose ``((a i k), (C d))`` view
    meets the right interface ``((C d), b)``: three kernels and no transposed copy,
    ``O(R n^2 r^3 + R^2 n^4 r^2)`` flops.
    """
    c, n1, n2, d = xp.shape(w) if shape is None else shape
    a = xp.shape(left2)[0] * n1 * n2 // xp.shape(o)[1]
    cd, b = xp.shape(rightp)
    y = xp.reshape(left2 @ xp.reshape(w, (c, n1 * n2 * d)), (a, -1, d))
    y = o @ y                                                             # (a, i k C, d)
    out = xp.reshape(y, (-1, cd)) @ rightp
    return xp.reshape(out, (a, n1, n2, b) if shape is None else (-1,))


def k_apply0(left: Any, right: Any, c: Any, xp: Any) -> Any:
    return apply0(xp, left, right, c)
