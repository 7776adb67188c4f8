"""``model.summary()``: Keras's table of layers, output shapes and parameter counts.

The shapes come from ``shendu.nn.utils.shape_trace`` (one pass of zeros with hooks), so layers
nested in blocks are listed too, indented under their block."""

from __future__ import annotations

from ..nn.utils.shape_trace import shape_trace

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
    """``(name, module, output shape)`` for each call of a child of ``model`` on a batch of 2
    zeros (kept for callers of the flat form; ``shape_trace`` has every nested module)."""
    rows = shape_trace(model, input_shape, batch_size=2, max_depth=1)
    return [(r.path, r.module, r.output_shape if isinstance(r.output_shape, tuple) else None)
            for r in rows]


def _keras_shape(shape) -> str:
    """(None, ...) for a tensor output (the batch axis is free); several outputs as a list."""
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_keras_shape(s) for s in shape) + "]"
    return str((None,) + tuple(shape[1:])) if shape else "()"


def summary(model, line_length: int = 65) -> str:
    shape = input_shape_of(model)
    if shape is None:
        raise ValueError(
            f"This model '{getattr(model, 'name', type(model).__name__)}' has not yet been "
            "built. Build it by calling it on data, or give the first layer an input_shape "
            "argument (e.g. Dense(64, input_shape=(784,)))"
        )
    rows = shape_trace(model, shape, batch_size=2)
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
    shown = []
    for r in rows:  # every module, nested ones indented under their block; shared ones once
        if id(r.module) in seen:
            continue
        seen.add(id(r.module))
        shown.append(r)
    for i, r in enumerate(shown):
        label = "  " * (r.depth - 1) + r.name
        lines.append(row(f"{label} ({r.kind})", _keras_shape(r.output_shape), r.params))
        if i < len(shown) - 1 and (i + 1 == len(shown) or shown[i + 1].depth == 1):
            lines.append("")
    lines.append("=" * line_length)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    lines.append(f"Total params: {total} ({_param_bytes(total)})")
    lines.append(f"Trainable params: {trainable} ({_param_bytes(trainable)})")
    lines.append(f"Non-trainable params: {total - trainable} ({_param_bytes(total - trainable)})")
    lines.append("_" * line_length)
    return "\n".join(lines)
