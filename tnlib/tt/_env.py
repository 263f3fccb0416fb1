"""Interfaces (environments) and local operators shared by the TT solvers.

Conventions: TT cores ``(r, n, r')``, TTMatrix cores ``(R, m, n, R')`` with the
row index ``m`` before the column index ``n``. A left interface of
``<y| A |x>`` at bond ``k`` has shape ``(p, R, r)`` (bra rank, operator rank,
ket rank); a right interface the same. Two-index interfaces ``(p, s)`` hold
``<y | f>`` for a TT right-hand side.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .._info import compiled, grouped
from ..backends import get as _get_backend
from ..linalg.svd import gram_noise, gram_resolves, truncation_rank

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
    """``(p, s) -> (p', s')`` across one core of ``<bra | ket>``: two matrix products, no
    transposed copy."""
    p, s = xp.shape(env)
    _, n, c = xp.shape(bra)
    d = xp.shape(ket)[2]
    t = xp.reshape(env @ xp.reshape(ket, (s, n * d)), (p * n, d))
    return xp.transpose(xp.conj(xp.reshape(bra, (p * n, c)))) @ t


@grouped
def right2(xp: Any, env: Any, bra: Any, ket: Any) -> Any:
    """``(p', s') -> (p, s)`` across one core of ``<bra | ket>``, as :func:`left2`."""
    a, n, c = xp.shape(bra)
    b, _, d = xp.shape(ket)
    t = xp.reshape(xp.reshape(xp.conj(bra), (a * n, c)) @ env, (a, n * d))
    return t @ xp.transpose(xp.reshape(ket, (b, n * d)))


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
    """Projection of a TT right-hand side core: ``left (p, s), core (s, n, s'), right (p', s')``
    (two matrix products, no transposed copy)."""
    p, s = xp.shape(left)
    _, n, c = xp.shape(core)
    t = xp.reshape(left @ xp.reshape(core, (s, n * c)), (p * n, c))
    return xp.reshape(t @ xp.transpose(right), (p, n, xp.shape(right)[0]))


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


def right_orthogonalize_scaled(xp: Any, cores: list) -> tuple[list, Any]:
    """:func:`right_orthogonalize` with each factor carried left divided by its largest
    magnitude, and core 0 at the end too if that is extreme (:func:`round.extreme_peak`):
    the train is ``exp(log_scale)`` times the cores returned, whose first one has norms
    and squares in range whatever the train's norm (that of a random train of a few
    hundred cores overflows, as do squares of cores near the float limits). Returns the
    cores and `log_scale`, a 0-d array (not read)."""
    from .round import extreme_peak, qr_right

    cores = list(cores)
    scales = [qr_right(cores, k, xp, normalize=True) for k in range(len(cores) - 1, 0, -1)]
    head = extreme_peak(cores[0], xp)
    cores[0] = cores[0] / xp.astype(head, xp.dtype(cores[0]))
    return cores, xp.sum(xp.log(xp.stack(scales + [head])))


class Split(NamedTuple):
    """A truncated two-factor split of a local matrix (:func:`split`)."""

    ortho: Any   # orthonormal factor: columns (m, r) for side "left", rows (r, n) for "right"
    other: Any   # the rest: (r, n) for "left" (``mat ~ ortho @ other``), (m, r) for "right"
    kept: float  # fraction of ``‖mat‖_F^2`` in the kept singular values
    lost: float  # fraction in the discarded ones (summed: not 1 - kept, no cancellation)
    norm: float  # ``‖mat‖_F``, from singular values scaled by the largest: no overflow
    gram_ok: bool  # a Gram matrix resolves this cut (gram_resolves): worth trying next


def split(xp: Any, mat: Any, eps: float, max_rank: int | None, side: str = "left",
          gram: bool = True) -> Split:
    """Truncated split of a local matrix: discard ``sum(s^2) <= eps^2 sum(s^2)`` (and keep
    at most `max_rank`), the orthonormal factor on `side`, from one read of the spectrum.

    With `gram`, the Hermitian Gram matrix on `side` (``mat mat^H`` for ``"left"``) is
    diagonalized instead of taking an SVD: about half the host time, and on a GPU an
    eigensolver instead of cuSOLVER's slow small SVDs. Its eigenvectors are orthonormal to
    the working precision and the other factor is the exact projection ``U^H mat`` (no
    division by singular values), so the split's squared error exceeds the best one only
    by the Gram matrix's rounding, a few ``sqrt(size)`` unit roundoffs of ``‖mat‖^2``.
    What it cannot do is resolve squared singular values below that noise: it is used
    only where the result does not depend on them
    (:func:`tnlib.linalg.svd.gram_resolves`), else the SVD runs. ``gram_ok`` says
    whether this spectrum would have been resolved, so a caller splitting the same bond
    again can skip an eigensolver that would only fall back.
    """
    m, n = xp.shape(mat)
    size = m if side == "left" else n
    noise = gram_noise(size, mat, xp)
    if gram and size <= 2 * min(m, n):  # not a Gram matrix much larger than the rank
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                w, v = _gram_eigh(xp, mat, left=side == "left")
            # descending; past min(m, n) only the rounding of exact zeros
            wv = np.maximum(np.asarray(xp.to_numpy(w), dtype=np.float64)[::-1],
                            0.0)[:min(m, n)]
        except Exception:  # noqa: BLE001 - squares past the float range: eigh refuses inf
            wv = np.array([math.inf])
        total = float(np.sum(wv))
        if _in_range(total, mat, xp):
            r = truncation_rank(np.sqrt(wv), eps * total**0.5, max_rank, _NUMPY)
            if gram_resolves(wv, r, eps, max_rank, noise):
                return Split(*_gram_factors(xp, mat, v, left=side == "left", rank=r),
                             *_weights(wv, r), total**0.5, True)
    u, s, vh = xp.svd(mat)
    sv = np.asarray(xp.to_numpy(s), dtype=np.float64)
    scale = float(sv[0]) if sv[0] > 0 else 1.0  # squares of huge or tiny values stay finite
    sq = (sv / scale) ** 2
    r = truncation_rank(sv / scale, eps * float(np.sum(sq))**0.5, max_rank, _NUMPY)
    norm = scale * float(np.sum(sq)) ** 0.5
    ok = _in_range(norm * norm, mat, xp) and gram_resolves(
        sq, r, eps, max_rank, _HYSTERESIS * noise)  # a margin: no flip-flop
    s_c = xp.astype(s[:r], xp.dtype(u))
    if side == "left":
        return Split(u[:, :r], s_c[:, None] * vh[:r, :], *_weights(sq, r), norm, ok)
    return Split(vh[:r, :], u[:, :r] * s_c[None, :], *_weights(sq, r), norm, ok)


def resolvable_eps(eps: float, mat: Any, xp: Any) -> float:
    """`eps` (if > 0), not below the SVD's own rounding, ``sqrt(min(m, n))`` unit
    roundoffs of ``‖mat‖``: a finer cut keeps rounding noise as rank, and the noise of
    earlier cuts with it (permute, reversing 10 modes of 4 at rank 6 to 1e-14, reached
    rank 907)."""
    if eps <= 0:
        return 0.0
    return max(eps, 4.0 * math.sqrt(min(xp.shape(mat))) * xp.finfo_eps(mat))


def _in_range(total: float, mat: Any, xp: Any) -> bool:
    """Whether ``total = ‖mat‖^2`` leaves the squares a Gram matrix holds normal numbers
    down to its rounding: finite, and at least the smallest normal number over the unit
    roundoff (matrices near the float limits, whose squares overflow or fall into
    subnormals, take the SVD)."""
    return math.isfinite(total) and total >= xp.finfo_tiny(mat) / xp.finfo_eps(mat)


# a bond split by an SVD goes back to the Gram matrix once its spectrum clears the noise
# by this factor (no eigensolver that only falls back, bond after bond)
_HYSTERESIS = 4.0


@grouped
def _gram_eigh(xp: Any, mat: Any, left: bool = True) -> tuple[Any, Any]:
    """Eigenvalues (ascending) and vectors of ``mat mat^H`` (`left`) or ``mat^H mat``."""
    h = xp.conj(xp.transpose(mat))
    return xp.eigh(mat @ h if left else h @ mat)


@grouped
def _gram_factors(xp: Any, mat: Any, v: Any, left: bool = True, rank: int = 1
                  ) -> tuple[Any, Any]:
    """The split's factors from the `rank` largest eigenvectors in `v`: the orthonormal
    one and the exact projection of `mat` on it."""
    basis = v[:, xp.shape(v)[1] - rank:]  # ascending: the bond's order is a gauge
    if left:
        return basis, xp.conj(xp.transpose(basis)) @ mat
    return xp.conj(xp.transpose(basis)), mat @ basis


def _weights(sq: np.ndarray, r: int) -> tuple[float, float]:
    """Kept and discarded fractions of descending squared singular values."""
    total = float(np.sum(sq))
    if total <= 0:
        return 0.0, 0.0
    return float(np.sum(sq[:r])) / total, float(np.sum(sq[r:])) / total


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
    A stack of vectors ``(t, c, j, d)`` gives ``(t, a, i, b)``, in the same three kernels.
    """
    _, c = xp.shape(left2)
    *lead, _, n, d = xp.shape(u)
    t = math.prod(lead)
    ra = xp.shape(opt)[1] // n
    a = xp.shape(left2)[0] // ra
    bd, b = xp.shape(rightp)
    y = left2 @ xp.reshape(u, (t, c, n * d) if lead else (c, n * d))     # batched if t
    y = opt @ xp.reshape(y, (t * a, ra * n, d))                          # (t a, i B, d)
    m = xp.shape(opt)[0] * d // bd
    return xp.reshape(xp.reshape(y, (t * a * m, bd)) @ rightp, (*lead, a, m, b))


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
