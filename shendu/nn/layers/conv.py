"""Convolution layers: PyTorch forms (NCHW, sizes given) and Keras forms (channels-last by
default, input channels learned on the first call). Both call the same ``ops.conv`` kernels."""

from __future__ import annotations

import math

import numpy as np

from ...backend import get_default_dtype
from ...errors import ShapeError
from .. import functional_conv as FC
from .. import init as _init
from ..module import Module
from ..parameter import Parameter
from .base import Layer

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "Conv1D", "Conv2D", "Conv2DTranspose",
           "DepthwiseConv2D"]


class _Shape:
    """Stands in for an input where only its shape is known (``build(input_shape)``)."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.ndim = len(self.shape)


def _pair(v):
    return (int(v), int(v)) if not isinstance(v, (tuple, list)) else tuple(int(a) for a in v)


def _layout_shape(layout: str, rank: int, channels) -> str:
    """The expected input shape in words: (N, 3, H, W), (N, H, W, 3), (N, 3, L), (N, L, 3)."""
    spatial = {1: "L", 2: "H, W", 3: "D, H, W"}[rank]
    return f"(N, {channels}, {spatial})" if layout == "NCHW" else f"(N, {spatial}, {channels})"


def _channels_error(layer, expected: int, x, axis: int, layout: str, rank: int = 2):
    """A convolution got the wrong channel count: say whether the layout looks swapped."""
    shape = tuple(x.shape)
    got = shape[axis] if len(shape) > abs(axis) else None
    want = _layout_shape(layout, rank, expected)
    hint = ""
    other = shape[-1] if layout == "NCHW" else (shape[1] if len(shape) > 1 else None)
    if other == expected and got != expected:
        if layout == "NCHW":
            order = ", ".join(["0", str(len(shape) - 1)] + [str(i) for i in
                                                            range(1, len(shape) - 1)])
            fix = " or pass data_format='channels_last'" if hasattr(layer, "data_format") \
                else ""
            hint = ("the channels seem to be on the other axis (channels-last data): this "
                    f"layer expects channels-first {_layout_shape('NCHW', rank, 'C')}; "
                    f"transpose the input, e.g. x.permute({order}){fix}")
        else:
            hint = ("the channels seem to be on the other axis (channels-first data): this "
                    f"layer expects channels-last {_layout_shape('NHWC', rank, 'C')}; "
                    "transpose the input or pass data_format='channels_first'")
    elif hasattr(layer, "in_channels") and got is not None and layout == "NCHW":
        hint = (f"in_channels={got} would fit this input; or check the previous layer")
    return ShapeError(layer, f"expected {expected} input channels on axis {axis}, i.e. input "
                      f"of shape {want}, got shape {shape} ({got} there)", want, shape, hint)


def _rank_error(layer, x, layout: str, rank: int, channels):
    """A convolution got an input with the wrong number of dimensions."""
    shape = tuple(x.shape)
    want = _layout_shape(layout, rank, channels)
    hint = ""
    if len(shape) == rank + 1:
        first = shape[0] if layout == "NCHW" else shape[-1]
        if first == channels:
            hint = ("a single sample without the batch axis? add it: x.unsqueeze(0) or "
                    "x[None]")
        elif layout == "NHWC":
            dims = ", ".join(str(d) for d in shape[1:])
            hint = (f"add the channel axis, e.g. x.reshape(-1, {dims}, 1) for grayscale "
                    "images")
        else:
            hint = "add the channel axis, e.g. x.unsqueeze(1) for grayscale images"
    elif len(shape) == rank + 3 and 1 in shape[:2]:
        hint = "there is an extra axis of size 1: squeeze it"
    c = "" if channels == "C" else f" with C={channels}"
    return ShapeError(layer, f"expects a {rank + 2}-D input {_layout_shape(layout, rank, 'C')}"
                      f"{c} (inputs with {rank + 2} dimensions), got shape {shape}", want, shape,
                      hint)


class _TorchConv(Module):
    """Shared by Conv1d/Conv2d: PyTorch's parameters, init and checks."""

    ndim = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels={in_channels} and "
                             f"out_channels={out_channels} must be divisible by groups={groups}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"padding_mode {padding_mode!r} is not supported yet")
        k = (int(kernel_size),) if self.ndim == 1 and not isinstance(
            kernel_size, (tuple, list)) else _pair(kernel_size)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, k
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        dt = dtype or get_default_dtype()
        self.weight = Parameter(np.empty((out_channels, in_channels // groups) + k, dtype=dt))
        self.bias = Parameter(np.empty((out_channels,), dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
        bound = 1.0 / math.sqrt(fan_in)  # PyTorch: kaiming_uniform_(a=sqrt(5))
        _init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            _init.uniform_(self.bias, -bound, bound)

    def _check(self, x):
        if x.ndim != self.ndim + 2:
            raise _rank_error(self, x, "NCHW", self.ndim, self.in_channels)
        if x.shape[1] != self.in_channels:
            raise _channels_error(self, self.in_channels, x, 1, "NCHW", self.ndim)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")

    def get_config(self) -> dict:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": self.stride,
                "padding": self.padding, "dilation": self.dilation, "groups": self.groups,
                "bias": self.bias is not None}


class Conv2d(_TorchConv):
    """2-D convolution over (N, C_in, H, W).

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, padding ("valid", "same", int or pair), dilation, groups, bias.

    Example:
        >>> conv = Conv2d(1, 32, 3, padding=1)
        >>> conv(shendu.randn(8, 1, 28, 28)).shape
        (8, 32, 28, 28)
    """

    ndim = 2

    def forward(self, x):
        self._check(x)
        return FC.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups)


class Conv1d(_TorchConv):
    """1-D convolution over (N, C_in, L)."""

    ndim = 1

    def forward(self, x):
        self._check(x)
        return FC.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups)


class ConvTranspose2d(Module):
    """Transposed convolution over (N, C_in, H, W); weight (C_in, C_out, kh, kw)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, dtype=None):
        super().__init__()
        if groups != 1:
            raise NotImplementedError("ConvTranspose2d: groups > 1 is not supported yet")
        k = _pair(kernel_size)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, k
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.dilation = dilation
        dt = dtype or get_default_dtype()
        self.weight = Parameter(np.empty((in_channels, out_channels) + k, dtype=dt))
        self.bias = Parameter(np.empty((out_channels,), dtype=dt)) if bias else None
        fan_in = out_channels * k[0] * k[1]  # PyTorch computes fan_in from weight.shape[1:]
        bound = 1.0 / math.sqrt(fan_in)
        _init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            _init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.ndim != 4:
            raise _rank_error(self, x, "NCHW", 2, self.in_channels)
        if x.shape[1] != self.in_channels:
            raise _channels_error(self, self.in_channels, x, 1, "NCHW")
        return FC.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                   self.output_padding, 1, self.dilation)

    def get_config(self) -> dict:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": self.stride,
                "padding": self.padding, "output_padding": self.output_padding,
                "dilation": self.dilation, "bias": self.bias is not None}


class _KerasConv(Layer):
    """Keras conv layers: filters, kernel_size, strides, padding, activation, data_format."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if int(filters) <= 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': filters must be positive, "
                             f"got {filters!r}")
        self.filters = int(filters)
        n = self.rank
        ks = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * n
        self.kernel_size = tuple(int(k) for k in ks)
        st = strides if isinstance(strides, (tuple, list)) else (strides,) * n
        self.strides = tuple(int(s) for s in st)
        dr = dilation_rate if isinstance(dilation_rate, (tuple, list)) else (dilation_rate,) * n
        self.dilation_rate = tuple(int(d) for d in dr)
        if str(padding).lower() not in ("valid", "same"):
            raise ValueError(f"{type(self).__name__} '{self.name}': padding must be 'valid' or "
                             f"'same', got {padding!r}")
        self.padding = str(padding).lower()
        self.data_format = data_format or "channels_last"
        self.layout = FC.layout_of(self.data_format)
        self.groups = int(groups)
        self._kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, activity_regularizer,
                             kernel_constraint, bias_constraint)
        if self.input_shape_declared is not None:
            self.build((None,) + self.input_shape_declared)

    @property
    def channel_axis(self) -> int:
        return -1 if self.layout == "NHWC" else 1

    def build(self, input_shape) -> None:
        if len(input_shape) != self.rank + 2:
            raise _rank_error(self, _Shape(input_shape), self.layout, self.rank, "C")
        c = input_shape[self.channel_axis]
        if c is None or c % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': input channels {c} must be "
                             f"known and divisible by groups={self.groups}")
        self.in_channels = int(c)
        shape = self.kernel_size + (self.in_channels // self.groups, self.filters)
        # add_weight: frozen when trainable=False, also when built from input_shape= in __init__
        self.kernel = self.add_weight(shape, self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer)
        self.built = True

    def _check(self, x):
        if x.ndim != self.rank + 2 or x.shape[self.channel_axis] != self.in_channels:
            if x.ndim != self.rank + 2:
                raise _rank_error(self, x, self.layout, self.rank, self.in_channels)
            raise _channels_error(self, self.in_channels, x, self.channel_axis, self.layout,
                                  self.rank)

    def compute_output_shape(self, input_shape):
        sp_axes = range(1, 1 + self.rank) if self.layout == "NHWC" else range(2, 2 + self.rank)
        out = list(input_shape)
        for i, ax in enumerate(sp_axes):
            n = input_shape[ax]
            if n is None:
                continue
            eff = self.dilation_rate[i] * (self.kernel_size[i] - 1) + 1
            out[ax] = (-(-n // self.strides[i]) if self.padding == "same"
                       else (n - eff) // self.strides[i] + 1)
        out[self.channel_axis] = self.filters
        return tuple(out)

    def get_config(self) -> dict:
        cfg = super().get_config()
        cfg.update(filters=self.filters, kernel_size=list(self.kernel_size),
                   strides=list(self.strides), padding=self.padding,
                   data_format=self.data_format, dilation_rate=list(self.dilation_rate),
                   groups=self.groups, activation=self.activation_name, use_bias=self.use_bias)
        return cfg

    def extra_repr(self) -> str:
        return (f"filters={self.filters}, kernel_size={self.kernel_size}, "
                f"activation={self.activation_name}")


def _keras_conv_layout(layer):
    """Kernel layout for ops.conv: Keras stores (kh, kw, C_in/g, C_out) in both formats."""
    return layer.kernel if layer.layout == "NHWC" else layer.kernel.permute(3, 2, 0, 1)


class Conv2D(_KerasConv):
    """Keras 2-D convolution: ``Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))``.

    Shape:
        channels_last (N, H, W, C) -> (N, H', W', filters)
    """

    rank = 2

    def forward(self, x):
        self._check(x)
        fuse = self.activation_name == "relu"  # bias + ReLU fused into the GEMM's output
        y = FC.conv2d(x, _keras_conv_layout(self), self.bias, self.strides, self.padding,
                      self.dilation_rate, self.groups, data_format=self.data_format,
                      activation="relu" if fuse else None)
        return y if fuse else self.activation(y)


class Conv1D(_KerasConv):
    """Keras 1-D convolution over (N, steps, channels)."""

    rank = 1

    def forward(self, x):
        self._check(x)
        k = self.kernel if self.layout == "NHWC" else self.kernel.permute(2, 1, 0)
        y = FC.conv1d(x, k, self.bias, self.strides[0], self.padding, self.dilation_rate[0],
                      self.groups, data_format=self.data_format)
        return self.activation(y)


class DepthwiseConv2D(Conv2D):
    """One filter per input channel (times ``depth_multiplier``): a grouped Conv2D."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", **kwargs):
        # set before Module.__init__ (a plain int, safe there): Conv2D.__init__ calls build()
        # when input_shape= is given, and build() needs the multiplier
        object.__setattr__(self, "depth_multiplier", int(depth_multiplier))
        super().__init__(1, kernel_size, strides, padding, data_format, activation=activation,
                         use_bias=use_bias, kernel_initializer=depthwise_initializer, **kwargs)

    def build(self, input_shape) -> None:
        c = input_shape[self.channel_axis]
        self.groups = int(c)
        self.filters = int(c) * self.depth_multiplier
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        out = list(super().compute_output_shape(input_shape))
        c = input_shape[self.channel_axis]  # filters is only known once built
        out[self.channel_axis] = None if c is None else c * self.depth_multiplier
        return tuple(out)

    def get_config(self) -> dict:
        cfg = super().get_config()
        for k in ("filters", "groups"):
            cfg.pop(k)
        cfg["depth_multiplier"] = self.depth_multiplier
        return cfg


class Conv2DTranspose(_KerasConv):
    """Keras transposed convolution; kernel (kh, kw, filters, C_in)."""

    rank = 2

    def build(self, input_shape) -> None:
        c = input_shape[self.channel_axis]
        self.in_channels = int(c)
        self.kernel = self.add_weight(self.kernel_size + (self.filters, self.in_channels),
                                      self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer)
        self.built = True

    def _effective_kernel(self):
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation_rate))

    def compute_output_shape(self, input_shape):
        # Keras's rule: "same" -> n * stride, "valid" -> n * stride + max(k_eff - stride, 0)
        sp_axes = (1, 2) if self.layout == "NHWC" else (2, 3)
        out = list(input_shape)
        for ax, k, s in zip(sp_axes, self._effective_kernel(), self.strides):
            n = input_shape[ax]
            if n is not None:
                out[ax] = n * s + (max(k - s, 0) if self.padding == "valid" else 0)
        out[self.channel_axis] = self.filters
        return tuple(out)

    def forward(self, x):
        self._check(x)
        (kh, kw), (sh, sw) = self._effective_kernel(), self.strides
        if self.padding == "same":  # Keras: output = input * stride
            pads, out_pad = [], []  # crop like the adjoint of a "same" conv: extra at the end
            for k, s in ((kh, sh), (kw, sw)):
                total = max(k - s, 0)
                pads.append(total // 2)
                out_pad.append(s - k + 2 * (total // 2))
            padding, output_padding = tuple(pads), tuple(out_pad)
        else:
            padding, output_padding = 0, (max(sh - kh, 0), max(sw - kw, 0))
        k = self.kernel if self.layout == "NHWC" else self.kernel.permute(3, 2, 0, 1)
        y = FC.conv_transpose2d(x, k, self.bias, self.strides, padding, output_padding, 1,
                                self.dilation_rate, data_format=self.data_format)
        return self.activation(y)
