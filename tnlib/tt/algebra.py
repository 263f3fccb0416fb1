"""TT algebra: sums, products, scalar products, norms, entries.

Every operation works core by core; none forms the full tensor except
:func:`full`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._validation import cast_factor, check_scalar_kind
from ..backends import backend_of, to_numpy
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ._gram import gram as _gram
from ._gram import squares
from ._scale import balanced, chain_host, matched, times_pow2, warn_out_of_range
from .tensor import TTTensor

__all__ = ["add", "dot", "evaluate", "full", "getitem", "hadamard", "kron", "log_norm", "norm",
           "scale",
           "tt_sum"]


def _train(x: Any, where: str) -> TTTensor:
    """`x` if it is a TTTensor, else a :class:`ShapeError` naming it."""
    if not isinstance(x, TTTensor):
        raise ShapeError(f"{where}: x must be a TTTensor, got {type(x).__name__}")
    return x


def check_compatible(x: TTTensor, y: TTTensor, where: str) -> Any:
    """Same shape, backend and dtype, or a :class:`~tnlib.TnlibError` saying which differs."""
    if not isinstance(y, TTTensor):
        raise ArgumentError(f"{where}: expected a TTTensor, got {type(y).__name__}")
    xp = backend_of(x, y)
    if x.shape != y.shape:
        raise ShapeError(f"{where}: shapes differ, {x.shape} and {y.shape}")
    dx, dy = xp.dtype_name(x.cores[0]), xp.dtype_name(y.cores[0])
    if dx != dy:
        raise ArgumentError(f"{where}: dtypes differ, {dx} and {dy}; convert one with "
                            ".to(dtype=...)")
    return xp


@host_eager
def full(x: TTTensor) -> Any:
    """Dense tensor of shape ``x.shape``.

    Examples
    --------
    >>> from tnlib import tt
    >>> tt.ones((2, 3)).full().shape
    (2, 3)
    """
    xp = _train(x, "full").backend
    entries = math.prod(x.shape)
    if entries > 2**48:  # beyond any memory: say so before a framework tries
        raise ShapeError(f"full: x has shape {x.shape}, {entries:.3g} entries; read entries "
                         "with x[i] or tt.evaluate(x, idx) instead")
    res = None
    cores, exponent = balanced(x.cores, xp)  # cores of 1e300 and 1e-300 multiply safely
    try:
        for c in cores:
            r, n, rr = xp.shape(c)
            mat = xp.reshape(c, (r, n * rr))
            res = xp.reshape(mat, (n, rr)) if res is None else xp.reshape(res @ mat, (-1, rr))
    except MemoryError as exc:
        raise ShapeError(f"full: the dense tensor of shape {x.shape} ({entries:.3g} entries) "
                         "does not fit in memory; read entries with x[i] or tt.evaluate(x, "
                         "idx) instead") from exc
    return times_pow2(xp.reshape(res, x.shape), exponent, xp)


@host_eager
def dot(x: TTTensor, y: TTTensor, log: bool = False) -> Any:
    """Scalar product ``sum(conj(x) * y)`` in ``O(d n r^3)``.

    Parameters
    ----------
    x, y : TTTensor
    log : bool, optional
        Return ``(sign, log|dot|)`` instead, for products beyond the float range
        (like :func:`numpy.linalg.slogdet`: ``sign`` is ``dot / |dot|``, ``+-1``
        for real trains, and ``0`` with a log of ``-inf`` when the product is 0).

    Returns
    -------
    0-d array of the backend (differentiable, on the device), or a pair of them.
    A value beyond the range of the dtype is ``inf``, with a
    :class:`~tnlib.PrecisionWarning` pointing to ``log=True``.

    Examples
    --------
    >>> from tnlib import tt
    >>> float(tt.dot(tt.ones((2, 3)), tt.ones((2, 3))))
    6.0
    >>> x = 1e200 * tt.ones((10,) * 4)                 # <x, x> = 1e404 overflows
    >>> sign, logabs = tt.dot(x, x, log=True)
    >>> float(sign), round(float(logabs) / 2.302585092994046, 6)
    (1.0, 404.0)
    """
    xp = check_compatible(_train(x, "dot"), y, "dot")
    if not isinstance(log, (bool, np.bool_)):
        raise ArgumentError(f"dot: log must be True or False, got {log!r}")
    v, log_scale, exponent = _gram(x, y, xp)
    return _value(v, log_scale, exponent, xp, log, "dot",
                  "tt.dot(x, y, log=True) returns (sign, log|dot|)")


def _value(v: Any, log_scale: Any, exponent: int, xp: Any, log: bool, where: str,
           hint: str) -> Any:
    """``v exp(log_scale) 2^exponent``, or ``(sign, log|.|)`` with `log`; a value past
    the float range is inf (or 0) with a :class:`PrecisionWarning` giving `hint`."""
    if log:
        a = xp.abs(v)
        sign = v / xp.astype(xp.where(a > 0, a, xp.ones_like(a)), xp.dtype(v))
        with np.errstate(divide="ignore"):
            return sign, xp.log(a) + log_scale + exponent * math.log(2.0)
    with np.errstate(over="ignore", under="ignore"):
        out = times_pow2(v * xp.astype(xp.exp(log_scale), xp.dtype(v)), exponent, xp)
    warn_out_of_range(out, xp, where, hint, v)
    return out


@host_eager
def norm(x: TTTensor) -> Any:
    """Frobenius norm, a 0-d real array.

    Computed from the Gram sweep with per-core rescaling, so it is stable for
    long trains without an orthogonalization sweep.

    Examples
    --------
    >>> from tnlib import tt
    >>> float(tt.norm(tt.ones((4, 4))))
    4.0
    """
    xp = _train(x, "norm").backend
    v, log_scale, exponent = _gram(x, x, xp)
    if exponent % 2:  # an even exponent halves exactly
        v, exponent = v * 2, exponent - 1
    with np.errstate(over="ignore"):
        mag, log_scale = squares(v, xp, x.cores, log_scale)
        # the scale in the norm's own dtype (a Python float's exp is float64 on the host:
        # float32 norms came back as float64)
        scale = xp.astype(xp.exp(0.5 * log_scale), xp.dtype(mag))
        out = times_pow2(xp.sqrt(mag) * scale, exponent // 2, xp)
    warn_out_of_range(out, xp, "norm", "tt.log_norm(x) returns its logarithm")
    return out


@host_eager
def log_norm(x: TTTensor) -> Any:
    """Natural logarithm of the Frobenius norm, for trains whose norm overflows float64
    (``-inf`` for the zero train).

    Examples
    --------
    >>> from tnlib import tt
    >>> x = 1e200 * tt.ones((10,) * 4)          # norm 1e202
    >>> round(float(tt.log_norm(x) / 2.302585092994046), 6)
    202.0
    """
    xp = _train(x, "log_norm").backend
    v, log_scale, exponent = _gram(x, x, xp)
    mag, log_scale = squares(v, xp, x.cores, log_scale)
    with np.errstate(divide="ignore"):  # the zero train: -inf, as dot(log=True) gives
        return 0.5 * (xp.log(mag) + log_scale) + 0.5 * exponent * math.log(2.0)


@host_eager
def tt_sum(x: TTTensor, log: bool = False, *, axis: Any = None) -> Any:
    """Sum of all entries (0-d array), or over the modes `axis` (a TTTensor).

    Parameters
    ----------
    x : TTTensor
    log : bool, optional
        Return ``(sign, log|sum|)`` instead, for sums beyond the float range (as
        :func:`dot` does). A sum beyond the range of the dtype is ``inf`` (or ``0``
        below it) with a :class:`~tnlib.PrecisionWarning` pointing here.
    axis : int or sequence of int, optional
        Sum over these modes only (negative ones count from the end): the train of the
        remaining modes, a marginal, in ``O(d n r^2)`` (all modes: the full sum).

    Examples
    --------
    >>> from tnlib import tt
    >>> float(tt.ones((2, 5)).sum())
    10.0
    >>> sign, logabs = tt.sum(tt.ones((2,) * 2000), log=True)   # 2^2000
    >>> float(sign), round(float(logabs) / 0.6931471805599453, 6)
    (1.0, 2000.0)
    >>> m = tt.ones((2, 3, 4)).sum(axis=(0, 2))                 # shape (3,), entries 8
    >>> m.shape, m.full().tolist()
    ((3,), [8.0, 8.0, 8.0])
    """
    xp = _train(x, "sum").backend
    if not isinstance(log, (bool, np.bool_)):
        raise ArgumentError(f"sum: log must be True or False, got {log!r}" + (
            " (to sum over modes, pass axis=)" if isinstance(log, numbers.Integral) else ""))
    if axis is not None:
        from .marginal import axes_of, sum_over

        axes = axes_of(axis, x.ndim, "sum")
        if len(axes) < x.ndim:
            if log:
                raise ArgumentError("sum: log=True gives the full sum's logarithm; it does "
                                    "not apply to a sum over some modes (axis=)")
            return sum_over(x, axes)
    hint = "tt.sum(x, log=True) returns (sign, log|sum|)"
    if xp.free_reads:  # the running row kept in range as it goes, no peaks to read
        chained = chain_host([xp.sum(c, axis=1) for c in x.cores])
        if chained is None:  # a product left the range on its own: cores at unit size
            cores, exponent = balanced(x.cores, xp, always=True)
            chained = chain_host([xp.sum(c, axis=1) for c in cores])
            if chained is not None:
                chained = chained[0], chained[1] + exponent
        if chained is not None:  # exact powers of two: integer sums stay exact
            return _value(chained[0][0, 0], 0.0, chained[1], xp, log, "sum", hint)
    # <1, x> by the Gram sweep, which keeps its running product in range (on a device,
    # where each peak would be a read, or where even unit-size cores left the range)
    c0 = x.cores[0]
    ones = TTTensor._from_cores([xp.ones((1, n, 1), dtype=xp.dtype(c0), device=xp.device(c0))
                                 for n in x.shape], xp)
    v, log_scale, exponent = _gram(ones, x, xp)
    return _value(v, log_scale, exponent, xp, log, "sum", hint)


@host_eager
def scale(x: TTTensor, c: Any) -> TTTensor:
    """``c * x`` for a scalar `c` (number or 0-d array), applied to the first core."""
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"scale: x must be a TTTensor, got {type(x).__name__}")
    xp = x.backend
    if isinstance(c, bool) or not (isinstance(c, numbers.Number) or xp.is_array(c)):
        raise ArgumentError(f"scale: c must be a number or a 0-d {xp.name} array, got "
                            f"{type(c).__name__}")
    if not isinstance(c, numbers.Number):
        backend_of(x, c)  # a 0-d array must be of the same backend
        if xp.ndim(c) != 0:
            raise ShapeError(f"scale: c must be a scalar or a 0-d array, got shape {xp.shape(c)}")
    check_scalar_kind(c, xp, x.cores[0], "scale", "TTTensor")
    cores = list(x.cores)
    cores[0] = cores[0] * cast_factor(c, xp, cores[0])
    return TTTensor._from_cores(cores, xp)


@host_eager
def add(x: TTTensor, y: Any) -> TTTensor:
    """``x + y``: cores stacked block-diagonally, ranks add.

    A scalar `y` adds a constant (a rank-1 TT of ones times `y`).
    """
    if not isinstance(y, TTTensor):
        if isinstance(x, TTTensor) and (isinstance(y, numbers.Number)
                                        or getattr(y, "ndim", None) == 0):
            # the ones on the cores' own placement (a traced core's device may be a name
            # the public constructors refuse, such as tf.function's '')
            xp, c0 = x.backend, x.cores[0]
            y = scale(TTTensor._from_cores([xp.ones((1, n, 1), dtype=xp.dtype(c0),
                                                    device=xp.device(c0)) for n in x.shape],
                                           xp), y)
        else:
            raise ArgumentError(f"add: cannot add a TTTensor and a {type(y).__name__}")
    if not isinstance(x, TTTensor):
        return add(y, x)
    xp = check_compatible(x, y, "add")
    d = x.ndim
    if d == 1:
        return TTTensor._from_cores([x.cores[0] + y.cores[0]], xp)
    # trains whose scales sit on different cores: spread first (else one block underflows)
    xcores, ycores = (x.cores, y.cores) if y is x else matched(x.cores, y.cores, xp)
    cores = []
    for k, (a, b) in enumerate(zip(xcores, ycores)):
        if k == 0:
            cores.append(xp.concatenate([a, b], axis=2))
        elif k == d - 1:
            cores.append(xp.concatenate([a, b], axis=0))
        else:
            cores.append(_block_diag(a, b, xp))
    return TTTensor._from_cores(cores, xp)


def _block_diag(a: Any, b: Any, xp: Any) -> Any:
    ra, n, ra2 = xp.shape(a)
    rb, _, rb2 = xp.shape(b)
    dt, dev = xp.dtype(a), xp.device(a)
    top = xp.concatenate([a, xp.zeros((ra, n, rb2), dtype=dt, device=dev)], axis=2)
    bottom = xp.concatenate([xp.zeros((rb, n, ra2), dtype=dt, device=dev), b], axis=2)
    return xp.concatenate([top, bottom], axis=0)


@host_eager
def hadamard(x: TTTensor, y: TTTensor) -> TTTensor:
    """Elementwise product; ranks multiply.

    Examples
    --------
    >>> from tnlib import tt
    >>> x = tt.random((3, 3, 3), 2, seed=0)
    >>> (x * x).ranks
    (1, 4, 4, 1)
    """
    xp = check_compatible(x, y, "hadamard")
    cores = []
    for a, b in zip(x.cores, y.cores):
        ra, n, ra2 = xp.shape(a)
        rb, _, rb2 = xp.shape(b)
        c = xp.einsum("anb,cnd->acnbd", a, b)
        cores.append(xp.reshape(c, (ra * rb, n, ra2 * rb2)))
    return TTTensor._from_cores(cores, xp)


def kron(x: Any, y: Any) -> Any:
    """Tensor product joining the modes: shape ``x.shape + y.shape`` for two TTTensors;
    for two TTMatrices the operator ``x ⊗ y`` on the joined modes (row and column shapes
    joined), as for an operator on a composite system.

    Examples
    --------
    >>> from tnlib import tt
    >>> tt.kron(tt.ones((2,)), tt.ones((3, 4))).shape
    (2, 3, 4)
    >>> h = tt.kron(tt.laplacian(4, 1), tt.eye((4,)))       # L ⊗ I
    >>> h.row_shape, float(h.trace())
    ((4, 4), 32.0)
    """
    from .matrix import TTMatrix

    both = (isinstance(x, TTTensor) and isinstance(y, TTTensor)) or (
        isinstance(x, TTMatrix) and isinstance(y, TTMatrix))
    if not both:
        raise ArgumentError(f"kron: both arguments must be TTTensors or both TTMatrices, got "
                            f"{type(x).__name__} and {type(y).__name__}")
    xp = backend_of(x, y)
    if xp.dtype_name(x.cores[0]) != xp.dtype_name(y.cores[0]):
        raise ArgumentError(f"kron: dtypes differ, {xp.dtype_name(x.cores[0])} and "
                            f"{xp.dtype_name(y.cores[0])}")
    return type(x)._from_cores(list(x.cores) + list(y.cores), xp)


# ----------------------------------------------------------------------- entries
def _check_index(idx: Any, shape: tuple, xp: Any, where: str) -> tuple[Any, np.ndarray | None]:
    """Index array on the backend and, when concrete, its host copy (range-checked)."""
    d = len(shape)
    traced = xp.is_array(idx) and xp.is_traced(idx)
    if traced:
        if len(xp.shape(idx)) != 2 or xp.shape(idx)[1] != d:
            raise ShapeError(f"{where}: idx must have shape (N, {d}), got {xp.shape(idx)}")
        return idx, None
    # indices may come from NumPy (or lists) whatever the backend of x
    host = xp.to_numpy(idx) if xp.is_array(idx) else to_numpy(idx)
    if host.ndim == 1 and host.shape[0] == d and d > 1:
        raise ShapeError(f"{where}: idx must have shape (N, {d}); for one point use "
                         f"idx[None, :] or x[i1, ..., id]")
    if host.ndim != 2 or host.shape[1] != d:
        raise ShapeError(f"{where}: idx must have shape (N, {d}), got {host.shape}")
    if host.size and host.dtype.kind not in "iu":
        raise ShapeError(f"{where}: idx must be an integer array, got dtype {host.dtype}")
    host = host.astype(np.int64, copy=False)
    if host.size:
        bad = np.nonzero((host < 0) | (host >= np.asarray(shape)))
        if bad[0].size:
            p, k = int(bad[0][0]), int(bad[1][0])
            raise ShapeError(f"{where}: idx[{p}, {k}] = {host[p, k]} is out of range for mode "
                             f"{k} of size {shape[k]}")
    return xp.asarray(host), host


@host_eager
def evaluate(x: TTTensor, idx: Any) -> Any:
    """Entries ``x[idx[p, 0], ..., idx[p, d-1]]`` for ``p = 0 .. N-1``.

    One batched contraction per core over all points; no Python loop over
    points. Eagerly, points are grouped by their index in each mode so each core
    costs ``n`` dense matrix products on the grouped rows; under ``jax.jit`` or
    ``tf.function`` a gather of the core slices is used instead (static shapes).

    Parameters
    ----------
    x : TTTensor
    idx : int array of shape (N, d)

    Returns
    -------
    (N,) array

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.random((4, 5, 6), 3, seed=1)
    >>> idx = np.array([[0, 1, 2], [3, 4, 5]])
    >>> bool(np.allclose(x.evaluate(idx), x.full()[idx[:, 0], idx[:, 1], idx[:, 2]]))
    True
    """
    xp = x.backend
    if xp.is_array(idx) and not xp.is_traced(idx) and xp.reads_synchronize(idx):
        return _evaluate_device(x, idx, xp)
    dev_idx, host = _check_index(idx, x.shape, xp, "evaluate")
    if host is None:
        return _evaluate_gather(x.cores, dev_idx, xp)
    n_points = host.shape[0]
    if n_points == 0:
        return xp.zeros((0,), dtype=x.dtype, device=x.device)
    cores, exponent = balanced(x.cores, xp)
    first = cores[0]
    v = xp.take(xp.reshape(first, xp.shape(first)[1:]), _dev(xp, host[:, 0], first), axis=0)
    order = np.arange(n_points)  # row j of v belongs to point order[j]
    for k in range(1, x.ndim):
        core = cores[k]
        r, n, r2 = xp.shape(core)
        col = host[order, k]
        if n_points < 4 * n:  # few points: gather each point's slice
            g = xp.take(xp.transpose(core, (1, 0, 2)), _dev(xp, col, core), axis=0)
            v = xp.einsum("pa,pab->pb", v, g)
            continue
        perm = np.argsort(col.astype(np.uint16) if n < 65536 else col, kind="stable")
        counts = np.bincount(col, minlength=n)
        v = xp.take(v, _dev(xp, perm, core), axis=0)
        order = order[perm]
        bounds = np.concatenate([[0], np.cumsum(counts)])
        v = xp.concatenate([v[bounds[i]:bounds[i + 1]] @ core[:, i, :]
                            for i in range(n) if counts[i]], axis=0)
    inverse = np.empty(n_points, dtype=np.int64)
    inverse[order] = np.arange(n_points)
    out = xp.reshape(v, (n_points,))
    if not np.array_equal(order, np.arange(n_points)):
        out = xp.take(out, _dev(xp, inverse, out), axis=0)
    return times_pow2(out, exponent, xp)


def _dev(xp: Any, host: np.ndarray, like: Any) -> Any:
    return xp.asarray(host, device=xp.device(like))


def _evaluate_device(x: TTTensor, idx: Any, xp: Any) -> Any:
    """:func:`evaluate` of indices on an accelerator: checked and used where they are.

    Reading the indices to the host (to sort the points by mode index) and sending a
    permutation back per core cost more on a GPU than the arithmetic; instead the range
    check is one reduction, read with the cores' peaks, and the cores apply to all
    points at once as under ``jit``.
    """
    shape = xp.shape(idx)
    d = x.ndim
    if len(shape) != 2 or shape[1] != d:
        raise ShapeError(f"evaluate: idx must have shape (N, {d}), got {shape}")
    if not xp.dtype_name(idx).startswith(("int", "uint")):
        raise ShapeError(f"evaluate: idx must be an integer array, got dtype "
                         f"{xp.dtype_name(idx)}")
    if shape[0] == 0:
        return xp.zeros((0,), dtype=x.dtype, device=x.device)
    sizes = xp.asarray(np.asarray(x.shape), dtype=xp.dtype(idx), device=xp.device(idx))
    outside = xp.any((idx < 0) | (idx >= sizes[None, :]))
    cores, exponent = balanced(x.cores, xp, flag=outside)
    if exponent is None:  # out of range: the host check names the first bad entry
        _check_index(idx, x.shape, xp, "evaluate")
    return times_pow2(_evaluate_gather(cores, idx, xp), exponent or 0, xp)


def _evaluate_gather(cores: list, idx: Any, xp: Any) -> Any:
    """Static-shape evaluation for traced indices (``jit``) and indices on a device.

    For small mode sizes each core is applied to all points densely and the
    wanted slice picked with ``take_along_axis`` (XLA runs this 4x faster than
    a gather of per-point slices followed by batched products); for large
    modes, where the dense product costs ``n`` times more, the gather is used.
    """
    v = None
    for k, core in enumerate(cores):
        r, n, r2 = xp.shape(core)
        col = idx[:, k]
        if v is None:
            v = xp.take(xp.reshape(core, (n, r2)), col, axis=0)
        elif n <= 64:
            t = xp.reshape(v @ xp.reshape(core, (r, n * r2)), (-1, n, r2))
            v = xp.take_along_axis(t, col[:, None, None], axis=1)[:, 0, :]
        else:
            g = xp.take(xp.transpose(core, (1, 0, 2)), col, axis=0)  # (N, r, r')
            v = xp.einsum("pa,pab->pb", v, g)
    return v[:, 0]


def _index_item(xp: Any, item: Any, k: int, n: int) -> Any:
    """A slice as it is, or an index of mode `k` (size `n`) as an int in ``[0, n)``."""
    if isinstance(item, slice):
        return item
    if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral) and not (
            xp.is_array(item) and xp.ndim(item) == 0
            and xp.dtype_name(item).startswith(("int", "uint"))):
        raise ShapeError(f"TTTensor index: mode {k} takes an int or a slice, got "
                         f"{item!r}; use x.evaluate(idx) for many points")
    i = int(xp.item(item)) if xp.is_array(item) else int(item)
    if not -n <= i < n:
        raise ShapeError(f"TTTensor index: index {i} is out of range for mode {k} of "
                         f"size {n}")
    return i % n


@host_eager
def getitem(x: TTTensor, key: Any) -> Any:
    """``x[i1, ..., id]`` (an entry, 0-d) or ``x[:, 3, 1:4]`` (a TTTensor of the kept modes).

    Integers fix a mode (its core slice is absorbed into a neighbour); slices
    keep a mode, restricted to the slice.
    """
    xp = x.backend
    d = x.ndim
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        pos = key.index(Ellipsis)
        key = key[:pos] + (slice(None),) * (d - len(key) + 1) + key[pos + 1:]
    if len(key) > d:
        raise ShapeError(f"TTTensor index: {len(key)} indices for a tensor with {d} modes")
    key = key + (slice(None),) * (d - len(key))
    items = [_index_item(xp, item, k, x.shape[k]) for k, item in enumerate(key)]
    if xp.free_reads and not any(isinstance(i, slice) for i in items):  # one entry
        chained = chain_host([c[:, i, :] for c, i in zip(x.cores, items)])
        if chained is not None:
            return times_pow2(chained[0][0, 0], chained[1], xp)
    kept: list[Any] = []
    pending = None
    cores, exponent = balanced(x.cores, xp)
    for k, (c, item) in enumerate(zip(cores, items)):
        if isinstance(item, slice):
            c = c[:, item, :]
            if xp.shape(c)[1] == 0:
                raise ShapeError(f"TTTensor index: slice {item} selects nothing in mode {k} "
                                 f"of size {x.shape[k]}")
            if pending is not None:
                c = xp.einsum("ab,bnc->anc", pending, c)
                pending = None
            kept.append(c)
            continue
        m = c[:, item, :]
        pending = m if pending is None else pending @ m
    if not kept:
        return times_pow2(pending[0, 0], exponent, xp)
    if pending is not None:
        kept[-1] = xp.einsum("anb,bc->anc", kept[-1], pending)
    shares = np.diff(np.round(np.linspace(0, exponent, len(kept) + 1))).astype(int)
    return TTTensor._from_cores([times_pow2(c, int(e), xp) for c, e in zip(kept, shares)], xp)
