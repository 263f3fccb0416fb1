"""Quantized TT: ranks of classical functions, round trips, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt

X = np.linspace(0.0, 1.0, 2**12, endpoint=False)


@pytest.mark.parametrize("values, rank", [
    (np.exp(-3 * X), 1),
    (np.sin(7 * X + 0.3), 2),
    (1 + X - 2 * X**2 + 0.5 * X**3, 4),
    (X**5 - X, 6),
])
def test_known_qtt_ranks(backend, values, rank):
    v = backend.asarray(values)
    q = tt.quantize(v, eps=1e-12)
    assert q.shape == (2,) * 12
    assert max(q.ranks) == rank
    assert_like(q, v)
    assert rel_error(tt.dequantize(q), values) < 1e-11


def test_base_three_and_order(backend):
    v = np.arange(27.0)
    q = tt.quantize(backend.asarray(v), base=3)
    assert q.shape == (3, 3, 3)
    # most significant digit first: v[9 a + 3 b + c] = q[a, b, c]
    assert float(tnlib.to_numpy(q[2, 1, 0])) == pytest.approx(21.0)
    np.testing.assert_allclose(tnlib.to_numpy(tt.dequantize(q)), v, atol=1e-12)


def test_bad_input(backend):
    with pytest.raises(tnlib.ShapeError, match="power of base 2"):
        tt.quantize(backend.asarray(np.ones(12)))
    with pytest.raises(tnlib.ShapeError, match="1-D"):
        tt.quantize(backend.asarray(np.ones((4, 4))))
    with pytest.raises(tnlib.ShapeError, match="base must be >= 2"):
        tt.quantize(backend.asarray(np.ones(4)), base=1)


def test_qtt_function_of_several_dimensions(backend):
    """exp(-x y) cos(x + 2 y) on [0, 1) x [-1, 3) with 2^8 points per dimension (65,536
    entries: by cross): the grid's array, one dimension's digits per block; and a 3-D
    grid of 2^20 points per dimension checked at random points."""
    def f(p):
        return backend.exp(-p[:, 0] * p[:, 1]) * backend.cos(p[:, 0] + 2 * p[:, 1])

    with tnlib.use_backend(backend):
        g = tt.qtt_function(f, (0.0, -1.0), (1.0, 3.0), 8, dims=2, eps=1e-12)
    assert g.shape == (2,) * 16
    s, t = np.arange(256) / 256, -1.0 + 4.0 * np.arange(256) / 256
    ref = np.exp(-s[:, None] * t[None, :]) * np.cos(s[:, None] + 2 * t[None, :])
    assert rel_error(np_of(g.full()).reshape(256, 256), ref) < 1e-11
    assert_like(g.cores[0], backend.asarray(ref))

    def h(p):
        return 1.0 / (1.0 + backend.sum(p**2, axis=1))

    with tnlib.use_backend(backend):
        x = tt.qtt_function(h, -1.0, 1.0, 20, dims=3, eps=1e-9)
    j = np.random.default_rng(0).integers(0, 2**20, (300, 3))
    bits = ((j[:, :, None] >> np.arange(19, -1, -1)) & 1).reshape(300, 60)
    pts = -1.0 + 2.0 * j / 2**20
    got = tnlib.to_numpy(x.evaluate(backend.asarray(bits)))
    assert np.abs(got - 1.0 / (1.0 + (pts**2).sum(1))).max() < 1e-8


def test_qtt_function_bad_grids_are_named():
    f = lambda p: p[:, 0]  # noqa: E731
    with pytest.raises(tnlib.ShapeError, match="a must be a number or one per dimension"):
        tt.qtt_function(f, (0.0, 1.0, 2.0), 3.0, 4, dims=2)
    with pytest.raises(tnlib.ShapeError, match="needs a < b"):
        tt.qtt_function(f, (0.0, 1.0), (1.0, 1.0), 4, dims=2)
    with pytest.raises(tnlib.ArgumentError, match="b must be a finite real"):
        tt.qtt_function(f, 0.0, (1.0, np.inf), 4, dims=2)
    with pytest.raises(tnlib.ArgumentError, match="dims must be an integer >= 1"):
        tt.qtt_function(f, 0.0, 1.0, 4, dims=0)
