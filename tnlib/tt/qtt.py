"""Quantized TT: a vector of length ``base**d`` as a d-mode tensor of mode size `base`."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._validation import (
    DefaultTol,
    as_array,
    as_sequence,
    check_callable,
    check_positive_int,
    check_real,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from .svd import tt_svd
from .tensor import TTTensor

__all__ = ["dequantize", "qtt_function", "quantize"]


@host_eager
def quantize(v: Any, base: int = 2, eps: float = DefaultTol(1e-14),
             max_rank: Any = None) -> TTTensor:
    """QTT of a vector of length ``base**d``.

    Mode ``k`` is digit ``k`` of the index in base `base`, most significant
    first (NumPy reshape order): ``v[j] = x[j_1, ..., j_d]`` with
    ``j = sum_k j_k base**(d-k)``.

    Parameters
    ----------
    v : 1-D array of length ``base**d``
    base : int, optional
    eps, max_rank : optional
        As in :func:`tt_svd`.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.quantize(np.exp(np.linspace(0, 1, 2**10)))
    >>> x.shape, max(x.ranks)
    ((2, 2, 2, 2, 2, 2, 2, 2, 2, 2), 1)
    """
    xp = backend_of(v)
    v = as_array(v, xp, "quantize", "v")
    base = check_positive_int(base, "quantize", "base")
    if base < 2:
        raise ShapeError(f"quantize: base must be >= 2, got {base}")
    shape = xp.shape(v)
    if len(shape) != 1:
        raise ShapeError(f"quantize: v must be 1-D, got shape {shape}")
    d = round(math.log(shape[0], base)) if shape[0] > 0 else 0
    if d < 1 or base**d != shape[0]:
        raise ShapeError(f"quantize: len(v) = {shape[0]} is not a power of base {base}")
    return tt_svd(xp.reshape(v, (base,) * d), eps=eps, max_rank=max_rank)


@host_eager
def dequantize(x: TTTensor) -> Any:
    """The vector a QTT represents (inverse of :func:`quantize`).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> v = np.arange(8.0)
    >>> bool(np.allclose(tt.dequantize(tt.quantize(v)), v))
    True
    """
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"dequantize: x must be a TTTensor (a QTT), got {type(x).__name__}")
    return x.backend.reshape(x.full(), (-1,))


@host_eager
def qtt_function(f: Any, a: Any, b: Any, d: int, eps: float = DefaultTol(1e-10),
                 max_rank: Any = None, backend: Any = None, dims: int = 1,
                 **kwargs: Any) -> TTTensor:
    """QTT of ``f`` on the grid ``x_j = a + j (b - a) / 2**d``, ``j = 0 .. 2**d - 1``, by cross.

    Mode ``k`` is binary digit ``k`` of ``j``, most significant first. ``f``
    receives a 1-D array of points on the active backend and is evaluated at
    ``O(d r^2)`` of them -- never all ``2**d`` unless ``d`` is small. The result
    is rounded to `eps`. Keyword arguments go to :func:`~tnlib.tt.cross`
    (``max_sweeps``, ``seed``, ``verbose``, ``executor``, ``batch_size``, ...).

    With ``dims > 1``, the grid is the product of ``dims`` such grids (``a`` and ``b``
    one number or one per dimension), ``f`` receives points as an array of shape
    ``(N, dims)``, and the train has ``dims * d`` modes: the digits of each dimension in
    a block, the dimensions in NumPy's order (``full().reshape((2**d,) * dims)`` is
    the grid's array; :func:`qtt_fft` takes the same layout with ``dims=``).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.qtt_function(np.sin, 0.0, 1.0, 30, eps=1e-12)
    >>> max(x.ranks)
    2
    >>> g = tt.qtt_function(lambda p: np.exp(-p[:, 0] * p[:, 1]), 0.0, [1.0, 2.0], 20,
    ...                     dims=2, eps=1e-10)                  # 2^20 x 2^20 grid
    >>> g.ndim, max(g.ranks) <= 16
    (40, True)
    """
    from ..backends import resolve
    from .cross import cross
    from .elementwise import named_as

    where = "qtt_function"
    d = check_positive_int(d, where, "d")
    if d > 52:
        raise ShapeError(f"{where}: d = {d} exceeds the 52 bits a float64 grid can index")
    dims = check_positive_int(dims, where, "dims")
    f = check_callable(f, where)
    a, b = _ends(a, dims, "a"), _ends(b, dims, "b")
    if not all(hi > lo for lo, hi in zip(a, b)):
        raise ShapeError(f"{where}: needs a < b, got a={_said(a)}, b={_said(b)}")
    xp = resolve(backend)
    h = [(hi - lo) / 2.0**d for lo, hi in zip(a, b)]
    weights = 2.0 ** np.arange(d - 1, -1, -1, dtype=np.float64)
    kwargs.setdefault("seed", 0)
    on_grid = _OnGrid(f, xp.asarray(np.array(a)), xp.asarray(np.array(h)),
                      xp.asarray(weights), dims)
    with named_as(where, "f"):
        return cross(on_grid, (2,) * (dims * d), eps=eps, max_rank=max_rank, backend=xp,
                     **kwargs)


def _ends(value: Any, dims: int, name: str) -> list[float]:
    """`a` or `b`: one finite real per dimension (one number for all)."""
    if dims == 1 or isinstance(value, numbers.Number) or getattr(value, "ndim", None) == 0:
        items = [value] * dims
    else:
        items = list(as_sequence(value, "qtt_function", name, "numbers"))
    if len(items) != dims:
        raise ShapeError(f"qtt_function: {name} must be a number or one per dimension "
                         f"({dims}), got {value!r}")
    return [check_real(v, "qtt_function", name) for v in items]


def _said(ends: list[float]) -> Any:
    return ends[0] if len(ends) == 1 else ends


class _OnGrid:
    """``f`` at the grid points of binary multi-indices (a class, so that it pickles):
    ``a + h * j``, each dimension's index ``j`` read from its block of `weights`' digits
    (points of shape ``(N, dims)``, flattened for one dimension)."""

    def __init__(self, f: Any, a: Any, h: Any, weights: Any, dims: int) -> None:
        self.f, self.a, self.h, self.weights, self.dims = f, a, h, weights, dims

    @property
    def black_box(self) -> Any:  # what sees the caller's arrays (backends._host)
        return self.f

    def __call__(self, idx: Any) -> Any:
        from ..backends import backend_of

        xp = backend_of(self.weights)
        blocks = xp.reshape(xp.astype(idx, xp.dtype(self.weights)), (-1, self.dims,
                                                                      xp.shape(self.weights)[0]))
        x = self.a + self.h * (blocks @ self.weights)  # (N, dims)
        return self.f(x if self.dims > 1 else xp.reshape(x, (-1,)))
