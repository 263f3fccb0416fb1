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

All indices together cost ``O(d² n r²)`` for the first-order ones and ``O(d² n r³)`` for
the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..errors import ArgumentError, ShapeError
from .tensor import TTTensor

__all__ = ["SobolIndices", "sobol"]


class SobolIndices(NamedTuple):
    """Sobol indices of every input, and the moments they are relative to; 1-D arrays of
    length ``d`` and 0-d arrays, on the train's backend."""

    first: Any
    total: Any
    variance: Any
    mean: Any


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
        constant function has variance 0 and all indices 0. The indices are formed
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
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"sobol: x must be a TTTensor, got {type(x).__name__}")
    xp = x.backend
    if xp.is_complex(x.cores[0]):
        raise ArgumentError("sobol: x is complex; Sobol indices split the variance of a real "
                            "function")
    w = _weights(weights, x, xp)
    cores = list(x.cores)
    mean = _weighted_sum(cores, w, xp)
    centred = list((x - mean).cores)  # rank + 1; its weighted mean is zero
    roots = [xp.sqrt(v) for v in w]
    scaled = [c * r[None, :, None] for c, r in zip(centred, roots)]
    # every share is formed relative to the standard deviation before it is squared: the
    # squares of values of 1e200 (or 1e-200) would overflow (underflow) on the way
    spread = TTTensor._from_cores(scaled, xp).norm()
    positive = spread > 0
    unit = xp.where(positive, spread, xp.ones_like(spread))
    firsts, totals = [], []
    weighted = [c * v[None, :, None] for c, v in zip(centred, w)]
    for k in range(x.ndim):
        firsts.append(_first_order(weighted, w[k], k, unit, xp))
        mean_k = xp.sum(weighted[k], axis=1)  # (r, r'): the core's weighted mean slice
        delta = (centred[k] - mean_k[:, None, :]) * roots[k][None, :, None]
        parts = scaled[:k] + [delta] + scaled[k + 1:]
        totals.append((TTTensor._from_cores(parts, xp).norm() / unit) ** 2)
    zero = xp.zeros_like(spread)
    first = xp.stack([xp.where(positive, v, zero) for v in firsts])
    total = xp.stack([xp.where(positive, v, zero) for v in totals])
    with np.errstate(over="ignore", under="ignore"):
        variance = spread * spread  # (beyond the float range for values past 1e154)
    return SobolIndices(first, total, variance, mean)


def _weights(weights: Any, x: TTTensor, xp: Any) -> list:
    """The weights as backend vectors of the train's real dtype, each summing to 1."""
    c0 = x.cores[0]
    dt, dev = xp.real_dtype(c0), xp.device(c0)
    if weights is None:
        return [xp.asarray(np.full(n, 1.0 / n), dtype=dt, device=dev) for n in x.shape]
    try:
        items = list(weights)
    except TypeError:
        raise ArgumentError(f"sobol: weights must be None or a sequence of {x.ndim} vectors, "
                            f"got {type(weights).__name__}") from None
    if len(items) != x.ndim:
        raise ShapeError(f"sobol: weights has {len(items)} vectors for {x.ndim} modes")
    out = []
    for k, (v, n) in enumerate(zip(items, x.shape)):
        try:
            host = np.asarray(xp.to_numpy(v) if xp.is_array(v) else v, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError(f"sobol: weights[{k}] must be a vector of numbers") from None
        if host.shape != (n,):
            raise ShapeError(f"sobol: weights[{k}] must have shape ({n},), got {host.shape}")
        if not (np.all(np.isfinite(host)) and np.all(host >= 0) and host.sum() > 0):
            raise ArgumentError(f"sobol: weights[{k}] must be finite, non-negative and not "
                                "all zero")
        out.append(xp.asarray(host / host.sum(), dtype=dt, device=dev))
    return out


def _weighted_sum(cores: list, w: list, xp: Any) -> Any:
    """``Σ_i f(i) Π_k w_k(i_k)``, a 0-d array (the mean)."""
    from .algebra import tt_sum

    return tt_sum(TTTensor._from_cores([c * v[None, :, None] for c, v in zip(cores, w)], xp))


def _first_order(weighted: list, w_k: Any, k: int, unit: Any, xp: Any) -> Any:
    """``Var(E[f | x_k]) / unit² = Σ_i w_k(i) g(i)²`` with ``g(i) = m(i) / (w_k(i) unit)``,
    ``m`` the marginal of the weighted (centred) train on mode ``k``."""
    from .marginal import sum_over

    d = len(weighted)
    if d == 1:
        m = xp.reshape(weighted[0], (-1,))
    else:
        train = TTTensor._from_cores(weighted, xp)
        m = xp.reshape(sum_over(train, tuple(j for j in range(d) if j != k)).full(), (-1,))
    m = m / unit
    positive = w_k > 0
    safe = xp.where(positive, w_k, xp.ones_like(w_k))
    return xp.sum(xp.where(positive, m * m / safe, xp.zeros_like(m)))
