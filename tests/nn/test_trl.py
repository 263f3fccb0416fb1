"""The tensor regression layer (torch): outputs and gradients those of its dense weight."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tnlib.nn._regression import TRLSpec

torch = pytest.importorskip("torch")
from tnlib.nn.torch import TRL  # noqa: E402

CASES = [("tucker", (3, 4, 2, 2, 5)), ("cp", 6), ("tt", (3, 4, 5, 4))]


@pytest.mark.parametrize("factorization, rank", CASES)
def test_outputs_and_gradients_equal_the_dense_weights(factorization, rank):
    torch.manual_seed(0)
    layer = TRL((4, 5, 3), (2, 5), rank, factorization=factorization, dtype=torch.float64)
    x = torch.randn(7, 4, 5, 3, dtype=torch.float64)
    y = layer(x)
    w = layer.full_weight()
    assert w.shape == (4, 5, 3, 2, 5) and y.shape == (7, 2, 5)
    want = torch.einsum("bijk,ijkop->bop", x, w) + layer.bias
    assert torch.allclose(y, want, rtol=1e-12, atol=1e-12)
    (y ** 2).sum().backward()
    grads = [p.grad.clone() for p in layer.factors]
    layer.zero_grad()
    (torch.einsum("bijk,ijkop->bop", x, layer.full_weight()) + layer.bias).pow(2).sum().backward()
    for g, p in zip(grads, layer.factors):
        assert torch.allclose(g, p.grad, rtol=1e-10, atol=1e-12)
    n_params = sum(p.numel() for p in layer.parameters())
    assert n_params == layer.spec.n_params() < 4 * 5 * 3 * 2 * 5 + 10


@pytest.mark.parametrize("factorization, rank", CASES)
def test_both_contraction_orders_agree(factorization, rank):
    """The matrix path (the weight as two matrices, or Tucker's dense weight) and the
    einsum path give the same outputs and gradients; the cost model picks the matrix path
    for a small head and einsum for a large Tucker weight (never formed past 2^24)."""
    torch.manual_seed(2)
    layer = TRL((4, 5, 3), (2, 5), rank, factorization=factorization, dtype=torch.float64)
    x = torch.randn(6, 4, 5, 3, dtype=torch.float64)
    outs, grads = [], []
    for matrix in (True, False):
        layer.spec._plans[6] = matrix
        layer.zero_grad()
        y = layer(x)
        (y ** 3).sum().backward()
        outs.append(y.detach())
        grads.append([p.grad.clone() for p in layer.factors])
    assert torch.allclose(outs[0], outs[1], rtol=1e-12, atol=1e-12)
    for a, b in zip(*grads):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    assert TRLSpec((64, 8, 8), 10, (16, 4, 4, 10)).matrix_first(32)
    assert not TRLSpec((256, 32, 32), 1000, (16, 8, 8, 16)).matrix_first(64)


@pytest.mark.parametrize("factorization, rank", [("tucker", 8), ("cp", 16), ("tt", 8)])
def test_the_initialization_gives_glorot_variance(factorization, rank):
    """The dense weight's entries have variance 2 / (fan_in + fan_out) (within sampling)."""
    torch.manual_seed(1)
    stds = []
    for _ in range(20):
        layer = TRL((16, 6, 6), 10, rank, factorization=factorization)
        stds.append(float(layer.full_weight().detach().std()))
    want = (2.0 / (16 * 6 * 6 + 10)) ** 0.5
    assert 0.75 * want < np.median(stds) < 1.25 * want


def test_trains_on_digits():
    """8x8 digit images as (1, 8, 8) activations, a Tucker TRL of 10 classes: above 90 %
    held-out accuracy in a few hundred full-batch Adam steps."""
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x = torch.tensor(digits.images / 16.0, dtype=torch.float32)[:, None]
    y = torch.tensor(digits.target)
    train, test = slice(0, 1400), slice(1400, None)
    torch.manual_seed(0)
    layer = TRL((1, 8, 8), 10, (1, 6, 6, 10))
    opt = torch.optim.Adam(layer.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(x[train]), y[train])
        loss.backward()
        opt.step()
    acc = float((layer(x[test]).argmax(1) == y[test]).float().mean())
    assert acc > 0.9


def test_bad_input_is_named():
    cases = [
        (dict(input_shape=(4, 0)), tnlib.ShapeError,
         "input_shape must be a non-empty sequence of positive ints"),
        (dict(output_shape="a"), tnlib.ShapeError,
         "output_shape must be a non-empty sequence of positive ints"),
        (dict(factorization="ht"), tnlib.ArgumentError, "factorization must be one of"),
        (dict(rank=(2, 2)), tnlib.ShapeError, "rank for factorization='tucker' must be one "
                                              "int or 4 ints"),
        (dict(rank=(2, 2), factorization="cp"), tnlib.ShapeError,
         "rank for factorization=.cp. must be an int"),
        (dict(rank=0), tnlib.ArgumentError, "ranks must be positive ints"),
        (dict(rank=2.5), tnlib.ArgumentError, "rank must be an int or a sequence"),
    ]
    for kwargs, error, match in cases:
        args = dict(input_shape=(4, 5, 3), output_shape=2, rank=2)
        args.update(kwargs)
        with pytest.raises(error, match=f"TRL: {match}"):
            TRL(**args)
    layer = TRL((4, 5, 3), 2, 2)
    with pytest.raises(tnlib.ShapeError, match=r"TRL: input must have shape \(batch, \*\(4, 5, "
                                               r"3\)\), got \(2, 4, 5\)"):
        layer(torch.randn(2, 4, 5))


def test_ranks_are_clipped_to_the_modes():
    spec = TRLSpec((4, 5, 3), 2, 50, "tucker")
    assert spec.ranks == (4, 5, 3, 2)
    spec = TRLSpec((4, 5, 3), 2, 50, "tt")
    assert spec.ranks == (4, 6, 2)


def test_keras_trl_matches_torch_and_round_trips_through_a_keras_file(tmp_path):
    keras = pytest.importorskip("keras")
    from tests.nn.test_keras_flax import _trl_reference
    from tnlib.nn.keras import TRL as KerasTRL

    params, x, want = _trl_reference()
    layer = KerasTRL((3, 4, 5), 2, (2, 3, 2, 2))
    model = keras.Sequential([keras.Input((3, 4, 5)), layer])
    assert [w.name for w in layer.weights] == [f"factor_{k}" for k in range(5)] + ["bias"]
    layer.set_weights(params)
    np.testing.assert_allclose(np.asarray(model(x)), want, rtol=2e-5, atol=2e-5)
    path = str(tmp_path / "trl.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    assert loaded.layers[0].get_config()["rank"] == [2, 3, 2, 2]
    with pytest.raises(tnlib.ShapeError, match="TRL: input must have shape"):
        layer(np.zeros((2, 3, 4), "float32"))


def test_flax_trl_matches_torch_and_differentiates():
    pytest.importorskip("flax")
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from tests.nn.test_keras_flax import _trl_reference
    from tnlib.nn.flax import TRL as FlaxTRL

    params, x, want = _trl_reference()
    layer = FlaxTRL((3, 4, 5), 2, (2, 3, 2, 2), rngs=nnx.Rngs(0))
    for p, v in zip(list(layer.factors), params[:-1]):
        p[...] = jnp.asarray(v)
    layer.bias[...] = jnp.asarray(params[-1])
    np.testing.assert_allclose(np.asarray(layer(x)), want, rtol=2e-5, atol=2e-5)
    grads = nnx.grad(lambda m: jnp.sum(m(x) ** 2))(layer)
    w = np.asarray(layer.full_weight())
    np.testing.assert_allclose(w, np.asarray(jnp.einsum(layer.spec.dense_equation(),
                                                        *[jnp.asarray(v) for v in params[:-1]])),
                               rtol=1e-6)
    core_grad = np.asarray(grads.factors[4][...])
    assert core_grad.shape == (2, 3, 2, 2) and np.abs(core_grad).max() > 0
    assert jax.jit(lambda m, x: m(x))(layer, x).shape == (4, 2)


def test_from_linear_reproduces_or_compresses_a_trained_head():
    """Full ranks give the linear layer's function; a CP-rank-3 weight is recovered by
    factorization='cp'; ranks bound the result; errors name the function."""
    torch.manual_seed(3)
    dense = torch.nn.Linear(4 * 5 * 3, 6, dtype=torch.float64)
    x = torch.randn(9, 4, 5, 3, dtype=torch.float64)
    want = dense(x.reshape(9, -1))
    for fact in ("tucker", "tt"):
        layer = TRL.from_linear(dense, (4, 5, 3), factorization=fact)
        assert torch.allclose(layer(x), want, rtol=1e-10, atol=1e-10)
        assert layer.factors[0].dtype == torch.float64
    small = TRL.from_linear(dense, (4, 5, 3), rank=(2, 2, 2, 3))
    assert small.rank == (2, 2, 2, 3)
    rng = np.random.default_rng(0)
    parts = [rng.standard_normal((n, 3)) for n in (4, 5, 3, 6)]
    w = np.einsum("ir,jr,kr,or->ijko", *parts).reshape(60, 6)
    with torch.no_grad():
        dense.weight.copy_(torch.from_numpy(w.T))
    layer = TRL.from_linear(dense, (4, 5, 3), rank=3, factorization="cp")
    err = (layer(x) - dense(x.reshape(9, -1))).norm() / dense(x.reshape(9, -1)).norm()
    assert float(err.detach()) < 1e-6
    with pytest.raises(tnlib.ShapeError, match=r"TRL.from_linear: input_shape \(4, 5\) has 20"):
        TRL.from_linear(dense, (4, 5))
    with pytest.raises(tnlib.ArgumentError, match="factorization='cp' needs rank"):
        TRL.from_linear(dense, (4, 5, 3), factorization="cp")
    with pytest.raises(tnlib.ArgumentError, match="linear must be a torch.nn.Linear"):
        TRL.from_linear(torch.nn.Conv2d(1, 1, 1), (4, 5, 3))


def test_keras_trl_trains_in_fit_and_traces_for_any_batch():
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    from tnlib.nn.keras import TRL as KerasTRL

    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 3, 4, 5)).astype("float32")
    y = (x.reshape(256, -1) @ rng.standard_normal((60, 1)) > 0).astype("float32")
    keras.utils.set_random_seed(0)
    layer = KerasTRL((3, 4, 5), 1, (2, 3, 3, 1))
    model = keras.Sequential([keras.Input((3, 4, 5)), layer])
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=10, batch_size=64, verbose=0)
    assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0]
    if keras.backend.backend() == "tensorflow":  # a graph whose batch is unknown
        traced = tf.function(layer, input_signature=[tf.TensorSpec([None, 3, 4, 5])])
        np.testing.assert_allclose(np.asarray(traced(x[:7])), np.asarray(layer(x[:7])),
                                   rtol=1e-5, atol=1e-6)
