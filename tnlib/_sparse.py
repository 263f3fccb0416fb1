"""Sparse tensors in coordinate format, as the sparse fits take them: checked positions
and values, repeated positions summed, each mode's indices on the values' device."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_shape, host_indices
from .errors import ArgumentError, ShapeError

__all__ = ["CooEntries", "coo_entries", "leading_subspaces", "sparse_shape"]


def sparse_shape(shape: Any, where: str) -> tuple[int, ...]:
    """The shape of a sparse tensor a fit takes: positive sizes, at least two modes."""
    shape = check_shape(shape, where)
    if len(shape) < 2:
        raise ShapeError(f"{where}: shape must have at least 2 modes, got {shape}")
    return shape


@dataclass
class CooEntries:
    """The nonzeros of a sparse tensor, each position once."""

    xp: Any           # the values' backend
    host: np.ndarray  # positions, int64 (nnz, d), on the host
    values: Any       # (nnz,) real floats (float16 given: float32)
    modes: list       # the positions' column k, int64, on the values' device
    half: bool        # the values were float16


def coo_entries(idx: Any, values: Any, shape: tuple, where: str) -> CooEntries:
    """`values` at `idx` checked: a 1-D real numeric array (lists on the default backend,
    integers and booleans as floats, float16 as float32) with one entry per row of `idx`,
    an integer ``(nnz, d)`` array of positions inside `shape`; repeated positions summed.
    Each problem is a :class:`~tnlib.errors.ShapeError` or
    :class:`~tnlib.errors.ArgumentError` naming the argument."""
    from .backends import backend_of, resolve

    try:
        xp = backend_of(values)
    except Exception:
        if not isinstance(values, (list, tuple)):
            raise ShapeError(f"{where}: values must be a 1-D array, got "
                             f"{type(values).__name__}") from None
        xp = resolve(None)
    vals = xp.asarray(values)
    if not xp.dtype_name(vals).startswith(("float", "int", "uint", "bool", "complex")):
        raise ShapeError(f"{where}: values must be a 1-D array of numbers, got "
                         f"{type(values).__name__} of dtype {xp.dtype_name(vals)}")
    if xp.ndim(vals) != 1:
        raise ShapeError(f"{where}: values must be a 1-D array, got shape {xp.shape(vals)}")
    if xp.is_complex(vals):
        raise ArgumentError(f"{where}: values are complex ({xp.dtype_name(vals)}); give real "
                            "values")
    if xp.dtype_name(vals) not in ("float16", "float32", "float64"):
        vals = xp.astype(vals, xp.default_float_dtype)
    host = host_indices(idx, shape, where)
    if host.shape[0] != xp.shape(vals)[0]:
        raise ShapeError(f"{where}: idx gives {host.shape[0]} positions but values has "
                         f"{xp.shape(vals)[0]} entries")
    half = xp.dtype_name(vals) == "float16"
    if half:
        vals = xp.astype(vals, "float32")
    host, vals = _coalesced(host, vals, shape, xp)
    modes = [xp.asarray(np.ascontiguousarray(host[:, k]), dtype="int64")
             for k in range(len(shape))]
    return CooEntries(xp, host, vals, modes, half)


def _coalesced(host: np.ndarray, vals: Any, shape: tuple, xp: Any) -> tuple[np.ndarray, Any]:
    """Each position once, repeated ones holding the sum of their values."""
    if host.shape[0] < 2:
        return host, vals
    if math.prod(shape) < 2**62:
        keys = np.ravel_multi_index(tuple(host.T), shape)
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    else:  # positions past int64's range: compare the rows themselves
        unique, first, inverse = np.unique(host, axis=0, return_index=True,
                                           return_inverse=True)
    if len(unique) == host.shape[0]:
        return host, vals
    summed = xp.segment_sum(vals, xp.asarray(inverse.reshape(-1), dtype="int64"), len(unique))
    return host[first], summed


def leading_subspaces(vals: Any, host: np.ndarray, modes: list, shape: tuple, r: list,
                      rng: Any, xp: Any, power: int = 2, extra: int = 5) -> list:
    """The truncated HOSVD's factors of the sparse tensor: for each mode, the leading
    `r_k` left singular vectors of the unfolding ``X_(k)``, by randomized subspace
    iteration (Halko, Martinsson, Tropp) with `extra` more columns and `power` iterations
    on ``X_(k) X_(k)^T``. A product with it needs only the nonzeros: ``X_(k)^T Q`` sums
    ``x_s Q[i_k(s)]`` by the nonzeros' other indices (the unfolding's columns that hold
    any), ``X_(k) Z`` sums ``x_s Z[col(s)]`` by ``i_k(s)``. A Rayleigh-Ritz step orders the
    basis by singular value. A mode whose rank is None is skipped (None in its place)."""
    dt, dev = xp.dtype(vals), xp.device(vals)
    factors = []
    for k, (n, rk) in enumerate(zip(shape, r)):
        if rk is None:
            factors.append(None)
            continue
        others = np.delete(host, k, axis=1)
        sizes = [m for j, m in enumerate(shape) if j != k]
        if math.prod(sizes) < 2**62:
            _, col = np.unique(np.ravel_multi_index(tuple(others.T), sizes),
                               return_inverse=True)
        else:
            _, col = np.unique(others, axis=0, return_inverse=True)
        col = col.reshape(-1)
        ncols, cols = int(col.max()) + 1, xp.asarray(col, dtype="int64")
        p = min(rk + extra, n, ncols)

        def gram_times(q: Any, k: int = k, cols: Any = cols, ncols: int = ncols,
                       n: int = n) -> Any:
            z = xp.segment_sum(vals[:, None] * xp.take(q, modes[k], axis=0), cols, ncols)
            return xp.segment_sum(vals[:, None] * xp.take(z, cols, axis=0), modes[k], n)

        q = xp.qr(xp.random_normal((n, p), seed=rng, dtype=dt, device=dev))[0]
        for _ in range(power + 1):
            q = xp.qr(gram_times(q))[0]
        _, w = xp.eigh(xp.matmul(xp.transpose(q), gram_times(q)))
        factors.append(xp.matmul(q, xp.flip(w, 1)[:, :rk]))
    return factors
