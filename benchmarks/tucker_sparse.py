"""HOOI of a sparse tensor: tnlib's ``hooi_sparse`` against pyttb's ``tucker_als`` on an
``sptensor``.

The tensor of ``cp_sparse.py`` (1000 x 800 x 600, about 1.1 M nonzeros from a rank-10
CP model with sparse factors, 1 % noise), multilinear ranks (5, 5, 5), exactly 10 sweeps
from the same orthonormal random factors. The error column is ``‖X - a‖_F / ‖a‖_F`` of
each result, ``sqrt(‖a‖² - ‖core‖²) / ‖a‖`` for its orthonormal factors, computed in
NumPy from the returned core for both.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402
from cp_sparse import SHAPE, data  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tucker  # noqa: E402

RANKS, SWEEPS = (5, 5, 5), 10


def main(repeats: int = 3) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tucker_sparse", f"Sparse HOOI, {SHAPE}, ~1.1e6 nonzeros, "
                                              f"ranks {RANKS}, {SWEEPS} sweeps")
    idx, vals = data()
    rng = np.random.default_rng(1)
    start = [np.linalg.qr(rng.standard_normal((n, r)))[0] for n, r in zip(SHAPE, RANKS)]
    norm = np.linalg.norm(vals)
    cands, cores = {}, {}
    for name in ("numpy", "torch"):
        if name in tnlib.available_backends():
            i, v = tnlib.tensor(idx, backend=name), tnlib.tensor(vals, backend=name)
            init = tucker.TuckerTensor(tnlib.tensor(np.zeros(RANKS), backend=name),
                                       [tnlib.tensor(f, backend=name) for f in start])
            key = f"tnlib hooi_sparse {name}"
            cands[key] = lambda i=i, v=v, init=init: tucker.hooi_sparse(
                i, v, SHAPE, RANKS, init=init, max_iter=SWEEPS, tol=0)
            cores[key] = lambda out: tnlib.to_numpy(out.core)
    ttb = _peers.load("pyttb")
    if ttb is not None:
        tensor = ttb.sptensor(idx, vals[:, None], SHAPE)
        cands["pyttb tucker_als (sptensor)"] = lambda: ttb.tucker_als(
            tensor, list(RANKS), init=[f.copy() for f in start], maxiters=SWEEPS, stoptol=0,
            printitn=0)[0]
        cores["pyttb tucker_als (sptensor)"] = lambda out: out.core.double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = _harness.interleaved(cands, repeats)
        for key, stats in timing.items():
            core = np.asarray(cores[key](cands[key]()))
            err = np.sqrt(max(norm ** 2 - np.sum(core ** 2), 0.0)) / norm
            report.add(f"{SHAPE}, nnz {len(vals)}, ranks {RANKS}", key, stats,
                       baseline="pyttb tucker_als (sptensor)" if ttb else None,
                       rel_err=float(err))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
