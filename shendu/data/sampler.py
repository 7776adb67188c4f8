"""Samplers: the order in which a DataLoader visits a dataset.

A sampler yields dataset indices; a ``BatchSampler`` groups them into batches. The samplers that
draw a whole epoch's order at once (``SequentialSampler``, ``RandomSampler``,
``SubsetRandomSampler``, ``WeightedRandomSampler``) keep that order and the position reached in
it, so ``state_dict()`` / ``load_state_dict()`` resume an interrupted epoch exactly, and they hand
batches out as slices of one index array instead of one Python int at a time.

Randomness comes from the ``generator`` passed in or, at the time each epoch starts, from
``shendu.random.default_generator``, so ``shendu.manual_seed(n)`` makes the order reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence, Sized

import numpy as np

from .. import random as _random

__all__ = [
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
]


class Sampler:
    """Base class: an iterable of dataset indices (subclasses define ``__iter__``).

    Example:
        >>> class Reversed(Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(self.n - 1, -1, -1))
        ...     def __len__(self): return self.n
        >>> list(Reversed(3))
        [2, 1, 0]
    """

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def state_dict(self) -> dict:
        """The state needed to resume mid-epoch (empty for samplers without one)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned."""


class _EpochSampler(Sampler):
    """A sampler that draws one epoch's index array at a time and remembers where it is in it.

    Subclasses define ``_draw()`` (the next epoch's indices as an int64 array). ``_pending`` is
    set by ``load_state_dict`` so the next iteration continues the saved epoch instead of drawing
    a new one.
    """

    _random = False  # random samplers save their epoch's order; sequential ones recompute it
    generator = None
    _indices: np.ndarray | None = None
    _position: int = 0
    _epoch: int = 0
    _pending: bool = False

    def _draw(self) -> np.ndarray:
        raise NotImplementedError

    def _begin(self) -> np.ndarray:
        if self._pending:
            self._pending = False
        else:
            self._indices = np.asarray(self._draw(), dtype=np.int64)
            self._position = 0
            self._epoch += 1
        return self._indices

    def __iter__(self) -> Iterator[int]:
        indices = self._begin()
        while self._position < len(indices):
            i = indices[self._position]
            self._position += 1
            yield int(i)

    def _batches(self, batch_size: int, drop_last: bool) -> Iterator[np.ndarray]:
        """The epoch as slices of ``batch_size`` indices (one array per batch, no per-index loop).
        """
        indices = self._begin()
        n = len(indices)
        while self._position < n:
            start, end = self._position, min(self._position + batch_size, n)
            if drop_last and end - start < batch_size:
                self._position = n
                return
            self._position = end
            yield indices[start:end]

    def state_dict(self) -> dict:
        """``epoch`` (epochs started), ``position`` (indices handed out in the current epoch) and,
        for random samplers, ``permutation`` (the current epoch's order, an int64 array) and
        ``generator`` (the state of the sampler's own generator, when it was given one).
        """
        state = {"epoch": self._epoch, "position": self._position}
        if self._random:
            state["permutation"] = None if self._indices is None else self._indices.copy()
            if self.generator is not None:
                state["generator"] = self.generator.get_state()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue the saved epoch from its position on the next iteration.

        Raises:
            ValueError: if the saved order does not fit this sampler's data.
        """
        position = int(state["position"])
        if self._random:
            perm = state.get("permutation")
            indices = None if perm is None else np.asarray(perm, dtype=np.int64)
            if "generator" in state and self.generator is not None:
                self.generator.set_state(state["generator"])
        else:
            indices = self._draw()
        if indices is not None:
            if indices.ndim != 1 or not 0 <= position <= len(indices):
                raise ValueError(f"{type(self).__name__}.load_state_dict: position {position} "
                                 f"does not fit an epoch of {len(indices)} indices")
            if len(indices) and (indices.min() < 0 or indices.max() >= self._bound()):
                raise ValueError(f"{type(self).__name__}.load_state_dict: the saved order has "
                                 f"indices outside [0, {self._bound()}); was it saved for "
                                 "another dataset?")
        self._indices = indices
        self._position = position
        self._epoch = int(state.get("epoch", 0))
        self._pending = indices is not None and position < len(indices)

    def _bound(self) -> int:
        return len(self.data_source)


class SequentialSampler(_EpochSampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    Args:
        data_source: the dataset (only its length is used).

    Example:
        >>> list(SequentialSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized):
        self.data_source = data_source

    def _draw(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_EpochSampler):
    """A fresh random order every epoch.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement (then ``num_samples`` may be anything).
        num_samples: indices per epoch (default ``len(data_source)``); without replacement a
            larger value chains several permutations.
        generator: a ``shendu.random.Generator``; default ``shendu.random.default_generator``.

    Example:
        >>> import shendu
        >>> _ = shendu.manual_seed(0)
        >>> sorted(RandomSampler(range(5))) == [0, 1, 2, 3, 4]
        True
    """

    _random = True

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: _random.Generator | None = None):
        if num_samples is not None and (not isinstance(num_samples, (int, np.integer))
                                        or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive integer, got "
                             f"{num_samples!r}")
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = None if num_samples is None else int(num_samples)
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _draw(self) -> np.ndarray:
        g = self.generator or _random.default_generator
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            return g.integers(0, n, (k,))
        parts = [g.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(g.permutation(n)[: k % n])
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_EpochSampler):
    """The given indices, in a fresh random order every epoch.

    Args:
        indices: the dataset indices to visit.
        generator: a ``shendu.random.Generator``; default ``shendu.random.default_generator``.

    Example:
        >>> sorted(SubsetRandomSampler([4, 7, 9]))
        [4, 7, 9]
    """

    _random = True

    def __init__(self, indices: Sequence[int], generator: _random.Generator | None = None):
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.generator = generator

    def _draw(self) -> np.ndarray:
        g = self.generator or _random.default_generator
        return self.indices[g.permutation(len(self.indices))]

    def _bound(self) -> int:
        return int(self.indices.max()) + 1 if len(self.indices) else 0

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_EpochSampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``.

    Args:
        weights: one non-negative weight per dataset item (need not sum to one).
        num_samples: indices per epoch.
        replacement: draw with replacement (the usual choice to rebalance classes).
        generator: a ``shendu.random.Generator``; default ``shendu.random.default_generator``.

    Example:
        >>> s = WeightedRandomSampler([0.0, 1.0, 0.0], num_samples=3)
        >>> list(s)
        [1, 1, 1]
    """

    _random = True

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator: _random.Generator | None = None):
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if len(w) == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and "
                             "not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} indices without "
                             f"replacement from {np.count_nonzero(w)} non-zero weights")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = bool(replacement)
        self.generator = generator

    def _draw(self) -> np.ndarray:
        g = self.generator or _random.default_generator
        return g.rng.choice(len(self.weights), size=self.num_samples, replace=self.replacement,
                            p=self.weights / self.weights.sum())

    def _bound(self) -> int:
        return len(self.weights)

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: any iterable of indices (usually a ``Sampler``).
        batch_size: indices per batch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool = False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)

    def __iter__(self) -> Iterator[list]:
        for batch in self._arrays():
            yield batch.tolist() if isinstance(batch, np.ndarray) else batch

    def _arrays(self) -> Iterator:
        """Batches as int64 arrays when the sampler can slice its epoch, else as lists."""
        if isinstance(self.sampler, _EpochSampler):
            yield from self.sampler._batches(self.batch_size, self.drop_last)
            return
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def state_dict(self) -> dict:
        return self.sampler.state_dict() if isinstance(self.sampler, Sampler) else {}

    def load_state_dict(self, state: dict) -> None:
        if isinstance(self.sampler, Sampler):
            self.sampler.load_state_dict(state)
