"""The shared layer harness (in the spirit of Keras's run_layer_test), used by the layer tests.

For one layer: output shape and dtype, ``compute_output_shape`` (also with an unknown batch),
a float64 gradient check of the input and every parameter, agreement with a reference
(PyTorch) when one is given, and a JSON ``get_config`` that rebuilds an equivalent layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import shendu as sd
import shendu.nn as nn
from shendu.nn.layers import Layer
from shendu.testing import gradcheck


@dataclass
class Case:
    id: str
    make: Callable[[], nn.Module]
    input_shape: tuple
    output_shape: tuple
    # reference of (layer in float64, float64 NumPy input) -> expected output, or None
    reference: Callable | None = None
    kw: dict = field(default_factory=dict)


def layer_input(shape, seed=0) -> np.ndarray:
    """Values away from the kinks of relu-like functions (|x| in [0.1, 2.5])."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 2.5, shape) * rng.choice([-1.0, 1.0], shape)


def _reseed(layer):
    """Dropout draws a new mask per call; the gradient check needs the same mask each time."""
    sd.manual_seed(0)
    for m in layer.modules():
        if isinstance(m, nn.Dropout) and m.generator is not None:
            m.generator.manual_seed(0)


def run_layer_test(case: Case) -> None:
    layer = case.make()
    x = layer_input(case.input_shape)
    _reseed(layer)
    y = layer(sd.tensor(x.astype(np.float32)))
    assert tuple(y.shape) == case.output_shape, case.id
    assert y.dtype == np.float32

    if isinstance(layer, Layer):
        assert tuple(layer.compute_output_shape(case.input_shape)) == case.output_shape
        unknown_batch = (None,) + tuple(case.input_shape[1:])
        assert tuple(layer.compute_output_shape(unknown_batch)) == (None,) + case.output_shape[1:]

    layer.double()
    params = list(layer.parameters())
    assert all(p.dtype == np.float64 for p in params)
    x64 = sd.tensor(x, dtype="float64", requires_grad=True)

    def fn(inp, *_params):
        _reseed(layer)
        return layer(inp)

    assert gradcheck(fn, [x64, *params]), case.id
    assert all(p.grad is not None for p in params)

    if case.reference is not None:
        _reseed(layer)
        np.testing.assert_allclose(layer(sd.tensor(x, dtype="float64")).numpy(),
                                   case.reference(layer, x), rtol=1e-10, atol=1e-12)

    cfg = json.loads(json.dumps(layer.get_config()))  # what a saved file holds
    clone = type(layer)(**cfg)
    assert json.loads(json.dumps(clone.get_config())) == cfg
    assert type(clone) is type(layer)
    clone(sd.tensor(x.astype(np.float32)))  # builds deferred layers
    clone.double()
    clone.load_state_dict(layer.state_dict())
    layer.eval()
    clone.eval()
    np.testing.assert_array_equal(clone(sd.tensor(x, dtype="float64")).numpy(),
                                  layer(sd.tensor(x, dtype="float64")).numpy())
