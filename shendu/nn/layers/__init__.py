"""Layers, one file per family; PyTorch and Keras forms share the same ops."""

from .activation import *  # noqa: F403
from .activation import __all__ as _act
from .base import Layer
from .core import *  # noqa: F403
from .core import __all__ as _core

__all__ = ["Layer", *_core, *_act]
