"""Constructors: random, ones, zeros, eye, diag, laplacian."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_positive_int, check_shape, plain, rng_of
from ..backends import Backend, resolve
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from .matrix import TTMatrix
from .tensor import TTTensor

__all__ = ["diag", "eye", "laplacian", "ones", "random", "zeros"]


def _ranks(ranks: Any, d: int, where: str) -> list[int]:
    """Internal ranks (1, r_1, ..., r_{d-1}, 1) from an int or a sequence."""
    ranks = plain(ranks)
    if isinstance(ranks, Sequence) and not isinstance(ranks, str):
        r = list(ranks)
        if len(r) == d - 1:
            r = [1, *r, 1]
        if len(r) != d + 1 or r[0] != 1 or r[-1] != 1:
            raise ShapeError(f"{where}: ranks must be an int, d-1 = {d - 1} bond ranks or "
                             f"d+1 = {d + 1} ranks with ends 1, got {ranks!r}")
        return [1] + [check_positive_int(v, where, "ranks") for v in r[1:-1]] + [1]
    r = check_positive_int(ranks, where, "ranks")
    return [1] + [r] * (d - 1) + [1]


def random(shape: Sequence[int], ranks: Any, seed: Any = None, dtype: Any = None,
           device: Any = None, backend: str | Backend | None = None) -> TTTensor:
    """Random TT with standard Gaussian cores; one seed gives the same tensor everywhere.

    Parameters
    ----------
    shape : sequence of int
    ranks : int or sequence of int
        One rank for every bond, ``d - 1`` bond ranks, or ``d + 1`` ranks with ends 1.
    seed : int or numpy Generator, optional
    dtype, device, backend : optional
        Defaults: float64 (float32 on JAX without x64), the framework's default
        device, the active default backend.

    Examples
    --------
    >>> from tnlib import tt
    >>> tt.random((4, 5, 6), 3, seed=0).ranks
    (1, 3, 3, 1)
    """
    shape = check_shape(shape, "random")
    r = _ranks(ranks, len(shape), "random")
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, "random")
    rng = rng_of(seed, "random")
    cores = [xp.random_normal((r[k], n, r[k + 1]), seed=rng, dtype=dtype, device=device)
             for k, n in enumerate(shape)]
    return TTTensor._from_cores(cores, xp)


def ones(shape: Sequence[int], dtype: Any = None, device: Any = None,
         backend: str | Backend | None = None) -> TTTensor:
    """The all-ones tensor, TT-rank 1.

    Examples
    --------
    >>> from tnlib import tt
    >>> float(tt.ones((3, 4)).sum())
    12.0
    """
    shape = check_shape(shape, "ones")
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, "ones")
    return TTTensor._from_cores([xp.ones((1, n, 1), dtype=dtype, device=device)
                                 for n in shape], xp)


def zeros(shape: Sequence[int], dtype: Any = None, device: Any = None,
          backend: str | Backend | None = None) -> TTTensor:
    """The zero tensor, TT-rank 1.

    Examples
    --------
    >>> from tnlib import tt
    >>> float(tt.zeros((3, 4)).norm())
    0.0
    """
    shape = check_shape(shape, "zeros")
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, "zeros")
    return TTTensor._from_cores([xp.zeros((1, n, 1), dtype=dtype, device=device)
                                 for n in shape], xp)


def eye(shape: Sequence[int], dtype: Any = None, device: Any = None,
        backend: str | Backend | None = None) -> TTMatrix:
    """Identity TTMatrix with row and column shape `shape`, TT-rank 1.

    Examples
    --------
    >>> from tnlib import tt
    >>> tt.eye((2, 2)).full().tolist()[1]
    [0.0, 1.0, 0.0, 0.0]
    """
    shape = check_shape(shape, "eye")
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, "eye")
    return TTMatrix._from_cores(
        [xp.reshape(xp.eye(n, dtype=dtype, device=device), (1, n, n, 1)) for n in shape], xp)


@host_eager
def diag(x: TTTensor) -> TTMatrix:
    """TTMatrix with `x` on its diagonal (ranks of `x`).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = tt.random((2, 3), 2, seed=0)
    >>> bool(np.allclose(tt.diag(x).full(), np.diag(x.full().ravel())))
    True
    """
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"diag: x must be a TTTensor, got {type(x).__name__}")
    xp = x.backend
    cores = [xp.einsum("aib,ij->aijb", c, xp.eye(xp.shape(c)[1], dtype=xp.dtype(c),
                                                 device=xp.device(c))) for c in x.cores]
    return TTMatrix._from_cores(cores, xp)


def laplacian(n: int, d: int, dtype: Any = None, device: Any = None,
              backend: str | Backend | None = None) -> TTMatrix:
    """The d-dimensional discrete Laplacian ``Σ_k I⊗…⊗L⊗…⊗I``, TT-rank 2.

    ``L = tridiag(-1, 2, -1)`` of size `n` (Dirichlet boundary, unscaled: divide
    by ``h**2`` for a grid step ``h``).

    Examples
    --------
    >>> from tnlib import tt
    >>> a = tt.laplacian(4, 3)
    >>> a.ranks, a.shape
    ((1, 2, 2, 1), (64, 64))
    """
    n = check_positive_int(n, "laplacian", "n")
    d = check_positive_int(d, "laplacian", "d")
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, "laplacian")
    lap = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    ident = np.eye(n)
    if d == 1:
        cores = [lap[None, :, :, None]]
    else:
        first = np.stack([lap, ident], axis=-1)[None]            # (1, n, n, 2): [L, I]
        last = np.stack([ident, lap], axis=0)[..., None]         # (2, n, n, 1): [I; L]
        mid = np.zeros((2, n, n, 2))
        mid[0, :, :, 0] = ident
        mid[1, :, :, 0] = lap
        mid[1, :, :, 1] = ident                                  # [[I, 0], [L, I]]
        cores = [first] + [mid] * (d - 2) + [last]
    dtype = xp.default_float_dtype if dtype is None else dtype
    return TTMatrix._from_cores([xp.asarray(c, dtype=dtype, device=device) for c in cores], xp)
