"""Recursive layers over trees: the child-sum Tree-LSTM and the binary recursive network.

Both read a ``TreeBatch`` (``shendu.nn.tree.batch_trees``) and run each level of every tree of
the minibatch as one vectorized step (the level loop is the fused primitives of ``ops.tree``).
Node inputs are features (N, input_size) in the batch's node order, or the batch's integer
labels looked up in the layer's own embedding table when it is built with ``num_embeddings``.
Each returns ``(h, roots)``: the hidden state of every node (N, H) and of each tree's root
(num_trees, H), in the order the trees were given.
"""

from __future__ import annotations

import math

import numpy as np

from ...backend import array_module, get_default_dtype
from ...ops import movement as M
from ...ops import tree as T
from ...tensor import Tensor, as_tensor_data
from .. import functional as F
from .. import init as _init
from ..module import Module
from ..parameter import Parameter
from ..tree import TreeBatch
from .embedding import Embedding

__all__ = ["ChildSumTreeLSTM", "RecursiveNN"]


class _TreeLayer(Module):
    """What both layers share: sizes, the optional embedding and the checks of the inputs."""

    kind = "tree layer"

    def _setup(self, input_size, hidden_size, num_embeddings) -> None:
        if int(input_size) <= 0 or int(hidden_size) <= 0:
            raise ValueError(f"{self.kind}: input_size and hidden_size must be positive, got "
                             f"input_size={input_size}, hidden_size={hidden_size}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_embeddings = None if num_embeddings is None else int(num_embeddings)
        if num_embeddings is not None:
            self.embedding = Embedding(self.num_embeddings, self.input_size,
                                       dtype=self._dtype)

    def _where(self) -> str:
        return f"{self.kind} '{self._name or self.default_name}'"

    def _inputs(self, batch, x) -> Tensor:
        """Node inputs (N, input_size): ``x`` checked, or the embedding of the labels."""
        if not isinstance(batch, TreeBatch):
            raise TypeError(f"{self._where()} expects a TreeBatch (from shendu.nn.batch_trees)"
                            f" as its first argument, got {type(batch).__name__}")
        n = batch.num_nodes
        if self.num_embeddings is not None and (x is None or _is_integer(x)):
            return self.embedding(self._labels(batch, batch.labels if x is None else x))
        if x is None:
            raise ValueError(f"{self._where()} needs node features x of shape ({n}, "
                             f"{self.input_size}) in the batch's node order, or build it with "
                             "num_embeddings=... to look up the batch's integer labels")
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x, dtype=self._dtype))
        if tuple(x.shape) != (n, self.input_size):
            raise ValueError(f"{self._where()} expected node features of shape ({n}, "
                             f"{self.input_size}) (one row per node of the batch), got shape "
                             f"{tuple(x.shape)}")
        return x

    def _labels(self, batch: TreeBatch, labels) -> np.ndarray:
        idx = np.asarray(as_tensor_data(labels))
        if idx.shape != (batch.num_nodes,) or idx.dtype.kind not in "iu":
            raise TypeError(f"{self._where()} looks up integer labels, one per node: expected "
                            f"shape ({batch.num_nodes},) of integers, got shape {idx.shape} of "
                            f"dtype {idx.dtype}; map the labels to ids first (Tree.from_ast("
                            "vocab=..., oov=...) or tree.map)")
        bad = np.flatnonzero((idx < 0) | (idx >= self.num_embeddings))
        if bad.size:
            raise IndexError(f"{self._where()}: label {int(idx[bad[0]])} of "
                             f"{batch.describe(int(bad[0]))} is out of range for "
                             f"num_embeddings={self.num_embeddings} (valid: 0.."
                             f"{self.num_embeddings - 1}); give unknown labels an oov id")
        return idx

    def _roots(self, h, batch: TreeBatch):
        return M.Embedding.apply(h, array_module(h.data).asarray(batch.roots))


def _is_integer(x) -> bool:
    """Integer labels (to look up) rather than float features."""
    return as_tensor_data(x).dtype.kind in "iu"


class ChildSumTreeLSTM(_TreeLayer):
    """The child-sum Tree-LSTM (Tai, Socher and Manning, 2015) over trees of any arity.

    For node j with input x_j and children k (none for a leaf):

        h~ = sum_k h_k
        i = sigmoid(W_i x + U_i h~ + b_i), o = sigmoid(W_o x + U_o h~ + b_o),
        u = tanh(W_u x + U_u h~ + b_u)
        f_k = sigmoid(W_f x + U_f h_k + b_f)         (one forget gate per child)
        c = i * u + sum_k f_k * c_k,  h = o * tanh(c)

    Args:
        input_size: features per node (the embedding size with ``num_embeddings``).
        hidden_size: H, the size of h and c.
        num_embeddings: when given, the layer owns an ``Embedding(num_embeddings, input_size)``
            (attribute ``embedding``) and looks up the batch's integer labels.

    Parameters: ``weight_ih`` (4H, input_size) and ``bias_ih`` (4H,), gates i, o, u, f;
    ``weight_hh`` (3H, H) for i, o, u; ``weight_hf`` (H, H) for the forget gates. All start
    U(-1/sqrt(H), 1/sqrt(H)) like PyTorch's LSTM.

    Shape:
        forward(batch, x=None): x (N, input_size) node features in ``batch``'s node order, or
        integer labels (N,) (default: ``batch.labels``) with ``num_embeddings``.
        Returns (h (N, H), roots (num_trees, H)).

    Example:
        >>> trees = [Tree.from_tuple((0, 1, (2, 3, 4, 5))), Tree.from_tuple((1, 2))]
        >>> lstm = ChildSumTreeLSTM(8, 16, num_embeddings=6)
        >>> h, roots = lstm(batch_trees(trees))
        >>> h.shape, roots.shape
        ((8, 16), (2, 16))
    """

    kind = "ChildSumTreeLSTM"
    default_name = "child_sum_tree_lstm"

    def __init__(self, input_size: int, hidden_size: int, num_embeddings: int | None = None,
                 dtype=None):
        super().__init__()
        self._dtype = dtype or get_default_dtype()
        self._setup(input_size, hidden_size, num_embeddings)
        hs, dt = self.hidden_size, self._dtype
        self.weight_ih = Parameter(np.empty((4 * hs, self.input_size), dt))
        self.bias_ih = Parameter(np.empty((4 * hs,), dt))
        self.weight_hh = Parameter(np.empty((3 * hs, hs), dt))
        self.weight_hf = Parameter(np.empty((hs, hs), dt))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_ih, self.bias_ih, self.weight_hh, self.weight_hf):
            _init.uniform_(p, -bound, bound)

    def forward(self, batch: TreeBatch, x=None):
        x = self._inputs(batch, x)
        xw = F.linear(x, self.weight_ih, self.bias_ih)  # all nodes' input projections: one GEMM
        h, _ = T.ChildSumTreeLSTM.apply(xw, self.weight_hh, self.weight_hf, batch=batch)
        return h, self._roots(h, batch)

    def extra_repr(self) -> str:
        emb = "" if self.num_embeddings is None else f", num_embeddings={self.num_embeddings}"
        return f"{self.input_size}, {self.hidden_size}{emb}"


class RecursiveNN(_TreeLayer):
    """The recursive neural network of Socher et al. (2011) over binary trees.

    Leaves: h = act(W_leaf x + b_leaf), x the leaf's input (its features, or its label's
    embedding with ``num_embeddings``). Internal nodes, which must have exactly two children:
    h = act(W [h_left; h_right] + b). The inputs of internal nodes are not used (their rows
    get a zero gradient). Make trees binary with ``Tree.binarize()``.

    Args:
        input_size: features per node (the embedding size with ``num_embeddings``).
        hidden_size: H.
        num_embeddings: when given, the layer owns an ``Embedding(num_embeddings, input_size)``
            (attribute ``embedding``) and looks up the batch's integer labels.
        activation: ``"tanh"`` (default) or ``"relu"``.

    Parameters: ``weight_leaf`` (H, input_size), ``bias_leaf`` (H,), ``weight`` (H, 2H),
    ``bias`` (H,); all start U(-1/sqrt(H), 1/sqrt(H)).

    Shape:
        forward(batch, x=None): as ``ChildSumTreeLSTM``. Returns (h (N, H), roots
        (num_trees, H)).

    Example:
        >>> tree = Tree.from_tuple((0, 1, (2, 3, 4))).binarize()
        >>> rnn = RecursiveNN(8, 16, num_embeddings=5)
        >>> h, roots = rnn(batch_trees([tree]))
        >>> roots.shape
        (1, 16)
    """

    kind = "RecursiveNN"
    default_name = "recursive_nn"

    def __init__(self, input_size: int, hidden_size: int, num_embeddings: int | None = None,
                 activation: str = "tanh", dtype=None):
        super().__init__()
        if activation not in ("tanh", "relu"):
            raise ValueError(f"RecursiveNN: activation must be 'tanh' or 'relu', got "
                             f"{activation!r}")
        self._dtype = dtype or get_default_dtype()
        self.activation = activation
        self._setup(input_size, hidden_size, num_embeddings)
        hs, dt = self.hidden_size, self._dtype
        self.weight_leaf = Parameter(np.empty((hs, self.input_size), dt))
        self.bias_leaf = Parameter(np.empty((hs,), dt))
        self.weight = Parameter(np.empty((hs, 2 * hs), dt))
        self.bias = Parameter(np.empty((hs,), dt))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_leaf, self.bias_leaf, self.weight, self.bias):
            _init.uniform_(p, -bound, bound)

    def forward(self, batch: TreeBatch, x=None):
        x = self._inputs(batch, x)
        internal = batch.arity[batch.levels[0].hi:]
        if internal.size and (internal != 2).any():
            node = batch.levels[0].hi + int(np.flatnonzero(internal != 2)[0])
            raise ValueError(f"{self._where()} needs binary trees (every internal node with "
                             f"exactly 2 children), but {batch.describe(node)} has "
                             f"{int(batch.arity[node])} children; call tree.binarize() on "
                             "each tree before batch_trees")
        n0 = batch.levels[0].hi
        leaf_pre = F.linear(x[:n0], self.weight_leaf, self.bias_leaf)  # leaves are nodes 0..n0-1
        h = T.RecursiveNN.apply(leaf_pre, self.weight, self.bias, batch=batch,
                                activation=self.activation)
        return h, self._roots(h, batch)

    def extra_repr(self) -> str:
        emb = "" if self.num_embeddings is None else f", num_embeddings={self.num_embeddings}"
        return f"{self.input_size}, {self.hidden_size}{emb}, activation={self.activation!r}"
