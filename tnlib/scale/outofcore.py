"""TT-SVD and HOSVD of Dask arrays in two passes over the data.

TT-SVD. Pass 1 computes, in one ``dask.compute``, the Gram matrices of every
unfolding that is small from either end of the train: ``G_k = A^{<=k} A^{<=k,T}``
for prefixes of at most `gram_limit` rows and ``H_k = A^{>=k,T} A^{>=k}`` for
suffixes of at most `gram_limit` columns. The Gram of the *projected* unfolding
that the sequential TT-SVD factorizes at bond ``k`` is ``(U_{<k} ⊗ I)^T G_k
(U_{<k} ⊗ I)``, so the left-to-right sweep over the prefixes and the
right-to-left sweep over the suffixes run on the host from these Grams alone,
each truncation discarding at most ``delta = eps ‖A‖ / sqrt(d - 1)``. Pass 2
contracts ``A`` with the left and right bases into the middle tensor
``(r_s, n_s .. n_{t-1}, r_t)``, which is TT-SVD'd in memory with the same
``delta`` per bond. The errors of the three parts are orthogonal, so
``‖A - X‖_F <= eps ‖A‖_F`` holds as in memory.

HOSVD. Pass 1: the mode Grams ``A_(k) A_(k)^T`` of all modes; the factors are
their leading eigenvectors (``eps ‖A‖ / sqrt(d)`` discarded per mode). Pass 2:
the core ``A ×_k U_k^T``.

Memory: a prefix Gram pairs rows from every chunk along the prefix modes that
share their other indices, so Dask holds those chunks together. Chunk the data
along the middle modes (whole along the first and last modes that the Grams
cover), and memory stays at a few chunks per worker; chunks split along the end
modes make those groups, up to the whole array, resident at once.

Grams square the singular values: what lies below about ``1e-8 ‖A‖`` is lost
in rounding, so ``eps`` below ``1e-7`` gets a warning. Everything returns plain
NumPy arrays; the entry points wrap them.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._info import user_stacklevel
from ..backends import get
from ..errors import ArgumentError
from ..linalg.svd import truncation_rank
from .blocks import block_grid

GRAM_EPS_FLOOR = 1e-7
MIDDLE_MODES = 2**20  # entries of the middle part per unit of r_s * r_t (automatic split)
MIDDLE_LIMIT = 2**28  # entries of the middle part held in memory (2 GiB of float64)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Dask's PerformanceWarning about tensordot's intermediate chunk counts."""
    with warnings.catch_warnings():
        try:
            from dask.array.core import PerformanceWarning

            warnings.simplefilter("ignore", PerformanceWarning)
        except ImportError:  # pragma: no cover - older Dask
            pass
        yield


def _check(a: Any, eps: float, where: str) -> None:
    block_grid(a, where)  # unknown chunk sizes -> ShapeError
    if a.dtype.kind not in "fc":
        raise ArgumentError(f"{where}: a dask array of dtype {a.dtype} can't be decomposed; "
                            "cast it to a floating dtype (a.astype('f8'))")
    if 0 < eps < GRAM_EPS_FLOOR:
        warnings.warn(f"{where}: the out-of-core path works from Gram matrices, accurate to "
                      f"about 1e-8 relative; eps={eps:g} may not be reached",
                      stacklevel=user_stacklevel())


def _leading(gram: np.ndarray, delta: float, bound: int | None) -> tuple[np.ndarray, float]:
    """Leading eigenvectors of a Gram keeping all but ``delta^2`` of its trace; discarded."""
    if not np.all(np.isfinite(gram)):
        raise ArgumentError("the dask array holds NaN or inf (its Gram matrices are not finite); "
                            "decompositions need finite data")
    lam, vec = np.linalg.eigh((gram + gram.conj().T) / 2)
    lam, vec = lam[::-1], vec[:, ::-1]
    # below n * u * lambda_max the Gram's eigenvalues are rounding noise: they carry no
    # direction, and keeping them would only inflate the ranks of exactly low-rank data
    floor = gram.shape[0] * np.finfo(lam.dtype).eps * max(float(lam[0]), 0.0) if lam.size \
        else 0.0
    lam = np.where(lam > floor, lam, 0.0)
    s = np.sqrt(lam)
    r = truncation_rank(s, delta, bound, _HOST)
    return vec[:, :r], float(np.sum(np.clip(lam[r:], 0.0, None)))


_HOST = get("numpy")


def tt_svd_dask(a: Any, eps: float, bounds: list | None, gram_limit: int | None,
                where: str = "tt_svd") -> tuple[list, dict]:
    """Cores (host NumPy) and ``{"passes", "bytes_read", "error_estimate", "norm"}``."""
    import dask

    _check(a, eps, where)
    with _quiet():
        return _tt_svd(a, eps, bounds, gram_limit, dask)


def _tt_svd(a: Any, eps: float, bounds: list | None, gram_limit: int | None,
            dask: Any) -> tuple:
    shape = tuple(int(n) for n in a.shape)
    d = len(shape)
    s, t = _split(shape, gram_limit)
    grams = [_prefix_gram(a, k) for k in range(1, s + 1)]
    grams += [_suffix_gram(a, k) for k in range(t, d)]
    computed = dask.compute(*grams) if grams else ()
    left_g, right_g = computed[:s], computed[s:]
    norm2 = float(np.real(np.trace(left_g[0] if s else right_g[-1]))) if grams else None
    if norm2 is None:
        norm2 = float(dask.compute((abs(a) ** 2).sum())[0])
    delta = eps / math.sqrt(d - 1) * math.sqrt(norm2) if eps > 0 else 0.0
    bound = (lambda b: None) if bounds is None else (lambda b: bounds[b - 1])
    left_cores, u, disc_l = _left_sweep(left_g, shape, delta, bound)
    right_cores, v, disc_r = _right_sweep(right_g, shape, t, delta, bound)
    entries = u.shape[1] * math.prod(shape[s:t]) * v.shape[1]
    if entries > MIDDLE_LIMIT:
        raise ArgumentError(f"tt_svd: the middle part (modes {s}..{t - 1}, ranks {u.shape[1]} "
                            f"and {v.shape[1]}) would hold {entries:,} entries; pass a larger "
                            f"gram_limit so that more modes are handled by Gram matrices")
    middle = _middle(a, u, v, s, t, shape)  # pass 2
    mid_cores, disc_m = _middle_cores(middle, delta, bounds, s, t)
    cores = left_cores + mid_cores + right_cores
    err = math.sqrt(disc_l + disc_r + disc_m) / math.sqrt(norm2) if norm2 > 0 else 0.0
    info = {"passes": 2, "bytes_read": 2 * int(a.nbytes), "error_estimate": err,
            "norm": math.sqrt(norm2)}
    return cores, info


def _split(shape: tuple, limit: int | None) -> tuple[int, int]:
    """``s`` prefix bonds and suffix start ``t`` (``s < t``) of the Gram sweeps.

    With a `limit`, every prefix and suffix Gram of at most `limit` rows. Without,
    the smallest Grams that leave a middle of at most ``MIDDLE_MODES`` entries
    (before its two ranks): a Gram of ``P`` rows costs ``2 P`` flops per entry of
    the data, so the Grams stay as small as the middle's memory allows.
    """
    d = len(shape)
    if limit is not None:
        s = 0
        while s < d - 1 and math.prod(shape[: s + 1]) <= limit:
            s += 1
        t = d
        while t - 1 > s and math.prod(shape[t - 1:]) <= limit:
            t -= 1
        return s, t
    s, t = (1, d - 1) if d > 2 else (1, 2)
    while t - s > 1 and math.prod(shape[s:t]) > MIDDLE_MODES:
        # grow the side whose next Gram is smaller
        if math.prod(shape[: s + 1]) <= math.prod(shape[t - 1:]):
            s += 1
        else:
            t -= 1
    return s, t


def _prefix_gram(a: Any, k: int) -> Any:
    import dask.array as da

    rest = list(range(k, a.ndim))
    return da.tensordot(a, a.conj(), axes=(rest, rest))


def _suffix_gram(a: Any, k: int) -> Any:
    import dask.array as da

    head = list(range(k))
    return da.tensordot(a.conj(), a, axes=(head, head))


def _left_sweep(grams: tuple, shape: tuple, delta: float, bound: Any) -> tuple:
    cores, u, disc = [], np.ones((1, 1)), 0.0
    for k, g in enumerate(grams):
        n = shape[k]
        p = math.prod(shape[: k + 1])
        w = np.kron(u, np.eye(n))                        # (P_k, r n)
        proj = w.conj().T @ np.reshape(g, (p, p)) @ w
        vec, lost = _leading(proj, delta, bound(k + 1))
        disc += lost
        cores.append(np.reshape(vec, (u.shape[1], n, vec.shape[1])))
        u = w @ vec
    return cores, u, disc


def _right_sweep(grams: tuple, shape: tuple, t: int, delta: float, bound: Any) -> tuple:
    d = len(shape)
    cores, v, disc = [], np.ones((1, 1)), 0.0
    for k in range(d - 1, t - 1, -1):
        g = grams[k - t]
        n = shape[k]
        q = math.prod(shape[k:])
        w = np.kron(np.eye(n), v)                        # (S_k, n r)
        proj = w.T @ np.reshape(g, (q, q)) @ w.conj()
        vec, lost = _leading(proj, delta, bound(k))
        disc += lost
        r_right = v.shape[1]
        cores.insert(0, np.reshape(vec.T, (vec.shape[1], n, r_right)))
        v = w @ vec
    return cores, v, disc


def _middle(a: Any, u: np.ndarray, v: np.ndarray, s: int, t: int, shape: tuple) -> np.ndarray:
    """``(U^H ⊗ I ⊗ V^T) A`` as ``(r_s, n_s, .., n_{t-1}, r_t)``: the second pass."""
    import dask.array as da

    d = len(shape)
    ul = np.reshape(u.conj(), shape[:s] + (u.shape[1],))
    vr = np.reshape(v, shape[t:] + (v.shape[1],))
    m = da.tensordot(a, ul, axes=(list(range(s)), list(range(s)))) if s else a[None]
    # m: (n_s .. n_{d-1}, r_s) or (1, n_0 ..): bring r_s first
    m = da.moveaxis(m, -1, 0) if s else m
    k = d - t
    if k:
        m = da.tensordot(m, vr, axes=(list(range(m.ndim - k, m.ndim)), list(range(k))))
    else:
        m = m[..., None]
    return np.asarray(m.compute())


def _middle_cores(m: np.ndarray, delta: float, bounds: list | None, s: int, t: int) -> tuple:
    """TT-SVD of the middle tensor with ``delta`` per bond (plain NumPy)."""
    shape = m.shape
    r0, rt = shape[0], shape[-1]
    modes = list(shape[1:-1])
    cores, disc = [], 0.0
    b = np.reshape(m, (r0 * modes[0], -1))
    r = r0
    for j in range(len(modes) - 1):
        b = np.reshape(b, (r * modes[j], -1))
        u, sv, vh = np.linalg.svd(b, full_matrices=False)
        bond = s + 1 + j
        rk = truncation_rank(sv, delta, None if bounds is None else bounds[bond - 1], _HOST)
        disc += float(np.sum(sv[rk:] ** 2))
        cores.append(np.reshape(u[:, :rk], (r, modes[j], rk)))
        b = sv[:rk, None] * vh[:rk]
        r = rk
    cores.append(np.reshape(b, (r, modes[-1], rt)))
    return cores, disc


def hosvd_dask(a: Any, eps: float, ranks: list | None, where: str = "hosvd") -> tuple:
    """``(core, factors, info)`` of the truncated HOSVD of a Dask array, in two passes."""
    import dask
    import dask.array as da

    _check(a, eps, where)
    with _quiet():
        return _hosvd(a, eps, ranks, dask, da)


def _hosvd(a: Any, eps: float, ranks: list | None, dask: Any, da: Any) -> tuple:
    d = a.ndim
    grams = [da.tensordot(a, a.conj(), axes=([j for j in range(d) if j != k],) * 2)
             for k in range(d)]
    grams = dask.compute(*grams)
    norm2 = float(np.real(np.trace(grams[0])))
    delta = eps / math.sqrt(d) * math.sqrt(norm2) if eps > 0 else 0.0
    factors, disc = [], 0.0
    for k, g in enumerate(grams):
        vec, lost = _leading(np.asarray(g), delta, None if ranks is None else ranks[k])
        factors.append(vec)
        disc += lost
    core = a
    for u in factors:  # contracting the leading axis each time cycles the modes into place
        core = da.tensordot(core, u.conj(), axes=([0], [0]))
    core = np.asarray(core.compute())
    err = math.sqrt(disc / norm2) if norm2 > 0 else 0.0
    info = {"passes": 2, "bytes_read": 2 * int(a.nbytes), "error_estimate": err,
            "norm": math.sqrt(norm2)}
    return core, factors, info
