"""CPTensor: a sum of R rank-one tensors, ``Σ_r w_r a_1r ⊗ ... ⊗ a_dr``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._pytree import register_container
from .._validation import (
    EntryIndexed,
    TensorFormat,
    as_sequence,
    check_float_dtype,
    rng_of,
    scalar_factor,
)
from ..backends import Backend, backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..linalg.tensor_ops import khatri_rao

__all__ = ["CPTensor"]


@register_container
class CPTensor(TensorFormat, EntryIndexed):
    """A tensor in CP (canonical polyadic) format.

    ``x[i_1, ..., i_d] = Σ_r weights[r] Π_k factors[k][i_k, r]``.

    Parameters
    ----------
    weights : (R,) array or None
        None means all ones.
    factors : sequence of (n_k, R) arrays

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import cp
    >>> x = cp.CPTensor(None, [np.ones((2, 3)), np.ones((4, 3))])
    >>> x.rank, x.shape, float(x.full()[0, 0])
    (3, (2, 4), 3.0)
    """

    __slots__ = ("_weights", "_factors", "_backend")

    def __init__(self, weights: Any, factors: Sequence[Any]) -> None:
        factors = as_sequence(factors, "CPTensor", "factors", "(n_k, R) arrays")
        if not factors:
            raise ShapeError("CPTensor: factors must be a non-empty sequence of (n_k, R) arrays")
        xp = backend_of(factors, weights)
        rank = None
        for k, f in enumerate(factors):
            if not xp.is_array(f) or xp.ndim(f) != 2:
                raise ShapeError(f"CPTensor: factor {k} must be a 2-D (n_k, R) array, got "
                                 f"{type(f).__name__} of shape {getattr(f, 'shape', None)}")
            if rank is None:
                rank = xp.shape(f)[1]
            elif xp.shape(f)[1] != rank:
                raise ShapeError(f"CPTensor: factor {k} has {xp.shape(f)[1]} columns but "
                                 f"factor 0 has {rank}")
            if xp.dtype_name(f) != xp.dtype_name(factors[0]):
                raise ShapeError(f"CPTensor: factor {k} has dtype {xp.dtype_name(f)} but factor "
                                 f"0 has {xp.dtype_name(factors[0])}")
        if rank < 1:
            raise ShapeError("CPTensor: the rank (number of columns) must be >= 1")
        check_float_dtype(xp.dtype_name(factors[0]), "CPTensor", "factor 0")
        if weights is None:
            weights = xp.ones((rank,), dtype=xp.dtype(factors[0]), device=xp.device(factors[0]))
        elif not xp.is_array(weights) or xp.shape(weights) != (rank,):
            if not xp.is_array(weights):
                raise ShapeError(f"CPTensor: weights must be a ({rank},) array or None, got "
                                 f"{type(weights).__name__}")
            raise ShapeError(f"CPTensor: weights must have shape ({rank},), got "
                             f"{xp.shape(weights)}")
        else:
            check_float_dtype(xp.dtype_name(weights), "CPTensor", "weights")
        self._weights, self._factors, self._backend = weights, factors, xp

    @classmethod
    def _from(cls, weights: Any, factors: Sequence[Any], backend: Backend | None = None
              ) -> CPTensor:
        obj = object.__new__(cls)
        obj._weights, obj._factors, obj._backend = weights, tuple(factors), backend
        return obj

    def _tree_flatten(self) -> tuple[tuple, None]:
        return (self._weights, *self._factors), None

    @classmethod
    def _tree_unflatten(cls, aux: Any, children: Sequence[Any]) -> CPTensor:
        return cls._from(children[0], children[1:])

    def __getstate__(self) -> dict:
        return {"weights": self._weights, "factors": self._factors}

    def __setstate__(self, state: dict) -> None:
        self._weights, self._factors, self._backend = state["weights"], state["factors"], None

    # ------------------------------------------------------------- properties
    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = backend_of(self._factors)
        return self._backend

    @property
    def weights(self) -> Any:
        return self._weights

    @property
    def factors(self) -> tuple[Any, ...]:
        return self._factors

    @property
    def rank(self) -> int:
        return int(self._factors[0].shape[1])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(f.shape[0]) for f in self._factors)

    @property
    def ndim(self) -> int:
        return len(self._factors)

    @property
    def dtype(self) -> Any:
        return self.backend.dtype(self._factors[0])

    def __repr__(self) -> str:
        xp = self.backend
        params = self.rank * (sum(self.shape) + 1)
        return (f"CPTensor(shape={self.shape}, rank={self.rank}, "
                f"dtype={xp.dtype_name(self._factors[0])}, backend={xp.name}, "
                f"compression={math.prod(self.shape) / params:.3g})")

    # -------------------------------------------------------------- conversion
    def to(self, backend: Any = None, dtype: Any = None, device: Any = None) -> CPTensor:
        """Copy on another backend, dtype or device.

        Examples
        --------
        >>> from tnlib import cp
        >>> x = cp.random((3, 4), 2, seed=0).to(dtype="complex128")
        >>> str(x.dtype), str((x * 1j).dtype)
        ('complex128', 'complex128')
        """
        target, convert = self._converter(backend, dtype, device)
        return CPTensor._from(convert(self._weights), [convert(f) for f in self._factors],
                              target)

    @host_eager
    def full(self) -> Any:
        """The dense tensor (weights and factors multiplied at unit scale, the scale put
        back at the end: no overflow or underflow where the entries are in range)."""
        from ..tt._scale import balanced, times_pow2

        xp = self.backend
        (weights, *factors), exponent = balanced([self._weights, *self._factors], xp, always=True)
        first = factors[0] * weights[None, :]
        if self.ndim == 1:
            return times_pow2(xp.sum(first, axis=1), exponent, xp)
        rest = khatri_rao(factors[1:])
        return times_pow2(xp.reshape(first @ xp.transpose(rest), self.shape), exponent, xp)

    @host_eager
    def to_tt(self) -> Any:
        """Exact TTTensor with all bond ranks equal to the CP rank.

        Examples
        --------
        >>> from tnlib import cp
        >>> x = cp.random((3, 4, 5), 2, seed=0)
        >>> x.to_tt().ranks
        (1, 2, 2, 1)
        """
        from ..tt import TTTensor
        from ..tt._scale import balanced, spread_pow2

        xp = self.backend
        d, r = self.ndim, self.rank
        # weights and factors at unit scale, their scale spread over the cores: weights
        # times the first factor cannot overflow where the tensor's entries do not
        (weights, *factors), exponent = balanced([self._weights, *self._factors], xp, always=True)
        if d == 1:
            return TTTensor._from_cores(spread_pow2([xp.reshape(xp.sum(
                factors[0] * weights, axis=1), (1, -1, 1))], exponent, xp), xp)
        eye = xp.eye(r, dtype=self.dtype, device=xp.device(self._factors[0]))
        cores = []
        for k, f in enumerate(factors):
            if k == 0:
                cores.append(xp.reshape(f * weights[None, :], (1, -1, r)))
            elif k == d - 1:
                cores.append(xp.reshape(xp.transpose(f), (r, -1, 1)))
            else:
                cores.append(xp.einsum("ir,rs->ris", f, eye))
        return TTTensor._from_cores(spread_pow2(cores, exponent, xp), xp)

    # ------------------------------------------------------------- operations
    def gram(self, other: CPTensor | None = None) -> Any:
        """``⊙_k A_k^H B_k`` (Hadamard product of the factor Gram matrices)."""
        xp = self.backend
        other = self if other is None else other
        out = None
        for a, b in zip(self._factors, other._factors):
            g = xp.conj(xp.transpose(a)) @ b
            out = g if out is None else out * g
        return out

    @host_eager
    def dot(self, other: CPTensor) -> Any:
        """Scalar product ``sum(conj(self) * other)`` from factor Grams, ``O(d n R^2)``,
        on the parts brought to unit size by powers of two (one read)."""
        from ..tt._scale import dot_at_unit_scale

        xp = backend_of(self, other)
        if not isinstance(other, CPTensor) or other.shape != self.shape:
            raise ShapeError(f"CPTensor.dot: needs a CPTensor of shape {self.shape}")

        def dot_of(xs: list, ys: list) -> Any:
            return CPTensor._from(xs[0], xs[1:], xp)._dot(CPTensor._from(ys[0], ys[1:], xp))

        return dot_at_unit_scale([self._weights, *self._factors],
                                 [other.weights, *other.factors], dot_of, xp, "CPTensor.dot",
                                 lambda: self._dot(other))

    def _dot(self, other: CPTensor) -> Any:
        xp = self.backend
        return xp.sum(xp.conj(self._weights)[:, None] * self.gram(other) * other.weights[None, :])

    @host_eager
    def norm(self) -> Any:
        """Frobenius norm without forming the tensor, computed on the parts brought to
        unit size by powers of two (each enters every entry once): tensors of 1e-200 or
        1e200 keep their norm."""
        from ..tt._gram import squares
        from ..tt._scale import norm_at_unit_scale

        xp = self.backend

        def norm_of(parts: list) -> Any:
            unit = CPTensor._from(parts[0], parts[1:], xp)
            return xp.sqrt(squares(unit._dot(unit), xp, parts))

        return norm_at_unit_scale([self._weights, *self._factors], norm_of, xp)

    @host_eager
    def evaluate(self, idx: Any) -> Any:
        """Entries at integer multi-indices ``idx`` of shape ``(N, d)``."""
        from ..tt.algebra import _check_index

        xp = self.backend
        dev, _ = _check_index(idx, self.shape, xp, "CPTensor.evaluate")
        prod = self._weights[None, :]
        for k, f in enumerate(self._factors):
            prod = prod * xp.take(f, dev[:, k], axis=0)
        return xp.sum(prod, axis=1)

    def normalize(self) -> CPTensor:
        """Columns scaled to unit norm, the norms moved into the weights."""
        xp = self.backend
        weights = self._weights
        factors = []
        for f in self._factors:
            n = xp.norm(f, axis=0)
            n = xp.where(n > 0, n, xp.ones_like(n))
            factors.append(f / xp.astype(n, xp.dtype(f))[None, :])
            weights = weights * xp.astype(n, xp.dtype(weights))
        return CPTensor._from(weights, factors, xp)

    def __add__(self, other: Any) -> CPTensor:
        if not isinstance(other, CPTensor):
            raise ArgumentError(f"CPTensor +: expected a CPTensor, got {type(other).__name__}")
        xp = backend_of(self, other)
        if other.shape != self.shape:
            raise ShapeError(f"CPTensor +: shapes differ, {self.shape} and {other.shape}")
        return CPTensor._from(xp.concatenate([self._weights, other.weights]),
                              [xp.concatenate([a, b], axis=1)
                               for a, b in zip(self._factors, other.factors)], xp)

    def __sub__(self, other: Any) -> CPTensor:
        return self + (-other)

    def __neg__(self) -> CPTensor:
        return self * -1.0

    def __mul__(self, c: Any) -> CPTensor:
        c = scalar_factor(c, self.backend, "CPTensor *", self._weights, "CPTensor")
        return CPTensor._from(self._weights * c, self._factors, self._backend)

    def __rmul__(self, c: Any) -> CPTensor:
        return self.__mul__(c)

    def __truediv__(self, c: Any) -> CPTensor:
        c = scalar_factor(c, self.backend, "CPTensor /", self._weights, "CPTensor")
        return self * (1.0 / c)


def random(shape: Sequence[int], rank: int, seed: Any = None, dtype: Any = None,
           device: Any = None, backend: Any = None) -> CPTensor:
    """Random CPTensor with standard Gaussian factors and unit weights.

    Examples
    --------
    >>> from tnlib import cp
    >>> cp.random((3, 4), 2, seed=0).shape
    (3, 4)
    """
    from .._validation import check_positive_int, check_shape
    from ..backends import resolve

    shape = check_shape(shape, "cp.random")
    rank = check_positive_int(rank, "cp.random", "rank")
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, "cp.random")
    rng = rng_of(seed, "cp.random")
    factors = [xp.random_normal((n, rank), seed=rng, dtype=dtype, device=device) for n in shape]
    return CPTensor(None, factors)
