"""Primitives that move data without arithmetic: reshape, transpose, broadcast, index, join."""

from __future__ import annotations

import numpy as np

from ..autograd import Function, unbroadcast
from ..backend import array_module


class Reshape(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot view a tensor of shape {tuple(x.shape)} ({x.size} elements) "
                f"as shape {tuple(shape)}; the number of elements must stay the same "
                "(use -1 for one dimension to infer it)"
            ) from None

    def backward(self, gy):
        return gy.reshape(self.shape)


class Transpose(Function):
    def forward(self, x, axes):
        if sorted(int(a) % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"permute: axes {tuple(axes)} are not a permutation of the "
                             f"{x.ndim} dimensions of a tensor of shape {tuple(x.shape)}")
        self.axes = tuple(int(a) % x.ndim for a in axes)
        return x.transpose(self.axes)

    def backward(self, gy):
        return gy.transpose(np.argsort(self.axes))


class BroadcastTo(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ValueError(
                f"expand: cannot broadcast shape {tuple(x.shape)} to {tuple(shape)}; each "
                "dimension must match or be 1, and new dimensions go on the left"
            ) from None

    def backward(self, gy):
        return unbroadcast(gy, self.shape)


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               for i in items)


class GetItem(Function):
    """Indexing. Basic indices write the gradient back by assignment; advanced (integer
    array) indices may repeat positions, so their backward is a scatter-add."""

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape "
                             f"{tuple(x.shape)}: {e}") from None

    def backward(self, gy):
        xp = array_module(gy)
        g = xp.zeros(self.shape, dtype=gy.dtype)
        idx = self.index
        if _is_basic(idx) or (getattr(idx, "dtype", None) == np.bool_):
            g[idx] = gy
        else:
            xp.add.at(g, idx, gy)
        return g


class Concat(Function):
    def forward(self, *xs, axis=0):
        xp = array_module(xs[0])
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        try:
            return xp.concatenate(xs, axis=axis)
        except ValueError:
            shapes = [tuple(x.shape) for x in xs]
            raise ValueError(f"cat: tensors of shapes {shapes} cannot be joined along axis "
                             f"{axis}; all other dimensions must match") from None

    def backward(self, gy):
        xp = array_module(gy)
        return tuple(xp.split(gy, np.cumsum(self.sizes)[:-1], axis=self.axis))


class Split(Function):
    """Split along ``axis`` at ``sections`` (cut points); one output per piece."""

    def forward(self, x, sections, axis=0):
        self.axis = axis
        return tuple(array_module(x).split(x, sections, axis=axis))

    def backward(self, *gys):
        return array_module(gys[0]).concatenate(gys, axis=self.axis)


class Pad(Function):
    """Constant padding; ``widths`` is NumPy's ((before, after), ...) per dimension."""

    def forward(self, x, widths, value=0.0):
        self.slices = tuple(slice(b, n + b) for (b, _), n in zip(widths, x.shape))
        return array_module(x).pad(x, widths, mode="constant", constant_values=value)

    def backward(self, gy):
        return gy[self.slices]


class Tile(Function):
    def forward(self, x, reps):
        reps = tuple(reps)
        if len(reps) < x.ndim:
            reps = (1,) * (x.ndim - len(reps)) + reps
        self.xshape = (1,) * (len(reps) - x.ndim) + x.shape
        self.ndim_in = x.ndim
        self.reps = reps
        return array_module(x).tile(x, reps)

    def backward(self, gy):
        # out is laid out as (r0, s0, r1, s1, ...): sum over every r_i
        inter = []
        for r, s in zip(self.reps, self.xshape):
            inter += [r, s]
        g = gy.reshape(inter).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))
        return g.reshape(self.xshape[len(self.xshape) - self.ndim_in:])


class RepeatInterleave(Function):
    def forward(self, x, repeats, axis):
        self.shape, self.axis, self.repeats = x.shape, axis, repeats
        return array_module(x).repeat(x, repeats, axis=axis)

    def backward(self, gy):
        a = self.axis
        shape = self.shape[:a] + (self.shape[a], self.repeats) + self.shape[a + 1:]
        return gy.reshape(shape).sum(axis=a + 1)


class Gather(Function):
    """out[i][j] = x[i][index[i][j]] along ``axis`` (torch.gather)."""

    def forward(self, x, index, axis):
        xp = array_module(x)
        if index.ndim != x.ndim:
            raise ValueError(f"gather: index must have as many dimensions as the input "
                             f"({x.ndim}), got index of shape {tuple(index.shape)}")
        self.shape, self.axis = x.shape, axis
        lead = tuple(slice(0, n) if i != axis else slice(None) for i, n in enumerate(index.shape))
        self.index = index
        return xp.take_along_axis(x[lead], index, axis=axis)

    def backward(self, gy):
        xp = array_module(gy)
        g = xp.zeros(self.shape, dtype=gy.dtype)
        idx = list(xp.indices(self.index.shape, sparse=True))
        idx[self.axis] = self.index
        xp.add.at(g, tuple(idx), gy)
        return g


class Flip(Function):
    def forward(self, x, axes):
        self.axes = axes
        return array_module(x).flip(x, axis=axes)

    def backward(self, gy):
        return array_module(gy).flip(gy, axis=self.axes)


class Embedding(Function):
    """Rows of ``weight`` at integer ``indices``; the backward sums the gradients of repeated
    indices with one sort and a segmented sum (faster than ``add.at``), and leaves the row
    ``padding_idx`` without gradient (PyTorch's rule)."""

    def forward(self, weight, indices, padding_idx=None):
        self.shape, self.indices, self.padding_idx = weight.shape, indices, padding_idx
        return weight[indices]

    def backward(self, gy):
        xp = array_module(gy)
        idx = self.indices.reshape(-1)
        rows = gy.reshape(-1, self.shape[1])
        g = xp.zeros(self.shape, dtype=gy.dtype)
        if idx.size:
            order = xp.argsort(idx, kind="stable")
            s = idx[order]
            starts = xp.flatnonzero(xp.concatenate([xp.ones(1, bool), s[1:] != s[:-1]]))
            g[s[starts]] = xp.add.reduceat(rows[order], starts, axis=0)
        if self.padding_idx is not None:
            g[self.padding_idx] = 0
        return g
