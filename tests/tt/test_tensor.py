"""TTTensor: validation, properties, conversion, indexing."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt


def test_properties_and_repr(backend):
    x = tt.random((3, 4, 5), (2, 3), seed=0, backend=backend)
    assert x.shape == (3, 4, 5) and x.ranks == (1, 2, 3, 1) and x.ndim == 3
    assert x.backend is backend
    assert backend.dtype_name(x.dtype) == "float64"
    assert x.num_params == 3 * 2 + 2 * 4 * 3 + 3 * 5
    text = repr(x)
    for part in ("shape=(3, 4, 5)", "ranks=(1, 2, 3, 1)", "float64", backend.name, "compression"):
        assert part in text


def test_same_seed_same_tensor_everywhere(backend):
    x = tt.random((3, 4, 2), 2, seed=7, backend=backend)
    ref = tt.random((3, 4, 2), 2, seed=7, backend="numpy")
    for c, r in zip(x.cores, ref.cores):
        np.testing.assert_array_equal(tnlib.to_numpy(c), r)


@pytest.mark.parametrize("cores, match", [
    ([], "non-empty"),
    ([np.ones((1, 2))], "3-D"),
    ([np.ones((2, 2, 1))], "r_0 must be 1"),
    ([np.ones((1, 2, 3)), np.ones((2, 2, 1))], "right rank 3"),
    ([np.ones((1, 2, 2))], "r_d = 1"),
    ([np.ones((1, 2, 1)), np.ones((1, 2, 1), dtype=np.float32)], "dtype float32"),
])
def test_invalid_cores_are_rejected(cores, match):
    with pytest.raises(tnlib.ShapeError, match=match):
        tt.TTTensor(cores)


def test_mixed_backends_are_rejected(backend):
    if backend.name == "numpy":
        pytest.skip("needs a second backend")
    with pytest.raises(tnlib.BackendMismatchError):
        tt.TTTensor([np.ones((1, 2, 1)), backend.ones((1, 2, 1))])


def test_to_changes_dtype_and_backend(backend):
    x = tt.random((3, 4), 2, seed=1)
    y = x.to(backend=backend, dtype="float32")
    assert y.backend is backend and backend.dtype_name(y.dtype) == "float32"
    assert rel_error(y.full(), x.full()) < 1e-6
    z = y.to(backend="numpy")
    assert isinstance(z.cores[0], np.ndarray)
    # NumPy's dtype types name a dtype on every backend (torch's lookup raised KeyError)
    w = y.to(dtype=np.float64)
    assert w.backend is backend and backend.dtype_name(w.dtype) == "float64"


def test_pickle_round_trip(backend):
    x = tt.random((3, 4, 2), 2, seed=3, backend=backend)
    y = pickle.loads(pickle.dumps(x))
    assert y.backend is backend
    assert rel_error(y.full(), x.full()) == 0.0


def test_element_access(backend):
    x = tt.random((3, 4, 5), 2, seed=2, backend=backend)
    dense = np_of(x)
    v = x[2, 1, 4]
    assert backend.shape(v) == ()
    assert abs(float(tnlib.to_numpy(v)) - dense[2, 1, 4]) < 1e-12
    assert abs(float(tnlib.to_numpy(x[-1, -2, 0])) - dense[-1, -2, 0]) < 1e-12


def test_slicing_fixes_modes(backend):
    x = tt.random((3, 4, 5, 2), 3, seed=4, backend=backend)
    dense = np_of(x)
    for key in [(slice(None), 3), (1, slice(None), slice(1, 4), 0), (Ellipsis, 1),
                (0, Ellipsis), (slice(None), 2, slice(None), 1)]:
        y = x[key]
        assert isinstance(y, tt.TTTensor)
        assert_like(y, x)
        np.testing.assert_allclose(np_of(y), dense[key], rtol=1e-12, atol=1e-12)


def test_bad_indices(backend):
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    with pytest.raises(tnlib.ShapeError, match="out of range for mode 1"):
        x[0, 4]
    with pytest.raises(tnlib.ShapeError, match="3 indices"):
        x[0, 1, 2]
    with pytest.raises(tnlib.ShapeError, match="evaluate"):
        x[[0, 1], 2]


def test_not_iterable():
    with pytest.raises(TypeError):
        iter(tt.ones((2, 2)))
