"""tt.toeplitz, tt.circulant and tt.cumsum: SciPy's and NumPy's matrices and sums, built
from the cores exactly, at the ranks the borrow automaton gives."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.signal

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt
from tnlib.errors import ArgumentError, ShapeError

DTYPES = ["float64", "complex128", "float32"]
SHAPES = [(2, 2, 2, 2), (3, 4, 2), (5,), (1, 3, 1, 2)]


def _tol(dtype):
    return 1e-5 if dtype == "float32" else 1e-13


def _twice(ranks):
    return (1,) + tuple(2 * r for r in ranks[1:-1]) + (1,)


@pytest.mark.parametrize("dtype", DTYPES)
def test_circulant_is_scipys(backend, dtype):
    for k, shape in enumerate(SHAPES):
        c = tt.random(shape, 2, seed=k, dtype=dtype, backend=backend)
        a = tt.circulant(c)
        assert a.row_shape == a.col_shape == shape
        assert a.ranks == _twice(c.ranks)
        assert rel_error(a, scipy.linalg.circulant(np_of(c).ravel())) < _tol(dtype), shape
        assert_like(a.cores[0], c.cores[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_toeplitz_is_scipys(backend, dtype):
    for k, shape in enumerate(SHAPES):
        c = tt.random(shape, 2, seed=k, dtype=dtype, backend=backend)
        r = tt.random(shape, (3,) * (len(shape) - 1), seed=10 + k, dtype=dtype, backend=backend)
        col, row = np_of(c).ravel(), np_of(r).ravel()
        a = tt.toeplitz(c, r)
        assert rel_error(a, scipy.linalg.toeplitz(col, row)) < _tol(dtype), shape
        assert_like(a.cores[0], c.cores[0])
        # r = None is conj(c), as SciPy's default; its diagonal is c[0] (r[0] is ignored)
        assert rel_error(tt.toeplitz(c), scipy.linalg.toeplitz(col)) < _tol(dtype), shape
        low = tt.toeplitz(c, 0)
        assert low.ranks == _twice(c.ranks)
        assert rel_error(low, np.tril(scipy.linalg.toeplitz(col))) < _tol(dtype), shape


def test_toeplitz_matvec_is_convolution(backend):
    """QTT of 2^20 points: the circulant's product is the circular convolution and the
    lower Toeplitz's the causal one; checked against NumPy's FFTs at every point."""
    t = np.linspace(0, 1, 2**20, endpoint=False)
    f, g = np.exp(-3 * t) * np.sin(5 * t), np.cos(2 * t) + t
    c = tt.quantize(backend.asarray(f), eps=1e-13)
    x = tt.quantize(backend.asarray(g), eps=1e-13)
    circ = tt.round(tt.circulant(c) @ x, 1e-12)
    ref = np.fft.ifft(np.fft.fft(f) * np.fft.fft(g)).real
    assert rel_error(tt.dequantize(circ), ref) < 1e-11
    causal = tt.round(tt.toeplitz(c, 0) @ x, 1e-12)
    n = 2**21
    ref = np.fft.irfft(np.fft.rfft(f, n) * np.fft.rfft(g, n), n)[: 2**20]
    assert rel_error(tt.dequantize(causal), ref) < 1e-11
    assert max(causal.ranks) <= 12


def test_hermitian_toeplitz_round_to_low_rank(backend):
    """A symmetric Toeplitz of a smooth kernel on 2^30 points: the exact train of ranks
    2r + 3r rounds to a small one, checked entrywise at random (i, j)."""
    d = 30
    c = tt.qtt_function(lambda s: backend.exp(-2 * s), 0.0, 1.0, d, eps=1e-12,
                        backend=backend)
    a = tt.toeplitz(c).round(1e-11)
    assert max(a.ranks) <= 16
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, 2**d, 200), rng.integers(0, 2**d, 200)
    digits = lambda v: (v[:, None] >> np.arange(d - 1, -1, -1)) & 1  # noqa: E731
    mat = tt.TTTensor([backend.reshape(g, (g.shape[0], -1, g.shape[3])) for g in
                       [backend.reshape(g, (g.shape[0], 2, 2, g.shape[3])) for g in a.cores]])
    got = np_of(tt.evaluate(mat, 2 * digits(i) + digits(j)))
    assert np.max(np.abs(got - np.exp(-2 * np.abs(i - j) / 2**d))) < 1e-10


@pytest.mark.parametrize("dtype", DTYPES)
def test_cumsum_along_modes_and_flattened(backend, dtype):
    x = tt.random((3, 4, 1, 5), (2, 3, 2), seed=0, dtype=dtype, backend=backend)
    dense = np_of(x)
    for axis in (0, 1, 2, 3, -1, (0, 3), [2, -3]):
        y = tt.cumsum(x, axis=axis)
        ref = dense
        for a in np.atleast_1d(axis):
            ref = np.cumsum(ref, axis=a)
        assert y.ranks == x.ranks
        assert rel_error(y, ref) < _tol(dtype), axis
        assert_like(y.cores[0], x.cores[0])
    y = tt.cumsum(x)
    assert x.cumsum(axis=1).ranks == x.ranks and rel_error(x.cumsum(), y) == 0.0  # the method
    assert y.ranks == _twice(x.ranks)
    assert rel_error(y, np.cumsum(dense).reshape(dense.shape)) < _tol(dtype)
    assert_like(y.cores[0], x.cores[0])
    one = tt.random((6,), 1, seed=2, dtype=dtype, backend=backend)
    assert rel_error(tt.cumsum(one), np.cumsum(np_of(one))) < _tol(dtype)


def test_cumsum_is_the_lower_ones_toeplitz(backend):
    """The flattened running sum is L(ones) @ x, and on a QTT it integrates: the
    running sum of h f(t) is the integral from 0 to within O(h)."""
    x = tt.random((2,) * 8, 3, seed=4, backend=backend)
    ones = tt.ones((2,) * 8, backend=backend)
    assert rel_error(tt.cumsum(x), tt.toeplitz(ones, 0) @ x) < 1e-13
    d = 40
    h = 1.0 / 2**d
    f = tt.qtt_function(backend.cos, 0.0, 1.0, d, eps=1e-13, backend=backend)
    integral = tt.round(tt.cumsum(f) * h, 1e-12)
    assert max(integral.ranks) <= 6
    pts = np.random.default_rng(1).integers(0, 2, (50, d))
    t = pts @ (2.0 ** -np.arange(1, d + 1))
    assert np.max(np.abs(np_of(tt.evaluate(integral, pts)) - np.sin(t))) < 1e-10


def test_gradient_reaches_the_kernel():
    """Gradients through the Toeplitz cores equal those of the dense computation."""
    torch = pytest.importorskip("torch")
    with tnlib.use_backend("torch"):
        c = tt.random((2, 3, 2), 2, seed=0)
        x = tt.random((2, 3, 2), 2, seed=1)
    xv = torch.as_tensor(np_of(x).ravel())
    i, j = np.indices((12, 12))
    grads = []
    for dense in (False, True):
        cores = [g.clone().requires_grad_(True) for g in c.cores]
        if dense:
            mat = tt.full(tt.TTTensor(cores)).reshape(-1)[np.maximum(i - j, 0)]
            y = (mat * torch.as_tensor(i >= j)) @ xv
            value = torch.cumsum(y.reshape(2, 3, 2), dim=1).sum()
        else:
            value = tt.sum(tt.cumsum(tt.toeplitz(tt.TTTensor(cores), 0) @ x, axis=1))
        value.backward()
        grads.append([g.grad.numpy() for g in cores])
    for got, ref in zip(*grads):
        assert np.abs(got - ref).max() < 1e-12 * np.abs(ref).max()


def test_traceable_under_jit():
    jax = pytest.importorskip("jax")
    with tnlib.use_backend("jax"):
        c = tt.random((2, 2, 2), 2, seed=0)
        r = tt.random((2, 2, 2), 1, seed=1)

    @jax.jit
    def run(cc, rc):
        a = tt.toeplitz(tt.TTTensor(cc), tt.TTTensor(rc)) + tt.circulant(tt.TTTensor(cc))
        return a.full(), tt.cumsum(tt.TTTensor(cc)).full()

    col, row = np_of(c).ravel(), np_of(r).ravel()
    mat, run_sum = run(list(c.cores), list(r.cores))
    ref = scipy.linalg.toeplitz(col, row) + scipy.linalg.circulant(col)
    assert np.allclose(np.asarray(mat), ref, atol=1e-13)
    assert np.allclose(np.asarray(run_sum).ravel(), np.cumsum(col), atol=1e-13)


def test_bad_arguments_are_named(backend):
    c = tt.random((2, 3), 2, seed=0, backend=backend)
    for f in (tt.circulant, tt.toeplitz):
        with pytest.raises(ArgumentError, match="c must be a TTTensor, got ndarray"):
            f(np_of(c))
        with pytest.raises(ArgumentError, match="c must be a TTTensor, got TTMatrix"):
            f(tt.eye((2, 3)))
    with pytest.raises(ShapeError, match=r"r must have c's shape \(2, 3\), got \(3, 2\)"):
        tt.toeplitz(c, tt.random((3, 2), 1, seed=1, backend=backend))
    with pytest.raises(ArgumentError, match="dtypes differ"):
        tt.toeplitz(c, c.to(dtype="complex128"))
    for r in (1, 0.5, np_of(c), "0", True):
        with pytest.raises(ArgumentError, match="r must be a TTTensor, 0 or None"):
            tt.toeplitz(c, r)
    with pytest.raises(ArgumentError, match="x must be a TTTensor"):
        tt.cumsum(np_of(c))
    with pytest.raises(ShapeError, match="axis 2 is out of range"):
        tt.cumsum(c, axis=2)
    with pytest.raises(ArgumentError, match="axis must be None, an int"):
        tt.cumsum(c, axis=1.0)
    with pytest.raises(ArgumentError, match="repeated"):
        tt.cumsum(c, axis=(1, -1))


def test_qtt_conv_of_a_real_and_a_complex_train(backend):
    x = tt.random((2,) * 5, 2, seed=0, backend=backend)
    y = tt.random((2,) * 5, 3, seed=1, dtype="complex128", backend=backend)
    a, b = np_of(x).ravel(), np_of(y).ravel()
    for u, v, ref in ((x, y, np.convolve(a, b)), (y, x, np.convolve(b, a))):
        z = tt.qtt_conv(u, v, eps=1e-14)
        assert_like(z.cores[0], y.cores[0])
        assert rel_error(np_of(z).ravel()[:-1], ref) < 1e-13
    with pytest.raises(ArgumentError, match="qtt_conv: dtypes differ, float32 and float64"):
        tt.qtt_conv(x.to(dtype="float32"), x)


def test_qtt_conv_of_grids_under_jit():
    """The multilevel Toeplitz product traces (the spectra's route refused tracing for
    grids): a 2-D full convolution at fixed ranks, as scipy.signal.convolve's."""
    jax = pytest.importorskip("jax")
    with tnlib.use_backend("jax"):
        x = tt.random((2,) * 6, 2, seed=0)
        y = tt.random((2,) * 6, 3, seed=1)

    @jax.jit
    def run(xc, yc):
        return tt.qtt_conv(tt.TTTensor(xc), tt.TTTensor(yc), eps=0, max_rank=64,
                           dims=2).full()

    got = np.asarray(run(list(x.cores), list(y.cores))).reshape(16, 16)
    ref = np.pad(scipy.signal.convolve(np_of(x).reshape(8, 8), np_of(y).reshape(8, 8)),
                 ((0, 1), (0, 1)))  # the last row and column of the padded grid are 0
    assert np.abs(got - ref).max() < 1e-12 * np.abs(ref).max()

    @jax.jit
    def with_eps(xc, yc):
        return tt.qtt_conv(tt.TTTensor(xc), tt.TTTensor(yc), eps=1e-10, dims=2).full()

    with pytest.raises(ArgumentError, match="qtt_conv: eps=1e-10 needs the data's values"):
        with_eps(list(x.cores), list(y.cores))


def test_multilevel_circulant_is_the_periodic_convolution_of_a_grid(backend):
    """dims=2: the circulant in each dimension, C[(i1, i2), (j1, j2)] = c[(i1 - j1) mod
    n1, (i2 - j2) mod n2] (a block circulant with circulant blocks), against NumPy's
    2-D FFTs, on an 8 x 8 grid (QTT) and a (3, 4) x (5, 2) one (mixed radix)."""
    for shape, grid in (((2,) * 6, (8, 8)), ((3, 4, 5, 2), (12, 10))):
        c = tt.random(shape, 2, seed=0, backend=backend)
        x = tt.random(shape, 3, seed=1, backend=backend)
        a = tt.circulant(c, dims=2)
        half = len(shape) // 2
        assert a.ranks[half] == c.ranks[half] and a.ranks[1] == 2 * c.ranks[1]
        cg, xg = np_of(c).reshape(grid), np_of(x).reshape(grid)
        ref = np.fft.ifft2(np.fft.fft2(cg) * np.fft.fft2(xg)).real
        assert rel_error(np_of(a @ x).reshape(grid), ref) < 1e-13
        assert_like(a.cores[0], c.cores[0])
    with pytest.raises(ShapeError, match="circulant: c has 5 modes, not a multiple of dims=2"):
        tt.circulant(tt.random((2,) * 5, 2, seed=0, backend=backend), dims=2)


def test_qtt_conv_of_trains_at_extreme_and_parted_scales(backend):
    """Cores of 1e200 overflowed in the product of the cores (an error naming round), and
    so did a train whose scale is parted between its cores (1e-300 and 1e300) though its
    convolution is of unit size. The cores are multiplied at unit scale now: the parted
    train is exact, and 1e200 * 1e200 is a train of 1e400 (its log-norm right)."""
    x = tt.random((2,) * 6, 2, seed=0, backend=backend)
    y = tt.random((2,) * 6, 2, seed=1, backend=backend)
    ref = np.convolve(np_of(x).ravel(), np_of(y).ravel())
    parted = tt.TTTensor([x.cores[0] * 1e-300, *x.cores[1:-1], x.cores[-1] * 1e300])
    z = tt.qtt_conv(parted, y, eps=1e-14)
    assert rel_error(np_of(z).ravel()[:-1], ref) < 1e-13
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = tt.qtt_conv(x * 1e200, y * 1e200, eps=1e-14)
    log_big = float(np_of(tt.log_norm(big)))
    assert abs(log_big - (np.log(np.linalg.norm(ref)) + 400 * np.log(10))) < 1e-10
    assert_like(big.cores[0], x.cores[0])
