"""CP-ALS of a sparse tensor: tnlib's ``cp_als_sparse`` against pyttb's ``cp_als`` on an
``sptensor`` (the Python Tensor Toolbox).

A 1000 x 800 x 600 tensor of about 10^6 nonzeros: a rank-10 CP model with sparse
factors (6 % of each column's entries nonzero), 1 % noise on its nonzeros; rank 10,
exactly 20 sweeps from the same random start (pyttb's tolerance 0). The error column is
``‖X - a‖_F / ‖a‖_F`` over the whole tensor, computed by one formula for both (the
nonzeros' residual plus the model's energy off them, from the factors' Grams).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp  # noqa: E402

SHAPE, R, SWEEPS = (1000, 800, 600), 10, 20


def data() -> tuple[np.ndarray, np.ndarray]:
    """The nonzeros of a rank-R CP model whose factor columns are sparse (6 % of their
    entries uniform, the rest zero), with 1 % noise on them: about 10^6 nonzeros."""
    rng = np.random.default_rng(0)
    parts = [rng.uniform(size=(n, R)) * (rng.random((n, R)) < 0.06) for n in SHAPE]
    keys = []
    for r in range(R):
        support = [np.flatnonzero(p[:, r]) for p in parts]
        mesh = np.meshgrid(*support, indexing="ij")
        keys.append(np.ravel_multi_index(tuple(m.ravel() for m in mesh), SHAPE))
    idx = np.stack(np.unravel_index(np.unique(np.concatenate(keys)), SHAPE), axis=1)
    vals = np.einsum("sr,sr,sr->s", *(p[idx[:, k]] for k, p in enumerate(parts)))
    return idx, vals * (1 + 0.01 * rng.standard_normal(len(vals)))


def rel_error(idx, vals, weights, factors) -> float:
    """``‖X - a‖ / ‖a‖`` of the CP model (weights, factors) against the sparse tensor."""
    model = np.einsum("r,sr,sr,sr->s", weights, *(f[idx[:, k]] for k, f in enumerate(factors)))
    gram = np.ones((len(weights), len(weights)))
    for f in factors:
        gram *= f.T @ f
    off = weights @ gram @ weights - model @ model   # the model's energy off the nonzeros
    return float(np.sqrt(max(np.sum((model - vals) ** 2) + off, 0.0)) / np.linalg.norm(vals))


def main(repeats: int = 3) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("cp_sparse", f"Sparse CP-ALS, {SHAPE}, ~1e6 nonzeros, rank {R}, "
                                          f"{SWEEPS} sweeps")
    idx, vals = data()
    start = cp.random(SHAPE, R, seed=1)
    weights0 = tnlib.to_numpy(start.weights)
    factors0 = [tnlib.to_numpy(f) for f in start.factors]
    cands, parts = {}, {}
    for name in ("numpy", "torch"):
        if name in tnlib.available_backends():
            i, v = tnlib.tensor(idx, backend=name), tnlib.tensor(vals, backend=name)
            key = f"tnlib cp_als_sparse {name}"
            cands[key] = lambda i=i, v=v, name=name: cp.cp_als_sparse(
                i, v, SHAPE, R, init=start.to(backend=name), max_iter=SWEEPS, tol=0)
            parts[key] = lambda out: (tnlib.to_numpy(out.weights),
                                      [tnlib.to_numpy(f) for f in out.factors])
    ttb = _peers.load("pyttb")
    if ttb is not None:
        tensor = ttb.sptensor(idx, vals[:, None], SHAPE)
        init = ttb.ktensor([f.copy() for f in factors0], weights0.copy())
        cands["pyttb cp_als (sptensor)"] = lambda: ttb.cp_als(
            tensor, R, stoptol=0, maxiters=SWEEPS, init=init, printitn=0)[0]
        parts["pyttb cp_als (sptensor)"] = lambda out: (np.asarray(out.weights),
                                                       [np.asarray(f) for f in out.factor_matrices])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = _harness.interleaved(cands, repeats)
        for key, stats in timing.items():
            w, f = parts[key](cands[key]())
            report.add(f"{SHAPE}, nnz {len(vals)}, rank {R}", key, stats,
                       baseline="pyttb cp_als (sptensor)" if ttb else None,
                       rel_err=rel_error(idx, vals, w, f))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
