"""Tangent spaces of the fixed-rank TT manifold: projection, tangent arithmetic, retraction."""

from __future__ import annotations

import numpy as np
import pytest

import tnlib
from tnlib import riemannian as rm
from tnlib import tt
from tnlib.errors import ArgumentError, BackendMismatchError, EvaluationError, ShapeError

from ..helpers import assert_like, np_of, rel_error

SHAPE = (3, 4, 5, 3)


def _point(backend, ranks=2, seed=0):
    return tt.random(SHAPE, ranks, seed=seed, backend=backend)


def _tangent_basis_probe(x, seeds=(11, 12, 13)):
    """A few tangent vectors at x (projections of random TTs), as dense NumPy arrays."""
    return [np_of(rm.project(x, tt.random(SHAPE, 2, seed=s, backend=x.backend))) for s in seeds]


def test_project_tt_equals_dense_and_is_tangent(backend):
    x = _point(backend)
    z = tt.random(SHAPE, 3, seed=1, backend=backend)
    v = rm.project(x, z)
    assert isinstance(v, tt.TTTensor) and isinstance(v, rm.TangentVector)
    assert all(r <= 2 * rx for r, rx in zip(v.ranks, x.ranks))
    assert_like(v, x)
    assert rel_error(v, rm.project(x, z.full())) < 1e-12
    # the residual is orthogonal to the tangent space
    resid = np_of(z) - np_of(v)
    for w in _tangent_basis_probe(x):
        assert abs(np.vdot(resid, w)) < 1e-10 * np.linalg.norm(resid) * np.linalg.norm(w)


def test_project_is_idempotent_and_exact_on_x(backend):
    x = _point(backend)
    v = rm.project(x, tt.random(SHAPE, 3, seed=1, backend=backend))
    assert rel_error(rm.project(x, v.to_tt()), v) < 1e-12
    assert rel_error(rm.project(x, x), x) < 1e-12


def test_tangent_arithmetic_and_inner_products_match_dense(backend):
    x = _point(backend)
    v = rm.project(x, tt.random(SHAPE, 3, seed=1, backend=backend))
    w = rm.project(x, tt.random(SHAPE, 2, seed=2, backend=backend))
    dv, dw = np_of(v), np_of(w)
    u = 2.0 * v - w / 4.0 + (-v)
    assert isinstance(u, rm.TangentVector) and u.frame is v.frame
    assert rel_error(u, dv - dw / 4.0) < 1e-12
    assert abs(float(tnlib.to_numpy(v.inner(w))) - np.vdot(dv, dw)) < 1e-10 * np.linalg.norm(dv) \
        * np.linalg.norm(dw)
    assert abs(float(tnlib.to_numpy(v.dot(w))) - np.vdot(dv, dw)) < 1e-10 * np.linalg.norm(dv) \
        * np.linalg.norm(dw)
    assert abs(float(tnlib.to_numpy(v.norm())) - np.linalg.norm(dv)) < 1e-12 * np.linalg.norm(dv)
    # mixing with a plain TT falls back to TT arithmetic
    z = tt.random(SHAPE, 1, seed=3, backend=backend)
    assert rel_error(v + z, dv + np_of(z)) < 1e-12


def test_project_sum_equals_sum_of_projections(backend):
    x = _point(backend)
    zs = [tt.random(SHAPE, r, seed=s, backend=backend) for s, r in [(1, 1), (2, 2), (3, 1), (4, 3)]]
    weights = [1.0, -2.0, 0.5, 3.0]
    got = rm.project_sum(x, zs, weights)
    want = sum(w * np_of(rm.project(x, z)) for w, z in zip(weights, zs))
    assert rel_error(got, want) < 1e-12
    assert_like(got, x)
    assert rel_error(rm.project_sum(x, zs), sum(np_of(rm.project(x, z)) for z in zs)) < 1e-12


def test_project_sparse_equals_dense(backend):
    x = _point(backend)
    rng = np.random.default_rng(4)
    idx = np.stack([rng.integers(0, n, 40) for n in SHAPE], axis=1)
    vals = rng.normal(size=40)
    dense = np.zeros(SHAPE)
    np.add.at(dense, tuple(idx.T), vals)
    got = rm.project_sparse(x, idx, backend.asarray(vals))
    assert rel_error(got, rm.project(x, backend.asarray(dense))) < 1e-12
    assert_like(got, x)


def test_transport_of_a_tangent_vector_is_its_projection(backend):
    x, y = _point(backend), _point(backend, seed=5)
    v = rm.project(x, tt.random(SHAPE, 2, seed=1, backend=backend))
    moved = rm.transport(v, y)
    assert rel_error(moved, rm.project(y, backend.asarray(np_of(v)))) < 1e-12


def test_retract_keeps_ranks_and_is_first_order(backend):
    x = _point(backend, ranks=(2, 3, 2))
    v = rm.project(x, tt.random(SHAPE, 2, seed=1, backend=backend))
    dx, dv = np_of(x), np_of(v)
    errs = []
    for t in (1e-2, 1e-3):
        y = rm.retract(x, v, t)
        assert y.ranks == x.ranks
        assert_like(y, x)
        errs.append(np.linalg.norm(np_of(y) - dx - t * dv))
    assert errs[1] < errs[0] / 50  # O(t^2)
    # a plain TT direction is added and rounded
    z = tt.random(SHAPE, 1, seed=2, backend=backend)
    assert rm.retract(x, z, 0.1).ranks == x.ranks


@pytest.mark.parametrize("scale", [1e10, 1e50, 1e-100])
def test_retraction_and_projection_commute_with_the_scale(backend, scale):
    # the rank-2r cores held orthonormal blocks next to deltas of the point's size: a point
    # of norm 1e10 lost half the digits of its retraction, one of 1e50 all of them (and
    # the sum with a point from another frame parted the same way)
    x, a = _point(backend), tt.random(SHAPE, 3, seed=1, backend=backend)
    v = rm.project(x, a)
    want, dv = np_of(rm.retract(x, v, 0.1)), np_of(v)
    xs = x * scale
    vs = rm.project(xs, a * scale)
    assert rel_error(np_of(vs) / scale, dv) < 1e-13
    assert abs(float(np_of(vs.norm())) / scale / np.linalg.norm(dv) - 1) < 1e-13
    assert abs(float(np_of(vs.to_tt().norm())) / scale / np.linalg.norm(dv) - 1) < 1e-12
    for y in (rm.retract(xs, vs, 0.1), rm.retract(x * scale, vs, 0.1)):  # a frame, or a TT
        assert_like(y, x)
        assert rel_error(np_of(y) / scale, want) < 1e-12


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_tangent_vectors_of_extreme_scale_keep_their_norm(backend, scale):
    # the deltas' squares left the float range: norm() was 0 or inf, the point of norm
    # 1e200 "has non-finite entries"
    x, a = _point(backend), tt.random(SHAPE, 3, seed=1, backend=backend)
    want = np.linalg.norm(np_of(rm.project(x, a)))
    for v in (rm.project(x, a * scale), rm.project(x * scale, a * scale)):
        assert abs(float(np_of(v.norm())) / scale / want - 1) < 1e-13
        assert abs(float(np_of(v.to_tt().norm())) / scale / want - 1) < 1e-12
    assert abs(float(np_of(rm.project(x * scale, a).norm())) / want - 1) < 1e-13


def test_bad_input():
    x = tt.random(SHAPE, 2, seed=0)
    with pytest.raises(ShapeError, match="shape"):
        rm.project(x, tt.random((3, 4, 5, 4), 2, seed=1))
    with pytest.raises(ShapeError, match="shape"):
        rm.project(x, np.zeros((3, 4, 5)))
    with pytest.raises(ShapeError, match="point x must be a TTTensor"):
        rm.project(np.zeros(SHAPE), x)
    with pytest.raises(ShapeError, match="ranks don't fit"):
        rm.project(tt.TTTensor([np.ones((1, 2, 5)), np.ones((5, 2, 1))]), np.ones((2, 2)))
    with pytest.raises(ShapeError, match="weights"):
        rm.project_sum(x, [x, x], [1.0])
    with pytest.raises(ShapeError, match="mode 2 has size 5"):
        rm.project_sparse(x, np.array([[0, 0, 7, 0]]), np.ones(1))


def test_non_finite_points_and_steps_are_refused(backend):
    x = _point(backend)
    bad = list(x.cores)
    bad[1] = bad[1] * float("nan")
    with pytest.raises(EvaluationError, match="non-finite"):
        rm.project(tt.TTTensor(bad), x)
    v = rm.project(x, tt.random(SHAPE, 2, seed=1, backend=backend))
    for step in (float("nan"), float("inf")):
        with pytest.raises(ArgumentError, match="step must be a finite"):
            rm.retract(x, v, step)


def test_mixed_backends_are_refused():
    torch_backend = pytest.importorskip("torch") and tnlib.backends.get("torch")
    x = tt.random(SHAPE, 2, seed=0)
    with pytest.raises(BackendMismatchError):
        rm.project(x, tt.random(SHAPE, 2, seed=1, backend=torch_backend))


def test_tangent_vectors_are_jax_pytrees():
    jax = pytest.importorskip("jax")
    from ..conftest import named_backend

    xp = named_backend("jax")
    x = tt.random(SHAPE, 2, seed=0, backend=xp)
    z = tt.random(SHAPE, 2, seed=1, backend=xp)

    @jax.jit
    def proj_norm(x, z):
        v = rm.project(x, z)
        return v.norm(), v

    nrm, v = proj_norm(x, z)
    assert isinstance(v, rm.TangentVector)
    assert abs(float(nrm) - np.linalg.norm(np_of(rm.project(x, z)))) < 1e-10 * float(nrm)
