"""A TT layer in place of a dense hidden layer: digits, 64 = 8x8 -> 256 = 16x16.

Prints test accuracy, parameter counts and training time of the TT-layer MLP and
of the same MLP with a dense hidden layer.

    python examples/tt_mlp_digits.py
"""

from __future__ import annotations

import torch
from _common import accuracy, digits, n_params, train

from tnlib.nn.torch import TTLinear


def run(epochs: int = 60, rank: int = 4, seed: int = 0) -> dict:
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = digits(seed)
    out = {}
    for name, hidden in [("TT", lambda: TTLinear((8, 8), (16, 16), ranks=rank)),
                         ("dense", lambda: torch.nn.Linear(64, 256))]:
        torch.manual_seed(seed)
        layer = hidden()
        model = torch.nn.Sequential(layer, torch.nn.ReLU(), torch.nn.Linear(256, 10))
        seconds = train(model, xtr, ytr, epochs, seed=seed)
        out[name] = {"accuracy": accuracy(model, xte, yte), "seconds": seconds,
                     "hidden_params": n_params(layer) - 256,  # weights only, no bias
                     "params": n_params(model)}
    return out


if __name__ == "__main__":
    for name, r in run().items():
        print(f"{name:6s} hidden layer: test accuracy {r['accuracy']:.4f}, "
              f"{r['hidden_params']:6d} weights in the hidden layer ({r['params']} in all), "
              f"trained in {r['seconds']:.1f} s")
