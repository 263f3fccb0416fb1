"""Completion from samples: RTTC for tensor trains, LRGeomCG and the desingularized solver."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tnlib import riemannian as rm
from tnlib import tt
from tnlib.errors import ArgumentError, ConvergenceWarning, EvaluationError, ShapeError

from ..helpers import assert_like, np_of


def _uniform_tt(shape, r, seed):
    """Steinlechner's test tensors: cores uniform on [0, 1]."""
    rng = np.random.default_rng(seed)
    d = len(shape)
    return tt.TTTensor([rng.uniform(0, 1, size=(1 if k == 0 else r, n, 1 if k == d - 1 else r))
                        for k, n in enumerate(shape)])


def _samples(shape, count, seed):
    rng = np.random.default_rng(seed)
    idx = np.unique(np.stack([rng.integers(0, n, size=int(1.3 * count)) for n in shape], 1),
                    axis=0)
    return idx[rng.permutation(len(idx))[:count]]


def _held_out_error(x, a, seed=99, count=500):
    idx = np.stack([np.random.default_rng(seed).integers(0, n, count) for n in a.shape], 1)
    want = a.evaluate(idx)
    got = np_of(x.evaluate(x.backend.asarray(idx)))
    return np.linalg.norm(got - want) / np.linalg.norm(want)


def test_tt_complete_recovers_a_uniform_tt(backend):
    shape, r = (8, 8, 8, 8, 8), 2
    a = _uniform_tt(shape, r, seed=0)
    idx = _samples(shape, 10 * len(shape) * 8 * r * r, seed=1)
    vals = backend.asarray(a.evaluate(idx))
    x, info = rm.tt_complete(idx, vals, shape, r, seed=0, tol=1e-11, return_info=True)
    assert_like(x, vals)
    assert info.converged and x.ranks == (1, 2, 2, 2, 2, 1)
    assert info.residual <= 1e-11
    assert _held_out_error(x, a) < 1e-8
    assert len(info.residuals) == info.iterations + 1



def test_tt_complete_on_an_accelerator_reads_about_five_times_per_iteration(backend, one_read):
    # per conjugate-gradient iteration: the exact step (one read of its two sums), the
    # retraction's rank decision, the trial point's value and its frame's finiteness check,
    # and the new gradient's norm, overlap and slope in one read (ten reads before: the
    # accepted trial's value read again, the overlap computed twice, the slope on its own)
    shape, r = (8, 8, 8, 8, 8), 2
    a = _uniform_tt(shape, r, seed=0)
    idx = _samples(shape, 10 * len(shape) * 8 * r * r, seed=1)
    vals = backend.asarray(a.evaluate(idx))
    x, info = rm.tt_complete(idx, vals, shape, r, seed=0, tol=1e-11, return_info=True)
    reads = len(one_read)
    assert_like(x, vals)
    assert info.converged and info.iterations > 20 and _held_out_error(x, a) < 1e-8
    assert reads <= 5.5 * info.iterations + 20

def test_tt_complete_rank_adaptive_with_validation():
    shape, r = (6, 6, 6, 6, 6), 3
    a = _uniform_tt(shape, r, seed=2)
    idx = _samples(shape, 12 * len(shape) * 6 * r * r, seed=3)
    x, info = rm.tt_complete(idx, a.evaluate(idx), shape, 1, seed=0, max_rank=4, tol=1e-10,
                             return_info=True)
    assert info.rank_history[0] == (1, 1, 1, 1, 1, 1)
    assert max(x.ranks) >= r
    assert info.test_errors and info.test_error < 1e-7
    assert _held_out_error(x, a) < 1e-7


def test_tt_complete_rtr_uses_the_exact_hessian():
    shape, r = (6, 6, 6, 6), 2
    a = _uniform_tt(shape, r, seed=4)
    idx = _samples(shape, 10 * len(shape) * 6 * r * r, seed=5)
    x, info = rm.tt_complete(idx, a.evaluate(idx), shape, r, seed=0, method="rtr", tol=1e-11,
                             return_info=True)
    assert info.converged and info.hessian_products > 0 and info.iterations < 30
    assert _held_out_error(x, a) < 1e-8



def test_tt_complete_rtr_on_an_accelerator_reads_twice_per_inner_step(backend, one_read):
    # the truncated-CG step's four inner products come back in one read, the residual's
    # norm in another (five reads per inner step before)
    shape, r = (6, 6, 6, 6), 2
    a = _uniform_tt(shape, r, seed=4)
    idx = _samples(shape, 10 * len(shape) * 6 * r * r, seed=5)
    vals = backend.asarray(a.evaluate(idx))
    x, info = rm.tt_complete(idx, vals, shape, r, seed=0, method="rtr", tol=1e-11,
                             return_info=True)
    reads = len(one_read)
    assert info.converged and _held_out_error(x, a) < 1e-8
    assert info.hessian_products > 4 * info.iterations
    assert reads <= 2 * info.hessian_products + 8 * info.iterations + 20

def test_tt_complete_validation_split_reports_test_error():
    shape, r = (6, 6, 6, 6), 2
    a = _uniform_tt(shape, r, seed=6)
    idx = _samples(shape, 10 * len(shape) * 6 * r * r, seed=7)
    x, info = rm.tt_complete(idx, a.evaluate(idx), shape, r, seed=0, validation=0.2,
                             return_info=True)
    assert len(info.test_errors) == len(info.residuals)
    assert info.test_error < 1e-8


def _low_rank(m, n, r, oversampling, seed):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(m, r)), rng.normal(size=(n, r))
    count = int(oversampling * r * (m + n - r))
    flat = rng.choice(m * n, size=count, replace=False)
    rows, cols = np.unravel_index(flat, (m, n))
    return u @ v.T, rows, cols, np.einsum("sa,sa->s", u[rows], v[cols])


@pytest.mark.parametrize("manifold", ["fixed-rank", "desingularized"])
def test_matrix_complete_recovers_low_rank(backend, manifold):
    a, rows, cols, vals = _low_rank(150, 120, 4, 5, seed=8)
    (u, s, vh), info = rm.matrix_complete(rows, cols, backend.asarray(vals), a.shape, 4,
                                          manifold=manifold, seed=0, tol=1e-12,
                                          return_info=True)
    assert_like(u, backend.asarray(vals))
    x = (np_of(u) * np_of(s)) @ np_of(vh)
    assert np.linalg.norm(x - a) < 1e-9 * np.linalg.norm(a)
    assert np.allclose(np_of(u).T @ np_of(u), np.eye(4), atol=1e-10)
    assert np.all(np.diff(np_of(s)) <= 0)
    assert info.residual <= 1e-12



def test_complex_completion_and_sparse_projection(backend):
    # project_sparse ignored the conjugation (off by the size of the result at a complex
    # point), tt_complete and matrix_complete failed with "float() argument must be ... not
    # 'complex'", and the desingularized solver mixed V^T and V^H
    shape = (5, 6, 7)
    a = tt.random(shape, 2, seed=0, dtype="complex128", backend=backend)
    idx = _samples(shape, 150, seed=1)
    vals = a.evaluate(backend.asarray(idx))
    dense = np.zeros(shape, complex)
    dense[tuple(idx.T)] = np_of(vals)
    got = rm.project_sparse(a, backend.asarray(idx), vals)
    want = rm.project(a, backend.asarray(dense))
    assert np.abs(np_of(got.full()) - np_of(want.full())).max() < 1e-13 * np.abs(dense).max()
    for method in ("rcg", "rtr"):
        x = rm.tt_complete(idx, vals, shape, 2, seed=1, method=method, max_iter=300)
        assert_like(x, vals)
        assert np_of((x - a).norm()) < 1e-9 * np_of(a.norm())
    rng = np.random.default_rng(2)
    m = (rng.standard_normal((30, 3)) + 1j * rng.standard_normal((30, 3))) @ \
        (rng.standard_normal((3, 20)) + 1j * rng.standard_normal((3, 20)))
    rows, cols = np.unravel_index(rng.choice(600, 300, replace=False), m.shape)
    for manifold in ("fixed-rank", "desingularized"):
        u, s, vh = rm.matrix_complete(rows, cols, backend.asarray(m[rows, cols]), m.shape, 3,
                                      seed=0, manifold=manifold, tol=1e-12)
        assert_like(u, backend.asarray(m))
        x = (np_of(u) * np_of(s)) @ np_of(vh)
        assert np.linalg.norm(x - m) < 1e-9 * np.linalg.norm(m)


@pytest.mark.parametrize("manifold, per_iteration", [("fixed-rank", 5.5), ("desingularized", 3.5)])
def test_matrix_complete_on_an_accelerator_reads_a_few_times_per_iteration(backend, one_read,
                                                                         manifold,
                                                                         per_iteration):
    # desingularized: the quartic step's five sums in one read, the trial point's value, and
    # the new gradient's norm, overlap and slope in one read (eleven reads before)
    a, rows, cols, vals = _low_rank(150, 120, 4, 5, seed=8)
    (u, s, vh), info = rm.matrix_complete(rows, cols, backend.asarray(vals), a.shape, 4,
                                          manifold=manifold, seed=0, tol=1e-12,
                                          return_info=True)
    reads = len(one_read)
    x = (np_of(u) * np_of(s)) @ np_of(vh)
    assert np.linalg.norm(x - a) < 1e-9 * np.linalg.norm(a) and info.iterations > 15
    assert reads <= per_iteration * info.iterations + 20

def test_desingularized_keeps_converging_with_an_overestimated_rank():
    """Rank 2 target, rank 4 search: the residual on the samples keeps falling."""
    a, rows, cols, vals = _low_rank(80, 70, 2, 8, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        (u, s, vh), info = rm.matrix_complete(rows, cols, vals, a.shape, 4,
                                              manifold="desingularized", seed=0, max_iter=600,
                                              tol=1e-10, return_info=True)
    assert info.residual < 1e-8
    assert np.all(np.isfinite(s))


def test_bad_samples():
    shape = (4, 5, 6)
    idx = np.array([[0, 1, 2], [3, 4, 5]])
    vals = np.array([1.0, 2.0])
    with pytest.raises(ShapeError, match="mode 1 has size 5"):
        rm.tt_complete(np.array([[0, 5, 2]]), np.ones(1), shape, 1)
    with pytest.raises(ArgumentError, match=r"the position \(0, 1, 2\) more than once"):
        rm.tt_complete(np.array([[0, 1, 2], [0, 1, 2]]), vals, shape, 1)
    with pytest.raises(EvaluationError, match="values\\[1\\] is nan"):
        rm.tt_complete(idx, np.array([1.0, np.nan]), shape, 1)
    with pytest.raises(ShapeError, match="doesn't fit the shape"):
        rm.tt_complete(idx, vals, shape, (5, 2))
    with pytest.raises(ShapeError, match="shape \\(N, 3\\)"):
        rm.tt_complete(idx[:, :2], vals, shape, 1)
    with pytest.raises(ShapeError, match="integer"):
        rm.tt_complete(idx.astype(float), vals, shape, 1)
    with pytest.raises(ShapeError, match="gives 2 samples but values has 3"):
        rm.tt_complete(idx, np.ones(3), shape, 1)
    # with a held-out fraction the values are split: checked first (None gave IndexError)
    for bad, error, match in ((None, ShapeError, "values must be 1-D"),
                              (np.ones(3), ShapeError, "gives 2 samples but values has 3"),
                              (np.array([1.0, np.inf]), EvaluationError, r"values\[1\] is inf")):
        with pytest.raises(error, match=match):
            rm.tt_complete(idx, bad, shape, 1, validation=0.5)
    with pytest.raises(ShapeError, match="rank 7 exceeds"):
        rm.matrix_complete([0], [0], [1.0], (5, 6), 7)
    with pytest.raises(ArgumentError, match="manifold"):
        rm.matrix_complete([0], [0], [1.0], (5, 6), 1, manifold="stiefel")
    with pytest.raises(ShapeError, match="equal length"):
        rm.matrix_complete([0, 1], [0], [1.0], (5, 6), 1)


@pytest.mark.parametrize("scale", [1e-150, 1e-8, 1e150])
def test_completion_does_not_depend_on_the_values_scale(backend, scale):
    """Samples are fitted at unit scale (a power of two out, exact) and the result scaled
    back: the same recovery at any scale. Before, tt_complete did not fit values of 1e±100
    at all (100 % error) and lost three digits at 1e-8; matrix_complete was 37-57 % off at
    1e±150."""
    shape, r = (6, 6, 6, 6), 2
    a = _uniform_tt(shape, r, seed=0)
    idx = _samples(shape, 700, seed=1)
    x = rm.tt_complete(idx, backend.asarray(a.evaluate(idx) * scale), shape, r, seed=0,
                       max_iter=300, tol=1e-11)
    assert_like(x.cores[0], backend.asarray(a.evaluate(idx)))
    unscaled = tt.TTTensor([c / scale if k == 0 else c for k, c in enumerate(x.cores)])
    assert _held_out_error(unscaled, a) < 1e-8
    m, rows, cols, vals = _low_rank(60, 50, 3, 4, seed=8)
    for manifold in ("fixed-rank", "desingularized"):
        u, s, vh = rm.matrix_complete(rows, cols, backend.asarray(vals * scale), m.shape, 3,
                                      manifold=manifold, seed=0, tol=1e-12)
        got = (np_of(u) * (np_of(s) / scale)) @ np_of(vh)
        assert np.linalg.norm(got - m) < 1e-9 * np.linalg.norm(m), manifold
