"""Hierarchical Tucker: trees, HSVD, algebra, truncation, conversions."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import tnlib
from tests.helpers import assert_like, np_of, rel_error
from tnlib import ht, tt

TREES = {
    "balanced": lambda d: ht.DimensionTree.balanced(d),
    "linear": lambda d: ht.DimensionTree.linear(d),
}


def hilbert(shape):
    return 1.0 / (1.0 + sum(np.ix_(*[np.arange(n, dtype=float) for n in shape])))


def test_dimension_tree_structure():
    t = ht.DimensionTree.balanced(5)
    assert t.root == (0, 1, 2, 3, 4) and t.d == 5
    assert t.children(t.root) == ((0, 1, 2), (3, 4))
    assert t.parent((3,)) == (3, 4) and t.parent(t.root) is None
    assert t.leaves == tuple((k,) for k in range(5))
    assert len(t.nodes) == 2 * 5 - 1 and len(t.interior) == 4
    assert t.levels[0] == [t.root] and t.level((0,)) == 3
    assert t.sibling((3,)) == (4,)
    assert "└──" in repr(t) and "{0,1,2}" in repr(t)
    lin = ht.DimensionTree.linear(4)
    assert lin.children(lin.root) == ((0,), (1, 2, 3)) and lin.is_linear()
    assert ht.DimensionTree(((0, 2), (1, 3))).children((0, 2, 1, 3)) == ((0, 2), (1, 3))


@pytest.mark.parametrize("nested, match", [
    (((0, 1), (1, 2)), "appears twice"),
    (((0, 1), (3, 4)), "modes 0 .. d-1"),
    (((0, 1, 2), 3), "exactly two children"),
])
def test_bad_trees(nested, match):
    with pytest.raises(tnlib.ShapeError, match=match):
        ht.DimensionTree(nested)


@pytest.mark.parametrize("kind", list(TREES))
@pytest.mark.parametrize("eps", [1e-3, 1e-8, 1e-12])
def test_hsvd_error_bound(backend, kind, eps):
    a = hilbert((4, 5, 3, 4, 4))
    x = ht.hsvd(backend.asarray(a), TREES[kind](5), eps=eps)
    assert_like(x.array(x.tree.root), backend.asarray(a))
    assert rel_error(x.full(), a) <= eps * (1 + 1e-6) + 1e-14


def test_hsvd_nonstandard_tree_and_max_rank(backend):
    a = backend.asarray(hilbert((4, 5, 3, 4)))
    tree = ht.DimensionTree(((0, 2), (1, 3)))
    x = ht.hsvd(a, tree, eps=1e-10)
    assert rel_error(x.full(), np_of(a)) < 1e-10
    y = ht.hsvd(a, eps=0.0, max_rank=2)
    assert max(r for n, r in y.ranks.items()) <= 2
    assert rel_error(y.full(), np_of(a)) < 0.05


def test_exact_recovery_of_random_ht(backend):
    x = ht.random((4, 5, 3, 4, 3), 3, seed=0, backend=backend)
    y = ht.hsvd(x.full(), x.tree, eps=1e-12)
    assert rel_error(y.full(), np_of(x)) < 1e-10
    assert all(y.ranks[n] <= x.ranks[n] for n in x.tree.nodes)


def test_norm_dot_and_algebra(backend):
    x = ht.random((3, 4, 5, 2), 3, seed=0, backend=backend)
    y = ht.random((3, 4, 5, 2), 2, seed=1, backend=backend)
    a, b = np_of(x), np_of(y)
    assert abs(float(tnlib.to_numpy(x.norm())) - np.linalg.norm(a)) < 1e-10 * np.linalg.norm(a)
    assert abs(float(tnlib.to_numpy(x.dot(y))) - np.sum(a * b)) < 1e-9 * abs(np.sum(a * b))
    for got, ref in [(x + y, a + b), (x - y, a - b), (2.0 * x, 2 * a), (x * y, a * b),
                     (-x, -a), (x / 2.0, a / 2)]:
        assert_like(got, x)
        assert rel_error(got, ref) < 1e-12
    assert (x * y).ranks[(0,)] == 6


@pytest.mark.parametrize("gap", [1e-8, 1e-12])
def test_norm_of_a_difference_of_close_tensors_is_accurate(backend, gap):
    # the Gramians' sum of squares cancels: the norm was right to sqrt(u) only (7e3x off at
    # a gap of 1e-12); it now comes from the orthogonal form there
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((6, 7, 8, 5)) for _ in range(2))
    x = ht.hsvd(backend.asarray(a / np.linalg.norm(a)), eps=0)
    z = ht.hsvd(backend.asarray(b / np.linalg.norm(b)), eps=0)
    got = (x - (x + gap * z)).norm()
    assert_like(got, x.array(x.tree.root))
    assert abs(float(np_of(got)) / gap - 1) < 1e-15 / gap + 1e-12
    assert abs(float(np_of(x.norm())) - 1) < 1e-14  # no cancellation: the Gramians' value


def test_evaluate_and_getitem(backend):
    x = ht.random((3, 4, 5, 2), 3, seed=0, backend=backend)
    a = np_of(x)
    idx = np.random.default_rng(0).integers(0, [3, 4, 5, 2], size=(50, 4))
    np.testing.assert_allclose(tnlib.to_numpy(x.evaluate(idx)), a[tuple(idx.T)], rtol=1e-12,
                               atol=1e-12)
    assert abs(float(tnlib.to_numpy(x[2, 3, 4, 1])) - a[2, 3, 4, 1]) < 1e-12


def test_orthogonalize_and_gramians(backend):
    x = ht.random((3, 4, 5, 2), 3, seed=0, backend=backend)
    y = x.orthogonalize()
    assert rel_error(y, np_of(x)) < 1e-12
    for leaf in y.tree.leaves:
        u = tnlib.to_numpy(y.array(leaf))
        np.testing.assert_allclose(u.T @ u, np.eye(u.shape[1]), atol=1e-12)
    # node singular values equal those of the dense matricization
    a = np_of(x)
    svds = y.node_svd()
    s_ref = np.linalg.svd(a.reshape(12, 10), compute_uv=False)
    s = tnlib.to_numpy(svds[(0, 1)][1])
    np.testing.assert_allclose(s, s_ref[: s.size], rtol=1e-10, atol=1e-12)
    g = tnlib.to_numpy(y.gramians()[(0, 1)])
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(g))[::-1], s**2, rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("eps", [1e-2, 1e-6, 1e-12])
def test_round_meets_eps(backend, eps):
    x = ht.random((4, 5, 3, 4, 3), 3, seed=0, backend=backend)
    z = x + ht.random((4, 5, 3, 4, 3), 2, seed=1, backend=backend) * 1e-3
    y = z.round(eps)
    assert_like(y, z)
    assert rel_error(y.full(), np_of(z)) <= eps * (1 + 1e-6)
    assert all(y.ranks[n] <= z.ranks[n] for n in z.tree.nodes)


@pytest.mark.parametrize("tree", ["balanced", "linear"])
def test_complex_round_and_node_singular_values(backend, tree):
    # node_svd passed S W^H where S W^T belongs, and the truncation conjugated the node's
    # own basis change instead of its children's: complex rounding returned a tensor 139 %
    # off (round(1e-12) of an exact HT included)
    shape = (4, 5, 3, 4, 3)
    t = TREES[tree](len(shape))
    x = ht.random(shape, 3, seed=0, tree=t, dtype="complex128", backend=backend)
    z = x + ht.random(shape, 2, seed=1, tree=t, dtype="complex128", backend=backend) * 1e-3
    a = np_of(z)
    for eps in (1e-2, 1e-12):
        y = z.round(eps)
        assert_like(y, z)
        assert rel_error(y.full(), a) <= eps * (1 + 1e-6)
    assert rel_error((x + x).round(1e-10).full(), 2 * np_of(x)) < 1e-9
    for node, (_, s) in z.orthogonalize().node_svd().items():
        modes = [node] if isinstance(node, int) else list(node)
        rest = [k for k in range(len(shape)) if k not in modes]
        m = np.transpose(a, modes + rest).reshape(int(np.prod([shape[k] for k in modes])), -1)
        s_ref = np.linalg.svd(m, compute_uv=False)
        s = tnlib.to_numpy(s)
        np.testing.assert_allclose(s, s_ref[: s.size], rtol=1e-10, atol=1e-12 * s_ref[0])


def test_round_removes_redundancy(backend):
    x = ht.random((4,) * 6, 3, seed=2, backend=backend)
    y = (x + x).round(1e-10)
    assert all(y.ranks[n] <= x.ranks[n] for n in x.tree.nodes)
    assert rel_error(y.full(), 2 * np_of(x)) < 1e-9
    z = (x + x).round(max_rank=2)
    assert max(z.ranks.values()) <= 2


def test_tt_round_trips(backend):
    x = tt.random((3, 4, 5, 2, 3), 2, seed=0, backend=backend)
    h = ht.from_tt(x)
    assert h.tree.is_linear()
    assert rel_error(h.full(), np_of(x)) < 1e-12
    back = h.to_tt()
    assert_like(back, x)
    assert rel_error(back.full(), np_of(x)) < 1e-12
    assert back.ranks == x.ranks
    with pytest.raises(tnlib.ShapeError, match="linear"):
        ht.random((3, 4, 5, 2), 2, seed=0, backend=backend).to_tt()


def test_pickle_and_validation(backend):
    x = ht.random((3, 4, 5), 2, seed=0, backend=backend)
    y = pickle.loads(pickle.dumps(x))
    assert rel_error(y.full(), np_of(x)) == 0
    arrays = {n: x.array(n) for n in x.tree.nodes}
    arrays[(0,)] = backend.ones((3, 5))
    with pytest.raises(tnlib.ShapeError, match="transfer tensor of node"):
        ht.HTTensor(x.tree, arrays)
    with pytest.raises(tnlib.ShapeError, match="tree has 3 modes but a has 4"):
        ht.hsvd(backend.ones((2, 2, 2, 2)), ht.DimensionTree.balanced(3))
    with pytest.raises(tnlib.ShapeError, match="dimension trees differ"):
        x + ht.random((3, 4, 5), 2, tree=ht.DimensionTree.linear(3), backend=backend)
    with pytest.raises(tnlib.ArgumentError, match="truncate: x must be an HTTensor, got list"):
        ht.truncate([x])
    with pytest.raises(tnlib.ArgumentError, match=r"HTTensor.round: eps must be .* got -1"):
        x.round(-1)
    with pytest.raises(tnlib.ArgumentError, match=r"HTTensor.round: max_rank must be"):
        x.round(max_rank=0)
