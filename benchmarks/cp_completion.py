"""CP tensor completion: tnlib's cp_gradient (L-BFGS) against TensorLy's masked parafac.

A rank-5 60^3 tensor, 20% of its entries observed (seeded). Each candidate runs
from a random start until its own tolerance (1e-12 relative change, at most
2000 iterations); reported: time and the relative error on *all* entries
(the completion error), computed in NumPy. TensorLy's ``parafac(mask=...)``
fills the missing entries with the current model after every sweep (EM-ALS).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp  # noqa: E402

N, RANK, FRACTION = 60, 5, 0.2


def main(repeats: int = 3) -> _harness.Report:
    _harness.configure_frameworks()
    warnings.simplefilter("ignore")
    report = _harness.Report("cp_completion",
                             f"CP completion, rank {RANK}, {N}^3, {FRACTION:.0%} observed")
    truth = cp.random((N,) * 3, RANK, seed=11).full()
    mask = np.random.default_rng(12).random(truth.shape) < FRACTION
    observed = truth * mask
    cands, results = {}, {}
    for name in [b for b in tnlib.available_backends() if b != "cupy"]:
        a, m = tnlib.tensor(observed, backend=name), tnlib.tensor(mask, backend=name)
        cands[f"tnlib {name}"] = (lambda a=a, m=m: cp.cp_gradient(
            a, RANK, mask=m, seed=0, tol=1e-12, max_iter=2000).full())
    tl = _peers.load("tensorly")
    if tl is not None:
        from tensorly.decomposition import parafac

        def run_tensorly():
            tl.set_backend("numpy")
            res = parafac(tl.tensor(observed), RANK, mask=tl.tensor(mask.astype(float)),
                          n_iter_max=2000, tol=1e-12, init="random", random_state=0)
            return tl.cp_to_tensor(res)
        cands["TensorLy numpy"] = run_tensorly
    timed = _harness.interleaved({k: (lambda f=f, k=k: results.__setitem__(k, f()))
                                  for k, f in cands.items()}, repeats)
    for name, stats in timed.items():
        full = np.asarray(tnlib.to_numpy(results[name]))
        err = float(np.linalg.norm(full - truth) / np.linalg.norm(truth))
        report.add(f"completion {N}^3 rank {RANK}", name, stats,
                   baseline="TensorLy numpy" if tl else None, completion_error=err)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
