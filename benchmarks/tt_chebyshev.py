"""Chebyshev interpolants in TT format: tnlib's ``ChebyshevTT`` against teneva's
functional TT (``func_int``, ``func_get``, ``func_sum``).

``f(x) = 1 / (1 + |x|²)`` on ``[-1, 1]^10``, 32 Chebyshev–Lobatto points per variable,
sampled once by ``tt.chebyshev`` (TT-cross to 1e-10); both libraries then start from the
same TT of values on the grid. Timed: the transform to coefficients and the evaluation at
10,000 random points of the box (``max_err`` against ``f`` itself), and the integral over
the box (``int_diff``: difference from tnlib's value; ``f`` has no closed-form integral).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

D, N, POINTS = 10, 32, 10_000


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_chebyshev", f"Chebyshev interpolant of 1 / (1 + |x|^2) on "
                                             f"[-1, 1]^{D}, {N} points per variable")
    f = tt.chebyshev(lambda x: 1.0 / (1.0 + (x * x).sum(axis=1)), [(-1, 1)] * D, n=N,
                     eps=1e-10, seed=0)
    values = f.values()
    value_cores = [np.asarray(c) for c in values.cores]
    pts = np.random.default_rng(1).uniform(-1, 1, (POINTS, D))
    exact = 1.0 / (1.0 + (pts**2).sum(axis=1))
    ref_integral = float(f.integral())

    def tnlib_eval():
        from tnlib.tt.chebyshev import _mode_map, _transform

        coeffs = tt.TTTensor([_mode_map(values.backend, c, _transform(N))
                              for c in values.cores])
        return tt.ChebyshevTT(coeffs, f.domain)(pts)

    cands = {"tnlib ChebyshevTT": tnlib_eval}
    teneva = _peers.load("teneva")
    if teneva is not None:
        cands["teneva func_int + func_get"] = lambda: teneva.func_get(
            pts, teneva.func_int(value_cores), -1.0, 1.0)
    timing = _harness.interleaved(cands, repeats)
    for key, stats in timing.items():
        err = float(np.abs(np.asarray(tnlib.to_numpy(cands[key]())) - exact).max())
        report.add(f"evaluate {POINTS} points, ranks {max(f.ranks)}", key, stats,
                   baseline="teneva func_int + func_get" if teneva else None, max_err=err)
    coeff_cores = [np.asarray(c) for c in f.coefficients.cores]
    cands = {"tnlib integral": lambda: f.integral()}
    if teneva is not None:
        cands["teneva func_sum"] = lambda: teneva.func_sum(coeff_cores, -1.0, 1.0)
    timing = _harness.interleaved(cands, repeats)
    for key, stats in timing.items():
        report.add("integral over the box", key, stats,
                   baseline="teneva func_sum" if teneva else None,
                   int_diff=abs(float(cands[key]()) - ref_integral))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
