"""Regression metrics accumulated over the epoch (Keras names): MSE, RMSE, MAE, MAPE, R2."""

from __future__ import annotations

import warnings

import numpy as np

from .base import Metric, _np, sample_weights
from .functional.regression import assemble_r2

__all__ = ["MeanSquaredError", "RootMeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "R2Score"]


def _same_shape(y_true, y_pred):
    """float64 arrays of one shape ((n,) and (n, 1) are matched)."""
    yt, yp = _np(y_true).astype(np.float64), _np(y_pred).astype(np.float64)
    if yt.shape != yp.shape:
        if yt.size != yp.size:
            raise ValueError(f"y_true of shape {yt.shape} does not match y_pred of shape "
                             f"{yp.shape}")
        yt = yt.reshape(yp.shape)
    return yt, yp


def _per_sample(err: np.ndarray) -> np.ndarray:
    """Mean over the last axis for inputs of rank >= 2 (one value per sample, as Keras);
    1-D inputs hold one value per sample already."""
    return err.mean(axis=-1) if err.ndim >= 2 else err


class MeanSquaredError(Metric):
    """Mean of ``(y_true - y_pred) ** 2`` over the epoch (per-sample means, sample-weighted).

    Example:
        >>> m = MeanSquaredError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> m.result()
        0.25
    """

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        yt, yp = _same_shape(y_true, y_pred)
        return _per_sample((yt - yp) ** 2)


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the epoch's mean squared error (not a mean of per-batch roots)."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class MeanAbsoluteError(Metric):
    """Mean of ``|y_true - y_pred|`` over the epoch."""

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        yt, yp = _same_shape(y_true, y_pred)
        return _per_sample(np.abs(yt - yp))


class MeanAbsolutePercentageError(Metric):
    """Mean of ``100 * |y_true - y_pred| / max(|y_true|, 1e-7)`` over the epoch (Keras)."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype=None):
        super().__init__(name, dtype)

    def values(self, y_true, y_pred):
        yt, yp = _same_shape(y_true, y_pred)
        return _per_sample(100.0 * np.abs(yt - yp) / np.maximum(np.abs(yt), 1e-7))


class R2Score(Metric):
    """Coefficient of determination over the epoch, one per output then aggregated.

    Per output it keeps the total weight, the weighted mean and sum of squared deviations of
    ``y_true`` (merged batch by batch with Chan's parallel formula, which stays accurate where
    sum-of-squares formulas cancel) and the weighted sum of squared residuals; ``result()``
    equals scikit-learn's ``r2_score`` on all the data (``force_finite`` rules: a constant
    target scores 1 if predicted exactly, else 0).

    Args:
        class_aggregation: "uniform_average", "variance_weighted_average" or None (one score
            per output).
        num_regressors: > 0 gives the adjusted R2 ``1 - (1 - r2) (n - 1) / (n - p - 1)``.
    """

    def __init__(self, class_aggregation: str | None = "uniform_average",
                 num_regressors: int = 0, name: str = "r2_score", dtype=None):
        if class_aggregation not in ("uniform_average", "variance_weighted_average", None):
            raise ValueError(f"R2Score class_aggregation must be 'uniform_average', "
                             f"'variance_weighted_average' or None, got {class_aggregation!r}")
        if num_regressors < 0:
            raise ValueError(f"R2Score num_regressors must be >= 0, got {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, int(num_regressors)
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.weight = self.mean = self.m2 = self.residual = None
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        yt, yp = _same_shape(y_true, y_pred)
        yt = yt.reshape(len(yt), -1) if yt.ndim != 1 else yt[:, None]
        yp = yp.reshape(yt.shape)
        w = sample_weights(sample_weight, yt)
        wb = w.sum(axis=0)
        if self.weight is None:
            zeros = np.zeros(yt.shape[1])
            self.weight, self.mean, self.m2, self.residual = (zeros.copy() for _ in range(4))
        elif yt.shape[1] != len(self.weight):
            raise ValueError(f"R2Score saw {len(self.weight)} outputs before, got {yt.shape[1]}")
        mean_b = np.divide((w * yt).sum(axis=0), wb, out=np.zeros_like(wb), where=wb != 0)
        m2_b = (w * (yt - mean_b) ** 2).sum(axis=0)
        total = self.weight + wb
        delta = mean_b - self.mean
        frac = np.divide(wb, total, out=np.zeros_like(wb), where=total != 0)
        self.mean = self.mean + delta * frac
        self.m2 = self.m2 + m2_b + delta ** 2 * self.weight * frac
        self.weight = total
        self.residual = self.residual + (w * (yt - yp) ** 2).sum(axis=0)
        self.num_samples += len(yt)

    def result(self):
        if self.weight is None:
            return 0.0
        if self.num_samples < 2:
            warnings.warn("R2Score is not well-defined with fewer than two samples",
                          UserWarning, stacklevel=2)
            return float("nan")
        agg = {"uniform_average": "uniform_average", None: "raw_values",
               "variance_weighted_average": "variance_weighted"}[self.class_aggregation]
        r2 = assemble_r2(self.residual, self.m2, agg)
        p, n = self.num_regressors, self.num_samples
        if p:
            if p > n - 1:
                warnings.warn("more independent predictors than data points in adjusted R2; "
                              "falling back to the standard R2", UserWarning, stacklevel=2)
            elif p == n - 1:
                warnings.warn("division by zero in adjusted R2; falling back to the standard "
                              "R2", UserWarning, stacklevel=2)
            else:
                r2 = 1 - (1 - np.asarray(r2)) * (n - 1) / (n - p - 1)
                r2 = float(r2) if np.ndim(r2) == 0 else r2
        return r2

    def get_config(self) -> dict:
        return {"name": self.name, "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
