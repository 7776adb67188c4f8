"""Keras preprocessing layers: rescaling and random augmentation of image batches.

The random layers change their input only in training (``model.fit``); in evaluation and
prediction they pass it through. Each call transforms the whole batch with one vectorized
NumPy pass (``shendu.vision.transforms.batch``), with every sample drawing its own parameters
from the seeded stream (or the layer's ``seed``). Images are channels-last (N, H, W, C).
"""

from __future__ import annotations

import numpy as np

from ...random import Generator
from ...tensor import Tensor
from .base import Layer

__all__ = ["Rescaling", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
           "RandomContrast"]


def _symmetric(factor, name: str, layer: str) -> float:
    """Keras factors: f means (-f, f); a pair must be symmetric here."""
    if isinstance(factor, (tuple, list)):
        lo, hi = float(factor[0]), float(factor[1])
        if lo != -hi:
            raise NotImplementedError(f"{layer}: only symmetric ranges are supported, got "
                                      f"{name}={tuple(factor)}; use ({-hi}, {hi})")
        factor = hi
    factor = float(factor)
    if factor < 0:
        raise ValueError(f"{layer}: {name} must be >= 0, got {factor}")
    return factor


class _RandomImageLayer(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = Generator(seed) if seed is not None else None

    def forward(self, x):
        if not self.training:
            return x
        if x.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__} '{self.name}' expects images (N, H, W, C) "
                             f"or (N, H, W), got shape {tuple(x.shape)}")
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        out = self.augment(data)
        return Tensor(np.asarray(out, dtype=data.dtype))

    def augment(self, images):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


class Rescaling(Layer):
    """``x * scale + offset``, e.g. ``Rescaling(1 / 255)`` (always active)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def forward(self, x):
        y = x * self.scale
        return y + self.offset if self.offset else y

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class RandomFlip(_RandomImageLayer):
    """Mirror images: mode "horizontal", "vertical" or "horizontal_and_vertical" (default)."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip '{self.name}': mode must be 'horizontal', 'vertical' "
                             f"or 'horizontal_and_vertical', got {mode!r}")
        self.mode = mode

    def augment(self, images):
        from ...vision.transforms import batch

        return batch.random_flip(images, self.mode, layout="NHWC", generator=self.generator)

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


class _AffineLayer(_RandomImageLayer):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(seed, **kwargs)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{type(self).__name__} '{self.name}': interpolation must be "
                             f"'nearest' or 'bilinear', got {interpolation!r}")
        if fill_mode not in ("constant", "nearest", "reflect", "wrap"):
            raise ValueError(f"{type(self).__name__} '{self.name}': fill_mode must be "
                             f"'constant', 'nearest', 'reflect' or 'wrap', got {fill_mode!r}")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, \
            fill_value

    def _affine(self, images, **params):
        from ...vision.transforms import batch

        return batch.random_affine(images, interpolation=self.interpolation,
                                   fill=self.fill_value, layout="NHWC",
                                   generator=self.generator, fill_mode=self.fill_mode,
                                   **params)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomRotation(_AffineLayer):
    """Rotate by a random angle in (-factor, factor) x 360 degrees."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = _symmetric(factor, "factor", "RandomRotation")

    def augment(self, images):
        return self._affine(images, degrees=self.factor * 360.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class RandomTranslation(_AffineLayer):
    """Shift by up to ``height_factor`` x H and ``width_factor`` x W pixels (whole pixels)."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = _symmetric(height_factor, "height_factor", "RandomTranslation")
        self.width_factor = _symmetric(width_factor, "width_factor", "RandomTranslation")

    def augment(self, images):
        return self._affine(images, translate=(self.width_factor, self.height_factor))

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomZoom(_AffineLayer):
    """Zoom in or out by up to ``height_factor`` (one factor for both axes here)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = _symmetric(height_factor, "height_factor", "RandomZoom")
        if width_factor is not None and _symmetric(width_factor, "width_factor",
                                                   "RandomZoom") != self.height_factor:
            raise NotImplementedError("RandomZoom: different height and width factors are not "
                                      "supported yet; give one factor")
        if self.height_factor >= 1:
            raise ValueError(f"RandomZoom: factor must be < 1, got {self.height_factor}")

    def augment(self, images):
        f = self.height_factor
        return self._affine(images, scale=(1.0 - f, 1.0 + f))

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor}


class RandomContrast(_RandomImageLayer):
    """Scale each image's deviation from its per-channel mean by a factor in [1-f, 1+f]."""

    def __init__(self, factor, seed=None, value_range=(0, 255), **kwargs):
        super().__init__(seed, **kwargs)
        self.factor = _symmetric(factor, "factor", "RandomContrast")
        self.value_range = tuple(value_range) if value_range is not None else None

    def augment(self, images):
        from ...random import default_generator

        g = self.generator or default_generator
        a = images if images.ndim == 4 else images[..., None]
        n = a.shape[0]
        k = g.uniform((n, 1, 1, 1), 1.0 - self.factor, 1.0 + self.factor, dtype=np.float32)
        mean = a.mean(axis=(1, 2), keepdims=True)
        out = (a - mean) * k + mean
        if self.value_range is not None:
            out = np.clip(out, *self.value_range)
        return out if images.ndim == 4 else out[..., 0]

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range) if self.value_range else None}
