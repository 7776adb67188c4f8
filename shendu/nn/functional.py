"""``shendu.nn.functional`` (F): stateless forms of the layers and the losses."""

from __future__ import annotations

import numpy as np

from .. import functional as _f
from ..autograd import apply2
from ..backend import array_module

# activations and shape helpers come straight from the top level
from ..functional import (  # noqa: F401  (re-exported)
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    one_hot,
    pad,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from ..ops import elementwise as E
from ..ops import fused
from ..random import default_generator
from ..tensor import Tensor, as_tensor_data
from .functional_noise import (
    alpha_dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)

__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax",
    "log_softmax", "one_hot", "pad", "linear", "dropout", "dropout1d", "dropout2d",
    "dropout3d", "alpha_dropout", "feature_alpha_dropout", "relu6", "silu", "hardtanh",
    "logsigmoid", "selu", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    "kl_div", "normalize", "cosine_similarity",
]

_REDUCTIONS = ("mean", "sum", "none")


def linear(x, weight, bias=None):
    """y = x @ weight.T + bias, with weight laid out (out_features, in_features)."""
    return fused.Linear.apply(x, weight, bias, w_layout="out_in")


def dropout(x, p: float = 0.5, training: bool = True, generator=None):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    g = generator or default_generator
    d = as_tensor_data(x)
    keep = g.bernoulli(1.0 - p, d.shape)
    mask = (keep * (1.0 / (1.0 - p))).astype(d.dtype)
    xp = array_module(d)
    return apply2(E.Mul, x, mask if xp is np else xp.asarray(mask))


def relu6(x):
    return _f.clip(x, 0.0, 6.0)


def silu(x):
    return x * _f.sigmoid(x)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return _f.clip(x, min_val, max_val)


def logsigmoid(x):
    return -_f.softplus(-x)


def selu(x):
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return scale * _f.elu(x, alpha)


def normalize(x, p=2.0, dim=1, eps=1e-12):
    norm = (_f.abs(x) ** p).sum(dim, keepdim=True) ** (1.0 / p)
    return x / _f.clip(norm, eps, None)


def cosine_similarity(a, b, dim=1, eps=1e-8):
    num = (a * b).sum(dim)
    den = _f.clip(_f.sqrt((a * a).sum(dim) * (b * b).sum(dim)), eps, None)
    return num / den


# -- losses ------------------------------------------------------------------------------------
def _reduce(loss, reduction: str, name: str):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _same_shape(name: str, input, target) -> Tensor:
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if tuple(t.shape) != tuple(input.shape):
        hint = ""
        if t.ndim + 1 == input.ndim and input.shape[-1] == 1:
            hint = "; the model outputs a trailing dimension of 1: squeeze it or reshape the target"
        raise ValueError(f"{name}: input shape {tuple(input.shape)} and target shape "
                         f"{tuple(t.shape)} differ{hint}")
    if t.dtype != input.dtype and t.dtype.kind in "fiub":
        t = t.to(input.dtype)
    return t


def _weighted(loss, weight):
    return loss if weight is None else loss * weight


def mse_loss(input, target, reduction: str = "mean", weight=None):
    t = _same_shape("mse_loss", input, target)
    d = input - t
    return _reduce(_weighted(d * d, weight), reduction, "mse_loss")


def l1_loss(input, target, reduction: str = "mean", weight=None):
    t = _same_shape("l1_loss", input, target)
    return _reduce(_weighted(_f.abs(input - t), weight), reduction, "l1_loss")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta)."""
    t = _same_shape("huber_loss", input, target)
    a = _f.abs(input - t)
    quad = _f.clip(a, None, delta)
    loss = 0.5 * quad * quad + delta * (a - quad)
    return _reduce(_weighted(loss, weight), reduction, "huber_loss")


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0):
    """Huber divided by beta (PyTorch's SmoothL1); beta=0 is the L1 loss."""
    if beta == 0:
        return l1_loss(input, target, reduction)
    return huber_loss(input, target, reduction, beta) / beta


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """BCE on probabilities; log is clamped at -100 like PyTorch (one fused primitive, so
    probabilities of exactly 0 or 1 give finite gradients)."""
    t = _same_shape("binary_cross_entropy", input, target)
    d = as_tensor_data(input)
    if d.size and (float(d.min()) < 0 or float(d.max()) > 1):
        raise ValueError("binary_cross_entropy expects probabilities in [0, 1], got values in "
                         f"[{float(d.min()):.4g}, {float(d.max()):.4g}]; pass logits to "
                         "binary_cross_entropy_with_logits instead")
    loss = fused.BinaryCrossEntropy.apply(input, t)
    return _reduce(_weighted(loss, weight), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None):
    t = _same_shape("binary_cross_entropy_with_logits", input, target)
    pw = None if pos_weight is None else as_tensor_data(pos_weight).astype(input.dtype,
                                                                           copy=False)
    loss = fused.SigmoidBCE.apply(input, t, pos_weight=pw)
    return _reduce(_weighted(loss, weight), reduction, "binary_cross_entropy_with_logits")


def _class_first_to_rows(name, input, target):
    """(N, C, d1, ...) logits to (M, C) rows, the target to (M,) or (M, C)."""
    if input.ndim == 1:  # one sample of C classes
        rows = input.reshape(1, -1)
        return rows, target.reshape(1, -1) if target.dtype.kind == "f" else target.reshape(1), ()
    if input.ndim == 2:
        return input, target, input.shape[:1]
    n, c = input.shape[:2]
    rest = input.shape[2:]
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)
    rows = _f.permute(input, perm).reshape(-1, c)
    if target.dtype.kind == "f" and target.ndim == input.ndim:
        target = _f.permute(target, perm).reshape(-1, c)
    else:
        target = target.reshape(-1)
    return rows, target, (n,) + rest


def cross_entropy(input, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Softmax cross-entropy on logits (N, C) or (N, C, d1, ...).

    ``target`` holds class indices (N,) / (N, d1, ...) or class probabilities of the input's
    shape. Computed by one fused, stable primitive.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, got "
                         f"{reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if input.ndim == 0:
        raise ValueError("cross_entropy expects logits with a class dimension, got a scalar")
    sparse = t.dtype.kind in "iu"
    expect = (input.shape[:1] + input.shape[2:]) if input.ndim > 1 else ()
    if sparse and tuple(t.shape) != tuple(expect):
        hint = ""
        if t.ndim == input.ndim and t.shape == input.shape:
            hint = " (one-hot targets must be float: call .float())"
        elif t.ndim == 2 and t.shape[1] == 1:
            hint = " (squeeze the trailing dimension of the targets)"
        raise ValueError(f"cross_entropy: logits of shape {tuple(input.shape)} need class "
                         f"indices of shape {tuple(expect)}, got {tuple(t.shape)}{hint}")
    if not sparse and tuple(t.shape) != tuple(input.shape):
        raise ValueError(f"cross_entropy: probability targets must match the logits' shape "
                         f"{tuple(input.shape)}, got {tuple(t.shape)}")
    rows, trows, out_shape = _class_first_to_rows("cross_entropy", input, t)
    w = None if weight is None else as_tensor_data(weight).astype(input.dtype, copy=False)
    loss = fused.SoftmaxCrossEntropy.apply(rows, trows.data, w, ignore_index=ignore_index,
                                           smoothing=label_smoothing, reduction=reduction)
    if reduction == "none":
        return loss.reshape(out_shape)
    return loss


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities (N, C) at the target classes."""
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss expects integer class indices, got dtype {t.dtype}")
    rows, trows, out_shape = _class_first_to_rows("nll_loss", input, t)
    idx = trows.data
    valid = idx != ignore_index
    safe = np.where(valid, idx, 0)
    c = rows.shape[1]
    if safe.size and (safe.min() < 0 or safe.max() >= c):
        raise IndexError(f"nll_loss: target out of range for {c} classes")
    picked = rows[np.arange(rows.shape[0]), safe]
    w = np.ones(c, dtype=rows.dtype) if weight is None else as_tensor_data(weight)
    wr = (w[safe] * valid).astype(rows.dtype)
    loss = -picked * wr
    if reduction == "none":
        return loss.reshape(out_shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / float(wr.sum())


def kl_div(input, target, reduction: str = "mean", log_target: bool = False):
    """KL divergence with ``input`` as log-probabilities (PyTorch's convention).

    ``reduction="batchmean"`` divides the sum by the batch size (the mathematically correct
    KL); "mean" divides by the number of elements, as PyTorch does.
    """
    t = _same_shape("kl_div", input, target)
    if log_target:
        loss = _f.exp(t) * (t - input)
    else:
        td = t.data
        safe = Tensor(np.where(td > 0, td, 1).astype(td.dtype))
        loss = t * (_f.log(safe) - input)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0]
    return _reduce(loss, reduction, "kl_div")


# convolution, pooling, normalization and resizing live in their own module
from .functional_conv import *  # noqa: E402, F403
from .functional_conv import __all__ as _conv_all  # noqa: E402

__all__ += _conv_all
