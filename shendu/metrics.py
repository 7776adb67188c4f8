"""Metrics that accumulate over a whole epoch (never an average of per-batch values).

A stateful metric has ``update_state(y_true, y_pred, sample_weight=None)``, ``result()`` and
``reset_state()``; ``compile(metrics=["accuracy"])`` resolves names with ``get``.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor

__all__ = ["Metric", "Mean", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "accuracy", "get"]


def _np(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(x)


class Metric:
    """Base class: keeps running sums, so ``result()`` is exact over everything seen."""

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = self.values(_np(y_true), _np(y_pred))
        w = np.ones_like(values, dtype=np.float64) if sample_weight is None else \
            np.broadcast_to(_np(sample_weight).astype(np.float64).reshape(
                values.shape[:1] + (1,) * (values.ndim - 1)), values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def values(self, y_true, y_pred) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def get_config(self) -> dict:
        return {"name": self.name}

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()


class Mean(Metric):
    """Weighted mean of the values given to ``update_state(values, sample_weight)``."""

    def update_state(self, values, sample_weight=None) -> None:  # type: ignore[override]
        v = _np(values).astype(np.float64)
        w = np.ones_like(v) if sample_weight is None else np.broadcast_to(
            _np(sample_weight).astype(np.float64), v.shape)
        self.total += float((v * w).sum())
        self.count += float(w.sum())


class BinaryAccuracy(Metric):
    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5):
        self.threshold = threshold
        super().__init__(name)

    def values(self, y_true, y_pred):
        y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
        return ((y_pred > self.threshold) == (y_true > 0.5)).astype(np.float64)


class CategoricalAccuracy(Metric):
    def __init__(self, name: str = "categorical_accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        return (y_true.argmax(-1) == y_pred.argmax(-1)).astype(np.float64)


class SparseCategoricalAccuracy(Metric):
    def __init__(self, name: str = "sparse_categorical_accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        t = y_true.reshape(y_pred.shape[:-1]) if y_true.size == int(np.prod(
            y_pred.shape[:-1])) else y_true
        return (t.astype(np.int64) == y_pred.argmax(-1)).astype(np.float64)


class Accuracy(Metric):
    """Keras's "accuracy": exact match, or the right variant picked from the shapes."""

    def __init__(self, name: str = "accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        return accuracy_values(y_true, y_pred)


def accuracy_values(y_true, y_pred) -> np.ndarray:
    """Per-sample correctness, choosing sparse/categorical/binary by the shapes."""
    if y_pred.ndim >= 2 and y_pred.shape[-1] > 1:
        if y_true.shape == y_pred.shape:
            return CategoricalAccuracy().values(y_true, y_pred)
        return SparseCategoricalAccuracy().values(y_true, y_pred)
    if y_pred.dtype.kind == "f" and y_true.size == y_pred.size:
        return BinaryAccuracy().values(y_true, y_pred)
    return (y_true.reshape(y_pred.shape) == y_pred).astype(np.float64)


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions (class indices, one-hot or probabilities)."""
    return float(accuracy_values(_np(y_true), _np(y_pred)).mean())


_NAMES = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
}


def get(identifier, loss_name: str | None = None) -> Metric:
    """Resolve a metric for ``compile``; "accuracy"/"acc" follows the loss like Keras."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            ln = (loss_name or "").lower()
            cls = {"sparse_categorical_crossentropy": SparseCategoricalAccuracy,
                   "categorical_crossentropy": CategoricalAccuracy,
                   "binary_crossentropy": BinaryAccuracy}.get(ln)
            return cls(name=identifier) if cls else Accuracy(name=identifier)
        if key in _NAMES:
            return _NAMES[key]()
        raise ValueError(f"unknown metric {identifier!r}; expected 'accuracy' or one of "
                         f"{sorted(_NAMES)}, or a Metric")
    if callable(identifier):
        return _FnMetric(identifier)
    raise TypeError(f"metric must be a name, a Metric or a callable, got {identifier!r}")


class _FnMetric(Metric):
    """A function ``fn(y_true, y_pred)`` returning per-sample values, averaged over the epoch."""

    def __init__(self, fn):
        self.fn = fn
        super().__init__(getattr(fn, "__name__", "metric"))

    def values(self, y_true, y_pred):
        return np.asarray(_np(self.fn(Tensor(y_true), Tensor(y_pred))), dtype=np.float64)
