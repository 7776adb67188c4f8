"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor

__all__ = ["summary", "trace_shapes", "input_shape_of"]


def input_shape_of(model):
    """The per-sample input shape the model declares or has seen, or None."""
    seen = model.__dict__.get("_input_shape")
    if seen is not None:
        return seen
    for m in model.modules():
        declared = getattr(m, "input_shape_declared", None)
        if declared is not None:
            return declared
    return None


def _param_bytes(n: int) -> str:
    b = n * 4.0
    for unit in ("Byte", "KB", "MB", "GB"):
        if b < 1024 or unit == "GB":
            return f"{b:.2f} {unit}"
        b /= 1024
    return f"{b:.2f} GB"


def trace_shapes(model, input_shape) -> list:
    """Run a batch of 2 zeros through ``model`` and record each child's output shape."""
    records = []
    handles = []
    for name, child in model.named_children():
        def hook(mod, inputs, out, name=name):
            shape = tuple(out.shape) if hasattr(out, "shape") else None
            records.append((name, mod, shape))
        handles.append(child.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(Tensor(np.zeros((2,) + tuple(input_shape), dtype=np.float32)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return records


def summary(model, line_length: int = 65) -> str:
    shape = input_shape_of(model)
    if shape is None:
        raise ValueError(
            f"This model '{getattr(model, 'name', type(model).__name__)}' has not yet been "
            "built. Build it by calling it on data, or give the first layer an input_shape "
            "argument (e.g. Dense(64, input_shape=(784,)))"
        )
    records = trace_shapes(model, shape)
    cols = [int(line_length * f) for f in (0.45, 0.85, 1.0)]
    lines = [f'Model: "{getattr(model, "name", type(model).__name__.lower())}"',
             "_" * line_length]

    def row(a, b, c) -> str:
        # like Keras, a cell too long for its column wraps onto the next lines, keeping two
        # spaces between columns
        cells = [str(a), str(b), str(c)]
        widths = [cols[0] - 3, cols[1] - cols[0] - 2, line_length - cols[1]]
        out = []
        while any(cells):
            text = " "
            for k, (cell, width) in enumerate(zip(cells, widths)):
                text = text.ljust(cols[k - 1] if k else 1) + cell[:width]
                cells[k] = cell[width:]
            out.append(text.ljust(line_length))
        return "\n".join(out)

    lines.append(row("Layer (type)", "Output Shape", "Param #"))
    lines.append("=" * line_length)
    seen = set()
    for i, (name, mod, out_shape) in enumerate(records):
        if id(mod) in seen:
            continue
        seen.add(id(mod))
        label = getattr(mod, "name", None) or name
        n = sum(p.numel() for p in mod.parameters())
        shape_s = "?" if out_shape is None else str((None,) + out_shape[1:])
        lines.append(row(f"{label} ({type(mod).__name__})", shape_s, n))
        if i < len(records) - 1:
            lines.append("")
    lines.append("=" * line_length)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    lines.append(f"Total params: {total} ({_param_bytes(total)})")
    lines.append(f"Trainable params: {trainable} ({_param_bytes(trainable)})")
    lines.append(f"Non-trainable params: {total - trainable} ({_param_bytes(total - trainable)})")
    lines.append("_" * line_length)
    return "\n".join(lines)
