"""Extreme entries of a train and sampling from it: tnlib against teneva.

* ``extrema``: tnlib's ``tt.extrema(x, beam=100)`` against teneva's ``optima_tt(Y,
  k=100)`` (the same beam search, once from each end, then on the train shifted by the
  first extreme). On 8^8 (16.7 M entries) the dense tensor gives the exact answer;
  ``max_found`` / ``min_found`` are the entries each returned (``max_exact`` and
  ``min_exact`` beside them). On 10^30 only the values can be compared: larger maxima
  and smaller minima are better.
* ``sample``: 10,000 multi-indices drawn from a non-negative train (the square of a
  random rank-4 train, 20 modes of size 10, rank 16) by ``tt.sample`` and by teneva's
  ``sample``. ``tv_01`` is the total variation between the drawn pairs ``(i_0, i_19)``
  and their exact marginal (``x.sum(axis=...)``): both draw from the same distribution,
  so both sit at the sampling noise (0.03 to 0.04 for 10,000 draws over 100 cells).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

SAMPLES = 10_000


def _pair_tv(samples: np.ndarray, x: tt.TTTensor) -> float:
    """Total variation of the drawn (first, last) index pairs from their exact law."""
    marginal = tnlib.to_numpy(x.sum(axis=tuple(range(1, x.ndim - 1))).full())
    marginal = marginal / marginal.sum()
    drawn = np.zeros_like(marginal)
    np.add.at(drawn, (samples[:, 0], samples[:, -1]), 1.0 / len(samples))
    return 0.5 * float(np.abs(drawn - marginal).sum())


def _extrema(report: _harness.Report, teneva, shape, rank, dense: bool, repeats: int
             ) -> None:
    x = tt.random(shape, rank, seed=3)
    cores = [np.asarray(c) for c in x.cores]
    extra = {}
    if dense:
        a = x.full()
        extra = {"max_exact": float(a.max()), "min_exact": float(a.min())}
    cands = {"tnlib extrema": lambda: tt.extrema(x, beam=100)}
    if teneva is not None:
        cands["teneva optima_tt"] = lambda: teneva.optima_tt(cores, k=100)
    timing = _harness.interleaved(cands, repeats)
    for key, stats in timing.items():
        out = cands[key]()
        lo, hi = (out.min, out.max) if key.startswith("tnlib") else (out[1], out[3])
        report.add(f"extrema, {len(shape)} modes of {shape[0]}, rank {rank}", key, stats,
                   baseline="teneva optima_tt" if teneva else None,
                   max_found=float(hi), min_found=float(lo), **extra)


def _sample(report: _harness.Report, teneva, repeats: int) -> None:
    y = tt.random((10,) * 20, 4, seed=5)
    x = y * y  # non-negative, rank 16
    cores = [np.asarray(c) for c in x.cores]
    cands = {"tnlib sample": lambda: tt.sample(x, SAMPLES, seed=0)}
    if teneva is not None:
        cands["teneva sample"] = lambda: teneva.sample(cores, SAMPLES, seed=0)
    timing = _harness.interleaved(cands, repeats)
    for key, stats in timing.items():
        report.add(f"sample {SAMPLES} from 20 modes of 10, rank 16", key, stats,
                   baseline="teneva sample" if teneva else None,
                   tv_01=_pair_tv(np.asarray(cands[key]()), x))


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_optima_sample", "Extreme entries of a train, and "
                                                 "sampling from it")
    teneva = _peers.load("teneva")
    _extrema(report, teneva, (8,) * 8, 8, True, repeats)
    _extrema(report, teneva, (10,) * 30, 16, False, repeats)
    _sample(report, teneva, repeats)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
