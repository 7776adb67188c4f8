"""Weight and activity regularizers with Keras's semantics (``keras.regularizers``).

A regularizer is a callable that maps a weight (or a layer's output) to a scalar penalty Tensor
that is added to the training loss; it is built from shendu's differentiable functions, so the
penalty has a gradient. Keras layers take them as ``kernel_regularizer=``, ``bias_regularizer=``
and ``activity_regularizer=`` (a regularizer, a name such as ``"l2"`` or a config dict);
``Model.compute_loss`` adds every layer's penalty, and ``model.losses`` lists them.

In a PyTorch-style loop, add them yourself::

    loss = criterion(model(x), y) + regularization_loss(model)
    loss.backward()
    optimizer.step()
    shendu.constraints.apply_constraints(model)  # if layers have constraints

Note ``L2(l2)`` is ``l2 * sum(x ** 2)`` (Keras's convention, without a factor 1/2).

Example:
    >>> from shendu.keras import layers, regularizers
    >>> layer = layers.Dense(64, kernel_regularizer=regularizers.L2(1e-4))
"""

from __future__ import annotations

import math

from . import functional as _f
from ._named import NamedClasses
from .backend import array_module
from .tensor import Tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize", "regularization_loss"]


def _check_factor(cls: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value < 0:
        raise ValueError(f"{cls}: {name} must be a finite number >= 0, got {name}={value!r}")
    return float(value)


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Regularizer:
    """Base class: ``__call__(x)`` returns a scalar penalty Tensor; ``get_config()`` the
    constructor arguments (JSON values), so ``cls.from_config(cfg)`` rebuilds it."""

    def __call__(self, x) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(x)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    __hash__ = object.__hash__


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``.

    Args:
        l1: L1 factor (default 0).
        l2: L2 factor (default 0).
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        name = type(self).__name__
        self.l1 = _check_factor(name, "l1", 0.0 if l1 is None else l1)
        self.l2 = _check_factor(name, "l2", 0.0 if l2 is None else l2)

    def __call__(self, x) -> Tensor:
        x = _t(x)
        penalty = None
        if self.l1:
            penalty = self.l1 * _f.abs(x).sum()
        if self.l2:
            term = self.l2 * _f.square(x).sum()
            penalty = term if penalty is None else penalty + term
        if penalty is None:  # both factors zero: a zero that still belongs to x's graph
            penalty = (x * 0.0).sum()
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)`` (default ``l1=0.01``). The gradient at 0 is 0 (the subgradient
    PyTorch and Keras use)."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x ** 2)`` (default ``l2=0.01``; no factor 1/2, as in Keras)."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards orthonormality (Keras's formula).

    With the rows (``mode="rows"``) or columns (``mode="columns"``) L2-normalized into ``u_i``,
    the penalty is ``factor * 0.5 * sum_{i != j} |u_i . u_j| / (n (n - 1) / 2)``.

    Args:
        factor: the penalty factor (default 0.01).
        mode: "rows" or "columns". For a Dense kernel (in, units), "columns" concerns the
            units' weight vectors.
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _check_factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got "
                             f"{mode!r}")
        self.mode = mode

    def __call__(self, x) -> Tensor:
        x = _t(x)
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer applies to 2-D weights, got a tensor of "
                             f"shape {tuple(x.shape)}")
        axis = 1 if self.mode == "rows" else 0
        # Keras's l2_normalize: x / sqrt(max(sum(x^2), 1e-12))
        norm2 = _f.maximum(_f.square(x).sum(axis=axis, keepdims=True), 1e-12)
        u = x / _f.sqrt(norm2)
        product = u @ u.T if self.mode == "rows" else u.T @ u
        n = product.shape[0]
        if n < 2:
            return (x * 0.0).sum()
        return self.factor * 0.5 * _off_diagonal_abs_sum(product) / (n * (n - 1) / 2.0)

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


def _off_diagonal_abs_sum(m: Tensor) -> Tensor:
    xp = array_module(m.data)
    return (_f.abs(m) * (1.0 - xp.eye(m.shape[0], dtype=m.data.dtype))).sum()


# Keras's lower-case aliases (Keras 3: the same classes)
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

# the closed registry: names a file or a string may use, and nothing else
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer}
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2,
            "orthogonal_regularizer": OrthogonalRegularizer, "orthogonal": OrthogonalRegularizer}


_NAMED = NamedClasses("regularizer", Regularizer, _CLASSES, _ALIASES,
                      "'l2', a Regularizer (e.g. L2(1e-4))")
serialize = _NAMED.serialize
deserialize = _NAMED.deserialize


def get(identifier):
    """Resolve a regularizer: None, a name ("l1", "l2", "l1_l2", "L2", ...; default factors),
    a config dict, a ``Regularizer`` or any callable ``f(x) -> scalar Tensor``.

    Example:
        >>> get("l2")
        L2(l2=0.01)
        >>> get({"class_name": "L1L2", "config": {"l1": 1e-5, "l2": 1e-4}})
        L1L2(l1=1e-05, l2=0.0001)
    """
    return _NAMED.get(identifier)


def regularization_loss(module):
    """The sum of the regularization penalties of every layer in ``module`` (kernel, bias and
    the activity penalties of the last forward pass) as a scalar Tensor, or 0.0 when there is
    none. For PyTorch-style training loops: ``loss = criterion(out, y) +
    regularization_loss(model)``."""
    total = 0.0
    for m in module.modules():
        fn = getattr(m, "regularization_loss", None)
        if fn is None or not callable(fn):
            continue
        r = fn()
        if r is not None:
            total = r if isinstance(total, float) else total + r
    return total
