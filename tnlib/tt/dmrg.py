"""Two-site DMRG for the lowest eigenpair of a symmetric (Hermitian) TTMatrix."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._info import IterationInfo, Timer, warn_not_converged
from .._progress import Reporter
from .._validation import (
    DefaultTol,
    as_sequence,
    check_count,
    check_eps,
    check_finite_cores,
    check_positive_int,
    honour_eps,
    safe_exponent,
    seed_of,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, NonFiniteError, ShapeError
from ..linalg.krylov import lanczos_run
from . import _env as env
from ._deflate import Deflation
from ._scale import balanced, not_finite
from .matrix import TTMatrix
from .tensor import TTTensor

__all__ = ["DmrgInfo", "dmrg_eig", "dmrg_eigs"]


@dataclass
class DmrgInfo(IterationInfo):
    """:class:`~tnlib._info.IterationInfo` of :func:`dmrg_eig`.

    ``errors`` holds the change of the eigenvalue over each sweep.

    Attributes
    ----------
    energies : list of float
        Eigenvalue after each sweep.
    ranks : list of tuple
        TT-ranks after each sweep.
    max_discarded : list of float
        Largest relative discarded weight per sweep.
    """

    energies: list[float] = field(default_factory=list)
    ranks: list[tuple] = field(default_factory=list)
    max_discarded: list[float] = field(default_factory=list)


def check_hermitian(h: TTMatrix, where: str, tol: float | None = None) -> None:
    """Raise unless ``H = H^H`` to relative accuracy `tol` (default: 100 unit roundoffs
    of the dtype, at least 1e-10), checked by one orthogonal sweep."""
    xp = h.backend
    if tol is None:
        tol = max(1e-10, 100 * xp.finfo_eps(h.cores[0]))
    diff = (h - h.H).as_tt().orthogonalize("left").cores[-1]
    ref = h.as_tt().orthogonalize("left").cores[-1]
    rel = float(xp.item(xp.norm(diff))) / max(float(xp.item(xp.norm(ref))), 1e-300)
    if rel > tol:
        raise ArgumentError(f"{where}: H must be symmetric (Hermitian); ‖H - H^H‖ / ‖H‖ = "
                            f"{rel:.2e}")


@host_eager
def dmrg_eig(H: TTMatrix, x0: TTTensor | None = None, max_rank: int | None = None,
             eps: float = DefaultTol(1e-8), max_sweeps: int = 20, return_info: bool = False,
             tol: float | None = None, krylov_dim: int = 20, check_symmetry: bool = True,
             callback: Callable | None = None, verbose: bool = False, seed: Any = 0,
             progress: bool = False, orthogonal_to: Sequence[TTTensor] | None = None) -> Any:
    """Lowest eigenpair ``(value, x)`` of a symmetric TTMatrix by two-site DMRG.

    Each step merges two neighbouring cores, finds the lowest eigenvector of
    the projected operator by restarted Lanczos (matrix-free, on the backend,
    warm-started from the current cores) and splits it back by a truncated
    SVD that discards at most a relative weight ``eps^2`` (and keeps at most
    `max_rank`). Sweeps alternate direction until the eigenvalue changes by
    less than `tol` (relative). The local eigensolves are loose while the eigenvalue
    still moves (their residual tracks the square root of the last sweep's change) and
    tight by the end, and a change counts only once they are tight enough to see it.

    Parameters
    ----------
    H : TTMatrix
        Square and symmetric (Hermitian for complex dtypes).
    x0 : TTTensor, optional
        Starting vector (default: random, rank ``min(4, max_rank)``).
    max_rank : int, optional
        Bond dimension bound.
    eps : float, optional
        Truncation: discarded weight per bond at most ``eps^2`` of the total.
    max_sweeps : int, optional
    return_info : bool, optional
    tol : float, optional
        Relative eigenvalue change to stop at (default ``eps``). Below the resolution of
        the working dtype (4 unit roundoffs) it is raised to it, with a
        :class:`~tnlib.PrecisionWarning`; so is `eps`.
    krylov_dim : int, optional
        Lanczos basis size per restart.
    check_symmetry : bool, optional
        Verify ``H = H^H`` first.
    callback : callable, optional
        ``callback(info)`` after every sweep.
    verbose : bool, optional
        One line per sweep: eigenvalue, its change, max rank, discarded weight, seconds.
    seed : optional
        For the random start.
    progress : bool, optional
        A progress bar over the sweeps (needs tqdm).
    orthogonal_to : sequence of TTTensor, optional
        States the eigenvector must be orthogonal to: the lowest eigenpair of `H` on
        their orthogonal complement, an excited state when they are the lower
        eigenvectors (each local eigenproblem is solved on the complement of the
        states' local projections, which keeps the train orthogonal to them up to
        truncation). :func:`dmrg_eigs` finds several lowest eigenpairs this way.

    Returns
    -------
    value : 0-d real array
    x : TTTensor
        Unit norm, right-orthogonal.
    info : DmrgInfo, if `return_info`

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> h = tt.laplacian(5, 3)
    >>> value, x = tt.dmrg_eig(h, max_rank=8)
    >>> round(float(value), 6) == round(float(np.linalg.eigvalsh(h.full())[0]), 6)
    True
    """
    if not isinstance(H, TTMatrix):
        raise ArgumentError(f"dmrg_eig: H must be a TTMatrix, got {type(H).__name__}")
    if H.row_shape != H.col_shape:
        raise ShapeError(f"dmrg_eig: H must be square, got row_shape {H.row_shape} and "
                         f"col_shape {H.col_shape}")
    eps = check_eps(eps, "dmrg_eig", ranks="max_rank")
    max_sweeps = check_positive_int(max_sweeps, "dmrg_eig", "max_sweeps")
    cap = None if max_rank is None else check_positive_int(max_rank, "dmrg_eig", "max_rank")
    tol = None if tol is None else check_eps(tol, "dmrg_eig", "tol")
    krylov_dim = check_count(krylov_dim, "dmrg_eig", "krylov_dim", 2, 1000)
    xp = H.backend
    # H = 2^h_exp * ops: an operator near the float limits is solved at unit scale
    ops, h_exp = balanced(list(H.cores), xp, limit=safe_exponent(H.cores[0], xp))
    if h_exp > 1023:  # its eigenvalues are beyond the float range (or near it)
        raise ArgumentError(f"dmrg_eig: H's scale (2^{h_exp}) is beyond the float range; "
                            "scale H down")
    if check_symmetry:  # on the balanced cores: norms of H itself could overflow
        check_hermitian(TTMatrix._from_cores(ops, xp) if h_exp else H, "dmrg_eig")
    d = H.ndim
    shape = H.row_shape
    seed = seed_of(seed, "dmrg_eig")
    from .construct import random

    if x0 is None:
        x0 = random(shape, min(4, cap or 4), seed=seed, dtype=H.dtype, device=H.device,
                    backend=xp)
    elif not isinstance(x0, TTTensor):
        raise ArgumentError(f"dmrg_eig: x0 must be a TTTensor, got {type(x0).__name__}")
    elif x0.shape != shape:
        raise ShapeError(f"dmrg_eig: x0 has shape {x0.shape}, expected {shape}")
    else:
        backend_of(H, x0)  # one framework
        want = xp.result_dtype(H.cores[0], x0.cores[0])
        if xp.dtype_name(want) != xp.dtype_name(x0.cores[0]):  # a float32 start, float64 H
            x0 = TTTensor._from_cores([xp.astype(c, want) for c in x0.cores], xp)
    for name, t in (("H", H), ("x0", x0)):
        check_finite_cores(t, "dmrg_eig", name)
    states = _states(orthogonal_to, x0, xp)
    # what the working dtype (x0's, promoted) resolves: a warning and its floor, not
    # ranks of rounding noise or sweeps to max_sweeps
    eps = honour_eps(eps, xp, x0.cores[0], "dmrg_eig")
    tol = eps if tol is None else honour_eps(tol, xp, x0.cores[0], "dmrg_eig", name="tol")
    if d == 1:
        w, v = _dense_lowest(H, states, xp)
        x = TTTensor._from_cores([xp.reshape(v, (1, -1, 1))], xp)
        info = DmrgInfo(iterations=1, converged=True, stop_reason="dense eigh (d = 1)")
        return (w, x, info) if return_info else (w, x)
    info = DmrgInfo()
    timer = Timer()
    report = Reporter("dmrg_eig", max_sweeps, verbose, progress, callback)
    cores, _ = env.right_orthogonalize_scaled(xp, list(x0.cores))  # x0's scale: irrelevant
    # in the cores' dtype: TensorFlow refuses complex / real
    cores[0] = cores[0] / xp.astype(xp.norm(cores[0]), xp.dtype(cores[0]))
    opts = [env.op_layout(xp, c) for c in ops]  # the operator's layouts, once per call
    one = env.ones_env(xp, xp.dtype(cores[0]), xp.device(cores[0]))
    right = [None] * (d + 1)
    right[d] = one
    for k in range(d - 1, 0, -1):
        right[k] = env.right3(xp, right[k + 1], cores[k], ops[k], cores[k], opts[k])
    left = [one] + [None] * d
    deflate = Deflation(xp, states, cores, "dmrg_eig") if states else None
    value = float("nan")
    previous = None
    fused = [env.two_site_operator(xp, ops[k], ops[k + 1]) for k in range(d - 1)]
    final_tol = min(1e-6, max(1e-3 * math.sqrt(tol), 1e-12))
    change = float("inf")
    gram = [True] * (d - 1)  # per bond: split by the Gram matrix (env.split)
    steps = None  # Krylov steps of the last local problem
    for sweep in range(1, max_sweeps + 1):
        # the energy error is quadratic in the eigenvector residual: local residuals of
        # 1e-3 sqrt(tol) suffice at the end, and while the energy still moves by `change`
        # per sweep, 1e-4 sqrt(change) (their error ~1e-8 change) -- early sweeps, where
        # the ranks grow, solve loosely, the last ones as tightly as before
        local_tol = min(1e-4, max(final_tol, 1e-4 * math.sqrt(change)))
        discarded = 0.0
        for forward in (True, False):
            order = range(d - 1) if forward else range(d - 2, -1, -1)
            for k in order:
                w = xp.einsum("anb,bmc->anmc", cores[k], cores[k + 1])
                shape2 = xp.shape(w)

                # flat vectors: one Krylov program per length where operations compile
                apply = env.two_site(xp, left[k], fused[k], right[k + 2], shape2)
                start, shift = xp.reshape(w, (-1,)), 0.0
                if deflate is not None:  # on the complement of the states' projections
                    apply, start, shift = deflate.local(k, apply, start)
                if apply is None:  # the states fill this local space: the vector stays
                    value, vec = shift, start
                else:
                    # the Ritz estimate as the residual (the basis is fully
                    # reorthogonalized); on an accelerator the first run of steps is the
                    # last problem's count
                    try:
                        value, vec, _, steps = lanczos_run(apply, start, local_tol,
                                                           krylov_dim, 4, explicit=False,
                                                           ahead=steps)
                    except NonFiniteError as err:  # finite, balanced input: overflow
                        raise not_finite("dmrg_eig", f"eigenproblem of sites {k} and "
                                                     f"{k + 1}", sweep) from err
                    value += shift
                r0, n0, n1, r1 = shape2
                mat = xp.reshape(vec, (r0 * n0, n1 * r1))
                part = env.split(xp, mat, eps, cap, "left" if forward else "right",
                                 gram[k])
                gram[k] = part.gram_ok
                discarded = max(discarded, part.lost)
                # the truncated vector, renormalized
                kept = part.norm * math.sqrt(part.kept)
                other = part.other * (1.0 / kept if kept > 0 else 1.0)
                rk = xp.shape(other)[0 if forward else 1]
                if forward:
                    cores[k] = xp.reshape(part.ortho, (r0, n0, rk))
                    cores[k + 1] = xp.reshape(other, (rk, n1, r1))
                    left[k + 1] = env.left3(xp, left[k], cores[k], ops[k], cores[k], opts[k])
                    if deflate is not None:
                        deflate.moved_right(k, cores[k])
                else:
                    cores[k + 1] = xp.reshape(part.ortho, (rk, n1, r1))
                    cores[k] = xp.reshape(other, (r0, n0, rk))
                    right[k + 1] = env.right3(xp, right[k + 2], cores[k + 1], ops[k + 1],
                                              cores[k + 1], opts[k + 1])
                    if deflate is not None:
                        deflate.moved_left(k + 1, cores[k + 1])
        if deflate is not None:
            deflate.check_sweep(sweep)
        ranks = (1,) + tuple(xp.shape(c)[2] for c in cores)
        info.iterations = sweep
        info.energies.append(math.ldexp(value, h_exp))
        info.ranks.append(ranks)
        info.max_discarded.append(discarded)
        change = abs(value - previous) / max(abs(value), 1e-300) if previous is not None \
            else float("inf")
        info.errors.append(change)
        info.wall_time = timer()
        report(info, f"sweep {sweep:3d}  value {info.energies[-1]:.12f}  change {change:.2e}  "
                     f"max rank {max(ranks):4d}  discarded {discarded:.1e}  {timer():.2f} s")
        # a sweep of loose local solves can leave the energy unchanged without converging:
        # its change counts once their error (~local_tol^2) is below tol, or they were as
        # tight as they get
        if change < tol and local_tol <= max(final_tol, 0.1 * math.sqrt(tol)):
            info.converged = True
            info.stop_reason = f"eigenvalue changed by {change:.2e} < tol"
            break
        previous = value
    report.close()
    if not info.converged:
        info.stop_reason = f"max_sweeps={max_sweeps} reached"
        last = info.errors[-1]
        why = (f"last relative change {last:.2e} > tol={tol:g}" if not last < tol else
               f"the eigenvalue changed by {last:.2e} < tol={tol:g}, but the local "
               f"eigensolves were still loose (tolerance {local_tol:.1e})")
        warn_not_converged("dmrg_eig", f"stopped after {max_sweeps} sweeps; {why}")
    x = TTTensor._from_cores(cores, xp)
    val = xp.asarray(math.ldexp(value, h_exp), dtype=xp.real_dtype(cores[0]),
                     device=xp.device(cores[0]))
    if not math.isfinite(value):  # pragma: no cover - defensive
        raise ArgumentError("dmrg_eig: the local eigensolver returned a non-finite value")
    return (val, x, info) if return_info else (val, x)


def _states(orthogonal_to: Any, x0: TTTensor, xp: Any) -> list[list]:
    """The cores of the states of `orthogonal_to` (None: none), checked against the start
    `x0` (shape, backend, finite) and in its dtype."""
    if orthogonal_to is None:
        return []
    states = as_sequence(orthogonal_to, "dmrg_eig", "orthogonal_to", "TTTensors")
    out = []
    for j, s in enumerate(states):
        name = f"orthogonal_to[{j}]"
        if not isinstance(s, TTTensor):
            raise ArgumentError(f"dmrg_eig: {name} must be a TTTensor, got {type(s).__name__}")
        if s.shape != x0.shape:
            raise ShapeError(f"dmrg_eig: {name} has shape {s.shape}, expected {x0.shape}")
        backend_of(x0, s)
        if xp.is_complex(s.cores[0]) and not xp.is_complex(x0.cores[0]):
            raise ArgumentError(f"dmrg_eig: {name} is complex for a real eigenproblem; pass a "
                                "complex H or x0")
        check_finite_cores(s, "dmrg_eig", name)
        out.append([xp.astype(c, xp.dtype(x0.cores[0])) for c in s.cores])
    return out


def _dense_lowest(H: TTMatrix, states: list[list], xp: Any) -> tuple[Any, Any]:
    """Lowest eigenpair of a one-mode `H`, on the orthogonal complement of `states`."""
    a = H.full()
    if not states:
        w, v = xp.eigh(a)
        return w[0], v[:, 0]
    n = xp.shape(a)[0]
    cols = []
    for j, s in enumerate(states):
        c = xp.reshape(s[0], (n,))
        nrm = xp.norm(c)
        if float(xp.item(nrm)) == 0:
            raise ArgumentError(f"dmrg_eig: orthogonal_to[{j}] is the zero tensor; it has no "
                                "direction to be orthogonal to")
        cols.append(c / xp.astype(nrm, xp.dtype(c)))
    u, sv, _ = xp.svd(xp.stack(cols, axis=1))
    keep = int((xp.to_numpy(sv) > 1e4 * xp.finfo_eps(a)).sum())
    if keep >= n:
        raise ArgumentError(f"dmrg_eig: the {len(states)} states of orthogonal_to span the "
                            f"whole {n}-dimensional space; no vector is orthogonal to them")
    u = xp.astype(u[:, :keep], xp.dtype(a))
    eye = xp.eye(n, dtype=xp.dtype(a), device=xp.device(a))
    _, basis = xp.eigh(eye - u @ xp.transpose(xp.conj(u)))  # eigenvalues 0 (span), then 1
    c = basis[:, keep:]
    w, y = xp.eigh(xp.transpose(xp.conj(c)) @ a @ c)
    return w[0], xp.matmul(c, y[:, 0])


def dmrg_eigs(H: TTMatrix, k: int, return_info: bool = False, **kwargs: Any) -> Any:
    """The `k` lowest eigenpairs of a symmetric TTMatrix by two-site DMRG, one after
    another: eigenvector ``j`` is the lowest on the orthogonal complement of the ``j``
    found before (:func:`dmrg_eig` with ``orthogonal_to``), as TeNPy and ITensor compute
    excited states. Degenerate eigenvalues come out once per independent eigenvector.

    Parameters
    ----------
    H : TTMatrix
        Square and symmetric (Hermitian for complex dtypes).
    k : int
        How many eigenpairs (at most the size of `H`).
    return_info : bool, optional
    **kwargs
        Passed to every :func:`dmrg_eig` call (``max_rank``, ``eps``, ``tol``,
        ``max_sweeps``, ``x0``, ``seed``, ...).

    Returns
    -------
    values : (k,) real array
        Ascending.
    states : list of TTTensor
        Unit norm, in the order of `values`, orthogonal to each other up to the
        truncation.
    infos : list of DmrgInfo, if `return_info`

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> h = tt.laplacian(5, 3)
    >>> values, states = tt.dmrg_eigs(h, 3, max_rank=10)
    >>> exact = np.linalg.eigvalsh(h.full())[:3]
    >>> bool(np.allclose(values, exact, rtol=1e-6))
    True
    >>> [abs(round(float(tt.dot(states[0], s)), 8)) for s in states]
    [1.0, 0.0, 0.0]
    """
    if not isinstance(H, TTMatrix):
        raise ArgumentError(f"dmrg_eigs: H must be a TTMatrix, got {type(H).__name__}")
    if "orthogonal_to" in kwargs:
        raise ArgumentError("dmrg_eigs: orthogonal_to is not taken (each state is made "
                            "orthogonal to the ones found before it); call dmrg_eig")
    size = math.prod(H.row_shape)
    k = check_count(k, "dmrg_eigs", "k", 1, size)
    xp = H.backend
    values, states, infos = [], [], []
    for _ in range(k):
        value, x, info = dmrg_eig(H, return_info=True, orthogonal_to=states, **kwargs)
        values.append(value)
        states.append(x)
        infos.append(info)
    order = np.argsort([float(xp.item(v)) for v in values], kind="stable")
    values = xp.stack([values[j] for j in order])
    states, infos = [states[j] for j in order], [infos[j] for j in order]
    return (values, states, infos) if return_info else (values, states)
