"""Sums over some modes (marginals) and the trace, against NumPy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of
from tnlib import tt


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
def test_sums_over_modes_equal_numpys(backend, dtype):
    x = tt.random((3, 4, 5, 6), 3, seed=0, dtype=dtype, backend=backend)
    dense = np_of(x)
    tol = 1e-5 if dtype == "float32" else 1e-13
    for axis in (0, 2, -1, (0, 1), (1, 2), (0, 3), (0, 1, 3), [3, 0]):
        m = x.sum(axis=axis)
        assert_like(m, x)
        want = dense.sum(axis=tuple(axis) if isinstance(axis, list) else axis)
        assert m.shape == want.shape
        assert np.abs(np_of(m) - want).max() <= tol * np.abs(want).max()
    # every mode: the full sum, a 0-d array as tt.sum gives
    full = tt.sum(x, axis=(0, 1, 2, 3))
    assert abs(complex(np_of(full)) - dense.sum()) <= tol * abs(dense.sum())


def test_marginals_of_long_trains_keep_their_cores_in_range(backend):
    """2^1998 spread over two kept cores of a 2000-mode train of ones (the running
    product of 1998 summed cores left the range at the 1024th); beyond what any core can
    hold, a PrecisionWarning and inf, not NumPy's overflow warning."""
    x = tt.ones((2,) * 2000, backend=backend)
    m = x.sum(axis=tuple(range(1, 1999)))
    assert m.shape == (2, 2)
    logs = [np.log2(np.abs(np_of(c))).max() for c in m.cores]
    assert all(np.isfinite(logs)) and abs(sum(logs) - 1998) < 1e-9
    sign, logabs = tt.dot(tt.ones((2, 2), backend=backend), m, log=True)
    assert float(np_of(sign)) == 1.0
    assert abs(float(np_of(logabs)) / np.log(2) - 2000) < 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(tnlib.PrecisionWarning, match="beyond the range of float64"):
            one = x.sum(axis=tuple(range(1, 2000)))
    assert np.all(np.isinf(np_of(one)))


def test_trace_of_tt_matrices(backend):
    rng = np.random.default_rng(0)
    cores = [rng.standard_normal((1 if k == 0 else 2, 3, 3, 1 if k == 2 else 2))
             for k in range(3)]
    a = tt.TTMatrix([backend.asarray(c) for c in cores])
    assert abs(float(np_of(a.trace())) - np.trace(np_of(a.full()))) <= 1e-12 * np.abs(
        np.trace(np_of(a.full())))
    assert float(np_of(tt.trace(tt.laplacian(5, 3, backend=backend)))) == 750.0
    sign, logabs = tt.eye((2,) * 3000, backend=backend).trace(log=True)
    assert float(np_of(sign)) == 1.0 and abs(float(np_of(logabs)) / np.log(2) - 3000) < 1e-9


def test_bad_axes_and_traces_name_themselves(backend):
    x = tt.random((3, 4, 5), 2, seed=0, backend=backend)
    with pytest.raises(tnlib.ShapeError, match="sum: axis 3 is out of range for a train of 3"):
        x.sum(axis=3)
    with pytest.raises(tnlib.ArgumentError, match=r"sum: axis -3 is repeated in \(0, -3\)"):
        x.sum(axis=(0, -3))
    with pytest.raises(tnlib.ArgumentError, match="sum: axis must be None, an int or a seq"):
        x.sum(axis=1.0)
    with pytest.raises(tnlib.ArgumentError, match=r"got 0 \(to sum over modes, pass axis=\)"):
        x.sum(0)
    with pytest.raises(tnlib.ArgumentError, match="log=True gives the full sum's logarithm"):
        x.sum(axis=0, log=True)
    with pytest.raises(tnlib.ShapeError, match="trace: needs row_shape == col_shape"):
        tt.TTMatrix([backend.ones((1, 2, 3, 1))]).trace()
    with pytest.raises(tnlib.ArgumentError, match="trace: a must be a TTMatrix"):
        tt.trace(x)
