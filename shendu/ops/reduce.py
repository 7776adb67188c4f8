"""Reductions (sum, mean, max, prod, logsumexp) and the softmax family."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import array_module


def norm_axis(axis, ndim: int, op: str = "reduction"):
    """Normalize ``axis`` (None, int or sequence) to a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(f"{op}: axis {a} is out of range for a tensor with {ndim} "
                             f"dimension(s); expected -{max(ndim, 1)} <= axis < {max(ndim, 1)}")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {tuple(axis)} names a dimension twice")
    return tuple(sorted(out))


def _expand(gy, shape, axes, keepdims):
    """Broadcast a reduced gradient back to the input ``shape``."""
    xp = array_module(gy)
    if not keepdims and len(shape):
        kshape = tuple(1 if i in axes else n for i, n in enumerate(shape))
        gy = gy.reshape(kshape)
    return xp.broadcast_to(gy, shape)


class Sum(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = norm_axis(axis, x.ndim, "sum")
        self.keepdims = keepdims
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        return _expand(gy, self.shape, self.axes, self.keepdims)


class Mean(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = norm_axis(axis, x.ndim, "mean")
        self.keepdims = keepdims
        self.n = int(np.prod([x.shape[a] for a in self.axes])) if x.ndim else 1
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        return _expand(gy / self.n, self.shape, self.axes, self.keepdims)


class _Extreme(Function):
    """max/min over axes; tied extremes share the gradient equally (like torch.amax)."""

    reducer = "max"

    def forward(self, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(f"{self.reducer}() of an empty tensor of shape {x.shape} is undefined")
        self.x, self.keepdims = x, keepdims
        self.axes = norm_axis(axis, x.ndim, self.reducer)
        self.out = getattr(x, self.reducer)(axis=self.axes, keepdims=keepdims)
        return self.out

    def backward(self, gy):
        out = _expand(self.out, self.x.shape, self.axes, self.keepdims)
        mask = (self.x == out).astype(gy.dtype)
        count = mask.sum(axis=self.axes, keepdims=True)
        return mask / count * _expand(gy, self.x.shape, self.axes, self.keepdims)


class Max(_Extreme):
    reducer = "max"


class Min(_Extreme):
    reducer = "min"


class Prod(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.x, self.keepdims = x, keepdims
        self.axes = norm_axis(axis, x.ndim, "prod")
        return x.prod(axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        # d/dx_i prod(x) = product of all other x_j: exclusive cumulative products from both
        # sides, which stays exact when some x_j are zero (unlike prod / x_i).
        xp = array_module(gy)
        x, axes = self.x, self.axes
        rest = [i for i in range(x.ndim) if i not in axes]
        perm = rest + list(axes)
        xt = x.transpose(perm)
        flat = xt.reshape(xt.shape[: len(rest)] + (-1,))
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.cumprod(xp.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (left * right).reshape(xt.shape).transpose(np.argsort(perm))
        return others * _expand(gy, x.shape, axes, self.keepdims)


class LogSumExp(Function):
    def forward(self, x, axis=None, keepdims=False):
        xp = array_module(x)
        self.axes = norm_axis(axis, x.ndim, "logsumexp")
        self.keepdims, self.x = keepdims, x
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows stay -inf, not nan
        out = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        self.out = out
        return out if keepdims else out.squeeze(axis=self.axes)

    def backward(self, gy):
        xp = array_module(gy)
        soft = xp.exp(self.x - self.out)  # d/dx logsumexp = softmax(x)
        return soft * _expand(gy, self.x.shape, self.axes, self.keepdims)


class Softmax(Function):
    def forward(self, x, axis=-1):
        xp = array_module(x)
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        self.out, self.axis = e, axis
        return e

    def backward(self, gy):
        # J^T gy = s * (gy - sum(gy * s))
        s = self.out
        return s * (gy - (gy * s).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, axis=-1):
        xp = array_module(x)
        z = x - x.max(axis=axis, keepdims=True)
        out = z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
        self.out, self.axis = out, axis
        return out

    def backward(self, gy):
        xp = array_module(gy)
        return gy - xp.exp(self.out) * gy.sum(axis=self.axis, keepdims=True)
