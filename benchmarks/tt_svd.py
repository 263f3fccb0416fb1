"""TT-SVD of the Hilbert tensor 1/(1 + i1 + ... + i7), shape (10,)^7, eps 1e-8.

Peers without an accuracy argument get the ranks tnlib finds (TensorLy, t3f);
teneva gets its absolute tolerance equivalent. Errors are reported beside times.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

D, N, EPS = 7, 10, 1e-8


def hilbert() -> np.ndarray:
    return 1.0 / (1.0 + sum(np.ix_(*[np.arange(N, dtype=float)] * D)))


def numpy_tt_svd(a: np.ndarray, eps: float) -> list:
    """The textbook loop: a full SVD of every unfolding."""
    d = a.ndim
    delta = eps / np.sqrt(d - 1) * np.linalg.norm(a)
    cores, r, b = [], 1, a
    for k in range(d - 1):
        b = b.reshape(r * a.shape[k], -1)
        u, s, vh = np.linalg.svd(b, full_matrices=False)
        tail = np.sqrt(np.concatenate([np.cumsum((s**2)[::-1])[::-1], [0.0]]))
        rk = max(1, int(np.argmax(tail <= delta)))
        cores.append(u[:, :rk].reshape(r, a.shape[k], rk))
        b, r = s[:rk, None] * vh[:rk], rk
    cores.append(b.reshape(r, a.shape[-1], 1))
    return cores


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_svd", f"TT-SVD of the Hilbert tensor ({N},)^{D}, eps {EPS}")
    a = hilbert()
    anorm = np.linalg.norm(a)
    ranks = tt.tt_svd(a, EPS).ranks
    cands, dense = {}, {}
    for name in tnlib.available_backends():
        ab = tnlib.tensor(a, backend=name)
        cands[f"tnlib {name}"] = lambda ab=ab: tt.tt_svd(ab, EPS).cores
        dense[f"tnlib {name}"] = lambda ab=ab: tt.tt_svd(ab, EPS).full()
    cands["numpy loop"] = lambda: numpy_tt_svd(a, EPS)
    dense["numpy loop"] = lambda: tt.TTTensor(numpy_tt_svd(a, EPS)).full()
    tensorly = _peers.load("tensorly")
    if tensorly:
        from tensorly.decomposition import tensor_train

        cands["TensorLy"] = lambda: tensor_train(a, rank=list(ranks))
        dense["TensorLy"] = lambda: tensorly.tt_to_tensor(tensor_train(a, rank=list(ranks)))
    teneva = _peers.load("teneva")
    if teneva:
        # teneva's e is an absolute per-bond tolerance
        e_abs = EPS / np.sqrt(D - 1) * anorm
        cands["teneva"] = lambda: teneva.svd(a, e_abs)
        dense["teneva"] = lambda: teneva.full(teneva.svd(a, e_abs))
    torchtt = _peers.load("torchtt")
    if torchtt:
        import torch

        at = torch.from_numpy(a)
        cands["torchTT"] = lambda: torchtt.TT(at, eps=EPS).cores
        dense["torchTT"] = lambda: torchtt.TT(at, eps=EPS).full()
    t3f = _peers.load("t3f")
    if t3f:
        import tensorflow as tf

        ta = tf.constant(a)
        fn = tf.function(lambda x: t3f.to_tt_tensor(x, max_tt_rank=max(ranks)).tt_cores)
        cands["t3f (graph)"] = lambda: fn(ta)
        dense["t3f (graph)"] = lambda: t3f.full(t3f.TensorTrain(fn(ta)))
    res = _harness.interleaved(cands, repeats)
    for name, stats in res.items():
        err = float(np.linalg.norm(tnlib.to_numpy(dense[name]()) - a) / anorm)
        report.add("tt_svd hilbert", name, stats, baseline="numpy loop", rel_err=err)
    report.print()
    print(f"tnlib ranks: {ranks}")
    report.save()
    return report


if __name__ == "__main__":
    main()
