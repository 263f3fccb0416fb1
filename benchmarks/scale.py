"""Past one machine: out-of-core TT-SVD from a zarr store, and cross on executors.

1. TT-SVD (eps 1e-6) of a float64 tensor larger than this machine's memory:
   ``1 / (1 + x_1 + ... + x_7)`` on a 24^7 grid (36.7 GB) plus noise 1e-9, in an
   uncompressed zarr store on local disk, chunked along the middle modes (the
   layout whose memory stays bounded: see ``tnlib.scale.outofcore``), read
   through ``dask.array.from_zarr`` on the threaded scheduler (2 workers).
   Timed: the two-pass out-of-core TT-SVD and one ``dask.array`` sum over the
   same store (the I/O floor). Checked, untimed: the true relative error over
   the whole tensor (one more pass, block by block), and the in-memory TT-SVD of
   a 1/16 slice (``a[:, :, :6, :6]``, 2.3 GB) as the accuracy reference, with
   the out-of-core TT's error on that slice. Peak resident memory of each run is
   measured in a fresh child process. ``SCALE_QUICK=1``: a 24^6 grid (1.5 GB).
   ``TNLIB_SCALE_STORE=path`` keeps the store there and reuses it.
2. Cross of a black box that takes 10 ms per point (a sleep standing in for a
   simulator call), d = 10, n = 32, ``sin(x_1 + ... + x_10)`` to 1e-6: serial, then
   1, 2, 4 and 8 worker threads, and a Dask cluster of 4 and 8 workers through
   ``Client.get_executor()``; the evaluation count must be the same in every run.

``SCALE_ONLY=ooc`` or ``SCALE_ONLY=cross`` runs one part and keeps the other's rows
of the last saved run.
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

QUICK = os.environ.get("SCALE_QUICK") == "1"
N = 24
D = 6 if QUICK else 7
# whole along the modes the end proxies cover (2 left, 1 right for 24^7), split in the middle
CHUNK = (24, 24, 6, 6, 24, 24) if QUICK else (24, 24, 4, 4, 4, 24, 24)
SLICE = (slice(None), slice(None), slice(0, 6), slice(0, 6))  # 1/16 of the tensor
GRID = np.linspace(0.0, 1.0, 32)
SECONDS_PER_POINT = 0.01
REPEATS = 3


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
SLICE = (slice(None), slice(None), slice(0, 6), slice(0, 6))
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
def load_tt():
    cores = np.load(os.environ["TNLIB_STORE"] + ".cores.npz")
    return [cores[f"arr_{k}"] for k in range(len(cores.files))]
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
                  "bytes_read": info.bytes_read, "error_estimate": info.error_estimate,
                  "method": info.method}))
"""

_CHECK = _PRELUDE + """
cores = load_tt()
def block_err(block, block_info=None):
    loc = block_info[0]["array-location"]
    m = np.ones((1, 1))
    for c, (lo, hi) in zip(cores, loc):
        m = np.tensordot(m, c[:, lo:hi, :], axes=(-1, 0))
    diff = block - m[0, ..., 0]
    out = np.zeros((1,) * block.ndim + (2,))
    out.flat[:] = [np.vdot(diff, diff).real, np.vdot(block, block).real]
    return out
parts = a.map_blocks(block_err, new_axis=a.ndim, chunks=(1,) * a.ndim + (2,), dtype="f8")
t = time.perf_counter(); sums = parts.sum(axis=tuple(range(a.ndim))).compute()
print(json.dumps({"error": float(np.sqrt(sums[0] / sums[1])), "seconds":
                  time.perf_counter() - t, "peak": peak()}))
"""

_MEM = _PRELUDE + """
part = a[SLICE].compute()
t = time.perf_counter(); x = tt.tt_svd(part, eps=1e-6); t = time.perf_counter() - t
nrm = np.linalg.norm(part)
err_mem = np.linalg.norm(x.full() - part) / nrm
ranks = x.ranks
del x
cores = load_tt()
for k, s in enumerate(SLICE):
    cores[k] = cores[k][:, s, :]
err_ooc = np.linalg.norm(tt.TTTensor(cores).full() - part) / nrm
print(json.dumps({"seconds": t, "peak": peak(), "ranks": ranks, "err_mem": float(err_mem),
                  "err_ooc": float(err_ooc)}))
"""


def _values(block_info=None):
    loc = block_info[None]["array-location"]
    axes = [np.arange(a, b) / (N - 1.0) for a, b in loc]
    vals = 1.0 / (1.0 + sum(np.ix_(*axes)))
    seed = abs(hash(tuple(a for a, _ in loc))) % 2**32
    vals += 1e-9 * np.random.default_rng(seed).standard_normal(vals.shape)
    return vals


def _write_store(path: str) -> None:
    """The grid in an uncompressed zarr store (noise doesn't compress), unless already there."""
    import dask
    import dask.array as da
    import zarr

    shape = (N,) * D
    if Path(path).exists():
        z = zarr.open_array(path, mode="r")
        if z.shape == shape and z.chunks == CHUNK:
            return
    z = zarr.create_array(store=path, shape=shape, chunks=CHUNK, dtype="f8",
                          compressors=None, overwrite=True)
    arr = da.map_blocks(_values, chunks=tuple((c,) * (N // c) for c in CHUNK), dtype="f8",
                        meta=np.empty((0,) * D))
    with dask.config.set(scheduler="threads", num_workers=2):
        da.store(arr, z, lock=False)


def bench_out_of_core(report: _harness.Report) -> None:
    keep = os.environ.get("TNLIB_SCALE_STORE")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TNLIB_BENCH_TMP")) as tmp:
        store = keep or str(Path(tmp) / "grid.zarr")
        t = time.perf_counter()
        _write_store(store)
        print(f"store ready in {time.perf_counter() - t:.0f} s", flush=True)
        size = N ** D * 8
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        w = f"TT-SVD eps 1e-6, {N}^{D} float64 ({size / 1e9:.1f} GB) in zarr"
        sums, oocs = [], []
        for _ in range(REPEATS):  # interleaved, so both see the same machine
            sums.append(_child(_SUM, store))
            oocs.append(_child(_OOC, store))
        o = oocs[-1]
        report.add(w, "dask.array sum (I/O floor)", _harness.stats([r["seconds"] for r in sums]),
                   peak_gb=max(r["peak"] for r in sums) / 1e9,
                   peak_ram=max(r["peak"] for r in sums) / ram)
        c = _child(_CHECK, store)
        m = _child(_MEM, store)
        report.add(w, "tnlib tt_svd out of core", _harness.stats([r["seconds"] for r in oocs]),
                   baseline=None,
                   peak_gb=max(r["peak"] for r in oocs) / 1e9,
                   peak_ram=max(r["peak"] for r in oocs) / ram, passes=o["passes"],
                   read_gb=o["bytes_read"] / 1e9, error=c["error"],
                   estimate=o["error_estimate"], slice_error=m["err_ooc"],
                   ranks=max(o["ranks"]), method=o["method"],
                   vs_sum=(_harness.stats([r["seconds"] for r in oocs])["median"]
                           / _harness.stats([r["seconds"] for r in sums])["median"]))
        report.add(w, "tnlib tt_svd in memory, 1/16 slice", _one(m["seconds"]),
                   peak_gb=m["peak"] / 1e9, peak_ram=m["peak"] / ram, slice_error=m["err_mem"],
                   ranks=max(m["ranks"]))
        if not keep:
            Path(store + ".cores.npz").unlink(missing_ok=True)


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
    only = os.environ.get("SCALE_ONLY")
    old = (json.loads((_harness.RESULTS / "scale.json").read_text())["rows"] if only else [])
    if only != "ooc":
        bench_cross(report)
    else:  # keep the cross rows of the last full run
        report.rows += [r for r in old if r["workload"].startswith("cross")]
    if only != "cross":
        bench_out_of_core(report)
    else:  # keep the out-of-core rows of the last full run
        report.rows += [r for r in old if not r["workload"].startswith("cross")]
    report.print()
    report.save()


if __name__ == "__main__":
    main()
