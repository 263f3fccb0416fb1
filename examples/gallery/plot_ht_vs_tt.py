"""
Hierarchical Tucker against tensor train: parameter counts
==========================================================

A tensor train is the hierarchical Tucker format on a degenerate (linear) dimension tree;
a balanced tree splits the modes in halves recursively, so its longest path is
:math:`\\log_2 d` instead of :math:`d`. Which stores less depends on the tensor. For the
function :math:`1/(1 + \\sum_k x_k)` sampled on :math:`4^d` points and compressed to
:math:`10^{-8}` by ``ht.hsvd`` (balanced tree) and ``tt.tt_svd``, the plot shows the
number of stored parameters against :math:`d`, next to the :math:`4^d` entries of the
full array.
"""

import matplotlib.pyplot as plt
import numpy as np

from tnlib import ht, tt

dims = range(4, 11)
n = 4
counts_tt, counts_ht, full = [], [], []
for d in dims:
    grids = np.meshgrid(*[np.linspace(0, 1, n)] * d, indexing="ij", sparse=True)
    a = 1.0 / (1.0 + sum(grids))
    x = tt.tt_svd(a, eps=1e-8)
    h = ht.hsvd(a, eps=1e-8)
    counts_tt.append(sum(c.size for c in x.cores))
    counts_ht.append(h.num_params)
    full.append(a.size)
    print(f"d = {d:2d}: full {a.size:9,d}  TT {counts_tt[-1]:6,d} (max rank {max(x.ranks)})  "
          f"HT {counts_ht[-1]:6,d}")

fig, ax = plt.subplots(figsize=(5.8, 3.6))
ax.semilogy(list(dims), full, "k--", lw=0.8, label="full array 4^d")
ax.semilogy(list(dims), counts_tt, "o-", color="C3", label="TT (tt_svd)")
ax.semilogy(list(dims), counts_ht, "s-", color="C0", label="HT (hsvd, balanced tree)")
ax.set_xlabel("d")
ax.set_ylabel("numbers stored (log scale)")
ax.set_title("1/(1 + sum x) to eps = 1e-8")
ax.legend()
fig.tight_layout()
plt.show()
