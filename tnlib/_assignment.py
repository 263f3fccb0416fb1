"""The linear assignment problem on the host: rows matched to distinct columns at the
least total cost, by shortest augmenting paths with dual potentials (the Hungarian
method in its ``O(n² m)`` form; Kuhn 1955, Munkres 1957, Jonker and Volgenant 1987).

Used where a few components are paired with a few others (CP components with a reference
decomposition's); the matrices are small and live on the host.
"""

from __future__ import annotations

import numpy as np

__all__ = ["linear_assignment"]


def linear_assignment(cost: np.ndarray, maximize: bool = False) -> np.ndarray:
    """For an ``(n, m)`` matrix of finite costs, ``n <= m``: the column of each row, distinct,
    minimizing (or, with `maximize`, maximizing) ``Σ_i cost[i, col[i]]``.

    Rows enter one at a time. From each, a Dijkstra search over the reduced costs
    ``cost[i, j] - u[i] - v[j] >= 0`` reaches a free column by the cheapest path; the
    potentials ``u``, ``v`` move as it goes so that matched pairs stay at reduced cost 0,
    and the path's pairs are flipped. Column 0 below is a virtual start; each search step
    is ``O(m)`` vector work.
    """
    cost = np.asarray(cost, dtype=np.float64)
    n, m = cost.shape
    if n > m:
        raise ValueError(f"linear_assignment: needs rows <= columns, got {cost.shape}")
    a = np.zeros((n + 1, m + 1))
    a[1:, 1:] = -cost if maximize else cost
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    row_of = np.zeros(m + 1, dtype=np.int64)   # the row (1-based) matched to each column
    via = np.zeros(m + 1, dtype=np.int64)      # the column before each on its best path
    for i in range(1, n + 1):
        row_of[0], col = i, 0
        best = np.full(m + 1, np.inf)          # cheapest reduced path cost to each column
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[col] = True
            r = row_of[col]
            reduced = a[r] - u[r] - v
            better = ~used & (reduced < best)
            best[better], via[better] = reduced[better], col
            open_best = np.where(used, np.inf, best)
            nxt = int(np.argmin(open_best))
            delta = open_best[nxt]
            u[row_of[used]] += delta           # the used columns' rows are distinct
            v[used] -= delta
            best[~used] -= delta
            col = nxt
            if row_of[col] == 0:
                break
        while col:                             # flip the pairs along the path
            prev = via[col]
            row_of[col] = row_of[prev]
            col = prev
    out = np.empty(n, dtype=np.int64)
    cols = np.flatnonzero(row_of[1:]) + 1
    out[row_of[cols] - 1] = cols - 1
    return out
