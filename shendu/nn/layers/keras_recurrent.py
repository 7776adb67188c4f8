"""Keras recurrent layers: SimpleRNN, LSTM, GRU and the Bidirectional wrapper.

Batch-major inputs (N, T, features); weights in Keras's layout (kernel (I, g*U),
recurrent_kernel (U, g*U)); ``return_sequences``, ``return_state``, ``go_backwards`` and
masks (from ``Embedding(mask_zero=True)`` in a Sequential, or ``mask=``) as in Keras. The work
is done by the fused primitives of ``ops.recurrent``, except in training with
``recurrent_dropout``: the dropout mask sits inside the recurrence, where the fused primitive
has no place for it, so those calls run a step loop of composite ops (as Keras leaves cuDNN
for its generic loop).
"""

from __future__ import annotations

import numpy as np

from ... import functional as _f
from ...backend import array_module
from ...errors import ShapeError
from ...ops import recurrent as R
from ...random import Generator, default_generator
from ...tensor import Tensor, as_tensor_data
from .. import init as _init
from .base import Layer

__all__ = ["KerasSimpleRNN", "KerasLSTM", "KerasGRU", "Bidirectional"]


def _rate(layer: str, name: str, value) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{layer}: {name} must be in [0, 1), got {value!r}")
    return value


def _input_error(layer, shape: tuple, features) -> ShapeError:
    """A Keras recurrent layer got an input that is not (batch, timesteps, features)."""
    want = f"(batch, timesteps, {features})"
    hint = ""
    if len(shape) == 2:
        hint = ("add the missing axis: x[..., None] for a univariate series (features=1), or "
                "x[:, None, :] for a single time step")
    elif len(shape) == 3 and features != "features" and shape[1] == features:
        hint = "the features seem to be on axis 1: transpose the last two axes"
    elif len(shape) == 3:
        hint = "check the previous layer (this layer was built by its first call or input_shape)"
    return ShapeError(layer, f"expects inputs of shape {want}, got shape {shape}", want, shape,
                      hint)


class _KerasRNN(Layer):
    """What SimpleRNN, LSTM and GRU share.

    ``recurrent_dropout`` (training only): each gate's recurrent input h_{t-1} is multiplied by
    its own dropout mask of shape (batch, units), drawn once per call and used at every step,
    as Keras 3 does; the state carried to the next step is not dropped. ``dropout`` drops input
    features with one (batch, features) mask for all steps and gates. ``seed`` gives the layer
    its own random stream for both.
    """

    gates = 1
    n_states = 1
    consumes_mask = True

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__.replace("Keras", "")
        if int(units) <= 0:
            raise ValueError(f"{name} '{self.name}': units must be positive, got {units!r}")
        if activation != "tanh" or recurrent_activation not in ("sigmoid",) and self.gates > 1:
            raise NotImplementedError(f"{name} '{self.name}': only activation='tanh' and "
                                      "recurrent_activation='sigmoid' are supported")
        if stateful:
            raise NotImplementedError(f"{name} '{self.name}': stateful is not supported yet")
        self.units, self.use_bias = int(units), use_bias
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self.dropout = _rate(f"{name} '{self.name}'", "dropout", dropout)
        self.recurrent_dropout = _rate(f"{name} '{self.name}'", "recurrent_dropout",
                                       recurrent_dropout)
        self.seed = seed
        self.generator = Generator(seed) if seed is not None else None
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards = go_backwards
        self.kernel_initializer = _init.get(kernel_initializer)
        self.recurrent_initializer = _init.get(recurrent_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        if self.input_shape_declared is not None:
            self.build((None,) + self.input_shape_declared)

    def build(self, input_shape) -> None:
        if len(input_shape) != 3:
            raise _input_error(self, tuple(input_shape), "features")
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
            raise _input_error(self, tuple(x.shape), self.input_dim)
        if self.dropout and self.training:  # one mask for every time step, as in Keras
            keep = self._generator().bernoulli(1.0 - self.dropout, (x.shape[0], 1, x.shape[2]))
            x = x * self._on_device((keep / (1.0 - self.dropout)).astype(x.dtype), x)
        xt = _f.transpose(x, 0, 1)  # time-major for the primitive
        m = None
        if mask is not None:
            m = np.asarray(as_tensor_data(mask), dtype=bool).T
        n = x.shape[0]
        zeros = Tensor(np.zeros((n, self.units), x.dtype))
        states = list(initial_state) if initial_state is not None else None
        if self.recurrent_dropout and self.training:
            ys, final = self._run_dropout(xt, m, states, zeros)
        else:
            ys, final = self._run(xt, m, states, zeros)
        out = _f.transpose(ys, 0, 1)
        if self.go_backwards:  # Keras returns the reversed sequence in processing order
            out = _f.flip(out, 1)
        y = out if self.return_sequences else final[0]
        return [y, *final] if self.return_state else y

    # -- recurrent dropout: a step loop of composite ops -----------------------------------------
    def _generator(self) -> Generator:
        return self.generator if self.generator is not None else default_generator

    @staticmethod
    def _on_device(array, like):
        xp = array_module(as_tensor_data(like))
        return array if xp is np else xp.asarray(array)

    def _recurrent_masks(self, n: int, dtype) -> np.ndarray:
        """One (n, units) keep-mask per gate, scaled by 1 / (1 - rate): (gates, n, units)."""
        p = self.recurrent_dropout
        keep = self._generator().bernoulli(1.0 - p, (self.gates, n, self.units))
        return (keep / (1.0 - p)).astype(dtype)

    def _run_dropout(self, xt, m, states, zeros):
        """The recurrence over time-major ``xt`` (T, N, I) with recurrent dropout; returns
        (ys (T, N, units) in input order, final states) like ``_run``."""
        t, n = xt.shape[0], xt.shape[1]
        u, g = self.units, self.gates
        masks = self._on_device(self._recurrent_masks(n, xt.dtype), xt)
        bias_in, bias_rec = self._split_bias()
        xw = _f.matmul(_f.reshape(xt, (t * n, -1)), self.kernel)
        if bias_in is not None:
            xw = xw + bias_in
        xw = _f.reshape(xw, (t, n, g * u))  # the input projection of every step at once
        rk = _f.permute(_f.reshape(self.recurrent_kernel, (u, g, u)), 1, 0, 2)  # (g, U, u)
        state = [s if isinstance(s, Tensor) else Tensor(as_tensor_data(s))
                 for s in states] if states else [zeros] * self.n_states
        m = None if m is None else self._on_device(m, xt)
        ys = [None] * t
        for s in (range(t - 1, -1, -1) if self.go_backwards else range(t)):
            # gate k multiplies h_{t-1} * mask_k by its block of the recurrent kernel
            rec = _f.reshape(_f.permute(_f.matmul(state[0] * masks, rk), 1, 0, 2), (n, g * u))
            if bias_rec is not None:
                rec = rec + bias_rec
            new = self._cell(xw[s], rec, state)
            if m is not None:  # a padded step carries every state through unchanged
                keep = m[s][:, None]
                new = [_f.where(keep, a, b) for a, b in zip(new, state)]
            ys[s] = new[0]
            state = new
        return _f.stack(ys, 0), state

    def _split_bias(self):
        """(input bias, recurrent bias) in Keras's layout, either None."""
        return self.bias, None

    def _cell(self, xw, rec, state):  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_mask(self, x, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.units) if self.return_sequences else (
            input_shape[0], self.units)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards}


class KerasSimpleRNN(_KerasRNN):
    """Keras's SimpleRNN: h_t = tanh(x_t W + h_{t-1} U + b)."""

    gates = 1

    def _run(self, xt, m, states, zeros):
        h0 = states[0] if states else zeros
        ys, h = R.RNN.apply(xt, _f.transpose(self.kernel), _f.transpose(self.recurrent_kernel),
                            self.bias, h0, mask=m, reverse=self.go_backwards)
        return ys, [h]

    def _cell(self, xw, rec, state):
        return [_f.tanh(xw + rec)]


class KerasLSTM(_KerasRNN):
    """Keras's LSTM (gates i, f, c, o; the forget bias starts at 1 with unit_forget_bias)."""

    gates = 4
    n_states = 2

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

    def _cell(self, xw, rec, state):
        u = self.units
        z = xw + rec
        i, f = _f.sigmoid(z[:, :u]), _f.sigmoid(z[:, u:2 * u])
        cand, o = _f.tanh(z[:, 2 * u:3 * u]), _f.sigmoid(z[:, 3 * u:])
        c = f * state[1] + i * cand
        return [o * _f.tanh(c), c]

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

    def _split_bias(self):
        return (None, None) if self.bias is None else (self.bias[0], self.bias[1])

    def _cell(self, xw, rec, state):
        u = self.units  # Keras's gate order z, r, h; the carried state is not dropped
        z = _f.sigmoid(xw[:, :u] + rec[:, :u])
        r = _f.sigmoid(xw[:, u:2 * u] + rec[:, u:2 * u])
        cand = _f.tanh(xw[:, 2 * u:] + r * rec[:, 2 * u:])
        return [z * state[0] + (1 - z) * cand]

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
        if layer.built:  # e.g. rebuilt from a file: the copy gets weights of the same shapes
            self.backward_layer.build((None, None, layer.input_dim))
            self.backward_layer.built = True
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

    def compute_output_shape(self, input_shape):
        out = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (None if out[-1] is None else 2 * out[-1],)
        return tuple(out)

    def get_config(self) -> dict:
        """The wrapped layer as ``{"class_name", "config"}`` (rebuilt from the model
        serializer's closed registry) and the merge mode."""
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": {"class_name": type(self.forward_layer).__name__,
                          "config": self.forward_layer.get_config()}}
