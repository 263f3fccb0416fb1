"""Non-negative CP: tnlib's HALS against TensorLy's HALS and multiplicative updates.

A non-negative rank-10 tensor of shape 100^3 (uniform factors) with 1 % Gaussian noise,
clipped at zero. Every candidate starts from its SVD initialization and runs exactly
100 sweeps (``tol=0``): tnlib ``cp.cp_hals`` (4 HALS passes per factor and sweep),
TensorLy ``non_negative_parafac_hals`` (its inner HALS iterations) and
``non_negative_parafac`` (multiplicative updates). The error column is
``‖X - a‖_F / ‖a‖_F``, computed in NumPy for every candidate; ``min entry`` is the
smallest factor entry (all must be >= 0).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp  # noqa: E402

N, R, SWEEPS = 100, 10, 100


def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    parts = [rng.uniform(size=(N, R)) for _ in range(3)]
    a = np.einsum("ir,jr,kr->ijk", *parts)
    return np.maximum(a + 0.01 * a.std() * rng.standard_normal(a.shape), 0.0)


def main(repeats: int = 3) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("cp_nonnegative", f"Non-negative CP, rank {R}, {N}^3, "
                                               f"{SWEEPS} sweeps")
    a = data()
    norm = np.linalg.norm(a)
    cands, dense = {}, {}
    for name in ("numpy", "torch"):
        if name in tnlib.available_backends():
            ab = tnlib.tensor(a, backend=name)
            cands[f"tnlib cp_hals {name}"] = lambda ab=ab: cp.cp_hals(ab, R, max_iter=SWEEPS,
                                                                      tol=0)
            dense[f"tnlib cp_hals {name}"] = lambda out: (
                tnlib.to_numpy(out.full()), min(float(tnlib.to_numpy(f).min())
                                                for f in out.factors))
    tl = _peers.load("tensorly")
    if tl is not None:
        from tensorly.decomposition import non_negative_parafac, non_negative_parafac_hals

        tl.set_backend("numpy")
        cands["tensorly non_negative_parafac_hals"] = lambda: non_negative_parafac_hals(
            a, R, n_iter_max=SWEEPS, tol=0, init="svd", random_state=0)
        cands["tensorly non_negative_parafac (MU)"] = lambda: non_negative_parafac(
            a, R, n_iter_max=SWEEPS, tol=0, init="svd", random_state=0)
        for key in ("tensorly non_negative_parafac_hals", "tensorly non_negative_parafac (MU)"):
            dense[key] = lambda out: (tl.cp_to_tensor(out), min(float(f.min())
                                                                for f in out.factors))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = _harness.interleaved(cands, repeats)
        for key, stats in timing.items():
            full, low = dense[key](cands[key]())
            report.add(f"{N}^3 rank {R}, 1% noise", key, stats,
                       baseline="tensorly non_negative_parafac_hals" if tl else None,
                       rel_err=float(np.linalg.norm(np.asarray(full) - a) / norm),
                       min_entry=low)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
