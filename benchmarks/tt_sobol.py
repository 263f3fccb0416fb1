"""Sobol sensitivity indices of a train: tnlib's ``tt.sobol`` against tntorch's ``sobol``.

A random train of 10 modes of 20 grid points, rank 10, uniform inputs. tnlib: one call
for every first-order and total index. tntorch 1.1: ``tn.sobol(t, tn.only(x_k))`` and
``tn.sobol(t, x_k)`` for each of the 10 inputs (its masks are automata; each call builds
the ANOVA train; it needs ``torch.set_default_dtype(torch.float64)`` for float64 trains,
whose masks it builds in the default dtype). The 45 second-order indices: one call of
``tt.sobol_pairs`` against ``tn.sobol(t, tn.only(x_i & x_j))`` per pair. ``max_diff``:
the largest difference between the two libraries' indices.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

D, N, R = 10, 20, 10


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_sobol", f"Sobol indices, {D} modes of {N}, rank {R}")
    x = tt.random((N,) * D, R, seed=0)
    cands = {"tnlib sobol": lambda: tt.sobol(x)}
    pack = {"tnlib sobol": lambda s: np.concatenate([tnlib.to_numpy(s.first),
                                                    tnlib.to_numpy(s.total)])}
    tn = _peers.load("tntorch")
    if tn is not None:
        import torch

        torch.set_default_dtype(torch.float64)  # tntorch builds its masks in the default
        t = tn.Tensor([torch.tensor(np.asarray(c)) for c in x.cores])
        symbols = tn.symbols(D)

        def tntorch_indices():
            first = [float(tn.sobol(t, tn.only(symbols[k]))) for k in range(D)]
            total = [float(tn.sobol(t, symbols[k])) for k in range(D)]
            return np.array(first + total)

        cands["tntorch sobol (2 d calls)"] = tntorch_indices
        pack["tntorch sobol (2 d calls)"] = lambda v: v
    timing = _harness.interleaved(cands, repeats)
    ours = pack["tnlib sobol"](cands["tnlib sobol"]())
    for key, stats in timing.items():
        got = pack[key](cands[key]())
        report.add(f"first-order and total indices of {D} inputs", key, stats,
                   baseline="tntorch sobol (2 d calls)" if tn else None,
                   max_diff=float(np.abs(got - ours).max()))
    _pairs(report, x, tn, repeats)
    report.print()
    report.save()
    return report


def _pairs(report: _harness.Report, x, tn, repeats: int) -> None:  # noqa: ANN001
    """All 45 second-order indices: ``tt.sobol_pairs`` against tntorch's
    ``sobol(t, only(x_i & x_j))`` per pair."""
    cands = {"tnlib sobol_pairs": lambda: np.asarray(tnlib.to_numpy(tt.sobol_pairs(x)))}
    if tn is not None:
        import torch

        t = tn.Tensor([torch.tensor(np.asarray(c)) for c in x.cores])
        symbols = tn.symbols(D)

        def tntorch_pairs():
            out = np.zeros((D, D))
            for i in range(D):
                for j in range(i + 1, D):
                    out[i, j] = out[j, i] = float(tn.sobol(t, tn.only(symbols[i] & symbols[j])))
            return out

        cands["tntorch sobol (one call per pair)"] = tntorch_pairs
    timing = _harness.interleaved(cands, repeats)
    ours = cands["tnlib sobol_pairs"]()
    for key, stats in timing.items():
        report.add(f"second-order indices of {D * (D - 1) // 2} pairs", key, stats,
                   baseline="tntorch sobol (one call per pair)" if tn else None,
                   max_diff=float(np.abs(cands[key]() - ours).max()))


if __name__ == "__main__":
    main()
