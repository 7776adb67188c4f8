"""Pooling layers (PyTorch forms over NCHW; Keras forms channels-last by default)."""

from __future__ import annotations

from ... import functional as _f
from ...errors import ShapeError
from .. import functional_conv as FC
from .base import Layer

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool2d", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
           "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D"]


def _rank_error(layer, x, rank: int, layout: str = "NCHW") -> ShapeError:
    """A pooling layer got an input with the wrong number of dimensions."""
    shape = tuple(x.shape)
    spatial = {1: "L", 2: "H, W"}[rank]
    want = f"(N, C, {spatial})" if layout == "NCHW" else f"(N, {spatial}, C)"
    hint = ""
    if len(shape) == rank + 1:
        hint = ("add the missing batch axis (x[None]) or channel axis "
                f"(x.unsqueeze({1 if layout == 'NCHW' else -1}))")
    elif len(shape) < rank + 1:
        hint = "flat vectors need reshaping first (e.g. a Reshape layer)"
    elif len(shape) == rank + 3:
        hint = (f"this is a {rank + 1}-D pooling input: use the {rank + 1}-D layer or drop an "
                "axis")
    return ShapeError(layer, f"expects inputs with {rank + 2} dimensions {want}, got shape "
                      f"{shape}", want, shape, hint)


def _pooled_len(n, k, s, p, d=1, ceil_mode=False):
    """Length of one pooled axis by PyTorch's rule (None, an unknown size, stays None)."""
    if n is None:
        return None
    if p == "same":
        return -(-n // s)
    p = 0 if p == "valid" else p
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the input
        out -= 1
    return out


def _pooled_shape(input_shape, axes, kernel, stride, padding, dilation=1, ceil_mode=False):
    """Output shape of a PyTorch-style pooling over ``axes`` (NC... layout)."""
    n = len(axes)

    def per_axis(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n

    kernel = per_axis(kernel)
    stride = per_axis(stride if stride is not None else kernel)
    padding = (padding,) * n if isinstance(padding, str) else per_axis(padding)
    out = list(input_shape)
    for ax, k, s, p, d in zip(axes, kernel, stride, padding, per_axis(dilation)):
        out[ax] = _pooled_len(input_shape[ax], k, s, p, d, ceil_mode)
    return tuple(out)


class MaxPool2d(Layer):
    """Max over windows of (N, C, H, W); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.ceil_mode = dilation, ceil_mode

    def forward(self, x):
        if x.ndim != 4:
            raise _rank_error(self, x, 2)
        return FC.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                             self.ceil_mode)

    def compute_output_shape(self, input_shape):
        return _pooled_shape(input_shape, (2, 3), self.kernel_size, self.stride, self.padding,
                             self.dilation, self.ceil_mode)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}"

    def get_config(self) -> dict:
        return {**super().get_config(), "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "dilation": self.dilation, "ceil_mode": self.ceil_mode}


class AvgPool2d(Layer):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        if x.ndim != 4:
            raise _rank_error(self, x, 2)
        return FC.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad)

    def compute_output_shape(self, input_shape):
        return _pooled_shape(input_shape, (2, 3), self.kernel_size, self.stride, self.padding,
                             ceil_mode=self.ceil_mode)

    def get_config(self) -> dict:
        return {**super().get_config(), "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "ceil_mode": self.ceil_mode,
                "count_include_pad": self.count_include_pad}


class MaxPool1d(Layer):
    def __init__(self, kernel_size, stride=None, padding=0, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        if x.ndim != 3:
            raise _rank_error(self, x, 1)
        return FC.max_pool1d(x, self.kernel_size, self.stride, self.padding)

    def compute_output_shape(self, input_shape):
        return _pooled_shape(input_shape, (2,), self.kernel_size, self.stride, self.padding)

    def get_config(self) -> dict:
        return {**super().get_config(), "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding}


class AvgPool1d(MaxPool1d):
    def forward(self, x):
        if x.ndim != 3:
            raise _rank_error(self, x, 1)
        return FC.avg_pool1d(x, self.kernel_size, self.stride, self.padding)


class AdaptiveAvgPool2d(Layer):
    """Average pooling to a fixed output size (e.g. 1 for global pooling)."""

    def __init__(self, output_size, **kwargs):
        super().__init__(**kwargs)
        self.output_size = output_size

    def forward(self, x):
        if x.ndim != 4:
            raise _rank_error(self, x, 2)
        return FC.adaptive_avg_pool2d(x, self.output_size)

    def compute_output_shape(self, input_shape):
        size = self.output_size
        oh, ow = size if isinstance(size, (tuple, list)) else (size, size)
        return tuple(input_shape[:2]) + (oh or input_shape[2], ow or input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "output_size": self.output_size}


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    def forward(self, x):
        if x.ndim != 4:
            raise _rank_error(self, x, 2)
        return FC.adaptive_max_pool2d(x, self.output_size)


class _KerasPool(Layer):
    rank = 2
    fn = staticmethod(FC.max_pool2d)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        n = self.rank
        ps = pool_size if isinstance(pool_size, (tuple, list)) else (pool_size,) * n
        self.pool_size = tuple(int(p) for p in ps)
        st = strides if strides is not None else self.pool_size
        self.strides = tuple(int(s) for s in (st if isinstance(st, (tuple, list)) else (st,) * n))
        if str(padding).lower() not in ("valid", "same"):
            raise ValueError(f"{type(self).__name__} '{self.name}': padding must be 'valid' or "
                             f"'same', got {padding!r}")
        self.padding = str(padding).lower()
        self.data_format = data_format or "channels_last"

    def _args(self):
        if self.rank == 1:
            return (1,) + self.pool_size, (1,) + self.strides
        return self.pool_size, self.strides

    def forward(self, x):
        if x.ndim != self.rank + 2:
            raise _rank_error(self, x, self.rank, FC.layout_of(self.data_format))
        k, s = self._args()
        layout = FC.layout_of(self.data_format)
        if self.rank == 1:
            ax = 1 if layout == "NHWC" else 2
            y = self._pool(_f.unsqueeze(x, ax), k, s)
            return _f.squeeze(y, ax)
        return self._pool(x, k, s)

    def _pool(self, x, k, s):
        return FC.max_pool2d(x, k, s, self.padding, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        axes = range(1, 1 + self.rank) if FC.layout_of(self.data_format) == "NHWC" else \
            range(2, 2 + self.rank)
        out = list(input_shape)
        for i, ax in enumerate(axes):
            n = input_shape[ax]
            if n is not None:
                out[ax] = (-(-n // self.strides[i]) if self.padding == "same"
                           else (n - self.pool_size[i]) // self.strides[i] + 1)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling2D(_KerasPool):
    """Keras max pooling: ``MaxPooling2D((2, 2))`` over (N, H, W, C)."""

    rank = 2


class MaxPooling1D(_KerasPool):
    rank = 1


class AveragePooling2D(_KerasPool):
    """Keras average pooling; with padding="same" the padded cells are not counted."""

    rank = 2

    def _pool(self, x, k, s):
        return FC.avg_pool2d(x, k, s, self.padding, count_include_pad=False,
                             data_format=self.data_format)


class AveragePooling1D(AveragePooling2D):
    rank = 1


class _GlobalPool(Layer):
    rank = 2
    reduce = "mean"

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.keepdims = keepdims

    def forward(self, x):
        if x.ndim != self.rank + 2:
            raise _rank_error(self, x, self.rank, FC.layout_of(self.data_format))
        first = 1 if FC.layout_of(self.data_format) == "NHWC" else 2
        axes = tuple(range(first, first + self.rank))
        if self.reduce == "mean":
            return _f.mean(x, axis=axes, keepdims=self.keepdims)
        return _f.amax(x, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        first = 1 if FC.layout_of(self.data_format) == "NHWC" else 2
        spatial = range(first, first + self.rank)
        if self.keepdims:
            return tuple(1 if i in spatial else n for i, n in enumerate(input_shape))
        return tuple(n for i, n in enumerate(input_shape) if i not in spatial)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPool):
    rank, reduce = 2, "mean"


class GlobalAveragePooling1D(_GlobalPool):
    rank, reduce = 1, "mean"


class GlobalMaxPooling2D(_GlobalPool):
    rank, reduce = 2, "max"


class GlobalMaxPooling1D(_GlobalPool):
    rank, reduce = 1, "max"
