"""Curves and areas over every threshold of a score: ROC, precision-recall, AUC, average
precision, computed exactly (no threshold buckets) as scikit-learn computes them."""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np

from ._targets import (
    check_length,
    column_or_1d,
    encode,
    host,
    label_binarize,
    pos_label_of,
    sample_weight_of,
    type_of_target,
    warn,
)

__all__ = ["auc", "roc_curve", "precision_recall_curve", "roc_auc_score",
           "average_precision_score", "confusion_matrix_at_thresholds"]

_trapezoid = getattr(np, "trapezoid", None) or np.trapz


def auc(x, y) -> float:
    """Area under a curve given by points (trapezoidal rule); ``x`` must be monotonic."""
    x, y = column_or_1d(host(x, "x"), "x"), column_or_1d(host(y, "y"), "y")
    check_length(x, y)
    if x.shape[0] < 2:
        raise ValueError(f"at least 2 points are needed to compute the area under a curve, "
                         f"got x of shape {x.shape}")
    direction = 1
    dx = np.diff(x)
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1
        else:
            raise ValueError(f"x is neither increasing nor decreasing: {x}")
    return float(direction * _trapezoid(y, x))


def confusion_matrix_at_thresholds(y_true, y_score, *, pos_label=None, sample_weight=None):
    """(tns, fps, fns, tps, thresholds) at each distinct score, from the highest score down:
    a sample counts as predicted positive when its score is >= the threshold."""
    y_true = column_or_1d(host(y_true, "y_true"), "y_true")
    y_score = column_or_1d(host(y_score, "y_score"), "y_score")
    kind = type_of_target(y_true)
    if not (kind == "binary" or (kind == "multiclass" and pos_label is not None)):
        raise ValueError(f"{kind} y_true is not supported here; give binary labels (or "
                         "pos_label= for a multiclass y_true)")
    check_length(y_true, y_score)
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score contains NaN or infinity")
    pos_label = pos_label_of(y_true, pos_label)
    y = (y_true == pos_label).astype(np.float64)
    y_score = y_score.astype(np.float64, copy=False)
    w = sample_weight_of(sample_weight, len(y))
    if w is not None:  # zero-weight samples must not create thresholds
        keep = w != 0
        y, y_score, w = y[keep], y_score[keep], w[keep].astype(np.float64)
    # stable descending sort (ties keep their input order)
    n = len(y_score)
    order = (n - 1 - np.argsort(y_score[::-1], kind="stable"))[::-1]
    y, y_score = y[order], y_score[order]
    if w is not None:
        w = w[order]
    idx = np.r_[np.nonzero(np.diff(y_score))[0], n - 1]
    tps = np.cumsum(y if w is None else y * w)[idx]
    if w is None:
        fps = 1 + idx.astype(np.float64) - tps
    else:  # a cumsum, so fps stays increasing despite rounding
        fps = np.cumsum((1 - y) * w)[idx]
    return fps[-1] - fps, fps, tps[-1] - tps, tps, y_score[idx]


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
              drop_intermediate: bool = True):
    """(fpr, tpr, thresholds) of the ROC curve, starting at (0, 0) with threshold inf.

    Example:
        >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> fpr.tolist(), tpr.tolist()
        ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    _, fps, _, tps, thresholds = confusion_matrix_at_thresholds(
        y_true, y_score, pos_label=pos_label, sample_weight=sample_weight)
    if drop_intermediate and fps.shape[0] > 2:
        # keep the corners only: collinear points in between do not change the area
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    thresholds = np.r_[np.inf, thresholds.astype(np.float64)]
    if fps[-1] <= 0:
        warn("No negative samples in y_true, false positive value should be meaningless")
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warn("No positive samples in y_true, true positive value should be meaningless")
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
                           drop_intermediate: bool = False):
    """(precision, recall, thresholds), recall decreasing, ending at (precision 1, recall 0)."""
    _, fps, _, tps, thresholds = confusion_matrix_at_thresholds(
        y_true, y_score, pos_label=pos_label, sample_weight=sample_weight)
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])),
                              True])[0]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    ps = tps + fps
    precision = np.divide(tps, ps, out=np.zeros_like(tps), where=ps != 0)
    if tps[-1] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all "
                      "thresholds.", UserWarning, stacklevel=2)
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _binary_roc_auc(y_true, y_score, sample_weight=None, max_fpr=None) -> float:
    if len(np.unique(y_true)) != 2:
        warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        return float("nan")
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight)
    if max_fpr is None or max_fpr == 1:
        return auc(fpr, tpr)
    if max_fpr <= 0 or max_fpr > 1:
        raise ValueError(f"expected max_fpr in range (0, 1], got {max_fpr!r}")
    stop = np.searchsorted(fpr, max_fpr, "right")
    tpr = np.append(tpr[:stop], np.interp(max_fpr, fpr[stop - 1:stop + 1],
                                          tpr[stop - 1:stop + 1]))
    fpr = np.append(fpr[:stop], max_fpr)
    partial = auc(fpr, tpr)
    # McClish correction: 0.5 for a non-discriminant score, 1 for a perfect one
    lo, hi = 0.5 * max_fpr ** 2, max_fpr
    return 0.5 * (1 + (partial - lo) / (hi - lo))


def _binary_average_precision(y_true, y_score, sample_weight=None, pos_label=1) -> float:
    precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label=pos_label,
                                                  sample_weight=sample_weight)
    # step-function integral; the last precision is 1 by construction; clip rounding's -0.0
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def average_binary_score(metric, y_true, y_score, average, sample_weight=None):
    """Apply a binary metric per column of indicator targets and average (sklearn rules)."""
    options = (None, "micro", "macro", "weighted", "samples")
    if average not in options:
        raise ValueError(f"average has to be one of {options}, got {average!r}")
    kind = type_of_target(y_true)
    if kind not in ("binary", "multilabel-indicator"):
        raise ValueError(f"{kind} format is not supported")
    if kind == "binary":
        return metric(y_true, y_score, sample_weight=sample_weight)
    check_length(y_true, y_score)
    axis_other, score_weight, average_weight = 1, sample_weight, None
    if average == "micro":
        if score_weight is not None:
            score_weight = np.repeat(score_weight, y_true.shape[1])
        y_true, y_score = y_true.ravel(), y_score.ravel()
    elif average == "weighted":
        average_weight = (y_true.sum(axis=0) if score_weight is None
                          else (y_true * score_weight.reshape(-1, 1)).sum(axis=0))
        if np.isclose(average_weight.sum(), 0.0):
            return 0.0
    elif average == "samples":
        average_weight, score_weight, axis_other = score_weight, None, 0
    y_true = y_true.reshape(-1, 1) if y_true.ndim == 1 else y_true
    y_score = y_score.reshape(-1, 1) if y_score.ndim == 1 else y_score
    n = y_score.shape[axis_other]
    score = np.zeros(n)
    for c in range(n):
        score[c] = metric(np.take(y_true, c, axis=axis_other),
                          np.take(y_score, c, axis=axis_other), sample_weight=score_weight)
    if average is None:
        return score
    if average_weight is not None:
        score[np.asarray(average_weight) == 0] = 0
    return float(np.average(score, weights=average_weight))


def roc_auc_score(y_true, y_score, *, average: str | None = "macro", sample_weight=None,
                  max_fpr: float | None = None, multi_class: str = "raise", labels=None):
    """Area under the ROC curve (exact, from every distinct score).

    Binary: ``y_score`` is the positive class's score. Multilabel indicators: one AUC per
    column, averaged by ``average``. Multiclass: ``y_score`` holds probabilities (rows sum to
    1), ``multi_class="ovr"`` (one-vs-rest, average "macro"/"weighted"/"micro"/None) or
    ``"ovo"`` (Hand & Till, "macro"/"weighted"). A column or pair with one class only gives
    NaN with an ``UndefinedMetricWarning``.

    Example:
        >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """
    y_true, y_score = host(y_true, "y_true"), host(y_score, "y_score")
    kind = type_of_target(y_true)
    w = sample_weight_of(sample_weight, len(y_true))
    if kind == "multiclass" or (kind == "binary" and y_score.ndim == 2 and y_score.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1.0:
            raise ValueError(f"partial AUC (max_fpr={max_fpr}) is not available for "
                             "multiclass targets; leave max_fpr=None")
        if multi_class == "raise":
            raise ValueError("multiclass y_true: pass multi_class='ovr' or 'ovo'")
        return _multiclass_roc_auc(column_or_1d(y_true, "y_true"), y_score, labels,
                                   multi_class, average, w)
    if kind == "binary":
        y_true = column_or_1d(y_true, "y_true")
        y_true = label_binarize(y_true, np.unique(y_true))[:, 0]
        if y_score.ndim == 2:
            y_score = y_score[:, -1] if y_score.shape[1] == 2 else column_or_1d(y_score)

    def metric(t, s, sample_weight=None):
        return _binary_roc_auc(t, s, sample_weight, max_fpr)

    return average_binary_score(metric, y_true, y_score, average, w)


def _multiclass_roc_auc(y_true, y_score, labels, multi_class, average, w):
    if y_score.ndim != 2:
        raise ValueError(f"y_score needs shape (n_samples, n_classes) since y_true has several "
                         f"classes, got shape {y_score.shape}")
    if not np.allclose(1, y_score.sum(axis=1)):
        raise ValueError("target scores need to be probabilities for multiclass roc_auc, "
                         "i.e. they should sum up to 1.0 over classes (apply a softmax)")
    options = ("macro", "weighted", None) + (("micro",) if multi_class == "ovr" else ())
    if average not in options:
        raise ValueError(f"average must be one of {options} for multiclass problems, got "
                         f"{average!r}")
    if multi_class not in ("ovo", "ovr"):
        raise ValueError(f"multi_class must be 'ovo' or 'ovr', got {multi_class!r}")
    if average is None and multi_class == "ovo":
        raise NotImplementedError("average=None is not implemented for multi_class='ovo'")
    if labels is not None:
        labels = column_or_1d(np.asarray(labels), "labels")
        classes = np.unique(labels)
        if len(classes) != len(labels):
            raise ValueError("labels must be unique")
        if not np.array_equal(classes, labels):
            raise ValueError("labels must be ordered")
        if len(classes) != y_score.shape[1]:
            raise ValueError(f"number of given labels, {len(classes)}, is not the number of "
                             f"columns in y_score, {y_score.shape[1]}")
        if len(np.setdiff1d(y_true, classes)):
            raise ValueError("y_true contains labels not in labels=")
    else:
        classes = np.unique(y_true)
        if len(classes) != y_score.shape[1]:
            raise ValueError(f"number of classes in y_true ({len(classes)}) is not the number "
                             f"of columns in y_score ({y_score.shape[1]}); pass labels=")
    if multi_class == "ovo":
        if w is not None:
            raise ValueError("sample_weight is not supported for multiclass one-vs-one ROC "
                             "AUC; it must be None")
        return _ovo_average(encode(y_true, classes), y_score, average)
    return average_binary_score(_binary_roc_auc, label_binarize(y_true, classes), y_score,
                                average, w)


def _ovo_average(y, y_score, average) -> float:
    """Hand & Till (2001): mean over class pairs of the two one-vs-one AUCs."""
    present = np.unique(y)
    pairs = list(combinations(present, 2))
    scores, prevalence = np.empty(len(pairs)), np.empty(len(pairs))
    for i, (a, b) in enumerate(pairs):
        a_mask, b_mask = y == a, y == b
        ab = a_mask | b_mask
        prevalence[i] = np.average(ab)
        scores[i] = (_binary_roc_auc(a_mask[ab], y_score[ab, a])
                     + _binary_roc_auc(b_mask[ab], y_score[ab, b])) / 2
    return float(np.average(scores, weights=prevalence if average == "weighted" else None))


def average_precision_score(y_true, y_score, *, average: str | None = "macro", pos_label=1,
                            sample_weight=None):
    """Average precision: sum over thresholds of (R_n - R_{n-1}) P_n (no interpolation).

    Multiclass labels are scored one-vs-rest against ``y_score``'s columns (sorted labels).
    """
    y_true, y_score = host(y_true, "y_true"), host(y_score, "y_score")
    w = sample_weight_of(sample_weight, len(y_true))
    kind = type_of_target(y_true)
    if kind == "binary":
        y_true = column_or_1d(y_true, "y_true")
        present = np.unique(y_true)
        if len(present) == 2 and pos_label not in present:
            raise ValueError(f"pos_label={pos_label} is not a valid label; it should be one "
                             f"of {present.tolist()}")
        if y_score.ndim == 2:
            y_score = column_or_1d(y_score, "y_score")
    elif kind == "multilabel-indicator" and pos_label != 1:
        raise ValueError("pos_label is fixed to 1 for multilabel-indicator y_true")
    elif kind == "multiclass":
        if pos_label != 1:
            raise ValueError("pos_label is fixed to 1 for multiclass y_true")
        y_true = column_or_1d(y_true, "y_true")
        y_true = label_binarize(y_true, np.unique(y_true))
        if y_score.shape != y_true.shape:
            raise ValueError(f"y_score needs shape (n_samples, n_classes) = {y_true.shape} "
                             f"since y_true has several classes, got {y_score.shape}")

    def metric(t, s, sample_weight=None):
        return _binary_average_precision(t, s, sample_weight, pos_label)

    return average_binary_score(metric, y_true, y_score, average, w)
