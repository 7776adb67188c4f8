"""The differentiable functions of the top-level ``shendu`` namespace (torch-style spellings).

Each is a thin call into a primitive of ``shendu.ops`` or a composition of them. Where PyTorch
says ``dim``/``keepdim`` these accept them as aliases of ``axis``/``keepdims``.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from collections.abc import Sequence

import numpy as np

from .autograd import apply1, apply2
from .backend import array_module
from .ops import elementwise as E
from .ops import linalg as L
from .ops import movement as M
from .ops import reduce as R
from .tensor import Tensor, as_tensor_data

__all__ = [
    "add", "sub", "mul", "div", "true_divide", "pow", "neg", "exp", "log", "log1p", "sqrt",
    "abs", "sin", "cos", "clip", "clamp", "maximum", "minimum", "where", "matmul", "mm",
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "prod", "logsumexp", "argmax",
    "argmin", "reshape", "view", "flatten", "squeeze", "unsqueeze", "transpose", "permute",
    "swapaxes", "expand", "broadcast_to", "repeat", "tile", "repeat_interleave", "concat", "cat",
    "stack", "split", "chunk", "pad", "gather", "flip", "one_hot", "relu", "leaky_relu", "elu",
    "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "eq", "ne", "lt", "le", "gt",
    "ge", "isfinite", "isnan", "square", "rsqrt", "reciprocal", "sign",
]

MinMax = namedtuple("MinMax", ["values", "indices"])


def _axis(axis, dim, default=None):
    if dim is not None:
        # an axis equal to its default was not given: stack(xs, dim=1) has axis=0 by default
        if axis is not None and axis != dim and axis != default:
            raise TypeError(f"got both axis={axis} and dim={dim}; pass only one")
        return dim
    return default if axis is None else axis


def _keep(keepdims, keepdim):
    return bool(keepdim) if keepdim is not None else bool(keepdims)


def _t(x):
    """Wrap arrays and Python numbers as constant tensors (for functions that need ``.data``)."""
    return x if isinstance(x, Tensor) else Tensor(x)


# -- arithmetic ---------------------------------------------------------------------------------
def add(a, b, alpha=1):
    return E.Add.apply(a, b if alpha == 1 else E.Mul.apply(b, alpha))


def sub(a, b, alpha=1):
    return E.Sub.apply(a, b if alpha == 1 else E.Mul.apply(b, alpha))


def mul(a, b):
    return apply2(E.Mul, a, b)


def div(a, b):
    return apply2(E.Div, a, b)


true_divide = div


def pow(a, b):  # noqa: A001 - torch spelling
    return E.Pow.apply(a, b)


def neg(x):
    return apply1(E.Neg, _t(x))


def exp(x):
    return apply1(E.Exp, _t(x))


def log(x):
    return apply1(E.Log, _t(x))


def log1p(x):
    return apply1(E.Log1p, _t(x))


def sqrt(x):
    return apply1(E.Sqrt, _t(x))


def rsqrt(x):
    return E.Div.apply(1.0, E.Sqrt.apply(x))


def reciprocal(x):
    return E.Div.apply(1.0, x)


def square(x):
    return E.Mul.apply(x, x)


def abs(x):  # noqa: A001
    return apply1(E.Abs, _t(x))


def sign(x):
    d = _t(x).data
    return Tensor(array_module(d).sign(d))


def sin(x):
    return apply1(E.Sin, _t(x))


def cos(x):
    return apply1(E.Cos, _t(x))


def clip(x, min=None, max=None):  # noqa: A002 - torch spelling
    if min is None and max is None:
        raise ValueError("clip/clamp needs at least one of min or max")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return E.Clip.apply(x, low=min, high=max)


clamp = clip


def maximum(a, b):
    return E.Maximum.apply(a, b)


def minimum(a, b):
    return E.Minimum.apply(a, b)


def where(cond, a=None, b=None):
    if a is None and b is None:  # torch.where(cond) = nonzero as a tuple
        d = _t(cond).data
        return tuple(Tensor(i) for i in array_module(d).nonzero(d))
    return E.Where.apply(_t(cond).data.astype(bool), a, b)


def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D operands are promoted and the extra axis dropped."""
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}; use * for scalars")
    if a.ndim >= 2 and b.ndim >= 2:
        return L.MatMul.apply(a, b)
    if a.shape[-1] != b.shape[0 if b.ndim == 1 else -2]:  # name the shapes the caller passed
        raise L._matmul_error(a, b)
    a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    out = L.MatMul.apply(a2, b2)
    shape = out.shape
    if b.ndim == 1:
        shape = shape[:-1]
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:] if b.ndim > 1 else shape[:-1]
    return reshape(out, shape)


mm = matmul


# -- reductions ---------------------------------------------------------------------------------
def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):  # noqa: A001
    x = _t(x)
    if dtype is not None:
        x = x.to(dtype)
    elif x.data.dtype.kind in "bui":  # torch sums integers and bools as int64
        x = x.long()
    return R.Sum.apply(x, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    x = _t(x)
    if x.data.dtype.kind not in "fc":
        raise TypeError(f"mean() needs a floating tensor, got dtype {x.dtype}; call .float() "
                        "first")
    return R.Mean.apply(x, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))


def var(x, axis=None, unbiased=None, keepdims=False, *, dim=None, keepdim=None, correction=None,
        ddof=None):
    """Variance; like PyTorch the default is unbiased (correction=1). ``ddof=0`` for NumPy's."""
    x = _t(x)
    ax = _axis(axis, dim)
    kd = _keep(keepdims, keepdim)
    if ddof is not None:
        corr = ddof
    elif correction is not None:
        corr = correction
    else:
        corr = 0 if unbiased is False else 1
    axes = R.norm_axis(ax, x.ndim, "var")
    n = int(np.prod([x.shape[a] for a in axes])) if x.ndim else 1
    d = x - R.Mean.apply(x, axis=axes, keepdims=True)
    return R.Sum.apply(d * d, axis=axes, keepdims=kd) / builtins.max(n - corr, 0)


def std(x, axis=None, unbiased=None, keepdims=False, *, dim=None, keepdim=None, correction=None,
        ddof=None):
    return sqrt(var(x, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction,
                    ddof=ddof))


def _extreme(cls, other_fn, argfn, x, dim, keepdim, axis, keepdims):
    if dim is not None and not isinstance(dim, (int, np.integer)):
        return other_fn(x, dim)  # torch.max(a, b): elementwise
    kd = _keep(keepdims or False, keepdim)
    if dim is None:
        return cls.apply(x, axis=axis, keepdims=kd)
    values = cls.apply(x, axis=dim, keepdims=kd)  # torch form: values and indices
    return MinMax(values, argfn(x, dim=dim, keepdim=kd))


def max(x, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A001
    """``max(x)`` is the largest element; ``max(x, dim)`` returns (values, indices) as in
    PyTorch; ``max(x, axis=...)`` returns the values only; ``max(a, b)`` is elementwise."""
    return _extreme(R.Max, maximum, argmax, x, dim, keepdim, axis, keepdims)


def min(x, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A001
    """Smallest element(s); the same calling forms as ``max``."""
    return _extreme(R.Min, minimum, argmin, x, dim, keepdim, axis, keepdims)


def amax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return R.Max.apply(x, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))


def amin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return R.Min.apply(x, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))


def prod(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return R.Prod.apply(x, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return R.LogSumExp.apply(x, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))


def _arg(fname, x, axis, keepdims, dim, keepdim):
    d = _t(x).data
    ax = _axis(axis, dim)
    kd = _keep(keepdims, keepdim)
    xp = array_module(d)
    if ax is None:
        out = getattr(xp, fname)(d.reshape(-1))
        if kd:
            out = xp.asarray(out).reshape((1,) * d.ndim)
        return Tensor(xp.asarray(out, dtype=np.int64))
    ax = R.norm_axis(ax, d.ndim, fname)[0]
    return Tensor(getattr(xp, fname)(d, axis=ax, keepdims=kd).astype(np.int64))


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return _arg("argmax", x, axis, keepdims, dim, keepdim)


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return _arg("argmin", x, axis, keepdims, dim, keepdim)


# -- shape and movement -------------------------------------------------------------------------
def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(x, *shape):
    shape = _shape_arg(shape)
    x = _t(x)
    if shape == x.shape:
        return x
    return M.Reshape.apply(x, shape=shape)


view = reshape


def flatten(x, start_dim=0, end_dim=-1):
    x = _t(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = (R.norm_axis(d, x.ndim, "flatten")[0] for d in (start_dim, end_dim))
    shape = x.shape[:s] + (-1,) + x.shape[e + 1:]
    if x.numel() == 0:  # -1 cannot be inferred from zero elements
        shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:]
    return reshape(x, shape)


def squeeze(x, axis=None, *, dim=None):
    x = _t(x)
    ax = _axis(axis, dim)
    if ax is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = R.norm_axis(ax, x.ndim, "squeeze")
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, shape)


def unsqueeze(x, axis=None, *, dim=None):
    x = _t(x)
    ax = _axis(axis, dim)
    if ax is None:
        raise TypeError("unsqueeze() needs the position of the new axis (dim=...)")
    n = x.ndim + 1
    if not -n <= ax < n:
        raise IndexError(f"unsqueeze: dim {ax} is out of range for a result with {n} dimensions")
    ax %= n
    return reshape(x, x.shape[:ax] + (1,) + x.shape[ax:])


def permute(x, *axes):
    axes = _shape_arg(axes)
    x = _t(x)
    if len(axes) != x.ndim:
        raise ValueError(f"permute: got {len(axes)} axes {axes} for a tensor with {x.ndim} "
                         f"dimensions (shape {tuple(x.shape)})")
    return M.Transpose.apply(x, axes=axes)


def transpose(x, dim0=None, dim1=None):
    """Swap two axes (torch); with no axes, reverse them all (NumPy)."""
    x = _t(x)
    if dim0 is None and dim1 is None:
        return M.Transpose.apply(x, axes=tuple(range(x.ndim))[::-1])
    axes = list(range(x.ndim))
    for d in (dim0, dim1):
        if not -x.ndim <= d < x.ndim:
            raise IndexError(f"transpose: dim {d} is out of range for a tensor of shape "
                             f"{tuple(x.shape)}")
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return M.Transpose.apply(x, axes=tuple(axes))


swapaxes = transpose


def expand(x, *shape):
    x = _t(x)
    shape = list(_shape_arg(shape))
    off = len(shape) - x.ndim
    for i in range(x.ndim):  # torch's -1 keeps that dimension
        if shape[off + i] == -1:
            shape[off + i] = x.shape[i]
    return M.BroadcastTo.apply(x, shape=tuple(shape))


def broadcast_to(x, shape):
    return M.BroadcastTo.apply(x, shape=tuple(shape))


def tile(x, reps):
    return M.Tile.apply(x, reps=tuple(reps) if isinstance(reps, Sequence) else (reps,))


def repeat(x, *reps):
    """torch's ``Tensor.repeat``: copies the whole tensor along each dimension (np.tile)."""
    return tile(x, _shape_arg(reps))


def repeat_interleave(x, repeats: int, dim=None):
    x = _t(x)
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    ax = R.norm_axis(dim, x.ndim, "repeat_interleave")[0]
    return M.RepeatInterleave.apply(x, repeats=int(repeats), axis=ax)


def concat(tensors, axis=0, *, dim=None):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat/concat needs at least one tensor")
    ax = _axis(axis, dim, 0)
    nd = _t(tensors[0]).ndim
    if not -nd <= ax < nd:
        raise IndexError(f"cat: axis {ax} is out of range for tensors with {nd} dimensions")
    return M.Concat.apply(*tensors, axis=ax % nd)


cat = concat


def stack(tensors, axis=0, *, dim=None):
    tensors = [_t(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    ax = R.norm_axis(_axis(axis, dim, 0), tensors[0].ndim + 1, "stack")[0]
    return concat([unsqueeze(t, ax) for t in tensors], ax)


def split(x, split_size_or_sections, axis=0, *, dim=None):
    """torch.split: an int is the size of each piece (the last may be smaller); a list gives
    the size of every piece."""
    x = _t(x)
    ax = R.norm_axis(_axis(axis, dim, 0), x.ndim, "split")[0]
    n = x.shape[ax]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {builtins.sum(sizes)} but the "
                             f"dimension {ax} has {n} elements")
    cuts = list(np.cumsum(sizes)[:-1])
    return M.Split.apply(x, sections=cuts, axis=ax) if len(sizes) > 1 else (x,)


def chunk(x, chunks: int, axis=0, *, dim=None):
    x = _t(x)
    ax = R.norm_axis(_axis(axis, dim, 0), x.ndim, "chunk")[0]
    n = x.shape[ax]
    size = -(-n // chunks)
    return split(x, size, ax)


def pad(x, pad, mode="constant", value=0.0):
    """torch.nn.functional.pad: ``pad`` lists (before, after) pairs from the LAST dimension
    backwards, e.g. (1, 1, 2, 2) pads W by 1 and H by 2."""
    x = _t(x)
    if mode != "constant":
        raise NotImplementedError(f"pad mode {mode!r} is not supported yet; use 'constant'")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of values covering at most {x.ndim} "
                         f"dimensions, got {tuple(pad)}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if any(b < 0 or a < 0 for b, a in widths):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    return M.Pad.apply(x, widths=tuple(widths), value=value)


def gather(x, dim, index):
    idx = as_tensor_data(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer tensor, got dtype {idx.dtype}")
    x = _t(x)
    return M.Gather.apply(x, index=idx, axis=R.norm_axis(dim, x.ndim, "gather")[0])


def flip(x, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return M.Flip.apply(x, axes=dims)


def one_hot(labels, num_classes: int = -1):
    d = as_tensor_data(labels)
    if d.dtype.kind not in "iu":
        raise TypeError(f"one_hot expects integer class indices, got dtype {d.dtype}")
    xp = array_module(d)
    n = int(d.max()) + 1 if num_classes < 0 else int(num_classes)
    if d.size and (d.min() < 0 or d.max() >= n):
        raise ValueError(f"one_hot: class values must lie in [0, {n}), got min {int(d.min())} "
                         f"and max {int(d.max())}")
    return Tensor(xp.eye(n, dtype=np.int64)[d])


# -- activations --------------------------------------------------------------------------------
def relu(x):
    return apply1(E.ReLU, _t(x))


def leaky_relu(x, negative_slope=0.01):
    return E.LeakyReLU.apply(x, slope=negative_slope)


def elu(x, alpha=1.0):
    return E.ELU.apply(x, alpha=alpha)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return E.GELU.apply(x, approximate=approximate)


def sigmoid(x):
    return apply1(E.Sigmoid, _t(x))


def tanh(x):
    return apply1(E.Tanh, _t(x))


def softplus(x, beta=1.0, threshold=20.0):
    return E.Softplus.apply(x, beta=beta, threshold=threshold)


def _softmax_axis(x, axis, dim, name):
    x = _t(x)
    ax = _axis(axis, dim, -1)
    return x, R.norm_axis(ax, x.ndim, name)[0] if x.ndim else 0


def softmax(x, axis=None, *, dim=None):
    x, ax = _softmax_axis(x, axis, dim, "softmax")
    return R.Softmax.apply(x, axis=ax)


def log_softmax(x, axis=None, *, dim=None):
    x, ax = _softmax_axis(x, axis, dim, "log_softmax")
    return R.LogSoftmax.apply(x, axis=ax)


# -- comparisons (not differentiable; bool results) ---------------------------------------------
def _cmp(ufunc, name, a, b):
    da, db = as_tensor_data(a), as_tensor_data(b)
    try:
        return Tensor(ufunc(da, db))
    except ValueError as e:
        raise E._broadcast_error(name, da, db, e) from None


def eq(a, b):
    return _cmp(np.equal, "eq", a, b)


def ne(a, b):
    return _cmp(np.not_equal, "ne", a, b)


def lt(a, b):
    return _cmp(np.less, "lt", a, b)


def le(a, b):
    return _cmp(np.less_equal, "le", a, b)


def gt(a, b):
    return _cmp(np.greater, "gt", a, b)


def ge(a, b):
    return _cmp(np.greater_equal, "ge", a, b)


def isfinite(x):
    d = as_tensor_data(x)
    return Tensor(array_module(d).isfinite(d))


def isnan(x):
    d = as_tensor_data(x)
    return Tensor(array_module(d).isnan(d))


