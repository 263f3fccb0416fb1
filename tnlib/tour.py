"""The guided tour printed by ``python -m tnlib demo``."""

from __future__ import annotations

import time
import warnings

import numpy as np


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run(backends: list[str]) -> None:
    """Print one section per format, each run on every usable backend."""
    from . import backends as bk
    from . import cp, ht, to_numpy, tt, tucker

    warnings.simplefilter("ignore")
    print("\nThe same calls on every backend, then the solvers and the other formats "
          "(each line: result, seconds)\n")
    grid = sum(np.ix_(*[np.arange(8.0)] * 6))
    hilbert = 1.0 / (1.0 + grid)
    sp, sz = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([0.5, -0.5])
    for name in backends:
        xp = bk.get(name)
        a = xp.asarray(hilbert, dtype=xp.default_float_dtype)
        unit = xp.finfo_eps(a)  # tolerances follow the precision (float32 on JAX without x64)
        tight, loose = max(1e-10, 100 * unit), max(1e-6, 1e3 * unit)
        x, t1 = _timed(lambda: tt.tt_svd(a, eps=1e-6))
        err = float(np.linalg.norm(to_numpy(x.full()) - hilbert) / np.linalg.norm(hilbert))
        y, t2 = _timed(lambda: (x + x).round(1e-6))
        grid1 = xp.asarray(np.linspace(0.0, 1.0, 16), dtype=xp.default_float_dtype)
        c, t3 = _timed(lambda: tt.cross(
            lambda i: xp.sum(xp.take(grid1, i), axis=1), (16,) * 12, eps=tight, seed=0,
            return_info=True, backend=xp))
        print(f"[{name}, {xp.dtype_name(a)}]")
        print(f"  tt_svd  Hilbert 8^6, eps 1e-6      ranks {x.ranks}  error {err:.1e}  {t1:.3f}")
        print(f"  round   (x + x) back to eps 1e-6    ranks {y.ranks}  {t2:.3f}")
        print(f"  cross   sum of 12 variables, 16^12  ranks {c[0].ranks[:4]}...  "
              f"{c[1].evaluations} evaluations  {t3:.3f}")
        if name != backends[0]:
            continue  # the solvers and the other formats once, on the first backend
        lap = tt.laplacian(16, 6, backend=xp).to(dtype=xp.default_float_dtype)
        sol, t4 = _timed(lambda: tt.amen_solve(lap, tt.ones((16,) * 6, dtype=lap.dtype,
                                                            backend=xp), eps=loose,
                                               return_info=True))
        h = tt.nearest_neighbor(10, pair=[(0.5, sp, sp.T), (0.5, sp.T, sp), (1.0, sz, sz)],
                                backend=xp, dtype=xp.default_float_dtype)
        eig, t5 = _timed(lambda: tt.dmrg_eig(h, max_rank=16, eps=tight, tol=tight))
        k = cp.random((20, 20, 20), 3, seed=0, backend=xp, dtype=xp.default_float_dtype)
        fit, t6 = _timed(lambda: cp.cp_als(k.full(), 3, tol=tight, max_iter=300,
                                           return_info=True))
        tk, t7 = _timed(lambda: tucker.hosvd(a, eps=1e-6))
        hx, t8 = _timed(lambda: ht.hsvd(a, eps=1e-6))
        print(f"  amen    Laplacian 16^6 x = 1        residual {sol[1].residual:.1e}  "
              f"{t4:.3f}")
        print(f"  dmrg    Heisenberg chain L=10       E0 = {float(to_numpy(eig[0])):.10f}  "
              f"{t5:.3f}")
        print(f"  cp_als  rank-3 20^3                 error {fit[1].errors[-1]:.1e}  "
              f"{t6:.3f}")
        print(f"  hosvd   Hilbert 8^6, eps 1e-6       ranks {tk.ranks}  {t7:.3f}")
        print(f"  hsvd    Hilbert 8^6, eps 1e-6       {hx.num_params} parameters  {t8:.3f}")
