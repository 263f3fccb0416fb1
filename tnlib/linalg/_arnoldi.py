"""The Arnoldi machinery the Krylov methods share (internal): projection and storage of
a new direction, runs of steps between host reads, the operator's running scale, and the
checks on vectors and products."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._info import grouped
from .._validation import as_array, as_float, check_callable, check_eps, honour_eps
from ..backends import backend_of
from ..errors import ArgumentError, NonFiniteError, ShapeError


def _quiet(on: bool = True) -> Any:
    """NumPy's floating-point warnings off (`on`) while a norm may over- or underflow: such
    a norm is checked (:func:`norm_in_range`) and the vector scaled, so the warning would
    only be noise. Other backends do not warn."""
    return np.errstate(all="ignore") if on else contextlib.nullcontext()


def _dot(xp: Any, a: Any, b: Any) -> Any:
    return xp.sum(xp.conj(a) * b)


def _host(xp: Any, v: Any) -> complex:
    return complex(xp.item(v))


def _orthogonal_part(xp: Any, basis: Any, w: Any) -> tuple[Any, Any, Any]:
    """Classical Gram-Schmidt of `w` against the rows of `basis`, twice ("twice is enough").

    Vectors may have any shape (the basis holds them along its first axis). Two
    matrix-vector products per pass instead of one small product per basis vector, so the
    Krylov loops stay fast on any backend. Returns the orthogonalized vector (flat), its
    norm floored at the smallest normal number (in the vector's dtype: the divisor that
    makes it a unit vector), and both passes' coefficients with the norm in one array
    (their sum is taken on the host, which reads them anyway): one read brings a step's
    numbers to the host (or several steps', see :func:`_arnoldi_run`).
    """
    n = xp.size(w)
    rows = xp.reshape(basis, (xp.shape(basis)[0], n))
    w = xp.reshape(w, (n,))
    passes = []
    for _ in range(2):
        h = xp.matmul(xp.conj(rows), w)
        w = xp.matmul_sub(w, xp.transpose(rows), h)
        passes.append(h)
    nrm = xp.norm(w)
    floor = xp.maximum(nrm, xp.finfo_tiny(w))
    floor = xp.astype(floor, xp.dtype(w)) if xp.is_complex(w) else floor
    coeffs = xp.concatenate(passes + [xp.reshape(xp.astype(nrm, xp.dtype(h)), (1,))])
    return w, floor, coeffs


@grouped
def _coefficients(xp: Any, basis: Any, w: Any) -> Any:
    """The coefficients of :func:`_orthogonal_part` only (the last step, whose vector the
    full basis has no row for)."""
    return _orthogonal_part(xp, basis, w)[2]


@grouped
def _project_store(xp: Any, basis: Any, w: Any, row: Any, used: int | None = None
                   ) -> tuple[Any, Any, Any]:
    """:func:`_orthogonal_part` against the first `used` rows (all if None), and the unit vector
    stored as row `row` of the basis (a Python int, or a traced one inside a compiled
    program): one program per Krylov step where operations compile (JAX), and the basis
    updated in place where arrays are mutable, the division writing into the row. The
    coefficients have `used` entries per pass."""
    part, floor, coeffs = _orthogonal_part(xp, basis if used is None else basis[:used], w)
    basis = xp.index_update(basis, row, xp.reshape(part, xp.shape(w)), reuse=True,
                            divisor=floor)
    return basis, basis[row], coeffs


def _check_vector(nrm: float, v: Any, xp: Any, where: str, name: str,
                  nonzero: bool = False) -> None:
    """Refuse a start vector (or right-hand side) `v` holding NaN or inf, a
    :class:`NonFiniteError`, and with `nonzero` a zero one, an ArgumentError. `nrm` is its
    computed norm: `v` is read again only when that is zero or not finite (a norm
    overflows for finite entries past the square root of the float range)."""
    if math.isfinite(nrm) and (nrm != 0 or not nonzero):
        return
    peak = float(xp.item(xp.max(xp.abs(v))))
    if not math.isfinite(peak):
        raise NonFiniteError(f"{where}: {name} holds non-finite values")
    if nonzero and peak == 0:
        raise ArgumentError(f"{where}: {name} must be a nonzero vector")


def _unit(xp: Any, v: Any) -> Any:
    """`v` divided by its norm (in `v`'s dtype: frameworks do not mix complex and real)."""
    return v / xp.astype(xp.norm(v), xp.dtype(v))


def _combination(xp: Any, coef: np.ndarray, basis: Any, used: int) -> Any:
    """``sum_i coef[i] basis[i]`` over the first `used` rows, for host coefficients (complex
    ones cast to the basis' dtype, real to real), as a vector of the basis rows' shape.
    Rows past `used` may hold steps a run went past and discarded, NaN included, which a
    zero coefficient would not cancel: they are left out (where shapes compile, JAX,
    zeroed in place of a slice, keeping one shape)."""
    c = coef if xp.is_complex(basis) else np.real(coef)
    rows = xp.shape(basis)[0]
    if used == 1:  # one product (a contraction over one row costs frameworks two)
        return basis[0] * xp.asarray(c[0], dtype=xp.dtype(basis), device=xp.device(basis))
    if used < rows and not xp.shape_compiles:
        basis, c = basis[:used], c[:used]
    elif used < rows:
        keep = (np.arange(rows) < used).reshape((rows,) + (1,) * (xp.ndim(basis) - 1))
        basis = xp.where(xp.asarray(keep, device=xp.device(basis)), basis,
                         xp.zeros_like(basis))
    return xp.tensordot(xp.asarray(c, dtype=xp.dtype(basis), device=xp.device(basis)), basis,
                        axes=1)


def _krylov_input(where: str, matvec: Any, v: Any, name: str, tol: Any
                  ) -> tuple[Any, Any, float]:
    """The checks of a public Krylov method's arguments, returning ``(xp, v, tol)``:
    `matvec` callable; `v` an array (lists and numbers converted) with at least one axis
    and one entry, of real or complex floats (integer and bool data as the backend's
    default float); `tol` a finite number >= 0, raised to what `v`'s dtype resolves with
    a PrecisionWarning."""
    check_callable(matvec, where, "matvec")
    xp = backend_of(v)
    v = as_array(v, xp, where, name)
    shape = tuple(xp.shape(v))
    if not shape or 0 in shape:
        raise ShapeError(f"{where}: {name} must have at least one axis and one entry, got "
                         f"shape {shape}")
    v = as_float(v, xp, where, name)
    return xp, v, honour_eps(check_eps(tol, where, "tol"), xp, v, where, name="tol")


def _vector_like(xp: Any, got: Any, like: Any, where: str, what: str) -> Any:
    """`got` unchanged if it is an array of `like`'s backend and shape, and complex only if
    `like` is; else an error naming `what`."""
    if not xp.is_array(got):
        raise ArgumentError(f"{where}: {what} must be an array of {xp.name}, as the vector "
                            f"is; got {type(got).__module__}.{type(got).__name__}")
    if tuple(xp.shape(got)) != tuple(xp.shape(like)):
        raise ShapeError(f"{where}: {what} has shape {tuple(xp.shape(got))}, expected "
                         f"{tuple(xp.shape(like))} (the vector's shape)")
    if xp.is_complex(got) and not xp.is_complex(like):
        raise ArgumentError(f"{where}: {what} is complex ({xp.dtype_name(got)}) for a real "
                            f"vector ({xp.dtype_name(like)}); pass a complex vector for a "
                            "complex operator")
    return got


def _read_block(xp: Any, b: Any) -> int:
    """Krylov steps taken between reads: 1 where reads are free; on an accelerator a few
    steps run ahead and their coefficients come back in one read (steps past convergence
    are discarded, so the iterates are those of the one-step loop)."""
    return 4 if not xp.is_traced(b) and xp.reads_synchronize(b) else 1


_RUN_AHEAD = 16  # the longest run of Krylov steps between reads (4, 8, 16, 16, ...)


def _grow(block: int) -> int:
    """The next run of steps: doubled up to `_RUN_AHEAD` on a device, 1 where reads are free."""
    return min(2 * block, _RUN_AHEAD) if block > 1 else 1


def _arnoldi_run(xp: Any, matvec: Callable, basis: Any, start: int, stop: int, where: str,
                 extra: Any = None) -> tuple[Any, np.ndarray, float | None]:
    """Krylov steps ``start .. stop - 1``: each applies `matvec` to basis row ``j``,
    orthogonalizes the result against the basis and stores it, normalized, as row ``j + 1``
    (while the basis has one). Returns the basis, the steps' coefficient rows (the norm
    last; at least ``j + 1`` coefficients for step ``j``) and the value of `extra` (a real
    0-d array, or None), read from the device at once."""
    steps = []
    v = basis[start]
    # one step per read (the host): project on the filled rows only, a view of the basis;
    # runs of steps (a device) and compiled programs (JAX) keep the fixed shape
    trim = stop - start == 1 and not xp.shape_compiles
    for j in range(start, stop):
        w = matvec(v)
        if j == start:  # once per run: a matvec must keep the vector's shape
            _vector_like(xp, w, v, where, "matvec's result")
        # an overflowing product shows as an inf norm, which the caller turns into a
        # NonFiniteError naming matvec (NumPy's RuntimeWarning would only precede it)
        with _quiet():
            if j + 1 < xp.shape(basis)[0]:
                used = j + 1 if trim else None
                basis, v, both = _project_store(xp, basis, w, j + 1, used=used)
            else:
                both = _coefficients(xp, basis, w)
        steps.append(both)
    if extra is not None:  # the extra value rides along as one more row (a stack, which
        # JAX runs faster than a concatenation here), in the coefficients' dtype
        steps.append(xp.broadcast_to(xp.astype(extra, xp.dtype(steps[0])),
                                     xp.shape(steps[0])))
    rows = xp.to_numpy(steps[0])[None, :] if len(steps) == 1 else xp.to_numpy(xp.stack(steps))
    tail = None
    if extra is not None:
        rows, tail = rows[:-1], float(np.real(rows[-1, 0]))
    m = (rows.shape[1] - 1) // 2  # the two Gram-Schmidt passes, summed here
    return basis, np.concatenate([rows[:, :m] + rows[:, m:2 * m], rows[:, -1:]], axis=1), tail


def _op_scale(scale: float, row: np.ndarray, j: int) -> float:
    """Running estimate of the operator's scale over one Krylov cycle, what its breakdown
    test (a new direction's norm, the row's last entry, at most ~1e-14 of it: an invariant
    subspace) is measured against: ``‖A v_0‖`` at step 0 (the whole row, coefficients and
    new norm), then at least step ``j``'s diagonal coefficient and new norm. Relative to
    the operator, so the test holds for operators and vectors of any magnitude; no array
    work after step 0 (a host step costs a few microseconds)."""
    if j == 0:
        return float(np.sqrt(np.vdot(row, row).real))
    return max(scale, float(abs(row[j])), float(abs(row[-1])))


def _new_norm(row: np.ndarray, where: str, j: int) -> float:
    """Step `j`'s new norm, the row's last entry: NaN or inf anywhere in the step shows
    there, a :class:`NonFiniteError` (checked only for the steps a method uses: a run of
    steps on a device may go past the one that ends it)."""
    hn = float(abs(row[-1]))
    if not math.isfinite(hn):
        raise NonFiniteError(f"{where}: matvec gave non-finite values at Krylov step {j + 1} "
                             "from a finite unit vector, or their norm overflowed; the "
                             "operator must be finite and its norm below the square root of "
                             "the float range (scale it)")
    return hn
