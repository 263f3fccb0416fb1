"""Optimization over matrices of rank at most ``r`` through the desingularization.

The bounded-rank set ``{X : rank X <= r}`` is not a manifold: matrices of
lower rank are singular points, where fixed-rank methods meet inverses of
vanishing singular values and stall. Khrulkov and Oseledets replace it by the
smooth manifold of pairs ``(X, Y)`` with ``X Y = 0`` and ``Y`` an orthonormal
basis of an ``(n - r)``-dimensional subspace. Writing ``Y = V_perp`` for an
orthonormal ``V`` (n, r), the pairs are ``(K, V)`` with ``X = K V^H``, up to
``(K Q, V Q)`` for unitary ``Q``; ``K`` may have any rank.

Metric: ``‖dX‖^2 + ‖dY‖^2`` on horizontal directions (``V^H dV = 0``), which is
``‖dK‖^2 + tr(dV (K^H K + I) dV^H)`` (real parts of inner products for complex
matrices). The Riemannian gradient of ``f(K V^H)`` with Euclidean gradient
``G`` (``df = Re <G, dX>``) is therefore

    ``grad_K = G V``,   ``grad_V = (I - V V^H) G^H K (K^H K + I)^{-1}``,

bounded functions of the singular values only -- nothing blows up when the
optimum has rank below ``r``. The retraction is ``K' = (K + t dK) R^H``,
``V' = Q`` from ``V + t dV = Q R``, so that ``X' = (K + t dK)(V + t dV)^H``.

References
----------
V. Khrulkov, I. Oseledets, "Desingularization of bounded-rank matrix sets",
SIAM J. Matrix Anal. Appl. 39 (2018); Q. Rebjock, N. Boumal, "Optimization
over bounded-rank matrices through a desingularization enables joint global
and local guarantees" (2024).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._info import Timer, read_floats, warn_not_converged
from .._validation import check_positive_int
from ..backends import Backend
from ..errors import ArgumentError, ShapeError
from ..linalg.tensor_ops import real_dot
from ..tt.tensor import TTTensor
from .samples import sample_data

__all__ = ["desingularized_complete", "desingularized_minimize"]


class _Point:
    """``(K, V)`` with ``V^H V = I``; ``X = K V^H``. Caches ``(K^H K + I)``."""

    __slots__ = ("k", "v", "gram")

    def __init__(self, k: Any, v: Any, xp: Backend) -> None:
        self.k, self.v = k, v
        r = xp.shape(k)[1]
        self.gram = xp.conj(xp.transpose(k)) @ k + xp.eye(r, dtype=xp.dtype(k),
                                                          device=xp.device(k))


class _Tangent:
    """A horizontal tangent vector ``(dK, dV)``, ``V^H dV = 0``."""

    __slots__ = ("dk", "dv")

    def __init__(self, dk: Any, dv: Any) -> None:
        self.dk, self.dv = dk, dv

    def __add__(self, other: _Tangent) -> _Tangent:
        return _Tangent(self.dk + other.dk, self.dv + other.dv)

    def __mul__(self, c: float) -> _Tangent:
        return _Tangent(c * self.dk, c * self.dv)

    __rmul__ = __mul__

    def __neg__(self) -> _Tangent:
        return self * -1.0


class _Geometry:
    """Inner products, gradients, retraction and transport at `_Point`s."""

    def __init__(self, xp: Backend) -> None:
        self.xp = xp

    def inner(self, p: _Point, a: _Tangent, b: _Tangent) -> float:
        return self.inners(p, (a, b))[0]

    def inners(self, p: _Point, *pairs: tuple[_Tangent, _Tangent]) -> list[float]:
        """``Re <a, b>`` of each pair at `p`, in one read on an accelerator."""
        xp = self.xp
        return read_floats(xp, *(real_dot(xp, a.dk, b.dk) + real_dot(xp, a.dv @ p.gram, b.dv)
                                 for a, b in pairs))

    def horizontal(self, p: _Point, dv: Any) -> Any:
        xp = self.xp
        return dv - p.v @ (xp.conj(xp.transpose(p.v)) @ dv)

    def gradient(self, p: _Point, gv: Any, gtk: Any) -> _Tangent:
        """From ``G V`` and ``G^H K`` (the Euclidean partial derivatives)."""
        xp = self.xp
        # H M^{-1} as (M^T \ H^T)^T; M = K^H K + I is Hermitian
        dv = xp.transpose(xp.solve(xp.transpose(p.gram), xp.transpose(self.horizontal(p, gtk))))
        return _Tangent(gv, dv)

    def retract(self, p: _Point, eta: _Tangent, t: float) -> _Point:
        xp = self.xp
        q, r = xp.qr(p.v + t * eta.dv)
        return _Point((p.k + t * eta.dk) @ xp.conj(xp.transpose(r)), q, xp)

    def transport(self, p: _Point, eta: _Tangent) -> _Tangent:
        return _Tangent(eta.dk, self.horizontal(p, eta.dv))


def desingularized_rcg(value_grad: Callable, value: Callable, step: Callable | None,
                       p: _Point, xp: Backend, max_iter: int, tol: float, ftol: float,
                       stop: Callable | None, callback: Any, verbose: bool, info: Any,
                       where: str) -> _Point:
    """Polak-Ribiere+ conjugate gradients on the desingularized manifold."""
    from .optimize import finite_gradient

    geo = _Geometry(xp)
    timer = Timer()
    f, (gv, gtk) = value_grad(p)
    g = geo.gradient(p, gv, gtk)
    gn2 = geo.inner(p, g, g)
    finite_gradient(gn2, where, "x0")
    g0 = math.sqrt(gn2)
    info.losses.append(f)
    info.grad_norms.append(g0)
    if stop is not None and (reason := stop(p, f)):
        info.converged, info.stop_reason = True, reason
        return p
    eta, slope = -g, -gn2
    t_guess = 1.0 / max(g0, 1e-300)
    for it in range(1, max_iter + 1):
        if slope >= 0:
            eta, slope = -g, -gn2
        t = step(p, eta) if step is not None else None
        if t is None or not t > 0:
            t = t_guess
        y, fy = None, f
        for _ in range(40):  # Armijo backtracking
            y = geo.retract(p, eta, t)
            fy = value(y)
            if math.isfinite(fy) and fy <= f + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            info.converged = False
            info.stop_reason = "the line search found no decrease"
            return p
        f_old = f
        p = y
        f, (gv, gtk) = value_grad(p)
        g_new = geo.gradient(p, gv, gtk)
        g_old, eta = geo.transport(p, g), geo.transport(p, eta)
        # the new gradient's norm, its overlap with the old one and the slope along the
        # transported direction: one read
        gn2_new, overlap, along = geo.inners(p, (g_new, g_new), (g_new, g_old), (g_new, eta))
        finite_gradient(gn2_new, where, f"iteration {it}'s point")
        info.iterations = it
        info.losses.append(f)
        info.errors.append(f)
        info.grad_norms.append(math.sqrt(gn2_new))
        if verbose:
            print(f"{where}: iter {it:4d}  f {f:.6e}  |grad| {math.sqrt(gn2_new):.3e}  "
                  f"step {t:.3e}  {timer():.2f}s")
        if callback is not None:
            callback(info)
        if stop is not None and (reason := stop(p, f)):
            info.converged, info.stop_reason = True, reason
            return p
        if math.sqrt(gn2_new) <= tol * g0:
            info.converged = True
            info.stop_reason = f"gradient norm <= tol * initial ({tol:g})"
            return p
        if abs(f_old - f) <= ftol * max(abs(f_old), 1e-300):
            info.converged = True
            info.stop_reason = f"relative change of f below ftol={ftol:g}"
            return p
        beta = max(0.0, (gn2_new - overlap) / gn2)
        if abs(overlap) >= 0.1 * gn2_new:
            beta = 0.0
        eta = -g_new + beta * eta
        slope = -gn2_new + beta * along  # <g_new, eta>
        g, gn2 = g_new, gn2_new
        t_guess = 2.0 * t
    info.converged = False
    info.stop_reason = f"max_iter={max_iter} reached"
    return p


def desingularized_complete(idx: np.ndarray, values: Any, shape: tuple, rank: int,
                            xp: Backend, max_iter: int = 1000, tol: float = 1e-12, seed: Any = None,
                            callback: Callable | None = None, verbose: bool = False,
                            return_info: bool = False) -> Any:
    """Matrix completion on the desingularized bounded-rank set (see :func:`matrix_complete`)."""
    from .completion import CompletionInfo, sparse_svd_start

    where = "matrix_complete"
    samples, a = sample_data(idx, values, shape, xp, where, name="rows/cols")
    m, n = shape
    rows, cols = samples.modes
    start = sparse_svd_start(samples, a, shape, rank, seed, xp)
    k0 = start.cores[0][0]
    v0 = xp.conj(xp.transpose(start.cores[1][:, :, 0]))  # orthonormal columns (an SVD's)
    p = _Point(k0, v0, xp)
    a_norm = float(xp.item(xp.norm(a))) or 1.0

    def residual(p: _Point) -> Any:
        kr, vc = xp.take(p.k, rows, axis=0), xp.take(p.v, cols, axis=0)
        return xp.einsum("sa,sa->s", kr, xp.conj(vc)) - a

    cache: dict = {}

    def value(p: _Point) -> float:
        hit = cache.get(id(p))
        if hit is not None and hit[0] is p:  # the line search's accepted trial point
            return hit[2]
        res = residual(p)
        f = 0.5 * float(xp.item(real_dot(xp, res, res)))
        cache.clear()
        cache[id(p)] = (p, res, f)
        return f

    def value_grad(p: _Point) -> tuple[float, tuple]:
        f = value(p)
        res = cache[id(p)][1]
        gv = xp.segment_sum(res[:, None] * xp.take(p.v, cols, axis=0), rows, m)
        gtk = xp.segment_sum(xp.conj(res)[:, None] * xp.take(p.k, rows, axis=0), cols, n)
        return f, (gv, gtk)

    def step(p: _Point, eta: _Tangent) -> float | None:
        # f along X(t) = (K + t dK)(V + t dV)^H is the quartic 0.5 ‖e0 + t e1 + t^2 e2‖^2
        hit = cache.get(id(p))
        e0 = hit[1] if hit is not None and hit[0] is p else residual(p)
        kr, vc = xp.take(p.k, rows, axis=0), xp.take(p.v, cols, axis=0)
        dkr, dvc = xp.take(eta.dk, rows, axis=0), xp.take(eta.dv, cols, axis=0)
        vc, dvc = xp.conj(vc), xp.conj(dvc)
        e1 = xp.einsum("sa,sa->s", dkr, vc) + xp.einsum("sa,sa->s", kr, dvc)
        e2 = xp.einsum("sa,sa->s", dkr, dvc)
        e01, e11, e02, e12, e22 = read_floats(xp, *(real_dot(xp, u, w) for u, w in (
            (e0, e1), (e1, e1), (e0, e2), (e1, e2), (e2, e2))))
        # d/dt: 2 e22 t^3 + 3 e12 t^2 + (e11 + 2 e02) t + e01 = 0
        roots = np.roots([2 * e22, 3 * e12, e11 + 2 * e02, e01])
        real = [float(r.real) for r in roots if abs(r.imag) <= 1e-9 * max(1.0, abs(r)) and
                r.real > 0]
        if not real:
            return None
        quart = lambda t: e01 * t + 0.5 * (e11 + 2 * e02) * t * t + e12 * t ** 3 \
            + 0.5 * e22 * t ** 4  # noqa: E731
        return min(real, key=quart)

    def stop(p: _Point, f: float) -> str | None:
        res = math.sqrt(2.0 * max(f, 0.0)) / a_norm
        info.residuals.append(res)
        if res <= tol:
            return f"relative residual on the samples {res:.3e} <= tol={tol:g}"
        return None

    info = CompletionInfo(method="rcg (desingularized)")
    timer = Timer()
    p = desingularized_rcg(value_grad, value, step, p, xp, max_iter, 0.0, 1e-15, stop,
                           callback, verbose, info, where)
    info.wall_time = timer()
    info.residual = info.residuals[-1] if info.residuals else float("nan")
    info.ranks = (1, rank, 1)
    if not info.converged:
        warn_not_converged(where, info.stop_reason)
    out = _svd_of(p, xp)
    return (out, info) if return_info else out


def desingularized_minimize(f: Callable, x0: TTTensor, grad: Callable | None = None,
                            max_iter: int = 100, tol: float = 1e-8, ftol: float = 1e-14,
                            callback: Callable | None = None, verbose: bool = False,
                            return_info: bool = False) -> Any:
    """Minimize ``f`` over matrices of rank ``<= x0.ranks[1]`` (a 2-mode TT ``x0``).

    `f` receives a 2-mode TTTensor ``y`` with ``y.full() = K V^H`` (cores
    ``K[None]`` and ``V^H[..., None]``). Its Euclidean partial derivatives
    come from autodiff, or from `grad` (the Euclidean gradient matrix ``G``,
    dense or a 2-mode TTTensor). Returns a 2-mode TTTensor.
    """
    from .._validation import checked_scalar
    from .optimize import MinimizeInfo, _real_float

    where = "minimize"
    if not isinstance(x0, TTTensor) or x0.ndim != 2:
        raise ShapeError(f"{where}: manifold='desingularized' needs a 2-mode TTTensor x0, "
                         f"got {type(x0).__name__}" + (f" with {x0.ndim} modes"
                                                        if isinstance(x0, TTTensor) else ""))
    max_iter = check_positive_int(max_iter, where, "max_iter")
    xp = x0.backend
    if grad is None and not xp.supports_grad:
        raise ArgumentError(f"{where}: the {xp.name} backend has no automatic "
                            "differentiation; pass grad= (the Euclidean gradient of f)")
    k = x0.cores[0][0]
    w = x0.cores[1][:, :, 0]  # (r, n)
    q, rr = xp.qr(xp.conj(xp.transpose(w)))  # W^H = Q R: X = K R^H Q^H
    p = _Point(k @ xp.conj(xp.transpose(rr)), q, xp)

    def as_tt(p: _Point) -> TTTensor:
        return TTTensor._from_cores([p.k[None], xp.conj(xp.transpose(p.v))[:, :, None]], xp)

    def value(p: _Point) -> float:
        return _real_float(x0, f(as_tt(p)))

    def value_grad(p: _Point) -> tuple[float, tuple]:
        if grad is None:
            val, g = xp.value_and_grad(
                lambda cores: checked_scalar(f(TTTensor._from_cores(cores, xp)), xp, where))(
                list(as_tt(p).cores))
            # the second core is V^H: d/dV is the conjugate transpose of d/d(V^H)
            return float(xp.item(val)), (g[0][0], xp.conj(xp.transpose(g[1][:, :, 0])))
        gm = grad(as_tt(p))
        if isinstance(gm, TTTensor):
            gm = gm.full()
        if not xp.is_array(gm) or tuple(xp.shape(gm)) != tuple(x0.shape):
            raise ShapeError(f"{where}: grad(x) returned "
                             f"{tuple(xp.shape(gm)) if xp.is_array(gm) else type(gm).__name__}; "
                             f"expected the Euclidean gradient of shape {tuple(x0.shape)}")
        return value(p), (gm @ p.v, xp.conj(xp.transpose(gm)) @ p.k)

    info = MinimizeInfo(method="rcg (desingularized)")
    timer = Timer()
    p = desingularized_rcg(value_grad, value, None, p, xp, max_iter, tol, ftol, None,
                           callback, verbose, info, where)
    info.wall_time = timer()
    info.ranks = (1, xp.shape(p.k)[1], 1)
    if not info.converged:
        warn_not_converged(where, info.stop_reason)
    out = as_tt(p)
    return (out, info) if return_info else out


def _svd_of(p: _Point, xp: Backend) -> tuple[Any, Any, Any]:
    """``(u, s, vh)`` of ``K V^H``."""
    u, s, wh = xp.svd(p.k)
    return u, s, xp.conj(xp.transpose(p.v @ xp.conj(xp.transpose(wh))))
