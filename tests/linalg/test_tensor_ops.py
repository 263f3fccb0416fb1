"""Unfold, fold, mode products and Khatri-Rao against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like
from tnlib.linalg import fold, khatri_rao, mode_product, multi_mode_product, unfold


def test_unfold_fold_round_trip(backend):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = backend.asarray(a)
    for k in range(3):
        m = unfold(x, k)
        np.testing.assert_array_equal(tnlib.to_numpy(m), np.moveaxis(a, k, 0).reshape(a.shape[k],
                                                                                       -1))
        np.testing.assert_array_equal(tnlib.to_numpy(fold(m, k, a.shape)), a)
    with pytest.raises(tnlib.ShapeError, match="out of range"):
        unfold(x, 3)


def test_mode_products(backend):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 4))
    m = rng.standard_normal((5, 3))
    got = mode_product(backend.asarray(a), backend.asarray(m), 1)
    assert_like(got, backend.asarray(a))
    np.testing.assert_allclose(tnlib.to_numpy(got), np.einsum("ijk,pj->ipk", a, m), rtol=1e-12)
    ms = [rng.standard_normal((2, n)) for n in a.shape]
    got = multi_mode_product(backend.asarray(a), [backend.asarray(x) for x in ms])
    ref = np.einsum("ijk,ai,bj,ck->abc", a, *ms)
    np.testing.assert_allclose(tnlib.to_numpy(got), ref, rtol=1e-12)
    got = multi_mode_product(backend.asarray(a), [backend.asarray(x) for x in ms], skip=0)
    np.testing.assert_allclose(tnlib.to_numpy(got), np.einsum("ijk,bj,ck->ibc", a, *ms[1:]),
                               rtol=1e-12)
    with pytest.raises(tnlib.ShapeError, match=r"shape \(p, 3\)"):
        mode_product(backend.asarray(a), backend.asarray(m.T), 1)


def test_khatri_rao_matches_unfolding_convention(backend):
    rng = np.random.default_rng(2)
    f = [rng.standard_normal((n, 3)) for n in (2, 3, 4)]
    w = rng.standard_normal(3)
    full = np.einsum("r,ir,jr,kr->ijk", w, *f)
    kr = khatri_rao([backend.asarray(f[1]), backend.asarray(f[2])])
    np.testing.assert_allclose(tnlib.to_numpy(kr), np.einsum("jr,kr->jkr", f[1], f[2]).reshape(
        -1, 3), rtol=1e-12)
    np.testing.assert_allclose((f[0] * w) @ tnlib.to_numpy(kr).T, full.reshape(2, -1),
                               rtol=1e-12)
    with pytest.raises(tnlib.ShapeError, match="3 columns"):
        khatri_rao([backend.asarray(f[0]), backend.asarray(f[1][:, :2])])


def test_bad_modes_and_matrix_lists_name_themselves(backend):
    """A fractional mode was a TypeError, a single array or a vector in place of a list of
    matrices an IndexError, and more matrices than modes were dropped without a word (a
    mode given twice had its products reordered)."""
    t = backend.asarray(np.random.default_rng(0).standard_normal((3, 4, 5)))
    m = backend.asarray(np.ones((2, 3)))
    for call, error, match in [
        (lambda: unfold(t, 1.5), tnlib.ArgumentError, "unfold: mode must be an integer"),
        (lambda: fold(backend.asarray(np.ones((4, 15))), True, (3, 4, 5)), tnlib.ArgumentError,
         "fold: mode must be an integer"),
        (lambda: multi_mode_product(t, [m, m], modes=[0]), tnlib.ShapeError,
         "2 matrices for 1 modes"),
        (lambda: multi_mode_product(t, [m, m], modes=[0, 0]), tnlib.ArgumentError,
         r"modes must be distinct, got \[0, 0\]"),
        (lambda: multi_mode_product(t, m), tnlib.ShapeError, "a list or tuple of matrices"),
        (lambda: khatri_rao(backend.asarray(np.ones((3, 2)))), tnlib.ShapeError,
         r"khatri_rao: matrices must be a list or tuple of matrices, got one array"),
        (lambda: khatri_rao([backend.asarray(np.ones(3))] * 2), tnlib.ShapeError,
         r"khatri_rao: matrices\[0\] must be a matrix, got shape \(3,\)"),
    ]:
        with pytest.raises(error, match=match):
            call()
    # negative modes count from the end, as in NumPy
    got = multi_mode_product(t, [m], modes=[-3])
    np.testing.assert_allclose(tnlib.to_numpy(got), tnlib.to_numpy(mode_product(t, m, 0)))
