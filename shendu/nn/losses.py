"""Losses as classes (PyTorch: ``criterion(input, target)``) and by Keras name
(``loss(y_true, y_pred)``), all over the functions of ``shendu.nn.functional``.

Keras's probability losses (``categorical_crossentropy`` with ``from_logits=False``) look at
how ``y_pred`` was made: when it is the output of a softmax (or sigmoid) op they use the logits
underneath with the fused, stable primitive, as Keras does; otherwise they clip probabilities
to [1e-7, 1 - 1e-7] like Keras.
"""

from __future__ import annotations

import numpy as np

from .. import functional as _f
from ..ops import elementwise as E
from ..ops import reduce as R
from ..tensor import Tensor, as_tensor_data
from . import functional as F
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "mean_squared_error", "mean_absolute_error",
    "huber", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "kl_divergence", "get", "KerasLoss",
]


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error: mean((input - target)^2)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities."""

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable primitive."""

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits; targets are class indices or probabilities.

    Example:
        >>> criterion = CrossEntropyLoss(label_smoothing=0.1)
        >>> loss = criterion(logits, labels)
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, \
            label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_Loss):
    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class KLDivLoss(_Loss):
    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, self.reduction, self.log_target)


# -- Keras names: loss(y_true, y_pred) -> per-sample losses ---------------------------------------
_EPS = 1e-7


def _as_pred(y_pred) -> Tensor:
    return y_pred if isinstance(y_pred, Tensor) else Tensor(y_pred)


def _logits_under(y_pred, fn_type):
    """The logits below ``y_pred`` when it is the output of ``fn_type`` (softmax/sigmoid)."""
    ctx = y_pred._ctx
    if isinstance(ctx, fn_type) and ctx.parents is not None:
        if fn_type is R.Softmax and ctx.axis not in (-1, y_pred.ndim - 1):
            return None
        return ctx.parents[0]
    return None


def _per_sample(loss):
    return loss.mean(axis=tuple(range(1, loss.ndim))) if loss.ndim > 1 else loss


def mean_squared_error(y_true, y_pred):
    y_pred = _as_pred(y_pred)
    d = y_pred - _target_like(y_true, y_pred)
    return _per_sample(d * d)


def mean_absolute_error(y_true, y_pred):
    y_pred = _as_pred(y_pred)
    return _per_sample(_f.abs(y_pred - _target_like(y_true, y_pred)))


def huber(y_true, y_pred, delta: float = 1.0):
    y_pred = _as_pred(y_pred)
    return _per_sample(F.huber_loss(y_pred, _target_like(y_true, y_pred), "none", delta))


def _target_like(y_true, y_pred) -> Tensor:
    t = as_tensor_data(y_true)
    if t.shape != y_pred.shape:
        if t.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
            t = t.reshape(t.shape + (1,))
        else:
            raise ValueError(f"loss: y_true of shape {tuple(t.shape)} does not match y_pred of "
                             f"shape {tuple(y_pred.shape)}")
    return Tensor(t.astype(y_pred.dtype, copy=False))


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0):
    y_pred = _as_pred(y_pred)
    t = _target_like(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = y_pred if from_logits else _logits_under(y_pred, E.Sigmoid)
    if logits is not None:
        return _per_sample(F.binary_cross_entropy_with_logits(logits, t, reduction="none"))
    p = _f.clip(y_pred, _EPS, 1.0 - _EPS)
    return _per_sample(-(t * _f.log(p) + (1.0 - t) * _f.log(1.0 - p)))


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1):
    """Cross-entropy against one-hot (or probability) targets."""
    y_pred = _as_pred(y_pred)
    t = as_tensor_data(y_true)
    if t.shape != y_pred.shape:
        hint = ""
        if t.ndim == y_pred.ndim - 1 or (t.ndim == y_pred.ndim and t.shape[-1] == 1):
            hint = (": the labels look like class indices; use "
                    "'sparse_categorical_crossentropy' or to_categorical(labels)")
        raise ValueError(f"categorical_crossentropy: y_true of shape {tuple(t.shape)} does not "
                         f"match y_pred of shape {tuple(y_pred.shape)}{hint}")
    t = t.astype(y_pred.dtype, copy=False)
    logits = y_pred if from_logits else _logits_under(y_pred, R.Softmax)
    if logits is not None:
        rows = logits.reshape(-1, logits.shape[-1])
        loss = F.cross_entropy(rows, Tensor(t.reshape(rows.shape)), reduction="none",
                               label_smoothing=label_smoothing)
        return _per_sample(loss.reshape(logits.shape[:-1]))
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]
    p = y_pred / y_pred.sum(axis=-1, keepdims=True)
    p = _f.clip(p, _EPS, 1.0 - _EPS)
    return _per_sample(-(Tensor(t) * _f.log(p)).sum(axis=-1))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                                    ignore_class=None, axis: int = -1):
    """Cross-entropy against integer class labels (shape (N,) or (N, 1))."""
    y_pred = _as_pred(y_pred)
    t = np.asarray(as_tensor_data(y_true))
    if t.ndim == y_pred.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    if t.shape != y_pred.shape[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: labels of shape {t.shape} do not "
                         f"match predictions of shape {tuple(y_pred.shape)}; expected labels "
                         f"of shape {tuple(y_pred.shape[:-1])}")
    if t.dtype.kind == "f":
        if not np.all(t == np.round(t)):
            raise ValueError("sparse_categorical_crossentropy: labels must be integers, got "
                             "fractional values; use categorical_crossentropy for one-hot")
    t = t.astype(np.int64)
    ignore = -100 if ignore_class is None else int(ignore_class)
    logits = y_pred if from_logits else _logits_under(y_pred, R.Softmax)
    c = y_pred.shape[-1]
    if logits is not None:
        loss = F.cross_entropy(logits.reshape(-1, c), Tensor(t.reshape(-1)), reduction="none",
                               ignore_index=ignore)
        return _per_sample(loss.reshape(t.shape))
    labels = t.reshape(-1)
    valid = labels != ignore
    bad = labels[valid & ((labels < 0) | (labels >= c))]
    if bad.size:  # a negative label would silently pick a class from the end
        raise IndexError(f"sparse_categorical_crossentropy: label {int(bad[0])} is out of "
                         f"range for {c} classes; labels must lie in [0, {c})")
    p = _f.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), _EPS, 1.0 - _EPS)
    flat = p.reshape(-1, c)
    picked = flat[np.arange(flat.shape[0]), np.where(valid, labels, 0)]
    loss = -_f.log(picked) * Tensor(valid.astype(y_pred.dtype))
    return _per_sample(loss.reshape(t.shape))


def kl_divergence(y_true, y_pred):
    y_pred = _as_pred(y_pred)
    t = _f.clip(_target_like(y_true, y_pred), _EPS, 1.0)
    p = _f.clip(y_pred, _EPS, 1.0)
    return _per_sample((t * _f.log(t / p)).sum(axis=-1, keepdims=True))


def _match_weights(name: str, sample_weight, loss):
    """Sample weights shaped to multiply ``loss`` as Keras does: trailing axes of size 1 are
    squeezed and missing trailing axes added, so (N,) weights weigh every step of an (N, T)
    loss and (N, 1) weights an (N,) loss."""
    w = as_tensor_data(sample_weight).astype(loss.dtype, copy=False)
    given = tuple(w.shape)
    while w.ndim > loss.ndim and w.shape[-1] == 1:
        w = w.reshape(w.shape[:-1])
    if w.ndim < loss.ndim:
        w = w.reshape(w.shape + (1,) * (loss.ndim - w.ndim))
    try:
        ok = np.broadcast_shapes(w.shape, tuple(loss.shape)) == tuple(loss.shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: sample_weight of shape {given} "
                         f"does not fit the per-sample losses of shape {tuple(loss.shape)}; "
                         "give one weight per sample (or per sample and step)")
    return w


class KerasLoss:
    """A Keras loss object: ``loss(y_true, y_pred, sample_weight=None)`` returns the mean over
    the batch of the per-sample losses (Keras's "sum_over_batch_size")."""

    def __init__(self, fn, name: str | None = None, reduction: str = "sum_over_batch_size",
                 **kwargs):
        self.fn, self.kwargs = fn, kwargs
        self.name = name or fn.__name__
        self.reduction = reduction

    def per_sample(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        loss = self.per_sample(y_true, y_pred)
        if sample_weight is not None:
            loss = loss * Tensor(_match_weights(self.name, sample_weight, loss))
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return loss.sum()
        return loss.mean()

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, **self.kwargs}


_KERAS = {
    "mse": mean_squared_error, "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
    "huber": huber, "huber_loss": huber,
    "binary_crossentropy": binary_crossentropy, "bce": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "kl_divergence": kl_divergence, "kld": kl_divergence, "kullback_leibler_divergence":
    kl_divergence,
}


def get(identifier) -> KerasLoss | Module:
    """Resolve a loss given to ``compile``: a Keras name, a loss object, a Module or a callable
    ``fn(y_true, y_pred)``."""
    if isinstance(identifier, (KerasLoss, Module)):
        return identifier
    if isinstance(identifier, str):
        key = "".join("_" + c.lower() if c.isupper() else c for c in identifier).lstrip("_")
        fn = _KERAS.get(identifier.lower()) or _KERAS.get(key)
        if fn is None:
            raise ValueError(f"unknown loss {identifier!r}; expected one of {sorted(_KERAS)}, "
                             "a loss object or a callable(y_true, y_pred)")
        return KerasLoss(fn, name=identifier)
    if callable(identifier):
        return KerasLoss(identifier)
    raise TypeError(f"loss must be a name, a loss object or a callable, got "
                    f"{type(identifier).__name__}")
