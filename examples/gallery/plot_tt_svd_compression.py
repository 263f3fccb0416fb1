"""
TT-SVD compression of a smooth function
=======================================

A function of six variables sampled on a :math:`12^6` grid is a 3-million-entry array.
TT-SVD compresses it to the accuracy asked for: ``tt_svd(a, eps)`` guarantees
:math:`\\|a - x\\|_F \\le \\varepsilon \\|a\\|_F`, and the ranks grow only like
:math:`\\log(1/\\varepsilon)` for analytic functions. The plot shows the achieved error
against ``eps`` (it stays under the diagonal) and the storage of the train as a fraction of
the full array.
"""

import matplotlib.pyplot as plt
import numpy as np

from tnlib import tt

n, d = 12, 6
x = np.linspace(0.0, 1.0, n)
grids = np.meshgrid(*[x] * d, indexing="ij", sparse=True)
a = 1.0 / np.sqrt(0.05 + sum(g**2 for g in grids))   # a smoothed inverse distance
norm_a = np.linalg.norm(a)

epss = np.logspace(-1, -12, 12)
errors, storage, ranks = [], [], []
for eps in epss:
    y = tt.tt_svd(a, eps=eps)
    errors.append(np.linalg.norm(y.full() - a) / norm_a)
    storage.append(sum(c.size for c in y.cores) / a.size)
    ranks.append(max(y.ranks))

for eps, err, r, s in zip(epss[::3], errors[::3], ranks[::3], storage[::3]):
    print(f"eps {eps:.0e}: error {err:.1e}, max rank {r}, storage {s:.2e} of the array")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ax1.loglog(epss, errors, "o-", color="C3", label="tnlib tt_svd")
ax1.loglog(epss, epss, "k--", lw=0.8, label="bound: error = eps")
ax1.set_xlabel("eps")
ax1.set_ylabel("relative error")
ax1.invert_xaxis()
ax1.legend()
ax2.semilogx(epss, storage, "o-", color="C3")
ax2.set_xlabel("eps")
ax2.set_ylabel("entries stored / 12^6")
ax2.set_ylim(bottom=0)
ax2.invert_xaxis()
for e, s, r in zip(epss[::2], storage[::2], ranks[::2]):
    ax2.annotate(f"r={r}", (e, s), textcoords="offset points", xytext=(0, 6), fontsize=8)
fig.suptitle("TT-SVD of 1/sqrt(0.05 + |x|^2) on a 12^6 grid")
fig.tight_layout()
plt.show()
