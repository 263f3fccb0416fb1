"""A sum of 20 trains recompressed: adding then rounding, against sketching the terms.

The terms (d = 12, n = 10) are ``c_i B_(i mod 3) + 1e-6 E_i`` with ``B_j`` and ``E_i``
random trains of rank 4: each term has rank 8, the formed sum rank 160, and the sum is of
rank 12 up to the noise. Every candidate gets the 20 terms and returns a train of ranks
at most 16: adding them and rounding (tnlib's ``round``, teneva's ``add`` and
``truncate``), or ``tt_sketch`` of the list, which never forms the rank-160 sum and
needs no QR of it (a two-sided randomized sketch: its error is that of a generalized
Nyström approximation, larger than rounding's, and estimated by its held-out probes).
The error column is ``‖X - sum‖_F / ‖sum‖_F``, computed by tnlib for every candidate.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

D, N, TERMS, R = 12, 10, 20, 16


def terms() -> list:
    base = [tt.random((N,) * D, 4, seed=100 + s) for s in range(3)]
    rng = np.random.default_rng(0)
    return [float(rng.standard_normal()) * base[i % 3] + 1e-6 * tt.random((N,) * D, 4, seed=i)
            for i in range(TERMS)]


def added(xs: list) -> tt.TTTensor:
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    title = f"A sum of {TERMS} trains (d={D}, n={N}, rank 8 each) recompressed to rank {R}"
    report = _harness.Report("tt_sum_sketch", title)
    xs = terms()
    exact = added(xs)
    cands = {}
    for name in ("numpy", "torch"):
        if name in tnlib.available_backends():
            xb = [x.to(backend=name) for x in xs]
            cands[f"tnlib {name} add + round"] = lambda xb=xb: added(xb).round(max_rank=R)
            cands[f"tnlib {name} tt_sketch"] = lambda xb=xb: tt.tt_sketch(xb, R, seed=0)
    teneva = _peers.load("teneva")
    if teneva:
        plain = [[np.array(c) for c in x.cores] for x in xs]

        def teneva_round() -> tt.TTTensor:
            total = plain[0]
            for y in plain[1:]:
                total = teneva.add(total, y)
            return tt.TTTensor(teneva.truncate(total, 1e-14, R))
        cands["teneva add + truncate"] = teneva_round
    results = {name: fn() for name, fn in cands.items()}
    timing = _harness.interleaved(cands, repeats)
    norm = float(tnlib.to_numpy(exact.norm()))
    for name, stats in timing.items():
        x = results[name].to(backend="numpy")
        report.add("sum of 20 trains", name, stats, baseline="teneva add + truncate"
                   if teneva else None, rel_error=float((x - exact).norm()) / norm,
                   max_rank=max(x.ranks))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
