"""Non-negative least-squares steps shared by the non-negative decompositions.

Both work on the normal equations of ``min_{F >= 0} ‖X - F W‖`` given only
``M = X W^T`` and ``V = W W^T`` (internal; ``xp`` is the backend, the arrays are
traced or eager).
"""

from __future__ import annotations

from typing import Any

__all__ = ["hals_columns", "unit_columns"]


def hals_columns(f: Any, m: Any, v: Any, xp: Any) -> Any:
    """One HALS pass over the columns of `f` ``(n, R)``: each set to its exact
    non-negative least-squares value given the others,
    ``f_c <- max(0, f_c + (M_c - F V_c) / V_cc)`` (Cichocki, Phan 2009) -- block
    coordinate descent, so the objective never increases. A column whose ``V_cc`` is
    zero does not enter the model and keeps its values."""
    r = xp.shape(f)[1]
    # columns as rows, copied: each update replaces one row in place, never the caller's
    ft = xp.copy(xp.transpose(f))
    tiny = xp.finfo_tiny(f)
    for c in range(r):
        step = (m[:, c] - xp.matmul(v[c], ft)) / xp.maximum(v[c, c], tiny)
        ft = xp.index_update(ft, c, xp.maximum(ft[c] + step, xp.zeros_like(step)),
                             reuse=True)
    return xp.transpose(ft)


def unit_columns(f: Any, xp: Any) -> tuple[Any, Any]:
    """`f` with unit columns, and the columns' norms (a zero column stays zero: divided by
    the smallest normal number)."""
    n = xp.astype(xp.maximum(xp.norm(f, axis=0), xp.finfo_tiny(f)), xp.dtype(f))
    return f / n[None, :], n
