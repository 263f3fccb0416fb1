"""Dispatch overhead of the contract: svd, qr, einsum on 1000 x 1000 float64.

Each call through ``tnlib``'s backend is timed against the framework's own call,
interleaved, on every installed backend. The overhead must stay under 5%.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import numpy as np  # noqa: E402

import tnlib  # noqa: E402


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


def main(n: int = 1000, repeats: int = 7) -> _harness.Report:
    _harness.configure_frameworks()
    report = _harness.Report("backend_overhead", f"Contract vs framework call, {n}x{n} float64")
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
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
