"""The Tensor: an array (NumPy or CuPy) plus what autograd needs to differentiate through it.

Methods are one-line calls into ``shendu.functional`` / ``shendu.ops``; no math lives here.
"""

from __future__ import annotations

import numpy as np

from . import autograd
from .autograd import apply1, apply2
from .backend import Device, array_module, as_dtype, device_of, get_default_dtype, to_device
from .ops import elementwise as E
from .ops import linalg as L
from .ops import movement as M
from .tensor_methods import TensorMethods

__all__ = ["Tensor", "as_tensor_data"]


def _to_array(data, dtype=None, device=None):
    """Make an array from anything tensor-like; Python floats become the default dtype."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray) or type(data).__module__.startswith("cupy"):
        arr = data
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            data = [d.data if isinstance(d, Tensor) else d for d in data]
            data = [np.asarray(d) if not hasattr(d, "shape") else d for d in data]
        arr = np.asarray(data)
        if arr.dtype == np.float64 and dtype is None and not isinstance(data, np.generic):
            arr = arr.astype(get_default_dtype())
        elif arr.dtype.kind == "O":
            raise TypeError(f"cannot make a tensor from {type(data).__name__} "
                            "(ragged nested lists or non-numeric objects)")
    if dtype is not None:
        arr = arr.astype(as_dtype(dtype), copy=False)
    if device is not None:
        arr = to_device(arr, Device(device))
    return arr


def as_tensor_data(x):
    """The raw array behind a Tensor, array or Python value."""
    if isinstance(x, Tensor):
        return x.data
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return x
    return _to_array(x)


class Tensor(TensorMethods):
    """An n-dimensional array that can record operations for automatic differentiation.

    Args:
        data: array-like (nested lists, NumPy array, scalar) or another Tensor.
        dtype: optional dtype; Python floats default to ``shendu.get_default_dtype()`` (float32).
        requires_grad: record operations on this tensor so ``backward`` fills ``.grad``.
        device: "cpu" or "cuda[:N]".

    Example:
        >>> x = Tensor([[1.0, 2.0]], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad.tolist()
        [[2.0, 4.0]]
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_idx", "_retain", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # make NumPy defer to Tensor's reflected operators

    def __init__(self, data, dtype=None, requires_grad: bool = False, device=None):
        self.data = _to_array(data, dtype, device)
        self.grad = None
        self._ctx = None
        self._idx = 0
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- metadata ------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> Device:
        return device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def T(self) -> Tensor:
        return F.transpose(self)

    @property
    def mT(self) -> Tensor:
        return F.transpose(self, -2, -1)

    def size(self, dim: int | None = None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self.numpy()), separator=", ", precision=4,
                               prefix="tensor(")
        extra = ""
        if self.data.dtype not in (get_default_dtype(), np.int64, np.bool_):
            extra += f", dtype={self.data.dtype}"
        if self.device.type != "cpu":
            extra += f", device='{self.device}'"
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # -- conversion ----------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shares memory on the CPU)."""
        d = self.data
        return d if isinstance(d, np.ndarray) else to_device(d, Device("cpu"))

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape "
                             f"{tuple(self.shape)}")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors with one element can be used as an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    __hash__ = object.__hash__

    def to(self, *args, dtype=None, device=None, copy: bool = False) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, Device)) and (isinstance(a, Device) or a.split(":")[0]
                                                   in ("cpu", "cuda")):
                device = a
            else:
                dtype = a
        out = self
        if dtype is not None and as_dtype(dtype) != self.data.dtype:
            if as_dtype(dtype).kind in "fc":
                out = _Cast.apply(out, dtype=as_dtype(dtype))
            else:  # integer and bool results carry no gradient, so they leave the graph
                out = Tensor(self.data.astype(as_dtype(dtype)))
        if device is not None and Device(device) != self.device:
            out = _ToDevice.apply(out, device=Device(device))
        if copy and out is self:
            out = self.clone()
        return out

    def type(self, dtype=None):
        if dtype is None:
            return f"shendu.{self.data.dtype}"
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        return self.to("cuda" if device is None else f"cuda:{device}")

    # -- autograd ------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only floating point tensors can require gradients, got dtype "
                               f"{self.data.dtype}; convert with .float() first")
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        self._retain = True

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        autograd.backward(self, grad, retain_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this data, cut off from the graph."""
        return Tensor(self.data)

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        return _Clone.apply(self)

    # -- in-place helpers (outside the graph, for optimizers and initializers) -----------------
    def _check_inplace(self, name):
        if self.requires_grad and self._ctx is None and autograd.is_grad_enabled():
            raise RuntimeError(
                f"{name}() on a leaf tensor that requires grad would bypass autograd; do it "
                "inside `with shendu.no_grad():` (as optimizers and initializers do)"
            )

    def zero_(self) -> Tensor:
        self._check_inplace("zero_")
        self.data[...] = 0
        return self

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_")
        self.data[...] = value
        return self

    def copy_(self, src) -> Tensor:
        self._check_inplace("copy_")
        self.data[...] = as_tensor_data(src)
        return self

    def add_(self, other, alpha=1) -> Tensor:
        self._check_inplace("add_")
        o = as_tensor_data(other)
        if alpha != 1:
            o = o * alpha
        self.data += o
        return self

    def sub_(self, other, alpha=1) -> Tensor:
        return self.add_(other, -alpha)

    def mul_(self, other) -> Tensor:
        self._check_inplace("mul_")
        self.data *= as_tensor_data(other)
        return self

    def div_(self, other) -> Tensor:
        self._check_inplace("div_")
        self.data /= as_tensor_data(other)
        return self

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002
        self._check_inplace("clamp_")
        array_module(self.data).clip(self.data, min, max, out=self.data)
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None) -> Tensor:
        from .random import default_generator
        g = generator or default_generator
        self._check_inplace("uniform_")
        self.data[...] = g.uniform(self.shape, a, b, dtype=self.dtype)
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None) -> Tensor:
        from .random import default_generator
        g = generator or default_generator
        self._check_inplace("normal_")
        self.data[...] = g.normal(self.shape, mean, std, dtype=self.dtype)
        return self

    # -- indexing ------------------------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        elif isinstance(index, list):
            index = np.asarray(index)
        return M.GetItem.apply(self, index=index)

    def __setitem__(self, index, value):
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError("in-place assignment into a tensor that requires grad is not "
                               "differentiable; build a new tensor (e.g. with where()) instead")
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        self.data[index] = as_tensor_data(value)

    # -- arithmetic ----------------------------------------------------------------------------
    def __add__(self, other):
        return apply2(E.Add, self, other)

    def __radd__(self, other):
        return apply2(E.Add, other, self)

    def __sub__(self, other):
        return apply2(E.Sub, self, other)

    def __rsub__(self, other):
        return apply2(E.Sub, other, self)

    def __mul__(self, other):
        return apply2(E.Mul, self, other)

    def __rmul__(self, other):
        return apply2(E.Mul, other, self)

    def __truediv__(self, other):
        return apply2(E.Div, self, other)

    def __rtruediv__(self, other):
        return apply2(E.Div, other, self)

    def __pow__(self, other):
        return apply2(E.Pow, self, other)

    def __rpow__(self, other):
        return apply2(E.Pow, other, self)

    def __neg__(self):
        return apply1(E.Neg, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return apply1(E.Abs, self)

    def __matmul__(self, other):
        if self.data.ndim >= 2 and getattr(other, "ndim", 0) >= 2:
            return L.MatMul.apply(self, other)
        return F.matmul(self, other)

    def __rmatmul__(self, other):
        return F.matmul(other, self)

    def __eq__(self, other):  # noqa: D105 - elementwise, as in NumPy and PyTorch
        return F.eq(self, other)

    def __ne__(self, other):
        return F.ne(self, other)

    def __lt__(self, other):
        return F.lt(self, other)

    def __le__(self, other):
        return F.le(self, other)

    def __gt__(self, other):
        return F.gt(self, other)

    def __ge__(self, other):
        return F.ge(self, other)

    def __invert__(self):
        return Tensor(~self.data)

    def __and__(self, other):
        return Tensor(self.data & as_tensor_data(other))

    def __or__(self, other):
        return Tensor(self.data | as_tensor_data(other))

    def __floordiv__(self, other):
        return Tensor(self.data // as_tensor_data(other))

    def __mod__(self, other):
        return Tensor(self.data % as_tensor_data(other))


    def equal(self, other) -> bool:
        o = as_tensor_data(other)
        return self.shape == o.shape and bool((self.data == o).all())

    def allclose(self, other, rtol=1e-5, atol=1e-8) -> bool:
        return bool(array_module(self.data).allclose(self.data, as_tensor_data(other), rtol,
                                                     atol))

    def any(self, dim=None):
        return Tensor(self.data.any(axis=dim))

    def all(self, dim=None):
        return Tensor(self.data.all(axis=dim))


class _Cast(autograd.Function):
    """dtype conversion; the gradient is cast back to the source dtype."""

    def forward(self, x, dtype):
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, gy):
        return gy.astype(self.src) if self.src.kind in "fc" else None


class _ToDevice(autograd.Function):
    def forward(self, x, device):
        self.src = device_of(x)
        return to_device(x, device)

    def backward(self, gy):
        return to_device(gy, self.src)


class _Clone(autograd.Function):
    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


autograd._Tensor = Tensor

from . import functional as F  # noqa: E402  (functional imports Tensor from this module)
from . import tensor_methods as _methods  # noqa: E402

_methods.F = F
