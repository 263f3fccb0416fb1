"""PARAFAC2 of slices of different heights: exact models recovered, the model's
constraint held, the errors those of the slices themselves."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import np_of
from tnlib import cp
from tnlib.backends import host_execution

R = 3
HEIGHTS = (12, 9, 15, 9, 3, 20, 11, 14)


def _model(seed=0, noise=0.0, heights=HEIGHTS, width=10):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 1.8, (len(heights), R))
    b = np.eye(R) + 0.4 * rng.standard_normal((R, R))
    c = rng.standard_normal((width, R))
    xs = []
    for i, h in enumerate(heights):
        q = np.linalg.qr(rng.standard_normal((max(h, R), R)))[0][:h]  # rows, for h < R
        x = q @ b @ np.diag(a[i]) @ c.T
        xs.append(x + noise * np.linalg.norm(x) / np.sqrt(x.size) * rng.standard_normal(x.shape))
    return xs


def _error(xs, model) -> float:
    got = [np_of(s) for s in model.slices()]
    return float(np.sqrt(sum(np.sum((x - s) ** 2) for x, s in zip(xs, got))
                         / sum(np.sum(x**2) for x in xs)))


@pytest.mark.parametrize("host", [True, False])
def test_recovers_an_exact_model_of_slices_of_different_heights(backend, host):
    """Errors that never increase and are the slices' own; B_i^T B_i the same for every
    slice; the result on the slices' backend, dtype and device."""
    xs = _model()
    with host_execution(host):
        model, info = cp.parafac2([backend.asarray(x) for x in xs], R, tol=1e-12, seed=0,
                                  return_info=True)
    assert info.converged and _error(xs, model) < 1e-8
    assert abs(info.errors[-1] - _error(xs, model)) < 1e-9
    assert np.all(np.diff(info.errors) <= 1e-10)  # rounding of the iterates at 1e-11
    for part in (model.weights, *model.factors, *model.projections):
        assert tnlib.backend_of(part).name == backend.name
        assert backend.dtype_name(part) == "float64"
    assert [backend.shape(p) for p in model.projections] == [(h, R) for h in HEIGHTS]
    cross = [np_of(bi).T @ np_of(bi) for bi in model.evolving_factors()]
    for g in cross[1:]:
        assert np.abs(g - cross[0]).max() < 1e-10 * np.abs(cross[0]).max()
    for p in model.projections:
        assert np.abs(np_of(p).T @ np_of(p) - np.eye(R)).max() < 1e-12
    # a seeded random start (uniform factors) finds it too; seed 1 stops in a local minimum
    random = cp.parafac2([backend.asarray(x) for x in xs], R, tol=1e-12, init="random",
                         seed=0)
    assert _error(xs, random) < 1e-8


def test_slices_lower_than_the_rank(backend):
    """A slice of 2 rows at rank 3 (no B_i of rank 3 fits it): its projection has
    orthonormal rows, and the fit is as good as that of the other slices allows."""
    xs = _model(heights=(12, 9, 2, 15), seed=4)
    model = cp.parafac2([backend.asarray(x) for x in xs], R, tol=1e-6)
    p = np_of(model.projections[2])
    assert p.shape == (2, R) and np.abs(p @ p.T - np.eye(2)).max() < 1e-12
    assert np.isfinite(np_of(model.weights)).all() and _error(xs, model) < 0.05


def test_noise_level_line_search_and_array_input(backend):
    """1 % noise: the fit stops at the noise level, in fewer iterations with the line
    search than without; an (I, J, K) array is its list of slices."""
    xs = _model(seed=1, noise=0.01, heights=(10,) * 12)
    fast, info = cp.parafac2(backend.asarray(np.stack(xs)), R, return_info=True)
    slow, plain = cp.parafac2([backend.asarray(x) for x in xs], R, linesearch=False,
                              return_info=True, max_iter=5000)
    assert 0.004 < info.errors[-1] < 0.01 and abs(plain.errors[-1] - info.errors[-1]) < 1e-6
    assert info.iterations < plain.iterations
    assert backend.shape(fast.full()) == (12, 10, 10)
    np.testing.assert_allclose(np_of(fast.full()), np.stack([np_of(s) for s in fast.slices()]))


def test_scales_precisions_and_zero_slices(backend):
    xs = _model(seed=2, noise=0.01)
    _, ref = cp.parafac2(xs, R, max_iter=30, tol=0, return_info=True)
    for scale in (1e300, 1e-300):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            model, info = cp.parafac2([backend.asarray(x * scale) for x in xs], R, max_iter=30,
                                      tol=0, return_info=True)
        np.testing.assert_allclose(info.errors, ref.errors, rtol=1e-9)
        assert np.all(np.isfinite(np_of(model.weights)))
        assert np.abs(np_of(model.weights)).max() > scale
    for dtype, rtol in (("float32", 1e-2), ("float16", 5e-2)):
        model, info = cp.parafac2([backend.asarray(x.astype(dtype)) for x in xs], R,
                                  max_iter=30, tol=0, return_info=True)
        assert backend.dtype_name(model.weights) == dtype
        assert backend.dtype_name(model.projections[0]) == dtype
        np.testing.assert_allclose(info.errors[-1], ref.errors[-1], rtol=rtol)
    zero, info = cp.parafac2([backend.asarray(np.zeros((h, 4))) for h in (3, 5)], 2,
                             return_info=True)
    assert info.errors == [0.0] and np.all(np_of(zero.weights) == 0)
    assert all(np.all(np_of(s) == 0) for s in zero.slices())


def test_stopping_short_warns(backend):
    xs = _model(seed=3, noise=0.01)
    with pytest.warns(tnlib.ConvergenceWarning, match=r"parafac2: stopped without converging "
                                                      r"\(max_iter=3 sweeps"):
        cp.parafac2([backend.asarray(x) for x in xs], R, max_iter=3)


def test_bad_input_is_named(backend):
    xs = [backend.asarray(x) for x in _model()]
    cases = [
        (([], R), tnlib.ShapeError, "slices must be a non-empty sequence"),
        (([0], R), tnlib.ShapeError, r"slice 0 must be a 2-D \(J_0, K\) array, got int"),
        (([xs[0], backend.asarray(np.ones(3))], R), tnlib.ShapeError,
         r"slice 1 must be a non-empty 2-D"),
        (([xs[0], backend.asarray(np.ones((4, 7)))], R), tnlib.ShapeError,
         "slice 1 has 7 columns but slice 0 has 10"),
        (([xs[0], backend.asarray(np_of(xs[1]).astype("float32"))], R), tnlib.ArgumentError,
         "slice 1 has dtype float32"),
        (([backend.asarray(np_of(xs[0]) * 1j)], R), tnlib.ArgumentError, "the slices are complex"),
        ((backend.asarray(np.ones((3, 4))), R), tnlib.ShapeError,
         r"slices must be a sequence .* got an array of shape \(3, 4\)"),
        ((xs, 0), tnlib.ArgumentError, "rank must be an integer >= 1"),
    ]
    for args, error, match in cases:
        with pytest.raises(error, match=f"parafac2: {match}"):
            cp.parafac2(*args)
    bad = np_of(xs[2]).copy()
    bad[1, 1] = np.nan
    with pytest.raises(tnlib.TnlibError, match="parafac2: slice 2 .*(NaN|finite)"):
        cp.parafac2([xs[0], xs[1], backend.asarray(bad)], R)
    for kwargs, match in (({"init": "nvecs"}, r"init must be one of \('svd', 'random'\)"),
                          ({"linesearch": "yes"}, "linesearch must be True or False"),
                          ({"inner": 0}, "inner must be an integer >= 1"),
                          ({"seed": -1}, "seed must be")):
        with pytest.raises(tnlib.ArgumentError, match=f"parafac2: {match}"):
            cp.parafac2(xs, R, **kwargs)


def test_the_model_container_checks_its_parts(backend):
    p = [backend.asarray(np.linalg.qr(np.random.default_rng(i).standard_normal((4 + i, 2)))[0])
         for i in range(3)]
    ones = backend.asarray(np.ones(2))
    factors = [backend.asarray(np.ones((3, 2))), backend.asarray(np.eye(2)),
               backend.asarray(np.ones((5, 2)))]
    x = cp.Parafac2Tensor(ones, factors, p)
    assert x.rank == 2 and [backend.shape(s) for s in x.slices()] == [(4, 5), (5, 5), (6, 5)]
    with pytest.raises(tnlib.ShapeError, match="different heights"):
        x.full()
    with pytest.raises(tnlib.ShapeError, match="A has 3 rows but there are 2 projections"):
        cp.Parafac2Tensor(ones, factors, p[:2])
    with pytest.raises(tnlib.ShapeError, match=r"expected weights \(R,\), A \(I, R\)"):
        cp.Parafac2Tensor(ones, factors[:2] + [backend.asarray(np.ones((5, 3)))], p)
