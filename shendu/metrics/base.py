"""The stateful metric protocol and the metrics that are weighted means or sums of values.

A stateful metric keeps sufficient statistics (sums, counts, confusion counts), so that
``result()`` after many ``update_state`` calls equals the metric computed on all the data at
once; it is never a mean of per-batch results.
"""

from __future__ import annotations

import re

import numpy as np

from ..tensor import Tensor
from .functional._targets import host

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper"]


def _np(x) -> np.ndarray:
    return host(x)


def snake_case(name: str) -> str:
    """``TopKCategoricalAccuracy`` -> ``top_k_categorical_accuracy``; ``AUC`` -> ``auc``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def sample_weights(sample_weight, values: np.ndarray) -> np.ndarray:
    """Per-sample weights (shape (n,), (n, 1) or a scalar) broadcast over ``values``."""
    if sample_weight is None:
        return np.ones(values.shape, dtype=np.float64)
    w = _np(sample_weight).astype(np.float64)
    if w.ndim == 0:
        return np.broadcast_to(w, values.shape)
    if values.ndim == 0:
        raise ValueError(f"sample_weight of shape {w.shape} given for a single value")
    if w.shape != values.shape:
        if w.size != values.shape[0]:
            raise ValueError(f"sample_weight has shape {w.shape} but the batch has "
                             f"{values.shape[0]} samples; give one weight per sample")
        w = w.reshape(values.shape[:1] + (1,) * (values.ndim - 1))
    return np.broadcast_to(w, values.shape)


class Metric:
    """Base class of stateful metrics: ``update_state(y_true, y_pred, sample_weight=None)``,
    ``result()``, ``reset_state()``; calling the metric updates it and returns the result.

    The default implementation is an exact weighted mean over the epoch of the per-sample
    values returned by ``values(y_true, y_pred)``: a subclass defines ``values``, or overrides
    ``reset_state``/``update_state``/``result`` with its own sufficient statistics.
    """

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype
        self.reset_state()

    def reset_state(self) -> None:
        """Forget everything seen (called at the start of each epoch and evaluation)."""
        self.total = 0.0
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Accumulate a batch."""
        values = np.asarray(self.values(_np(y_true), _np(y_pred)), dtype=np.float64)
        w = sample_weights(sample_weight, values)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def values(self, y_true, y_pred) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define values(y_true, y_pred) "
                                  "or override update_state/result")

    def result(self):
        """The metric over everything accumulated since the last reset."""
        return self.total / self.count if self.count else 0.0

    def get_config(self) -> dict:
        return {"name": self.name}

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """Weighted mean of the values given to ``update_state(values, sample_weight)``.

    Example:
        >>> m = Mean()
        >>> m.update_state([1.0, 3.0])
        >>> m.update_state([5.0])
        >>> m.result()
        3.0
    """

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, values, sample_weight=None) -> None:  # type: ignore[override]
        v = _np(values).astype(np.float64)
        w = np.ones_like(v) if sample_weight is None else np.broadcast_to(
            _np(sample_weight).astype(np.float64), v.shape)
        self.total += float((v * w).sum())
        self.count += float(w.sum())


class Sum(Metric):
    """Weighted sum of the values given to ``update_state(values, sample_weight)``."""

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, values, sample_weight=None) -> None:  # type: ignore[override]
        v = _np(values).astype(np.float64)
        w = 1.0 if sample_weight is None else np.broadcast_to(
            _np(sample_weight).astype(np.float64), v.shape)
        self.total += float((v * w).sum())

    def result(self) -> float:
        return self.total


class MeanMetricWrapper(Metric):
    """Epoch mean of a function ``fn(y_true, y_pred, **kwargs)`` returning per-sample values.

    ``fn`` receives shendu Tensors (so it may use shendu ops) and returns a Tensor or array
    with one value per sample (or per element; all are averaged with the sample weights).
    """

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        self.fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)

    def values(self, y_true, y_pred):
        out = self.fn(Tensor(y_true), Tensor(y_pred), **self._fn_kwargs)
        return np.asarray(_np(out), dtype=np.float64)
