"""``keras.metrics``: stateful metrics accumulated over the epoch."""

from ..metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    Metric,
    SparseCategoricalAccuracy,
    get,
)

__all__ = ["Metric", "Mean", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "get"]
