"""What Keras-style layers share: a name, an optional declared input shape, deferred building
and a configuration that can be saved as JSON."""

from __future__ import annotations

import itertools
import re

from ...backend import get_default_dtype
from .. import activations
from .. import init as _init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Layer"]

_counters: dict[str, itertools.count] = {}


def _snake_case(cls_name: str) -> str:
    """Keras's spelling: Dense -> dense, LeakyReLU -> leaky_re_lu, Conv2D -> conv2d."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def _auto_name(cls_name: str) -> str:
    snake = _snake_case(cls_name)
    n = next(_counters.setdefault(snake, itertools.count()))
    return snake if n == 0 else f"{snake}_{n}"


class Layer(Module):
    """Base of layers that build their parameters on the first call (Keras's way).

    Keyword args understood by every layer: ``name``, ``input_shape`` (without the batch
    dimension), ``input_dim``, ``batch_input_shape``, ``dtype`` and ``trainable``.
    Subclasses implement ``build(input_shape)`` (shape includes the batch dimension) and
    ``forward``, and list their constructor arguments in ``get_config``.
    """

    def __init__(self, name: str | None = None, input_shape=None, input_dim=None,
                 batch_input_shape=None, dtype=None, trainable: bool = True, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{sorted(kwargs)}")
        self.name = name or _auto_name(type(self).__name__)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None and input_shape is None:
            input_shape = tuple(batch_input_shape)[1:]
        if isinstance(input_shape, int):
            input_shape = (input_shape,)
        self.input_shape_declared = tuple(input_shape) if input_shape is not None else None
        self.built = False
        self.trainable = trainable
        self.dtype_policy = dtype

    @property
    def trainable(self) -> bool:
        """Keras's switch: ``layer.trainable = False`` freezes its parameters, now or once
        built."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        object.__setattr__(self, "_trainable", bool(value))
        self.requires_grad_(bool(value))

    def add_weight(self, shape, initializer="glorot_uniform", dtype=None) -> Parameter:
        """A new Parameter drawn from a Keras initializer (name or object), frozen when the
        layer is not trainable; ``build`` assigns it to an attribute."""
        p = Parameter(_init.get(initializer)(tuple(shape), dtype or get_default_dtype()))
        return p.requires_grad_(self.trainable)

    def _kernel_options(self, activation, use_bias, kernel_initializer, bias_initializer,
                        kernel_regularizer, bias_regularizer, activity_regularizer,
                        kernel_constraint, bias_constraint) -> None:
        """The arguments every Keras kernel layer (Dense, Conv*) shares; no weights yet."""
        self.activation_name = activations.serialize(activation)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = _init.get(kernel_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.activity_regularizer = activity_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.kernel = None
        self.bias = None

    def build(self, input_shape) -> None:
        self.built = True

    def _maybe_build(self, x) -> None:
        if not self.built:
            self.build(tuple(x.shape))
            self.built = True
            if not self.trainable:
                self.requires_grad_(False)

    def __call__(self, *args, **kwargs):
        if not self.built and args and hasattr(args[0], "shape"):
            self._maybe_build(args[0])
        return super().__call__(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape`` (with batch dim, None allowed); default: same."""
        return tuple(input_shape)

    def get_config(self) -> dict:
        cfg = {"name": self.name, "trainable": self.trainable}
        if self.input_shape_declared is not None:
            cfg["input_shape"] = list(self.input_shape_declared)
        return cfg

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def weights(self):
        return list(self.parameters())

    @property
    def trainable_weights(self):
        return [p for p in self.parameters() if p.requires_grad]

    def get_weights(self):
        return [p.numpy().copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        params = list(self.parameters())
        if len(weights) != len(params):
            raise ValueError(f"layer '{self.name}' has {len(params)} weights, got {len(weights)}")
        for p, w in zip(params, weights):
            if tuple(p.shape) != tuple(w.shape):
                raise ValueError(f"layer '{self.name}': weight shape {tuple(p.shape)} vs "
                                 f"given {tuple(w.shape)}")
            p.data[...] = w
