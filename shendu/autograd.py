"""Reverse-mode automatic differentiation.

A ``Function`` is one primitive operation. Its instance is the context of one call: ``forward``
receives raw arrays (NumPy or CuPy) and may keep what ``backward`` needs on ``self``;
``backward`` receives the gradient of the loss with respect to each output and returns one
gradient per input (``None`` where an input needs none). ``apply`` wraps the result in Tensors
and links the graph only when some input requires a gradient, so inference pays nothing for it.

Rules every backward follows: never modify ``gy`` in place, and return either fresh arrays or
views of ``gy``; the engine copies views before it stores them as a leaf's ``.grad``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .backend import array_module
from .errors import AnomalyError, NonFiniteError, module_label, stack_path

__all__ = [
    "Function",
    "backward",
    "unbroadcast",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "nan_check_every",
    "AnomalyError",
    "NonFiniteError",
]

_Tensor = None  # set by tensor.py once the Tensor class exists (breaks the import cycle)


class _State:
    grad_enabled = True
    anomaly = False  # full anomaly mode: every op's output and gradient is checked
    module_stack = None  # in full anomaly mode, the modules being called (outermost first)
    nan_every = 0  # sampled mode: check the loss on every backward, the gradients every N-th
    nan_count = 0  # backward passes seen in sampled mode (kept across on/off switches)


_state = _State()


def _stats(a) -> str:
    """One line about an array for an anomaly report: shape, dtype, non-finite counts and the
    range of its finite values."""
    try:
        if a is None:
            return "None"
        if not hasattr(a, "dtype"):
            return f"constant {a!r}"
        base = f"shape {tuple(a.shape)}, dtype {a.dtype}"
        if a.dtype.kind not in "fc" or a.size == 0:
            return base
        xp = array_module(a)
        ok = xp.isfinite(a)
        n_nan = int(xp.isnan(a).sum())
        n_inf = int(a.size - int(ok.sum()) - n_nan)
        base += ", all finite" if not (n_nan or n_inf) else f", {n_nan} nan, {n_inf} inf"
        finite = a[ok]
        if finite.size:
            base += (f"; finite values: min {float(finite.min()):.4g}, "
                     f"max {float(finite.max()):.4g}, mean {float(finite.mean()):.4g}")
        return base
    except Exception:  # statistics are a courtesy; never let them hide the real error
        return f"shape {tuple(getattr(a, 'shape', ()))}"


def _anomaly(fn, phase: str, i: int, bad, inputs, grads_out=None) -> AnomalyError:
    name = type(fn).__name__
    stack = fn.__dict__.get("_anomaly_stack") or ()
    path = stack_path(stack)
    where = f" in {module_label(stack[-1], path)}" if stack else " outside any module"
    what = "output" if phase == "forward" else "gradient for input"
    lines = [f"detect_anomaly: the {phase} of {name}{where} produced a non-finite value",
             f"  {what} {i}: {_stats(bad)}"]
    if grads_out is not None:
        for j, g in enumerate(grads_out):
            lines.append(f"  incoming gradient {j}: {_stats(g)}")
    for j, x in enumerate(inputs):
        lines.append(f"  input {j}: {_stats(x)}")
    if phase == "backward":
        lines.append("  (the op was recorded during the forward pass; its inputs are listed)")
    return AnomalyError("\n".join(lines), op=name, phase=phase, module_path=path)


def _check_finite(arrays, fn, phase: str, inputs, grads_out=None) -> None:
    for i, a in enumerate(arrays):
        if a is None or not hasattr(a, "dtype") or a.dtype.kind not in "fc":
            continue
        xp = array_module(a)
        if not bool(xp.isfinite(a).all()):
            raise _anomaly(fn, phase, i, a, inputs, grads_out)


def _record_module(fn) -> None:
    """Anomaly mode: remember which modules were running when ``fn`` was created."""
    stack = _state.module_stack
    if stack:
        fn._anomaly_stack = tuple(stack)


class Function:
    """Base class of every differentiable primitive.

    Subclasses implement ``forward(self, *arrays, **params)`` and ``backward(self, *grads)``.
    Use it through ``apply``, which accepts Tensors and plain values (constants) in any position.

    Example:
        >>> class Square(Function):
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x * x
        ...     def backward(self, gy):
        ...         return 2 * self.x * gy  # d/dx x^2 = 2x
    """

    needs_input_grad: tuple = ()
    parents: tuple | None = None
    n_out: int = 1

    def forward(self, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @classmethod
    def apply(cls, *args, **params):
        """Run ``forward`` on the arrays behind ``args`` and link the graph when needed."""
        Tensor = _Tensor
        datas = []
        track = False
        for a in args:
            if isinstance(a, Tensor):
                datas.append(a.data)
                if a.requires_grad:
                    track = True
            else:
                datas.append(_number(a))
        if params:  # np.float64 bounds or slopes would upcast float32 data the same way
            params = {k: _number(v) for k, v in params.items()}
        fn = _new(cls)
        track = track and _state.grad_enabled
        if track:
            fn.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        out = fn.forward(*datas, **params)
        if _state.anomaly:
            _record_module(fn)
            _check_finite(out if isinstance(out, tuple) else (out,), fn, "forward", datas)
        if type(out) is not tuple:
            return _wrap(out, fn if track else None, args)
        outs = tuple(_wrap(o, fn if track else None, args) for o in out)
        if track:
            for i, t in enumerate(outs):
                t._idx = i
            fn.n_out = len(out)
            fn.out_meta = [(o.shape, o.dtype) for o in out]
        return outs


_new = object.__new__


def _number(a):
    """NumPy scalars act as Python numbers, as in PyTorch: ``x * np.float64(2)`` stays float32
    instead of following NumPy's promotion to float64."""
    return a.item() if isinstance(a, np.generic) else a


def _wrap(data, fn, parents):
    """A new Tensor around ``data``; when ``fn`` is given it becomes the tensor's creator."""
    t = _new(_Tensor)
    if type(data) is not np.ndarray and isinstance(data, np.generic):
        data = np.asarray(data)  # NumPy ops on 0-d arrays give scalars; keep an array
    t.data = data
    t.grad = None  # _idx (output index, 0) and _retain (False) stay unset: read with getattr
    if fn is None:
        t.requires_grad = False
        t._ctx = None
    else:
        t.requires_grad = True
        t._ctx = fn
        fn.parents = parents
    return t


def apply1(cls, x):
    """``cls.apply(x)`` for a unary op without parameters: the hot path of activations."""
    fn = _new(cls)
    out = fn.forward(x.data)
    track = x.requires_grad and _state.grad_enabled
    if track:
        fn.needs_input_grad = (True,)
    if _state.anomaly:
        _record_module(fn)
        _check_finite((out,), fn, "forward", (x.data,))
    return _wrap(out, fn if track else None, (x,))


def apply2(cls, a, b):
    """``cls.apply(a, b)`` for a binary op without parameters: the hot path of arithmetic."""
    Tensor = _Tensor
    if isinstance(a, Tensor):
        ad, ra = a.data, a.requires_grad
    else:
        ad, ra = _number(a), False
    if isinstance(b, Tensor):
        bd, rb = b.data, b.requires_grad
    else:
        bd, rb = _number(b), False
    fn = _new(cls)
    track = (ra or rb) and _state.grad_enabled
    if track:
        fn.needs_input_grad = (ra, rb)
    out = fn.forward(ad, bd)
    if _state.anomaly:
        _record_module(fn)
        _check_finite((out,), fn, "forward", (ad, bd))
    return _wrap(out, fn if track else None, (a, b))


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up to grad.shape."""
    if grad.shape == shape:
        return grad
    ndim_extra = grad.ndim - len(shape)
    if ndim_extra:
        grad = grad.sum(axis=tuple(range(ndim_extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _toposort(root):
    """Functions reachable from ``root`` with every producer before its consumers (iterative).

    A function is marked when it is expanded, not when it is pushed: marking at push time lets
    a consumer be appended before a producer that is still waiting deeper in the stack (e.g.
    ``u + exp(u)``), and the walk would then run that producer's backward too early.
    """
    order = []
    expanded_ids = set()
    stack = [(root, False)]
    Tensor = _Tensor
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in expanded_ids:  # pushed twice (two consumers); the first visit did it
            continue
        if fn.parents is None:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({type(fn).__name__} was "
                "already freed). Pass retain_graph=True to the first backward() if you need to "
                "backward twice, or detach() tensors you carry across iterations."
            )
        expanded_ids.add(id(fn))
        stack.append((fn, True))
        for p in fn.parents:
            if isinstance(p, Tensor):
                c = p._ctx
                if c is not None and id(c) not in expanded_ids:
                    stack.append((c, False))
    return order


def _store_leaf(t, g, owned: set) -> None:
    """Accumulate ``g`` into ``t.grad``, never writing into an array that may be shared.

    ``owned`` holds the ids of the arrays this backward pass stored as a ``.grad``. Such an
    array can also be another tensor's grad or a gradient still pending in the walk (a backward
    may return one array for two inputs), so storing it again copies it and adding into it is
    done out of place. Grads kept from an earlier pass are accumulated in place.
    """
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    elif t.grad is None and (id(g) in owned or g.base is not None or not g.flags.writeable
                             or not g.flags.c_contiguous):
        g = g.copy()
    if g.shape != t.data.shape:  # a scalar leaf fed by a 0-d reduction, for instance
        g = g.reshape(t.data.shape).copy()
    if t.grad is None:
        owned.add(id(g))
        t.grad = _Tensor(g)
    elif id(t.grad.data) in owned:
        t.grad.data = t.grad.data + g
    else:
        t.grad.data += g


def backward(tensor, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from ``tensor``: add d(tensor)/d(leaf) * grad into every leaf's ``.grad``."""
    Tensor = _Tensor
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad: nothing it depends on has "
            "requires_grad=True (or it was computed under no_grad())"
        )
    xp = array_module(tensor.data)
    if grad is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"backward() without a grad argument needs a scalar output, got shape "
                f"{tuple(tensor.data.shape)}; reduce it first (e.g. loss.sum() or loss.mean()) or "
                "pass grad=a tensor of the same shape"
            )
        g = xp.ones_like(tensor.data)
    else:
        g = grad.data if isinstance(grad, Tensor) else xp.asarray(grad)
        if g.shape != tensor.data.shape:
            raise RuntimeError(
                f"backward(grad=...) got grad of shape {tuple(g.shape)} for an output of shape "
                f"{tuple(tensor.data.shape)}; they must match"
            )
        g = g.astype(tensor.data.dtype, copy=True)
    owned: set = set()
    root = tensor._ctx
    if root is None:  # a leaf: its gradient is grad itself
        _store_leaf(tensor, g, owned)
        return
    leaves = None  # the leaves this pass writes, kept when the sampled NaN check is due
    if _state.nan_every:
        leaves = _sampled_check_begin(tensor)
    order = _toposort(root)
    pending = {id(root): [None] * root.n_out}
    pending[id(root)][getattr(tensor, "_idx", 0)] = g
    anomaly = _state.anomaly
    if getattr(tensor, "_retain", False):
        _store_leaf(tensor, g, owned)
    for fn in reversed(order):
        gouts = pending.pop(id(fn), None)
        if gouts is None:
            continue
        if fn.n_out == 1:
            gin = fn.backward(gouts[0])
        else:
            for i, (shape, dtype) in enumerate(fn.out_meta):
                if gouts[i] is None:
                    gouts[i] = xp.zeros(shape, dtype)
            gin = fn.backward(*gouts)
        if not isinstance(gin, tuple):
            gin = (gin,)
        parents = fn.parents
        if anomaly:
            _check_finite(gin, fn, "backward", [p.data if isinstance(p, Tensor) else p
                                                for p in parents], gouts)
        for p, gp, need in zip(parents, gin, fn.needs_input_grad):
            if not need or gp is None:
                continue
            ctx = p._ctx
            if ctx is None:
                _store_leaf(p, gp, owned)
                if leaves is not None:
                    leaves.append(p)
                continue
            if getattr(p, "_retain", False):
                _store_leaf(p, gp, owned)
            slot = pending.get(id(ctx))
            if slot is None:
                slot = pending[id(ctx)] = [None] * ctx.n_out
            i = getattr(p, "_idx", 0)
            prev = slot[i]
            slot[i] = gp if prev is None else prev + gp
        if not retain_graph:
            fn.__dict__.clear()
            fn.parents = None
    if leaves:
        _sampled_check_grads(leaves)


# -- sampled NaN check -------------------------------------------------------------------------
def _sampled_check_begin(tensor):
    """Sampled mode, before a backward pass: the loss must be finite (a scalar: nearly free);
    returns a list to collect the leaves in when this pass's gradients are due for a check."""
    data = tensor.data
    if data.size == 1 and not math.isfinite(float(data.reshape(()))):
        value = float(data.reshape(()))
        raise NonFiniteError(
            f"the loss is {value} (non-finite) before backward(); the sampled NaN check stopped "
            "here so no optimizer step uses it. Re-run this step under "
            "shendu.detect_anomaly() to find the operation (TerminateOnNaN does it in fit)",
            "loss", value=value)
    _state.nan_count += 1
    return [] if _state.nan_count % _state.nan_every == 0 else None


def _sampled_check_grads(leaves) -> None:
    """Sampled mode, after a backward pass: every gradient written must be finite.

    One BLAS pass per gradient: the sum of squares (``vdot(g, g)``) is NaN or Inf when any
    element is, and it is twice as fast as ``isfinite(g).all()``, which only confirms the rare
    overflow of a sum of huge finite values before anything is reported."""
    bad = []
    for t in leaves:
        g = t.grad.data
        if g.dtype.kind in "fc":
            xp = array_module(g)
            if not math.isfinite(abs(complex(xp.vdot(g, g)))) and \
                    not bool(xp.isfinite(g).all()):
                bad.append(t)
    if bad:
        lines = [f"a non-finite gradient after backward() (sampled NaN check, every "
                 f"{_state.nan_every} backward pass(es)); no optimizer step has used it yet:"]
        lines += [f"  gradient of a leaf of shape {tuple(t.shape)}: {_stats(t.grad.data)}"
                  for t in bad[:8]]
        lines.append("Re-run this step under shendu.detect_anomaly() to find the operation "
                     "(TerminateOnNaN does it in fit)")
        raise NonFiniteError("\n".join(lines), "gradient", tensors=bad)


# -- gradient mode -----------------------------------------------------------------------------
class _GradMode:
    """Context manager and decorator that sets whether operations record the graph."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._prev: list = []

    def __enter__(self):
        self._prev.append(_state.grad_enabled)
        _state.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self._prev.pop()
        return False

    def __call__(self, func):
        enabled = self.enabled

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with _GradMode(enabled):
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Operations inside do not record the graph (inference, optimizer updates).

    Works as a context manager and as a decorator, with or without parentheses.

    Example:
        >>> with no_grad():
        ...     y = model(x)
    """

    def __new__(cls, func=None):
        if func is not None:  # used bare: @no_grad
            return _GradMode(False)(func)
        return super().__new__(cls)

    def __init__(self, func=None):
        super().__init__(False)


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block (``@enable_grad`` works too)."""

    def __new__(cls, func=None):
        if func is not None:  # used bare: @enable_grad
            return _GradMode(True)(func)
        return super().__new__(cls)

    def __init__(self, func=None):
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` as a call, a context manager or a decorator."""

    def __init__(self, mode: bool):
        super().__init__(bool(mode))
        self._was = _state.grad_enabled
        _state.grad_enabled = bool(mode)

    def __enter__(self):
        self._prev.append(self._was)
        return self

    def __call__(self, func):
        # as a decorator the mode applies inside func only: undo what __init__ switched
        _state.grad_enabled = self._was
        return super().__call__(func)


def is_grad_enabled() -> bool:
    return _state.grad_enabled


class detect_anomaly:
    """Stop at the first NaN/Inf, naming the operation, the module and the values around it.

    Full mode (the default) checks the output of every op in forward and every gradient in
    backward, and raises ``AnomalyError`` at the first non-finite one with the op's name,
    forward or backward, the module path that was running when the op was created (e.g.
    ``Linear 'encoder.fc2'``) and the shape, NaN/Inf counts and min/max/mean of its inputs. It
    costs a pass over every array: use it to debug.

    Sampled mode (``check_every=N``) is cheap enough to leave on while training: every
    ``backward()`` first checks that the loss is finite, and every N-th also checks the
    gradients it wrote (one reduction per gradient). It raises ``NonFiniteError`` before any
    optimizer step can use the bad values; re-run that step in full mode to find the op
    (``TerminateOnNaN`` in ``fit`` does it and reports the result).

    Works as a context manager and as a decorator.

    Example:
        >>> with shendu.detect_anomaly():
        ...     loss = model(x).log().mean()
        ...     loss.backward()
    """

    def __init__(self, check_nan: bool = True, check_every: int | None = None):
        if check_every is not None and int(check_every) < 1:
            raise ValueError(f"detect_anomaly: check_every must be a positive integer or None, "
                             f"got {check_every!r}")
        self.check = check_nan
        self.check_every = None if check_every is None else int(check_every)
        self._prev: list = []

    def __enter__(self):
        s = _state
        self._prev.append((s.anomaly, s.module_stack, s.nan_every))
        _set_mode(self.check, self.check_every)
        return self

    def __exit__(self, *exc):
        s = _state
        s.anomaly, s.module_stack, s.nan_every = self._prev.pop()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check, self.check_every):
                return func(*args, **kwargs)

        return wrapper


def _set_mode(check: bool, every: int | None) -> None:
    full = bool(check) and every is None
    _state.anomaly = full
    if full:
        if _state.module_stack is None:
            _state.module_stack = []
    else:
        _state.module_stack = None
    _state.nan_every = int(every) if check and every is not None else 0


def set_detect_anomaly(mode: bool, check_every: int | None = None) -> None:
    """Switch anomaly mode on (full, or sampled with ``check_every=N``) or off."""
    if check_every is not None and int(check_every) < 1:
        raise ValueError(f"set_detect_anomaly: check_every must be a positive integer or None, "
                         f"got {check_every!r}")
    _set_mode(bool(mode), check_every)


def is_anomaly_enabled() -> bool:
    """True in full anomaly mode (every op checked)."""
    return _state.anomaly


def nan_check_every() -> int:
    """N when the sampled NaN check is on (gradients checked every N-th backward), else 0."""
    return _state.nan_every


def _isfinite_all(a) -> bool:  # used by tests and the anomaly checker
    return bool(np.isfinite(a).all())
