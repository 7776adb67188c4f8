"""Recurrent layers in PyTorch's form: RNN, LSTM, GRU (stacked, bidirectional, batch_first,
packed sequences) and their single-step cells. Each layer and direction is one fused
primitive of ``ops.recurrent`` (the time loop and BPTT inside, projections as single GEMMs).
"""

from __future__ import annotations

import math

import numpy as np

from ... import functional as _f
from ...backend import get_default_dtype
from ...errors import ShapeError
from ...ops import recurrent as R
from ...tensor import Tensor, as_tensor_data
from .. import functional as F
from .. import init as _init
from ..module import Module
from ..parameter import Parameter

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "PackedSequence",
           "pack_padded_sequence", "pad_packed_sequence", "pad_sequence"]

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


class PackedSequence:
    """A batch of variable-length sequences: padded data plus the lengths.

    (PyTorch packs the data time-step by time-step; shendu keeps it padded and turns the
    lengths into a mask, which gives the same results.)
    """

    def __init__(self, data: Tensor, lengths: np.ndarray, batch_first: bool):
        self.data, self.lengths, self.batch_first = data, np.asarray(lengths), batch_first

    def mask(self) -> np.ndarray:
        """(T, N) True on real steps."""
        t = self.data.shape[1] if self.batch_first else self.data.shape[0]
        return np.arange(t)[:, None] < self.lengths[None, :]


def pack_padded_sequence(input, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    lengths = np.asarray(as_tensor_data(lengths)).astype(np.int64).reshape(-1)
    n = input.shape[0] if batch_first else input.shape[1]
    t = input.shape[1] if batch_first else input.shape[0]
    if len(lengths) != n:
        raise ValueError(f"pack_padded_sequence: {len(lengths)} lengths for a batch of {n}")
    if lengths.size and (lengths.min() < 1 or lengths.max() > t):
        raise ValueError(f"pack_padded_sequence: lengths must lie in [1, {t}], got "
                         f"{lengths.tolist()}")
    if enforce_sorted and np.any(np.diff(lengths) > 0):
        raise ValueError("pack_padded_sequence: lengths must be sorted in decreasing order, "
                         "or pass enforce_sorted=False")
    return PackedSequence(input, lengths, batch_first)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """(padded output with ``padding_value`` after each length, lengths)."""
    data = sequence.data
    if sequence.batch_first != batch_first:
        data = _f.transpose(data, 0, 1)
    mask = sequence.mask()
    if batch_first:
        mask = mask.T
    m = mask.reshape(mask.shape + (1,) * (data.ndim - 2))
    out = _f.where(m, data, padding_value)
    if total_length is not None and total_length > out.shape[1 if batch_first else 0]:
        extra = total_length - out.shape[1 if batch_first else 0]
        pad = [0, 0] * (out.ndim - 2) + ([0, extra, 0, 0] if batch_first else [0, 0, 0, extra])
        out = _f.pad(out, pad, value=padding_value)
    return out, Tensor(sequence.lengths.copy())


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0):
    """Stack sequences of different lengths (L_i, *) into (T, N, *) or (N, T, *)."""
    seqs = list(sequences)
    t = max(s.shape[0] for s in seqs)
    padded = [_f.pad(s, [0, 0] * (s.ndim - 1) + [0, t - s.shape[0]], value=padding_value)
              if s.shape[0] < t else s for s in seqs]
    return _f.stack(padded, 1 if not batch_first else 0)


class _RNNBase(Module):
    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, nonlinearity: str = "tanh", dtype=None):
        super().__init__()
        if hidden_size <= 0 or input_size <= 0 or num_layers <= 0:
            raise ValueError(f"{self.mode}: input_size, hidden_size and num_layers must be "
                             f"positive, got {input_size}, {hidden_size}, {num_layers}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.nonlinearity = bidirectional, nonlinearity
        dt = dtype or get_default_dtype()
        g = _GATES[self.mode] * hidden_size
        dirs = 2 if bidirectional else 1
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                setattr(self, "weight_ih" + sfx, Parameter(np.empty((g, n_in), dt)))
                setattr(self, "weight_hh" + sfx, Parameter(np.empty((g, hidden_size), dt)))
                if bias:
                    setattr(self, "bias_ih" + sfx, Parameter(np.empty((g,), dt)))
                    setattr(self, "bias_hh" + sfx, Parameter(np.empty((g,), dt)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)  # PyTorch: U(-1/sqrt(H), 1/sqrt(H))
        for p in self.parameters():
            _init.uniform_(p, -bound, bound)

    def _run(self, x, h0, c0, mask, layer: int, reverse: bool):
        sfx = f"_l{layer}" + ("_reverse" if reverse else "")
        w_ih, w_hh = getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx)
        b_ih = getattr(self, "bias_ih" + sfx) if self.bias else None
        b_hh = getattr(self, "bias_hh" + sfx) if self.bias else None
        if self.mode == "GRU":
            ys, h = R.GRU.apply(x, w_ih, w_hh, b_ih, b_hh, h0, mask=mask, reverse=reverse)
            return ys, h, None
        b = b_ih + b_hh if self.bias else None
        if self.mode == "LSTM":
            return R.LSTM.apply(x, w_ih, w_hh, b, h0, c0, mask=mask, reverse=reverse)
        ys, h = R.RNN.apply(x, w_ih, w_hh, b, h0, mask=mask, reverse=reverse,
                            nonlinearity=self.nonlinearity)
        return ys, h, None

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        mask = input.mask() if packed else None
        x = input.data if packed else input
        batch_first = input.batch_first if packed else self.batch_first
        unbatched = x.ndim == 2
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise self._input_error(x, batch_first)
        if unbatched:
            x = _f.unsqueeze(x, 1)
        if batch_first and not unbatched:
            x = _f.transpose(x, 0, 1)
        n = x.shape[1]
        dirs = 2 if self.bidirectional else 1
        h0, c0 = self._initial_state(hx, n, dirs, x.dtype, unbatched, batch_first)
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                ys, h, c = self._run(x, h0[k], None if c0 is None else c0[k], mask, layer,
                                     bool(d))
                outs.append(ys)
                hs.append(h)
                cs.append(c)
            x = outs[0] if dirs == 1 else _f.concat(outs, axis=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        out = x
        if mask is not None:  # PyTorch's packed outputs are zero after each length
            out = _f.where(mask[:, :, None], out, 0.0)
        if batch_first and not unbatched:
            out = _f.transpose(out, 0, 1)
        h_n = _f.stack(hs, 0)
        if unbatched:
            out, h_n = _f.squeeze(out, 1), _f.squeeze(h_n, 1)
        if packed:
            out = PackedSequence(out, input.lengths, batch_first)
        if self.mode == "LSTM":
            c_n = _f.stack(cs, 0)
            return out, (h_n, _f.squeeze(c_n, 1) if unbatched else c_n)
        return out, h_n

    def _input_error(self, x, batch_first: bool) -> ShapeError:
        shape, f = tuple(x.shape), self.input_size
        want = f"(N, T, {f})" if batch_first else f"(T, N, {f})"
        hint = ""
        if x.ndim == 1:
            hint = ("a single sequence of scalars? add the feature axis (x.reshape(-1, 1), "
                    "with input_size=1) and a batch axis")
        elif x.ndim == 4 and 1 in shape:
            hint = "there is an extra axis of size 1: squeeze it"
        elif x.ndim > 3:
            hint = "image-like input: flatten each time step's features first"
        elif x.ndim == 3 and shape[1] == f:
            hint = ("the features seem to be on axis 1 (channels-first (N, C, L) data, e.g. "
                    "from a Conv1d): x.transpose(1, 2) gives (N, L, C) for batch_first=True")
        elif x.ndim in (2, 3):
            hint = (f"input_size={shape[-1]} would fit this input: {self.mode}"
                    f"({shape[-1]}, {self.hidden_size}); or check the previous layer")
        body = (f"expected input of shape {want} (or unbatched (T, {f})) with "
                f"input_size={f} features, got shape {shape}")
        return ShapeError(self, body, want, shape, hint)

    def _initial_state(self, hx, n, dirs, dtype, unbatched, batch_first=False):
        k = self.num_layers * dirs
        zeros = Tensor(np.zeros((k, n, self.hidden_size), dtype))
        if hx is None:
            return zeros, (zeros if self.mode == "LSTM" else None)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError("LSTM expects hx=(h_0, c_0)")
            h0, c0 = hx
        else:
            h0, c0 = hx, None
        for name, s in (("h_0", h0), ("c_0", c0)):
            if s is None:
                continue
            want = (k, self.hidden_size) if unbatched else (k, n, self.hidden_size)
            if tuple(s.shape) != want:
                got = tuple(s.shape)
                hint = ""
                if len(got) == 3 and got[0] == k and got[2] == self.hidden_size:
                    hint = (f"the input's batch size reads as {n} but {name} has batch "
                            f"{got[1]}: " + ("with batch_first=True the input is (N, T, F)"
                                             if batch_first else
                                             "is the input (N, T, F)? then pass "
                                             "batch_first=True") +
                            f"; {name} is always (num_layers * directions, N, hidden_size)")
                elif len(got) == 3 and got[1] == k and got[0] == n:
                    hint = (f"{name} is (num_layers * directions, N, hidden_size) even with "
                            "batch_first=True: transpose it")
                raise ShapeError(self, f"{name} must have shape {want}, got {got}", want, got,
                                 hint)
        if unbatched:
            h0 = _f.unsqueeze(h0, 1)
            c0 = None if c0 is None else _f.unsqueeze(c0, 1)
        return h0, c0

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def get_config(self) -> dict:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "bias": self.bias,
                "batch_first": self.batch_first, "dropout": self.dropout,
                "bidirectional": self.bidirectional, "nonlinearity": self.nonlinearity}


class RNN(_RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    mode = "RNN"


class LSTM(_RNNBase):
    """Long short-term memory; returns ``output, (h_n, c_n)`` like ``torch.nn.LSTM``.

    Example:
        >>> lstm = LSTM(10, 20, num_layers=2, batch_first=True)
        >>> out, (h, c) = lstm(shendu.randn(3, 5, 10))
    """

    mode = "LSTM"

    def get_config(self) -> dict:
        cfg = super().get_config()
        cfg.pop("nonlinearity")
        return cfg


class GRU(LSTM):
    """Gated recurrent unit (PyTorch's formulation); returns ``output, h_n``."""

    mode = "GRU"


class _CellBase(Module):
    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.nonlinearity = nonlinearity
        dt = dtype or get_default_dtype()
        g = _GATES[self.mode] * hidden_size
        self.weight_ih = Parameter(np.empty((g, input_size), dt))
        self.weight_hh = Parameter(np.empty((g, hidden_size), dt))
        self.bias_ih = Parameter(np.empty((g,), dt)) if bias else None
        self.bias_hh = Parameter(np.empty((g,), dt)) if bias else None
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            _init.uniform_(p, -bound, bound)

    def _step(self, x, h, c):
        x = _f.unsqueeze(x, 0)  # one time step
        if self.mode == "GRU":
            _, h = R.GRU.apply(x, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, h)
            return h, None
        b = self.bias_ih + self.bias_hh if self.bias else None
        if self.mode == "LSTM":
            _, h, c = R.LSTM.apply(x, self.weight_ih, self.weight_hh, b, h, c)
            return h, c
        _, h = R.RNN.apply(x, self.weight_ih, self.weight_hh, b, h,
                           nonlinearity=self.nonlinearity)
        return h, None

    def forward(self, input, hx=None):
        unbatched = input.ndim == 1
        x = _f.unsqueeze(input, 0) if unbatched else input
        if x.ndim != 2 or x.shape[-1] != self.input_size:
            want = f"(N, {self.input_size})"
            got = tuple(input.shape)
            hint = ("a cell takes one time step (N, input_size); loop over the time axis or "
                    f"use nn.{self.mode}" if x.ndim == 3 else
                    f"input_size={got[-1]} would fit this input" if got else "")
            raise ShapeError(self, f"expected input of shape {want} or ({self.input_size},) "
                             f"with input_size={self.input_size}, got shape {got}", want, got,
                             hint)
        n = x.shape[0]
        zeros = Tensor(np.zeros((n, self.hidden_size), x.dtype))
        if self.mode == "LSTM":
            h, c = (zeros, zeros) if hx is None else hx
        else:
            h, c = (zeros if hx is None else hx), None
        if unbatched and hx is not None:
            h = _f.unsqueeze(h, 0)
            c = None if c is None else _f.unsqueeze(c, 0)
        h, c = self._step(x, h, c)
        if unbatched:
            h = _f.squeeze(h, 0)
            c = None if c is None else _f.squeeze(c, 0)
        return (h, c) if self.mode == "LSTM" else h


class RNNCell(_CellBase):
    mode = "RNN"


class LSTMCell(_CellBase):
    """One LSTM step: ``h, c = cell(x, (h, c))``."""

    mode = "LSTM"


class GRUCell(_CellBase):
    mode = "GRU"
