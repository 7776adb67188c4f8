"""The op registry as data: one ``OpSpec`` per operation (and per interesting case of it).

Each spec names a shendu callable, its NumPy reference and, optionally, the PyTorch callable used
as a second oracle. ``tests/test_ops.py`` runs every spec through the same harness: forward
against NumPy (float32 and float64), backward against float64 finite differences
(``shendu.testing.gradcheck``), float32 gradients stay float32, and, where PyTorch is installed,
forward and gradients against PyTorch.

Adding an op is one line here. Inputs are described by ``Arg(shape, kind)``; the kind picks the
value generator (``GENERATORS``), which is how specs say "positive inputs only" (log, sqrt),
"away from the kink" (relu, abs, clip) or "no ties" (max, min). ``grad=False`` marks an op that
is not differentiable (comparisons, argmax, one_hot): only its forward is checked.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from math import erf as _erf_scalar

import numpy as np

import shendu as sd
from shendu.ops import fused
from shendu.ops import movement as M
from shendu.ops import tree as T

__all__ = ["Arg", "OpSpec", "SPECS", "GENERATORS", "make_inputs", "th"]


class _LazyTorch:
    """``torch``, imported on first use so that the registry loads without it."""

    def __getattr__(self, name):
        return getattr(importlib.import_module("torch"), name)


th = _LazyTorch()


# -- input generators: (rng, shape) -> float64 or integer array --------------------------------
def _normal(rng, shape):
    return rng.standard_normal(shape)


def _wide(rng, shape):  # reaches the saturated tails of sigmoid/tanh
    return 3.0 * rng.standard_normal(shape)


def _positive(rng, shape):  # log, sqrt, pow with a real exponent
    return rng.uniform(0.5, 2.0, shape)


def _nonzero(rng, shape):  # |x| >= 0.2: away from the kink of relu, abs, leaky_relu, elu
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, shape)


def _distinct(rng, shape):  # values at least 0.1 apart: no ties for max/min/argmax
    n = int(np.prod(shape, dtype=np.int64))
    grid = (rng.permutation(n) - n / 2) * 0.2 + rng.uniform(-0.05, 0.05, n)
    return grid.reshape(shape)


def _with_zero(rng, shape):  # prod's backward must stay exact with a zero factor
    x = _nonzero(rng, shape)
    x.reshape(-1)[1] = 0.0
    return x


def _away_from(*points, margin=0.1):
    """Normal values pushed at least ``margin`` away from each kink in ``points``."""

    def gen(rng, shape):
        x = 1.5 * rng.standard_normal(shape)
        for p in points:
            near = np.abs(x - p) < margin
            x[near] = p + np.where(x[near] >= p, margin, -margin)
        return x

    return gen


def _prob(rng, shape):  # probabilities away from 0 and 1 (binary cross-entropy)
    return rng.uniform(0.05, 0.95, shape)


def _small_ints(rng, shape):  # floats with many ties, for comparisons
    return rng.integers(-2, 3, shape).astype(np.float64)


def _labels(rng, shape):  # class indices
    return rng.integers(0, 5, shape).astype(np.int64)


GENERATORS: dict[str, Callable] = {
    "normal": _normal,
    "wide": _wide,
    "positive": _positive,
    "nonzero": _nonzero,
    "distinct": _distinct,
    "with_zero": _with_zero,
    "clip": _away_from(-0.5, 0.5),
    "clip_low": _away_from(-0.3),
    "softplus": _away_from(2.5, margin=0.2),  # beta=2, threshold=5 switches at x = 2.5
    "prob": _prob,
    "small_ints": _small_ints,
    "labels": _labels,
}


@dataclass(frozen=True)
class Arg:
    """One input: its shape, its value generator and whether its gradient is checked."""

    shape: tuple
    kind: str = "normal"
    grad: bool = True


@dataclass(frozen=True)
class OpSpec:
    """One operation (or one case of it) and how to check it.

    Attributes:
        name: the test id.
        fn: the shendu callable; takes one Tensor per ``Arg``, returns a Tensor or a tuple.
        ref: the NumPy reference; takes the same inputs as float64/int arrays.
        args: the inputs.
        oracle: the PyTorch callable (same signature as ``fn``), or None.
        grad: False for non-differentiable ops (forward only).
        rtol32: relative tolerance of the float32 forward against the float64 reference.
    """

    name: str
    fn: Callable
    ref: Callable
    args: tuple
    oracle: Callable | None = None
    grad: bool = True
    rtol32: float = 2e-5


def _arg(a) -> Arg:
    return a if isinstance(a, Arg) else Arg(tuple(a))


def S(name, fn, ref, *args, oracle=None, grad=True, rtol32=2e-5) -> OpSpec:
    """Shorthand: shapes may be given as plain tuples (normal values, gradient checked)."""
    return OpSpec(name, fn, ref, tuple(_arg(a) for a in args), oracle, grad, rtol32)


def make_inputs(spec: OpSpec, dtype, seed: int) -> list:
    """Arrays for ``spec``: floating inputs in ``dtype``, integer and bool inputs as they are."""
    rng = np.random.default_rng(seed)
    out = []
    for a in spec.args:
        x = np.asarray(GENERATORS[a.kind](rng, a.shape))
        out.append(x.astype(dtype) if x.dtype.kind == "f" else x)
    return out


# -- NumPy references that NumPy lacks ---------------------------------------------------------
_erf = np.vectorize(_erf_scalar, otypes=[np.float64])


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _np_gelu(x):
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


def _np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _np_split(x, sizes, axis):
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _np_gather(x, index, axis):
    return np.take_along_axis(x, index, axis=axis)


def _np_one_hot(labels, n):
    return np.eye(n, dtype=np.int64)[labels]


# -- PyTorch helpers ---------------------------------------------------------------------------
def _dims(x, axis):
    """torch's ``dim`` for NumPy's ``axis`` (None means every dimension)."""
    return tuple(range(x.ndim)) if axis is None else axis


def _th_prod(x, axis, keepdims):  # torch.prod reduces one dim at a time
    dims = _dims(x, axis)
    dims = sorted(d % x.ndim for d in ((dims,) if isinstance(dims, int) else dims))
    for d in reversed(dims):
        x = x.prod(d, keepdim=keepdims)
    return x


# -- constant operands (indices, masks) --------------------------------------------------------
MASK_34 = np.array([[True, False, True, True], [False, False, True, False],
                    [True, True, False, False]])
ROWS_REPEATED = np.array([2, 0, 2, 1, 2])  # scatter-add must sum the three rows 2
COLS_REPEATED = np.array([1, 1, 3, 0, 1])
EMBED_IDX = np.array([[0, 1, 1], [4, 0, 2]])  # repeats: gradients add up
GATHER_DIM1 = np.array([[0, 0, 3], [2, 1, 2], [3, 3, 3]])  # (3, 3) from a (3, 4) input
GATHER_DIM0 = np.array([[2, 0, 1, 1], [0, 0, 2, 1]])  # (2, 4) from a (3, 4) input
CLASS_W = np.array([0.5, 1.0, 2.0, 1.5, 0.8])  # cross-entropy class weights
POS_W = np.array([1.0, 2.0, 0.5, 3.0])  # binary cross-entropy pos_weight per column


# -- elementwise binary ops over broadcasting shapes --------------------------------------------
_BROADCAST = [
    ("same", (3, 4), (3, 4)),
    ("row", (2, 3, 4), (4,)),
    ("outer", (3, 1), (1, 4)),
    ("both", (2, 1, 4), (3, 1)),
    ("scalar0d", (3, 4), ()),
    ("left1d", (4,), (2, 3, 4)),
]

_BINARY = [
    # name, shendu, numpy, torch, kind of a, kind of b
    ("add", lambda a, b: a + b, np.add, lambda a, b: a + b, "normal", "normal"),
    ("sub", lambda a, b: a - b, np.subtract, lambda a, b: a - b, "normal", "normal"),
    ("mul", lambda a, b: a * b, np.multiply, lambda a, b: a * b, "normal", "normal"),
    ("div", lambda a, b: a / b, np.divide, lambda a, b: a / b, "normal", "nonzero"),
    ("pow", lambda a, b: a ** b, np.power, lambda a, b: a ** b, "positive", "normal"),
    ("maximum", sd.maximum, np.maximum, lambda a, b: th.maximum(a, b), "distinct", "normal"),
    ("minimum", sd.minimum, np.minimum, lambda a, b: th.minimum(a, b), "distinct", "normal"),
]

_binary_specs = [
    S(f"{name}-{tag}", fn, ref, Arg(sa, ka), Arg(sb, kb), oracle=orc)
    for name, fn, ref, orc, ka, kb in _BINARY
    for tag, sa, sb in _BROADCAST
]

_scalar_specs = [
    S("add-pyscalar", lambda x: x + 2.5, lambda x: x + 2.5, (3, 4), oracle=lambda x: x + 2.5),
    S("radd-pyscalar", lambda x: 2.5 + x, lambda x: 2.5 + x, (3, 4), oracle=lambda x: 2.5 + x),
    S("rsub-pyscalar", lambda x: 1 - x, lambda x: 1 - x, (3, 4), oracle=lambda x: 1 - x),
    S("mul-pyscalar", lambda x: x * 3, lambda x: x * 3, (3, 4), oracle=lambda x: x * 3),
    S("div-pyscalar", lambda x: x / 3, lambda x: x / 3, (3, 4), oracle=lambda x: x / 3),
    S("rdiv-pyscalar", lambda x: 2.0 / x, lambda x: 2.0 / x, Arg((3, 4), "nonzero"),
      oracle=lambda x: 2.0 / x),
    S("add-alpha", lambda a, b: sd.add(a, b, alpha=2.0), lambda a, b: a + 2.0 * b, (3, 4), (4,),
      oracle=lambda a, b: th.add(a, b, alpha=2.0)),
    S("sub-alpha", lambda a, b: sd.sub(a, b, alpha=0.5), lambda a, b: a - 0.5 * b, (3, 4), (4,),
      oracle=lambda a, b: th.sub(a, b, alpha=0.5)),
    S("neg", lambda x: -x, np.negative, (3, 4), oracle=lambda x: -x),
    S("pow-tensor-int", lambda x: x ** 3, lambda x: x ** 3, (3, 4), oracle=lambda x: x ** 3),
    S("pow-tensor-half", lambda x: x ** 0.5, np.sqrt, Arg((3, 4), "positive"),
      oracle=lambda x: x ** 0.5),
    S("pow-tensor-negreal", lambda x: sd.pow(x, -1.5), lambda x: x ** -1.5,
      Arg((3, 4), "positive"), oracle=lambda x: th.pow(x, -1.5)),
    S("pow-scalar-tensor", lambda x: 2.5 ** x, lambda x: 2.5 ** x, (3, 4),
      oracle=lambda x: 2.5 ** x),
    S("pow-method", lambda x: x.pow(2), np.square, (3, 4), oracle=lambda x: x.pow(2)),
]

# -- matmul --------------------------------------------------------------------------------------
_matmul_specs = [
    S("matmul-2d", lambda a, b: a @ b, np.matmul, (3, 4), (4, 5), oracle=lambda a, b: a @ b),
    S("matmul-batched", sd.matmul, np.matmul, (2, 3, 4), (2, 4, 5),
      oracle=lambda a, b: th.matmul(a, b)),
    S("matmul-batch-broadcast", lambda a, b: a @ b, np.matmul, (2, 1, 3, 4), (3, 4, 2),
      oracle=lambda a, b: a @ b),
    S("matmul-2d-batched", lambda a, b: a @ b, np.matmul, (3, 4), (2, 4, 5),
      oracle=lambda a, b: a @ b),
    S("matmul-1d-2d", lambda a, b: a @ b, np.matmul, (4,), (4, 5), oracle=lambda a, b: a @ b),
    S("matmul-2d-1d", lambda a, b: a @ b, np.matmul, (3, 4), (4,), oracle=lambda a, b: a @ b),
    S("matmul-1d-1d", lambda a, b: a @ b, np.matmul, (4,), (4,), oracle=lambda a, b: a @ b),
    S("matmul-1d-3d", sd.matmul, np.matmul, (4,), (2, 4, 3), oracle=lambda a, b: a @ b),
    S("matmul-3d-1d", sd.matmul, np.matmul, (2, 3, 4), (4,), oracle=lambda a, b: a @ b),
    S("mm", sd.mm, np.matmul, (3, 4), (4, 2), oracle=lambda a, b: th.mm(a, b)),
]

# -- unary math and activations -----------------------------------------------------------------
_unary_specs = [
    S("exp", sd.exp, np.exp, (3, 4), oracle=lambda x: th.exp(x)),
    S("exp-method", lambda x: x.exp(), np.exp, (2, 3), oracle=lambda x: x.exp()),
    S("log", sd.log, np.log, Arg((3, 4), "positive"), oracle=lambda x: th.log(x)),
    S("log1p", sd.log1p, np.log1p, Arg((3, 4), "positive"), oracle=lambda x: th.log1p(x)),
    S("sqrt", sd.sqrt, np.sqrt, Arg((3, 4), "positive"), oracle=lambda x: th.sqrt(x)),
    S("rsqrt", sd.rsqrt, lambda x: 1 / np.sqrt(x), Arg((3, 4), "positive"),
      oracle=lambda x: th.rsqrt(x)),
    S("reciprocal", sd.reciprocal, np.reciprocal, Arg((3, 4), "nonzero"),
      oracle=lambda x: th.reciprocal(x)),
    S("square", sd.square, np.square, (3, 4), oracle=lambda x: th.square(x)),
    S("abs", sd.abs, np.abs, Arg((3, 4), "nonzero"), oracle=lambda x: th.abs(x)),
    S("abs-builtin", lambda x: abs(x), np.abs, Arg((3, 4), "nonzero"), oracle=lambda x: abs(x)),
    S("sin", sd.sin, np.sin, (3, 4), oracle=lambda x: th.sin(x)),
    S("cos", sd.cos, np.cos, (3, 4), oracle=lambda x: th.cos(x)),
    S("clip", lambda x: sd.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
      Arg((4, 5), "clip"), oracle=lambda x: th.clamp(x, -0.5, 0.5)),
    S("clamp-min-only", lambda x: x.clamp(min=-0.3), lambda x: np.maximum(x, -0.3),
      Arg((4, 5), "clip_low"), oracle=lambda x: x.clamp(min=-0.3)),
    S("clamp-max-only", lambda x: sd.clamp(x, max=0.5), lambda x: np.minimum(x, 0.5),
      Arg((4, 5), "clip"), oracle=lambda x: th.clamp(x, max=0.5)),
    S("clamp-tensor-bounds", lambda x, lo, hi: sd.clamp(x, lo, hi),
      lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
      Arg((3, 4), "wide"), Arg((4,), "distinct", grad=False), Arg((3, 4), "positive", grad=False),
      oracle=lambda x, lo, hi: th.clamp(x, lo, hi)),
    S("relu", sd.relu, lambda x: np.maximum(x, 0), Arg((3, 4), "nonzero"),
      oracle=lambda x: th.relu(x)),
    S("relu-method", lambda x: x.relu(), lambda x: np.maximum(x, 0), Arg((2, 5), "nonzero"),
      oracle=lambda x: x.relu()),
    S("leaky_relu", lambda x: sd.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
      Arg((3, 4), "nonzero"), oracle=lambda x: th.nn.functional.leaky_relu(x, 0.2)),
    S("leaky_relu-default", sd.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x),
      Arg((3, 4), "nonzero"), oracle=lambda x: th.nn.functional.leaky_relu(x)),
    S("elu", lambda x: sd.elu(x, alpha=1.3), lambda x: np.where(x > 0, x, 1.3 * np.expm1(x)),
      Arg((3, 4), "nonzero"), oracle=lambda x: th.nn.functional.elu(x, alpha=1.3)),
    S("gelu", sd.gelu, _np_gelu, Arg((4, 5), "wide"), oracle=lambda x: th.nn.functional.gelu(x)),
    S("gelu-tanh", lambda x: sd.gelu(x, approximate="tanh"), _np_gelu_tanh, Arg((4, 5), "wide"),
      oracle=lambda x: th.nn.functional.gelu(x, approximate="tanh")),
    S("sigmoid", sd.sigmoid, _np_sigmoid, Arg((4, 5), "wide"), oracle=lambda x: th.sigmoid(x)),
    S("sigmoid-method", lambda x: x.sigmoid(), _np_sigmoid, (3,), oracle=lambda x: x.sigmoid()),
    S("tanh", sd.tanh, np.tanh, Arg((4, 5), "wide"), oracle=lambda x: th.tanh(x)),
    S("softplus", sd.softplus, _np_softplus, Arg((4, 5), "wide"),
      oracle=lambda x: th.nn.functional.softplus(x)),
    S("softplus-beta-threshold", lambda x: sd.softplus(x, beta=2.0, threshold=5.0),
      lambda x: _np_softplus(x, 2.0, 5.0), Arg((4, 5), "softplus"),
      oracle=lambda x: th.nn.functional.softplus(x, beta=2.0, threshold=5.0)),
    S("softmax", sd.softmax, lambda x: _np_softmax(x, -1), (3, 5),
      oracle=lambda x: th.softmax(x, -1)),
    S("softmax-axis0", lambda x: sd.softmax(x, axis=0), lambda x: _np_softmax(x, 0), (3, 4, 2),
      oracle=lambda x: th.softmax(x, 0)),
    S("softmax-method-dim1", lambda x: x.softmax(dim=1), lambda x: _np_softmax(x, 1), (2, 3, 4),
      oracle=lambda x: x.softmax(dim=1)),
    S("log_softmax", sd.log_softmax, lambda x: _np_log_softmax(x, -1), Arg((3, 5), "wide"),
      oracle=lambda x: th.log_softmax(x, -1)),
    S("log_softmax-axis0", lambda x: sd.log_softmax(x, dim=0), lambda x: _np_log_softmax(x, 0),
      (3, 4), oracle=lambda x: th.log_softmax(x, 0)),
    S("where", lambda a, b: sd.where(sd.tensor(MASK_34), a, b),
      lambda a, b: np.where(MASK_34, a, b), (3, 4), (4,),
      oracle=lambda a, b: th.where(th.as_tensor(MASK_34), a, b)),
    S("where-scalar", lambda a: sd.where(sd.tensor(MASK_34), a, 0.0),
      lambda a: np.where(MASK_34, a, 0.0), (3, 4),
      oracle=lambda a: th.where(th.as_tensor(MASK_34), a, 0.0)),
    S("where-cond-from-data", lambda a, b: sd.where(a > b, a, b), lambda a, b: np.maximum(a, b),
      (3, 4), Arg((3, 4), "distinct"), oracle=lambda a, b: th.where(a > b, a, b)),
]

# -- reductions: every reducer over None, one axis, a negative axis and several axes ------------
_AXES = [(None, False), (None, True), (1, False), (-1, True), ((0, 2), False), ((0, 2), True)]

_REDUCERS = [
    ("sum", lambda x, ax, kd: sd.sum(x, axis=ax, keepdims=kd), np.sum,
     lambda x, ax, kd: th.sum(x, dim=_dims(x, ax), keepdim=kd)),
    ("mean", lambda x, ax, kd: x.mean(axis=ax, keepdims=kd), np.mean,
     lambda x, ax, kd: th.mean(x, dim=_dims(x, ax), keepdim=kd)),
    ("var", lambda x, ax, kd: sd.var(x, axis=ax, keepdims=kd),
     lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1),
     lambda x, ax, kd: th.var(x, dim=_dims(x, ax), keepdim=kd, correction=1)),
    ("std", lambda x, ax, kd: x.std(axis=ax, keepdims=kd),
     lambda x, axis, keepdims: np.std(x, axis=axis, keepdims=keepdims, ddof=1),
     lambda x, ax, kd: th.std(x, dim=_dims(x, ax), keepdim=kd, correction=1)),
    ("amax", lambda x, ax, kd: sd.amax(x, axis=ax, keepdims=kd), np.amax,
     lambda x, ax, kd: th.amax(x, dim=_dims(x, ax), keepdim=kd)),
    ("amin", lambda x, ax, kd: x.amin(dim=ax, keepdim=kd), np.amin,
     lambda x, ax, kd: th.amin(x, dim=_dims(x, ax), keepdim=kd)),
    ("max", lambda x, ax, kd: x.max(axis=ax, keepdims=kd), np.max,
     lambda x, ax, kd: th.amax(x, dim=_dims(x, ax), keepdim=kd)),
    ("min", lambda x, ax, kd: sd.min(x, axis=ax, keepdims=kd), np.min,
     lambda x, ax, kd: th.amin(x, dim=_dims(x, ax), keepdim=kd)),
    ("prod", lambda x, ax, kd: sd.prod(x, axis=ax, keepdims=kd), np.prod, _th_prod),
    ("logsumexp", lambda x, ax, kd: sd.logsumexp(x, axis=ax, keepdims=kd), _np_logsumexp,
     lambda x, ax, kd: th.logsumexp(x, dim=_dims(x, ax), keepdim=kd)),
]


def _reduction(name, fn, ref, orc, axis, keepdims) -> OpSpec:
    # default arguments bind this case's axis and keepdims into each lambda
    return S(f"{name}-axis{axis}-keep{int(keepdims)}".replace(" ", ""),
             lambda x, a=axis, k=keepdims: fn(x, a, k),
             lambda x, a=axis, k=keepdims: ref(x, axis=a, keepdims=k),
             Arg((2, 3, 4), "distinct"),
             oracle=lambda x, a=axis, k=keepdims: orc(x, a, k), rtol32=1e-4)


_reduction_specs = [
    _reduction(name, fn, ref, orc, axis, kd)
    for name, fn, ref, orc in _REDUCERS
    for axis, kd in _AXES
]

_reduction_specs += [
    S("prod-with-zero", lambda x: sd.prod(x, axis=1), lambda x: np.prod(x, axis=1),
      Arg((3, 4), "with_zero"), oracle=lambda x: th.prod(x, 1)),
    S("sum-dim-keepdim", lambda x: x.sum(dim=0, keepdim=True),
      lambda x: x.sum(axis=0, keepdims=True), (3, 4), oracle=lambda x: x.sum(0, keepdim=True)),
    S("var-biased", lambda x: sd.var(x, axis=1, unbiased=False), lambda x: np.var(x, axis=1),
      (3, 4), oracle=lambda x: th.var(x, 1, unbiased=False)),
    S("max-dim-values", lambda x: x.max(1)[0], lambda x: x.max(axis=1), Arg((3, 4), "distinct"),
      oracle=lambda x: x.max(1)[0]),
    S("min-dim-keepdim-values", lambda x: x.min(dim=0, keepdim=True).values,
      lambda x: x.min(axis=0, keepdims=True), Arg((3, 4), "distinct"),
      oracle=lambda x: x.min(dim=0, keepdim=True).values),
]

# -- movement ------------------------------------------------------------------------------------
_movement_specs = [
    S("reshape", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), (2, 3, 4),
      oracle=lambda x: x.reshape(4, -1)),
    S("reshape-fn-tuple", lambda x: sd.reshape(x, (3, 8)), lambda x: x.reshape(3, 8), (2, 3, 4),
      oracle=lambda x: th.reshape(x, (3, 8))),
    S("view", lambda x: x.view(6, 4), lambda x: x.reshape(6, 4), (2, 3, 4),
      oracle=lambda x: x.view(6, 4)),
    S("view_as", lambda x, y: x.view_as(y), lambda x, y: x.reshape(y.shape), (2, 6),
      Arg((3, 4), grad=False), oracle=lambda x, y: x.view_as(y)),
    S("flatten", sd.flatten, lambda x: x.reshape(-1), (2, 3, 4), oracle=lambda x: th.flatten(x)),
    S("flatten-start1", lambda x: x.flatten(1), lambda x: x.reshape(2, -1), (2, 3, 4),
      oracle=lambda x: x.flatten(1)),
    S("flatten-0-1", lambda x: sd.flatten(x, 0, 1), lambda x: x.reshape(6, 4), (2, 3, 4),
      oracle=lambda x: th.flatten(x, 0, 1)),
    S("squeeze-all", sd.squeeze, np.squeeze, (1, 3, 1, 4), oracle=lambda x: th.squeeze(x)),
    S("squeeze-dim", lambda x: x.squeeze(2), lambda x: np.squeeze(x, 2), (1, 3, 1, 4),
      oracle=lambda x: x.squeeze(2)),
    S("squeeze-axis-tuple", lambda x: sd.squeeze(x, axis=(0, 2)),
      lambda x: np.squeeze(x, (0, 2)), (1, 3, 1, 4), oracle=lambda x: th.squeeze(x, (0, 2))),
    S("unsqueeze", lambda x: x.unsqueeze(1), lambda x: np.expand_dims(x, 1), (3, 4),
      oracle=lambda x: x.unsqueeze(1)),
    S("unsqueeze-neg", lambda x: sd.unsqueeze(x, -1), lambda x: np.expand_dims(x, -1), (3, 4),
      oracle=lambda x: th.unsqueeze(x, -1)),
    S("transpose", lambda x: x.transpose(0, 2), lambda x: np.swapaxes(x, 0, 2), (2, 3, 4),
      oracle=lambda x: x.transpose(0, 2)),
    S("transpose-reverse", sd.transpose, np.transpose, (2, 3, 4),
      oracle=lambda x: x.permute(2, 1, 0)),
    S("T", lambda x: x.T, lambda x: x.T, (3, 4), oracle=lambda x: x.T),
    S("mT", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), (2, 3, 4), oracle=lambda x: x.mT),
    S("permute", lambda x: x.permute(2, 0, 1), lambda x: np.transpose(x, (2, 0, 1)), (2, 3, 4),
      oracle=lambda x: x.permute(2, 0, 1)),
    S("permute-fn-tuple", lambda x: sd.permute(x, (1, 2, 0)),
      lambda x: np.transpose(x, (1, 2, 0)), (2, 3, 4), oracle=lambda x: th.permute(x, (1, 2, 0))),
    S("swapaxes", lambda x: x.swapaxes(1, 2), lambda x: np.swapaxes(x, 1, 2), (2, 3, 4),
      oracle=lambda x: x.swapaxes(1, 2)),
    S("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)), (3, 1),
      oracle=lambda x: x.expand(2, 3, 4)),
    S("expand-minus1", lambda x: x.expand(-1, 5), lambda x: np.broadcast_to(x, (3, 5)), (3, 1),
      oracle=lambda x: x.expand(-1, 5)),
    S("expand_as", lambda x, y: x.expand_as(y), lambda x, y: np.broadcast_to(x, y.shape), (4,),
      Arg((3, 4), grad=False), oracle=lambda x, y: x.expand_as(y)),
    S("broadcast_to", lambda x: sd.broadcast_to(x, (2, 3, 4)),
      lambda x: np.broadcast_to(x, (2, 3, 4)), (1, 4),
      oracle=lambda x: th.broadcast_to(x, (2, 3, 4))),
    S("repeat", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), (2, 3, 2),
      oracle=lambda x: x.repeat(2, 1, 3)),
    S("repeat-new-dims", lambda x: x.repeat(2, 1, 2), lambda x: np.tile(x, (2, 1, 2)), (3, 2),
      oracle=lambda x: x.repeat(2, 1, 2)),
    S("tile", lambda x: sd.tile(x, (2,)), lambda x: np.tile(x, 2), (3, 2),
      oracle=lambda x: th.tile(x, (2,))),
    S("tile-3d", lambda x: x.tile((2, 1, 2)), lambda x: np.tile(x, (2, 1, 2)), (2, 3, 2),
      oracle=lambda x: x.tile((2, 1, 2))),
    S("repeat_interleave", lambda x: x.repeat_interleave(2, dim=1),
      lambda x: np.repeat(x, 2, axis=1), (2, 3, 2),
      oracle=lambda x: x.repeat_interleave(2, dim=1)),
    S("repeat_interleave-flat", lambda x: sd.repeat_interleave(x, 3), lambda x: np.repeat(x, 3),
      (2, 3), oracle=lambda x: th.repeat_interleave(x, 3)),
    S("concat", lambda a, b, c: sd.concat([a, b, c], axis=1),
      lambda a, b, c: np.concatenate([a, b, c], axis=1), (2, 3), (2, 1), (2, 2),
      oracle=lambda a, b, c: th.cat([a, b, c], 1)),
    S("cat-dim0", lambda a, b: sd.cat([a, b], dim=0), lambda a, b: np.concatenate([a, b]),
      (2, 3, 2), (1, 3, 2), oracle=lambda a, b: th.cat([a, b], dim=0)),
    S("stack", lambda a, b, c: sd.stack([a, b, c], dim=1),
      lambda a, b, c: np.stack([a, b, c], axis=1), (2, 3), (2, 3), (2, 3),
      oracle=lambda a, b, c: th.stack([a, b, c], dim=1)),
    S("stack-last", lambda a, b: sd.stack([a, b], axis=-1), lambda a, b: np.stack([a, b], -1),
      (2, 3), (2, 3), oracle=lambda a, b: th.stack([a, b], -1)),
    S("split-size", lambda x: x.split(2, dim=1), lambda x: _np_split(x, [2, 2, 1], 1), (3, 5, 2),
      oracle=lambda x: x.split(2, dim=1)),
    S("split-sections", lambda x: sd.split(x, [1, 3, 1], dim=1),
      lambda x: _np_split(x, [1, 3, 1], 1), (3, 5), oracle=lambda x: th.split(x, [1, 3, 1], 1)),
    S("chunk", lambda x: x.chunk(3), lambda x: _np_split(x, [2, 2, 1], 0), (5, 4),
      oracle=lambda x: x.chunk(3)),
    S("chunk-dim", lambda x: sd.chunk(x, 2, dim=-1), lambda x: _np_split(x, [2, 2], -1),
      (3, 4), oracle=lambda x: th.chunk(x, 2, dim=-1)),
    S("pad-last", lambda x: sd.pad(x, (1, 2)), lambda x: np.pad(x, ((0, 0), (1, 2))), (3, 4),
      oracle=lambda x: th.nn.functional.pad(x, (1, 2))),
    S("pad-two-dims-value", lambda x: sd.pad(x, (1, 2, 0, 1), value=0.5),
      lambda x: np.pad(x, ((0, 0), (0, 1), (1, 2)), constant_values=0.5), (2, 3, 4),
      oracle=lambda x: th.nn.functional.pad(x, (1, 2, 0, 1), value=0.5)),
    S("flip", lambda x: sd.flip(x, (0, 2)), lambda x: np.flip(x, (0, 2)), (2, 3, 4),
      oracle=lambda x: th.flip(x, (0, 2))),
    S("flip-int", lambda x: x.flip(1), lambda x: np.flip(x, 1), (2, 3),
      oracle=lambda x: x.flip(1)),
    S("embedding", lambda w: M.Embedding.apply(w, EMBED_IDX), lambda w: w[EMBED_IDX], (5, 3),
      oracle=lambda w: th.nn.functional.embedding(th.as_tensor(EMBED_IDX), w)),
    S("embedding-padding", lambda w: M.Embedding.apply(w, EMBED_IDX, padding_idx=1),
      lambda w: w[EMBED_IDX], (5, 3),
      grad=False),  # padding_idx withholds a gradient on purpose: see test_embedding_padding
    S("gather-dim1", lambda x: sd.gather(x, 1, sd.tensor(GATHER_DIM1)),
      lambda x: _np_gather(x, GATHER_DIM1, 1), (3, 4),
      oracle=lambda x: th.gather(x, 1, th.as_tensor(GATHER_DIM1))),
    S("gather-dim0", lambda x: x.gather(0, sd.tensor(GATHER_DIM0)),
      lambda x: _np_gather(x, GATHER_DIM0, 0), (3, 4),
      oracle=lambda x: x.gather(0, th.as_tensor(GATHER_DIM0))),
    S("gather-index-arg", lambda x, i: sd.gather(x, -1, i),
      lambda x, i: _np_gather(x, i, -1),
      (3, 5), Arg((3, 2), "labels"), oracle=lambda x, i: th.gather(x, -1, i)),
]

# -- indexing ------------------------------------------------------------------------------------
_index_specs = [
    S("index-slices", lambda x: x[1:3, ::2], lambda x: x[1:3, ::2], (4, 5),
      oracle=lambda x: x[1:3, ::2]),
    S("index-int", lambda x: x[1], lambda x: x[1], (4, 5), oracle=lambda x: x[1]),
    S("index-neg-int", lambda x: x[:, -1], lambda x: x[:, -1], (4, 5),
      oracle=lambda x: x[:, -1]),
    S("index-none-ellipsis", lambda x: x[None, ..., 1], lambda x: x[None, ..., 1], (2, 3, 4),
      oracle=lambda x: x[None, ..., 1]),
    S("index-reverse-step", lambda x: x[::-1, 1:], lambda x: x[::-1, 1:], (4, 3)),
    S("index-int-array-repeated", lambda x: x[ROWS_REPEATED], lambda x: x[ROWS_REPEATED],
      (3, 4), oracle=lambda x: x[th.as_tensor(ROWS_REPEATED)]),
    S("index-int-array-and-slice", lambda x: x[ROWS_REPEATED, 1:], lambda x: x[ROWS_REPEATED, 1:],
      (3, 4), oracle=lambda x: x[th.as_tensor(ROWS_REPEATED), 1:]),
    S("index-int-array-pairs", lambda x: x[ROWS_REPEATED, COLS_REPEATED],
      lambda x: x[ROWS_REPEATED, COLS_REPEATED], (3, 4),
      oracle=lambda x: x[th.as_tensor(ROWS_REPEATED), th.as_tensor(COLS_REPEATED)]),
    S("index-list", lambda x: x[[0, 0, 2]], lambda x: x[[0, 0, 2]], (3, 4),
      oracle=lambda x: x[[0, 0, 2]]),
    S("index-tensor", lambda x: x[sd.tensor(ROWS_REPEATED)], lambda x: x[ROWS_REPEATED], (3, 4),
      oracle=lambda x: x[th.as_tensor(ROWS_REPEATED)]),
    S("index-bool-mask", lambda x: x[MASK_34], lambda x: x[MASK_34], (3, 4),
      oracle=lambda x: x[th.as_tensor(MASK_34)]),
    S("index-bool-tensor-mask", lambda x: x[sd.tensor(MASK_34)], lambda x: x[MASK_34], (3, 4, 2),
      oracle=lambda x: x[th.as_tensor(MASK_34)]),
    S("index-bool-rows", lambda x: x[MASK_34[0, :3], 1:], lambda x: x[MASK_34[0, :3], 1:],
      (3, 4), oracle=lambda x: x[th.as_tensor(MASK_34[0, :3]), 1:]),
]

# -- not differentiable: forward only ------------------------------------------------------------
_forward_only_specs = [
    S("eq", sd.eq, np.equal, Arg((3, 4), "small_ints"), Arg((4,), "small_ints"), grad=False,
      oracle=lambda a, b: th.eq(a, b)),
    S("ne-operator", lambda a, b: a != b, np.not_equal, Arg((3, 4), "small_ints"),
      Arg((3, 4), "small_ints"), grad=False, oracle=lambda a, b: a != b),
    S("lt", lambda a, b: a < b, np.less, Arg((3, 4), "small_ints"), Arg((3, 1), "small_ints"),
      grad=False, oracle=lambda a, b: a < b),
    S("le", sd.le, np.less_equal, Arg((3, 4), "small_ints"), Arg((4,), "small_ints"),
      grad=False, oracle=lambda a, b: th.le(a, b)),
    S("gt-scalar", lambda a: a > 0.5, lambda a: a > 0.5, Arg((3, 4), "small_ints"), grad=False,
      oracle=lambda a: a > 0.5),
    S("ge-method", lambda a, b: a.ge(b), np.greater_equal, Arg((3, 4), "small_ints"),
      Arg((3, 4), "small_ints"), grad=False, oracle=lambda a, b: a.ge(b)),
    S("eq-method", lambda a: a.eq(1.0), lambda a: a == 1.0, Arg((3, 4), "small_ints"),
      grad=False, oracle=lambda a: a.eq(1.0)),
    S("argmax", sd.argmax, np.argmax, Arg((3, 4), "distinct"), grad=False,
      oracle=lambda x: th.argmax(x)),
    S("argmax-dim", lambda x: x.argmax(dim=1), lambda x: np.argmax(x, 1),
      Arg((2, 3, 4), "distinct"), grad=False, oracle=lambda x: x.argmax(dim=1)),
    S("argmax-keepdim", lambda x: sd.argmax(x, -1, keepdims=True),
      lambda x: np.argmax(x, -1, keepdims=True), Arg((3, 4), "distinct"), grad=False,
      oracle=lambda x: th.argmax(x, -1, keepdim=True)),
    S("argmin", lambda x: x.argmin(), np.argmin, Arg((3, 4), "distinct"), grad=False,
      oracle=lambda x: x.argmin()),
    S("argmin-axis0", lambda x: sd.argmin(x, axis=0), lambda x: np.argmin(x, 0),
      Arg((3, 4), "distinct"), grad=False, oracle=lambda x: th.argmin(x, 0)),
    S("max-dim-indices", lambda x: x.max(dim=1).indices, lambda x: np.argmax(x, 1),
      Arg((3, 4), "distinct"), grad=False, oracle=lambda x: x.max(dim=1).indices),
    S("one_hot", lambda y: sd.one_hot(y, 5), lambda y: _np_one_hot(y, 5), Arg((6,), "labels"),
      grad=False, oracle=lambda y: th.nn.functional.one_hot(y, 5)),
    S("one_hot-2d", sd.one_hot, lambda y: _np_one_hot(y, y.max() + 1), Arg((2, 3), "labels"),
      grad=False, oracle=lambda y: th.nn.functional.one_hot(y)),
    S("sign", sd.sign, np.sign, Arg((3, 4), "small_ints"), grad=False,
      oracle=lambda x: th.sign(x)),
]

# -- vision: convolution, pooling, normalization (tiny shapes: the gradient checks are dense) ---
F = sd.nn.functional


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _np_pads(padding, hw, k_hw, stride, dilation):
    """((top, bottom), (left, right)) like TensorFlow: "same" puts the odd cell at the end."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        out = []
        for n, k, s, d in zip(hw, k_hw, stride, dilation):
            total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    if isinstance(padding, tuple) and isinstance(padding[0], tuple):
        return padding
    ph, pw = _pair(padding)
    return (ph, ph), (pw, pw)


def _taps(a, i, j, stride, dilation, out_hw):
    """What output (i', j') reads at kernel offset (i, j), over the last two axes of ``a``."""
    hi, wj = i * dilation[0], j * dilation[1]
    return a[..., hi:hi + stride[0] * (out_hw[0] - 1) + 1:stride[0],
             wj:wj + stride[1] * (out_hw[1] - 1) + 1:stride[1]]


def _np_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation on NCHW, w (F, C/groups, kh, kw), summed tap by tap in float64."""
    stride, dilation = _pair(stride), _pair(dilation)
    kh, kw = w.shape[2:]
    pads = _np_pads(padding, x.shape[2:], (kh, kw), stride, dilation)
    xp_ = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    out_hw = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in
                   zip(xp_.shape[2:], (kh, kw), stride, dilation))
    f, cg = w.shape[:2]
    fg = f // groups
    out = np.zeros((x.shape[0], f) + out_hw)
    for g in range(groups):
        xs, ws = xp_[:, g * cg:(g + 1) * cg], w[g * fg:(g + 1) * fg]
        for i in range(kh):
            for j in range(kw):
                out[:, g * fg:(g + 1) * fg] += np.einsum(
                    "nchw,fc->nfhw", _taps(xs, i, j, stride, dilation, out_hw), ws[:, :, i, j])
    return out if b is None else out + b[:, None, None]


def _np_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
    """The adjoint of _np_conv2d: scatter every input pixel through the kernel, then crop."""
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    (ph, pw), (oh, ow) = _pair(padding), _pair(output_padding)
    n, _, h, wd = x.shape
    cout, kh, kw = w.shape[1:]
    full = ((h - 1) * sh + dh * (kh - 1) + 1, (wd - 1) * sw + dw * (kw - 1) + 1)
    out = np.zeros((n, cout, full[0] + oh, full[1] + ow))
    for i in range(kh):
        for j in range(kw):
            _taps(out, i, j, (sh, sw), (dh, dw), (h, wd))[...] += np.einsum(
                "nchw,cf->nfhw", x, w[:, :, i, j])
    out = out[:, :, ph:full[0] + oh - ph, pw:full[1] + ow - pw]
    return out if b is None else out + b[:, None, None]


def _np_pool2d(x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False, op="max",
               count_include_pad=True):
    """PyTorch's pooling on NCHW by brute force over the windows."""
    (kh, kw), (dh, dw) = _pair(kernel), _pair(dilation)
    sh, sw = _pair(stride if stride is not None else kernel)
    ph, pw = _pair(padding)
    n, c, h, w = x.shape

    def length(size, k, s, p, d):
        span = size + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        return out - 1 if ceil_mode and (out - 1) * s >= size + p else out

    ho, wo = length(h, kh, sh, ph, dh), length(w, kw, sw, pw, dw)
    out = np.empty((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            rows = [i * sh - ph + a * dh for a in range(kh)]
            cols = [j * sw - pw + a * dw for a in range(kw)]
            inside_r = [r for r in rows if 0 <= r < h]
            inside_c = [q for q in cols if 0 <= q < w]
            win = x[:, :, inside_r][:, :, :, inside_c]
            if op == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:  # PyTorch's divisor: the window clipped to the padded input (or the input)
                if count_include_pad:
                    count = (min(i * sh - ph + kh, h + ph) - (i * sh - ph)) * (
                        min(j * sw - pw + kw, w + pw) - (j * sw - pw))
                else:
                    count = len(inside_r) * len(inside_c)
                out[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return out


def _np_adaptive(x, size, reduce=np.mean):
    """PyTorch's adaptive bins: rows [floor(i h / oh), ceil((i + 1) h / oh))."""
    oh, ow = _pair(size)
    h, w = x.shape[2:]
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = i * h // oh, -(-(i + 1) * h // oh)
            c0, c1 = j * w // ow, -(-(j + 1) * w // ow)
            out[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
    return out


def _np_standardize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def _np_batch_norm(x, gamma, beta, axis=1, eps=1e-5, mean=None, var=None):
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    if mean is None:
        xhat = _np_standardize(x, axes, eps)
    else:
        xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return xhat * gamma.reshape(shape) + beta.reshape(shape)


def _np_group_norm(x, groups, gamma, beta, eps=1e-5):
    n, c = x.shape[:2]
    y = _np_standardize(x.reshape(n, groups, -1), (2,), eps).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return y * gamma.reshape(shape) + beta.reshape(shape)


def _nhwc(f):
    """A channels-first reference or oracle applied to channels-last arrays (x and kernel)."""
    def g(x, *rest):
        return f(x.transpose(0, 3, 1, 2), *rest).transpose(0, 2, 3, 1)
    return g


def _th_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, relu=False):
    (t, bo), (le, r) = _np_pads(padding, tuple(x.shape[2:]), tuple(w.shape[2:]), _pair(stride),
                                _pair(dilation))
    y = th.nn.functional.conv2d(th.nn.functional.pad(x, (le, r, t, bo)), w, b, stride, 0,
                                dilation, groups)
    return th.relu(y) if relu else y


_CONV_PADS = [("valid", "valid"), ("same", "same"), ("int1", 1), ("asym", ((1, 0), (2, 1)))]
# tag, groups, C_in, C_out: unequal counts catch swapped axes; depthwise with multiplier 2
_CONV_GROUPS = [("g1", 1, 3, 2), ("g2", 2, 4, 4), ("dw", 2, 2, 4)]


def _conv2d_spec(ptag, pad, stride, dil, gtag, groups, cin, cout, layout, bias, act=None):
    kw = dict(stride=stride, padding=pad, dilation=dil, groups=groups)
    wshape = (cout, cin // groups, 3, 2)  # a non-square kernel catches swapped axes
    relu = act == "relu"

    def ref(x, w, b=None):
        y = _np_conv2d(x, w, b, **kw)
        return np.maximum(y, 0) if relu else y

    def orc(x, w, b=None):
        return _th_conv2d(x, w, b, relu=relu, **kw)

    if layout == "NCHW":
        def fn(x, w, b=None):
            return F.conv2d(x, w, b, activation=act, **kw)
        xshape = (2, cin, 5, 4)
    else:  # channels-last input (N, H, W, C), kernel (kh, kw, C_in/g, C_out)
        nchw_ref, nchw_orc = ref, orc

        def fn(x, w, b=None):
            return F.conv2d(x, w, b, data_format="channels_last", activation=act, **kw)

        def ref(x, w, b=None):
            y = nchw_ref(x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), b)
            return y.transpose(0, 2, 3, 1)

        def orc(x, w, b=None):
            return nchw_orc(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), b).permute(0, 2, 3, 1)

        xshape, wshape = (2, 5, 4, cin), (3, 2, cin // groups, cout)
    args = [xshape, wshape] + ([(cout,)] if bias else [])
    name = (f"conv2d-{layout}-{ptag}-s{stride}-d{dil}-{gtag}-{'bias' if bias else 'nobias'}"
            + (f"-{act}" if act else ""))
    return S(name, fn, ref, *args, oracle=orc, rtol32=1e-4)


def _nhwc_torch(f):
    def g(x, *rest):
        return f(x.permute(0, 3, 1, 2), *rest).permute(0, 2, 3, 1)
    return g


_conv2d_specs = [
    _conv2d_spec(ptag, pad, s, d, gtag, g, cin, cout, layout, bias)
    for ptag, pad in _CONV_PADS for s in (1, 2) for d in (1, 2)
    for gtag, g, cin, cout in _CONV_GROUPS for layout in ("NCHW", "NHWC") for bias in (True, False)
] + [
    _conv2d_spec("same", "same", 1, 1, "g1", 1, 3, 2, "NCHW", True, act="relu"),
    _conv2d_spec("valid", "valid", 2, 1, "g1", 1, 3, 2, "NHWC", True, act="relu"),
    _conv2d_spec("asym", ((1, 0), (2, 1)), 1, 2, "g2", 2, 4, 4, "NHWC", False, act="relu"),
    _conv2d_spec("int1", 1, 2, 1, "dw", 2, 2, 4, "NCHW", True, act="relu"),
    # few input channels take the channel-planar im2col path, many the window-view path
    S("conv2d-rgb-input", lambda x, w, b: F.conv2d(x, w, b, padding=1),
      lambda x, w, b: _np_conv2d(x, w, b, padding=1), (2, 3, 4, 4), (5, 3, 3, 3), (5,),
      oracle=lambda x, w, b: th.nn.functional.conv2d(x, w, b, padding=1), rtol32=1e-4),
    S("conv2d-wide-input-1x1", lambda x, w: F.conv2d(x, w, stride=(2, 1)),
      lambda x, w: _np_conv2d(x, w, stride=(2, 1)), (2, 6, 3, 3), (2, 6, 1, 1),
      oracle=lambda x, w: th.nn.functional.conv2d(x, w, stride=(2, 1)), rtol32=1e-4),
    S("conv2d-wide-input-same-s2-bias-relu",
      lambda x, w, b: F.conv2d(x, w, b, 2, "same", data_format="channels_last",
                               activation="relu"),
      lambda x, w, b: np.maximum(_np_conv2d(x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), b,
                                            2, "same").transpose(0, 2, 3, 1), 0),
      (2, 4, 3, 6), (2, 2, 6, 3), (3,), rtol32=1e-4),
]


def _np_conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    pad = padding if isinstance(padding, str) else ((0, 0), (padding, padding))
    if pad == "same":  # the height-1 axis must not be padded
        pad = ((0, 0), _np_pads("same", (x.shape[2],), (w.shape[2],), (stride,), (dilation,))[0])
    return _np_conv2d(x[:, :, None], w[:, :, None], b, (1, stride), pad, (1, dilation),
                      groups)[:, :, 0]


def _th_conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same":
        (lo, hi), = _np_pads("same", (x.shape[2],), (w.shape[2],), (stride,), (dilation,))
        x, padding = th.nn.functional.pad(x, (lo, hi)), 0
    elif padding == "valid":
        padding = 0
    return th.nn.functional.conv1d(x, w, b, stride, padding, dilation, groups)


def _conv1d_spec(ptag, pad, stride, dil, groups, layout):
    kw = dict(stride=stride, padding=pad, dilation=dil, groups=groups)
    name = f"conv1d-{layout}-{ptag}-s{stride}-d{dil}-g{groups}"
    if layout == "NCL":
        return S(name, lambda x, w, b: F.conv1d(x, w, b, **kw),
                 lambda x, w, b: _np_conv1d(x, w, b, **kw), (2, 4, 7), (6, 4 // groups, 3), (6,),
                 oracle=lambda x, w, b: _th_conv1d(x, w, b, **kw), rtol32=1e-4)
    return S(name, lambda x, w, b: F.conv1d(x, w, b, data_format="channels_last", **kw),
             lambda x, w, b: _np_conv1d(x.transpose(0, 2, 1), w.transpose(2, 1, 0), b,
                                        **kw).transpose(0, 2, 1),
             (2, 7, 4), (3, 4 // groups, 6), (6,),
             oracle=lambda x, w, b: _th_conv1d(x.permute(0, 2, 1), w.permute(2, 1, 0), b,
                                               **kw).permute(0, 2, 1), rtol32=1e-4)


_conv1d_specs = [
    _conv1d_spec(ptag, pad, s, d, g, layout)
    for ptag, pad in (("valid", "valid"), ("same", "same"), ("int2", 2))
    for s, d in ((1, 1), (2, 1), (1, 2)) for g in (1, 2) for layout in ("NCL", "NLC")
]


def _convt_spec(stride, padding, output_padding, dilation, layout, bias=True):
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    name = (f"conv_transpose2d-{layout}-s{stride}-p{padding}-op{output_padding}-d{dilation}"
            + ("" if bias else "-nobias"))
    args = [(2, 3, 3, 4), (3, 2, 3, 2)] + ([(2,)] if bias else [])

    def fn(x, w, b=None):
        return F.conv_transpose2d(x, w, b, **kw)

    def ref(x, w, b=None):
        return _np_conv_transpose2d(x, w, b, **kw)

    def orc(x, w, b=None):
        return th.nn.functional.conv_transpose2d(x, w, b, **kw)

    if layout == "NHWC":  # input (N, H, W, C_in), kernel (kh, kw, C_out, C_in) like Keras
        args[:2] = [(2, 3, 4, 3), (3, 2, 2, 3)]

        def fn(x, w, b=None):
            return F.conv_transpose2d(x, w, b, data_format="channels_last", **kw)

        def ref(x, w, b=None):
            return _np_conv_transpose2d(x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), b,
                                        **kw).transpose(0, 2, 3, 1)

        def orc(x, w, b=None):
            return th.nn.functional.conv_transpose2d(
                x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), b, **kw).permute(0, 2, 3, 1)
    return S(name, fn, ref, *args, oracle=orc, rtol32=1e-4)


_conv_transpose_specs = [
    _convt_spec(s, p, op, d, layout)
    for s, p, op, d in ((1, 0, 0, 1), (2, 0, 0, 1), (2, 1, 1, 1), (2, 1, 0, 2), (1, 1, 0, 2),
                        ((2, 1), (1, 0), (1, 0), 1), (3, 1, 2, 1))
    for layout in ("NCHW", "NHWC")
] + [_convt_spec(2, 1, 1, 1, "NCHW", bias=False)]


def _pool_spec(op, kernel, stride, padding, ceil_mode=False, dilation=1, count_include_pad=True,
               layout="NCHW"):
    name = (f"{op}_pool2d-{layout}-k{kernel}-s{stride}-p{padding}"
            + ("-ceil" if ceil_mode else "") + (f"-d{dilation}" if dilation != 1 else "")
            + ("" if count_include_pad else "-nopad")).replace(" ", "")
    channels, shape = ("channels_first", (2, 2, 5, 6)) if layout == "NCHW" else \
        ("channels_last", (2, 5, 6, 2))
    if op == "max":
        kw = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                  ceil_mode=ceil_mode)

        def fn(x):
            return F.max_pool2d(x, data_format=channels, **kw)

        def orc(x):
            return th.nn.functional.max_pool2d(x, **kw)
    else:
        kw = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                  count_include_pad=count_include_pad)

        def fn(x):
            return F.avg_pool2d(x, data_format=channels, **kw)

        def orc(x):
            return th.nn.functional.avg_pool2d(x, **kw)

    def ref(x):
        return _np_pool2d(x, kernel, stride, padding, dilation, ceil_mode, op, count_include_pad)

    if layout == "NHWC":
        ref, orc = _nhwc(ref), _nhwc_torch(orc)
    return S(name, fn, ref, Arg(shape, "distinct"), oracle=orc)


_pool_specs = [
    _pool_spec(op, k, s, p, cm)
    for op in ("max", "avg") for k in (2, 3) for s in (1, 2, None) for p in (0, 1)
    for cm in (False, True)
] + [
    _pool_spec("max", 2, 1, 0, dilation=2), _pool_spec("max", 3, 2, 1, dilation=2),
    _pool_spec("max", 3, 1, 1, True, dilation=2),
    _pool_spec("max", 2, None, 0, layout="NHWC"), _pool_spec("max", 3, 2, 1, True, 2, True,
                                                             "NHWC"),
    _pool_spec("avg", 3, 2, 1, count_include_pad=False),
    _pool_spec("avg", 3, 1, 1, count_include_pad=False), _pool_spec("avg", 2, 2, 1, True, 1,
                                                                    False),
    _pool_spec("avg", 2, None, 0, layout="NHWC"), _pool_spec("avg", 3, 2, 1, True, 1, False,
                                                             "NHWC"),
    _pool_spec("max", (3, 2), (2, 1), (1, 0)), _pool_spec("avg", (2, 3), (1, 2), (0, 1)),
    S("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1),
      lambda x: _np_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1))[:, :, 0],
      Arg((2, 3, 8), "distinct"), oracle=lambda x: th.nn.functional.max_pool1d(x, 3, 2, 1)),
    S("avg_pool1d", lambda x: F.avg_pool1d(x, 2),
      lambda x: _np_pool2d(x[:, :, None], (1, 2), op="avg")[:, :, 0], (2, 3, 7),
      oracle=lambda x: th.nn.functional.avg_pool1d(x, 2)),
    S("avg_pool1d-pad-nocount", lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
      lambda x: _np_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1), op="avg",
                           count_include_pad=False)[:, :, 0], (2, 3, 7),
      oracle=lambda x: th.nn.functional.avg_pool1d(x, 3, 2, 1, count_include_pad=False)),
]

_adaptive_specs = [
    S(f"adaptive_avg_pool2d-{h}x{w}-to-{size}", lambda x, s=size: F.adaptive_avg_pool2d(x, s),
      lambda x, s=size: _np_adaptive(x, s), (2, 3, h, w),
      oracle=lambda x, s=size: th.nn.functional.adaptive_avg_pool2d(x, s))
    for h, w, size in ((6, 4, (3, 2)), (6, 4, 1), (5, 7, (3, 4)), (5, 7, (2, 5)), (4, 4, 4))
] + [
    S("adaptive_avg_pool2d-nhwc-nondivisible",
      lambda x: F.adaptive_avg_pool2d(x, (2, 3), data_format="channels_last"),
      _nhwc(lambda x: _np_adaptive(x, (2, 3))), (2, 5, 7, 3),
      oracle=_nhwc_torch(lambda x: th.nn.functional.adaptive_avg_pool2d(x, (2, 3)))),
    S("adaptive_avg_pool2d-none-keeps-size", lambda x: F.adaptive_avg_pool2d(x, (None, 2)),
      lambda x: _np_adaptive(x, (5, 2)), (2, 3, 5, 4),
      oracle=lambda x: th.nn.functional.adaptive_avg_pool2d(x, (None, 2))),
    S("adaptive_max_pool2d-nondivisible", lambda x: F.adaptive_max_pool2d(x, (2, 3)),
      lambda x: _np_adaptive(x, (2, 3), np.max),
      Arg((2, 3, 5, 7), "distinct"),
      oracle=lambda x: th.nn.functional.adaptive_max_pool2d(x, (2, 3))),
    S("adaptive_max_pool2d-divisible", lambda x: F.adaptive_max_pool2d(x, 2),
      lambda x: x.reshape(2, 3, 2, 3, 2, 2).max(axis=(3, 5)), Arg((2, 3, 6, 4), "distinct"),
      oracle=lambda x: th.nn.functional.adaptive_max_pool2d(x, 2)),
]

_norm_specs = [
    S("batch_norm-train-nchw", lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
      _np_batch_norm, (4, 3, 2, 3), (3,), (3,),
      oracle=lambda x, g, b: th.nn.functional.batch_norm(x, None, None, g, b, training=True)),
    S("batch_norm-train-running-stats",  # fresh running stats per call: the output ignores them
      lambda x, g, b: F.batch_norm(x, np.zeros(3), np.ones(3), g, b, training=True,
                                   momentum=0.3),
      _np_batch_norm, (5, 3), (3,), (3,),
      oracle=lambda x, g, b: th.nn.functional.batch_norm(
          x, th.zeros(3, dtype=x.dtype), th.ones(3, dtype=x.dtype), g, b, training=True,
          momentum=0.3)),
    S("batch_norm-train-ncl-eps", lambda x, g, b: F.batch_norm(x, None, None, g, b, True,
                                                               eps=1e-2),
      lambda x, g, b: _np_batch_norm(x, g, b, eps=1e-2), (3, 2, 4), (2,), (2,),
      oracle=lambda x, g, b: th.nn.functional.batch_norm(x, None, None, g, b, True, eps=1e-2)),
    S("batch_norm-train-channels-last", lambda x, g, b: F.batch_norm(x, None, None, g, b, True,
                                                                     axis=-1),
      lambda x, g, b: _np_batch_norm(x, g, b, axis=-1), (2, 3, 2, 4), (4,), (4,),
      oracle=_nhwc_torch(lambda x, g, b: th.nn.functional.batch_norm(x, None, None, g, b,
                                                                     True))),
    S("batch_norm-train-no-affine", lambda x: F.batch_norm(x, None, None, training=True),
      lambda x: _np_batch_norm(x, np.ones(3), np.zeros(3)), (4, 3, 2),
      oracle=lambda x: th.nn.functional.batch_norm(x, None, None, training=True)),
    S("batch_norm-eval", lambda x, m, v, g, b: F.batch_norm(x, m, v, g, b, training=False),
      lambda x, m, v, g, b: _np_batch_norm(x, g, b, mean=m, var=v), (3, 4, 2, 2),
      Arg((4,), grad=False), Arg((4,), "positive", grad=False), (4,), (4,),
      oracle=lambda x, m, v, g, b: th.nn.functional.batch_norm(x, m, v, g, b, False)),
    S("batch_norm-eval-channels-last",
      lambda x, m, v: F.batch_norm(x, m, v, training=False, axis=-1, eps=1e-3),
      lambda x, m, v: _np_batch_norm(x, np.ones(3), np.zeros(3), -1, 1e-3, m, v), (2, 2, 3),
      Arg((3,), grad=False), Arg((3,), "positive", grad=False)),
    S("layer_norm-last", lambda x, g, b: F.layer_norm(x, 4, g, b),
      lambda x, g, b: _np_standardize(x, (-1,), 1e-5) * g + b, (2, 3, 4), (4,), (4,),
      oracle=lambda x, g, b: th.nn.functional.layer_norm(x, (4,), g, b)),
    S("layer_norm-two-dims", lambda x, g, b: F.layer_norm(x, (3, 4), g, b, eps=1e-3),
      lambda x, g, b: _np_standardize(x, (-2, -1), 1e-3) * g + b, (2, 3, 4), (3, 4), (3, 4),
      oracle=lambda x, g, b: th.nn.functional.layer_norm(x, (3, 4), g, b, eps=1e-3)),
    S("layer_norm-no-affine", lambda x: F.layer_norm(x, (5,)),
      lambda x: _np_standardize(x, (-1,), 1e-5), (3, 5),
      oracle=lambda x: th.nn.functional.layer_norm(x, (5,))),
    S("group_norm-2-groups", lambda x, g, b: F.group_norm(x, 2, g, b),
      lambda x, g, b: _np_group_norm(x, 2, g, b), (2, 4, 3, 2), (4,), (4,),
      oracle=lambda x, g, b: th.nn.functional.group_norm(x, 2, g, b)),
    S("group_norm-instance", lambda x, g, b: F.group_norm(x, 3, g, b),
      lambda x, g, b: _np_group_norm(x, 3, g, b), (2, 3, 4), (3,), (3,),
      oracle=lambda x, g, b: th.nn.functional.group_norm(x, 3, g, b)),
    S("group_norm-one-group-no-affine", lambda x: F.group_norm(x, 1),
      lambda x: _np_group_norm(x, 1, np.ones(4), np.zeros(4)), (2, 4, 3),
      oracle=lambda x: th.nn.functional.group_norm(x, 1)),
    S("group_norm-channels-last", lambda x, g, b: F.group_norm(x, 2, g, b, axis=-1),
      _nhwc(lambda x, g, b: _np_group_norm(x, 2, g, b)), (2, 3, 2, 4), (4,), (4,),
      oracle=_nhwc_torch(lambda x, g, b: th.nn.functional.group_norm(x, 2, g, b))),
]

_resize_specs = [
    S("interpolate-scale2", lambda x: F.interpolate(x, scale_factor=2),
      lambda x: x.repeat(2, axis=2).repeat(2, axis=3), (1, 2, 3, 2),
      oracle=lambda x: th.nn.functional.interpolate(x, scale_factor=2)),
    S("interpolate-size-nonmultiple", lambda x: F.interpolate(x, size=(5, 3)),
      lambda x: x[:, :, [0, 0, 1, 1, 2]][:, :, :, [0, 0, 1]], (1, 2, 3, 2),
      oracle=lambda x: th.nn.functional.interpolate(x, size=(5, 3))),
    S("upsample_nearest-channels-last", lambda x: F.upsample_nearest(x, (2, 3), "channels_last"),
      lambda x: x.repeat(2, axis=1).repeat(3, axis=2), (2, 2, 2, 3)),
]

# -- fused: the bigger primitives of ops.fused, through their public callers --------------------
_fused_specs = [
    S("linear", F.linear, lambda x, w, b: x @ w.T + b, (5, 4), (3, 4), (3,),
      oracle=lambda x, w, b: th.nn.functional.linear(x, w, b)),
    S("linear-3d-nobias", F.linear, lambda x, w: x @ w.T, (2, 3, 4), (5, 4),
      oracle=lambda x, w: th.nn.functional.linear(x, w)),
    S("linear-in_out-relu", lambda x, w, b: fused.Linear.apply(x, w, b, w_layout="in_out",
                                                               activation="relu"),
      lambda x, w, b: np.maximum(x @ w + b, 0), (5, 4), (4, 3), (3,),
      oracle=lambda x, w, b: th.relu(x @ w + b)),
    S("cross_entropy", lambda x, y: F.cross_entropy(x, y),
      lambda x, y: -_np_log_softmax(x, 1)[np.arange(len(y)), y].mean(), (6, 5),
      Arg((6,), "labels"), oracle=lambda x, y: th.nn.functional.cross_entropy(x, y)),
    S("cross_entropy-smoothing-weight-sum",
      lambda x, y: F.cross_entropy(x, y, weight=sd.tensor(CLASS_W), label_smoothing=0.2,
                                   reduction="sum"),
      lambda x, y: -(CLASS_W * (0.8 * np.eye(5)[y] + 0.04) * _np_log_softmax(x, 1)).sum(),
      (6, 5), Arg((6,), "labels"),
      oracle=lambda x, y: th.nn.functional.cross_entropy(
          x, y, weight=th.tensor(CLASS_W), label_smoothing=0.2, reduction="sum")),
    S("cross_entropy-probabilities-none", lambda x, t: F.cross_entropy(x, t, reduction="none"),
      lambda x, t: -(t * _np_log_softmax(x, 1)).sum(1), (4, 5), Arg((4, 5), "prob", grad=False),
      oracle=lambda x, t: th.nn.functional.cross_entropy(x, t, reduction="none")),
    S("cross_entropy-spatial", lambda x, y: F.cross_entropy(x, y),
      lambda x, y: -np.take_along_axis(_np_log_softmax(x, 1), y[:, None], 1).mean(),
      (2, 5, 3), Arg((2, 3), "labels"), oracle=lambda x, y: th.nn.functional.cross_entropy(x, y)),
    S("bce_with_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
      lambda x, t: np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))), Arg((3, 4), "wide"),
      Arg((3, 4), "prob"), oracle=lambda x, t: th.nn.functional.binary_cross_entropy_with_logits(
          x, t, reduction="none")),
    S("bce_with_logits-pos_weight",
      lambda x, t: F.binary_cross_entropy_with_logits(x, t,
                                                      pos_weight=sd.tensor(POS_W, dtype=x.dtype)),
      lambda x, t: ((1 - t) * x + (1 + (POS_W - 1) * t) * np.log1p(np.exp(-x))).mean(),
      Arg((3, 4), "wide"), Arg((3, 4), "prob"),
      oracle=lambda x, t: th.nn.functional.binary_cross_entropy_with_logits(
          x, t, pos_weight=th.tensor(POS_W))),
    S("binary_cross_entropy", lambda p, t: F.binary_cross_entropy(p, t, reduction="sum"),
      lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum(), Arg((3, 4), "prob"),
      Arg((3, 4), "prob"), oracle=lambda p, t: th.nn.functional.binary_cross_entropy(
          p, t, reduction="sum")),
]

# -- trees: the level-batched recursive networks of ops.tree -------------------------------------
_tree = sd.nn.Tree.from_tuple
TREES = sd.nn.batch_trees([_tree((0, 1, (2, 3, 4, 0))), _tree((1, (2, 3))), _tree(4)])
BINARY_TREES = sd.nn.batch_trees([_tree((0, (1, 2, 3), 4)), _tree((1, 2, 3))])


def _np_children(batch, j):
    return batch.children[batch.child_offsets[j]:batch.child_offsets[j + 1]]


def _np_tree_lstm(xw, u, uf):  # node ids run bottom up: children before their parent
    hs = uf.shape[0]
    h, c = np.zeros((len(xw), hs)), np.zeros((len(xw), hs))
    for j in range(len(xw)):
        kids = _np_children(TREES, j)
        iou = xw[j, :3 * hs] + u @ h[kids].sum(0)
        i, o, g = _np_sigmoid(iou[:hs]), _np_sigmoid(iou[hs:2 * hs]), np.tanh(iou[2 * hs:])
        c[j] = i * g + (_np_sigmoid(xw[j, 3 * hs:] + h[kids] @ uf.T) * c[kids]).sum(0)
        h[j] = o * np.tanh(c[j])
    return h, c


def _np_recursive_nn(leaf_pre, w, b):
    h = np.zeros((BINARY_TREES.num_nodes, len(b)))
    h[:len(leaf_pre)] = np.tanh(leaf_pre)
    for j in range(len(leaf_pre), len(h)):
        h[j] = np.tanh(w @ h[_np_children(BINARY_TREES, j)].reshape(-1) + b)
    return h


_tree_specs = [
    S("tree_lstm-child_sum", lambda xw, u, uf: T.ChildSumTreeLSTM.apply(xw, u, uf, batch=TREES),
      _np_tree_lstm, (TREES.num_nodes, 8), (6, 2), (2, 2)),
    S("recursive_nn", lambda x, w, b: T.RecursiveNN.apply(x, w, b, batch=BINARY_TREES),
      _np_recursive_nn, (BINARY_TREES.levels[0].hi, 3), (3, 6), (3,)),
]

SPECS: list[OpSpec] = (
    _binary_specs + _scalar_specs + _matmul_specs + _unary_specs + _reduction_specs
    + _movement_specs + _index_specs + _forward_only_specs
    + _conv2d_specs + _conv1d_specs + _conv_transpose_specs + _pool_specs + _adaptive_specs
    + _norm_specs + _resize_specs + _fused_specs + _tree_specs
)

_names = [s.name for s in SPECS]
assert len(set(_names)) == len(_names), "op spec names must be unique"
