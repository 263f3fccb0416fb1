"""Orthogonalization and TT-rounding (Oseledets 2011, Algorithm 2)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._info import grouped
from .._validation import (
    check_eps,
    check_max_rank,
    check_option,
    honour_eps,
    maxexp,
    safe_exponent,
    traced_eps,
)
from ..backends import get as _get_backend
from ..backends._host import host_eager
from ..errors import ArgumentError
from ..linalg.svd import gram_noise, gram_resolves, truncation_rank
from .tensor import TTTensor

__all__ = ["orthogonalize", "round"]

_NUMPY = _get_backend("numpy")


@host_eager
def orthogonalize(x: TTTensor, direction: str = "left") -> TTTensor:
    """Left- or right-orthogonal form of `x` by a QR sweep.

    ``"left"``: cores ``0 .. d-2`` are left-orthonormal (their ``(r n, r')``
    unfoldings have orthonormal columns) and the last core holds the norm.
    ``"right"``: the mirror image, the norm in the first core. Ranks larger
    than the unfolding dimensions shrink to them.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.random((3, 4, 5), 3, seed=0).orthogonalize("left")
    >>> g = x.cores[0].reshape(3, -1)
    >>> bool(np.allclose(g.T @ g, np.eye(g.shape[1])))
    True
    """
    check_option(direction, ("left", "right"), "orthogonalize", "direction")
    xp = x.backend
    cores = list(x.cores)
    if direction == "left":
        for k in range(x.ndim - 1):
            qr_left(cores, k, xp)
    else:
        for k in range(x.ndim - 1, 0, -1):
            qr_right(cores, k, xp)
    return TTTensor._from_cores(cores, xp)


def qr_left(cores: list, k: int, xp: Any, normalize: bool = False) -> Any:
    """Make ``cores[k]`` left-orthonormal; its R factor moves into ``cores[k+1]``.

    With `normalize`, R is divided by its largest magnitude, which is returned (else
    None): a scale that keeps long trains in the float range.
    """
    cores[k], cores[k + 1], nrm = _qr_left_step(xp, cores[k], cores[k + 1],
                                                normalize=normalize)
    return nrm


@grouped
def _qr_left_step(xp: Any, core: Any, nxt: Any, normalize: bool = False
                  ) -> tuple[Any, Any, Any]:
    """:func:`qr_left` on one pair of cores (one compiled program per shape on JAX)."""
    r, n, rr = xp.shape(core)
    q, rf = xp.qr(xp.reshape(core, (r * n, rr)), signs=False)  # any orthonormal basis
    kk = xp.shape(q)[1]
    nrm = None
    if normalize:
        nrm = peak(rf, xp)
        rf = rf / xp.astype(nrm, xp.dtype(rf))
    _, n2, r2 = xp.shape(nxt)
    return (xp.reshape(q, (r, n, kk)),
            xp.reshape(rf @ xp.reshape(nxt, (rr, n2 * r2)), (kk, n2, r2)), nrm)


def qr_right(cores: list, k: int, xp: Any, normalize: bool = False,
             compress: bool = False) -> Any:
    """Make ``cores[k]`` right-orthonormal; its L factor moves into ``cores[k-1]``.

    Returns the scale divided out with `normalize` (L's largest magnitude, else None).

    With `compress`, directions of the L factor below its numerical rank
    (``max(shape) u s_1``, the size of QR's own rounding errors) are dropped
    through a small SVD of L, so exactly rank-deficient bonds (sums like
    ``x + x``) shrink before the expensive truncation sweep.
    """
    if compress and not xp.is_traced(cores[k]):
        q, left_factor = _lq(xp, cores[k])
        if _maybe_deficient(left_factor, xp):
            q, left_factor = _compress(xp, q, left_factor)
        cores[k], cores[k - 1], nrm = _qr_right_finish(
            xp, cores[k], cores[k - 1], q, left_factor, normalize=normalize)
    else:
        cores[k], cores[k - 1], nrm = _qr_right_step(xp, cores[k], cores[k - 1],
                                                     normalize=normalize)
    return nrm


def _lq(xp: Any, core: Any) -> tuple[Any, Any]:
    """LQ of the ``(r, n r')`` unfolding, as the QR of its adjoint: ``M = L Q^H``,
    ``L = R^H``; returns ``(Q, L)``."""
    r, n, rr = xp.shape(core)
    q, rf = xp.qr(xp.conj(xp.transpose(xp.reshape(core, (r, n * rr)))), signs=False)
    return q, xp.conj(xp.transpose(rf))


def _compress(xp: Any, q: Any, left_factor: Any) -> tuple[Any, Any]:
    """`q` and `left_factor` without the directions below L's numerical rank (a read)."""
    u, s, wh = xp.svd(left_factor)
    sh = xp.to_numpy(s)
    tol = max(xp.shape(left_factor)) * xp.finfo_eps(left_factor) * (sh[0] if sh.size else 0.0)
    rank = max(1, int((sh > tol).sum()))
    if rank < sh.size:
        q = q @ xp.conj(xp.transpose(wh[:rank, :]))
        left_factor = u[:, :rank] * xp.astype(s[:rank], xp.dtype(u))[None, :]
    return q, left_factor


def _qr_right_finish(xp: Any, core: Any, prev: Any, q: Any, left_factor: Any,
                     normalize: bool = False) -> tuple[Any, Any, Any]:
    """Core ``Q^H`` in place of `core`, ``L`` (scaled to entries <= 1 with `normalize`)
    into `prev`."""
    _, n, rr = xp.shape(core)
    r0, n0, r = xp.shape(prev)
    kk = xp.shape(q)[1]
    nrm = None
    if normalize:
        nrm = peak(left_factor, xp)
        left_factor = left_factor / xp.astype(nrm, xp.dtype(left_factor))
    prev = xp.reshape(xp.reshape(prev, (r0 * n0, r)) @ left_factor, (r0, n0, kk))
    return xp.reshape(xp.conj(xp.transpose(q)), (kk, n, rr)), prev, nrm


@grouped
def _qr_right_step(xp: Any, core: Any, prev: Any, normalize: bool = False
                   ) -> tuple[Any, Any, Any]:
    """:func:`qr_right` without compression on one pair of cores (one compiled program
    per shape on JAX)."""
    q, left_factor = _lq(xp, core)
    return _qr_right_finish(xp, core, prev, q, left_factor, normalize=normalize)


def _maybe_deficient(rf: Any, xp: Any) -> bool:
    """Cheap test for numerical rank deficiency of a triangular factor.

    A triangular matrix of rank ``r < k`` has at least ``k - r`` zero diagonal
    entries, so a rank-deficient unfolding shows tiny entries on ``diag(R)``;
    only then is the SVD that finds the rank worth its cost.
    """
    k = min(xp.shape(rf))
    if k <= 1:
        return False
    dg = abs(xp.to_numpy(xp.diag(rf)))
    return bool(dg.min() <= 10 * k * xp.finfo_eps(rf) * dg.max())


def peak(a: Any, xp: Any) -> Any:
    """The largest magnitude in `a`, floored at the dtype's smallest normal number: a
    scale that brings `a` to entries of at most 1 (a zero matrix stays zero and its
    logarithm finite). Three operations, where a norm safe from overflow of the squares
    takes seven: on a GPU each is a kernel launch."""
    return xp.maximum(xp.max(xp.abs(a)), xp.finfo_tiny(a))


def extreme_peak(a: Any, xp: Any) -> Any:
    """:func:`peak` where it is beyond ``2^(±maxexp/3)`` (about 1e102 for float64, 4e12 for
    float32: squares of `a` could leave the range), else exactly 1 -- a divisor that brings
    a core of extreme size to unit entries and leaves any other untouched (its logarithm
    is 0: no rounding in the scale carried back). No read."""
    top = peak(a, xp)
    inside = xp.abs(xp.log(top)) < safe_exponent(a, xp) * math.log(2.0)
    return xp.where(inside, xp.ones_like(top), top)


@host_eager
def round(x: TTTensor, eps: float = 0.0, max_rank: Any = None) -> TTTensor:
    """TT-rounding: the TT-ranks of `x` reduced to accuracy `eps` and/or `max_rank`.

    A right-to-left QR sweep makes the cores right-orthonormal, then a
    left-to-right sweep of truncated SVDs cuts each bond with the threshold
    ``eps / sqrt(d - 1) * ‖x‖``, so ``‖x - y‖_F <= eps ‖x‖_F`` when only `eps`
    limits the ranks. Cost ``O(d n r^3)``.

    On an accelerator, where reading a value (or a small SVD's status) synchronizes
    the device, the Schmidt decompositions of every bond are computed first, by one
    batched eigensolver of their Gram matrices (one batched SVD for the bonds whose cut
    sits in its rounding), their singular values read at once, and every bond is
    truncated at once in those bases: the same ranks and the same error bound, one QR sweep more,
    and a few synchronizations per call instead of two or three per core. The result
    can differ from the host's by a fraction of the truncation error.

    The factors carried between cores are renormalized at every step and the
    scale is kept as a logarithm, so trains of thousands of cores round without
    overflow or underflow. The result is left-orthogonal with the norm in the
    last core, unless that norm is outside ``1e±130`` (float64; ``1e±16`` in float32,
    ``1e±2`` in float16) or the call is traced by ``jit``, in which case the scale is spread
    evenly over the cores.

    Parameters
    ----------
    x : TTTensor
    eps : float, optional
        Relative Frobenius accuracy (default 0: only exact rank deficiency is removed).
    max_rank : int or sequence of int, optional
        Bound on every rank, or one bound per bond. Both may be given.

    Returns
    -------
    TTTensor
        Same backend, dtype and device as `x`.

    References
    ----------
    I. V. Oseledets, "Tensor-train decomposition", SIAM J. Sci. Comput. 33 (2011),
    Algorithm 2.

    Examples
    --------
    >>> from tnlib import tt
    >>> x = tt.random((4,) * 6, 5, seed=0)
    >>> (x + x).round(1e-12).ranks
    (1, 4, 5, 5, 5, 4, 1)
    """
    eps = check_eps(eps, "round", ranks="max_rank")
    d = x.ndim
    bounds = check_max_rank(max_rank, d - 1, "round")
    if d == 1:
        return x
    xp = x.backend
    cores = list(x.cores)
    eps = honour_eps(traced_eps(eps, xp, cores[0], "round", "max_rank"), xp, cores[0], "round")
    if not xp.is_traced(cores[0]) and xp.reads_synchronize(cores[0]):
        return _round_one_read(cores, eps, bounds, xp)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf cores: the error below
        norms = [qr_right(cores, k, xp, normalize=True, compress=True)
                 for k in range(d - 1, 0, -1)]
    norms.append(extreme_peak(cores[0], xp))  # the head's norm then stays in range
    cores[0] = cores[0] / xp.astype(norms[-1], xp.dtype(cores[0]))
    log_scale = xp.sum(xp.log(xp.stack(norms)))
    if not xp.is_traced(cores[0]):  # NaN or inf in any core has reached both by now
        head, ls = float(xp.item(xp.norm(cores[0]))), float(xp.item(log_scale))
        if not (math.isfinite(head) and (math.isfinite(ls) or ls == -math.inf)):
            raise ArgumentError("round: x holds NaN or inf in its cores; rounding needs finite "
                                "cores")
    delta = eps / math.sqrt(d - 1) * head if eps > 0 else 0.0  # eps is 0 under tracing
    for k in range(d - 1):
        r, n, rr = xp.shape(cores[k])
        u, s, vh = xp.svd(xp.reshape(cores[k], (r * n, rr)))
        rk = truncation_rank(s, delta, None if bounds is None else bounds[k], xp)
        cores[k] = xp.reshape(u[:, :rk], (r, n, rk))
        carry = xp.astype(s[:rk], xp.dtype(vh))[:, None] * vh[:rk, :]
        _, n2, r2 = xp.shape(cores[k + 1])
        cores[k + 1] = xp.reshape(carry @ xp.reshape(cores[k + 1], (rr, n2 * r2)), (rk, n2, r2))
    return TTTensor._from_cores(apply_scale(cores, log_scale, xp), xp)


def _round_one_read(cores: list, eps: float, bounds: Any, xp: Any) -> TTTensor:
    """:func:`round` with every truncation decided from one read of the device, and no
    factorization that synchronizes it on the way.

    For backends where reading a value synchronizes a device (GPUs) or leaves the
    framework's graph. A left-to-right QR sweep leaves ``x = A_0 ... A_{d-2} B`` with
    left-orthonormal ``A_k``; a right-to-left QR sweep then finds, at every bond ``k``,
    the small factor ``L_k`` that sits between orthonormal halves, ``x = A_{<k} L_k
    Q_{>=k}``: its SVD ``U_k S_k V_k^H`` is the Schmidt decomposition of `x` at that bond.
    All bonds are diagonalized as one batched call (one per factor shape) -- the
    eigendecompositions of ``L_k L_k^H`` where `eps` or `max_rank` truncates, their
    eigenvectors ``U_k`` -- and all values, padded into one array with the scale, come
    to the host at once: the ranks follow. A bond whose cut the Gram matrix cannot
    resolve (values at its rounding; :func:`tnlib.linalg.svd.gram_resolves`) is decided
    by one batched SVD of all such bonds, a second read. Every bond is then truncated at
    once (the hierarchical SVD order of Grasedyck 2010): ``y = A_0 P_1 A_1 P_2 ...
    A_{d-2} P_{d-1} B`` with ``P_k = U_k' U_k'^H`` the projector on the kept left
    singular vectors -- core ``k`` is ``U_k'^H A_k U_{k+1}'``, independent matrix
    products -- and a last QR sweep makes it left-orthonormal again. ``y`` is ``x``
    under a product of orthogonal projections that each discard bond ``k``'s tail, so
    ``‖x - y‖^2 <= sum_k tail_k^2``: the bound of the sequential algorithm (``‖x - y‖ <=
    eps ‖x‖``, and at most ``sqrt(d - 1)`` times the best error under `max_rank`),
    though ``y`` is not the same train. On a GPU a small SVD or eigensolver synchronizes
    the device (cuSOLVER's convergence flag is read back), where QR and matrix products
    do not: one batched call instead of ``2 (d - 1)`` SVDs, and mostly an eigensolver,
    cheaper than an SVD of the same size.
    """
    d = len(cores)
    norms = [qr_left(cores, k, xp, normalize=True) for k in range(d - 1)]
    norms.append(extreme_peak(cores[-1], xp))  # then its Gram matrices stay in range
    cores[-1] = cores[-1] / xp.astype(norms[-1], xp.dtype(cores[-1]))
    left = list(cores)  # A_0 .. A_{d-2} left-orthonormal, B last
    factors = []  # L_{d-1} .. L_1, each carried into the core on its left
    for k in range(d - 1, 0, -1):
        cores[k - 1], factor = _bond_factor(xp, cores[k], cores[k - 1])
        factors.append(factor)
    factors = factors[::-1]
    gram = eps > 0 or bounds is not None  # else every exact zero counts: SVDs
    try:
        bases, values = _batched_svds(factors, xp, gram)  # (d - 1, width): zero-padded
    except Exception as exc:  # noqa: BLE001 - torch's SVD refuses NaN/inf; others pass it on
        raise ArgumentError(f"round: x holds NaN or inf in its cores (the factorization of its "
                            f"bond factors failed: {exc}); rounding needs finite cores") from exc
    log_scale = xp.sum(xp.log(xp.stack(norms)))  # one logarithm and one sum, not d - 1
    width = xp.shape(values)[1]
    table = xp.concatenate([values, xp.zeros((1, width), dtype=xp.dtype(values),
                                             device=xp.device(values))
                            + xp.astype(xp.real(log_scale), xp.dtype(values))])
    host = np.asarray(xp.to_numpy(table), dtype=np.float64)  # the one read
    if not np.all(np.isfinite(host)) and not (np.all(np.isfinite(host[:-1]))
                                              and host[-1, 0] == -math.inf):
        raise ArgumentError("round: x holds NaN or inf in its cores; rounding needs finite "
                            "cores")
    kept = [None] + _kept_bases(factors, bases, host[:-1], gram, eps / math.sqrt(d - 1),
                                bounds, xp)  # U_k' of bond k = 1 .. d-1
    out = [_projected(xp, left[0], kept[1], first=True)]
    out += [_projected(xp, left[k], kept[k], kept[k + 1]) for k in range(1, d - 1)]
    out.append(_projected(xp, left[-1], kept[-1], last=True))
    for k in range(d - 1):  # projectors leave the cores non-orthonormal: orthonormalize
        qr_left(out, k, xp)
    return TTTensor._from_cores(apply_scale(out, log_scale, xp, value=float(host[-1, 0])), xp)


@grouped
def _bond_factor(xp: Any, core: Any, prev: Any) -> tuple[Any, Any]:
    """The right-to-left QR step of :func:`_round_one_read`, which needs only the bond
    factors: `core`'s L factor (of its LQ, scaled by its peak) carried into `prev`, and
    that factor. Only R is formed (no orthonormal factor, which nothing would use)."""
    r, n, rr = xp.shape(core)
    rf = xp.qr(xp.conj(xp.transpose(xp.reshape(core, (r, n * rr)))), mode="r", signs=False)
    left_factor = xp.conj(xp.transpose(rf))  # (r, kk)
    left_factor = left_factor / xp.astype(peak(left_factor, xp), xp.dtype(left_factor))
    r0, n0, _ = xp.shape(prev)
    prev = xp.reshape(xp.reshape(prev, (r0 * n0, r)) @ left_factor,
                      (r0, n0, xp.shape(left_factor)[1]))
    return prev, left_factor


@grouped
def _projected(xp: Any, core: Any, *bases: Any, first: bool = False, last: bool = False
               ) -> Any:
    """``U_k'^H core U_{k+1}'``: `core` with its left bond projected on the first of
    `bases` (unless `first`) and its right bond on the last (unless `last`)."""
    r, n, rr = xp.shape(core)
    mat = xp.reshape(core, (r, n * rr))
    if not first:
        mat = xp.conj(xp.transpose(bases[0])) @ mat
        r = xp.shape(mat)[0]
    mat = xp.reshape(mat, (r * n, rr))
    if not last:
        mat = mat @ bases[-1]
    return xp.reshape(mat, (r, n, xp.shape(mat)[1]))


def _kept_bases(factors: list, bases: list, rows: np.ndarray, gram: bool, delta: float,
                bounds: Any, xp: Any) -> list:
    """The kept left singular vectors ``U_k'`` of every bond, from the host's `rows` of
    :func:`_batched_svds`. A bond whose cut the Gram matrix cannot resolve
    (:func:`tnlib.linalg.svd.gram_resolves`) is decided again by one batched SVD of all
    such bonds (a second read: only where the spectrum sits at the rounding)."""
    kept, redo = [], []
    for k, row in enumerate(rows):
        r, kk = xp.shape(factors[k])
        bound = None if bounds is None else bounds[k]
        if gram:  # ascending eigenvalues: descending singular values, up to min(r, kk)
            s = np.sqrt(np.maximum(row[:r][::-1], 0.0))[:min(r, kk)]
            total = float(np.linalg.norm(s))  # = ‖x‖ in the scaled units of bond k
            s = s / total if total > 0 else s
            keep = truncation_rank(s, delta, bound, _NUMPY)
            if gram_resolves(s**2, keep, delta, bound, gram_noise(r, factors[k], xp)):
                kept.append(bases[k][:, r - keep:])
                continue
            redo.append(k)
            kept.append(None)
            continue
        kept.append(bases[k][:, :_svd_rank(row, delta, bound, r, kk, len(row), factors[k],
                                           xp)])
    if redo:
        again, values = _batched_svds([factors[k] for k in redo], xp, False)
        rows = np.asarray(xp.to_numpy(values), dtype=np.float64)  # the second read
        for i, j in enumerate(redo):
            r, kk = xp.shape(factors[j])
            bound = None if bounds is None else bounds[j]
            kept[j] = again[i][:, :_svd_rank(rows[i], delta, bound, r, kk, len(rows[i]),
                                             factors[j], xp)]
    return kept


def _svd_rank(s: np.ndarray, delta: float, bound: Any, r: int, kk: int, width: int,
              factor: Any, xp: Any) -> int:
    """The kept rank of a bond from its (zero-padded) descending singular values."""
    total = float(np.linalg.norm(s))  # = ‖x‖ in the scaled units of the bond
    s = s / total if total > 0 else s
    if delta == 0:  # only exact rank deficiency goes (the size of QR's own rounding)
        s = np.where(s > max(r, kk, width) * xp.finfo_eps(factor) * s[0], s, 0.0)
    keep = truncation_rank(s, delta, bound, _NUMPY)
    return min(keep, int(np.count_nonzero(s)) or 1, r, kk)


def _batched_svds(mats: list, xp: Any, gram: bool = False) -> tuple[list, Any]:
    """Left singular vectors of every matrix, and their singular values as the rows of
    one table padded with zeros: one batched SVD per distinct shape (on a GPU, one
    synchronization each) and a few operations to lay the table out.

    `gram`: the eigenvectors and eigenvalues of ``m m^H`` instead, ascending (a batched
    eigensolver, cheaper than SVDs of the same matrices)."""
    groups: dict = {}
    for k, m in enumerate(mats):
        groups.setdefault(xp.shape(m), []).append(k)
    width = max(shape[0] if gram else min(shape) for shape in groups)
    bases: list = [None] * len(mats)
    blocks, order = [], []
    for members in groups.values():
        stack = xp.stack([mats[k] for k in members])
        if gram:
            s, u = xp.eigh(stack @ xp.conj(xp.transpose(stack, (0, 2, 1))))
        else:
            u, s, _ = xp.svd(stack)
        for j, k in enumerate(members):
            bases[k] = u[j]
        if xp.shape(s)[1] < width:
            s = xp.concatenate([s, xp.zeros((len(members), width - xp.shape(s)[1]),
                                            dtype=xp.dtype(s), device=xp.device(s))], axis=1)
        blocks.append(s)
        order += members
    table = xp.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    if order != sorted(order):  # rows back in bond order: one gather
        table = xp.take(table, xp.asarray(np.argsort(order), device=xp.device(table)), axis=0)
    return bases, table


def apply_scale(cores: list, log_scale: Any, xp: Any, value: float | None = None) -> list:
    """Multiply the train by ``exp(log_scale)`` (a 0-d array or a Python float): into the
    last core when that is safe, else spread over all cores.

    `value`: ``log_scale`` already read into Python (no second read)."""
    if isinstance(log_scale, float):
        if log_scale == 0.0:
            return cores
        value = log_scale
    if value is not None or not xp.is_traced(log_scale):
        value = float(xp.item(log_scale)) if value is None else value
        # about 0.42 of the dtype's log range (exp(298) ~ 1e130 in float64, 1e16 in float32,
        # 105 in float16): the last core holds it, and its square
        if abs(value) < 0.42 * math.log(2.0) * maxexp(cores[-1], xp):
            cores[-1] = cores[-1] * math.exp(value)
            return cores
    if value is not None:  # spread over the cores: one alone would overflow
        return [c * math.exp(value / len(cores)) for c in cores]
    factor = xp.astype(xp.exp(log_scale / len(cores)), xp.dtype(cores[0]))
    return [c * factor for c in cores]
