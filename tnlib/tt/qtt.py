"""Quantized TT: a vector of length ``base**d`` as a d-mode tensor of mode size `base`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import DefaultTol, as_array, check_callable, check_positive_int, check_real
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
def qtt_function(f: Any, a: float, b: float, d: int, eps: float = DefaultTol(1e-10),
                 max_rank: Any = None, backend: Any = None, **kwargs: Any) -> TTTensor:
    """QTT of ``f`` on the grid ``x_j = a + j (b - a) / 2**d``, ``j = 0 .. 2**d - 1``, by cross.

    Mode ``k`` is binary digit ``k`` of ``j``, most significant first. ``f``
    receives a 1-D array of points on the active backend and is evaluated at
    ``O(d r^2)`` of them -- never all ``2**d`` unless ``d`` is small. The result
    is rounded to `eps`. Keyword arguments go to :func:`~tnlib.tt.cross`
    (``max_sweeps``, ``seed``, ``verbose``, ``executor``, ``batch_size``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.qtt_function(np.sin, 0.0, 1.0, 30, eps=1e-12)
    >>> max(x.ranks)
    2
    """
    from ..backends import resolve
    from .cross import cross, named_as

    d = check_positive_int(d, "qtt_function", "d")
    if d > 52:
        raise ShapeError(f"qtt_function: d = {d} exceeds the 52 bits a float64 grid can index")
    f = check_callable(f, "qtt_function")
    a, b = check_real(a, "qtt_function", "a"), check_real(b, "qtt_function", "b")
    if not b > a:
        raise ShapeError(f"qtt_function: needs a < b, got a={a}, b={b}")
    xp = resolve(backend)
    h = (b - a) / 2.0**d
    weights = xp.asarray(2.0 ** np.arange(d - 1, -1, -1, dtype=np.float64)[:, None])
    kwargs.setdefault("seed", 0)
    with named_as("qtt_function", "f"):
        return cross(_OnGrid(f, a, h, weights), (2,) * d, eps=eps, max_rank=max_rank,
                     backend=xp, **kwargs)


class _OnGrid:
    """``f`` at the grid points of binary multi-indices (a class, so that it pickles)."""

    def __init__(self, f: Any, a: float, h: float, weights: Any) -> None:
        self.f, self.a, self.h, self.weights = f, a, h, weights

    @property
    def black_box(self) -> Any:  # what sees the caller's arrays (backends._host)
        return self.f

    def __call__(self, idx: Any) -> Any:
        from ..backends import backend_of

        xp = backend_of(self.weights)
        j = xp.reshape(xp.astype(idx, xp.dtype(self.weights)) @ self.weights, (-1,))
        return self.f(self.a + self.h * j)
