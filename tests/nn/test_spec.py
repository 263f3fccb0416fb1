"""The framework-free half of the TT layers: shapes, ranks, init variance, contraction plans."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tnlib import tt
from tnlib.errors import ArgumentError, ShapeError
from tnlib.nn._spec import (
    HALVES_PREFERENCE,
    TTLayerSpec,
    apply_plan,
    auto_shapes,
    dense_weight,
    factor_shape,
)

from ..helpers import assert_like, np_of


def test_tensornet_mnist_layer_has_1725_parameters():
    spec = TTLayerSpec((7, 4, 7, 4), (5, 5, 5, 5), 4)
    assert spec.n_params(bias=True) == 1725
    assert spec.core_shapes == [(1, 7, 5, 4), (4, 4, 5, 4), (4, 7, 5, 4), (4, 4, 5, 1)]


@pytest.mark.parametrize("contraction", ["auto", "chain", "halves", "dense", "sequential"])
@pytest.mark.parametrize("batch", [1, 5, 300])
def test_every_plan_computes_x_times_the_dense_weight(backend, contraction, batch):
    """All routes give x @ W of the TT-matrix, to float64 round-off, on every backend."""
    spec = TTLayerSpec((3, 4, 2), (2, 5, 3), (1, 3, 4, 1))
    rng = np.random.default_rng(1)
    cores = [backend.asarray(rng.standard_normal(s)) for s in spec.core_shapes]
    w = np_of(tt.TTMatrix(cores).full())
    x = rng.standard_normal((batch, spec.in_features))
    plan = spec.plan(batch, contraction)
    y = apply_plan(plan, spec, backend.asarray(x), cores, backend.einsum, backend.reshape,
                   backend.matmul)
    assert_like(y, cores[0])
    assert backend.shape(y) == (batch, spec.out_features)
    np.testing.assert_allclose(np_of(y), x @ w, rtol=1e-12, atol=1e-12 * np.abs(x @ w).max())
    wd = dense_weight(spec, cores, backend.einsum, backend.reshape)
    np.testing.assert_allclose(np_of(wd), w, rtol=1e-12, atol=1e-13)


def test_auto_plan_is_never_costlier_than_either_route():
    big = TTLayerSpec((8, 8, 8, 8), (8, 8, 8, 8), 8)
    for batch in (1, 32, 256):
        plan = big.plan(batch)
        assert plan.route in ("chain", "halves")
        assert plan.flops < 2 * batch * 4096 * 4096 / 3
    for spec in (big, TTLayerSpec((4, 4), (4, 4), 16), TTLayerSpec((2, 2, 2), (3, 3, 3), 9)):
        for batch in (1, 7, 1000):
            auto = spec.plan(batch)
            score = auto.flops * (HALVES_PREFERENCE if auto.route == "halves" else 1.0)
            for c in ("chain", "halves", "dense", "sequential"):
                other = spec.plan(batch, c)
                assert score <= other.flops * (HALVES_PREFERENCE if other.route == "halves"
                                               else 1.0)
    # a cached dense weight makes the dense route cheaper for tiny batches
    assert big.plan(1, dense_cached=True).flops <= big.plan(1, "dense").flops


def test_init_std_gives_the_dense_variance():
    spec = TTLayerSpec((4, 8, 8), (8, 4, 8), 6)
    rng = np.random.default_rng(0)
    for init, target in [("glorot", 2 / (256 + 256)), ("he", 2 / 256)]:
        std = spec.core_std(init)
        var = np.mean([np.var(np_of(tt.TTMatrix(
            [std * rng.standard_normal(s) for s in spec.core_shapes]).full()))
            for _ in range(20)])
        assert abs(var / target - 1) < 0.1, (init, var, target)


def test_ranks_are_parsed_and_clipped_to_what_the_shapes_allow():
    assert TTLayerSpec((2, 3, 4), (2, 3, 4), 100).ranks == (1, 4, 16, 1)
    assert TTLayerSpec((2, 3, 4), (2, 3, 4), [2, 3]).ranks == (1, 2, 3, 1)
    assert TTLayerSpec((2, 3, 4), (2, 3, 4), (1, 2, 3, 1)).ranks == (1, 2, 3, 1)


@pytest.mark.parametrize("args, error, word", [
    (((2, 3), (2, 3, 4), 2), ShapeError, "same number of factors"),
    (((2, 3), (2, 3), 0), ArgumentError, "ranks"),
    (((2, 3), (2, 3), 1.5), ArgumentError, "ranks"),
    (((2, 3), (2, 3), [1, 2, 3]), ShapeError, "ranks"),
    (((2, 0), (2, 3), 2), ShapeError, "in_shape"),
    (((2, 3), "ab", 2), ShapeError, "out_shape"),
])
def test_bad_shapes_and_ranks_name_the_argument(args, error, word):
    with pytest.raises(error, match=word):
        TTLayerSpec(*args)


def test_bad_plan_and_init_options_are_refused():
    spec = TTLayerSpec((2, 3), (2, 3), 2)
    with pytest.raises(ArgumentError, match="contraction"):
        spec.plan(4, "fastest")
    with pytest.raises(ArgumentError, match="init"):
        spec.core_std("xavier")


def test_automatic_factorizations_multiply_back_and_are_balanced():
    assert factor_shape(4096, 4) == (8, 8, 8, 8)
    assert factor_shape(784, 4) == (7, 7, 4, 4)
    for n_in, n_out in [(784, 256), (4096, 1000), (64, 10), (97, 12)]:
        a, b = auto_shapes(n_in, n_out)
        assert len(a) == len(b)
        assert math.prod(a) == n_in and math.prod(b) == n_out
    assert auto_shapes(97, 12) == ((97,), (12,))  # a prime size leaves one core
