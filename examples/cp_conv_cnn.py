"""CP-decomposed convolution (Lebedev et al.): a small CNN on digits, before and after.

A CNN (conv 1->32, conv 32->64, both 3x3, then a linear head) is trained on the
8x8 digits; its second convolution is replaced by ``cp_conv2d`` at several CP
ranks (four thin convolutions) and fine-tuned briefly. Prints test accuracy,
the convolution's parameter count and its inference time on a batch.

    python examples/cp_conv_cnn.py
"""

from __future__ import annotations

import copy
import statistics
import time

import torch
from _common import accuracy, digits, n_params, train

from tnlib.nn.torch import cp_conv2d, tucker_conv2d


def cnn() -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 16, 10))


def _time(module, x, repeats: int = 7) -> float:
    with torch.no_grad():
        module(x)
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            module(x)
            ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def run(ranks=(8, 16, 32), epochs: int = 15, finetune: int = 3, seed: int = 0) -> dict:
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = digits(seed, images=True)
    torch.manual_seed(seed)
    model = cnn()
    seconds = train(model, xtr, ytr, epochs, seed=seed)
    probe = torch.relu(model[0](xte))  # the input of the layer we replace
    conv = model[2]
    out = {"original": {"accuracy": accuracy(model, xte, yte), "params": n_params(conv),
                        "conv_seconds": _time(conv, probe), "train_seconds": seconds}}
    variants = [(f"CP rank {r}", lambda r=r: cp_conv2d(conv, r)) for r in ranks]
    variants.append(("Tucker-2 (16, 8)", lambda: tucker_conv2d(conv, (16, 8))))
    for name, make in variants:
        compressed = copy.deepcopy(model)
        start = time.perf_counter()
        compressed[2] = make()
        decompose = time.perf_counter() - start
        before = accuracy(compressed, xte, yte)
        train(compressed, xtr, ytr, finetune, lr=3e-4, seed=seed)
        out[name] = {"accuracy_before": before, "accuracy": accuracy(compressed, xte, yte),
                     "params": n_params(compressed[2]),
                     "conv_seconds": _time(compressed[2], probe),
                     "decompose_seconds": decompose}
    return out


if __name__ == "__main__":
    results = run()
    base = results["original"]
    print(f"original      : test accuracy {base['accuracy']:.4f}, conv params {base['params']}, "
          f"conv time {base['conv_seconds'] * 1e3:.2f} ms (trained in "
          f"{base['train_seconds']:.1f} s)")
    for name, r in results.items():
        if name != "original":
            print(f"{name:14s}: test accuracy {r['accuracy_before']:.4f} -> {r['accuracy']:.4f} "
                  f"after fine-tuning, conv params {r['params']} "
                  f"({base['params'] / r['params']:.1f}x fewer), conv time "
                  f"{r['conv_seconds'] * 1e3:.2f} ms, decomposed in "
                  f"{r['decompose_seconds']:.2f} s")
