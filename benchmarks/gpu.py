"""GPU timings: the core TT, CP and solver workloads on torch (CUDA), CuPy and JAX (GPU).

Run on a machine with a CUDA device; NumPy on one host core is the reference.
Each workload is warmed up once, then timed (median of 5, device synchronized).
One row per workload and backend: ``workload``, ``backend``, ``median_s``,
``host_median_s`` (NumPy, one core), ``speedup_vs_host``, ``host_reads`` (values
moved from the device into Python per call, counted through the backend's
``to_numpy`` and ``item``), ``launches`` (torch: the aten operations that computed,
``launches.py``), ``syncs`` (torch: reads plus the operations that synchronize
the device inside torch, ``launches.py``) and
``dense_kernel_s``: the workload's flops (a model, in ``FLOPS``) done as one
square matrix product on the same device -- the practical limit. Results go to
``results/gpu.json`` (and to ``$OUT`` when set). ``GPU_QUICK=1`` times only the
host rows and leaves ``results/gpu.json`` alone (a dry run without a GPU).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))
import _harness  # noqa: E402

_harness.single_thread()  # the host reference is one core (before NumPy loads its BLAS)

import launches as launches_py  # noqa: E402
import numpy as np  # noqa: E402

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


# flop models of the workloads (multiply-adds count two)
FLOPS = {
    # QR sweep at rank 120 plus an SVD sweep (about three QRs' worth), n = 10, d = 30
    "round X+X d=30 r=120->60": 30 * 4 * 2 * (120 * 10) * 120**2,
    # two products per core: (r, r) x (r, n r), d = 100, n = 10, r = 20
    "dot d=100 r=20": 100 * 2 * 2 * 10 * 20**3,
    # SVDs of the 10 x 10^6 unfolding and the smaller ones after it
    "tt_svd Hilbert 10^7": 2 * 4 * 10**6 * 10**2,
    # one (1, r) x (r, r) product per point and core, 10^5 points, d = 20, r = 20
    "evaluate 1e5 points": 10**5 * 20 * 2 * 20**2,
    # three MTTKRPs of 200^3 data at rank 10 per sweep, 100 sweeps
    "cp_als 200^3 r=10 100 sweeps": 100 * 3 * 2 * 200**3 * 10,
    # local solves at rank ~10 on n = 32 over about eight sweeps (rough)
    "amen Laplacian d=10 n=32": 8 * 10 * 2 * (10 * 32 * 10) ** 2 * 3,
    # about 10^5 evaluations of a sum of d terms, SVDs of (r n) x (r + kick) at r ~ 4
    "cross Alpine d=10 n=32": 10**5 * 10 * 20 + 20 * 10 * 4 * 128 * 8**2,
    # about 20 Lanczos matvecs (four r^3 d^2 D products, r = 32, D = 5) per bond, 19 bonds,
    # two directions, about 4 sweeps
    "dmrg Heisenberg L=20 r=32": 4 * 2 * 19 * 20 * 4 * 2 * 32**3 * 4 * 5,
}


def dense_kernel(xp, device, flops: int) -> float | None:
    """Seconds of one square float64 matrix product with `flops` on the device."""
    m = max(16, round((flops / 2) ** (1 / 3)))
    a = xp.asarray(np.random.default_rng(0).standard_normal((m, m)), device=device)
    res = _harness.interleaved({"mm": lambda: a @ a}, repeats=5, pause=0.0)
    return res["mm"]["median"]


def counted_reads(xp, fn) -> int:
    """Host reads of one call of `fn`, through the backend's to_numpy and item."""
    reads = []
    to_numpy, item = xp.to_numpy, xp.item
    xp.to_numpy = lambda a: reads.append(1) or to_numpy(a)
    xp.item = lambda a: reads.append(1) or item(a)
    try:
        _harness.block(fn())
    finally:
        del xp.to_numpy, xp.item  # back to the class's methods
    return len(reads)


def workload_data() -> dict:
    """The NumPy inputs of the workloads (made once, moved to each backend)."""
    big = tt.random((10,) * 100, 20, seed=1)
    sp, sz = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([0.5, -0.5])
    return {
        "x": tt.random((10,) * 30, 60, seed=0),
        "big": tt.TTTensor([c / np.sqrt(200) for c in big.cores]),
        "hil": 1.0 / (1.0 + sum(np.ix_(*[np.arange(10.0)] * 7))),
        "ev": tt.TTTensor([c / np.sqrt(200) for c in tt.random((10,) * 20, 20, seed=2).cores]),
        "idx": np.random.default_rng(0).integers(0, 10, (100_000, 20)),
        "a200": cp.random((200,) * 3, 10, seed=3).full(),
        "heisenberg": tt.nearest_neighbor(20, pair=[(0.5, sp, sp.T), (0.5, sp.T, sp),
                                                    (1.0, sz, sz)]),
    }


def workloads(data: dict, name: str, device) -> dict:
    """label -> zero-argument callable, on backend `name` and `device`."""
    xp = tnlib.backends.get(name)
    xb = data["x"].to(backend=name, device=device)
    zb = xb + xb
    bb = data["big"].to(backend=name, device=device)
    hb = xp.asarray(data["hil"], device=device)
    eb = data["ev"].to(backend=name, device=device)
    ib = xp.asarray(data["idx"], device=device)
    ab = xp.asarray(data["a200"], device=device)
    lap = tt.laplacian(32, 10, backend=name).to(device=device)
    ones = tt.ones((32,) * 10, backend=name, device=device)
    heis = data["heisenberg"].to(backend=name, device=device)

    def alpine(idx):  # on the grid of 32 points in [-10, 10] per axis
        x = xp.astype(xp.asarray(idx, device=device), "float64") * (20.0 / 31) - 10.0
        return xp.sum(xp.abs(x * xp.sin(x) + 0.1 * x), axis=1)

    return {
        "round X+X d=30 r=120->60": lambda: zb.round(1e-8, max_rank=60).cores,
        "dot d=100 r=20": lambda: tt.dot(bb, bb),
        "tt_svd Hilbert 10^7": lambda: tt.tt_svd(hb, eps=1e-8).cores,
        "evaluate 1e5 points": lambda: eb.evaluate(ib),
        "cp_als 200^3 r=10 100 sweeps": lambda: cp.cp_als(ab, 10, max_iter=100, tol=0,
                                                          init="random", seed=0).factors,
        "amen Laplacian d=10 n=32": lambda: tt.amen_solve(lap, ones, eps=1e-6).cores,
        "cross Alpine d=10 n=32": lambda: tt.cross(alpine, (32,) * 10, eps=1e-8, seed=0,
                                                   backend=name).cores,
        "dmrg Heisenberg L=20 r=32": lambda: tt.dmrg_eig(heis, max_rank=32, eps=1e-10,
                                                         tol=1e-9, seed=0)[1].cores,
    }


def main() -> dict:
    warnings.simplefilter("ignore")
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
    except ImportError:
        pass
    rows = []
    data = workload_data()
    host: dict[str, float] = {}
    found = backends()
    if os.environ.get("GPU_QUICK"):
        found = found[:1]
    for name, device in found:
        xp = tnlib.backends.get(name)
        work = workloads(data, name, device)
        for label, fn in work.items():
            try:
                res = _harness.interleaved({label: fn}, repeats=5, pause=0.0)[label]
                reads = counted_reads(xp, fn)
                launches = syncs = None
                if name == "torch":  # the aten operations that computed: kernel launches
                    with launches_py.counting() as counts:
                        _harness.block(fn())
                    launches, syncs = counts["launches"], counts["syncs"]
                dense = dense_kernel(xp, device, FLOPS[label])
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"{name} {label}: failed {type(exc).__name__}: {exc}")
                continue
            if name == "numpy":
                host[label] = res["median"]
            base = host.get(label)
            rows.append({"workload": label, "backend": name + ("-cuda" if device else ""),
                         "median_s": res["median"], "min_s": res["min"], "max_s": res["max"],
                         "host_median_s": base,
                         "speedup_vs_host": base / res["median"] if base else None,
                         "host_reads": reads, "launches": launches, "syncs": syncs,
                         "dense_kernel_s": dense})
            print(f"{name:6s} {label:32s} median {res['median'] * 1e3:10.2f} ms  "
                  f"x{(base or float('nan')) / res['median']:6.2f} vs host  "
                  f"{reads:5d} reads  dense {dense * 1e3:8.3f} ms")
    out = {"date": time.strftime("%Y-%m-%d"), "rows": rows}
    write_device_results("gpu.json", out)
    return out


def write_device_results(name: str, out: dict) -> None:
    """`out` as JSON to ``results/<name>`` and to ``$OUT`` when set; a dry run
    (``GPU_QUICK``) keeps the saved results and writes only to ``$OUT``."""
    saved = None if os.environ.get("GPU_QUICK") else os.path.join(os.path.dirname(__file__),
                                                                     "results")
    for folder in filter(None, [saved, os.environ.get("OUT")]):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
