"""Accuracy metrics (Keras names): binary, categorical, sparse categorical and top-k."""

from __future__ import annotations

import numpy as np

from .base import Metric, _np

__all__ = ["Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
           "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "accuracy",
           "accuracy_values"]


def _sparse_labels(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Integer labels shaped like ``y_pred`` without its class axis."""
    if y_true.size == int(np.prod(y_pred.shape[:-1])):
        y_true = y_true.reshape(y_pred.shape[:-1])
    return y_true.astype(np.int64)


class BinaryAccuracy(Metric):
    """How often ``y_pred > threshold`` agrees with ``y_true > 0.5``."""

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5, dtype=None):
        self.threshold = threshold
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
        return ((y_pred > self.threshold) == (y_true > 0.5)).astype(np.float64)

    def get_config(self) -> dict:
        return {"name": self.name, "threshold": self.threshold}


class CategoricalAccuracy(Metric):
    """How often the argmax of ``y_pred`` is the argmax of the one-hot ``y_true``."""

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        return (y_true.argmax(-1) == y_pred.argmax(-1)).astype(np.float64)


class SparseCategoricalAccuracy(Metric):
    """How often the argmax of ``y_pred`` equals the integer label ``y_true``."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        return (_sparse_labels(y_true, y_pred) == y_pred.argmax(-1)).astype(np.float64)


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Keras's ``in_top_k``: the label's score is at least the k-th largest score (so every
    class tied at the boundary counts as in the top k)."""
    n_classes = y_pred.shape[-1]
    if k >= n_classes:
        return np.ones(labels.shape, dtype=bool)
    kth = -np.partition(-y_pred, k - 1, axis=-1)[..., k - 1]
    target = np.take_along_axis(y_pred, labels[..., None], axis=-1)[..., 0]
    return target >= kth


class TopKCategoricalAccuracy(Metric):
    """How often the one-hot target is among the ``k`` highest scores (ties at the k-th score
    count as hits, as in Keras)."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        self.k = int(k)
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        return _in_top_k(y_true.argmax(-1), y_pred, self.k).astype(np.float64)

    def get_config(self) -> dict:
        return {"name": self.name, "k": self.k}


class SparseTopKCategoricalAccuracy(Metric):
    """How often the integer label is among the ``k`` highest scores."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype=None):
        self.k = int(k)
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        return _in_top_k(_sparse_labels(y_true, y_pred), y_pred, self.k).astype(np.float64)

    def get_config(self) -> dict:
        return {"name": self.name, "k": self.k}


class Accuracy(Metric):
    """Keras's "accuracy": exact match, or the right variant picked from the shapes."""

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(name, dtype)

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
