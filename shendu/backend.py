"""Array backends, devices and the default dtype.

This is the only module that knows CuPy exists. Everything else asks it for the array module of
some data (``array_module``) or of a device (``Device.xp``) and writes code against that module,
so the same op runs on NumPy arrays (CPU) and CuPy arrays (CUDA GPU).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Device",
    "device",
    "array_module",
    "get_default_dtype",
    "set_default_dtype",
    "cuda_available",
    "as_dtype",
]

try:  # optional: CuPy runs the same code on a GPU
    import cupy as _cupy  # type: ignore[import-not-found]

    try:
        _CUDA_OK = _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CuPy installed without a usable GPU
        _CUDA_OK = False
except ImportError:
    _cupy = None
    _CUDA_OK = False

_default_dtype = np.dtype(np.float32)


def _tune_allocator() -> bool:
    """Keep freed array memory in the process instead of returning it to the OS at once.

    glibc serves blocks above 128 KiB with a fresh mmap and unmaps them on free, so every
    large temporary (a GEMM output, an activation) comes back as zero-filled pages that fault
    on first touch. Measured on a dense forward+backward (bench/overhead.py, 128x784 @ 784x256)
    this made the step take 1.46-1.78 ms against 0.97 ms with the heap kept: raising the mmap
    threshold to glibc's maximum (32 MiB) and the trim threshold removes that cost, the same
    reason PyTorch caches its allocations. Peak memory is unchanged; memory freed after the
    peak is reused by the process rather than returned. No effect off glibc.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)
        ok &= libc.mallopt(m_trim_threshold, 512 * 1024 * 1024)
        return bool(ok)
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False


ALLOCATOR_TUNED = _tune_allocator()


def cuda_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return _CUDA_OK


def array_module(data):
    """The array module (numpy or cupy) that owns ``data``."""
    if _cupy is not None and isinstance(data, _cupy.ndarray):
        return _cupy
    return np


def get_default_dtype() -> np.dtype:
    """The floating dtype new tensors get from Python floats (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the floating dtype used for tensors made from Python floats."""
    global _default_dtype
    d = as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype expects a floating dtype, got {d}")
    _default_dtype = d


_DTYPE_ALIASES = {
    "float": np.float32,
    "float32": np.float32,
    "float64": np.float64,
    "double": np.float64,
    "float16": np.float16,
    "half": np.float16,
    "int": np.int32,
    "int32": np.int32,
    "int64": np.int64,
    "long": np.int64,
    "int16": np.int16,
    "int8": np.int8,
    "uint8": np.uint8,
    "bool": np.bool_,
}


def as_dtype(dtype) -> np.dtype:
    """Turn a dtype spelled any usual way ("float32", np.float32, shendu.float32) into np.dtype."""
    if isinstance(dtype, str):
        key = dtype.replace("torch.", "")
        if key not in _DTYPE_ALIASES:
            raise TypeError(f"unknown dtype {dtype!r}; expected one of {sorted(_DTYPE_ALIASES)}")
        return np.dtype(_DTYPE_ALIASES[key])
    if dtype is bool:
        return np.dtype(np.bool_)
    if dtype is float:
        return _default_dtype
    if dtype is int:
        return np.dtype(np.int64)
    return np.dtype(dtype)


class Device:
    """A place where tensor data lives: ``Device("cpu")`` or ``Device("cuda")`` / ``"cuda:1"``."""

    __slots__ = ("type", "index")

    def __init__(self, spec: str | Device = "cpu", index: int | None = None):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device expects a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {spec!r}; expected 'cpu', 'cuda' or 'cuda:N'")
        self.type = kind
        self.index = int(idx) if idx else index

    @property
    def xp(self):
        """The array module for this device; asking for CUDA without a GPU is a clear error."""
        if self.type == "cpu":
            return np
        if not _CUDA_OK:
            raise RuntimeError(
                f"device {self} requested but CUDA is not available "
                "(install CuPy and check that a GPU is visible), or use device='cpu'"
            )
        return _cupy

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = Device(other)
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            ")" if self.index is None else f", index={self.index})"
        )


def device(spec: str | Device = "cpu", index: int | None = None) -> Device:
    """Torch-style constructor: ``shendu.device("cpu")``."""
    return Device(spec, index)


def device_of(data) -> Device:
    """The device on which ``data`` lives."""
    if _cupy is not None and isinstance(data, _cupy.ndarray):
        return Device("cuda", data.device.id)
    return Device("cpu")


def to_device(data, dev: Device):
    """Copy ``data`` onto ``dev`` (no copy when it is already there)."""
    if dev.type == "cpu":
        if _cupy is not None and isinstance(data, _cupy.ndarray):
            return _cupy.asnumpy(data)
        return data
    xp = dev.xp
    with xp.cuda.Device(dev.index or 0):
        return xp.asarray(data)
