"""TT embeddings: rows and gradients of the TT-matrix table, padding, conversion, errors;
the Keras and Flax layers compute the torch layer's rows from the same cores."""

from __future__ import annotations

import numpy as np
import pytest

from tnlib.errors import ArgumentError, ShapeError
from tnlib.nn._embedding import embedding_shape, lookup, vocabulary_shape

torch = pytest.importorskip("torch")
from tnlib.nn._torch_embedding import _take_rows  # noqa: E402
from tnlib.nn.torch import TTEmbedding  # noqa: E402

N, DIM, VOC, EMB, RANKS = 50, 12, (4, 4, 4), (2, 3, 2), (1, 3, 4, 1)


def _layer(**kw):
    torch.manual_seed(0)
    return TTEmbedding(N, DIM, RANKS, voc_shape=VOC, emb_shape=EMB, dtype=torch.float64, **kw)


def _table(layer):
    """The dense table from the cores by tnlib's TT-matrix (differentiable)."""
    return layer.to_tt_matrix().full()[:layer.num_embeddings]


def test_rows_and_gradients_are_those_of_the_tt_matrix_table():
    """Any index shape gives the table's rows; the cores' gradients are those through the
    dense table; the rows past num_embeddings that voc_shape adds (64 > 50) are never read."""
    layer = _layer()
    idx = torch.tensor([[0, 49, 7], [7, 13, 21], [48, 1, 0], [5, 5, 5]])
    out = layer(idx)
    assert out.shape == (4, 3, DIM) and out.dtype == torch.float64
    weight = _table(layer)
    torch.testing.assert_close(out, weight[idx], rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(layer.weight(), weight, rtol=1e-13, atol=1e-13)
    g = torch.randn(out.shape, dtype=torch.float64)
    got = torch.autograd.grad((out * g).sum(), list(layer.cores))
    want = torch.autograd.grad((weight[idx] * g).sum(), list(layer.cores))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # every split of the cores into a merged block and a per-index chain: the same rows
    # and gradients (the block pays for large tables and batches)
    flat, g = idx.reshape(-1), g.reshape(-1, DIM)
    for split in (1, 2, 3):
        rows = lookup(layer.spec, flat, list(layer.cores), _take_rows, torch.einsum,
                      lambda a, s: a.reshape(s), split=split)
        torch.testing.assert_close(rows, weight[flat], rtol=1e-13, atol=1e-13)
        got = torch.autograd.grad((rows * g).sum(), list(layer.cores))
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    big = TTEmbedding(10**6, 256, 32).spec
    assert [big.split_for(n) for n in (256, 12800)] == [1, 2]
    assert layer(torch.zeros((0,), dtype=torch.long)).shape == (0, DIM)
    assert layer(torch.tensor(3)).shape == (DIM,)  # a 0-d index, as nn.Embedding takes it


def test_padding_rows_are_zero_and_carry_no_gradient():
    layer = _layer(padding_idx=-1)  # counts from the end, as nn.Embedding's
    assert layer.padding_idx == N - 1
    idx = torch.tensor([3, N - 1, 8, N - 1])
    out = layer(idx)
    assert torch.all(out[1] == 0) and torch.all(out[3] == 0) and torch.any(out[0] != 0)
    g = torch.randn(out.shape, dtype=torch.float64)
    got = torch.autograd.grad((out * g).sum(), list(layer.cores))
    keep = torch.tensor([True, False, True, False])
    want = torch.autograd.grad((_table(layer)[idx[keep]] * g[keep]).sum(), list(layer.cores))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_initialization_scale_and_default_shapes():
    """The table's entries have the standard deviation asked for (the cores' variance is
    spread over the rank paths); default shapes cover the vocabulary with little waste and
    put the embedding's small factors inside."""
    torch.manual_seed(0)
    for std in (1.0, 0.02):
        layer = TTEmbedding(20000, 64, ranks=16, std=std)
        assert abs(float(layer(torch.arange(0, 20000, 7)).detach().std()) / std - 1) < 0.25
    assert (layer.voc_shape, layer.emb_shape) == ((28, 28, 26), (4, 4, 4))
    # the cores' scale is formed in logs: a std whose square overflows still gives one
    spec = TTEmbedding(20000, 64, ranks=16).spec
    assert spec.core_std(1e154) / spec.core_std(1.0) == pytest.approx(1e154 ** (1 / 3))
    assert vocabulary_shape(10**6, 3) == (100, 100, 100) and vocabulary_shape(5, 3) == (2, 2, 2)
    assert embedding_shape(256, 3) == (8, 4, 8) and embedding_shape(7, 3) == (7, 1, 1)
    for n in (1, 2, 997, 10**4, 50257, 10**6):
        for d in (1, 2, 3, 4):
            shape = vocabulary_shape(n, d)
            assert len(shape) == d and n <= np.prod(shape) <= 1.1 * n + 2 ** d


def test_from_embedding_reproduces_the_table_to_the_accuracy_asked_for():
    torch.manual_seed(1)
    dense = torch.nn.Embedding(100, 16, padding_idx=0, dtype=torch.float64)
    exact = TTEmbedding.from_embedding(dense)
    torch.testing.assert_close(exact.weight(), dense.weight, rtol=1e-12, atol=1e-12)
    assert exact.padding_idx == 0 and exact.weight().dtype == torch.float64
    for eps in (0.3, 0.6):
        approx = TTEmbedding.from_embedding(dense, eps=eps)
        with torch.no_grad():
            err = float(torch.linalg.norm(approx.weight() - dense.weight))
        assert err <= eps * float(torch.linalg.norm(dense.weight.detach())) * (1 + 1e-10)
        assert approx.ranks[1] < exact.ranks[1]
    small = TTEmbedding.from_embedding(dense, ranks=2, voc_shape=(10, 10), emb_shape=(4, 4))
    assert small.ranks == (1, 2, 1) and small.voc_shape == (10, 10)
    half = TTEmbedding.from_embedding(torch.nn.Embedding(30, 8).to(torch.bfloat16))
    assert half.cores[0].dtype == torch.bfloat16


def test_bad_input_names_itself():
    layer = _layer()
    with pytest.raises(ShapeError, match=r"TTEmbedding: index 50 is out of range for "
                                         r"num_embeddings=50"):
        layer(torch.tensor([1, 50]))
    with pytest.raises(ShapeError, match="index -1 is out of range"):
        layer(torch.tensor([-1]))
    with pytest.raises(ArgumentError, match="indices must be an integer torch.Tensor, got "
                                            "torch.float32"):
        layer(torch.tensor([1.0]))
    with pytest.raises(ArgumentError, match="got list"):
        layer([1, 2])
    with pytest.raises(ShapeError, match=r"voc_shape \(4, 4\) holds 16 rows, fewer than "
                                         r"num_embeddings=50"):
        TTEmbedding(50, 12, 2, voc_shape=(4, 4))
    with pytest.raises(ShapeError, match=r"emb_shape \(2, 2\) has product 4, expected "
                                         r"embedding_dim=12"):
        TTEmbedding(50, 12, 2, emb_shape=(2, 2))
    with pytest.raises(ShapeError, match="must have the same number of factors"):
        TTEmbedding(50, 12, 2, voc_shape=(8, 8), emb_shape=(2, 2, 3))
    for kw, match in (({"padding_idx": 50}, r"padding_idx must be an int in \[-50, 50\)"),
                      ({"std": 0}, "std must be a finite number > 0"),
                      ({"dtype": torch.int64}, "dtype must be a floating-point")):
        with pytest.raises(ArgumentError, match=match):
            TTEmbedding(50, 12, 2, **kw)
    for n, name in ((0, "num_embeddings"), (2.5, "num_embeddings")):
        with pytest.raises(ArgumentError, match=f"{name} must be an integer >= 1"):
            TTEmbedding(n, 12, 2)
    with pytest.raises(ArgumentError, match="TTEmbedding: ranks must be integers >= 1"):
        TTEmbedding(50, 12, 0)
    with pytest.raises(ArgumentError, match="from_embedding: embedding must be a "
                                            "torch.nn.Embedding, got Linear"):
        TTEmbedding.from_embedding(torch.nn.Linear(3, 3))


def _cores(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((RANKS[k], VOC[k], EMB[k], RANKS[k + 1])).astype(np.float32)
            for k in range(3)]


def _torch_rows(cores, idx):
    layer = TTEmbedding(N, DIM, RANKS, voc_shape=VOC, emb_shape=EMB)
    with torch.no_grad():
        for p, c in zip(layer.cores, cores):
            p.copy_(torch.from_numpy(c))
        return layer(torch.from_numpy(idx)).numpy()


IDX = np.array([[0, 49, 7], [13, 21, 0]])


def test_keras_embedding_matches_torch_masks_and_round_trips(tmp_path):
    keras = pytest.importorskip("keras")
    from tnlib.nn.keras import TTEmbedding as KerasTTEmbedding

    cores = _cores()
    layer = KerasTTEmbedding(N, DIM, RANKS, voc_shape=VOC, emb_shape=EMB, mask_zero=True)
    layer.set_weights(cores)
    model = keras.Sequential([keras.Input((3,), dtype="int32"), layer])
    np.testing.assert_allclose(np.asarray(model(IDX)), _torch_rows(cores, IDX), rtol=2e-5,
                               atol=2e-5)
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(IDX)), IDX != 0)
    assert layer.count_params() == sum(c.size for c in cores)
    bad = np.asarray(layer(np.array([3, 50, -2])))
    assert np.all(np.isfinite(bad[0])) and np.all(np.isnan(bad[1:]))
    path = str(tmp_path / "emb.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(IDX)), np.asarray(model(IDX)))
    with pytest.raises(ArgumentError, match="TTEmbedding: indices must be integers"):
        layer(np.array([1.0]))


def test_keras_embedding_trains_in_fit():
    """Sequences labelled by whether they contain token 1: an embedding, mean pooling and a
    logistic head learn it."""
    keras = pytest.importorskip("keras")
    from tnlib.nn.keras import TTEmbedding as KerasTTEmbedding

    rng = np.random.default_rng(0)
    x = rng.integers(2, 200, size=(512, 6))
    y = (rng.random(512) < 0.5).astype("float32")
    x[y == 1, rng.integers(0, 6, size=int(y.sum()))] = 1
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,), dtype="int32"),
                              KerasTTEmbedding(200, 16, ranks=4),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=20, batch_size=64, verbose=0)
    assert hist.history["accuracy"][-1] > 0.95


def test_flax_embed_matches_torch_and_differentiates():
    pytest.importorskip("flax")
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from tnlib.nn.flax import TTEmbed

    cores = _cores()
    layer = TTEmbed(N, DIM, RANKS, voc_shape=VOC, emb_shape=EMB, rngs=nnx.Rngs(0))
    for p, c in zip(layer.cores, cores):
        p[...] = jnp.asarray(c)
    np.testing.assert_allclose(np.asarray(layer(jnp.asarray(IDX))), _torch_rows(cores, IDX),
                               rtol=2e-5, atol=2e-5)

    @nnx.jit
    def grads(model, idx):
        return nnx.grad(lambda m: jnp.sum(m(idx) ** 2))(model)

    leaves = jax.tree_util.tree_leaves(grads(layer, jnp.asarray(IDX)))
    assert len(leaves) == 3 and all(float(jnp.abs(g).sum()) > 0 for g in leaves)
    bad = np.asarray(layer(jnp.array([3, 50, -2])))
    assert np.all(np.isfinite(bad[0])) and np.all(np.isnan(bad[1:]))
    low = TTEmbed(N, DIM, RANKS, voc_shape=VOC, emb_shape=EMB, dtype=jnp.bfloat16,
                  rngs=nnx.Rngs(0))
    assert low(jnp.asarray(IDX)).dtype == jnp.bfloat16
    assert low.cores[0][...].dtype == jnp.float32
    with pytest.raises(ArgumentError, match="TTEmbed: indices must be integers"):
        layer(jnp.array([1.0]))
    with pytest.raises(ArgumentError, match="TTEmbed: rngs must be an nnx.Rngs"):
        TTEmbed(N, DIM, 2, rngs=0)
