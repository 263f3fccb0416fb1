"""Operator builders: sums of local terms as TTMatrices (MPOs) and the QTT Laplacian."""

from __future__ import annotations

import cmath
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import DefaultTol, as_sequence, check_eps, check_positive_int, check_shape
from ..backends import Backend, resolve, to_numpy
from ..errors import ArgumentError, NonFiniteError, ShapeError
from .matrix import TTMatrix

__all__ = ["nearest_neighbor", "operator_sum", "qtt_laplacian"]


def _square(m: Any, where: str) -> np.ndarray:
    a = np.asarray(to_numpy(m) if hasattr(m, "shape") else m)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ShapeError(f"{where}: local operators must be square matrices, got shape "
                         f"{a.shape}")
    if a.dtype.kind not in "biufc":
        raise ArgumentError(f"{where}: local operators must hold numbers, got dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise NonFiniteError(f"{where}: a local operator holds non-finite values")
    return a


def _terms(terms: Any, arity: int, where: str, name: str, what: str) -> list[tuple]:
    """`terms` as a list of `arity`-tuples whose first entry is a finite number."""
    out = []
    for t, term in enumerate(as_sequence(terms, where, name, what)):
        if not isinstance(term, (tuple, list)) or len(term) != arity:
            raise ShapeError(f"{where}: {name}[{t}] must be a {what[:-1]}, got "
                             f"{type(term).__name__} {str(term)[:60]}")
        c = term[0]
        if isinstance(c, bool) or not isinstance(c, numbers.Number) or not cmath.isfinite(c):
            raise ArgumentError(f"{where}: the coefficient of {name}[{t}] must be a finite "
                                f"number, got {c!r}")
        out.append(tuple(term))
    return out


def _term_dtype(xp: Backend, dtype: Any, device: Any, cplx: bool, where: str) -> Any:
    """The dtype to build an operator in: `dtype` checked, or complex128 / the default float
    by the terms; a real `dtype` for complex terms is an error (it would drop their
    imaginary parts)."""
    xp.placement(dtype, device, where)
    if dtype is None:
        return "complex128" if cplx else xp.default_float_dtype
    if cplx and not xp.is_complex(xp.resolve_dtype(dtype)):
        raise ArgumentError(f"{where}: dtype {xp.dtype_name(xp.resolve_dtype(dtype))} is real "
                            "but a term is complex; give a complex dtype or leave dtype=None")
    return dtype


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
    pair = _terms(pair, 3, "nearest_neighbor", "pair", "(J, A, B) triples")
    onsite = _terms(onsite, 2, "nearest_neighbor", "onsite", "(h, C) pairs")
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
    dtype = _term_dtype(xp, dtype, device, cplx, "nearest_neighbor")
    return TTMatrix._from_cores([xp.asarray(c, dtype=dtype, device=device) for c in cores], xp)


def operator_sum(terms: Sequence[tuple[complex, Mapping[int, Any]]], shape: Sequence[int],
                 eps: float = DefaultTol(1e-14), dtype: Any = None, device: Any = None,
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
    shape = check_shape(shape, "operator_sum")
    terms = _terms(terms, 2, "operator_sum", "terms", "(coefficient, {site: matrix}) pairs")
    if not terms:
        raise ArgumentError("operator_sum: needs at least one term")
    eps = check_eps(eps, "operator_sum")
    xp = resolve(backend)
    total = None
    for t, (coef, ops) in enumerate(terms):
        if not isinstance(ops, Mapping):
            raise ShapeError(f"operator_sum: terms[{t}] must map sites to matrices, got "
                             f"{type(ops).__name__}")
        ops = {site: _square(m, "operator_sum") for site, m in ops.items()}
        for site, m in ops.items():
            if isinstance(site, bool) or not isinstance(site, numbers.Integral) or \
                    not 0 <= site < len(shape):
                raise ShapeError(f"operator_sum: site {site!r} is not an integer in "
                                 f"0..{len(shape) - 1}")
            if m.shape != (shape[site], shape[site]):
                raise ShapeError(f"operator_sum: operator on site {site} must be "
                                 f"{shape[site]}x{shape[site]}, got {m.shape}")
        cplx = isinstance(coef, complex) or any(np.iscomplexobj(m) for m in ops.values())
        dt = _term_dtype(xp, dtype, device, cplx, "operator_sum")
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
    dtype, device = xp.placement(dtype, device, "qtt_laplacian")
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
    tol = max(1e-14, 4.0 * xp.finfo_eps(s.cores[0]))  # exact ranks, at the dtype's resolution
    one_d = (2.0 * mk(ident) - s - s.T).round(tol)
    if dims == 1:
        return one_d
    eye_block = mk(ident)
    total = None
    for k in range(dims):
        blocks = [one_d if j == k else eye_block for j in range(dims)]
        term = TTMatrix._from_cores([c for b in blocks for c in b.cores], xp)
        total = term if total is None else total + term
    return total.round(tol)
