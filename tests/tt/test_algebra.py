"""TT algebra against dense NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt

SHAPE = (3, 4, 2, 3)


@pytest.fixture
def pair(backend):
    x = tt.random(SHAPE, (2, 3, 2), seed=0, backend=backend)
    y = tt.random(SHAPE, 2, seed=1, backend=backend)
    return x, y, np_of(x), np_of(y)


def test_linear_combinations(pair):
    x, y, a, b = pair
    for got, ref in [(x + y, a + b), (x - y, a - b), (-x, -a), (2.5 * x, 2.5 * a),
                     (x * 2.5, 2.5 * a), (x / 4.0, a / 4.0), (x + 1.5, a + 1.5),
                     (1.5 - x, 1.5 - a)]:
        assert_like(got, x)
        assert rel_error(got, ref) < 1e-12
    assert (x + y).ranks == (1, 4, 5, 4, 1)


def test_scalar_array_scaling(pair, backend):
    x, _, a, _ = pair
    c = backend.asarray(np.array(3.0))
    assert rel_error(x * c, 3 * a) < 1e-12
    # a 0-d array of another dtype takes the train's (NumPy would promote the first core
    # of a float32 train to float64, TensorFlow refuses a real factor of a complex train)
    for dtype in ("float32", "complex128"):
        xd = x.to(dtype=dtype)
        got = xd * c
        assert rel_error(got, 3 * a) < (1e-5 if dtype == "float32" else 1e-12)
        assert_like(got.cores[0], xd.cores[0])


def test_hadamard(pair):
    x, y, a, b = pair
    z = x * y
    assert_like(z, x)
    assert z.ranks == (1, 4, 6, 4, 1)
    assert rel_error(z, a * b) < 1e-12


def test_dot_norm_sum(pair, backend):
    x, y, a, b = pair
    for got, ref in [(tt.dot(x, y), np.sum(a * b)), (x.dot(y), np.sum(a * b)),
                     (x.norm(), np.linalg.norm(a)), (tt.norm(y), np.linalg.norm(b)),
                     (x.sum(), a.sum()), (tt.sum(y), b.sum())]:
        assert backend.shape(got) == ()
        assert abs(float(tnlib.to_numpy(got)) - ref) <= 1e-12 * max(1.0, abs(ref))
    assert backend.dtype_name(x.norm()) == "float64"


def test_conj_conjugates_every_entry(backend):
    x = tt.random((3, 4, 2), 2, seed=0, dtype="complex128", backend=backend)
    y = x.conj()
    assert_like(y, x)
    np.testing.assert_allclose(np_of(y), np.conj(np_of(x)), atol=1e-14)
    assert complex(np_of(tt.dot(y, x))) == pytest.approx(np.sum(np_of(x) ** 2), rel=1e-12)
    real = tt.random((3, 4, 2), 2, seed=0, backend=backend)
    assert real.conj() is real


def test_complex_dot_conjugates_first_argument(backend):
    x = tt.random((3, 3), 2, seed=0, dtype="complex128", backend=backend)
    y = tt.random((3, 3), 2, seed=1, dtype="complex128", backend=backend)
    got = complex(tnlib.to_numpy(tt.dot(x, y)))
    assert abs(got - np.vdot(np_of(x), np_of(y))) < 1e-12 * abs(got)
    n = x.norm()
    assert backend.dtype_name(n) == "float64"
    assert abs(float(tnlib.to_numpy(n)) - np.linalg.norm(np_of(x))) < 1e-12 * float(
        tnlib.to_numpy(n))


def test_kron(backend):
    x = tt.random((2, 3), 2, seed=0, backend=backend)
    y = tt.random((4,), 1, seed=1, backend=backend)
    z = tt.kron(x, y)
    assert z.shape == (2, 3, 4)
    assert rel_error(z, np.multiply.outer(np_of(x), np_of(y))) < 1e-12
    # operators: A ⊗ B on the joined modes, NumPy's kron of the dense matrices
    rng = np.random.default_rng(0)
    a = tt.TTMatrix([backend.asarray(rng.standard_normal((1, 2, 3, 1)))])
    b = tt.tt_matrix(backend.asarray(rng.standard_normal((6, 4))), (2, 3), (2, 2))
    ab = tt.kron(a, b)
    assert isinstance(ab, tt.TTMatrix) and ab.row_shape == (2, 2, 3)
    assert ab.col_shape == (3, 2, 2)
    assert rel_error(ab.full(), np.kron(np_of(a.full()), np_of(b.full()))) < 1e-12
    with pytest.raises(tnlib.ArgumentError, match="must be TTTensors or both TTMatrices, got "
                                                  "TTTensor and TTMatrix"):
        tt.kron(x, a)


def test_mismatches_are_rejected(backend):
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    with pytest.raises(tnlib.ShapeError, match=r"shapes differ, \(3, 4\) and \(4, 3\)"):
        x + tt.random((4, 3), 2, seed=0, backend=backend)
    with pytest.raises(tnlib.ShapeError, match="shapes differ"):
        tt.dot(x, tt.ones((3, 5), backend=backend))
    with pytest.raises(tnlib.TnlibError, match="dtypes differ"):
        x + x.to(dtype="float32")


def test_evaluate_many_points_grouped(backend):
    x = tt.random((5, 4, 6, 3), 3, seed=3, backend=backend)
    dense = np_of(x)
    idx = np.random.default_rng(0).integers(0, [5, 4, 6, 3], size=(500, 4))
    got = x.evaluate(idx)
    assert_like(got, x.cores[0])
    np.testing.assert_allclose(tnlib.to_numpy(got), dense[tuple(idx.T)], rtol=1e-12, atol=1e-12)


def test_evaluate_few_points_and_native_index(backend):
    x = tt.random((5, 4, 6), 2, seed=3, backend=backend)
    idx = np.array([[4, 3, 5], [0, 0, 0], [2, 1, 3]])
    got = tt.evaluate(x, backend.asarray(idx))
    np.testing.assert_allclose(tnlib.to_numpy(got), np_of(x)[tuple(idx.T)], rtol=1e-12)
    assert backend.shape(x.evaluate(np.zeros((0, 3), dtype=int))) == (0,)


def test_evaluate_rejects_bad_indices(backend):
    x = tt.random((5, 4), 2, seed=3, backend=backend)
    with pytest.raises(tnlib.ShapeError, match=r"idx\[1, 1\] = 4 is out of range for mode 1"):
        x.evaluate(np.array([[0, 0], [1, 4]]))
    with pytest.raises(tnlib.ShapeError, match=r"shape \(N, 2\)"):
        x.evaluate(np.zeros((3, 3), dtype=int))
    with pytest.raises(tnlib.ShapeError, match="integer"):
        x.evaluate(np.zeros((3, 2)))


def test_evaluate_of_indices_on_a_device(backend, monkeypatch):
    # on an accelerator the indices stay where they are (faked here): same entries, same
    # errors, and cores of extreme scale still multiply safely
    from tnlib.backends import host_execution

    monkeypatch.setattr(backend, "reads_synchronize", lambda a: True)
    x = tt.random((5, 4, 70, 3), 3, seed=3, backend=backend)  # 70 > 64: the slice gather
    idx = np.random.default_rng(0).integers(0, [5, 4, 70, 3], size=(300, 4))
    with host_execution(False):
        got = x.evaluate(backend.asarray(idx))
        assert_like(got, x.cores[0])
        np.testing.assert_allclose(tnlib.to_numpy(got), np_of(x)[tuple(idx.T)], rtol=1e-12)
        huge = tt.TTTensor([c * s for c, s in zip(x.cores, (2.0**900, 2.0**900, 2.0**-900,
                                                                 2.0**-900))])
        np.testing.assert_allclose(tnlib.to_numpy(huge.evaluate(backend.asarray(idx))),
                                   tnlib.to_numpy(got), rtol=1e-12)
        assert backend.shape(x.evaluate(backend.asarray(np.zeros((0, 4), dtype=int)))) == (0,)
        with pytest.raises(tnlib.ShapeError, match=r"idx\[1, 2\] = 70 is out of range"):
            x.evaluate(backend.asarray(np.array([[0, 0, 0, 0], [1, 1, 70, 0]])))
        with pytest.raises(tnlib.ShapeError, match="integer"):
            x.evaluate(backend.asarray(np.zeros((3, 4))))


def test_long_trains_neither_overflow_nor_underflow(backend):
    x = tt.ones((2,) * 1000, backend=backend)
    assert abs(float(tnlib.to_numpy(x.norm())) / 2.0**500 - 1) < 1e-10
    tiny = tt.ones((2,) * 1000, backend=backend) * 1e-100
    assert abs(float(tnlib.to_numpy(tiny.norm())) / (1e-100 * 2.0**500) - 1) < 1e-10


def _long_pair(backend, complex_=False):
    # runs of equal square cores broken by a rank change, odd and even run lengths
    x = tt.random((2,) * 41, [2, 3, 3, 3, 1, 3, 3, 3, 3, 3, 2] + [3] * 28 + [2], seed=5,
                  backend=backend)
    y = tt.random((2,) * 41, 2, seed=6, backend=backend)
    if complex_:
        x, y = x.to(dtype="complex128") * (1 + 2j), y.to(dtype="complex128") * (2 - 1j)
    return x, y


@pytest.mark.parametrize("complex_", [False, True])
def test_dot_and_norm_by_the_tree_on_a_device(backend, monkeypatch, complex_):
    # on an accelerator (faked here) a long train of small ranks is contracted as a tree of
    # transfer matrices, not core by core: the values of the host sweep, on the backend
    from tnlib.backends import host_execution
    from tnlib.tt import _gram

    x, y = _long_pair(backend, complex_)
    huge = tt.TTTensor([c * 2.0**(700 if k % 2 else -650) for k, c in enumerate(x.cores)])
    want = [complex(tnlib.to_numpy(v)) for v in (tt.dot(x, y), x.norm(), tt.log_norm(huge))]
    assert backend.launch_flops(x.cores[0]) == 0.0  # the host keeps the sweep
    assert not _gram._tree_pays(x.cores, y.cores, backend)
    monkeypatch.setattr(backend, "reads_synchronize", lambda a: True)
    assert _gram._tree_pays(x.cores, y.cores, backend)
    long = tt.random((2,) * 1000, 20, seed=0, backend=backend).cores  # 2^28 entries: sweep
    assert not _gram._tree_pays(long, long, backend)
    with host_execution(False):
        got = [tt.dot(x, y), x.norm(), tt.log_norm(huge)]  # huge: the balanced retry
    for g, w in zip(got, want):
        assert abs(complex(tnlib.to_numpy(g)) - w) < 1e-12 * abs(w)
    assert_like(got[0], x.cores[0])
    assert_like(got[1], x.cores[0], dtype="float64")
    ones = tt.ones((16,) * 300, backend=backend) * 1e-100  # one run; <x, x> = 2^1200 1e-200
    with host_execution(False):
        assert abs(float(tnlib.to_numpy(ones.norm())) / (1e-100 * 2.0**600) - 1) < 1e-10


def test_gradient_of_the_tree_matches_the_sweep(ad_backend, monkeypatch):
    from tnlib.backends import host_execution
    from tnlib.tt import _gram

    xp = ad_backend
    x = tt.random((2,) * 24, [2] + [3] * 21 + [2], seed=5, backend=xp)
    y = tt.random((2,) * 24, 2, seed=6, backend=xp)

    def loss(c):
        z = tt.TTTensor([*x.cores[:7], c, *x.cores[8:]])
        return tt.dot(z, y) + z.norm() ** 2

    want = tnlib.to_numpy(xp.grad(loss)(x.cores[7]))
    monkeypatch.setattr(xp, "reads_synchronize", lambda a: True)
    assert _gram._tree_pays(x.cores, y.cores, xp)
    with host_execution(False):
        got = xp.grad(loss)(x.cores[7])
    assert_like(got, x.cores[7])
    np.testing.assert_allclose(tnlib.to_numpy(got), want, rtol=1e-11,
                               atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("dtype", ["float32", "complex64", "float64", "complex128"])
def test_norms_have_the_real_dtype_of_the_cores(backend, dtype):
    """float32 trains had float64 norms on NumPy and torch (the scale's exp of a Python
    float was float64 and promoted the product)."""
    x = tt.random((4, 5, 3), 3, seed=0, dtype=dtype, backend=backend)
    real = {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)
    for value in (x.norm(), tt.norm(x), tt.log_norm(x)):
        assert backend.dtype_name(value) == real
    assert backend.dtype_name(x.dot(x)) == dtype


@pytest.mark.parametrize("gap", [1e-6, 1e-10, 1e-13])
def test_norm_of_a_difference_of_close_trains_is_accurate(backend, gap):
    # the Gram sweep of x - y cancels: its norm was right only to sqrt(u) ‖x‖ (5x off at a
    # gap of 1e-8, 5e4x at 1e-12); the QR sweep it now falls back to is right to u ‖x‖
    x = tt.random((6,) * 6, 5, seed=0, backend=backend)
    z = tt.random((6,) * 6, 3, seed=1, backend=backend)
    y = x + gap * z
    truth = gap * float(tnlib.to_numpy(z.norm()))
    d = x - y
    tol = 1e-15 * float(tnlib.to_numpy(x.norm())) / truth + 1e-12
    got = d.norm()
    assert_like(got, x.cores[0])
    assert abs(float(tnlib.to_numpy(got)) / truth - 1) < tol
    assert abs(float(np.exp(tnlib.to_numpy(tt.log_norm(d)))) / truth - 1) < tol
    assert abs(float(tnlib.to_numpy(tt.dot(d, d))) / truth**2 - 1) < 2 * tol
    # a norm without cancellation keeps the Gram sweep's value
    assert rel_error(x.norm(), np.linalg.norm(np_of(x))) < 1e-13


def test_norm_of_a_cancelling_difference_on_a_device(backend, monkeypatch):
    from tnlib.backends import host_execution

    x, z = (tt.random((2,) * 41, r, seed=r, backend=backend) for r in (3, 2))
    x, z = x / x.norm(), z / z.norm()
    d = x - (x + 1e-11 * z)  # ‖d‖ = 1e-11 ‖x‖
    truth = 1e-11
    monkeypatch.setattr(backend, "reads_synchronize", lambda a: True)
    for tree in (True, False):  # the tree of transfer matrices, and the sweep
        monkeypatch.setattr(backend, "launch_flops", lambda a, t=tree: 2e8 if t else 0.0)
        with host_execution(False):
            got = d.norm()
        assert_like(got, x.cores[0])
        assert abs(float(tnlib.to_numpy(got)) / truth - 1) < 1e-4


def test_sum_of_trains_whose_scales_sit_on_different_cores(backend):
    # x * 2^600 puts the factor on one core, y spreads its own over all: the sum's blocks
    # met at scales 2^600 apart, and its norm and rounding lost y (rounding gave 1e135)
    x = tt.random((4, 5, 6, 5), 3, seed=0, backend=backend)
    y = tt.TTTensor([c * 2.0**150 for c in tt.random((4, 5, 6, 5), 2, seed=1,
                                                     backend=backend).cores])
    s = x * 2.0**600 - y
    want = np_of(x) * 2.0**600 - np_of(y)
    assert_like(s, x)
    assert rel_error(np_of(s) / 2.0**600, want / 2.0**600) < 1e-13
    for norm in (s.norm(), s.round(1e-12).norm()):
        assert abs(float(tnlib.to_numpy(norm)) / np.linalg.norm(want / 2.0**600) / 2.0**600
                   - 1) < 1e-12
    x2 = x * 2.0**600
    close = x2 - tt.TTTensor([c * 2.0**150 for c in x.cores])  # = 0, spread differently
    assert float(tnlib.to_numpy(close.norm())) < 1e-13 * 2.0**600 * np.linalg.norm(np_of(x))


def test_gradient_of_a_vanishing_difference_is_finite(ad_backend):
    # at the optimum of ‖x - a‖^2 the difference cancels; under autodiff the norm keeps the
    # Gram sweep (whose derivative is 2 (x - a)), not the QR sweep of a rank-deficient train
    xp = ad_backend
    a = tt.random((4,) * 5, 3, seed=7, backend=xp)

    def loss(c):
        return 0.5 * tt.norm(tt.TTTensor([c, *a.cores[1:]]) - a) ** 2

    rest = np.eye(3)  # the other cores contracted: (rank, the other modes)
    for core in a.cores[1:]:
        rest = np.tensordot(rest, tnlib.to_numpy(core), axes=(-1, 0))
    rest = rest.reshape(3, -1)
    for shift in (0.0, 1e-9):
        g = tnlib.to_numpy(xp.grad(loss)(a.cores[0] + shift))
        want = shift * np.ones((1, 4, 3)) @ (rest @ rest.T)  # (c - a_0) M M^T
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-12 * np.abs(rest @ rest.T).max())


@pytest.mark.parametrize("device_path", [False, True])
def test_sum_beyond_the_float_range(backend, monkeypatch, device_path):
    # sum of 2^2000 was inf with NumPy's "overflow encountered" (on a device the running
    # product overflowed too), 1e-1200 a silent 0: now as dot, a PrecisionWarning and log=
    from tnlib.backends import host_execution

    if device_path:
        monkeypatch.setattr(backend, "reads_synchronize", lambda a: True)
    x = tt.random((3, 4, 5), 2, seed=0, backend=backend)
    big = -tt.ones((16,) * 260, backend=backend)  # -2^1040
    tiny = tt.TTTensor([c * 1e-3 for c in tt.ones((2,) * 120, backend=backend).cores])
    cplx = tt.TTTensor([c * (1 + 1j) for c in tt.ones((16,) * 240, dtype="complex128",
                                                     backend=backend).cores])
    with host_execution(not device_path):
        s = x.sum()
        assert_like(s, x.cores[0])
        assert float(tnlib.to_numpy(s)) == pytest.approx(np_of(x).sum(), rel=1e-12)
        sign, logabs = tt.sum(big, log=True)
        assert float(tnlib.to_numpy(sign)) == -1.0
        assert float(tnlib.to_numpy(logabs)) == pytest.approx(1040 * np.log(2), rel=1e-12)
        sign, logabs = tiny.sum(log=True)
        assert float(tnlib.to_numpy(logabs)) == pytest.approx(120 * np.log(2e-3), rel=1e-12)
        sign, logabs = tt.sum(cplx, log=True)  # (16 + 16j)^240 = 2^1080 e^{i 60 pi}
        assert complex(tnlib.to_numpy(sign)) == pytest.approx(1.0, abs=1e-9)
        assert float(tnlib.to_numpy(logabs)) == pytest.approx(1080 * np.log(2), rel=1e-12)
        if backend.free_reads:  # the warning reads the value: eager host arrays only
            with pytest.warns(tnlib.PrecisionWarning, match=r"sum: the value exceeds the "
                                                            r"range of float64; tt.sum"):
                assert np.isinf(float(tnlib.to_numpy(big.sum())))
            with pytest.warns(tnlib.PrecisionWarning, match="below the range of float64"):
                assert float(tnlib.to_numpy(tiny.sum())) == 0.0
    with pytest.raises(tnlib.ArgumentError, match="sum: log must be True or False"):
        x.sum(log="yes")
