"""Backend overhead: the contract's dispatch, and whole algorithms on every backend.

1. svd, qr, einsum on 1000 x 1000 float64 through ``tnlib``'s backend against
   the framework's own call, interleaved. The overhead must stay under 5%.
2. Whole algorithms on CPU arrays of every backend (steady state, medians)
   against NumPy: TT-SVD of 10^6 entries, rounding d=30 r 120 -> 60, the norm
   of a d=30 r=60 train, CP-ALS rank 10 of 64^3, AMEn d=10 n=32. Each eager
   backend runs twice: as tnlib runs it (host execution of eager CPU arrays)
   and with every operation in the framework (``host_execution(False)``, the
   path taken under tracing and autodiff).
3. First calls in a fresh process (JAX compiles per shape): TT-SVD, rounding
   and the norm of an 8^6 tensor, and a cross of a 6-d function.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp, tt  # noqa: E402
from tnlib.backends import host_execution  # noqa: E402


def native_calls(name: str, a):
    if name == "numpy":
        return {"svd": lambda: np.linalg.svd(a, full_matrices=False),
                "qr": lambda: np.linalg.qr(a), "einsum": lambda: np.einsum(
                    "ij,jk->ik", a, a, optimize=True)}
    if name == "torch":
        import torch

        return {"svd": lambda: torch.linalg.svd(a, full_matrices=False),
                "qr": lambda: torch.linalg.qr(a), "einsum": lambda: torch.einsum("ij,jk->ik", a, a)}
    if name == "tensorflow":
        import tensorflow as tf

        return {"svd": lambda: tf.linalg.svd(a, full_matrices=False),
                "qr": lambda: tf.linalg.qr(a), "einsum": lambda: tf.einsum("ij,jk->ik", a, a)}
    if name == "jax":
        import jax.numpy as jnp

        return {"svd": lambda: jnp.linalg.svd(a, full_matrices=False),
                "qr": lambda: jnp.linalg.qr(a), "einsum": lambda: jnp.einsum("ij,jk->ik", a, a)}
    if name == "cupy":
        import cupy

        return {"svd": lambda: cupy.linalg.svd(a, full_matrices=False),
                "qr": lambda: cupy.linalg.qr(a), "einsum": lambda: cupy.einsum("ij,jk->ik", a, a)}
    raise ValueError(name)


def algorithm_inputs(seed: int = 0) -> dict:
    """The NumPy data of the algorithm rows (converted per backend)."""
    rng = np.random.default_rng(seed)
    g = np.meshgrid(*[np.linspace(0, 1, 10)] * 6, indexing="ij")
    smooth = 1.0 / (1.0 + sum(g)) + 1e-7 * rng.standard_normal((10,) * 6)
    x120 = tt.random((4,) * 30, 120, seed=1)
    x60 = tt.random((4,) * 30, 60, seed=2)
    u = [rng.standard_normal((64, 10)) for _ in range(3)]
    cp_data = np.einsum("ir,jr,kr->ijk", *u) + 1e-3 * rng.standard_normal((64,) * 3)
    return {"smooth": smooth, "x120": x120, "x60": x60, "cp": cp_data,
            "lap": tt.laplacian(32, 10), "rhs": tt.ones((32,) * 10)}


def algorithm_calls(xp, data: dict) -> dict:
    on = dict(smooth=xp.asarray(data["smooth"]), cp=xp.asarray(data["cp"]),
              x120=data["x120"].to(backend=xp), x60=data["x60"].to(backend=xp),
              lap=data["lap"].to(backend=xp), rhs=data["rhs"].to(backend=xp))
    return {
        "TT-SVD 10^6 eps 1e-6": lambda: tt.tt_svd(on["smooth"], eps=1e-6),
        "round d=30 r 120->60": lambda: tt.round(on["x120"], max_rank=60),
        "norm d=30 r=60": lambda: tt.norm(on["x60"]),
        "CP-ALS 64^3 rank 10": lambda: cp.cp_als(on["cp"], 10, max_iter=20, tol=0.0),
        "AMEn d=10 n=32 eps 1e-6": lambda: tt.amen_solve(on["lap"], on["rhs"], eps=1e-6),
    }


def _native(fn):
    def run():
        with host_execution(False):
            return fn()
    return run


FIRST_CALL = """
import json, time, warnings, numpy as np, tnlib
from tnlib import tt
warnings.simplefilter("ignore")
if {name!r} == "jax":
    import jax; jax.config.update("jax_enable_x64", True)
xp = tnlib.backends.get({name!r})
g = np.meshgrid(*[np.linspace(0, 1, 8)] * 6, indexing="ij")
a = xp.asarray(1 / (1 + sum(g)))
grid = np.linspace(0, 1, 8)
out = {{}}
def clock(label, fn):
    t = time.perf_counter(); r = fn(); xp.synchronize(r.cores[0] if hasattr(r, "cores") else r)
    out[label] = time.perf_counter() - t
    return r
x = clock("TT-SVD 8^6", lambda: tt.tt_svd(a, eps=1e-6))
clock("round 8^6", lambda: tt.round(x + x, eps=1e-6))
clock("norm 8^6", lambda: tt.norm(x))
clock("cross 8^6", lambda: tt.cross(lambda i: np.sum(grid[np.asarray(i)], axis=1) ** 2,
                                     (8,) * 6, eps=1e-6, seed=0, backend=xp))
print(json.dumps(out))
"""


def first_calls(name: str, repeats: int = 3) -> dict[str, list[float]]:
    """Seconds of each first call, in `repeats` fresh processes."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    runs: dict[str, list[float]] = {}
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", FIRST_CALL.format(name=name)], env=env,
                             capture_output=True, text=True, check=True)
        for label, t in json.loads(out.stdout.strip().splitlines()[-1]).items():
            runs.setdefault(label, []).append(t)
    return runs


def algorithms(report: _harness.Report, repeats: int) -> None:
    data = algorithm_inputs()
    per_backend = {name: algorithm_calls(tnlib.backends.get(name), data)
                   for name in tnlib.available_backends()}
    for workload in per_backend["numpy"]:
        cands = {}
        for name, calls in per_backend.items():
            cands[f"tnlib {name}"] = calls[workload]
            if name != "numpy":
                cands[f"{name} framework ops"] = _native(calls[workload])
        res = _harness.interleaved(cands, repeats)
        for cand, timing in res.items():
            report.add(workload, cand, timing,
                       baseline=None if cand == "tnlib numpy" else "tnlib numpy")
    for name in tnlib.available_backends():
        for label, ts in first_calls(name).items():
            report.add(f"first call: {label}", f"tnlib {name}", _harness.stats(ts))


def main(n: int = 1000, repeats: int = 7) -> _harness.Report:
    _harness.configure_frameworks()
    warnings.simplefilter("ignore")
    report = _harness.Report("backend_overhead", "Contract calls and whole algorithms by backend")
    for name in tnlib.available_backends():
        xp = tnlib.backends.get(name)
        a = xp.random_normal((n, n), seed=0, dtype="float64")
        native = native_calls(name, a)
        ours = {"svd": lambda: xp.svd(a), "qr": lambda: xp.qr(a),
                "einsum": lambda: xp.einsum("ij,jk->ik", a, a)}
        for op in ("svd", "qr", "einsum"):
            res = _harness.interleaved({"native": native[op], "tnlib": ours[op]}, repeats)
            overhead = res["tnlib"]["median"] / res["native"]["median"] - 1
            report.add(f"{op} {name}", f"{name} native", res["native"])
            report.add(f"{op} {name}", f"{name} tnlib", res["tnlib"], baseline=f"{name} native",
                       overhead_pct=round(100 * overhead, 1))
    algorithms(report, repeats=5)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
