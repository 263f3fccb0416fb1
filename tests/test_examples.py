"""The scripts of examples/ run, on small settings, and reach sensible results."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))


def test_tt_mlp_on_digits_learns_with_a_fraction_of_the_weights():
    import tt_mlp_digits

    r = tt_mlp_digits.run(epochs=15)
    assert r["TT"]["accuracy"] > 0.93
    assert r["TT"]["hidden_params"] * 16 == r["dense"]["hidden_params"]


def test_compressing_a_trained_layer_keeps_it_useful():
    import compress_dense_layer

    r = compress_dense_layer.run(ranks=(8,), epochs=15, finetune=5)
    assert r["TT rank 8"]["weights"] * 8 == r["dense"]["weights"]
    assert r["TT rank 8"]["accuracy"] > 0.9
    assert 0 < r["TT rank 8"]["weight_error"] < 1


def test_cp_convolution_keeps_the_cnn_accurate():
    import cp_conv_cnn

    r = cp_conv_cnn.run(ranks=(16,), epochs=4, finetune=1)
    assert r["CP rank 16"]["params"] * 5 < r["original"]["params"]
    assert r["CP rank 16"]["accuracy"] > r["original"]["accuracy"] - 0.05


def test_tt_gru_beats_the_gru_on_blob_directions_with_far_fewer_weights():
    import tt_gru_sequences

    r = tt_gru_sequences.run(n_train=300, n_test=300, epochs=8)
    assert r["TT-GRU"]["input_map_params"] * 100 <= r["GRU"]["input_map_params"]
    assert r["TT-GRU"]["accuracy"] >= r["GRU"]["accuracy"]


def test_exponential_machine_example_on_breast_cancer():
    import exponential_machine

    rows = exponential_machine.compare(exponential_machine.breast_cancer(), {
        "expm": exponential_machine.ExponentialMachine(rank=4, alpha=1e-3, max_iter=60,
                                                       random_state=0)})
    assert rows["expm"]["auc"] > 0.98
