"""Normalization layers: BatchNorm1d/2d (PyTorch), BatchNormalization (Keras), LayerNorm,
GroupNorm. Running statistics are buffers: saved with the weights, not learned."""

from __future__ import annotations

import numpy as np

from ...backend import get_default_dtype
from ...errors import ShapeError
from ...tensor import Tensor
from .. import functional_conv as FC
from ..parameter import Parameter
from .base import Layer

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNormalization", "LayerNorm", "GroupNorm",
           "LayerNormalization"]


class _BatchNorm(Layer):
    expected_dims: tuple = (2, 3)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, **kwargs):
        super().__init__(**kwargs)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = dtype or get_default_dtype()
        c = self.num_features
        self.weight = Parameter(np.ones(c, dt)) if affine else None
        self.bias = Parameter(np.zeros(c, dt)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(c, dt)))
            self.register_buffer("running_var", Tensor(np.ones(c, dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), np.int64)))
        else:
            self.running_mean = self.running_var = None

    def forward(self, x):
        if x.ndim not in self.expected_dims or x.shape[1] != self.num_features:
            raise self._shape_error(x)
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
        return FC.batch_norm(x, self.running_mean if self.track_running_stats else None,
                             self.running_var if self.track_running_stats else None,
                             self.weight, self.bias, use_batch, self.momentum, self.eps, axis=1)

    def _shape_error(self, x) -> ShapeError:
        shape, c = tuple(x.shape), self.num_features
        want = " or ".join(f"(N, {c}" + ", L" * (n - 2) + ")" if n < 4 else f"(N, {c}, H, W)"
                           for n in self.expected_dims)
        if x.ndim not in self.expected_dims:
            fit = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d"}.get(x.ndim)
            hint = f"use {fit}({c}) for {x.ndim}-D inputs" if fit else ""
            return ShapeError(self, f"expects inputs with "
                              f"{' or '.join(map(str, self.expected_dims))} dimensions {want}, "
                              f"got shape {shape}", want, shape, hint)
        if shape[-1] == c and x.ndim > 2:
            hint = ("the channels seem to be on the last axis (channels-last data): this layer "
                    "normalizes axis 1 (N, C, ...); transpose the input")
        else:
            hint = (f"num_features={shape[1]} would fit this input: "
                    f"{type(self).__name__}({shape[1]}); or check the previous layer")
        return ShapeError(self, f"expected {c} channels on axis 1, i.e. input of shape {want}, "
                          f"got shape {shape}", want, shape, hint)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"

    def get_config(self) -> dict:
        return {**super().get_config(), "num_features": self.num_features, "eps": self.eps,
                "momentum": self.momentum, "affine": self.affine,
                "track_running_stats": self.track_running_stats}


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L)."""

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) per channel."""

    expected_dims = (4,)


class BatchNormalization(Layer):
    """Keras's batch normalization over ``axis`` (default -1, channels-last).

    Keras's ``momentum`` is the weight of the OLD statistics (0.99), PyTorch's the weight of
    the new batch (0.1): ``momentum=0.99`` here means new = 0.99 * old + 0.01 * batch.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = center, scale
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.gamma = self.beta = None
        if self.input_shape_declared is not None:
            self.build((None,) + self.input_shape_declared)

    def build(self, input_shape) -> None:
        c = input_shape[self.axis]
        if c is None:
            raise ValueError(f"BatchNormalization '{self.name}': axis {self.axis} of the input "
                             f"shape {input_shape} must be known")
        dt = get_default_dtype()
        self.num_features = int(c)
        # add_weight: frozen when trainable=False, also when built from input_shape= in __init__
        if self.scale:
            self.gamma = self.add_weight((c,), self.gamma_initializer)
        if self.center:
            self.beta = self.add_weight((c,), self.beta_initializer)
        self.register_buffer("moving_mean", Tensor(np.zeros(c, dt)))
        self.register_buffer("moving_variance", Tensor(np.ones(c, dt)))
        self.built = True

    def forward(self, x):
        ax = self.axis % x.ndim
        if x.shape[ax] != self.num_features:
            shape = tuple(x.shape)
            hint = ("the features seem to be on axis 1 (channels-first data): pass axis=1"
                    if x.ndim > 2 and shape[1] == self.num_features else
                    "check the previous layer (this layer was built by its first call or "
                    "input_shape)")
            raise ShapeError(self, f"expected {self.num_features} features on axis "
                             f"{self.axis}, got input of shape {shape}", None, shape, hint)
        return FC.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                             self.training, 1.0 - self.momentum, self.epsilon, axis=ax,
                             unbiased_running=False)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale}


class LayerNorm(Layer):
    """Normalize over the last dimensions ``normalized_shape`` (PyTorch)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None, **kwargs):
        super().__init__(**kwargs)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
            normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        dt = dtype or get_default_dtype()
        self.weight = Parameter(np.ones(shape, dt)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, dt)) if elementwise_affine and bias else None

    def forward(self, x):
        k = len(self.normalized_shape)
        if tuple(x.shape[x.ndim - k:]) != self.normalized_shape:
            want = "(*, " + ", ".join(map(str, self.normalized_shape)) + ")"
            raise ShapeError(self, f"expected input of shape {want} (ending with "
                             f"normalized_shape {self.normalized_shape}), got shape "
                             f"{tuple(x.shape)}", want, tuple(x.shape),
                             f"LayerNorm({x.shape[-1]}) would fit the last axis of this input"
                             if x.ndim else "")
        return FC.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def get_config(self) -> dict:
        return {**super().get_config(), "normalized_shape": list(self.normalized_shape),
                "eps": self.eps, "elementwise_affine": self.elementwise_affine}


class LayerNormalization(Layer):
    """Keras's layer normalization over ``axis`` (default the last)."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, epsilon, center, scale
        if self.input_shape_declared is not None:
            self.build((None,) + self.input_shape_declared)

    def build(self, input_shape) -> None:
        if self.axis not in (-1, len(input_shape) - 1):
            raise NotImplementedError("LayerNormalization supports the last axis only")
        c = int(input_shape[-1])
        self.gamma = self.add_weight((c,), "ones") if self.scale else None
        self.beta = self.add_weight((c,), "zeros") if self.center else None
        self.built = True

    def forward(self, x):
        return FC.layer_norm(x, x.shape[-1], self.gamma, self.beta, self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}


class GroupNorm(Layer):
    """Normalize channels in ``num_groups`` groups (N, C, ...)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None, **kwargs):
        super().__init__(**kwargs)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} is not divisible by "
                             f"num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, \
            eps, affine
        dt = dtype or get_default_dtype()
        self.weight = Parameter(np.ones(num_channels, dt)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, dt)) if affine else None

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            want = f"(N, {self.num_channels}, *)"
            raise ShapeError(self, f"expected {self.num_channels} channels on axis 1, i.e. "
                             f"input of shape {want}, got shape {tuple(x.shape)}", want,
                             tuple(x.shape), "check the previous layer")
        return FC.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_groups": self.num_groups,
                "num_channels": self.num_channels, "eps": self.eps, "affine": self.affine}
