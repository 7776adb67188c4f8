"""Weight initializers, in two spellings over one set of formulas.

* PyTorch style, in place on a tensor laid out (out, in, *kernel): ``xavier_uniform_(w)``,
  ``kaiming_normal_(w, nonlinearity="relu")``, ``zeros_``, ``orthogonal_`` ...
* Keras style, objects or string names called with a shape laid out (*kernel, in, out):
  ``get("glorot_uniform")((784, 64))``, ``HeNormal(seed=1)``.

Every draw comes from the seeded stream (``shendu.manual_seed``) or the initializer's own seed.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import no_grad
from ..backend import get_default_dtype
from ..random import Generator, default_generator
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_",
    "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "Initializer", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
    "LecunUniform", "LecunNormal", "RandomUniform", "RandomNormal", "TruncatedNormal", "Zeros",
    "Ones", "Constant", "Orthogonal", "Identity", "get",
]


def calculate_gain(nonlinearity: str, param=None) -> float:
    gains = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3,
             "relu": math.sqrt(2.0), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in gains:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one "
                         f"of {sorted(gains) + ['leaky_relu']}")
    return gains[nonlinearity]


# -- the formulas (arrays from a generator) ------------------------------------------------------
def _truncated(g: Generator, shape, std: float, dtype, lo: float = -2.0,
               hi: float = 2.0) -> np.ndarray:
    """Normal(0, std) with draws outside [lo, hi] standard deviations redrawn (Keras: +-2)."""
    if not lo < hi or hi < -5 or lo > 5:
        raise ValueError(f"truncated normal: the interval [{lo:.3g}, {hi:.3g}] standard "
                         "deviations around the mean must be non-empty and reach within 5 of it")
    out = g.normal(shape, 0.0, 1.0, dtype=np.float64)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = g.normal(int(bad.sum()), 0.0, 1.0, dtype=np.float64)
        bad = (out < lo) | (out > hi)
    return (out * std).astype(dtype)


def _orthogonal(g: Generator, shape, gain: float, dtype) -> np.ndarray:
    if len(shape) < 2:
        raise ValueError(f"orthogonal init needs at least 2 dimensions, got shape {shape}")
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = g.normal((max(rows, cols), min(rows, cols)), dtype=np.float64)
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # make the decomposition unique
    if rows < cols:
        q = q.T
    return (gain * q[:rows, :cols]).reshape(shape).astype(dtype)


def _fans_torch(shape) -> tuple[int, int]:
    if len(shape) < 2:
        raise ValueError(f"fan in/out need at least 2 dimensions, got shape {tuple(shape)}")
    rf = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * rf, shape[0] * rf


def _fans_keras(shape) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 0:
        return 1, 1
    rf = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * rf, shape[-1] * rf


def _variance_scaling(g, shape, fan, scale, distribution, dtype):
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / max(fan, 1))
        return g.uniform(shape, -limit, limit, dtype=dtype)
    std = math.sqrt(scale / max(fan, 1))
    if distribution == "truncated_normal":
        return _truncated(g, shape, std / 0.87962566103423978, dtype)
    return g.normal(shape, 0.0, std, dtype=dtype)


# -- PyTorch style, in place -------------------------------------------------------------------
def _fill(t: Tensor, arr) -> Tensor:
    with no_grad():
        t.data[...] = arr
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    return _fill(t, (generator or default_generator).uniform(t.shape, a, b, t.dtype))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    return _fill(t, (generator or default_generator).normal(t.shape, mean, std, t.dtype))


def trunc_normal_(t: Tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None) -> Tensor:
    """Normal(mean, std) with values outside [a, b] redrawn; as in PyTorch, ``a`` and ``b`` are
    absolute bounds, not multiples of ``std``."""
    lo, hi = (a - mean) / std, (b - mean) / std
    return _fill(t, mean + _truncated(generator or default_generator, t.shape, std, t.dtype,
                                      lo, hi))


def constant_(t: Tensor, val: float) -> Tensor:
    return _fill(t, val)


def zeros_(t: Tensor) -> Tensor:
    return _fill(t, 0)


def ones_(t: Tensor) -> Tensor:
    return _fill(t, 1)


def eye_(t: Tensor) -> Tensor:
    return _fill(t, np.eye(*t.shape, dtype=t.dtype))


def xavier_uniform_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fi, fo = _fans_torch(t.shape)
    a = gain * math.sqrt(6.0 / (fi + fo))
    return uniform_(t, -a, a, generator)


def xavier_normal_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fi, fo = _fans_torch(t.shape)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fi + fo)), generator)


def _kaiming_std(t, a, mode, nonlinearity):
    fi, fo = _fans_torch(t.shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fi if mode == "fan_in" else fo
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode="fan_in", nonlinearity="leaky_relu",
                     generator=None) -> Tensor:
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode="fan_in", nonlinearity="leaky_relu",
                    generator=None) -> Tensor:
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity), generator)


def orthogonal_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    return _fill(t, _orthogonal(generator or default_generator, t.shape, gain, t.dtype))


# -- Keras style -------------------------------------------------------------------------------
class Initializer:
    """Keras-style initializer: ``init(shape, dtype=None)`` returns a new array."""

    def __init__(self, seed: int | None = None):
        self.seed = seed
        self._gen = Generator(seed) if seed is not None else None

    @property
    def generator(self) -> Generator:
        return self._gen or default_generator

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return self.sample(tuple(int(s) for s in shape), np.dtype(dtype or get_default_dtype()))

    def sample(self, shape, dtype) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"seed": self.seed}


class _VarianceScaling(Initializer):
    scale, mode, distribution = 1.0, "fan_in", "uniform"

    def sample(self, shape, dtype):
        fi, fo = _fans_keras(shape)
        fan = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2}[self.mode]
        return _variance_scaling(self.generator, shape, fan, self.scale, self.distribution, dtype)


class GlorotUniform(_VarianceScaling):
    scale, mode, distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_VarianceScaling):
    scale, mode, distribution = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_VarianceScaling):
    scale, mode, distribution = 2.0, "fan_in", "uniform"


class HeNormal(_VarianceScaling):
    scale, mode, distribution = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_VarianceScaling):
    scale, mode, distribution = 1.0, "fan_in", "uniform"


class LecunNormal(_VarianceScaling):
    scale, mode, distribution = 1.0, "fan_in", "truncated_normal"


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def sample(self, shape, dtype):
        return self.generator.uniform(shape, self.minval, self.maxval, dtype)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def sample(self, shape, dtype):
        return self.generator.normal(shape, self.mean, self.stddev, dtype)


class TruncatedNormal(RandomNormal):
    def sample(self, shape, dtype):
        return self.mean + _truncated(self.generator, shape, self.stddev, dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        super().__init__(None)
        self.value = value

    def sample(self, shape, dtype):
        return np.full(shape, self.value, dtype)


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def sample(self, shape, dtype):
        # Keras layout (in, out): orthogonalize over the flattened leading dims
        flat = (int(np.prod(shape[:-1])), shape[-1])
        q = _orthogonal(self.generator, flat[::-1], self.gain, dtype).T
        return q.reshape(shape)


class Identity(Initializer):
    def __init__(self, gain=1.0):
        super().__init__(None)
        self.gain = gain

    def sample(self, shape, dtype):
        if len(shape) != 2:
            raise ValueError(f"identity init needs a 2-D shape, got {shape}")
        return self.gain * np.eye(*shape, dtype=dtype)


_NAMES = {
    "glorot_uniform": GlorotUniform, "xavier_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "xavier_normal": GlorotNormal,
    "he_uniform": HeUniform, "kaiming_uniform": HeUniform,
    "he_normal": HeNormal, "kaiming_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "zeros": Zeros, "zero": Zeros, "ones": Ones,
    "one": Ones, "constant": Constant, "orthogonal": Orthogonal, "identity": Identity,
}


def get(identifier) -> Initializer:
    """Resolve a Keras initializer name ("glorot_uniform"), class, instance or callable."""
    if isinstance(identifier, Initializer) or callable(identifier) and not isinstance(
            identifier, type):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        key = "".join("_" + c.lower() if c.isupper() else c for c in identifier).lstrip("_")
        if key in _NAMES:
            return _NAMES[key]()
        if identifier.lower() in _NAMES:
            return _NAMES[identifier.lower()]()
    raise ValueError(f"unknown initializer {identifier!r}; expected one of {sorted(_NAMES)}, an "
                     "Initializer or a callable(shape, dtype)")
