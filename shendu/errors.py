"""Errors that say where they happened: the module path, the shapes, and what to change.

``ShapeError`` (a ``ValueError``) is what every layer raises for an input of the wrong shape;
``AnomalyError`` (a ``FloatingPointError``) is raised by ``detect_anomaly()`` at the first
non-finite value, and ``NonFiniteError`` by its sampled mode.

A layer raises its error knowing only itself. As the error leaves each ``Module.__call__`` on
its way out, that module recomputes the path from itself down to the layer (``set_path``), so
the message ends up naming the full path from the outermost module called, e.g.
``Linear 'encoder.fc2'`` or, inside a Keras ``Sequential``, ``Dense 'dense_1' (sequential.1)``.
This costs nothing until something goes wrong.

This module depends on nothing else in shendu (modules are handled by duck typing), so the
engine can use it too.
"""

from __future__ import annotations

import re

__all__ = ["ShapeError", "LayerTypeError", "LayerIndexError", "AnomalyError", "NonFiniteError",
           "module_label", "path_of", "stack_path", "add_note"]


# -- naming modules --------------------------------------------------------------------------------
def _auto_named(module, name: str) -> bool:
    """Whether ``name`` is the automatic Keras name of the module's class (dense, dense_3)."""
    snake = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", type(module).__name__)
    snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", snake).lower()
    return re.fullmatch(re.escape(snake) + r"(_\d+)?", name) is not None


def _own_name(module) -> str:
    """The name a module has on its own: a Keras layer's or model's ``name`` (unless it is an
    automatic one and the module was given an attribute name, as in PyTorch-style code), else
    the attribute name it was first assigned to (``_name``), else ''."""
    d = getattr(module, "__dict__", {})
    name, attr = d.get("name"), d.get("_name")
    if isinstance(name, str) and name:
        if attr and not attr.isdigit() and _auto_named(module, name):
            return attr
        return name
    return attr or ""


def child_path(parent, target) -> str | None:
    """Dotted path of ``target`` below ``parent`` (identity), or None when it is not inside."""
    for name, m in getattr(parent, "_modules", {}).items():
        if m is target:
            return name
    named = getattr(parent, "named_modules", None)
    if named is not None:
        for name, m in named():
            if m is target and name:
                return name
    return None


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def path_of(root, target) -> str:
    """The path by which an error names ``target`` when ``root`` is the outermost module called:
    the root's own name (for Keras layers and models) followed by the attribute path."""
    if target is root:
        return _own_name(root)
    rel = child_path(root, target)
    if rel is None:
        rel = _own_name(target) or type(target).__name__.lower()
    return _join(_own_name(root) if _is_keras(root) else "", rel)


def _is_keras(module) -> bool:
    return isinstance(getattr(module, "__dict__", {}).get("name"), str)


def stack_path(stack) -> str:
    """Path of the innermost module of a call stack (outermost first), e.g. ('net', 'enc', 'fc')
    -> 'encoder.fc2'. Used by anomaly mode, which records the stack on every op."""
    if not stack:
        return ""
    mods = [stack[0]]
    for m in stack[1:]:
        if m is not mods[-1]:
            mods.append(m)
    root = mods[0]
    parts = [_own_name(root) if _is_keras(root) else ""]
    for parent, child in zip(mods, mods[1:]):
        rel = child_path(parent, child)
        parts.append(rel if rel is not None else (_own_name(child) or type(child).__name__))
    return _join(*parts) or _own_name(mods[-1])


def module_label(module, path: str) -> str:
    """How a message names a module: ``Linear 'encoder.fc2'``; a Keras layer that sits at a
    numbered position shows its own name first: ``Dense 'dense_1' (sequential.1)``."""
    kind = type(module).__name__
    if kind.startswith("Keras") and len(kind) > 5:  # KerasLSTM is keras.layers.LSTM
        kind = kind[5:]
    leaf = path.rsplit(".", 1)[-1] if path else ""
    own = getattr(module, "__dict__", {}).get("name")
    if isinstance(own, str) and own and (not leaf or leaf.isdigit()) and own != path:
        return f"{kind} '{own}'" + (f" ({path})" if path else "")
    if path:
        return f"{kind} '{path}'"
    return f"{kind} '{_own_name(module)}'" if _own_name(module) else kind


def add_note(exc: BaseException, note: str, replace_prefix: str | None = None) -> None:
    """``exc.add_note(note)`` (Python 3.11+; a plain ``__notes__`` list on 3.10). With
    ``replace_prefix``, a last note starting with it is replaced instead of added to."""
    notes = getattr(exc, "__notes__", None)
    if notes and replace_prefix is not None and notes[-1].startswith(replace_prefix):
        notes[-1] = note
    elif hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        exc.__notes__ = [*(notes or []), note]


# -- errors raised by layers -----------------------------------------------------------------------
class _ModuleError:
    """Mixin: a message ``"{label} {body}; {hint}"`` whose label follows the module path as the
    error travels out through the enclosing modules."""

    def _setup(self, module, body: str, hint: str = "") -> None:
        self.module = module
        self.body = body
        self.hint = hint
        self.path = _own_name(module) if module is not None else ""
        self._render()

    def _render(self) -> None:
        label = module_label(self.module, self.path) if self.module is not None else ""
        msg = f"{label} {self.body}".strip()
        if self.hint:
            msg += f"; {self.hint}"
        self.args = (msg,)

    def set_path(self, path: str) -> None:
        """Called by ``Module.__call__`` as the error leaves each enclosing module."""
        self.path = path
        self._render()

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class ShapeError(_ModuleError, ValueError):
    """A layer got an input whose shape does not fit it.

    Attributes: ``module`` (the layer), ``path`` (e.g. ``'encoder.fc2'``), ``expected`` (a shape
    with None or a name for free dimensions, or a description), ``got`` (the shape received),
    ``hint`` (the likely fix, '' when none is known).

    Example:
        >>> try:
        ...     nn.Linear(784, 10)(shendu.zeros(4, 1, 28, 28))
        ... except ShapeError as e:
        ...     print(e.expected, e.got)
        (*, 784) (4, 1, 28, 28)
    """

    def __init__(self, module, body: str, expected=None, got=None, hint: str = ""):
        self.expected = expected
        self.got = tuple(got) if got is not None else None
        self._setup(module, body, hint)


class LayerTypeError(_ModuleError, TypeError):
    """A layer got an input of the wrong kind (e.g. float indices for an Embedding)."""

    def __init__(self, module, body: str, hint: str = ""):
        self._setup(module, body, hint)


class LayerIndexError(_ModuleError, IndexError):
    """A layer got an index outside its table (e.g. token id >= num_embeddings)."""

    def __init__(self, module, body: str, hint: str = ""):
        self._setup(module, body, hint)


# -- non-finite values -----------------------------------------------------------------------------
class AnomalyError(FloatingPointError):
    """Raised under ``detect_anomaly()`` at the first operation that produced a NaN or Inf.

    Attributes: ``op`` (the primitive's name), ``phase`` ("forward" or "backward"),
    ``module_path`` (the module that was running when the op was created, '' outside any
    module), ``report`` (the full text).
    """

    def __init__(self, report: str, op: str = "", phase: str = "", module_path: str = ""):
        super().__init__(report)
        self.report, self.op, self.phase, self.module_path = report, op, phase, module_path


class NonFiniteError(AnomalyError):
    """Raised by the sampled NaN check (``detect_anomaly(check_every=N)``) when the loss or a
    gradient is not finite, before any optimizer step could use it.

    Attributes: ``what`` ("loss" or "gradient"), ``tensors`` (the offending leaf tensors, for a
    gradient), ``value`` (the loss value, for a loss). The operation is not known in this
    mode: re-run the step under ``detect_anomaly()`` (``TerminateOnNaN`` does it for ``fit``).
    """

    def __init__(self, report: str, what: str, tensors=(), value=None):
        super().__init__(report, phase="backward" if what == "gradient" else "forward")
        self.what, self.tensors, self.value = what, list(tensors), value
