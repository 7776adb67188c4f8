"""Regularization layers that add noise while training: channel dropout (PyTorch's
``Dropout1d/2d/3d``, Keras's ``SpatialDropout1D/2D/3D``), alpha dropout for SELU networks,
Gaussian noise and Gaussian dropout; plus Keras's ``ActivityRegularization``.

Each is the identity in eval mode (``model.eval()``, or ``training=False`` in the call, as in
Keras). Random masks come from ``shendu.random``: ``shendu.manual_seed(n)`` makes them
reproducible, and ``seed=`` gives a layer its own stream.
"""

from __future__ import annotations

from ... import regularizers as _regularizers
from ...random import Generator
from .. import functional_conv as FC
from .. import functional_noise as FN
from .base import Layer

__all__ = ["Dropout1d", "Dropout2d", "Dropout3d", "SpatialDropout1D", "SpatialDropout2D",
           "SpatialDropout3D", "AlphaDropout", "FeatureAlphaDropout", "GaussianNoise",
           "GaussianDropout", "ActivityRegularization"]


def _rate(layer: str, p, rate, default=None) -> float:
    value = rate if rate is not None else (p if p is not None else default)
    if value is None:
        raise TypeError(f"{layer} needs a dropout rate, e.g. {layer}(0.2)")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{layer}: rate must be in [0, 1], got {value!r}")
    return float(value)


class _NoiseLayer(Layer):
    """A layer that draws noise: its own generator with ``seed=``, else the default one."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = Generator(seed) if seed is not None else None

    def _active(self, training) -> bool:
        return self.training if training is None else bool(training)


# -- channel dropout ------------------------------------------------------------------------------
class _TorchChannelDropout(_NoiseLayer):
    fn = staticmethod(FN.dropout2d)

    def __init__(self, p: float = 0.5, inplace: bool = False, rate: float | None = None,
                 seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.p = _rate(type(self).__name__, p, rate)

    def forward(self, x, training=None):
        return self.fn(x, self.p, self._active(training), generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def get_config(self) -> dict:
        return {**super().get_config(), "p": self.p}


class Dropout1d(_TorchChannelDropout):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p`` and scale the
    rest by 1/(1-p) (PyTorch).

    Shape:
        (N, C, L) -> same
    """

    fn = staticmethod(FN.dropout1d)


class Dropout2d(_TorchChannelDropout):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` and scale the rest
    by 1/(1-p) (PyTorch). ``data_format="channels_last"`` drops the last axis instead.

    Shape:
        (N, C, H, W) -> same

    Example:
        >>> drop = Dropout2d(0.2)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, rate: float | None = None,
                 data_format=None, seed=None, **kwargs):
        super().__init__(p, inplace, rate, seed=seed, **kwargs)
        self.channels_last = FC.layout_of(data_format) == "NHWC"

    def forward(self, x, training=None):
        if self.channels_last:
            return FN.channel_dropout(x, self.p, self._active(training), True, self.generator)
        return super().forward(x, training)

    def get_config(self) -> dict:
        cfg = super().get_config()
        if self.channels_last:
            cfg["data_format"] = "channels_last"
        return cfg


class Dropout3d(_TorchChannelDropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p``
    and scale the rest by 1/(1-p) (PyTorch).

    Shape:
        (N, C, D, H, W) -> same
    """

    fn = staticmethod(FN.dropout3d)


class _SpatialDropout(_NoiseLayer):
    rank = 2

    def __init__(self, rate: float | None = None, data_format=None, seed=None,
                 p: float | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(type(self).__name__, p, rate)
        self.data_format = "channels_last" if data_format is None else data_format
        self.channels_last = FC.layout_of(self.data_format) == "NHWC"

    def forward(self, x, training=None):
        if x.ndim != self.rank + 2:
            spatial = "spatial, " * self.rank
            want = (f"(batch, {spatial}channels)" if self.channels_last
                    else f"(batch, channels, {spatial[:-2]})")
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of shape "
                             f"{want}, got shape {tuple(x.shape)}")
        return FN.channel_dropout(x, self.rate, self._active(training), self.channels_last,
                                  self.generator)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    """Keras's channel dropout of (N, steps, channels): whole channels are zeroed (the same
    for every step) with probability ``rate``, the rest scaled by 1/(1-rate).

    Shape:
        (N, steps, channels) -> same
    """

    rank = 1

    def __init__(self, rate: float | None = None, seed=None, p: float | None = None,
                 **kwargs):
        super().__init__(rate, "channels_last", seed, p, **kwargs)

    def get_config(self) -> dict:
        cfg = super().get_config()
        del cfg["data_format"]
        return cfg


class SpatialDropout2D(_SpatialDropout):
    """Keras's channel dropout of (N, H, W, C) inputs (``data_format="channels_first"``:
    (N, C, H, W)): whole feature maps are zeroed with probability ``rate``.

    Example:
        >>> SpatialDropout2D(0.2)
    """

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Keras's channel dropout of (N, D, H, W, C) inputs (``data_format="channels_first"``:
    (N, C, D, H, W)): whole feature volumes are zeroed with probability ``rate``."""

    rank = 3


# -- alpha dropout --------------------------------------------------------------------------------
class AlphaDropout(_NoiseLayer):
    """Dropout that keeps the zero mean and unit variance of SELU activations (PyTorch's
    ``nn.AlphaDropout(p)``, Keras's ``AlphaDropout(rate, noise_shape, seed)``).

    Dropped units take SELU's negative saturation value ``-scale * alpha`` and the output is
    corrected by the affine map ``a * x + b`` with ``a = ((1-p)(1 + p alpha'^2))^-1/2``.

    Args:
        p: probability of dropping (``rate`` is the Keras spelling).
        noise_shape: Keras: the mask's shape, with None for "the input's size"; an axis of
            size 1 shares one mask value.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, rate: float | None = None,
                 noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.p = _rate(type(self).__name__, p, rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def forward(self, x, training=None):
        return FN.alpha_dropout(x, self.p, self._active(training), generator=self.generator,
                                noise_shape=self.noise_shape)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def get_config(self) -> dict:
        cfg = {**super().get_config(), "p": self.p}
        if self.noise_shape is not None:
            cfg["noise_shape"] = list(self.noise_shape)
        return cfg


class FeatureAlphaDropout(_NoiseLayer):
    """Alpha dropout of whole channels of (N, C, ...) inputs (PyTorch)."""

    def __init__(self, p: float = 0.5, inplace: bool = False, rate: float | None = None,
                 seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.p = _rate(type(self).__name__, p, rate)

    def forward(self, x, training=None):
        return FN.feature_alpha_dropout(x, self.p, self._active(training),
                                        generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def get_config(self) -> dict:
        return {**super().get_config(), "p": self.p}


# -- Gaussian noise -------------------------------------------------------------------------------
class GaussianNoise(_NoiseLayer):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` while training (Keras).

    Example:
        >>> GaussianNoise(0.1)
    """

    def __init__(self, stddev: float, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"GaussianNoise '{self.name}': stddev must be a number >= 0, got "
                             f"{stddev!r}")
        self.stddev = float(stddev)

    def forward(self, x, training=None):
        return FN.gaussian_noise(x, self.stddev, self._active(training), self.generator)

    def extra_repr(self) -> str:
        return f"stddev={self.stddev}"

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(_NoiseLayer):
    """Multiply by Gaussian noise of mean 1 and variance ``rate / (1 - rate)`` while
    training (Keras); ``rate`` in [0, 1)."""

    def __init__(self, rate: float, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(type(self).__name__, None, rate)
        if self.rate >= 1.0:
            raise ValueError(f"GaussianDropout '{self.name}': rate must be < 1, got {rate!r}")

    def forward(self, x, training=None):
        return FN.gaussian_dropout(x, self.rate, self._active(training), self.generator)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate}


class ActivityRegularization(Layer):
    """Identity whose output is penalized by ``l1 * sum|x| + l2 * sum x^2`` (divided by the
    batch size), added to the loss by ``Model.compute_loss`` (Keras)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        if "activity_regularizer" in kwargs:
            raise TypeError("ActivityRegularization sets its own activity_regularizer from "
                            "l1 and l2")
        super().__init__(activity_regularizer=_regularizers.L1L2(l1, l2), **kwargs)
        self.l1, self.l2 = self.activity_regularizer.l1, self.activity_regularizer.l2

    def forward(self, x):
        return x

    def get_config(self) -> dict:
        cfg = super().get_config()
        cfg.pop("activity_regularizer", None)
        return {**cfg, "l1": self.l1, "l2": self.l2}
