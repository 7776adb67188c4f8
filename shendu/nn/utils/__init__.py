"""``shendu.nn.utils``: gradient clipping, parameter/vector conversion, ``rnn`` helpers and
``shape_trace`` (every layer's output shape without real data)."""

from __future__ import annotations

import numpy as np

from ...optim.clip import clip_grad_norm_, clip_grad_value_
from ...tensor import Tensor
from . import rnn
from .shape_trace import ShapeTrace, shape_trace

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "rnn", "shape_trace", "ShapeTrace"]


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened into one vector (a copy)."""
    return Tensor(np.concatenate([p.data.reshape(-1) for p in parameters]))


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of ``vec`` into ``parameters`` (in place)."""
    data = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    i = 0
    for p in parameters:
        n = p.data.size
        p.data[...] = data[i:i + n].reshape(p.shape)
        i += n
    if i != data.size:
        raise ValueError(f"vector_to_parameters: vector has {data.size} values, parameters "
                         f"need {i}")
