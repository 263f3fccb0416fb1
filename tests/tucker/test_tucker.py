"""TuckerTensor, ST-HOSVD and HOOI."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tucker


def low_rank(backend, shape=(10, 12, 9), ranks=(3, 4, 5), seed=0):
    rng = np.random.default_rng(seed)
    core = rng.standard_normal(ranks)
    factors = [np.linalg.qr(rng.standard_normal((n, r)))[0] for n, r in zip(shape, ranks)]
    return tucker.TuckerTensor(backend.asarray(core), [backend.asarray(f) for f in factors])


def test_tuckertensor_operations(backend):
    x = low_rank(backend)
    a = np_of(x)
    ref = np.einsum("abc,ia,jb,kc->ijk", tnlib.to_numpy(x.core),
                    *[tnlib.to_numpy(f) for f in x.factors])
    np.testing.assert_allclose(a, ref, rtol=1e-12)
    assert x.ranks == (3, 4, 5) and x.shape == (10, 12, 9) and "TuckerTensor" in repr(x)
    assert abs(float(tnlib.to_numpy(x.norm())) - np.linalg.norm(a)) < 1e-10
    y = low_rank(backend, seed=1)
    assert abs(float(tnlib.to_numpy(x.dot(y))) - np.sum(a * np_of(y))) < 1e-9
    assert rel_error(x.to_tt().full(), a) < 1e-12
    assert rel_error((x / 4.0).full(), a / 4) < 1e-15  # as TT and HT divide
    m = np.random.default_rng(3).standard_normal((4, 12))
    assert rel_error(x.mode_product(backend.asarray(m), 1).full(),
                     np.einsum("ijk,pj->ipk", a, m)) < 1e-12
    idx = np.array([[0, 1, 2], [9, 11, 8], [4, 4, 4]])
    np.testing.assert_allclose(tnlib.to_numpy(x.evaluate(idx)), a[tuple(idx.T)], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
def test_random_is_the_same_tensor_on_every_backend(backend, dtype):
    x = tucker.random((3, 4, 5), 4, seed=7, dtype=dtype, backend=backend)
    assert x.shape == (3, 4, 5) and x.ranks == (3, 4, 4)
    assert_like(x.core, backend.zeros((1,), dtype=dtype))
    ref = tucker.random((3, 4, 5), 4, seed=7, dtype=dtype, backend="numpy")
    assert rel_error(x, np_of(ref)) < (1e-6 if dtype == "float32" else 1e-15)
    assert np.iscomplexobj(np_of(ref.core)) == (dtype == "complex128")
    y = tucker.random((3, 4, 5), (5, 1, 2), seed=np.random.default_rng(0), backend=backend)
    assert y.ranks == (5, 1, 2) and rel_error(y, np_of(y)) == 0.0
    assert rel_error(tucker.random((3, 4), 2, seed=1, backend=backend),
                     np_of(tucker.random((3, 4), 2, seed=2, backend=backend))) > 0.1
    with pytest.raises(tnlib.ShapeError, match="one per mode"):
        tucker.random((3, 4), (2, 2, 2))
    with pytest.raises(tnlib.ArgumentError, match="ranks must be an integer >= 1"):
        tucker.random((3, 4), 0)
    with pytest.raises(tnlib.ArgumentError, match="seed"):
        tucker.random((3, 4), 2, seed="a")


def test_validation(backend):
    with pytest.raises(tnlib.ShapeError, match=r"factor 1 must have shape \(n, 3\)"):
        tucker.TuckerTensor(backend.ones((2, 3)), [backend.ones((4, 2)), backend.ones((5, 2))])
    with pytest.raises(tnlib.ShapeError, match="2 axes but 1 factors"):
        tucker.TuckerTensor(backend.ones((2, 3)), [backend.ones((4, 2))])
    x = tucker.TuckerTensor(backend.ones((2, 2)), [backend.ones((4, 2)), backend.ones((5, 2))])
    for c in (backend.ones((2,)), "2"):  # a vector broadcast into the core: not a scalar
        with pytest.raises(tnlib.ArgumentError, match=r"TuckerTensor \*: only scalars, got"):
            x * c
    y = x * backend.asarray(np.array(2.0))
    assert rel_error(y.full(), 2.0 * np_of(x.full())) == 0


def test_hosvd_exact_recovery(backend):
    x = low_rank(backend)
    y = tucker.hosvd(x.full(), eps=1e-12)
    assert_like(y.core, x.core)
    assert y.ranks == (3, 4, 5)
    assert rel_error(y.full(), np_of(x)) < 1e-11


@pytest.mark.parametrize("eps", [1e-1, 1e-3, 1e-6, 1e-10])
def test_hosvd_error_bound(backend, eps):
    rng = np.random.default_rng(0)
    grid = sum(np.ix_(*[np.arange(n, dtype=float) for n in (12, 10, 11, 9)]))
    a = 1.0 / (1.0 + grid) + 1e-4 * rng.standard_normal((12, 10, 11, 9))
    y = tucker.hosvd(backend.asarray(a), eps=eps)
    assert rel_error(y.full(), a) <= eps * (1 + 1e-6)
    f = tnlib.to_numpy(y.factors[0])
    np.testing.assert_allclose(f.T @ f, np.eye(f.shape[1]), atol=1e-10)


def test_hosvd_ranks_and_wide_unfolding(backend):
    a = np.random.default_rng(0).standard_normal((100, 20, 30))
    y = tucker.hosvd(backend.asarray(a), ranks=(5, 4, 3))
    assert y.ranks == (5, 4, 3)
    # the mode-0 factor spans the leading left singular vectors of the unfolding
    u = np.linalg.svd(a.reshape(100, -1), full_matrices=False)[0][:, :5]
    f0 = tnlib.to_numpy(y.factors[0])
    assert np.linalg.norm(u @ (u.T @ f0) - f0) < 1e-8


def test_hooi_never_worse_than_hosvd(backend):
    rng = np.random.default_rng(0)
    a = backend.asarray(rng.standard_normal((8, 9, 10)))
    ranks = (3, 3, 4)
    x, info = tucker.hooi(a, ranks, return_info=True, tol=1e-12, max_iter=200)
    y = tucker.hosvd(a, ranks=ranks)
    assert_like(x.core, a)
    an = tnlib.to_numpy(a)
    assert np.linalg.norm(an - np_of(x)) <= np.linalg.norm(an - np_of(y)) + 1e-10
    assert abs(info.errors[-1] - rel_error(x.full(), an)) < 1e-7
    assert all(e2 <= e1 + 1e-12 for e1, e2 in zip(info.errors, info.errors[1:]))


def test_hooi_is_accurate_on_a_smooth_tensor_and_reports_the_true_error(backend):
    """1/(1+i+j+k): singular values decay to round-off. Subspaces from the Gram matrix
    (squared singular values) stalled near 1e-8 and the record read sqrt(|a|^2 - |core|^2)."""
    i = np.arange(60.0)
    a = 1.0 / (1.0 + i[:, None, None] + i[None, :, None] + i[None, None, :])
    x, info = tucker.hooi(backend.asarray(a), (14, 14, 14), max_iter=10, return_info=True)
    assert_like(x.core, backend.asarray(a))
    err = rel_error(x, a)
    hosvd_err = rel_error(tucker.hosvd(a, ranks=(14, 14, 14)), a)
    assert err <= hosvd_err * (1 + 1e-6) + 1e-15
    assert err < 1e-10  # the Gram-based sweeps gave ~1e-8
    assert abs(info.errors[-1] - err) <= 1e-3 * err + 1e-15  # the record is the true error


def test_hooi_exact_recovery_and_random_init(backend):
    x = low_rank(backend)
    y = tucker.hooi(x.full(), (3, 4, 5), init="random", tol=1e-14, max_iter=100)
    assert rel_error(y.full(), np_of(x)) < 1e-10


def test_bad_input(backend):
    a = backend.ones((3, 4, 5))
    with pytest.raises(tnlib.TnlibError, match="one entry per mode"):
        tucker.hosvd(a, ranks=(1, 2))
    with pytest.raises(tnlib.TnlibError, match="ranks must be an integer >= 1, got 0"):
        tucker.hooi(a, (1, 0, 1))
    with pytest.raises(tnlib.TnlibError, match="eps must be"):
        tucker.hosvd(a, eps=-1)


def test_to_changes_backend_dtype_and_device(backend):
    x = tucker.hosvd(np.random.default_rng(0).standard_normal((4, 5, 6)), ranks=(2, 3, 2))
    y = x.to(backend=backend, dtype="float32", device="cpu")
    assert y.backend is backend and backend.dtype_name(y.dtype) == "float32"
    assert y.ranks == (2, 3, 2)
    assert_like(y.core, backend.ones((1,), dtype="float32"))
    assert_like(y.factors[2], backend.ones((1,), dtype="float32"))
    assert rel_error(y.full(), x.full()) < 1e-6
    z = y.to(backend="numpy", dtype="complex128")
    assert isinstance(z.core, np.ndarray) and z.dtype == np.complex128
    assert rel_error(z * 1j, 1j * np_of(x)) < 1e-6
    with pytest.raises(tnlib.BackendError, match=r"to: device 'cuda:7'"):
        x.to(backend=backend, device="cuda:7")


def test_sum_difference_and_round(backend):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((5, 6, 7)), rng.standard_normal((5, 6, 7))
    x = tucker.hosvd(backend.asarray(a), ranks=(2, 3, 2))
    y = tucker.hosvd(backend.asarray(b), ranks=(3, 2, 4))
    xa, ya = np_of(x), np_of(y)
    s = x + y
    assert_like(s.core, x.core)
    assert s.ranks == (5, 5, 6)
    assert rel_error(s.full(), xa + ya) < 1e-14
    assert rel_error((x - y).full(), xa - ya) < 1e-14
    z = (x + x).round(1e-10)  # the rank of the sum of a tensor and itself is its own
    assert_like(z.core, x.core)
    assert z.ranks == x.ranks and rel_error(z.full(), 2 * xa) < 1e-12
    for eps in (0.5, 0.1, 1e-3):
        r = s.round(eps)
        assert rel_error(r.full(), xa + ya) <= eps
        assert all(p <= q for p, q in zip(r.ranks, s.ranks))
    assert s.round(max_rank=2).ranks == (2, 2, 2)
    assert s.round(max_rank=(1, 5, 3)).ranks == (1, 5, 3)
    # the factors of a rounded tensor are orthonormal
    u = np_of(s.round(0.1).factors[1])
    np.testing.assert_allclose(u.T @ u, np.eye(u.shape[1]), atol=1e-12)
    # complex and far from unit scale
    c = tucker.hosvd(backend.asarray(a + 1j * b), ranks=2)
    assert rel_error((c + c).round(1e-10).full(), 2 * np_of(c)) < 1e-12
    big = (x * 1e300 + y * 1e300).round(1e-10)
    assert rel_error(big.full() / 1e300, xa + ya) < 1e-12


def test_sum_and_round_refuse_bad_input(backend):
    x = tucker.hosvd(backend.asarray(np.ones((3, 4, 5))), ranks=1)
    with pytest.raises(tnlib.ArgumentError, match="TuckerTensor \\+: expected a TuckerTensor"):
        x + 1.0
    with pytest.raises(tnlib.ShapeError, match=r"shapes differ, \(3, 4, 5\) and \(3, 4, 6\)"):
        x - tucker.hosvd(backend.asarray(np.ones((3, 4, 6))), ranks=1)
    with pytest.raises(tnlib.ArgumentError, match="dtypes differ, float64 and complex128"):
        x + x.to(dtype="complex128")
    with pytest.raises(tnlib.ArgumentError, match="TuckerTensor.round: eps=2 .* max_rank="):
        x.round(2)
    # a non-finite part was named by the inner HOSVD ("hosvd: a holds non-finite values")
    core = np_of(x.core).copy()
    core[0, 0, 0] = np.nan
    bad = tucker.TuckerTensor(backend.asarray(core), list(x.factors))
    with pytest.raises(tnlib.ArgumentError, match=r"^TuckerTensor.round: the core holds "
                                                  r"non-finite values \(nan"):
        (bad + bad).round(max_rank=1)


def test_round_of_wide_sums_and_of_factors_far_from_unit_scale(backend):
    # ranks past the mode sizes (a sum of two rank-4 tensors of a mode of size 5: wide
    # QR factors), and a core of 1e-250 with factors of 1e100 (entries of 1e50)
    rng = np.random.default_rng(6)
    a = backend.asarray(rng.standard_normal((5, 6, 7)))
    x = tucker.hosvd(a, ranks=4)
    s = x + 0.5 * x
    assert s.ranks == (8, 8, 8)
    y = s.round(1e-10)
    assert y.ranks == x.ranks and rel_error(y.full(), 1.5 * np_of(x)) < 1e-12
    far = tucker.TuckerTensor(x.core * 1e-250, [f * 1e100 for f in x.factors])
    z = (far + far).round(1e-10)
    assert z.ranks == x.ranks
    assert rel_error(z.full() / 1e50, 2 * np_of(x)) < 1e-12
