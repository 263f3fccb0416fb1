"""Trains joined and padded (NumPy's concatenate and pad, exact): tnlib's
``tt.concatenate`` / ``tt.pad`` against torchTT's ``cat`` / ``pad`` and tntorch's ``cat`` /
``pad``.

Workloads: three trains of 12 modes of 8 (ranks 16, 24, 32), joined along mode 6 (sizes
8, 5, 3); one of them padded at the end of every mode to 10, by zeros and by the constant
1.5 (tntorch pads at the end only, so every candidate does the same). ``max_err``: the
largest error at 2,000 random entries against the dense definition, relative to the
largest of them; ``max_rank``: the result's. No peer has a pad by the edge or a wrap.
"""

from __future__ import annotations

from typing import Any

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402


def _entries_of_join(xs: list, idx: np.ndarray, axis: int) -> np.ndarray:
    """The concatenation's entries at `idx`, read from the trains (never dense)."""
    bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
    out = np.empty(len(idx))
    part = np.searchsorted(bounds, idx[:, axis], side="right") - 1
    for k, x in enumerate(xs):
        sel = part == k
        local = idx[sel].copy()
        local[:, axis] -= bounds[k]
        out[sel] = np.asarray(tnlib.to_numpy(x.evaluate(local)))
    return out


def _entries_of_pad(x: Any, idx: np.ndarray, value: float) -> np.ndarray:
    inside = np.all(idx < np.asarray(x.shape), axis=1)
    out = np.full(len(idx), value)
    out[inside] = np.asarray(tnlib.to_numpy(x.evaluate(idx[inside])))
    return out


def main(repeats: int = 21) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_join", "Joining and padding trains (exact)")
    tn, tnt = _peers.load("torchtt"), _peers.load("tntorch")
    d, axis = 12, 6
    xs = []
    for seed, (n, r) in enumerate(((8, 16), (5, 24), (3, 32))):
        shape = [8] * d
        shape[axis] = n
        xs.append(tt.random(tuple(shape), r, seed=seed))
    rng = np.random.default_rng(0)
    joined = [8] * d
    joined[axis] = 16
    idx = np.stack([rng.integers(0, n, 2000) for n in joined], axis=1)
    want = _entries_of_join(xs, idx, axis)
    cands = {"tnlib concatenate": lambda: tt.concatenate(xs, axis=axis)}
    as_tt = {"tnlib concatenate": lambda y: y}
    if tn is not None:
        txs = [tn.TT(_peers.torch_cores(list(x.cores))) for x in xs]
        cands["torchTT cat"] = lambda: tn.cat(txs, axis)
        as_tt["torchTT cat"] = lambda y: tt.TTTensor([c.numpy() for c in y.cores])
    if tnt is not None:
        nxs = [tnt.Tensor(_peers.torch_cores(list(x.cores))) for x in xs]
        cands["tntorch cat"] = lambda: tnt.cat(*nxs, dim=axis)
        as_tt["tntorch cat"] = lambda y: tt.TTTensor([c.detach().double().numpy() for c in y.cores])
    _add(report, f"3 trains of {d} modes of 8 (ranks 16/24/32) along mode {axis}", cands,
         as_tt, idx, want, "torchTT cat" if tn else None, repeats)

    x = xs[0]
    idx = rng.integers(0, 10, (2000, d))
    for value in (0.0, 1.5):
        want = _entries_of_pad(x, idx, value)
        cands = {"tnlib pad": lambda v=value: tt.pad(x, (0, 2), constant_values=v)}
        as_tt = {"tnlib pad": lambda y: y}
        if tn is not None:
            tx = tn.TT(_peers.torch_cores(list(x.cores)))
            cands["torchTT pad"] = lambda v=value: tn.pad(tx, [(0, 2)] * d, value=v)
            as_tt["torchTT pad"] = lambda y: tt.TTTensor([c.numpy() for c in y.cores])
        if tnt is not None:
            nx = tnt.Tensor(_peers.torch_cores(list(x.cores)))
            cands["tntorch pad"] = lambda v=value: tnt.pad(nx, [10] * d, fill_value=v)
            as_tt["tntorch pad"] = lambda y: tt.TTTensor([c.detach().double().numpy()
                                                          for c in y.cores])
        _add(report, f"{d} modes of 8 (rank 16) padded to 10 by {value:g}", cands, as_tt,
             idx, want, "torchTT pad" if tn else None, repeats)
    report.print()
    report.save()
    return report


def _add(report: Any, workload: str, cands: dict, as_tt: dict, idx: np.ndarray,
         want: np.ndarray, baseline: str | None, repeats: int) -> None:
    timing = _harness.interleaved(cands, repeats)
    results = {key: (lambda key=key: as_tt[key](cands[key]())) for key in timing}
    _peers.add_entry_rows(report, workload, timing, results, idx, want, baseline)


if __name__ == "__main__":
    main()
