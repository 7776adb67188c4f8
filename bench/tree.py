"""Recursive networks over a minibatch of trees: level batching against a per-node loop.

256 random trees (seeded) of depth 1..12 and arity 1..3, labels from a vocabulary of 50,
embedded in 32 features; hidden size 64; float32. One step is forward + backward of
``(roots * v).sum()`` through an embedding and a ``ChildSumTreeLSTM`` (and, on the binarized
trees, a ``RecursiveNN``). Contenders, all with the same weights and checked to agree:

* shendu, level-batched: the layers of ``shendu.nn`` (one fused primitive, a level per step);
* shendu, composite: the same level batching written with Tensor ops only (gathers from a
  table of finished states rebuilt at each level, children padded to the widest node), the
  alternative the fused primitive of ``ops.tree`` has to beat;
* shendu, per node: a recursion over each tree, a few Tensor ops per node;
* PyTorch (when installed), per node, and level-batched with ``index_select``/``index_add``.

Times are best-of-``--repeat`` seconds per step (the per-node loops run ``--loop-repeat``
times); the plan (``batch_trees``) is timed on its own. Speedups > 1 mean the first is faster.

Usage: python bench/tree.py [--trees 256] [--max-depth 12] [--repeat 5] [--loop-repeat 1]
                            [--threads N]
On a machine shared with other jobs, one BLAS thread per framework gives steadier figures:
OPENBLAS_NUM_THREADS=1 python bench/tree.py --threads 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import shendu as sd
from shendu.nn import ChildSumTreeLSTM, RecursiveNN, Tree, batch_trees
from shendu.ops import movement as M

try:
    import torch
except ImportError:  # the bench still compares shendu's two ways
    torch = None

VOCAB, EMBED, HIDDEN = 50, 32, 64


def random_tree(rng, depth: int, max_arity: int = 3) -> Tree:
    """A tree of exactly ``depth`` edges: one child continues the spine, the others are
    random subtrees of smaller depth."""
    label = int(rng.integers(VOCAB))
    if depth == 0:
        return Tree(label)
    k = int(rng.integers(1, max_arity + 1))
    spine = int(rng.integers(k))
    kids = [random_tree(rng, depth - 1 if i == spine else int(rng.integers(depth)), max_arity)
            for i in range(k)]
    return Tree(label, kids)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# -- shendu: composite level batching (Tensor ops only) --------------------------------------------
def composite_lstm(layer: ChildSumTreeLSTM, batch, x):
    """The child-sum Tree-LSTM with Tensor ops: per level, gather the (padded) children from
    a table of all finished states (rebuilt with cat), sum them, and write nothing in place."""
    hs = layer.hidden_size
    xw = sd.nn.functional.linear(x, layer.weight_ih, layer.bias_ih)
    zero = sd.zeros(1, hs)
    hs_levels, cs_levels = [zero], [zero]  # row 0 of the table is the padding (zeros)
    for level, (lo, hi, _, _) in enumerate(batch.levels):
        pre = xw[lo:hi]
        if level:
            table_h, table_c = sd.cat(hs_levels), sd.cat(cs_levels)
            pad = _padded_children(batch, lo, hi)  # (n, K) table rows, 0 = padding
            hk = M.Embedding.apply(table_h, pad)  # (n, K, H)
            ck = M.Embedding.apply(table_c, pad)
            iou = pre[:, :3 * hs] + sd.matmul(hk.sum(axis=1), layer.weight_hh.T)
            uh = sd.matmul(hk.reshape(-1, hs), layer.weight_hf.T).reshape(hk.shape)
            f = sd.sigmoid(pre[:, None, 3 * hs:] + uh)
            fc = (f * ck).sum(axis=1)
        else:
            iou, fc = pre[:, :3 * hs], 0
        i, o = sd.sigmoid(iou[:, :hs]), sd.sigmoid(iou[:, hs:2 * hs])
        c = i * sd.tanh(iou[:, 2 * hs:]) + fc
        hs_levels.append(o * sd.tanh(c))
        cs_levels.append(c)
    h = sd.cat(hs_levels[1:])
    return M.Embedding.apply(h, batch.roots)


def _padded_children(batch, lo, hi):
    counts = batch.arity[lo:hi]
    k = int(counts.max())
    pad = np.full((hi - lo, k), -1, dtype=np.int64)
    e0 = batch.child_offsets[lo]
    slot = np.arange(batch.child_offsets[hi] - e0) - np.repeat(batch.child_offsets[lo:hi] - e0,
                                                               counts)
    pad[np.repeat(np.arange(hi - lo), counts), slot] = batch.children[e0:batch.child_offsets[hi]]
    return pad + 1  # the table's row 0 is the padding


# -- shendu and PyTorch: per-node recursions -------------------------------------------------------
def _postorder_lstm(lib, tree, emb, w, b, u, uf, hs):
    """Root h of one tree with a per-node loop in ``lib`` (a namespace of the ops below)."""
    done = {}
    for node in tree.postorder():
        xw = lib.mv(w, emb[node.label]) + b
        kids = [done.pop(id(c)) for c in node.children]
        hsum = kids[0][0] if kids else None
        for h_k, _ in kids[1:]:
            hsum = hsum + h_k
        iou = xw[:3 * hs] if hsum is None else xw[:3 * hs] + lib.mv(u, hsum)
        c = lib.sigmoid(iou[:hs]) * lib.tanh(iou[2 * hs:])
        for h_k, c_k in kids:
            c = c + lib.sigmoid(xw[3 * hs:] + lib.mv(uf, h_k)) * c_k
        done[id(node)] = (lib.sigmoid(iou[hs:2 * hs]) * lib.tanh(c), c)
    return done[id(tree)][0]


def _postorder_rnn(lib, tree, emb, wl, bl, w, b):
    done = {}
    for node in tree.postorder():
        if node.children:
            left, right = (done.pop(id(c)) for c in node.children)
            done[id(node)] = lib.tanh(lib.mv(w, lib.cat([left, right])) + b)
        else:
            done[id(node)] = lib.tanh(lib.mv(wl, emb[node.label]) + bl)
    return done[id(tree)]


class _SdLib:
    mv, sigmoid, tanh = staticmethod(sd.matmul), staticmethod(sd.sigmoid), staticmethod(sd.tanh)
    cat = staticmethod(sd.cat)


class _TorchLib:
    if torch is not None:
        mv, sigmoid, tanh = staticmethod(torch.mv), staticmethod(torch.sigmoid), \
            staticmethod(torch.tanh)
        cat = staticmethod(torch.cat)


# -- PyTorch: level batching -----------------------------------------------------------------------
def torch_batched_lstm(tp, batch, x_ids):
    """The same level batching in PyTorch: index_select the children from a table of finished
    states (rebuilt with cat), index_add the sums per parent."""
    hs = tp["weight_hf"].shape[0]
    x = tp["embedding"][x_ids]
    xw = x @ tp["weight_ih"].T + tp["bias_ih"]
    h_levels, c_levels = [], []
    for level, (lo, hi, e0, e1) in enumerate(batch.levels):
        iou = xw[lo:hi, :3 * hs]
        if level:
            table_h, table_c = torch.cat(h_levels), torch.cat(c_levels)
            kids = torch.from_numpy(batch.children[e0:e1])
            seg = torch.from_numpy(batch.edge_parent[e0:e1] - lo)
            hk, ck = table_h.index_select(0, kids), table_c.index_select(0, kids)
            hsum = torch.zeros(hi - lo, hs).index_add(0, seg, hk)
            iou = iou + hsum @ tp["weight_hh"].T
            f = torch.sigmoid(xw[lo:hi, 3 * hs:].index_select(0, seg) + hk @ tp["weight_hf"].T)
            fc = torch.zeros(hi - lo, hs).index_add(0, seg, f * ck)
        else:
            fc = 0
        c = torch.sigmoid(iou[:, :hs]) * torch.tanh(iou[:, 2 * hs:]) + fc
        h_levels.append(torch.sigmoid(iou[:, hs:2 * hs]) * torch.tanh(c))
        c_levels.append(c)
    return torch.cat(h_levels)[torch.from_numpy(batch.roots)]


# -- the runs --------------------------------------------------------------------------------------
def bench_lstm(trees, args, v):
    sd.manual_seed(0)
    layer = ChildSumTreeLSTM(EMBED, HIDDEN, num_embeddings=VOCAB)
    params = list(layer.parameters())
    vt = sd.tensor(v)
    t0 = time.perf_counter()
    batch = batch_trees(trees)
    plan_s = time.perf_counter() - t0
    print(f"trees: {len(trees)}, nodes: {batch.num_nodes}, levels: {batch.num_levels}, widest "
          f"node: {int(batch.arity.max())} children; batch_trees: {plan_s * 1e3:.1f} ms")

    def zero():
        for p in params:
            p.grad = None

    def batched():
        zero()
        _, roots = layer(batch)
        (roots * vt).sum().backward()
        return roots

    def composite():
        zero()
        roots = composite_lstm(layer, batch, layer.embedding(batch.labels))
        (roots * vt).sum().backward()
        return roots

    p = [layer.embedding.weight, layer.weight_ih, layer.bias_ih, layer.weight_hh,
         layer.weight_hf]

    def per_node():
        zero()
        roots = [_postorder_lstm(_SdLib, t, *p, HIDDEN) for t in trees]
        (sd.stack(roots) * vt).sum().backward()
        return sd.stack(roots)

    ref = batched().numpy()
    g_ref = layer.weight_hf.grad.numpy().copy()
    for name, fn in (("composite", composite), ("per-node", per_node)):
        np.testing.assert_allclose(fn().numpy(), ref, rtol=1e-4, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(layer.weight_hf.grad.numpy(), g_ref, rtol=1e-3, atol=1e-4)
    times = {"shendu level-batched": best(batched, args.repeat),
             "shendu composite": best(composite, args.repeat),
             "shendu per-node": best(per_node, args.loop_repeat)}
    if torch is not None:
        tp = {k: torch.from_numpy(q.numpy().copy()).requires_grad_(True)
              for k, q in zip(["embedding", "weight_ih", "bias_ih", "weight_hh", "weight_hf"], p)}
        tv, ids = torch.from_numpy(v), torch.from_numpy(batch.labels)
        tq = [tp[k] for k in ["embedding", "weight_ih", "bias_ih", "weight_hh", "weight_hf"]]

        def t_batched():
            for q in tq:
                q.grad = None
            roots = torch_batched_lstm(tp, batch, ids)
            (roots * tv).sum().backward()
            return roots

        def t_per_node():
            for q in tq:
                q.grad = None
            roots = torch.stack([_postorder_lstm(_TorchLib, t, *tq, HIDDEN) for t in trees])
            (roots * tv).sum().backward()
            return roots

        for fn in (t_batched, t_per_node):
            np.testing.assert_allclose(fn().detach().numpy(), ref, rtol=1e-4, atol=1e-5)
        times["torch level-batched"] = best(t_batched, args.repeat)
        times["torch per-node"] = best(t_per_node, args.loop_repeat)
    return times


def bench_rnn(trees, args, v):
    sd.manual_seed(0)
    layer = RecursiveNN(EMBED, HIDDEN, num_embeddings=VOCAB)
    params = list(layer.parameters())
    vt = sd.tensor(v)
    batch = batch_trees(trees)
    print(f"binarized: nodes: {batch.num_nodes}, levels: {batch.num_levels}")

    def batched():
        for q in params:
            q.grad = None
        _, roots = layer(batch)
        (roots * vt).sum().backward()
        return roots

    p = [layer.embedding.weight, layer.weight_leaf, layer.bias_leaf, layer.weight, layer.bias]

    def per_node():
        for q in params:
            q.grad = None
        roots = sd.stack([_postorder_rnn(_SdLib, t, *p) for t in trees])
        (roots * vt).sum().backward()
        return roots

    ref = batched().numpy()
    np.testing.assert_allclose(per_node().numpy(), ref, rtol=1e-4, atol=1e-5)
    times = {"shendu level-batched": best(batched, args.repeat),
             "shendu per-node": best(per_node, args.loop_repeat)}
    if torch is not None:
        tq = [torch.from_numpy(q.numpy().copy()).requires_grad_(True) for q in p]
        tv = torch.from_numpy(v)

        def t_per_node():
            for q in tq:
                q.grad = None
            roots = torch.stack([_postorder_rnn(_TorchLib, t, *tq) for t in trees])
            (roots * tv).sum().backward()
            return roots

        np.testing.assert_allclose(t_per_node().detach().numpy(), ref, rtol=1e-4, atol=1e-5)
        times["torch per-node"] = best(t_per_node, args.loop_repeat)
    return times


def report(title: str, times: dict) -> None:
    print(f"\n{title}: forward + backward, seconds per step (best)")
    base = times["shendu level-batched"]
    for name, s in times.items():
        print(f"  {name:24s} {s * 1e3:9.1f} ms   {s / base:7.1f}x the time of shendu "
              "level-batched")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trees", type=int, default=256)
    ap.add_argument("--max-depth", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--loop-repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="PyTorch threads (default: PyTorch's); NumPy's BLAS follows "
                         "OPENBLAS_NUM_THREADS / OMP_NUM_THREADS")
    args = ap.parse_args()
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    trees = [random_tree(rng, int(d)) for d in rng.integers(1, args.max_depth + 1, args.trees)]
    v = rng.standard_normal((args.trees, HIDDEN)).astype(np.float32)
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    lstm = bench_lstm(trees, args, v)
    rnn = bench_rnn([t.binarize() for t in trees], args, v)
    report("ChildSumTreeLSTM", lstm)
    report("RecursiveNN (binarized trees)", rnn)
    print(f"\nspeedup of level batching over the per-node loop: ChildSumTreeLSTM "
          f"{lstm['shendu per-node'] / lstm['shendu level-batched']:.0f}x, RecursiveNN "
          f"{rnn['shendu per-node'] / rnn['shendu level-batched']:.0f}x; fused primitive over "
          f"the composite: {lstm['shendu composite'] / lstm['shendu level-batched']:.1f}x")
    if torch is not None:
        print(f"torch level-batched / shendu level-batched (ChildSumTreeLSTM): "
              f"{lstm['torch level-batched'] / lstm['shendu level-batched']:.2f}")


if __name__ == "__main__":
    main()
