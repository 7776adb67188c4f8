"""Stateless metric functions on whole arrays, with scikit-learn's signatures and semantics.

Inputs may be NumPy arrays, lists, shendu Tensors or CuPy arrays; everything is computed on
the host in float64 and returned as Python floats or NumPy arrays.

Example:
    >>> from shendu.metrics import functional as MF
    >>> MF.f1_score([0, 1, 2, 2], [0, 2, 2, 1], average="macro")
    0.5
"""

from ._targets import UndefinedMetricWarning, type_of_target
from .classification import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    log_loss,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    top_k_accuracy_score,
)
from .ranking import (
    auc,
    average_precision_score,
    confusion_matrix_at_thresholds,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from .regression import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

__all__ = [
    "accuracy_score", "top_k_accuracy_score", "confusion_matrix", "multilabel_confusion_matrix",
    "precision_recall_fscore_support", "precision_score", "recall_score", "f1_score",
    "fbeta_score", "log_loss", "auc", "roc_curve", "precision_recall_curve", "roc_auc_score",
    "average_precision_score", "confusion_matrix_at_thresholds", "mean_squared_error",
    "root_mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "r2_score", "type_of_target", "UndefinedMetricWarning",
]
