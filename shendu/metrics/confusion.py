"""Confusion counts at thresholds (Keras semantics): TruePositives, FalsePositives,
TrueNegatives, FalseNegatives, Precision, Recall.

A prediction counts as positive at threshold ``t`` when ``y_pred > t`` (strictly); ``y_true``
is positive when non-zero. Inputs of shape (n, k) are flattened (every label-prediction pair is
one decision) unless ``class_id`` picks one column. Counts are weighted sums over the whole
epoch, so ``result()`` is exactly the metric on all the data seen.
"""

from __future__ import annotations

import numpy as np

from .base import Metric, _np

__all__ = ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision",
           "Recall"]

NEG_INF = -1e10  # Keras's threshold for "every top-k prediction is positive"


def divide_no_nan(a, b):
    """a / b, with 0 where b == 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def as_thresholds(thresholds, default: float) -> list:
    """A list of floats in [0, 1] (``default`` when None)."""
    if thresholds is None:
        return [float(default)]
    ts = [thresholds] if np.ndim(thresholds) == 0 else list(np.ravel(thresholds))
    bad = [t for t in ts if t is None or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"threshold values must be in [0, 1], got {bad}")
    return [float(t) for t in ts]


def evenly_spaced(thresholds) -> bool:
    """Keras's test for evenly spaced thresholds (it then clips predictions to [0, 1])."""
    t = np.asarray(thresholds, dtype=np.float64)
    if len(t) < 3:
        return False
    return bool(np.allclose(t, np.arange(len(t)) / (len(t) - 1), atol=1e-7))


def prepare(y_true, y_pred, sample_weight=None, top_k=None, class_id=None):
    """(positive mask, float scores, weights), all of ``y_pred``'s shape (or one column)."""
    y_true = _np(y_true)
    y_pred = _np(y_pred).astype(np.float64)
    if y_true.shape != y_pred.shape:
        if y_true.size != y_pred.size:
            raise ValueError(f"y_true of shape {y_true.shape} does not match y_pred of shape "
                             f"{y_pred.shape}; give labels with the predictions' shape")
        y_true = y_true.reshape(y_pred.shape)
    if sample_weight is None:
        w = np.ones(y_pred.shape)
    else:
        w = _np(sample_weight).astype(np.float64)
        if w.ndim and w.shape != y_pred.shape:
            if y_pred.ndim == 0 or w.size != y_pred.shape[0]:
                raise ValueError(f"sample_weight of shape {w.shape} does not fit predictions "
                                 f"of shape {y_pred.shape}; give one weight per sample")
            w = w.reshape((-1,) + (1,) * (y_pred.ndim - 1))
        w = np.broadcast_to(w, y_pred.shape)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(f"class_id={class_id} needs y_pred of shape (n, num_classes), got "
                             f"{y_pred.shape}")
        y_true, y_pred, w = y_true[..., class_id], y_pred[..., class_id], w[..., class_id]
    return y_true != 0, y_pred, w


def filter_top_k(x: np.ndarray, k: int) -> np.ndarray:
    """Keep the top ``k`` values of the last axis (ties: lower index first); the rest -> -1e10."""
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(mask, idx, True, axis=-1)
    return np.where(mask, x, NEG_INF)


def threshold_counts(positive, scores, weights, thresholds, multi_label: bool = False):
    """Weighted (tp, fp, tn, fn) per threshold, shape (T,) or (T, labels) with ``multi_label``.

    Each score is positive at the thresholds strictly below it; one sort of the thresholds and
    a reverse cumulative sum give every threshold's count in O(N + T) memory.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    order = np.argsort(thresholds, kind="stable")
    t_sorted = thresholds[order]
    n_t = len(thresholds)
    if multi_label:
        if scores.ndim != 2:
            raise ValueError(f"multi_label needs y_pred of shape (n, num_labels), got "
                             f"{scores.shape}")
        n_labels = scores.shape[1]
    else:
        positive, scores, weights = positive.ravel(), scores.ravel(), weights.ravel()
        positive, scores, weights = positive[:, None], scores[:, None], weights[:, None]
        n_labels = 1
    below = np.searchsorted(t_sorted, scores, side="left")  # thresholds < score
    offset = np.arange(n_labels) * (n_t + 1)
    bins = (below + offset).ravel()

    def per_threshold(v):
        hist = np.bincount(bins, weights=v.ravel(), minlength=n_labels * (n_t + 1))
        hist = hist.reshape(n_labels, n_t + 1)
        above = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]  # above[:, j] = sum_{below >= j}
        return above[:, 1:].T  # count at sorted threshold j: below > j

    pos_w = np.where(positive, weights, 0.0)
    neg_w = np.where(positive, 0.0, weights)
    tp, fp = per_threshold(pos_w), per_threshold(neg_w)
    fn = pos_w.sum(axis=0) - tp
    tn = neg_w.sum(axis=0) - fp
    inverse = np.argsort(order)
    out = [c[inverse] for c in (tp, fp, tn, fn)]
    if not multi_label:
        out = [c[:, 0] for c in out]
    return tuple(out)


class _ThresholdMetric(Metric):
    """Confusion counts at one or more thresholds, accumulated over the epoch."""

    _default_threshold = 0.5

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.top_k, self.class_id = top_k, class_id
        default = self._default_threshold if top_k is None else NEG_INF
        if thresholds is None:
            self.thresholds = [default]
        else:
            self.thresholds = as_thresholds(thresholds, default)
        self._evenly = evenly_spaced(self.thresholds)
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.true_positives, self.false_positives = np.zeros(n), np.zeros(n)
        self.true_negatives, self.false_negatives = np.zeros(n), np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        pos, scores, w = prepare(y_true, y_pred, sample_weight, self.top_k, self.class_id)
        if self._evenly:  # as Keras's bucketed path does
            scores = np.clip(scores, 0.0, 1.0)
        tp, fp, tn, fn = threshold_counts(pos, scores, w, self.thresholds)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _out(self, values: np.ndarray):
        return float(values[0]) if len(self.thresholds) == 1 else values

    def get_config(self) -> dict:
        cfg = {"name": self.name, "thresholds": self.init_thresholds}
        if self.top_k is not None or self.class_id is not None:
            cfg.update(top_k=self.top_k, class_id=self.class_id)
        return cfg


class TruePositives(_ThresholdMetric):
    """Weighted count of positives predicted positive (``y_pred > threshold``, default 0.5);
    one value per threshold when several are given.

    Example:
        >>> m = TruePositives()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> m.result()
        2.0
    """

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self._out(self.true_positives.copy())


class FalsePositives(_ThresholdMetric):
    """Weighted count of negatives predicted positive."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self._out(self.false_positives.copy())


class TrueNegatives(_ThresholdMetric):
    """Weighted count of negatives predicted negative."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self._out(self.true_negatives.copy())


class FalseNegatives(_ThresholdMetric):
    """Weighted count of positives predicted negative."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self._out(self.false_negatives.copy())


class Precision(_ThresholdMetric):
    """tp / (tp + fp) over the epoch (0 when nothing was predicted positive).

    Args:
        thresholds: float or list in [0, 1]; ``y_pred > t`` is a positive prediction
            (default 0.5, or every top-k prediction when ``top_k`` is set). One result per
            threshold when a list is given.
        top_k: only the k highest scores of each sample can be positive.
        class_id: score one column of (n, num_classes) predictions as a binary problem.

    Example:
        >>> m = Precision()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 4)
        0.6667
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._out(divide_no_nan(self.true_positives,
                                       self.true_positives + self.false_positives))


class Recall(_ThresholdMetric):
    """tp / (tp + fn) over the epoch (0 when there was no positive example); arguments as
    ``Precision``."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._out(divide_no_nan(self.true_positives,
                                       self.true_positives + self.false_negatives))
