"""Tucker sums and their recompression, against densifying and decomposing again.

``x + y`` of two Tucker tensors of shape 100^3 and multilinear ranks 10 has ranks 20.
tnlib recompresses it without the dense tensor (``(x + y).round(...)``: QR of the
factors, HOSVD of the 20^3 core). A library without Tucker algebra forms the dense sum
and decomposes it again: tnlib's ``hosvd`` of the dense sum, and TensorLy's
``tucker_to_tensor`` then ``tucker`` (HOSVD start, one HOOI sweep). Two targets: exact
(``eps=1e-10``, ranks stay 20, two independent tensors) and, for ``x + 1e-3 y``,
truncated to ranks 10 (TensorLy's HOOI sweep may fit slightly better than a HOSVD). The
error column is
``‖result - (x + y)‖ / ‖x + y‖`` computed in NumPy, the same for every candidate.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tucker  # noqa: E402

N, R = 100, 10


def random_tucker(seed: int) -> tucker.TuckerTensor:
    rng = np.random.default_rng(seed)
    factors = [np.linalg.qr(rng.standard_normal((N, R)))[0] for _ in range(3)]
    return tucker.TuckerTensor(rng.standard_normal((R, R, R)), factors)


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tucker_algebra", "Tucker sums recompressed vs densify + decompose")
    tl = _peers.load("tensorly")
    for label, eps, cap, small in (("x + y exact, ranks 20", 1e-10, None, 1.0),
                                   ("x + 1e-3 y truncated to ranks 10", 0.0, R, 1e-3)):
        x, y = random_tucker(0), random_tucker(1) * small
        dense = x.full() + y.full()
        norm = np.linalg.norm(dense)
        cands = {}
        for name in tnlib.available_backends():
            xb, yb = x.to(backend=name), y.to(backend=name)
            cands[f"tnlib round {name}"] = (lambda xb=xb, yb=yb:
                                            (xb + yb).round(eps, max_rank=cap))
        cands["tnlib hosvd of dense numpy"] = (lambda x=x, y=y: tucker.hosvd(
            x.full() + y.full(), eps=eps, ranks=cap))
        if tl is not None:
            from tensorly.decomposition import tucker as tl_tucker

            tl.set_backend("numpy")
            tx = (x.core, list(x.factors))
            ty = (y.core, list(y.factors))
            ranks = [2 * R if cap is None else cap] * 3

            def tl_run(tx=tx, ty=ty, ranks=ranks):
                a = tl.tucker_to_tensor(tx) + tl.tucker_to_tensor(ty)
                return tl_tucker(a, rank=ranks, n_iter_max=1, tol=0, init="svd")

            cands["tensorly densify + tucker numpy"] = tl_run
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = _harness.interleaved(cands, repeats)
            for key, stats in res.items():
                out = cands[key]()
                full = (tl.to_numpy(tl.tucker_to_tensor(out)) if key.startswith("tensorly")
                        else np.asarray(tnlib.to_numpy(out.full())))
                ranks = (tuple(out.ranks) if hasattr(out, "ranks")
                         else tuple(out[0].shape))
                report.add(f"100^3 {label}", key, stats, baseline="tnlib round numpy",
                           rel_err=float(np.linalg.norm(full - dense) / norm),
                           ranks=str(ranks))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
