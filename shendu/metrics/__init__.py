"""Metrics: stateless functions on whole arrays (``shendu.metrics.functional``, with
scikit-learn's signatures) and stateful metrics (Keras names) that accumulate over an epoch.

A stateful metric has ``update_state(y_true, y_pred, sample_weight=None)``, ``result()`` and
``reset_state()``. It accumulates sufficient statistics (sums, counts, confusion counts), so the
epoch's result equals the function on all the epoch's data, never a mean of per-batch values.
``compile(metrics=[...])`` resolves names and objects with ``get``.

Example:
    >>> from shendu import metrics
    >>> m = metrics.Precision()
    >>> m.update_state([0, 1, 1], [0.2, 0.9, 0.4])
    >>> m.update_state([1, 0], [0.7, 0.6])
    >>> round(m.result(), 4)  # 2 true positives out of 3 positive predictions
    0.6667
"""

from __future__ import annotations

from . import functional
from .accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    accuracy_values,  # noqa: F401  (module-level name of the former shendu/metrics.py)
)
from .auc import AUC, ExactAUC
from .base import Mean, MeanMetricWrapper, Metric, Sum
from .confusion import (
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from .fscore import ConfusionMatrix, F1Score, FBetaScore
from .functional import *  # noqa: F401,F403  (the sklearn-style functions, re-exported)
from .functional import __all__ as _functional_all
from .probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)
from .regression import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    R2Score,
    RootMeanSquaredError,
)

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall",
    "AUC", "ExactAUC", "FBetaScore", "F1Score", "ConfusionMatrix",
    "MeanSquaredError", "RootMeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "R2Score",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "accuracy", "get", "functional", *_functional_all,
]

# one factory per accepted name; keys are lower case without underscores, so "AUC", "auc",
# "F1Score", "f1_score", "TopKCategoricalAccuracy" and "top_k_categorical_accuracy" all work
_CLASSES = (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, TruePositives,
            FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC, ExactAUC,
            FBetaScore, F1Score, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError,
            MeanAbsolutePercentageError, R2Score, BinaryCrossentropy, CategoricalCrossentropy,
            SparseCategoricalCrossentropy, Mean, Sum)
_NAMES = {cls.__name__.lower(): cls for cls in _CLASSES}
_NAMES.update({
    "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "rmse": RootMeanSquaredError, "r2": R2Score, "bce": BinaryCrossentropy,
    "rocauc": lambda: ExactAUC("ROC"), "prauc": lambda: ExactAUC("PR"),
    "averageprecision": lambda: ExactAUC("PR"),
})
_ACCURACY_BY_LOSS = {"sparse_categorical_crossentropy": SparseCategoricalAccuracy,
                     "categorical_crossentropy": CategoricalAccuracy,
                     "binary_crossentropy": BinaryAccuracy}


def _key(name: str) -> str:
    return name.replace("_", "").lower()


def get(identifier, loss_name: str | None = None) -> Metric:
    """Resolve a metric for ``compile``.

    Accepts a ``Metric`` instance (returned as is) or class, a Keras name ("accuracy"/"acc",
    "auc"/"AUC", "precision", "recall", "f1_score", "mse", "mae", "rmse", "r2_score",
    "top_k_categorical_accuracy", "binary_crossentropy", ...; CamelCase class names too), the
    exact areas "roc_auc" / "pr_auc", a dict ``{"class_name": ..., "config": {...}}``, or a
    function ``fn(y_true, y_pred)`` returning per-sample values (averaged over the epoch).
    "accuracy"/"acc" follows the loss like Keras (binary, categorical or sparse categorical),
    else picks the variant from the shapes at each update. A metric made from a name is named
    by that name (as in Keras's ``compile``).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        cls = _NAMES.get(_key(str(identifier.get("class_name", ""))))
        if not isinstance(cls, type):
            raise ValueError(f"unknown metric class {identifier.get('class_name')!r}; expected "
                             f"one of {sorted(c.__name__ for c in _CLASSES)}")
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, str):
        key = _key(identifier)
        if key in ("accuracy", "acc"):
            cls = _ACCURACY_BY_LOSS.get((loss_name or "").lower())
            return cls(name=identifier) if cls else Accuracy(name=identifier)
        if key not in _NAMES:
            raise ValueError(f"unknown metric {identifier!r}; expected 'accuracy' or one of "
                             f"{sorted(_NAMES)} (case and underscores ignored), or a Metric")
        metric = _NAMES[key]()
        metric.name = identifier
        return metric
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"metric must be a name, a Metric or a callable, got {identifier!r}")
