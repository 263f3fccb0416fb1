"""The QTT Fourier transform: NumPy's FFT of the dequantized vector, in every direction and
scaling; and, at 2^40 points, the continuous transform of the sampled function."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_like, np_of
from tnlib import tt
from tnlib.errors import ArgumentError, ShapeError


def _vector(n, d, seed=0, cplx=True):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n**d)
    return v + 1j * rng.standard_normal(n**d) if cplx else v


@pytest.mark.parametrize("n,d", [(2, 8), (3, 5), (2, 1)])
@pytest.mark.parametrize("inverse", [False, True])
def test_numpy_fft_of_the_vector(backend, n, d, inverse):
    """Full-rank input (eps=0 keeps every rank): the transform is exact to rounding, for
    every scaling, digits most significant first in and out."""
    v = _vector(n, d)
    x = tt.quantize(backend.asarray(v), base=n, eps=0.0)
    for norm in ("backward", "ortho", "forward"):
        y = tt.qtt_fft(x, eps=0.0, inverse=inverse, norm=norm)
        ref = (np.fft.ifft if inverse else np.fft.fft)(v, norm=norm)
        got = np_of(tt.dequantize(y))
        assert np.linalg.norm(got - ref) < 1e-12 * np.linalg.norm(ref), norm
        assert y.shape == x.shape
        assert_like(y.cores[0], x.cores[0])


def test_real_and_single_precision_input_give_complex_results(backend):
    v = _vector(2, 9, seed=1, cplx=False)
    for dtype, want, tol in (("float64", "complex128", 1e-12), ("float32", "complex64", 1e-5)):
        x = tt.quantize(backend.asarray(v, dtype=dtype), eps=0.0)
        y = tt.qtt_fft(x)
        assert backend.dtype_name(y.cores[0]) == want
        ref = np.fft.fft(v)
        assert np.linalg.norm(np_of(tt.dequantize(y)) - ref) < tol * np.linalg.norm(ref)


def test_the_inverse_undoes_the_transform_within_eps(backend):
    t = np.arange(2**14) / 2**14
    v = np.sin(2 * np.pi * 40 * t) * np.exp(-3 * t) + t**2
    x = tt.quantize(backend.asarray(v), eps=1e-13)
    back = tt.qtt_fft(tt.qtt_fft(x, eps=1e-10), eps=1e-10, inverse=True)
    assert np.linalg.norm(np_of(tt.dequantize(back)).real - v) < 3e-10 * np.linalg.norm(v)


def test_two_to_the_forty_points_against_the_continuous_transform(backend):
    """A Gaussian-modulated cosine sampled at N = 2^40 points of [0, 1): its DFT at
    frequency k is N times the continuous transform (aliasing and sampling error are
    far below 1e-10). The dense vector would take 16 TiB."""
    sigma, f0, d = 0.05, 300.0, 40

    def f(t):
        return np.exp(-(((t - 0.5) / sigma) ** 2)) * np.cos(2 * np.pi * f0 * t)

    x = tt.qtt_function(f, 0.0, 1.0, d, eps=1e-12).to(backend=backend)
    y = tt.qtt_fft(x, eps=1e-10)
    assert max(y.ranks) <= 16
    k = np.array([0, 250, 290, 300, 301, 320, 400])
    digits = (k[:, None] >> np.arange(d - 1, -1, -1)[None, :]) & 1   # most significant first
    got = np_of(y.evaluate(backend.asarray(digits))) / 2.0**d

    def gauss(nu):
        return sigma * np.sqrt(np.pi) * np.exp(-np.pi * 1j * nu) * np.exp(-(np.pi * sigma * nu)
                                                                          ** 2)

    want = 0.5 * (gauss(k - f0) + gauss(k + f0))
    assert np.max(np.abs(got - want)) < 1e-9 * np.max(np.abs(want))


def test_bad_arguments_are_named(backend):
    x = tt.random((2,) * 4, 2, seed=0, backend=backend)
    with pytest.raises(ArgumentError, match="x must be a TTTensor"):
        tt.qtt_fft(np_of(x))
    with pytest.raises(ShapeError, match="one size n >= 2"):
        tt.qtt_fft(tt.random((2, 3, 2), 2, seed=0, backend=backend))
    with pytest.raises(ShapeError, match="one size n >= 2"):
        tt.qtt_fft(tt.random((1, 1), 1, seed=0, backend=backend))
    with pytest.raises(ArgumentError, match="norm must be one of"):
        tt.qtt_fft(x, norm="unitary")
    with pytest.raises(ArgumentError, match="inverse must be a bool"):
        tt.qtt_fft(x, inverse="yes")
    with pytest.raises(ArgumentError, match="eps"):
        tt.qtt_fft(x, eps=-1.0)
    with pytest.raises(ShapeError, match="max_rank"):
        tt.qtt_fft(x, max_rank=[2, 2])


def test_rank_bounds_per_bond_in_the_output_order(backend):
    v = _vector(2, 8, seed=3)
    x = tt.quantize(backend.asarray(v), eps=0.0)
    for bounds in ([1, 8, 8, 8, 8, 8, 8], [8, 8, 8, 8, 8, 8, 1], [2, 4, 8, 16, 8, 3, 2]):
        y = tt.qtt_fft(x, eps=0.0, max_rank=bounds)
        assert all(r <= b for r, b in zip(y.ranks[1:-1], bounds)), (bounds, y.ranks)
        assert min(y.ranks[1:-1]) == 1 or 1 not in bounds


def test_traced_with_a_rank_bound():
    """Under jax.jit the ranks cannot be chosen from values: eps=0 with max_rank."""
    jax = pytest.importorskip("jax")
    v = _vector(2, 8, seed=2)
    x = tt.quantize(jax.numpy.asarray(v), eps=0.0)
    run = jax.jit(lambda cores: tt.qtt_fft(tt.TTTensor(cores), eps=0.0, max_rank=16).cores)
    got = np_of(tt.dequantize(tt.TTTensor(run(list(x.cores)))))
    assert np.linalg.norm(got - np.fft.fft(v)) < 1e-12 * np.linalg.norm(np.fft.fft(v))
    run2 = jax.jit(lambda cores: tt.qtt_fft(tt.TTTensor(cores), eps=0.0, max_rank=16,
                                            dims=2).cores)
    with pytest.raises(ArgumentError, match="qtt_fft: with dims > 1"):
        run2(list(x.cores))


@pytest.mark.parametrize("cplx", [False, True])
def test_convolutions_against_numpy(backend, cplx):
    """Full (np.convolve, one more binary mode, the last entry 0) and circular; real inputs
    give a real train."""
    a, b = _vector(2, 7, seed=4, cplx=cplx), _vector(2, 7, seed=5, cplx=cplx)
    x, y = (tt.quantize(backend.asarray(v), eps=0.0) for v in (a, b))
    full = tt.qtt_conv(x, y, eps=1e-14)
    ref = np.convolve(a, b)
    got = np_of(tt.dequantize(full))
    assert full.shape == (2,) * 8
    assert np.abs(got[:-1] - ref).max() < 1e-12 * np.abs(ref).max() and abs(got[-1]) < 1e-12
    assert backend.is_complex(full.cores[0]) == cplx
    circ = tt.qtt_conv(x, y, eps=1e-14, mode="circular")
    ref = np.fft.ifft(np.fft.fft(a) * np.fft.fft(b))
    got = np_of(tt.dequantize(circ))
    assert np.abs(got - (ref if cplx else ref.real)).max() < 1e-12 * np.abs(ref).max()


def test_two_gaussians_convolved_on_two_to_the_thirty_points(backend):
    """Gaussians of widths s1, s2 convolve to one of width hypot(s1, s2) (the sum of the
    samples times the step is the integral, to far below 1e-10)."""
    d, s1, s2 = 30, 0.01, 0.02

    def gauss(c, s):
        return lambda t: np.exp(-(((t - c) / s) ** 2) / 2)

    x, y = (tt.qtt_function(gauss(c, s), 0.0, 1.0, d, eps=1e-12).to(backend=backend)
            for c, s in ((0.3, s1), (0.2, s2)))
    z = tt.qtt_conv(x, y, eps=1e-10)
    assert z.shape == (2,) * (d + 1) and max(z.ranks) <= 16
    h, s = 2.0**-d, np.hypot(s1, s2)
    k = (np.array([0.5, 0.45, 0.6, 0.56]) / h).astype(np.int64)
    digits = (k[:, None] >> np.arange(d, -1, -1)[None, :]) & 1
    got = np_of(z.evaluate(backend.asarray(digits))) * h
    want = s1 * s2 * np.sqrt(2 * np.pi) / s * np.exp(-(((k * h - 0.5) / s) ** 2) / 2)
    assert np.abs(got - want).max() < 1e-9 * want.max()


def test_bad_convolutions_are_named(backend):
    x = tt.random((2,) * 4, 2, seed=0, backend=backend)
    with pytest.raises(ShapeError, match="shapes"):
        tt.qtt_conv(x, tt.random((2,) * 5, 2, seed=0, backend=backend))
    with pytest.raises(ShapeError, match="mode of size 2"):
        z = tt.random((3,) * 3, 2, seed=0, backend=backend)
        tt.qtt_conv(z, z)
    with pytest.raises(ArgumentError, match=r"mode must be one of \('full', 'circular'\)"):
        tt.qtt_conv(x, x, mode="same")
    with pytest.raises(ArgumentError, match="y must be a TTTensor"):
        tt.qtt_conv(x, np_of(x))
    nan = tt.TTTensor([x.cores[0] * np.nan] + list(x.cores[1:]))
    with pytest.raises(ArgumentError, match=r"qtt_conv: y.cores\[0\] holds non-finite"):
        tt.qtt_conv(x, nan)
    with pytest.raises(ArgumentError, match=r"qtt_fft: x.cores\[0\] holds non-finite"):
        tt.qtt_fft(nan)  # (was refused in round's name)


def _grid_qtt(backend, a, eps=0.0):
    """The QTT of a grid of 2^d points per dimension, the dimensions in NumPy's order."""
    d = int(round(np.log2(a.size)))
    return tt.reshape(tt.tt_svd(backend.asarray(a), eps=eps), (2,) * d, eps=eps)


@pytest.mark.parametrize("shape", [(8, 8), (4, 4, 4), (16, 16)])
def test_multidimensional_transforms_are_numpy_fftn(backend, shape):
    """Every subset of axes, direction and scaling, against np.fft.fftn / ifftn, exact
    at full rank; the digits of each dimension most significant first."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    x = _grid_qtt(backend, a)
    dims = len(shape)
    for axes in (None, (0,), (dims - 1,), (1, 0), -1):
        for inverse in (False, True):
            for norm in ("backward", "ortho", "forward"):
                y = tt.qtt_fft(x, eps=0.0, dims=dims, axes=axes, inverse=inverse, norm=norm)
                ref = (np.fft.ifftn if inverse else np.fft.fftn)(
                    a, axes=None if axes is None else np.atleast_1d(axes), norm=norm)
                got = np_of(y.full()).reshape(shape)
                assert np.linalg.norm(got - ref) < 1e-12 * np.linalg.norm(ref), (axes, norm)
                assert_like(y.cores[0], x.cores[0])


def test_a_grid_of_two_to_the_forty_points_in_two_dimensions(backend):
    """u(s) v(t) + v(s) u(t) on a 2^20 x 2^20 grid: its 2-D transform is the same sum of
    products of the 1-D transforms (the dense grid would take 16 TiB). On the frameworks
    2^10 x 2^10 (JAX compiles each new shape of the digits' reordering: 30 s at 2^20)."""
    d = 20 if backend.name == "numpy" else 10
    xp = backend
    u = tt.qtt_function(lambda t: xp.exp(-((t - 0.5) / 0.05) ** 2) * xp.cos(600 * np.pi * t),
                        0.0, 1.0, d, eps=1e-12, backend=backend)
    v = tt.qtt_function(lambda t: xp.exp(-((t - 0.3) / 0.1) ** 2), 0.0, 1.0, d, eps=1e-12,
                        backend=backend)
    x = tt.kron(u, v) + tt.kron(v, u)
    y = tt.qtt_fft(x, eps=1e-10, dims=2)
    assert_like(y.cores[0], x.cores[0], dtype="complex128")
    fu, fv = tt.qtt_fft(u, eps=1e-12), tt.qtt_fft(v, eps=1e-12)
    back = tt.qtt_fft(y, eps=1e-10, dims=2, inverse=True)
    # the comparisons on the host (a framework's first norm of each shape compiles)
    host = lambda z: tt.TTTensor([np_of(c) for c in z.cores])  # noqa: E731
    y, fu, fv, x, back = (host(z) for z in (y, fu, fv, x, back))
    ref = tt.kron(fu, fv) + tt.kron(fv, fu)
    assert float(tt.norm(y - ref)) < 1e-9 * float(tt.norm(ref))
    assert max(y.ranks) <= 40
    assert float(tt.norm(back - x.to(dtype="complex128"))) < 1e-9 * float(tt.norm(x))


@pytest.mark.parametrize("shape", [(8, 8), (4, 4, 4)])
def test_multidimensional_convolutions(backend, shape):
    """scipy.signal.convolve's full convolution (each dimension padded by a digit, the
    last entry of each 0) and the circular one, from NumPy's padded FFTs."""
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    x, y = _grid_qtt(backend, a), _grid_qtt(backend, b)
    dims = len(shape)
    full = tt.qtt_conv(x, y, eps=1e-14, dims=dims)
    big = tuple(2 * n for n in shape)
    axes = tuple(range(dims))
    ref = np.fft.ifftn(np.fft.fftn(a, big, axes) * np.fft.fftn(b, big, axes)).real
    assert full.shape == (2,) * (dims * (int(np.log2(shape[0])) + 1))
    assert not backend.is_complex(full.cores[0])
    got = np_of(full.full()).reshape(big)
    assert np.abs(got - ref).max() < 1e-12 * np.abs(ref).max()
    circ = tt.qtt_conv(x, y, eps=1e-14, dims=dims, mode="circular")
    ref = np.fft.ifftn(np.fft.fftn(a) * np.fft.fftn(b)).real
    got = np_of(circ.full()).reshape(shape)
    assert np.abs(got - ref).max() < 1e-12 * np.abs(ref).max()


def test_bad_multidimensional_arguments_are_named(backend):
    x = tt.random((2,) * 6, 2, seed=0, backend=backend)
    with pytest.raises(ShapeError, match="6 modes, not a multiple of dims=4"):
        tt.qtt_fft(x, dims=4)
    with pytest.raises(ArgumentError, match="dims must be an integer >= 1"):
        tt.qtt_fft(x, dims=0)
    with pytest.raises(ArgumentError, match="axes must be an integer in"):
        tt.qtt_fft(x, dims=2, axes=(2,))
    with pytest.raises(ArgumentError, match="distinct"):
        tt.qtt_fft(x, dims=2, axes=(0, -2))
    for axes in ("0", x, 1.0):
        with pytest.raises((ArgumentError, ShapeError), match="axes must be"):
            tt.qtt_fft(x, dims=2, axes=axes)
    with pytest.raises(ArgumentError, match=r"max_rank \(an int for dims > 1\)"):
        tt.qtt_fft(x, dims=2, max_rank=[2] * 5)
    with pytest.raises(ShapeError, match="not a multiple of dims=4"):
        tt.qtt_conv(x, x, dims=4)
