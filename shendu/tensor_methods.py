"""The named math and shape methods of Tensor (``x.sum(dim=1)``, ``x.view(2, -1)``, ...).

Each is a one-line call into ``shendu.functional`` or a primitive; ``Tensor`` inherits them.
Kept apart from tensor.py, which holds the Tensor's data, autograd and operator plumbing.
"""

from __future__ import annotations

from .autograd import apply1, apply2
from .ops import elementwise as E


class TensorMethods:
    """Mixin of Tensor's named methods; see ``shendu.functional`` for their documentation."""

    __slots__ = ()

    def eq(self, other):
        return F.eq(self, other)

    def ne(self, other):
        return F.ne(self, other)

    def lt(self, other):
        return F.lt(self, other)

    def le(self, other):
        return F.le(self, other)

    def gt(self, other):
        return F.gt(self, other)

    def ge(self, other):
        return F.ge(self, other)

    # -- shape ---------------------------------------------------------------------------------
    def view_as(self, other):
        return F.reshape(self, other.shape)

    reshape_as = view_as

    def expand_as(self, other):
        return F.broadcast_to(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return F.flatten(self, start_dim, end_dim)

    def view(self, *shape):
        return F.reshape(self, *shape)

    def reshape(self, *shape):
        return F.reshape(self, *shape)

    def squeeze(self, dim=None, *, axis=None):
        return F.squeeze(self, axis, dim=dim)

    def unsqueeze(self, dim):
        return F.unsqueeze(self, dim)

    def transpose(self, dim0=None, dim1=None):
        return F.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return F.permute(self, *dims)

    def swapaxes(self, a, b):
        return F.transpose(self, a, b)

    def expand(self, *shape):
        return F.expand(self, *shape)

    def broadcast_to(self, shape):
        return F.broadcast_to(self, shape)

    def repeat(self, *reps):
        return F.repeat(self, *reps)

    def tile(self, reps):
        return F.tile(self, reps)

    def repeat_interleave(self, repeats, dim=None):
        return F.repeat_interleave(self, repeats, dim)

    def split(self, split_size, dim=0):
        return F.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return F.chunk(self, chunks, dim)

    def gather(self, dim, index):
        return F.gather(self, dim, index)

    def flip(self, dims):
        return F.flip(self, dims)

    def contiguous(self):
        return self

    # -- math ----------------------------------------------------------------------------------
    def exp(self):
        return apply1(E.Exp, self)

    def log(self):
        return apply1(E.Log, self)

    def log1p(self):
        return apply1(E.Log1p, self)

    def sqrt(self):
        return apply1(E.Sqrt, self)

    def abs(self):
        return apply1(E.Abs, self)

    def sin(self):
        return apply1(E.Sin, self)

    def cos(self):
        return apply1(E.Cos, self)

    def square(self):
        return apply2(E.Mul, self, self)

    def sign(self):
        return F.sign(self)

    def pow(self, p):
        return apply2(E.Pow, self, p)

    def clip(self, min=None, max=None):  # noqa: A002
        return F.clip(self, min, max)

    clamp = clip

    def maximum(self, other):
        return F.maximum(self, other)

    def minimum(self, other):
        return F.minimum(self, other)

    def matmul(self, other):
        return F.matmul(self, other)

    def add(self, other, alpha=1):
        return F.add(self, other, alpha)

    def sub(self, other, alpha=1):
        return F.sub(self, other, alpha)

    def mul(self, other):
        return apply2(E.Mul, self, other)

    def div(self, other):
        return apply2(E.Div, self, other)

    def relu(self):
        return apply1(E.ReLU, self)

    def sigmoid(self):
        return apply1(E.Sigmoid, self)

    def tanh(self):
        return apply1(E.Tanh, self)

    def softmax(self, dim=-1):
        return F.softmax(self, dim)

    def log_softmax(self, dim=-1):
        return F.log_softmax(self, dim)

    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        return F.sum(self, axis, keepdims or keepdim, dim=dim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return F.mean(self, axis, keepdims or keepdim, dim=dim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, axis=None, keepdims=None,
            correction=None, ddof=None):
        return F.var(self, axis, unbiased, keepdims or keepdim, dim=dim, correction=correction,
                     ddof=ddof)

    def std(self, dim=None, unbiased=None, keepdim=False, *, axis=None, keepdims=None,
            correction=None, ddof=None):
        return F.std(self, axis, unbiased, keepdims or keepdim, dim=dim, correction=correction,
                     ddof=ddof)

    def max(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return F.max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return F.min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amax(self, dim=None, keepdim=False):
        return F.amax(self, dim=dim, keepdim=keepdim)

    def amin(self, dim=None, keepdim=False):
        return F.amin(self, dim=dim, keepdim=keepdim)

    def prod(self, dim=None, keepdim=False):
        return F.prod(self, dim=dim, keepdim=keepdim)

    def logsumexp(self, dim=None, keepdim=False):
        return F.logsumexp(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False, *, axis=None):
        return F.argmax(self, axis, dim=dim, keepdim=keepdim)

    def argmin(self, dim=None, keepdim=False, *, axis=None):
        return F.argmin(self, axis, dim=dim, keepdim=keepdim)


F = None  # shendu.functional, set by tensor.py once it can be imported (an import cycle)
