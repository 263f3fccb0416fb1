"""Hierarchical SVD of dense tensors, HT truncation, conversions and random HT tensors."""

from __future__ import annotations

import math
from typing import Any

from .._validation import (
    DefaultTol,
    as_array,
    check_eps,
    check_positive_int,
    check_shape,
    float_data,
    honour_eps,
    rng_of,
    scaled_back,
    times_pow2,
    traced_eps,
    unit_data,
)
from ..backends import Backend, backend_of, resolve
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from ..linalg.svd import mode_svd_abs, truncation_rank
from ..tt._scale import balanced
from .tensor import HTTensor
from .tree import DimensionTree, Node

__all__ = ["from_tt", "hsvd", "random", "truncate"]


def _node_bound(max_rank: Any, where: str) -> Any:
    if max_rank is None:
        return lambda node: None
    if isinstance(max_rank, dict):
        return lambda node: (check_positive_int(max_rank[node], where, "max_rank")
                             if node in max_rank else None)
    value = check_positive_int(max_rank, where, "max_rank")
    return lambda node: value


@host_eager
def hsvd(a: Any, tree: DimensionTree | None = None, eps: float = DefaultTol(1e-14),
         max_rank: Any = None) -> HTTensor:
    """Hierarchical SVD of a dense tensor with ``‖a - x‖_F <= eps ‖a‖_F``.

    Leaves to root (Grasedyck 2010, Algorithm 2 in its sequentially truncated
    form): the leaf bases come from the mode unfoldings, each projected away at
    once so later steps work on the reduced core; then each interior node merges
    its children's axes of the core and keeps the leading left singular vectors.
    Every node except one child of the root (whose singular values equal its
    sibling's) may discard ``eps ‖a‖ / sqrt(2d - 3)``. Unfoldings are factorized
    through their short side (:func:`tnlib.linalg.left_svd`).

    Parameters
    ----------
    a : array with d >= 2 axes
    tree : DimensionTree, optional
        Defaults to ``DimensionTree.balanced(d)``.
    eps : float, optional
    max_rank : int or dict node -> int, optional

    Returns
    -------
    HTTensor
        Orthonormal bases, the norm in the root transfer tensor.

    References
    ----------
    L. Grasedyck, "Hierarchical singular value decomposition of tensors", SIAM J.
    Matrix Anal. Appl. 31 (2010).

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import ht
    >>> grid = sum(np.ix_(*[np.arange(4.0)] * 6))
    >>> a = 1.0 / (1.0 + grid)
    >>> x = ht.hsvd(a, eps=1e-8)
    >>> bool(np.linalg.norm(x.full() - a) <= 1e-8 * np.linalg.norm(a))
    True
    """
    xp = backend_of(a)
    a = as_array(a, xp, "hsvd")
    eps = check_eps(eps, "hsvd", ranks="max_rank")
    a = float_data(a, xp, "hsvd")
    eps = honour_eps(traced_eps(eps, xp, a, "hsvd", "max_rank"), xp, a, "hsvd")
    shape = xp.shape(a)
    d = len(shape)
    if d < 2:
        raise ShapeError(f"hsvd: a must have at least 2 axes, got shape {shape}")
    tree = DimensionTree.balanced(d) if tree is None else tree
    if not isinstance(tree, DimensionTree):
        raise ArgumentError(f"hsvd: tree must be a DimensionTree, got {type(tree).__name__}")
    if tree.d != d:
        raise ShapeError(f"hsvd: the tree has {tree.d} modes but a has {d} axes")
    bound = _node_bound(max_rank, "hsvd")
    # Grams of data near the float limits overflow: factor it at unit scale
    a, scale, norm = unit_data(a, xp, "hsvd", norm=eps > 0)
    delta = eps * norm / math.sqrt(2 * d - 3) if norm is not None else 0.0
    skip = tree.children(tree.root)[1]  # its singular values are its sibling's
    arrays: dict[Node, Any] = {}
    core = a
    axes: list[Node] = [(k,) for k in range(d)]  # the node held by each axis of `core`
    for leaf in tree.leaves:
        k = axes.index(leaf)
        u, _, core = mode_svd_abs(core, k, 0.0 if leaf == skip else delta, bound(leaf), xp,
                                  norm)
        arrays[leaf] = u
    for node in tree.interior:
        if node == tree.root:
            break
        t1, t2 = tree.children(node)
        i1, i2 = axes.index(t1), axes.index(t2)
        if i2 != i1 + 1:  # bring the children's axes together (a copy; rare in practice)
            core = xp.moveaxis(core, i2, i1 + 1)
            axes.insert(i1 + 1, axes.pop(i2))
            i1, i2 = axes.index(t1), axes.index(t2)
        cshape = xp.shape(core)
        r1, r2 = cshape[i1], cshape[i2]
        merged = xp.reshape(core, cshape[:i1] + (r1 * r2,) + cshape[i2 + 1:])
        u, _, core = mode_svd_abs(merged, i1, 0.0 if node == skip else delta, bound(node), xp,
                                  norm)
        arrays[node] = xp.reshape(xp.transpose(u), (xp.shape(u)[1], r1, r2))
        axes[i1:i2 + 1] = [node]
    t1, t2 = tree.children(tree.root)
    if axes.index(t1) != 0:
        core = xp.transpose(core)
    core = scaled_back(core, scale, xp, "hsvd")
    arrays[tree.root] = xp.reshape(core, (1,) + tuple(xp.shape(core)))
    return HTTensor._from(tree, arrays, xp)


@host_eager
def truncate(x: HTTensor, eps: float = 0.0, max_rank: Any = None) -> HTTensor:
    """HT truncation to accuracy `eps` and/or `max_rank`, root to leaves.

    The tensor is orthogonalized, every node's singular values and vectors are
    computed top-down by small SVDs (:meth:`HTTensor.node_svd`), and all nodes
    are projected onto their leading singular vectors at once. With ``2d - 3``
    independent truncations of ``eps ‖x‖ / sqrt(2d - 3)`` each, the result
    satisfies ``‖x - y‖_F <= eps ‖x‖_F`` (Grasedyck 2010, Theorem 3.11). The two
    children of the root share their singular values, so the second takes the
    rank of the first. Cost ``O(d r^4 + d n r^2)``.

    Examples
    --------
    >>> from tnlib import ht
    >>> x = ht.random((5,) * 6, 3, seed=0)
    >>> y = (x + x).round(1e-10)
    >>> max(y.ranks.values()) <= 3
    True
    """
    return _truncate(x, eps, max_rank, "truncate")


def _truncate(x: HTTensor, eps: Any, max_rank: Any, where: str) -> HTTensor:
    """:func:`truncate`, its errors named `where` (``HTTensor.round`` calls it too)."""
    if not isinstance(x, HTTensor):
        raise ArgumentError(f"{where}: x must be an HTTensor, got {type(x).__name__}")
    eps = check_eps(eps, where, ranks="max_rank")
    bound = _node_bound(max_rank, where)
    xp = x.backend
    tree = x.tree
    x = x.orthogonalize()
    # the norm sits at the root: truncated at unit size (the Gramians of node_svd and the
    # norm square it: a tensor of 1e200 overflowed, and was cut to rank 1)
    (root,), exponent = balanced([x.array(tree.root)], xp, always=True)
    x = HTTensor._from(tree, {**{n: x.array(n) for n in tree.nodes}, tree.root: root}, xp)
    svds = x.node_svd()
    norm = float(xp.item(xp.norm(x.array(tree.root))))
    delta = eps * norm / math.sqrt(2 * tree.d - 3) if eps > 0 else 0.0
    first, second = tree.children(tree.root)
    keep: dict[Node, Any] = {}
    for node in tree.nodes:
        if node == tree.root or node == second:
            continue
        w, s = svds[node]
        r = truncation_rank(s, delta, bound(node), xp)
        keep[node] = w[:, :r]
    r_first = xp.shape(keep[first])[1]
    w2, _ = svds[second]
    r_second = r_first if bound(second) is None else min(r_first, bound(second))
    keep[second] = w2[:, :min(r_second, xp.shape(w2)[1])]
    arrays: dict[Node, Any] = {}
    for node in tree.nodes:
        a = x.array(node)
        if tree.is_leaf(node):
            arrays[node] = a @ keep[node]
            continue
        t1, t2 = tree.children(node)
        # children's coefficients in their new bases U W: W^H B; the node's new basis
        # vectors U_t W_t combine the old ones with W_t itself
        b = xp.einsum("kab,aA,bB->kAB", a, xp.conj(keep[t1]), xp.conj(keep[t2]))
        if node != tree.root:
            b = xp.einsum("kab,kK->Kab", b, keep[node])
        arrays[node] = b
    arrays[tree.root] = times_pow2(arrays[tree.root], exponent, xp)
    return HTTensor._from(tree, arrays, xp)


@host_eager
def from_tt(x: Any) -> HTTensor:
    """Exact HTTensor of a TTTensor, on the linear dimension tree.

    Node ``{k, ..., d-1}`` takes TT-rank ``r_k``; leaf bases are orthonormal
    bases of the mode fibres of each core.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import ht, tt
    >>> x = tt.random((3, 4, 5, 2), 2, seed=0)
    >>> bool(np.allclose(ht.from_tt(x).full(), x.full()))
    True
    """
    from ..tt import TTTensor

    if not isinstance(x, TTTensor):
        raise ArgumentError(f"from_tt: expected a TTTensor, got {type(x).__name__}")
    xp = x.backend
    d = x.ndim
    if d < 2:
        raise ShapeError("from_tt: needs at least 2 modes")
    tree = DimensionTree.linear(d)
    arrays: dict[Node, Any] = {}
    coeffs = []
    for k, g in enumerate(x.cores):
        r0, n, r1 = xp.shape(g)
        q, rf = xp.qr(xp.reshape(xp.transpose(g, (1, 0, 2)), (n, r0 * r1)))
        arrays[(k,)] = q
        coeffs.append(xp.reshape(rf, (xp.shape(q)[1], r0, r1)))  # (m_k, r_k, r_{k+1})
    for k in range(d - 2):
        arrays[tuple(range(k, d))] = xp.transpose(coeffs[k], (1, 0, 2))
    arrays[(d - 2, d - 1)] = xp.einsum("aub,cbv->uacv", coeffs[d - 2],
                                       coeffs[d - 1])[..., 0]
    return HTTensor._from(tree, arrays, xp)


def random(shape: Any, ranks: int, tree: DimensionTree | None = None, seed: Any = None,
           dtype: Any = None, device: Any = None, backend: str | Backend | None = None
           ) -> HTTensor:
    """Random HTTensor with Gaussian bases and transfer tensors.

    Every non-root node gets rank ``min(ranks, its largest possible rank)``.

    Examples
    --------
    >>> from tnlib import ht
    >>> ht.random((4, 4, 4, 4), 3, seed=0).ranks[(0, 1)]
    3
    """
    shape = check_shape(shape, "ht.random")
    ranks = check_positive_int(ranks, "ht.random", "ranks")
    d = len(shape)
    if d < 2:
        raise ShapeError("ht.random: needs at least 2 modes")
    tree = DimensionTree.balanced(d) if tree is None else tree
    if tree.d != d:
        raise ShapeError(f"ht.random: the tree has {tree.d} modes but shape has {d}")
    xp = resolve(backend)
    dtype, device = xp.placement(dtype, device, "ht.random")
    rng = rng_of(seed, "ht.random")
    r: dict[Node, int] = {}
    arrays: dict[Node, Any] = {}
    for node in tree.nodes:
        if tree.is_leaf(node):
            r[node] = min(ranks, shape[node[0]])
            arrays[node] = xp.random_normal((shape[node[0]], r[node]), seed=rng, dtype=dtype,
                                            device=device)
            continue
        t1, t2 = tree.children(node)
        rest = math.prod(shape) // math.prod(shape[m] for m in node)
        r[node] = 1 if node == tree.root else min(ranks, r[t1] * r[t2], rest)
        arrays[node] = xp.random_normal((r[node], r[t1], r[t2]), seed=rng, dtype=dtype,
                                        device=device)
    return HTTensor._from(tree, arrays, xp)
