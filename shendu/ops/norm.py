"""Normalization primitives, fused for stability and speed.

* ``BatchNorm``: statistics over every axis but the channel axis; in training it updates the
  running statistics in place (as ``torch.nn.functional.batch_norm`` does) and its backward is
  the closed form (one pass for the two sums) instead of a graph of a dozen ops.
* ``Standardize``: (x - mean) / sqrt(var + eps) over given axes, for LayerNorm and GroupNorm.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import array_module


def _bshape(ndim: int, axis: int, c: int) -> tuple:
    shape = [1] * ndim
    shape[axis] = c
    return tuple(shape)


class BatchNorm(Function):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta, per channel on ``axis``.

    ``running_mean``/``running_var`` (arrays, may be None) are updated in place in training
    with ``momentum`` (PyTorch's convention: new = (1 - m) * old + m * batch) and the
    unbiased batch variance when ``unbiased_running`` (PyTorch) or the biased one (Keras).
    """

    def forward(self, x, gamma=None, beta=None, running_mean=None, running_var=None,
                axis=1, training=True, momentum=0.1, eps=1e-5, unbiased_running=True):
        xp = array_module(x)
        axis = axis % x.ndim
        c = x.shape[axis]
        axes = tuple(i for i in range(x.ndim) if i != axis)
        bs = _bshape(x.ndim, axis, c)
        self.axes, self.bs, self.training = axes, bs, training
        if training:
            m = x.size // c
            if m <= 1:
                raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                                 f"training, got input of shape {tuple(x.shape)}")
            mean = x.mean(axis=axes, keepdims=True)
            xc = x - mean
            var = (xc * xc).mean(axis=axes, keepdims=True)
            inv = 1.0 / xp.sqrt(var + eps)
            xhat = xc * inv
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(c)
            if running_var is not None:
                v = var.reshape(c) * (m / (m - 1) if unbiased_running else 1.0)
                running_var *= 1 - momentum
                running_var += momentum * v
        else:
            if running_mean is None or running_var is None:
                raise ValueError("batch_norm in eval mode needs running_mean and running_var")
            inv = (1.0 / xp.sqrt(running_var + eps)).reshape(bs).astype(x.dtype)
            xhat = (x - running_mean.reshape(bs)) * inv
        self.xhat, self.inv = xhat, inv.astype(x.dtype, copy=False)
        self.gamma = gamma.reshape(bs) if gamma is not None else None
        y = xhat * self.gamma if gamma is not None else xhat.copy()
        if beta is not None:
            y += beta.reshape(bs)
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        need = self.needs_input_grad + (False,) * 3
        nx, ng, nb = need[:3]
        xhat, axes = self.xhat, self.axes
        c = self.bs[[i for i, s in enumerate(self.bs) if s != 1][0]] if any(
            s != 1 for s in self.bs) else 1
        gx = gg = gb = None
        if ng:
            gg = (gy * xhat).sum(axis=axes).reshape(c)
        if nb:
            gb = gy.sum(axis=axes).reshape(c)
        if nx:
            gxhat = gy * self.gamma if self.gamma is not None else gy
            if self.training:
                # dx = inv * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))
                mg = gxhat.mean(axis=axes, keepdims=True)
                mgx = (gxhat * xhat).mean(axis=axes, keepdims=True)
                gx = self.inv * (gxhat - mg - xhat * mgx)
            else:
                gx = gxhat * self.inv
        return gx, gg, gb


class Standardize(Function):
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance), no affine part."""

    def forward(self, x, axes=(-1,), eps=1e-5):
        xp = array_module(x)
        axes = tuple(a % x.ndim for a in axes)
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=axes, keepdims=True)
        self.inv = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        self.xhat = (xc * self.inv).astype(x.dtype, copy=False)
        self.axes = axes
        return self.xhat

    def backward(self, gy):
        axes, xhat = self.axes, self.xhat
        mg = gy.mean(axis=axes, keepdims=True)
        mgx = (gy * xhat).mean(axis=axes, keepdims=True)
        return self.inv * (gy - mg - xhat * mgx)
