"""Quantized TT: a vector of length ``base**d`` as a d-mode tensor of mode size `base`."""

from __future__ import annotations

import math
from typing import Any

from .._validation import check_positive_int
from ..backends import backend_of
from ..errors import ShapeError
from .svd import tt_svd
from .tensor import TTTensor

__all__ = ["dequantize", "quantize"]


def quantize(v: Any, base: int = 2, eps: float = 1e-14, max_rank: Any = None) -> TTTensor:
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
    return x.backend.reshape(x.full(), (-1,))
