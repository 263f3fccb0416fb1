"""tt.permute: np.transpose of the dense tensor, within eps, with the ranks the new order
needs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt
from tnlib.errors import ArgumentError, ShapeError


@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
def test_every_order_of_four_modes(backend, dtype):
    x = tt.random((3, 4, 2, 5), (2, 3, 4), seed=0, dtype=dtype, backend=backend)
    dense = np_of(x)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for axes in itertools.permutations(range(4)):
        y = tt.permute(x, axes)
        assert y.shape == tuple(x.shape[a] for a in axes)
        assert rel_error(y, np.transpose(dense, axes)) < tol, axes
        assert_like(y.cores[0], x.cores[0])


def test_error_within_eps_and_ranks_the_order_needs(backend):
    """f = Σ_k sin(x_k + x_{k+4}) couples modes four apart: ranks up to 8 in the given
    order, at most 4 with each pair side by side; and back again, exactly."""
    g = np.linspace(0, 1, 6)
    d = 8
    a = sum(np.sin(np.add.outer(g, g)).reshape([6 if i in (k, k + 4) else 1 for i in range(d)])
            for k in range(4))
    a = np.broadcast_to(a, (6,) * d).copy()
    x = tt.tt_svd(backend.asarray(a), eps=1e-13)
    axes = (0, 4, 1, 5, 2, 6, 3, 7)
    y = tt.permute(x, axes, eps=1e-10)
    assert max(x.ranks) == 8 and max(y.ranks) <= 4
    assert rel_error(y, np.transpose(a, axes)) < 1e-10
    back = tt.permute(y, np.argsort(axes), eps=1e-10)
    assert rel_error(back, a) < 2e-10 and max(back.ranks) == 8
    r = tt.random((3,) * 7, 5, seed=2, backend=backend)
    for eps in (1e-2, 1e-4):
        z = tt.permute(r, (6, 5, 4, 3, 2, 1, 0), eps=eps)
        assert rel_error(z, np.transpose(np_of(r), (6, 5, 4, 3, 2, 1, 0))) <= eps
        assert max(z.ranks) < 27  # the exact reversal needs 27 at the middle bond


def test_a_tt_matrix_moves_its_mode_pairs_together(backend):
    """The operator on permuted modes: rows and columns permuted alike, and its action
    on a permuted train the permutation of its action."""
    m = tt.TTMatrix.from_tt(tt.random((6, 8, 4), 3, seed=7, backend=backend), (2, 4, 2),
                            (3, 2, 2))
    axes = (2, 0, 1)
    pm = tt.permute(m, axes)
    assert pm.row_shape == (2, 2, 4) and pm.col_shape == (2, 3, 2)
    dense = np_of(m).reshape(2, 4, 2, 3, 2, 2)
    want = np.transpose(dense, (2, 0, 1, 5, 3, 4)).reshape(16, 12)
    assert rel_error(np_of(pm), want) < 1e-12
    x = tt.random((3, 2, 2), 2, seed=8, backend=backend)
    assert rel_error(pm @ tt.permute(x, axes), tt.permute(m @ x, axes)) < 1e-12


def test_the_default_eps_cuts_rounding_noise(backend):
    """Reversed, a train has its ranks mirrored; cuts finer than the SVDs' own rounding
    kept that noise as rank (907 in the middle instead of 6 at the default eps)."""
    x = tt.random((4,) * 10, 6, seed=5, backend=backend)
    y = tt.permute(x, list(range(9, -1, -1)))
    assert y.ranks == tt.round(x, eps=1e-12).ranks[::-1]  # (1, 4, 6, ..., 6, 4, 1)
    idx = np.random.default_rng(1).integers(0, 4, (100, 10))
    want = np_of(x.evaluate(backend.asarray(idx)))
    got = np_of(y.evaluate(backend.asarray(idx[:, ::-1])))
    assert np.abs(got - want).max() < 1e-12 * np.abs(want).max()


def test_rank_bounds_identity_and_one_mode(backend):
    x = tt.random((3, 4, 5, 6), 4, seed=3, backend=backend)
    y = tt.permute(x, (3, 2, 1, 0), max_rank=2)
    assert max(y.ranks) <= 2 and y.shape == (6, 5, 4, 3)
    for z, axes in ((x, (0, 1, 2, 3)), (tt.random((5,), 1, seed=0, backend=backend), [0])):
        same = tt.permute(z, axes)  # the train itself: no swap, no rounding
        assert all(np.array_equal(np_of(a), np_of(b)) for a, b in zip(same.cores, z.cores))


def test_cores_far_outside_the_float_range(backend):
    x = tt.random((3, 4, 5), 3, seed=4, backend=backend)
    big = tt.TTTensor([c * s for c, s in zip(x.cores, (1e200, 1e100, 1e-250))])
    y = tt.permute(big, (2, 0, 1), eps=1e-12)
    ref = np.transpose(np_of(x), (2, 0, 1))
    got = np_of(tt.TTTensor([c * s for c, s in zip(y.cores, (1.0, 1.0, 1e-50))]))
    assert np.all(np.isfinite(np.concatenate([np_of(c).ravel() for c in y.cores])))
    assert np.linalg.norm(got - ref) < 1e-10 * np.linalg.norm(ref)


def test_a_thirty_mode_reversal():
    """The middle bonds pass through ranks in the hundreds (gesdd failed to converge on one
    of those SVDs: it is retried); entries checked against the original train's."""
    x = tt.random((2,) * 30, 8, seed=1)
    y = tt.permute(x, list(range(29, -1, -1)), eps=1e-10)
    idx = np.random.default_rng(0).integers(0, 2, (200, 30))
    want = np_of(x.evaluate(idx))
    got = np_of(y.evaluate(idx[:, ::-1]))
    assert np.max(np.abs(got - want)) < 1e-9 * float(tt.norm(x))


def test_bad_arguments_are_named(backend):
    x = tt.random((3, 4, 5), 2, seed=0, backend=backend)
    with pytest.raises(ShapeError, match="axes has 2 entries"):
        tt.permute(x, (1, 0))
    for axes in ((0, 0, 1), (0, 1, 3), (0, 1.0, 2), (True, False, 2)):
        with pytest.raises(ArgumentError, match="permutation of 0"):
            tt.permute(x, axes)
    with pytest.raises(ArgumentError, match="axes must be a sequence"):
        tt.permute(x, 3)
    with pytest.raises(ArgumentError, match="x must be a TTTensor"):
        tt.permute(np_of(x), (0, 1, 2))
    with pytest.raises(ArgumentError, match=r"x.cores\[1\] holds non-finite"):
        tt.permute(tt.TTTensor([x.cores[0], x.cores[1] * np.nan, x.cores[2]]), (2, 1, 0))


def test_refused_under_tracing():
    jax = pytest.importorskip("jax")
    with tnlib.use_backend("jax"):
        x = tt.random((3, 4, 5), 2, seed=0)
    run = jax.jit(lambda cores: tt.permute(tt.TTTensor(cores), (2, 1, 0)).cores)
    with pytest.raises(ArgumentError, match="permute"):
        run(list(x.cores))
