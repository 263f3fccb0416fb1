"""tt.reshape: the dense reshape of the train, within eps; splits are TT-SVD of a core,
merges exact."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt
from tnlib.errors import ArgumentError, ShapeError

SHAPES = [(4, 6, 5), (24, 5), (120,), (2, 3, 2, 2, 5), (5, 24), (1, 120, 1), (3, 8, 5),
          (10, 12), (2, 2, 2, 3, 5, 1)]


@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
def test_every_regrouping_of_the_index(backend, dtype):
    x = tt.random((6, 4, 5), (3, 4), seed=0, dtype=dtype, backend=backend)
    dense = np_of(x)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for shape in SHAPES:
        y = tt.reshape(x, shape)
        assert y.shape == shape
        assert rel_error(y, dense.reshape(shape)) < tol, shape
        assert_like(y.cores[0], x.cores[0])


def test_a_grid_function_to_its_qtt_and_back(backend):
    """sin(s + 2t) on a 1024 x 1024 grid: rank 2 as a matrix, rank 2 per binary digit
    too (exponentials of the digits); back to the matrix exactly."""
    t = np.linspace(0, 1, 2**10)
    a = np.sin(t[:, None] + 2 * t[None, :])
    x = tt.tt_svd(backend.asarray(a), eps=1e-13)
    q = tt.reshape(x, (2,) * 20, eps=1e-12)
    assert max(q.ranks) <= 2
    back = tt.reshape(q, (1024, 1024))
    assert rel_error(back, a) < 1e-12 and back.ranks == (1, 2, 1)
    idx = np.random.default_rng(0).integers(0, 1024, (50, 2))
    bits = ((idx[:, :, None] >> np.arange(9, -1, -1)) & 1).reshape(50, 20)
    assert np.allclose(np_of(q.evaluate(backend.asarray(bits))), a[idx[:, 0], idx[:, 1]])


def test_truncation_within_eps_and_rank_bounds(backend):
    x = tt.random((8, 9, 8), 6, seed=1, backend=backend)
    dense = np_of(x)
    for eps in (1e-1, 1e-3):
        y = tt.reshape(x, (2, 4, 3, 3, 4, 2), eps=eps)
        assert rel_error(y, dense.reshape(2, 4, 3, 3, 4, 2)) <= eps
    y = tt.reshape(x, (2, 4, 3, 3, 4, 2), max_rank=3)
    assert max(y.ranks) <= 3


def test_cores_far_outside_the_float_range(backend):
    x = tt.random((6, 4, 5), 3, seed=2, backend=backend)
    big = tt.TTTensor([c * s for c, s in zip(x.cores, (1e200, 1e-250, 1e100))])
    y = tt.reshape(big, (4, 6, 5))
    scaled = tt.TTTensor([y.cores[0], y.cores[1], y.cores[2] * 1e-50])
    assert rel_error(scaled, np_of(x).reshape(4, 6, 5)) < 1e-12


def test_bad_arguments_are_named(backend):
    x = tt.random((6, 4, 5), 2, seed=0, backend=backend)
    with pytest.raises(ShapeError, match="has 100 entries"):
        tt.reshape(x, (10, 10))
    with pytest.raises(ShapeError):
        tt.reshape(x, (0, 120))
    with pytest.raises(ArgumentError, match="x must be a TTTensor"):
        tt.reshape(np_of(x), (4, 6, 5))
    with pytest.raises(ArgumentError, match=r"x.cores\[0\] holds non-finite"):
        tt.reshape(tt.TTTensor([x.cores[0] * np.inf, x.cores[1], x.cores[2]]), (4, 6, 5))
    with pytest.raises(ShapeError, match="max_rank"):
        tt.reshape(x, (4, 6, 5), max_rank=[2, 2, 2])


def test_refused_under_tracing():
    jax = pytest.importorskip("jax")
    with tnlib.use_backend("jax"):
        x = tt.random((6, 4), 2, seed=0)
    run = jax.jit(lambda cores: tt.reshape(tt.TTTensor(cores), (4, 6)).cores)
    with pytest.raises(ArgumentError, match="reshape"):
        run(list(x.cores))
