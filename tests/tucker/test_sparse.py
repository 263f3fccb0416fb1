"""HOOI of sparse tensors: the dense HOOI's iterates from the nonzeros alone."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of
from tnlib import tucker
from tnlib.backends import host_execution

SHAPE, RANKS = (30, 25, 20), (3, 4, 2)


def _sparse(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(SHAPE) * (rng.random(SHAPE) < 0.1)
    idx = np.argwhere(a)
    return a, idx, a[tuple(idx.T)]


def _start(seed=1):
    rng = np.random.default_rng(seed)
    return tucker.TuckerTensor(np.zeros(RANKS), [np.linalg.qr(rng.standard_normal((n, r)))[0]
                                                 for n, r in zip(SHAPE, RANKS)])


@pytest.mark.parametrize("host", [True, False])
def test_iterates_are_those_of_dense_hooi(backend, host):
    """From the same factors, every sweep's error and the result equal HOOI's on the
    densified tensor; orthonormal factors; the last error is the true one; on the values'
    backend and dtype, host and framework paths (the sweep compiled; chunked Kronecker
    rows)."""
    a, idx, vals = _sparse()
    dense, want = tucker.hooi(a, RANKS, init=_start(), max_iter=6, tol=0, return_info=True)
    with host_execution(host):
        x, info = tucker.hooi_sparse(backend.asarray(idx), backend.asarray(vals), SHAPE, RANKS,
                                     init=_start().to(backend=backend.name), max_iter=6, tol=0,
                                     return_info=True)
    assert_like(x.core, backend.asarray(vals))
    np.testing.assert_allclose(info.errors, want.errors, rtol=1e-12)
    full = np_of(x.full())
    assert np.linalg.norm(full - dense.full()) <= 1e-11 * np.linalg.norm(a)
    for f in x.factors:
        np.testing.assert_allclose(np_of(f).T @ np_of(f), np.eye(np_of(f).shape[1]),
                                   atol=1e-12)
    assert abs(np.linalg.norm(full - a) / np.linalg.norm(a) - info.errors[-1]) < 1e-10


def test_recovery_chunks_scales_and_the_zero_tensor(backend, monkeypatch):
    """A sparse tensor of ranks (2, 2, 2) is recovered, its HOSVD subspaces found by the
    default start; chunks of 7 nonzeros give the same
    result as one; values at 1e300 / 1e-300 the same errors; ranks above what the other
    modes allow are lowered; no nonzeros is the zero tensor."""
    rng = np.random.default_rng(0)
    parts = [rng.standard_normal((n, 2)) * (rng.random((n, 1)) < 0.3) for n in (40, 30, 20)]
    a = np.einsum("abc,ia,jb,kc->ijk", rng.standard_normal((2, 2, 2)), *parts)
    idx = np.argwhere(a)
    v = a[tuple(idx.T)]
    x, info = tucker.hooi_sparse(backend.asarray(idx), backend.asarray(v), a.shape, 2, seed=0,
                                 return_info=True)
    assert np.linalg.norm(np_of(x.full()) - a) < 1e-7 * np.linalg.norm(a) and info.converged
    # the "svd" start (the default) is the truncated HOSVD's: exact subspaces here
    start = tucker.hooi_sparse(backend.asarray(idx), backend.asarray(v), a.shape, 2, seed=0,
                               max_iter=1, tol=0)
    for u, w in zip(start.factors, tucker.hosvd(a, ranks=2).factors):
        u = np_of(u)
        assert np.linalg.norm(u @ u.T - w @ w.T) < 1e-10
    _, nidx, nvals = _sparse()  # (errors of 0.98, not of rounding)
    _, ref = tucker.hooi_sparse(nidx, nvals, SHAPE, RANKS, seed=0, max_iter=4, tol=0,
                                return_info=True)
    from tnlib.tucker import sparse
    monkeypatch.setattr(sparse, "_CHUNK", 7 * 12)
    _, small = tucker.hooi_sparse(backend.asarray(nidx), backend.asarray(nvals), SHAPE, RANKS,
                                  seed=0, max_iter=4, tol=0, return_info=True)
    np.testing.assert_allclose(small.errors, ref.errors, rtol=1e-10)
    monkeypatch.undo()
    for c in (1e300, 1e-300):
        y, got = tucker.hooi_sparse(backend.asarray(nidx), backend.asarray(nvals * c), SHAPE,
                                    RANKS, seed=0, max_iter=4, tol=0, return_info=True)
        np.testing.assert_allclose(got.errors, ref.errors, rtol=1e-10)
        assert np.all(np.isfinite(np_of(y.core)))
    assert tucker.hooi_sparse(idx, v, a.shape, (5, 1, 9), seed=0, max_iter=2,
                              tol=0).ranks == (5, 1, 5)
    z, info = tucker.hooi_sparse(backend.asarray(idx[:4]), backend.asarray(np.zeros(4)),
                                 a.shape, 2, return_info=True)
    assert float(np.abs(np_of(z.core)).max()) == 0 and info.converged


def test_stopping_short_warns_and_bad_input_names_itself(backend):
    _, idx, vals = _sparse()
    v = backend.asarray(vals)
    with pytest.warns(tnlib.ConvergenceWarning, match="hooi_sparse: stopped without "
                                                      r"converging \(max_iter=1 sweeps"):
        tucker.hooi_sparse(idx, v, SHAPE, RANKS, max_iter=1, tol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tnlib.ConvergenceWarning)
        tucker.hooi_sparse(idx, v, SHAPE, RANKS, max_iter=1, tol=0)
    with pytest.raises(tnlib.ArgumentError, match="hooi_sparse: ranks is required"):
        tucker.hooi_sparse(idx, v, SHAPE, None)
    with pytest.raises(tnlib.ShapeError, match=r"hooi_sparse: ranks must be an int or have one"):
        tucker.hooi_sparse(idx, v, SHAPE, (2, 2))
    with pytest.raises(tnlib.ShapeError, match="hooi_sparse: init has shape"):
        tucker.hooi_sparse(idx, v, SHAPE, (2, 2, 2), init=_start().to(backend=backend.name))
    with pytest.raises(tnlib.ArgumentError, match="hooi_sparse: init must be 'svd', 'random' "
                                                  "or a TuckerTensor"):
        tucker.hooi_sparse(idx, v, SHAPE, RANKS, init="hosvd")
    with pytest.raises(tnlib.ShapeError, match="hooi_sparse: idx gives"):
        tucker.hooi_sparse(idx[:-1], v, SHAPE, RANKS)
    with pytest.raises(tnlib.ArgumentError, match="hooi_sparse: values are complex"):
        tucker.hooi_sparse(idx, backend.asarray(vals.astype(complex)), SHAPE, RANKS)
    with pytest.raises(tnlib.ShapeError, match="hooi_sparse: shape must have at least 2"):
        tucker.hooi_sparse(idx[:, :1], v, (30,), 2)
