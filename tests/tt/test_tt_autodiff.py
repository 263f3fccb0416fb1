"""Gradients and compilation through TT operations."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tnlib import tt


def _get(name):
    from tests.conftest import named_backend

    return named_backend(name)


def test_jax_jit_and_grad_over_tt_functions():
    xp = _get("jax")
    import jax

    x = tt.random((3, 4, 5), 3, seed=0, backend=xp)
    y = tt.random((3, 4, 5), 2, seed=1, backend=xp)

    def loss(x):
        return tt.dot(x, y) + x.norm() ** 2 + (x * x).sum()

    eager = float(loss(x))
    jitted = jax.jit(loss)
    assert abs(float(jitted(x)) - eager) < 1e-10 * abs(eager)
    g = jax.grad(loss)(x)
    assert isinstance(g, tt.TTTensor) and g.ranks == x.ranks
    # d/dx of the loss along a random direction of the cores
    rng = np.random.default_rng(0)
    dirs = [rng.standard_normal(c.shape) for c in x.cores]
    h = 1e-6
    plus = tt.TTTensor([c + h * d for c, d in zip(x.cores, dirs)])
    minus = tt.TTTensor([c - h * d for c, d in zip(x.cores, dirs)])
    fd = (float(loss(plus)) - float(loss(minus))) / (2 * h)
    ad = sum(float(np.sum(np.asarray(gc) * d)) for gc, d in zip(g.cores, dirs))
    assert abs(fd - ad) < 1e-6 * abs(fd)


def test_jax_jit_evaluate_and_round_with_max_rank():
    xp = _get("jax")
    import jax

    x = tt.random((4, 4, 4), 3, seed=0, backend=xp)
    idx = xp.asarray(np.array([[0, 1, 2], [3, 3, 3]]))
    got = jax.jit(lambda x, i: x.evaluate(i))(x, idx)
    np.testing.assert_allclose(np.asarray(got), np.asarray(x.evaluate(idx)), rtol=1e-12)
    rounded = jax.jit(lambda x: (x + x).round(max_rank=3))(x)
    assert rounded.ranks == (1, 3, 3, 1)
    assert abs(float(rounded.norm()) - 2 * float(x.norm())) < 1e-9 * float(x.norm())


@pytest.mark.parametrize("name", ["torch", "tensorflow"])
def test_autograd_through_dot_matches_finite_differences(name):
    xp = _get(name)
    x = tt.random((3, 4, 3), 2, seed=0, backend=xp)
    y = tt.random((3, 4, 3), 3, seed=1, backend=xp)

    def loss(x):
        return tt.dot(x, y) * x.norm()

    value, g = xp.value_and_grad(loss)(x)
    assert isinstance(g, tt.TTTensor)
    rng = np.random.default_rng(0)
    dirs = [xp.asarray(rng.standard_normal(xp.shape(c))) for c in x.cores]
    h = 1e-6
    fp = float(tnlib.to_numpy(loss(tt.TTTensor([c + h * d for c, d in zip(x.cores, dirs)]))))
    fm = float(tnlib.to_numpy(loss(tt.TTTensor([c - h * d for c, d in zip(x.cores, dirs)]))))
    fd = (fp - fm) / (2 * h)
    ad = sum(float(np.sum(tnlib.to_numpy(gc) * tnlib.to_numpy(d)))
             for gc, d in zip(g.cores, dirs))
    assert abs(fd - ad) < 1e-6 * abs(fd)


def test_gradient_through_evaluate_and_tt_svd(ad_backend):
    xp = ad_backend
    a = xp.asarray(np.random.default_rng(0).standard_normal((3, 4, 5)))
    idx = np.array([[0, 1, 2], [2, 3, 4], [1, 0, 0]])

    def loss(a):
        x = tt.tt_svd(a, eps=0.0)
        return xp.sum(x.evaluate(idx) ** 2)

    g = xp.grad(loss)(a)
    ref = np.zeros((3, 4, 5))
    an = tnlib.to_numpy(a)
    for i in idx:
        ref[tuple(i)] += 2 * an[tuple(i)]
    np.testing.assert_allclose(tnlib.to_numpy(g), ref, atol=1e-8)
