"""AMEn linear solves against torchTT's amen_solve, in one run.

1. d = 10, n = 32 discrete Laplacian, all-ones right-hand side, eps 1e-6.
2. QTT 3-D Laplacian on 256^3 (24 binary modes), all-ones right-hand side, eps 1e-8.

Reported: median time, max rank and the true relative residual ‖A x - f‖ / ‖f‖.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402


def residual(a, x, f):
    """True relative residual, through orthogonal sweeps (no cancellation)."""
    r = tnlib.to_numpy((a @ x - f).orthogonalize("left").cores[-1])
    return float(np.linalg.norm(r) / np.linalg.norm(tnlib.to_numpy(
        f.orthogonalize("left").cores[-1])))


def main(repeats: int = 3) -> _harness.Report:
    _harness.configure_frameworks()
    warnings.simplefilter("ignore")
    report = _harness.Report("solvers_amen", "AMEn linear solves")
    torchtt = _peers.load("torchtt")
    cases = [("Laplacian d=10 n=32 eps 1e-6", tt.laplacian(32, 10), tt.ones((32,) * 10), 1e-6),
             ("QTT Laplacian 256^3 eps 1e-8", tt.qtt_laplacian(8, dims=3),
              tt.ones((2,) * 24), 1e-8)]
    for label, a, f, eps in cases:
        cands, results = {}, {}
        for name in tnlib.available_backends():
            ab, fb = a.to(backend=name), f.to(backend=name)
            cands[f"tnlib {name}"] = (lambda ab=ab, fb=fb, name=name: results.__setitem__(
                f"tnlib {name}", (ab, tt.amen_solve(ab, fb, eps=eps, max_sweeps=40), fb)))
        if torchtt is not None:
            import torch

            ta = torchtt.TT([torch.from_numpy(np.ascontiguousarray(c)) for c in a.cores])
            tf_ = torchtt.TT([torch.from_numpy(np.ascontiguousarray(c)) for c in f.cores])

            def run_torchtt(ta=ta, tf_=tf_):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    x = torchtt.solvers.amen_solve(ta, tf_, eps=eps, nswp=40, use_cpp=False)
                results["torchTT"] = (a, tt.TTTensor([c.numpy() for c in x.cores]), f)
            cands["torchTT"] = run_torchtt
        res = _harness.interleaved(cands, repeats)
        for name, stats in res.items():
            aa, x, ff = results[name]
            report.add(label, name, stats, baseline="torchTT" if torchtt else None,
                       max_rank=max(x.ranks), residual=residual(aa, x, ff))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
