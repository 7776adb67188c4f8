"""shape_trace and summary: every layer's output shape and parameter count, nested modules
included, without real data."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.errors import ShapeError
from shendu.keras import layers as K
from shendu.keras.models import Sequential
from shendu.nn.utils import ShapeTrace, shape_trace


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return (self.bn(self.conv(x)) + x).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3)
        self.blocks = nn.Sequential(Block(4), Block(4))
        self.head = nn.Sequential(OrderedDict([("pool", nn.AdaptiveAvgPool2d(1)),
                                               ("flat", nn.Flatten()),
                                               ("fc", nn.Linear(4, 10))]))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def test_nested_torch_model_rows_paths_depths_shapes_params():
    net = Net()
    trace = shape_trace(net, (1, 12, 12))
    assert isinstance(trace, ShapeTrace)
    rows = {r.path: r for r in trace}
    assert [r.path for r in trace] == [
        "stem", "blocks", "blocks.0", "blocks.0.conv", "blocks.0.bn", "blocks.1",
        "blocks.1.conv", "blocks.1.bn", "head", "head.pool", "head.flat", "head.fc"]
    assert rows["stem"].output_shape == (1, 4, 10, 10) and rows["stem"].depth == 1
    assert rows["blocks.1.bn"].depth == 3 and rows["blocks.1.bn"].kind == "BatchNorm2d"
    assert rows["head.pool"].output_shape == (1, 4, 1, 1)
    assert rows["head.fc"].output_shape == (1, 10) and rows["head.fc"].params == 50
    assert rows["blocks"].params == 2 * (4 * 4 * 9 + 4 + 8)
    assert trace.output_shape == (1, 10) and trace.input_shape == (1, 1, 12, 12)
    assert trace.total_params == sum(p.numel() for p in net.parameters())
    text = str(trace)
    assert "    blocks.0.conv (Conv2d)" in text and "(1, 4, 10, 10)" in text
    assert f"Total params: {trace.total_params:,}" in text
    assert [r.path for r in shape_trace(net, (1, 12, 12), max_depth=1)] == ["stem", "blocks",
                                                                           "head"]


def test_trace_leaves_no_trace():
    net = Net().train()
    shape_trace(net, (1, 8, 8), batch_size=3)
    assert net.training and all(m.training for m in net.modules())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    assert all(p.grad is None for p in net.parameters())
    assert float(net.blocks[0].bn.running_mean.numpy().sum()) == 0.0  # eval mode: untouched


def test_failing_layer_raises_with_the_trace_so_far():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Linear(4 * 26 * 26, 10))
    with pytest.raises(ShapeError) as info:
        shape_trace(net, (1, 28, 28))
    assert "Linear '2'" in str(info.value) and "Flatten" in str(info.value)
    note = info.value.__notes__[-1]
    assert "0 (Conv2d)" in note and "(1, 4, 26, 26)" in note and "(failed here)" in note
    assert all(not m._forward_hooks for m in net.modules())


def test_several_outputs_and_several_inputs():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(3, 5, batch_first=True)
            self.mix = nn.Linear(5, 2)

        def forward(self, seq, extra):
            out, _ = self.rnn(seq)
            return self.mix(out[:, -1] + extra)

    trace = shape_trace(Pair(), [(7, 3), (5,)], batch_size=2)
    rnn = trace[0]
    assert rnn.path == "rnn" and rnn.output_shape == [(2, 7, 5), [(1, 2, 5), (1, 2, 5)]]
    assert trace.output_shape == (2, 2) and trace.input_shape == [(2, 7, 3), (2, 5)]
    assert "[(2, 7, 5), [(1, 2, 5), (1, 2, 5)]]" in trace.table()


def test_unbuilt_keras_model_is_built_and_named_by_its_layers():
    model = Sequential([K.Dense(8, activation="relu", name="hidden"), K.Dense(2)])
    trace = shape_trace(model, (5,))
    assert [r.name for r in trace] == ["hidden", model.layers[1].name]
    assert [r.output_shape for r in trace] == [(1, 8), (1, 2)]
    assert [r.params for r in trace] == [48, 18] and trace.total_params == 66
    model.summary(print_fn=lambda s: None)  # built now


def test_summary_lists_nested_blocks_indented():
    inner = Sequential([K.Dense(4, input_shape=(3,), name="in1"), K.Dense(4, name="in2")],
                       name="block")
    model = Sequential([inner, K.Dense(1, name="out")], name="outer")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    rows = [ln for ln in text.splitlines() if "(Dense)" in ln or "(Sequential)" in ln]
    assert rows[0].startswith(" block (Sequential)") and "(None, 4)" in rows[0]
    assert rows[1].startswith("   in1 (Dense)") and rows[1].split()[-1] == "16"
    assert rows[2].startswith("   in2 (Dense)") and rows[2].split()[-1] == "20"
    assert rows[3].startswith(" out (Dense)") and rows[3].split()[-1] == "5"
    assert "Total params: 41" in text
    x = np.ones((2, 3), np.float32)
    assert model.predict(x).shape == (2, 1)


def test_integer_inputs_for_an_embedding_model():
    net = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(24, 2))
    trace = shape_trace(net, (6,), dtype=np.int64)
    assert [r.output_shape for r in trace] == [(1, 6, 4), (1, 24), (1, 2)]
    assert sd.is_grad_enabled()
