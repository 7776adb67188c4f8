"""Tensor creation: from data, constants, ranges and the seeded random streams."""

from __future__ import annotations

import numpy as np

from .backend import Device, as_dtype, get_default_dtype, to_device
from .random import default_generator
from .tensor import Tensor, _to_array

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace",
    "eye", "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "full_like",
    "empty_like", "rand_like", "randn_like",
]


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"size must be integers or one tuple of integers, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in size {shape}")
    return shape


def _make(arr, device, requires_grad) -> Tensor:
    if device is not None:
        arr = to_device(arr, Device(device))
    return Tensor(arr, requires_grad=requires_grad)


def _float(dtype) -> np.dtype:
    return get_default_dtype() if dtype is None else as_dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (floats become float32 by default)."""
    arr = _to_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and arr is (data.data if isinstance(data, Tensor)
                                                          else data):
        arr = arr.copy()
    return _make(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array when it can."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return Tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(_shape(size), _float(dtype)), device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.ones(_shape(size), _float(dtype)), device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.empty(_shape(size), _float(dtype)), device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 np.int64 if isinstance(fill_value, int) else get_default_dtype())
    return _make(np.full(_shape((size,)), fill_value, as_dtype(dtype)), device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    return _make(np.arange(start, end, step, dtype=as_dtype(dtype)), device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.linspace(start, end, int(steps), dtype=_float(dtype)), device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.eye(n, m, dtype=_float(dtype)), device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Uniform samples in [0, 1) from the seeded stream."""
    g = generator or default_generator
    return _make(g.uniform(_shape(size), dtype=_float(dtype)), device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Standard normal samples from the seeded stream."""
    g = generator or default_generator
    return _make(g.normal(_shape(size), dtype=_float(dtype)), device, requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None, generator=None) -> Tensor:
    """Integers in [low, high); ``randint(high, size)`` counts from 0 as in PyTorch."""
    if high is None:
        low, high = 0, low
    if isinstance(high, tuple):  # randint(high, size) positional form
        low, high, size = 0, low, high
    g = generator or default_generator
    return _make(g.integers(low, high, _shape((size,)), dtype=as_dtype(dtype or np.int64)),
                 device, False)


def randperm(n: int, device=None, generator=None) -> Tensor:
    g = generator or default_generator
    return _make(g.permutation(int(n)).astype(np.int64), device, False)


def _like(x, dtype):
    d = x.data if isinstance(x, Tensor) else np.asarray(x)
    return d.shape, (d.dtype if dtype is None else as_dtype(dtype))


def zeros_like(x, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(x, dtype)
    return _make(np.zeros(shape, dt), _dev(x), requires_grad)


def ones_like(x, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(x, dtype)
    return _make(np.ones(shape, dt), _dev(x), requires_grad)


def empty_like(x, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(x, dtype)
    return _make(np.empty(shape, dt), _dev(x), requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(x, dtype)
    return _make(np.full(shape, fill_value, dt), _dev(x), requires_grad)


def rand_like(x, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(x, dtype)
    return _make(default_generator.uniform(shape, dtype=dt), _dev(x), requires_grad)


def randn_like(x, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(x, dtype)
    return _make(default_generator.normal(shape, dtype=dt), _dev(x), requires_grad)


def _dev(x):
    if isinstance(x, Tensor) and x.device.type != "cpu":
        return x.device
    return None
