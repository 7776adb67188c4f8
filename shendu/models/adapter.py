"""Turns what ``fit``/``evaluate``/``predict`` receive (arrays, tensors, DataLoaders) into
batches of (x, y, sample_weight)."""

from __future__ import annotations

import math

import numpy as np

from ..backend import get_default_dtype
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["ArrayBatches", "LoaderBatches", "make_batches", "to_input", "to_target"]


def to_input(x):
    """Model inputs as float tensors (Keras casts integer images to floatx)."""
    d = x.data if isinstance(x, Tensor) else np.asarray(x)
    if d.dtype.kind in "iub" or d.dtype == np.float64 and get_default_dtype() != np.float64:
        d = d.astype(get_default_dtype())
    return Tensor(d)


def to_target(y):
    if y is None:
        return None
    d = y.data if isinstance(y, Tensor) else np.asarray(y)
    if d.dtype == np.float64 and get_default_dtype() != np.float64:
        d = d.astype(get_default_dtype())
    elif d.dtype.kind in "iu" and d.dtype != np.int64:
        d = d.astype(np.int64)
    return Tensor(d)


def _array(v):
    if v is None:
        return None
    return v.numpy() if isinstance(v, Tensor) else np.asarray(v)


class ArrayBatches:
    """Batches of in-memory arrays; shuffled with the seeded stream at each epoch."""

    def __init__(self, x, y=None, sample_weight=None, batch_size: int = 32,
                 shuffle: bool = False):
        self.x, self.y, self.sw = _array(x), _array(y), _array(sample_weight)
        if self.x is None or self.x.ndim == 0:
            raise ValueError("expected input data x as an array with a batch dimension")
        n = len(self.x)
        for name, v in (("y", self.y), ("sample_weight", self.sw)):
            if v is not None and len(v) != n:
                raise ValueError(f"x has {n} samples but {name} has {len(v)}; they must match")
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) \
                or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.n, self.batch_size, self.shuffle = n, int(batch_size), shuffle
        self._order, self._position, self._resume = None, 0, None

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def first_input(self):
        """A one-sample batch, to build a model's deferred layers before training."""
        return self.x[:1]

    def state_dict(self) -> dict:
        """The current epoch's order (when shuffling) and how many samples it has handed out."""
        return {"order": None if self._order is None else self._order.copy(),
                "position": self._position}

    def load_state_dict(self, state: dict) -> None:
        """Make the next pass continue the saved epoch: same order, from the saved position."""
        order, position = state.get("order"), int(state.get("position", 0))
        if order is not None:
            order = np.asarray(order, dtype=np.int64)
            if order.shape != (self.n,) or not np.array_equal(np.sort(order),
                                                              np.arange(self.n)):
                raise ValueError(f"the saved data order is not a permutation of this data's "
                                 f"{self.n} samples; the backup belongs to other data")
        if not 0 <= position <= self.n:
            raise ValueError(f"the saved data position {position} is outside 0..{self.n}")
        # a finished epoch leaves nothing to continue: the next pass draws a new order
        self._resume = (order, position) if position < self.n else None

    def __iter__(self):
        if self._resume is not None:  # continue a saved epoch without drawing a new order
            order, first = self._resume
            self._resume = None
        else:
            order = default_generator.permutation(self.n) if self.shuffle else None
            first = 0
        self._order = order
        for start in range(first, self.n, self.batch_size):
            self._position = min(start + self.batch_size, self.n)
            sl = slice(start, start + self.batch_size)
            idx = order[sl] if order is not None else sl
            x = to_input(self.x[idx])
            y = to_target(self.y[idx]) if self.y is not None else None
            sw = self.sw[idx] if self.sw is not None else None
            yield x, y, sw


class LoaderBatches:
    """Batches from a DataLoader (or any iterable of (x, y[, sample_weight]) batches)."""

    def __init__(self, loader):
        self.loader = loader

    def state_dict(self) -> dict:
        if not hasattr(self.loader, "state_dict"):
            raise TypeError(f"cannot back up the position of a {type(self.loader).__name__}: "
                            "exact resume needs a shendu DataLoader (it has state_dict()) or "
                            "arrays")
        return {"loader": self.loader.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.loader.load_state_dict(state["loader"])

    def __len__(self) -> int:
        try:
            return len(self.loader)
        except TypeError:
            return 0

    def first_input(self):
        """The first batch's inputs, or None for a one-shot iterator (peeking would lose it)."""
        if iter(self.loader) is self.loader:
            return None
        for x, _, _ in self:
            return x
        return None

    def __iter__(self):
        for batch in self.loader:
            if isinstance(batch, (tuple, list)):
                x = to_input(batch[0])
                y = to_target(batch[1]) if len(batch) > 1 else None
                sw = _array(batch[2]) if len(batch) > 2 else None
            else:
                x, y, sw = to_input(batch), None, None
            yield x, y, sw


def make_batches(x, y=None, sample_weight=None, batch_size=None, shuffle=False):
    if hasattr(x, "__iter__") and not isinstance(x, (np.ndarray, Tensor, list, tuple)):
        if y is not None:
            raise ValueError("when x is a DataLoader/iterable, y must be None (the loader "
                             "yields (x, y) batches)")
        return LoaderBatches(x)
    return ArrayBatches(x, y, sample_weight, 32 if batch_size is None else batch_size, shuffle)
