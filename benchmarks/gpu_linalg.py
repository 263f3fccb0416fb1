"""Small dense factorizations on the GPU against the host: where should they run?

The solvers and rounding factor many small matrices: DMRG splits each bond by an
eigensolver of a 64 x 64 Gram matrix (123 per call at L = 20, r = 32), AMEn takes 72
SVDs and 68 dense solves per call, and rounding on an accelerator diagonalizes one stack
of 29 Gram matrices of up to 120 x 120. cuSOLVER is known to be slow on such sizes
(PyTorch and JAX loop a per-matrix divide-and-conquer eigensolver for batches of
matrices larger than 32 x 32), and each of these calls synchronizes the device anyway.
This measures, for each GPU backend and each (operation, shape) of those workloads:

- ``device_s``: the backend's own call (``xp.eigh``, ``xp.svd``, ``xp.qr``, ``xp.solve``),
- ``host_offload_s``: the same matrix copied to the host, factored by NumPy's LAPACK on
  one core and the factors copied back (what a host-offload policy would cost),
- ``host_s``: NumPy on one core with the data already there.

Medians of 10 calls after a warm-up, the device synchronized. Results go to
``results/gpu_linalg.json`` (and to ``$OUT`` when set); ``GPU_QUICK=1`` runs the host
rows only and leaves ``results/`` alone (a dry run without a GPU).
"""

from __future__ import annotations

import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))
import _harness  # noqa: E402

_harness.single_thread()

import numpy as np  # noqa: E402
from gpu import backends, write_device_results  # noqa: E402

import tnlib  # noqa: E402

# (operation, batch, rows, columns): the shapes of the workloads named above
CASES = [
    ("eigh", 1, 32, 32), ("eigh", 1, 33, 33), ("eigh", 1, 64, 64), ("eigh", 1, 128, 128),
    ("eigh", 29, 32, 32), ("eigh", 29, 64, 64), ("eigh", 29, 120, 120),
    ("svd", 1, 64, 64), ("svd", 1, 320, 10), ("svd", 1, 240, 120),
    ("qr", 1, 480, 120), ("qr", 1, 128, 32),
    ("solve", 1, 100, 100), ("solve", 1, 400, 400),
]


def _matrix(op: str, batch: int, m: int, n: int) -> np.ndarray:
    a = np.random.default_rng(0).standard_normal((batch, m, n))
    if op in ("eigh", "solve"):
        a = a @ np.swapaxes(a, 1, 2) + m * np.eye(m)  # Hermitian, well conditioned
    return a[0] if batch == 1 else a


def _call(xp, op: str, a):
    if op == "eigh":
        return xp.eigh(a)
    if op == "svd":
        return xp.svd(a)
    if op == "qr":
        return xp.qr(a)
    return xp.solve(a, a[:, 0])


def _offload(xp, op: str, a, device):
    """The host-offload policy: to NumPy, factor there, back to the device."""
    host = tnlib.backends.get("numpy")
    out = _call(host, op, xp.to_numpy(a))
    out = out if isinstance(out, tuple) else (out,)
    return tuple(xp.asarray(np.ascontiguousarray(f), device=device) for f in out)


REPEATS = 10


def _ms(seconds: float | None) -> str:
    return "   failed" if seconds is None else f"{seconds * 1e3:8.3f} ms"


def main() -> dict:
    warnings.simplefilter("ignore")
    _harness.configure_frameworks()  # float64 on JAX
    numpy_xp = tnlib.backends.get("numpy")
    found = backends()
    quick = bool(os.environ.get("GPU_QUICK"))
    if quick:
        found = found[:1]
    rows = []
    out = {"date": time.strftime("%Y-%m-%d"), "rows": rows}
    for op, batch, m, n in CASES:  # the results are written after each case: a time
        data = _matrix(op, batch, m, n)  # limit that stops the run keeps what it did
        host = _harness.interleaved({"host": lambda: _call(numpy_xp, op, data)},
                                    repeats=REPEATS, pause=0.0)["host"]["median"]
        for name, device in found:
            if name == "numpy":
                continue
            xp = tnlib.backends.get(name)
            a = xp.asarray(data, device=device)
            res = _harness.interleaved(  # a candidate that fails is reported and left out
                {"device": lambda: _call(xp, op, a),
                 "offload": lambda: _offload(xp, op, a, device)}, repeats=REPEATS, pause=0.0)
            row = {"backend": name + ("-cuda" if device else ""), "op": op, "batch": batch,
                   "rows": m, "columns": n, "host_s": host,
                   "device_s": res.get("device", {}).get("median"),
                   "host_offload_s": res.get("offload", {}).get("median")}
            rows.append(row)
            print(f"{row['backend']:10s} {op:5s} {batch:3d} x {m:4d} x {n:4d}  device "
                  f"{_ms(row['device_s'])}  offload {_ms(row['host_offload_s'])}  host "
                  f"{_ms(host)}", flush=True)
        if quick:
            print(f"host       {op:5s} {batch:3d} x {m:4d} x {n:4d}  {_ms(host)}", flush=True)
        write_device_results("gpu_linalg.json", out)
    return out


if __name__ == "__main__":
    main()
