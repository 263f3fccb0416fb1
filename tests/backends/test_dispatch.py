"""Backend selection: arrays decide, defaults, contexts, errors, import weight."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

import tnlib
from tnlib.backends import BACKEND_NAMES


def test_import_is_light():
    code = ("import sys, tnlib, tnlib.tt, tnlib.linalg, tnlib.cp, tnlib.tucker, tnlib.ht; "
            "print([m for m in ('torch','tensorflow','jax','cupy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_arrays_decide(backend):
    x = backend.ones((2,))
    with tnlib.use_backend("numpy"):
        assert tnlib.backend_of(x) is backend
        assert tnlib.backend_of(3.0, [x, None], np.float64(1.0)) is backend


def test_mixed_arrays_raise(backend):
    if backend.name == "numpy":
        pytest.skip("needs a second backend")
    with pytest.raises(tnlib.BackendMismatchError, match="ndarray") as info:
        tnlib.backend_of(np.ones(2), backend.ones((2,)))
    assert isinstance(info.value, TypeError)


def test_default_order(monkeypatch, backend):
    assert tnlib.backend_of().name == tnlib.get_backend().name
    monkeypatch.setenv("TNLIB_BACKEND", backend.name)
    assert tnlib.get_backend() is backend
    tnlib.set_backend("numpy")
    try:
        assert tnlib.get_backend().name == "numpy"
        with tnlib.use_backend(backend) as xp:
            assert xp is backend and tnlib.get_backend() is backend
            with tnlib.use_backend("numpy"):
                assert tnlib.get_backend().name == "numpy"
            assert tnlib.get_backend() is backend
            assert tnlib.backend_of(tnlib.tensor([1.0])) is backend
    finally:
        from tnlib.backends import _dispatch

        _dispatch._GLOBAL[0] = None


def test_use_backend_does_not_leak_into_threads(backend):
    seen = []
    started, release = threading.Event(), threading.Event()

    def worker():
        started.wait()
        seen.append(tnlib.get_backend().name)
        release.set()

    t = threading.Thread(target=worker)
    t.start()
    with tnlib.use_backend(backend):
        started.set()
        release.wait(10)
    t.join()
    assert seen == ["numpy"]


def test_unknown_backend_lists_valid_names():
    with pytest.raises(tnlib.BackendError, match="expected one of 'numpy', 'torch'"):
        tnlib.set_backend("numpyy")


def test_missing_backend_names_the_extra(monkeypatch):
    import importlib.util

    from tnlib.backends import _dispatch

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "cupy" else real(name, *a))
    monkeypatch.delitem(_dispatch._INSTANCES, "cupy", raising=False)
    with pytest.raises(tnlib.BackendError, match=r"pip install tnlib\[cupy\]"):
        tnlib.backends.get("cupy")


def test_cupy_without_gpu_is_a_backend_error():
    try:
        import cupy  # noqa: F401
    except ImportError:
        pytest.skip("cupy: not installed")
    try:
        xp = tnlib.backends.get("cupy")
    except tnlib.BackendError as exc:
        assert "CUDA device" in str(exc)
    else:
        assert xp.devices()


def test_available_backends_in_order():
    names = tnlib.available_backends()
    assert names[0] == "numpy"
    assert names == [n for n in BACKEND_NAMES if n in names]


def test_to_numpy_of_scalars_and_arrays(backend):
    assert tnlib.to_numpy(2.5) == 2.5
    s = backend.sum(backend.ones((3,)))
    assert tnlib.to_numpy(s) == 3.0


def test_dtype_and_device_arguments(backend):
    x = tnlib.tensor([1, 2], dtype="float32", backend=backend)
    assert backend.dtype_name(x) == "float32"
    y = tnlib.tensor(x, dtype=backend.resolve_dtype("complex128"), backend=backend)
    assert backend.dtype_name(y) == "complex128"
    dev = backend.device(x)
    z = tnlib.tensor(np.ones(2), device=dev, backend=backend)
    assert str(backend.device(z)) == str(dev)


def test_backend_pickles_by_name(backend):
    import pickle

    assert pickle.loads(pickle.dumps(backend)) is backend
