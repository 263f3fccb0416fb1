"""How well a CP decomposition recovers a known one: the factor match score.

Components are compared by the product over modes of their columns' cosines, times a
penalty for differing weights, and paired one to one by the best assignment; the score
is the pairs' mean (Acar, Dunlavy, Kolda and Mørup, "Scalable tensor factorizations for
incomplete data", 2011; Tomasi and Bro, 2006). It ignores the decomposition's gauges:
the order of the components, the scale of each column, and signs (phases, for complex
factors) that cancel across modes.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .._assignment import linear_assignment
from .._validation import TRACING
from ..backends import backend_of
from ..errors import ArgumentError, ShapeError
from .tensor import CPTensor

__all__ = ["FactorMatch", "score"]


class FactorMatch(NamedTuple):
    """The factor match of an estimate with a reference (`truth`) decomposition.

    Attributes
    ----------
    score : float
        The mean of `congruences`, in ``[0, 1]``; 1 for the same components up to order,
        scale and sign.
    congruences : (truth.rank,) float64 array
        Each reference component's congruence with the estimate's component paired to it.
    permutation : (estimate.rank,) int64 array
        The estimate's components in the reference's order (``permutation[j]`` is paired
        with reference component ``j``), then the unpaired ones in their own order.
    aligned : CPTensor
        The estimate, the same tensor, with its components in `permutation`'s order,
        unit columns, and each paired column's sign (phase) set to match the reference's
        (the weights absorb the norms and signs), ready to be compared column by column.
    """

    score: float
    congruences: np.ndarray
    permutation: np.ndarray
    aligned: CPTensor


def score(estimate: CPTensor, truth: CPTensor, weight_penalty: bool = True) -> FactorMatch:
    """The factor match score of `estimate` against a reference decomposition `truth`.

    For components ``a`` (of `estimate`) and ``b`` (of `truth`), scaled to unit columns
    with weights ``λ_a``, ``λ_b``, the congruence is

        ``Π_k |⟨a_k, b_k⟩| · min(|λ_a|, |λ_b|) / max(|λ_a|, |λ_b|)``

    (the second factor only with `weight_penalty`; a zero column has no direction, and
    congruence 0). Each reference component is paired with
    a distinct estimated one so that the congruences' sum is largest (an exact assignment,
    where Tensor Toolbox's ``score`` pairs greedily), and the score is their mean.

    Parameters
    ----------
    estimate : CPTensor
        A fitted decomposition, of rank at least `truth`'s (extra components go unpaired).
    truth : CPTensor
        The reference, of the same shape, on the same backend.
    weight_penalty : bool, optional
        Penalize differing weights (magnitudes of the components), as above. Without it only
        the columns' directions count.

    Returns
    -------
    FactorMatch
        ``(score, congruences, permutation, aligned)``.

    Raises
    ------
    ShapeError
        If the shapes differ or a mode has size 0.
    ArgumentError
        If `estimate` has fewer components than `truth`, a factor or weight is not finite,
        or the call is traced (the pairing is decided on the host).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import cp
    >>> truth = cp.random((6, 7, 8), rank=3, seed=0)
    >>> w, (a, b, c) = truth.weights, truth.factors
    >>> order = [2, 0, 1]  # the same components, reordered, rescaled and sign-flipped
    >>> estimate = cp.CPTensor(w[order], [-2 * a[:, order], -b[:, order], c[:, order] / 2])
    >>> match = cp.score(estimate, truth)
    >>> round(match.score, 12), match.permutation.tolist()
    (1.0, [1, 2, 0])
    >>> bool(np.allclose(match.aligned.factors[0], truth.normalize().factors[0]))
    True
    """
    where = "cp.score"
    for name, x in (("estimate", estimate), ("truth", truth)):
        if not isinstance(x, CPTensor):
            raise ArgumentError(f"{where}: {name} must be a CPTensor, got {type(x).__name__}")
    if not isinstance(weight_penalty, (bool, np.bool_)):
        raise ArgumentError(f"{where}: weight_penalty must be a bool, got {weight_penalty!r}")
    if estimate.shape != truth.shape:
        raise ShapeError(f"{where}: estimate has shape {estimate.shape} and truth "
                         f"{truth.shape}; they must be the same")
    if 0 in truth.shape:
        raise ShapeError(f"{where}: the tensors have shape {truth.shape}; columns of size 0 "
                         "have no directions to compare")
    if estimate.rank < truth.rank:
        raise ArgumentError(f"{where}: estimate has {estimate.rank} components and truth "
                            f"{truth.rank}; each of truth's must be paired with one of "
                            "estimate's (swap the arguments to score the other way)")
    xp = backend_of(estimate, truth)
    parts = (estimate.weights, truth.weights, *estimate.factors, *truth.factors)
    if any(xp.is_traced(p) for p in parts):
        raise ArgumentError(f"{where}: pairs components on the host, which traced arrays "
                            f"({TRACING}) cannot give; call it outside the traced function")
    a_cols, a_logs = _unit_columns(estimate, xp, where, "estimate")
    b_cols, b_logs = _unit_columns(truth, xp, where, "truth")
    cosines = [xp.matmul(xp.transpose(xp.conj(b)), a) for a, b in zip(a_cols, b_cols)]
    inner = np.stack([np.asarray(xp.to_numpy(c)) for c in cosines])  # (d, R_truth, R_est)
    congruence = np.prod(np.minimum(np.abs(inner), 1.0), axis=0)
    if weight_penalty:
        congruence = congruence * _weight_ratio(b_logs, a_logs)
    pairs = linear_assignment(congruence, maximize=True)
    perm = np.concatenate([pairs, np.setdiff1d(np.arange(estimate.rank), pairs)])
    matched = congruence[np.arange(truth.rank), pairs]
    aligned = _aligned(a_cols, a_logs, inner, pairs, perm, xp.result_dtype(*parts), xp)
    return FactorMatch(float(matched.mean()), matched, perm, aligned)


def _unit_columns(x: CPTensor, xp: Any, where: str, name: str) -> tuple[list, tuple]:
    """Columns scaled to unit norm, and each component's weight as ``(sign, log|λ|)``
    (computed in logs: the weight of unit columns can lie past the float range when the
    entries do not). Zero columns stay zero."""
    cols, log_norms = [], np.zeros(x.rank)
    for k, f in enumerate(x.factors):
        peak = np.asarray(xp.to_numpy(xp.max(xp.abs(f), axis=0)), dtype=np.float64)
        if not np.all(np.isfinite(peak)):
            raise ArgumentError(f"{where}: {name}.factors[{k}] holds non-finite values; "
                                "the score needs finite factors")
        safe = np.where(peak > 0, peak, 1.0)
        scaled = f / xp.astype(xp.asarray(safe, device=xp.device(f)), xp.dtype(f))[None, :]
        norms = np.asarray(xp.to_numpy(xp.norm(scaled, axis=0)), dtype=np.float64)
        norms = np.where(norms > 0, norms, 1.0)
        cols.append(scaled / xp.astype(xp.asarray(norms, device=xp.device(f)),
                                       xp.dtype(f))[None, :])
        with np.errstate(divide="ignore"):
            log_norms += np.where(peak > 0, np.log(safe) + np.log(norms), -np.inf)
    w = np.asarray(xp.to_numpy(x.weights))
    if not np.all(np.isfinite(w)):
        raise ArgumentError(f"{where}: {name}.weights holds non-finite values; the score "
                            "needs finite weights")
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(w)) + log_norms
    phase = np.where(w != 0, w / np.where(w != 0, np.abs(w), 1.0), 1.0)
    return cols, (phase, logs)


def _weight_ratio(b_logs: tuple, a_logs: tuple) -> np.ndarray:
    """``min(|λ_b|, |λ_a|) / max(...)`` for every pair, from the logs: 1 where both are 0."""
    lb, la = b_logs[1][:, None], a_logs[1][None, :]
    with np.errstate(invalid="ignore"):
        ratio = np.exp(-np.abs(lb - la))
    return np.where(np.isneginf(lb) & np.isneginf(la), 1.0, ratio)


def _aligned(cols: list, logs: tuple, inner: np.ndarray, pairs: np.ndarray, perm: np.ndarray,
             dtype: Any, xp: Any) -> CPTensor:
    """The estimate with unit columns in `perm`'s order, each paired column turned to the
    phase of its partner (``⟨b_k, a_k⟩ >= 0``), the weights taking the inverse phases."""
    rank, (phase, log_w) = len(perm), logs
    turns = np.ones((len(cols), rank), dtype=inner.dtype)
    for j, i in enumerate(pairs):
        c = inner[:, j, i]
        turns[:, j] = np.where(np.abs(c) > 0, c / np.where(np.abs(c) > 0, np.abs(c), 1.0), 1.0)
    with np.errstate(over="ignore"):
        weights = phase[perm] * np.exp(log_w[perm]) * np.prod(turns, axis=0)
    factors = []
    for f, t in zip(cols, turns):
        t = np.conj(t) if np.iscomplexobj(t) else t
        f = xp.take(f, xp.asarray(perm, device=xp.device(f)), axis=1)
        factors.append(f * xp.astype(xp.asarray(t, device=xp.device(f)), xp.dtype(f))[None, :])
    if not math.isfinite(float(np.max(np.abs(weights), initial=0.0))):
        raise ArgumentError("cp.score: a component's norm lies past the float range of "
                            f"{xp.dtype_name(factors[0])}; the aligned estimate cannot hold it")
    w = xp.astype(xp.asarray(weights, device=xp.device(factors[0])), dtype)
    return CPTensor._from(w, factors, xp)
