"""PARAFAC2: CP with a second-mode factor that evolves from slice to slice.

Slices ``X_i`` of shape ``(J_i, K)`` -- the number of rows may differ (chromatographic
runs of different lengths, patients with different numbers of visits) -- are modelled as

    X_i ≈ B_i diag(w ∘ a_i) C^T,   B_i = P_i B,   P_i^T P_i = I,

so that ``B_i^T B_i = B^T B`` is the same for every slice (Harshman 1972). The direct
fitting ALS (Kiers, ten Berge, Bro 1999) alternates two steps: each ``P_i`` is the
orthogonal Procrustes solution (the polar factor of ``X_i C diag(w ∘ a_i) B^T``), and
then the projected slices ``Y_i = P_i^T X_i`` -- an ``I x R x K`` tensor -- get CP-ALS
updates of ``A``, ``B`` and ``C`` (:mod:`tnlib.cp.als`'s normal equations). Slices of
similar height are processed together, padded with zero rows to the tallest: a few
batched products, QRs and small SVDs per iteration, whatever the number of slices.
Since each ``P_i`` has orthonormal columns, the error needs no reconstruction:
``‖X - X̂‖² = Σ ‖X_i‖² - ‖Y‖² + ‖Y - [[w; A, B, C]]‖²``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .._info import Timer, compiled
from .._progress import Reporter
from .._pytree import register_container
from .._validation import (
    DefaultTol,
    check_eps,
    check_finite,
    check_option,
    check_positive_int,
    divided_by_peak,
    honour_eps,
    rng_of,
    scaled_back,
    traced_read_error,
    within_range,
)
from ..backends import backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..linalg.nnls import unit_columns
from ._fit import CPInfo, record_sweep, stopped_short
from .als import _RESOLVED, _gram, _shifts, _solve_mode

__all__ = ["Parafac2Tensor", "parafac2"]


@register_container
class Parafac2Tensor:
    """A PARAFAC2 model: slice ``i`` is ``P_i B diag(weights ∘ A[i]) C^T``.

    Parameters
    ----------
    weights : (R,) array
    factors : [A, B, C]
        ``A`` of shape ``(I, R)`` (one row per slice), ``B`` of shape ``(R, R)`` and ``C``
        of shape ``(K, R)``.
    projections : sequence of I arrays of shape ``(J_i, R)``
        Orthonormal columns (or rows, for slices with ``J_i < R``).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import cp
    >>> p = [np.linalg.qr(np.random.default_rng(i).standard_normal((5 + i, 2)))[0]
    ...      for i in range(3)]
    >>> x = cp.Parafac2Tensor(np.ones(2), [np.ones((3, 2)), np.eye(2), np.ones((4, 2))], p)
    >>> [s.shape for s in x.slices()]
    [(5, 4), (6, 4), (7, 4)]
    """

    __slots__ = ("weights", "factors", "projections")

    def __init__(self, weights: Any, factors: Sequence[Any], projections: Sequence[Any]
                 ) -> None:
        factors, projections = list(factors), list(projections)
        if len(factors) != 3:
            raise ShapeError(f"Parafac2Tensor: factors must be [A, B, C], got {len(factors)} "
                             "arrays")
        xp = backend_of(weights, *factors, *projections)
        a, b, c = factors
        shapes = [xp.shape(f) for f in factors]
        r = shapes[0][1] if len(shapes[0]) == 2 else -1
        if any(len(s) != 2 or s[1] != r for s in shapes) or shapes[1][0] != r or \
                xp.shape(weights) != (r,):
            raise ShapeError(f"Parafac2Tensor: expected weights (R,), A (I, R), B (R, R) and "
                             f"C (K, R), got {xp.shape(weights)} and {shapes}")
        if len(projections) != shapes[0][0]:
            raise ShapeError(f"Parafac2Tensor: A has {shapes[0][0]} rows but there are "
                             f"{len(projections)} projections")
        for i, p in enumerate(projections):
            if xp.ndim(p) != 2 or xp.shape(p)[1] != r:
                raise ShapeError(f"Parafac2Tensor: projection {i} must have shape (J_{i}, "
                                 f"{r}), got {xp.shape(p)}")
        self.weights, self.factors, self.projections = weights, factors, projections

    def _tree_flatten(self) -> tuple[tuple, None]:
        return (self.weights, *self.factors, *self.projections), None

    @classmethod
    def _tree_unflatten(cls, aux: Any, children: Sequence[Any]) -> Parafac2Tensor:
        obj = object.__new__(cls)
        obj.weights, obj.factors, obj.projections = (children[0], list(children[1:4]),
                                                     list(children[4:]))
        return obj

    @property
    def rank(self) -> int:
        """Number of components R."""
        return int(self.backend.shape(self.weights)[0])

    @property
    def backend(self) -> Any:
        """The arrays' backend."""
        return backend_of(self.weights)

    def evolving_factors(self) -> list:
        """``B_i = P_i B`` for every slice: the second-mode factors, whose cross products
        ``B_i^T B_i`` are all ``B^T B``."""
        b = self.factors[1]
        return [p @ b for p in self.projections]

    def slices(self) -> list:
        """The modelled slices ``B_i diag(weights ∘ a_i) C^T``, each ``(J_i, K)``."""
        xp = self.backend
        a, _, c = self.factors
        scaled = a * self.weights[None, :]
        return [(bi * scaled[i][None, :]) @ xp.transpose(c)
                for i, bi in enumerate(self.evolving_factors())]

    def full(self) -> Any:
        """The ``(I, J, K)`` tensor, when every slice has the same height ``J``."""
        heights = {self.backend.shape(p)[0] for p in self.projections}
        if len(heights) != 1:
            raise ShapeError(f"Parafac2Tensor.full: the slices have different heights "
                             f"{sorted(heights)}; use .slices()")
        return self.backend.stack(self.slices())

    def __repr__(self) -> str:
        heights = [self.backend.shape(p)[0] for p in self.projections]
        width = self.backend.shape(self.factors[2])[0]
        return (f"Parafac2Tensor(rank={self.rank}, slices={len(heights)}, heights "
                f"{min(heights)}..{max(heights)}, columns {width})")


@host_eager
def parafac2(slices: Any, rank: int, max_iter: int = 500, tol: float = DefaultTol(1e-8),
             init: Any = "svd", seed: Any = None, return_info: bool = False,
             inner: int = 5, linesearch: bool = True, l2_reg: float = 0.0,
             callback: Callable | None = None, verbose: bool = False,
             progress: bool = False) -> Any:
    """Fit a rank-`rank` PARAFAC2 model by direct-fitting ALS.

    Parameters
    ----------
    slices : sequence of (J_i, K) arrays, or an (I, J, K) array
        The slices ``X_i``; their heights ``J_i`` may differ, their width ``K`` not.
    rank : int
    max_iter : int, optional
        Maximum number of iterations (each: new projections, then `inner` ALS sweeps).
    tol : float, optional
        Stop when the relative error changes by less than `tol` between iterations (0:
        run all); raised to four machine epsilons of the data's dtype.
    init : {"svd", "random"}, optional
        ``"svd"``: ``C`` from the leading eigenvectors of ``Σ X_i^T X_i`` (random columns
        past ``K``), ``A`` ones and ``B`` the identity (TensorLy's start); ``"random"``:
        seeded uniform ``A``, ``B`` and ``C`` on ``[0, 1)``. PARAFAC2 has local minima:
        where the fit stalls above the noise, fits from a few random starts and keeping
        the best is the usual remedy.
    seed : int, optional
    return_info : bool, optional
        Also return a :class:`~tnlib.cp.CPInfo` (``errors``: relative error
        ``‖X - X̂‖ / ‖X‖`` per iteration, over all slices).
    inner : int, optional
        ALS sweeps on the projected tensor per update of the projections (as TensorLy);
        the projections, an SVD per slice, cost more than a sweep when the slices are
        much taller than the rank.
    linesearch : bool, optional
        Extrapolate each iteration's step (Bro 1998): on exact rank-3 data, 1e-8 in about
        200 iterations instead of 2,400.
    l2_reg : float, optional
        Ridge term in each least-squares problem of the ALS sweeps.
    callback, verbose, progress : optional
        As for :func:`~tnlib.cp.cp_als`.

    Returns
    -------
    Parafac2Tensor, or (Parafac2Tensor, CPInfo)
        On the backend, dtype and device of the slices.

    Notes
    -----
    The error comes from ``Σ ‖X_i‖² - ‖Y‖²`` (the part of the data outside the
    projections), a difference of squares; where that cancels (errors below about the
    square root of the dtype's resolution, 1e-7 in float64) it is recomputed from the
    residual itself, one more pass over the data. PARAFAC2, like CP,
    can converge slowly through swamps; a :class:`~tnlib.errors.ConvergenceWarning`
    says when `max_iter` stopped it.

    References
    ----------
    H. A. L. Kiers, J. M. F. ten Berge, R. Bro, "PARAFAC2 -- Part I. A direct fitting
    algorithm for the PARAFAC2 model", J. Chemometrics 13 (1999).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import cp
    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.uniform(0.2, 1.8, (6, 2)), np.eye(2) + 0.4 * rng.standard_normal((2, 2))
    >>> c = rng.standard_normal((8, 2))
    >>> xs = [np.linalg.qr(rng.standard_normal((10 + i, 2)))[0] @ b @ np.diag(a[i]) @ c.T
    ...       for i in range(6)]                          # heights 10 ... 15
    >>> model = cp.parafac2(xs, 2, tol=1e-12)
    >>> err = np.sqrt(sum(np.sum((s - x) ** 2) for s, x in zip(model.slices(), xs)))
    >>> bool(err < 1e-8 * np.sqrt(sum(np.sum(x ** 2) for x in xs)))
    True
    """
    where = "parafac2"
    rank = check_positive_int(rank, where, "rank")
    data = _prepare(slices, rank, where)
    xp, groups, order, width = data.xp, data.groups, data.order, data.width
    max_iter = check_positive_int(max_iter, where, "max_iter")
    inner = check_positive_int(inner, where, "inner")
    if not isinstance(linesearch, (bool, np.bool_)):
        raise ArgumentError(f"{where}: linesearch must be True or False, got {linesearch!r}")
    l2_reg = check_eps(l2_reg, where, "l2_reg")
    like = groups[0][1]
    tol = honour_eps(check_eps(tol, where, "tol"), xp, like, where, name="tol")
    rng = rng_of(seed, where)
    n_slices = len(order)
    norm_sq = sum(float(xp.item(xp.sum(x * x))) for _, x in groups)
    factors = _start(groups, n_slices, width, rank, init, rng, xp, where)
    info, timer = CPInfo(), Timer()
    if norm_sq == 0:
        info.errors, info.converged = [0.0], True
        info.stop_reason = "the slices are zero: zero weights are exact"
        zero = xp.zeros((rank,), dtype=xp.dtype(like), device=xp.device(like))
        projections = _projections([x for _, x in groups], factors, zero + 1, xp)
        return _result(zero, factors, projections, data, info, return_info)
    fit = _Fit(xp, [x for _, x in groups], norm_sq, inner, l2_reg, linesearch)
    report = Reporter(where, max_iter, verbose, progress, callback)
    weights, projections, prev_err = None, None, None
    for it in range(1, max_iter + 1):
        new_factors, new_weights, new_proj, err_sq, max_weight = fit.iterate(it, factors)
        err = math.sqrt(max(err_sq, 0.0)) / fit.norm
        if not math.isfinite(err):
            info.stop_reason = "non-finite values; returning the last finite iterate"
            break
        factors, weights, projections = new_factors, new_weights, new_proj
        if record_sweep(info, it, err, max_weight, prev_err, tol, timer, report):
            break
        prev_err = err
    report.close()
    if projections is None:  # no finite iteration: the start
        weights = xp.ones((rank,), dtype=xp.dtype(like), device=xp.device(like))
        projections = _projections([x for _, x in groups], factors, weights, xp)
    info.wall_time = timer()
    stopped_short(info, max_iter, tol, rank, where)
    return _result(weights, factors, projections, data, info, return_info)


class _Fit:
    """The iterations of :func:`parafac2`: an ALS iteration (:func:`_iteration`), then,
    with `linesearch`, Bro's extrapolation of the factors along the last step by
    ``it^(1/p)``, kept when its error (new projections for the extrapolated factors) is
    lower; after 4 failures in a row ``p`` grows by one (Bro 1998, as in TensorLy). Each
    evaluation reads one small array."""

    def __init__(self, xp: Any, xs: list, norm_sq: float, inner: int, l2_reg: float,
                 linesearch: bool) -> None:
        like = xs[0]
        self.xp, self.xs, self.linesearch = xp, xs, linesearch
        self.total = xp.asarray(norm_sq, dtype=xp.dtype(like), device=xp.device(like))
        self.norm = math.sqrt(norm_sq)
        self.step = compiled(xp, _iteration, inner=inner, l2_reg=l2_reg)
        self.trial = compiled(xp, _evaluated)
        self.residual = compiled(xp, _residual_sq)
        # Σ‖X_i‖² - ‖Y‖² cancels for close fits: below this its value is rounding
        self.floor_sq = _RESOLVED * xp.finfo_eps(like) * norm_sq
        self.cached: tuple = (None, 0.0)
        self.weights = None  # of the current factors (None: ones)
        self.prev = None  # the previous iterate, weights in A
        self.power, self.fails = 2.0, 0

    def iterate(self, it: int, factors: list) -> tuple:
        """``(factors, weights, projections, ‖X - X̂‖², max |w|)`` after `factors`."""
        xp = self.xp
        w = self.weights if self.weights is not None else xp.ones_like(factors[0][0])
        fs, weights, proj, stats = self.step(self.xs, factors, w, self.total)
        err_sq, top = (float(v) for v in xp.to_numpy(stats))
        err_sq = self._resolved(err_sq, fs, weights, proj)
        full = [fs[0] * weights[None, :], fs[1], fs[2]]
        if self.linesearch and it % 2 == 0 and self.prev is not None and \
                math.isfinite(err_sq):
            jump = it ** (1.0 / self.power)
            trial = [f + jump * (f - p) for f, p in zip(full, self.prev)]
            t_fs, t_w, t_proj, t_stats = self.trial(self.xs, trial, self.total)
            t_err, t_top = (float(v) for v in xp.to_numpy(t_stats))
            if t_err < err_sq and self._resolved(t_err, t_fs, t_w, t_proj) < err_sq:
                fs, weights, proj, top = t_fs, t_w, t_proj, t_top
                err_sq = self._resolved(t_err, t_fs, t_w, t_proj)
                full, self.fails = trial, 0
            else:
                self.fails += 1
                if self.fails == 4:
                    self.power, self.fails = self.power + 1.0, 0
        self.prev, self.weights = full, weights
        return fs, weights, proj, err_sq, top

    def _resolved(self, err_sq: float, fs: list, weights: Any, proj: list) -> float:
        """`err_sq`, or where the difference of squares cancelled (below about sqrt(eps)
        relative) the residual itself, formed from the slices (remembered per iterate:
        the line search asks twice)."""
        if not (math.isfinite(err_sq) and err_sq < self.floor_sq):
            return err_sq
        # keyed by the projections themselves, held: an id() of a freed list can return
        # for a later iterate's list and hand back a stale residual
        if self.cached[0] is not proj:
            self.cached = (proj, float(self.xp.item(self.residual(self.xs, fs, weights,
                                                                  proj))))
        return self.cached[1]


def _prepare(slices: Any, rank: int, where: str) -> tuple:
    """The slices checked, grouped by height (shorter slices padded with zero rows, see
    :func:`_buckets`), at unit scale (one divisor for all) and at least in float32."""
    if hasattr(slices, "shape") and not isinstance(slices, (list, tuple)):
        xp = backend_of(slices)
        if xp.ndim(slices) != 3:
            raise ShapeError(f"{where}: slices must be a sequence of (J_i, K) matrices or an "
                             f"(I, J, K) array, got an array of shape {xp.shape(slices)}")
        slices = [slices[i] for i in range(xp.shape(slices)[0])]
    if not isinstance(slices, (list, tuple)) or not slices:
        raise ShapeError(f"{where}: slices must be a non-empty sequence of (J_i, K) matrices "
                         f"or an (I, J, K) array, got {type(slices).__name__}")
    xp = backend_of(*slices)
    for i, s in enumerate(slices):
        if not xp.is_array(s):
            raise ShapeError(f"{where}: slice {i} must be a 2-D (J_{i}, K) array, got "
                             f"{type(s).__name__}")
    if any(xp.is_traced(s) for s in slices):
        raise traced_read_error(where)  # (the checks and each iteration's stop read values)
    width, kind = None, xp.dtype_name(slices[0])
    for i, s in enumerate(slices):
        if xp.ndim(s) != 2 or 0 in xp.shape(s):
            raise ShapeError(f"{where}: slice {i} must be a non-empty 2-D (J_{i}, K) array, "
                             f"got shape {xp.shape(s)}")
        if width is None:
            width = xp.shape(s)[1]
        elif xp.shape(s)[1] != width:
            raise ShapeError(f"{where}: slice {i} has {xp.shape(s)[1]} columns but slice 0 has "
                             f"{width}; the slices share their second mode")
        if xp.dtype_name(s) != kind:
            raise ArgumentError(f"{where}: slice {i} has dtype {xp.dtype_name(s)} but slice 0 "
                                f"has {kind}")
    if kind.startswith("complex"):
        raise ArgumentError(f"{where}: the slices are complex; PARAFAC2 here fits real data")
    if kind.startswith(("int", "uint")) or kind == "bool":
        slices = [xp.astype(s, xp.resolve_dtype(None)) for s in slices]
    elif kind in ("float16", "bfloat16"):  # QR and SVD in half precision: unavailable
        slices = [xp.astype(s, "float32") for s in slices]
    elif kind not in ("float32", "float64"):
        raise ArgumentError(f"{where}: the slices have dtype {kind}; expected real numbers")
    for i, s in enumerate(slices):
        check_finite(s, xp, where, f"slice {i}")
    groups = [(members, _padded([slices[i] for i in members], xp))
              for members in _buckets([xp.shape(s)[0] for s in slices], rank)]
    peak = max(float(xp.item(xp.max(xp.abs(x)))) for _, x in groups)
    scale = None
    if groups:
        _, scale = divided_by_peak(groups[0][1], peak, xp)
        if scale is not None:
            groups = [(m, x / scale) for m, x in groups]
    order = [i for members, _ in groups for i in members]
    return _Slices(xp, groups, order, width, scale, [xp.shape(s)[0] for s in slices],
                   kind if kind in ("float16", "bfloat16") else None)


class _Slices(NamedTuple):
    """The slices as :func:`parafac2` works on them (see :func:`_prepare`)."""

    xp: Any
    groups: list     # (positions, (m, J, K) stack padded with zero rows)
    order: list      # slice positions in the groups' concatenated order
    width: int       # K
    scale: Any       # the divisor that brought the data to unit scale, or None
    heights: list    # J_i, in the slices' order
    half: Any        # "float16"/"bfloat16" for data fitted in float32, else None


def _buckets(heights: list, rank: int, waste: float = 1.25) -> list:
    """Slice positions grouped for batched work: by decreasing height, each group as
    long as padding its members to its tallest adds at most `waste` - 1 of their rows.
    Zero rows change neither the projected slices nor, through Householder QR, the rows
    of the projections that matter (they stay zero there). Slices lower than the rank
    (whose projections have orthonormal rows) are grouped by exact height."""
    low: dict = {}
    out, current, total = [], [], 0
    for i in sorted(range(len(heights)), key=lambda i: -heights[i]):
        h = heights[i]
        if h < rank:
            low.setdefault(h, []).append(i)
            continue
        if current and (len(current) + 1) * heights[current[0]] > waste * (total + h):
            out.append(current)
            current, total = [], 0
        current.append(i)
        total += h
    if current:
        out.append(current)
    return out + list(low.values())


def _padded(mats: list, xp: Any) -> Any:
    """The matrices stacked, the shorter ones padded with zero rows at the bottom."""
    top = max(xp.shape(m)[0] for m in mats)
    return xp.stack([m if xp.shape(m)[0] == top else xp.concatenate(
        [m, xp.zeros((top - xp.shape(m)[0], xp.shape(m)[1]), dtype=xp.dtype(m),
                     device=xp.device(m))], axis=0) for m in mats])


def _start(groups: list, n_slices: int, width: int, rank: int, init: Any, rng: Any, xp: Any,
           where: str) -> list:
    """``[A, B, C]`` to start from (see :func:`parafac2`'s `init`); `A`'s rows in the
    groups' order."""
    like = groups[0][1]
    dt, dev = xp.dtype(like), xp.device(like)
    check_option(init, ("svd", "random"), where, "init")
    c = xp.random_uniform((width, rank), seed=rng, dtype=dt, device=dev)
    if init == "random":  # uniform on [0, 1), as TensorLy's: Gaussian ones stall more often
        a = xp.random_uniform((n_slices, rank), seed=rng, dtype=dt, device=dev)
        b = xp.random_uniform((rank, rank), seed=rng, dtype=dt, device=dev)
        return [a, b, c]
    else:
        cross = None
        for _, x in groups:
            g = xp.einsum("mjk,mjl->kl", x, x)
            cross = g if cross is None else cross + g
        top = min(rank, width)
        _, vecs = xp.eigh(cross)
        lead = xp.flip(vecs, 1)[:, :top]
        c = lead if top == rank else xp.concatenate([lead, c[:, top:]], axis=1)
        a = xp.ones((n_slices, rank), dtype=dt, device=dev)
    return [a, xp.eye(rank, dtype=dt, device=dev), c]


def _projections(xs: list, factors: list, weights: Any, xp: Any) -> list:
    """Per stack of slices (`xs`, the groups' (m, J, K) arrays), the (m, J, R) stack of
    their Procrustes projections: the polar factor of ``Z_i = X_i C diag(w ∘ a_i) B^T``, as
    ``Q polar(R)`` from the QR of ``Z_i`` (whose zero rows, the padding, stay zero in
    ``Q``) and an SVD of the small ``R``."""
    a, b, c = factors
    r = xp.shape(b)[0]
    out, start = [], 0
    for x in xs:
        m = xp.shape(x)[0]
        rows = a[start:start + m] * weights[None, :]
        start += m
        z = ((x @ c) * rows[:, None, :]) @ xp.transpose(b)
        if xp.shape(x)[1] >= r:
            q, small = xp.qr(z, signs=False)
            u, _, vh = xp.svd(small)
            out.append(q @ (u @ vh))
        else:  # lower than the rank, never padded: orthonormal rows
            u, _, vh = xp.svd(z)
            out.append(u @ vh)
    return out


def _projected(projections: list, xs: list, xp: Any) -> Any:
    """``Y_i = P_i^T X_i`` of every slice, (I, R, K) in the groups' order."""
    return xp.concatenate([xp.transpose(p, (0, 2, 1)) @ x for p, x in zip(projections, xs)],
                          axis=0)


def _iteration(xs: list, factors: list, weights: Any, norm_sq: Any, inner: int,
               l2_reg: float, xp: Any) -> tuple:
    """New projections, then `inner` ALS sweeps on the projected tensor; returns the
    factors (unit columns), weights, projections and ``[‖X - X̂‖², max |w|]``."""
    projections = _projections(xs, factors, weights, xp)
    y = _projected(projections, xs, xp)
    a, b, c = factors
    r = xp.shape(b)[0]
    shifts = _shifts(r, l2_reg, b, xp)
    grams = [_gram(a, xp), _gram(b, xp), _gram(c, xp)]
    fs = [a, b, c]
    for _ in range(inner):
        for k, eq in enumerate(("irk,rq,kq->iq", "irk,iq,kq->rq", "irk,iq,rq->kq")):
            others = [fs[j] for j in range(3) if j != k]
            mttkrp = xp.einsum(eq, y, *others)
            fs[k], weights = unit_columns(_solve_mode(mttkrp, grams, k, shifts, xp), xp)
            grams[k] = _gram(fs[k], xp)
    model = xp.einsum("q,iq,rq,kq->irk", weights, *fs)
    y_sq = xp.sum(y * y)
    err_sq = norm_sq - y_sq + xp.sum((y - model) ** 2)
    return fs, weights, projections, xp.stack([err_sq, xp.max(xp.abs(weights))])


def _evaluated(xs: list, factors: list, norm_sq: Any, xp: Any) -> tuple:
    """The projections of given factors (weights inside them) and the error of the model
    they make, without an ALS sweep; the factors returned with unit columns."""
    ones = xp.ones_like(factors[0][0])
    projections = _projections(xs, factors, ones, xp)
    y = _projected(projections, xs, xp)
    model = xp.einsum("iq,rq,kq->irk", *factors)
    err_sq = norm_sq - xp.sum(y * y) + xp.sum((y - model) ** 2)
    fs, weights = [], ones
    for f in factors:
        f, n = unit_columns(f, xp)
        fs.append(f)
        weights = weights * n
    return fs, weights, projections, xp.stack([err_sq, xp.max(xp.abs(weights))])


def _residual_sq(xs: list, factors: list, weights: Any, projections: list, xp: Any) -> Any:
    """``Σ ‖X_i - P_i B diag(w ∘ a_i) C^T‖²`` formed slice by slice (one more pass over
    the data), for fits too close for the difference of squares to resolve."""
    a, b, c = factors
    total, start = None, 0
    for p, x in zip(projections, xs):
        m = xp.shape(x)[0]
        rows = a[start:start + m] * weights[None, :]
        start += m
        model = p @ ((b[None, :, :] * rows[:, None, :]) @ xp.transpose(c))
        part = xp.sum((x - model) ** 2)
        total = part if total is None else total + part
    return total


def _result(weights: Any, factors: list, projections: list, data: _Slices, info: CPInfo,
            return_info: bool) -> Any:
    """The Parafac2Tensor in the slices' own order and dtype, its weights at the data's
    scale."""
    xp, order = data.xp, data.order
    a, b, c = factors
    inverse = np.argsort(order)
    a = xp.take(a, xp.asarray(inverse, device=xp.device(a)), axis=0)
    a, na = unit_columns(a, xp)
    b, nb = unit_columns(b, xp)
    c, nc = unit_columns(c, xp)
    weights = scaled_back(weights * na * nb * nc, data.scale, xp, "parafac2")
    flat = [p for stack in projections for p in (stack[j] for j in range(xp.shape(stack)[0]))]
    ordered = [flat[j][:data.heights[i]] for i, j in enumerate(inverse)]
    parts = [weights, a, b, c, *ordered]
    if data.half:
        parts = [xp.astype(v, data.half) for v in parts]
        within_range(parts[0], xp, "parafac2", "a weight")
    out = Parafac2Tensor(parts[0], parts[1:4], parts[4:])
    return (out, info) if return_info else out
