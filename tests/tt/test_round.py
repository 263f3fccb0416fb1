"""Rounding and orthogonalization."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt


def test_round_meets_eps(backend):
    x = tt.random((6,) * 8, 5, seed=2, backend=backend)
    z = x + tt.random((6,) * 8, 4, seed=3, backend=backend)
    y = z.round(eps=1e-3)
    assert_like(y, z)
    assert rel_error(y.full(), z.full()) <= 1e-3
    assert max(y.ranks) <= 9


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=5),
       eps=st.sampled_from([0.0, 1e-10, 1e-4, 1e-2, 0.3]), seed=st.integers(0, 10**6))
def test_property_round_error_bound(backend, shape, eps, seed):
    z = tt.random(shape, 3, seed=seed, backend=backend) + tt.random(shape, 2, seed=seed + 1,
                                                                     backend=backend)
    y = tt.round(z, eps=eps)
    assert rel_error(y, z) <= eps * (1 + 1e-6) + 1e-12
    assert all(ry <= rz for ry, rz in zip(y.ranks, z.ranks))


def test_rank_deficient_sum_rounds_to_original_rank(backend):
    x = tt.random((4,) * 6, 5, seed=0, backend=backend)
    y = (x + x).round(1e-12)
    assert y.ranks == (1, 4, 5, 5, 5, 4, 1)
    assert rel_error(y, 2 * np_of(x)) < 1e-11


def test_max_rank(backend):
    z = tt.random((5,) * 5, 6, seed=1, backend=backend)
    y = z.round(max_rank=3)
    assert y.ranks == (1, 3, 3, 3, 3, 1)
    # the best rank-3 approximation at each bond in turn is quasi-optimal: error within sqrt(d-1)
    assert rel_error(y, z) < 1.0
    assert z.round(max_rank=[2, 3, 4, 2]).ranks == (1, 2, 3, 4, 2, 1)


def test_round_result_is_left_orthogonal(backend):
    y = (tt.random((3, 4, 5, 3), 3, seed=5, backend=backend) * 2.0).round(1e-12)
    for c in y.cores[:-1]:
        m = np_of(c).reshape(-1, np_of(c).shape[-1])
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)


@pytest.mark.parametrize("direction", ["left", "right"])
def test_orthogonalize(backend, direction):
    x = tt.random((3, 4, 5, 3), (3, 7, 2), seed=0, backend=backend)
    y = x.orthogonalize(direction)
    assert_like(y, x)
    assert rel_error(y, np_of(x)) < 1e-12
    cores = y.cores[:-1] if direction == "left" else y.cores[1:]
    for c in cores:
        c = np_of(c)
        m = c.reshape(-1, c.shape[-1]) if direction == "left" else c.reshape(c.shape[0], -1)
        g = m.T @ m if direction == "left" else m @ m.T
        np.testing.assert_allclose(g, np.eye(g.shape[0]), atol=1e-12)
    assert y.ranks[2] <= 7  # oversized bonds shrink to their unfolding dimension
    with pytest.raises(tnlib.TnlibError,
                       match=r"direction must be one of \('left', 'right'\), got 'up'"):
        x.orthogonalize("up")


def test_thousand_cores_round_without_overflow(backend):
    x = tt.ones((10,) * 1000, backend=backend)
    y = (x + x).round(1e-10)
    assert y.ranks == (1,) * 1001
    for c in y.cores:
        assert np.all(np.isfinite(np_of(c)))
    # 2 * 10**500 overflows a float64, each core holds 10**0.5-ish factors instead
    assert abs(float(tnlib.to_numpy(y[(3,) * 1000])) - 2.0) < 1e-8
    small = tt.ones((2,) * 1000, backend=backend).round(1e-10)
    assert abs(float(tnlib.to_numpy(small.norm())) / 2.0**500 - 1) < 1e-8


def test_complex_and_float32(backend):
    z = tt.random((3, 4, 3), 2, seed=0, dtype="complex128", backend=backend)
    y = (z + z).round(1e-12)
    assert backend.dtype_name(y.dtype) == "complex128" and y.ranks == (1, 2, 2, 1)
    assert rel_error(y, 2 * np_of(z)) < 1e-12
    f = tt.random((3, 4, 3), 2, seed=0, dtype="float32", backend=backend)
    g = (f + f).round(1e-5)
    assert backend.dtype_name(g.dtype) == "float32" and g.ranks == (1, 2, 2, 1)


def test_bad_arguments(backend):
    x = tt.random((3, 3), 2, seed=0, backend=backend)
    with pytest.raises(tnlib.TnlibError, match="eps must be"):
        x.round(eps=-0.1)
    with pytest.raises(tnlib.TnlibError, match="max_rank must be an integer >= 1"):
        x.round(max_rank=0)


@pytest.mark.parametrize("eps, max_rank", [(1e-3, None), (0.0, None), (0.0, 5), (1e-10, 7)])
def test_round_on_an_accelerator_decides_from_one_read(backend, one_read, eps, max_rank):
    # every bond's singular values come to the host at once (a GPU synchronizes once) and
    # every bond is truncated at once: the ranks of the sequential algorithm, and its
    # error bound -- the squared error at most the sum of the bonds' squared tails
    x = tt.random((5,) * 9, 6, seed=2, backend=backend)
    z = x + x + 1e-4 * tt.random((5,) * 9, 3, seed=3, backend=backend)
    one_read.clear()
    y = z.round(eps, max_rank=max_rank)
    assert len(one_read) == 1
    with tnlib.backends.host_execution(True):
        ref = z.to(backend="numpy").round(eps, max_rank=max_rank)
    assert y.ranks == ref.ranks
    full = np_of(z.full())
    tails = [np.linalg.svd(full.reshape(5**k, -1), compute_uv=False)[y.ranks[k]:]
             for k in range(1, 9)]
    bound = np.sqrt(sum(np.sum(t**2) for t in tails)) / np.linalg.norm(full)
    err = rel_error(y.full(), full)
    assert err <= bound * (1 + 1e-6) + 1e-13
    assert err <= 1.5 * rel_error(ref.full(), full) + 1e-13  # close to the sequential one
    if max_rank is None:
        assert err <= max(eps, 1e-13)
    for k, c in enumerate(y.cores[:-1]):  # left-orthonormal, as on the host
        g = np_of(c).reshape(-1, y.ranks[k + 1])
        np.testing.assert_allclose(g.T @ g, np.eye(y.ranks[k + 1]), atol=1e-12)
    assert_like(y, z)


def test_round_on_an_accelerator_decides_by_gram_matrices_where_they_resolve_the_cut(
        backend, one_read, monkeypatch):
    # the bond factors' Gram matrices, by one batched eigensolver, instead of their SVDs
    # (cuSOLVER's are slow): where the cut stands above their rounding, no SVD is taken
    x = tt.random((5,) * 9, 6, seed=2, backend=backend)
    z = x + x + 1e-4 * tt.random((5,) * 9, 3, seed=3, backend=backend)
    with tnlib.backends.host_execution(True):
        host = z.to(backend="numpy")
        refs = [host.round(1e-3), host.round(1e-10, max_rank=7)]
    svd = backend.svd
    monkeypatch.setattr(backend, "svd", lambda a: pytest.fail("took an SVD"))
    for (eps, cap), ref in zip([(1e-3, None), (1e-10, 7)], refs):
        one_read.clear()
        y = z.round(eps, max_rank=cap)
        assert len(one_read) == 1
        assert y.ranks == ref.ranks
        assert rel_error(y.full(), ref.full()) <= 1e-3
        assert_like(y, z)
    # x + x has rank 6 at every inner bond, stored as 12: under a cap of 8 the Gram matrices
    # would fill the cap with directions of rounding noise; those bonds go to one batched
    # SVD (a second read) and keep the exact rank, as on the host
    monkeypatch.setattr(backend, "svd", svd)
    xx = x + x
    with tnlib.backends.host_execution(True):
        ref = xx.to(backend="numpy").round(0.0, max_rank=8)
    one_read.clear()
    y = xx.round(0.0, max_rank=8)
    assert len(one_read) == 2
    assert y.ranks == ref.ranks == (1, 5, 6, 6, 6, 6, 6, 6, 5, 1)
    assert rel_error(y.full(), xx.full()) <= 1e-12


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_round_on_an_accelerator_rejects_non_finite_cores(backend, one_read, bad):
    x = tt.random((3,) * 6, 3, seed=1, backend=backend)
    y = tt.TTTensor([c * bad if k == 2 else c for k, c in enumerate(x.cores)])
    with pytest.raises(tnlib.TnlibError, match="NaN or inf"):
        y.round(1e-6)
