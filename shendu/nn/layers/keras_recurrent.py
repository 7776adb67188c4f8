"""Keras recurrent layers: SimpleRNN, LSTM, GRU and the Bidirectional wrapper.

Batch-major inputs (N, T, features); weights in Keras's layout (kernel (I, g*U),
recurrent_kernel (U, g*U)); ``return_sequences``, ``return_state``, ``go_backwards`` and
masks (from ``Embedding(mask_zero=True)`` in a Sequential, or ``mask=``) as in Keras. The work
is done by the fused primitives of ``ops.recurrent``.
"""

from __future__ import annotations

import numpy as np

from ... import functional as _f
from ...ops import recurrent as R
from ...random import default_generator
from ...tensor import Tensor, as_tensor_data
from .. import init as _init
from .base import Layer

__all__ = ["KerasSimpleRNN", "KerasLSTM", "KerasGRU", "Bidirectional"]


class _KerasRNN(Layer):
    gates = 1
    consumes_mask = True

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__.replace("Keras", "")
        if int(units) <= 0:
            raise ValueError(f"{name} '{self.name}': units must be positive, got {units!r}")
        if activation != "tanh" or recurrent_activation not in ("sigmoid",) and self.gates > 1:
            raise NotImplementedError(f"{name} '{self.name}': only activation='tanh' and "
                                      "recurrent_activation='sigmoid' are supported")
        if recurrent_dropout or stateful:
            raise NotImplementedError(f"{name} '{self.name}': recurrent_dropout and stateful "
                                      "are not supported yet")
        self.units, self.use_bias = int(units), use_bias
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self.dropout = float(dropout)
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards = go_backwards
        self.kernel_initializer = _init.get(kernel_initializer)
        self.recurrent_initializer = _init.get(recurrent_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        if self.input_shape_declared is not None:
            self.build((None,) + self.input_shape_declared)

    def build(self, input_shape) -> None:
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__.replace('Keras', '')} '{self.name}' expects "
                             f"inputs (batch, timesteps, features), got {tuple(input_shape)}")
        g = self.gates * self.units
        self.input_dim = int(input_shape[-1])
        self.kernel = self.add_weight((self.input_dim, g), self.kernel_initializer)
        self.recurrent_kernel = self.add_weight((self.units, g), self.recurrent_initializer)
        if self.use_bias:
            self.bias = self.add_weight(self._bias_shape(), self._bias_init())
        else:
            self.bias = None
        self.built = True

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def forward(self, x, mask=None, initial_state=None):
        if x.ndim != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(f"{type(self).__name__.replace('Keras', '')} '{self.name}' expects "
                             f"inputs (batch, timesteps, {self.input_dim}), got "
                             f"{tuple(x.shape)}")
        if self.dropout and self.training:  # one mask for every time step, as in Keras
            keep = default_generator.bernoulli(1.0 - self.dropout, (x.shape[0], 1, x.shape[2]))
            x = x * (keep / (1.0 - self.dropout)).astype(x.dtype)
        xt = _f.transpose(x, 0, 1)  # time-major for the primitive
        m = None
        if mask is not None:
            m = np.asarray(as_tensor_data(mask), dtype=bool).T
        n = x.shape[0]
        zeros = Tensor(np.zeros((n, self.units), x.dtype))
        states = list(initial_state) if initial_state is not None else None
        ys, final = self._run(xt, m, states, zeros)
        out = _f.transpose(ys, 0, 1)
        if self.go_backwards:  # Keras returns the reversed sequence in processing order
            out = _f.flip(out, 1)
        y = out if self.return_sequences else final[0]
        return [y, *final] if self.return_state else y

    def compute_mask(self, x, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.units) if self.return_sequences else (
            input_shape[0], self.units)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "dropout": self.dropout, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards}


class KerasSimpleRNN(_KerasRNN):
    """Keras's SimpleRNN: h_t = tanh(x_t W + h_{t-1} U + b)."""

    gates = 1

    def _run(self, xt, m, states, zeros):
        h0 = states[0] if states else zeros
        ys, h = R.RNN.apply(xt, _f.transpose(self.kernel), _f.transpose(self.recurrent_kernel),
                            self.bias, h0, mask=m, reverse=self.go_backwards)
        return ys, [h]


class KerasLSTM(_KerasRNN):
    """Keras's LSTM (gates i, f, c, o; the forget bias starts at 1 with unit_forget_bias)."""

    gates = 4

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs):
        # set before Layer.__init__, which builds the weights when input_shape is given
        object.__setattr__(self, "unit_forget_bias", unit_forget_bias)
        super().__init__(units, **kwargs)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        u, base = self.units, self.bias_initializer

        def init(shape, dtype=None):
            b = np.asarray(base(shape, dtype))
            b[u:2 * u] = 1.0
            return b

        return init

    def _run(self, xt, m, states, zeros):
        h0, c0 = (states[0], states[1]) if states else (zeros, zeros)
        ys, h, c = R.LSTM.apply(xt, _f.transpose(self.kernel),
                                _f.transpose(self.recurrent_kernel), self.bias, h0, c0, mask=m,
                                reverse=self.go_backwards)
        return ys, [h, c]

    def get_config(self) -> dict:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class KerasGRU(_KerasRNN):
    """Keras's GRU with ``reset_after=True`` (the TF2 default; the same equations as
    PyTorch's GRU). Keras orders the gates z, r, h; the primitive wants r, z, n."""

    gates = 3

    def __init__(self, units: int, reset_after: bool = True, **kwargs):
        if not reset_after:
            raise NotImplementedError("GRU(reset_after=False) is not supported yet")
        super().__init__(units, **kwargs)

    def _bias_shape(self):
        return (2, 3 * self.units)  # input bias and recurrent bias

    def _reorder(self, w):
        u = self.units  # columns z, r, h -> r, z, h
        return _f.concat([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], axis=-1)

    def _run(self, xt, m, states, zeros):
        h0 = states[0] if states else zeros
        b_ih = b_hh = None
        if self.bias is not None:
            b = self._reorder(self.bias)
            b_ih, b_hh = b[0], b[1]
        ys, h = R.GRU.apply(xt, _f.transpose(self._reorder(self.kernel)),
                            _f.transpose(self._reorder(self.recurrent_kernel)), b_ih, b_hh, h0,
                            mask=m, reverse=self.go_backwards)
        return ys, [h]


class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy backwards; merge with "concat" (default),
    "sum", "mul" or "ave"."""

    consumes_mask = True

    def __init__(self, layer, merge_mode: str = "concat", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, _KerasRNN):
            raise TypeError(f"Bidirectional wraps a Keras recurrent layer, got "
                            f"{type(layer).__name__}")
        if merge_mode not in ("concat", "sum", "mul", "ave"):
            raise ValueError(f"Bidirectional: merge_mode must be concat/sum/mul/ave, got "
                             f"{merge_mode!r}")
        if layer.return_state:
            raise NotImplementedError("Bidirectional(return_state=True) is not supported yet")
        cfg = layer.get_config()
        cfg.update(go_backwards=not layer.go_backwards, name=layer.name + "_backward")
        cfg.pop("input_shape", None)
        self.forward_layer = layer
        self.backward_layer = type(layer)(**cfg)
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences

    def forward(self, x, mask=None):
        a = self.forward_layer(x, mask=mask)
        b = self.backward_layer(x, mask=mask)
        if self.return_sequences:
            b = _f.flip(b, 1)  # align the backward outputs with the input steps
        if self.merge_mode == "concat":
            return _f.concat([a, b], axis=-1)
        if self.merge_mode == "sum":
            return a + b
        if self.merge_mode == "mul":
            return a * b
        return (a + b) * 0.5

    def compute_mask(self, x, mask=None):
        return mask if self.return_sequences else None
