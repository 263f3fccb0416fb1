"""Non-negative Tucker: tnlib's HALS against TensorLy's HALS and multiplicative updates.

A non-negative tensor of multilinear ranks (10, 10, 10) and shape 100^3 (uniform core
and factors) with 1 % Gaussian noise, clipped at zero. Every candidate starts from its
SVD initialization and runs exactly 100 sweeps (``tol=0``): tnlib
``tucker.tucker_hals`` (4 HALS passes per factor, 10 accelerated projected-gradient
steps on the core per sweep), TensorLy ``non_negative_tucker_hals`` (HALS factors, a
FISTA core) and ``non_negative_tucker`` (multiplicative updates). The error column is
``‖X - a‖_F / ‖a‖_F``, computed in NumPy for every candidate, ``noise`` the clean
tensor's (a non-negative candidate of these ranks); ``min entry`` is the smallest entry
of the core and the factors (all must be >= 0).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tucker  # noqa: E402

N, R, SWEEPS = 100, 10, 100


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    factors = [rng.uniform(size=(N, R)) for _ in range(3)]
    clean = np.einsum("abc,ia,jb,kc->ijk", rng.uniform(size=(R, R, R)), *factors)
    a = np.maximum(clean + 0.01 * clean.std() * rng.standard_normal(clean.shape), 0.0)
    return a, clean


def _lowest(core, factors) -> float:
    return min(float(np.asarray(p).min()) for p in (core, *factors))


def main(repeats: int = 3) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tucker_nonnegative", f"Non-negative Tucker, ranks {R}, "
                                                   f"{N}^3, {SWEEPS} sweeps")
    a, clean = data()
    norm = np.linalg.norm(a)
    cands, dense = {}, {}
    for name in ("numpy", "torch"):
        if name in tnlib.available_backends():
            ab = tnlib.tensor(a, backend=name)
            key = f"tnlib tucker_hals {name}"
            cands[key] = lambda ab=ab: tucker.tucker_hals(ab, R, max_iter=SWEEPS, tol=0)
            dense[key] = lambda out: (tnlib.to_numpy(out.full()), _lowest(
                tnlib.to_numpy(out.core), [tnlib.to_numpy(f) for f in out.factors]))
    tl = _peers.load("tensorly")
    if tl is not None:
        from tensorly.decomposition import non_negative_tucker, non_negative_tucker_hals

        tl.set_backend("numpy")
        hals, mu = "tensorly non_negative_tucker_hals", "tensorly non_negative_tucker (MU)"
        cands[hals] = lambda: non_negative_tucker_hals(a, [R] * 3, n_iter_max=SWEEPS, tol=0,
                                                       init="svd")
        cands[mu] = lambda: non_negative_tucker(a, [R] * 3, n_iter_max=SWEEPS, tol=0,
                                                init="svd", random_state=0)
        for key in (hals, mu):
            dense[key] = lambda out: (tl.tucker_to_tensor(out), _lowest(out[0], out[1]))
    noise = float(np.linalg.norm(a - clean) / norm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = _harness.interleaved(cands, repeats)
        for key, stats in timing.items():
            full, low = dense[key](cands[key]())
            report.add(f"{N}^3 ranks {R}, 1% noise", key, stats,
                       baseline="tensorly non_negative_tucker_hals" if tl else None,
                       rel_err=float(np.linalg.norm(np.asarray(full) - a) / norm),
                       noise=noise, min_entry=low)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
