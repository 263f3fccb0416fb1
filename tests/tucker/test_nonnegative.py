"""Non-negative Tucker by HALS: non-negative parts, monotone honest errors, the noise bound."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of
from tnlib import tucker
from tnlib.backends import host_execution

RANKS = (3, 2, 3)


def _nonnegative(shape=(9, 8, 7), seed=0, noise=0.0):
    """Data of non-negative multilinear ranks RANKS (factors near disjoint indicators,
    uniform core), and the clean tensor; `noise` relative to the entries' spread."""
    rng = np.random.default_rng(seed)
    factors = [np.eye(r)[np.arange(n) % r] + 0.1 * rng.uniform(size=(n, r))
               for n, r in zip(shape, RANKS)]
    clean = np.einsum("abc,ia,jb,kc->ijk", rng.uniform(size=RANKS), *factors)
    return clean + noise * clean.std() * rng.standard_normal(shape), clean


def _parts_nonnegative(x) -> bool:
    return min(float(np_of(p).min()) for p in (x.core, *x.factors)) >= 0


@pytest.mark.parametrize("host", [True, False])
def test_recovers_a_nonnegative_tucker_tensor_with_monotone_honest_errors(backend, host):
    """Exactly of non-negative ranks (3, 2, 3): the fit reaches 1e-8; core and factors
    are >= 0, factor columns unit; the errors never increase (every update is a descent
    step) and the last is the true error; on the data's backend and dtype, on the host
    path and the framework's (compiled sweeps on JAX and TensorFlow)."""
    a, _ = _nonnegative()
    with host_execution(host):
        x, info = tucker.tucker_hals(backend.asarray(a), RANKS, max_iter=300, tol=0,
                                     return_info=True)
    assert_like(x.core, backend.asarray(a))
    assert x.ranks == RANKS and x.shape == a.shape and _parts_nonnegative(x)
    for f in x.factors:
        np.testing.assert_allclose(np.linalg.norm(np_of(f), axis=0), 1, rtol=1e-12)
    true = np.linalg.norm(np_of(x.full()) - a) / np.linalg.norm(a)
    assert true < 1e-8
    assert abs(info.errors[-1] - true) <= 1e-3 * true + 1e-15
    assert np.all(np.diff(info.errors) <= 1e-12) and info.iterations == 300


def test_noisy_and_signed_data_meet_the_noise_bound_in_every_precision(backend):
    """1 % noise and some negative entries: the clean tensor is a non-negative candidate
    of these ranks, so the fit is at least as close to the data; float32 data is fitted in
    float32, float16 in float32 and returned as float16."""
    a, clean = _nonnegative(noise=0.01)
    a.flat[::40] -= 0.2 * a.max()
    assert a.min() < 0
    bound = np.linalg.norm(a - clean) / np.linalg.norm(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tnlib.ConvergenceWarning)
        for dtype, slack in (("float64", 1.0), ("float32", 1.001), ("float16", 1.01)):
            data = backend.asarray(a.astype(dtype))
            x = tucker.tucker_hals(data, RANKS, max_iter=100)
            assert_like(x.core, data)
            assert _parts_nonnegative(x)
            err = np.linalg.norm(np_of(x.full()).astype(float) - a) / np.linalg.norm(a)
            assert err <= bound * slack, dtype


def test_starts_scales_and_the_zero_tensor(backend):
    """A random start (seeded: the same result twice) and a TuckerTensor start both fit;
    data at 1e300 and 1e-300 is fitted at unit scale (the same relative errors, a core at
    the data's scale); the zero tensor gives a zero core at once."""
    a, _ = _nonnegative()
    x1 = tucker.tucker_hals(backend.asarray(a), RANKS, init="random", seed=3, max_iter=300)
    x2 = tucker.tucker_hals(backend.asarray(a), RANKS, init="random", seed=3, max_iter=300)
    np.testing.assert_array_equal(np_of(x1.core), np_of(x2.core))
    assert np.linalg.norm(np_of(x1.full()) - a) < 1e-4 * np.linalg.norm(a)
    y, info = tucker.tucker_hals(backend.asarray(a), RANKS, init=x1, max_iter=5, tol=0,
                                 return_info=True)
    assert info.errors[0] <= np.linalg.norm(np_of(x1.full()) - a) / np.linalg.norm(a) + 1e-15
    _, ref = tucker.tucker_hals(backend.asarray(a), RANKS, max_iter=20, tol=0,
                                return_info=True)
    for scale in (1e300, 1e-300):
        x, got = tucker.tucker_hals(backend.asarray(a * scale), RANKS, max_iter=20, tol=0,
                                    return_info=True)
        np.testing.assert_allclose(got.errors, ref.errors, rtol=1e-6)
        assert np.all(np.isfinite(np_of(x.core)))
        np.testing.assert_allclose(float(np_of(x.core).max()) / scale,
                                   float(np_of(tucker.tucker_hals(
                                       backend.asarray(a), RANKS, max_iter=20, tol=0).core).max()),
                                   rtol=1e-6)
    z, info = tucker.tucker_hals(backend.asarray(0 * a), RANKS, return_info=True)
    assert float(np.abs(np_of(z.core)).max()) == 0 and info.errors == [0.0] and info.converged


def test_stopping_short_warns(backend):
    a, _ = _nonnegative(noise=0.01)
    with pytest.warns(tnlib.ConvergenceWarning, match=r"tucker_hals: stopped without converging "
                                                      r"\(max_iter=3 sweeps reached"):
        tucker.tucker_hals(backend.asarray(a), RANKS, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tnlib.ConvergenceWarning)
        tucker.tucker_hals(backend.asarray(a), RANKS, max_iter=3, tol=0)  # asked for 3 sweeps


def test_bad_arguments_name_themselves(backend):
    a = backend.asarray(_nonnegative()[0])
    with pytest.raises(tnlib.ArgumentError, match="tucker_hals: a is complex"):
        tucker.tucker_hals(backend.asarray(_nonnegative()[0].astype(complex)), 2)
    with pytest.raises(tnlib.ArgumentError, match="tucker_hals: ranks is required"):
        tucker.tucker_hals(a, None)
    with pytest.raises(tnlib.ArgumentError, match="tucker_hals: ranks"):
        tucker.tucker_hals(a, 0)
    with pytest.raises(tnlib.ShapeError, match=r"tucker_hals: ranks must be an int or have one "
                                               r"entry per mode \(3\)"):
        tucker.tucker_hals(a, (2, 2))
    for name in ("inner", "core_inner", "max_iter"):
        with pytest.raises(tnlib.ArgumentError, match=f"tucker_hals: {name} must be an "
                                                      "integer >= 1"):
            tucker.tucker_hals(a, 2, **{name: 0})
    with pytest.raises(tnlib.ShapeError, match="tucker_hals: init has shape"):
        tucker.tucker_hals(a, 2, init=tucker.tucker_hals(a, 1, max_iter=1, tol=0))
    if backend.name != "numpy":
        with pytest.raises(tnlib.BackendMismatchError, match="different backends"):
            tucker.tucker_hals(a, 2, init=tucker.hosvd(_nonnegative()[0], ranks=2))
    with pytest.raises(tnlib.ArgumentError, match="tucker_hals: init must be 'svd', 'random'"):
        tucker.tucker_hals(a, 2, init="nndsvd")
    with pytest.raises(tnlib.ArgumentError, match="tucker_hals: seed must be"):
        tucker.tucker_hals(a, 2, init="random", seed=-1)
    with pytest.raises(tnlib.ShapeError, match="tucker_hals: a must have at least 2 axes"):
        tucker.tucker_hals(backend.asarray(np.ones(4)), 1)
    with pytest.raises(tnlib.TnlibError, match="tucker_hals: a .*(NaN|finite)"):
        bad = _nonnegative()[0]
        bad[0, 0, 0] = np.nan
        tucker.tucker_hals(backend.asarray(bad), 2)
