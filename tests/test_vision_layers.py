"""Vision layers (convolution, pooling, normalization, reshaping) through one harness in the
spirit of ``tests/test_nn_layers.py``'s ``run_layer_test``, plus their particular behaviour.

For every case: the output shape and ``compute_output_shape`` (also with an unknown batch size),
float32 in gives float32 out, a float64 gradient check of the input and every parameter, a
``get_config`` that survives JSON and rebuilds an equivalent layer, and (where given) the
forward against PyTorch with the layer's own weights copied over.
"""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
from shendu.models import Sequential
from shendu.nn import layers as L

try:
    import torch as _torch
except ImportError:  # the torch references are skipped
    _torch = None
from layer_harness import Case, layer_input, run_layer_test


@pytest.fixture(autouse=True, scope="module")
def _torch_on_one_thread():
    """PyTorch, where installed, on one thread: on tiny tensors its thread pool only costs."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _case(id, make, input_shape, output_shape, torch_ref=None) -> Case:
    """A harness case; ``torch_ref(layer, torch_input)`` runs only where torch is installed."""
    ref = None
    if torch_ref is not None and _torch is not None:
        def ref(layer, x):
            return torch_ref(layer, _torch.tensor(x)).detach().numpy()
    return Case(id, make, input_shape, output_shape, ref)


def _randomized(layer, seed=1):
    """The layer with random parameters and running statistics (ones and zeros test little)."""
    rng = np.random.default_rng(seed)
    for p in list(layer.parameters()) + [b for b in layer.buffers() if b.dtype.kind == "f"]:
        p.data[...] = rng.uniform(0.5, 1.5, p.shape) * rng.choice([-1.0, 1.0], p.shape)
    for name in ("running_var", "moving_variance"):
        if getattr(layer, name, None) is not None:
            v = getattr(layer, name)
            v.data[...] = np.abs(v.data)
    return layer


def _built(layer, input_shape):
    """A Keras layer built for ``input_shape``, then randomized."""
    layer(sd.zeros(*input_shape))
    return _randomized(layer)


# -- torch references ---------------------------------------------------------------------------
def _T(t):
    import torch

    return None if t is None else torch.tensor(t.numpy())


def _tf(name):
    import torch

    return getattr(torch.nn.functional, name)


def _same_pads(n, k, s, d=1):
    total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def _keras_conv_ref(layer, xt):
    """Keras Conv1D/Conv2D as torch's conv on channels-first data, kernel transposed."""
    import torch

    rank = len(layer.kernel_size)
    last = layer.data_format == "channels_last"
    x = xt.movedim(-1, 1) if last else xt
    w = _T(layer.kernel).permute(*range(rank + 1, -1, -1)) if rank == 1 else \
        _T(layer.kernel).permute(3, 2, 0, 1)
    pads = []
    if layer.padding == "same":
        for n, k, s, d in reversed(list(zip(x.shape[2:], layer.kernel_size, layer.strides,
                                            layer.dilation_rate))):
            pads += list(_same_pads(n, k, s, d))
        x = torch.nn.functional.pad(x, pads)
    conv = _tf("conv1d" if rank == 1 else "conv2d")
    y = conv(x, w, _T(layer.bias), layer.strides, 0, layer.dilation_rate, layer.groups)
    acts = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh}
    y = acts[layer.activation_name](y)
    return y.movedim(1, -1) if last else y


def _torch_conv_ref(layer, xt):
    conv = _tf("conv1d" if len(layer.kernel_size) == 1 else "conv2d")
    return conv(xt, _T(layer.weight), _T(layer.bias), layer.stride, layer.padding,
                layer.dilation, layer.groups)


def _torch_deconv_ref(layer, xt):
    return _tf("conv_transpose2d")(xt, _T(layer.weight), _T(layer.bias), layer.stride,
                                   layer.padding, layer.output_padding, 1, layer.dilation)


def _keras_deconv_ref(layer, xt):
    """Keras's Conv2DTranspose: torch's full transposed conv, cropped like the adjoint of a
    TensorFlow "same" conv, or padded at the end when the stride exceeds the kernel."""
    last = layer.data_format == "channels_last"
    x = xt.movedim(-1, 1) if last else xt
    w = _T(layer.kernel).permute(3, 2, 0, 1)  # (kh, kw, F, C) -> (C, F, kh, kw)
    y = _tf("conv_transpose2d")(x, w, None, layer.strides, 0, 0, 1, layer.dilation_rate)
    for ax, n, k, s, d in zip((2, 3), x.shape[2:], layer.kernel_size, layer.strides,
                              layer.dilation_rate):
        keff = d * (k - 1) + 1
        if layer.padding == "same":
            y = y.narrow(ax, max(keff - s, 0) // 2, n * s)
        elif s > keff:
            pad = [0, 0] * (3 - ax) + [0, s - keff]
            y = _tf("pad")(y, pad)
    y = y + _T(layer.bias).reshape(1, -1, 1, 1)
    return y.movedim(1, -1) if last else y


def _keras_avg_same_ref(layer, xt):
    """Keras's "same" average pooling: padded cells are not counted."""
    import torch

    rank = len(layer.pool_size)
    x = xt.movedim(-1, 1)
    if rank == 1:
        x = x.unsqueeze(2)
    k, s = ((1,) * (2 - rank) + layer.pool_size, (1,) * (2 - rank) + layer.strides)
    pads = []
    for n, kk, ss in reversed(list(zip(x.shape[2:], k, s))):
        pads += list(_same_pads(n, kk, ss))
    total = _tf("avg_pool2d")(_tf("pad")(x, pads), k, s)
    count = _tf("avg_pool2d")(_tf("pad")(torch.ones_like(x), pads), k, s)
    y = total / count
    if rank == 1:
        y = y.squeeze(2)
    return y.movedim(1, -1)


def _bn_ref(layer, xt):
    import torch

    axis = getattr(layer, "axis", 1) % xt.ndim
    x = xt.movedim(axis, 1)
    training = layer.training
    if isinstance(layer, L.BatchNormalization):
        rm, rv = layer.moving_mean, layer.moving_variance
        w, b, eps = layer.gamma, layer.beta, layer.epsilon
    else:
        rm, rv = layer.running_mean, layer.running_var
        w, b, eps = layer.weight, layer.bias, layer.eps
        training = training or not layer.track_running_stats
    # copies: torch must not update the layer's own statistics
    y = _tf("batch_norm")(x, None if rm is None else torch.tensor(rm.numpy().copy()),
                          None if rv is None else torch.tensor(rv.numpy().copy()),
                          _T(w), _T(b), training, 0.1, eps)
    return y.movedim(1, axis)


def _dw_ref(layer, xt):
    """DepthwiseConv2D as torch's grouped conv (groups = channels)."""
    c = layer.in_channels
    w = _T(layer.kernel).permute(3, 2, 0, 1)  # (kh, kw, 1, C*m) -> (C*m, 1, kh, kw)
    x = xt.movedim(-1, 1)
    import torch

    if layer.padding == "same":
        pads = []
        for n, k, s in reversed(list(zip(x.shape[2:], layer.kernel_size, layer.strides))):
            pads += list(_same_pads(n, k, s))
        x = torch.nn.functional.pad(x, pads)
    y = _tf("conv2d")(x, w, _T(layer.bias), layer.strides, 0, 1, c)
    y = torch.relu(y) if layer.activation_name == "relu" else y
    return y.movedim(1, -1)


CASES = [
    # PyTorch convolutions (NCHW, sizes given)
    _case("Conv2d", lambda: L.Conv2d(3, 4, 3), (2, 3, 6, 5), (2, 4, 4, 3), _torch_conv_ref),
    _case("Conv2d_stride_pad_dilation_groups",
         lambda: L.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2),
         (2, 4, 7, 6), (2, 6, 4, 3), _torch_conv_ref),
    _case("Conv2d_same_nobias", lambda: L.Conv2d(2, 3, 3, padding="same", bias=False),
         (2, 2, 5, 5), (2, 3, 5, 5), _torch_conv_ref),
    _case("Conv1d", lambda: L.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9), (2, 4, 5),
         _torch_conv_ref),
    _case("Conv1d_depthwise_dilated", lambda: L.Conv1d(4, 4, 2, dilation=2, groups=4),
         (2, 4, 7), (2, 4, 5), _torch_conv_ref),
    _case("ConvTranspose2d", lambda: L.ConvTranspose2d(3, 2, 3, stride=2, padding=1,
                                                      output_padding=1),
         (2, 3, 4, 3), (2, 2, 8, 6), _torch_deconv_ref),
    _case("ConvTranspose2d_dilated_nobias", lambda: L.ConvTranspose2d(2, 3, (2, 3), dilation=2,
                                                                     bias=False),
         (1, 2, 3, 3), (1, 3, 5, 7), _torch_deconv_ref),
    # Keras convolutions (channels-last by default, input channels learned)
    _case("Conv2D", lambda: _built(L.Conv2D(4, 3), (2, 6, 5, 3)), (2, 6, 5, 3), (2, 4, 3, 4),
         _keras_conv_ref),
    _case("Conv2D_same_strides_relu",
         lambda: _built(L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                        (2, 6, 5, 3)), (2, 6, 5, 3), (2, 3, 3, 4), _keras_conv_ref),
    _case("Conv2D_dilated_same", lambda: _built(L.Conv2D(4, (3, 2), dilation_rate=2,
                                                        padding="same"), (2, 6, 5, 2)),
         (2, 6, 5, 2), (2, 6, 5, 4), _keras_conv_ref),
    _case("Conv2D_channels_first",
         lambda: _built(L.Conv2D(4, 3, strides=(2, 1), padding="same",
                                 data_format="channels_first"), (2, 3, 6, 5)),
         (2, 3, 6, 5), (2, 4, 3, 5), _keras_conv_ref),
    _case("Conv2D_channels_first_valid_relu",
         lambda: _built(L.Conv2D(2, 2, activation="relu", data_format="channels_first"),
                        (2, 3, 4, 5)), (2, 3, 4, 5), (2, 2, 3, 4), _keras_conv_ref),
    _case("Conv2D_groups_tanh", lambda: _built(L.Conv2D(4, 3, groups=2, activation="tanh"),
                                              (2, 5, 5, 4)), (2, 5, 5, 4), (2, 3, 3, 4),
         _keras_conv_ref),
    _case("Conv2D_input_shape", lambda: _randomized(L.Conv2D(3, 2, input_shape=(4, 4, 2))),
         (2, 4, 4, 2), (2, 3, 3, 3), _keras_conv_ref),
    _case("Conv1D_same_relu", lambda: _built(L.Conv1D(5, 3, padding="same", activation="relu"),
                                            (2, 7, 3)), (2, 7, 3), (2, 7, 5), _keras_conv_ref),
    _case("Conv1D_channels_first_strided",
         lambda: _built(L.Conv1D(5, 2, strides=2, data_format="channels_first"), (2, 3, 7)),
         (2, 3, 7), (2, 5, 3), _keras_conv_ref),
    _case("Conv1D_dilated", lambda: _built(L.Conv1D(4, 3, dilation_rate=2), (2, 7, 3)),
         (2, 7, 3), (2, 3, 4), _keras_conv_ref),
    _case("Conv2DTranspose_same_s2", lambda: _built(L.Conv2DTranspose(3, 3, strides=2,
                                                                     padding="same"),
                                                   (2, 3, 4, 2)),
         (2, 3, 4, 2), (2, 6, 8, 3), _keras_deconv_ref),
    _case("Conv2DTranspose_valid_s2", lambda: _built(L.Conv2DTranspose(3, 3, strides=2),
                                                    (2, 3, 4, 2)),
         (2, 3, 4, 2), (2, 7, 9, 3), _keras_deconv_ref),
    _case("Conv2DTranspose_same_s1_even_kernel",
         lambda: _built(L.Conv2DTranspose(3, 2, padding="same"), (2, 3, 4, 2)),
         (2, 3, 4, 2), (2, 3, 4, 3), _keras_deconv_ref),
    _case("Conv2DTranspose_valid_stride_above_kernel",
         lambda: _built(L.Conv2DTranspose(3, 2, strides=3), (2, 3, 4, 2)),
         (2, 3, 4, 2), (2, 9, 12, 3), _keras_deconv_ref),
    _case("Conv2DTranspose_dilated_same",
         lambda: _built(L.Conv2DTranspose(2, 3, dilation_rate=2, padding="same"), (2, 3, 4, 2)),
         (2, 3, 4, 2), (2, 3, 4, 2), _keras_deconv_ref),
    _case("Conv2DTranspose_channels_first",
         lambda: _built(L.Conv2DTranspose(2, 3, strides=2, padding="same",
                                          data_format="channels_first"), (2, 2, 3, 4)),
         (2, 2, 3, 4), (2, 2, 6, 8), _keras_deconv_ref),
    _case("DepthwiseConv2D_same", lambda: _built(L.DepthwiseConv2D(3, padding="same"),
                                                (2, 5, 5, 3)),
         (2, 5, 5, 3), (2, 5, 5, 3), _dw_ref),
    _case("DepthwiseConv2D_multiplier_strided_relu",
         lambda: _built(L.DepthwiseConv2D((3, 2), strides=2, depth_multiplier=2,
                                          activation="relu"), (2, 5, 6, 2)),
         (2, 5, 6, 2), (2, 2, 3, 4), _dw_ref),
    # PyTorch pooling (NCHW)
    _case("MaxPool2d", lambda: L.MaxPool2d(2), (2, 3, 6, 5), (2, 3, 3, 2),
         lambda m, x: _tf("max_pool2d")(x, 2)),
    _case("MaxPool2d_pad_ceil", lambda: L.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
         (2, 3, 6, 5), (2, 3, 4, 3), lambda m, x: _tf("max_pool2d")(x, 3, 2, 1, ceil_mode=True)),
    _case("MaxPool2d_dilated", lambda: L.MaxPool2d(2, stride=1, dilation=2), (2, 3, 6, 5),
         (2, 3, 4, 3), lambda m, x: _tf("max_pool2d")(x, 2, 1, 0, 2)),
    _case("AvgPool2d", lambda: L.AvgPool2d(2), (2, 3, 6, 5), (2, 3, 3, 2),
         lambda m, x: _tf("avg_pool2d")(x, 2)),
    _case("AvgPool2d_pad_nocount", lambda: L.AvgPool2d(3, 2, 1, count_include_pad=False),
         (2, 3, 6, 5), (2, 3, 3, 3),
         lambda m, x: _tf("avg_pool2d")(x, 3, 2, 1, count_include_pad=False)),
    _case("AvgPool2d_pad_ceil", lambda: L.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 3, 6, 5),
         (2, 3, 4, 3), lambda m, x: _tf("avg_pool2d")(x, 3, 2, 1, ceil_mode=True)),
    _case("MaxPool1d", lambda: L.MaxPool1d(2), (2, 3, 7), (2, 3, 3),
         lambda m, x: _tf("max_pool1d")(x, 2)),
    _case("MaxPool1d_pad", lambda: L.MaxPool1d(3, stride=2, padding=1), (2, 3, 7), (2, 3, 4),
         lambda m, x: _tf("max_pool1d")(x, 3, 2, 1)),
    _case("AvgPool1d", lambda: L.AvgPool1d(3, stride=1), (2, 3, 7), (2, 3, 5),
         lambda m, x: _tf("avg_pool1d")(x, 3, 1)),
    _case("AdaptiveAvgPool2d_global", lambda: L.AdaptiveAvgPool2d(1), (2, 3, 5, 4),
         (2, 3, 1, 1), lambda m, x: _tf("adaptive_avg_pool2d")(x, 1)),
    _case("AdaptiveAvgPool2d_nondivisible", lambda: L.AdaptiveAvgPool2d((3, 2)), (2, 3, 5, 4),
         (2, 3, 3, 2), lambda m, x: _tf("adaptive_avg_pool2d")(x, (3, 2))),
    _case("AdaptiveAvgPool2d_none", lambda: L.AdaptiveAvgPool2d((None, 3)), (2, 3, 5, 4),
         (2, 3, 5, 3), lambda m, x: _tf("adaptive_avg_pool2d")(x, (None, 3))),
    _case("AdaptiveMaxPool2d", lambda: L.AdaptiveMaxPool2d((2, 3)), (2, 3, 4, 5),
         (2, 3, 2, 3), lambda m, x: _tf("adaptive_max_pool2d")(x, (2, 3))),
    # Keras pooling (channels-last)
    _case("MaxPooling2D", lambda: L.MaxPooling2D(), (2, 6, 5, 3), (2, 3, 2, 3),
         lambda m, x: _tf("max_pool2d")(x.movedim(-1, 1), 2).movedim(1, -1)),
    _case("MaxPooling2D_same", lambda: L.MaxPooling2D(3, strides=2, padding="same"),
         (2, 6, 5, 3), (2, 3, 3, 3)),
    _case("MaxPooling2D_channels_first", lambda: L.MaxPooling2D(2, data_format="channels_first"),
         (2, 3, 6, 5), (2, 3, 3, 2), lambda m, x: _tf("max_pool2d")(x, 2)),
    _case("MaxPooling1D", lambda: L.MaxPooling1D(2), (2, 7, 3), (2, 3, 3),
         lambda m, x: _tf("max_pool1d")(x.movedim(-1, 1), 2).movedim(1, -1)),
    _case("MaxPooling1D_same", lambda: L.MaxPooling1D(3, strides=1, padding="same"), (2, 7, 3),
         (2, 7, 3)),
    _case("AveragePooling2D", lambda: L.AveragePooling2D(2), (2, 6, 5, 3), (2, 3, 2, 3),
         lambda m, x: _tf("avg_pool2d")(x.movedim(-1, 1), 2).movedim(1, -1)),
    _case("AveragePooling2D_same_excludes_padding",
         lambda: L.AveragePooling2D(3, strides=2, padding="same"), (2, 6, 5, 3), (2, 3, 3, 3),
         _keras_avg_same_ref),
    _case("AveragePooling1D_same_excludes_padding", lambda: L.AveragePooling1D(2, padding="same"),
         (2, 7, 3), (2, 4, 3), _keras_avg_same_ref),
    _case("GlobalAveragePooling2D", lambda: L.GlobalAveragePooling2D(), (2, 5, 4, 3), (2, 3),
         lambda m, x: x.mean((1, 2))),
    _case("GlobalAveragePooling2D_keepdims", lambda: L.GlobalAveragePooling2D(keepdims=True),
         (2, 5, 4, 3), (2, 1, 1, 3), lambda m, x: x.mean((1, 2), keepdim=True)),
    _case("GlobalAveragePooling2D_channels_first",
         lambda: L.GlobalAveragePooling2D(data_format="channels_first"), (2, 3, 5, 4), (2, 3),
         lambda m, x: x.mean((2, 3))),
    _case("GlobalAveragePooling1D", lambda: L.GlobalAveragePooling1D(), (2, 7, 3), (2, 3),
         lambda m, x: x.mean(1)),
    _case("GlobalMaxPooling2D", lambda: L.GlobalMaxPooling2D(), (2, 5, 4, 3), (2, 3),
         lambda m, x: x.amax((1, 2))),
    _case("GlobalMaxPooling1D", lambda: L.GlobalMaxPooling1D(), (2, 7, 3), (2, 3),
         lambda m, x: x.amax(1)),
    # normalization
    _case("BatchNorm1d_train", lambda: _randomized(L.BatchNorm1d(3)), (4, 3), (4, 3), _bn_ref),
    _case("BatchNorm1d_train_3d", lambda: _randomized(L.BatchNorm1d(3)), (4, 3, 5), (4, 3, 5),
         _bn_ref),
    _case("BatchNorm2d_train", lambda: _randomized(L.BatchNorm2d(3)), (4, 3, 2, 2), (4, 3, 2, 2),
         _bn_ref),
    _case("BatchNorm2d_eval", lambda: _randomized(L.BatchNorm2d(3)).eval(), (4, 3, 2, 2),
         (4, 3, 2, 2), _bn_ref),
    _case("BatchNorm2d_no_stats_no_affine",
         lambda: L.BatchNorm2d(3, affine=False, track_running_stats=False).eval(),
         (4, 3, 2, 2), (4, 3, 2, 2), _bn_ref),
    _case("BatchNormalization_train", lambda: _built(L.BatchNormalization(), (5, 3)), (5, 3),
         (5, 3), _bn_ref),
    _case("BatchNormalization_eval_4d",
         lambda: _built(L.BatchNormalization(), (2, 3, 2, 4)).eval(), (2, 3, 2, 4),
         (2, 3, 2, 4), _bn_ref),
    _case("BatchNormalization_axis1", lambda: _built(L.BatchNormalization(axis=1), (3, 4, 2, 2)),
         (3, 4, 2, 2), (3, 4, 2, 2), _bn_ref),
    _case("LayerNorm", lambda: _randomized(L.LayerNorm(4)), (2, 3, 4), (2, 3, 4),
         lambda m, x: _tf("layer_norm")(x, (4,), _T(m.weight), _T(m.bias))),
    _case("LayerNorm_2d_shape", lambda: _randomized(L.LayerNorm((3, 4), eps=1e-3)), (2, 3, 4),
         (2, 3, 4), lambda m, x: _tf("layer_norm")(x, (3, 4), _T(m.weight), _T(m.bias), 1e-3)),
    _case("LayerNormalization", lambda: _built(L.LayerNormalization(), (2, 3, 4)), (2, 3, 4),
         (2, 3, 4), lambda m, x: _tf("layer_norm")(x, (4,), _T(m.gamma), _T(m.beta), 1e-3)),
    _case("LayerNormalization_no_center", lambda: _built(L.LayerNormalization(center=False),
                                                        (3, 5)),
         (3, 5), (3, 5), lambda m, x: _tf("layer_norm")(x, (5,), _T(m.gamma), None, 1e-3)),
    _case("GroupNorm", lambda: _randomized(L.GroupNorm(2, 4)), (2, 4, 3, 3), (2, 4, 3, 3),
         lambda m, x: _tf("group_norm")(x, 2, _T(m.weight), _T(m.bias))),
    _case("GroupNorm_one_group_no_affine", lambda: L.GroupNorm(1, 3, affine=False), (2, 3, 5),
         (2, 3, 5), lambda m, x: _tf("group_norm")(x, 1)),
    # reshaping
    _case("Reshape", lambda: L.Reshape((3, -1)), (2, 4, 3), (2, 3, 4),
         lambda m, x: x.reshape(2, 3, 4)),
    _case("Reshape_flat", lambda: L.Reshape((12,)), (2, 4, 3), (2, 12),
         lambda m, x: x.reshape(2, 12)),
    _case("Permute", lambda: L.Permute((2, 1)), (2, 3, 4), (2, 4, 3),
         lambda m, x: x.permute(0, 2, 1)),
    _case("Permute_3d", lambda: L.Permute((3, 1, 2)), (2, 3, 4, 5), (2, 5, 3, 4),
         lambda m, x: x.permute(0, 3, 1, 2)),
    _case("ZeroPadding2D", lambda: L.ZeroPadding2D(1), (2, 3, 4, 2), (2, 5, 6, 2),
         lambda m, x: _tf("pad")(x, (0, 0, 1, 1, 1, 1))),
    _case("ZeroPadding2D_asymmetric", lambda: L.ZeroPadding2D(((1, 0), (2, 1))), (2, 3, 4, 2),
         (2, 4, 7, 2), lambda m, x: _tf("pad")(x, (0, 0, 2, 1, 1, 0))),
    _case("ZeroPadding2D_channels_first",
         lambda: L.ZeroPadding2D((1, 2), data_format="channels_first"), (2, 2, 3, 4),
         (2, 2, 5, 8), lambda m, x: _tf("pad")(x, (2, 2, 1, 1))),
    _case("UpSampling2D", lambda: L.UpSampling2D(2), (2, 3, 4, 2), (2, 6, 8, 2),
         lambda m, x: _tf("interpolate")(x.movedim(-1, 1), scale_factor=2).movedim(1, -1)),
    _case("UpSampling2D_channels_first",
         lambda: L.UpSampling2D((2, 3), data_format="channels_first"), (2, 2, 3, 4),
         (2, 2, 6, 12), lambda m, x: _tf("interpolate")(x, scale_factor=(2, 3))),
    _case("Upsample_scale", lambda: L.Upsample(scale_factor=2), (2, 2, 3, 4), (2, 2, 6, 8),
         lambda m, x: _tf("interpolate")(x, scale_factor=2)),
    _case("Upsample_size", lambda: L.Upsample(size=(5, 7)), (2, 2, 3, 4), (2, 2, 5, 7),
         lambda m, x: _tf("interpolate")(x, size=(5, 7))),
    _case("Dropout2d_train", lambda: L.Dropout2d(0.5), (4, 6, 2, 2), (4, 6, 2, 2)),
    _case("Dropout2d_eval", lambda: L.Dropout2d(0.5).eval(), (2, 3, 2, 2), (2, 3, 2, 2),
         lambda m, x: x),
    _case("SpatialDropout2D_train", lambda: L.SpatialDropout2D(0.3), (4, 2, 2, 6), (4, 2, 2, 6)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer(case):
    run_layer_test(case)


def test_every_vision_layer_has_a_case():
    tested = {type(c.make()).__name__ for c in CASES}
    wanted = set(L.conv.__all__) | set(L.pooling.__all__) | set(L.normalization.__all__) | set(
        L.reshaping.__all__)
    assert not wanted - tested, sorted(wanted - tested)


# -- convolutions -------------------------------------------------------------------------------
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_fused_relu_is_identical_to_relu_after_conv(data_format):
    shape = (2, 6, 6, 3) if data_format == "channels_last" else (2, 3, 6, 6)
    fused = _built(L.Conv2D(4, 3, padding="same", activation="relu", data_format=data_format),
                   shape)
    plain = L.Conv2D(4, 3, padding="same", data_format=data_format)
    plain(sd.zeros(*shape))
    plain.load_state_dict(fused.state_dict())
    x1 = sd.tensor(layer_input(shape).astype(np.float32), requires_grad=True)
    x2 = sd.tensor(x1.numpy(), requires_grad=True)
    y1, y2 = fused(x1), sd.relu(plain(x2))
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    assert (y1.numpy() == 0).any() and (y1.numpy() > 0).any()
    y1.sum().backward()
    y2.sum().backward()
    np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())
    np.testing.assert_array_equal(fused.kernel.grad.numpy(), plain.kernel.grad.numpy())
    np.testing.assert_array_equal(fused.bias.grad.numpy(), plain.bias.grad.numpy())


def test_keras_conv2d_matches_torch_conv_module_by_kernel_transposition(torch):
    ref = torch.nn.Conv2d(3, 5, (3, 2), stride=(2, 1)).double()
    conv = L.Conv2D(5, (3, 2), strides=(2, 1), input_shape=(7, 6, 3)).double()
    conv.kernel.data[...] = ref.weight.detach().numpy().transpose(2, 3, 1, 0)
    conv.bias.data[...] = ref.bias.detach().numpy()
    x = layer_input((2, 7, 6, 3))
    xs = sd.tensor(x, dtype="float64", requires_grad=True)
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    y, yt = conv(xs), ref(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-12)
    v = np.random.default_rng(0).standard_normal(y.shape)
    (y * sd.tensor(v)).sum().backward()
    (yt * torch.tensor(v.transpose(0, 3, 1, 2).copy())).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-10)
    np.testing.assert_allclose(conv.kernel.grad.numpy(),
                               ref.weight.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10)
    np.testing.assert_allclose(conv.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("cls, args, kw, shape", [
    (L.Conv2d, (3, 4, 3), {"stride": 2, "padding": 1, "groups": 1}, (2, 3, 7, 6)),
    (L.Conv2d, (4, 6, (2, 3)), {"dilation": 2, "groups": 2, "padding": (1, 0)}, (2, 4, 7, 6)),
    (L.Conv1d, (3, 4, 3), {"stride": 2}, (2, 3, 9)),
    (L.ConvTranspose2d, (3, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1},
     (2, 3, 4, 3)),
])
def test_torch_style_conv_matches_torch_module_with_copied_weights(torch, cls, args, kw, shape):
    ours = cls(*args, **kw).double()
    theirs = getattr(torch.nn, cls.__name__)(*args, **kw).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert ours.bias.shape == tuple(theirs.bias.shape)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    x = layer_input(shape)
    xs, xt = sd.tensor(x, dtype="float64", requires_grad=True), torch.tensor(x,
                                                                              requires_grad=True)
    y, yt = ours(xs), theirs(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-10)


def test_torch_style_conv_init_follows_pytorch():
    conv = L.Conv2d(8, 16, 3)
    bound = 1 / np.sqrt(8 * 9)
    for p in (conv.weight, conv.bias):
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.8 * bound
    deconv = L.ConvTranspose2d(4, 6, 2)
    assert deconv.weight.shape == (4, 6, 2, 2)
    assert np.abs(deconv.weight.numpy()).max() <= 1 / np.sqrt(6 * 4)


def test_keras_conv_init_and_weights():
    conv = L.Conv2D(16, 3, input_shape=(8, 8, 4))
    assert conv.kernel.shape == (3, 3, 4, 16) and conv.bias.shape == (16,)
    assert not conv.bias.numpy().any()  # bias_initializer "zeros"
    limit = np.sqrt(6 / (9 * 4 + 9 * 16))  # glorot_uniform
    assert np.abs(conv.kernel.numpy()).max() <= limit
    assert conv.count_params() == 3 * 3 * 4 * 16 + 16
    assert L.Conv2D(16, 3, use_bias=False, input_shape=(8, 8, 4)).count_params() == 576
    dw = L.DepthwiseConv2D(3, depth_multiplier=2, input_shape=(8, 8, 4))
    assert dw.kernel.shape == (3, 3, 1, 8) and dw.count_params() == 9 * 8 + 8
    deconv = L.Conv2DTranspose(5, 3, input_shape=(4, 4, 2))
    assert deconv.kernel.shape == (3, 3, 5, 2) and deconv.bias.shape == (5,)


@pytest.mark.parametrize("make", [
    lambda: L.Conv2D(2, 3, input_shape=(5, 5, 1), trainable=False),
    lambda: L.Conv1D(2, 3, input_shape=(5, 1), trainable=False),
    lambda: L.Conv2DTranspose(2, 3, input_shape=(5, 5, 1), trainable=False),
    lambda: L.DepthwiseConv2D(3, input_shape=(5, 5, 1), trainable=False),
    lambda: L.BatchNormalization(input_shape=(5, 5, 1), trainable=False),
    lambda: L.LayerNormalization(input_shape=(5, 5, 1), trainable=False),
])
def test_frozen_layers_built_from_input_shape_stay_frozen(make):
    # regression: weights built in __init__ (input_shape=) ignored trainable=False
    layer = make()
    assert layer.built and layer.weights
    assert not any(p.requires_grad for p in layer.parameters())
    assert layer.trainable_weights == []
    layer.trainable = True
    assert all(p.requires_grad for p in layer.parameters())


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4])
def test_conv2d_transpose_output_shape_follows_keras(padding, strides, kernel):
    layer = L.Conv2DTranspose(2, kernel, strides=strides, padding=padding)
    y = layer(sd.zeros(1, 3, 5, 2))
    expected = [n * strides + (max(kernel - strides, 0) if padding == "valid" else 0)
                for n in (3, 5)]
    assert y.shape == (1, *expected, 2)
    assert layer.compute_output_shape((None, 3, 5, 2)) == (None, *expected, 2)
    assert layer.compute_output_shape((None, None, 5, 2)) == (None, None, expected[1], 2)


def test_conv2d_transpose_inverts_the_shape_of_a_strided_conv():
    x = sd.zeros(1, 8, 6, 3)
    down = L.Conv2D(4, 3, strides=2, padding="same")
    up = L.Conv2DTranspose(3, 3, strides=2, padding="same")
    assert up(down(x)).shape == x.shape


def test_compute_output_shape_of_keras_convs():
    assert L.Conv2D(8, 3, strides=2).compute_output_shape((None, 9, 8, 3)) == (None, 4, 3, 8)
    assert L.Conv2D(8, 3, padding="same", strides=2, data_format="channels_first"
                    ).compute_output_shape((4, 3, 9, 8)) == (4, 8, 5, 4)
    assert L.Conv2D(8, 3, dilation_rate=2).compute_output_shape((1, 9, 9, 1)) == (1, 5, 5, 8)
    assert L.Conv1D(8, 3).compute_output_shape((None, None, 2)) == (None, None, 8)
    dw = L.DepthwiseConv2D(3, depth_multiplier=3)  # before it is built
    assert dw.compute_output_shape((None, 9, 9, 2)) == (None, 7, 7, 6)


# -- pooling --------------------------------------------------------------------------------------
def test_keras_average_pooling_same_excludes_padded_cells():
    x = np.ones((1, 3, 3, 1), np.float32)
    y = L.AveragePooling2D(2, strides=2, padding="same")(sd.tensor(x)).numpy()
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1)))  # zeros padding would give < 1
    x = np.arange(1.0, 6.0, dtype=np.float32).reshape(1, 5, 1)
    y = L.AveragePooling1D(2, padding="same")(sd.tensor(x)).numpy().ravel()
    np.testing.assert_allclose(y, [1.5, 3.5, 5.0])


def test_pooling_compute_output_shape_matches_forward():
    for layer, shape in [(L.MaxPool2d(3, 2, 1, ceil_mode=True), (1, 2, 7, 8)),
                         (L.AvgPool2d((2, 3), (1, 2)), (1, 2, 5, 7)),
                         (L.MaxPool1d(4, 3, 2), (1, 2, 11)),
                         (L.AdaptiveAvgPool2d((2, 5)), (1, 2, 7, 6)),
                         (L.MaxPooling2D(3, 2, "same"), (1, 7, 8, 2)),
                         (L.AveragePooling1D(3, 2), (1, 11, 2)),
                         (L.GlobalMaxPooling2D(keepdims=True), (1, 4, 5, 2))]:
        assert layer(sd.zeros(*shape)).shape == layer.compute_output_shape(shape), layer


# -- normalization --------------------------------------------------------------------------------
def test_batchnorm2d_running_stats_follow_torch_over_steps(torch):
    ours = L.BatchNorm2d(3, momentum=0.2).double()
    theirs = torch.nn.BatchNorm2d(3, momentum=0.2).double()
    rng = np.random.default_rng(0)
    for step in range(4):
        x = rng.standard_normal((4, 3, 3, 2)) * (step + 1) + step
        y, yt = ours(sd.tensor(x, dtype="float64")), theirs(torch.tensor(x))
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked.numpy()) == int(theirs.num_batches_tracked) == 4
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 3, 2))
    np.testing.assert_allclose(ours(sd.tensor(x, dtype="float64")).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    assert set(ours.state_dict()) == set(theirs.state_dict())


def test_batchnorm_eval_does_not_touch_running_stats():
    bn = L.BatchNorm1d(2)
    bn(sd.randn(5, 2) * 3 + 1)
    saved = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    bn.eval()
    bn(sd.randn(5, 2))
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), saved[k])


def test_keras_batch_normalization_momentum_convention():
    bn = L.BatchNormalization(momentum=0.9, input_shape=(3,))
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32) * 2 + 1
    y = bn(sd.tensor(x)).numpy()
    # Keras: new = momentum * old + (1 - momentum) * batch, with the biased batch variance
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * x.var(0), rtol=1e-5)
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), rtol=1e-4,
                               atol=1e-5)
    bn.eval()
    y = bn(sd.tensor(x)).numpy()
    expected = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-5)
    assert [n for n, _ in bn.named_parameters()] == ["gamma", "beta"]
    assert {"moving_mean", "moving_variance"} <= set(bn.state_dict())


def test_keras_batch_normalization_channels_last_conv_output():
    bn = L.BatchNormalization()
    x = sd.randn(4, 3, 3, 5)
    y = bn(x).numpy()
    assert bn.gamma.shape == (5,)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    with pytest.raises(ValueError, match=r"expected 5 features on axis -1.*\(4, 3, 3, 6\)"):
        bn(sd.randn(4, 3, 3, 6))


# -- reshaping ------------------------------------------------------------------------------------
def test_channel_dropout_drops_whole_channels():
    x = sd.ones(8, 16, 3, 3)
    y = L.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8
    y = L.SpatialDropout2D(0.5)(sd.ones(8, 3, 3, 16)).numpy()
    per_channel = y.transpose(0, 3, 1, 2).reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    drop = L.SpatialDropout2D(0.5).eval()
    assert drop(x) is x


def test_reshape_errors_and_inferred_axis():
    r = L.Reshape((2, -1))
    assert r(sd.zeros(3, 4, 2)).shape == (3, 2, 4)
    assert r.compute_output_shape((None, 4, 2)) == (None, 2, 4)
    assert r.compute_output_shape((None, None, 2)) == (None, 2, None)
    with pytest.raises(ValueError, match=r"cannot reshape samples of shape \(5,\)"):
        L.Reshape((2, 3))(sd.zeros(3, 5))
    with pytest.raises(ValueError, match="permutation of 1..2"):
        L.Permute((0, 1))


# -- clear errors --------------------------------------------------------------------------------
def test_conv_given_channels_first_data_hints_channels_last():
    conv = L.Conv2D(8, 3, input_shape=(28, 28, 1), name="c1")
    with pytest.raises(ValueError) as err:
        conv(sd.zeros(2, 1, 28, 28))
    msg = str(err.value)
    assert "Conv2D 'c1'" in msg and "(2, 1, 28, 28)" in msg and "1 input channels" in msg
    assert "channels-last" in msg and "data_format" in msg
    conv = L.Conv2D(8, 3, data_format="channels_first", input_shape=(3, 8, 8), name="cf")
    with pytest.raises(ValueError, match=r"Conv2D 'cf'.*\(2, 8, 8, 3\).*channels-first"):
        conv(sd.zeros(2, 8, 8, 3))


def test_torch_conv_given_channels_last_data_hints_channels_first():
    net = nn.Sequential()
    net.add_module("conv1", L.Conv2d(3, 8, 3))
    with pytest.raises(ValueError) as err:
        net(sd.zeros(2, 28, 28, 3))
    msg = str(err.value)
    assert "Conv2d 'conv1'" in msg and "(2, 28, 28, 3)" in msg and "3 input channels" in msg
    assert "channels-first (N, C, H, W)" in msg
    with pytest.raises(ValueError, match=r"ConvTranspose2d .*\(1, 5, 5, 3\).*channels-first"):
        L.ConvTranspose2d(3, 2, 3)(sd.zeros(1, 5, 5, 3))


def test_conv_wrong_channel_count_without_a_layout_mixup_gives_no_hint():
    conv = L.Conv2D(8, 3, input_shape=(28, 28, 1), name="c1")
    with pytest.raises(ValueError) as err:
        conv(sd.zeros(2, 28, 28, 3))
    msg = str(err.value)
    assert "expected 1 input channels" in msg and "(2, 28, 28, 3)" in msg
    assert "other axis" not in msg


def test_image_batch_without_channel_axis_hints_to_add_it():
    conv = L.Conv2D(8, 3, input_shape=(28, 28, 1), name="first")
    with pytest.raises(ValueError) as err:
        conv(sd.zeros(32, 28, 28))
    msg = str(err.value)
    assert "Conv2D 'first'" in msg and "4 dimensions" in msg and "(32, 28, 28)" in msg
    assert "add the channel axis" in msg and "reshape(-1, 28, 28, 1)" in msg
    with pytest.raises(ValueError, match=r"Conv2d .*4-D input \(N, C, H, W\).*\(32, 28, 28\)"):
        L.Conv2d(1, 4, 3)(sd.zeros(32, 28, 28))


def test_dense_after_conv_without_flatten_hints_flatten():
    with pytest.raises(ValueError) as err:  # raised while the model builds itself
        Sequential([L.Conv2D(4, 3, input_shape=(8, 8, 1)), L.MaxPooling2D(),
                    L.Dense(10, input_shape=(36,), name="head")])
    msg = str(err.value)
    assert "Dense 'head'" in msg and "Flatten" in msg and "36" in msg
    net = nn.Sequential(L.Conv2d(1, 4, 3), L.ReLU(), L.Linear(4 * 6 * 6, 10))
    with pytest.raises(ValueError) as err:
        net(sd.zeros(2, 1, 8, 8))
    msg = str(err.value)
    assert "Linear" in msg and "Flatten" in msg and "(2, 4, 6, 6)" in msg
    net = nn.Sequential(L.Conv2d(1, 4, 3), L.ReLU(), L.Flatten(), L.Linear(4 * 6 * 6, 10))
    assert net(sd.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_bad_layer_arguments_are_clear():
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        L.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="filters must be positive"):
        L.Conv2D(0, 3)
    with pytest.raises(ValueError, match="divisible by groups=3"):
        L.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match="divisible by groups=2"):
        L.Conv2D(4, 3, groups=2)(sd.zeros(1, 5, 5, 3))
    with pytest.raises(ValueError, match="data_format must be"):
        L.Conv2D(4, 3, data_format="NCDHW")
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        L.MaxPooling2D(2, padding="causal")
    with pytest.raises(ValueError, match="num_channels=5 is not divisible by num_groups=2"):
        L.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"BatchNorm2d .*expected 3 channels on axis 1"):
        L.BatchNorm2d(3)(sd.zeros(2, 4, 4, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d .*expects inputs with 4 dimensions"):
        L.BatchNorm2d(3)(sd.zeros(2, 3))
