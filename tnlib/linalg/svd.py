"""Truncated and randomized SVD, and the truncation rule every format shares."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import (
    as_array,
    check_count,
    check_eps,
    check_positive_int,
    finite_float,
    float_data,
    honour_eps,
    rng_of,
    scaled_back,
    traced_eps,
    unit_data,
)
from ..backends import backend_of
from ..errors import ArgumentError, ShapeError

__all__ = ["truncated_svd", "randomized_svd", "truncation_rank"]


def truncation_rank(s: Any, delta: float, max_rank: int | None, xp: Any) -> int:
    """Smallest rank ``r`` with ``sqrt(sum_{i >= r} s_i^2) <= delta``, capped by `max_rank`.

    `s` holds descending singular values. With ``delta == 0`` only exact zeros
    are dropped; with ``delta == 0`` and a `max_rank` no value leaves the device,
    so the rule also works under ``jax.jit`` / ``tf.function``. `s` may be a NumPy
    array already read (whatever `xp`).
    """
    host = isinstance(s, np.ndarray)
    k = len(s) if host else xp.shape(s)[0]
    if delta <= 0 and max_rank is not None:
        return max(1, min(k, max_rank))
    if not host and xp.is_traced(s):
        if delta <= 0:
            return k
        raise ArgumentError(
            "truncation by eps needs concrete singular values; under jit/tf.function give "
            "max_rank and eps=0"
        )
    sv = np.abs(s if host else xp.to_numpy(s)).astype(np.float64)
    top = float(sv.max()) if sv.size else 0.0
    if top > 0:  # squares of values near the float limits over- or underflow: unit scale
        sv, delta = sv / top, delta / top
    # tail[r] = sum_{i >= r} s_i^2, summed from the small end for accuracy
    tail = np.concatenate([np.cumsum((sv**2)[::-1])[::-1], [0.0]])
    r = int(np.argmax(tail <= delta * delta))
    if max_rank is not None:
        r = min(r, max_rank)
    return max(1, min(r, k))


def gram_resolves(sq: np.ndarray, r: int, eps: float, max_rank: int | None,
                  noise: float) -> bool:
    """Whether the cut at rank `r` of descending squared singular values `sq`, as a Gram
    matrix sees them (each off by up to ``noise * sum(sq)``), is the SVD's cut: the
    smallest rank whose discarded squares sum to at most ``eps^2 sum(sq)``, capped by
    `max_rank`.

    The kept values must stand above the noise (else directions of noise are kept that
    the SVD drops: a larger rank for nothing); then, if nothing is discarded, the cut is
    the SVD's. If the cap made it, so it is when the SVD's own rank reaches the cap for
    sure: a kept value, or the discarded tail, above ``eps^2`` by more than its noise.
    Otherwise `eps` made the cut, and the discarded values must be told apart from the
    noise they carry, all together: ``eps^2 >= size * noise``."""
    total = float(np.sum(sq))
    if total <= 0 or sq[r - 1] < noise * total:
        return False
    if r == len(sq):
        return True
    floor = eps**2 * total
    if max_rank is not None and r == max_rank and (
            sq[r - 1] > floor + noise * total
            or float(np.sum(sq[r:])) > floor + (len(sq) - r) * noise * total):
        return True
    return eps**2 >= len(sq) * noise


# a Gram matrix of size g holds its eigenvalues to within ~ sqrt(g) unit roundoffs of its
# trace (DMRG's local problems, g = 8..256: at most 1.4 sqrt(g) measured against the
# SVD); a value within _GRAM_NOISE sqrt(g) of that is taken for noise
_GRAM_NOISE = 4.0


def gram_noise(size: int, a: Any, xp: Any) -> float:
    """Relative rounding of the eigenvalues of a Gram matrix of `size` formed from `a`:
    each is off by up to this times the trace (see :func:`gram_resolves`)."""
    return _GRAM_NOISE * size**0.5 * xp.finfo_eps(a)


def truncated_svd(a: Any, eps: float = 0.0, max_rank: int | None = None
                  ) -> tuple[Any, Any, Any]:
    """Truncated SVD: the smallest rank with ``‖a - u diag(s) vh‖_F <= eps ‖a‖_F``.

    Parameters
    ----------
    a : (m, n) array
    eps : float, optional
        Relative Frobenius accuracy; 0 keeps every nonzero singular value.
    max_rank : int, optional
        Upper bound on the rank; when both are given the stricter wins.

    Returns
    -------
    u : (m, r) array
    s : (r,) real array, descending
    vh : (r, n) array

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import truncated_svd
    >>> a = np.outer(np.arange(1.0, 5.0), np.ones(3)) + 1e-9 * np.eye(4, 3)
    >>> u, s, vh = truncated_svd(a, eps=1e-6)
    >>> s.shape
    (1,)
    """
    xp, a = _matrix(a, "truncated_svd")
    eps = check_eps(eps, "truncated_svd", ranks="max_rank")
    if max_rank is not None:
        max_rank = check_positive_int(max_rank, "truncated_svd", "max_rank")
    eps = traced_eps(eps, xp, a, "truncated_svd", "max_rank")
    u, s, vh = xp.svd(a)
    values, delta = s, 0.0
    if eps > 0:  # ‖a‖_F = ‖s‖, at unit scale (the squares of 1e200 overflow)
        values = np.abs(np.asarray(xp.to_numpy(s), dtype=np.float64))
        top = float(values.max())
        delta = eps * top * float(np.linalg.norm(values / top)) if top > 0 else 0.0
    r = truncation_rank(values, delta, max_rank, xp)
    return u[:, :r], s[:r], vh[:r, :]


def _matrix(a: Any, where: str, finite: bool = True) -> tuple[Any, Any]:
    """`a` checked as a matrix to factorize: an array (nested lists converted) of two
    non-empty axes, of floats (integers as floats), finite (unless not `finite`: the
    caller checks that with :func:`unit_data`); with its backend."""
    xp = backend_of(a)
    a = as_array(a, xp, where)
    shape = tuple(xp.shape(a))
    if len(shape) != 2:
        raise ShapeError(f"{where}: a must be a matrix, got shape {shape}")
    # an empty axis is refused there
    return xp, finite_float(a, xp, where) if finite else float_data(a, xp, where)


def randomized_svd(a: Any, rank: int, oversample: int = 10, power_iter: int = 2,
                   seed: Any = None) -> tuple[Any, Any, Any]:
    """Rank-`rank` SVD by randomized range finding (Halko, Martinsson, Tropp 2011).

    Parameters
    ----------
    a : (m, n) array
    rank : int
        Number of singular triplets returned (at most ``min(m, n)``).
    oversample : int, optional
        Extra random directions (default 10), >= 0.
    power_iter : int, optional
        Subspace iterations, each re-orthonormalized by QR; 2 suits slowly
        decaying spectra, 0 is the plain range finder.
    seed : int, optional

    Returns
    -------
    u, s, vh : arrays of shapes (m, k), (k,), (k, n), ``k = min(rank, m, n)``

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import randomized_svd
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal((50, 5)) @ rng.standard_normal((5, 40))
    >>> u, s, vh = randomized_svd(a, 5, seed=1)
    >>> bool(np.allclose(u * s @ vh, a))
    True
    """
    xp, a = _matrix(a, "randomized_svd")
    rank = check_positive_int(rank, "randomized_svd", "rank")
    oversample = check_count(oversample, "randomized_svd", "oversample")
    power_iter = check_count(power_iter, "randomized_svd", "power_iter")
    seed = rng_of(seed, "randomized_svd")
    m, n = xp.shape(a)
    k = min(rank + oversample, m, n)
    omega = xp.random_normal((n, k), seed=seed, dtype=xp.dtype(a), device=xp.device(a))
    q, _ = xp.qr(a @ omega)
    ah = xp.conj(xp.transpose(a))
    for _ in range(power_iter):
        z, _ = xp.qr(ah @ q)
        q, _ = xp.qr(a @ z)
    u_small, s, vh = xp.svd(xp.conj(xp.transpose(q)) @ a)
    r = min(rank, xp.shape(s)[0])
    return (q @ u_small)[:, :r], s[:r], vh[:r, :]



def left_svd(a: Any, eps: float = 0.0, max_rank: int | None = None) -> tuple[Any, Any, Any]:
    """Truncated left factorization ``a ≈ u @ b`` of a wide matrix, through its short side.

    Returns the left singular vectors ``u``, the singular values ``s`` and
    ``b = u^H a`` (= ``diag(s) vh``) for the smallest rank with
    ``‖a - u b‖_F <= eps ‖a‖_F`` (capped by `max_rank`).

    For ``a`` of shape ``(m, n)``, ``m <= n``, no SVD of ``a`` is formed. The
    method is picked by the accuracy asked for (``u`` is the unit roundoff,
    ``delta = eps ‖a‖``):

    * **Gram with refinement** when ``delta >= 100 u s_1 / sqrt(tau_max)``
      (about ``eps >= 2e-10`` in float64): the eigendecomposition of ``a a^H``
      gives the dominant directions; those with ``λ_i < tau λ_1`` are refined
      by decomposing ``c = V_tail^H a``, formed from ``a`` itself, recursively
      while ``‖c‖_F`` -- computed directly, hence exactly -- exceeds ``delta``.
      Eigenvector errors leak at most ``u s_1 / sqrt(tau)`` into the tail,
      and ``tau`` is chosen so that this stays 100 times below ``delta``.
      Cost: about one product ``a a^H`` and a few smaller ones.
    * **QR of the transpose** otherwise: ``R`` of ``a^H = Q R`` without forming
      ``Q``, then the SVD of ``R^H``; backward stable at any ``eps``.
    * ``eps = 0`` keeps all ``m`` directions (any orthonormal basis is exact), so
      the Gram eigenvectors suffice.

    Either way the discarded energy is bounded by ``delta`` exactly.

    Parameters
    ----------
    a : (m, n) array
    eps : float, optional
        Relative Frobenius accuracy; 0 keeps all ``m`` directions.
    max_rank : int, optional

    Returns
    -------
    u : (m, r) array with orthonormal columns
    s : (r,) real array, descending
    b : (r, n) array, ``u^H a``

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg import left_svd
    >>> rng = np.random.default_rng(0)
    >>> a = np.diag(10.0 ** -np.arange(0, 16, 3)) @ rng.standard_normal((6, 400))
    >>> u, s, b = left_svd(a, eps=1e-7)
    >>> s.shape, bool(np.linalg.norm(a - u @ b) <= 1e-7 * np.linalg.norm(a))
    ((3,), True)
    """
    xp, a = _matrix(a, "left_svd", finite=False)
    eps = check_eps(eps, "left_svd", ranks="max_rank")
    if max_rank is not None:
        max_rank = check_positive_int(max_rank, "left_svd", "max_rank")
    eps = honour_eps(traced_eps(eps, xp, a, "left_svd", "max_rank"), xp, a, "left_svd")
    # data of unit size (a Gram matrix squares the scale: 1e200 would overflow, 1e-200
    # vanish), its finiteness and norm in one read on an accelerator
    a, scale, norm = unit_data(a, xp, "left_svd")
    u, s, b = left_svd_abs(a, 0.0 if norm is None else eps * norm, max_rank, xp, norm)
    return u, scaled_back(s, scale, xp, "left_svd"), scaled_back(b, scale, xp, "left_svd")


_TAU_MIN, _TAU_MAX = 1e-8, 1e-4


def left_svd_abs(a: Any, delta: float, max_rank: int | None, xp: Any,
                 norm: float | None = None) -> tuple[Any, Any, Any]:
    """:func:`left_svd` with an absolute tolerance ``‖a - u b‖_F <= delta`` (internal).

    `norm` is an upper bound of ``‖a‖_2`` if the caller knows one (else computed).
    """
    m, n = xp.shape(a)
    u, s, b = mode_svd_abs(xp.reshape(a, (1, m, n)), 1, delta, max_rank, xp, norm)
    return u, s, xp.reshape(b, (xp.shape(u)[1], n))


def mode_svd_abs(t: Any, k: int, delta: float, max_rank: int | None, xp: Any,
                 norm: float | None = None) -> tuple[Any, Any, Any]:
    """Truncated left factorization of the mode-`k` unfolding of `t`, without forming it.

    Returns ``(u, s, t ×_k u^H)`` with ``‖t - (t ×_k u^H) ×_k u‖_F <= delta``; the
    method is chosen as in :func:`left_svd`. When no direction is dropped, ``u`` is
    the identity and `t` comes back unchanged (``s`` still holds the singular
    values). Gram matrices and projections act on `t` through batched products,
    so no transposed copy of `t` is made (except on the QR path, for very small
    tolerances).
    """
    shape = xp.shape(t)
    if norm == 0 and not xp.is_traced(t):  # the zero tensor: rank 1 is exact and minimal
        dt, dev = xp.dtype(t), xp.device(t)
        u = xp.eye(shape[k], dtype=dt, device=dev)[:, :1]
        new_shape = shape[:k] + (1,) + shape[k + 1:]
        return u, xp.zeros((1,), dtype=xp.real_dtype(t), device=dev), xp.zeros(
            new_shape, dtype=dt, device=dev)
    view = _ModeView.of(t, k, xp)
    rows, cols = view.rows, view.cols
    if rows > cols or xp.is_traced(t):  # tall or traced: the plain SVD is the right tool
        u, s, _ = xp.svd(view.unfold())
        r = truncation_rank(s, delta, max_rank, xp)
        u, s, projected = u[:, :r], s[:r], None
    else:
        tau = _TAU_MIN
        if delta > 0:
            if norm is None:
                norm = float(xp.item(xp.norm(t)))
            tau = (100.0 * xp.finfo_eps(t) * norm / delta) ** 2
        if tau > _TAU_MAX:  # fine accuracy: only an orthogonal factorization resolves it
            rf = xp.qr(xp.conj(xp.transpose(view.unfold())), mode="r")  # a^H = Q R
            u, s, _ = xp.svd(xp.conj(xp.transpose(rf)))
            r = truncation_rank(s, delta, max_rank, xp)
            u, s, projected = u[:, :r], s[:r], None
        else:
            u, s, projected = _gram_basis(view, delta, max_rank, xp, max(tau, _TAU_MIN))
    if xp.shape(u)[1] == rows and not xp.is_traced(t):
        # nothing truncated: any orthonormal basis will do, so skip a full pass over `t`
        return xp.eye(rows, dtype=xp.dtype(t), device=xp.device(t)), s, t
    if projected is None:
        projected = view.project(xp.conj(xp.transpose(u)))  # one pass over `t`
    new_shape = shape[:k] + (xp.shape(u)[1],) + shape[k + 1:]
    return u, s, xp.reshape(projected.x3, new_shape)


class _ModeView:
    """Mode `k` of a tensor viewed as its ``(n_k, rest)`` unfolding, kept as ``(before, n_k,
    after)`` so that Gram products and projections need no transposed copy."""

    def __init__(self, x3: Any, xp: Any) -> None:
        self.x3, self.xp = x3, xp
        self.before, self.rows, self.after = xp.shape(x3)
        self.cols = self.before * self.after

    @classmethod
    def of(cls, t: Any, k: int, xp: Any) -> _ModeView:
        shape = xp.shape(t)
        before, after = math.prod(shape[:k]), math.prod(shape[k + 1:])
        return cls(xp.reshape(t, (before, shape[k], after)), xp)

    def gram(self) -> Any:
        xp, x3 = self.xp, self.x3
        if self.before == 1:
            m = x3[0]
            return m @ xp.conj(xp.transpose(m))
        if self.after == 1:
            m = x3[:, :, 0]
            return xp.transpose(m) @ xp.conj(m)
        return xp.sum(xp.matmul(x3, xp.conj(xp.transpose(x3, (0, 2, 1)))), axis=0)

    def project(self, m: Any) -> _ModeView:
        """The view of ``t ×_k m`` for an ``(p, n_k)`` matrix `m`."""
        xp, x3 = self.xp, self.x3
        p = xp.shape(m)[0]
        if self.before == 1:
            return _ModeView(xp.reshape(m @ x3[0], (1, p, self.after)), xp)
        if self.after == 1:
            return _ModeView(xp.reshape(x3[:, :, 0] @ xp.transpose(m), (self.before, p, 1)),
                             xp)
        return _ModeView(xp.matmul(m, x3), xp)

    def norm(self) -> float:
        return float(self.xp.item(self.xp.norm(self.x3)))

    def unfold(self) -> Any:
        xp = self.xp
        return xp.reshape(xp.transpose(self.x3, (1, 0, 2)), (self.rows, self.cols))


def _gram_basis(view: _ModeView, delta: float, max_rank: int | None, xp: Any, tau: float
                ) -> tuple[Any, Any, _ModeView | None]:
    """The truncated basis ``u`` of `view`'s rows from its Gram matrix, the singular values
    ``s``, and the projection ``view ×_k u^H`` where it came with them (else None).

    The Gram eigenvalues resolve the leading directions, those above a relative `tau`
    of the largest; the energy beyond them is measured from `t` itself (as an SVD
    would see it), and where it exceeds the tolerance the remainder is factored the same
    way. Where reads wait for a device, every direction's coefficients are formed at
    once, so that the eigenvalues and the tail energies come in one read per level
    (the host path projects only what it keeps, in two).
    """
    m = view.rows
    w, v = xp.eigh(view.gram())
    w, v = xp.flip(w, 0), xp.flip(v, 1)  # descending
    if delta <= 0 and max_rank is None:  # nothing to decide: every direction is kept
        return v, xp.sqrt(xp.maximum(w, 0.0)), None
    whole = None
    if xp.reads_synchronize(view.x3):
        whole = view.project(xp.conj(xp.transpose(v)))  # every direction, from `t`
        energies = xp.sum(xp.real(whole.x3 * xp.conj(whole.x3)), axis=(0, 2))
        host = np.asarray(xp.to_numpy(xp.concatenate([xp.real(w), energies])), np.float64)
        wh, row_energy = np.maximum(host[:m], 0.0), host[m:]
    else:
        wh = np.maximum(xp.to_numpy(w).real, 0.0)
    top = float(wh[0])
    head = int(np.sum(wh >= tau * top)) if top > 0 else m
    s = xp.sqrt(xp.maximum(w[:head], 0.0))

    def keep_head(r: int, tail_energy: float) -> tuple[Any, Any, _ModeView | None]:
        # head eigenvalues are accurate to a relative u / tau; the tail's energy is exact
        rr = head
        if delta > 0:
            tail = np.concatenate([np.cumsum(wh[:head][::-1])[::-1], [0.0]]) + tail_energy
            ok = np.flatnonzero(tail <= delta * delta)
            rr = int(ok[0]) if ok.size else head
        rr = max(1, min(rr, head, r))
        kept = None if whole is None else _ModeView(whole.x3[:, :rr, :], xp)
        return v[:, :rr], s[:rr], kept

    if head == m:
        return keep_head(m if max_rank is None else max_rank, 0.0)
    v_tail = v[:, head:]
    if whole is None:
        c = view.project(xp.conj(xp.transpose(v_tail)))  # from `t`: error ~ u ‖t‖, as in an SVD
        energy = c.norm() ** 2
    else:
        c, energy = _ModeView(whole.x3[:, head:, :], xp), float(np.sum(row_energy[head:]))
    if max_rank is not None and max_rank <= head or delta > 0 and energy <= delta * delta:
        return keep_head(head if max_rank is None else max_rank, energy if delta > 0 else 0.0)
    u_c, s_c, c_kept = _gram_basis(c, delta, None if max_rank is None else max_rank - head, xp,
                                   tau)
    u = xp.concatenate([v[:, :head], v_tail @ u_c], axis=1)
    kept = None
    if whole is not None and c_kept is not None:
        kept = _ModeView(xp.concatenate([whole.x3[:, :head, :], c_kept.x3], axis=1), xp)
    return u, xp.concatenate([s, s_c], axis=0), kept
