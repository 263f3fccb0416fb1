"""maxvol, rect_maxvol, skeleton and the SVD helpers."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like
from tnlib.errors import NonFiniteError
from tnlib.linalg import left_svd, maxvol, randomized_svd, rect_maxvol, skeleton, truncated_svd


@pytest.mark.parametrize("shape", [(200, 6), (30, 30), (50, 1)])
def test_maxvol_properties(backend, shape):
    a = np.random.default_rng(0).standard_normal(shape)
    rows, coef = maxvol(backend.asarray(a), tol=1.05)
    assert_like(coef, backend.asarray(a))
    rows, coef = tnlib.to_numpy(rows), tnlib.to_numpy(coef)
    assert len(set(rows.tolist())) == shape[1]
    assert np.abs(coef).max() <= 1.05 + 1e-10
    np.testing.assert_allclose(coef[rows], np.eye(shape[1]), atol=1e-10)
    np.testing.assert_allclose(coef @ a[rows], a, atol=1e-10)


def test_rect_maxvol(backend):
    a = np.random.default_rng(1).standard_normal((300, 5))
    rows, coef = rect_maxvol(backend.asarray(a), tol=1.2)
    rows, coef = tnlib.to_numpy(rows), tnlib.to_numpy(coef)
    assert len(rows) >= 5 and len(set(rows.tolist())) == len(rows)
    assert np.linalg.norm(coef, axis=1).max() <= 1.2 + 1e-10
    np.testing.assert_allclose(coef, a @ np.linalg.pinv(a[rows]), atol=1e-10)
    rows2, _ = rect_maxvol(backend.asarray(a), tol=1.0, max_rank=7)
    assert len(tnlib.to_numpy(rows2)) == 7


def test_maxvol_bad_input(backend):
    with pytest.raises(tnlib.ShapeError, match="tall"):
        maxvol(backend.asarray(np.ones((2, 5))))
    with pytest.raises(tnlib.TnlibError, match="tol must be >= 1"):
        maxvol(backend.asarray(np.ones((5, 2))), tol=0.5)


def test_skeleton_exact_on_low_rank(backend):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((60, 4)) @ rng.standard_normal((4, 50))
    cols, rows, core = skeleton(backend.asarray(a), 4)
    c, r = tnlib.to_numpy(cols), tnlib.to_numpy(rows)
    approx = a[:, c] @ tnlib.to_numpy(core) @ a[r, :]
    np.testing.assert_allclose(approx, a, atol=1e-9 * np.abs(a).max())


@pytest.mark.parametrize("rank", [2, 4, 7])
def test_skeleton_quasi_optimal_on_decaying_spectrum(backend, rank):
    rng = np.random.default_rng(2)
    u, _ = np.linalg.qr(rng.standard_normal((80, 40)))
    v, _ = np.linalg.qr(rng.standard_normal((70, 40)))
    s = 10.0 ** -np.arange(40, dtype=float)
    a = (u * s) @ v.T
    cols, rows, core = skeleton(backend.asarray(a), rank)
    c, r = tnlib.to_numpy(cols), tnlib.to_numpy(rows)
    err = np.abs(a - a[:, c] @ tnlib.to_numpy(core) @ a[r, :]).max()
    # maximal-volume cross: ‖A - CUR‖_max <= (r + 1) σ_{r+1}; 2x slack for quasi-maxvol
    assert err <= 2 * (rank + 1) * s[rank]


def test_truncated_and_randomized_svd(backend):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 6)) @ rng.standard_normal((6, 30)) + 1e-8 * rng.standard_normal(
        (40, 30))
    u, s, vh = truncated_svd(backend.asarray(a), eps=1e-6)
    assert backend.shape(s) == (6,)
    rec = tnlib.to_numpy(u) @ np.diag(tnlib.to_numpy(s)) @ tnlib.to_numpy(vh)
    assert np.linalg.norm(rec - a) <= 1e-6 * np.linalg.norm(a)
    u, s, vh = randomized_svd(backend.asarray(a), 6, seed=0)
    rec = tnlib.to_numpy(u) @ np.diag(tnlib.to_numpy(s)) @ tnlib.to_numpy(vh)
    assert np.linalg.norm(rec - a) <= 1e-6 * np.linalg.norm(a)


@pytest.mark.parametrize("eps", [0.0, 1e-4, 1e-9, 1e-13])
def test_left_svd_matches_svd_at_every_accuracy(backend, eps):
    rng = np.random.default_rng(4)
    q1, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    q2, _ = np.linalg.qr(rng.standard_normal((2000, 30)))
    sv = 10.0 ** (-0.6 * np.arange(30))
    a = (q1 * sv) @ q2.T
    u, s, b = left_svd(backend.asarray(a), eps=eps)
    un, sn, bn = (tnlib.to_numpy(t) for t in (u, s, b))
    ref = np.linalg.svd(a, compute_uv=False)
    tail = np.sqrt(np.concatenate([np.cumsum((ref**2)[::-1])[::-1], [0.0]]))
    optimal = int(np.argmax(tail <= eps * np.linalg.norm(a))) if eps > 0 else 30
    assert np.linalg.norm(a - un @ bn) <= max(eps, 1e-14) * np.linalg.norm(a) * (1 + 1e-6)
    assert len(sn) <= optimal + 1
    np.testing.assert_allclose(un.T @ un, np.eye(len(sn)), atol=1e-12)


def test_bad_arguments_of_the_matrix_tools_name_themselves(backend):
    """Each was a foreign error from deep inside (an IndexError, LinAlgError, ValueError or
    TypeError) or, for a negative `oversample`, fewer triplets than asked, without a word."""
    a = backend.asarray(np.random.default_rng(0).standard_normal((6, 4)))
    empty = backend.asarray(np.ones((0, 3)))
    for call, error, match in [
        (lambda: randomized_svd(a, 2, oversample=-1), tnlib.ArgumentError, "oversample must"),
        (lambda: randomized_svd(a, 2, power_iter=-1), tnlib.ArgumentError, "power_iter must"),
        (lambda: randomized_svd(backend.asarray(np.ones(5)), 1), tnlib.ShapeError,
         r"randomized_svd: a must be a matrix, got shape \(5,\)"),
        (lambda: randomized_svd(empty, 1), tnlib.ShapeError, r"an empty axis, shape \(0, 3\)"),
        (lambda: left_svd(empty), tnlib.ShapeError, r"left_svd: a has an empty axis"),
        (lambda: truncated_svd(empty), tnlib.ShapeError, r"truncated_svd: a has an empty"),
        (lambda: maxvol(backend.asarray(np.ones((3, 0)))), tnlib.ShapeError, "empty axis"),
        (lambda: maxvol(a, tol=float("nan")), tnlib.ArgumentError,
         "maxvol: tol must be a finite real number"),
        (lambda: rect_maxvol(a, tol="1.1"), tnlib.ArgumentError, "rect_maxvol: tol must be"),
        (lambda: rect_maxvol(backend.asarray(np.ones((6, 3)))), tnlib.ArgumentError,
         r"rect_maxvol: a has rank 1 < r = 3 columns"),
    ]:
        with pytest.raises(error, match=match):
            call()


def test_skeleton_of_a_zero_matrix_is_zero(backend):
    """The core is the pseudo-inverse of a zero block: zero (it was inf and NaN)."""
    cols, rows, core = skeleton(backend.asarray(np.zeros((5, 4))), 2)
    assert_like(core, backend.asarray(np.zeros((5, 4))))
    assert tnlib.to_numpy(core).shape == (2, 2) and not tnlib.to_numpy(core).any()


def test_integer_matrices_select_rows_as_floats(backend):
    # the selection reads a host copy and the coefficients are solved on the backend: both
    # see the same float matrix (torch's solve refused the integer tensor)
    ints = (np.arange(40).reshape(10, 4) ** 2) % 11
    for call in (maxvol, rect_maxvol):
        rows, coef = call(backend.asarray(ints))
        rows_f, coef_f = call(backend.asarray(ints.astype(float)))
        assert np.array_equal(tnlib.to_numpy(rows), tnlib.to_numpy(rows_f))
        assert_like(coef, backend.asarray(ints.astype(float)))
        np.testing.assert_allclose(tnlib.to_numpy(coef) @ ints[tnlib.to_numpy(rows)], ints,
                                   atol=1e-10)
    cols, rows, core = skeleton(backend.asarray(ints[:, :3] @ ints[:3, :]), 3, seed=0)
    assert backend.dtype_name(core) == "float64"


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_skeleton_of_data_near_the_float_limits(backend, scale):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 4)) @ rng.standard_normal((4, 20))
    cols, rows, core = skeleton(backend.asarray(a * scale), 4)
    c, r = tnlib.to_numpy(cols), tnlib.to_numpy(rows)
    approx = a[:, c] @ (tnlib.to_numpy(core) * scale) @ a[r, :]
    np.testing.assert_allclose(approx, a, atol=1e-9 * np.abs(a).max())


def test_skeleton_whose_core_is_beyond_the_range_says_so(backend):
    # subnormal data: the pseudo-inverse's entries exceed the largest float (was NaN)
    if backend.name == "tensorflow":
        pytest.skip("TensorFlow's kernels flush subnormal numbers to zero: to them the data "
                    "are the zero matrix (test_skeleton_of_a_zero_matrix_is_zero)")
    a = np.outer(np.arange(1.0, 7.0), np.arange(1.0, 5.0)) * 1e-310
    with pytest.raises(NonFiniteError, match=r"skeleton: the core, the pseudo-inverse .* "
                                             r"beyond the range of float64 .* scale a up"):
        skeleton(backend.asarray(a), 1)
