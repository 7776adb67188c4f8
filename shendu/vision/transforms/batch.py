"""Vectorized transforms of a whole batch: one NumPy call per batch, no Python loop over samples.

Each function takes an (N, C, H, W) batch with ``layout="NCHW"`` (the default) or (N, H, W, C)
with ``layout="NHWC"`` (an (N, H, W) batch has one channel), as a NumPy array or a shendu
Tensor, and returns the same type and layout. The random forms draw one set of parameters per
sample from ``generator`` (default: ``shendu.random.default_generator`` at call time, so
``shendu.manual_seed`` makes them reproducible); the deterministic forms (``crop``, ``flip``,
``affine``, ``adjust``, ``erase``) take the parameters per sample.

Example:
    >>> import numpy as np, shendu
    >>> x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    >>> flip(x, horizontal=[True, False])[0, 0, 0].tolist()
    [3.0, 2.0, 1.0, 0.0]
    >>> random_affine(x, degrees=30, generator=shendu.random.Generator(0)).shape
    (2, 3, 4, 4)
"""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor
from ._kernels import (
    _adjust,
    _affine_inverse,
    _affine_params,
    _batch_in,
    _crop,
    _crop_params,
    _erase,
    _erasing_params,
    _flip,
    _gen,
    _interp,
    _jitter_params,
    _jitter_range,
    _pad,
    _padding,
    _pair,
    _range,
    _resize,
    _shear_range,
    _warp,
)

__all__ = ["to_tensor", "normalize", "crop", "random_crop", "center_crop", "flip", "random_flip",
           "affine_matrices", "affine", "random_affine", "random_rotation", "resize", "adjust",
           "color_jitter", "erase", "random_erasing"]

def to_tensor(x) -> Tensor:
    """(N, H, W, C) or (N, H, W) images -> an (N, C, H, W) float32 Tensor; uint8 values are
    scaled to [0, 1] (like ``ToTensor``, for a whole batch).

    Args:
        x: uint8 (or float) images, channels-last.
    """
    a = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    a = a[..., None] if a.ndim == 3 else a
    if a.ndim != 4:
        raise ValueError(f"to_tensor: expected (N, H, W, C) or (N, H, W), got {a.shape}")
    out = np.ascontiguousarray(a.transpose(0, 3, 1, 2), dtype=np.float32)
    if a.dtype == np.uint8:
        out *= np.float32(1 / 255)
    return Tensor(out)


def normalize(x, mean, std, layout: str = "NCHW"):
    """(x - mean) / std per channel, as float.

    Args:
        x: float images.
        mean, std: one value, or one per channel.
        layout: "NCHW" or "NHWC".
    """
    a, back = _batch_in(x, layout)
    if a.dtype.kind not in "f":
        raise TypeError(f"normalize: expected float images, got {a.dtype}; convert first "
                        "(ToTensor / batch.to_tensor scales uint8 to [0, 1])")
    mean, std = np.asarray(mean, a.dtype), np.asarray(std, a.dtype)
    if np.any(std == 0):
        raise ValueError(f"normalize: std has a zero, got {std.tolist()}")
    return back((a - mean) / std)


def crop(x, top, left, size, layout: str = "NCHW"):
    """Crop a window of ``size`` at (top, left), one offset per sample (or one for all).

    Args:
        x: the batch.
        top, left: ints or (N,) int arrays.
        size: int or (height, width).
        layout: "NCHW" or "NHWC".
    """
    a, back = _batch_in(x, layout)
    return back(_crop(a, top, left, _pair(size, "size")))


def random_crop(x, size, padding=None, pad_if_needed: bool = False, fill=0,
                padding_mode: str = "constant", layout: str = "NCHW", generator=None):
    """A random window of ``size`` from each (padded) sample, like ``RandomCrop``.

    Args:
        x: the batch.
        size: int or (height, width).
        padding: int, (left/right, top/bottom) or (left, top, right, bottom).
        pad_if_needed: pad images smaller than ``size`` up to it.
        fill: the constant for ``padding_mode="constant"`` (one value or one per channel).
        padding_mode: "constant", "edge", "reflect" or "symmetric".
        layout: "NCHW" or "NHWC".
        generator: a ``shendu.random.Generator``.
    """
    a, back = _batch_in(x, layout)
    th, tw = _pair(size, "size")
    top, bottom, left, right = _padding(padding)
    a = _pad(a, (top, bottom, left, right), fill, padding_mode)
    if pad_if_needed:
        dh, dw = max(th - a.shape[1], 0), max(tw - a.shape[2], 0)
        a = _pad(a, (dh, dh, dw, dw), fill, padding_mode)
    rows, cols = _crop_params(_gen(generator), a.shape[0], a.shape[1:3], (th, tw))
    return back(_crop(a, rows, cols, (th, tw)))


def center_crop(x, size, layout: str = "NCHW"):
    """The central window of ``size`` (zero-padded when the image is smaller).

    Args:
        x: the batch.
        size: int or (height, width).
        layout: "NCHW" or "NHWC".
    """
    a, back = _batch_in(x, layout)
    th, tw = _pair(size, "size")
    h, w = a.shape[1:3]
    if th > h or tw > w:
        dh, dw = max(th - h, 0), max(tw - w, 0)
        a = _pad(a, (dh // 2, dh - dh // 2, dw // 2, dw - dw // 2))
        h, w = a.shape[1:3]
    top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
    return back(_crop(a, top, left, (th, tw)))


def flip(x, horizontal=None, vertical=None, layout: str = "NCHW"):
    """Mirror the samples selected by boolean masks (N,) (``True`` for all: a bool).

    Args:
        x: the batch.
        horizontal: which samples to mirror left-right.
        vertical: which samples to mirror top-bottom.
        layout: "NCHW" or "NHWC".
    """
    a, back = _batch_in(x, layout)
    n = a.shape[0]
    for mask, axis in ((horizontal, 2), (vertical, 1)):
        if mask is not None:
            a = _flip(a, np.broadcast_to(np.asarray(mask, bool), (n,)), axis)
    return back(a)


def random_flip(x, mode: str = "horizontal", p: float = 0.5, layout: str = "NCHW",
                generator=None):
    """Mirror each sample with probability ``p`` (each direction drawn independently).

    Args:
        x: the batch.
        mode: "horizontal", "vertical" or "horizontal_and_vertical" (Keras's words).
        p: the probability of each flip.
        layout: "NCHW" or "NHWC".
        generator: a ``shendu.random.Generator``.
    """
    if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
        raise ValueError(f"random_flip: mode must be 'horizontal', 'vertical' or "
                         f"'horizontal_and_vertical', got {mode!r}")
    g = _gen(generator)
    n = (x.shape if hasattr(x, "shape") else np.shape(x))[0]
    hmask = g.bernoulli(p, (n,)) if mode != "vertical" else None
    vmask = g.bernoulli(p, (n,)) if mode != "horizontal" else None
    return flip(x, hmask, vmask, layout)


def affine_matrices(size, angle, translate=None, scale=None, shear=None,
                    center=None) -> np.ndarray:
    """The (N, 2, 3) inverse matrices that ``affine`` samples with, for per-sample
    parameters (torchvision's meaning).

    Args:
        size: (height, width) of the images.
        angle: (N,) rotations in degrees, counter-clockwise.
        translate: ``(tx, ty)`` of (N,) arrays, in pixels (positive: right, down).
        scale: (N,) zoom factors (> 1 enlarges).
        shear: ``(sx, sy)`` of (N,) shear angles in degrees.
        center: (x, y) pixel the map turns about; default the image center.
    """
    return _affine_inverse(size, angle, translate, scale, shear, center)


def affine(x, matrices, interpolation: str = "nearest", fill=0, layout: str = "NCHW"):
    """Warp each sample by its inverse matrix: output pixel (col, row) takes the input at
    ``matrices[i] @ (col, row, 1)``; points outside the input get ``fill``.

    Args:
        x: the batch.
        matrices: (N, 2, 3) inverse maps, e.g. from ``affine_matrices``.
        interpolation: "nearest" or "bilinear".
        fill: the value outside the input (one value or one per channel).
        layout: "NCHW" or "NHWC".
    """
    a, back = _batch_in(x, layout)
    return back(_warp(a, matrices, _interp(interpolation), fill))


def random_affine(x, degrees=0, translate=None, scale=None, shear=None,
                  interpolation: str = "nearest", fill=0, center=None,
                  layout: str = "NCHW", generator=None, fill_mode: str = "constant"):
    """A random rotation, translation, zoom and shear per sample, like ``RandomAffine``.

    Args:
        x: the batch.
        degrees: a number d for (-d, d), or (min, max), in degrees.
        translate: (a, b): horizontal shifts drawn in (-a * W, a * W), vertical in
            (-b * H, b * H), rounded to whole pixels.
        scale: (min, max) zoom factors.
        shear: d, (min, max) (x only) or (xmin, xmax, ymin, ymax), in degrees.
        interpolation: "nearest" or "bilinear".
        fill: the value outside the input.
        center: (x, y) the maps turn about; default the image center.
        layout: "NCHW" or "NHWC".
        generator: a ``shendu.random.Generator``.
        fill_mode: "constant" (``fill``), "nearest", "reflect" or "wrap" (Keras's modes).
    """
    a, back = _batch_in(x, layout)
    size = a.shape[1:3]
    params = _affine_params(_gen(generator), a.shape[0], size, _range(degrees, "degrees"),
                            translate, scale, _shear_range(shear))
    inverse = _affine_inverse(size, *params, center=center)
    return back(_warp(a, inverse, _interp(interpolation), fill, fill_mode))


def random_rotation(x, degrees, interpolation: str = "nearest", fill=0, center=None,
                    layout: str = "NCHW", generator=None):
    """A random rotation per sample, like ``RandomRotation`` (see ``random_affine``)."""
    return random_affine(x, degrees, interpolation=interpolation, fill=fill,
                               center=center, layout=layout, generator=generator)


def resize(x, size, interpolation: str = "bilinear", layout: str = "NCHW"):
    """Resize every sample to ``size`` = (height, width) (or an int for a square).

    Bilinear uses half-pixel centers and no antialiasing: shrinking by a large factor
    aliases (resize in steps, or blur first).

    Args:
        x: the batch.
        size: int or (height, width).
        interpolation: "nearest" or "bilinear".
        layout: "NCHW" or "NHWC".
    """
    a, back = _batch_in(x, layout)
    return back(_resize(a, _pair(size, "size"), _interp(interpolation)))


def adjust(x, brightness=None, contrast=None, saturation=None, layout: str = "NCHW"):
    """Scale brightness, contrast and saturation by per-sample factors (N,) (1: as is),
    in that order; values are clipped to [0, 255] (uint8) or [0, 1] (float).

    Args:
        x: the batch.
        brightness, contrast, saturation: factors, or ``None`` to skip.
        layout: "NCHW" or "NHWC".
    """
    a, back = _batch_in(x, layout)
    return back(_adjust(a, brightness, contrast, saturation))


def color_jitter(x, brightness=0, contrast=0, saturation=0, layout: str = "NCHW",
                 generator=None):
    """Random brightness, contrast and saturation per sample, like ``ColorJitter``.

    Args:
        x: the batch.
        brightness, contrast, saturation: v for factors in [max(0, 1 - v), 1 + v], or
            (min, max); 0 leaves that property alone.
        layout: "NCHW" or "NHWC".
        generator: a ``shendu.random.Generator``.
    """
    a, back = _batch_in(x, layout)
    ranges = [_jitter_range(v, k) for v, k in ((brightness, "brightness"),
                                               (contrast, "contrast"),
                                               (saturation, "saturation"))]
    return back(_adjust(a, *_jitter_params(_gen(generator), a.shape[0], *ranges)))


def erase(x, top, left, height, width, value=0, mask=None, layout: str = "NCHW"):
    """Set a box per sample to ``value``.

    Args:
        x: the batch.
        top, left, height, width: ints or (N,) arrays.
        value: a number or one per channel.
        mask: (N,) booleans: which samples to erase (default all).
        layout: "NCHW" or "NHWC".
    """
    a, back = _batch_in(x, layout)
    return back(_erase(a, top, left, height, width, value, mask))


def random_erasing(x, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0,
                   layout: str = "NCHW", generator=None):
    """Erase a random box in each sample with probability ``p``, like ``RandomErasing``.

    Args:
        x: the batch.
        p: the probability a sample is erased.
        scale: (min, max) of the box's area as a fraction of the image.
        ratio: (min, max) of the box's aspect ratio (drawn log-uniformly).
        value: a number, one per channel, or "random" (standard normal noise for float
            images, uniform 0-255 for uint8).
        layout: "NCHW" or "NHWC".
        generator: a ``shendu.random.Generator``.
    """
    a, back = _batch_in(x, layout)
    g = _gen(generator)
    top, left, h, w, mask = _erasing_params(g, a.shape[0], a.shape[1:3], p, scale, ratio)
    noise = None
    if isinstance(value, str):
        if value != "random":
            raise ValueError(f"random_erasing: value must be a number, a per-channel "
                             f"sequence or 'random', got {value!r}")
        noise = (g.integers(0, 256, a.shape).astype(a.dtype) if a.dtype.kind in "ui"
                 else g.normal(a.shape, dtype=a.dtype))
    return back(_erase(a, top, left, h, w, value if noise is None else 0, mask, noise))
