"""shendu (深度): a deep learning framework written from scratch on NumPy.

The top level is the torch-like surface: ``Tensor``, creation functions, math functions,
``no_grad``, ``manual_seed`` and the subpackages.

Example:
    >>> import shendu
    >>> x = shendu.randn(4, 3, requires_grad=True)
    >>> shendu.relu(x).sum().backward()
"""

from __future__ import annotations

import numpy as _np

from . import autograd, backend, ops, random
from .autograd import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .backend import Device, device, get_default_dtype, set_default_dtype
from .creation import *  # noqa: F403
from .creation import __all__ as _creation_all
from .functional import *  # noqa: F403
from .functional import __all__ as _functional_all
from .random import initial_seed, manual_seed, seed
from .tensor import Tensor

__version__ = "0.1.0"

float32 = _np.dtype(_np.float32)
float64 = _np.dtype(_np.float64)
float16 = _np.dtype(_np.float16)
int64 = _np.dtype(_np.int64)
int32 = _np.dtype(_np.int32)
int16 = _np.dtype(_np.int16)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool_ = _np.dtype(_np.bool_)
float = float32  # noqa: A001 - torch spelling: shendu.float is float32
double = float64
long = int64
half = float16


class _Cuda:
    """``shendu.cuda``: CUDA through CuPy when it is installed and a GPU is visible."""

    @staticmethod
    def is_available() -> bool:
        return backend.cuda_available()

    @staticmethod
    def device_count() -> int:
        if not backend.cuda_available():
            return 0
        import cupy

        return cupy.cuda.runtime.getDeviceCount()

    @staticmethod
    def manual_seed(seed: int) -> None:  # one stream serves every device
        random.manual_seed(seed)

    manual_seed_all = manual_seed

    @staticmethod
    def synchronize() -> None:
        if backend.cuda_available():
            import cupy

            cupy.cuda.Device().synchronize()


class _Mps:
    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class _Backends:
    mps = _Mps()


cuda = _Cuda()
backends = _Backends()


_SUBMODULES = ("nn", "optim", "data", "utils", "models", "keras", "io", "metrics", "testing",
               "cli", "checkpoint", "model_selection", "text", "vision", "regularizers",
               "constraints")


def __getattr__(name: str):
    """Subpackages load on first use: ``import shendu as torch; torch.nn``, ``tf.keras``."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in ("save", "load"):
        return getattr(importlib.import_module(f"{__name__}.io"), name)
    raise AttributeError(f"module 'shendu' has no attribute {name!r}")


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def numel(x) -> int:
    return x.numel()


__all__ = [
    "Tensor", "Device", "device", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "manual_seed", "seed", "initial_seed", "get_default_dtype", "set_default_dtype", "cuda",
    "backends", "is_tensor", "numel", "autograd", "backend", "ops", "random",
    "float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool_",
    "double", "long", "half",
    *_creation_all, *_functional_all,
]
