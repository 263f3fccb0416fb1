"""Riemannian optimization: tangent projection, TT completion, matrix completion, autodiff gradient.

1. ``project`` of a rank-20 TT onto the tangent space at another rank-20 TT,
   d = 10, n = 10: tnlib on every backend (eager, and compiled where the
   framework compiles), t3f under ``tf.function``, torchTT.
2. Steinlechner's completion setting: d = 10, n = 20, r = 4, cores uniform on
   [0, 1], |samples| = 10 d n r^2; time to a relative error <= 1e-8 on held-out
   entries (RCG, training residual 1e-10).
3. Matrix completion 1000 x 1000, rank 10, 5x oversampling, to residual 1e-12;
   then the same data with the rank overestimated (12) on the fixed-rank and
   the desingularized manifolds.
4. ``grad`` by autodiff of a completion loss against the hand-written sparse
   projection (n = 10, d = 10, r = 10, 10^5 samples).
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import time  # noqa: E402
import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import riemannian as rm  # noqa: E402
from tnlib import tt  # noqa: E402


def bench_project(report: _harness.Report, repeats: int) -> None:
    d, n, r = 10, 10, 20
    ranks = [1, n] + [r] * (d - 3) + [n, 1]  # rank 20 where the shape allows it
    x = tt.random((n,) * d, ranks, seed=0)
    z = tt.random((n,) * d, ranks, seed=1)
    cands = {}
    for name in tnlib.available_backends():
        xb, zb = x.to(backend=name), z.to(backend=name)
        xp = xb.backend

        def eager(xb=xb, zb=zb):
            rm.frame_of(xb)  # the frame of a fixed point is cached, as in an optimizer loop
            return rm.project(xb, zb).deltas
        cands[f"tnlib {name}"] = eager
        if xp.supports_jit:
            fn = xp.jit(lambda xc, zc, xp=xp: rm.project(tt.TTTensor._from_cores(xc, xp),
                                                          tt.TTTensor._from_cores(zc, xp)).deltas)
            cands[f"tnlib {name} (compiled)"] = lambda fn=fn, xb=xb, zb=zb: fn(
                list(xb.cores), list(zb.cores))
    t3f = _peers.load("t3f")
    if t3f:
        import tensorflow as tf

        tx = t3f.TensorTrain([tf.constant(c) for c in x.cores])
        tz = t3f.TensorTrain([tf.constant(c) for c in z.cores])
        fn = tf.function(lambda zc, xc: t3f.project(t3f.TensorTrain(zc),
                                                     t3f.TensorTrain(xc)).tt_cores)
        cands["t3f (graph)"] = lambda: fn(list(tz.tt_cores), list(tx.tt_cores))
    torchtt = _peers.load("torchtt")
    if torchtt:
        import torch

        px = torchtt.TT([torch.from_numpy(c) for c in x.cores])
        pz = torchtt.TT([torch.from_numpy(c) for c in z.cores])
        cands["torchTT"] = lambda: torchtt.manifold.riemannian_projection(px, pz).cores
    res = _harness.interleaved(cands, repeats)
    base = "t3f (graph)" if "t3f (graph)" in res else "tnlib numpy"
    for name, stats in res.items():
        report.add(f"project, d={d}, n={n}, r={r} onto r={r}", name, stats, baseline=base)


def steinlechner(seed: int = 0):
    d, n, r = 10, 20, 4
    rng = np.random.default_rng(seed)
    a = tt.TTTensor([rng.uniform(0, 1, size=(1 if k == 0 else r, n, 1 if k == d - 1 else r))
                     for k in range(d)])
    count = 10 * d * n * r * r
    idx = np.unique(rng.integers(0, n, size=(int(1.05 * count), d)), axis=0)
    idx = idx[rng.permutation(len(idx))[:count]]
    test = rng.integers(0, n, size=(10000, d))
    return a, idx, a.evaluate(idx), test, a.evaluate(test)


def bench_tt_completion(report: _harness.Report, repeats: int) -> None:
    a, idx, vals, test, test_vals = steinlechner()
    for name in ("numpy", "torch", "jax"):
        if name not in tnlib.available_backends():
            continue
        xp = tnlib.backends.get(name)
        v = xp.asarray(vals)
        out = {}

        def run(v=v, out=out):
            x, info = rm.tt_complete(idx, v, a.shape, 4, seed=0, tol=1e-10, max_iter=2000,
                                     return_info=True)
            out["x"], out["info"] = x, info
            return x.cores
        stats = _harness.interleaved({name: run}, max(1, repeats - 2))[name]
        x, info = out["x"], out["info"]
        err = float(np.linalg.norm(tnlib.to_numpy(x.evaluate(xp.asarray(test))) - test_vals)
                    / np.linalg.norm(test_vals))
        report.add("TT completion d=10 n=20 r=4 (Steinlechner), held-out <= 1e-8",
                   f"tnlib {name} rcg", stats, held_out_error=err, iterations=info.iterations)


def _matrix_data(m=1000, n=1000, r=10, oversampling=5, seed=0):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(m, r)), rng.normal(size=(n, r))
    count = oversampling * r * (m + n - r)
    flat = rng.choice(m * n, size=count, replace=False)
    rows, cols = np.unravel_index(flat, (m, n))
    return rows, cols, np.einsum("sa,sa->s", u[rows], v[cols])


def bench_matrix_completion(report: _harness.Report, repeats: int) -> None:
    rows, cols, vals = _matrix_data()
    for manifold in ("fixed-rank", "desingularized"):
        out = {}

        def run(manifold=manifold, out=out):
            res, info = rm.matrix_complete(rows, cols, vals, (1000, 1000), 10, manifold=manifold,
                                           seed=0, tol=1e-12, return_info=True)
            out["info"] = info
            return res
        stats = _harness.interleaved({manifold: run}, max(1, repeats - 2))[manifold]
        info = out["info"]
        report.add("matrix completion 1000^2, rank 10, 5x oversampling, to 1e-12",
                   f"tnlib numpy {manifold}", stats, residual=info.residual,
                   iterations=info.iterations)
    # rank overestimated: 12 for a rank-10 matrix, 300 iterations each
    for manifold in ("fixed-rank", "desingularized"):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, info = rm.matrix_complete(rows, cols, vals, (1000, 1000), 12, manifold=manifold,
                                         seed=0, tol=1e-10, max_iter=300, return_info=True)
        wall = time.perf_counter() - t0
        report.add("matrix completion, rank 10 data, search rank 12, <= 300 iterations",
                   f"tnlib numpy {manifold}", _harness.stats([wall]), residual=info.residual,
                   iterations=info.iterations)


def bench_autodiff_grad(report: _harness.Report, repeats: int) -> None:
    d, n, r, count = 10, 10, 10, 10**5
    rng = np.random.default_rng(3)
    idx = rng.integers(0, n, size=(count, d))
    vals = rng.normal(size=count)
    x = tt.random((n,) * d, r, seed=4)
    for name in ("torch", "jax", "tensorflow", "numpy"):
        if name not in tnlib.available_backends():
            continue
        xb = x.to(backend=name)
        xp = xb.backend
        vb = xp.asarray(vals)
        ib = xp.asarray(idx)
        rm.frame_of(xb)
        cands = {}
        if xp.supports_grad:
            def loss(y, ib=ib, vb=vb, xp=xp):
                res = y.evaluate(ib) - vb
                return 0.5 * xp.sum(res * res)
            cands[f"tnlib {name} grad (autodiff)"] = lambda xb=xb, loss=loss: rm.grad(
                loss, xb).deltas

        def by_hand(xb=xb, ib=ib, vb=vb):
            res = xb.evaluate(ib) - vb
            return rm.project_sparse(xb, idx, res).deltas
        cands[f"tnlib {name} project_sparse"] = by_hand
        res = _harness.interleaved(cands, repeats)
        for cand, stats in res.items():
            report.add(f"completion-loss gradient, d={d}, n={n}, r={r}, 1e5 samples", cand,
                       stats, baseline=f"tnlib {name} project_sparse")


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("riemannian", "Riemannian: projection, completion, autodiff gradient")
    bench_project(report, repeats)
    bench_autodiff_grad(report, repeats)
    bench_tt_completion(report, repeats)
    bench_matrix_completion(report, repeats)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
