"""HTTensor: a tensor in hierarchical Tucker format over a binary dimension tree."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from .._pytree import register_container
from .._validation import (
    EntryIndexed,
    TensorFormat,
    cast_factor,
    check_float_dtype,
    check_scalar_kind,
)
from ..backends import Backend, backend_of
from ..backends._host import host_eager
from ..errors import ArgumentError, ShapeError
from .tree import DimensionTree, Node

__all__ = ["HTTensor"]


@register_container
class HTTensor(TensorFormat, EntryIndexed):
    """A tensor in hierarchical Tucker format.

    Leaves ``t = {k}`` hold bases ``U_t`` of shape ``(n_k, r_t)``; every interior
    node ``t`` with children ``t1, t2`` holds a transfer tensor ``B_t`` of shape
    ``(r_t, r_t1, r_t2)`` and stands for the basis
    ``U_t[(i1, i2), k] = Σ_ab U_t1[i1, a] U_t2[i2, b] B_t[k, a, b]``. The root
    has rank 1; the tensor is ``U_root``.

    Parameters
    ----------
    tree : DimensionTree
    arrays : mapping node -> array
        ``U_t`` for leaves, ``B_t`` for interior nodes.

    Examples
    --------
    >>> import numpy as np
    >>> from tnlib import ht
    >>> x = ht.hsvd(np.random.default_rng(0).standard_normal((3, 4, 5, 6)), eps=0.0)
    >>> x.ranks[(0, 1)], x.shape
    (12, (3, 4, 5, 6))
    """

    __slots__ = ("_tree", "_arrays", "_backend")

    def __init__(self, tree: DimensionTree, arrays: Mapping[Node, Any]) -> None:
        if not isinstance(tree, DimensionTree):
            raise ArgumentError(f"HTTensor: tree must be a DimensionTree, got "
                                f"{type(tree).__name__}")
        if tree.d < 2:
            raise ShapeError("HTTensor: needs d >= 2 modes (a tree with an interior root)")
        missing = [n for n in tree.nodes if n not in arrays]
        if missing:
            raise ShapeError(f"HTTensor: no array for node(s) {missing}")
        extra = [n for n in arrays if n not in set(tree.nodes)]
        if extra:
            raise ShapeError(f"HTTensor: node(s) {extra} are not in the tree")
        xp = backend_of([arrays[n] for n in tree.nodes])
        ranks: dict[Node, int] = {}
        dtype = None
        for node in tree.nodes:
            a = arrays[node]
            if not xp.is_array(a):
                raise ShapeError(f"HTTensor: array of node {node} is a {type(a).__name__}")
            shape = xp.shape(a)
            if dtype is None:
                dtype = xp.dtype_name(a)
                check_float_dtype(dtype, "HTTensor", f"the array of node {node}")
            if xp.dtype_name(a) != dtype:
                raise ShapeError(f"HTTensor: node {node} has dtype {xp.dtype_name(a)}, others "
                                 f"{dtype}")
            if tree.is_leaf(node):
                if len(shape) != 2:
                    raise ShapeError(f"HTTensor: leaf {node} needs a (n, r) basis, got shape "
                                     f"{shape}")
                ranks[node] = shape[1]
                continue
            t1, t2 = tree.children(node)
            want = (1 if node == tree.root else shape[0] if len(shape) == 3 else None,
                    ranks[t1], ranks[t2])
            if len(shape) != 3 or shape[1:] != want[1:] or shape[0] != want[0]:
                raise ShapeError(f"HTTensor: transfer tensor of node {node} must have shape "
                                 f"(r_t, {ranks[t1]}, {ranks[t2]})"
                                 f"{' with r_t = 1 at the root' if node == tree.root else ''}, "
                                 f"got {shape}")
            ranks[node] = shape[0]
        self._tree, self._arrays, self._backend = tree, dict(arrays), xp

    @classmethod
    def _from(cls, tree: DimensionTree, arrays: Mapping[Node, Any],
              backend: Backend | None = None) -> HTTensor:
        obj = object.__new__(cls)
        obj._tree, obj._arrays, obj._backend = tree, dict(arrays), backend
        return obj

    def _tree_flatten(self) -> tuple[tuple, DimensionTree]:
        return tuple(self._arrays[n] for n in self._tree.nodes), self._tree

    @classmethod
    def _tree_unflatten(cls, tree: DimensionTree, children: Any) -> HTTensor:
        return cls._from(tree, dict(zip(tree.nodes, children)))

    def __getstate__(self) -> dict:
        return {"tree": self._tree._nested, "arrays": [self._arrays[n] for n in self._tree.nodes]}

    def __setstate__(self, state: dict) -> None:
        self._tree = DimensionTree(state["tree"])
        self._arrays = dict(zip(self._tree.nodes, state["arrays"]))
        self._backend = None

    # ------------------------------------------------------------- properties
    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = backend_of(list(self._arrays.values()))
        return self._backend

    @property
    def tree(self) -> DimensionTree:
        return self._tree

    def array(self, node: Node) -> Any:
        """``U_t`` of a leaf or ``B_t`` of an interior node."""
        return self._arrays[tuple(node)]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(self._arrays[leaf].shape[0]) for leaf in self._tree.leaves)

    @property
    def ndim(self) -> int:
        return self._tree.d

    @property
    def ranks(self) -> dict[Node, int]:
        """Rank of every node (1 at the root)."""
        out = {}
        for node in self._tree.nodes:
            a = self._arrays[node]
            out[node] = int(a.shape[1] if self._tree.is_leaf(node) else a.shape[0])
        return out

    @property
    def dtype(self) -> Any:
        return self.backend.dtype(self._arrays[self._tree.root])

    @property
    def num_params(self) -> int:
        return sum(math.prod(int(s) for s in a.shape) for a in self._arrays.values())

    def __repr__(self) -> str:
        xp = self.backend
        r = self.ranks
        ranks = ", ".join(f"{'{' + ','.join(map(str, n)) + '}'}:{r[n]}" for n in self._tree.nodes
                          if n != self._tree.root)
        return (f"HTTensor(shape={self.shape}, ranks={{{ranks}}}, "
                f"dtype={xp.dtype_name(self._arrays[self._tree.root])}, backend={xp.name}, "
                f"compression={math.prod(self.shape) / self.num_params:.3g})")

    # ------------------------------------------------------------ evaluation
    def _basis(self, node: Node) -> Any:
        """``U_t`` of any node as an ``(prod n_t, r_t)`` matrix, modes in node order."""
        xp = self.backend
        if self._tree.is_leaf(node):
            return self._arrays[node]
        t1, t2 = self._tree.children(node)
        u1, u2 = self._basis(t1), self._basis(t2)
        b = self._arrays[node]
        rt, r1, r2 = xp.shape(b)
        tmp = u1 @ xp.reshape(xp.transpose(b, (1, 0, 2)), (r1, rt * r2))   # (N1, rt r2)
        tmp = xp.reshape(tmp, (-1, r2))
        tmp = xp.reshape(tmp @ xp.transpose(u2), (xp.shape(u1)[0], rt, -1))  # (N1, rt, N2)
        return xp.reshape(xp.transpose(tmp, (0, 2, 1)), (-1, rt))

    @host_eager
    def full(self) -> Any:
        """The dense tensor."""
        xp = self.backend
        root = self._tree.root
        dims = [self.shape[m] for m in root]
        t = xp.reshape(self._basis(root), dims)
        order = list(root)
        if order != sorted(order):
            t = xp.transpose(t, [order.index(m) for m in range(len(order))])
        return t

    @host_eager
    def evaluate(self, idx: Any) -> Any:
        """Entries at integer multi-indices ``idx`` of shape ``(N, d)``, batched."""
        from ..tt.algebra import _check_index

        xp = self.backend
        dev, _ = _check_index(idx, self.shape, xp, "HTTensor.evaluate")
        vals: dict[Node, Any] = {}
        for node in self._tree.nodes:
            if self._tree.is_leaf(node):
                vals[node] = xp.take(self._arrays[node], dev[:, node[0]], axis=0)
            else:
                t1, t2 = self._tree.children(node)
                vals[node] = xp.einsum("pa,pb,kab->pk", vals[t1], vals[t2], self._arrays[node])
        return vals[self._tree.root][:, 0]

    # --------------------------------------------------------- inner products
    def _gram(self, other: HTTensor) -> Any:
        """``U_x,root^H U_y,root`` by Gramians bottom-up (no dense tensor)."""
        return self._gramians(other)[self._tree.root][0, 0]

    def _gramians(self, other: HTTensor) -> dict[Node, Any]:
        """The Gramians ``U_x,t^H U_y,t`` of every node, leaves to root."""
        xp = backend_of(self, other)
        m: dict[Node, Any] = {}
        for node in self._tree.nodes:
            if self._tree.is_leaf(node):
                m[node] = xp.conj(xp.transpose(self._arrays[node])) @ other._arrays[node]
            else:
                t1, t2 = self._tree.children(node)
                m[node] = xp.einsum("kab,ac,bd,lcd->kl", xp.conj(self._arrays[node]), m[t1],
                                    m[t2], other._arrays[node])
        return m

    def _check_same(self, other: Any, where: str) -> None:
        if not isinstance(other, HTTensor):
            raise ArgumentError(f"{where}: expected an HTTensor, got {type(other).__name__}")
        if other.tree != self._tree:
            raise ShapeError(f"{where}: the dimension trees differ")
        if other.shape != self.shape:
            raise ShapeError(f"{where}: shapes differ, {self.shape} and {other.shape}")
        xp = backend_of(self, other)
        da = xp.dtype_name(self._arrays[self._tree.root])
        db = xp.dtype_name(other._arrays[self._tree.root])
        if da != db:
            raise ArgumentError(f"{where}: dtypes differ, {da} and {db}")

    @host_eager
    def dot(self, other: HTTensor) -> Any:
        """``sum(conj(self) * other)``, O(d r^4) by Gramians, on the node arrays brought to
        unit size by powers of two (one read)."""
        from ..tt._scale import dot_at_unit_scale

        self._check_same(other, "HTTensor.dot")
        xp = backend_of(self, other)
        nodes = list(self._arrays)

        def dot_of(xs: list, ys: list) -> Any:
            return HTTensor._from(self._tree, dict(zip(nodes, xs)), xp)._gram(
                HTTensor._from(self._tree, dict(zip(nodes, ys)), xp))

        return dot_at_unit_scale([self._arrays[n] for n in nodes],
                                 [other._arrays[n] for n in nodes], dot_of, xp, "HTTensor.dot",
                                 lambda: self._gram(other))

    @host_eager
    def norm(self) -> Any:
        """Frobenius norm by Gramians; where their sum of squares cancels (the difference
        of close tensors), from the orthogonalized root instead (accurate to ``u ‖x‖``).
        Computed on the arrays brought to unit size by powers of two (each enters every
        entry once), so tensors of 1e-200 or 1e200 keep their norm."""
        from ..tt._scale import norm_at_unit_scale

        nodes = list(self._arrays)
        return norm_at_unit_scale(
            [self._arrays[n] for n in nodes],
            lambda arrays: HTTensor._from(self._tree, dict(zip(nodes, arrays)),
                                          self.backend)._unit_norm(), self.backend)

    def _unit_norm(self) -> Any:
        from ..tt._gram import _CANCELLED, squares

        xp = self.backend
        m = self._gramians(self)
        root = self._tree.root
        arrays = list(self._arrays.values())
        value = squares(m[root][0, 0], xp, arrays)
        if self._tree.is_leaf(root) or xp.differentiating(arrays):
            return xp.sqrt(value)
        # the root's sum against the size of its terms: |B|^2 |M_1| |M_2| (cf. tt.norm)
        t1, t2 = self._tree.children(root)
        b = self._arrays[root]
        size = xp.norm(b) ** 2 * xp.norm(m[t1]) * xp.norm(m[t2])
        got, bound = (float(v) for v in xp.to_numpy(xp.stack([value, xp.astype(
            size, xp.dtype(value))])))
        if got < _CANCELLED * bound:
            return xp.norm(self.orthogonalize()._arrays[root])
        return xp.sqrt(value)

    # ------------------------------------------------------------- algebra
    def __add__(self, other: Any) -> HTTensor:
        self._check_same(other, "HTTensor +")
        xp = self.backend
        out: dict[Node, Any] = {}
        for node in self._tree.nodes:
            a, b = self._arrays[node], other._arrays[node]
            if self._tree.is_leaf(node):
                out[node] = xp.concatenate([a, b], axis=1)
            elif node == self._tree.root:
                out[node] = _block3(a, b, xp, stack_first=False)
            else:
                out[node] = _block3(a, b, xp, stack_first=True)
        return HTTensor._from(self._tree, out, xp)

    def __sub__(self, other: Any) -> HTTensor:
        return self + (-other)

    def __neg__(self) -> HTTensor:
        return self * -1.0

    def __mul__(self, other: Any) -> HTTensor:
        xp = self.backend
        if isinstance(other, HTTensor):  # Hadamard: ranks multiply
            self._check_same(other, "HTTensor *")
            out = {}
            for node in self._tree.nodes:
                a, b = self._arrays[node], other._arrays[node]
                if self._tree.is_leaf(node):
                    n = xp.shape(a)[0]
                    out[node] = xp.reshape(a[:, :, None] * b[:, None, :], (n, -1))
                else:
                    (ra, a1, a2), (rb, b1, b2) = xp.shape(a), xp.shape(b)
                    out[node] = xp.reshape(xp.einsum("kab,lcd->klacbd", a, b),
                                           (ra * rb, a1 * b1, a2 * b2))
            return HTTensor._from(self._tree, out, xp)
        if not isinstance(other, numbers.Number) and not (xp.is_array(other)
                                                          and xp.ndim(other) == 0):
            raise ArgumentError(f"HTTensor *: expected a scalar or an HTTensor, got "
                                f"{type(other).__name__}")
        check_scalar_kind(other, xp, self._arrays[self._tree.root], "HTTensor *", "HTTensor")
        out = dict(self._arrays)
        out[self._tree.root] = out[self._tree.root] * cast_factor(other, xp, out[self._tree.root])
        return HTTensor._from(self._tree, out, xp)

    def __rmul__(self, other: Any) -> HTTensor:
        return self.__mul__(other)

    def __truediv__(self, c: Any) -> HTTensor:
        return self.__mul__(1.0 / c)

    # --------------------------------------------------- orthogonal forms
    @host_eager
    def orthogonalize(self) -> HTTensor:
        """Orthonormal bases at every non-root node (QR, leaves to root); the norm sits at
        the root.

        Examples
        --------
        >>> import numpy as np
        >>> from tnlib import ht
        >>> x = ht.random((3, 4, 5, 2), 3, seed=0).orthogonalize()
        >>> u = x.array((0,))
        >>> bool(np.allclose(u.T @ u, np.eye(u.shape[1])))
        True
        """
        xp = self.backend
        arrays = dict(self._arrays)
        factor: dict[Node, Any] = {}  # R factor each child passes to its parent
        for node in self._tree.nodes:
            if self._tree.is_leaf(node):
                q, r = xp.qr(arrays[node])
                arrays[node], factor[node] = q, r
                continue
            t1, t2 = self._tree.children(node)
            b = xp.einsum("kab,ca,db->kcd", arrays[node], factor[t1], factor[t2])
            if node == self._tree.root:
                arrays[node] = b
                continue
            rt, r1, r2 = xp.shape(b)
            q, r = xp.qr(xp.transpose(xp.reshape(b, (rt, r1 * r2))))  # (r1 r2, k)
            k = xp.shape(q)[1]
            arrays[node] = xp.reshape(xp.transpose(q), (k, r1, r2))
            factor[node] = r
        return HTTensor._from(self._tree, arrays, xp)

    def node_svd(self) -> dict[Node, tuple[Any, Any]]:
        """Left singular vectors and singular values of every non-root matricization.

        Needs an orthogonalized tensor (see :meth:`orthogonalize`). Top-down, each
        node's factor ``M_t`` (its Gramian is ``M_t M_t^H``) is formed from its
        parent's and decomposed by an SVD, so singular values are accurate down to
        rounding level (not only to ``sqrt(u)`` as eigenvalues of Gramians would be).

        Returns
        -------
        dict node -> (w, s)
            ``w`` (r_t, r_t) orthonormal, ``s`` (r_t,) descending; the
            matricization ``x^{(t)}`` has singular values ``s`` and left singular
            vectors ``U_t w``.
        """
        xp = self.backend
        tree = self._tree
        out: dict[Node, tuple[Any, Any]] = {}
        half: dict[Node, Any] = {tree.root: None}  # S_t W_t^T: M_t up to a unitary factor
        for level in tree.levels:
            for node in level:
                if tree.is_leaf(node):
                    continue
                b = self._arrays[node]
                if half[node] is not None:
                    b = xp.einsum("kl,lab->kab", half[node], b)
                for pos, child in enumerate(tree.children(node)):
                    rt, r1, r2 = xp.shape(b)
                    m = xp.reshape(xp.transpose(b, (1, 0, 2)), (r1, rt * r2)) if pos == 0 else \
                        xp.reshape(xp.transpose(b, (2, 0, 1)), (r2, rt * r1))
                    w, s, _ = xp.svd(m)
                    out[child] = (w, s)
                    # M_child M_child^H depends on M_t through W_t S_t: the next level
                    # contracts b with (W_t S_t)^T = S_t W_t^T (no conjugate)
                    half[child] = xp.astype(s, xp.dtype(w))[:, None] * xp.transpose(w)
        return out

    def gramians(self) -> dict[Node, Any]:
        """Reduced Gramians ``G_t = U_t^H x^{(t)} x^{(t)H} U_t`` of an orthogonalized tensor."""
        xp = self.backend
        return {node: (w * xp.astype(s * s, xp.dtype(w))[None, :]) @ xp.conj(xp.transpose(w))
                for node, (w, s) in self.node_svd().items()}

    def round(self, eps: float = 0.0, max_rank: Any = None) -> HTTensor:
        """Truncation to accuracy `eps` / `max_rank` (see :func:`tnlib.ht.truncate`)."""
        from .hsvd import _truncate

        return _truncate(self, eps, max_rank, "HTTensor.round")

    truncate = round

    @host_eager
    def to_tt(self) -> Any:
        """Exact TTTensor, for a tree built by :meth:`DimensionTree.linear`."""
        from ..tt import TTTensor

        if not self._tree.is_linear():
            raise ShapeError("HTTensor.to_tt: needs the linear (TT-like) dimension tree")
        xp = self.backend
        d = self.ndim
        cores = []
        for k in range(d - 1):
            node = tuple(range(k, d))
            b = self._arrays[node]
            cores.append(xp.einsum("ia,kab->kib", self._arrays[(k,)], b))
        cores.append(xp.reshape(xp.transpose(self._arrays[(d - 1,)]), (-1, self.shape[-1], 1)))
        return TTTensor._from_cores(cores, xp)

    def to(self, backend: Any = None, dtype: Any = None, device: Any = None) -> HTTensor:
        """Copy on another backend, dtype or device."""
        target, convert = self._converter(backend, dtype, device)
        return HTTensor._from(self._tree, {n: convert(a) for n, a in self._arrays.items()},
                              target)


def _block3(a: Any, b: Any, xp: Any, stack_first: bool) -> Any:
    """Block-diagonal 3-tensor of `a` and `b` (sharing axis 0 when not `stack_first`)."""
    ra, a1, a2 = xp.shape(a)
    rb, b1, b2 = xp.shape(b)
    dt, dev = xp.dtype(a), xp.device(a)
    top = xp.concatenate([xp.concatenate([a, xp.zeros((ra, a1, b2), dtype=dt, device=dev)], 2),
                          xp.zeros((ra, b1, a2 + b2), dtype=dt, device=dev)], 1)
    bottom = xp.concatenate([xp.zeros((rb, a1, a2 + b2), dtype=dt, device=dev),
                             xp.concatenate([xp.zeros((rb, b1, a2), dtype=dt, device=dev), b],
                                            2)], 1)
    if stack_first:
        return xp.concatenate([top, bottom], 0)
    return top + bottom  # root: rank 1, the two blocks add
