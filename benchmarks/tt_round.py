"""TT rounding of X + X: d = 30, n = 10, TT-rank 60 (input rank 120), eps 1e-8.

Same input for every candidate; tnlib on each backend, the peers, and the
textbook NumPy loop.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

D, N, R, EPS = 30, 10, 60, 1e-8


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_round", f"TT rounding of X + X, d={D}, n={N}, rank {R} (input "
                                         f"{2 * R}), eps {EPS}")
    x = tt.random((N,) * D, R, seed=0)
    z = x + x
    base = [c.copy() for c in z.cores]
    cands = {}
    for name in tnlib.available_backends():
        zb = z.to(backend=name)
        cands[f"tnlib {name}"] = lambda zb=zb: zb.round(EPS, max_rank=R).cores
    cands["numpy loop"] = lambda: _peers.numpy_round(base, EPS, R)
    torchtt = _peers.load("torchtt")
    if torchtt:
        t = torchtt.TT(_peers.torch_cores(base))
        cands["torchTT"] = lambda: t.round(EPS, R).cores
    tntorch = _peers.load("tntorch")
    if tntorch:
        tc = _peers.torch_cores(base)

        def tn_round():
            t = tntorch.Tensor([c.clone() for c in tc])
            t.round_tt(EPS, R)  # in place
            return t.cores
        cands["tntorch"] = tn_round
    teneva = _peers.load("teneva")
    if teneva:
        cands["teneva"] = lambda: teneva.truncate(base, EPS, R)
    quimb = _peers.load("quimb")
    if quimb:
        mps = _peers.quimb_mps(quimb, base)
        cands["quimb"] = lambda: mps.copy().compress(max_bond=R, cutoff=EPS**2,
                                                     cutoff_mode="rsum2")
    t3f = _peers.load("t3f")
    if t3f:
        import tensorflow as tf

        tx = t3f.TensorTrain([tf.constant(c) for c in base])
        fn = tf.function(lambda cores: t3f.round(t3f.TensorTrain(cores), max_tt_rank=R,
                                                 epsilon=EPS).tt_cores)
        cands["t3f (graph)"] = lambda: fn(list(tx.tt_cores))
    res = _harness.interleaved(cands, repeats)
    for name, stats in res.items():
        report.add("round X+X", name, stats, baseline="numpy loop")
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
