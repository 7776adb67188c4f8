"""A Tree-LSTM reads Python's own standard library: what kind of function is this ``def``?

Data: every function definition in the standard library of the running Python (found with
``sysconfig.get_paths()["stdlib"]``; test folders, ``site-packages`` and the generated
``encodings`` codecs are left out; ``--top-level-only`` keeps just ``Lib/*.py``).

Task: predict the first word of the function's name (``__init__``, ``get``, ``set``, ``is``,
``__repr__``, ``add``, ...: the ``--classes`` most frequent in the training files) from its
syntax tree. The input is the tree of node types (``Tree.from_ast``, constants refined by the
type of their value: ``Constant:str``, ``Constant:bool``...). Identifiers are not part of the
tree, so the name, and any call of the function by its name, are invisible: the model must
recognise a constructor, a getter, a predicate or a ``__repr__`` by what its body does.

Split: deterministic by file (CRC-32 of the path), so the functions of one file are all on one
side. Reported: test accuracy of the Tree-LSTM (``ChildSumTreeLSTM`` over an embedding of the
node types, a linear classifier on the root state), of a majority-class guess, and of a
bag-of-node-types logistic regression (counts of each node type, log1p, in shendu).

Run: python examples/tree_ast.py [--epochs 12] [--classes 8] [--max-nodes 300] [--hidden 64]
(a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import ast
import collections
import os
import re
import sysconfig
import time
import zlib

import numpy as np

import shendu as sd
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.nn import ChildSumTreeLSTM, Tree, batch_trees

SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "encodings", "__pycache__"}


def name_head(name: str) -> str:
    """``__init__`` stays whole; ``_get_value`` -> ``get``, ``isEnabled`` -> ``is``."""
    if name.startswith("__") and name.endswith("__"):
        return name
    return re.split(r"_+|(?<=[a-z0-9])(?=[A-Z])", name.lstrip("_"))[0].lower()


def node_label(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return f"Constant:{type(node.value).__name__}"
    return type(node).__name__


def load_functions(top_level_only: bool, max_nodes: int):
    """[(relative path, name head, Tree of labels)] for every def of the stdlib."""
    root = sysconfig.get_paths()["stdlib"]
    out, skipped = [], 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [] if top_level_only else sorted(d for d in dirs if d not in SKIP_DIRS)
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            path = os.path.join(folder, f)
            try:
                with open(path, encoding="utf-8") as fh:
                    module = ast.parse(fh.read())
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue  # e.g. lib2to3's deliberately broken test data
            rel = os.path.relpath(path, root)
            for node in ast.walk(module):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    tree = Tree.from_ast(node, label=node_label)
                    if tree.size() > max_nodes:
                        skipped += 1
                        continue
                    out.append((rel, name_head(node.name), tree))
    return out, skipped


def in_test_split(path: str, percent: int) -> bool:
    return zlib.crc32(path.encode()) % 100 < percent


class TreeClassifier(nn.Module):
    def __init__(self, vocab: int, embed: int, hidden: int, classes: int):
        super().__init__()
        self.lstm = ChildSumTreeLSTM(embed, hidden, num_embeddings=vocab)
        self.head = nn.Linear(hidden, classes)

    def forward(self, batch):
        _, roots = self.lstm(batch)
        return self.head(roots)


def accuracy(logits, y) -> float:
    return float((logits.numpy().argmax(1) == y).mean())


def bag_of_types(trees, vocab_size: int) -> np.ndarray:
    x = np.zeros((len(trees), vocab_size), dtype=np.float32)
    for i, t in enumerate(trees):
        np.add.at(x[i], np.asarray(t.labels()), 1.0)
    return np.log1p(x)


def logistic_regression(x_train, y_train, x_test, classes: int, steps: int = 500) -> np.ndarray:
    """Multinomial logistic regression with Adam, full batch; returns test predictions."""
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    xtr, xte = sd.tensor((x_train - mean) / std), sd.tensor((x_test - mean) / std)
    model = nn.Linear(x_train.shape[1], classes)
    opt = sd.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
    ytr = sd.tensor(y_train)
    for _ in range(steps):
        loss = F.cross_entropy(model(xtr), ytr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with sd.no_grad():
        return model(xte).numpy().argmax(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--classes", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--embed", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--max-nodes", type=int, default=300, help="skip bigger functions")
    ap.add_argument("--max-functions", type=int, default=None, help="cap the data (speed)")
    ap.add_argument("--test-percent", type=int, default=20)
    ap.add_argument("--top-level-only", action="store_true", help="only Lib/*.py")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sd.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()
    funcs, skipped = load_functions(args.top_level_only, args.max_nodes)
    train = [f for f in funcs if not in_test_split(f[0], args.test_percent)]
    test = [f for f in funcs if in_test_split(f[0], args.test_percent)]
    heads = [h for h, _ in collections.Counter(f[1] for f in train).most_common(args.classes)]
    cls = {h: i for i, h in enumerate(heads)}
    train = [f for f in train if f[1] in cls]
    test = [f for f in test if f[1] in cls]
    if args.max_functions:
        train = [train[i] for i in sorted(rng.permutation(len(train))[:args.max_functions])]
    # node-type vocabulary from the training trees only; id 0 for types never seen there
    types = sorted({lab for _, _, t in train for lab in t.labels()})
    vocab = {lab: i + 1 for i, lab in enumerate(types)}
    ids = lambda t: t.map(lambda lab: vocab.get(lab, 0))  # noqa: E731
    tr_trees, te_trees = [ids(t) for _, _, t in train], [ids(t) for _, _, t in test]
    y_tr = np.array([cls[h] for _, h, _ in train])
    y_te = np.array([cls[h] for _, h, _ in test])
    n_files = len({f[0] for f in funcs})
    print(f"{len(funcs)} function definitions of <= {args.max_nodes} nodes in {n_files} files "
          f"({skipped} bigger ones skipped), {time.perf_counter() - t0:.1f} s")
    counts = [f"{h} ({(y_tr == i).sum()}+{(y_te == i).sum()})" for h, i in cls.items()]
    print(f"classes (train+test): {', '.join(counts)}")
    print(f"train {len(y_tr)} / test {len(y_te)} functions (test files: crc32 % 100 < "
          f"{args.test_percent}); {len(vocab)} node types")

    majority = float((y_te == np.bincount(y_tr).argmax()).mean())
    bag_pred = logistic_regression(bag_of_types(tr_trees, len(vocab) + 1), y_tr,
                                   bag_of_types(te_trees, len(vocab) + 1), len(heads))
    bag = float((bag_pred == y_te).mean())
    print(f"majority class: {majority:.3f}   bag-of-node-types logistic regression: {bag:.3f}")

    model = TreeClassifier(len(vocab) + 1, args.embed, args.hidden, len(heads))
    opt = sd.optim.Adam(model.parameters(), lr=args.lr)
    order = rng.permutation(len(tr_trees))  # fixed minibatches, plans built once
    batches = [order[i:i + args.batch_size] for i in range(0, len(order), args.batch_size)]
    plans = [(batch_trees([tr_trees[j] for j in b]), sd.tensor(y_tr[b])) for b in batches]
    test_plans = [(batch_trees(te_trees[i:i + 256]), y_te[i:i + 256])
                  for i in range(0, len(te_trees), 256)]

    def evaluate() -> float:
        model.eval()
        with sd.no_grad():
            right = sum(int((model(b).numpy().argmax(1) == y).sum()) for b, y in test_plans)
        model.train()
        return right / len(y_te)

    for epoch in range(args.epochs):
        t0, total = time.perf_counter(), 0.0
        for k in rng.permutation(len(plans)):
            plan, y = plans[k]
            loss = F.cross_entropy(model(plan), y)
            opt.zero_grad()
            loss.backward()
            sd.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += loss.item() * len(y.data)
        print(f"epoch {epoch + 1:2d}: train loss {total / len(y_tr):.3f}, test accuracy "
              f"{evaluate():.3f} ({time.perf_counter() - t0:.1f} s)")
    tree_acc = evaluate()
    print(f"\ntest accuracy over {len(y_te)} functions: Tree-LSTM {tree_acc:.3f}, "
          f"bag of node types {bag:.3f}, majority class {majority:.3f}")


if __name__ == "__main__":
    main()
