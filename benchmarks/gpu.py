"""GPU timings: the core TT, CP and solver workloads on torch (CUDA), CuPy and JAX (GPU).

Run on a machine with a CUDA device; NumPy on the host CPU is the reference
row. Each workload is warmed up once, then timed (median of 5, device
synchronized). Results go to ``results/gpu.json`` (and to ``$OUT`` when set).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import _harness  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp, tt  # noqa: E402


def backends():
    out = [("numpy", None)]
    try:
        import torch

        if torch.cuda.is_available():
            out.append(("torch", "cuda"))
    except ImportError:
        pass
    for name in ("cupy", "jax"):
        try:
            xp = tnlib.backends.get(name)
            if name == "jax" and not any("cuda" in d.lower() or "gpu" in d.lower()
                                         for d in xp.devices()):
                continue
            out.append((name, None))
        except tnlib.BackendError:
            pass
    return out


def main() -> dict:
    warnings.simplefilter("ignore")
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
    except ImportError:
        pass
    rows = []
    x = tt.random((10,) * 30, 60, seed=0)
    big = tt.random((10,) * 100, 20, seed=1)
    big = tt.TTTensor([c / np.sqrt(200) for c in big.cores])
    hil = 1.0 / (1.0 + sum(np.ix_(*[np.arange(10.0)] * 7)))
    ev = tt.TTTensor([c / np.sqrt(200) for c in tt.random((10,) * 20, 20, seed=2).cores])
    idx = np.random.default_rng(0).integers(0, 10, (100_000, 20))
    a200 = cp.random((200,) * 3, 10, seed=3).full()
    for name, device in backends():
        xp = tnlib.backends.get(name)
        xb = x.to(backend=name, device=device)
        zb = xb + xb
        bb = big.to(backend=name, device=device)
        hb = xp.asarray(hil, device=device)
        eb = ev.to(backend=name, device=device)
        ib = xp.asarray(idx, device=device)
        ab = xp.asarray(a200, device=device)
        lap = tt.laplacian(32, 10, backend=name).to(device=device)
        ones = tt.ones((32,) * 10, backend=name, device=device)
        work = {
            "round X+X d=30 r=120->60": lambda: zb.round(1e-8, max_rank=60).cores,
            "dot d=100 r=20": lambda: tt.dot(bb, bb),
            "tt_svd Hilbert 10^7": lambda: tt.tt_svd(hb, eps=1e-8).cores,
            "evaluate 1e5 points": lambda: eb.evaluate(ib),
            "cp_als 200^3 r=10 100 sweeps": lambda: cp.cp_als(ab, 10, max_iter=100, tol=0,
                                                              init="random", seed=0).factors,
            "amen Laplacian d=10 n=32": lambda: tt.amen_solve(lap, ones, eps=1e-6).cores,
        }
        for label, fn in work.items():
            try:
                res = _harness.interleaved({label: fn}, repeats=5, pause=0.0)[label]
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"{name} {label}: failed {type(exc).__name__}: {exc}")
                continue
            rows.append({"backend": name + ("-cuda" if device else ""), "workload": label,
                         **res})
            print(f"{name:6s} {label:32s} median {res['median'] * 1e3:10.2f} ms")
    out = {"date": time.strftime("%Y-%m-%d"), "rows": rows}
    for folder in filter(None, [os.path.join(os.path.dirname(__file__), "results"),
                                os.environ.get("OUT")]):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "gpu.json"), "w") as fh:
            json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    main()
