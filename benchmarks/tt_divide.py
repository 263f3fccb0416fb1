"""The entrywise quotient of two QTT functions: tnlib's ``tt.divide`` (AMEn on diag(y))
against torchTT's ``elementwise_divide`` (AMEn, its own local solver) and tnlib's cross
``tt.apply(lambda a, b: a / b, x, y)``.

x = sin(3t) + 2 and y = 1 + t^2 at the 2^d points j / 2^d (QTT ranks 4 and 3), at eps
1e-6 and 1e-10. ``max_err``: the largest error at 2,000 random points against the exact
quotient, relative to its largest value; ``max_rank``: the result's.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

from tnlib import tt  # noqa: E402


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_divide", "Entrywise quotient of two QTT functions")
    tn = _peers.load("torchtt")
    rng = np.random.default_rng(0)
    for d in (20, 30):
        grid = lambda k, d=d: rng.integers(0, 2, (k, d))  # noqa: E731
        x = tt.qtt_function(lambda t: np.sin(3 * t) + 2, 0.0, 1.0, d, eps=1e-13)
        y = tt.qtt_function(lambda t: 1 + t**2, 0.0, 1.0, d, eps=1e-13)
        idx = grid(2000)
        t = (idx @ (2.0 ** np.arange(d - 1, -1, -1))) / 2.0**d  # qtt_function's grid
        want = (np.sin(3 * t) + 2) / (1 + t**2)
        for eps in (1e-6, 1e-10):
            cands = {"tnlib divide": lambda eps=eps, x=x, y=y: tt.divide(x, y, eps=eps),
                     "tnlib apply (cross)": lambda eps=eps, x=x, y=y: tt.apply(
                         lambda a, b: a / b, x, y, eps=eps)}
            as_tt = {key: (lambda z: z) for key in cands}
            if tn is not None:
                xt = tn.TT(_peers.torch_cores(list(x.cores)))
                yt = tn.TT(_peers.torch_cores(list(y.cores)))
                cands["torchTT elementwise_divide"] = lambda eps=eps, xt=xt, yt=yt: (
                    tn.elementwise_divide(xt, yt, eps=eps))
                as_tt["torchTT elementwise_divide"] = lambda z: tt.TTTensor(
                    [c.numpy() for c in z.cores])
            timing = _harness.interleaved(cands, repeats)
            results = {key: (lambda key=key: as_tt[key](cands[key]())) for key in timing}
            _peers.add_entry_rows(report, f"2^{d} points, eps {eps:g}", timing, results, idx,
                                  want, "torchTT elementwise_divide" if tn else None)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
