"""Functions on boxes as tensor trains of Chebyshev coefficients.

A smooth function ``f`` on ``[a_1, b_1] x … x [a_d, b_d]`` is sampled by TT-cross on the
tensor grid of Chebyshev–Lobatto points ``x_j = cos(π j / (n - 1))`` (mapped to each
interval), and every core is then taken from values to coefficients by the discrete
cosine transform (type I), a linear map of the mode index that keeps the ranks:

    f(x) ≈ Σ_m C[m_1, …, m_d] T_{m_1}(t_1(x_1)) ⋯ T_{m_d}(t_d(x_d)).

In this form ``f`` can be evaluated anywhere in the box (spectral interpolation, not
the grid's), integrated (Clenshaw–Curtis: each mode weighted by ``∫ T_m``), and
differentiated mode by mode (the coefficient recurrence), all without leaving the TT
format (Bigoni, Engsig-Karup, Marzouk 2016; teneva's ``func`` module).
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._info import user_stacklevel
from .._pytree import register_container
from .._validation import check_count, check_eps
from ..backends import Backend, backend_of, to_numpy
from ..backends._host import host_eager
from ..errors import ArgumentError, PrecisionWarning, ShapeError
from ._scale import balanced, times_pow2
from .tensor import TTTensor

__all__ = ["ChebyshevInfo", "ChebyshevTT", "chebyshev"]


@dataclass
class ChebyshevInfo:
    """What :func:`chebyshev` did.

    Attributes
    ----------
    evaluations : int
        Distinct points at which ``f`` was evaluated (all grids tried, when `n` is
        chosen).
    tail : list of float
        Per mode, the norm of the coefficients of its two highest degrees relative to
        the norm of all: how far that mode is resolved (below `eps`: resolved).
    cross : CrossInfo
        The record of the TT-cross on the (last) grid of values.
    """

    evaluations: int
    tail: list
    cross: Any


def _nodes(n: int) -> np.ndarray:
    return np.cos(np.pi * np.arange(n) / (n - 1))


def _cosines(n: int) -> np.ndarray:
    """``T_m(x_j) = cos(π j m / (n - 1))``: the Chebyshev polynomials at the ``n`` points,
    the map from coefficients to values."""
    j = np.arange(n)
    return np.cos(np.pi * np.outer(j, j) / (n - 1))


def _transform(n: int) -> np.ndarray:
    """``M`` with ``c = M v``: the coefficients of the interpolant of the values ``v`` at
    the ``n`` Chebyshev–Lobatto points (a DCT-I with halved end terms both ways)."""
    w = np.ones(n)
    w[[0, -1]] = 0.5
    return (2.0 / (n - 1)) * w[:, None] * _cosines(n) * w[None, :]


def _derivative(n: int) -> np.ndarray:
    """``D`` with ``c' = D c``: the coefficients of the derivative on ``[-1, 1]``."""
    out = np.zeros((n, n))
    for col in range(n):
        c = np.zeros(n)
        c[col] = 1.0
        d = np.zeros(n + 1)
        for m in range(n - 1, 0, -1):
            d[m - 1] = d[m + 1] + 2 * m * c[m]
        d[0] /= 2.0
        out[:, col] = d[:n]
    return out


@functools.lru_cache(maxsize=64)
def _weights(n: int) -> np.ndarray:
    """``∫_{-1}^{1} T_m``: ``2 / (1 - m²)`` for even ``m``, 0 for odd (cached: read only)."""
    m = np.arange(n).astype(float)
    out = np.zeros(n)
    out[::2] = 2.0 / (1.0 - m[::2] ** 2)
    out.flags.writeable = False
    return out


def _mode_map(xp: Any, core: Any, mat: np.ndarray) -> Any:
    """``core`` with its mode index mapped by the matrix `mat` (``(m, n)``): ranks kept."""
    m = xp.asarray(mat, dtype=xp.dtype(core), device=xp.device(core))
    return xp.einsum("mj,ajb->amb", m, core)


@register_container
class ChebyshevTT:
    """A function on a box as a TT of Chebyshev coefficients (see :func:`chebyshev`).

    Parameters
    ----------
    coefficients : TTTensor
        ``C[m_1, …, m_d]``, the coefficient of ``T_{m_1} ⊗ … ⊗ T_{m_d}``; mode ``k`` has
        ``n_k`` coefficients (degrees ``0 … n_k - 1``).
    domain : sequence of (a, b)
        The box, one interval per mode, ``a < b``.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> f = tt.chebyshev(lambda x: np.exp(x.sum(axis=1)), [(0, 1)] * 3, n=16)
    >>> round(float(f.integral()), 10), round((np.e - 1) ** 3, 10)
    (5.0732141118, 5.0732141118)
    """

    __slots__ = ("coefficients", "domain")

    def __init__(self, coefficients: TTTensor, domain: Sequence[Any]) -> None:
        if not isinstance(coefficients, TTTensor):
            raise ArgumentError(f"ChebyshevTT: coefficients must be a TTTensor, got "
                                f"{type(coefficients).__name__}")
        dom = _domain(domain, "ChebyshevTT")
        if len(dom) != coefficients.ndim:
            raise ShapeError(f"ChebyshevTT: domain has {len(dom)} intervals but the "
                             f"coefficients have {coefficients.ndim} modes")
        if min(coefficients.shape) < 2:
            raise ShapeError(f"ChebyshevTT: every mode needs at least 2 coefficients, got "
                             f"shape {coefficients.shape}")
        self.coefficients, self.domain = coefficients, dom

    def _tree_flatten(self) -> tuple[tuple, tuple]:
        return tuple(self.coefficients.cores), self.domain

    @classmethod
    def _tree_unflatten(cls, aux: tuple, children: Sequence[Any]) -> ChebyshevTT:
        obj = object.__new__(cls)
        obj.coefficients, obj.domain = TTTensor._from_cores(list(children)), aux
        return obj

    @property
    def ndim(self) -> int:
        return self.coefficients.ndim

    @property
    def shape(self) -> tuple[int, ...]:
        """Coefficients per mode (the polynomial degree plus one)."""
        return self.coefficients.shape

    @property
    def ranks(self) -> tuple[int, ...]:
        return self.coefficients.ranks

    @property
    def backend(self) -> Backend:
        return self.coefficients.backend

    def __repr__(self) -> str:
        return (f"ChebyshevTT(shape={self.shape}, ranks={self.ranks}, "
                f"domain={list(self.domain)})")

    def nodes(self, axis: int) -> np.ndarray:
        """The Chebyshev–Lobatto points of mode `axis` in its interval (NumPy)."""
        a, b = self.domain[_axis(axis, self.ndim, "nodes")]
        return 0.5 * (b - a) * _nodes(self.shape[axis]) + 0.5 * (a + b)

    @host_eager
    def __call__(self, points: Any) -> Any:
        """The function at `points`, an ``(N, d)`` array inside the box: ``(N,)`` values."""
        return _evaluate(self, points)

    def full(self) -> Any:
        """The dense array of the values on the grid of Chebyshev–Lobatto points
        (``values().full()``; small cases only)."""
        return self.values().full()

    @host_eager
    def values(self) -> TTTensor:
        """The TT of the values on the grid of Chebyshev–Lobatto points (the inverse
        transform: ``values()[j] = f(nodes(0)[j_0], …)``)."""
        xp = self.backend
        cores = [_mode_map(xp, c, _cosines(n))
                 for c, n in zip(self.coefficients.cores, self.shape)]
        return TTTensor._from_cores(cores, xp)

    @host_eager
    def integral(self) -> Any:
        """``∫ f`` over the box (Clenshaw–Curtis), a 0-d array of the backend: the sum of
        the coefficients weighted by ``(b - a) / 2 ∫ T_m`` mode by mode."""
        from .algebra import tt_sum

        xp = self.backend
        c0 = self.coefficients.cores[0]
        cores = []
        for c, (a, b), n in zip(self.coefficients.cores, self.domain, self.shape):
            w = xp.asarray((0.5 * (b - a)) * _weights(n)[None, :], dtype=xp.dtype(c0),
                           device=xp.device(c0))
            r, _, rr = xp.shape(c)
            cores.append(xp.reshape(w @ c, (r, 1, rr)))  # (1, n) @ (r, n, r'): batched
        return tt_sum(TTTensor._from_cores(cores, xp))

    @host_eager
    def sobol(self) -> Any:
        """Sobol indices of the function for inputs uniform on the box
        (:func:`tnlib.tt.sobol` of the grid values, each mode weighted by its
        Clenshaw–Curtis weights): spectrally accurate, never a sample."""
        from .sobol import sobol

        return sobol(self.values(), self._uniform_weights())

    @host_eager
    def sobol_pairs(self) -> Any:
        """Second-order Sobol indices for inputs uniform on the box
        (:func:`tnlib.tt.sobol_pairs`, weighted as :meth:`sobol`)."""
        from .sobol import sobol_pairs

        return sobol_pairs(self.values(), self._uniform_weights())

    def _uniform_weights(self) -> list:
        """Clenshaw–Curtis weights of each mode's points, summing to 1."""
        return [_transform(n).T @ _weights(n) / 2.0 for n in self.shape]

    def derivative(self, axis: int, order: int = 1) -> ChebyshevTT:
        """``∂^order f / ∂x_axis^order``, with the same number of coefficients (the top
        ones zero)."""
        k = _axis(axis, self.ndim, "derivative")
        order = check_count(order, "derivative", "order", low=1)
        n = self.shape[k]
        a, b = self.domain[k]
        mat = np.linalg.matrix_power(_derivative(n) * (2.0 / (b - a)), order)
        cores = list(self.coefficients.cores)
        cores[k] = _mode_map(self.backend, cores[k], mat)
        return ChebyshevTT(TTTensor._from_cores(cores, self.backend), self.domain)

    def round(self, eps: float = 0.0, max_rank: Any = None) -> ChebyshevTT:
        """The coefficients rounded (:func:`tnlib.tt.round`): relative accuracy `eps`
        in the coefficients, hence in the function's ``L²`` norm up to the weight."""
        return ChebyshevTT(self.coefficients.round(eps, max_rank), self.domain)


def chebyshev(f: Callable, domain: Sequence[Any], n: Any = None, eps: float = 1e-10,
              max_rank: int | None = None, seed: Any = None, return_info: bool = False,
              backend: Any = None, max_n: int = 1025, **cross_options: Any) -> Any:
    """Chebyshev interpolant of a function on a box, as a TT of coefficients.

    Parameters
    ----------
    f : callable
        ``f(x)`` takes an ``(N, d)`` float array of points (on the active backend) and
        returns ``N`` values.
    domain : sequence of (a, b)
        One interval per variable; ``d = len(domain)``.
    n : int, sequence of int or None, optional
        Chebyshev–Lobatto points per variable (the degree plus one), at least 2. None
        (the default) chooses them: 17 per variable, and ``2 n - 1`` (the nested grid)
        for every variable whose two highest-degree coefficients still hold more than
        ``eps`` of the norm, until all are resolved or `max_n` is reached.
    eps : float, optional
        Relative accuracy of the TT-cross on the grid of values (and of the rounding), and
        the resolution asked of the coefficients' tails.
    max_rank : int, optional
    seed : int, optional
    return_info : bool, optional
        Also return a :class:`ChebyshevInfo` (evaluations, each mode's coefficient tail).
    backend : optional
        As for :func:`~tnlib.tt.cross`.
    max_n : int, optional
        The largest number of points per variable the choice of `n` goes to.
    **cross_options
        Passed to :func:`~tnlib.tt.cross` (``max_sweeps``, ``executor``, ``max_evals``,
        ...).

    Returns
    -------
    ChebyshevTT, or (ChebyshevTT, ChebyshevInfo)

    Warns
    -----
    PrecisionWarning
        When a mode's two highest-degree coefficients hold more than ``eps`` of the norm
        (at least ``1e-12`` and 100 rounding units of the dtype): ``n`` points (or
        `max_n`) do not resolve ``f`` along it.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> g = tt.chebyshev(lambda x: 1.0 / (1.0 + x.sum(axis=1)), [(0, 1)] * 4)
    >>> g.shape                                               # chosen: 17 points each
    (17, 17, 17, 17)
    >>> x = np.array([[0.1, 0.7, 0.3, 0.95]])
    >>> bool(abs(float(g(x)[0]) - 1 / 3.05) < 1e-10)
    True
    >>> dg = g.derivative(0)                                  # -1 / (1 + Σx)²
    >>> bool(abs(float(dg(x)[0]) + 1 / 3.05 ** 2) < 1e-8)
    True
    """
    dom = _domain(domain, "chebyshev")
    d = len(dom)
    eps = check_eps(eps, "chebyshev")
    max_n = check_count(max_n, "chebyshev", "max_n", low=2)
    adaptive = n is None
    sizes = (min(17, max_n),) * d if adaptive else _sizes(n, d)
    evaluations = 0
    while True:
        coeffs, cinfo = _sampled(f, dom, sizes, eps, max_rank, seed, backend, cross_options)
        evaluations += cinfo.evaluations
        tail = _tails(coeffs)
        floor = max(eps, 1e-12, 100 * coeffs.backend.finfo_eps(coeffs.cores[0]))
        grow = [k for k in range(d) if tail[k] > floor and sizes[k] < max_n]
        if not adaptive or not grow:
            break
        sizes = tuple(min(2 * m - 1, max_n) if k in grow else m for k, m in enumerate(sizes))
    worst = int(np.argmax(tail))
    if tail[worst] > floor:
        warnings.warn(PrecisionWarning(
            f"chebyshev: mode {worst} is not resolved by n={sizes[worst]} points (its two "
            f"highest-degree coefficients hold {tail[worst]:.1e} of the norm, above "
            f"{floor:.1e}); pass a larger n" + (" or max_n" if adaptive else "")),
            stacklevel=user_stacklevel())
    out = ChebyshevTT(coeffs, dom)
    if return_info:
        return out, ChebyshevInfo(evaluations, tail, cinfo)
    return out


def _sampled(f: Callable, dom: tuple, sizes: tuple, eps: float, max_rank: Any, seed: Any,
             backend: Any, cross_options: dict) -> tuple[TTTensor, Any]:
    """The coefficient train of `f` on the grid of `sizes` Chebyshev–Lobatto points, and
    the cross's record."""
    from .cross import cross

    grids = [0.5 * (b - a) * _nodes(m) + 0.5 * (a + b) for (a, b), m in zip(dom, sizes)]
    cache: dict = {}

    def on_grid(idx: Any) -> Any:
        xp = backend_of(idx)
        key = (xp.name, str(xp.device(idx)))
        if key not in cache:
            cache[key] = [xp.asarray(g, device=xp.device(idx)) for g in grids]
        cols = [xp.take(g, idx[:, k], axis=0) for k, g in enumerate(cache[key])]
        return f(xp.stack(cols, axis=1))

    on_grid.black_box = f  # what sees the caller's arrays (backends._host)
    values, cinfo = cross(on_grid, sizes, eps=eps, max_rank=max_rank, seed=seed,
                          return_info=True, backend=backend, **cross_options)
    xp = values.backend
    return TTTensor._from_cores([_mode_map(xp, c, _transform(m))
                                 for c, m in zip(values.cores, sizes)], xp), cinfo


def _tails(coeffs: TTTensor) -> list:
    """Per mode, ``‖C restricted to its two top degrees‖ / ‖C‖``."""
    total = float(to_numpy(coeffs.norm()))
    if total == 0:
        return [0.0] * coeffs.ndim
    out = []
    for k in range(coeffs.ndim):
        cores = list(coeffs.cores)
        cores[k] = cores[k][:, -2:, :]
        out.append(float(to_numpy(TTTensor._from_cores(cores, coeffs.backend).norm())) / total)
    return out


def _domain(domain: Any, where: str) -> tuple:
    """`domain` as a tuple of finite float pairs ``(a, b)`` with ``a < b``."""
    try:
        pairs = tuple((float(a), float(b)) for a, b in domain)
    except (TypeError, ValueError):
        raise ShapeError(f"{where}: domain must be a sequence of (a, b) intervals, got "
                         f"{domain!r}") from None
    if not pairs:
        raise ShapeError(f"{where}: domain must have at least one interval")
    for k, (a, b) in enumerate(pairs):
        if not (math.isfinite(a) and math.isfinite(b) and a < b):
            raise ShapeError(f"{where}: interval {k} of domain is ({a:g}, {b:g}); expected "
                             "finite a < b")
    return pairs


def _sizes(n: Any, d: int) -> tuple[int, ...]:
    items = [n] * d if isinstance(n, numbers.Integral) and not isinstance(n, bool) else n
    try:
        items = list(items)
    except TypeError:
        raise ArgumentError(f"chebyshev: n must be an int or a sequence of {d} ints, got "
                            f"{n!r}") from None
    if len(items) != d:
        raise ShapeError(f"chebyshev: n has {len(items)} entries for {d} intervals")
    return tuple(check_count(m, "chebyshev", "n", low=2) for m in items)


def _axis(axis: Any, d: int, where: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -d <= axis < d:
        raise ShapeError(f"{where}: axis must be an int in [-{d}, {d}), got {axis!r}")
    return int(axis) % d


def _evaluate(fn: ChebyshevTT, points: Any) -> Any:
    """``Σ_m C[m] Π_k T_{m_k}(t_k)`` at every point: per mode the ``(N, n_k)`` Chebyshev
    values by the three-term recurrence, then one batched contraction per core."""
    xp = fn.backend
    c0 = fn.coefficients.cores[0]
    real = xp.real_dtype(c0)
    if not xp.is_array(points):
        try:
            points = xp.asarray(np.asarray(points, dtype=float))
        except (TypeError, ValueError):
            raise ShapeError(f"ChebyshevTT: points must be an (N, {fn.ndim}) array of "
                             f"numbers, got {type(points).__name__}") from None
    p = points
    kind = xp.dtype_name(p)
    if kind.startswith("complex") or not (kind.startswith(("float", "int", "uint", "bfloat"))):
        raise ArgumentError(f"ChebyshevTT: points must be real numbers, got dtype {kind}")
    if xp.ndim(p) != 2 or xp.shape(p)[1] != fn.ndim:
        raise ShapeError(f"ChebyshevTT: points must have shape (N, {fn.ndim}), got "
                         f"{xp.shape(p)}")
    p = xp.astype(p, real)
    ts = [(2.0 * p[:, k] - (a + b)) / (b - a) for k, (a, b) in enumerate(fn.domain)]
    if not xp.is_traced(p) and xp.shape(p)[0]:
        worst = float(xp.item(xp.max(xp.stack([xp.max(xp.abs(t)) for t in ts]))))
        if not worst <= 1.0 + 1e-12:
            _outside(fn, xp.to_numpy(p))
    cores, exponent = balanced(list(fn.coefficients.cores), xp)
    v = None
    for t, core in zip(ts, cores):
        r, n, rr = xp.shape(core)
        basis = _basis(t, n, xp)  # (N, n)
        w = xp.reshape(basis @ xp.reshape(xp.transpose(core, (1, 0, 2)), (n, r * rr)),
                       (-1, r, rr))
        w = xp.astype(w, xp.dtype(core)) if xp.is_complex(core) else w
        v = w[:, 0, :] if v is None else xp.einsum("pa,pab->pb", v, w)
    return times_pow2(v[:, 0], exponent or 0, xp)


def _basis(t: Any, n: int, xp: Any) -> Any:
    """``[T_0(t), …, T_{n-1}(t)]`` as an ``(N, n)`` array."""
    cols = [xp.ones_like(t), t]
    for _ in range(2, n):
        cols.append(2.0 * t * cols[-1] - cols[-2])
    return xp.stack(cols[:n], axis=1)


def _outside(fn: ChebyshevTT, host: np.ndarray) -> None:
    """The error for points outside the box (or not finite), naming the first."""
    if not np.all(np.isfinite(host)):
        i, k = (int(v) for v in np.argwhere(~np.isfinite(host))[0])
        raise ArgumentError(f"ChebyshevTT: points[{i}, {k}] = {host[i, k]} is not a "
                            "finite number")
    lows = np.array([a for a, _ in fn.domain])
    highs = np.array([b for _, b in fn.domain])
    span = highs - lows
    bad = np.argwhere((host < lows - 1e-12 * span) | (host > highs + 1e-12 * span))
    i, k = (int(v) for v in bad[0])
    raise ShapeError(f"ChebyshevTT: points[{i}, {k}] = {host[i, k]:g} is outside the "
                     f"interval {fn.domain[k]} of mode {k}; the interpolant does not "
                     "extrapolate")
