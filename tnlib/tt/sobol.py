"""Sobol sensitivity indices of a function given as a train of values on a tensor grid.

With independent inputs, ``x_k`` distributed by the weights ``w_k`` on the grid points
of mode ``k``, the variance of ``f`` splits by the inputs it involves (the ANOVA
decomposition). The first-order index ``S_k = Var(E[f | x_k]) / Var f`` is the share of
the variance explained by ``x_k`` alone; the total index ``T_k = E[Var(f | x_{~k})] /
Var f`` the share of every term that involves ``x_k`` (Sobol 2001). On a train both are
contractions (Ballester-Ripoll, Paredes, Pajarola 2019):

* ``E[f | x_k]`` is the marginal of the weighted train over the other modes;
* ``f - E[f | x_{~k}]`` differs from ``f`` in core ``k`` only (its slices less their
  weighted mean), so ``T_k Var f`` is the squared norm of a train of the same ranks --
  never a difference of two large numbers.

All indices together cost one orthogonalization sweep each way, ``O(d n r³)``: in the
form orthonormal around core ``k`` both shares are read from that core alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._info import grouped
from .._validation import check_finite_cores
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ._env import right_orthogonalize_scaled
from .round import peak
from .tensor import TTTensor

__all__ = ["SobolIndices", "sobol", "sobol_pairs"]


class SobolIndices(NamedTuple):
    """Sobol indices of every input, and the moments they are relative to; 1-D arrays of
    length ``d`` and 0-d arrays, on the train's backend."""

    first: Any
    total: Any
    variance: Any
    mean: Any


@host_eager
def sobol(x: TTTensor, weights: Sequence[Any] | None = None) -> SobolIndices:
    """First-order and total Sobol indices of the function whose grid values are `x`.

    Parameters
    ----------
    x : TTTensor
        Real values ``f(i_1, …, i_d)`` on a tensor grid.
    weights : sequence of d 1-D arrays, optional
        The distribution of each input on its grid points (quadrature weights of a
        density; normalized to sum to 1). Default: uniform.

    Returns
    -------
    SobolIndices
        ``first[k] = Var(E[f | x_k]) / Var f``, ``total[k] = E[Var(f | x_{~k})] / Var f``
        (``first <= total``, ``Σ first <= 1 <= Σ total``), the variance and the mean. A
        constant function (a standard deviation within ``d`` roundings of the mean) has
        variance 0 and all indices 0. The indices are formed
        relative to the standard deviation, so values near the float limits give exact
        indices (the variance itself is inf past about 1e154 in float64).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> t = np.linspace(-1, 1, 5)
    >>> f = tt.tt_svd(t[:, None, None] + 2 * t[None, :, None] * t[None, None, :])
    >>> s = tt.sobol(f)                  # x_0 alone: 1/3; x_1 and x_2 only together: 2/3
    >>> np.round(s.first, 4), np.round(s.total, 4)
    (array([0.3333, 0.    , 0.    ]), array([0.3333, 0.6667, 0.6667]))
    """
    scaled, roots, mean, spread, positive = _centred(x, weights, "sobol")
    xp = x.backend
    first, total = _shares(scaled, roots, xp)
    zero = xp.zeros_like(first)
    first, total = xp.where(positive, first, zero), xp.where(positive, total, zero)
    with np.errstate(over="ignore", under="ignore"):
        variance = spread * spread  # (beyond the float range for values past 1e154)
    return SobolIndices(first, total, variance, mean)


@host_eager
def sobol_pairs(x: TTTensor, weights: Sequence[Any] | None = None) -> Any:
    """Second-order Sobol indices: the share of the variance in each pair of inputs'
    interaction alone.

    ``S[i, j] = Var(f_ij) / Var f`` for ``i != j``, with ``f_ij = E[f | x_i, x_j] -
    E[f | x_i] - E[f | x_j] + E f`` the pair's term of the ANOVA decomposition (Sobol
    2001): the closed index of the pair is ``first[i] + first[j] + S[i, j]``, and
    ``Σ first + Σ_{i<j} S[i, j] <= 1`` (the rest is in higher-order interactions). The
    pair's conditional mean is read from a core in the form orthonormal around it and the
    modes up to its partner (``O(d² n r²)`` for all pairs); ``f_ij`` is that matrix
    projected off the weights' constants on both sides, never a difference of indices.

    Parameters
    ----------
    x : TTTensor
        Real values ``f(i_1, …, i_d)`` on a tensor grid.
    weights : sequence of d 1-D arrays, optional
        As for :func:`sobol`.

    Returns
    -------
    (d, d) array
        Symmetric, zero on the diagonal, on the train's backend (all zero for a constant
        function).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> t = np.linspace(-1, 1, 5)
    >>> f = tt.tt_svd(t[:, None, None] + 2 * t[None, :, None] * t[None, None, :])
    >>> np.round(tt.sobol_pairs(f), 4)       # x_1 and x_2 act only together: 2/3
    array([[0.    , 0.    , 0.    ],
           [0.    , 0.    , 0.6667],
           [0.    , 0.6667, 0.    ]])
    """
    scaled, roots, _, _, positive = _centred(x, weights, "sobol_pairs")
    xp = x.backend
    pairs = _pair_shares(scaled, roots, xp)
    return xp.where(positive, pairs, xp.zeros_like(pairs))


def _centred(x: Any, weights: Any, where: str) -> tuple:
    """The centred train (rank + 1) with each mode scaled by the root weights -- its
    squared norm is the variance, its orthogonal forms give every share at unit scale --
    with the root weights, the mean, the spread (standard deviation) and whether it is
    one (a 0-d boolean array)."""
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"{where}: x must be a TTTensor, got {type(x).__name__}")
    xp = x.backend
    if xp.is_complex(x.cores[0]):
        raise ArgumentError(f"{where}: x is complex; Sobol indices split the variance of a "
                            "real function")
    # NaN cores would make the spread NaN, read below as "no variation": indices of 0
    check_finite_cores(x, where, "x")
    w = _weights(weights, x, xp, where)
    mean = _weighted_sum(list(x.cores), w, xp)
    roots = [xp.sqrt(v) for v in w]
    scaled = [c * r[None, :, None] for c, r in zip((x - mean).cores, roots)]
    spread = TTTensor._from_cores(scaled, xp).norm()
    # a spread within the rounding of the mean (of the values themselves) is no variation:
    # orthogonal forms would blow that noise up to shares of order 1
    positive = spread > x.ndim * xp.finfo_eps(spread) * xp.abs(mean)
    spread = xp.where(positive, spread, xp.zeros_like(spread))
    return scaled, roots, mean, spread, positive


def _right_contractions(cores: list, roots: list, xp: Any) -> list:
    """``rights[k]``: the cores after ``k`` (right-orthonormal) contracted with their root
    weights, ``(r_{k+1}, 1)`` columns of norm at most 1."""
    d = len(cores)
    rights = [None] * d
    r = xp.ones((1, 1), dtype=xp.dtype(cores[0]), device=xp.device(cores[0]))
    rights[d - 1] = r
    for k in range(d - 1, 0, -1):
        r = _contract_right(xp, cores[k], roots[k], r)
        rights[k - 1] = r
    return rights


def _pair_shares(cores: list, roots: list, xp: Any) -> Any:
    """``S[i, j]``: in the form orthonormal around core ``i`` (``C``), the pair's scaled
    conditional mean is ``G(a, b) = l C(a) P Y_j(b) r`` (``P`` the root-weighted cores
    between, ``Y_j`` core ``j`` right-orthonormal, ``r = rights[j]``), and its ANOVA term
    ``(I - ρ_i ρ_iᵀ) G (I - ρ_j ρ_jᵀ)``."""
    cores, _ = right_orthogonalize_scaled(xp, cores)
    d = len(cores)
    rights = _right_contractions(cores, roots, xp)
    core = _unit(xp, cores[0])
    left = xp.ones((1, 1), dtype=xp.dtype(core), device=xp.device(core))
    zero = xp.zeros((), dtype=xp.real_dtype(core), device=xp.device(core))
    rows = []
    for i in range(d):
        row = [zero] * (i + 1)
        block = _block(xp, left, core)  # (n_i, r_{i+1}): l C(a)
        for j in range(i + 1, d):
            share, block = _pair_step(xp, block, cores[j], roots[i], roots[j], rights[j])
            row.append(share)
        rows.append(xp.stack(row))
        if i < d - 1:
            left, core = _step_left(xp, left, core, roots[i], cores[i + 1])
    upper = xp.stack(rows)
    return upper + xp.transpose(upper)


@grouped
def _block(xp: Any, left: Any, core: Any) -> Any:
    return xp.einsum("ab,bnc->nc", left, core)


@grouped
def _pair_step(xp: Any, block: Any, core: Any, root_i: Any, root_j: Any, right: Any
               ) -> tuple[Any, Any]:
    """The pair's share, and `block` carried through core ``j`` (weighted by its roots)."""
    g = xp.einsum("nc,cmd,de->nm", block, core, right)
    g = g - root_i[:, None] * xp.einsum("n,nm->m", root_i, g)[None, :]
    g = g - xp.einsum("nm,m->n", g, root_j)[:, None] * root_j[None, :]
    return xp.sum(xp.abs(g) ** 2), xp.einsum("nc,cmd,m->nd", block, core, root_j)


def _shares(cores: list, roots: list, xp: Any) -> tuple[Any, Any]:
    """Every first-order and total share of ``‖y‖²`` for the scaled centred train ``y``,
    in one right-to-left orthogonalization and one left-to-right sweep.

    In the form orthonormal on both sides of core ``k`` (``C``, of unit norm after one
    division), ``ρ = √w_k``:

    * ``T_k = ‖(I - ρ ρᵀ) C‖²``: ``y`` less its weighted mean over ``x_k`` differs in this
      core only, by that projection of its mode index;
    * ``S_k = Σ_i (l C(i) r)²``: ``l`` and ``r`` contract the orthonormal cores on each
      side with their ``ρ`` (vectors of norm at most 1), so ``l C(i) r / ρ(i)`` is
      ``E[f | x_k = i]`` relative to the standard deviation.
    """
    cores, _ = right_orthogonalize_scaled(xp, cores)
    d = len(cores)
    rights = _right_contractions(cores, roots, xp)
    core = _unit(xp, cores[0])
    left = xp.ones((1, 1), dtype=xp.dtype(core), device=xp.device(core))
    firsts, totals = [], []
    for k in range(d):
        first, total = _core_shares(xp, left, core, roots[k], rights[k])
        firsts.append(first)
        totals.append(total)
        if k < d - 1:
            left, core = _step_left(xp, left, core, roots[k], cores[k + 1])
    return xp.stack(firsts), xp.stack(totals)


@grouped
def _contract_right(xp: Any, core: Any, root: Any, r: Any) -> Any:
    """``Σ_i ρ(i) core(i) r``: the right contraction with the root weights, ``(r_k, 1)``."""
    return xp.einsum("anb,n,bc->ac", core, root, r)


@grouped
def _core_shares(xp: Any, left: Any, core: Any, root: Any, right: Any) -> tuple[Any, Any]:
    marginal = xp.einsum("ab,bnc,cd->n", left, core, right)
    mean_slice = xp.einsum("anb,n->ab", core, root)
    rest = core - mean_slice[:, None, :] * root[None, :, None]
    return xp.sum(marginal * marginal), xp.sum(xp.abs(rest) ** 2)


@grouped
def _step_left(xp: Any, left: Any, core: Any, root: Any, nxt: Any) -> tuple[Any, Any]:
    """Core ``k`` made left-orthonormal (its R factor into the next core) and the left
    contraction carried through it."""
    r, n, rr = xp.shape(core)
    q, rf = xp.qr(xp.reshape(core, (r * n, rr)), signs=False)
    q = xp.reshape(q, (r, n, xp.shape(q)[1]))
    _, n2, r2 = xp.shape(nxt)
    nxt = xp.reshape(rf @ xp.reshape(nxt, (rr, n2 * r2)), (xp.shape(rf)[0], n2, r2))
    return xp.einsum("ab,bnc,n->ac", left, q, root), nxt


@grouped
def _unit(xp: Any, core: Any) -> Any:
    """`core` divided by its norm (a zero core stays zero), safe from overflow."""
    core = core / xp.astype(peak(core, xp), xp.dtype(core))
    nrm = xp.norm(core)
    return core / xp.astype(xp.where(nrm > 0, nrm, xp.ones_like(nrm)), xp.dtype(core))


def _weights(weights: Any, x: TTTensor, xp: Any, where: str = "sobol") -> list:
    """The weights as backend vectors of the train's real dtype, each summing to 1."""
    c0 = x.cores[0]
    dt, dev = xp.real_dtype(c0), xp.device(c0)
    if weights is None:
        return [xp.asarray(np.full(n, 1.0 / n), dtype=dt, device=dev) for n in x.shape]
    try:
        items = list(weights)
    except TypeError:
        raise ArgumentError(f"{where}: weights must be None or a sequence of {x.ndim} vectors, "
                            f"got {type(weights).__name__}") from None
    if len(items) != x.ndim:
        raise ShapeError(f"{where}: weights has {len(items)} vectors for {x.ndim} modes")
    out = []
    for k, (v, n) in enumerate(zip(items, x.shape)):
        try:
            host = np.asarray(xp.to_numpy(v) if xp.is_array(v) else v, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError(f"{where}: weights[{k}] must be a vector of numbers") from None
        if host.shape != (n,):
            raise ShapeError(f"{where}: weights[{k}] must have shape ({n},), got {host.shape}")
        if not (np.all(np.isfinite(host)) and np.all(host >= 0) and host.sum() > 0):
            raise ArgumentError(f"{where}: weights[{k}] must be finite, non-negative and not "
                                "all zero")
        out.append(xp.asarray(host / host.sum(), dtype=dt, device=dev))
    return out


def _weighted_sum(cores: list, w: list, xp: Any) -> Any:
    """``Σ_i f(i) Π_k w_k(i_k)``, a 0-d array (the mean)."""
    from .algebra import tt_sum

    return tt_sum(TTTensor._from_cores([c * v[None, :, None] for c, v in zip(cores, w)], xp))
