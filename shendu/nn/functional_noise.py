"""Stateless forms of the noise layers: channel dropout, alpha dropout, Gaussian noise.

Every random draw comes from ``shendu.random`` (``default_generator`` unless a ``generator``
is passed), on the host, and is moved to the input's device; the result is the input times
(and plus) constant arrays, so gradients flow through the usual ``Mul``/``Add`` primitives.
The PyTorch spellings (``dropout1d``, ``alpha_dropout``, ...) are re-exported by
``shendu.nn.functional``.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import apply2
from ..backend import array_module
from ..ops import elementwise as E
from ..random import default_generator
from ..tensor import as_tensor_data

__all__ = ["channel_dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout", "gaussian_noise", "gaussian_dropout"]

# SELU's constants; alpha dropout sets dropped units to SELU's negative saturation -scale*alpha
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_ALPHA_P = -_SELU_ALPHA * _SELU_SCALE


def _check_p(name: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability must be in [0, 1], got {p!r}")
    return float(p)


def _on_device(arr: np.ndarray, like):
    """A host array as ``like``'s dtype, on ``like``'s device."""
    arr = arr.astype(like.dtype, copy=False)
    xp = array_module(like)
    return arr if xp is np else xp.asarray(arr)


def _mul(x, arr):
    return apply2(E.Mul, x, arr)


def _add(x, arr):
    return apply2(E.Add, x, arr)


def channel_dropout(x, p: float = 0.5, training: bool = True, channels_last: bool = False,
                    generator=None, batched: bool = True):
    """Zero whole channels with probability ``p``, scaling the rest by ``1/(1-p)``.

    The mask has one value per (sample, channel) and is constant over the other axes:
    shape (N, C, 1, ...) channels-first, (N, 1, ..., C) channels-last. ``batched=False``
    treats a channels-first input as one unbatched sample (C, ...).
    """
    p = _check_p("channel dropout", p)
    if not training or p == 0.0:
        return x
    d = as_tensor_data(x)
    if p == 1.0:
        return _mul(x, _on_device(np.zeros((1,) * d.ndim), d))
    if channels_last:
        shape = (d.shape[0],) + (1,) * (d.ndim - 2) + (d.shape[-1],)
    elif batched:
        shape = (d.shape[0], d.shape[1]) + (1,) * (d.ndim - 2)
    else:
        shape = (d.shape[0],) + (1,) * (d.ndim - 1)
    keep = (generator or default_generator).bernoulli(1.0 - p, shape)
    return _mul(x, _on_device(keep * np.float32(1.0 / (1.0 - p)), d))


def _channels_first(name: str, x, p, training, generator, rank: int, strict: bool):
    """PyTorch's DropoutNd: (N, C, *spatial) or unbatched (C, *spatial) with ``rank``
    spatial axes."""
    d = as_tensor_data(x)
    if d.ndim not in (rank + 1, rank + 2):
        if strict or d.ndim < 2:
            raise ValueError(f"{name} expects a {rank + 1}-D (C, {'spatial, ' * rank}) or "
                             f"{rank + 2}-D (N, C, {'spatial, ' * rank}) input, got shape "
                             f"{tuple(d.shape)}")
        return channel_dropout(x, p, training, False, generator)
    return channel_dropout(x, p, training, False, generator, batched=d.ndim == rank + 2)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None):
    """Channel dropout of (N, C, L) or (C, L) inputs (PyTorch's ``F.dropout1d``)."""
    return _channels_first("dropout1d", input, p, training, generator, 1, strict=True)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None):
    """Channel dropout of (N, C, H, W) inputs (PyTorch's ``F.dropout2d``; a 3-D input is
    read as (N, C, L), as PyTorch does)."""
    d = as_tensor_data(input)
    if d.ndim < 2:
        raise ValueError(f"dropout2d expects a (N, C, H, W) input, got shape {tuple(d.shape)}")
    return channel_dropout(input, p, training, False, generator)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None):
    """Channel dropout of (N, C, D, H, W) or (C, D, H, W) inputs (PyTorch's
    ``F.dropout3d``)."""
    return _channels_first("dropout3d", input, p, training, generator, 3, strict=False)


def _alpha(x, p: float, keep: np.ndarray, d):
    """``a * (x * keep + alpha' * (1 - keep)) + b`` with the constants that keep SELU's zero
    mean and unit variance: ``a = ((1-p)(1 + p alpha'^2))^-1/2``, ``b = -a alpha' p``."""
    a = ((1.0 - p) * (1.0 + p * _ALPHA_P ** 2)) ** -0.5
    b = -a * _ALPHA_P * p
    keep = keep.astype(np.float64)
    scale = keep * a                          # x's factor: a where kept, 0 where dropped
    shift = (1.0 - keep) * (a * _ALPHA_P) + b  # a * alpha' + b where dropped, b where kept
    return _add(_mul(x, _on_device(scale, d)), _on_device(shift, d))


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False,
                  generator=None, noise_shape=None):
    """Dropout for SELU networks: dropped units take SELU's saturation value and an affine
    correction keeps the mean and variance (PyTorch's ``F.alpha_dropout``, Keras's
    ``AlphaDropout``). ``noise_shape`` (Keras) broadcasts one mask over axes of size 1."""
    p = _check_p("alpha_dropout", p)
    if not training or p == 0.0:
        return input
    d = as_tensor_data(input)
    if p == 1.0:  # PyTorch: all zeros
        return _mul(input, _on_device(np.zeros((1,) * d.ndim), d))
    shape = tuple(d.shape)
    if noise_shape is not None:
        if len(noise_shape) != d.ndim:
            raise ValueError(f"alpha_dropout: noise_shape {tuple(noise_shape)} needs one entry "
                             f"per axis of the input of shape {shape}")
        shape = tuple(n if s is None else int(s) for s, n in zip(noise_shape, shape))
    keep = (generator or default_generator).bernoulli(1.0 - p, shape)
    return _alpha(input, p, keep, d)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False, generator=None):
    """Alpha dropout of whole channels: one mask value per (N, C) of an (N, C, ...) input
    (PyTorch's ``F.feature_alpha_dropout``)."""
    p = _check_p("feature_alpha_dropout", p)
    if not training or p == 0.0:
        return input
    d = as_tensor_data(input)
    if d.ndim < 2:
        raise ValueError(f"feature_alpha_dropout expects an (N, C, ...) input, got shape "
                         f"{tuple(d.shape)}")
    if p == 1.0:
        return _mul(input, _on_device(np.zeros((1,) * d.ndim), d))
    shape = (d.shape[0], d.shape[1]) + (1,) * (d.ndim - 2)
    keep = (generator or default_generator).bernoulli(1.0 - p, shape)
    return _alpha(input, p, keep, d)


def gaussian_noise(x, stddev: float, training: bool = True, generator=None):
    """``x + N(0, stddev^2)`` noise while training (Keras's ``GaussianNoise``)."""
    if not training or stddev == 0:
        return x
    d = as_tensor_data(x)
    noise = (generator or default_generator).normal(tuple(d.shape), dtype=np.float32)
    return _add(x, _on_device(noise * np.float32(stddev), d))


def gaussian_dropout(x, rate: float, training: bool = True, generator=None):
    """``x * N(1, rate / (1 - rate))`` multiplicative noise while training (Keras's
    ``GaussianDropout``)."""
    rate = _check_p("gaussian_dropout", rate)
    if not training or rate == 0.0:
        return x
    if rate == 1.0:
        raise ValueError("gaussian_dropout: rate must be < 1 (the noise's variance "
                         "rate / (1 - rate) is infinite at 1)")
    d = as_tensor_data(x)
    std = math.sqrt(rate / (1.0 - rate))
    noise = (generator or default_generator).normal(tuple(d.shape), dtype=np.float32)
    return _mul(x, _on_device(1.0 + noise * np.float32(std), d))
