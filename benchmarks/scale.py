"""Past one machine: out-of-core TT-SVD from a zarr store, and cross on executors.

1. TT-SVD (eps 1e-6) of a float64 tensor in a zarr store on local disk, read
   through ``dask.array.from_zarr``: ``1 / (1 + x_1 + ... + x_6)`` on a 24^6 grid
   (1.5 GB) plus noise 1e-9, stored in chunks split along the middle modes (the
   layout whose memory stays bounded: see ``tnlib.scale.outofcore``). Times:
   the two-pass out-of-core TT-SVD, one
   ``dask.array`` sum over the same store (the I/O floor), and the in-memory
   TT-SVD of the loaded array (the accuracy reference). Peak resident memory of
   each run is measured in a fresh child process.
2. Cross of a black box that takes 10 ms per point (a sleep standing in for a
   simulator call), d = 10, n = 32, ``sin(x_1 + ... + x_10)`` to 1e-6: serial, then
   1, 2, 4 and 8 worker threads, and a Dask cluster of 4 and 8 workers through
   ``Client.get_executor()``; the evaluation count must be the same in every run.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from tnlib import tt  # noqa: E402

N, D, CHUNK = 24, 6, (24, 24, 6, 6, 24, 24)  # chunked along the middle modes
GRID = np.linspace(0.0, 1.0, 32)
SECONDS_PER_POINT = 0.01


def _child(code: str, store: str) -> dict:
    """Run `code` in a fresh interpreter (1 BLAS thread); it prints one JSON line."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", TNLIB_STORE=store)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


_PRELUDE = """
import json, os, resource, time
import dask, dask.array as da, numpy as np
from tnlib import tt
dask.config.set(scheduler="threads", num_workers=2)
a = da.from_zarr(os.environ["TNLIB_STORE"])
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""

_SUM = _PRELUDE + """
t = time.perf_counter(); s = float(a.sum().compute()); t = time.perf_counter() - t
print(json.dumps({"seconds": t, "peak": peak(), "value": s}))
"""

_OOC = _PRELUDE + """
t = time.perf_counter()
x, info = tt.tt_svd(a, eps=1e-6, return_info=True)
t = time.perf_counter() - t
np.savez(os.environ["TNLIB_STORE"] + ".cores.npz", *x.cores)
print(json.dumps({"seconds": t, "peak": peak(), "ranks": x.ranks, "passes": info.passes,
                  "bytes_read": info.bytes_read, "error_estimate": info.error_estimate}))
"""

_MEM = _PRELUDE + """
full = a.compute()
t = time.perf_counter(); x = tt.tt_svd(full, eps=1e-6); t = time.perf_counter() - t
cores = np.load(os.environ["TNLIB_STORE"] + ".cores.npz")
y = tt.TTTensor([cores[f"arr_{k}"] for k in range(len(cores.files))])
nrm = np.linalg.norm(full)
err_mem = np.linalg.norm(x.full() - full) / nrm
err_ooc = np.linalg.norm(y.full() - full) / nrm
print(json.dumps({"seconds": t, "peak": peak(), "ranks": x.ranks, "err_mem": float(err_mem),
                  "err_ooc": float(err_ooc)}))
"""


def _write_store(path: str) -> None:
    import dask.array as da

    def block(block_info=None):
        loc = block_info[None]["array-location"]
        axes = [np.arange(a, b) / (N - 1.0) for a, b in loc]
        grid = np.ix_(*axes)
        vals = 1.0 / (1.0 + sum(grid))
        seed = abs(hash(tuple(a for a, _ in loc))) % 2**32
        return vals + 1e-9 * np.random.default_rng(seed).standard_normal(vals.shape)

    arr = da.map_blocks(block, chunks=tuple((c,) * (N // c) for c in CHUNK), dtype="f8")
    arr.to_zarr(path, overwrite=True)


def bench_out_of_core(report: _harness.Report) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("TNLIB_BENCH_TMP")) as tmp:
        store = str(Path(tmp) / "grid.zarr")
        _write_store(store)
        size = N ** D * 8
        w = f"TT-SVD eps 1e-6, 24^6 float64 ({size / 1e9:.1f} GB) in zarr"
        s = _child(_SUM, store)
        report.add(w, "dask.array sum (I/O floor)", _one(s["seconds"]), peak_gb=s["peak"] / 1e9)
        o = _child(_OOC, store)
        m = _child(_MEM, store)
        report.add(w, "tnlib tt_svd out of core", _one(o["seconds"]), baseline=None,
                   peak_gb=o["peak"] / 1e9, passes=o["passes"],
                   read_gb=o["bytes_read"] / 1e9, error=m["err_ooc"],
                   estimate=o["error_estimate"], ranks=max(o["ranks"]),
                   vs_sum=o["seconds"] / s["seconds"])
        report.add(w, "tnlib tt_svd in memory", _one(m["seconds"]), peak_gb=m["peak"] / 1e9,
                   error=m["err_mem"], ranks=max(m["ranks"]))


def slow_box(idx):
    """10 ms per point, then the value (a stand-in for a simulator call)."""
    idx = np.asarray(idx)
    time.sleep(SECONDS_PER_POINT * len(idx))
    return np.sin(GRID[idx].sum(axis=1))


def bench_cross(report: _harness.Report) -> None:
    w = "cross, 10 ms per point, d=10, n=32, eps 1e-6"
    runs = {"serial": None}
    for workers in (1, 2, 4, 8):
        runs[f"{workers} threads"] = ("threads", workers)
    for workers in (4, 8):
        runs[f"Dask, {workers} workers"] = ("dask", workers)
    serial = None
    for name, how in runs.items():
        t, evals = _cross_run(how)
        serial = serial or t
        report.add(w, f"tnlib {name}", _one(t), evaluations=evals, speedup=serial / t)


def _cross_run(how) -> tuple[float, int]:
    def go(executor):
        t = time.perf_counter()
        _, info = tt.cross(slow_box, (32,) * 10, eps=1e-6, seed=0, return_info=True,
                           executor=executor)
        return time.perf_counter() - t, info.evaluations

    if how is None:
        return go(None)
    kind, workers = how
    if kind == "threads":
        with ThreadPoolExecutor(workers) as pool:
            return go(pool)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        return go(client.get_executor())


def _one(seconds: float) -> dict:
    return {"median": seconds, "min": seconds, "max": seconds, "runs": 1}


def main() -> None:
    report = _harness.Report("scale", "Out-of-core TT-SVD and cross on executors")
    bench_cross(report)
    bench_out_of_core(report)
    report.print()
    report.save()


if __name__ == "__main__":
    main()
