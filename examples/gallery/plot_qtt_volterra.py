"""
A Volterra integral equation on :math:`2^{40}` points
======================================================

The equation :math:`u(t) + \\lambda \\int_0^t e^{-(t-s)} u(s)\\,ds = 1` has the solution
:math:`u(t) = \\frac{1}{1+\\lambda} + \\frac{\\lambda}{1+\\lambda} e^{-(1+\\lambda) t}`.
On :math:`N = 2^d` points :math:`t_i = i h` of :math:`[0, 1)` the rectangle rule makes it
the linear system :math:`(I + \\lambda h L) u = 1`, where :math:`L_{ij} = e^{-(t_i -
t_j)}` for :math:`j \\le i`: a lower-triangular Toeplitz matrix, dense and of size
:math:`N^2`. In QTT format it is ``tt.toeplitz(k, 0)`` of the kernel's train, exactly, of
rank 2 (the kernel has rank 1), and AMEn solves the system in the train format. The
error of the discrete solution falls as :math:`O(h)`; the time to solve barely grows with
:math:`N`, up to :math:`10^{12}` unknowns.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from tnlib import tt

lam = 2.0


def exact(t):
    return 1 / (1 + lam) + lam / (1 + lam) * np.exp(-(1 + lam) * t)


rng = np.random.default_rng(0)
ds, errors, times = [10, 16, 22, 28, 34, 40], [], []
for d in ds:
    h = 2.0**-d
    start = time.perf_counter()
    kernel = tt.qtt_function(lambda t: np.exp(-t), 0.0, 1.0, d, eps=1e-14)
    a = (tt.eye((2,) * d) + lam * h * tt.toeplitz(kernel, 0)).round(1e-14)
    u = tt.amen_solve(a, tt.ones((2,) * d), eps=1e-12)
    times.append(time.perf_counter() - start)
    j = np.sort(rng.integers(0, 2**d, size=2000))
    bits = (j[:, None] >> np.arange(d - 1, -1, -1)) & 1      # most significant digit first
    errors.append(np.abs(u.evaluate(bits) - exact(j * h)).max())
    print(f"N = 2^{d}: operator ranks {max(a.ranks)}, solution ranks {max(u.ranks)}, "
          f"max error {errors[-1]:.1e}, {times[-1]:.2f} s")

n = 2.0 ** np.array(ds)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
ax1.loglog(n, errors, "o-", color="C3", label="tnlib QTT + AMEn")
ax1.loglog(n, errors[0] * n[0] / n, "--", color="0.5", label="O(h)")
ax1.set_xlabel("N (unknowns)")
ax1.set_ylabel("max error at 2000 points")
ax1.set_title("error against the exact solution")
ax1.legend()
ax2.semilogx(n, times, "o-", color="C3")
ax2.set_ylim(bottom=0)
ax2.set_xlabel("N (unknowns)")
ax2.set_ylabel("seconds")
ax2.set_title("build the operator and solve")
fig.tight_layout()
plt.show()
