"""Classification scores on predicted labels and probabilities, as scikit-learn computes them.

Same signatures, defaults and edge cases as ``sklearn.metrics`` (``average=``,
``sample_weight=``, ``zero_division=``, ``labels=``, ``pos_label=``), on NumPy arrays, lists,
shendu Tensors or CuPy arrays; results are Python floats or NumPy arrays.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._targets import (
    average,
    check_length,
    check_targets,
    column_or_1d,
    encode,
    host,
    nanaverage,
    sample_weight_of,
    type_of_target,
    warn,
)

__all__ = ["accuracy_score", "top_k_accuracy_score", "confusion_matrix",
           "multilabel_confusion_matrix", "precision_recall_fscore_support", "precision_score",
           "recall_score", "f1_score", "fbeta_score", "log_loss"]

_AVERAGES = (None, "micro", "macro", "weighted", "samples")


def accuracy_score(y_true, y_pred, *, normalize: bool = True, sample_weight=None) -> float:
    """Fraction (or, with ``normalize=False``, count) of samples whose label is right; for
    indicator matrices a sample counts only when every label is right (subset accuracy).

    Example:
        >>> accuracy_score([0, 1, 2, 2], [0, 2, 2, 2])
        0.75
    """
    kind, _, y_true, y_pred = check_targets(y_true, y_pred)
    w = sample_weight_of(sample_weight, len(y_true))
    if kind == "multilabel-indicator":
        score = np.all(y_true == y_pred, axis=1)
    else:
        score = y_true == y_pred
    return average(score, w, normalize)


def top_k_accuracy_score(y_true, y_score, *, k: int = 2, normalize: bool = True,
                         sample_weight=None, labels=None) -> float:
    """Fraction of samples whose true label is among the ``k`` highest scores.

    ``y_score`` has one column per class (in the order of the sorted ``labels``, by default the
    sorted labels of ``y_true``); a binary problem may give the positive class's score alone.
    """
    y_true = column_or_1d(host(y_true, "y_true"), "y_true")
    y_score = host(y_score, "y_score")
    kind = type_of_target(y_true)
    if kind == "binary" and labels is not None and len(labels) > 2:
        kind = "multiclass"
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"top_k_accuracy_score: y_true must hold class labels (binary or "
                         f"multiclass), got {kind}")
    if kind == "binary":
        if y_score.ndim == 2 and y_score.shape[1] != 1:
            raise ValueError(f"y_true is binary while y_score has {y_score.shape[1]} columns; "
                             "if y_true does not contain every class, pass labels=")
        y_score = column_or_1d(y_score, "y_score")
    elif y_score.ndim != 2:
        raise ValueError(f"y_score needs shape (n_samples, n_classes) since y_true has several "
                         f"classes, got shape {y_score.shape}")
    check_length(y_true, y_score)
    w = sample_weight_of(sample_weight, len(y_true))
    n_score_classes = y_score.shape[1] if y_score.ndim == 2 else 2
    classes = _classes_for_scores(y_true, labels, n_score_classes)
    if k >= len(classes):
        warn(f"'k' ({k}) greater than or equal to 'n_classes' ({len(classes)}) will result in "
             "a perfect score and is therefore meaningless")
    y_enc = encode(y_true, classes)
    if kind == "binary":
        if k == 1:
            threshold = 0.5 if y_score.min() >= 0 and y_score.max() <= 1 else 0
            hits = (y_score > threshold).astype(np.int64) == y_enc
        else:
            hits = np.ones(len(y_score), dtype=bool)
    else:
        # sklearn's order: stable ascending argsort reversed, so ties favour the higher index
        ranked = np.argsort(y_score, axis=1, kind="mergesort")[:, ::-1][:, :k]
        hits = (ranked == y_enc[:, None]).any(axis=1)
    return average(hits, w, normalize)


def _classes_for_scores(y_true, labels, n_columns: int) -> np.ndarray:
    """The sorted class labels that the score columns stand for."""
    if labels is None:
        classes = np.unique(y_true)
        if len(classes) != n_columns:
            raise ValueError(f"number of classes in y_true ({len(classes)}) is not the number "
                             f"of score columns ({n_columns}); pass every known class with "
                             f"labels=, e.g. labels=np.arange({n_columns})")
        return classes
    labels = column_or_1d(np.asarray(labels), "labels")
    classes = np.unique(labels)
    if len(classes) != len(labels):
        raise ValueError("labels must be unique")
    if not np.array_equal(classes, labels):
        raise ValueError("labels must be ordered")
    if len(classes) != n_columns:
        raise ValueError(f"number of given labels ({len(classes)}) is not the number of score "
                         f"columns ({n_columns})")
    if len(np.setdiff1d(y_true, classes)):
        raise ValueError("y_true contains labels not in labels=")
    return classes


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None,
                     normalize: str | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``labels[i]`` predicted as ``labels[j]``.

    Integer counts unless the weights are floats; ``normalize`` ("true", "pred", "all") divides
    by row sums, column sums or the total (0/0 gives 0).
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be one of None, 'true', 'pred', 'all', got "
                         f"{normalize!r}")
    kind, present, y_true, y_pred = check_targets(y_true, y_pred)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"confusion_matrix does not support {kind} targets; use "
                         "multilabel_confusion_matrix")
    w = sample_weight_of(sample_weight, len(y_true))
    if w is None:
        w = np.ones(len(y_true), dtype=np.int64)
    if labels is None:
        labels = present
    else:
        labels = np.asarray(labels)
        if labels.size == 0:
            raise ValueError("labels should contain at least one label")
        if len(np.intersect1d(y_true, labels)) == 0:
            raise ValueError("at least one label given in labels= must be in y_true")
    n = labels.size
    ti, pi = _index_in(y_true, labels), _index_in(y_pred, labels)
    keep = (ti < n) & (pi < n)
    ti, pi, w = ti[keep], pi[keep], w[keep]
    dtype = np.int64 if w.dtype.kind in "biu" else np.float64
    cm = np.bincount(ti * n + pi, weights=w.astype(np.float64), minlength=n * n)
    cm = cm.reshape(n, n).astype(dtype)
    with np.errstate(all="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        elif normalize == "all":
            cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    if cm.shape == (1, 1):
        warnings.warn("a single label was found in y_true and y_pred; pass all known labels "
                      "with labels= to get the full matrix", UserWarning, stacklevel=2)
    return cm


def _index_in(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of each value in ``labels`` (any order); len(labels) where absent."""
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    pos = np.searchsorted(ordered, y)
    found = pos < len(labels)
    found[found] = ordered[pos[found]] == y[found]
    out = np.full(len(y), len(labels), dtype=np.int64)
    out[found] = order[pos[found]]
    return out


def multilabel_confusion_matrix(y_true, y_pred, *, sample_weight=None, labels=None,
                                samplewise: bool = False) -> np.ndarray:
    """One 2x2 matrix ``[[tn, fp], [fn, tp]]`` per label (one-vs-rest), or per sample."""
    kind, present, y_true, y_pred = check_targets(y_true, y_pred)
    w = sample_weight_of(sample_weight, len(y_true))
    n_labels = None
    if labels is None:
        labels = present
    else:
        labels = np.asarray(labels)
        n_labels = len(labels)
        labels = np.concatenate([labels, np.setdiff1d(present, labels, assume_unique=True)])
    if y_true.ndim == 1:
        if samplewise:
            raise ValueError("samplewise metrics are only available for multilabel targets")
        classes = np.unique(labels)
        ti, pi = encode(y_true, classes), encode(y_pred, classes, "y_pred")
        m = len(classes)
        hit = ti == pi
        tp_sum = np.bincount(ti[hit], weights=None if w is None else w[hit], minlength=m)
        pred_sum = np.bincount(pi, weights=w, minlength=m)
        true_sum = np.bincount(ti, weights=w, minlength=m)
        keep = np.searchsorted(classes, labels[:n_labels])
        tp_sum, pred_sum, true_sum = tp_sum[keep], pred_sum[keep], true_sum[keep]
    else:
        axis = 1 if samplewise else 0
        if n_labels is not None:
            if labels.max() > present.max() or labels.min() < 0:
                raise ValueError(f"all labels must be in [0, {len(present)}) for multilabel "
                                 f"targets, got {labels.tolist()}")
            y_true, y_pred = y_true[:, labels[:n_labels]], y_pred[:, labels[:n_labels]]
        both = (y_true != 0) & (y_pred != 0)
        tp_sum = _count(both, axis, w)
        pred_sum = _count(y_pred != 0, axis, w)
        true_sum = _count(y_true != 0, axis, w)
    fp, fn, tp = pred_sum - tp_sum, true_sum - tp_sum, tp_sum
    if w is not None and samplewise:
        tn = w * y_true.shape[1] - tp - fp - fn
    elif w is not None:
        tn = w.sum() - tp - fp - fn
    elif samplewise:
        tn = y_true.shape[1] - tp - fp - fn
    else:
        tn = y_true.shape[0] - tp - fp - fn
    return np.stack([tn, fp, fn, tp]).T.reshape(-1, 2, 2)


def _count(mask: np.ndarray, axis: int, w) -> np.ndarray:
    """Weighted count of true entries over samples (axis 0) or over labels (axis 1)."""
    if w is None:
        return mask.sum(axis=axis)
    if axis == 0:
        return (mask * w[:, None]).sum(axis=0)
    return mask.sum(axis=1) * w


def _zero_division_value(zero_division) -> float:
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, (int, float, np.floating)) and (
            zero_division in (0, 1) or np.isnan(zero_division)):
        return float(zero_division)
    raise ValueError(f"zero_division must be 'warn', 0, 1 or np.nan, got {zero_division!r}")


def _divide(num, den, metric, modifier, avg, warn_for, zero_division) -> np.ndarray:
    mask = den == 0
    den = np.asarray(den, dtype=np.float64).copy()
    den[mask] = 1
    result = np.asarray(num, dtype=np.float64) / den
    if not np.any(mask):
        return result
    result[mask] = _zero_division_value(zero_division)
    if zero_division == "warn" and metric in warn_for:
        what = "samples" if avg == "samples" else "labels"
        warn(f"{metric.capitalize()} is ill-defined and being set to 0.0 in {what} with no "
             f"{modifier} samples. Use `zero_division` to control this behavior.")
    return result


def _set_wise_labels(y_true, y_pred, avg, labels, pos_label):
    if avg not in _AVERAGES and avg != "binary":
        raise ValueError(f"average has to be one of {_AVERAGES + ('binary',)}, got {avg!r}")
    kind, present, _, _ = check_targets(y_true, y_pred)
    if avg == "binary":
        if kind == "binary":
            if pos_label not in present and len(present) >= 2:
                raise ValueError(f"pos_label={pos_label} is not a valid label; it should be "
                                 f"one of {present.tolist()}")
            return [pos_label]
        options = [a for a in _AVERAGES if kind != "multiclass" or a != "samples"]
        raise ValueError(f"target is {kind} but average='binary'; choose another average "
                         f"setting, one of {options}")
    if pos_label not in (None, 1):
        warnings.warn(f"pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
                      f"(got {avg!r}); use labels=[pos_label] to score a single class",
                      UserWarning, stacklevel=3)
    return labels


def precision_recall_fscore_support(y_true, y_pred, *, beta: float = 1.0, labels=None,
                                    pos_label=1, average: str | None = None,
                                    warn_for=("precision", "recall", "f-score"),
                                    sample_weight=None, zero_division="warn"):
    """Precision, recall, F-beta and support (true count) per label, or averaged.

    ``average``: None (per label), "binary" (``pos_label`` only), "micro" (global counts),
    "macro" (unweighted mean over labels), "weighted" (mean weighted by support), "samples"
    (per sample, multilabel only). ``zero_division`` is the value of 0/0 ("warn": 0 and a
    warning). Support is None when averaged.
    """
    _zero_division_value(zero_division)
    labels = _set_wise_labels(y_true, y_pred, average, labels, pos_label)
    samplewise = average == "samples"
    mcm = multilabel_confusion_matrix(y_true, y_pred, sample_weight=sample_weight,
                                      labels=labels, samplewise=samplewise)
    tp_sum = mcm[:, 1, 1]
    pred_sum = tp_sum + mcm[:, 0, 1]
    true_sum = tp_sum + mcm[:, 1, 0]
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([s.sum()]) for s in (tp_sum, pred_sum, true_sum))
    beta2 = beta ** 2
    precision = _divide(tp_sum, pred_sum, "precision", "predicted", average, warn_for,
                        zero_division)
    recall = _divide(tp_sum, true_sum, "recall", "true", average, warn_for, zero_division)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        # (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp), from the counts (no 0/0 in between)
        denom = beta2 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
        f_score = _divide((1 + beta2) * tp_sum.astype(np.float64), denom, "f-score",
                          "true nor predicted", average, warn_for, zero_division)
    if average == "weighted":
        weights = true_sum
    elif average == "samples":
        weights = None if sample_weight is None else sample_weight_of(sample_weight,
                                                                       len(tp_sum))
    else:
        weights = None
    if average is not None:
        return (nanaverage(precision, weights), nanaverage(recall, weights),
                nanaverage(f_score, weights), None)
    return precision, recall, f_score, true_sum


def fbeta_score(y_true, y_pred, *, beta: float, labels=None, pos_label=1,
                average: str | None = "binary", sample_weight=None, zero_division="warn"):
    """F-beta: the weighted harmonic mean of precision and recall (beta > 1 favours recall)."""
    _, _, f, _ = precision_recall_fscore_support(
        y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label, average=average,
        warn_for=("f-score",), sample_weight=sample_weight, zero_division=zero_division)
    return f


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average: str | None = "binary",
             sample_weight=None, zero_division="warn"):
    """F1 = 2 tp / (2 tp + fp + fn), per label or averaged like ``precision_recall_fscore_support``.

    Example:
        >>> f1_score([0, 1, 1, 0], [0, 1, 0, 0])
        0.6666666666666666
    """
    return fbeta_score(y_true, y_pred, beta=1, labels=labels, pos_label=pos_label,
                       average=average, sample_weight=sample_weight,
                       zero_division=zero_division)


def precision_score(y_true, y_pred, *, labels=None, pos_label=1,
                    average: str | None = "binary", sample_weight=None, zero_division="warn"):
    """Precision tp / (tp + fp), per label or averaged."""
    p, _, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        warn_for=("precision",), sample_weight=sample_weight, zero_division=zero_division)
    return p


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average: str | None = "binary",
                 sample_weight=None, zero_division="warn"):
    """Recall tp / (tp + fn), per label or averaged."""
    _, r, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        warn_for=("recall",), sample_weight=sample_weight, zero_division=zero_division)
    return r


def log_loss(y_true, y_proba, *, normalize: bool = True, sample_weight=None,
             labels=None) -> float:
    """Cross-entropy of predicted probabilities: mean (or sum) of ``-log p[true class]``.

    ``y_proba`` has one column per class in sorted label order (or the positive class's
    probability alone for two classes); probabilities are clipped to [eps, 1 - eps] of their
    dtype, as scikit-learn does.
    """
    y_true = host(y_true, "y_true")
    p = host(y_proba, "y_proba")
    if p.dtype.kind not in "f":
        p = p.astype(np.float64)
    if p.max() > 1:
        raise ValueError(f"y_proba contains values greater than 1: {p.max()}")
    if p.min() < 0:
        raise ValueError(f"y_proba contains values lower than 0: {p.min()}")
    check_length(y_true, p)
    w = sample_weight_of(sample_weight, len(y_true))
    onehot = _one_hot_targets(y_true, labels)
    if p.ndim == 1:
        p = p[:, None]
    if p.shape[1] == 1:
        p = np.concatenate([1 - p, p], axis=1)
    eps = np.finfo(p.dtype).eps
    if not np.allclose(p.sum(axis=1), 1, rtol=np.sqrt(eps)):
        warnings.warn("the y_proba values do not sum to one; make sure to pass probabilities",
                      UserWarning, stacklevel=2)
    if onehot.shape[1] != p.shape[1]:
        raise ValueError(f"y_true has {onehot.shape[1]} classes but y_proba has {p.shape[1]} "
                         "columns; pass every class with labels=")
    p = np.clip(p, eps, 1 - eps).astype(np.float64)
    loss = -(onehot * np.log(p)).sum(axis=1)
    return average(loss, w, normalize)


def _one_hot_targets(y_true: np.ndarray, labels) -> np.ndarray:
    """LabelBinarizer's encoding, always with at least two columns."""
    if type_of_target(y_true) == "multilabel-indicator":
        return (y_true != 0).astype(np.float64)
    y_true = column_or_1d(y_true, "y_true")
    if labels is not None:
        classes = np.unique(np.asarray(labels))
        if len(np.setdiff1d(y_true, classes)):
            raise ValueError(f"y_true contains values {np.setdiff1d(y_true, classes).tolist()} "
                             f"not in labels {classes.tolist()}")
    else:
        classes = np.unique(y_true)
    if len(classes) == 1:
        if labels is None:
            raise ValueError(f"y_true contains only one label ({classes[0]}); pass the list of "
                             "all expected class labels with labels=")
        raise ValueError(f"labels= needs at least two labels for log_loss, got "
                         f"{classes.tolist()}")
    return (y_true[:, None] == classes[None, :]).astype(np.float64)
