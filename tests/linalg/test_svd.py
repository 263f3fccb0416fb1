"""Truncated factorizations of tnlib.linalg.svd: error bounds, ranks, and the accelerator
path (one read per level of the Gram factorization) against the host's."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_like, np_of
from tnlib.errors import ArgumentError
from tnlib.linalg import left_svd, truncated_svd, truncation_rank
from tnlib.linalg.svd import mode_svd_abs


def graded(rows: int, cols: int, orders: float, seed: int = 0) -> np.ndarray:
    """A wide matrix whose singular values fall evenly from 1 to ``10^-orders``."""
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((rows, rows)))
    v, _ = np.linalg.qr(rng.standard_normal((cols, rows)))
    return (u * np.logspace(0, -orders, rows)) @ v.T


def minimal_rank(a: np.ndarray, delta: float) -> int:
    s = np.linalg.svd(a, compute_uv=False)
    tails = np.concatenate([np.sqrt(np.cumsum(s[::-1] ** 2))[::-1], [0.0]])
    return int(np.flatnonzero(tails <= delta)[0])


@pytest.mark.parametrize("eps", [1e-2, 1e-5, 1e-8])
def test_left_svd_keeps_the_minimal_rank_within_its_bound(backend, eps):
    # twelve orders of singular values: eps = 1e-8 needs a second Gram level
    a = graded(30, 200, 12)
    u, s, b = left_svd(backend.asarray(a), eps=eps)
    assert_like(u, backend.asarray(a))
    err = np.linalg.norm(a - np_of(u) @ np_of(b)) / np.linalg.norm(a)
    assert err <= eps * (1 + 1e-6)
    assert np_of(s).shape == (minimal_rank(a, eps * np.linalg.norm(a)),)
    assert np.allclose(np_of(u).T @ np_of(u), np.eye(np_of(s).size), atol=1e-12)


@pytest.mark.parametrize("max_rank", [None, 2])
def test_left_svd_of_a_tall_matrix_returns_the_kept_values_only(backend, max_rank):
    a = graded(30, 200, 12).T  # tall: a plain SVD
    u, s, b = left_svd(backend.asarray(a), eps=1e-3, max_rank=max_rank)
    r = minimal_rank(a, 1e-3 * np.linalg.norm(a)) if max_rank is None else max_rank
    assert (np_of(u).shape, np_of(s).shape, np_of(b).shape) == ((200, r), (r,), (r, 30))
    assert np.allclose(np_of(s), np.linalg.svd(a, compute_uv=False)[:r], rtol=1e-12)
    assert np.allclose(np.linalg.norm(np_of(b), axis=1), np_of(s), rtol=1e-12)  # b = s vh


@pytest.mark.parametrize("eps", [1e-5, 1e-8])
def test_left_svd_on_an_accelerator_matches_the_host_in_one_read_per_level(backend, one_read,
                                                                          monkeypatch, eps):
    a = backend.asarray(graded(30, 200, 12))
    monkeypatch.setattr(backend, "reads_synchronize", lambda x: False)
    u0, s0, b0 = left_svd(a, eps=eps)
    host_reads = len(one_read)
    monkeypatch.setattr(backend, "reads_synchronize", lambda x: True)
    one_read.clear()
    u, s, b = left_svd(a, eps=eps)
    # finiteness, scale and norm, then per level of the Gram factorization (two here) its
    # eigenvalues with the energies of its directions; the host reads each apart
    assert (len(one_read), host_reads) == (1 + 2, 3 + 2 * 2)
    assert np_of(s).shape == np_of(s0).shape
    assert np.allclose(np_of(s), np_of(s0), rtol=1e-12, atol=1e-15)
    assert np.allclose(np_of(u) @ np_of(b), np_of(u0) @ np_of(b0), rtol=0, atol=1e-13)
    assert_like(b, a)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_mode_factorization_on_an_accelerator_matches_the_host(backend, monkeypatch, k):
    # a mode-k unfolding with the graded spectrum: batched Gram products and projections
    shape = [6, 5, 7]
    shape[k] = 30
    rest = [n for i, n in enumerate(shape) if i != k]
    unfolding = graded(30, rest[0] * rest[1], 12, seed=k)
    t = np.moveaxis(unfolding.reshape(30, *rest), 0, k)
    delta = 1e-8 * np.linalg.norm(t)
    results = []
    for accelerator in (False, True):
        monkeypatch.setattr(backend, "reads_synchronize", lambda x, a=accelerator: a)
        u, s, core = mode_svd_abs(backend.asarray(t), k, delta, None, backend)
        results.append((np_of(u), np_of(s), np_of(core)))
    (u0, s0, c0), (u, s, c) = results
    assert s.shape == s0.shape == (minimal_rank(unfolding, delta),)
    assert np.allclose(c, c0, rtol=0, atol=1e-13)
    back = np.moveaxis(np.tensordot(u, c, axes=(1, k)), 0, k)
    assert np.linalg.norm(back - t) <= delta * (1 + 1e-6)


@pytest.mark.parametrize("scale", [1e-200, 1e160, 1e300])
def test_left_svd_of_data_near_the_float_limits(backend, scale):
    # a Gram matrix squares the scale: the data are factored at unit size
    a = graded(10, 50, 6)
    u, s, b = left_svd(backend.asarray(a * scale), eps=1e-4)
    assert_like(s, backend.asarray(a))
    assert np.allclose(np_of(s) / scale, np.linalg.svd(a, compute_uv=False)[:np_of(s).size],
                       rtol=1e-10)
    back = np_of(u) @ (np_of(b) / scale)
    assert np.linalg.norm(a - back) <= 1e-4 * np.linalg.norm(a) * (1 + 1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_left_svd_refuses_non_finite_data_naming_the_entry(backend, bad):
    a = graded(6, 20, 3)
    a[4, 17] = bad
    with pytest.raises(ArgumentError, match=r"left_svd: a holds non-finite .*\(4, 17\)"):
        left_svd(backend.asarray(a), eps=1e-3)


def test_left_svd_under_tracing_truncates_by_max_rank_and_names_it_for_eps(backend):
    if not backend.supports_jit:
        pytest.skip(f"{backend.name} runs eagerly: nothing is traced")
    a = backend.asarray(graded(6, 40, 6))
    values = backend.jit(lambda a: left_svd(a, max_rank=3)[1])(a)
    assert_like(values, a)
    assert np.allclose(np_of(values), np.logspace(0, -6, 6)[:3], rtol=1e-12)
    with pytest.raises(ArgumentError, match=r"left_svd: eps=0.001 needs the data's values .* "
                                            r"pass max_rank"):
        backend.jit(lambda a: left_svd(a, eps=1e-3)[1])(a)


@pytest.mark.parametrize("scale", [1e-200, 1.0, 1e200, 1e300])
def test_truncated_svd_keeps_the_same_rank_at_any_scale(backend, scale):
    # the discarded energy was summed in squares: 1e-200 gave rank 1 (all squares 0), 1e200
    # rank 1 as well (the norm was inf)
    a = graded(12, 40, 8)
    u, s, vh = truncated_svd(backend.asarray(a * scale), eps=1e-5)
    assert_like(s, backend.asarray(a))
    assert np_of(s).shape == (minimal_rank(a, 1e-5 * np.linalg.norm(a)),)
    assert np.allclose(np_of(s) / scale, np.linalg.svd(a, compute_uv=False)[:np_of(s).size],
                       rtol=1e-10)
    assert truncation_rank(backend.asarray(np.logspace(0, -8, 12) * scale),
                           1e-5 * scale * np.linalg.norm(np.logspace(0, -8, 12)), None,
                           backend) == np_of(s).size
