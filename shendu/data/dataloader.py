"""DataLoader: batches of a dataset, in order or shuffled, collated into Tensors."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from .. import random as _random
from ..backend import array_module, get_default_dtype
from ..tensor import Tensor
from .dataset import IterableDataset, _batch_fetcher
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or type(x).__module__.startswith("cupy")


def _check_numeric(dtype, what: str) -> None:
    if dtype.kind in "OUSV":
        raise TypeError(f"default_collate: cannot make a tensor from {what} of dtype {dtype}; "
                        "pass a collate_fn that handles it")


def _stack(arrays: list) -> Tensor:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"default_collate: the samples of a batch have different shapes "
                         f"{sorted(shapes)}; pad or resize them to one shape, or pass a "
                         "collate_fn")
    return Tensor(array_module(arrays[0]).stack(arrays))


def _numbers(batch: Sequence) -> Tensor:
    """Python numbers: ints become int64, floats the default dtype (float32), bools bool."""
    arr = np.array(batch)
    if arr.dtype.kind == "f":
        arr = arr.astype(get_default_dtype())
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    elif arr.dtype.kind != "b":
        raise TypeError(f"default_collate: a batch mixes numbers with "
                        f"{sorted({type(b).__name__ for b in batch})}; pass a collate_fn")
    return Tensor(arr)


def default_collate(batch: Sequence):
    """Merge a list of samples into one batch.

    Tensors and arrays are stacked along a new first axis into a Tensor (their dtype is kept, so
    float64 arrays stay float64); Python ints become an int64 Tensor and Python floats one of the
    default dtype (float32); strings stay a list. Dicts, lists and tuples are collated field by
    field: a dict gives a dict of batches, a list or tuple gives a list of batches (PyTorch's
    convention), a namedtuple keeps its type.

    Args:
        batch: the samples, all of one structure.

    Example:
        >>> b = default_collate([{"x": [1.0, 2.0], "y": 0}, {"x": [3.0, 4.0], "y": 1}])
        >>> b["y"].tolist()
        [0, 1]
    """
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([b.data for b in batch])
    if _is_array(elem):
        _check_numeric(elem.dtype, "arrays")
        return _stack(list(batch))
    if isinstance(elem, np.generic):
        _check_numeric(elem.dtype, "NumPy scalars")
        return Tensor(np.array(batch))
    if isinstance(elem, (bool, int, float)):
        return _numbers(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, Sequence):
        sizes = {len(b) for b in batch}
        if len(sizes) > 1:
            raise ValueError(f"default_collate: the samples of a batch have different lengths "
                             f"{sorted(sizes)}; every sample needs the same structure")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
            return type(elem)(*fields)
        return fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(elem).__name__}; "
                    "samples should hold Tensors, arrays, numbers, strings, or dicts/lists/tuples "
                    "of them, or pass a collate_fn")


def default_convert(sample):
    """Turn the arrays inside one sample into Tensors without batching (``batch_size=None``).

    Args:
        sample: a sample as the dataset returns it.

    Example:
        >>> import numpy as np
        >>> default_convert({"x": np.ones(3)})["x"].shape
        (3,)
    """
    if _is_array(sample) and sample.dtype.kind not in "OUSV":
        return Tensor(sample)
    if isinstance(sample, np.generic) and sample.dtype.kind not in "OUSV":
        return Tensor(np.asarray(sample))
    if isinstance(sample, Mapping):
        out = {key: default_convert(v) for key, v in sample.items()}
        try:
            return type(sample)(out)
        except TypeError:
            return out
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return [default_convert(v) for v in sample]
    return sample


class DataLoader:
    """Iterates over a dataset in batches.

    Args:
        dataset: a map-style ``Dataset`` (or anything with ``__getitem__``/``__len__``) or an
            ``IterableDataset``.
        batch_size: samples per batch; ``None`` yields single samples without batching.
        shuffle: a new random order every epoch (from ``generator``, or
            ``shendu.random.default_generator`` so ``shendu.manual_seed`` fixes it).
        sampler: the order of indices (instead of ``shuffle``).
        batch_sampler: yields whole lists of indices (instead of ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: accepted for PyTorch compatibility and ignored (loading runs in-process).
        collate_fn: merges a list of samples into a batch (default ``default_collate``).
        pin_memory, timeout, worker_init_fn, multiprocessing_context, prefetch_factor,
            persistent_workers: accepted for PyTorch compatibility and ignored.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: a ``shendu.random.Generator`` for the shuffling.

    A TensorDataset (or Subset of one) with the default collate is batched by one fancy index per
    tensor, with no per-sample Python work. ``state_dict()`` / ``load_state_dict()`` save and
    restore the epoch's order and position, so an interrupted epoch resumes at the next batch.

    Example:
        >>> import numpy as np
        >>> from shendu.data import TensorDataset
        >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
        >>> loader = DataLoader(ds, batch_size=2)
        >>> len(loader), [tuple(y.tolist()) for _, y in loader]
        (3, [(0, 1), (2, 3), (4,)])
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator: _random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
        self.dataset = dataset
        self.num_workers = num_workers
        self.generator = generator
        self.drop_last = bool(drop_last)
        if isinstance(dataset, IterableDataset):
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader over an IterableDataset cannot shuffle or take a "
                                 "sampler: the stream decides the order (shuffle inside it)")
            if batch_size is not None:
                BatchSampler([], batch_size)  # validates batch_size
            self.batch_size = batch_size
            self.sampler = self.batch_sampler = None
        else:
            if batch_sampler is not None:
                if batch_size != 1 or shuffle or sampler is not None or drop_last:
                    raise ValueError("batch_sampler is exclusive with batch_size, shuffle, "
                                     "sampler and drop_last")
                batch_size = None
            elif sampler is not None and shuffle:
                raise ValueError("sampler is exclusive with shuffle: the sampler decides the "
                                 "order (use RandomSampler(dataset) to shuffle)")
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, self.drop_last)
            self.batch_size = batch_size
            self.sampler = sampler
            self.batch_sampler = batch_sampler
        if collate_fn is None:
            batching = self.batch_size is not None or self.batch_sampler is not None
            collate_fn = default_collate if batching else default_convert
        self.collate_fn = collate_fn

    def __iter__(self) -> Iterator:
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
            return
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        fetch = _batch_fetcher(self.dataset) if self.collate_fn is default_collate else None
        batches = (self.batch_sampler._arrays() if isinstance(self.batch_sampler, BatchSampler)
                   else self.batch_sampler)
        for indices in batches:
            if fetch is not None:
                yield fetch(np.asarray(indices, dtype=np.int64))
            else:
                if isinstance(indices, np.ndarray):
                    indices = indices.tolist()
                yield self.collate_fn([self.dataset[i] for i in indices])

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _resumable(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def state_dict(self) -> dict:
        """Where the loader is: ``{"sampler": ...}`` with the epoch counter, the epoch's order
        (a ``permutation`` int64 array when shuffling) and the number of indices already handed
        out (``position``). Take it between batches; ``load_state_dict`` continues from there.

        Example:
            >>> loader = DataLoader(list(range(6)), batch_size=2, shuffle=True)
            >>> it = iter(loader); first = next(it)
            >>> state = loader.state_dict()
            >>> state["sampler"]["position"]
            2
        """
        owner = self._resumable()
        return {"sampler": owner.state_dict() if isinstance(owner, Sampler) else {}}

    def load_state_dict(self, state: dict) -> None:
        """Make the next ``iter(loader)`` continue the saved epoch at the saved position.

        Args:
            state: what ``state_dict`` returned.
        """
        owner = self._resumable()
        if isinstance(owner, Sampler):
            owner.load_state_dict(state.get("sampler", {}))
