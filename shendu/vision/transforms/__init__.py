"""Image transforms like torchvision's, on NumPy: per sample (the classes) and per batch
(``batch``, vectorized: one NumPy gather for a whole batch, no Python loop over samples).

Layouts: a NumPy image is channels-last, H x W or H x W x C (what the datasets return, like a PIL
image); a shendu ``Tensor`` image is channels-first, C x H x W (what ``ToTensor`` returns). A
transform returns the type and layout it was given. The ``batch`` functions take (N, C, H, W)
with ``layout="NCHW"`` or (N, H, W, C) with ``layout="NHWC"`` (a 3-D batch is (N, H, W)).

Every random transform draws from ``generator`` or, at call time, from
``shendu.random.default_generator``, so ``shendu.manual_seed(n)`` makes it reproducible. The
per-sample classes run the ``batch`` kernels on a batch of one, so for the same parameters
(the same seed and one sample) the two forms agree exactly.

Example:
    >>> import numpy as np, shendu
    >>> from shendu.vision import transforms as T
    >>> _ = shendu.manual_seed(0)
    >>> t = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), T.ToTensor(),
    ...                T.Normalize((0.5,), (0.5,))])
    >>> t(np.zeros((28, 28), np.uint8)).shape
    (1, 28, 28)
    >>> x = np.zeros((16, 32, 32, 3), np.uint8)
    >>> T.batch.random_crop(x, 32, padding=4, layout="NHWC").shape
    (16, 32, 32, 3)
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from ...tensor import Tensor
from . import batch
from ._kernels import (
    _adjust,
    _gen,
    _interp,
    _jitter_params,
    _jitter_range,
    _padding,
    _pair,
    _range,
    _resize,
    _sample_in,
    _shear_range,
)

__all__ = ["Compose", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine",
           "ColorJitter", "RandomErasing", "Lambda", "InterpolationMode", "batch"]


class InterpolationMode:
    """Interpolation names (torchvision spelling); plain strings work too."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


# -- per-sample transforms -----------------------------------------------------------------------
class _Transform:
    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                         if not k.startswith("_") and k != "generator")
        return f"{type(self).__name__}({args})"


class Compose(_Transform):
    """Apply transforms one after the other.

    Args:
        transforms: the transforms (callables), in order.

    Example:
        >>> import numpy as np
        >>> Compose([ToTensor(), Normalize((0.5,), (0.5,))])(np.zeros((2, 2), np.uint8)).shape
        (1, 2, 2)
    """

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Lambda(_Transform):
    """Apply a function.

    Args:
        lambd: the function of one image.

    Example:
        >>> Lambda(lambda x: x * 2)(3)
        6
    """

    def __init__(self, lambd: Callable):
        if not callable(lambd):
            raise TypeError(f"Lambda needs a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class ToTensor(_Transform):
    """An H x W x C (or H x W) array -> a C x H x W float32 Tensor; uint8 values are scaled to
    [0, 1], float values kept.

    Example:
        >>> import numpy as np
        >>> t = ToTensor()(np.full((4, 5, 3), 255, np.uint8))
        >>> t.shape, t.dtype, float(t.max())
        ((3, 4, 5), dtype('float32'), 1.0)
    """

    def __call__(self, pic) -> Tensor:
        if isinstance(pic, Tensor):
            raise TypeError("ToTensor expects an H x W (x C) array or PIL image, got a Tensor "
                            "(it is already converted)")
        a = np.asarray(pic)
        if a.ndim not in (2, 3):
            raise ValueError(f"ToTensor expects an H x W or H x W x C image, got shape "
                             f"{a.shape}")
        return Tensor(batch.to_tensor(a[None]).data[0])


class Normalize(_Transform):
    """(image - mean) / std per channel, on float images (apply ``ToTensor`` first).

    Args:
        mean: one value per channel (or one for all).
        std: one value per channel (or one for all).
        inplace: accepted for torchvision compatibility; a new image is returned.

    Example:
        >>> from shendu import Tensor
        >>> Normalize((0.5,), (0.25,))(Tensor([[[1.0]]])).tolist()
        [[[2.0]]]
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = tuple(float(m) for m in np.ravel(mean))
        self.std = tuple(float(s) for s in np.ravel(std))
        self.inplace = inplace

    def __call__(self, img):
        a, back = _sample_in(img)
        return back(batch.normalize(a, self.mean, self.std, layout="NHWC"))


class Resize(_Transform):
    """Resize an image.

    Args:
        size: (height, width), or an int: the smaller edge becomes ``size`` and the other keeps
            the aspect ratio.
        interpolation: "bilinear" (default) or "nearest".
        max_size: with an int ``size``, the longer edge's limit.
        antialias: accepted for torchvision compatibility; there is no antialiasing.

    Example:
        >>> import numpy as np
        >>> Resize(16)(np.zeros((32, 64, 3), np.uint8)).shape
        (16, 32, 3)
    """

    def __init__(self, size, interpolation="bilinear", max_size: int | None = None,
                 antialias=None):
        self.size, self.interpolation, self.max_size = size, _interp(interpolation), max_size

    def _target(self, h: int, w: int) -> tuple[int, int]:
        if not isinstance(self.size, numbers.Number) and len(self.size) == 2:
            return int(self.size[0]), int(self.size[1])
        short = int(self.size if isinstance(self.size, numbers.Number) else self.size[0])
        small, large = min(h, w), max(h, w)
        new_small, new_large = short, int(short * large / small)
        if self.max_size is not None and new_large > self.max_size:
            new_small, new_large = int(self.max_size * new_small / new_large), self.max_size
        return (new_small, new_large) if h <= w else (new_large, new_small)

    def __call__(self, img):
        a, back = _sample_in(img)
        return back(_resize(a, self._target(*a.shape[1:3]), self.interpolation))


class CenterCrop(_Transform):
    """The central window of ``size`` (zero-padded when the image is smaller).

    Args:
        size: int or (height, width).

    Example:
        >>> import numpy as np
        >>> CenterCrop(2)(np.arange(16).reshape(4, 4)).tolist()
        [[5, 6], [9, 10]]
    """

    def __init__(self, size):
        self.size = _pair(size, "size")

    def __call__(self, img):
        a, back = _sample_in(img)
        return back(batch.center_crop(a, self.size, layout="NHWC"))


class RandomCrop(_Transform):
    """A random window of ``size``, after optional padding.

    Args:
        size: int or (height, width).
        padding: int, (left/right, top/bottom) or (left, top, right, bottom).
        pad_if_needed: pad images smaller than ``size`` up to it.
        fill: the constant for ``padding_mode="constant"``.
        padding_mode: "constant", "edge", "reflect" or "symmetric".
        generator: a ``shendu.random.Generator`` (default: the global stream at call time).

    Example:
        >>> import numpy as np
        >>> RandomCrop(32, padding=4)(np.zeros((32, 32, 3), np.uint8)).shape
        (32, 32, 3)
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant", generator=None):
        self.size, self.padding, self.pad_if_needed = _pair(size, "size"), padding, pad_if_needed
        self.fill, self.padding_mode, self.generator = fill, padding_mode, generator
        _padding(padding)

    def __call__(self, img):
        a, back = _sample_in(img)
        return back(batch.random_crop(a, self.size, self.padding, self.pad_if_needed, self.fill,
                                      self.padding_mode, layout="NHWC",
                                      generator=self.generator))


class RandomHorizontalFlip(_Transform):
    """Mirror left-right with probability ``p``.

    Args:
        p: the probability.
        generator: a ``shendu.random.Generator``.

    Example:
        >>> import numpy as np
        >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2, 3]])).tolist()
        [[3, 2, 1]]
    """

    _mode = "horizontal"

    def __init__(self, p: float = 0.5, generator=None):
        self.p, self.generator = p, generator

    def __call__(self, img):
        a, back = _sample_in(img)
        return back(batch.random_flip(a, self._mode, self.p, layout="NHWC",
                                      generator=self.generator))


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p``.

    Args:
        p: the probability.
        generator: a ``shendu.random.Generator``.

    Example:
        >>> import numpy as np
        >>> RandomVerticalFlip(p=1.0)(np.array([[1], [2]])).tolist()
        [[2], [1]]
    """

    _mode = "vertical"


class RandomAffine(_Transform):
    """A random rotation, translation, zoom and shear (inverse-mapped sampling).

    Args:
        degrees: a number d for (-d, d), or (min, max); counter-clockwise.
        translate: (a, b): shifts in (-a * W, a * W) and (-b * H, b * H) pixels.
        scale: (min, max) zoom factors.
        shear: d, (min, max) or (xmin, xmax, ymin, ymax) in degrees.
        interpolation: "nearest" (default) or "bilinear".
        fill: the value where the output falls outside the input.
        center: (x, y) the map turns about; default the image center.
        generator: a ``shendu.random.Generator``.

    Example:
        >>> import numpy as np
        >>> RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1))(
        ...     np.zeros((28, 28), np.uint8)).shape
        (28, 28)
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation="nearest", fill=0, center=None, generator=None):
        self.degrees = _range(degrees, "degrees")
        if translate is not None and not all(0 <= t <= 1 for t in translate):
            raise ValueError(f"translate values must be in [0, 1], got {translate!r}")
        if scale is not None and (len(scale) != 2 or min(scale) <= 0):
            raise ValueError(f"scale must be a (min, max) pair of positive numbers, got "
                             f"{scale!r}")
        self.translate, self.scale, self.shear = translate, scale, _shear_range(shear)
        self.interpolation, self.fill, self.center = _interp(interpolation), fill, center
        self.generator = generator

    def __call__(self, img):
        a, back = _sample_in(img)
        return back(batch.random_affine(a, self.degrees, self.translate, self.scale,
                                        self.shear, self.interpolation, self.fill, self.center,
                                        layout="NHWC", generator=self.generator))


class RandomRotation(RandomAffine):
    """A random rotation by an angle in ``degrees`` (counter-clockwise).

    Args:
        degrees: a number d for (-d, d), or (min, max).
        interpolation: "nearest" (default) or "bilinear".
        expand: must be False (the output keeps the input's size).
        center: (x, y) the rotation turns about; default the image center.
        fill: the value where the output falls outside the input.
        generator: a ``shendu.random.Generator``.

    Example:
        >>> import numpy as np
        >>> RandomRotation((90, 90))(np.array([[1, 2], [3, 4]])).tolist()
        [[2, 4], [1, 3]]
    """

    def __init__(self, degrees, interpolation="nearest", expand: bool = False, center=None,
                 fill=0, generator=None):
        if expand:
            raise ValueError("RandomRotation: expand=True is not supported; the output keeps "
                             "the input's size (pad the image first to keep the corners)")
        super().__init__(degrees, interpolation=interpolation, fill=fill, center=center,
                         generator=generator)


class ColorJitter(_Transform):
    """Random brightness, contrast and saturation (applied in that order).

    Args:
        brightness: v for a factor in [max(0, 1 - v), 1 + v], or (min, max).
        contrast: the same, blending with the image's mean gray level.
        saturation: the same, blending with the image's gray version (3-channel images).
        hue: must be 0 (hue jitter is not implemented).
        generator: a ``shendu.random.Generator``.

    Example:
        >>> import numpy as np
        >>> ColorJitter(brightness=0.2, contrast=0.2)(np.full((4, 4, 3), 100, np.uint8)).dtype
        dtype('uint8')
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, generator=None):
        if hue:
            raise ValueError("ColorJitter: hue jitter is not implemented (brightness, contrast "
                             "and saturation are); pass hue=0")
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.generator = generator

    def __call__(self, img):
        a, back = _sample_in(img)
        factors = _jitter_params(_gen(self.generator), 1, self.brightness, self.contrast,
                                 self.saturation)
        return back(_adjust(a, *factors))


class RandomErasing(_Transform):
    """Erase a random box with probability ``p`` (Zhong et al., 2017), usually after
    ``ToTensor`` and ``Normalize``.

    Args:
        p: the probability.
        scale: (min, max) of the box's area as a fraction of the image.
        ratio: (min, max) of its aspect ratio.
        value: a number, one per channel, or "random" (normal noise).
        inplace: accepted for torchvision compatibility; a new image is returned.
        generator: a ``shendu.random.Generator``.

    Example:
        >>> from shendu import Tensor
        >>> import numpy as np
        >>> RandomErasing(p=1.0)(Tensor(np.ones((3, 32, 32), np.float32))).shape
        (3, 32, 32)
    """

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0,
                 inplace: bool = False, generator=None):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomErasing: p must be in [0, 1], got {p}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomErasing: scale and ratio must be (min, max), got {scale}, "
                             f"{ratio}")
        self.p, self.scale, self.ratio, self.value = p, tuple(scale), tuple(ratio), value
        self.inplace, self.generator = inplace, generator

    def __call__(self, img):
        a, back = _sample_in(img)
        return back(batch.random_erasing(a, self.p, self.scale, self.ratio, self.value,
                                         layout="NHWC", generator=self.generator))
