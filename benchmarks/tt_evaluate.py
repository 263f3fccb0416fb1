"""TT evaluation at 10^5 random points: d = 20, n = 10, rank 20."""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

D, N, R, P = 20, 10, 20, 100_000


def numpy_gather(cores, idx):
    """The usual NumPy loop: gather each point's core slice, batched products."""
    v = cores[0][0, idx[:, 0], :]
    for k in range(1, len(cores)):
        v = np.einsum("pa,apb->pb", v, cores[k][:, idx[:, k], :], optimize=True)
    return v[:, 0]


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_evaluate", f"TT evaluate at {P} points, d={D}, n={N}, rank {R}")
    x = tt.random((N,) * D, R, seed=0)
    x = tt.TTTensor([c / np.sqrt(N * R) for c in x.cores])
    cores = list(x.cores)
    idx = np.random.default_rng(1).integers(0, N, size=(P, D))
    ref = numpy_gather(cores, idx)
    cands = {}
    for name in tnlib.available_backends():
        xb = x.to(backend=name)
        ib = tnlib.tensor(idx, backend=name)
        cands[f"tnlib {name}"] = lambda xb=xb, ib=ib: xb.evaluate(ib)
        xp = tnlib.backends.get(name)
        if name == "jax":
            jf = xp.jit(lambda a, i: a.evaluate(i))
            cands[f"tnlib {name} jit"] = lambda xb=xb, ib=ib, jf=jf: jf(xb, ib)
    cands["numpy gather loop"] = lambda: numpy_gather(cores, idx)
    teneva = _peers.load("teneva")
    if teneva:
        cands["teneva get_many"] = lambda: teneva.get_many(cores, idx)
    tntorch = _peers.load("tntorch")
    if tntorch:
        import torch

        t = tntorch.Tensor(_peers.torch_cores(cores))
        ti = torch.from_numpy(idx)
        cands["tntorch t[idx]"] = lambda: t[ti]
    t3f = _peers.load("t3f")
    if t3f:
        import tensorflow as tf

        tx = t3f.TensorTrain([tf.constant(c) for c in cores])
        ti = tf.constant(idx)
        fn = tf.function(lambda cs, i: t3f.gather_nd(t3f.TensorTrain(cs), i))
        cands["t3f gather_nd (graph)"] = lambda: fn(list(tx.tt_cores), ti)
    res = _harness.interleaved(cands, repeats)
    for name, stats in res.items():
        got = np.asarray(tnlib.to_numpy(cands[name]())).reshape(-1)
        report.add("evaluate", name, stats, baseline="numpy gather loop",
                   max_rel_err=float(np.max(np.abs(got - ref)) / np.max(np.abs(ref))))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
