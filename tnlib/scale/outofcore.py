"""TT-SVD and HOSVD of Dask arrays in two passes over the data.

TT-SVD. The sequential TT-SVD of ``A`` needs, at the bonds near its ends, only
the row space of the prefix unfolding ``A^{<=s}`` (``P`` rows, huge columns)
and the column space of the suffix unfolding ``A^{>=t}``. Pass 1 reduces each
to a small *proxy* with the same Gram matrix, block by block in one Dask
graph: ``L`` (``P x m``) with ``L L^H = A^{<=s} A^{<=s,H}`` and ``R`` with
``R^H R = A^{>=t,H} A^{>=t}``. Two ways, chosen by ``eps``:

- ``"gram"``: the blocks' Gram matrices are summed and ``L = V Λ^{1/2}`` from
  their eigendecomposition; the cheapest (one symmetric rank-k update per
  block) but it squares the singular values, so what lies below about
  ``1e-8 ‖A‖`` is lost in rounding;
- ``"tsqr"``: the R factors of the blocks' unfoldings are merged by QR in a
  tree (TSQR) and ``L = R^H``; about twice the flops, accurate to the working
  precision. The default for ``eps < 1e-7``.

Since ``A^{<=s} = L Q^H`` with orthonormal ``Q``, the left-to-right TT-SVD of
the small tensor ``L`` (its first ``s`` bonds) *is* that of ``A``: the same
cores, singular values and truncations, each bond discarding at most
``delta = eps ‖A‖ / sqrt(d - 1)``; likewise from the right on ``R``. Pass 2
contracts ``A`` with the left and right bases into the middle tensor
``(r_s, n_s .. n_{t-1}, r_t)``, which is TT-SVD'd in memory with the same
``delta`` per bond. The errors of the three parts are orthogonal, so
``‖A - X‖_F <= eps ‖A‖_F`` holds as in memory.

HOSVD. Pass 1: the mode Grams ``A_(k) A_(k)^T`` of all modes; the factors are
their leading eigenvectors (``eps ‖A‖ / sqrt(d)`` discarded per mode). Pass 2:
the core ``A ×_k U_k^T``.

Memory: pass 1 works on blocks that are whole along the end modes (the first
``s`` and the last ``d - t``); chunks split there are merged by a rechunk, so
chunk the data along the middle modes and memory stays at a few chunks per
worker. Blocks whose largest magnitude leaves ``2^(±maxexp/3)`` of their dtype (about
``1e±102`` in float64, ``4e±12`` in float32) are factored at a power-of-two scale, so
data near the float limits loses no accuracy.
Everything returns plain NumPy arrays; the entry points wrap them.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._info import user_stacklevel
from .._validation import check_nonempty
from ..backends import get
from ..errors import ArgumentError
from ..linalg.svd import left_svd_abs, truncation_rank
from .blocks import block_grid, compute

GRAM_EPS_FLOOR = 1e-7
METHODS = ("auto", "gram", "tsqr")
MIDDLE_MODES = 2**20  # entries of the middle part per unit of r_s * r_t (automatic split)
MIDDLE_MODES_MAX = 2**23  # ... accepted rather than a proxy of more than CHEAP_PROXY rows
CHEAP_PROXY = 256  # rows of a proxy whose flops (P per entry) hide behind reading the entry
MIDDLE_LIMIT = 2**28  # entries of the middle part held in memory (2 GiB of float64)
_HOST = get("numpy")
_NOT_FINITE = ("the dask array holds NaN or inf; decompositions need finite data")


@contextlib.contextmanager
def _passes(where: str) -> Iterator[None]:
    """Silence Dask's PerformanceWarning about tensordot's intermediate chunk counts; name
    `where` in the non-finite-data error that the passes raise deep inside."""
    with warnings.catch_warnings():
        try:
            from dask.array.core import PerformanceWarning

            warnings.simplefilter("ignore", PerformanceWarning)
        except ImportError:  # pragma: no cover - older Dask
            pass
        try:
            yield
        except ArgumentError as exc:
            if str(exc) != _NOT_FINITE:
                raise
            raise ArgumentError(f"{where}: {_NOT_FINITE}") from None


def _check(a: Any, where: str) -> None:
    block_grid(a, where)  # unknown chunk sizes -> ShapeError
    check_nonempty(tuple(int(n) for n in a.shape), where)
    if a.dtype.kind not in "fc":
        raise ArgumentError(f"{where}: a dask array of dtype {a.dtype} can't be decomposed; "
                            "cast it to a floating dtype (a.astype('f8'))")


def _gram_warning(eps: float, where: str) -> None:
    if 0 < eps < GRAM_EPS_FLOOR:
        warnings.warn(f"{where}: out of core, Gram matrices are accurate to about 1e-8 "
                      f"relative; eps={eps:g} may not be reached (tt_svd's method='tsqr' is)",
                      stacklevel=user_stacklevel())


def _method(method: Any, eps: float, where: str) -> str:
    if method not in METHODS:
        raise ArgumentError(f"{where}: method must be one of {METHODS}, got {method!r}")
    if method == "auto":
        return "tsqr" if eps < GRAM_EPS_FLOOR else "gram"
    if method == "gram":
        _gram_warning(eps, where)
    return method


def tt_svd_dask(a: Any, eps: float, bounds: list | None, gram_limit: int | None,
                method: str = "auto", where: str = "tt_svd") -> tuple[list, dict]:
    """Cores (host NumPy) and ``{"passes", "bytes_read", "error_estimate", "norm", "method"}``."""
    _check(a, where)
    method = _method(method, eps, where)
    with _passes(where):
        return _tt_svd(a, eps, bounds, gram_limit, method, where)


def _tt_svd(a: Any, eps: float, bounds: list | None, gram_limit: int | None, method: str,
            where: str) -> tuple:
    shape = tuple(int(n) for n in a.shape)
    d = len(shape)
    s, t = _split(shape, gram_limit)
    bound = (lambda b: None) if bounds is None else (lambda b: bounds[b - 1])
    if s == 0 and t == d:  # no end small enough for a proxy: the whole tensor in memory
        whole = np.asarray(compute(a, where=where)[0])
        scale = _power_of_two(np.max(np.abs(whole)) if whole.size else 0.0, whole.dtype)
        whole = whole / scale if scale != 1.0 else whole
        norm2 = float(np.linalg.norm(whole)) ** 2
        if norm2 == 0.0:
            return _zeros(shape, a.dtype), _info(1, a, 0.0, 0.0, 1.0, method)
        delta = _delta(eps, d, norm2)
        cores, disc = _middle_cores(whole[None, ..., None], delta, bounds, 0, scale)
        return cores, _info(1, a, disc, norm2, scale, method)
    left, right, scale = _end_proxies(a, s, t, method, where)  # pass 1
    norm2 = float(np.linalg.norm(left if s else right)) ** 2
    if norm2 == 0.0:  # all zeros: nothing more to read
        return _zeros(shape, a.dtype), _info(1, a, 0.0, 0.0, 1.0, method)
    delta = _delta(eps, d, norm2)
    left_cores, _, disc_l = _sweep(left, shape[:s], delta, [bound(k + 1) for k in range(s)])
    right_cores, disc_r, v = [], 0.0, np.ones((1, 1))
    if t < d:  # from the right: the left sweep of the reversed, conjugated suffix proxy
        tail = shape[t:][::-1]
        flipped, _, disc_r = _sweep(_reverse_rows(right, shape[t:]), tail, delta,
                                    [bound(k) for k in range(d - 1, t - 1, -1)])
        v = _reverse_rows(_basis(flipped), tail)
        right_cores = [np.transpose(c, (2, 1, 0)).conj() for c in flipped[::-1]]
    u = _basis(left_cores)
    entries = u.shape[1] * math.prod(shape[s:t]) * v.shape[1]
    if entries > MIDDLE_LIMIT:
        raise ArgumentError(f"{where}: the middle part (modes {s}..{t - 1}, ranks {u.shape[1]} "
                            f"and {v.shape[1]}) would hold {entries:,} entries; pass a larger "
                            f"gram_limit so that more modes are handled from the ends")
    middle = _middle(a, u, v, s, t, shape, scale, where)  # pass 2
    mid_cores, disc_m = _middle_cores(middle, delta, bounds, s, scale)
    cores = left_cores + mid_cores + right_cores
    return cores, _info(2, a, disc_l + disc_r + disc_m, norm2, scale, method)


def _zeros(shape: tuple, dtype: Any) -> list:
    return [np.zeros((1, n, 1), dtype=dtype) for n in shape]


def _delta(eps: float, d: int, norm2: float) -> float:
    return eps / math.sqrt(max(d - 1, 1)) * math.sqrt(norm2) if eps > 0 else 0.0


def _info(passes: int, a: Any, disc: float, norm2: float, scale: float, method: str) -> dict:
    err = math.sqrt(disc / norm2) if norm2 > 0 else 0.0
    return {"passes": passes, "bytes_read": passes * int(a.nbytes), "error_estimate": err,
            "norm": scale * math.sqrt(norm2), "method": method}


def _power_of_two(peak: float, dtype: Any) -> float:
    """1, or the power of two nearest `peak` when `peak` leaves the safe range of `dtype`
    (``2^(±maxexp/3)``: squares and Gram matrices stay far from the limits)."""
    if not np.isfinite(peak):
        raise ArgumentError(_NOT_FINITE)
    limit = 2.0 ** (np.finfo(dtype).maxexp // 3)
    if peak == 0 or 1.0 / limit < peak < limit:
        return 1.0
    return float(2.0 ** round(math.log2(peak)))


def _split(shape: tuple, limit: int | None) -> tuple[int, int]:
    """``s`` prefix modes and suffix start ``t`` (``s < t``) handled by proxies.

    With a `limit`, the longest prefix and suffix of at most `limit` entries.
    Without, the shortest ones that leave a middle of at most ``MIDDLE_MODES``
    entries (before its two ranks): a proxy of ``P`` rows costs ``P`` flops per
    entry of the data (``2 P`` by TSQR), so the ends stay as small as the
    middle's memory allows. A proxy past ``CHEAP_PROXY`` rows costs more than
    reading the data, so a middle of up to ``MIDDLE_MODES_MAX`` entries is
    accepted instead.
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
        left, right = math.prod(shape[: s + 1]), math.prod(shape[t - 1:])
        if min(left, right) > CHEAP_PROXY and math.prod(shape[s:t]) <= MIDDLE_MODES_MAX:
            break
        if left <= right:  # grow the side whose next proxy is smaller
            s += 1
        else:
            t -= 1
    return s, t


def _end_proxies(a: Any, s: int, t: int, method: str, where: str) -> tuple:
    """Pass 1: ``L`` (``P x m``), ``R^H`` (``S x m'``) and their common scale (see above)."""
    import dask

    d = a.ndim
    a = _whole_ends(a, s, t)
    p, q = math.prod(a.shape[:s]), math.prod(a.shape[t:])
    parts = [dask.delayed(_block_part)(b, p if s else 0, q if t < d else 0, method)
             for b in a.to_delayed().ravel()]
    while len(parts) > 1:  # a binary tree: each merge holds two small results
        parts = [dask.delayed(_merge)(parts[i], parts[i + 1], method) if i + 1 < len(parts)
                 else parts[i] for i in range(0, len(parts), 2)]
    parts = compute(parts[0], where=where)[0]
    proxies = [None if x is None else _gram_root(x) if method == "gram" else _h(x)
               for x in parts[:2]]
    return proxies[0], proxies[1], parts[2]


def _block_part(block: Any, p: int, q: int, method: str) -> tuple:
    """One block's ``(prefix part, suffix part, scale)``: Grams or R factors."""
    x = np.asarray(block)
    scale = _power_of_two(float(np.max(np.abs(x))) if x.size else 0.0, x.dtype)
    if scale != 1.0:
        x = x / scale
    left = right = None
    if p:
        b = np.reshape(x, (p, -1))
        left = _gram(_h(b)) if method == "gram" else _r(_h(b))
    if q:
        b = np.reshape(x, (-1, q))
        right = _gram(b) if method == "gram" else _r(b)
    return left, right, scale


def _h(b: np.ndarray) -> np.ndarray:
    """``b^H`` (a view for real data)."""
    return b.conj().T if np.iscomplexobj(b) else b.T


def _gram(b: np.ndarray) -> np.ndarray:
    """``b^H b`` (a symmetric rank-k update for real data)."""
    return _h(b) @ b


def _r(b: np.ndarray) -> np.ndarray:
    """The R factor of ``b`` (``min(rows, cols) x cols``)."""
    return np.linalg.qr(b, mode="r")


def _merge(x: tuple, y: tuple, method: str) -> tuple:
    """Two blocks' parts at the larger of their scales (Grams add, R factors stack)."""
    scale = max(x[2], y[2])
    out = []
    for px, py in zip(x[:2], y[:2]):
        if px is None:
            out.append(None)
            continue
        wx, wy = x[2] / scale, y[2] / scale
        if method == "gram":
            out.append(px * wx**2 + py * wy**2)
        else:
            out.append(_r(np.concatenate([px * wx, py * wy])))
    return out[0], out[1], scale


def _eig_desc(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors of a Gram, rounding-level values zeroed.

    Below ``n u lambda_max`` a Gram's eigenvalues are rounding noise: they carry no
    direction, and keeping them would only inflate the ranks of exactly low-rank data.
    """
    if not np.all(np.isfinite(g)):
        raise ArgumentError(_NOT_FINITE)
    lam, vec = np.linalg.eigh((g + g.conj().T) / 2)
    lam, vec = lam[::-1], vec[:, ::-1]
    floor = g.shape[0] * np.finfo(lam.dtype).eps * max(float(lam[0]), 0.0) if lam.size \
        else 0.0
    return np.where(lam > floor, lam, 0.0), vec


def _gram_root(g: np.ndarray) -> np.ndarray:
    """``V Λ^{1/2}`` for the Gram ``g = V Λ V^H`` (rounding-level eigenvalues dropped)."""
    lam, vec = _eig_desc(g)
    keep = lam > 0
    if not np.any(keep):  # zero data: one zero column keeps the shapes regular
        return np.zeros((g.shape[0], 1), dtype=g.dtype)
    return vec[:, keep] * np.sqrt(lam[keep])


def _reverse_rows(m: np.ndarray, modes: tuple) -> np.ndarray:
    """`m` with its row index, ordered by `modes`, in the reverse mode order."""
    x = np.reshape(m, tuple(modes) + (m.shape[1],))
    x = np.transpose(x, list(range(len(modes)))[::-1] + [len(modes)])
    return np.reshape(x, (-1, m.shape[1]))


def _sweep(proxy: np.ndarray, modes: tuple, delta: float, bounds: list) -> tuple:
    """Left-to-right TT-SVD of the first ``len(modes)`` bonds of `proxy` (``P x m``).

    Each bond is factored as in memory (:func:`tnlib.linalg.svd.left_svd_abs`:
    Gram, QR or SVD by shape and accuracy; a plain SVD of a wide 100 x 10^6
    unfolding takes LAPACK a minute). Returns the cores, the remainder
    ``(r, m)`` and the discarded energy, measured directly.
    """
    if not np.all(np.isfinite(proxy)):
        raise ArgumentError(_NOT_FINITE)
    cores, disc, r = [], 0.0, 1
    b = proxy
    for k, n in enumerate(modes):
        b = np.reshape(b, (r * n, -1))
        u, _, nxt = left_svd_abs(b, delta, bounds[k], _HOST)
        if u.shape[1] < u.shape[0]:
            disc += float(np.linalg.norm(b - u @ nxt)) ** 2
        cores.append(np.reshape(u, (r, n, u.shape[1])))
        b, r = nxt, u.shape[1]
    return cores, b, disc


def _basis(cores: list) -> np.ndarray:
    """The ``(n_1 .. n_k, r_k)`` matrix of left-orthonormal cores (``(1, 1)`` for none)."""
    basis = np.ones((1, 1))
    for c in cores:
        basis = np.reshape(np.tensordot(basis, c, axes=(1, 0)), (-1, c.shape[2]))
    return basis


def _middle(a: Any, u: np.ndarray, v: np.ndarray, s: int, t: int, shape: tuple,
            scale: float, where: str) -> np.ndarray:
    """``(U^H ⊗ I ⊗ V) A / scale`` as ``(r_s, n_s, .., n_{t-1}, r_t)``: the second pass.

    Block by block (whole along the end modes, as in pass 1): two matrix
    products per block, written into the middle tensor at the block's place.
    """
    import dask

    a = _whole_ends(a, s, t)
    grid = block_grid(a, where)
    tasks = [dask.delayed(_project_block)(blk, _h(u), v, s, t, scale)
             for blk in a.to_delayed().ravel()]
    out = np.empty((u.shape[1],) + shape[s:t] + (v.shape[1],),
                   dtype=np.result_type(a.dtype, u.dtype, v.dtype))
    for (_, slices), part in zip(grid, compute(*tasks, where=where)):
        out[(slice(None),) + slices[s:t] + (slice(None),)] = part
    return out


def _project_block(block: Any, uh: np.ndarray, v: np.ndarray, s: int, t: int,
                   scale: float) -> np.ndarray:
    """``(r_s, block's middle modes, r_t)``: the block contracted with both bases."""
    x = np.asarray(block)
    if scale != 1.0:
        x = x / scale
    mid = x.shape[s:t]
    x = uh @ np.reshape(x, (uh.shape[1], -1))
    x = np.reshape(x, (-1, v.shape[0])) @ v
    return np.reshape(x, (uh.shape[0],) + mid + (v.shape[1],))


def _whole_ends(a: Any, s: int, t: int) -> Any:
    """`a` rechunked, if needed, to blocks whole along the modes before `s` and from `t`."""
    d = a.ndim
    ends = [k for k in range(d) if k < s or k >= t]
    if any(len(a.chunks[k]) > 1 for k in ends):
        a = a.rechunk({k: (-1 if k in ends else "auto") for k in range(d)})
    return a


def _middle_cores(m: np.ndarray, delta: float, bounds: list | None, s: int,
                  scale: float) -> tuple:
    """TT-SVD of the middle tensor with ``delta`` per bond; the last core takes `scale`."""
    if not np.all(np.isfinite(m)):
        raise ArgumentError(_NOT_FINITE)
    r0, modes, rt = m.shape[0], m.shape[1:-1], m.shape[-1]
    inner = [None if bounds is None else bounds[s + j] for j in range(len(modes) - 1)]
    folded = ((r0 * modes[0],) + modes[1:-1]) if len(modes) > 1 else ()
    cores, rest, disc = _sweep(np.reshape(m, (r0 * modes[0], -1)), folded, delta, inner)
    if cores:
        cores[0] = np.reshape(cores[0], (r0, modes[0], cores[0].shape[2]))
    last = np.reshape(rest, (-1, modes[-1], rt)) * scale
    return cores + [last], disc


def hosvd_dask(a: Any, eps: float, ranks: list | None, where: str = "hosvd") -> tuple:
    """``(core, factors, info)`` of the truncated HOSVD of a Dask array, in two passes."""
    import dask.array as da

    _check(a, where)
    _gram_warning(eps, where)
    with _passes(where):
        return _hosvd(a, eps, ranks, da, where)


def _hosvd(a: Any, eps: float, ranks: list | None, da: Any, where: str) -> tuple:
    d = a.ndim
    grams = [da.tensordot(a, a.conj(), axes=([j for j in range(d) if j != k],) * 2)
             for k in range(d)]
    grams = compute(*grams, where=where)
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
    core = np.asarray(compute(core, where=where)[0])
    err = math.sqrt(disc / norm2) if norm2 > 0 else 0.0
    info = {"passes": 2, "bytes_read": 2 * int(a.nbytes), "error_estimate": err,
            "norm": math.sqrt(norm2), "method": "gram"}
    return core, factors, info


def _leading(gram: np.ndarray, delta: float, bound: int | None) -> tuple[np.ndarray, float]:
    """Leading eigenvectors of a Gram keeping all but ``delta^2`` of its trace; discarded."""
    lam, vec = _eig_desc(gram)
    r = truncation_rank(np.sqrt(lam), delta, bound, _HOST)
    return vec[:, :r], float(np.sum(lam[r:]))
