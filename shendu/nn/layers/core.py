"""Core layers: Linear (PyTorch) and Dense (Keras), Flatten, Dropout, Identity, Input, Lambda."""

from __future__ import annotations

import math

import numpy as np

from ... import functional as _f
from ...backend import get_default_dtype
from ...errors import ShapeError
from ...ops import fused
from .. import activations
from .. import functional as F
from .. import init as _init
from ..module import Module
from ..parameter import Parameter
from .base import Layer

__all__ = ["Linear", "Dense", "Flatten", "Dropout", "Identity", "InputLayer", "Input",
           "Lambda", "Activation"]


def _features_error(layer, expected: int, x) -> ShapeError:
    """Linear/Dense got a last dimension other than ``expected``; guess why."""
    shape = tuple(x.shape)
    kind = type(layer).__name__
    want = ("(*, " if kind == "Linear" else "(batch, " + ("..., " if len(shape) > 2 else "")) \
        + f"{expected})"
    per_sample = int(np.prod(shape[1:])) if len(shape) > 1 else None
    if len(shape) > 2 and per_sample == expected:
        hint = (f"the input has {len(shape)} dimensions: add a Flatten layer before it (it "
                f"would then have {per_sample} features, which fits)")
    elif len(shape) > 2:
        hint = (f"the input has {len(shape)} dimensions: add a Flatten layer before it (it "
                f"would then have {per_sample} features"
                + (f": use in_features={per_sample})" if kind == "Linear" else
                   "; check the previous layers)"))
    elif kind == "Linear" and shape:
        hint = (f"in_features={shape[-1]} would fit this input: nn.Linear({shape[-1]}, "
                f"{layer.out_features}); or check the previous layer")
    else:
        hint = (f"check the previous layer (this layer was built for {expected} features by "
                "its first call or input_shape)")
    return ShapeError(layer, f"expected input of shape {want} ({expected} features in the "
                      f"last dimension), got shape {shape}", want, shape, hint)


class Linear(Module):
    """y = x W^T + b (PyTorch's layout: weight is (out_features, in_features)).

    Args:
        in_features: size of the last input dimension.
        out_features: size of the output.
        bias: learn an additive bias.

    Shape:
        (*, in_features) -> (*, out_features)

    Example:
        >>> fc = Linear(784, 10)
        >>> fc(shendu.randn(32, 784)).shape
        (32, 10)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear needs positive sizes, got in_features={in_features}, "
                             f"out_features={out_features}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dt = dtype or get_default_dtype()
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)  # listed like torch's, so it can be set later
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
        bound = 1.0 / math.sqrt(self.in_features)
        _init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            _init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.shape[-1:] != (self.in_features,):
            raise _features_error(self, self.in_features, x)
        return fused.Linear.apply(x, self.weight, self.bias, w_layout="out_in")

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

    def get_config(self) -> dict:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None}


class Dense(Layer):
    """Keras's densely connected layer: ``activation(x @ kernel + bias)``.

    The input size is learned on the first call (or from ``input_shape``).

    Args:
        units: output size.
        activation: name or callable ("relu", "softmax", ...); None is linear.
        use_bias: learn a bias.
        kernel_initializer, bias_initializer: Keras initializer names or objects.

    Shape:
        (*, in) -> (*, units)

    Example:
        >>> Dense(64, activation="relu", input_shape=(784,))
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"Dense '{self.name}': units must be a positive integer, got "
                             f"{units!r}")
        self.units = int(units)
        self._kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, activity_regularizer,
                             kernel_constraint, bias_constraint)
        if self.input_shape_declared is not None:
            self.build((None,) + self.input_shape_declared)
            self.built = True

    def build(self, input_shape) -> None:
        n_in = input_shape[-1]
        if n_in is None:
            raise ValueError(f"Dense '{self.name}': the last input dimension must be known, "
                             f"got input shape {input_shape}")
        self.in_features = int(n_in)
        self.kernel = self.add_weight((self.in_features, self.units), self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer)
        self.built = True

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise _features_error(self, self.in_features, x)
        if self.activation_name == "relu":  # bias + ReLU fused into the GEMM's output
            return fused.Linear.apply(x, self.kernel, self.bias, w_layout="in_out",
                                      activation="relu")
        y = fused.Linear.apply(x, self.kernel, self.bias, w_layout="in_out")
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def extra_repr(self) -> str:
        return f"units={self.units}, activation={self.activation_name}"

    def get_config(self) -> dict:
        cfg = super().get_config()
        cfg.update(units=self.units, activation=self.activation_name, use_bias=self.use_bias)
        return cfg


class Flatten(Layer):
    """Flatten dimensions ``start_dim..end_dim`` (default: all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        if not -x.ndim <= self.start_dim < max(x.ndim, 1):
            want = "(batch, ...)" if self.start_dim == 1 else f"({self.start_dim + 1}+ dims)"
            raise ShapeError(self, f"flattens axes {self.start_dim}..{self.end_dim}, so it "
                             f"expects inputs with more than {self.start_dim} dimensions "
                             f"{want}, got shape {tuple(x.shape)}", want, tuple(x.shape),
                             "the input is already flat: drop this Flatten, or add the batch "
                             "axis (x[None]) for a single sample")
        return _f.flatten(x, self.start_dim, self.end_dim)

    def compute_output_shape(self, input_shape):
        s, e = self.start_dim % len(input_shape), self.end_dim % len(input_shape)
        mid = input_shape[s:e + 1]
        n = None if any(d is None for d in mid) else int(np.prod(mid))
        return tuple(input_shape[:s]) + (n,) + tuple(input_shape[e + 1:])

    def get_config(self) -> dict:
        cfg = super().get_config()
        cfg.update(start_dim=self.start_dim, end_dim=self.end_dim)
        return cfg


class Dropout(Layer):
    """Randomly zero a fraction of inputs during training (inverted dropout).

    Args:
        p: probability of dropping (PyTorch's name); ``rate`` is the Keras spelling.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, rate: float | None = None,
                 noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        p = rate if rate is not None else p
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout '{self.name}': rate must be in [0, 1], got {p}")
        self.p = float(p)
        from ...random import Generator

        self.generator = Generator(seed) if seed is not None else None

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def get_config(self) -> dict:
        cfg = super().get_config()
        cfg.update(p=self.p)
        return cfg


class Identity(Layer):
    """Returns its input unchanged (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__(name=kwargs.pop("name", None))

    def forward(self, x):
        return x

    def get_config(self) -> dict:
        return {"name": self.name}


class Activation(Layer):
    """Applies an activation by name: ``Activation("relu")``."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation_name = activations.serialize(activation)
        self.fn = activations.get(activation)

    def forward(self, x):
        return self.fn(x)

    def extra_repr(self) -> str:
        return repr(self.activation_name)

    def get_config(self) -> dict:
        cfg = super().get_config()
        cfg.update(activation=self.activation_name)
        return cfg


class InputLayer(Layer):
    """Declares the input shape of a Keras model (no computation)."""

    def __init__(self, input_shape=None, batch_size=None, shape=None, **kwargs):
        super().__init__(input_shape=shape if shape is not None else input_shape, **kwargs)
        if self.input_shape_declared is None:
            raise ValueError("InputLayer needs shape= (the input shape without the batch)")
        self.batch_size = batch_size

    def forward(self, x):
        expected = self.input_shape_declared
        got = tuple(x.shape[1:])
        if len(got) != len(expected) or any(e is not None and e != g
                                            for e, g in zip(expected, got)):
            raise ValueError(f"Input '{self.name}' expects samples of shape {expected}, got a "
                             f"batch of shape {tuple(x.shape)}")
        return x

    def get_config(self) -> dict:
        return {"name": self.name, "input_shape": list(self.input_shape_declared)}


def Input(shape=None, batch_size=None, name=None, dtype=None, **kwargs) -> InputLayer:
    """Keras's ``Input(shape=(784,))``: usable as the first element of a Sequential."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, **kwargs)


class Lambda(Layer):
    """Wrap a function of tensors as a layer (not saved with the model's configuration)."""

    def __init__(self, function, **kwargs):
        super().__init__(**kwargs)
        self.function = function

    def forward(self, x):
        return self.function(x)

