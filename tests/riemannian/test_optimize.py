"""Riemannian optimizers on fixed TT-rank: RGD, RCG, RTR; autodiff or a supplied gradient."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tnlib import riemannian as rm
from tnlib import tt
from tnlib.errors import ArgumentError, ConvergenceWarning, EvaluationError, ShapeError

from ..helpers import assert_like, np_of

SHAPE = (3, 4, 4, 3)


def _target(xp):
    return tt.random(SHAPE, 5, seed=0, backend=xp)


def _egrad(a):
    return lambda y: y - a


@pytest.mark.parametrize("method", ["rgd", "rcg", "rtr"])
def test_best_low_rank_approximation_beats_rounding(backend, method):
    """RCG/RGD/RTR from the rounded tensor reach a critical point at least as good."""
    a = _target(backend)
    x0 = a.round(max_rank=2)
    f = lambda y: 0.5 * tt.norm(y - a) ** 2  # noqa: E731
    grad = None if backend.supports_grad and method != "rgd" else _egrad(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        x, info = rm.minimize(f, x0, method=method, grad=grad, max_iter=40, tol=1e-6,
                              return_info=True)
    assert_like(x, a)
    assert x.ranks == x0.ranks
    err, err0 = np.linalg.norm(np_of(x) - np_of(a)), np.linalg.norm(np_of(x0) - np_of(a))
    assert err <= err0 * (1 + 1e-12)
    assert info.losses[0] >= info.losses[-1]
    assert np.all(np.diff(info.losses) <= 1e-12 * info.losses[0])  # monotone
    assert info.grad_norms[-1] < 1e-3 * info.grad_norms[0]
    assert info.evaluations >= info.iterations


@pytest.mark.parametrize("method", ["rgd", "rcg"])
def test_line_searches_do_not_depend_on_the_scale_of_the_problem(backend, method):
    # the first trial step moved by 1 whatever the point's norm: at 1e50 f changed by 1e-50
    # of itself and the iteration stopped there "converged" (relative change below ftol)
    a, x0 = tt.random(SHAPE, 3, seed=0, backend=backend), tt.random(SHAPE, 3, seed=1,
                                                                     backend=backend)
    errors = []
    for scale in (1.0, 1e50):
        target = a * scale
        x, info = rm.minimize(lambda y, t=target: 0.5 * tt.norm(y - t) ** 2, x0 * scale,
                              method=method, grad=_egrad(target), max_iter=300,
                              return_info=True)
        assert info.converged
        errors.append(np.linalg.norm(np_of(x) / scale - np_of(a)) / np.linalg.norm(np_of(a)))
    assert errors[0] < 1e-6 and errors[1] < 1e-6


def test_rcg_reaches_a_critical_point_quickly_on_numpy():
    a = _target("numpy")
    x0 = a.round(max_rank=2)
    x, info = rm.minimize(lambda y: 0.5 * tt.norm(y - a) ** 2, x0, grad=_egrad(a), max_iter=200,
                          return_info=True)
    assert info.converged
    # the Riemannian gradient vanishes: the residual is orthogonal to the tangent space at x
    g = rm.project(x, x - a)
    assert float(g.norm()) < 1e-6 * float(a.norm())


def test_rtr_converges_superlinearly_with_autodiff():
    from ..conftest import named_backend

    xp = named_backend("torch")
    a = _target(xp)
    x0 = a.round(max_rank=2)
    x, info = rm.minimize(lambda y: 0.5 * tt.norm(y - a) ** 2, x0, method="rtr",
                          max_iter=30, tol=1e-10, return_info=True)
    assert info.converged and info.iterations <= 15
    assert info.hessian_products > 0
    gn = info.grad_norms
    assert gn[-1] < 1e-10 * gn[0]


def test_matrix_problem_with_two_modes():
    """A 2-mode x0 is a fixed-rank matrix: best rank-2 approximation equals the truncated SVD."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(30, 4)) @ np.diag([10, 5, 1, 0.5]) @ rng.normal(size=(4, 20))
    u, s, vh = np.linalg.svd(a)
    best = (u[:, :2] * s[:2]) @ vh[:2]
    x0 = tt.TTTensor([rng.normal(size=(1, 30, 2)), rng.normal(size=(2, 20, 1))])
    x = rm.minimize(lambda y: 0.5 * np.sum((y.full() - a) ** 2), x0,
                    grad=lambda y: y.full() - a, max_iter=300, tol=1e-10)
    assert np.linalg.norm(x.full() - best) < 1e-6 * np.linalg.norm(best)


def test_desingularized_minimize_reaches_a_lower_rank_target(backend):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(30, 2)) @ rng.normal(size=(2, 25))
    ab = backend.asarray(a)
    x0 = tt.TTTensor([backend.asarray(rng.normal(size=(1, 30, 4))),
                      backend.asarray(rng.normal(size=(4, 25, 1)))])
    grad = None if backend.supports_grad else (lambda y: y.full() - ab)
    x, info = rm.minimize(lambda y: 0.5 * backend.sum((y.full() - ab) ** 2), x0, grad=grad,
                          manifold="desingularized", max_iter=400, tol=1e-10, return_info=True)
    assert_like(x, x0)
    assert np.linalg.norm(np_of(x) - a) < 1e-7 * np.linalg.norm(a)


def test_convergence_warning_and_callback():
    a = _target("numpy")
    seen = []
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        x, info = rm.minimize(lambda y: 0.5 * tt.norm(y - a) ** 2, a.round(max_rank=2),
                              grad=_egrad(a), max_iter=2, return_info=True,
                              callback=lambda i: seen.append(i.iterations))
    assert seen == [1, 2] and not info.converged
    assert "max_iter" in info.stop_reason


def test_verbose_prints_one_line_per_iteration(capsys):
    a = _target("numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rm.minimize(lambda y: 0.5 * tt.norm(y - a) ** 2, a.round(max_rank=2), grad=_egrad(a),
                    max_iter=3, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and "|grad|" in lines[0]


def test_bad_input():
    a = _target("numpy").round(max_rank=2)
    f = lambda y: tt.dot(y, y)  # noqa: E731
    with pytest.raises(ArgumentError, match="grad="):
        rm.minimize(f, a)
    with pytest.raises(ArgumentError, match="method"):
        rm.minimize(f, a, method="newton", grad=_egrad(a))
    with pytest.raises(ShapeError, match="x0 must be a TTTensor"):
        rm.minimize(f, np.ones(SHAPE), grad=_egrad(a))
    with pytest.raises(ArgumentError, match="max_iter"):
        rm.minimize(f, a, grad=_egrad(a), max_iter=0)
    with pytest.raises(ShapeError, match="ranks don't fit"):
        rm.minimize(f, tt.TTTensor([np.ones((1, 2, 3)), np.ones((3, 2, 1))]),
                    grad=lambda y: y)
    with pytest.raises(ArgumentError, match="finite"):
        rm.minimize(lambda y: float("nan"), a, grad=_egrad(a))
    with pytest.raises(ArgumentError, match="manifold"):
        rm.minimize(f, a, grad=_egrad(a), manifold="grassmann")
    # a gradient of the wrong shape was named by project ("project: shape (3, 4) differs")
    with pytest.raises(ShapeError, match=r"minimize: grad\(x\) returned shape \(3, 4\); "
                                         r"expected the Euclidean gradient of shape"):
        rm.minimize(f, a, grad=lambda y: np.ones((3, 4)))



@pytest.mark.parametrize("method", ["rgd", "rcg", "rtr"])
def test_a_non_finite_gradient_is_an_error_naming_the_point(backend, method):
    # it ended in "the line search found no decrease" (a ConvergenceWarning) before
    a = _target(backend)
    x0 = a.round(max_rank=2)
    f = lambda y: 0.5 * tt.norm(y - a) ** 2  # noqa: E731
    with pytest.raises(EvaluationError, match=r"gradient at x0 has non-finite entries \(its "
                                              r"norm is nan\)"):
        rm.minimize(f, x0, grad=lambda y: (y - a) * float("nan"), method=method)
    calls = []

    def late_nan(y):  # finite at x0, NaN from the third call on
        calls.append(1)
        return (y - a) * (float("nan") if len(calls) >= 3 else 1.0)
    # (the trust region meets it first in a Hessian product: a finite difference of grad)
    late = r"gradient at iteration \d+'s point has non-finite|Hessian-vector product has non"
    with pytest.raises(EvaluationError, match=late):
        rm.minimize(f, x0, grad=late_nan, method=method, max_iter=50)


def test_a_non_finite_gradient_on_the_desingularized_manifold_is_an_error(backend):
    # it gave forty "norm: the value exceeds the range" warnings, then "no decrease"
    a = tt.random((8, 7), 3, seed=0, backend=backend)
    x0 = tt.random((8, 7), 2, seed=1, backend=backend)
    f = lambda y: 0.5 * tt.norm(y - a) ** 2  # noqa: E731
    calls = []

    def late_nan(y):
        calls.append(1)
        return (y - a) * (float("nan") if len(calls) >= 3 else 1.0)
    nan_everywhere = lambda y: (y - a) * float("nan")  # noqa: E731
    for grad, at in ((nan_everywhere, "x0"), (late_nan, r"iteration \d+'s point")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(EvaluationError, match=rf"gradient at {at} has non-finite"):
                rm.minimize(f, x0, grad=grad, manifold="desingularized")

def test_rank_adaptive_minimize_finds_the_rank(backend):
    """From rank 1, ranks grow where the normal gradient pays, and stop at the target's."""
    a = tt.random((3,) * 4, 2, seed=7, backend=backend)
    x0 = tt.random((3,) * 4, 1, seed=8, backend=backend)
    x, info = rm.minimize(lambda y: 0.5 * tt.norm(y - a) ** 2, x0, grad=_egrad(a), max_rank=3,
                          max_iter=60, tol=1e-8, return_info=True)
    assert x.ranks == (1, 2, 2, 2, 1)
    assert info.ranks == x.ranks and info.converged
    assert np.linalg.norm(np_of(x) - np_of(a)) < 1e-7 * np.linalg.norm(np_of(a))


def test_rank_adaptive_minimize_by_autodiff():
    """The two-site gradients come from one reverse pass on a widened bond."""
    from ..conftest import named_backend

    xp = named_backend("torch")
    a = tt.random((4,) * 5, 3, seed=7, backend=xp)
    x0 = tt.random((4,) * 5, 1, seed=8, backend=xp)
    x = rm.minimize(lambda y: 0.5 * tt.norm(y - a) ** 2, x0, max_rank=5, max_iter=100, tol=1e-8)
    assert x.ranks == (1, 3, 3, 3, 3, 1)
    assert np.linalg.norm(np_of(x) - np_of(a)) < 1e-7 * np.linalg.norm(np_of(a))
