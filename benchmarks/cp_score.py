"""Factor match score of a CP fit against the model it came from: tnlib's ``cp.score``
against pyttb's ``ktensor.score`` (Tensor Toolbox's ``score``).

A reference of rank R with correlated components (columns ``e_r + 0.8 g``: congruences
near 0.6) on 200 x 150 x 100, and an estimate of rank R + 5: the reference's columns with
5 % noise, reordered, plus five random components. pyttb pairs components greedily
(largest congruence first); tnlib solves the assignment exactly. Both use the weight
penalty. ``score``: the score each returns (higher is the better pairing).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

from tnlib import cp  # noqa: E402

SHAPE = (200, 150, 100)


def _models(rank: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    shared = [rng.standard_normal((n, 1)) for n in SHAPE]
    truth = [rng.standard_normal((n, rank)) + 0.8 * np.sqrt(n) * s / np.linalg.norm(s)
             for n, s in zip(SHAPE, shared)]
    w_truth = rng.uniform(1, 2, rank)
    order = rng.permutation(rank + 5)
    est = [np.hstack([f + 0.05 * rng.standard_normal(f.shape), rng.standard_normal((n, 5))])
           [:, order] for n, f in zip(SHAPE, truth)]
    w_est = np.concatenate([w_truth * rng.uniform(0.9, 1.1, rank), rng.uniform(1, 2, 5)])[order]
    return (w_truth, truth), (w_est, est)


def main(repeats: int = 7) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("cp_score", f"Factor match score, {SHAPE}, estimate rank R + 5")
    ttb = _peers.load("pyttb")
    for rank in (10, 50):
        (wt, ft), (we, fe) = _models(rank)
        truth, est = cp.CPTensor(wt, ft), cp.CPTensor(we, fe)
        cands = {"tnlib score": lambda: cp.score(est, truth).score}
        if ttb is not None:
            kt, ke = ttb.ktensor([f.copy() for f in ft], wt.copy()), ttb.ktensor(
                [f.copy() for f in fe], we.copy())
            cands["pyttb ktensor.score (greedy)"] = lambda: ke.score(kt)[0]
        timing = _harness.interleaved(cands, repeats)
        for key, stats in timing.items():
            report.add(f"R = {rank}", key, stats,
                       baseline="pyttb ktensor.score (greedy)" if ttb else None,
                       score=float(cands[key]()))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
