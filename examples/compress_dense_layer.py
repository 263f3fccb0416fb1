"""Compress a trained dense layer into a TT layer by TT-SVD, then fine-tune.

An MLP 64 -> 256 -> 10 is trained on digits; its hidden layer is replaced by
``TTLinear.from_linear`` at several TT-ranks. Prints test accuracy before and after
fine-tuning, the hidden layer's weight count and the relative error of the weight.

    python examples/compress_dense_layer.py
"""

from __future__ import annotations

import copy

import torch
from _common import accuracy, digits, n_params, train

from tnlib.nn.torch import TTLinear


def run(ranks=(4, 8, 16), epochs: int = 60, finetune: int = 20, seed: int = 0) -> dict:
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = digits(seed)
    torch.manual_seed(seed)
    dense = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    seconds = train(dense, xtr, ytr, epochs, seed=seed)
    out = {"dense": {"accuracy": accuracy(dense, xte, yte), "weights": 64 * 256,
                     "seconds": seconds}}
    w = dense[0].weight.detach()
    for rank in ranks:
        model = copy.deepcopy(dense)
        model[0] = TTLinear.from_linear(dense[0], ranks=rank, in_shape=(8, 8),
                                        out_shape=(16, 16))
        err = float(torch.linalg.norm(model[0].weight().detach().T - w) / torch.linalg.norm(w))
        before = accuracy(model, xte, yte)
        seconds = train(model, xtr, ytr, finetune, lr=1e-3, seed=seed)
        out[f"TT rank {rank}"] = {"accuracy_before": before, "accuracy": accuracy(model, xte, yte),
                                  "weights": n_params(model[0]) - 256, "weight_error": err,
                                  "seconds": seconds}
    return out


if __name__ == "__main__":
    for name, r in run().items():
        extra = "" if name == "dense" else (
            f"  (right after TT-SVD {r['accuracy_before']:.4f}, weight error "
            f"{r['weight_error']:.2f})")
        print(f"{name:10s} {r['weights']:6d} weights, test accuracy {r['accuracy']:.4f}, "
              f"{r['seconds']:.1f} s{extra}")
