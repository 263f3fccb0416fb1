"""
CP-ALS in a swamp: a tensor without a best rank-2 approximation
===============================================================

The tensor :math:`T = a \\otimes b \\otimes b + b \\otimes a \\otimes b + b \\otimes b
\\otimes a` has rank 3 but *border rank* 2: it is the limit of rank-2 tensors
:math:`n (b + a/n)^{\\otimes 3} - n\\, b^{\\otimes 3}`, whose two terms grow without bound
and cancel. So the best rank-2 approximation does not exist, and CP-ALS chases it: the
error creeps towards zero while the weights of two nearly opposite components diverge
(their congruence tends to -1). tnlib's ``cp_als`` reports this as a ``ConvergenceWarning``
that names the degeneracy; ``l2_reg`` bounds the weights at the price of some error.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from tnlib import cp

a, b = np.eye(3)[0], np.eye(3)[1]
outer = lambda u, v, w: np.einsum("i,j,k->ijk", u, v, w)  # noqa: E731
t = outer(a, b, b) + outer(b, a, b) + outer(b, b, a)

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    y, info = cp.cp_als(t, 2, init="random", seed=0, max_iter=2000, tol=1e-14,
                        return_info=True)
print(caught[0].message if caught else "no warning")
print(f"after {info.iterations} sweeps: error {info.errors[-1]:.2e}, largest weight "
      f"{info.max_weight[-1]:.2e}, congruence of the two components {info.congruence:.4f}")
_, reg = cp.cp_als(t, 2, init="random", seed=0, max_iter=info.iterations, tol=0, l2_reg=1e-3,
                   return_info=True)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
its = np.arange(1, info.iterations + 1)
ax1.loglog(its, info.max_weight, color="C3", label="cp_als")
ax1.loglog(its, reg.max_weight, color="C0", label="cp_als, l2_reg=1e-3")
ax1.set_xlabel("sweep")
ax1.set_ylabel("largest component weight")
ax1.legend()
ax2.loglog(its, info.errors, color="C3", label="cp_als")
ax2.loglog(its, reg.errors, color="C0", label="cp_als, l2_reg=1e-3")
ax2.set_xlabel("sweep")
ax2.set_ylabel("relative error")
ax2.legend()
fig.suptitle("Diverging components of a border-rank tensor")
fig.tight_layout()
plt.show()
