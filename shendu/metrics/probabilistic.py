"""Cross-entropy metrics (Keras names and semantics), averaged over the epoch's samples.

Probabilities are clipped to [1e-7, 1 - 1e-7] as in Keras; ``from_logits=True`` uses stable
log-sigmoid / log-softmax instead. Values are computed in float64.
"""

from __future__ import annotations

import numpy as np

from .base import Metric

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy"]

_EPS = 1e-7


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


class BinaryCrossentropy(Metric):
    """Mean binary cross-entropy; (n, k) inputs average over the last axis per sample.

    Example:
        >>> m = BinaryCrossentropy()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 4)
        0.8149
    """

    def __init__(self, name: str = "binary_crossentropy", dtype=None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        z = y_pred.astype(np.float64)
        t = y_true.astype(np.float64)
        t = t.reshape(z.shape) if t.shape != z.shape and t.size == z.size else t
        if self.label_smoothing:
            t = t * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:  # max(z, 0) - z t + log(1 + exp(-|z|))
            loss = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        else:
            p = np.clip(z, _EPS, 1 - _EPS)
            loss = -(t * np.log(p) + (1 - t) * np.log(1 - p))
        return loss.mean(axis=-1) if loss.ndim >= 2 else loss

    def get_config(self) -> dict:
        return {"name": self.name, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(Metric):
    """Mean categorical cross-entropy of one-hot targets; probabilities are renormalized to sum
    to 1 along ``axis`` (as Keras does) before clipping."""

    def __init__(self, name: str = "categorical_crossentropy", dtype=None,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
        self.from_logits, self.label_smoothing, self.axis = (from_logits,
                                                             float(label_smoothing), axis)
        super().__init__(name, dtype)

    def _log_probs(self, z: np.ndarray) -> np.ndarray:
        if self.from_logits:
            return _log_softmax(z, self.axis)
        p = z / z.sum(axis=self.axis, keepdims=True)
        return np.log(np.clip(p, _EPS, 1 - _EPS))

    def values(self, y_true, y_pred):
        z = y_pred.astype(np.float64)
        t = y_true.astype(np.float64)
        if t.shape != z.shape:
            raise ValueError(f"CategoricalCrossentropy needs one-hot y_true of shape {z.shape}, "
                             f"got {t.shape}; use SparseCategoricalCrossentropy for labels")
        if self.label_smoothing:
            t = t * (1.0 - self.label_smoothing) + self.label_smoothing / z.shape[self.axis]
        return -(t * self._log_probs(z)).sum(axis=self.axis)

    def get_config(self) -> dict:
        return {"name": self.name, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Mean categorical cross-entropy of integer labels (shape (n,) or (n, 1))."""

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype=None,
                 from_logits: bool = False, axis: int = -1):
        super().__init__(name, dtype, from_logits, 0.0, axis)

    def values(self, y_true, y_pred):
        z = np.moveaxis(y_pred.astype(np.float64), self.axis, -1)
        labels = y_true.reshape(z.shape[:-1]).astype(np.int64)
        k = z.shape[-1]
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(f"SparseCategoricalCrossentropy: labels must be in [0, {k}), got "
                             f"values in [{labels.min()}, {labels.max()}]")
        if self.from_logits:
            logp = _log_softmax(z, -1)
        else:
            p = z / z.sum(axis=-1, keepdims=True)
            logp = np.log(np.clip(p, _EPS, 1 - _EPS))
        return -np.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]

    def get_config(self) -> dict:
        return {"name": self.name, "from_logits": self.from_logits, "axis": self.axis}
