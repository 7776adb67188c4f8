"""Regression scores (MSE, RMSE, MAE, MAPE, R2) with scikit-learn's ``multioutput`` rules."""

from __future__ import annotations

import numpy as np

from ._targets import check_length, host, sample_weight_of, warn

__all__ = ["mean_squared_error", "root_mean_squared_error", "mean_absolute_error",
           "mean_absolute_percentage_error", "r2_score"]

_MULTIOUTPUT = ("raw_values", "uniform_average", "variance_weighted")


def _targets(y_true, y_pred, sample_weight, multioutput):
    y_true = host(y_true, "y_true").astype(np.float64)
    y_pred = host(y_pred, "y_pred").astype(np.float64)
    check_length(y_true, y_pred)
    y_true = y_true.reshape(-1, 1) if y_true.ndim == 1 else y_true
    y_pred = y_pred.reshape(-1, 1) if y_pred.ndim == 1 else y_pred
    if y_true.ndim != 2 or y_pred.ndim != 2 or y_true.shape[1] != y_pred.shape[1]:
        raise ValueError(f"y_true and y_pred should have the same number of outputs, got shapes "
                         f"{y_true.shape} and {y_pred.shape}")
    if isinstance(multioutput, str):
        if multioutput not in _MULTIOUTPUT:
            raise ValueError(f"multioutput must be one of {_MULTIOUTPUT} or an array of weights, "
                             f"got {multioutput!r}")
    elif multioutput is not None:
        multioutput = np.asarray(multioutput, dtype=np.float64)
        if y_true.shape[1] == 1:
            raise ValueError("custom multioutput weights are useful only with several outputs")
        if multioutput.shape != (y_true.shape[1],):
            raise ValueError(f"there must be one multioutput weight per output "
                             f"({y_true.shape[1]}), got {multioutput.shape[0]}")
    w = sample_weight_of(sample_weight, len(y_true))
    return y_true, y_pred, w, multioutput


def _combine(errors: np.ndarray, multioutput):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return errors
        multioutput = None
    return float(np.average(errors, weights=multioutput))


def mean_squared_error(y_true, y_pred, *, sample_weight=None,
                       multioutput="uniform_average"):
    """Mean of squared errors per output, combined by ``multioutput``.

    Example:
        >>> mean_squared_error([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
        0.375
    """
    y_true, y_pred, w, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(np.average((y_true - y_pred) ** 2, axis=0, weights=w), multioutput)


def root_mean_squared_error(y_true, y_pred, *, sample_weight=None,
                            multioutput="uniform_average"):
    """Square root of the MSE of each output, combined by ``multioutput``."""
    y_true, y_pred, w, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(np.sqrt(np.average((y_true - y_pred) ** 2, axis=0, weights=w)), multioutput)


def mean_absolute_error(y_true, y_pred, *, sample_weight=None,
                        multioutput="uniform_average"):
    """Mean of absolute errors per output, combined by ``multioutput``."""
    y_true, y_pred, w, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(np.average(np.abs(y_true - y_pred), axis=0, weights=w), multioutput)


def mean_absolute_percentage_error(y_true, y_pred, *, sample_weight=None,
                                   multioutput="uniform_average"):
    """Mean of ``|y_true - y_pred| / max(|y_true|, eps)`` (a fraction, not a percentage)."""
    y_true, y_pred, w, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    eps = np.finfo(np.float64).eps
    ape = np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), eps)
    return _combine(np.average(ape, axis=0, weights=w), multioutput)


def r2_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average",
             force_finite: bool = True):
    """Coefficient of determination 1 - SS_res / SS_tot per output, combined by ``multioutput``.

    With ``force_finite`` (default), a constant ``y_true`` scores 1.0 when predicted exactly and
    0.0 otherwise instead of NaN / -inf. Fewer than two samples give NaN.
    """
    y_true, y_pred, w, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    if len(y_pred) < 2:
        warn("R^2 score is not well-defined with less than two samples.")
        return float("nan")
    weight = 1.0 if w is None else w[:, None]
    numerator = (weight * (y_true - y_pred) ** 2).sum(axis=0)
    denominator = (weight * (y_true - np.average(y_true, axis=0, weights=w)) ** 2).sum(axis=0)
    return assemble_r2(numerator, denominator, multioutput, force_finite)


def assemble_r2(numerator, denominator, multioutput, force_finite: bool = True):
    """Per-output R2 from residual and total sums of squares, then combined."""
    nonzero_den = denominator != 0
    if not force_finite:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - numerator / denominator
    else:
        nonzero_num = numerator != 0
        scores = np.ones(len(numerator))
        valid = nonzero_den & nonzero_num
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[nonzero_num & ~nonzero_den] = 0.0
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return scores
        weights = None
        if multioutput == "variance_weighted" and np.any(nonzero_den):
            weights = denominator
    else:
        weights = multioutput
    return float(np.average(scores, weights=weights))
