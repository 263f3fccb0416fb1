"""Exact sampling of multi-indices from a train read as a probability distribution.

A train ``x`` defines two distributions on its multi-indices: ``p(i) ∝ x(i)`` when its
entries are non-negative (a discretized density, a histogram), and ``p(i) ∝ |x(i)|²``
for any train (the Born rule of a matrix product state). Both are sampled mode by mode
from exact conditional distributions, ``p(i_k | i_1 … i_{k-1})``, formed from the
prefix's row vector and the suffix's sums (or, for the squares, its orthonormal basis),
for all samples at once: ``O(N n r²)`` per mode for `N` samples and no loop over them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._info import grouped, user_stacklevel
from .._validation import check_count, rng_of
from ..backends._host import host_eager
from ..errors import ArgumentError, PrecisionWarning
from ._env import right_orthogonalize_scaled
from ._scale import balanced_finite
from .round import peak
from .tensor import TTTensor

__all__ = ["sample"]

# negative conditional mass (a share of the mass kept) above which sampling max(x, 0)
# is worth a warning: the train is not the non-negative tensor it was meant to be
_NEGATIVE_SHARE = 1e-6


@host_eager
def sample(x: TTTensor, n: int, seed: Any = None, squared: bool = False) -> Any:
    """Draw `n` multi-indices ``i`` with probability ``x(i) / Σ x`` (or ``|x(i)|² / ‖x‖²``).

    Each sample is drawn mode by mode from the exact conditional distribution of its next
    index given the ones drawn, all samples at once (perfect sampling: no Markov chain,
    no rejection). The cost is ``O(n_samples Σ_k n_k r_k r_{k+1})``.

    Parameters
    ----------
    x : TTTensor
        The (unnormalized) distribution: non-negative entries, or any real or complex
        train with ``squared=True``.
    n : int
        Number of samples.
    seed : int or numpy Generator, optional
        The uniforms are drawn on the host from it, so a seed gives the same samples on
        every backend (up to rounding at the boundaries of the cumulative sums).
    squared : bool, optional
        Sample ``|x(i)|²`` (the Born rule) instead of ``x(i)``. This needs no sign
        condition: each conditional comes from a right-orthonormal form of `x`.

    Returns
    -------
    int array of shape ``(n, x.ndim)`` on the backend and device of `x`

    Raises
    ------
    ArgumentError
        If `x` is no distribution: complex without ``squared=True``, summing to zero or
        less (or, with ``squared=True``, the zero train), or holding NaN or inf.

    Warns
    -----
    PrecisionWarning
        Without `squared`, when the conditional probabilities met on the way have
        negative entries of more than ``1e-6`` of the mass (a train approximating a
        non-negative tensor is often slightly negative): those entries are drawn with
        probability zero, so the samples follow ``max(x, 0)`` only approximately.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> p = tt.tt_svd(np.outer([1.0, 3.0], [1.0, 1.0]))        # P(i0 = 1) = 3/4
    >>> s = tt.sample(p, 10000, seed=0)
    >>> s.shape, round(float(s[:, 0].mean()), 2)
    ((10000, 2), 0.75)
    >>> psi = tt.random((2,) * 10, 4, seed=1)                  # an MPS
    >>> tt.sample(psi, 3, seed=2, squared=True).shape
    (3, 10)
    """
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"sample: x must be a TTTensor, got {type(x).__name__}")
    n = check_count(n, "sample", "n")
    if not isinstance(squared, (bool, np.bool_)):
        raise ArgumentError(f"sample: squared must be True or False, got {squared!r}")
    xp = x.backend
    if xp.is_complex(x.cores[0]) and not squared:
        raise ArgumentError("sample: x is complex; a complex train is no distribution. "
                            "Pass squared=True to sample |x|^2")
    rng = rng_of(seed, "sample")
    if n == 0:
        return xp.zeros((0, x.ndim), dtype="int64", device=x.device)
    cores = _work_cores(x, xp)
    real = xp.real_dtype(cores[0])
    uniforms = xp.random_uniform((n, x.ndim), seed=rng, dtype=real, device=x.device)
    if squared:
        cols, total, negative = _draw_squared(cores, uniforms, xp), None, None
    else:
        cols, total, negative = _draw_linear(cores, uniforms, xp)
    _check_distribution(total, negative, cores[0], squared, xp)
    return xp.stack(cols, axis=1)


def _work_cores(x: TTTensor, xp: Any) -> list:
    """The cores at unit scale (a positive factor changes no conditional probability), in
    at least single precision: cumulative sums in half precision lose the small ones."""
    cores = list(x.cores)
    if xp.dtype_name(cores[0]) in ("float16", "bfloat16"):
        cores = [xp.astype(c, "float32") for c in cores]
    return balanced_finite(cores, xp, "sample")[0]


def _choose(p: Any, u: Any, xp: Any) -> Any:
    """Per row of the non-negative weights `p` (N, n), the index whose cumulative weight
    first exceeds ``u`` times the row's total: the inverse of the row's distribution."""
    c = xp.cumsum(p, axis=1)
    below = xp.astype(c <= (u * c[:, -1])[:, None], "int64")
    return xp.minimum(xp.sum(below, axis=1), xp.shape(p)[1] - 1)


def _pick(w: Any, j: Any, xp: Any) -> Any:
    """Rows ``w[p, j[p], :]`` of the (N, n, r) array `w`, each scaled to a peak of 1."""
    v = xp.take_along_axis(w, xp.reshape(j, (-1, 1, 1)), axis=1)[:, 0, :]
    scale = xp.maximum(xp.max(xp.abs(v), axis=1), xp.finfo_tiny(v))
    return v / xp.astype(scale, xp.dtype(v))[:, None]


def _draw_squared(cores: list, uniforms: Any, xp: Any) -> list:
    """Columns of indices drawn from ``|x|²``: with cores ``1 … d-1`` right-orthonormal,
    the squared norm of the prefix row times core k is the marginal of the prefix."""
    cores, _ = right_orthogonalize_scaled(xp, cores)
    v = xp.ones((xp.shape(uniforms)[0], 1), dtype=xp.dtype(cores[0]),
                device=xp.device(cores[0]))
    cols = []
    for k, core in enumerate(cores):
        v, j = _squared_step(xp, v, core, uniforms[:, k])
        cols.append(j)
    return cols


@grouped
def _squared_step(xp: Any, v: Any, core: Any, u: Any) -> tuple[Any, Any]:
    """Each row of `v` extended by the index drawn with weights ``‖v G[:, i, :]‖²``."""
    n_samples = xp.shape(v)[0]
    r, m, rr = xp.shape(core)
    w = xp.reshape(v @ xp.reshape(core, (r, m * rr)), (n_samples, m, rr))
    a = xp.abs(w)
    a = a / xp.reshape(xp.maximum(xp.max(xp.reshape(a, (n_samples, m * rr)), axis=1),
                                  xp.finfo_tiny(a)), (-1, 1, 1))
    j = _choose(xp.sum(a * a, axis=2), u, xp)
    return _pick(w, j, xp), j


def _draw_linear(cores: list, uniforms: Any, xp: Any) -> tuple[list, Any, Any]:
    """Columns of indices drawn from ``x`` itself, with the first conditional's total
    (the sum of `x`, at unit scale) and the largest share of negative weight met."""
    d = len(cores)
    suffix = [None] * (d + 1)  # suffix[k]: Σ over modes k … d-1, an (r_k, 1) column, peak 1
    suffix[d] = xp.ones((1, 1), dtype=xp.dtype(cores[0]), device=xp.device(cores[0]))
    for k in range(d - 1, 0, -1):
        s = xp.sum(cores[k], axis=1) @ suffix[k + 1]
        suffix[k] = s / xp.astype(peak(s, xp), xp.dtype(s))
    total = xp.sum(xp.reshape(cores[0], xp.shape(cores[0])[1:]) @ suffix[1])
    v = xp.ones((xp.shape(uniforms)[0], 1), dtype=xp.dtype(cores[0]),
                device=xp.device(cores[0]))
    cols, negative = [], None
    for k, core in enumerate(cores):
        v, j, share = _linear_step(xp, v, core, suffix[k + 1], uniforms[:, k])
        negative = share if negative is None else xp.maximum(negative, share)
        cols.append(j)
    return cols, total, negative


@grouped
def _linear_step(xp: Any, v: Any, core: Any, suffix: Any, u: Any) -> tuple[Any, Any, Any]:
    """Each row of `v` extended by the index drawn with weights ``max(v G[:, i, :] s, 0)``
    (`s` the sums of the modes after), and the largest share of negative weight clipped."""
    n_samples = xp.shape(v)[0]
    r, m, rr = xp.shape(core)
    w = xp.reshape(v @ xp.reshape(core, (r, m * rr)), (n_samples, m, rr))
    p = xp.reshape(xp.reshape(w, (n_samples * m, rr)) @ suffix, (n_samples, m))
    kept = xp.maximum(p, 0.0)
    share = xp.max(xp.sum(kept - p, axis=1) / xp.maximum(xp.sum(kept, axis=1),
                                                         xp.finfo_tiny(kept)))
    j = _choose(kept, u, xp)
    return _pick(w, j, xp), j, share


def _check_distribution(total: Any, negative: Any, like: Any, squared: bool, xp: Any
                        ) -> None:
    """The read at the end of a draw: an error if `x` is no distribution, a warning if
    the draw clipped negative weight. Skipped under ``jit`` (nothing can be read)."""
    if xp.is_traced(like):
        return
    if squared:
        if not float(xp.to_numpy(xp.max(xp.abs(like)))) > 0.0:
            raise ArgumentError("sample: x is the zero tensor; |x|^2 is no distribution")
        return
    t, neg = (float(v) for v in xp.to_numpy(xp.stack([total, negative])))
    if not t > 0.0:
        raise ArgumentError(f"sample: x sums to {t:.3g} (at unit scale); a distribution "
                            "needs non-negative entries with a positive sum. Pass "
                            "squared=True to sample |x|^2")
    if neg > _NEGATIVE_SHARE:
        warnings.warn(PrecisionWarning(
            f"sample: x has negative conditional weights (up to {neg:.2g} of the weight "
            "kept); they were drawn with probability 0, so the samples follow max(x, 0) "
            "only approximately. Round x or pass squared=True"),
            stacklevel=user_stacklevel())

