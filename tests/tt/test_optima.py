"""Largest and smallest entries of a train by beam search, against the dense tensor."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import np_of
from tnlib import tt


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_an_exhaustive_beam_finds_the_exact_extrema(backend, dtype):
    shapes = [(4, 5, 6, 3), (9, 8)] if dtype == "float64" else [(2, 7, 3, 3, 2)]
    for seed, shape in enumerate(shapes):
        x = tt.random(shape, 3, seed=seed, dtype=dtype, backend=backend)
        a = np_of(x)
        beam = int(np.prod(shape[:-1]))
        idx, value = tt.max_abs(x, beam=beam)
        assert tnlib.backend_of(idx).name == backend.name
        assert backend.dtype_name(idx).startswith("int") and backend.shape(idx) == (len(shape),)
        assert backend.dtype_name(value) == dtype
        tol = 1e-5 if dtype == "float32" else 1e-12
        assert abs(abs(float(np_of(value))) - np.abs(a).max()) <= tol * np.abs(a).max()
        assert float(np_of(value)) == pytest.approx(a[tuple(np_of(idx))], rel=tol)
        e = tt.extrema(x, beam=beam)
        assert float(np_of(e.max)) == pytest.approx(a.max(), rel=tol)
        assert float(np_of(e.min)) == pytest.approx(a.min(), rel=tol)
        assert a[tuple(np_of(e.argmax))] == pytest.approx(a.max(), rel=tol)
        assert a[tuple(np_of(e.argmin))] == pytest.approx(a.min(), rel=tol)


def test_rank_one_trains_need_a_beam_of_one(backend):
    rng = np.random.default_rng(0)
    factors = [rng.standard_normal(7) for _ in range(30)]
    x = tt.TTTensor([backend.asarray(f.reshape(1, -1, 1)) for f in factors])
    idx, value = tt.max_abs(x, beam=1)
    assert np_of(idx).tolist() == [int(np.abs(f).argmax()) for f in factors]
    want = np.prod([f[np.abs(f).argmax()] for f in factors])
    assert float(np_of(value)) == pytest.approx(want, rel=1e-12)


def test_the_peak_of_a_smooth_function_on_a_fine_grid(backend):
    """A bump at (0.3, -0.2, 0.5, 0.1) less a wave on 40^4 points: a beam of 8 of the
    64,000 prefixes finds its maximum; its shallower minimum needs the default beam
    (a beam of 8 stops at -0.370 of -0.395)."""
    t = np.linspace(-1.0, 1.0, 40)
    centre = (0.3, -0.2, 0.5, 0.1)
    factors = [np.exp(-4 * (t - c) ** 2) for c in centre]
    bump = tt.TTTensor([backend.asarray(f.reshape(1, -1, 1)) for f in factors])
    wave = tt.TTTensor([backend.asarray(np.cos(2 * t).reshape(1, -1, 1)) for _ in range(4)])
    x = (bump - 0.5 * wave).round(1e-12)
    idx, _ = tt.max_abs(x, beam=8)
    e = tt.extrema(x)
    grid = np.meshgrid(*(t,) * 4, indexing="ij")
    a = np.exp(-4 * sum((g - c) ** 2 for g, c in zip(grid, centre))) - 0.5 * np.prod(
        [np.cos(2 * g) for g in grid], axis=0)
    assert float(np_of(e.max)) == pytest.approx(a.max(), rel=1e-10)
    assert float(np_of(e.min)) == pytest.approx(a.min(), rel=1e-10)
    assert a[tuple(np_of(idx))] == pytest.approx(np.abs(a).max(), rel=1e-10) or \
        -a[tuple(np_of(idx))] == pytest.approx(np.abs(a).max(), rel=1e-10)


def test_complex_trains_and_single_modes(backend):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4, 5)) + 1j * rng.standard_normal((3, 4, 5))
    x = tt.tt_svd(backend.asarray(a))
    idx, value = tt.max_abs(x, beam=12)
    assert abs(complex(np_of(value))) == pytest.approx(np.abs(a).max(), rel=1e-12)
    with pytest.raises(tnlib.ArgumentError, match="complex"):
        tt.extrema(x)
    v = np.array([0.5, -3.0, 2.0])
    one = tt.TTTensor([backend.asarray(v.reshape(1, 3, 1))])
    e = tt.extrema(one)
    assert (np_of(e.argmin).tolist(), float(np_of(e.min))) == ([1], -3.0)
    assert (np_of(e.argmax).tolist(), float(np_of(e.max))) == ([2], 2.0)


def test_long_trains_at_extreme_scales(backend):
    """200 modes, cores of 1e±250: the search compares the prefixes at unit scale."""
    rng = np.random.default_rng(3)
    factors = [rng.random(3) + 0.5 for _ in range(200)]
    x = tt.TTTensor([backend.asarray(f.reshape(1, 3, 1) * (1e250 if k % 2 else 1e-250))
                     for k, f in enumerate(factors)])
    idx, _ = tt.max_abs(x + x, beam=2)
    assert np_of(idx).tolist() == [int(f.argmax()) for f in factors]


def test_bad_input_is_named(backend):
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    with pytest.raises(tnlib.ArgumentError, match="beam must be"):
        tt.max_abs(x, beam=0)
    with pytest.raises(tnlib.ArgumentError, match="beam must be"):
        tt.extrema(x, beam=1.5)
    with pytest.raises(tnlib.ArgumentError, match="TTTensor"):
        tt.extrema(np_of(x))
    cores = [np_of(c).copy() for c in x.cores]
    cores[0][0, 1, 0] = np.nan  # was: NaN values at index (0, 0), as if found
    y = tt.TTTensor([backend.asarray(c) for c in cores])
    for name, call in (("max_abs", tt.max_abs), ("extrema", tt.extrema)):
        with pytest.raises(tnlib.ArgumentError, match=f"{name}: x holds NaN or inf"):
            call(y)


def test_extrema_under_jit_match_eager_ones(backend):
    """No host read: the same answers compiled (jax.jit, tf.function). Under tf.function
    ``x - y1`` (a scalar added to a train) failed before: the traced cores' device ''
    was refused by the constructor of the ones."""
    if not backend.supports_jit:
        pytest.skip(f"{backend.name} runs eagerly: nothing is traced")
    x = tt.random((4, 5, 6), 3, seed=0, backend=backend)
    eager = tt.extrema(x, beam=4)
    jitted = backend.jit(lambda *c: tuple(tt.extrema(tt.TTTensor(list(c)), beam=4)))(*x.cores)
    for a, b in zip(eager, jitted):
        np.testing.assert_array_equal(np_of(a), np_of(b))
    shifted = backend.jit(lambda *c: (tt.TTTensor(list(c)) - 1.5).full())(*x.cores)
    np.testing.assert_allclose(np_of(shifted), np_of(x) - 1.5, rtol=1e-12, atol=1e-12)
