"""Matrix-free Krylov methods on the backend contract: GMRES, CG, Lanczos, Krylov expm.

They act on arrays of any backend and shape (each array one vector) through a
``matvec`` callable that keeps the shape, so the local problems of the TT solvers
run where their data live (GPU included), in the layout their operators use.
The small projected matrices (Hessenberg, tridiagonal) are handled on the host:
they are a few dozen numbers, and their factorizations decide control flow.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._info import grouped
from .._validation import norm_in_range, pow2_scaled, times_pow2
from ..backends import backend_of
from ..errors import ArgumentError, ShapeError

__all__ = ["cg", "expm_krylov", "gmres", "lanczos_lowest"]


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


def _check_start(nrm: float, v0: Any, xp: Any) -> None:
    """A zero or non-finite start vector is an ArgumentError (`nrm` is its computed norm)."""
    if nrm == 0 or not math.isfinite(nrm):
        peak = float(xp.item(xp.max(xp.abs(v0))))
        if peak == 0 or not math.isfinite(peak):
            raise ArgumentError(f"lanczos_lowest: v0 must be a nonzero finite vector, got "
                                f"one of largest magnitude {peak}")


def _unit(xp: Any, v: Any) -> Any:
    """`v` divided by its norm (in `v`'s dtype: frameworks do not mix complex and real)."""
    return v / xp.astype(xp.norm(v), xp.dtype(v))


def _combination(xp: Any, coef: np.ndarray, basis: Any) -> Any:
    """``sum_i coef[i] basis[i]`` for host coefficients (complex ones cast to the basis'
    dtype, real to real), as a vector of the basis rows' shape."""
    c = coef if xp.is_complex(basis) else np.real(coef)
    return xp.tensordot(xp.asarray(c, dtype=xp.dtype(basis), device=xp.device(basis)), basis,
                        axes=1)


def _same_shape(xp: Any, got: Any, like: Any, where: str, what: str) -> Any:
    """`got` unchanged if it has `like`'s shape, else a ShapeError naming `what`."""
    if tuple(xp.shape(got)) != tuple(xp.shape(like)):
        raise ShapeError(f"{where}: {what} has shape {tuple(xp.shape(got))}, expected "
                         f"{tuple(xp.shape(like))} (the vector's shape)")
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
            _same_shape(xp, w, v, where, "matvec's result")
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


def gmres(matvec: Callable, b: Any, x0: Any = None, tol: float = 1e-8, restart: int = 30,
          max_iter: int = 300) -> tuple[Any, float, int]:
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
    xp = backend_of(b)
    x = xp.zeros_like(b) if x0 is None else _same_shape(xp, x0, b, "gmres", "x0")
    r = b - matvec(x) if x0 is not None else b
    with _quiet():
        bnorm, beta = (float(v) for v in xp.to_numpy(xp.stack([xp.norm(b), xp.norm(r)])))
    if not norm_in_range(bnorm, b, xp):  # zero, or near the float limits: solve for 2^-e b
        b_unit, e = pow2_scaled(b, xp)
        if e:
            x, res, iters = gmres(matvec, b_unit, None if x0 is None else
                                  times_pow2(x0, -e, xp), tol, restart, max_iter)
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
                coeffs, hn = row[: j + 1], float(abs(row[-1]))
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
        x = x + _combination(xp, y, basis)
        r = b - matvec(x)
        beta = float(xp.item(xp.norm(r)))
        if breakdown and beta / bnorm > tol:
            break
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
    xp = backend_of(b)
    with _quiet():
        bnorm = float(xp.item(xp.norm(b)))
    if not norm_in_range(bnorm, b, xp):  # zero, or near the float limits: solve for 2^-e b
        b_unit, e = pow2_scaled(b, xp)
        if e:
            x, res, it = cg(matvec, b_unit, None if x0 is None else times_pow2(x0, -e, xp),
                            tol, max_iter)
            return times_pow2(x, e, xp), res, it
    if bnorm == 0:
        return xp.zeros_like(b), 0.0, 0
    x = xp.zeros_like(b) if x0 is None else _same_shape(xp, x0, b, "cg", "x0")
    r = b - matvec(x) if x0 is not None else b
    p = r
    rr = _dot(xp, r, r)
    it = 0
    res = math.sqrt(abs(_host(xp, rr))) / bnorm
    while res > tol and it < max_iter:
        ap = matvec(p) if it else _same_shape(xp, matvec(p), p, "cg", "matvec's result")
        alpha = rr / _dot(xp, p, ap)
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = _dot(xp, r, r)
        p = r + (rr_new / rr) * p
        rr = rr_new
        it += 1
        res = math.sqrt(abs(_host(xp, rr))) / bnorm
    return x, res, it


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
    value, v, res, _ = lanczos_run(matvec, v0, tol, krylov_dim, max_restarts)
    return value, v, res


def lanczos_run(matvec: Callable, v0: Any, tol: float, krylov_dim: int, max_restarts: int,
                explicit: bool = True, ahead: int | None = None
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
        v = v0 / xp.astype(start_norm, xp.dtype(v0))
    value, res, j = float("nan"), float("inf"), 0
    device = _read_block(xp, v0) > 1  # runs of steps between reads
    for _ in range(max_restarts):
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
                _check_start(nrm0, v0, xp)
                if not norm_in_range(nrm0, v0, xp):  # v0 / ‖v0‖ lost digits: start again
                    v0_unit, _ = pow2_scaled(v0, xp)
                    return lanczos_run(matvec, v0_unit, tol, krylov_dim, max_restarts,
                                       explicit, ahead)
                start_norm = None
            block = 2 if hinted else _grow(max(block, 2)) if device else 1
            hinted = False
            for row in rows:
                scale = _op_scale(scale, row, j)
                t[j, j] = float(np.real(row[j]))
                b = float(abs(row[-1]))
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
        v = _combination(xp, full, basis)
        if explicit:
            v = _unit(xp, v)
            r = matvec(v) - value * v
            res = float(xp.item(xp.norm(r)))
        else:
            res = b * abs(float(evecs[-1, 0]))
        if res <= tol * _eig_scale(evals):
            break
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
    return expm_run(matvec, v, t, krylov_dim, tol)[0]


def expm_run(matvec: Callable, v: Any, t: complex, krylov_dim: int, tol: float,
             ahead: int | None = None) -> tuple[Any, int]:
    """:func:`expm_krylov`, and the Krylov dimension its last step took (internal: for
    TDVP, which takes a sequence of similar local steps). `ahead`: on an accelerator, the
    first run of steps goes to the first checkpoint at or past it (the last similar step's
    dimension); the checkpoints it passes are tested from the rows read, so the result
    is the same."""
    xp = backend_of(v)
    krylov_dim = max(1, min(int(krylov_dim), xp.size(v)))  # no larger than the space
    total = complex(t)
    steps = 1
    while True:
        out, ok, dim = _expm_krylov_steps(matvec, v, total, steps, krylov_dim, tol, xp, ahead)
        if ok or steps > 1024:
            return out, dim
        steps *= 2


def _expm_checkpoint(j: int, m: int) -> int:
    """The next step count at which :func:`_expm_arnoldi` tests its error estimate: 4, 6,
    8, 10, 12, 15, 18, 22, 27, ... (a quarter more each time), capped at `m`."""
    return min(m, 4 if j < 4 else j + max(2, j // 4))


def _expm_arnoldi(xp: Any, matvec: Callable, basis: Any, h: np.ndarray, dt: complex, m: int,
                  tol: float, ahead: int | None = None, start: Any = None
                  ) -> tuple[Any, int, np.ndarray | None, float | None]:
    """Arnoldi steps for ``exp(dt A) v`` until the a-posteriori estimate
    ``|dt h_{k+1,k} [exp(dt H_k)]_{k,1}|`` is below `tol` (tested at the checkpoints of
    :func:`_expm_checkpoint`, each an exponential of a small matrix on the host), an
    invariant subspace is found, or `m` steps are taken; `h` is filled in place. Returns
    the basis, the dimension ``k`` and the first column of ``exp(dt H_k)``, or None for
    that if `m` steps do not meet `tol`, and the value of `start` (the start vector's norm,
    a 0-d array read with the first steps' coefficients; None if not given). If that is
    zero or near the float limits the steps are not used (k = 0, None). On an accelerator
    the steps up to each checkpoint run between reads (the first run to `ahead`'s
    checkpoint where given); the checkpoints are the same on the host, so are the
    results."""
    from ..backends import get

    host = get("numpy")
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
                return basis, 0, None, beta
        for row in rows:
            scale = _op_scale(scale, row, j)
            hn = float(abs(row[-1]))
            h[: j + 1, j] = row[: j + 1]
            h[j + 1, j] = hn
            j += 1
            if hn <= 1e-13 * scale:  # invariant subspace: the result is exact
                return basis, j, host.expm(dt * h[:j, :j])[:, 0], beta
            if j == check:
                e = host.expm(dt * h[:j, :j])[:, 0]
                # the leading error term, with exp for phi_1: about k times over it
                if abs(dt * hn * e[j - 1]) <= tol:
                    return basis, j, e, beta
                if j == m:
                    return basis, j, None, beta
                check = _expm_checkpoint(j, m)
    return basis, j, None, beta  # pragma: no cover - the last checkpoint is m


def _start_basis(xp: Any, v: Any, nrm: Any, m: int) -> Any:
    """An ``(m,) + v.shape`` Krylov basis holding ``v / nrm`` in its first row (`nrm` a
    number or a 0-d array; the division written into the row)."""
    if not isinstance(nrm, float):
        nrm = xp.astype(nrm, xp.dtype(v)) if xp.is_complex(v) else nrm
    return xp.index_update(xp.zeros((m,) + tuple(xp.shape(v)), dtype=xp.dtype(v),
                                    device=xp.device(v)), 0, v, reuse=True, divisor=nrm)


def _expm_krylov_steps(matvec: Callable, v: Any, t: complex, steps: int, m: int, tol: float,
                       xp: Any, ahead: int | None = None) -> tuple[Any, bool, int]:
    dt = t / steps
    cplx = xp.is_complex(v)
    if not cplx and dt.imag != 0:
        raise ArgumentError("expm_krylov: a complex time step needs a complex vector")
    exponent = 0  # the result is v 2^exponent: a vector near the float limits is scaled
    k = 0
    device = _read_block(xp, v) > 1
    for _ in range(steps):
        h = np.zeros((m + 1, m), dtype=np.complex128)
        run = not device  # the steps still to be run from the (scaled) start
        if device:  # the start's norm is read with the first steps' coefficients
            with _quiet():
                nrm = xp.norm(v)
                basis = _start_basis(xp, v, nrm, m)
            basis, k, e, beta = _expm_arnoldi(xp, matvec, basis, h, dt, m, tol, ahead, nrm)
        else:  # reads are free: the norm first
            with _quiet():
                beta = float(xp.item(xp.norm(v)))
        if not norm_in_range(beta, v, xp):  # zero, or near the float limits: scaled
            v, e = pow2_scaled(v, xp)
            if e:
                exponent += e
            beta = float(xp.item(xp.norm(v)))
            if beta == 0:
                break
            run = True
        if run:
            basis, k, e, _ = _expm_arnoldi(xp, matvec, _start_basis(xp, v, beta, m), h, dt,
                                           m, tol, ahead)
        if e is None:  # m steps were not enough: split the step
            return v, False, k
        ahead = k  # the next sub-step is alike
        full = np.zeros(m, dtype=np.complex128)
        full[:k] = beta * e
        v = _combination(xp, full, basis)
    return times_pow2(v, exponent, xp), True, k
