"""Assertions shared by the tests: NumPy is the oracle."""

from __future__ import annotations

from typing import Any

import numpy as np

import tnlib
from tnlib._pytree import is_container


def np_of(x: Any) -> np.ndarray:
    """Dense NumPy value of an array or a tensor-network object."""
    if is_container(x):
        x = x.full()
    return tnlib.to_numpy(x)


def rel_error(a: Any, b: Any) -> float:
    """``‖a - b‖_F / ‖b‖_F`` of arrays or tensor-network objects."""
    a, b = np_of(a), np_of(b)
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / (nb if nb > 0 else 1.0))


def _leaf(x: Any) -> Any:
    if is_container(x):
        leaves, _ = x._tree_flatten()
        return leaves[0]
    return x


def assert_like(result: Any, reference: Any, dtype: str | None = None) -> None:
    """`result` is on the backend and device of `reference`, with its dtype (or `dtype`)."""
    r, ref = _leaf(result), _leaf(reference)
    xr, xref = tnlib.backend_of(r), tnlib.backend_of(ref)
    assert xr.name == xref.name, f"backend {xr.name} != {xref.name}"
    want = dtype or xref.dtype_name(ref)
    assert xr.dtype_name(r) == want, f"dtype {xr.dtype_name(r)} != {want}"
    dr, dref = str(xr.device(r)), str(xref.device(ref))
    assert dr == dref, f"device {dr} != {dref}"


def on(backend: tnlib.Backend, a: np.ndarray, dtype: Any = None) -> Any:
    """NumPy test input converted to `backend`."""
    return backend.asarray(a, dtype=dtype)
