"""Operator builders: sums of local terms as TTMatrices (MPOs) and the QTT Laplacian."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_positive_int
from ..backends import Backend, resolve
from ..errors import ArgumentError, ShapeError
from .matrix import TTMatrix

__all__ = ["nearest_neighbor", "operator_sum", "qtt_laplacian"]


def _square(m: Any, where: str) -> np.ndarray:
    a = np.asarray(m)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ShapeError(f"{where}: local operators must be square matrices, got shape "
                         f"{a.shape}")
    return a


def nearest_neighbor(d: int, pair: Sequence[tuple] = (), onsite: Sequence[tuple] = (),
                     dtype: Any = None, device: Any = None,
                     backend: str | Backend | None = None) -> TTMatrix:
    """``H = Σ_i Σ_(J, A, B) J A_i B_{i+1} + Σ_i Σ_(h, C) h C_i`` on an open chain of `d` sites.

    The MPO is the standard finite-state construction, of rank
    ``2 + len(pair)``, exact (no rounding).

    Parameters
    ----------
    d : int
        Number of sites (>= 2).
    pair : sequence of (J, A, B)
        Nearest-neighbour terms; ``A``, ``B`` square local matrices.
    onsite : sequence of (h, C)
        One-site terms.
    dtype, device, backend : optional
        Default dtype: complex128 if any term is complex, else float64.

    Examples
    --------
    The spin-1/2 Heisenberg chain ``Σ S_i·S_{i+1}`` in three lines:

    >>> import numpy as np
    >>> from tnlib import tt
    >>> sp, sz = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([0.5, -0.5])
    >>> h = tt.nearest_neighbor(6, pair=[(0.5, sp, sp.T), (0.5, sp.T, sp), (1.0, sz, sz)])
    >>> h.ranks
    (1, 5, 5, 5, 5, 5, 1)
    """
    d = check_positive_int(d, "nearest_neighbor", "d")
    if d < 2:
        raise ShapeError("nearest_neighbor: needs at least 2 sites")
    pairs = [(c, _square(a, "nearest_neighbor"), _square(b, "nearest_neighbor"))
             for c, a, b in pair]
    ons = [(c, _square(m, "nearest_neighbor")) for c, m in onsite]
    if not pairs and not ons:
        raise ArgumentError("nearest_neighbor: give at least one pair or onsite term")
    n = (pairs[0][1] if pairs else ons[0][1]).shape[0]
    for _, *mats in pairs + ons:
        for m in mats:
            if m.shape != (n, n):
                raise ShapeError(f"nearest_neighbor: all local operators must be {n}x{n}, "
                                 f"got {m.shape}")
    cplx = any(np.iscomplexobj(m) or isinstance(c, complex) for c, *ms in pairs + ons
               for m in ms)
    dt = np.complex128 if cplx else np.float64
    k = len(pairs)
    r = 2 + k
    ident = np.eye(n, dtype=dt)
    local = sum((c * m for c, m in ons), np.zeros((n, n), dtype=dt))
    # W[a, :, :, b]: state 0 = "done", 1..k = "pair term started", r-1 = "not started"
    w = np.zeros((r, n, n, r), dtype=dt)
    w[0, :, :, 0] = ident
    w[r - 1, :, :, r - 1] = ident
    w[r - 1, :, :, 0] = local
    for t, (c, a, b) in enumerate(pairs, start=1):
        w[r - 1, :, :, t] = c * a
        w[t, :, :, 0] = b
    first = w[r - 1:r]            # the chain starts in "not started"
    last = w[:, :, :, 0:1]        # and must end "done"
    cores = [first] + [w] * (d - 2) + [last]
    xp = resolve(backend)
    dtype = ("complex128" if cplx else xp.default_float_dtype) if dtype is None else dtype
    return TTMatrix._from_cores([xp.asarray(c, dtype=dtype, device=device) for c in cores], xp)


def operator_sum(terms: Sequence[tuple[complex, Mapping[int, Any]]], shape: Sequence[int],
                 eps: float = 1e-14, dtype: Any = None, device: Any = None,
                 backend: str | Backend | None = None) -> TTMatrix:
    """``Σ_t c_t ⊗_k O_{t,k}``: each term a coefficient and ``{site: matrix}`` (identity
    elsewhere), summed in TT format and rounded to `eps`.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> x = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> h = tt.operator_sum([(1.0, {0: x}), (1.0, {2: x})], (2, 2, 2))
    >>> h.ranks
    (1, 2, 2, 1)
    """
    shape = tuple(int(n) for n in shape)
    if not terms:
        raise ArgumentError("operator_sum: needs at least one term")
    xp = resolve(backend)
    total = None
    for coef, ops in terms:
        for site, m in ops.items():
            if not 0 <= site < len(shape):
                raise ShapeError(f"operator_sum: site {site} is outside 0..{len(shape) - 1}")
            if np.asarray(m).shape != (shape[site], shape[site]):
                raise ShapeError(f"operator_sum: operator on site {site} must be "
                                 f"{shape[site]}x{shape[site]}, got {np.asarray(m).shape}")
        cplx = isinstance(coef, complex) or any(np.iscomplexobj(m) for m in ops.values())
        dt = dtype or ("complex128" if cplx else xp.default_float_dtype)
        cores = [np.asarray(ops.get(k, np.eye(n)))[None, :, :, None] for k, n in enumerate(shape)]
        cores[0] = cores[0] * coef
        term = TTMatrix._from_cores([xp.asarray(c, dtype=dt, device=device) for c in cores], xp)
        if total is not None and xp.dtype_name(total.dtype) != xp.dtype_name(term.dtype):
            target = "complex128"
            total, term = total.to(dtype=target), term.to(dtype=target)
        total = term if total is None else total + term
    return total.round(eps)


def qtt_laplacian(d: int, dims: int = 1, dtype: Any = None, device: Any = None,
                  backend: str | Backend | None = None) -> TTMatrix:
    """QTT of the Dirichlet Laplacian ``tridiag(-1, 2, -1)`` on ``2^d`` points, ``dims`` times.

    One dimension has QTT rank 3 (Kazeev & Khoromskij 2012); for ``dims > 1``
    the Kronecker sum over ``dims`` blocks of ``d`` binary modes each (most
    significant digit first within a block, NumPy order overall) is returned,
    rounded. Unscaled: divide by ``h^2`` for the grid step.

    Examples
    --------
    >>> from tnlib import tt
    >>> lap = tt.qtt_laplacian(10)
    >>> max(lap.ranks), lap.shape
    (3, (1024, 1024))
    """
    d = check_positive_int(d, "qtt_laplacian", "d")
    dims = check_positive_int(dims, "qtt_laplacian", "dims")
    xp = resolve(backend)
    dtype = xp.default_float_dtype if dtype is None else dtype
    # shift S (S e_j = e_{j+1}) through a carry automaton; states: 0 = no carry, 1 = carry
    core = np.zeros((2, 2, 2, 2))
    for i in range(2):
        core[0, i, i, 0] = 1.0              # no carry in: digit unchanged
    core[0, 1, 0, 1] = 1.0                  # carry in, digit 0 -> 1, no carry out
    core[1, 0, 1, 1] = 1.0                  # carry in, digit 1 -> 0, carry out
    first = core[0:1]                       # no carry may leave the top digit
    last = core[:, :, :, 1:2]               # the lowest digit always receives the +1
    shift = [first] + [core] * (d - 2) + [last] if d > 1 else [core[0:1, :, :, 1:2]]
    ident = [np.eye(2)[None, :, :, None]] * d
    mk = lambda cs: TTMatrix._from_cores(  # noqa: E731
        [xp.asarray(c, dtype=dtype, device=device) for c in cs], xp)
    s = mk(shift)
    one_d = (2.0 * mk(ident) - s - s.T).round(1e-14)
    if dims == 1:
        return one_d
    eye_block = mk(ident)
    total = None
    for k in range(dims):
        blocks = [one_d if j == k else eye_block for j in range(dims)]
        term = TTMatrix._from_cores([c for b in blocks for c in b.cores], xp)
        total = term if total is None else total + term
    return total.round(1e-14)
