"""Helpers shared by the dataset tests: the IDX file names, a tiny MNIST-like fixture in the
real format, and an environment where no real data on this machine can be found."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import shendu.data.datasets as datasets_mod
from shendu.data import write_idx

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")


def write_idx_set(folder: Path, n_train=6, n_test=4, gz=True, seed=0):
    """A tiny MNIST-like dataset in the real IDX format; returns its four arrays."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, n_train, dtype=np.uint8),
              rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, n_test, dtype=np.uint8)]
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in zip(NAMES, arrays):
        write_idx(folder / (name + (".gz" if gz else "")), arr)
    return arrays


def isolate_data(tmp_path: Path, monkeypatch) -> Path:
    """HOME, SHENDU_DATA and the Debian folder all point into tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SHENDU_DATA", raising=False)
    monkeypatch.setattr(datasets_mod, "DEBIAN_DATASETS", tmp_path / "usr-share-datasets")
    return tmp_path
