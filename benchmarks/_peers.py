"""Adapters that hand the same TT data to the peer libraries (benchmark environment only).

Each ``load_*`` returns the module or None when it is not installed; peers are
never tnlib dependencies.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np


def load(name: str) -> Any:
    """Import a peer quietly; None if it is missing or broken."""
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            if name == "t3f":
                np.int = int  # t3f 1.2 still uses np.int (removed in NumPy 2)
                import t3f as mod
            elif name == "torchtt":
                import torchtt as mod
            elif name == "tntorch":
                import tntorch as mod
            elif name == "teneva":
                import teneva as mod
            elif name == "tensorly":
                import tensorly as mod
            elif name == "quimb":
                import quimb.tensor as mod
            elif name == "tenpy":
                import tenpy as mod
            elif name == "pyttb":
                import pyttb as mod
            elif name == "tltorch":
                import tltorch as mod
            else:
                raise ValueError(name)
    except Exception:  # noqa: BLE001 - any failure means "peer unavailable"
        return None
    return mod


def torch_cores(cores: list[np.ndarray]) -> list:
    import torch

    return [torch.from_numpy(np.ascontiguousarray(c)) for c in cores]


def quimb_mps(qtn: Any, cores: list[np.ndarray]) -> Any:
    """quimb MPS ('lrp' order: left bond, right bond, physical) from TT cores."""
    d = len(cores)
    arrays = []
    for k, c in enumerate(cores):
        a = np.transpose(c, (0, 2, 1))  # (l, r, p)
        if k == 0:
            a = a[0]
        elif k == d - 1:
            a = a[:, 0, :]
        arrays.append(np.ascontiguousarray(a))
    return qtn.MatrixProductState(arrays, shape="lrp")


def quiet(fn):
    """Call wrapper that swallows a peer's stdout chatter (tntorch prints hints)."""
    def wrapped(*args, **kwargs):
        with contextlib.redirect_stdout(io.StringIO()):
            return fn(*args, **kwargs)
    return wrapped


def numpy_round(cores: list[np.ndarray], eps: float, rmax: int) -> list[np.ndarray]:
    """The textbook NumPy loop: QR sweep right-to-left, SVD sweep left-to-right."""
    cores = [c.copy() for c in cores]
    d = len(cores)
    for k in range(d - 1, 0, -1):
        r, n, rr = cores[k].shape
        q, rf = np.linalg.qr(cores[k].reshape(r, n * rr).T)
        cores[k] = q.T.reshape(-1, n, rr)
        cores[k - 1] = np.tensordot(cores[k - 1], rf.T, axes=(2, 0))
    delta = eps / np.sqrt(d - 1) * np.linalg.norm(cores[0])
    for k in range(d - 1):
        r, n, rr = cores[k].shape
        u, s, vh = np.linalg.svd(cores[k].reshape(r * n, rr), full_matrices=False)
        tail = np.sqrt(np.cumsum((s**2)[::-1])[::-1])
        rk = max(1, min(rmax, int(np.sum(tail > delta))))
        cores[k] = u[:, :rk].reshape(r, n, rk)
        cores[k + 1] = np.tensordot(s[:rk, None] * vh[:rk], cores[k + 1], axes=(1, 0))
    return cores


def add_entry_rows(report: Any, workload: str, timing: dict, results: dict, idx: np.ndarray,
                   want: np.ndarray, baseline: str | None) -> None:
    """One row per candidate of a workload whose results are trains: ``max_err``, the
    largest error of the train's entries at `idx` against `want`, relative to the largest
    of `want`; ``max_rank``, its largest rank. `results[key]()` gives the candidate's
    result as a tnlib TTTensor."""
    import tnlib

    for key, stats in timing.items():
        y = results[key]()
        got = np.asarray(tnlib.to_numpy(y.evaluate(idx)))
        report.add(workload, key, stats, baseline=baseline,
                   max_err=float(np.max(np.abs(got - want)) / np.max(np.abs(want))),
                   max_rank=max(y.ranks))
