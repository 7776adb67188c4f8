"""Functional convolution, pooling, normalization and resizing (re-exported by ``nn.functional``).

PyTorch's signatures and NCHW layout by default; every function also takes
``data_format="channels_last"`` (NHWC), which the Keras layers use.
"""

from __future__ import annotations

import numpy as np

from .. import functional as _f
from ..ops import conv as C
from ..ops import norm as N
from ..ops import pool as P
from ..tensor import as_tensor_data

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
           "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "batch_norm",
           "layer_norm", "group_norm", "interpolate", "upsample_nearest", "layout_of"]


def layout_of(data_format: str | None) -> str:
    if data_format in (None, "channels_first", "NCHW", "NCW"):
        return "NCHW"
    if data_format in ("channels_last", "NHWC", "NWC"):
        return "NHWC"
    raise ValueError(f"data_format must be 'channels_first' or 'channels_last', got "
                     f"{data_format!r}")


def _check4d(name: str, x, layout: str) -> None:
    if x.ndim != 4:
        expect = "(N, C, H, W)" if layout == "NCHW" else "(N, H, W, C)"
        hint = ""
        if x.ndim == 3:
            hint = "; add a batch dimension (x[None]) or a channel dimension"
        elif x.ndim == 2:
            hint = "; flat vectors need reshaping to images first"
        raise ValueError(f"{name} expects a 4-D input {expect}, got shape {tuple(x.shape)}{hint}")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           data_format=None, activation=None):
    """2-D convolution; ``padding`` may be "valid", "same", an int or a pair.

    Shape (channels_first): input (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw).
    With data_format="channels_last": input (N, H, W, C_in), weight (kh, kw, C_in/g, C_out).
    ``activation="relu"`` applies ReLU inside the same primitive (bias + ReLU fused).
    """
    layout = layout_of(data_format)
    _check4d("conv2d", input, layout)
    return C.Conv2d.apply(input, weight, bias, stride=stride, padding=padding,
                          dilation=dilation, groups=groups, layout=layout, activation=activation)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           data_format=None):
    """1-D convolution as a 2-D one of height 1: input (N, C, L) or (N, L, C)."""
    layout = layout_of(data_format)
    if input.ndim != 3:
        raise ValueError(f"conv1d expects a 3-D input, got shape {tuple(input.shape)}")
    pad = padding if isinstance(padding, str) else ((0, 0), (int(padding), int(padding)))
    if layout == "NCHW":
        x = _f.unsqueeze(input, 2)
        w = _f.unsqueeze(weight, 2)
    else:
        x = _f.unsqueeze(input, 1)
        w = _f.unsqueeze(weight, 0)
    if isinstance(pad, str) and pad == "same":
        length = input.shape[2] if layout == "NCHW" else input.shape[1]
        k = weight.shape[2] if layout == "NCHW" else weight.shape[0]
        pad = ((0, 0), C.same_padding(length, k, int(stride), int(dilation)))
    y = C.Conv2d.apply(x, w, bias, stride=(1, stride), padding=pad, dilation=(1, dilation),
                       groups=groups, layout=layout)
    return _f.squeeze(y, 2 if layout == "NCHW" else 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, data_format=None):
    """Transposed 2-D convolution; weight (C_in, C_out/g, kh, kw) channels-first."""
    layout = layout_of(data_format)
    _check4d("conv_transpose2d", input, layout)
    return C.ConvTranspose2d.apply(input, weight, bias, stride=stride, padding=padding,
                                   output_padding=output_padding, dilation=dilation,
                                   groups=groups, layout=layout)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, data_format=None):
    if return_indices:
        raise NotImplementedError("max_pool2d(return_indices=True) is not supported yet")
    layout = layout_of(data_format)
    _check4d("max_pool2d", input, layout)
    return P.MaxPool2d.apply(input, kernel_size=kernel_size, stride=stride, padding=padding,
                             dilation=dilation, ceil_mode=ceil_mode, layout=layout)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, data_format=None):
    layout = layout_of(data_format)
    _check4d("avg_pool2d", input, layout)
    return P.AvgPool2d.apply(input, kernel_size=kernel_size, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                             layout=layout)


def _pool1d(fn, input, kernel_size, stride, padding, data_format, **kw):
    layout = layout_of(data_format)
    ax = 2 if layout == "NCHW" else 1
    pad = padding if isinstance(padding, str) else ((0, 0), (int(padding), int(padding)))
    y = fn(_f.unsqueeze(input, ax), (1, kernel_size),
           (1, stride if stride is not None else kernel_size), pad, data_format=data_format,
           **kw)
    return _f.squeeze(y, ax)


def max_pool1d(input, kernel_size, stride=None, padding=0, data_format=None):
    return _pool1d(max_pool2d, input, kernel_size, stride, padding, data_format)


def avg_pool1d(input, kernel_size, stride=None, padding=0, data_format=None,
               count_include_pad=True):
    return _pool1d(avg_pool2d, input, kernel_size, stride, padding, data_format,
                   count_include_pad=count_include_pad)


def _adaptive(input, output_size, reduce, data_format):
    layout = layout_of(data_format)
    _check4d("adaptive pooling", input, layout)
    h_ax, w_ax = (2, 3) if layout == "NCHW" else (1, 2)
    h, w = input.shape[h_ax], input.shape[w_ax]
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    oh, ow = (int(n) if n is not None else full for n, full in zip(size, (h, w)))  # None: keep
    if h % oh == 0 and w % ow == 0:  # equal windows: one pooling call
        k = (h // oh, w // ow)
        if reduce == "mean":
            return avg_pool2d(input, k, k, data_format=data_format)
        return max_pool2d(input, k, k, data_format=data_format)
    rows = []  # PyTorch's bins: [floor(i*h/oh), ceil((i+1)*h/oh))
    for i in range(oh):
        h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
        cols = []
        for j in range(ow):
            w0, w1 = (j * w) // ow, -(-((j + 1) * w) // ow)
            idx = [slice(None)] * 4
            idx[h_ax], idx[w_ax] = slice(h0, h1), slice(w0, w1)
            win = input[tuple(idx)]
            cols.append(win.mean(axis=(h_ax, w_ax)) if reduce == "mean"
                        else _f.amax(win, axis=(h_ax, w_ax)))
        rows.append(_f.stack(cols, axis=-1 if layout == "NCHW" else 1))
    return _f.stack(rows, axis=2 if layout == "NCHW" else 1)


def adaptive_avg_pool2d(input, output_size, data_format=None):
    return _adaptive(input, output_size, "mean", data_format)


def adaptive_max_pool2d(input, output_size, data_format=None):
    return _adaptive(input, output_size, "max", data_format)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, axis=1, unbiased_running=True):
    """Batch normalization over every axis but ``axis`` (1 = channels-first).

    In training the running statistics (arrays or Tensors) are updated in place.
    """
    rm = None if running_mean is None else as_tensor_data(running_mean)
    rv = None if running_var is None else as_tensor_data(running_var)
    c = input.shape[axis]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", rm),
                    ("running_var", rv)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(t.shape)} but the input "
                             f"{tuple(input.shape)} has {c} channels on axis {axis}")
    return N.BatchNorm.apply(input, weight, bias, running_mean=rm, running_var=rv, axis=axis,
                             training=training, momentum=momentum, eps=eps,
                             unbiased_running=unbiased_running)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
        normalized_shape)
    if tuple(input.shape[-len(shape):]) != shape:
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end with "
                         f"normalized_shape {shape}")
    y = N.Standardize.apply(input, axes=tuple(range(-len(shape), 0)), eps=eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, axis=1):
    x = input
    c = x.shape[axis]
    if c % num_groups:
        raise ValueError(f"group_norm: {c} channels are not divisible by {num_groups} groups")
    if axis % x.ndim != 1:  # channels-last: move channels first for the grouping
        perm = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
        x = _f.permute(x, perm)
    n = x.shape[0]
    y = N.Standardize.apply(x.reshape(n, num_groups, -1), axes=(-1,), eps=eps).reshape(x.shape)
    bshape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    if axis % input.ndim != 1:
        inv = (0,) + tuple(range(2, x.ndim)) + (1,)
        y = _f.permute(y, inv)
    return y


def upsample_nearest(input, scale_factor, data_format=None):
    """Repeat rows and columns ``scale_factor`` times (nearest neighbour)."""
    layout = layout_of(data_format)
    sh, sw = C._pair(scale_factor)
    h_ax, w_ax = (2, 3) if layout == "NCHW" else (1, 2)
    return _f.repeat_interleave(_f.repeat_interleave(input, sh, h_ax), sw, w_ax)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                data_format=None):
    if mode != "nearest":
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported yet; use "
                                  "'nearest'")
    layout = layout_of(data_format)
    h_ax, w_ax = (2, 3) if layout == "NCHW" else (1, 2)
    if scale_factor is None:
        if size is None:
            raise ValueError("interpolate needs size or scale_factor")
        oh, ow = C._pair(size)
        h, w = input.shape[h_ax], input.shape[w_ax]
        if oh % h == 0 and ow % w == 0:
            return upsample_nearest(input, (oh // h, ow // w), data_format)
        rows = np.floor(np.arange(oh) * h / oh).astype(np.int64)
        cols = np.floor(np.arange(ow) * w / ow).astype(np.int64)
        idx = [slice(None)] * 4
        idx[h_ax] = rows
        out = input[tuple(idx)]
        idx = [slice(None)] * 4
        idx[w_ax] = cols
        return out[tuple(idx)]
    sf = scale_factor
    if isinstance(sf, (int, float)) and float(sf).is_integer():
        return upsample_nearest(input, int(sf), data_format)
    raise NotImplementedError("interpolate: only integer scale factors are supported")


