"""Weight constraints with Keras's semantics (``keras.constraints``).

A constraint maps a weight to its projection onto an allowed set (``w -> w'``). Keras layers
take them as ``kernel_constraint=`` and ``bias_constraint=``; ``Model.train_step`` applies them
right after each optimizer step, as Keras does. In a PyTorch-style loop call
``apply_constraints(model)`` after ``optimizer.step()``.

The axis is Keras's: a Keras ``Dense`` kernel is ``(in, units)``, so ``MaxNorm(axis=0)`` bounds
the norm of each unit's incoming weight vector; for a ``Conv2D`` kernel ``(kh, kw, in, out)``
use ``axis=[0, 1, 2]`` for one norm per filter.

Example:
    >>> from shendu.keras import layers, constraints
    >>> layer = layers.Dense(64, kernel_constraint=constraints.MaxNorm(3))
"""

from __future__ import annotations

from . import functional as _f
from ._named import NamedClasses
from .autograd import no_grad
from .tensor import Tensor

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg",
           "unit_norm", "min_max_norm", "get", "serialize", "deserialize", "apply_constraints"]

_EPSILON = 1e-7  # Keras's backend.epsilon()


def _t(w) -> Tensor:
    return w if isinstance(w, Tensor) else Tensor(w)


def _axis(axis):
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return int(axis)


def _axis_config(axis):
    return list(axis) if isinstance(axis, tuple) else axis


def _norms(w: Tensor, axis) -> Tensor:
    return _f.sqrt(_f.square(w).sum(axis=axis, keepdims=True))


class Constraint:
    """Base class: ``__call__(w)`` returns the constrained weight (a Tensor);
    ``get_config()`` the constructor arguments, so ``cls.from_config(cfg)`` rebuilds it."""

    def __call__(self, w) -> Tensor:
        return _t(w)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescale the slices of ``w`` along ``axis`` whose L2 norm exceeds ``max_value``.

    ``w * clip(norm, 0, max_value) / (1e-7 + norm)`` (Keras's formula).

    Args:
        max_value: the largest norm allowed (default 2).
        axis: the axis (or list of axes) the norm runs over (default 0).
    """

    def __init__(self, max_value: float = 2, axis=0):
        if not float(max_value) >= 0:
            raise ValueError(f"MaxNorm: max_value must be >= 0, got {max_value!r}")
        self.max_value = float(max_value)
        self.axis = _axis(axis)

    def __call__(self, w) -> Tensor:
        w = _t(w)
        norms = _norms(w, self.axis)
        desired = _f.clip(norms, 0.0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": _axis_config(self.axis)}


class NonNeg(Constraint):
    """Zero the negative entries: ``w * (w >= 0)``."""

    def __call__(self, w) -> Tensor:
        w = _t(w)
        return w * (w.data >= 0).astype(w.data.dtype)


class UnitNorm(Constraint):
    """Scale the slices of ``w`` along ``axis`` to unit L2 norm: ``w / (1e-7 + norm)``.

    Args:
        axis: the axis (or list of axes) the norm runs over (default 0).
    """

    def __init__(self, axis=0):
        self.axis = _axis(axis)

    def __call__(self, w) -> Tensor:
        w = _t(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": _axis_config(self.axis)}


class MinMaxNorm(Constraint):
    """Keep the L2 norms of the slices along ``axis`` within ``[min_value, max_value]``.

    ``desired = rate * clip(norm, min_value, max_value) + (1 - rate) * norm``, then
    ``w * desired / (1e-7 + norm)`` (Keras's formula; ``rate < 1`` moves part of the way).

    Args:
        min_value, max_value: the norm bounds (defaults 0 and 1).
        rate: how far to move towards the bounds each time, in [0, 1] (default 1).
        axis: the axis (or list of axes) the norm runs over (default 0).
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis=0):
        if not 0.0 <= float(min_value) <= float(max_value):
            raise ValueError(f"MinMaxNorm: need 0 <= min_value <= max_value, got "
                             f"min_value={min_value!r}, max_value={max_value!r}")
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"MinMaxNorm: rate must be in [0, 1], got {rate!r}")
        self.min_value, self.max_value = float(min_value), float(max_value)
        self.rate = float(rate)
        self.axis = _axis(axis)

    def __call__(self, w) -> Tensor:
        w = _t(w)
        norms = _norms(w, self.axis)
        desired = self.rate * _f.clip(norms, self.min_value, self.max_value) + \
            (1.0 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": _axis_config(self.axis)}


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

# the closed registry: names a file or a string may use, and nothing else
_CLASSES = {"MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
            "MinMaxNorm": MinMaxNorm}
_ALIASES = {"max_norm": MaxNorm, "maxnorm": MaxNorm, "non_neg": NonNeg, "nonneg": NonNeg,
            "unit_norm": UnitNorm, "unitnorm": UnitNorm, "min_max_norm": MinMaxNorm,
            "minmaxnorm": MinMaxNorm}


_NAMED = NamedClasses("constraint", Constraint, _CLASSES, _ALIASES,
                      "'max_norm', a Constraint (e.g. MaxNorm(3))")
serialize = _NAMED.serialize
deserialize = _NAMED.deserialize


def get(identifier):
    """Resolve a constraint: None, a name ("max_norm", "non_neg", "unit_norm",
    "min_max_norm" or the class names; default arguments), a config dict, a ``Constraint``
    or any callable ``f(w) -> w'``."""
    return _NAMED.get(identifier)


_SLOTS = (("kernel", "kernel_constraint"), ("bias", "bias_constraint"))


def apply_constraints(module) -> None:
    """Project every constrained weight of ``module``'s layers in place (``kernel_constraint``
    and ``bias_constraint``), skipping frozen weights; ``Model.train_step`` calls this after
    each optimizer step. Call it yourself after ``optimizer.step()`` in a PyTorch-style loop."""
    for m in module.modules():
        d = m.__dict__
        for weight_name, constraint_name in _SLOTS:
            constraint = d.get(constraint_name)
            if constraint is None:
                continue
            p = m._parameters.get(weight_name)
            if p is None or not p.requires_grad:
                continue
            with no_grad():
                out = constraint(p)
            data = out.data if isinstance(out, Tensor) else out
            if tuple(data.shape) != tuple(p.shape):
                raise ValueError(f"{constraint_name} of layer '{getattr(m, 'name', m)}' "
                                 f"returned shape {tuple(data.shape)} for a weight of shape "
                                 f"{tuple(p.shape)}")
            p.data[...] = data
