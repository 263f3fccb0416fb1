"""TT-SVD and tt_matrix: error bounds, exact recovery, dtypes, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt


def hilbert(shape):
    grid = sum(np.ix_(*[np.arange(n, dtype=float) for n in shape]))
    return 1.0 / (1.0 + grid)


@pytest.mark.parametrize("eps", [1e-2, 1e-6, 1e-10, 1e-14])
def test_error_bound_on_hilbert(backend, eps):
    a = hilbert((6, 5, 7, 4, 3))
    x = tt.tt_svd(backend.asarray(a), eps=eps)
    assert_like(x, backend.asarray(a))
    # the bound is exact arithmetic's; rounding adds a few units of float64 (GPU BLAS too)
    assert rel_error(x, a) <= eps * (1 + 1e-6) + 1e-13


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=5),
       rank=st.integers(1, 4), eps=st.sampled_from([0.0, 1e-12, 1e-6, 1e-3, 0.1, 0.5]),
       seed=st.integers(0, 10**6))
def test_property_error_and_rank_bounds(backend, shape, rank, eps, seed):
    rng = np.random.default_rng(seed)
    base = tt.random(shape, rank, seed=seed).full()
    a = base + 1e-3 * rng.standard_normal(shape)  # full-rank noise: truncation really happens
    x = tt.tt_svd(backend.asarray(a), eps=eps)
    assert rel_error(x, a) <= eps * (1 + 1e-6) + 1e-13
    d = len(shape)
    for k in range(1, d):  # ranks never exceed the unfolding bounds
        assert x.ranks[k] <= min(int(np.prod(shape[:k])), int(np.prod(shape[k:])))


def test_exact_rank_recovery(backend):
    x = tt.random((4, 5, 6, 5), 3, seed=0, backend=backend)
    y = tt.tt_svd(x.full(), eps=1e-12)
    assert y.ranks == (1, 3, 3, 3, 1)
    assert rel_error(y, x) < 1e-11


def test_max_rank_int_and_per_bond(backend):
    a = backend.asarray(hilbert((5, 5, 5, 5)))
    assert tt.tt_svd(a, eps=0.0, max_rank=2).ranks == (1, 2, 2, 2, 1)
    assert tt.tt_svd(a, eps=0.0, max_rank=[1, 3, 2]).ranks == (1, 1, 3, 2, 1)
    # both limits: the stricter one wins
    assert tt.tt_svd(a, eps=1e-14, max_rank=2).ranks == (1, 2, 2, 2, 1)
    assert max(tt.tt_svd(a, eps=1e-1, max_rank=5).ranks) < 5


def test_truncation_matches_full_svd_reference(backend):
    a = hilbert((10, 10, 10, 10, 10))
    x = tt.tt_svd(backend.asarray(a), eps=1e-8)
    # reference: plain TT-SVD with full SVDs in NumPy
    delta = 1e-8 / 2 * np.linalg.norm(a)
    b, r, ranks = a.reshape(10, -1), 1, [1]
    for _ in range(4):
        b = b.reshape(r * 10, -1)
        u, s, vh = np.linalg.svd(b, full_matrices=False)
        tail = np.sqrt(np.concatenate([np.cumsum((s**2)[::-1])[::-1], [0]]))
        r = int(np.argmax(tail <= delta))
        ranks.append(r)
        b = s[:r, None] * vh[:r]
    assert x.ranks == (*ranks, 1)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_dtype_is_kept(backend, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5))
    if dtype == "complex128":
        a = a + 1j * rng.standard_normal((3, 4, 5))
    x = tt.tt_svd(backend.asarray(a.astype(dtype)), eps=0.0)
    assert backend.dtype_name(x.dtype) == dtype
    assert rel_error(x, a) < (1e-5 if dtype == "float32" else 1e-12)


def test_one_mode_and_left_orthogonality(backend):
    v = backend.asarray(np.arange(5.0))
    assert tt.tt_svd(v).ranks == (1, 1)
    x = tt.tt_svd(backend.asarray(hilbert((4, 5, 6))), eps=1e-10)
    c = np_of(x.cores[0]).reshape(-1, x.ranks[1])
    np.testing.assert_allclose(c.T @ c, np.eye(x.ranks[1]), atol=1e-12)


def test_bad_input(backend):
    a = backend.asarray(np.ones((2, 3)))
    with pytest.raises(tnlib.TnlibError, match="eps must be a finite real number >= 0, got -1"):
        tt.tt_svd(a, eps=-1)
    with pytest.raises(tnlib.TnlibError, match="max_rank must be an integer >= 1, got 0"):
        tt.tt_svd(a, max_rank=0)
    with pytest.raises(tnlib.ShapeError, match="one entry per bond"):
        tt.tt_svd(a, max_rank=[1, 2, 3])
    with pytest.raises(tnlib.ShapeError, match="0-d"):
        tt.tt_svd(backend.asarray(np.float64(1.0)))


def test_tt_matrix_round_trip(backend):
    rng = np.random.default_rng(0)
    a = np.kron(rng.standard_normal((2, 3)), rng.standard_normal((4, 2)))
    m = tt.tt_matrix(backend.asarray(a), (2, 4), (3, 2))
    assert m.ranks == (1, 1, 1)
    assert m.row_shape == (2, 4) and m.col_shape == (3, 2)
    assert rel_error(m.full(), a) < 1e-12
    with pytest.raises(tnlib.ShapeError, match="expected"):
        tt.tt_matrix(backend.asarray(a), (2, 4), (3, 3))


def test_the_zero_tensor_decomposes_with_rank_one(backend):
    # any rank is exact for zeros; the decompositions return the minimal one (they kept
    # ranks of 3 and 12 from the Gram path's view of an all-zero spectrum)
    from tnlib import ht, tucker

    a = backend.zeros((3, 4, 5, 6))
    for x in (tt.tt_svd(a), tt.tt_svd(a, eps=1e-6), tucker.hosvd(a, eps=1e-6),
              ht.hsvd(a, eps=1e-6)):
        ranks = x.ranks.values() if isinstance(x.ranks, dict) else x.ranks
        assert set(ranks) == {1}
        assert np.all(np_of(x) == 0)
    assert_like(tt.tt_svd(a).cores[1], a)
    x = tt.tt_svd(a + backend.asarray(np.einsum("i,j,k,l->ijkl", *[np.arange(1.0, n + 1)
                                                                    for n in (3, 4, 5, 6)])))
    assert x.ranks == (1, 1, 1, 1, 1)  # (a rank-1 tensor is still found as such)
