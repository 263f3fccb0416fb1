"""PARAFAC2 of slices of different heights: tnlib's ``cp.parafac2`` against TensorLy's
``parafac2``.

40 slices ``X_i = P_i B diag(a_i) C^T + noise`` with heights 60 to 100 and 80 columns,
rank 4, 1 % noise (the noise level of the relative error is about 0.01). Both start from
the same SVD start (``C`` from the leading eigenvectors of ``Σ X_i^T X_i``, ``A`` ones,
``B`` the identity), run 5 ALS sweeps per update of the projections with Bro's line
search every other iteration, and stop when the relative error changes by less than
``1e-8`` (at most 2,000 iterations). ``error`` is ``‖X - X̂‖ / ‖X‖`` of each result,
computed by one NumPy formula.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp  # noqa: E402

SLICES, COLUMNS, R = 40, 80, 4


def data() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 1.5, (SLICES, R))
    b = rng.standard_normal((R, R))
    c = rng.uniform(size=(COLUMNS, R))
    out = []
    for i, h in enumerate(rng.integers(60, 101, SLICES)):
        p = np.linalg.qr(rng.standard_normal((h, R)))[0]
        x = p @ b @ np.diag(a[i]) @ c.T
        out.append(x + 0.01 * np.linalg.norm(x) / np.sqrt(x.size) * rng.standard_normal(x.shape))
    return out


def rel_error(xs: list, model: list) -> float:
    num = sum(np.sum((x - m) ** 2) for x, m in zip(xs, model))
    return float(np.sqrt(num / sum(np.sum(x**2) for x in xs)))


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("cp_parafac2", f"PARAFAC2, {SLICES} slices of heights 60-100 "
                                            f"x {COLUMNS}, rank {R}")
    xs = data()
    cands, slices_of = {}, {}
    for name in ("numpy", "torch"):
        if name in tnlib.available_backends():
            xb = [tnlib.tensor(x, backend=name) for x in xs]
            key = f"tnlib parafac2 {name}"
            cands[key] = lambda xb=xb: cp.parafac2(xb, R, tol=1e-8, max_iter=2000)
            slices_of[key] = lambda out: [tnlib.to_numpy(s) for s in out.slices()]
    tl = _peers.load("tensorly")
    if tl is not None:
        from tensorly.decomposition import parafac2 as tl_parafac2
        from tensorly.parafac2_tensor import parafac2_to_slices

        cands["tensorly parafac2"] = lambda: tl_parafac2(xs, R, init="svd", tol=1e-8,
                                                         n_iter_max=2000)
        slices_of["tensorly parafac2"] = lambda out: [np.asarray(s)
                                                      for s in parafac2_to_slices(out)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = _harness.interleaved(cands, repeats)
        for key, stats in timing.items():
            err = rel_error(xs, slices_of[key](cands[key]()))
            report.add(f"{SLICES} slices, {COLUMNS} columns, rank {R}", key, stats,
                       baseline="tensorly parafac2" if tl else None, error=err)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
