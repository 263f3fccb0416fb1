"""Scalar products of tensor trains: the interface sweep, and its tree on accelerators.

``<x, y>`` is the product of the cores' transfer matrices
``T_k = sum_i conj(X_k[:, i, :]) (x) Y_k[:, i, :]``, of shape ``(rx ry, rx' ry')``.
On the host it is taken left to right without forming them (``O(n r^3)`` per core,
:func:`_gram_sweep`). On an accelerator every array operation is a kernel launch of a
few microseconds, and that sweep is ~5 launches per core whatever the rank: a train of
d = 100 cores of rank 20 is launch-bound. :func:`_gram_tree` forms the transfer
matrices of every run of equal square cores in one batched product and multiplies them
pairwise, level by level (``O(r^6)`` per core, but ``O(log d)`` launches): at rank 20
that is ~1e10 flops in ~70 launches instead of ~500 -- the better trade on a GPU, chosen
by :func:`_tree_pays` from the flop count and ``Backend.launch_flops``.
"""

from __future__ import annotations

import cmath
import math
from typing import Any

import numpy as np

from .._info import grouped
from ._scale import balanced
from .tensor import TTTensor


def gram(x: TTTensor, y: TTTensor, xp: Any) -> Any:
    """``sum(conj(x) * y)`` as ``(v, log_scale, exponent)``: ``v exp(log_scale) 2^exponent``.

    A left-to-right sweep divides the running interface matrix by its norm after each
    core and sums the logarithms, so products of thousands of cores neither overflow nor
    underflow. A single core product can still leave the float range (cores of 1e200 or
    1e-200); then, seen as a non-finite or zero result of eager arrays, the sweep is
    redone with every core divided by the power of two nearest its peak first (exact;
    the exponents are summed as integers, so no digits go to a large logarithm).

    On an accelerator, where the sweep's ~5 operations per core are ~5 kernel launches
    per core, a long train of small ranks is contracted as a tree instead
    (:func:`_gram_tree`) when its extra flops cost less than the launches it saves.

    ``<x, x>`` (a norm) is a sum of squares that the sweep can form with cancellation: a
    difference of close trains, ``x - y``, has a final interface ``[[P, -P], [-P, P]]``
    whose rounding (``u ‖P‖``) swamps ``‖x - y‖^2``, so its norm came out right only to
    ``sqrt(u) ‖x‖``. The last core's product with the (unit) interface matrix measures
    that: far below the product of their norms (:data:`_CANCELLED`), the norm is taken
    again from a QR sweep (:func:`_qr_gram`), accurate to ``u ‖x‖`` as for dense data.
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # checked just below
        if xp.free_reads:
            v, log_scale, low, fit = _gram_sweep_host(x.cores, y.cores, xp)
            value = complex(v)
        else:
            tree = _tree_pays(x.cores, y.cores, xp)
            v, log_scale, smallest, last = (_gram_tree if tree else _gram_sweep)(
                x.cores, y.cores, xp)
            if xp.is_traced(v):
                return v, log_scale, 0
            if not tree:  # the sweep's last norm, relative to the last cores' (the tree's is)
                last = last / xp.maximum(xp.norm(x.cores[-1]) * xp.norm(y.cores[-1]),
                                         xp.finfo_tiny(last))
            value, low, logs, fit = (complex(t) for t in xp.to_numpy(xp.stack(  # one read
                [xp.astype(a, xp.dtype(v)) for a in (v, smallest, log_scale, last)])))
            value *= 1 if cmath.isfinite(logs) else math.nan
            fit = fit.real
    same = y is x or all(a is b for a, b in zip(x.cores, y.cores))
    if value != 0 and cmath.isfinite(value) and abs(low) > _SUBNORMAL_RISK:
        # under autodiff the sweep stays: a QR's derivative is unstable at the rank-
        # deficient unfoldings of a vanishing difference (‖x - a‖^2 at the optimum), and
        # the sweep's absolute error, u ‖x‖^2, is as small as a squared norm's can be
        if same and len(x.cores) > 1 and fit < _CANCELLED and not xp.differentiating(
                x.cores):
            return _qr_gram(x, xp)
        return v, log_scale, 0
    if same and len(x.cores) > 1 and not xp.differentiating(x.cores):
        # a norm whose products left the range even so: blocks of very different scales in
        # one core (a tangent vector's [U, dU] of 1e-200) square apart; a QR sweep does not
        return _qr_gram(x, xp)
    xs, ex = balanced(x.cores, xp, always=True)
    ys, ey = (xs, ex) if y is x else balanced(y.cores, xp, always=True)
    v, log_scale, _, _ = _gram_sweep(xs, ys, xp)
    return v, log_scale, ex + ey


_SUBNORMAL_RISK = 1e-280  # an interface norm below this passed through subnormal numbers
#: the last step of ``<x, x>`` at this fraction of its terms' size, or less, cancelled: the
#: sweep's relative error ``u / fit`` (1e-13 in float64) is then too large for a norm. A
#: train without cancellation has ``fit >= 1 / rank`` (orthonormal cores: ``1/sqrt(r r')``)
_CANCELLED = 1e-3


def squares(v: Any, xp: Any, arrays: list, log_scale: Any = None) -> Any:
    """``|Re v|`` for a computed sum of squares ``v`` (times ``exp(log_scale)`` if given),
    which rounding can leave slightly negative where it cancels. Where autodiff records
    `arrays`, the derivative is that of the signed sum itself: ``abs``, and the logarithm
    of ``|v|`` that the sweep's scale holds, would flip the gradient's sign there. Returns
    the magnitude, or ``(magnitude, log_scale)``."""
    r = xp.real(v)
    if not xp.differentiating(arrays):
        mag = xp.abs(r)
        return mag if log_scale is None else (mag, log_scale)
    mag = r + xp.stop_gradient(xp.abs(r) - r)  # exact: r + 0, or r - 2r
    if log_scale is None:
        return mag
    sign = xp.stop_gradient(xp.where(r < 0, -xp.ones_like(r), xp.ones_like(r)))
    signed = log_scale * xp.astype(sign, xp.dtype(log_scale))  # d log|value| = dv / value
    return mag, signed + xp.stop_gradient(log_scale - signed)  # value: log_scale, exactly


def _qr_gram(x: TTTensor, xp: Any) -> tuple[Any, Any, int]:
    """``<x, x>`` as :func:`gram` returns it, from a left-to-right QR sweep: ``R`` of each
    core's unfolding carried into the next, divided by its largest entry (the logarithms
    summed), on cores balanced by powers of two first. Backward stable: accurate to
    ``u ‖x‖`` however much the train's parts cancel, and nothing is squared until the last
    ``1 x 1`` factor."""
    cores, exponent = balanced(x.cores, xp, always=True)
    r, norms = None, []
    for core in cores:
        r0, n, r1 = xp.shape(core)
        mat = xp.reshape(core, (r0 * n, r1)) if r is None else xp.reshape(
            r @ xp.reshape(core, (r0, n * r1)), (-1, r1))
        # the reduced QR, not R alone: frameworks differentiate only that. R is divided by
        # its largest entry (a Frobenius norm of 1e-200 entries would underflow)
        r = xp.qr(mat, signs=False)[1]
        s = xp.maximum(xp.max(xp.abs(r)), xp.finfo_tiny(r))
        r = r / xp.astype(s, xp.dtype(r))
        norms.append(s)
    v = xp.sum(xp.real(r * xp.conj(r)))  # 1, or 0 for a zero train
    # the scale's powers of two join the exponent (a logarithm of -2772 next to 2^5338
    # would underflow in exp before the power of two restores it): one read, on this path
    logs = 2.0 * float(xp.item(xp.sum(xp.log(xp.stack(norms)))))
    shift = math.floor(logs / math.log(2.0)) if math.isfinite(logs) else 0
    log_scale = xp.asarray(logs - shift * math.log(2.0), dtype=xp.real_dtype(r),
                           device=xp.device(r))
    return xp.astype(v, xp.dtype(cores[0])), log_scale, 2 * exponent + shift


def _interface_step(v: Any, xc: Any, yc: Any, conj: bool, xp: Any) -> Any:
    """The interface matrix ``(rx, ry)`` carried over one pair of cores: ``(rx', ry')``."""
    rx, n, rx2 = xp.shape(xc)
    ry, _, ry2 = xp.shape(yc)
    ymat = xp.reshape(yc, (ry, n * ry2))
    w = ymat if v is None else v @ ymat                      # (rx, n ry')
    w = xp.reshape(w, (rx * n, ry2))
    xmat = xp.reshape(xc, (rx * n, rx2))
    return xp.transpose(xp.conj(xmat) if conj else xmat) @ w


def _gram_sweep_host(xcores: list, ycores: list, xp: Any
                     ) -> tuple[Any, float, float, float]:
    """`_gram_sweep` with the scale read into Python at every core (free on NumPy):
    one reduction and an in-place division per core instead of six array operations.
    Also returns the last norm relative to the last cores' norms (see :func:`gram`)."""
    v = None
    log_scale, smallest, s = 0.0, math.inf, 0.0
    conj = xp.is_complex(xcores[0])
    for xc, yc in zip(xcores, ycores):
        v = _interface_step(v, xc, yc, conj, xp)
        s = float(xp.norm(v))
        smallest = min(smallest, s)
        if s > 0:
            v /= s  # a fresh product: dividing in place is safe
            log_scale += math.log(s)
    size = float(xp.norm(xcores[-1])) * (float(xp.norm(ycores[-1])) if ycores is not xcores
                                         else float(xp.norm(xcores[-1])))
    return v[0, 0], log_scale, smallest, s / size if size > 0 else 1.0


def _gram_sweep(xcores: list, ycores: list, xp: Any) -> tuple[Any, Any, Any, Any]:
    """The interface sweep, its matrix divided by its norm after every core.

    Also returns the smallest of those norms (below ~1e-290 a product went subnormal and
    lost digits before the rescaling could act) and the last one. Five array operations
    per core (two products, the norm, its floor at the smallest normal number, the
    division); the logarithms and the minimum are taken once, over all norms stacked, at
    the end: on a GPU every operation is a kernel launch.
    """
    v = None
    norms = []
    conj = xp.is_complex(xcores[0])  # conj of a real array would only copy it
    for xc, yc in zip(xcores, ycores):
        v, s = (_normalized_step(xp, xc, yc, conj=conj) if v is None else
                _normalized_step(xp, xc, yc, v, conj=conj))
        norms.append(s)
    s = xp.stack(norms)
    return v[0, 0], xp.sum(xp.log(s)), xp.min(s), norms[-1]


@grouped
def _normalized_step(xp: Any, xc: Any, yc: Any, v: Any = None, conj: bool = False
                     ) -> tuple[Any, Any]:
    """One core of the Gram sweep: the next interface matrix divided by its norm, floored
    at the smallest normal number (a zero matrix stays zero, its log finite), and that
    norm. One compiled program per core shape on JAX."""
    return _normalized(xp, _interface_step(v, xc, yc, conj, xp))


def _runs(xcores: list, ycores: list, xp: Any) -> list[tuple[int, int]]:
    """``(start, stop)`` of the maximal runs of consecutive core pairs that have the same
    shapes and square transfer matrices (``rx == rx'``, ``ry == ry'``), so that the run's
    transfer matrices stack into one batch and multiply among themselves; every other
    core is a run of its own."""
    runs: list[tuple[int, int]] = []
    previous = None
    for k, (xc, yc) in enumerate(zip(xcores, ycores)):
        shapes = (xp.shape(xc), xp.shape(yc))
        square = shapes[0][0] == shapes[0][2] and shapes[1][0] == shapes[1][2]
        if square and shapes == previous:
            runs[-1] = (runs[-1][0], k + 1)
        else:
            runs.append((k, k + 1))
        previous = shapes if square else None
    return runs


_TREE_ENTRIES = 2**25  # 256 MB of float64 transfer matrices at most: beyond, the sweep


def _tree_pays(xcores: list, ycores: list, xp: Any) -> bool:
    """Whether :func:`_gram_tree` costs less than :func:`_gram_sweep` on this device:
    flops plus launches, each launch valued at ``Backend.launch_flops`` (0 on the host,
    where the sweep always wins), and its transfer matrices fit in ``_TREE_ENTRIES``
    (d = 100 at rank 20 needs 32 million entries; d = 1000 takes the sweep)."""
    launch = xp.launch_flops(xcores[0])
    if not launch or len(xcores) < 4:
        return False
    entries = sum(2 * math.prod(xp.shape(xc)) * math.prod(xp.shape(yc)) // xp.shape(xc)[1]**2
                  for xc, yc in zip(xcores, ycores))  # the transfer matrices and a level
    if entries > _TREE_ENTRIES:
        return False
    sweep_flops = 0
    for xc, yc in zip(xcores, ycores):
        (rx, n, rx2), (ry, _, ry2) = xp.shape(xc), xp.shape(yc)
        sweep_flops += 2 * n * ry2 * (rx * ry + rx * rx2)
    tree_flops, tree_launches = 0, 6
    for start, stop in _runs(xcores, ycores, xp):
        (rx, n, rx2), (ry, _, ry2) = xp.shape(xcores[start]), xp.shape(ycores[start])
        m, rows, cols = stop - start, rx * ry, rx2 * ry2
        tree_flops += 2 * m * rows * n * cols + 2 * (m - 1) * rows**3 + 2 * rows * cols
        tree_launches += 12 + 5 * math.ceil(math.log2(m))
    return tree_flops + tree_launches * launch < sweep_flops + 5 * len(xcores) * launch


def _gram_tree(xcores: list, ycores: list, xp: Any) -> tuple[Any, Any, Any, Any]:
    """:func:`_gram_sweep`'s ``(v, log_scale, smallest, last)`` by a tree of transfer matrices.

    Each run of equal square cores (:func:`_runs`) is stacked, its transfer matrices are
    formed in one batched product and multiplied pairwise until one is left
    (:func:`_run_product`); the runs' products are then chained left to right. Every
    product is divided by its Frobenius norm (floored at the smallest normal number), so
    no level overflows, and the logarithms are summed once at the end. One compiled
    program per shape pattern on JAX.
    """
    return _tree(xp, *xcores, *ycores, conj=xp.is_complex(xcores[0]))


@grouped
def _tree(xp: Any, *cores: Any, conj: bool = False) -> tuple[Any, Any, Any, Any]:
    """:func:`_gram_tree` on the cores of `x` followed by those of `y`."""
    xcores, ycores = cores[:len(cores) // 2], cores[len(cores) // 2:]
    v, norms = None, []
    for start, stop in _runs(xcores, ycores, xp):
        xs, ys = (xp.stack(xcores[start:stop]), xp.stack(ycores[start:stop])) if (
            stop - start > 1) else (xp.expand_dims(xcores[start], 0),
                                    xp.expand_dims(ycores[start], 0))
        mat, s = _run_product(xp, xs, ys, conj)
        norms.append(s)
        if v is not None:
            v, s = _normalized(xp, v @ mat)
            norms.append(xp.reshape(s, (1,)))
        else:
            v = mat
    s = xp.concatenate(norms)
    return v[0, 0], xp.sum(xp.log(s)), xp.min(s), xp.reshape(norms[-1], (-1,))[-1]


def _run_product(xp: Any, xs: Any, ys: Any, conj: bool) -> tuple[Any, Any]:
    """The normalized product of the transfer matrices of stacked cores ``xs (m, a, n,
    b)`` and ``ys (m, c, n, e)``, ``(a c, b e)``, and the norms divided out on the way."""
    m, a, n, b = xp.shape(xs)
    _, c, _, e = xp.shape(ys)
    t = xp.einsum("maib,mcie->macbe", xp.conj(xs) if conj else xs, ys)
    t, s = _normalized(xp, xp.reshape(t, (m, a * c, b * e)))
    norms = [s]
    while m > 1:
        half, odd = divmod(m, 2)
        pairs = xp.reshape(t[:2 * half], (half, 2, a * c, b * e))
        p, s = _normalized(xp, pairs[:, 0] @ pairs[:, 1])
        norms.append(s)
        t = xp.concatenate([p, t[2 * half:]]) if odd else p
        m = half + odd
    return t[0], xp.concatenate(norms)


def _normalized(xp: Any, t: Any) -> tuple[Any, Any]:
    """A matrix or a stack of them ``(m, p, q)``, each divided by its Frobenius norm
    floored at the smallest normal number, and those norms (``(m,)`` or 0-d)."""
    lead = xp.shape(t)[:-2]
    s = xp.maximum(xp.norm(xp.reshape(t, lead + (-1,)), axis=-1), xp.finfo_tiny(t))
    scale = xp.astype(s, xp.dtype(t)) if xp.is_complex(t) else s
    return t / xp.reshape(scale, lead + (1, 1)), s
