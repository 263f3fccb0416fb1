"""The factor match score: 1 across the CP gauges, the best pairing (checked against every
pairing), the aligned estimate the same tensor, and the pairing's assignment solver
against SciPy's."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of
from tnlib import cp
from tnlib._assignment import linear_assignment
from tnlib.errors import ArgumentError, ShapeError

SHAPE = (6, 5, 7)


def _cp(backend, weights, factors, dtype=None):
    return cp.CPTensor(backend.asarray(np.asarray(weights), dtype=dtype),
                       [backend.asarray(f, dtype=dtype) for f in factors])


def _unit(weights, factors):
    """NumPy reference: unit columns, norms into the weights."""
    norms = [np.linalg.norm(f, axis=0) for f in factors]
    return weights * np.prod(norms, axis=0), [f / n for f, n in zip(factors, norms)]


def _reference(est, truth, penalty):
    """The congruence of every (truth, estimate) pair, straight from the definition."""
    (wa, a), (wb, b) = _unit(*est), _unit(*truth)
    c = np.ones((len(wb), len(wa)))
    for fa, fb in zip(a, b):
        c *= np.abs(fb.conj().T @ fa)
    if penalty:
        c *= np.minimum.outer(np.abs(wb), np.abs(wa)) / np.maximum.outer(np.abs(wb), np.abs(wa))
    return c


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
def test_the_same_components_up_to_order_scale_and_sign_score_one(backend, dtype):
    """Reordered, rescaled columns with signs (phases) that cancel across modes: score 1,
    the order found, and the aligned estimate is the reference's own normalized form."""
    rng = np.random.default_rng(0)
    cplx = dtype.startswith("complex")
    def draw(*s):
        return rng.standard_normal(s) + (1j * rng.standard_normal(s) if cplx else 0)

    w, f = rng.uniform(0.5, 2.0, 4), [draw(n, 4) for n in SHAPE]
    truth = _cp(backend, w, f, dtype)
    order = [2, 0, 3, 1]
    ph = np.exp(1j * rng.uniform(0, 2 * np.pi, (2, 4))) if cplx else np.array([[-1, 1, -1, 1],
                                                                             [-1, -1, 1, 1]])
    scale = rng.uniform(0.1, 10, (3, 4))
    g = [f[0][:, order] * ph[0] * scale[0], f[1][:, order] * ph[1] * scale[1],
         f[2][:, order] / (ph[0] * ph[1]) * scale[2]]
    estimate = _cp(backend, w[order] / scale.prod(axis=0), g, dtype)
    match = cp.score(estimate, truth)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert abs(match.score - 1.0) < tol and np.all(np.abs(match.congruences - 1) < tol)
    assert match.permutation.tolist() == [1, 3, 0, 2]  # truth j is estimate's perm[j]
    ref = truth.normalize()
    assert np.allclose(np_of(match.aligned.weights), np_of(ref.weights), rtol=tol, atol=0)
    for got, want in zip(match.aligned.factors, ref.factors):
        assert np.allclose(np_of(got), np_of(want), atol=tol)
        assert_like(got, estimate.factors[0])


def test_the_best_pairing_of_every_pairing(backend):
    """Random fits of rank 4 against a rank-3 reference: the score is the largest mean
    congruence over all injective pairings, with and without the weight penalty; extra
    components come last, in their own order."""
    rng = np.random.default_rng(1)
    for trial in range(6):
        truth = (rng.uniform(0.2, 3, 3), [rng.standard_normal((n, 3)) for n in SHAPE])
        est = (rng.uniform(0.2, 3, 4) * rng.choice([-1, 1], 4),
               [rng.standard_normal((n, 4)) + 2 * np.eye(n, 4) for n in SHAPE])
        for penalty in (True, False):
            c = _reference(est, truth, penalty)
            best = max(np.mean(c[[0, 1, 2], list(p)])
                       for p in itertools.permutations(range(4), 3))
            match = cp.score(_cp(backend, *est), _cp(backend, *truth), weight_penalty=penalty)
            assert abs(match.score - best) < 1e-12, (trial, penalty)
            assert np.allclose(match.congruences, c[[0, 1, 2], match.permutation[:3]])
            rest = sorted(set(range(4)) - set(match.permutation[:3].tolist()))
            assert match.permutation[3:].tolist() == rest


def test_the_aligned_estimate_is_the_same_tensor_with_columns_turned_to_the_reference(backend):
    rng = np.random.default_rng(2)
    truth = _cp(backend, rng.uniform(1, 2, 3), [rng.standard_normal((n, 3)) for n in SHAPE])
    estimate = _cp(backend, rng.standard_normal(5), [rng.standard_normal((n, 5)) for n in SHAPE])
    match = cp.score(estimate, truth)
    assert np.allclose(np_of(match.aligned), np_of(estimate), atol=1e-12)
    for got, want in zip(match.aligned.factors, truth.factors):
        got, want = np_of(got), np_of(want)
        assert np.allclose(np.linalg.norm(got, axis=0), 1.0)
        assert np.all(np.sum(got[:, :3] * want, axis=0) >= 0)  # paired columns agree in sign


def test_weights_far_outside_the_float_range_and_zero_components(backend):
    """Columns of 1e±200 score as their directions (the weights are compared in logs); a
    zero column has no direction, and pairs at congruence 0."""
    rng = np.random.default_rng(3)
    w, f = rng.uniform(1, 2, 2), [rng.standard_normal((n, 2)) for n in SHAPE]
    truth = _cp(backend, w, f)
    huge = _cp(backend, w, [f[0] * 1e200, f[1] * 1e-200, f[2]])
    assert abs(cp.score(huge, truth).score - 1.0) < 1e-12
    assert abs(cp.score(_cp(backend, w * 1e-300, f), truth).score - 0.0) < 1e-12
    assert abs(cp.score(_cp(backend, w * 1e-300, f), truth, weight_penalty=False).score - 1) < 1e-12
    zero = _cp(backend, [0.0, 0.0], [np.zeros((n, 2)) for n in SHAPE])
    assert cp.score(zero, zero).score == 0.0 and cp.score(zero, truth).score == 0.0


def test_a_fitted_model_recovers_the_components_it_was_made_of(backend):
    rng = np.random.default_rng(4)
    truth = _cp(backend, rng.uniform(1, 2, 3), [rng.standard_normal((n, 3)) for n in (9, 8, 7)])
    data = truth.full()
    data = data + 0.01 * backend.asarray(rng.standard_normal((9, 8, 7)))
    match = cp.score(cp.cp_als(data, 3, seed=0, tol=1e-12), truth)
    assert 0.97 < match.score < 1.0


def test_bad_arguments_are_named(backend):
    rng = np.random.default_rng(5)
    x = _cp(backend, np.ones(3), [rng.standard_normal((n, 3)) for n in SHAPE])
    y = _cp(backend, np.ones(2), [rng.standard_normal((n, 2)) for n in SHAPE])
    with pytest.raises(ArgumentError, match="estimate has 2 components and truth 3"):
        cp.score(y, x)
    with pytest.raises(ShapeError, match="shape"):
        cp.score(x, _cp(backend, np.ones(3), [rng.standard_normal((n, 3)) for n in (6, 5, 8)]))
    with pytest.raises(ArgumentError, match="truth must be a CPTensor"):
        cp.score(x, np_of(x))
    with pytest.raises(ArgumentError, match="weight_penalty"):
        cp.score(x, y, weight_penalty="yes")
    bad = _cp(backend, np.ones(3), [rng.standard_normal((n, 3)) for n in SHAPE])
    bad = cp.CPTensor(bad.weights, [bad.factors[0] * np.nan, *bad.factors[1:]])
    with pytest.raises(ArgumentError, match=r"estimate.factors\[0\] holds non-finite"):
        cp.score(bad, y)
    with pytest.raises(ShapeError, match="size 0"):
        z = _cp(backend, np.ones(1), [np.ones((0, 1)), np.ones((2, 1))])
        cp.score(z, z)


def test_refused_under_tracing():
    jax = pytest.importorskip("jax")
    with tnlib.use_backend("jax"):
        x = cp.random((4, 5, 6), 2, seed=0)

    @jax.jit
    def f(weights):
        return cp.score(cp.CPTensor(weights, x.factors), x).score

    with pytest.raises(ArgumentError, match="traced"):
        f(x.weights)


def test_the_assignment_solver_against_scipy():
    """Random, integer (many ties) and rectangular costs, minimized and maximized."""
    sp = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(6)
    for trial in range(400):
        n = int(rng.integers(1, 9))
        m = int(rng.integers(n, 12))
        c = rng.standard_normal((n, m)) if trial % 3 else rng.integers(0, 3, (n, m)) * 1.0
        maximize = bool(trial % 2)
        col = linear_assignment(c, maximize=maximize)
        rows, cols = sp.linear_sum_assignment(c, maximize=maximize)
        assert len(set(col.tolist())) == n
        assert abs(c[np.arange(n), col].sum() - c[rows, cols].sum()) < 1e-9
