"""TTMatrix operations and operator constructors against dense references."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import tt


def random_matrix(backend, row, col, rank, seed):
    rng = np.random.default_rng(seed)
    d = len(row)
    r = [1] + [rank] * (d - 1) + [1]
    cores = [backend.asarray(rng.standard_normal((r[k], row[k], col[k], r[k + 1])))
             for k in range(d)]
    return tt.TTMatrix(cores)


def test_full_and_shapes(backend):
    a = random_matrix(backend, (2, 3, 2), (3, 2, 2), 2, 0)
    assert a.shape == (12, 12) and a.ranks == (1, 2, 2, 1)
    dense = np_of(a.full())
    c = [np_of(g) for g in a.cores]
    ref = np.einsum("aijb,bklc,cmnd->ikmjln", *c).reshape(12, 12)
    np.testing.assert_allclose(dense, ref, rtol=1e-12)
    assert "TTMatrix" in repr(a) and backend.name in repr(a)


def test_matvec_matmat_transpose(backend):
    a = random_matrix(backend, (2, 3, 2), (3, 2, 4), 2, 0)
    b = random_matrix(backend, (3, 2, 4), (2, 2, 2), 3, 1)
    x = tt.random((3, 2, 4), 2, seed=2, backend=backend)
    A, B = np_of(a.full()), np_of(b.full())
    y = a @ x
    assert isinstance(y, tt.TTTensor) and y.shape == (2, 3, 2)
    assert_like(y, x)
    assert rel_error(np_of(y).ravel(), A @ np_of(x).ravel()) < 1e-12
    assert rel_error((a @ b).full(), A @ B) < 1e-12
    assert rel_error(a.T.full(), A.T) < 1e-12


def test_linear_combinations_and_round(backend):
    a = random_matrix(backend, (2, 3), (2, 3), 2, 0)
    b = random_matrix(backend, (2, 3), (2, 3), 2, 1)
    A, B = np_of(a.full()), np_of(b.full())
    assert rel_error((a + b).full(), A + B) < 1e-12
    assert rel_error((a - b).full(), A - B) < 1e-12
    assert rel_error((3.0 * a).full(), 3 * A) < 1e-12
    assert rel_error((-a).full(), -A) < 1e-12
    assert rel_error((a / 2.0).full(), A / 2) < 1e-12
    r = (a + a).round(1e-12)
    assert r.ranks == (1, 2, 1) and rel_error(r.full(), 2 * A) < 1e-12
    assert abs(float(tnlib.to_numpy(a.norm())) - np.linalg.norm(A)) < 1e-10


def test_eye_diag_and_diagonal(backend):
    e = tt.eye((2, 3, 2), backend=backend)
    assert e.ranks == (1, 1, 1, 1) and rel_error(e.full(), np.eye(12)) == 0
    x = tt.random((2, 3), 2, seed=0, backend=backend)
    dmat = tt.diag(x)
    assert rel_error(dmat.full(), np.diag(np_of(x).ravel())) < 1e-12
    assert rel_error(dmat.diag(), np_of(x)) < 1e-12


def test_laplacian_matches_kron_sum(backend):
    n, d = 4, 3
    lap = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    ident = np.eye(n)
    ref = sum(_kron_all([lap if j == k else ident for j in range(d)]) for k in range(d))
    a = tt.laplacian(n, d, backend=backend)
    assert a.ranks == (1, 2, 2, 1)
    assert backend.dtype_name(a.dtype) == "float64"
    assert rel_error(a.full(), ref) < 1e-14
    assert rel_error(tt.laplacian(5, 1, backend=backend).full(),
                     2 * np.eye(5) - np.eye(5, k=1) - np.eye(5, k=-1)) == 0


def _kron_all(mats):
    out = mats[0]
    for m in mats[1:]:
        out = np.kron(out, m)
    return out


def test_bad_input(backend):
    a = random_matrix(backend, (2, 3), (3, 2), 2, 0)
    with pytest.raises(tnlib.ShapeError, match="col_shape"):
        a @ tt.ones((2, 3), backend=backend)
    with pytest.raises(tnlib.ShapeError, match="shapes differ"):
        a + a.T
    with pytest.raises(tnlib.ShapeError, match="4-D"):
        tt.TTMatrix([backend.ones((1, 2, 1))])
