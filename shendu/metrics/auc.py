"""Area under the ROC or precision-recall curve as stateful metrics.

``AUC`` is Keras's metric: confusion counts at ``num_thresholds`` fixed thresholds, then a
Riemann sum; its memory is constant and its value approximates the true area (closely when the
scores spread over [0, 1]). ``ExactAUC`` keeps every score and computes scikit-learn's exact
``roc_auc_score`` / ``average_precision_score`` over the epoch.
"""

from __future__ import annotations

import numpy as np

from .base import Metric, _np
from .confusion import as_thresholds, divide_no_nan, evenly_spaced, prepare, threshold_counts
from .functional.ranking import average_binary_score, average_precision_score, roc_auc_score

__all__ = ["AUC", "ExactAUC"]

_EPSILON = 1e-7  # Keras's backend.epsilon(): the end thresholds sit just outside [0, 1]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


class AUC(Metric):
    """Keras's ``AUC``: approximate area under the ROC or PR curve from threshold buckets.

    Thresholds are ``num_thresholds`` evenly spaced values: ``-1e-7``, ``i / (num_thresholds
    - 1)`` for ``i = 1 .. num_thresholds - 2``, and ``1 + 1e-7`` (or ``thresholds`` plus those
    two ends). Weighted tp/fp/tn/fn counts accumulate per threshold over the epoch; ``result()``
    sums trapezoids (``summation_method="interpolation"``; for PR, Davis & Goadrich's
    interpolation of tp and fp), or lower/upper rectangles ("minoring"/"majoring").

    Args:
        num_thresholds: number of thresholds (> 1); more gives a closer approximation.
        curve: "ROC" or "PR".
        summation_method: "interpolation", "minoring" or "majoring".
        thresholds: explicit thresholds in [0, 1] (``num_thresholds`` is then ignored).
        multi_label: with (n, labels) inputs, one AUC per label averaged (weighted by
            ``label_weights``); otherwise every label-prediction pair is one data point.
        num_labels: number of labels for ``multi_label`` (else learned on the first batch).
        label_weights: per-label weights (see ``multi_label``).
        from_logits: apply a sigmoid to ``y_pred`` first.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> m.result()
        0.75
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None, dtype=None,
                 thresholds=None, multi_label: bool = False, num_labels: int | None = None,
                 label_weights=None, from_logits: bool = False):
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC curve must be 'ROC' or 'PR', got {curve!r}")
        if str(summation_method).lower() not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(as_thresholds(thresholds, 0.5))
            self._evenly = evenly_spaced([0.0] + inner + [1.0])
        else:
            if int(num_thresholds) <= 1:
                raise ValueError(f"AUC num_thresholds must be an integer > 1, got "
                                 f"{num_thresholds}")
            n = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self.num_thresholds = len(self._thresholds)
        self.curve = str(curve).upper()
        self.summation_method = str(summation_method).lower()
        self.multi_label = bool(multi_label)
        if num_labels and not self.multi_label:
            raise ValueError("AUC num_labels is needed only when multi_label=True")
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(
            label_weights, dtype=np.float64)
        self.from_logits = from_logits
        super().__init__(name, dtype)

    @property
    def thresholds(self) -> list:
        return list(self._thresholds)

    def reset_state(self) -> None:
        shape = (self.num_thresholds,)
        if self.multi_label:
            shape = None if not self.num_labels else (self.num_thresholds, self.num_labels)
        self._shape = shape
        z = None if shape is None else np.zeros(shape)
        self.true_positives = z
        self.false_positives = None if z is None else z.copy()
        self.true_negatives = None if z is None else z.copy()
        self.false_negatives = None if z is None else z.copy()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        pos, scores, w = prepare(y_true, y_pred, sample_weight)
        if self.from_logits:
            scores = _sigmoid(scores)
        if self.multi_label and scores.ndim != 2:
            raise ValueError(f"AUC(multi_label=True) needs y_pred of rank 2 (n, labels), got "
                             f"shape {scores.shape}")
        if self.label_weights is not None and not self.multi_label:
            w = w * np.broadcast_to(self.label_weights, scores.shape)
        if self._evenly:  # Keras's bucketed path clips out-of-range scores
            scores = np.clip(scores, 0.0, 1.0)
        counts = threshold_counts(pos, scores, w, self._thresholds, self.multi_label)
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.true_negatives, \
                self.false_negatives = (np.zeros_like(c) for c in counts)
        elif counts[0].shape != self.true_positives.shape:
            raise ValueError(f"AUC was built for {self.true_positives.shape[1:]} labels, got "
                             f"y_pred of shape {scores.shape}")
        self.true_positives += counts[0]
        self.false_positives += counts[1]
        self.true_negatives += counts[2]
        self.false_negatives += counts[3]

    def _average(self, by_label: np.ndarray) -> float:
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(divide_no_nan(np.sum(by_label * self.label_weights),
                                   np.sum(self.label_weights)))

    def _interpolate_pr_auc(self) -> float:
        """Davis & Goadrich (2006): tp and fp vary linearly between thresholds, so the area of
        each interval is slope * (dTP + intercept * log(P_A / P_B)) / (tp + fn)."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        increment = divide_no_nan(slope * (dtp + intercept * log_ratio),
                                  np.maximum(tp[1:] + fn[1:], 0))
        if self.multi_label:
            return self._average(increment.sum(axis=0))
        return float(increment.sum())

    def result(self) -> float:
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        terms = (x[:-1] - x[1:]) * heights
        if self.multi_label:
            return self._average(terms.sum(axis=0))
        return float(terms.sum())

    def get_config(self) -> dict:
        cfg = {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
               "summation_method": self.summation_method, "multi_label": self.multi_label,
               "num_labels": self.num_labels, "from_logits": self.from_logits,
               "label_weights": None if self.label_weights is None
               else self.label_weights.tolist()}
        if self._init_from_thresholds:
            cfg["thresholds"] = self.thresholds[1:-1]
        return cfg


class ExactAUC(Metric):
    """Exact area under the ROC curve (or average precision) over the whole epoch.

    Keeps every (label, score, weight) it is given, so memory grows with the data: 24 bytes
    per prediction (8 per label, score and weight; an epoch of 1M samples x 10 classes holds
    about 240 MB). ``result()`` equals ``functional.roc_auc_score`` (``curve="ROC"``) or
    ``functional.average_precision_score`` (``curve="PR"``) on everything seen.

    Args:
        curve: "ROC" or "PR" (average precision: the step-function area, no interpolation).
        multi_label: with (n, k) inputs, score each column and combine with ``average``
            ("macro", "weighted", "micro" or None for one value per column); otherwise all
            label-prediction pairs are pooled (the same as "micro").
        average: see ``multi_label``.
        from_logits: apply a sigmoid to ``y_pred`` first.

    Integer labels of shape (n,) with (n, k) scores are one-hot encoded (one-vs-rest). An epoch
    with a single class gives NaN for ROC (the area is undefined) with a warning.
    """

    def __init__(self, curve: str = "ROC", multi_label: bool = False,
                 average: str | None = "macro", from_logits: bool = False,
                 name: str | None = None, dtype=None):
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f"ExactAUC curve must be 'ROC' or 'PR', got {curve!r}")
        if average not in ("macro", "weighted", "micro", None):
            raise ValueError(f"ExactAUC average must be 'macro', 'weighted', 'micro' or None, "
                             f"got {average!r}")
        self.curve = str(curve).upper()
        self.multi_label, self.average, self.from_logits = bool(multi_label), average, from_logits
        super().__init__(name or ("roc_auc" if self.curve == "ROC" else "pr_auc"), dtype)

    def reset_state(self) -> None:
        self._labels, self._scores, self._weights = [], [], []

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        yt, yp = _np(y_true), _np(y_pred)
        if yp.ndim == 2 and yp.shape[1] > 1 and yt.size == yp.shape[0]:
            yt = (yt.reshape(-1, 1).astype(np.int64) == np.arange(yp.shape[1])).astype(
                np.float64)  # sparse labels -> one-vs-rest indicators
        pos, scores, w = prepare(yt, yp, sample_weight)
        if self.from_logits:
            scores = _sigmoid(scores)
        if self.multi_label:
            if scores.ndim != 2:
                raise ValueError(f"ExactAUC(multi_label=True) needs y_pred of shape (n, labels), "
                                 f"got {scores.shape}")
            if self._scores and scores.shape[1] != self._scores[0].shape[1]:
                raise ValueError(f"ExactAUC saw {self._scores[0].shape[1]} labels before, got "
                                 f"{scores.shape[1]}")
        else:
            pos, scores, w = pos.ravel(), scores.ravel(), w.ravel()
        self._labels.append(pos.astype(np.int8))
        self._scores.append(scores.copy())
        self._weights.append(np.array(w, dtype=np.float64))

    def result(self):
        if not self._scores:
            return 0.0
        y, s, w = (np.concatenate(a) for a in (self._labels, self._scores, self._weights))
        fn = roc_auc_score if self.curve == "ROC" else average_precision_score
        if not self.multi_label:
            return float(fn(y, s, sample_weight=w))
        if self.average == "micro":
            return float(fn(y.ravel(), s.ravel(), sample_weight=w.ravel()))
        # per column, each with its own weights (they are per sample, broadcast over columns)

        def metric(t, sc, sample_weight=None):
            return fn(t, sc, sample_weight=w[:, 0])

        return average_binary_score(metric, y, s, self.average,
                                    None if self.average != "weighted" else w[:, 0])

    def get_config(self) -> dict:
        return {"name": self.name, "curve": self.curve, "multi_label": self.multi_label,
                "average": self.average, "from_logits": self.from_logits}
