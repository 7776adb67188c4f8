"""``keras.losses``: loss functions ``fn(y_true, y_pred)`` and loss classes."""

from __future__ import annotations

from ..nn.losses import (
    KerasLoss,
    binary_crossentropy,
    categorical_crossentropy,
    get,
    huber,
    kl_divergence,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)

__all__ = ["mean_squared_error", "mean_absolute_error", "huber", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence",
           "mse", "mae", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence", "get",
           "Loss"]

mse = mean_squared_error
mae = mean_absolute_error
Loss = KerasLoss


def _loss_class(fn, default_name):
    def __init__(self, reduction="sum_over_batch_size", name=default_name, **kwargs):
        KerasLoss.__init__(self, fn, name=name, reduction=reduction, **kwargs)

    return type("".join(p.title() for p in default_name.split("_")), (KerasLoss,),
                {"__init__": __init__, "__module__": __name__})


MeanSquaredError = _loss_class(mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_class(mean_absolute_error, "mean_absolute_error")
Huber = _loss_class(huber, "huber_loss")
BinaryCrossentropy = _loss_class(binary_crossentropy, "binary_crossentropy")
CategoricalCrossentropy = _loss_class(categorical_crossentropy, "categorical_crossentropy")
SparseCategoricalCrossentropy = _loss_class(sparse_categorical_crossentropy,
                                            "sparse_categorical_crossentropy")
KLDivergence = _loss_class(kl_divergence, "kl_divergence")
