"""Test harness: the `backend` fixture runs a test once per backend.

``TNLIB_TEST_BACKENDS=numpy,torch`` narrows the set. A backend that is not
installed, or CuPy without a GPU, is skipped with the reason in the report.
``TNLIB_TEST_DEVICE=cuda`` puts torch tensors on the GPU (JAX picks its GPU itself).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tnlib  # noqa: E402
from tnlib.backends import BACKEND_NAMES  # noqa: E402
from tnlib.errors import BackendError  # noqa: E402

_SELECTED = [
    n.strip() for n in os.environ.get("TNLIB_TEST_BACKENDS", ",".join(BACKEND_NAMES)).split(",")
    if n.strip()
]
_CONFIGURED: set[str] = set()


def _configure(name: str) -> None:
    """One-time framework settings for the test session (never done by the library)."""
    if name in _CONFIGURED:
        return
    _CONFIGURED.add(name)
    if name == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    elif name == "torch":
        import torch

        torch.set_num_threads(1)
        if os.environ.get("TNLIB_TEST_DEVICE", "").startswith("cuda"):
            torch.set_default_device(os.environ["TNLIB_TEST_DEVICE"])
    elif name == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
        except RuntimeError:  # already initialized
            pass


# JAX's x64 flag must be set before any JAX array exists, so do it at collection.
if "jax" in _SELECTED:
    try:
        _configure("jax")
    except ImportError:
        pass


@pytest.fixture(params=[pytest.param(n, id=n) for n in BACKEND_NAMES])
def backend(request: pytest.FixtureRequest) -> tnlib.Backend:
    """Every installed backend, one test run each."""
    return _get(request)


@pytest.fixture(params=[pytest.param(n, id=n) for n in ("torch", "tensorflow", "jax")])
def ad_backend(request: pytest.FixtureRequest) -> tnlib.Backend:
    """The backends with automatic differentiation."""
    return _get(request)


def _get(request: pytest.FixtureRequest) -> tnlib.Backend:
    name = request.param
    if name not in _SELECTED:
        pytest.skip(f"{name}: not in TNLIB_TEST_BACKENDS")
    try:
        _configure(name)
        return tnlib.backends.get(name)
    except (BackendError, ImportError) as exc:
        pytest.skip(f"{name}: {exc}")


def named_backend(name: str) -> tnlib.Backend:
    """A backend by name for tests that need one framework; skips as the fixture does."""
    if name not in _SELECTED:
        pytest.skip(f"{name}: not in TNLIB_TEST_BACKENDS")
    try:
        _configure(name)
        return tnlib.backends.get(name)
    except (BackendError, ImportError) as exc:
        pytest.skip(f"{name}: {exc}")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def one_read(backend: tnlib.Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """The backend as on an accelerator (reads synchronize), counting its host reads."""
    from tnlib.backends import host_execution

    reads = []
    inside = []  # a read made by another (TF's item reads through to_numpy) counts once

    def counted(read: Callable) -> Callable:
        def counting(a: Any) -> Any:
            if not inside:
                reads.append(1)
            inside.append(1)
            try:
                return read(a)
            finally:
                inside.pop()
        return counting

    monkeypatch.setattr(backend, "reads_synchronize", lambda a: True)
    monkeypatch.setattr(backend, "to_numpy", counted(backend.to_numpy))
    monkeypatch.setattr(backend, "item", counted(backend.item))
    with host_execution(False):
        yield reads
