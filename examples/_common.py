"""Shared helpers of the layer examples: digits data as tensors and a small training loop."""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def digits(seed: int = 0, images: bool = False):
    """scikit-learn's 8x8 digits, scaled to [0, 1], split 75/25 (stratified)."""
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    if images:
        x = x.reshape(-1, 1, 8, 8)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    return (torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte),
            torch.from_numpy(yte))


def train(model, x, y, epochs: int, lr: float = 3e-3, batch: int = 64, seed: int = 0,
          weight_decay: float = 0.0) -> float:
    """Adam with cross-entropy; returns the training time in seconds."""
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x)).split(batch):
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        sched.step()
    return time.perf_counter() - start


@torch.no_grad()
def accuracy(model, x, y) -> float:
    model.eval()
    return float((model(x).argmax(-1) == y).float().mean())


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())
