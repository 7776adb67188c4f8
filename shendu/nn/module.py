"""Module: the one building block of models, in the PyTorch manner.

Attributes that are Parameters, Modules or registered buffers are found by ``parameters()``,
``children()``, ``state_dict()`` and friends; ``__call__`` runs ``forward`` plus the forward
hooks. Keras-style layers are Modules too (they create their parameters on the first call).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np

from ..autograd import _state as _autograd_state
from ..autograd import no_grad
from ..backend import Device, as_dtype
from ..errors import AnomalyError, _ModuleError, add_note, module_label, path_of
from ..tensor import Tensor
from .parameter import Parameter

__all__ = ["Module", "RemovableHandle"]


class RemovableHandle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key: int):
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


_NOTE = "(raised in "


def _annotate(exc: Exception, module) -> None:
    """Tell an error leaving ``module.forward`` where it happened.

    Called once per enclosing module as the error travels out, each time with a module one
    level further out, so the path ends up complete: a layer's ``ShapeError`` gets its label
    rewritten (``Linear 'encoder.fc2' expected ...``); any other error gets a note naming the
    innermost module. Anomaly errors already carry the path recorded with the op.
    """
    if isinstance(exc, AnomalyError):
        return
    try:
        if isinstance(exc, _ModuleError) and exc.module is not None:
            exc.set_path(path_of(module, exc.module))
            return
        inner = exc.__dict__.get("_shendu_module")
        if inner is None:
            exc._shendu_module = inner = module
        add_note(exc, f"{_NOTE}{module_label(inner, path_of(module, inner))})", _NOTE)
    except Exception:  # pragma: no cover - the original error matters more than the note
        pass


class Module:
    """Base class of every layer and model.

    Subclasses create parameters and sub-modules in ``__init__`` (assigning them as attributes)
    and compute in ``forward``.

    Example:
        >>> class Net(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = shendu.nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x)
    """

    _hook_counter = 0

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_name", None)

    # -- attribute registration ----------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called; "
                                 f"call super().__init__() first in {type(self).__name__}")
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if name in params and isinstance(value, Tensor) and not isinstance(value, Parameter):
            # silently unregistering the weight would hide it from optimizers and state_dict
            raise TypeError(f"cannot assign a plain Tensor to parameter {name!r} of "
                            f"{type(self).__name__}; wrap it in nn.Parameter, or copy values in "
                            f"place with {name}.data[...] = ...")
        for d in (params, modules, buffers):
            if name in d and not (d is buffers and (value is None or isinstance(value, Tensor))):
                del d[name]
        if isinstance(value, Parameter):
            self.__dict__.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            self.__dict__.pop(name, None)
            modules[name] = value
            if value.__dict__.get("_name") is None:
                object.__setattr__(value, "_name", name)
        elif name in buffers:
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        d = self.__dict__
        for key in ("_parameters", "_modules", "_buffers"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_modules", "_buffers"):
            if name in self.__dict__[key]:
                del self.__dict__[key][name]
                return
        object.__delattr__(self, name)

    def _claim(self, name: str, what: str) -> None:
        """Check a name about to be registered: a plain attribute of the same name would shadow
        it (attribute lookup finds ``__dict__`` first), and a dot would break state_dict keys."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{what} name must be a non-empty string without '.', got {name!r}")
        if name in self.__dict__:
            raise KeyError(f"cannot register {what} {name!r}: {type(self).__name__} already has "
                           "a plain attribute of that name")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}) expects a Parameter or None, got "
                            f"{type(param).__name__}")
        self._claim(name, "parameter")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is part of the state (saved) but not learned, e.g. running means."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self._claim(name, "buffer")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}) expects a Module, got {type(module).__name__}")
        self._claim(name, "module")
        self._modules[name] = module
        if module is not None and module.__dict__.get("_name") is None:
            object.__setattr__(module, "_name", name)

    register_module = add_module

    # -- calling -------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        # Module paths cost nothing here: an error leaving forward() learns, frame by frame,
        # where it happened (_annotate); only anomaly mode keeps a stack, which each op records
        stack = _autograd_state.module_stack
        if stack is not None:
            stack.append(self)
        try:
            if self._forward_pre_hooks:
                for hook in self._forward_pre_hooks.values():
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
            out = self.forward(*args, **kwargs)
            if self._forward_hooks:
                for hook in self._forward_hooks.values():
                    res = hook(self, args, out)
                    if res is not None:
                        out = res
        except Exception as exc:
            _annotate(exc, self)
            raise
        finally:
            if stack is not None:
                stack.pop()
        return out

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, inputs, output)`` runs after every forward; a non-None return replaces
        the output."""
        Module._hook_counter += 1
        self._forward_hooks[Module._hook_counter] = hook
        return RemovableHandle(self._forward_hooks, Module._hook_counter)

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        Module._hook_counter += 1
        self._forward_pre_hooks[Module._hook_counter] = hook
        return RemovableHandle(self._forward_pre_hooks, Module._hook_counter)

    # -- traversal -----------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator:
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mprefix}.{name}" if mprefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator:
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mprefix}.{name}" if mprefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        mod = self
        for part in target.split(".") if target else []:
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule {part!r} "
                                     f"(looking up {target!r})")
            mod = mod._modules[part]
        return mod

    # -- modes and bulk changes ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every sub-module (children first) and on self, e.g. to initialize."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _map_tensors(self, fn: Callable) -> Module:
        with no_grad():
            for m in self.modules():
                for p in m._parameters.values():
                    if p is not None:
                        p.data = fn(p.data)
                        if p.grad is not None:
                            p.grad.data = fn(p.grad.data)
                for b in m._buffers.values():
                    if b is not None:
                        b.data = fn(b.data)
        return self

    def to(self, *args, **kwargs) -> Module:
        """``to(device)``, ``to(dtype)`` or both; parameters stay the same objects."""
        device = kwargs.get("device")
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Device) or (isinstance(a, str) and a.split(":")[0] in ("cpu",
                                                                                   "cuda")):
                device = a
            else:
                dtype = a
        if dtype is not None:
            dt = as_dtype(dtype)
            self._map_tensors(lambda d: d.astype(dt) if d.dtype.kind == "f" else d)
        if device is not None:
            from ..backend import to_device

            dev = Device(device)
            dev.xp  # noqa: B018 - raises a clear error when the device is unavailable
            self._map_tensors(lambda d: to_device(d, dev))
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "") -> OrderedDict:
        """Parameters and persistent buffers by dotted name (tensors share memory)."""
        out = OrderedDict()
        for mprefix, m in self.named_modules(prefix=prefix):
            dot = f"{mprefix}." if mprefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    out[dot + name] = p.detach()
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    out[dot + name] = b.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values into this module's parameters and buffers.

        With ``strict=True`` any missing, unexpected or misshapen key is an error that lists
        them all. Returns (missing_keys, unexpected_keys).
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        shapes = []
        for k, v in state_dict.items():
            if k in own:
                vs = tuple(np.shape(v.data if isinstance(v, Tensor) else v))
                if vs != tuple(own[k].shape):
                    shapes.append(f"{k}: checkpoint has {vs}, model has {tuple(own[k].shape)}")
        if shapes or (strict and (missing or unexpected)):
            lines = [f"Error(s) in loading state_dict for {type(self).__name__}:"]
            if missing:
                lines.append(f"  Missing key(s): {', '.join(missing)}")
            if unexpected:
                lines.append(f"  Unexpected key(s): {', '.join(unexpected)}")
            if shapes:
                lines.append("  Size mismatch: " + "; ".join(shapes))
            raise RuntimeError("\n".join(lines))
        targets = dict(self._named_tensors())
        with no_grad():
            for k, v in state_dict.items():
                if k in targets:
                    t = targets[k]
                    src = v.data if isinstance(v, Tensor) else np.asarray(v)
                    t.data[...] = src.astype(t.data.dtype, copy=False)
        return missing, unexpected

    def _named_tensors(self):
        for mprefix, m in self.named_modules():
            dot = f"{mprefix}." if mprefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    yield dot + name, p
            for name, b in m._buffers.items():
                if b is not None:
                    yield dot + name, b

    # -- display -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {sub}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules)
                      | set(self._buffers))

    def __setstate__(self, state):  # pragma: no cover - copy.deepcopy support
        self.__dict__.update(state)
