"""Chebyshev interpolants in TT format: values, integrals and derivatives against the
functions' closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import np_of
from tnlib import tt


def _sin_sum(xp):
    return lambda x: xp.sin(xp.sum(x, axis=1))


def test_a_rank_two_function_everywhere_in_the_box(backend):
    """sin(x_1 + … + x_6) on [0, 1]^6 (TT rank 2): values off the grid, the integral
    Im(((e^i - 1) / i)^6), and a derivative, to near machine precision."""
    d = 6
    f, info = tt.chebyshev(_sin_sum(backend), [(0, 1)] * d, n=20, return_info=True,
                           backend=backend)
    assert f.ranks == (1,) + (2,) * (d - 1) + (1,)
    assert tnlib.backend_of(f.coefficients.cores[0]).name == backend.name
    assert max(info.tail) < 1e-12 and info.evaluations > 0
    pts = np.random.default_rng(0).uniform(0, 1, (500, d))
    got = np_of(f(backend.asarray(pts)))
    assert np.abs(got - np.sin(pts.sum(1))).max() < 1e-12
    want = (((np.exp(1j) - 1) / 1j) ** d).imag
    assert abs(float(np_of(f.integral())) - want) < 1e-13
    df = f.derivative(3)
    assert np.abs(np_of(df(backend.asarray(pts))) - np.cos(pts.sum(1))).max() < 1e-9
    d2 = f.derivative(-1, order=2)
    assert np.abs(np_of(d2(backend.asarray(pts))) + np.sin(pts.sum(1))).max() < 1e-7


def test_values_on_the_grid_and_the_nodes(backend):
    f = tt.chebyshev(lambda x: 1.0 / (2.0 + backend.sum(x, axis=1)), [(-1, 1), (0, 3), (2, 5)],
                     n=(24, 20, 16), backend=backend)
    assert f.shape == (24, 20, 16)
    grid = np.meshgrid(f.nodes(0), f.nodes(1), f.nodes(2), indexing="ij")
    dense = 1.0 / (2.0 + grid[0] + grid[1] + grid[2])
    values = f.values()
    assert np.abs(np_of(values) - dense).max() < 1e-8 * np.abs(dense).max()
    assert f.nodes(1)[0] == 3.0 and f.nodes(1)[-1] == 0.0  # cos(0) maps to b
    rounded = f.round(1e-6)
    assert max(rounded.ranks) <= max(f.ranks)


def test_an_unresolved_mode_warns(backend):
    with pytest.warns(tnlib.PrecisionWarning, match="mode 1 is not resolved by n=8"):
        tt.chebyshev(lambda x: backend.cos(20 * x[:, 1]) + x[:, 0], [(0, 1), (0, 1)], n=8,
                     backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tnlib.PrecisionWarning)
        tt.chebyshev(lambda x: backend.cos(20 * x[:, 1]) + x[:, 0], [(0, 1), (0, 1)],
                     n=(8, 48), backend=backend)


def test_the_number_of_points_is_chosen_per_variable(backend):
    """n=None: 17 points, then the nested 33, 65, ... for each variable whose top
    coefficients are not yet below eps; capped by max_n (with the warning)."""
    def f(x):
        return backend.cos(20 * x[:, 1]) + x[:, 0]

    g, info = tt.chebyshev(f, [(0, 1), (0, 1)], return_info=True, backend=backend)
    assert g.shape == (17, 33) and max(info.tail) < 1e-10
    pts = np.random.default_rng(2).uniform(0, 1, (300, 2))
    want = np.cos(20 * pts[:, 1]) + pts[:, 0]
    assert np.abs(np_of(g(backend.asarray(pts))) - want).max() < 1e-12
    with pytest.warns(tnlib.PrecisionWarning, match="not resolved by n=17 .* pass a larger n "
                                                   "or max_n"):
        capped = tt.chebyshev(f, [(0, 1), (0, 1)], max_n=17, backend=backend)
    assert capped.shape == (17, 17)


def test_bad_input_is_named(backend):
    f = tt.chebyshev(_sin_sum(backend), [(0, 1)] * 2, n=16, backend=backend)
    with pytest.raises(tnlib.ShapeError, match=r"points\[1, 0\] = 1.5 is outside"):
        f(backend.asarray(np.array([[0.5, 0.5], [1.5, 0.2]])))
    with pytest.raises(tnlib.ArgumentError, match=r"points\[0, 1\] = nan is not a finite"):
        f(backend.asarray(np.array([[0.5, np.nan]])))
    with pytest.raises(tnlib.ShapeError, match=r"points must be an \(N, 2\) array of numbers"):
        f("")
    with pytest.raises(tnlib.ShapeError, match=r"points must have shape \(N, 2\)"):
        f(backend.asarray(np.zeros((3, 3))))
    cases = [
        (dict(domain=[(1, 0)]), tnlib.ShapeError, r"interval 0 of domain is \(1, 0\)"),
        (dict(domain=[(0, np.inf)]), tnlib.ShapeError, r"interval 0 of domain is \(0, inf\)"),
        (dict(domain=[0, 1]), tnlib.ShapeError, "domain must be a sequence of"),
        (dict(domain=[]), tnlib.ShapeError, "domain must have at least one interval"),
        (dict(domain=[(0, 1)], n=1), tnlib.ArgumentError, "n must be an integer >= 2"),
        (dict(domain=[(0, 1)] * 2, n=(4,)), tnlib.ShapeError, "n has 1 entries for 2"),
    ]
    for kwargs, error, match in cases:
        with pytest.raises(error, match=f"chebyshev: {match}"):
            tt.chebyshev(_sin_sum(backend), backend=backend, **kwargs)
    with pytest.raises(tnlib.ShapeError, match="derivative: axis must be"):
        f.derivative(2)
    with pytest.raises(tnlib.ShapeError, match="domain has 3 intervals"):
        tt.ChebyshevTT(f.coefficients, [(0, 1)] * 3)


def test_evaluation_under_jit(backend):
    if not backend.supports_jit:
        pytest.skip(f"{backend.name} runs eagerly: nothing is traced")
    f = tt.chebyshev(_sin_sum(backend), [(0, 1)] * 3, n=12, backend=backend)
    pts = backend.asarray(np.random.default_rng(1).uniform(0, 1, (50, 3)))
    cores = f.coefficients.cores
    jitted = backend.jit(lambda p, *c: tt.ChebyshevTT(tt.TTTensor(list(c)), f.domain)(p))(
        pts, *cores)
    np.testing.assert_allclose(np_of(jitted), np_of(f(pts)), rtol=1e-12, atol=1e-14)
