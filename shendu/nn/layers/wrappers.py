"""Layer wrappers: ``TimeDistributed`` applies one layer to every step of a sequence."""

from __future__ import annotations

import numpy as np

from ... import functional as _f
from ...tensor import Tensor, as_tensor_data
from ..module import Module
from .base import Layer

__all__ = ["TimeDistributed"]


def _fold(shape) -> tuple:
    """(batch, time, *rest) -> (batch * time, *rest), None where a size is unknown."""
    n, t = shape[0], shape[1]
    return (None if n is None or t is None else n * t,) + tuple(shape[2:])


class TimeDistributed(Layer):
    """Apply ``layer`` to every time step of a (batch, time, ...) input, with the same weights.

    The time axis is folded into the batch, so the wrapped layer runs once on
    (batch * time, ...) and its output is unfolded to (batch, time, ...): one GEMM for a
    ``Dense``, not one per step. Layers whose statistics span the batch (batch
    normalization) therefore see every step of every sample together.

    Keras masks pass through: the time mask of the input is the output's, unless the wrapped
    layer makes its own (an ``Embedding(mask_zero=True)`` over (batch, time, words)).

    Args:
        layer: the layer to apply at each step (a Keras-style ``Layer`` or any ``Module``
            mapping (N, ...) to (N, ...)).

    Shape:
        (batch, time, *in) -> (batch, time, *out), where the layer maps (N, *in) -> (N, *out).

    Example:
        >>> model = Sequential([LSTM(32, return_sequences=True, input_shape=(10, 8)),
        ...                     TimeDistributed(Dense(5, activation="softmax"))])
    """

    consumes_mask = True

    def __init__(self, layer: Module, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Module):
            raise TypeError(f"TimeDistributed '{self.name}' wraps a layer (Module), got "
                            f"{type(layer).__name__}: {layer!r}")
        self.layer = layer
        if self.input_shape_declared is not None:
            self.build((None,) + self.input_shape_declared)

    def _check_rank(self, shape) -> None:
        if len(shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}' expects inputs (batch, time, ...) "
                             f"with at least 3 dimensions, got shape {tuple(shape)}")

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        inner = self.layer
        if isinstance(inner, Layer) and not inner.built:
            inner.build(_fold(input_shape))
            inner.built = True
            if not inner.trainable:
                inner.requires_grad_(False)
        self.built = True

    @staticmethod
    def _inner_mask(mask, n: int, t: int):
        """A mask with more than the time axis, folded like the input; else None."""
        if mask is None:
            return None
        m = np.asarray(as_tensor_data(mask), dtype=bool)
        return m.reshape((n * t,) + m.shape[2:]) if m.ndim > 2 else None

    def forward(self, x, mask=None):
        self._check_rank(x.shape)
        n, t = x.shape[0], x.shape[1]
        kwargs = {}
        inner_mask = self._inner_mask(mask, n, t)
        if inner_mask is not None and getattr(self.layer, "consumes_mask", False):
            kwargs["mask"] = inner_mask
        y = self.layer(_f.reshape(x, (n * t,) + tuple(x.shape[2:])), **kwargs)
        if not isinstance(y, Tensor):
            raise TypeError(f"TimeDistributed '{self.name}': the wrapped layer "
                            f"{type(self.layer).__name__} returned {type(y).__name__}; it "
                            "must return one tensor")
        return _f.reshape(y, (n, t) + tuple(y.shape[1:]))

    def compute_mask(self, x, mask=None):
        n, t = x.shape[0], x.shape[1]
        inner_fn = getattr(self.layer, "compute_mask", None)
        if inner_fn is not None:
            data = as_tensor_data(x)
            inner = inner_fn(data.reshape((n * t,) + tuple(data.shape[2:])),
                             self._inner_mask(mask, n, t))
            if inner is not None:
                inner = np.asarray(as_tensor_data(inner), dtype=bool)
                return inner.reshape((n, t) + inner.shape[1:])
        if mask is None:
            return None
        m = np.asarray(as_tensor_data(mask), dtype=bool)
        return m.reshape(m.shape[:2] + (-1,)).any(axis=-1) if m.ndim > 2 else m

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        inner_fn = getattr(self.layer, "compute_output_shape", None)
        if inner_fn is None:
            raise NotImplementedError(f"TimeDistributed '{self.name}': the wrapped "
                                      f"{type(self.layer).__name__} has no "
                                      "compute_output_shape")
        inner = tuple(inner_fn(_fold(input_shape)))
        return tuple(input_shape[:2]) + inner[1:]

    def get_config(self) -> dict:
        """The wrapped layer is stored as ``{"class_name", "config"}``; rebuilding it from a
        file goes through the model serializer's closed registry."""
        get_config = getattr(self.layer, "get_config", None)
        if get_config is None:
            raise TypeError(f"TimeDistributed '{self.name}': the wrapped "
                            f"{type(self.layer).__name__} has no get_config, so it cannot "
                            "be saved as a configuration")
        return {**super().get_config(),
                "layer": {"class_name": type(self.layer).__name__, "config": get_config()}}
