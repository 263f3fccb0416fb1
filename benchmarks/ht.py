"""Hierarchical Tucker: HSVD against TT-SVD, and HT truncation of a sum.

1. HSVD (balanced tree) and TT-SVD of the Hilbert tensors (4,)^10 and (8,)^8 at
   eps 1e-8: time, parameters and error.
2. Truncation of sums of two random rank-20 HTTensors, d = 16, n = 20: x + y
   capped at rank 20, and x + x back to rank 20 by eps 1e-10.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import ht, tt  # noqa: E402


def hilbert(n: int, d: int) -> np.ndarray:
    return 1.0 / (1.0 + sum(np.ix_(*[np.arange(n, dtype=float)] * d)))


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("ht", "Hierarchical Tucker: HSVD vs TT-SVD, and truncation")
    for n, d in ((4, 10), (8, 8)):
        a = hilbert(n, d)
        anorm = np.linalg.norm(a)
        cands, make = {}, {}
        for name in tnlib.available_backends():
            ab = tnlib.tensor(a, backend=name)
            make[f"hsvd {name}"] = lambda ab=ab: ht.hsvd(ab, eps=1e-8)
            make[f"tt_svd {name}"] = lambda ab=ab: tt.tt_svd(ab, eps=1e-8)
        for key, fn in make.items():
            cands[key] = fn
        res = _harness.interleaved(cands, repeats)
        for key, stats in res.items():
            x = make[key]()
            err = float(np.linalg.norm(tnlib.to_numpy(x.full()) - a) / anorm)
            report.add(f"Hilbert ({n},)^{d} eps 1e-8", key, stats,
                       baseline=f"tt_svd {key.split()[1]}", params=x.num_params, rel_err=err,
                       max_rank=max(x.ranks.values()) if isinstance(x.ranks, dict)
                       else max(x.ranks))
    for label, second, eps, cap in (("x+y, rank 40->20 (max_rank)", 1, 1e-8, 20),
                                    ("x+x, rank 40->20 (eps 1e-10)", 0, 1e-10, None)):
        cands, sums = {}, {}
        for name in tnlib.available_backends():
            x = ht.random((20,) * 16, 20, seed=0, backend=name)
            y = ht.random((20,) * 16, 20, seed=second, backend=name)
            sums[name] = x + y
            cands[f"truncate {name}"] = (lambda s=sums[name], eps=eps, cap=cap:
                                         s.round(eps, max_rank=cap))
        res = _harness.interleaved(cands, repeats)
        for key, stats in res.items():
            s = sums[key.split()[1]]
            z = s.round(eps, max_rank=cap)
            err = float(tnlib.to_numpy((z - s).norm()) / tnlib.to_numpy(s.norm()))
            report.add(f"truncate {label}, d=16, n=20", key, stats, baseline="truncate numpy",
                       params=z.num_params, rel_err=err, max_rank=max(z.ranks.values()))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
