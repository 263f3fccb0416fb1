"""Kernel launches and host reads per call of the GPU workloads, counted on the CPU.

On a GPU, a call of these workloads costs one kernel launch per array operation
(a few microseconds each, whatever the size) and one device synchronization per
value read into Python. Both are counted here without a GPU: the workloads of
``gpu.py`` run on torch CPU tensors with host execution off (every operation in
torch, as on a GPU) and the accelerator's read-saving branches switched on
(``Backend.reads_synchronize`` answers True). ``launches`` counts the aten
operations that compute (views, reshapes that do not copy and dtype no-ops
excluded), ``reads`` the tensor-to-Python conversions (``item``, ``numpy``,
``float``, ``bool``, ...), and ``syncs`` the reads plus the operations that
synchronize a CUDA device inside torch without a read (``HIDDEN_SYNCS``: small SVDs and
eigensolvers, which read cuSOLVER's flag back, solver error checks, data-dependent
output sizes). Results go to ``results/launches.json``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))

import tnlib  # noqa: E402
from tnlib.backends import host_execution  # noqa: E402

# aten operations that only make views (no kernel on a device)
VIEWS = {"view", "reshape", "_unsafe_view", "transpose", "t", "permute", "expand", "squeeze",
         "unsqueeze", "slice", "select", "alias", "as_strided", "detach", "lift_fresh",
         "_reshape_alias", "unbind", "split", "split_with_sizes", "narrow", "view_as_real",
         "real", "conj", "_conj", "resolve_conj", "resolve_neg", "diagonal", "_to_copy"}
READS = ("item", "numpy", "tolist", "__float__", "__bool__", "__int__", "__complex__",
         "__index__")
# aten operations that synchronize a CUDA device inside torch, though nothing is read into
# Python: the factorizations that read cuSOLVER's convergence flag back (torch's docs say
# "synchronizes that device with the CPU" for svd, svdvals, eigh, eigvalsh, eig), the error
# checks of the non-`_ex` solvers, and the operations whose output size depends on data
HIDDEN_SYNCS = {"_linalg_svd", "_linalg_eigh", "linalg_eig", "_linalg_check_errors",
                "nonzero", "masked_select", "_unique2", "unique_consecutive", "unique_dim",
                "repeat_interleave", "linalg_lstsq"}


@contextlib.contextmanager
def counting():
    """Count launches and reads of torch inside the block: yields a Counter."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    counts: collections.Counter = collections.Counter()

    class Launches(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.__name__.split(".")[0]
            if name not in VIEWS:
                counts["launches"] += 1
                counts["op:" + name] += 1
            if name in HIDDEN_SYNCS:
                counts["syncs"] += 1
            return func(*args, **(kwargs or {}))

    saved = {m: getattr(torch.Tensor, m) for m in READS}

    def reading(method):
        def read(self, *args, **kwargs):
            counts["reads"] += 1
            counts["syncs"] += 1
            return method(self, *args, **kwargs)
        return read

    for m, method in saved.items():
        setattr(torch.Tensor, m, reading(method))
    try:
        with Launches():
            yield counts
    finally:
        for m, method in saved.items():
            setattr(torch.Tensor, m, method)


def count(fn) -> collections.Counter:
    """Launches and reads of one call of `fn` (after a warm-up call), as on an accelerator."""
    xp = tnlib.backends.get("torch")
    with host_execution(False):
        original = type(xp).reads_synchronize
        type(xp).reads_synchronize = lambda self, a: True
        try:
            fn()
            with counting() as counts:
                fn()
        finally:
            type(xp).reads_synchronize = original
    return counts


def iterative_workloads() -> dict:
    """The iterative methods outside ``gpu.py`` whose reads per iteration are counted here
    too: the CP gradient (L-BFGS) and Riemannian TT completion (conjugate gradients)."""
    import numpy as np
    import riemannian as rb
    import torch

    from tnlib import cp
    from tnlib import riemannian as rm

    rng = np.random.default_rng(0)
    a = torch.tensor(cp.random((40, 40, 40), 5, seed=0).full()
                     + 0.01 * rng.standard_normal((40, 40, 40)))
    t, idx, vals, _, _ = rb.steinlechner()
    v = torch.tensor(vals)
    return {
        "cp_gradient 40^3 r=5 (35 its)": lambda: cp.cp_gradient(a, 5, max_iter=50, tol=0,
                                                              seed=0).factors,
        "tt_complete d=10 n=20 r=4 (55 its)": lambda: rm.tt_complete(
            idx, v, t.shape, 4, seed=0, tol=0, max_iter=55).cores,
    }


def main() -> dict:
    import gpu
    import torch

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    rows = []
    work = {**gpu.workloads(gpu.workload_data(), "torch", None), **iterative_workloads()}
    for label, fn in work.items():
        counts = count(fn)
        top = sorted(((n, k[3:]) for k, n in counts.items() if k.startswith("op:")),
                     reverse=True)[:4]
        rows.append({"workload": label, "launches": counts["launches"],
                     "reads": counts["reads"], "syncs": counts["syncs"],
                     "top": {k: n for n, k in top}})
        print(f"{label:32s} {counts['launches']:7d} launches {counts['reads']:6d} reads "
              f"{counts['syncs']:6d} syncs   " + ", ".join(f"{k} {n}" for n, k in top),
              flush=True)
    out = {"date": time.strftime("%Y-%m-%d"), "torch": torch.__version__, "rows": rows}
    folder = os.path.join(os.path.dirname(__file__), "results")
    with open(os.path.join(folder, "launches.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    main()
