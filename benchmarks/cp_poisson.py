"""Poisson CP of sparse counts: tnlib's ``cp_apr`` against pyttb's ``cp_apr`` (MU).

Counts drawn from a rank-5 Poisson model of shape 200 x 150 x 100 (gamma(0.3) factors,
mean 0.05 counts per entry: about 116,000 nonzeros), rank 5, from the same uniform start,
at most 50 outer iterations with the same settings (10 inner updates per mode,
tolerance 1e-4 on the KKT violation, kappa 0.01). ``log_lik`` is ``sum x log m - sum m``
of each result, computed by one NumPy formula; higher is better.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp  # noqa: E402

SHAPE, R, ITERS = (200, 150, 100), 5, 50


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    parts = [rng.gamma(0.3, size=(n, R)) for n in SHAPE]
    means = np.einsum("ir,jr,kr->ijk", *parts)
    counts = rng.poisson(0.05 * means / means.mean())
    idx = np.argwhere(counts)
    return idx, counts[tuple(idx.T)].astype(float)


def log_likelihood(idx, vals, weights, factors) -> float:
    model = np.einsum("r,sr,sr,sr->s", weights, *(f[idx[:, k]] for k, f in enumerate(factors)))
    total = float(weights @ np.prod([f.sum(axis=0) for f in factors], axis=0))
    return float(vals @ np.log(model)) - total


def main(repeats: int = 3) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("cp_poisson", f"Poisson CP (CP-APR), {SHAPE}, rank {R}, "
                                           f"{ITERS} outer iterations at most")
    idx, vals = data()
    rng = np.random.default_rng(1)
    start = [rng.uniform(size=(n, R)) for n in SHAPE]
    cands, parts = {}, {}
    for name in ("numpy", "torch"):
        if name in tnlib.available_backends():
            i, v = tnlib.tensor(idx, backend=name), tnlib.tensor(vals, backend=name)
            init = cp.CPTensor(tnlib.tensor(np.ones(R), backend=name),
                               [tnlib.tensor(f, backend=name) for f in start])
            key = f"tnlib cp_apr {name}"
            cands[key] = lambda i=i, v=v, init=init: cp.cp_apr(i, v, SHAPE, R, init=init,
                                                               max_iter=ITERS)
            parts[key] = lambda out: (tnlib.to_numpy(out.weights),
                                      [tnlib.to_numpy(f) for f in out.factors])
    ttb = _peers.load("pyttb")
    if ttb is not None:
        tensor = ttb.sptensor(idx, vals[:, None], SHAPE)
        cands["pyttb cp_apr (mu)"] = lambda: ttb.cp_apr(
            tensor, R, init=ttb.ktensor([f.copy() for f in start], np.ones(R)),
            maxiters=ITERS, printitn=0)[0]
        parts["pyttb cp_apr (mu)"] = lambda out: (np.asarray(out.weights),
                                                 [np.asarray(f) for f in out.factor_matrices])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = _harness.interleaved(cands, repeats)
        for key, stats in timing.items():
            w, f = parts[key](cands[key]())
            report.add(f"{SHAPE}, nnz {len(vals)}, rank {R}", key, stats,
                       baseline="pyttb cp_apr (mu)" if ttb else None,
                       log_lik=log_likelihood(idx, vals, w, f))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
