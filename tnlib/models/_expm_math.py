"""The maths of the exponential machine, on any backend: predictions, losses and gradients.

The model is ``f(x) = <W, phi(x_1) ⊗ ... ⊗ phi(x_d)>`` with ``phi(t) = (1, t)`` and
``W`` a TT of shape ``(2,) * d``. With the left interfaces
``A_k(x) = phi(x_1)^T C_1 ... phi(x_{k-1})^T C_{k-1}`` (a row of length ``r_{k-1}``)
and the right interfaces ``B_k(x) = C_{k+1} phi(x_{k+1}) ... C_d phi(x_d)``, the
model is linear in each core, and the gradient of ``Σ_i c_i f(x_i)`` with respect to
core ``k`` is ``Σ_i c_i A_k(x_i) ⊗ phi(x_ik) ⊗ B_k(x_i)``. Taking the interfaces
from the left- and right-orthogonal cores of a point gives the tangent-space
deltas of the Riemannian gradient (after the gauge projection); taking them from
the raw cores gives the Euclidean core gradients. Everything costs ``O(N d r^2)``.
"""

from __future__ import annotations

from typing import Any

from ..riemannian import Frame, TangentVector


def predict(cores: list, x: Any, xp: Any) -> Any:
    """``f(x_i)`` for the rows of ``x`` ``(N, d)``, by one left-to-right sweep."""
    a = xp.ones((xp.shape(x)[0], 1), dtype=xp.dtype(x))
    for k, core in enumerate(cores):
        a = _step_left(a, core, x[:, k : k + 1], xp)
    return a[:, 0]


def _step_left(a: Any, core: Any, t: Any, xp: Any) -> Any:
    r, _, rr = xp.shape(core)
    both = a @ xp.reshape(core, (r, 2 * rr))
    return both[:, :rr] + t * both[:, rr:]


def _step_right(b: Any, core: Any, t: Any, xp: Any) -> Any:
    r, _, rr = xp.shape(core)
    both = b @ xp.reshape(xp.transpose(core, (2, 1, 0)), (rr, 2 * r))
    return both[:, :r] + t * both[:, r:]


def sandwich(left: list, right: list, x: Any, c: Any, xp: Any) -> list:
    """``Σ_i c_i A_k(x_i) ⊗ phi(x_ik) ⊗ B_k(x_i)`` for every k.

    `left[k]` serves the left interfaces (k < d - 1) and `right[k]` the right ones
    (k > 0); each result has the shape of core k.
    """
    d, n = len(left), xp.shape(x)[0]
    ones = xp.ones((n, 1), dtype=xp.dtype(x))
    rights = [ones]
    for k in range(d - 1, 0, -1):
        rights.append(_step_right(rights[-1], right[k], x[:, k : k + 1], xp))
    rights.reverse()  # rights[k] = B_k, (N, r_k)
    out, a = [], ones
    for k in range(d):
        t = x[:, k : k + 1]
        ca = c[:, None] * a
        g0 = xp.transpose(ca) @ rights[k]
        g1 = xp.transpose(ca * t) @ rights[k]
        out.append(xp.stack([g0, g1], axis=1))
        if k < d - 1:
            a = _step_left(a, left[k], t, xp)
    return out


def riemannian_gradient(frame: Frame, x: Any, c: Any) -> TangentVector:
    """The projection of ``Σ_i c_i phi(x_i)^{⊗}`` onto the tangent space at `frame`."""
    left = list(frame.left) + [frame.last]
    return TangentVector(frame, tangent_deltas(left, frame.right, x, c, frame.backend))


def tangent_deltas(left: list, right: list, x: Any, c: Any, xp: Any) -> list:
    """`sandwich` with the point's orthogonal cores, then the gauge ``U_k^T dU_k = 0``."""
    deltas = sandwich(left, right, x, c, xp)
    for k in range(len(left) - 1):
        r, n, rr = xp.shape(left[k])
        um, dm = xp.reshape(left[k], (r * n, rr)), xp.reshape(deltas[k], (r * n, rr))
        deltas[k] = xp.reshape(dm - um @ (xp.transpose(um) @ dm), (r, n, rr))
    return deltas


# -------------------------------------------------------------------- losses
def loss_and_slope(f: Any, y: Any, v: Any, task: str, xp: Any) -> tuple[Any, Any]:
    """Weighted mean loss and its derivative with respect to each prediction,
    ``c_i = dL/df_i``; `v` are the sample weights scaled to mean 1.

    Classification (labels ±1): the logistic loss ``log(1 + exp(-y f))``, computed
    without overflow; regression: ``(f - y)^2 / 2``.
    """
    n = xp.shape(f)[0]
    if task == "classification":
        m = y * f
        e = xp.exp(-xp.abs(m))
        loss = xp.sum(v * (xp.maximum(-m, 0.0 * m) + xp.log(1.0 + e))) / n
        sig_neg = xp.where(m >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # sigma(-m)
        return loss, -v * y * sig_neg / n
    r = f - y
    return 0.5 * xp.sum(v * r * r) / n, v * r / n


# ------------------------------------------- array-only entry points (compiled on JAX/TF)
def loss_arrays(x: Any, y: Any, v: Any, *cores: Any, task: str, xp: Any) -> Any:
    """Weighted mean data loss of the weight with these cores."""
    return loss_and_slope(predict(list(cores), x, xp), y, v, task, xp)[0]


def rgrad_arrays(x: Any, y: Any, v: Any, *arrays: Any, d: int, task: str, xp: Any) -> tuple:
    """Gauge-fixed deltas of the Riemannian gradient of the data loss.

    `arrays` are a frame's ``U_1 .. U_{d-1}, X_d, V_2 .. V_d``.
    """
    left, right = list(arrays[:d]), [None] + list(arrays[d:])
    _, c = loss_and_slope(predict(left, x, xp), y, v, task, xp)
    return tuple(tangent_deltas(left, right, x, c, xp))


def core_grad_arrays(x: Any, y: Any, v: Any, *cores: Any, task: str, xp: Any) -> tuple:
    """Euclidean gradients of the data loss with respect to each core."""
    cores = list(cores)
    _, c = loss_and_slope(predict(cores, x, xp), y, v, task, xp)
    return tuple(sandwich(cores, cores, x, c, xp))
