"""Matrix-free Krylov methods on the backend contract: GMRES, CG, Lanczos, Krylov expm.

They act on arrays of any backend and shape (each array one vector) through a
``matvec`` callable that keeps the shape, so the local problems of the TT solvers
run where their data live (GPU included), in the layout their operators use.
The small projected matrices (Hessenberg, tridiagonal) are handled on the host:
they are a few dozen numbers, and their factorizations decide control flow.
"""

from __future__ import annotations

import cmath
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .._info import read_floats, warn_not_converged
from .._validation import check_positive_int, maxexp, norm_in_range, pow2_scaled, times_pow2
from ..backends import backend_of, get
from ..errors import ArgumentError, NonFiniteError
from ._arnoldi import (
    _RUN_AHEAD,
    _arnoldi_run,
    _check_vector,
    _combination,
    _dot,
    _grow,
    _host,
    _krylov_input,
    _new_norm,
    _op_scale,
    _quiet,
    _read_block,
    _unit,
    _vector_like,
)

__all__ = ["cg", "expm_krylov", "gmres", "lanczos_lowest"]

_HOST = get("numpy")  # the small projected problems' backend


def gmres(matvec: Callable, b: Any, x0: Any = None, tol: float = 1e-8, restart: int = 30,
          max_iter: int = 300, warn: bool = True) -> tuple[Any, float, int]:
    """Restarted GMRES for ``A x = b`` (Arnoldi with repeated classical Gram-Schmidt).

    Parameters
    ----------
    matvec : callable
        ``v -> A v``, keeping `v`'s shape.
    b : array
        The right-hand side, of any shape (one vector).
    x0 : array of `b`'s shape, optional
    tol : float
        Relative residual ``‖b - A x‖ / ‖b‖`` to reach.
    restart, max_iter : int
        Krylov dimension per cycle and total iterations.
    warn : bool
        Issue a :class:`~tnlib.ConvergenceWarning` if `max_iter` iterations (or a
        breakdown: a singular operator) end above `tol`; False leaves the returned
        residual to the caller (an inexact inner solve).

    Returns
    -------
    x, relative residual, iterations

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg.krylov import gmres
    >>> a = np.diag(np.arange(1.0, 11.0)) + 0.1 * np.ones((10, 10))
    >>> x, res, it = gmres(lambda v: a @ v, np.ones(10), tol=1e-12)
    >>> bool(np.allclose(a @ x, np.ones(10)))
    True
    """
    restart = check_positive_int(restart, "gmres", "restart")
    max_iter = check_positive_int(max_iter, "gmres", "max_iter")
    _, b, tol = _krylov_input("gmres", matvec, b, "b", tol)
    return gmres_run(matvec, b, x0, tol, restart, max_iter, warn)


def gmres_run(matvec: Callable, b: Any, x0: Any, tol: float, restart: int, max_iter: int,
              warn: bool) -> tuple[Any, float, int]:
    """:func:`gmres` without its argument checks (internal: for AMEn's local solves, whose
    tolerance may lie below the dtype's resolution, met or not, with no warning)."""
    xp = backend_of(b)
    x = xp.zeros_like(b) if x0 is None else _vector_like(xp, x0, b, "gmres", "x0")
    r = b - matvec(x) if x0 is not None else b
    with _quiet():
        bnorm, beta = read_floats(xp, xp.norm(b), xp.norm(r))
    _check_vector(bnorm, b, xp, "gmres", "b")
    _check_vector(beta, r, xp, "gmres", "b - A x0")
    if not norm_in_range(bnorm, b, xp):  # zero, or near the float limits: solve for 2^-e b
        b_unit, e = pow2_scaled(b, xp)
        if e:
            x, res, iters = gmres_run(matvec, b_unit, None if x0 is None else
                                      times_pow2(x0, -e, xp), tol, restart, max_iter, warn)
            return times_pow2(x, e, xp), res, iters
    if bnorm == 0:
        return xp.zeros_like(b), 0.0, 0
    iters = 0
    cplx = xp.is_complex(b)
    while beta / bnorm > tol and iters < max_iter:
        m = min(restart, max_iter - iters)
        # fixed-shape basis (unused rows are zero): one compiled kernel per size on JAX
        basis = xp.index_update(xp.zeros((m + 1,) + tuple(xp.shape(b)), dtype=xp.dtype(b),
                                         device=xp.device(b)), 0, r / beta, reuse=True)
        dtype = np.complex128 if cplx else np.float64
        h = np.zeros((m + 1, m), dtype=dtype)
        cs, sn = np.zeros(m, dtype=dtype), np.zeros(m, dtype=dtype)
        g = np.zeros(m + 1, dtype=dtype)
        g[0] = beta
        k = 0
        breakdown = done = False
        block = _read_block(xp, b)
        j, scale = 0, 0.0
        while j < m and not done:
            basis, rows, _ = _arnoldi_run(xp, matvec, basis, j, min(j + block, m), "gmres")
            block = _grow(block)
            for row in rows:
                scale = _op_scale(scale, row, j)
                coeffs, hn = row[: j + 1], _new_norm(row, "gmres", j)
                h[: j + 1, j] = coeffs if cplx else coeffs.real
                h[j + 1, j] = hn
                for i in range(j):  # earlier Givens rotations on the new column
                    t = np.conj(cs[i]) * h[i, j] + sn[i] * h[i + 1, j]
                    h[i + 1, j] = -sn[i] * h[i, j] + cs[i] * h[i + 1, j]
                    h[i, j] = t
                rho = math.hypot(abs(h[j, j]), hn)
                cs[j] = h[j, j] / rho if rho else 1.0
                sn[j] = hn / rho if rho else 0.0
                h[j, j], h[j + 1, j] = rho, 0.0
                g[j + 1] = -sn[j] * g[j]
                g[j] = np.conj(cs[j]) * g[j]
                j += 1
                k = j
                iters += 1
                breakdown = hn <= 1e-14 * scale
                if breakdown or abs(g[k]) / bnorm <= tol:
                    done = True
                    break
        y = np.zeros(m + 1, dtype=dtype)
        y[:k] = np.linalg.solve(np.triu(h[:k, :k]), g[:k]) if k else 0.0
        x = x + _combination(xp, y, basis, k)
        r = b - matvec(x)
        beta = float(xp.item(xp.norm(r)))
        if breakdown and beta / bnorm > tol:
            break
    if warn and beta / bnorm > tol:
        _stopped_short("gmres", beta / bnorm, tol, f"after {iters} iterations (max_iter="
                       f"{max_iter}{', a breakdown: A is singular' if breakdown else ''})")
    return x, beta / bnorm, iters


def cg(matvec: Callable, b: Any, x0: Any = None, tol: float = 1e-8, max_iter: int = 1000
       ) -> tuple[Any, float, int]:
    """Conjugate gradients for a Hermitian positive definite ``A``.

    Returns ``x``, the relative residual and the number of iterations.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg.krylov import cg
    >>> a = np.diag(np.arange(1.0, 11.0))
    >>> x, res, it = cg(lambda v: a @ v, np.ones(10), tol=1e-12)
    >>> bool(np.allclose(x, 1 / np.arange(1.0, 11.0)))
    True
    """
    max_iter = check_positive_int(max_iter, "cg", "max_iter")
    xp, b, tol = _krylov_input("cg", matvec, b, "b", tol)
    with _quiet():
        bnorm = float(xp.item(xp.norm(b)))
    _check_vector(bnorm, b, xp, "cg", "b")
    if not norm_in_range(bnorm, b, xp):  # zero, or near the float limits: solve for 2^-e b
        b_unit, e = pow2_scaled(b, xp)
        if e:
            x, res, it = cg(matvec, b_unit, None if x0 is None else times_pow2(x0, -e, xp),
                            tol, max_iter)
            return times_pow2(x, e, xp), res, it
    if bnorm == 0:
        return xp.zeros_like(b), 0.0, 0
    x = xp.zeros_like(b) if x0 is None else _vector_like(xp, x0, b, "cg", "x0")
    r = b - matvec(x) if x0 is not None else b
    p = r
    rr = _dot(xp, r, r)
    it = 0
    with np.errstate(over="ignore"):
        res = math.sqrt(abs(_host(xp, rr))) / bnorm
    if x0 is not None and not math.isfinite(res):
        _check_vector(res, r, xp, "cg", "b - A x0")
    while res > tol and it < max_iter:
        ap = matvec(p) if it else _vector_like(xp, matvec(p), p, "cg", "matvec's result")
        alpha = rr / _dot(xp, p, ap)
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = _dot(xp, r, r)
        p = r + (rr_new / rr) * p
        rr = rr_new
        it += 1
        res = math.sqrt(abs(_host(xp, rr))) / bnorm
        if not math.isfinite(res):
            raise NonFiniteError(f"cg: matvec gave non-finite values at iteration {it} (or "
                                 "the residual overflowed); the operator and its products "
                                 "must be finite")
    if res > tol:
        _stopped_short("cg", res, tol, f"after max_iter={max_iter} iterations")
    return x, res, it


def _stopped_short(where: str, res: float, tol: float, why: str) -> None:
    """The ConvergenceWarning of a Krylov method that ends above its tolerance."""
    warn_not_converged(where, f"residual {res:.3e} > tol = {tol:.3e} {why}; the result is "
                       "the last iterate")


def lanczos_lowest(matvec: Callable, v0: Any, tol: float = 1e-10, krylov_dim: int = 25,
                   max_restarts: int = 20) -> tuple[float, Any, float]:
    """Lowest eigenpair of a Hermitian operator by restarted Lanczos.

    Each cycle builds a Krylov basis of `krylov_dim` vectors from the current
    Ritz vector (full reorthogonalization, the bases are short) and restarts
    from the lowest Ritz vector until the residual ``‖A v - λ v‖`` is below
    ``tol * max(|λ|, min(1, ‖A‖))``, with ``‖A‖`` estimated by the largest Ritz
    value in magnitude: relative to ``λ``, and for an eigenvalue near 0 relative to
    the operator's scale where that is below 1 (absolute otherwise). A start vector of
    any finite size, and operators of any scale, are handled alike.

    Returns
    -------
    value : float
    vector : array of `v0`'s shape (unit norm)
    residual : float

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib.linalg.krylov import lanczos_lowest
    >>> a = np.diag(np.arange(1.0, 51.0))
    >>> w, v, res = lanczos_lowest(lambda x: a @ x, np.ones(50))
    >>> round(w, 10)
    1.0
    """
    krylov_dim = check_positive_int(krylov_dim, "lanczos_lowest", "krylov_dim")
    max_restarts = check_positive_int(max_restarts, "lanczos_lowest", "max_restarts")
    _, v0, tol = _krylov_input("lanczos_lowest", matvec, v0, "v0", tol)
    value, v, res, _ = lanczos_run(matvec, v0, tol, krylov_dim, max_restarts, warn=True)
    return value, v, res


def lanczos_run(matvec: Callable, v0: Any, tol: float, krylov_dim: int, max_restarts: int,
                explicit: bool = True, ahead: int | None = None, warn: bool = False
                ) -> tuple[float, Any, float, int]:
    """:func:`lanczos_lowest`, and the number of Krylov steps of its last cycle (internal:
    for the TT solvers, which solve a sequence of similar local problems).

    ``explicit=False``: the residual is the Ritz estimate ``β_j |s_j|`` of the last
    step, which the full reorthogonalization keeps exact to rounding, instead of
    ``‖A v - λ v‖`` from one more application of the operator (on an accelerator, its
    launches and one read per call), and the Ritz vector, a unit combination of the
    orthonormal basis, is not normalized again (its norm is 1 to rounding). `ahead`: on an
    accelerator, the first run of steps between reads (the previous problem's step count),
    then runs of 2, 4, 8, 16 (default: 4, 8, 16)."""
    xp = backend_of(v0)
    krylov_dim = max(1, min(int(krylov_dim), xp.size(v0)))  # no larger than the space
    with _quiet():  # read with the first steps' coefficients, checked then
        start_norm = xp.norm(v0)
    value, res, j, v = float("nan"), float("inf"), 0, None
    device = _read_block(xp, v0) > 1  # runs of steps between reads
    for _ in range(max_restarts):
        if v is None:  # v0 / ‖v0‖, divided into the first row
            with _quiet():
                basis = _start_basis(xp, v0, start_norm, krylov_dim)
        else:  # the last cycle's Ritz vector
            basis = xp.index_update(xp.zeros((krylov_dim,) + tuple(xp.shape(v0)),
                                             dtype=xp.dtype(v0), device=xp.device(v0)), 0, v,
                                     reuse=True)
        t = np.zeros((krylov_dim, krylov_dim))  # the tridiagonal projection, filled in place
        block, j, done, scale, b = _read_block(xp, v0), 0, False, 0.0, 0.0
        hinted = device and ahead is not None
        if hinted:  # the last problem's count; if short, the rest is likely a few steps
            block, ahead = max(1, min(int(ahead), _RUN_AHEAD)), None
        while not done:
            with _quiet(start_norm is not None):  # a start beyond the range is redone
                basis, rows, nrm0 = _arnoldi_run(xp, matvec, basis, j,
                                                 min(j + block, krylov_dim), "lanczos_lowest",
                                                 start_norm)
            if start_norm is not None:
                _check_vector(nrm0, v0, xp, "lanczos_lowest", "v0", nonzero=True)
                if not norm_in_range(nrm0, v0, xp):  # v0 / ‖v0‖ lost digits: start again
                    v0_unit, _ = pow2_scaled(v0, xp)
                    return lanczos_run(matvec, v0_unit, tol, krylov_dim, max_restarts,
                                       explicit, ahead, warn)
                start_norm = None
            block = 2 if hinted else _grow(max(block, 2)) if device else 1
            hinted = False
            for row in rows:
                scale = _op_scale(scale, row, j)
                t[j, j] = float(np.real(row[j]))
                b = _new_norm(row, "lanczos_lowest", j)
                if b <= 1e-14 * scale or j == krylov_dim - 1:
                    done = True
                    break
                # Ritz residual for free: |b * last component of the lowest eigenvector of T|
                th, sv = np.linalg.eigh(t[: j + 1, : j + 1])
                if b * abs(sv[-1, 0]) <= 0.5 * tol * _eig_scale(th):
                    done = True
                    break
                t[j, j + 1] = t[j + 1, j] = b
                j += 1
        evals, evecs = np.linalg.eigh(t[: j + 1, : j + 1])
        value = float(evals[0])
        full = np.zeros(krylov_dim)
        full[: j + 1] = evecs[:, 0]
        v = _combination(xp, full, basis, j + 1)
        if explicit:
            v = _unit(xp, v)
            r = matvec(v) - value * v
            res = float(xp.item(xp.norm(r)))
        else:
            res = b * abs(float(evecs[-1, 0]))
        if res <= tol * _eig_scale(evals):
            break
    else:
        if warn and max_restarts > 0:
            _stopped_short("lanczos_lowest", res, tol * _eig_scale(evals), f"after "
                           f"max_restarts={max_restarts} cycles of {krylov_dim} vectors "
                           "(tol times max(|λ|, min(1, ‖A‖)))")
    if v is None:  # no cycle was run
        v = _unit(xp, v0)
    return value, v, res, j + 1


def _eig_scale(ritz: np.ndarray) -> float:
    """What a Ritz residual is measured against: ``max(|λ_min|, min(1, ‖A‖))`` from the
    ascending Ritz values (``‖A‖`` estimated by the largest of them in magnitude)."""
    return max(abs(ritz[0]), min(1.0, max(abs(ritz[0]), abs(ritz[-1]))))


def expm_krylov(matvec: Callable, v: Any, t: complex, krylov_dim: int = 30,
                tol: float = 1e-12) -> Any:
    """``exp(t A) v`` by Arnoldi: ``‖v‖ V_m exp(t H_m) e_1``, sub-stepping if needed.

    The Krylov dimension grows until the a-posteriori estimate
    ``|t h_{m+1,m} [exp(t H_m)]_{m,1}|`` is below ``tol`` (tested after 4, 6, 8, 10,
    12, 15, ... steps); if `krylov_dim` vectors are not enough the time step is split.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.linalg import expm
    >>> from tnlib.linalg.krylov import expm_krylov
    >>> a = np.random.default_rng(0).standard_normal((20, 20))
    >>> v = np.ones(20)
    >>> bool(np.allclose(expm_krylov(lambda x: a @ x, v, 0.3), expm(0.3 * a) @ v))
    True
    """
    krylov_dim = check_positive_int(krylov_dim, "expm_krylov", "krylov_dim")
    _, v, tol = _krylov_input("expm_krylov", matvec, v, "v", tol)
    if isinstance(t, bool) or not isinstance(t, numbers.Number) or not cmath.isfinite(t):
        raise ArgumentError(f"expm_krylov: t must be a finite real or complex number, got "
                            f"{t!r}")
    out, _, short = expm_run(matvec, v, t, krylov_dim, tol)
    if short:
        warn_not_converged("expm_krylov", f"{krylov_dim} Krylov vectors (krylov_dim) do not "
                           f"meet tol = {tol:g} even for {MAX_SUBSTEPS} sub-steps of t = "
                           f"{_number(complex(t))}; the result's error may exceed it")
    return out


def expm_run(matvec: Callable, v: Any, t: complex, krylov_dim: int, tol: float,
             ahead: int | None = None) -> tuple[Any, int, bool]:
    """:func:`expm_krylov`, the Krylov dimension its last step took, and whether the
    finest split was accepted above `tol` (the caller warns; internal: for TDVP, which
    takes a sequence of similar local steps and warns once). `ahead`: on an accelerator,
    the first run of steps goes to the first checkpoint at or past it (the last similar
    step's dimension); the checkpoints it passes are tested from the rows read, so the
    result is the same."""
    xp = backend_of(v)
    krylov_dim = max(1, min(int(krylov_dim), xp.size(v)))  # no larger than the space
    total = complex(t)
    steps = 1
    while True:
        last = steps >= MAX_SUBSTEPS
        out, ok, dim, short = _expm_krylov_steps(matvec, v, total, steps, krylov_dim, tol, xp,
                                                 ahead, last)
        if ok:
            return out, dim, short
        steps *= 2


#: the finest split of a step in :func:`expm_krylov` (its estimate is then accepted, with a
#: warning); :func:`tnlib.tt.tdvp` names it in its own warning
MAX_SUBSTEPS = 1024


def _expm_checkpoint(j: int, m: int) -> int:
    """The next step count at which :func:`_expm_arnoldi` tests its error estimate: 4, 6,
    8, 10, 12, 15, 18, 22, 27, ... (a quarter more each time), capped at `m`."""
    return min(m, 4 if j < 4 else j + max(2, j // 4))


def _expm_arnoldi(xp: Any, matvec: Callable, basis: Any, h: np.ndarray, dt: complex, m: int,
                  tol: float, ahead: int | None = None, start: Any = None
                  ) -> tuple[Any, int, np.ndarray | None, float | None, bool]:
    """Arnoldi steps for ``exp(dt A) v`` until the a-posteriori estimate
    ``|dt h_{k+1,k} [exp(dt H_k)]_{k,1}|`` is below `tol` (tested at the checkpoints of
    :func:`_expm_checkpoint`, each an exponential of a small matrix on the host), an
    invariant subspace is found, or `m` steps are taken; `h` is filled in place. Returns
    the basis, the dimension ``k``, the first column of ``exp(dt H_k)``, the value of
    `start` (the start vector's norm, a 0-d array read with the first steps'
    coefficients; None if not given) and whether `tol` was met. If that norm is zero or
    near the float limits the steps are not used (k = 0, None). On an accelerator the
    steps up to each checkpoint run between reads (the first run to `ahead`'s checkpoint
    where given); the checkpoints are the same on the host, so are the results. A
    product that is not finite is a :class:`NonFiniteError`."""
    device = _read_block(xp, basis) > 1
    j, scale, check = 0, 0.0, _expm_checkpoint(0, m)
    first = check
    while device and ahead is not None and first < min(ahead, m):
        first = _expm_checkpoint(first, m)
    beta = None
    while j < m:
        stop = j + 1 if not device else first if j == 0 else check
        with _quiet(start is not None):  # a start beyond the range is redone
            basis, rows, value = _arnoldi_run(xp, matvec, basis, j, stop, "expm_krylov",
                                              start)
        if start is not None:
            beta, start = value, None
            if not norm_in_range(beta, basis, xp):
                return basis, 0, None, beta, False
        for row in rows:
            scale = _op_scale(scale, row, j)
            hn = _new_norm(row, "expm_krylov", j)
            h[: j + 1, j] = row[: j + 1]
            h[j + 1, j] = hn
            j += 1
            if hn <= 1e-13 * scale:  # invariant subspace: the result is exact (if finite)
                e, _ = _small_expm(dt, h[:j, :j], 0.0)
                return basis, j, e, beta, bool(np.isfinite(e).all())
            if j == check:
                # the leading error term, with exp for phi_1: about k times over it
                e, estimate = _small_expm(dt, h[:j, :j], hn)
                if estimate <= tol:  # (False for NaN)
                    return basis, j, e, beta, True
                if j == m:
                    return basis, j, e, beta, False
                check = _expm_checkpoint(j, m)
    return basis, j, None, beta, False  # pragma: no cover - the last checkpoint is m


def _small_expm(dt: complex, h: np.ndarray, hn: float) -> tuple[np.ndarray, float]:
    """The first column ``e`` of ``exp(dt h)`` for the small Hessenberg matrix `h`, and the
    error estimate ``|dt hn e[-1]|`` (on the host; NaN or inf where ``dt h`` or its
    exponential leave the range, without warnings: the caller splits the step or reports
    it)."""
    with np.errstate(all="ignore"):
        e = _HOST.expm(dt * h)[:, 0]
        return e, abs(dt * hn * e[-1])


def _number(t: complex) -> str:
    """`t` for a message: real if it is."""
    return f"{t.real:g}" if t.imag == 0 else f"{t:g}"


def _start_basis(xp: Any, v: Any, nrm: Any, m: int) -> Any:
    """An ``(m,) + v.shape`` Krylov basis holding ``v / nrm`` in its first row (`nrm` a
    number or a 0-d array; the division written into the row)."""
    if not isinstance(nrm, float):
        nrm = xp.astype(nrm, xp.dtype(v)) if xp.is_complex(v) else nrm
    return xp.index_update(xp.zeros((m,) + tuple(xp.shape(v)), dtype=xp.dtype(v),
                                    device=xp.device(v)), 0, v, reuse=True, divisor=nrm)


def _expm_krylov_steps(matvec: Callable, v: Any, t: complex, steps: int, m: int, tol: float,
                       xp: Any, ahead: int | None = None, last: bool = False
                       ) -> tuple[Any, bool, int, bool]:
    """`steps` sub-steps of ``t / steps``: the result, whether every sub-step met `tol`
    (if one does not, the rest are not taken, unless this is the `last` split: then its
    estimate is accepted), the last Krylov dimension, and whether an estimate above `tol`
    was accepted."""
    dt = t / steps
    cplx = xp.is_complex(v)
    if not cplx and dt.imag != 0:
        raise ArgumentError("expm_krylov: a complex time step needs a complex vector")
    exponent = 0  # the result is v 2^exponent: a vector near the float limits is scaled
    k, size, short = 0, 0.0, False
    device = _read_block(xp, v) > 1
    for step in range(steps):
        h = np.zeros((m + 1, m), dtype=np.complex128)
        run = not device  # the steps still to be run from the (scaled) start
        if device:  # the start's norm is read with the first steps' coefficients
            with _quiet():
                nrm = xp.norm(v)
                basis = _start_basis(xp, v, nrm, m)
            basis, k, e, beta, met = _expm_arnoldi(xp, matvec, basis, h, dt, m, tol, ahead, nrm)
        else:  # reads are free: the norm first
            with _quiet():
                beta = float(xp.item(xp.norm(v)))
        if not norm_in_range(beta, v, xp):  # zero, or near the float limits: scaled
            v, shift = pow2_scaled(v, xp)
            exponent += shift
            beta = float(xp.item(xp.norm(v)))
            if beta == 0:
                break
            if not math.isfinite(beta):
                if step == 0:
                    _check_vector(beta, v, xp, "expm_krylov", "v")
                raise NonFiniteError(f"expm_krylov: exp(t A) v overflows after {step} of "
                                     f"{steps} sub-steps of t = {_number(t)}")
            run = True
        if run:
            basis, k, e, _, met = _expm_arnoldi(xp, matvec, _start_basis(xp, v, beta, m), h,
                                                dt, m, tol, ahead)
        if not met and not (last and e is not None and np.isfinite(e).all()):
            if last:
                raise NonFiniteError(f"expm_krylov: exp(t A) v is not finite for t = "
                                     f"{_number(t)}: exp(dt H) of the Krylov matrix overflows "
                                     f"even for {steps} sub-steps")
            return v, False, k, False  # split the step
        short = short or not met
        ahead = k  # the next sub-step is alike
        full = np.zeros(m, dtype=np.complex128)
        full[:k] = beta * e
        with np.errstate(over="ignore"):  # the new vector's norm (orthonormal basis)
            size = float(np.linalg.norm(full))
        if size == math.inf:  # the squares overflowed
            size = math.hypot(*np.abs(full[:k]))
        if not norm_in_range(size, v, xp):  # its scale goes to the exponent: exact
            shift = math.frexp(size)[1]
            full, size, exponent = (full * math.ldexp(1.0, -shift),
                                    math.ldexp(size, -shift), exponent + shift)
        v = _combination(xp, full, basis, k)
    if size > 0 and math.log2(size) + exponent >= maxexp(v, xp):
        raise NonFiniteError(f"expm_krylov: exp(t A) v overflows for t = {_number(t)}: its "
                             f"norm is about 2^{math.log2(size) + exponent:.0f}")
    return times_pow2(v, exponent, xp), True, k, short
