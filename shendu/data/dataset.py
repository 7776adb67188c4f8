"""Datasets: indexable collections of samples, and ways to combine and split them."""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .. import random as _random
from ..backend import array_module
from ..tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split"]


class Dataset:
    """Base class of map-style datasets: ``dataset[i]`` is the i-th sample, ``len(dataset)`` the
    number of samples. Subclasses define both.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 10
        ...     def __getitem__(self, i): return i, i * i
        >>> Squares()[3]
        (3, 9)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset:
    """Base class of stream-style datasets: iterating yields the samples (subclasses define
    ``__iter__``). A DataLoader batches the stream in order; it cannot shuffle it.

    Example:
        >>> class Count(IterableDataset):
        ...     def __iter__(self): return iter(range(3))
        >>> list(Count())
        [0, 1, 2]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class TensorDataset(Dataset):
    """Samples are slices of tensors along their first dimension: ``dataset[i]`` is
    ``(t0[i], t1[i], ...)``.

    A DataLoader over a TensorDataset (or a Subset of one) builds each batch with one fancy index
    per tensor instead of collating samples one by one.

    Args:
        *tensors: Tensors (or arrays, wrapped without copying) with equal first dimensions.

    Raises:
        ValueError: if the first dimensions differ.

    Example:
        >>> import numpy as np
        >>> ds = TensorDataset(np.zeros((4, 2), np.float32), np.arange(4))
        >>> len(ds), ds[1][1].item()
        (4, 1)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(_as_tensor(t) for t in tensors)
        for k, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {k} is 0-dimensional; every tensor "
                                 "needs a first (sample) dimension")
        sizes = [t.shape[0] for t in self.tensors]
        if len(set(sizes)) > 1:
            shapes = ", ".join(f"tensor {k}: {tuple(t.shape)}" for k, t in
                               enumerate(self.tensors))
            raise ValueError(f"TensorDataset: all tensors must have the same size in the first "
                             f"dimension, got sizes {sizes} ({shapes})")

    def __getitem__(self, index):
        return tuple(Tensor(t.data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: the dataset to take samples from.
        indices: a sequence of indices into ``dataset``.

    Example:
        >>> s = Subset(list("abcdef"), [5, 0])
        >>> s[0], len(s)
        ('f', 2)
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices
        self._index_array = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[int(self._index_array[i])] for i in index]
        return self.dataset[int(self._index_array[index])]

    def __len__(self) -> int:
        return len(self._index_array)


class ConcatDataset(Dataset):
    """Several datasets one after the other.

    Args:
        datasets: the datasets to chain (each needs ``__len__``).

    Example:
        >>> c = ConcatDataset([[1, 2], [3, 4, 5]])
        >>> len(c), c[2], c[-1]
        (5, 3, 5)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not take an IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(f"index {index} is out of range for a dataset of length {n}")
            index += n
        if index >= n:
            raise IndexError(f"index {index} is out of range for a dataset of length {n}")
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]


def random_split(dataset, lengths: Sequence[int | float],
                 generator: _random.Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random Subsets.

    Args:
        dataset: the dataset to split.
        lengths: the sizes of the parts (summing to ``len(dataset)``) or fractions summing to 1;
            with fractions, the sizes are floored and the leftover samples go one each to the
            first parts.
        generator: a ``shendu.random.Generator``; default ``shendu.random.default_generator``
            (so ``shendu.manual_seed`` fixes the split).

    Raises:
        ValueError: if the lengths do not add up.

    Example:
        >>> import shendu
        >>> train, val = random_split(range(10), [0.8, 0.2], generator=shendu.random.Generator(0))
        >>> len(train), len(val)
        (8, 2)
    """
    n = len(dataset)
    lengths = list(lengths)
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if any(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1):
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: part {i} is empty (fraction {lengths[i]} of "
                              f"{n} samples)", stacklevel=2)
    else:
        sizes = [int(x) for x in lengths]
        if any(s != x for s, x in zip(sizes, lengths)):
            raise ValueError(f"random_split: lengths must be integers or fractions summing to "
                             f"1, got {lengths}")
    if sum(sizes) != n:
        raise ValueError(f"random_split: the lengths {sizes} add up to {sum(sizes)}, but the "
                         f"dataset has {n} samples")
    perm = (generator or _random.default_generator).permutation(n)
    offsets = np.cumsum([0, *sizes])
    return [Subset(dataset, perm[a:b].tolist()) for a, b in zip(offsets[:-1], offsets[1:])]


def _batch_fetcher(dataset) -> Callable | None:
    """A function from an index array to a collated batch when ``dataset`` is a TensorDataset
    (or Subsets of one): one fancy index per tensor replaces the per-sample loop. The batch has
    the structure ``default_collate`` gives a list of tuples: a list of Tensors. Datasets of
    arrays (the vision datasets) offer the same through a ``_batch_fetcher`` method."""
    hook = getattr(dataset, "_batch_fetcher", None)
    if callable(hook):
        return hook()
    if isinstance(dataset, TensorDataset):
        arrays = [t.data for t in dataset.tensors]

        def fetch(idx):
            return [Tensor(a[array_module(a).asarray(idx)]) for a in arrays]

        return fetch
    if isinstance(dataset, Subset):
        inner = _batch_fetcher(dataset.dataset)
        if inner is not None:
            index_array = dataset._index_array
            return lambda idx: inner(index_array[idx])
    return None
