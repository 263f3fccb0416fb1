"""CP-ALS and Tucker-HOOI against TensorLy on every backend.

1. CP rank 10 on 100^3 (rank-10 tensor + 1% noise), 100 sweeps, random and SVD init.
2. CP rank 10 on 200^3 (rank-10 tensor + 1% noise): SVD init to convergence-free
   100 sweeps, and 100 random-init sweeps on every backend.
3. Tucker ranks (10, 10, 10) on 100^3, 100 HOOI sweeps.

Fits are relative errors ``‖a - x‖ / ‖a‖`` computed in NumPy. ``CP_TUCKER_QUICK=1``
runs only the 100^3 workloads.
"""

from __future__ import annotations

import _harness

_harness.single_thread()

import os  # noqa: E402
import warnings  # noqa: E402

import _peers  # noqa: E402
import numpy as np  # noqa: E402

import tnlib  # noqa: E402
from tnlib import cp, tucker  # noqa: E402

TL_BACKEND = {"numpy": "numpy", "torch": "pytorch", "tensorflow": "tensorflow", "jax": "jax"}


def noisy_cp(n: int, rank: int, noise: float, seed: int = 0) -> np.ndarray:
    a = cp.random((n,) * 3, rank, seed=seed).full()
    rng = np.random.default_rng(seed + 1)
    e = rng.standard_normal(a.shape)
    return a + noise * np.linalg.norm(a) / np.linalg.norm(e) * e


def fit(full, a):
    return float(np.linalg.norm(np.asarray(tnlib.to_numpy(full)) - a) / np.linalg.norm(a))


def tensorly_calls(tl_mod, backend, a, rank, iters):
    from tensorly.decomposition import parafac
    from tensorly.decomposition import tucker as tl_tucker

    tl_mod.set_backend(TL_BACKEND[backend])
    ta = tl_mod.tensor(a)

    def cp_run(init, svd="truncated_svd"):
        kw = {"svd": svd} if init == "svd" else {}
        return parafac(ta, rank, n_iter_max=iters, init=init, tol=0, random_state=0, **kw)

    def tucker_run():
        return tl_tucker(ta, rank=[rank] * 3, n_iter_max=iters, tol=0)

    return cp_run, tucker_run, lambda res: tl_mod.to_numpy(tl_mod.cp_to_tensor(res)), \
        lambda res: tl_mod.to_numpy(tl_mod.tucker_to_tensor(res))


def run_cp(report, a, label, inits, repeats, backends, tl):
    for init in inits:
        cands, outputs = {}, {}
        for name in backends:
            ab = tnlib.tensor(a, backend=name)
            cands[f"tnlib {name}"] = lambda ab=ab, init=init: cp.cp_als(
                ab, 10, max_iter=100, tol=0, init=init, seed=0)
            outputs[f"tnlib {name}"] = lambda res: res.full()
            if tl is not None and (init == "random" or name in ("numpy", "torch")):
                run, _, to_full, _ = tensorly_calls(tl, name, a, 10, 100)
                cands[f"TensorLy {name}"] = (lambda run=run, name=name, init=init:
                                             (tl.set_backend(TL_BACKEND[name]), run(init))[1])
                outputs[f"TensorLy {name}"] = (lambda res, name=name, to_full=to_full:
                                               (tl.set_backend(TL_BACKEND[name]),
                                                to_full(res))[1])
                if init == "svd" and name == "numpy":
                    cands["TensorLy numpy rSVD"] = (lambda run=run: (
                        tl.set_backend("numpy"), run("svd", "randomized_svd"))[1])
                    outputs["TensorLy numpy rSVD"] = outputs["TensorLy numpy"]
        results = {}
        res = _harness.interleaved({k: (lambda f=f, k=k: results.__setitem__(k, f()) or
                                        results[k]) for k, f in cands.items()}, repeats)
        for name, stats in res.items():
            report.add(f"{label} init={init}", name, stats, baseline="TensorLy numpy",
                       fit=fit(outputs[name](results[name]), a))


def main(repeats: int = 5) -> _harness.Report:
    _harness.configure_frameworks()
    warnings.simplefilter("ignore")
    report = _harness.Report("cp_tucker", "CP-ALS and Tucker-HOOI, rank 10, 100 sweeps")
    backends = [b for b in tnlib.available_backends() if b in TL_BACKEND]
    tl = _peers.load("tensorly")
    a100 = noisy_cp(100, 10, 0.01)
    run_cp(report, a100, "CP 100^3", ["random", "svd"], repeats, backends, tl)
    # Tucker
    cands, outputs, results = {}, {}, {}
    for name in backends:
        ab = tnlib.tensor(a100, backend=name)
        cands[f"tnlib {name}"] = lambda ab=ab: tucker.hooi(ab, 10, max_iter=100, tol=0)
        outputs[f"tnlib {name}"] = lambda res: res.full()
        if tl is not None:
            _, trun, _, to_full = tensorly_calls(tl, name, a100, 10, 100)
            cands[f"TensorLy {name}"] = (lambda trun=trun, name=name:
                                         (tl.set_backend(TL_BACKEND[name]), trun())[1])
            outputs[f"TensorLy {name}"] = (lambda res, name=name, to_full=to_full:
                                           (tl.set_backend(TL_BACKEND[name]), to_full(res))[1])
    res = _harness.interleaved({k: (lambda f=f, k=k: results.__setitem__(k, f()) or results[k])
                                for k, f in cands.items()}, repeats)
    for name, stats in res.items():
        report.add("Tucker 100^3 ranks 10", name, stats, baseline="TensorLy numpy",
                   fit=fit(outputs[name](results[name]), a100))
    if not os.environ.get("CP_TUCKER_QUICK"):
        a200 = noisy_cp(200, 10, 0.01, seed=3)
        run_cp(report, a200, "CP 200^3", ["svd", "random"], 3, backends, tl)
    report.print()
    report.save()
    return report


if __name__ == "__main__":
    main()
