"""Keras 3 and Flax layers compute the torch layer's function from the same cores."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tnlib.errors import ShapeError

IN, OUT, RANKS = (3, 4, 5), (4, 2, 3), (1, 3, 5, 1)


def _cores_and_input(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(RANKS[k], IN[k], OUT[k], RANKS[k + 1]) for k in range(3)]
    cores = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    bias = rng.standard_normal(24).astype(np.float32)
    x = rng.standard_normal((6, 60)).astype(np.float32)
    return cores, bias, x


def _torch_reference(cores, bias, x):
    torch = pytest.importorskip("torch")
    from tnlib.nn.torch import TTLinear

    layer = TTLinear(IN, OUT, RANKS)
    with torch.no_grad():
        for p, c in zip(layer.cores, cores):
            p.copy_(torch.from_numpy(c))
        layer.bias.copy_(torch.from_numpy(bias))
        return layer(torch.from_numpy(x)).numpy()


_KERAS_SCRIPT = r"""
import json, sys
import numpy as np
import keras
from tnlib.nn.keras import TTDense
data = json.loads(sys.stdin.read())
layer = TTDense(data["in"], data["out"], data["ranks"])
x = np.asarray(data["x"], "float32")
layer.build((None, x.shape[1]))
layer.set_weights([np.asarray(c, "float32") for c in data["cores"]] +
                  [np.asarray(data["bias"], "float32")])
from tnlib.nn.keras import TTEmbedding
emb = TTEmbedding(24, 6, data["ranks"], voc_shape=data["out"], emb_shape=[2, 1, 3])
emb.set_weights([np.asarray(c, "float32") for c in data["emb_cores"]])
rows = emb(np.asarray(data["idx"]))
from tnlib.nn.keras import TRL
trl = TRL((3, 4, 5), 2, data["trl_rank"])
trl.set_weights([np.asarray(f, "float32") for f in data["trl"]])
z = trl(np.asarray(data["trl_x"], "float32"))
print(json.dumps({"backend": keras.backend.backend(),
                  "y": np.asarray(keras.ops.convert_to_numpy(layer(x))).tolist(),
                  "rows": np.asarray(keras.ops.convert_to_numpy(rows)).tolist(),
                  "trl": np.asarray(keras.ops.convert_to_numpy(z)).tolist()}))
"""


def test_keras_layer_matches_torch_and_round_trips_through_a_keras_file(tmp_path):
    keras = pytest.importorskip("keras")
    from tnlib.nn.keras import TTDense

    cores, bias, x = _cores_and_input()
    want = _torch_reference(cores, bias, x)
    layer = TTDense(IN, OUT, 4)
    layer.build((None, 60))
    assert [w.name for w in layer.weights] == ["core_0", "core_1", "core_2", "bias"]
    layer = TTDense(IN, OUT, RANKS)
    model = keras.Sequential([keras.Input((60,)), layer])
    layer.set_weights(cores + [bias])
    np.testing.assert_allclose(np.asarray(model(x)), want, rtol=2e-5, atol=2e-5)
    assert layer.count_params() == sum(c.size for c in cores) + 24
    path = str(tmp_path / "tt.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    assert loaded.layers[0].get_config()["ranks"] == list(RANKS)
    with pytest.raises(ShapeError, match="input"):
        TTDense(IN, OUT, 2).build((None, 61))


def test_keras_layer_trains_in_fit():
    keras = pytest.importorskip("keras")
    from tnlib.nn.keras import TTDense

    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 16)).astype("float32")
    y = (x @ rng.standard_normal((16, 1)) > 0).astype("float32")
    model = keras.Sequential([keras.Input((16,)), TTDense((4, 4), (4, 4), 2,
                                                          activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    hist = model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    assert hist.history["loss"][-1] < 0.6 * hist.history["loss"][0]


@pytest.mark.parametrize("keras_backend", ["jax", "torch"])
def test_keras_layer_on_other_keras_backends_matches_torch(keras_backend):
    pytest.importorskip("keras")
    pytest.importorskip(keras_backend)
    cores, bias, x = _cores_and_input()
    want = _torch_reference(cores, bias, x)
    # and the embedding: a 24 x 6 table of voc_shape OUT, the same ranks
    rng = np.random.default_rng(1)
    emb_cores = [rng.standard_normal((RANKS[k], OUT[k], e, RANKS[k + 1])).astype(np.float32)
                 for k, e in enumerate((2, 1, 3))]
    idx = np.array([[0, 23, 5], [7, 7, 12]])
    # and the tensor regression layer: (3, 4, 5) -> 2, Tucker ranks (2, 3, 2, 2)
    trl_params, trl_x, trl_want = _trl_reference()
    payload = json.dumps({"in": IN, "out": OUT, "ranks": RANKS, "x": x.tolist(),
                          "cores": [c.tolist() for c in cores], "bias": bias.tolist(),
                          "emb_cores": [c.tolist() for c in emb_cores],
                          "idx": idx.tolist(), "trl_rank": [2, 3, 2, 2],
                          "trl": [p.tolist() for p in trl_params], "trl_x": trl_x.tolist()})
    env = dict(os.environ, KERAS_BACKEND=keras_backend, TF_CPP_MIN_LOG_LEVEL="3",
               JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, "-c", _KERAS_SCRIPT], input=payload, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["backend"] == keras_backend
    np.testing.assert_allclose(np.asarray(out["y"]), want, rtol=2e-5, atol=2e-5)
    table = np.einsum("aipb,bjqc,ckrd->ijkpqr", *emb_cores).reshape(24, 6)
    np.testing.assert_allclose(np.asarray(out["rows"]), table[idx], rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(np.asarray(out["trl"]), trl_want, rtol=2e-5, atol=2e-5)


def _trl_reference():
    """Factors, core and bias of a Tucker TRL (3, 4, 5) -> 2, an input, and the torch
    layer's output."""
    torch = pytest.importorskip("torch")
    from tnlib.nn.torch import TRL

    rng = np.random.default_rng(5)
    layer = TRL((3, 4, 5), 2, (2, 3, 2, 2))
    params = [rng.standard_normal(tuple(p.shape)).astype(np.float32) for p in layer.factors]
    params.append(rng.standard_normal(2).astype(np.float32))
    x = rng.standard_normal((4, 3, 4, 5)).astype(np.float32)
    with torch.no_grad():
        for p, v in zip(list(layer.factors) + [layer.bias], params):
            p.copy_(torch.from_numpy(v))
        return params, x, layer(torch.from_numpy(x)).numpy()


def test_flax_nnx_and_linen_layers_match_torch_and_differentiate():
    pytest.importorskip("flax")
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from tnlib.nn.flax import TTDense, TTDenseLinen

    cores, bias, x = _cores_and_input()
    want = _torch_reference(cores, bias, x)
    layer = TTDense(IN, OUT, RANKS, rngs=nnx.Rngs(0))
    for p, c in zip(layer.cores, cores):
        p[...] = jnp.asarray(c)
    layer.bias[...] = jnp.asarray(bias)
    np.testing.assert_allclose(np.asarray(layer(jnp.asarray(x))), want, rtol=2e-5, atol=2e-5)
    leaves = jax.tree_util.tree_leaves(nnx.state(layer, nnx.Param))
    assert sum(leaf.size for leaf in leaves) == sum(c.size for c in cores) + 24

    @nnx.jit
    def loss_grad(model, xb):
        return nnx.grad(lambda m: jnp.sum(m(xb) ** 2))(model)

    grads = jax.tree_util.tree_leaves(loss_grad(layer, jnp.asarray(x)))
    assert len(grads) == 4 and all(float(jnp.abs(g).sum()) > 0 for g in grads)

    linen = TTDenseLinen(IN, OUT, RANKS)
    params = linen.init(jax.random.key(0), jnp.asarray(x))
    params = {"params": {**{f"core_{k}": jnp.asarray(c) for k, c in enumerate(cores)},
                         "bias": jnp.asarray(bias)}}
    np.testing.assert_allclose(np.asarray(linen.apply(params, jnp.asarray(x))), want,
                               rtol=2e-5, atol=2e-5)
    with pytest.raises(ShapeError, match="input"):
        layer(jnp.zeros((2, 59)))


def test_bad_inputs_and_rngs_name_themselves():
    from tnlib.errors import ArgumentError

    pytest.importorskip("flax")
    from flax import nnx

    from tnlib.nn.flax import TTDense as FlaxTTDense

    with pytest.raises(ArgumentError, match="rngs must be an nnx.Rngs"):
        FlaxTTDense(IN, OUT, RANKS, rngs=3)
    with pytest.raises(ArgumentError, match="param_dtype must be a floating-point"):
        FlaxTTDense(IN, OUT, RANKS, rngs=nnx.Rngs(0), param_dtype=np.int32)
    import jax

    from tnlib.nn.flax import TTDenseLinen

    with pytest.raises(ShapeError, match="in_shape .* and out_shape .* same number of factors"):
        TTDenseLinen(60, OUT, RANKS).init(jax.random.key(0), np.ones((2, 60), np.float32))
    layer = FlaxTTDense(IN, OUT, RANKS, rngs=nnx.Rngs(0))
    for bad in (None, "abc"):
        with pytest.raises(ArgumentError, match="input must be an array"):
            layer(bad)
    pytest.importorskip("keras")
    from tnlib.nn.keras import TTDense as KerasTTDense

    with pytest.raises(ArgumentError, match="input must be a tensor"):
        KerasTTDense(IN, OUT, RANKS)(None)  # unbuilt: refused by build
    built = KerasTTDense(IN, OUT, RANKS)
    built(np.ones((2, 60), dtype=np.float32))
    with pytest.raises(ArgumentError, match="input must be a tensor"):
        built(None)  # built: refused by call
    # a built layer meeting another input width: the framework's reshape error came out
    with pytest.raises(ShapeError, match=r"input has shape \(2, 59\), expected \(\.\.\., 60\)"):
        built(np.ones((2, 59), dtype=np.float32))
    with pytest.raises(ArgumentError, match="activation 'nope' is not a Keras activation"):
        KerasTTDense(IN, OUT, RANKS, activation="nope")
    # an integer policy's Gaussian cores raised TensorFlow's "Cannot convert 0.0 to int32"
    with pytest.raises(ArgumentError, match="TTDense: dtype must be a floating-point dtype or "
                                            "policy, got 'int32'"):
        KerasTTDense(IN, OUT, RANKS, dtype="int32")
    # one sample without a batch axis maps to one output vector, as a Dense layer does
    x = np.random.default_rng(0).standard_normal(60).astype(np.float32)
    y = np.asarray(built(x))
    assert y.shape == (built.spec.out_features,)
    np.testing.assert_allclose(y, np.asarray(built(x[None]))[0], rtol=1e-6)


def test_flax_layers_compute_in_the_dtype_asked_for_on_their_parameters():
    """``dtype=`` is the computation's dtype, as in ``nnx.Linear``: bfloat16 outputs from
    float32 parameters (which stay float32, and so do their gradients), the same values to
    bfloat16's resolution; an integer dtype is refused by name."""
    pytest.importorskip("flax")
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from tnlib.errors import ArgumentError
    from tnlib.nn.flax import TTDense, TTDenseLinen

    cores, bias, x = _cores_and_input()
    full = TTDense(IN, OUT, RANKS, rngs=nnx.Rngs(0))
    half = TTDense(IN, OUT, RANKS, rngs=nnx.Rngs(0), dtype=jnp.bfloat16)
    for layer in (full, half):
        for p, c in zip(layer.cores, cores):
            p[...] = jnp.asarray(c)
        layer.bias[...] = jnp.asarray(bias)
    want = np.asarray(full(jnp.asarray(x)))
    got = half(jnp.asarray(x))
    assert got.dtype == jnp.bfloat16 and half.cores[0][...].dtype == jnp.float32
    err = np.linalg.norm(np.asarray(got, np.float32) - want) / np.linalg.norm(want)
    assert 0 < err < 5e-2
    grads = jax.tree_util.tree_leaves(
        nnx.grad(lambda m: jnp.sum(m(jnp.asarray(x)).astype(jnp.float32) ** 2))(half))
    assert all(g.dtype == jnp.float32 for g in grads)
    linen = TTDenseLinen(IN, OUT, RANKS, dtype=jnp.bfloat16)
    params = linen.init(jax.random.key(0), jnp.asarray(x))
    assert linen.apply(params, jnp.asarray(x)).dtype == jnp.bfloat16
    assert params["params"]["core_0"].dtype == jnp.float32
    with pytest.raises(ArgumentError, match="TTDense: dtype must be a floating-point"):
        TTDense(IN, OUT, RANKS, rngs=nnx.Rngs(0), dtype=jnp.int8)
