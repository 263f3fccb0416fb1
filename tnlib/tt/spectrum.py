"""The singular values of a train at every bond, and the entanglement entropies they give.

The singular values at bond ``b`` are those of the unfolding that puts modes ``0 … b``
in the rows: gauge-invariant, they say how far each rank can be cut (the error of a cut
is the norm of the values dropped) and, for a normalized matrix product state, the
Schmidt coefficients of the cut, whose squares' entropy is the entanglement entropy.
All bonds come from one left-orthogonalizing QR sweep and one LQ sweep back, whose
small ``r x r`` factors hold the bonds' singular values, ``O(d n r³)``, at unit scale
(each core balanced, each step normalized) so that long trains neither overflow nor
underflow on the way.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .._info import grouped
from ..backends._host import host_eager
from ..errors import ArgumentError
from ._scale import balanced_finite
from .round import _lq, qr_left
from .tensor import TTTensor

__all__ = ["entanglement_entropy", "singular_values"]


@host_eager
def singular_values(x: TTTensor) -> list:
    """The singular values of `x` at each bond, largest first.

    Entry ``b`` (``0 … d-2``) holds the singular values of the unfolding
    ``x(i_0 … i_b; i_{b+1} … i_{d-1})``: ``min(r_{b+1}, …)`` values, the trailing ones
    zero where the rank is higher than the unfolding needs. Every entry has the norm of
    `x` (their squares sum to ``‖x‖²``).

    Parameters
    ----------
    x : TTTensor

    Returns
    -------
    list of d-1 real 1-D arrays on the backend of `x`

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> a = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> s = tt.singular_values(tt.tt_svd(a))
    >>> bool(np.allclose(s[0], np.linalg.svd(a.reshape(4, 30), compute_uv=False)))
    True
    >>> [v.shape for v in s]
    [(4,), (6,)]
    """
    spectra, log_norm = _spectra(_checked(x, "singular_values"), "singular_values")
    xp = x.backend
    scale = xp.exp(log_norm)
    return [s * xp.astype(scale, xp.dtype(s)) for s in spectra]


@host_eager
def entanglement_entropy(x: TTTensor, alpha: float = 1.0) -> Any:
    """Entropies of the normalized squared singular values at each bond.

    With ``p = s² / Σ s²`` the squared Schmidt coefficients of bond ``b``, the von Neumann
    entropy ``-Σ p ln p`` (``alpha=1``), or the Rényi entropy ``ln(Σ p^α) / (1 - α)``; in
    nats (divide by ``ln 2`` for bits). The train needs no normalization: only the
    spectrum's shape counts. The zero train has entropy 0 at every bond.

    Parameters
    ----------
    x : TTTensor
        A matrix product state (any real or complex train).
    alpha : float, optional
        Rényi order, ``>= 0``; ``1`` (the limit) is von Neumann's, ``inf`` the
        min-entropy ``-ln max p``.

    Returns
    -------
    (d-1,) real array on the backend of `x`

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import tt
    >>> bell = np.array([[1.0, 0.0], [0.0, 1.0]]) / np.sqrt(2)   # maximally entangled
    >>> round(float(tt.entanglement_entropy(tt.tt_svd(bell))[0] / np.log(2)), 12)
    1.0
    >>> product = tt.ones((2, 2, 2))
    >>> bool(np.allclose(tt.entanglement_entropy(product), 0.0))
    True
    """
    _checked(x, "entanglement_entropy")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha >= 0:
        raise ArgumentError(f"entanglement_entropy: alpha must be a real number >= 0 "
                            f"(1 for von Neumann, inf for the min-entropy), got {alpha!r}")
    xp = x.backend
    spectra, _ = _spectra(x, "entanglement_entropy")
    if not spectra:
        return xp.zeros((0,), dtype=xp.real_dtype(x.cores[0]), device=x.device)
    return xp.stack([_entropy(s, float(alpha), xp) for s in spectra])


def _checked(x: Any, where: str) -> TTTensor:
    if not isinstance(x, TTTensor):
        raise ArgumentError(f"{where}: x must be a TTTensor, got {type(x).__name__}")
    return x


def _entropy(s: Any, alpha: float, xp: Any) -> Any:
    """The Rényi-`alpha` entropy of ``p ∝ s²`` (`s` normalized to unit norm: ``Σ p = 1``;
    or zero, entropy 0)."""
    p = s * s
    positive = p > 0
    safe = xp.where(positive, p, xp.ones_like(p))
    if alpha == 1.0:
        return -xp.sum(xp.where(positive, p * xp.log(safe), xp.zeros_like(p)))
    if math.isinf(alpha):
        top = xp.max(p)
        return -xp.log(xp.where(top > 0, top, xp.ones_like(top)))
    total = xp.sum(xp.where(positive, safe ** alpha, xp.zeros_like(p)))
    return xp.log(xp.where(total > 0, total, xp.ones_like(total))) / (1.0 - alpha)


def _spectra(x: TTTensor, where: str) -> tuple[list, Any]:
    """The singular values at each bond, each divided by the norm of `x` (unit norm; zero
    for the zero train), and ``ln ‖x‖`` (a 0-d array; very negative for the zero train)."""
    xp = x.backend
    cores = list(x.cores)
    cores, exponent = balanced_finite(cores, xp, where)
    d = len(cores)
    real = xp.real_dtype(cores[0])
    log_scale = xp.zeros((), dtype=real, device=x.device) + exponent * math.log(2.0)
    for k in range(d - 1):
        nrm = qr_left(cores, k, xp, normalize=True)
        log_scale = log_scale + xp.log(xp.astype(nrm, real))
    spectra = []
    for k in range(d - 1, 0, -1):
        cores[k], cores[k - 1], s, norm = _bond_step(xp, cores[k], cores[k - 1])
        if k == d - 1:  # every bond's values have the train's norm: read it once
            log_scale = log_scale + xp.log(xp.maximum(norm, xp.finfo_tiny(norm)))
        spectra.append(s)
    return spectra[::-1], log_scale


@grouped
def _bond_step(xp: Any, core: Any, prev: Any) -> tuple[Any, Any, Any, Any]:
    """LQ of `core`'s ``(r, n r')`` unfolding, ``L Q^H`` (the cores before it
    left-orthonormal, those after right-orthonormal): the singular values of the small
    ``L`` are the bond's. The core becomes ``Q^H`` and ``L / ‖S‖`` moves into `prev`;
    returns both, ``S / ‖S‖`` and ``‖S‖``."""
    _, n, rr = xp.shape(core)
    q, left = _lq(xp, core)
    s = xp.svdvals(left)
    norm = xp.norm(s)
    unit = s / xp.maximum(norm, xp.finfo_tiny(s))
    left = left / xp.astype(xp.maximum(norm, xp.finfo_tiny(s)), xp.dtype(left))
    r0, n0, r = xp.shape(prev)
    k = xp.shape(q)[1]
    prev = xp.reshape(xp.reshape(prev, (r0 * n0, r)) @ left, (r0, n0, k))
    return xp.reshape(xp.conj(xp.transpose(q)), (k, n, rr)), prev, unit, norm
