"""Non-negative CP by HALS: non-negative factors, monotone honest errors, against the data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of
from tnlib import cp
from tnlib.backends import host_execution


def _nonnegative(shape=(9, 8, 7), rank=3, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    parts = [rng.uniform(size=(n, rank)) for n in shape]
    a = np.einsum("ir,jr,kr->ijk", *parts)
    return a + noise * a.std() * rng.standard_normal(shape)


@pytest.mark.parametrize("host", [True, False])
def test_fits_a_nonnegative_tensor_with_nonnegative_factors_and_monotone_errors(backend, host):
    """Exactly rank 3 and non-negative: the fit reaches 1e-4; every factor and weight is
    >= 0; the errors never increase (block coordinate descent) and the last one is the
    true error; on the backend and dtype of the data, on the host path and the
    framework's (compiled sweeps on JAX and TensorFlow)."""
    a = _nonnegative()
    with host_execution(host), warnings.catch_warnings():
        warnings.simplefilter("ignore", tnlib.ConvergenceWarning)
        x, info = cp.cp_hals(backend.asarray(a), 3, max_iter=400, seed=0, return_info=True)
    assert_like(x.factors[0], backend.asarray(a))
    assert min(float(np_of(f).min()) for f in x.factors) >= 0
    assert float(np_of(x.weights).min()) >= 0
    true = np.linalg.norm(np_of(x.full()) - a) / np.linalg.norm(a)
    assert true < 1e-4
    # the error formula resolves ~1e-3 of an error of 3e-7 (its terms are ‖a‖²)
    assert abs(info.errors[-1] - true) <= 1e-2 * true
    assert np.all(np.diff(info.errors) <= 1e-12)


def test_noisy_and_signed_data_and_low_precision(backend):
    """1 % noise and some negative entries: non-negative factors whose error is about the
    perturbation's; float32 data is fitted in float32, float16 in float32 and returned as
    float16."""
    clean = _nonnegative()
    a = _nonnegative(noise=0.01)
    a.flat[::40] -= 0.2 * a.max()
    assert a.min() < 0
    # the clean tensor is a non-negative rank-3 candidate: the fit is at least as close
    bound = np.linalg.norm(a - clean) / np.linalg.norm(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tnlib.ConvergenceWarning)
        x = cp.cp_hals(backend.asarray(a), 3, max_iter=200, seed=0)
        assert min(float(np_of(f).min()) for f in x.factors) >= 0
        err = np.linalg.norm(np_of(x.full()) - a) / np.linalg.norm(a)
        assert err <= bound
        for dtype in ("float32", "float16"):
            y = cp.cp_hals(backend.asarray(a.astype(dtype)), 3, max_iter=200, seed=0)
            assert_like(y.factors[0], backend.asarray(a.astype(dtype)))
            got = np.linalg.norm(np_of(y.full()).astype(float) - a) / np.linalg.norm(a)
            assert got <= bound * (1.001 if dtype == "float32" else 1.01)


def test_stopping_warning_and_the_zero_tensor(backend):
    a = backend.asarray(_nonnegative())
    with pytest.warns(tnlib.ConvergenceWarning, match=r"cp_hals: stopped without converging "
                                                      r"\(max_iter=3 sweeps reached"):
        cp.cp_hals(a, 3, max_iter=3)
    x, info = cp.cp_hals(0 * a, 2, return_info=True)
    assert float(np_of(x.weights).max()) == 0 and info.errors == [0.0]


def test_bad_arguments_name_themselves(backend):
    a = backend.asarray(_nonnegative())
    with pytest.raises(tnlib.ArgumentError, match="cp_hals: a is complex"):
        cp.cp_hals(backend.asarray(_nonnegative().astype(complex)), 2)
    with pytest.raises(tnlib.ArgumentError, match="cp_hals: rank must be an integer >= 1"):
        cp.cp_hals(a, 0)
    with pytest.raises(tnlib.ArgumentError, match="cp_hals: inner must be an integer >= 1"):
        cp.cp_hals(a, 2, inner=0)
    with pytest.raises(tnlib.ShapeError, match="cp_hals: init has shape"):
        cp.cp_hals(a, 2, init=cp.random((3, 3, 3), 2, seed=0, backend=backend))
    with pytest.raises(tnlib.ShapeError, match="cp_hals: a must have at least 2 axes"):
        cp.cp_hals(backend.asarray(np.ones(4)), 1)
    with pytest.raises(tnlib.ArgumentError, match="cp_hals: seed must be"):
        cp.cp_hals(a, 2, seed=-1)
