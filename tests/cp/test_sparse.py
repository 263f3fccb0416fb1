"""CP-ALS of sparse tensors: the dense CP-ALS's iterates from the nonzeros alone."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of
from tnlib import cp
from tnlib.backends import host_execution

SHAPE = (30, 25, 20)


def _sparse(seed=0, density=0.1):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(SHAPE) * (rng.random(SHAPE) < density)
    idx = np.argwhere(a)
    return a, idx, a[tuple(idx.T)]


def _on(backend, start):
    return start.to(backend=backend.name)


@pytest.mark.parametrize("host", [True, False])
def test_iterates_are_those_of_dense_cp_als(backend, host):
    """From the same start, every sweep's error and the result equal dense CP-ALS's on the
    densified tensor (the same normal equations; the MTTKRP from the nonzeros); on the
    values' backend and dtype, on the host path and the framework's (compiled sweeps)."""
    a, idx, vals = _sparse()
    start = cp.random(SHAPE, 4, seed=1)
    dense, want = cp.cp_als(a, 4, init=start, max_iter=8, tol=0, return_info=True)
    with host_execution(host):
        x, info = cp.cp_als_sparse(backend.asarray(idx), backend.asarray(vals), SHAPE, 4,
                                   init=_on(backend, start), max_iter=8, tol=0,
                                   return_info=True)
    assert_like(x.weights, backend.asarray(vals))
    np.testing.assert_allclose(info.errors, want.errors, rtol=1e-12)
    full = np_of(x.full())
    assert np.linalg.norm(full - dense.full()) <= 1e-11 * np.linalg.norm(dense.full())
    true = np.linalg.norm(full - a) / np.linalg.norm(a)
    assert abs(info.errors[-1] - true) <= 1e-10


def test_recovers_a_sparse_low_rank_tensor_and_sums_repeated_positions(backend):
    """Factors with sparse supports give a sparse tensor of rank 3: recovered to the error
    formula's resolution; a position listed twice holds the sum of its values."""
    rng = np.random.default_rng(0)
    parts = [rng.uniform(size=(n, 3)) * (rng.random((n, 3)) < 0.3) for n in (40, 30, 20)]
    a = np.einsum("ir,jr,kr->ijk", *parts)
    idx = np.argwhere(a)
    assert len(idx) < 0.1 * a.size
    x, info = cp.cp_als_sparse(backend.asarray(idx), backend.asarray(a[tuple(idx.T)]),
                               a.shape, 3, seed=0, tol=1e-13, max_iter=500, return_info=True)
    assert np.linalg.norm(np_of(x.full()) - a) < 1e-6 * np.linalg.norm(a)
    assert info.converged and np.all(np.diff(info.errors) <= 1e-12)
    twice = np.concatenate([idx, idx[:25]])
    vals = np.concatenate([a[tuple(idx.T)], a[tuple(idx[:25].T)]])
    b = a.copy()
    b[tuple(idx[:25].T)] *= 2
    start = cp.random(a.shape, 3, seed=2)
    got = cp.cp_als_sparse(backend.asarray(twice), backend.asarray(vals), a.shape, 3,
                           init=_on(backend, start), max_iter=5, tol=0)
    want = cp.cp_als(b, 3, init=start, max_iter=5, tol=0)
    assert np.linalg.norm(np_of(got.full()) - want.full()) < 1e-10 * np.linalg.norm(b)


@pytest.mark.parametrize("host", [True, False])
def test_the_svd_start_is_the_datas_not_the_seeds(backend, host):
    """The default start: the leading singular vectors of the unfoldings (but the first),
    from the nonzeros. On a sparse rank-3 tensor every seed gives the same first sweep
    (0.32 relative error; random starts 0.44 to 0.55) and the fit converges; ranks past a
    mode's size are filled by random columns."""
    rng = np.random.default_rng(0)
    parts = [rng.uniform(size=(n, 3)) * (rng.random((n, 3)) < 0.3) for n in (40, 30, 20)]
    a = np.einsum("ir,jr,kr->ijk", *parts)
    idx = np.argwhere(a)
    i, v = backend.asarray(idx), backend.asarray(a[tuple(idx.T)])
    firsts = []
    for seed in range(3):
        with host_execution(host):
            x, info = cp.cp_als_sparse(i, v, a.shape, 3, seed=seed, max_iter=2, tol=0,
                                       return_info=True)
        assert_like(x.weights, v)
        firsts.append(info.errors[0])
    np.testing.assert_allclose(firsts, firsts[0], rtol=1e-8)
    for seed in range(3):
        _, info = cp.cp_als_sparse(i, v, a.shape, 3, init="random", seed=seed, max_iter=1,
                                   tol=0, return_info=True)
        assert info.errors[0] > firsts[0] + 0.1
    x, info = cp.cp_als_sparse(i, v, a.shape, 3, seed=0, tol=1e-13, max_iter=200,
                               return_info=True)
    assert info.converged and np.linalg.norm(np_of(x.full()) - a) < 1e-6 * np.linalg.norm(a)
    wide = cp.cp_als_sparse(i, v, a.shape, 25, seed=0, max_iter=3, tol=0)
    assert [tuple(backend.shape(f)) for f in wide.factors] == [(40, 25), (30, 25), (20, 25)]
    assert np.isfinite(np_of(wide.full())).all()


def test_precisions_scales_and_the_zero_tensor(backend):
    """float32 values are fitted in float32, float16 in float32 and returned as float16;
    values at 1e300 and 1e-300 give the same relative errors (fitted at unit scale); no
    nonzeros, or only zeros, is the zero tensor."""
    _, idx, vals = _sparse()
    start = cp.random(SHAPE, 3, seed=1)
    _, ref = cp.cp_als_sparse(idx, vals, SHAPE, 3, init=start, max_iter=10, tol=0,
                              return_info=True)
    for dtype, rtol in (("float32", 1e-4), ("float16", 2e-2)):
        v = backend.asarray(vals.astype(dtype))
        x, info = cp.cp_als_sparse(backend.asarray(idx), v, SHAPE, 3,
                                   init=_on(backend, start).to(dtype="float32"), max_iter=10,
                                   tol=0, return_info=True)
        assert_like(x.weights, v)
        np.testing.assert_allclose(info.errors, ref.errors, rtol=rtol)
    for scale in (1e300, 1e-300):
        x, info = cp.cp_als_sparse(backend.asarray(idx), backend.asarray(vals * scale), SHAPE,
                                   3, init=_on(backend, start), max_iter=10, tol=0,
                                   return_info=True)
        np.testing.assert_allclose(info.errors, ref.errors, rtol=1e-10)
        assert np.all(np.isfinite(np_of(x.weights)))
    for i, v in ((np.zeros((0, 3), int), np.zeros(0)), (idx[:5], np.zeros(5))):
        z, info = cp.cp_als_sparse(backend.asarray(i), backend.asarray(v), SHAPE, 2,
                                   return_info=True)
        assert float(np.abs(np_of(z.weights)).max()) == 0 and info.errors == [0.0]


def test_stopping_short_warns(backend):
    _, idx, vals = _sparse()
    with pytest.warns(tnlib.ConvergenceWarning, match=r"cp_als_sparse: stopped without "
                                                      r"converging \(max_iter=2 sweeps"):
        cp.cp_als_sparse(backend.asarray(idx), backend.asarray(vals), SHAPE, 3, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tnlib.ConvergenceWarning)
        cp.cp_als_sparse(backend.asarray(idx), backend.asarray(vals), SHAPE, 3, max_iter=2,
                         tol=0)


def test_bad_input_names_itself(backend):
    _, idx, vals = _sparse()
    v = backend.asarray(vals)
    cases = [
        ((idx[:, :2], v, SHAPE, 2), tnlib.ShapeError, r"idx must have shape \(N, 3\)"),
        ((idx + 100, v, SHAPE, 2), tnlib.ShapeError, r"idx\[:, 0\] has values in"),
        ((idx.astype(float), v, SHAPE, 2), tnlib.ShapeError, "idx must be an integer array"),
        ((idx[:-1], v, SHAPE, 2), tnlib.ShapeError, "idx gives .* positions but values has"),
        ((idx, backend.asarray(vals.astype(complex)), SHAPE, 2), tnlib.ArgumentError,
         "values are complex"),
        ((idx, backend.asarray(np.ones((len(vals), 1))), SHAPE, 2), tnlib.ShapeError,
         "values must be a 1-D array"),
        ((idx, v, SHAPE, 0), tnlib.ArgumentError, "rank must be an integer >= 1"),
        ((idx[:, :1], v, (30,), 2), tnlib.ShapeError, "shape must have at least 2 modes"),
        ((idx, v, (30, 0, 20), 2), tnlib.ShapeError, "shape must be a non-empty sequence"),
        ((idx, "values", SHAPE, 2), tnlib.ShapeError,
         "values must be a 1-D array of numbers, got str"),
    ]
    for args, error, match in cases:
        with pytest.raises(error, match=f"cp_als_sparse: {match}"):
            cp.cp_als_sparse(*args)
    bad = vals.copy()
    bad[3] = np.nan
    with pytest.raises(tnlib.TnlibError, match="cp_als_sparse: values .*(NaN|finite)"):
        cp.cp_als_sparse(idx, backend.asarray(bad), SHAPE, 2)
    with pytest.raises(tnlib.ShapeError, match="cp_als_sparse: init has shape"):
        cp.cp_als_sparse(idx, v, SHAPE, 2, init=cp.random((3, 3, 3), 2, seed=0,
                                                          backend=backend))
    with pytest.raises(tnlib.ArgumentError, match="cp_als_sparse: init must be 'random', "
                                                  "'svd' or a CPTensor, got 'nvecs'"):
        cp.cp_als_sparse(idx, v, SHAPE, 2, init="nvecs")
    with pytest.raises(tnlib.ArgumentError, match="cp_als_sparse: seed must be"):
        cp.cp_als_sparse(idx, v, SHAPE, 2, seed=-1)
