"""
A TT layer in a small network
=============================

A TT layer stores the weight matrix of a fully connected layer as a TT-matrix: the
:math:`64 \\to 256` hidden layer below, with input and output modes :math:`(8, 8)` and
:math:`(16, 16)`, keeps 1,024 weights at rank 4 instead of 16,384. The forward pass never
forms the matrix. Trained with PyTorch on scikit-learn's 8x8 digits, the network with the
TT layer reaches the accuracy of the dense one; ``TTLinear.from_linear`` would instead
compress a trained dense layer by TT-SVD.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from tnlib.nn.torch import TTLinear

torch.set_num_threads(1)
digits = load_digits()
x = digits.data / 16.0
xtr, xte, ytr, yte = train_test_split(x, digits.target, test_size=0.25, random_state=0)
xtr, xte = torch.tensor(xtr, dtype=torch.float32), torch.tensor(xte, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)


def train(hidden, epochs=25):
    torch.manual_seed(0)
    model = torch.nn.Sequential(hidden, torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    curve = []
    for _ in range(epochs):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 64):
            batch = perm[i:i + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xtr[batch]), ytr[batch]).backward()
            opt.step()
        with torch.no_grad():
            curve.append((model(xte).argmax(1) == yte).float().mean().item())
    weights = sum(p.numel() for n, p in hidden.named_parameters() if "bias" not in n)
    return curve, weights


torch.manual_seed(0)
tt_curve, tt_weights = train(TTLinear((8, 8), (16, 16), ranks=4))
dense_curve, dense_weights = train(torch.nn.Linear(64, 256))
print(f"TT layer: {tt_weights:,} weights, test accuracy {tt_curve[-1]:.3f}")
print(f"dense layer: {dense_weights:,} weights, test accuracy {dense_curve[-1]:.3f}")

fig, ax = plt.subplots(figsize=(6, 3.6))
epochs = np.arange(1, len(tt_curve) + 1)
ax.plot(epochs, dense_curve, "k-", label=f"dense hidden layer ({dense_weights:,} weights)")
ax.plot(epochs, tt_curve, "-", color="C3", lw=2,
        label=f"tnlib TTLinear, rank 4 ({tt_weights:,} weights)")
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
