"""Binary dimension trees for the hierarchical Tucker format."""

from __future__ import annotations

import numbers
from typing import Any

from .._validation import check_positive_int
from ..errors import ShapeError

__all__ = ["DimensionTree"]

Node = tuple  # a node is the tuple of its modes, in left-to-right leaf order


class DimensionTree:
    """A binary tree whose leaves are the modes ``0 .. d-1``.

    Each node is named by the tuple of the modes below it, left to right; the
    root holds all modes, a leaf one. Every interior node has exactly two
    children.

    Parameters
    ----------
    nested : int or pair of nested pairs
        The tree as nested 2-tuples with ints at the leaves, e.g.
        ``((0, 1), (2, 3))``.

    Examples
    --------
    >>> from tnlib.ht import DimensionTree
    >>> t = DimensionTree.balanced(4)
    >>> t.root, t.children(t.root)
    ((0, 1, 2, 3), ((0, 1), (2, 3)))
    >>> t.leaves
    ((0,), (1,), (2,), (3,))
    """

    def __init__(self, nested: Any) -> None:
        self._children: dict[Node, tuple[Node, Node]] = {}
        self._parent: dict[Node, Node] = {}
        self._nested = nested
        root = self._build(nested)
        modes = sorted(root)
        if modes != list(range(len(modes))):
            raise ShapeError(f"DimensionTree: the leaves must be the modes 0 .. d-1, each once; "
                             f"got {tuple(root)} from {nested!r}")
        self.root: Node = root
        self.d = len(root)
        order: list[Node] = []
        self._post(root, order)
        self.nodes: tuple[Node, ...] = tuple(order)  # post-order: children before parents
        self.leaves: tuple[Node, ...] = tuple(sorted((n for n in order if len(n) == 1),
                                                     key=lambda n: n[0]))
        self.interior: tuple[Node, ...] = tuple(n for n in order if len(n) > 1)

    def _build(self, nested: Any) -> Node:
        if isinstance(nested, numbers.Integral) and not isinstance(nested, bool):
            return (int(nested),)
        if isinstance(nested, (tuple, list)) and len(nested) == 1:
            return self._build(nested[0])
        if not isinstance(nested, (tuple, list)) or len(nested) != 2:
            raise ShapeError(f"DimensionTree: every interior node needs exactly two children, "
                             f"got {nested!r}")
        left, right = self._build(nested[0]), self._build(nested[1])
        node = left + right
        if len(set(node)) != len(node):
            raise ShapeError(f"DimensionTree: a mode appears twice in {nested!r}")
        self._children[node] = (left, right)
        self._parent[left] = self._parent[right] = node
        return node

    def _post(self, node: Node, out: list) -> None:
        for child in self._children.get(node, ()):
            self._post(child, out)
        out.append(node)

    # ---------------------------------------------------------- constructors
    @classmethod
    def balanced(cls, d: int) -> DimensionTree:
        """Modes split in halves recursively (the left half gets the extra mode)."""
        d = check_positive_int(d, "DimensionTree.balanced", "d")
        return cls(_balanced(list(range(d))))

    @classmethod
    def linear(cls, d: int) -> DimensionTree:
        """The TT-like tree: ``{0}`` and ``{1..d-1}``, then ``{1}`` and ``{2..d-1}``, ..."""
        d = check_positive_int(d, "DimensionTree.linear", "d")
        nested: Any = d - 1
        for k in range(d - 2, -1, -1):
            nested = (k, nested)
        return cls(nested)

    @classmethod
    def from_nested(cls, nested: Any) -> DimensionTree:
        """Same as the constructor."""
        return cls(nested)

    # --------------------------------------------------------------- queries
    def children(self, node: Node) -> tuple[Node, Node] | tuple[()]:
        """The two children of an interior node, ``()`` for a leaf."""
        self._check(node)
        return self._children.get(node, ())

    def parent(self, node: Node) -> Node | None:
        """The parent node, None for the root."""
        self._check(node)
        return self._parent.get(node)

    def is_leaf(self, node: Node) -> bool:
        self._check(node)
        return len(node) == 1

    def level(self, node: Node) -> int:
        """Depth of `node` (root: 0)."""
        self._check(node)
        depth = 0
        while node != self.root:
            node = self._parent[node]
            depth += 1
        return depth

    @property
    def levels(self) -> list[list[Node]]:
        """Nodes grouped by depth, root first."""
        out: list[list[Node]] = []
        for node in reversed(self.nodes):
            lv = self.level(node)
            while len(out) <= lv:
                out.append([])
            out[lv].append(node)
        return out

    def sibling(self, node: Node) -> Node | None:
        p = self.parent(node)
        if p is None:
            return None
        a, b = self._children[p]
        return b if node == a else a

    def is_linear(self) -> bool:
        """True for the TT-like tree of :meth:`linear`."""
        return self == DimensionTree.linear(self.d)

    def _check(self, node: Node) -> None:
        if node not in self._parent and node != getattr(self, "root", node):
            raise ShapeError(f"DimensionTree: {node!r} is not a node of this tree")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DimensionTree) and self._children == other._children and \
            self.root == other.root

    def __hash__(self) -> int:
        return hash((self.root, tuple(sorted(self._children.items()))))

    def __repr__(self) -> str:
        lines = [f"DimensionTree(d={self.d})"]
        self._draw(self.root, "", True, lines, is_root=True)
        return "\n".join(lines)

    def _draw(self, node: Node, prefix: str, last: bool, lines: list, is_root: bool = False
              ) -> None:
        label = "{" + ",".join(map(str, node)) + "}"
        lines.append(label if is_root else prefix + ("└── " if last else "├── ") + label)
        kids = self._children.get(node, ())
        for i, child in enumerate(kids):
            ext = "" if is_root else ("    " if last else "│   ")
            self._draw(child, prefix + ext, i == len(kids) - 1, lines)


def _balanced(modes: list[int]) -> Any:
    if len(modes) == 1:
        return modes[0]
    half = (len(modes) + 1) // 2
    return (_balanced(modes[:half]), _balanced(modes[half:]))
