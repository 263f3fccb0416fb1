"""Shared implementation for frameworks that copy NumPy's API (NumPy, CuPy, JAX).

Subclasses set ``self.np`` (the array module) and ``self.la`` (its ``linalg``)
and override what differs: conversion, devices, index updates, autodiff.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import Backend

_NAMES: dict = {}  # dtype (or spec) -> canonical name


class NumpyLikeBackend(Backend):
    """Contract methods written once against a NumPy-compatible module."""

    np: Any = np
    la: Any = np.linalg

    # ------------------------------------------------------------------ dtypes
    def resolve_dtype(self, spec: Any) -> Any:
        if spec is None:
            spec = self.default_float_dtype
        if isinstance(spec, str):
            return self.np.dtype(spec)
        return self.np.dtype(spec)

    def dtype_name(self, x: Any) -> str:
        dt = x.dtype if hasattr(x, "dtype") else x
        try:  # np.dtype(...).name builds its string anew each time: microseconds per call
            return _NAMES[dt]
        except (KeyError, TypeError):
            name = np.dtype(dt).name
            try:
                _NAMES[dt] = name
            except TypeError:  # an unhashable spec
                pass
            return name

    # ---------------------------------------------------------------- creation
    def _dt(self, dtype: Any) -> Any:
        return self.resolve_dtype(dtype)

    def zeros(self, shape: Sequence[int], dtype: Any = None, device: Any = None) -> Any:
        return self._on(self.np.zeros(tuple(shape), dtype=self._dt(dtype)), device)

    def ones(self, shape: Sequence[int], dtype: Any = None, device: Any = None) -> Any:
        return self._on(self.np.ones(tuple(shape), dtype=self._dt(dtype)), device)

    def eye(self, n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Any:
        return self._on(self.np.eye(n, m, dtype=self._dt(dtype)), device)

    def zeros_like(self, a: Any) -> Any:
        return self.np.zeros_like(a)

    def ones_like(self, a: Any) -> Any:
        return self.np.ones_like(a)

    def _on(self, a: Any, device: Any) -> Any:
        """Place a freshly created array on `device` (no-op where there is one device)."""
        return a

    # ------------------------------------------------------------------ layout
    def astype(self, a: Any, dtype: Any) -> Any:
        return a.astype(self.resolve_dtype(dtype))

    def reshape(self, a: Any, shape: Sequence[int]) -> Any:
        return self.np.reshape(a, tuple(shape))

    def transpose(self, a: Any, axes: Sequence[int] | None = None) -> Any:
        return self.np.transpose(a, axes)

    def moveaxis(self, a: Any, source: int, destination: int) -> Any:
        return self.np.moveaxis(a, source, destination)

    def concatenate(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        return self.np.concatenate(list(arrays), axis=axis)

    def stack(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        return self.np.stack(list(arrays), axis=axis)

    def diag(self, a: Any) -> Any:
        return self.np.diag(a)

    def take(self, a: Any, indices: Any, axis: int = 0) -> Any:
        return self.np.take(a, indices, axis=axis)

    def take_along_axis(self, a: Any, indices: Any, axis: int) -> Any:
        return self.np.take_along_axis(a, indices, axis=axis)

    def index_update(self, a: Any, index: Any, values: Any, reuse: bool = False,
                     divisor: Any = None) -> Any:
        out = a if reuse and a.flags.writeable else a.copy()
        if divisor is None:
            out[index] = values
        elif isinstance(index, (int, np.integer)):  # a row view: the quotient written there
            self.np.divide(values, divisor, out=out[index])
        else:
            out[index] = values / divisor
        return out

    def index_add(self, a: Any, index: Any, values: Any) -> Any:
        out = a.copy()
        self.np.add.at(out, index, values)
        return out

    def flip(self, a: Any, axis: int) -> Any:
        return self.np.flip(a, axis=axis)

    def tril(self, a: Any, k: int = 0) -> Any:
        return self.np.tril(a, k)

    def triu(self, a: Any, k: int = 0) -> Any:
        return self.np.triu(a, k)

    def squeeze(self, a: Any, axis: int | None = None) -> Any:
        return self.np.squeeze(a, axis=axis)

    def expand_dims(self, a: Any, axis: int) -> Any:
        return self.np.expand_dims(a, axis)

    def broadcast_to(self, a: Any, shape: Sequence[int]) -> Any:
        return self.np.broadcast_to(a, tuple(shape))

    def copy(self, a: Any) -> Any:
        return self.np.array(a, copy=True)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return self.np.where(cond, a, b)

    def argsort(self, a: Any, axis: int = -1) -> Any:
        return self.np.argsort(a, axis=axis, stable=True)

    def sort(self, a: Any, axis: int = -1) -> Any:
        return self.np.sort(a, axis=axis)

    # ------------------------------------------------------------- elementwise
    def abs(self, a: Any) -> Any:
        return self.np.abs(a)

    def sqrt(self, a: Any) -> Any:
        return self.np.sqrt(a)

    def exp(self, a: Any) -> Any:
        return self.np.exp(a)

    def log(self, a: Any) -> Any:
        return self.np.log(a)

    def sin(self, a: Any) -> Any:
        return self.np.sin(a)

    def cos(self, a: Any) -> Any:
        return self.np.cos(a)

    def sign(self, a: Any) -> Any:
        return self.np.sign(a)

    def conj(self, a: Any) -> Any:
        # np.conj copies real arrays; skipping it also lets `a @ conj(a).T` reach syrk
        return self.np.conj(a) if self.np.iscomplexobj(a) else a

    def real(self, a: Any) -> Any:
        return self.np.real(a)

    def imag(self, a: Any) -> Any:
        return self.np.imag(a)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.np.maximum(a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return self.np.minimum(a, b)

    def clip(self, a: Any, low: Any, high: Any) -> Any:
        return self.np.clip(a, low, high)

    def isfinite(self, a: Any) -> Any:
        return self.np.isfinite(a)

    # -------------------------------------------------------------- reductions
    def sum(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.np.sum(a, axis=axis, keepdims=keepdims)

    def prod(self, a: Any, axis: Any = None) -> Any:
        return self.np.prod(a, axis=axis)

    def max(self, a: Any, axis: Any = None) -> Any:
        return self.np.max(a, axis=axis)

    def min(self, a: Any, axis: Any = None) -> Any:
        return self.np.min(a, axis=axis)

    def mean(self, a: Any, axis: Any = None) -> Any:
        return self.np.mean(a, axis=axis)

    def argmax(self, a: Any, axis: int | None = None) -> Any:
        return self.np.argmax(a, axis=axis)

    def argmin(self, a: Any, axis: int | None = None) -> Any:
        return self.np.argmin(a, axis=axis)

    def norm(self, a: Any, axis: Any = None) -> Any:
        if axis is None:
            return self.la.norm(self.np.reshape(a, (-1,)))
        return self.la.norm(a, axis=axis)

    def all(self, a: Any) -> Any:
        return self.np.all(a)

    def any(self, a: Any) -> Any:
        return self.np.any(a)

    def cumsum(self, a: Any, axis: int = 0) -> Any:
        return self.np.cumsum(a, axis=axis)

    # ------------------------------------------------------------- contraction
    def tensordot(self, a: Any, b: Any, axes: Any = 2) -> Any:
        return self.np.tensordot(a, b, axes=axes)

    def kron(self, a: Any, b: Any) -> Any:
        return self.np.kron(a, b)

    # ----------------------------------------------------------- linear algebra
    def svd(self, a: Any) -> tuple[Any, Any, Any]:
        try:
            return self.la.svd(a, full_matrices=False)
        except np.linalg.LinAlgError:
            pass
        # LAPACK's divide and conquer (gesdd) fails to converge on rare, well-scaled
        # matrices; the adjoint's problem takes other rotations
        try:
            u, s, vh = self.la.svd(self._adjoint(a), full_matrices=False)
            return self._adjoint(vh), s, self._adjoint(u)
        except np.linalg.LinAlgError:
            return self._svd_last_resort(a, True)

    def svdvals(self, a: Any) -> Any:
        try:
            return self.la.svd(a, compute_uv=False)
        except np.linalg.LinAlgError:
            pass
        try:
            return self.la.svd(self._adjoint(a), compute_uv=False)
        except np.linalg.LinAlgError:
            return self._svd_last_resort(a, False)

    def _adjoint(self, a: Any) -> Any:
        return self.np.conj(self.np.swapaxes(a, -1, -2))

    def _svd_last_resort(self, a: Any, vectors: bool) -> Any:
        """After gesdd failed on `a` and on its adjoint (NumPy overrides: gesvd)."""
        from ..errors import FactorizationError

        raise FactorizationError(f"svd: the SVD of a {tuple(a.shape)} matrix did not converge "
                                 f"(on {self.name}, for it and for its adjoint)")

    def qr(self, a: Any, mode: str = "reduced", signs: bool = True) -> Any:
        if mode == "r":
            r = self.la.qr(a, mode="r")
            return self._fix_r(r) if signs else r
        q, r = self.la.qr(a, mode="reduced")
        return self._fix_qr(q, r) if signs else (q, r)

    def _diag_phase(self, r: Any) -> Any:
        # QR is unique only up to the phases of diag(R); make them non-negative so
        # every backend returns the same factors.
        d = self.np.diagonal(r, axis1=-2, axis2=-1)
        if not self.np.iscomplexobj(d):  # +-1 (a zero diagonal entry keeps its row)
            return self.np.copysign(self.np.ones_like(d), d)
        mag = self.np.abs(d)
        return self.np.where(mag == 0, self.np.ones_like(d), d / self.np.where(mag == 0, 1, mag))

    def _fix_qr(self, q: Any, r: Any) -> tuple[Any, Any]:
        s = self._diag_phase(r)
        return q * s[..., None, :], self.np.conj(s)[..., :, None] * r

    def _fix_r(self, r: Any) -> Any:
        return self.np.conj(self._diag_phase(r))[..., :, None] * r

    def eigh(self, a: Any) -> tuple[Any, Any]:
        return self.la.eigh(a)

    def solve(self, a: Any, b: Any, check: bool = True) -> Any:
        return self.la.solve(a, b)  # CuPy reads no status back unless told to raise

    def cholesky(self, a: Any) -> Any:
        return self.la.cholesky(a)

    def inv(self, a: Any) -> Any:
        return self.la.inv(a)
