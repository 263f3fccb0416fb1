"""Sobol indices of trains: against the dense ANOVA sums and the Ishigami function's
closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tnlib
from tests.helpers import np_of
from tnlib import tt


def _dense_sobol(a: np.ndarray, w: list) -> tuple:
    d = a.ndim
    grid = np.ones(a.shape)
    for k, v in enumerate(w):
        grid = grid * v.reshape([-1 if j == k else 1 for j in range(d)])
    mean = (a * grid).sum()
    var = ((a - mean) ** 2 * grid).sum()
    first, total = [], []
    for k in range(d):
        shape = [-1 if j == k else 1 for j in range(d)]
        m = (a * grid).sum(axis=tuple(j for j in range(d) if j != k))
        g = np.divide(m, w[k], out=np.zeros_like(m), where=w[k] > 0)
        first.append(((g - mean) ** 2 * w[k]).sum() / var)
        cond = (a * w[k].reshape(shape)).sum(axis=k, keepdims=True)
        total.append(((a - cond) ** 2 * grid).sum() / var)
    return np.array(first), np.array(total), var, mean


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_indices_equal_the_dense_anova_sums(backend, dtype):
    rng = np.random.default_rng(0)
    x = tt.random((4, 5, 3, 6), 3, seed=0, dtype=dtype, backend=backend)
    w = [rng.random(n) for n in x.shape]
    w[2][1] = 0.0  # a grid point of probability zero
    first, total, var, mean = _dense_sobol(np_of(x).astype(float), [v / v.sum() for v in w])
    s = tt.sobol(x, [backend.asarray(v) for v in w])
    tol = 1e-4 if dtype == "float32" else 1e-12
    for part in s:
        assert tnlib.backend_of(part).name == backend.name
        assert backend.dtype_name(part) == dtype
    np.testing.assert_allclose(np_of(s.first), first, rtol=tol, atol=tol * 1e-2)
    np.testing.assert_allclose(np_of(s.total), total, rtol=tol)
    np.testing.assert_allclose(float(np_of(s.variance)), var, rtol=tol)
    np.testing.assert_allclose(float(np_of(s.mean)), mean, rtol=10 * tol, atol=tol)
    assert np.all(np_of(s.first) <= np_of(s.total) + tol)


def test_ishigami_through_a_chebyshev_interpolant(backend):
    """sin x1 + 7 sin² x2 + 0.1 x3⁴ sin x1 on [-π, π]³: S = (0.3139, 0.4424, 0),
    T = (0.5576, 0.4424, 0.2437) in closed form, to near machine precision."""
    a, b = 7.0, 0.1

    def f(x):
        return (backend.sin(x[:, 0]) + a * backend.sin(x[:, 1]) ** 2
                + b * x[:, 2] ** 4 * backend.sin(x[:, 0]))

    g = tt.chebyshev(f, [(-np.pi, np.pi)] * 3, n=40, backend=backend)
    s = g.sobol()
    var = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1, v2, v13 = 0.5 * (1 + b * np.pi**4 / 5) ** 2, a**2 / 8, b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    np.testing.assert_allclose(np_of(s.first), [v1 / var, v2 / var, 0.0], atol=1e-12)
    np.testing.assert_allclose(np_of(s.total), [(v1 + v13) / var, v2 / var, v13 / var],
                               atol=1e-12)
    assert abs(float(np_of(s.variance)) - var) < 1e-11 * var
    assert abs(float(np_of(s.mean)) - a / 2) < 1e-12


def test_constant_and_additive_functions(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        s = tt.sobol(3.0 * tt.ones((3, 4, 2), backend=backend))
    assert float(np_of(s.variance)) < 1e-28 and np.all(np_of(s.first) == 0)
    assert np.all(np_of(s.total) == 0) and abs(float(np_of(s.mean)) - 3.0) < 1e-14
    t = np.linspace(0, 1, 6)
    additive = tt.tt_svd(backend.asarray(t[:, None, None] + 2 * t[None, :, None]
                                         + 0 * t[None, None, :]))
    s = tt.sobol(additive)
    np.testing.assert_allclose(np_of(s.first), [0.2, 0.8, 0.0], atol=1e-12)
    np.testing.assert_allclose(np_of(s.total), np_of(s.first), atol=1e-12)


def test_values_near_the_float_limits_give_the_same_indices(backend):
    """Values of 1e±200 and 1e300: the shares are formed relative to the standard
    deviation (were NaN at 1e200, whose variance overflows, and 0 at 1e-200)."""
    x = tt.random((4, 5, 3), 2, seed=0, backend=backend)
    ref = tt.sobol(x)
    for scale in (1e200, 1e-200, 1e300):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            s = tt.sobol(scale * x)
        np.testing.assert_allclose(np_of(s.first), np_of(ref.first), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(np_of(s.total), np_of(ref.total), rtol=1e-12)
        assert float(np_of(s.mean)) == pytest.approx(scale * float(np_of(ref.mean)),
                                                     rel=1e-12)


def test_bad_input_is_named(backend):
    x = tt.random((3, 4), 2, seed=0, backend=backend)
    cases = [
        ([np.ones(3)], tnlib.ShapeError, "weights has 1 vectors for 2 modes"),
        ([np.ones(3), np.ones(5)], tnlib.ShapeError, r"weights\[1\] must have shape \(4,\)"),
        ([np.ones(3), -np.ones(4)], tnlib.ArgumentError, r"weights\[1\] must be finite, non"),
        ([np.zeros(3), np.ones(4)], tnlib.ArgumentError, r"weights\[0\] must be finite"),
        ([np.array([1, np.nan, 1]), np.ones(4)], tnlib.ArgumentError, r"weights\[0\]"),
        (5, tnlib.ArgumentError, "weights must be None or a sequence"),
        ([["a"] * 3, np.ones(4)], tnlib.ArgumentError, r"weights\[0\] must be a vector"),
    ]
    for weights, error, match in cases:
        with pytest.raises(error, match=f"sobol: {match}"):
            tt.sobol(x, weights)
    with pytest.raises(tnlib.ArgumentError, match="sobol: x is complex"):
        tt.sobol(x.to(dtype="complex128"))
    with pytest.raises(tnlib.ArgumentError, match="sobol: x must be a TTTensor"):
        tt.sobol(np_of(x))


def test_sobol_under_jit_matches_eager(backend):
    if not backend.supports_jit:
        pytest.skip(f"{backend.name} runs eagerly: nothing is traced")
    x = tt.random((3, 4, 5), 2, seed=3, backend=backend)
    eager = tt.sobol(x)
    jitted = backend.jit(lambda *c: tuple(tt.sobol(tt.TTTensor(list(c)))))(*x.cores)
    for a, b in zip(eager, jitted):
        np.testing.assert_allclose(np_of(b), np_of(a), rtol=1e-12, atol=1e-15)


def _dense_pairs(a: np.ndarray, w: list) -> np.ndarray:
    """Second-order indices from the ANOVA terms of the dense tensor."""
    d = a.ndim

    def cond(keep):
        m = a
        for k in sorted((k for k in range(d) if k not in keep), reverse=True):
            m = np.moveaxis(m, k, -1) @ w[k]
        return m

    mean = cond(())
    grid = np.ones(a.shape)
    for k, v in enumerate(w):
        grid = grid * v.reshape([-1 if j == k else 1 for j in range(d)])
    var = ((a - mean) ** 2 * grid).sum()
    out = np.zeros((d, d))
    for i in range(d):
        for j in range(i + 1, d):
            h = cond((i, j)) - cond((i,))[:, None] - cond((j,))[None, :] + mean
            out[i, j] = out[j, i] = (h**2 * np.outer(w[i], w[j])).sum() / var
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_second_order_indices_equal_the_dense_anova_terms(backend, dtype):
    rng = np.random.default_rng(1)
    x = tt.random((4, 5, 3, 6), 3, seed=1, dtype=dtype, backend=backend)
    w = [rng.random(n) for n in x.shape]
    w[1][3] = 0.0
    ref = _dense_pairs(np_of(x).astype(float), [v / v.sum() for v in w])
    got = tt.sobol_pairs(x, [backend.asarray(v) for v in w])
    assert tnlib.backend_of(got).name == backend.name and backend.dtype_name(got) == dtype
    tol = 1e-5 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(np_of(got), ref, atol=tol)
    first = np_of(tt.sobol(x, [backend.asarray(v) for v in w]).first)
    assert first.sum() + np.triu(np_of(got)).sum() <= 1 + tol


def test_ishigami_interactions(backend):
    """Only x1 and x3 interact, with V13 = b² π⁸ (1/18 - 1/50) in closed form."""
    a, b = 7.0, 0.1

    def f(x):
        return (backend.sin(x[:, 0]) + a * backend.sin(x[:, 1]) ** 2
                + b * x[:, 2] ** 4 * backend.sin(x[:, 0]))

    g = tt.chebyshev(f, [(-np.pi, np.pi)] * 3, n=40, backend=backend)
    var = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    want = np.zeros((3, 3))
    want[0, 2] = want[2, 0] = v13 / var
    np.testing.assert_allclose(np_of(g.sobol_pairs()), want, atol=1e-12)


def test_pairs_of_constants_extremes_and_traced_trains(backend):
    assert np.all(np_of(tt.sobol_pairs(3.0 * tt.ones((3, 4, 2), backend=backend))) == 0)
    x = tt.random((4, 5, 3), 2, seed=4, backend=backend)
    ref = np_of(tt.sobol_pairs(x))
    for scale in (1e200, 1e-200):
        np.testing.assert_allclose(np_of(tt.sobol_pairs(scale * x)), ref, atol=1e-14)
    assert np_of(tt.sobol_pairs(tt.random((5,), 1, seed=0, backend=backend))).shape == (1, 1)
    if backend.supports_jit:
        jitted = backend.jit(lambda *c: tt.sobol_pairs(tt.TTTensor(list(c))))(*x.cores)
        np.testing.assert_allclose(np_of(jitted), ref, atol=1e-14)
    with pytest.raises(tnlib.ShapeError, match="sobol_pairs: weights has 1 vectors"):
        tt.sobol_pairs(x, [np.ones(4)])
    nan = tt.TTTensor([x.cores[0] * np.nan] + list(x.cores[1:]))
    for f in (tt.sobol, tt.sobol_pairs):  # NaN was read as a constant: indices 0
        with pytest.raises(tnlib.ArgumentError, match=r"x.cores\[0\] holds non-finite"):
            f(nan)
