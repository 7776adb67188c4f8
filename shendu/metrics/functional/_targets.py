"""What kind of target an array holds, and the small checks every metric function shares.

These follow scikit-learn's conventions (``type_of_target``, ``pos_label``, weighted averages) so
that the metric functions give the same numbers on the same inputs.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...backend import Device, to_device
from ...tensor import Tensor

__all__ = ["UndefinedMetricWarning", "type_of_target"]


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined on the data given (e.g. recall with no positive example)."""


def host(x, name: str = "input") -> np.ndarray:
    """``x`` (Tensor, NumPy or CuPy array, list) as a NumPy array on the host."""
    if isinstance(x, Tensor):
        return x.numpy()
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "__cuda_array_interface__"):
        return to_device(x, Device("cpu"))
    if x is None:
        raise ValueError(f"{name} is None; expected an array")
    return np.asarray(x)


def column_or_1d(y: np.ndarray, name: str = "y") -> np.ndarray:
    """``y`` of shape (n,) or (n, 1) as a 1-D array."""
    if y.ndim == 1:
        return y
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.ndim == 0:
        return y.reshape(1)
    raise ValueError(f"{name} should be a 1-D array or a column of shape (n, 1), got shape "
                     f"{y.shape}")


def check_length(*arrays) -> None:
    """All non-None arrays have the same number of samples."""
    lengths = [len(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError(f"inputs have inconsistent numbers of samples: {lengths}")


def sample_weight_of(sample_weight, n: int) -> np.ndarray | None:
    """A 1-D float weight per sample, or None."""
    if sample_weight is None:
        return None
    w = host(sample_weight, "sample_weight")
    if w.ndim == 0:
        return np.full(n, float(w))
    w = column_or_1d(w, "sample_weight")
    if len(w) != n:
        raise ValueError(f"sample_weight has {len(w)} values but there are {n} samples")
    return w


def _is_integral(y: np.ndarray) -> bool:
    if y.dtype.kind in "biu":
        return True
    if y.dtype.kind == "f":
        return bool(np.all(y == np.round(y)))
    return False


def is_multilabel(y: np.ndarray) -> bool:
    """A 2-D indicator matrix: more than one column, at most two distinct integral values."""
    if y.ndim != 2 or y.shape[1] <= 1 or y.size == 0:
        return False
    labels = np.unique(y)
    return len(labels) < 3 and _is_integral(labels)


def type_of_target(y) -> str:
    """scikit-learn's target kinds: "binary", "multiclass", "multilabel-indicator",
    "continuous", "continuous-multioutput", "multiclass-multioutput" or "unknown"."""
    y = host(y)
    if is_multilabel(y):
        return "multilabel-indicator"
    if y.ndim not in (1, 2):
        return "unknown"
    if not min(y.shape):
        return "binary" if y.ndim == 1 else "unknown"
    if y.dtype == object and not isinstance(y.flat[0], str):
        return "unknown"
    suffix = "-multioutput" if y.ndim == 2 and y.shape[1] > 1 else ""
    if y.dtype.kind == "f" and not _is_integral(y):
        if not np.all(np.isfinite(y)):
            raise ValueError("input contains NaN or infinity")
        return "continuous" + suffix
    if len(np.unique(y)) > 2 or (y.ndim == 2 and y.shape[1] > 1):
        return "multiclass" + suffix
    return "binary"


def unique_labels(*ys) -> np.ndarray:
    """Sorted labels found in any of ``ys`` (column indices for indicator matrices)."""
    if any(y.ndim == 2 and y.shape[1] > 1 for y in ys):
        cols = {y.shape[1] for y in ys}
        if len(cols) > 1:
            raise ValueError(f"multilabel inputs have different numbers of labels: {cols}")
        return np.arange(cols.pop())
    kinds = {"str" if y.dtype.kind in "OUS" else "num" for y in ys}
    if len(kinds) > 1:
        raise ValueError("mix of label input types (string and number)")
    return np.unique(np.concatenate([np.ravel(y) for y in ys]))


def check_targets(y_true, y_pred):
    """(kind, labels, y_true, y_pred) for classification metrics on predicted labels."""
    y_true, y_pred = host(y_true, "y_true"), host(y_pred, "y_pred")
    check_length(y_true, y_pred)
    if len(y_true) == 0:
        raise ValueError("found empty input arrays; at least one sample is required")
    kinds = {type_of_target(y_true), type_of_target(y_pred)}
    if kinds == {"binary", "multiclass"}:
        kinds = {"multiclass"}
    if len(kinds) > 1:
        a, b = type_of_target(y_true), type_of_target(y_pred)
        raise ValueError(f"classification metrics can't handle a mix of {a} and {b} targets "
                         "(y_pred must hold labels, not scores; threshold or argmax them first)")
    kind = kinds.pop()
    if kind not in ("binary", "multiclass", "multilabel-indicator"):
        raise ValueError(f"{kind} targets are not supported by classification metrics")
    if kind in ("binary", "multiclass"):
        y_true, y_pred = column_or_1d(y_true, "y_true"), column_or_1d(y_pred, "y_pred")
    labels = unique_labels(y_true, y_pred)
    if kind == "binary" and len(labels) > 2:
        kind = "multiclass"
    return kind, labels, y_true, y_pred


def pos_label_of(y_true: np.ndarray, pos_label):
    """The positive class: ``pos_label``, or 1 when the labels are {0, 1} or {-1, 1}."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(y_true)
    ok = classes.dtype.kind not in "OUS" and len(classes) <= 2 and any(
        np.array_equal(classes, c) for c in ([0, 1], [-1, 1], [0], [-1], [1]))
    if not ok:
        raise ValueError(f"y_true takes values in {classes.tolist()} and pos_label is not "
                         "specified: make y_true take values in {0, 1} or {-1, 1}, or pass "
                         "pos_label explicitly")
    return 1


def encode(y: np.ndarray, classes: np.ndarray, name: str = "y_true") -> np.ndarray:
    """Index of each value of ``y`` in the sorted ``classes``."""
    idx = np.searchsorted(classes, y)
    bad = (idx >= len(classes)) | (classes[np.minimum(idx, len(classes) - 1)] != y)
    if np.any(bad):
        raise ValueError(f"{name} contains labels {np.unique(y[bad]).tolist()} that are not in "
                         f"the classes {classes.tolist()}")
    return idx


def label_binarize(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """One column per class (a single column ``y == classes[1]`` for two classes)."""
    classes = np.asarray(classes)
    if len(classes) == 2:
        return (y == classes[1]).astype(np.int64)[:, None]
    return (y[:, None] == classes[None, :]).astype(np.int64)


def average(a, weights=None, normalize: bool = True) -> float:
    """np.average, or a (weighted) sum when ``normalize`` is False."""
    if normalize:
        return float(np.average(a, weights=weights))
    return float(np.sum(a) if weights is None else np.dot(a, weights))


def nanaverage(a: np.ndarray, weights=None) -> float:
    """Weighted mean ignoring NaN; all-zero weights fall back to the plain mean."""
    if a.shape[0] == 0:
        return float("nan")
    mask = np.isnan(a)
    if np.all(mask):
        return float("nan")
    if weights is None:
        return float(np.mean(a[~mask]))
    a, weights = a[~mask], np.asarray(weights)[~mask]
    try:
        return float(np.average(a, weights=weights))
    except ZeroDivisionError:
        return float(np.mean(a))


def warn(message: str) -> None:
    warnings.warn(message, UndefinedMetricWarning, stacklevel=3)
