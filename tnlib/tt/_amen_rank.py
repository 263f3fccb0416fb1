"""AMEn's residual truncation: the rank of a local solution chosen by the local residual.

Truncating the solution in the Frobenius norm would leave a residual up to
``cond(A)`` times larger; for ill-conditioned operators (Laplacians on fine
grids) the rank is instead raised until the local residual meets the target.
The search tries ranks around the Frobenius one and reads whether each meets it.

Host reads are what an accelerator pays for (each one waits for the device to
drain). There, several trial ranks are read together, and where applying the
local operator to *every* rank's trial costs less than a few kernel launches
(``Backend.launch_flops``) all of them are evaluated at once and read with the
singular values: one read per core instead of two to four. The rank found is
the one-trial-per-read search's either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backends import get as _get_backend
from ..linalg.svd import truncation_rank

_NUMPY = _get_backend("numpy")

#: evaluating every trial rank at once pays while its flops cost at most this many
#: kernel launches: about what the reads and per-trial products it replaces cost
_EVERY_RANK_LAUNCHES = 4


def residual_truncation(xp: Any, mat: Any, op: Callable, rhs: Any, shape: tuple, tol: float,
                        max_rank: int | None, apply_flops: float = 0.0) -> tuple[Any, Any]:
    """Smallest SVD rank whose local residual ``‖g - B u_r‖ <= tol ‖g‖``: the
    orthonormal factor ``u_r`` and the carried one ``s_r vh_r``.

    `mat` is the local solution as a matrix, `op` the local operator ``B`` (acting on
    arrays of `shape`, and on stacks of them), `rhs` the local right-hand side ``g``,
    and `apply_flops` the flops of one application of `op`.
    """
    u, s, vh = xp.svd(mat)
    full = xp.shape(s)[0]
    limit = full if max_rank is None else min(full, max_rank)
    sv = xp.astype(s, xp.dtype(vh))[:, None] * vh
    launch = xp.launch_flops(mat)
    every = launch > 0 and limit * apply_flops <= _EVERY_RANK_LAUNCHES * launch
    # the singular values, the right-hand side's norm (and every rank's residual) in one read
    parts = [s, xp.reshape(xp.astype(xp.norm(rhs), xp.dtype(s)), (1,))]
    if every:
        parts.append(xp.astype(_residual_norms(xp, u, sv, op, rhs, shape, limit),
                               xp.dtype(s)))
    host = np.asarray(xp.to_numpy(xp.concatenate(parts)), dtype=np.float64)
    delta = tol * float(np.linalg.norm(host[:full]))
    r = truncation_rank(host[:full], delta, max_rank, _NUMPY)  # values on the host
    gnorm = max(float(host[full]), 1e-300)

    if every:
        met = host[full + 1:] <= tol * gnorm  # met[q - 1]: rank q meets the target
        r = _trial_ranks(r, limit, lambda ranks: [bool(met[q - 1]) for q in ranks], limit)
    else:
        ahead = 4 if xp.reads_synchronize(mat) else 1  # trials read together on a device
        r = _trial_ranks(r, limit, _reading(xp, u, sv, op, rhs, shape, tol * gnorm), ahead)
    return u[:, :r], sv[:r, :]


def _reading(xp: Any, u: Any, sv: Any, op: Callable, rhs: Any, shape: tuple,
             bound: float) -> Callable:
    """``meets(ranks)``: whether each trial rank's residual is at most `bound`, with one
    read for all of them, the trials' residuals by one application of the operator to
    their stack."""

    def meets(ranks: list) -> list:
        trials = [xp.reshape(u[:, :q] @ sv[:q, :], shape) for q in ranks]
        if len(trials) == 1:
            return [float(xp.item(xp.norm(rhs - op(trials[0])))) <= bound]
        res = rhs - op(xp.stack(trials))                                # (t, r, n, r')
        values = xp.to_numpy(xp.norm(xp.reshape(res, (len(trials), -1)), axis=1))
        return [float(v) <= bound for v in values]

    return meets


def _residual_norms(xp: Any, u: Any, sv: Any, op: Callable, rhs: Any, shape: tuple,
                    limit: int) -> Any:
    """``‖g - B (u_q s_q vh_q)‖`` for every rank ``q = 1 .. limit``, on the device: the
    trials as one batched product (a lower-triangular mask picks each one's columns of
    `u`) and their residuals by one application of the operator to the stack."""
    full = xp.shape(u)[1]
    mask = xp.tril(xp.ones((limit, full), dtype=xp.dtype(u), device=xp.device(u)))
    trials = xp.reshape((u[None, :, :] * mask[:, None, :]) @ sv, (limit, *shape))
    res = rhs - op(trials)                                              # (limit, r, n, r')
    return xp.norm(xp.reshape(res, (limit, -1)), axis=1)


def _trial_ranks(r: int, limit: int, meets: Callable, ahead: int) -> int:
    """The rank search of :func:`residual_truncation`, `ahead` trials per read.

    If rank `r` (or the cap) meets the target, step down while the next smaller rank
    still does: the Frobenius rank is often more than the residual needs, as the
    operator damps the discarded directions. Otherwise step up by a quarter at a time
    until one meets it or the cap is reached. Trials past the first answer that
    decides are discarded, so the rank is the one-trial-per-read search's.
    """
    down = list(range(r - 1, max(0, r - ahead), -1))  # r - 1, ... read along with r
    if r < limit:
        first = meets([r] + down)
        if not first[0]:
            while r < limit:  # step up
                ups, q = [], r
                while q < limit and len(ups) < ahead:
                    q = min(limit, q + max(1, q // 4))
                    ups.append(q)
                for q, good in zip(ups, meets(ups)):
                    r = q
                    if good:
                        return r
            return r
        answers = first[1:]
    else:
        answers = meets(down) if down else []
    while True:  # step down
        for q, good in zip(down, answers):
            if not good:
                return r
            r = q
        if r <= 1:
            return r
        down = list(range(r - 1, max(0, r - 1 - ahead), -1))
        answers = meets(down)
