"""Sparse tensors in coordinate format, as the sparse fits take them: checked positions
and values, repeated positions summed, each mode's indices on the values' device."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_shape, host_indices
from .errors import ArgumentError, ShapeError

__all__ = ["CooEntries", "coo_entries", "sparse_shape"]


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
