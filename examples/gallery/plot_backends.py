"""
One workload, every backend
===========================

tnlib runs each algorithm on the backend of its input arrays. ``tnlib.benchmark.run``
times the standard workloads (or a ``setup(ctx) -> thunk`` function of your own) on every
backend installed, from the same data, with a warm-up, the device synchronized and the
first call (which includes JIT compilation) reported separately; ``python -m tnlib bench``
does the same from the shell. This page ran on the machine that built the site, one
thread per framework; your machine and sizes will differ, which is the reason to run it
yourself. Bars start at zero: 1 is the fastest backend of each workload.
"""

import os

import matplotlib.pyplot as plt

from tnlib import benchmark, tt

os.environ.setdefault("OMP_NUM_THREADS", "1")


def rounding_a_sum(ctx):
    """A workload of one's own: round the sum of two rank-16 trains."""
    x = tt.random((4,) * 16, 16, seed=0, dtype=ctx.dtype, device=ctx.device,
                  backend=ctx.backend)
    y = tt.random((4,) * 16, 16, seed=1, dtype=ctx.dtype, device=ctx.device,
                  backend=ctx.backend)
    return lambda: (x + y).round(max_rank=16)


# float32 runs everywhere (JAX gives float64 only with jax_enable_x64)
results = benchmark.run(["cp_als", "hooi", rounding_a_sum], dtype="float32", repeat=3)
print(benchmark.format_table(results))
benchmark.plot(results)
plt.show()
