"""Every contract method on every backend, against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, on

DTYPES = ["float32", "float64", "complex128"]
TOL = {"float32": 2e-5, "float64": 1e-12, "complex64": 2e-5, "complex128": 1e-12}


def rand(shape, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def close(x, ref, dtype="float64"):
    np.testing.assert_allclose(tnlib.to_numpy(x), ref, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)


# ---------------------------------------------------------------- conversion
@pytest.mark.parametrize("dtype", DTYPES + ["int64"])
def test_asarray_round_trip_keeps_dtype(backend, dtype):
    a = rand((3, 4), "float64").astype(dtype)
    x = backend.asarray(a)
    assert backend.is_array(x)
    assert backend.dtype_name(x) == dtype
    assert backend.shape(x) == (3, 4)
    np.testing.assert_array_equal(backend.to_numpy(x), a)
    assert tnlib.backend_of(x) is backend


def test_python_floats_become_float64(backend):
    x = tnlib.tensor([[1.0, 2.0], [3.0, 4.0]], backend=backend)
    assert backend.dtype_name(x) == "float64"
    i = tnlib.tensor([1, 2, 3], backend=backend)
    assert backend.dtype_name(i) == "int64"


@pytest.mark.parametrize("dtype", DTYPES)
def test_astype_and_dtype_strings(backend, dtype):
    x = backend.astype(on(backend, rand((2, 2))), dtype)
    assert backend.dtype_name(x) == dtype
    assert backend.dtype_name(backend.resolve_dtype(dtype)) == dtype
    # the framework's own dtype object is accepted too
    assert backend.dtype_name(backend.resolve_dtype(backend.dtype(x))) == dtype


def test_conversion_between_backends(backend):
    a = rand((2, 3))
    x = tnlib.tensor(a, backend=backend)
    back = tnlib.tensor(x, backend="numpy")
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, a)
    np.testing.assert_array_equal(tnlib.to_numpy(x), a)


def test_item_and_shape_helpers(backend):
    x = on(backend, rand((2, 3, 4)))
    assert backend.ndim(x) == 3 and backend.size(x) == 24
    assert backend.item(backend.sum(on(backend, np.ones(4)))) == 4.0


# ------------------------------------------------------------------ creation
def test_creation_defaults_to_float64(backend):
    for arr in (backend.zeros((2, 3)), backend.ones((2, 3)), backend.eye(3),
                backend.full((2,), 7.0), backend.random_normal((2, 2), seed=1)):
        assert backend.dtype_name(arr) == "float64"
    close(backend.eye(2, 3), np.eye(2, 3))
    close(backend.full((2,), 7.0), np.full(2, 7.0))
    assert backend.dtype_name(backend.arange(4)) == "int64"
    close(backend.arange(1, 7, 2), np.arange(1, 7, 2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_normal_same_numbers_everywhere(backend, dtype):
    x = backend.random_normal((3, 4), seed=42, dtype=dtype)
    ref = tnlib.backends.get("numpy").random_normal((3, 4), seed=42, dtype=dtype)
    assert backend.dtype_name(x) == dtype
    np.testing.assert_array_equal(backend.to_numpy(x), ref)
    u = backend.random_uniform((5,), seed=3, low=-1.0, high=1.0)
    np.testing.assert_array_equal(backend.to_numpy(u), np.random.default_rng(3).uniform(-1, 1, 5))


def test_like_constructors(backend):
    x = on(backend, rand((2, 3), "complex128"))
    for y, val in ((backend.zeros_like(x), 0), (backend.ones_like(x), 1)):
        assert_like(y, x)
        close(y, np.full((2, 3), val), "complex128")


# -------------------------------------------------------------------- layout
def test_layout_operations(backend):
    a = rand((2, 3, 4))
    x = on(backend, a)
    close(backend.reshape(x, (6, 4)), a.reshape(6, 4))
    close(backend.transpose(x, (2, 0, 1)), a.transpose(2, 0, 1))
    close(backend.transpose(x), a.transpose())
    close(backend.moveaxis(x, 0, 2), np.moveaxis(a, 0, 2))
    close(backend.concatenate([x, x], axis=1), np.concatenate([a, a], axis=1))
    close(backend.stack([x, x], axis=0), np.stack([a, a]))
    close(backend.flip(x, 1), np.flip(a, 1))
    close(backend.squeeze(backend.expand_dims(x, 1), 1), a)
    close(backend.broadcast_to(on(backend, a[:1]), (2, 3, 4)), np.broadcast_to(a[:1], (2, 3, 4)))
    close(backend.copy(x), a)
    close(x[1, :, 1:3], a[1, :, 1:3])
    close(x[..., None], a[..., None])


def test_diag_tril_triu(backend):
    m = rand((4, 4))
    x = on(backend, m)
    close(backend.diag(x), np.diag(m))
    close(backend.diag(backend.diag(x)), np.diag(np.diag(m)))
    close(backend.tril(x), np.tril(m))
    close(backend.triu(x, 1), np.triu(m, 1))


def test_take_and_take_along_axis(backend):
    a = rand((5, 4))
    x = on(backend, a)
    idx = np.array([[4, 0], [2, 2]])
    close(backend.take(x, on(backend, idx), axis=0), np.take(a, idx, axis=0))
    close(backend.take(x, on(backend, np.array([3, 1])), axis=1), a[:, [3, 1]])
    sel = np.array([[1], [0], [3], [2], [0]])
    close(backend.take_along_axis(x, on(backend, sel), axis=1), np.take_along_axis(a, sel, 1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_segment_sum(backend, dtype):
    a = rand((7, 2, 3), dtype)
    ids = np.array([3, 0, 3, 1, 0, 3, 1])
    got = backend.segment_sum(on(backend, a), on(backend, ids), 5)
    ref = np.zeros((5, 2, 3), dtype=dtype)
    np.add.at(ref, ids, a)
    assert_like(got, on(backend, a))
    close(got, ref, dtype)


def test_index_update_is_functional(backend):
    a = rand((4, 3))
    x = on(backend, a)
    y = backend.index_update(x, (slice(1, 3), 0), on(backend, np.array([7.0, 8.0])))
    ref = a.copy()
    ref[1:3, 0] = [7.0, 8.0]
    close(y, ref)
    close(x, a)  # untouched
    z = backend.index_update(x, on(backend, np.array([0, 2])), 0.0)
    ref = a.copy()
    ref[[0, 2]] = 0.0
    close(z, ref)
    w = backend.index_add(x, on(backend, np.array([1, 1, 3])), on(backend, np.ones((3, 3))))
    ref = a.copy()
    np.add.at(ref, [1, 1, 3], np.ones((3, 3)))
    close(w, ref)


@pytest.mark.parametrize("reuse", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_index_update_stores_a_quotient(backend, reuse, dtype):
    # out[index] = values / divisor: written straight into a row where the array is reused
    a, v = rand((4, 3), dtype), rand((3,), dtype)
    divisor = np.array(2.5, dtype=dtype)
    for index in (2, (slice(1, 3), 0), np.array([0, 3])):
        x = on(backend, a)
        values = v[:2] if isinstance(index, tuple) else v
        y = backend.index_update(x, index if not isinstance(index, np.ndarray) else on(
            backend, index), on(backend, values), reuse=reuse, divisor=on(backend, divisor))
        ref = a.copy()
        ref[index] = values / divisor
        assert_like(y, x)
        close(y, ref, dtype)
        if not reuse:
            close(x, a, dtype)  # untouched


def test_index_update_reuse_gives_the_same_values_and_keeps_gradients(ad_backend):
    xp = ad_backend
    a = rand((4, 3))
    y = xp.index_update(on(xp, a), 2, on(xp, np.arange(3.0)), reuse=True)
    ref = a.copy()
    ref[2] = np.arange(3.0)
    close(y, ref)
    x = on(xp, a)  # gradients: reuse must fall back to a copy where autodiff records

    def f(v):
        basis = xp.index_update(x * 1.0, 0, v, reuse=True)
        basis = xp.index_update(basis, 1, 2.0 * xp.matmul(basis, v)[:3], reuse=True)
        return xp.sum(basis * basis)

    v = on(xp, np.array([1.0, -2.0, 0.5]))
    g = tnlib.to_numpy(xp.grad(f)(v))
    vv = np.array([1.0, -2.0, 0.5])
    rows = np.vstack([vv, a[1:]])

    def ref_f(w):
        r0 = rows.copy()
        r0[0] = w
        r1 = r0.copy()
        r1[1] = 2.0 * (r0 @ w)[:3]
        return np.sum(r1 * r1)

    eps = 1e-6
    num = np.array([(ref_f(vv + eps * e) - ref_f(vv - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(g, num, rtol=1e-6)


def test_index_update_quotient_keeps_gradients(ad_backend):
    # the in-place quotient falls back to a recorded division where autodiff records
    xp = ad_backend
    a = rand((4, 3))
    x = on(xp, a)

    def f(v):
        basis = xp.index_update(x * 1.0, 1, v, reuse=True, divisor=xp.norm(v))
        return xp.sum(basis * on(xp, a))

    vv = np.array([1.0, -2.0, 0.5])
    g = tnlib.to_numpy(xp.grad(f)(on(xp, vv)))
    n = np.linalg.norm(vv)
    np.testing.assert_allclose(g, a[1] / n - vv * (a[1] @ vv) / n**3, rtol=1e-12)


def test_where_sort_argsort(backend):
    a = np.array([3.0, -1.0, 2.0, -1.0])
    x = on(backend, a)
    close(backend.where(x > 0, x, 0.0), np.where(a > 0, a, 0.0))
    close(backend.sort(x), np.sort(a))
    np.testing.assert_array_equal(tnlib.to_numpy(backend.argsort(x)), np.argsort(a, kind="stable"))


# ---------------------------------------------------------------- elementwise
@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise(backend, dtype):
    a = rand((3, 3), dtype) + (2.0 if dtype.startswith("float") else 0)
    a = np.abs(a).astype(dtype) if dtype.startswith("float") else a
    x = on(backend, a)
    for name in ("abs", "sqrt", "exp", "log", "sin", "cos", "sign", "conj", "real", "imag"):
        got = getattr(backend, name)(x)
        close(got, getattr(np, name)(a), dtype)
    assert backend.dtype_name(backend.abs(x)) == ("float64" if dtype == "complex128" else dtype)
    assert tnlib.to_numpy(backend.all(backend.isfinite(x)))


def test_minmax_clip(backend):
    a = rand((3, 4))
    x = on(backend, a)
    close(backend.maximum(x, 0.0), np.maximum(a, 0))
    close(backend.minimum(x, on(backend, a * 0)), np.minimum(a, 0))
    close(backend.clip(x, -0.5, 0.5), np.clip(a, -0.5, 0.5))
    bad = on(backend, np.array([1.0, np.nan, np.inf]))
    np.testing.assert_array_equal(tnlib.to_numpy(backend.isfinite(bad)), [True, False, False])


# ----------------------------------------------------------------- reductions
def test_reductions(backend):
    a = rand((3, 4))
    x = on(backend, a)
    close(backend.sum(x), a.sum())
    close(backend.sum(x, axis=1), a.sum(1))
    close(backend.sum(x, axis=0, keepdims=True), a.sum(0, keepdims=True))
    close(backend.prod(x, axis=0), a.prod(0))
    close(backend.max(x), a.max())
    close(backend.min(x, axis=1), a.min(1))
    close(backend.mean(x), a.mean())
    assert int(tnlib.to_numpy(backend.argmax(x))) == int(np.argmax(a))
    assert int(tnlib.to_numpy(backend.argmin(x))) == int(np.argmin(a))
    close(backend.norm(x), np.linalg.norm(a))
    close(backend.norm(x, axis=1), np.linalg.norm(a, axis=1))
    close(backend.cumsum(x, axis=1), np.cumsum(a, 1))
    assert bool(tnlib.to_numpy(backend.any(x > 0)))
    assert backend.shape(backend.sum(x)) == ()  # 0-d native array, not a float


def test_norm_of_complex_is_real(backend):
    x = on(backend, rand((3, 3), "complex128"))
    n = backend.norm(x)
    assert backend.dtype_name(n) == "float64"
    close(n, np.linalg.norm(tnlib.to_numpy(x)))


# ---------------------------------------------------------------- contraction
@pytest.mark.parametrize("dtype", DTYPES)
def test_einsum_tensordot_matmul(backend, dtype):
    a, b, c = rand((3, 4, 5), dtype, 1), rand((5, 6), dtype, 2), rand((6, 3), dtype, 3)
    x, y, z = (on(backend, t) for t in (a, b, c))
    close(backend.einsum("ijk,kl,li->j", x, y, z), np.einsum("ijk,kl,li->j", a, b, c), dtype)
    close(backend.einsum("ijk,kl,li->j", x, y, z), np.einsum("ijk,kl,li->j", a, b, c), dtype)
    close(backend.tensordot(x, y, axes=1), np.tensordot(a, b, axes=1), dtype)
    close(backend.matmul(y, z), b @ c, dtype)
    close(backend.kron(y, z), np.kron(b, c), dtype)
    assert_like(backend.einsum("ij,jk->ik", y, z), y)
    # s @ b with b stored in both layouts, long (tall b) and short (wide b) contractions
    for k, n in ((40, 6), (6, 40)):
        s, m = rand((3, k), dtype, 4), rand((k, n), dtype, 5)
        out = backend.matmul_wide(on(backend, s), on(backend, m), on(backend, m.T.copy()))
        close(out, s @ m, dtype)
        assert_like(out, y)
    # c - a @ b: a vector and a matrix b, and a transposed (strided) a, as Gram-Schmidt has
    for bshape in ((5,), (5, 2)):
        m, v = rand((4, 5), dtype, 6), rand(bshape, dtype, 7)
        c = rand((4,) + bshape[1:], dtype, 8)
        out = backend.matmul_sub(on(backend, c), on(backend, m), on(backend, v))
        close(out, c - m @ v, dtype)
        assert_like(out, y)
        mt = backend.transpose(on(backend, m.T.copy()))
        close(backend.matmul_sub(on(backend, c), mt, on(backend, v)), c - m @ v, dtype)


# ------------------------------------------------------------- linear algebra
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 4), (4, 6)])
def test_svd_reduced(backend, dtype, shape):
    a = rand(shape, dtype)
    u, s, vh = backend.svd(on(backend, a))
    k = min(shape)
    assert backend.shape(u) == (shape[0], k) and backend.shape(vh) == (k, shape[1])
    assert backend.dtype_name(s) == ("float64" if dtype != "float32" else "float32")
    close(u @ (backend.astype(s, backend.dtype(u))[:, None] * vh), a, dtype)
    close(s, np.linalg.svd(a, compute_uv=False), dtype)


def test_svd_rank_deficient(backend):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((8, 2)) @ rng.standard_normal((2, 6))
    u, s, vh = backend.svd(on(backend, a))
    s = tnlib.to_numpy(s)
    assert np.all(s[2:] < 1e-12 * s[0])
    close(u @ (on(backend, s)[:, None] * vh), a)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7, 4), (4, 7), (5, 5)])
def test_qr_sign_convention_tall_and_wide(backend, dtype, shape):
    a = rand(shape, dtype)
    q, r = backend.qr(on(backend, a))
    k = min(shape)
    assert backend.shape(q) == (shape[0], k) and backend.shape(r) == (k, shape[1])
    _qn, rn = tnlib.to_numpy(q), tnlib.to_numpy(r)
    d = np.diag(rn)
    assert np.all(np.abs(d.imag) < 1e-6) and np.all(d.real >= 0)
    np.testing.assert_allclose(np.tril(rn, -1), 0, atol=1e-12)
    close(q @ r, a, dtype)
    close(backend.conj(backend.transpose(q)) @ q, np.eye(k), dtype)
    # same factors as NumPy after its signs are fixed the same way
    qr_ref, rr_ref = np.linalg.qr(a)
    phase = np.diag(rr_ref) / np.abs(np.diag(rr_ref))
    close(r, np.conj(phase)[:, None] * rr_ref, dtype)
    # signs=False: some orthonormal q and triangular r with q r = a, the same up to signs
    q, r = backend.qr(on(backend, a), signs=False)
    rn = tnlib.to_numpy(r)
    np.testing.assert_allclose(np.tril(rn, -1), 0, atol=1e-12)
    close(q @ r, a, dtype)
    close(backend.conj(backend.transpose(q)) @ q, np.eye(k), dtype)
    close(backend.abs(r), np.abs(rr_ref), dtype)
    close(backend.qr(on(backend, a), mode="r"), np.conj(phase)[:, None] * rr_ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_eigh_ascending(backend, dtype):
    a = rand((5, 5), dtype)
    h = a + np.conj(a.T)
    w, v = backend.eigh(on(backend, h))
    wn = tnlib.to_numpy(w)
    assert np.all(np.diff(wn) >= 0)
    close(w, np.linalg.eigvalsh(h), dtype)
    close(v @ (backend.astype(w, backend.dtype(v))[:, None] * backend.conj(backend.transpose(v))),
          h, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_solve_lstsq_triangular_cholesky(backend, dtype):
    a = (rand((5, 5), dtype) + 5 * np.eye(5)).astype(dtype)
    b, bm = rand((5,), dtype, 1), rand((5, 3), dtype, 2)
    x = on(backend, a)
    close(backend.solve(x, on(backend, b)), np.linalg.solve(a, b), dtype)
    close(backend.solve(x, on(backend, bm)), np.linalg.solve(a, bm), dtype)
    close(backend.solve(x, on(backend, bm), check=False), np.linalg.solve(a, bm), dtype)
    tall = rand((8, 3), dtype, 3)
    close(backend.lstsq(on(backend, tall), on(backend, bm[:, :2].repeat(2, 0)[:8])),
          np.linalg.lstsq(tall, bm[:, :2].repeat(2, 0)[:8], rcond=None)[0], dtype)
    up = np.triu(a)
    close(backend.solve_triangular(on(backend, up), on(backend, bm)), np.linalg.solve(up, bm),
          dtype)
    lo = np.tril(a)
    close(backend.solve_triangular(on(backend, lo), on(backend, b), lower=True),
          np.linalg.solve(lo, b), dtype)
    spd = (a @ np.conj(a.T)).astype(dtype)
    c = backend.cholesky(on(backend, spd))
    close(c @ backend.conj(backend.transpose(c)), spd, dtype)
    close(backend.inv(x), np.linalg.inv(a), dtype)
    close(backend.pinv(on(backend, tall)), np.linalg.pinv(tall), dtype)


def test_expm(backend):
    from scipy.linalg import expm

    a = rand((6, 6)) * 2
    close(backend.expm(on(backend, a)), expm(a))
    h = rand((4, 4), "complex128")
    h = -1j * (h + np.conj(h.T))
    close(backend.expm(on(backend, h)), expm(h), "complex128")
