"""TT-GRU against a plain GRU on a synthetic video task: which way does the blob move?

Each sequence is 12 noisy 32x32 frames (1024 inputs per step) in which a Gaussian
blob crosses the frame left-to-right, right-to-left, top-to-bottom or
bottom-to-top, starting at a random place; the label is the direction. The
TT-GRU's input-to-hidden map is a TT layer ((4, 8, 4, 8) -> (3 x 2, 4, 2, 4),
rank 4) instead of the GRU's dense 3 x 64 x 1024 matrix. Prints test accuracy,
input-map parameter counts and training time.

    python examples/tt_gru_sequences.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

from tnlib.nn.torch import TTGRU

SIDE, STEPS, CLASSES = 32, 12, 4


def make_data(n: int, seed: int, noise: float = 1.0, amplitude: float = 1.5):
    """Sequences ``(n, STEPS, SIDE * SIDE)`` and direction labels ``(n,)``."""
    rng = np.random.default_rng(seed)
    grid = np.arange(SIDE)
    y = rng.integers(0, CLASSES, n)
    x = noise * rng.standard_normal((n, STEPS, SIDE, SIDE)).astype(np.float32)
    for i in range(n):
        start, other = rng.uniform(4, 10), rng.uniform(6, SIDE - 6)
        speed = rng.uniform(1.0, 1.6)
        for t in range(STEPS):
            pos = start + speed * t
            pos = pos if y[i] in (0, 2) else SIDE - 1 - pos
            row, col = (other, pos) if y[i] < 2 else (pos, other)
            blob = np.exp(-((grid[:, None] - row) ** 2 + (grid[None, :] - col) ** 2) / 8.0)
            x[i, t] += amplitude * blob
    return torch.from_numpy(x.reshape(n, STEPS, -1)), torch.from_numpy(y)


class Classifier(torch.nn.Module):
    def __init__(self, rnn: torch.nn.Module, hidden: int) -> None:
        super().__init__()
        self.rnn, self.head = rnn, torch.nn.Linear(hidden, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[1][-1])


def run(n_train: int = 800, n_test: int = 800, epochs: int = 25, seed: int = 0) -> dict:
    torch.set_num_threads(1)
    xtr, ytr = make_data(n_train, seed)
    xte, yte = make_data(n_test, seed + 1)
    out = {}
    for name in ("TT-GRU", "GRU"):
        torch.manual_seed(seed)
        if name == "GRU":
            rnn = torch.nn.GRU(SIDE * SIDE, 64, batch_first=True)
            input_map = rnn.weight_ih_l0.numel()
        else:
            rnn = TTGRU((4, 8, 4, 8), (2, 4, 2, 4), ranks=4, batch_first=True)
            input_map = sum(p.numel() for p in rnn.cells[0].ih.cores)
        model = Classifier(rnn, 64)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        start = time.perf_counter()
        for _ in range(epochs):
            model.train()
            for idx in torch.randperm(n_train).split(32):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
                opt.step()
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            acc = float((model(xte).argmax(-1) == yte).float().mean())
        out[name] = {"accuracy": acc, "input_map_params": input_map, "seconds": seconds}
    return out


if __name__ == "__main__":
    results = run()
    for name, r in results.items():
        print(f"{name:7s} test accuracy {r['accuracy']:.4f}, input-to-hidden parameters "
              f"{r['input_map_params']:7d}, trained in {r['seconds']:.1f} s")
    ratio = results["GRU"]["input_map_params"] / results["TT-GRU"]["input_map_params"]
    print(f"TT input map: {ratio:.0f}x fewer parameters")
