"""Labelled trees and their level batching, the input of the recursive layers
(``ChildSumTreeLSTM``, ``RecursiveNN`` in ``shendu.nn.layers.tree``).

A ``Tree`` is a node with a ``label`` (a token id, a string, a feature vector) and an ordered list
of child trees. ``batch_trees`` turns a list of trees of any shapes into a ``TreeBatch``: every node
gets a global number, nodes are grouped by height (leaves are level 0, a parent is one level above
its highest child), and index arrays say which nodes are the children of which, so that a layer
computes each level as ONE vectorized step for the whole minibatch, forward and backward.

Every walk here is iterative: the trees of real programs (a long ``a + b + c + ...``) are deeper
than Python's recursion limit.

Example:
    >>> t = Tree.from_tuple(("+", "x", ("*", "y", "z")))
    >>> t.size(), t.depth(), [leaf.label for leaf in t.leaves()]
    (5, 2, ['x', 'y', 'z'])
    >>> batch = batch_trees([t, Tree.from_tuple(("-", "a"))])
    >>> batch.num_nodes, batch.num_levels, batch.roots.tolist()
    (7, 3, [6, 5])
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Tree", "TreeBatch", "TreeLevel", "batch_trees"]

_AST_CONTEXTS = ("Load", "Store", "Del")


class Tree:
    """A labelled, ordered tree: ``label`` plus a list of child ``Tree`` s (empty for a leaf).

    Args:
        label: the node's value: a token id, a string, a feature vector...
        children: the child trees, in order.

    Build one from nested tuples (``from_tuple``) or from a Python syntax tree (``from_ast``);
    ``batch_trees`` batches them for the recursive layers.
    """

    __slots__ = ("label", "children")

    def __init__(self, label: Any, children: Sequence[Tree] = ()):
        self.label = label
        self.children = list(children)
        for c in self.children:
            if not isinstance(c, Tree):
                raise TypeError(f"Tree: children must be Trees, got {type(c).__name__} "
                                f"({c!r}) under label {label!r}; use Tree.from_tuple for "
                                "nested tuples")

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_tuple(cls, spec) -> Tree:
        """A tree from nested tuples: ``(label, child, child, ...)``.

        Each child is a tuple (a subtree) or any other value, which is shorthand for a leaf
        with that label, so ``("+", "x", ("*", "y", "z"))`` and
        ``("+", ("x",), ("*", ("y",), ("z",)))`` are the same tree. Labels cannot be tuples.

        Example:
            >>> Tree.from_tuple(("+", "x", ("*", "y", "z"))).to_tuple()
            ('+', ('x',), ('*', ('y',), ('z',)))
        """
        if not isinstance(spec, tuple):
            return cls(spec)
        root = cls(None)
        stack = [(root, spec)]
        while stack:
            node, s = stack.pop()
            if not isinstance(s, tuple):
                node.label = s
                continue
            if not s:
                raise ValueError("Tree.from_tuple: an empty tuple has no label; write a leaf "
                                 "as (label,) or as the bare label")
            if isinstance(s[0], tuple):
                raise ValueError(f"Tree.from_tuple: the first item of {s!r} is the label and "
                                 "cannot be a tuple")
            node.label = s[0]
            node.children = [cls(None) for _ in s[1:]]
            stack.extend(zip(node.children, s[1:]))
        return root

    @classmethod
    def from_ast(cls, node: ast.AST, vocab: Mapping | None = None, oov: int | None = None,
                 skip: Sequence[str] = _AST_CONTEXTS,
                 label: Callable[[ast.AST], Any] | None = None) -> Tree:
        """A tree from a Python syntax tree (``ast.parse(...)`` or any node in it).

        Labels are the node type names (``"FunctionDef"``, ``"Call"``, ``"Name"``...), children
        the nodes that ``ast.iter_child_nodes`` yields, in order. Identifiers and constant
        values are not part of the tree.

        Args:
            node: the root AST node.
            vocab: optional mapping label -> id; the tree then carries ids instead of names.
            oov: the id of labels missing from ``vocab``; without it a missing label raises
                ``KeyError``.
            skip: node type names left out, with their subtrees. Default: the expression
                contexts ``Load``, ``Store``, ``Del`` (one per name, they mostly double the
                leaves); pass ``()`` to keep everything.
            label: optional function node -> label replacing the type name (e.g. to tell
                string constants from numbers); ``vocab`` then maps what it returns.

        Example:
            >>> Tree.from_ast(ast.parse("x + 1", mode="eval")).to_tuple()
            ('Expression', ('BinOp', ('Name',), ('Add',), ('Constant',)))
        """
        if not isinstance(node, ast.AST):
            raise TypeError(f"Tree.from_ast expects an ast.AST node, got {type(node).__name__}")
        skip = frozenset(skip)
        name = label or (lambda n: type(n).__name__)

        def make(n):
            lab = name(n)
            if vocab is not None:
                if lab in vocab:
                    lab = vocab[lab]
                elif oov is None:
                    raise KeyError(f"Tree.from_ast: label {lab!r} is not in the vocabulary "
                                   f"({len(vocab)} entries) and no oov id was given; pass "
                                   "oov=<id> for unknown labels")
                else:
                    lab = oov
            return cls(lab)

        root = make(node)
        stack = [(root, node)]
        while stack:
            t, n = stack.pop()
            kids = [c for c in ast.iter_child_nodes(n) if type(c).__name__ not in skip]
            t.children = [make(c) for c in kids]
            stack.extend(zip(t.children, kids))
        return root

    def to_tuple(self) -> tuple:
        """The nested-tuple form ``(label, child, ...)``, every leaf written ``(label,)``."""
        done: dict[int, tuple] = {}
        for node in self.postorder():
            done[id(node)] = (node.label, *(done.pop(id(c)) for c in node.children))
        return done[id(self)]

    # -- walks and measures -------------------------------------------------------------------
    def __iter__(self) -> Iterator[Tree]:
        """The nodes in preorder (a parent before its children, children left to right)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def postorder(self) -> Iterator[Tree]:
        """The nodes in postorder (children left to right, then the parent)."""
        stack = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded or not node.children:
                yield node
                continue
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.children))

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def size(self) -> int:
        """The number of nodes."""
        return sum(1 for _ in self)

    __len__ = size

    def depth(self) -> int:
        """Edges on the longest root-to-leaf path (a single node has depth 0). Equal to the
        root's level in a ``TreeBatch``."""
        best, stack = 0, [(self, 0)]
        while stack:
            node, d = stack.pop()
            best = max(best, d)
            stack.extend((c, d + 1) for c in node.children)
        return best

    def leaves(self) -> list[Tree]:
        """The leaf nodes, left to right."""
        return [n for n in self if not n.children]

    def labels(self) -> list:
        """The labels in preorder."""
        return [n.label for n in self]

    def map(self, fn: Callable[[Any], Any]) -> Tree:
        """A copy of the tree with every label replaced by ``fn(label)`` (e.g. a vocabulary
        lookup: ``tree.map(lambda s: vocab.get(s, oov))``)."""
        done: dict[int, Tree] = {}
        for node in self.postorder():
            done[id(node)] = Tree(fn(node.label), [done.pop(id(c)) for c in node.children])
        return done[id(self)]

    def is_binary(self) -> bool:
        """True when every internal node has exactly two children."""
        return all(len(n.children) in (0, 2) for n in self)

    def binarize(self) -> Tree:
        """A copy in which every internal node has exactly two children (for ``RecursiveNN``).

        A node with k > 2 children becomes a left-leaning chain of k - 1 binary nodes that all
        carry its label: ``(f, a, b, c)`` -> ``(f, (f, a, b), c)``, reading the children left
        to right. A node with one child is replaced by that child (its label is dropped:
        ``RecursiveNN`` only reads the labels of leaves). Leaves are kept.

        Example:
            >>> Tree.from_tuple(("f", "a", "b", ("neg", "c"))).binarize().to_tuple()
            ('f', ('f', ('a',), ('b',)), ('c',))
        """
        done: dict[int, Tree] = {}
        for node in self.postorder():
            kids = [done.pop(id(c)) for c in node.children]
            if not kids:
                new = Tree(node.label)
            elif len(kids) == 1:
                new = kids[0]
            else:
                new = Tree(node.label, kids[:2])
                for k in kids[2:]:
                    new = Tree(node.label, [new, k])
            done[id(node)] = new
        return done[id(self)]

    # -- dunder ------------------------------------------------------------------------------
    def __eq__(self, other) -> bool:
        if not isinstance(other, Tree):
            return NotImplemented
        return _same(self, other)

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        text = repr(self.to_tuple())
        return f"Tree({text if len(text) <= 200 else text[:197] + '...'})"


def _same(a: Tree, b: Tree) -> bool:
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if len(x.children) != len(y.children) or not bool(np.all(x.label == y.label)):
            return False
        stack.extend(zip(x.children, y.children))
    return True


class TreeLevel(NamedTuple):
    """One level of a ``TreeBatch``: its nodes are ``lo:hi`` and their child edges
    ``edge_lo:edge_hi`` (``batch.children[edge_lo:edge_hi]``, grouped by parent)."""

    lo: int
    hi: int
    edge_lo: int
    edge_hi: int


class TreeBatch:
    """The level-batching plan of a list of trees (built by ``batch_trees``).

    Nodes are numbered globally, sorted by level (height: leaves are level 0, a parent is one
    more than its highest child), then by tree, then by preorder. So every level is a contiguous
    range of node ids, and so are the child edges of a level: ``children`` lists the child ids
    of node 0, then of node 1..., each node's children left to right, in CSR form with
    ``child_offsets``.

    Attributes:
        num_trees, num_nodes, num_levels: sizes (``num_levels`` = highest root level + 1).
        labels: ``np.asarray`` of the node labels in node order: (N,) ids, (N, F) features, ...
        tree_index: (N,) the tree of each node.
        parent: (N,) the parent's node id, -1 for roots.
        arity: (N,) the number of children.
        children: (E,) child node ids, grouped by parent (E = N - num_trees).
        child_offsets: (N + 1,) node n's children are ``children[child_offsets[n]:
            child_offsets[n + 1]]``.
        edge_parent: (E,) the parent of each entry of ``children``.
        level_offsets: (num_levels + 1,) level l is nodes ``level_offsets[l]:level_offsets[l+1]``.
        roots: (num_trees,) the root's node id of each tree.
        node_ids: one (size,) array per tree: preorder position -> node id.
        levels: the list of ``TreeLevel`` (lo, hi, edge_lo, edge_hi), bottom up.
        sibling_slots: per level, the sums over each node's children as slots: entry k - 1
            is (parents, edges) for k = 1, 2, ...: the level's nodes that have a child at
            position k and those children's edges, both counted from the level's start
            (``lo``, ``edge_lo``). A sum over children is then one gather of the first
            children (``child_offsets[lo:hi] - edge_lo``) plus one indexed add per slot:
            measured 30x faster than ``add.reduceat`` over rows.
    """

    def __init__(self, labels, tree_index, parent, children, child_offsets, edge_parent,
                 level_offsets, roots, node_ids):
        self.labels = labels
        self.tree_index, self.parent = tree_index, parent
        self.children, self.child_offsets, self.edge_parent = children, child_offsets, edge_parent
        self.arity = np.diff(child_offsets)
        self.level_offsets, self.roots, self.node_ids = level_offsets, roots, node_ids
        lo, eo = level_offsets.tolist(), child_offsets[level_offsets].tolist()
        self.levels = [TreeLevel(lo[i], lo[i + 1], eo[i], eo[i + 1]) for i in range(len(lo) - 1)]
        self.sibling_slots = [_slots(child_offsets, edge_parent, lv)
                              for lv in self.levels]

    @property
    def num_trees(self) -> int:
        return len(self.roots)

    @property
    def num_nodes(self) -> int:
        return len(self.parent)

    @property
    def num_levels(self) -> int:
        return len(self.levels)

    def level_of(self) -> np.ndarray:
        """(N,) the level of each node."""
        return np.repeat(np.arange(self.num_levels), np.diff(self.level_offsets))

    def describe(self, node: int) -> str:
        """'node 12 (tree 3, preorder 4, label 'Call')': how error messages name a node."""
        t = int(self.tree_index[node])
        pre = int(np.flatnonzero(self.node_ids[t] == node)[0])
        lab = self.labels[node] if self.labels.ndim == 1 else "<features>"
        lab = lab.item() if isinstance(lab, np.generic) else lab
        return f"node {node} (tree {t}, preorder {pre}, label {lab!r})"

    def __repr__(self) -> str:
        return (f"TreeBatch(num_trees={self.num_trees}, num_nodes={self.num_nodes}, "
                f"num_levels={self.num_levels})")


def _slots(child_offsets, edge_parent, level: TreeLevel) -> list:
    """(parents, edges) per child position k >= 1 of one level (see ``TreeBatch``)."""
    lo, hi, e0, e1 = level
    if e1 == e0:
        return []
    counts = np.diff(child_offsets[lo:hi + 1])
    pos = np.arange(e1 - e0) - np.repeat(child_offsets[lo:hi] - e0, counts)
    order = np.argsort(pos, kind="stable")
    cuts = np.cumsum(np.bincount(pos))
    return [(edge_parent[e0 + order[a:b]] - lo, order[a:b])
            for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist())]


def batch_trees(trees: Sequence[Tree]) -> TreeBatch:
    """Number the nodes of ``trees`` and group them by level: the plan of ``TreeBatch``.

    Args:
        trees: a non-empty list of ``Tree``.

    Returns:
        a ``TreeBatch``; its ``labels`` are the node labels in the global node order, ready
        for an embedding lookup (``batch.labels``) or as node features.

    Example:
        >>> b = batch_trees([Tree.from_tuple((7, 8, 9))])
        >>> b.labels.tolist(), b.children.tolist(), b.level_offsets.tolist()
        ([8, 9, 7], [0, 1], [0, 2, 3])
    """
    if isinstance(trees, Tree):
        trees = [trees]
    trees = list(trees)
    if not trees:
        raise ValueError("batch_trees: got an empty list of trees; a batch needs at least one")
    labels, tree_of, parent, height, sizes = [], [], [], [], []
    for t, tree in enumerate(trees):
        if not isinstance(tree, Tree):
            raise TypeError(f"batch_trees: item {t} is a {type(tree).__name__}, expected a "
                            "Tree (build one with Tree.from_tuple or Tree.from_ast)")
        base = len(parent)
        stack = [(tree, -1)]
        while stack:  # preorder; parent ids are global (offset by base)
            node, p = stack.pop()
            me = len(parent)
            labels.append(node.label)
            parent.append(p)
            height.append(0)
            stack.extend((c, me) for c in reversed(node.children))
        tree_of.append(np.full(len(parent) - base, t, dtype=np.int64))
        sizes.append(len(parent) - base)
        for i in range(len(parent) - 1, base, -1):  # children come after parents in preorder
            p = parent[i]
            if height[i] + 1 > height[p]:
                height[p] = height[i] + 1
    parent_pre = np.asarray(parent, dtype=np.int64)
    height_pre = np.asarray(height, dtype=np.int64)
    n = len(parent_pre)
    order = np.argsort(height_pre, kind="stable")  # old (preorder) index of each new id
    new_id = np.empty(n, dtype=np.int64)
    new_id[order] = np.arange(n)
    has_parent = parent_pre >= 0
    parent_new = np.full(n, -1, dtype=np.int64)
    parent_new[new_id[has_parent]] = new_id[parent_pre[has_parent]]
    # edges sorted by (parent id, child's preorder index): each node's children left to right
    kids_old = np.flatnonzero(has_parent)
    kids_old = kids_old[np.argsort(new_id[parent_pre[kids_old]], kind="stable")]
    children = new_id[kids_old]
    edge_parent = parent_new[children]
    child_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(edge_parent, minlength=n), out=child_offsets[1:])
    level_sizes = np.bincount(height_pre)
    level_offsets = np.zeros(len(level_sizes) + 1, dtype=np.int64)
    np.cumsum(level_sizes, out=level_offsets[1:])
    starts = np.cumsum([0] + sizes[:-1])
    roots = new_id[starts]
    node_ids = [new_id[s:s + k] for s, k in zip(starts, sizes)]
    ordered = [labels[i] for i in order]
    try:
        label_array = np.asarray(ordered)
    except ValueError:  # ragged feature vectors: keep the objects
        label_array = np.empty(n, dtype=object)
        label_array[:] = ordered
    return TreeBatch(label_array, np.concatenate(tree_of)[order], parent_new, children,
                     child_offsets, edge_parent, level_offsets, roots, node_ids)
