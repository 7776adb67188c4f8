"""F-scores per class (Keras 3's ``F1Score``/``FBetaScore``) and a stateful confusion matrix."""

from __future__ import annotations

import numpy as np

from .base import Metric, _np
from .confusion import divide_no_nan

__all__ = ["FBetaScore", "F1Score", "ConfusionMatrix"]


class FBetaScore(Metric):
    """F-beta score of (n, num_classes) one-hot / multi-hot targets, accumulated over the epoch.

    Predictions become 0/1 like Keras 3: with ``threshold=None`` the highest score of each row
    is 1 (every tied maximum; an all-zero row stays 0), else ``y_pred > threshold``. Weighted
    tp, fp, fn and support accumulate per class (one global count for "micro").

    ``result()``: ``average=None`` gives one score per class; "micro" the score of the global
    counts; "macro" the mean over classes; "weighted" the mean weighted by support. Unlike
    Keras, which adds 1e-7 to every denominator, divisions are exact with 0/0 = 0, so the
    result equals scikit-learn's ``fbeta_score(..., zero_division=0)`` on the binarized data.
    For a single sigmoid output give ``threshold=0.5`` (an argmax over one column is always 1).

    Example:
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
        ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
        >>> np.round(m.result(), 4).tolist()
        [0.5, 0.8, 0.6667]
    """

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__} average must be one of None, 'micro', "
                             f"'macro', 'weighted', got {average!r}")
        if not isinstance(beta, (int, float)) or beta <= 0:
            raise ValueError(f"{type(self).__name__} beta must be a number > 0, got {beta!r}")
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"{type(self).__name__} threshold must satisfy 0 < threshold <= 1, "
                             f"got {threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.true_positives = self.false_positives = self.false_negatives = None
        self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        yt = _np(y_true).astype(np.float64)
        yp = _np(y_pred).astype(np.float64)
        if yp.ndim == 2 and yt.shape != yp.shape and yt.size == yp.size:
            yt = yt.reshape(yp.shape)  # (n,) labels for an (n, 1) output
        if yp.ndim != 2 or yt.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs (batch, num_classes), got "
                             f"y_true {yt.shape} and y_pred {yp.shape}; one-hot encode sparse "
                             "labels first")
        if yt.shape != yp.shape:
            raise ValueError(f"{type(self).__name__}: y_true {yt.shape} and y_pred {yp.shape} "
                             "must have the same shape")
        if self.threshold is None:
            pred = (yp >= yp.max(axis=-1, keepdims=True)) & (np.abs(yp) > 1e-9)
        else:
            pred = yp > self.threshold
        pred = pred.astype(np.float64)
        w = 1.0 if sample_weight is None else _np(sample_weight).astype(np.float64).reshape(
            -1, 1)
        axis = None if self.average == "micro" else 0
        stats = [(pred * yt * w).sum(axis=axis), (pred * (1 - yt) * w).sum(axis=axis),
                 ((1 - pred) * yt * w).sum(axis=axis), (yt * w).sum(axis=axis)]
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.false_negatives, \
                self.intermediate_weights = (np.zeros_like(np.asarray(s)) for s in stats)
        elif np.shape(stats[0]) != np.shape(self.true_positives):
            raise ValueError(f"{type(self).__name__} was built for "
                             f"{np.shape(self.true_positives)} classes, got y_pred {yp.shape}")
        self.true_positives = self.true_positives + stats[0]
        self.false_positives = self.false_positives + stats[1]
        self.false_negatives = self.false_negatives + stats[2]
        self.intermediate_weights = self.intermediate_weights + stats[3]

    def result(self):
        if self.true_positives is None:
            return 0.0
        b2 = self.beta ** 2
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        # (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp): precision and recall combined exactly
        f = divide_no_nan((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)
        if self.average == "weighted":
            support = self.intermediate_weights
            return float(np.sum(f * divide_no_nan(support, np.sum(support))))
        if self.average is not None:
            return float(np.mean(f))
        return f

    def get_config(self) -> dict:
        return {"name": self.name, "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score (``FBetaScore`` with beta = 1), Keras 3 semantics; see ``FBetaScore``."""

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        cfg = super().get_config()
        del cfg["beta"]
        return cfg


class ConfusionMatrix(Metric):
    """Weighted ``num_classes x num_classes`` confusion counts over the epoch (rows: true
    class, columns: predicted class), from integer or one-hot labels and class scores.

    Scores of shape (n, k > 1) are argmaxed; one score per sample (binary) is compared with
    ``threshold``; integer predictions are taken as labels. ``result()`` returns the matrix
    (float64), equal to ``functional.confusion_matrix(..., labels=range(num_classes))``.
    """

    def __init__(self, num_classes: int, threshold: float = 0.5,
                 name: str = "confusion_matrix", dtype=None):
        if int(num_classes) < 2:
            raise ValueError(f"ConfusionMatrix num_classes must be >= 2, got {num_classes}")
        self.num_classes, self.threshold = int(num_classes), threshold
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes))

    def _labels(self, y: np.ndarray, scores: bool) -> np.ndarray:
        if y.ndim >= 2 and y.shape[-1] > 1:
            return y.argmax(-1).ravel()
        y = y.ravel()
        if scores and y.dtype.kind == "f" and not np.all(y == np.round(y)):
            return (y > self.threshold).astype(np.int64)
        return y.astype(np.int64)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t = self._labels(_np(y_true), False)
        p = self._labels(_np(y_pred), True)
        if len(t) != len(p):
            raise ValueError(f"ConfusionMatrix got {len(t)} labels and {len(p)} predictions")
        k = self.num_classes
        for name, v in (("y_true", t), ("y_pred", p)):
            if len(v) and (v.min() < 0 or v.max() >= k):
                raise ValueError(f"ConfusionMatrix({k}): {name} has class {int(v.max())} "
                                 f"outside [0, {k})")
        w = None if sample_weight is None else np.broadcast_to(
            _np(sample_weight).astype(np.float64).ravel(), t.shape)
        self.matrix += np.bincount(t * k + p, weights=w, minlength=k * k).reshape(k, k)

    def result(self) -> np.ndarray:
        return self.matrix.copy()

    def get_config(self) -> dict:
        return {"name": self.name, "num_classes": self.num_classes, "threshold": self.threshold}
