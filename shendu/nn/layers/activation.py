"""Activation layers (PyTorch names; the Keras spellings of arguments are accepted too)."""

from __future__ import annotations

from ... import functional as _f
from .. import functional as F
from .base import Layer

__all__ = ["ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
           "Softplus", "SiLU", "ReLU6"]


class _Simple(Layer):
    fn = staticmethod(_f.relu)

    def __init__(self, inplace: bool = False, **kwargs):
        super().__init__(**kwargs)

    def forward(self, x):
        return self.fn(x)


class ReLU(_Simple):
    """max(x, 0)."""

    fn = staticmethod(_f.relu)


class Sigmoid(_Simple):
    """1 / (1 + exp(-x))."""

    fn = staticmethod(_f.sigmoid)


class Tanh(_Simple):
    fn = staticmethod(_f.tanh)


class SiLU(_Simple):
    fn = staticmethod(F.silu)


class ReLU6(_Simple):
    fn = staticmethod(F.relu6)


class LeakyReLU(Layer):
    """x if x > 0 else negative_slope * x (Keras: ``alpha`` or ``negative_slope``, 0.3)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False, alpha=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = float(alpha if alpha is not None else negative_slope)

    def forward(self, x):
        return _f.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    def __init__(self, alpha: float = 1.0, inplace: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def forward(self, x):
        return _f.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


class GELU(Layer):
    def __init__(self, approximate: str = "none", **kwargs):
        super().__init__(**kwargs)
        self.approximate = approximate

    def forward(self, x):
        return _f.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    def get_config(self) -> dict:
        return {**super().get_config(), "approximate": self.approximate}


class Softplus(Layer):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0, **kwargs):
        super().__init__(**kwargs)
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return _f.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"

    def get_config(self) -> dict:
        return {**super().get_config(), "beta": self.beta, "threshold": self.threshold}


class Softmax(Layer):
    """Softmax over ``dim`` (PyTorch) / ``axis`` (Keras, default -1)."""

    def __init__(self, dim: int | None = None, axis: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim if dim is not None else (axis if axis is not None else -1)

    def forward(self, x):
        return _f.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def get_config(self) -> dict:
        return {**super().get_config(), "dim": self.dim}


class LogSoftmax(Softmax):
    def forward(self, x):
        return _f.log_softmax(x, self.dim)
