"""TT dot product and norm: d = 100, n = 10, rank 20.

tnlib on each backend (JAX also under jit), against tntorch, t3f (graph),
torchTT, teneva, a plain NumPy loop and a jitted JAX loop.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import tt  # noqa: E402

D, N, R = 100, 10, 20


def numpy_dot(xc, yc):
    """The plain loop: two tensordots per core (BLAS), no rescaling."""
    v = np.ones((1, 1))
    for a, b in zip(xc, yc):
        w = np.tensordot(v, b, axes=(1, 0))                 # (ra, n, rb')
        v = np.tensordot(a, w, axes=([0, 1], [0, 1]))       # (ra', rb')
    return v[0, 0]


def main(repeats: int = 21) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("tt_dot", f"TT dot and norm, d={D}, n={N}, rank {R}")
    x = tt.random((N,) * D, R, seed=0)
    y = tt.random((N,) * D, R, seed=1)
    # scale the cores so the values stay in float range for every peer
    x = tt.TTTensor([c / np.sqrt(N * R) for c in x.cores])
    y = tt.TTTensor([c / np.sqrt(N * R) for c in y.cores])
    xc, yc = list(x.cores), list(y.cores)
    dots, norms = {}, {}
    for name in tnlib.available_backends():
        xb, yb = x.to(backend=name), y.to(backend=name)
        dots[f"tnlib {name}"] = lambda xb=xb, yb=yb: tt.dot(xb, yb)
        norms[f"tnlib {name}"] = lambda xb=xb: xb.norm()
        xp = tnlib.backends.get(name)
        if xp.supports_jit:
            jd = xp.jit(lambda a, b: tt.dot(a, b))
            jn = xp.jit(lambda a: a.norm())
            dots[f"tnlib {name} jit"] = lambda xb=xb, yb=yb, jd=jd: jd(xb, yb)
            norms[f"tnlib {name} jit"] = lambda xb=xb, jn=jn: jn(xb)
    dots["numpy loop"] = lambda: numpy_dot(xc, yc)
    norms["numpy loop"] = lambda: np.sqrt(numpy_dot(xc, xc))
    try:
        import jax
        import jax.numpy as jnp

        jx = [jnp.asarray(c) for c in xc]
        jy = [jnp.asarray(c) for c in yc]

        @jax.jit
        def jax_dot(a, b):
            v = jnp.ones((1, 1))
            for p, q in zip(a, b):
                v = jnp.einsum("ab,anc,bnd->cd", v, p, q)
            return v[0, 0]
        dots["jax loop jit"] = lambda: jax_dot(jx, jy)
        norms["jax loop jit"] = lambda: jnp.sqrt(jax_dot(jx, jx))
    except ImportError:
        pass
    tntorch = _peers.load("tntorch")
    if tntorch:
        tx = tntorch.Tensor(_peers.torch_cores(xc))
        ty = tntorch.Tensor(_peers.torch_cores(yc))
        dots["tntorch"] = lambda: tntorch.dot(tx, ty)
        norms["tntorch"] = lambda: tx.norm()
    torchtt = _peers.load("torchtt")
    if torchtt:
        px, py = torchtt.TT(_peers.torch_cores(xc)), torchtt.TT(_peers.torch_cores(yc))
        dots["torchTT"] = lambda: torchtt.dot(px, py)
        norms["torchTT"] = lambda: px.norm()
    t3f = _peers.load("t3f")
    if t3f:
        import tensorflow as tf

        gx = [tf.constant(c) for c in xc]
        gy = [tf.constant(c) for c in yc]
        fd = tf.function(lambda a, b: t3f.flat_inner(t3f.TensorTrain(a), t3f.TensorTrain(b)))
        fn = tf.function(lambda a: t3f.frobenius_norm(t3f.TensorTrain(a), epsilon=0.0))
        dots["t3f (graph)"] = lambda: fd(gx, gy)
        norms["t3f (graph)"] = lambda: fn(gx)
    teneva = _peers.load("teneva")
    if teneva:
        dots["teneva"] = lambda: teneva.mul_scalar(xc, yc)
        norms["teneva"] = lambda: teneva.norm(xc)
    ref_dot = float(numpy_dot(xc, yc))
    for label, cands in (("dot", dots), ("norm", norms)):
        res = _harness.interleaved(cands, repeats)
        for name, stats in res.items():
            value = float(tnlib.to_numpy(cands[name]()))
            ref = ref_dot if label == "dot" else float(np.sqrt(numpy_dot(xc, xc)))
            report.add(label, name, stats, baseline="numpy loop",
                       rel_err=abs(value - ref) / abs(ref))
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
