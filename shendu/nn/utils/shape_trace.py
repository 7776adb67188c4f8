"""``shape_trace(model, input_shape)``: every layer's output shape and parameter count.

The model runs once on a batch of zeros, in eval mode and under ``no_grad``, with a forward
hook on every module, so nested PyTorch-style modules appear in the order they are called and
indented under their parent. Nothing is learned and no real data is needed (Keras layers that
have not been built yet are built by this call, as Keras's ``build`` would).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...autograd import no_grad
from ...errors import add_note
from ...tensor import Tensor

__all__ = ["shape_trace", "ShapeTrace", "TraceRow"]


@dataclass
class TraceRow:
    """One module call: ``path`` ('encoder.fc2'), ``kind`` ('Linear'), ``name`` (a Keras
    layer's own name, else the last part of the path), ``depth`` (1 for the model's children),
    ``output_shape`` (a tuple, or a list of them for several outputs; None when the output is
    not a tensor) and ``params`` (its parameters, its sub-modules' included)."""

    path: str
    kind: str
    name: str
    depth: int
    output_shape: object
    params: int
    module: object = None


def _shape_of(out):
    if isinstance(out, Tensor) or hasattr(out, "shape") and hasattr(out, "dtype"):
        return tuple(int(d) for d in out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    data = getattr(out, "data", None)  # PackedSequence and similar wrappers
    return _shape_of(data) if data is not None and data is not out else None


def _fmt(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt(s) for s in shape) + "]"
    return str(tuple(shape))


class ShapeTrace(list):
    """The rows of a trace (``TraceRow``), plus ``input_shape``, ``output_shape``,
    ``total_params`` and ``trainable_params``; ``str()``/``repr()`` draw the table."""

    input_shape: tuple = ()
    output_shape: object = None
    total_params: int = 0
    trainable_params: int = 0
    model_name: str = ""

    def table(self, line_length: int = 80) -> str:
        """The rows as a text table: layer (indented by depth) and type, output shape,
        parameter count."""
        w_shape, w_param = 26, 11
        w_layer = max(line_length - w_shape - w_param, 20)
        head = f"{'Layer (type)':<{w_layer}}{'Output Shape':<{w_shape}}{'Param #':>{w_param}}"
        lines = [f"shape_trace of {self.model_name} on input {_fmt(self.input_shape)}",
                 "=" * len(head), head, "-" * len(head)]
        for r in self:
            label = "  " * (r.depth - 1) + (f"{r.path or r.name} ({r.kind})")
            shape = _fmt(r.output_shape) if r.output_shape is not None else "(failed here)"
            if len(label) >= w_layer:
                lines.append(label)
                label = ""
            if len(shape) >= w_shape:
                lines.append(f"{label:<{w_layer}}{shape}")
                label, shape = "", ""
            lines.append(f"{label:<{w_layer}}{shape:<{w_shape}}{r.params:>{w_param},}")
        lines.append("=" * len(head))
        lines.append("Output: " + (_fmt(self.output_shape) if self.output_shape is not None
                                   else "not reached"))
        lines.append(f"Total params: {self.total_params:,}  (trainable "
                     f"{self.trainable_params:,})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    __repr__ = __str__


def _inputs(input_shape, batch_size: int, dtype):
    """Zeros for one input shape, or for each of several (a list of shapes)."""
    shapes = input_shape
    several = isinstance(shapes, list) or (
        isinstance(shapes, tuple) and shapes and all(isinstance(s, (tuple, list))
                                                     for s in shapes))
    if not several:
        shapes = [shapes]
    out = []
    for s in shapes:
        s = (int(s),) if isinstance(s, (int, np.integer)) else tuple(int(d) for d in s)
        out.append(Tensor(np.zeros((batch_size,) + s, dtype=dtype or np.float32)))
    return out


def shape_trace(model, input_shape, batch_size: int = 1, dtype=None,
                max_depth: int | None = None) -> ShapeTrace:
    """Every module's output shape and parameter count for an input of ``input_shape``.

    Args:
        model: any Module (PyTorch-style nested modules, Sequential, Keras layers).
        input_shape: the shape of one sample, without the batch axis, e.g. ``(1, 28, 28)``
            for ``nn.Conv2d`` or ``(28, 28, 1)`` for Keras's ``Conv2D``; a list of shapes for
            a model with several inputs.
        batch_size: size of the batch of zeros that is run (shapes show it as the first axis).
        dtype: of the zeros (float32 by default; integer-valued zeros also suit Embedding).
        max_depth: keep only rows this deep (1: the model's children).

    Returns:
        A ``ShapeTrace``: a list of ``TraceRow`` that prints as a table. When a layer refuses
        its input, the ``ShapeError`` is raised with the trace up to that layer as a note.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(),
        ...                     nn.Linear(8 * 26 * 26, 10))
        >>> print(shape_trace(net, (1, 28, 28)))
    """
    paths = {}
    for path, m in model.named_modules():
        paths.setdefault(id(m), path)
    trace = ShapeTrace()
    trace.model_name = getattr(model, "name", None) or type(model).__name__
    open_rows: list = []
    handles = []

    def pre(mod, args):
        if mod is model:
            return None
        path = paths.get(id(mod), "")
        own = mod.__dict__.get("name")
        name = own if isinstance(own, str) and own else (path.rsplit(".", 1)[-1] or
                                                         type(mod).__name__)
        row = TraceRow(path, type(mod).__name__, name, len(open_rows) + 1, None,
                       sum(p.numel() for p in mod.parameters()), mod)
        trace.append(row)
        open_rows.append(row)
        return None

    def post(mod, args, out):
        if mod is model:
            return None
        if open_rows:
            row = open_rows.pop()
            row.output_shape = _shape_of(out)
            row.params = sum(p.numel() for p in mod.parameters())  # built by this call
        return None

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    params = list(model.parameters())
    trace.total_params = sum(p.numel() for p in params)
    trace.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    xs = _inputs(input_shape, batch_size, dtype)
    trace.input_shape = tuple(xs[0].shape) if len(xs) == 1 else [tuple(x.shape) for x in xs]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model(*xs)
    except Exception as exc:
        if trace:
            add_note(exc, "shape_trace up to the failing layer:\n" + trace.table())
        raise
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    trace.output_shape = _shape_of(out)
    params = list(model.parameters())  # again: Keras layers may have been built by the call
    trace.total_params = sum(p.numel() for p in params)
    trace.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    if max_depth is not None:
        trace[:] = [r for r in trace if r.depth <= max_depth]
    return trace
