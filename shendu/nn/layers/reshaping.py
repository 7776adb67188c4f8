"""Shape layers: Reshape, Permute, ZeroPadding2D, UpSampling2D, Upsample.

(Channel dropout, Dropout2d and SpatialDropout2D, lives with the other noise layers in
``noise.py``.)"""

from __future__ import annotations

import numpy as np

from ... import functional as _f
from ...errors import ShapeError
from .. import functional_conv as FC
from .base import Layer

__all__ = ["Reshape", "Permute", "ZeroPadding2D", "UpSampling2D", "Upsample"]


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (batch dimension kept; -1 allowed once)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)

    def forward(self, x):
        per = int(np.prod(x.shape[1:]))
        known = int(np.prod([s for s in self.target_shape if s != -1]))
        if (-1 not in self.target_shape and known != per) or (known and per % known):
            shape = tuple(x.shape)
            hint = (f"a target with {per} values per sample would fit, e.g. "
                    f"Reshape(({per},)) or a -1 in place of one size")
            if x.ndim and shape[0] * per == known:
                hint = ("the batch axis is not part of target_shape (Keras's Reshape keeps it); "
                        f"use Reshape({self.target_shape[1:]})")
            raise ShapeError(self, f"cannot reshape samples of shape {shape[1:]} ({per} values) "
                             f"to {self.target_shape} ({known} values): input of shape "
                             f"(batch, {known} values) expected, got shape {shape}",
                             f"(batch, {known} values)", shape, hint)
        return _f.reshape(x, (x.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        target = self.target_shape
        known = list(input_shape[1:])
        if -1 in target and None not in known:  # resolve the -1 when the sample size is known
            rest = int(np.prod([s for s in target if s != -1]))
            target = tuple(int(np.prod(known)) // rest if s == -1 else s for s in target)
        elif -1 in target:
            target = tuple(None if s == -1 else s for s in target)
        return (input_shape[0],) + target

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permute the non-batch axes; ``dims`` counts from 1 as in Keras."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute '{self.name}': dims must be a permutation of "
                             f"1..{len(self.dims)}, got {self.dims}")

    def forward(self, x):
        if x.ndim != len(self.dims) + 1:
            want = "(batch, " + ", ".join("*" * len(self.dims)) + ")"
            raise ShapeError(self, f"with dims={self.dims} expects inputs with "
                             f"{len(self.dims) + 1} dimensions {want}, got shape "
                             f"{tuple(x.shape)}", want, tuple(x.shape),
                             "dims count from 1 and leave out the batch axis")
        return _f.permute(x, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": list(self.dims)}


class ZeroPadding2D(Layer):
    """Pad rows and columns with zeros: ``padding`` int, (h, w) or ((top, bottom), (l, r))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        elif all(isinstance(p, int) for p in padding):
            padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        self.padding = tuple(tuple(int(v) for v in p) for p in padding)
        self.data_format = data_format or "channels_last"

    def forward(self, x):
        (t, b), (l, r) = self.padding
        if FC.layout_of(self.data_format) == "NHWC":
            return _f.pad(x, (0, 0, l, r, t, b))
        return _f.pad(x, (l, r, t, b))

    def compute_output_shape(self, input_shape):
        h_ax = 1 if FC.layout_of(self.data_format) == "NHWC" else 2
        out = list(input_shape)
        for ax, (a, b) in zip((h_ax, h_ax + 1), self.padding):
            out[ax] = None if out[ax] is None else out[ax] + a + b
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": [list(p) for p in self.padding],
                "data_format": self.data_format}


class UpSampling2D(Layer):
    """Repeat rows and columns (nearest neighbour), Keras's default channels-last."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        if interpolation != "nearest":
            raise NotImplementedError("UpSampling2D supports interpolation='nearest' only")
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.data_format = data_format or "channels_last"

    def forward(self, x):
        return FC.upsample_nearest(x, self.size, self.data_format)

    def compute_output_shape(self, input_shape):
        h_ax = 1 if FC.layout_of(self.data_format) == "NHWC" else 2
        out = list(input_shape)
        for ax, f in zip((h_ax, h_ax + 1), self.size):
            out[ax] = None if out[ax] is None else out[ax] * f
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "size": list(self.size),
                "data_format": self.data_format}


class Upsample(Layer):
    """PyTorch's nn.Upsample (nearest, NCHW)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size, self.scale_factor, self.mode = size, scale_factor, mode

    def forward(self, x):
        return FC.interpolate(x, self.size, self.scale_factor, self.mode)

    def compute_output_shape(self, input_shape):
        if self.size is not None:
            size = self.size if isinstance(self.size, (tuple, list)) else (self.size,) * 2
            return tuple(input_shape[:2]) + tuple(size)
        sf = self.scale_factor
        sf = sf if isinstance(sf, (tuple, list)) else (sf, sf)
        return tuple(input_shape[:2]) + tuple(
            None if n is None else int(n * f) for n, f in zip(input_shape[2:], sf))

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "scale_factor": self.scale_factor,
                "mode": self.mode}
