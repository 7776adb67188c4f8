"""Activation functions by name, for ``Dense(64, activation="relu")`` and ``Activation(...)``."""

from __future__ import annotations

from collections.abc import Callable

from .. import functional as _f
from . import functional as F

__all__ = ["get", "serialize", "ACTIVATIONS"]


def _linear(x):
    return x


def _softsign(x):
    return x / (_f.abs(x) + 1.0)


def _hard_sigmoid(x):
    return _f.clip(x * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def _swish(x):
    return x * _f.sigmoid(x)


def _leaky_relu(x, negative_slope=0.2):  # Keras's default slope (PyTorch's F: 0.01)
    return _f.leaky_relu(x, negative_slope)


ACTIVATIONS: dict[str, Callable] = {
    "linear": _linear,
    "relu": _f.relu,
    "sigmoid": _f.sigmoid,
    "tanh": _f.tanh,
    "softmax": lambda x: _f.softmax(x, axis=-1),
    "log_softmax": lambda x: _f.log_softmax(x, axis=-1),
    "elu": _f.elu,
    "selu": F.selu,
    "gelu": _f.gelu,
    "softplus": _f.softplus,
    "softsign": _softsign,
    "swish": _swish,
    "silu": _swish,
    "leaky_relu": _leaky_relu,
    "relu6": F.relu6,
    "exponential": _f.exp,
    "hard_sigmoid": _hard_sigmoid,
}


def get(identifier) -> Callable:
    """Resolve an activation: a name, None (linear) or a callable on tensors."""
    if identifier is None:
        return _linear
    if isinstance(identifier, str):
        fn = ACTIVATIONS.get(identifier.lower())
        if fn is None:
            raise ValueError(f"unknown activation {identifier!r}; expected one of "
                             f"{sorted(ACTIVATIONS)} or a callable")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name or a callable, got {type(identifier).__name__}")


def serialize(fn) -> str | None:
    """The name of an activation (for saving a model's configuration)."""
    if fn is None or fn is _linear:
        return "linear"
    if isinstance(fn, str):
        return fn
    for name, f in ACTIVATIONS.items():
        if f is fn:
            return name
    return None
