"""Modes of a train reordered: tnlib's ``tt.permute`` against torchTT's ``permute``.

Both move modes by swaps of neighbours, each a truncated SVD (torchTT: ``eps / d^1.5``
per swap; tnlib: ``eps`` over the number of swaps). Two workloads, eps 1e-10: a random
train of 16 modes of 4, rank 10, reversed; and ``f = Σ_k sin(x_k + x_{k+6})`` on 12 modes
of 8 points (ranks 12 in the given order), its coupled modes brought side by side.
tnlib runs once on NumPy (its default for CPU arrays) and once with torch's own
operations, whose LAPACK (MKL) takes these SVDs about 1.3x faster than NumPy's OpenBLAS.
``max_err``: the largest error at 2,000 random entries against the original train,
relative to its largest entry there; ``max_rank``: the result's.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402


def _coupled(d: int = 12, n: int = 8) -> tt.TTTensor:
    g = np.linspace(0, 1, n)
    half = d // 2
    terms = []
    for k in range(half):  # sin(x_k + x_{k+half}) = sin x_k cos x_h + cos x_k sin x_h
        for u, v in ((np.sin, np.cos), (np.cos, np.sin)):
            cores = [np.ones((1, n, 1)) for _ in range(d)]
            cores[k], cores[k + half] = u(g)[None, :, None], v(g)[None, :, None]
            terms.append(tt.TTTensor(cores))
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return tt.round(out, eps=1e-13)


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_permute", "Reordering the modes of a train, eps 1e-10")
    tn = _peers.load("torchtt")
    rng = np.random.default_rng(0)
    cases = [("reverse 16 modes of 4, rank 10", tt.random((4,) * 16, 10, seed=0),
              list(range(15, -1, -1))),
             ("12 modes of 8, coupled pairs side by side", _coupled(),
              [k for pair in zip(range(6), range(6, 12)) for k in pair])]
    for workload, x, axes in cases:
        idx = rng.integers(0, x.shape[0], (2000, x.ndim))
        want = np.asarray(tnlib.to_numpy(x.evaluate(idx)))
        cands = {"tnlib permute": lambda x=x, axes=axes: tt.permute(x, axes, eps=1e-10)}
        as_tt = {"tnlib permute": lambda y: y}
        if tn is not None:
            import torch

            from tnlib.backends import host_execution

            xtorch = x.to(backend="torch")

            def on_torch(xtorch=xtorch, axes=axes):
                with host_execution(False):  # torch's own LAPACK, not NumPy's
                    return tt.permute(xtorch, axes, eps=1e-10)

            cands["tnlib permute (torch ops)"] = on_torch
            as_tt["tnlib permute (torch ops)"] = lambda y: y.to(backend="numpy")

            xt = tn.TT([torch.from_numpy(np.asarray(c)) for c in x.cores])
            cands["torchTT permute"] = lambda xt=xt, axes=axes: tn.permute(xt, axes, eps=1e-10)
            as_tt["torchTT permute"] = lambda y: tt.TTTensor([c.numpy() for c in y.cores])
        timing = _harness.interleaved(cands, repeats)
        results = {key: (lambda key=key: as_tt[key](cands[key]())) for key in cands}
        _peers.add_entry_rows(report, workload, timing, results, idx[:, axes], want,
                              "torchTT permute" if tn else None)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
