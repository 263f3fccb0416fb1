"""
A function on :math:`2^{40}` points in QTT format
==================================================

Quantized TT splits the index :math:`j` of a grid of :math:`2^d` points into its
:math:`d` binary digits, so a vector of :math:`2^{40} \\approx 10^{12}` samples becomes a
40-core train. Smooth and oscillating functions have tiny QTT ranks (a sine has rank 2,
exactly), and ``tt.qtt_function`` finds the train by cross approximation from a few
thousand samples. Below, a damped oscillation with a kink: the train is built without
ever forming the vector, then evaluated at a few thousand random points and compared with
the function.
"""

import matplotlib.pyplot as plt
import numpy as np

from tnlib import tt


def f(t):
    return np.exp(-3 * t) * np.sin(60 * t) + np.abs(t - 0.3)


d = 40
q, info = tt.qtt_function(f, 0.0, 1.0, d, eps=1e-9, seed=0, return_info=True)
print(f"{2**d:,} grid points, {sum(c.size for c in q.cores):,} numbers stored, "
      f"max rank {max(q.ranks)}, {info.evaluations:,} function evaluations")

rng = np.random.default_rng(1)
j = np.sort(rng.integers(0, 2**d, size=4000))
bits = (j[:, None] >> np.arange(d - 1, -1, -1)) & 1     # most significant digit first
t = j / 2**d
approx = q.evaluate(bits)
err = np.abs(approx - f(t))
print(f"max error at 4000 random points: {err.max():.1e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
ax1.plot(t, approx, color="C3", lw=1, label="QTT, evaluated")
ax1.set_xlabel("t")
ax1.set_title("f on a 2^40 grid (4000 random points)")
ax1.legend()
ax2.bar(range(len(q.ranks)), q.ranks, color="C3")
ax2.set_xlabel("bond")
ax2.set_ylabel("QTT rank")
ax2.set_title("ranks")
fig.tight_layout()
plt.show()
