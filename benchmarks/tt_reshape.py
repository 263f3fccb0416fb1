"""A train's modes split or merged (same row-major index): tnlib's ``tt.reshape`` against
torchTT's ``reshape``.

Both merge cores until the mode holds the next target size and split it by a truncated
SVD (torchTT ends with a rounding of the result). Workloads, eps 1e-10: a function on a
1024 x 1024 grid in TT (rank 12) to its QTT of 20 binary modes; that QTT back to the
(32, 32, 32, 32) layout; a random train of shape (6, 4) * 8, rank 8, to (4, 6) * 8 (every
pair merged and split again). ``max_err``: the largest error at 2,000 random entries,
relative to the largest of them; ``max_rank``: the result's.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402


def _flat(idx: np.ndarray, shape: tuple) -> np.ndarray:
    return np.ravel_multi_index(tuple(idx.T), shape)


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_reshape", "Reshaping a train (split and merge modes), eps 1e-10")
    tn = _peers.load("torchtt")
    t = np.linspace(0, 1, 1024)
    grid = tt.tt_svd(1.0 / (1.0 + t[:, None] ** 2 + t[None, :] ** 2), eps=1e-12)
    qtt = tt.reshape(grid, (2,) * 20, eps=1e-12)
    cases = [(f"1024 x 1024 grid, rank {max(grid.ranks)}, to QTT (2,) * 20", grid, (2,) * 20),
             ("QTT (2,) * 20 to (32, 32, 32, 32)", qtt, (32,) * 4),
             ("(6, 4) * 8, rank 8, to (4, 6) * 8", tt.random((6, 4) * 8, 8, seed=0), (4, 6) * 8)]
    rng = np.random.default_rng(0)
    for workload, x, shape in cases:
        idx = np.stack([rng.integers(0, n, 2000) for n in x.shape], axis=1)
        want = np.asarray(tnlib.to_numpy(x.evaluate(idx)))
        new_idx = np.stack(np.unravel_index(_flat(idx, x.shape), shape), axis=1)
        cands = {"tnlib reshape": lambda x=x, shape=shape: tt.reshape(x, shape, eps=1e-10)}
        as_tt = {"tnlib reshape": lambda y: y}
        if tn is not None:
            import torch

            xt = tn.TT([torch.from_numpy(np.asarray(c)) for c in x.cores])
            cands["torchTT reshape"] = lambda xt=xt, shape=shape: tn.reshape(xt, list(shape),
                                                                             eps=1e-10)
            as_tt["torchTT reshape"] = lambda y: tt.TTTensor([c.numpy() for c in y.cores])
        timing = _harness.interleaved(cands, repeats)
        results = {key: (lambda key=key: as_tt[key](cands[key]())) for key in cands}
        _peers.add_entry_rows(report, workload, timing, results, new_idx, want,
                              "torchTT reshape" if tn else None)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
