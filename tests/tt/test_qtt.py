"""Quantized TT: ranks of classical functions, round trips, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, rel_error
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
