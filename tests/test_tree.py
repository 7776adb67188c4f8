"""Trees, their level batching, and the recursive layers (ChildSumTreeLSTM, RecursiveNN)
against a naive per-tree, per-node recursion written here with the same parameters."""

from __future__ import annotations

import ast

import numpy as np
import pytest

import shendu as sd
from shendu.nn import ChildSumTreeLSTM, RecursiveNN, Tree, TreeBatch, batch_trees
from shendu.testing import gradcheck

F64 = np.float64


def random_tree(rng, depth: int, max_arity: int = 4, vocab: int = 7, binary: bool = False,
                p_leaf: float = 0.35) -> Tree:
    """A random tree of at most ``depth`` edges (labels in 0..vocab-1)."""
    label = int(rng.integers(vocab))
    if depth == 0 or rng.random() < p_leaf:
        return Tree(label)
    k = 2 if binary else int(rng.integers(1, max_arity + 1))
    return Tree(label, [random_tree(rng, depth - 1, max_arity, vocab, binary, p_leaf)
                        for _ in range(k)])


def random_trees(seed: int, n: int, binary: bool = False) -> list[Tree]:
    rng = np.random.default_rng(seed)
    return [random_tree(rng, int(rng.integers(0, 5)), binary=binary) for _ in range(n)]


# -- Tree ------------------------------------------------------------------------------------------
def test_from_tuple_shorthand_and_roundtrip():
    t = Tree.from_tuple(("+", "x", ("*", "y", "z")))
    assert t == Tree.from_tuple(("+", ("x",), ("*", ("y",), ("z",))))
    assert t.to_tuple() == ("+", ("x",), ("*", ("y",), ("z",)))
    assert t.label == "+" and [c.label for c in t.children] == ["x", "*"]
    assert Tree.from_tuple(5) == Tree(5) and Tree(5).is_leaf
    assert "Tree(('+'," in repr(t)
    with pytest.raises(ValueError, match="empty tuple"):
        Tree.from_tuple(("+", ()))
    with pytest.raises(ValueError, match="cannot be a tuple"):
        Tree.from_tuple((("a",), "b"))
    with pytest.raises(TypeError, match="children must be Trees"):
        Tree("+", ["x"])


def test_helpers_size_depth_leaves_iteration_map():
    t = Tree.from_tuple(("+", "x", ("*", "y", ("-", "z")), "w"))
    assert t.size() == len(t) == 7
    assert t.depth() == 3 and Tree("a").depth() == 0
    assert [n.label for n in t.leaves()] == ["x", "y", "z", "w"]
    assert t.labels() == [n.label for n in t] == ["+", "x", "*", "y", "-", "z", "w"]
    assert [n.label for n in t.postorder()] == ["x", "y", "z", "-", "*", "w", "+"]
    m = t.map(str.upper)
    assert m.labels() == ["+", "X", "*", "Y", "-", "Z", "W"] and t.labels()[1] == "x"


def test_binarize_chains_wide_nodes_and_collapses_unary_ones():
    t = Tree.from_tuple(("f", "a", "b", ("neg", "c"), "d"))
    b = t.binarize()
    assert b.to_tuple() == ("f", ("f", ("f", ("a",), ("b",)), ("c",)), ("d",))
    assert b.is_binary() and not t.is_binary()
    assert [n.label for n in b.leaves()] == ["a", "b", "c", "d"]  # order kept
    assert Tree.from_tuple(("u", ("v", "w"))).binarize() == Tree("w")
    for tree in random_trees(3, 20):
        bt = tree.binarize()
        assert bt.is_binary()
        assert [n.label for n in bt.leaves()] == [n.label for n in tree.leaves()]


def test_deep_trees_do_not_recurse():
    deep = Tree(0)
    for i in range(5000):  # deeper than Python's recursion limit
        deep = Tree(i % 3, [deep, Tree(7)])
    assert deep.depth() == 5000 and deep.size() == 10001
    assert Tree.from_tuple(deep.to_tuple()) == deep
    assert deep.binarize().size() == deep.size()
    b = batch_trees([deep])
    assert b.num_levels == 5001 and b.roots.tolist() == [10000]
    expr = ast.Name("x")
    for _ in range(3000):  # ast.parse itself would recurse too deep on this
        expr = ast.BinOp(expr, ast.Add(), ast.Name("y"))
    assert Tree.from_ast(expr).depth() == 3000


SOURCE = """
def f(x, y=1):
    '''doc'''
    if x:
        return x + y
    return None
"""


def test_from_ast_labels_contexts_and_vocab():
    fn = ast.parse(SOURCE).body[0]
    t = Tree.from_ast(fn)
    assert t.label == "FunctionDef"
    assert [c.label for c in t.children] == ["arguments", "Expr", "If", "Return"]
    assert t.children[2].to_tuple() == (
        "If", ("Name",), ("Return", ("BinOp", ("Name",), ("Add",), ("Name",))))
    assert "Load" not in t.labels()
    full = Tree.from_ast(fn, skip=())
    assert full.labels().count("Load") == 3 and full.size() == t.size() + 3
    vocab = {"FunctionDef": 1, "Name": 2, "If": 3}
    ids = Tree.from_ast(fn, vocab=vocab, oov=0)
    assert ids.label == 1 and ids.children[2].to_tuple()[:2] == (3, (2,))
    assert set(ids.labels()) == {0, 1, 2, 3}
    with pytest.raises(KeyError, match="label 'arguments' is not in the vocabulary"):
        Tree.from_ast(fn, vocab=vocab)
    typed = Tree.from_ast(fn, label=lambda n: f"Constant:{type(n.value).__name__}"
                          if isinstance(n, ast.Constant) else type(n).__name__)
    assert {"Constant:str", "Constant:int", "Constant:NoneType"} <= set(typed.labels())
    with pytest.raises(TypeError, match="expects an ast.AST"):
        Tree.from_ast("def f(): pass")


# -- the plan --------------------------------------------------------------------------------------
def test_plan_of_known_trees():
    t1 = Tree.from_tuple(("+", "x", ("*", "y", "z")))
    t2 = Tree.from_tuple(("-", "a"))
    b = batch_trees([t1, t2])
    assert isinstance(b, TreeBatch) and b.num_trees == 2 and b.num_nodes == 7
    assert b.labels.tolist() == ["x", "y", "z", "a", "*", "-", "+"]
    assert b.level_offsets.tolist() == [0, 4, 6, 7] and b.num_levels == 3
    assert b.level_of().tolist() == [0, 0, 0, 0, 1, 1, 2]
    assert b.roots.tolist() == [6, 5] and b.tree_index.tolist() == [0, 0, 0, 1, 0, 1, 0]
    assert b.parent.tolist() == [6, 4, 4, 5, 6, -1, -1]
    assert b.children.tolist() == [1, 2, 3, 0, 4]  # '*': y z; '-': a; '+': x '*'
    assert b.edge_parent.tolist() == [4, 4, 5, 6, 6]
    assert b.child_offsets.tolist() == [0, 0, 0, 0, 0, 2, 3, 5]
    assert b.arity.tolist() == [0, 0, 0, 0, 2, 1, 2]
    assert [tuple(lv) for lv in b.levels] == [(0, 4, 0, 0), (4, 6, 0, 3), (6, 7, 3, 5)]
    assert [ids.tolist() for ids in b.node_ids] == [[6, 0, 4, 1, 2], [5, 3]]
    assert b.describe(4) == "node 4 (tree 0, preorder 2, label '*')"
    assert batch_trees(t1).num_trees == 1


def test_plan_invariants_on_random_trees():
    trees = random_trees(0, 30)
    b = batch_trees(trees)
    level = b.level_of()
    assert b.num_nodes == sum(t.size() for t in trees)
    assert len(b.children) == b.num_nodes - b.num_trees
    for t, (tree, ids) in enumerate(zip(trees, b.node_ids)):
        nodes = list(tree)
        assert b.labels[ids].tolist() == [n.label for n in nodes]
        assert (b.tree_index[ids] == t).all() and b.roots[t] == ids[0]
        pos = {id(n): i for i, n in enumerate(nodes)}
        for n in nodes:
            me = ids[pos[id(n)]]
            kids = b.children[b.child_offsets[me]:b.child_offsets[me + 1]]
            assert kids.tolist() == [ids[pos[id(c)]] for c in n.children]  # left to right
            assert (b.parent[kids] == me).all()
            want = 0 if not n.children else 1 + level[kids].max()
            assert level[me] == want  # height: one above the highest child
    for lo, hi, e0, e1 in b.levels:  # each level's edges are its nodes' children, contiguous
        assert ((b.edge_parent[e0:e1] >= lo) & (b.edge_parent[e0:e1] < hi)).all()
        assert b.child_offsets[lo] == e0 and b.child_offsets[hi] == e1


def test_plan_errors_and_feature_labels():
    with pytest.raises(ValueError, match="empty list"):
        batch_trees([])
    with pytest.raises(TypeError, match="item 1 is a tuple"):
        batch_trees([Tree(1), ("+", 1)])
    vec = Tree(np.ones(3), [Tree(np.zeros(3)), Tree(np.full(3, 2.0))])
    b = batch_trees([vec])
    assert b.labels.shape == (3, 3) and b.labels[:, 0].tolist() == [0.0, 2.0, 1.0]


# -- the naive reference: per tree, per node, recursive --------------------------------------------
def naive_lstm(layer: ChildSumTreeLSTM, tree: Tree, rows):
    """(h, c) of every node of ``tree`` in preorder; ``rows[i]`` is node i's input Tensor."""
    hs = layer.hidden_size
    w, b, u, uf = layer.weight_ih, layer.bias_ih, layer.weight_hh, layer.weight_hf
    pre = {id(n): i for i, n in enumerate(tree)}
    out = {}

    def visit(node):
        kids = [visit(c) for c in node.children]
        xw = sd.matmul(w, rows[pre[id(node)]]) + b
        hsum = sd.tensor(np.zeros(hs, F64))
        for h_k, _ in kids:
            hsum = hsum + h_k
        iou = xw[:3 * hs] + sd.matmul(u, hsum)
        i, o, g = sd.sigmoid(iou[:hs]), sd.sigmoid(iou[hs:2 * hs]), sd.tanh(iou[2 * hs:])
        c = i * g
        for h_k, c_k in kids:
            c = c + sd.sigmoid(xw[3 * hs:] + sd.matmul(uf, h_k)) * c_k
        h = o * sd.tanh(c)
        out[pre[id(node)]] = h
        return h, c

    visit(tree)
    return [out[i] for i in range(len(pre))]


def naive_rnn(layer: RecursiveNN, tree: Tree, rows):
    act = sd.tanh if layer.activation == "tanh" else sd.relu
    pre = {id(n): i for i, n in enumerate(tree)}
    out = {}

    def visit(node):
        if not node.children:
            h = act(sd.matmul(layer.weight_leaf, rows[pre[id(node)]]) + layer.bias_leaf)
        else:
            left, right = (visit(c) for c in node.children)
            h = act(sd.matmul(layer.weight, sd.cat([left, right])) + layer.bias)
        out[pre[id(node)]] = h
        return h

    visit(tree)
    return [out[i] for i in range(len(pre))]


def _compare_with_naive(layer, naive, trees, x_np, seed=0):
    """Forward outputs and all gradients (parameters, node inputs) of the batched layer against
    the naive recursion, under the same random projection of the outputs."""
    b = batch_trees(trees)
    rng = np.random.default_rng(seed)
    wh = rng.standard_normal((b.num_nodes, layer.hidden_size))
    wr = rng.standard_normal((b.num_trees, layer.hidden_size))
    x = sd.tensor(x_np, requires_grad=True)
    h, roots = layer(b, x)
    ((h * sd.tensor(wh)).sum() + (roots * sd.tensor(wr)).sum()).backward()
    grads = {n: p.grad.numpy().copy() for n, p in layer.named_parameters()}
    gx = x.grad.numpy().copy()
    layer.zero_grad()
    x2 = sd.tensor(x_np, requires_grad=True)
    loss = None
    for t, (tree, ids) in enumerate(zip(trees, b.node_ids)):
        hs = naive(layer, tree, [x2[int(i)] for i in ids])
        np.testing.assert_allclose(h.numpy()[ids], np.stack([v.numpy() for v in hs]),
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(roots.numpy()[t], hs[0].numpy(), rtol=0, atol=1e-12)
        for v, i in zip(hs, ids):
            term = (v * sd.tensor(wh[i])).sum()
            loss = term if loss is None else loss + term
        loss = loss + (hs[0] * sd.tensor(wr[t])).sum()
    loss.backward()
    for n, p in layer.named_parameters():
        naive_grad = np.zeros(p.shape) if p.grad is None else p.grad.numpy()  # leaves only
        np.testing.assert_allclose(grads[n], naive_grad, rtol=0, atol=1e-10, err_msg=n)
    np.testing.assert_allclose(gx, x2.grad.numpy(), rtol=0, atol=1e-10)
    return b


def test_tree_lstm_matches_naive_recursion_on_random_trees():
    trees = random_trees(1, 12)
    layer = ChildSumTreeLSTM(3, 4, dtype=F64)
    n = sum(t.size() for t in trees)
    b = _compare_with_naive(layer, naive_lstm, trees, np.random.default_rng(2).normal(
        size=(n, 3)))
    assert b.num_levels >= 4 and b.arity.max() >= 3  # the batch really mixes shapes


def test_tree_lstm_vary_arity_tree():
    wide = Tree.from_tuple((0, 1, (2, 3, 4), (4, 5, 6, 0, 1, 2, 3), (5, (6, (0, 1, 2, 3))), 4, 5))
    assert sorted(set(batch_trees([wide]).arity.tolist())) == [0, 1, 2, 3, 6]
    trees = [wide, Tree(3), Tree.from_tuple((1, 2))]
    layer = ChildSumTreeLSTM(2, 3, dtype=F64)
    n = sum(t.size() for t in trees)
    _compare_with_naive(layer, naive_lstm, trees, np.random.default_rng(4).normal(size=(n, 2)))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_recursive_nn_matches_naive_recursion(activation):
    trees = random_trees(5, 10, binary=True) + [t.binarize() for t in random_trees(6, 4)]
    layer = RecursiveNN(3, 4, activation=activation, dtype=F64)
    n = sum(t.size() for t in trees)
    b = _compare_with_naive(layer, naive_rnn, trees, np.random.default_rng(7).normal(
        size=(n, 3)))
    assert b.num_levels >= 4


def test_leaf_only_batch():
    trees = [Tree(1), Tree(2)]
    for layer in (ChildSumTreeLSTM(2, 3, dtype=F64), RecursiveNN(2, 3, dtype=F64)):
        naive = naive_lstm if isinstance(layer, ChildSumTreeLSTM) else naive_rnn
        _compare_with_naive(layer, naive, trees, np.random.default_rng(0).normal(size=(2, 2)))


# -- gradcheck -------------------------------------------------------------------------------------
SMALL = [Tree.from_tuple((0, 1, (2, 3, 4, 0))), Tree.from_tuple((1, (2, 3))), Tree(4)]


def test_gradcheck_tree_lstm():
    b = batch_trees(SMALL)
    layer = ChildSumTreeLSTM(2, 3, dtype=F64)
    x = sd.tensor(np.random.default_rng(0).normal(size=(b.num_nodes, 2)), requires_grad=True)
    assert gradcheck(lambda x, *p: layer(b, x), [x, *layer.parameters()])


def test_gradcheck_recursive_nn_with_embedding():
    trees = [t.binarize() for t in SMALL]
    b = batch_trees(trees)
    layer = RecursiveNN(2, 3, num_embeddings=5, dtype=F64)
    assert gradcheck(lambda *p: layer(b), list(layer.parameters()))


def test_gradcheck_ops_directly():
    from shendu.ops import tree as T
    b = batch_trees(SMALL)
    rng = np.random.default_rng(1)
    xw = sd.tensor(rng.normal(size=(b.num_nodes, 8)), requires_grad=True)
    u = sd.tensor(rng.normal(size=(6, 2)), requires_grad=True)
    uf = sd.tensor(rng.normal(size=(2, 2)), requires_grad=True)
    assert gradcheck(lambda *a: T.ChildSumTreeLSTM.apply(*a, batch=b), [xw, u, uf])  # h and c
    bb = batch_trees([t.binarize() for t in SMALL])
    leaf = sd.tensor(rng.normal(size=(bb.levels[0].hi, 2)), requires_grad=True)
    w = sd.tensor(rng.normal(size=(2, 4)), requires_grad=True)
    bias = sd.tensor(rng.normal(size=2), requires_grad=True)
    assert gradcheck(lambda *a: T.RecursiveNN.apply(*a, batch=bb), [leaf, w, bias])


# -- the embedding, dtypes, errors -----------------------------------------------------------------
def test_embedding_lookup_equals_features_and_gets_gradients():
    trees = random_trees(8, 6)
    b = batch_trees(trees)
    layer = ChildSumTreeLSTM(3, 4, num_embeddings=7, dtype=F64)
    h, roots = layer(b)
    h2, _ = layer(b, layer.embedding.weight.numpy()[b.labels])
    np.testing.assert_allclose(h.numpy(), h2.numpy(), atol=1e-14)
    h3, _ = layer(b, sd.tensor(b.labels))  # explicit integer labels
    np.testing.assert_allclose(h.numpy(), h3.numpy(), atol=1e-14)
    roots.sum().backward()
    g = layer.embedding.weight.grad.numpy()
    assert np.abs(g[np.unique(b.labels)]).min() > 0
    assert "num_embeddings=7" in repr(layer)


def test_float32_stays_float32():
    b = batch_trees([t.binarize() for t in random_trees(9, 5)])
    for layer in (ChildSumTreeLSTM(3, 4, num_embeddings=7), RecursiveNN(3, 4, num_embeddings=7)):
        h, roots = layer(b)
        assert h.dtype == np.float32 and roots.dtype == np.float32
        roots.sum().backward()
        assert all(p.grad.dtype == np.float32 for p in layer.parameters())


def test_errors_name_the_layer_and_the_value():
    wide = batch_trees([Tree.from_tuple((0, 1, 2, 3))])
    rnn = RecursiveNN(2, 3, num_embeddings=5)
    with pytest.raises(ValueError, match=r"RecursiveNN 'recursive_nn' needs binary trees.*"
                                         r"node 3 \(tree 0, preorder 0, label 0\) has 3 child"):
        rnn(wide)
    lstm = ChildSumTreeLSTM(2, 3, num_embeddings=5)
    bad = batch_trees([Tree(1), Tree.from_tuple((2, 9))])
    with pytest.raises(IndexError, match=r"ChildSumTreeLSTM 'child_sum_tree_lstm': label 9 of "
                                         r"node 1 \(tree 1, preorder 1, label 9\) is out of "
                                         r"range for num_embeddings=5"):
        lstm(bad)
    with pytest.raises(TypeError, match="ChildSumTreeLSTM .* integer labels.*dtype <U1"):
        lstm(batch_trees([Tree.from_tuple(("+", "x"))]))
    plain = ChildSumTreeLSTM(2, 3)
    with pytest.raises(ValueError, match=r"expected node features of shape \(4, 2\).*got "
                                         r"shape \(4, 3\)"):
        plain(wide, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="needs node features x of shape"):
        plain(wide)
    with pytest.raises(TypeError, match="expects a TreeBatch.*got list"):
        plain([Tree(1)], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="activation must be 'tanh' or 'relu', got 'gelu'"):
        RecursiveNN(2, 3, activation="gelu")
    with pytest.raises(ValueError, match="ChildSumTreeLSTM: .* got input_size=0"):
        ChildSumTreeLSTM(0, 3)


def test_trains_inside_a_model():
    """A root classifier learns a structural label (does the tree have a node of arity 3?)."""
    rng = np.random.default_rng(0)
    trees = [random_tree(rng, 3, max_arity=3, vocab=3) for _ in range(48)]
    y = np.array([int(any(len(n.children) == 3 for n in t)) for t in trees])
    sd.manual_seed(0)
    lstm, head = ChildSumTreeLSTM(4, 8, num_embeddings=3), sd.nn.Linear(8, 2)
    opt = sd.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.05)
    b = batch_trees(trees)
    losses = []
    for _ in range(30):
        loss = sd.nn.functional.cross_entropy(head(lstm(b)[1]), sd.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_state_dict_roundtrip():
    b = batch_trees(random_trees(10, 4))
    a, c = ChildSumTreeLSTM(3, 4, num_embeddings=7), ChildSumTreeLSTM(3, 4, num_embeddings=7)
    assert sorted(a.state_dict()) == ["bias_ih", "embedding.weight", "weight_hf", "weight_hh",
                                      "weight_ih"]
    c.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(b)[1].numpy(), c(b)[1].numpy())
