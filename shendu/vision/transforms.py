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

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine",
           "ColorJitter", "RandomErasing", "Lambda", "InterpolationMode", "batch"]


class InterpolationMode:
    """Interpolation names (torchvision spelling); plain strings work too."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


# -- helpers: layouts, arguments -----------------------------------------------------------------
def _gen(generator) -> _random.Generator:
    return generator if generator is not None else _random.default_generator


def _interp(mode) -> str:
    name = str(getattr(mode, "value", mode)).lower()
    if name not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {mode!r}; other "
                         "modes (bicubic, lanczos, ...) are not implemented")
    return name


def _pair(size, name: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{name} must be an int or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def _range(value, name: str, center: float = 0.0, lower: float | None = None):
    """A number v -> (center - v, center + v) (clipped at ``lower``); a pair stays a pair."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{name} must be non-negative when a single number, got {value}")
        lo, hi = center - value, center + value
        if lower is not None:
            lo = max(lo, lower)
        return float(lo), float(hi)
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f"{name} must be a number or a (min, max) pair, got {value!r}")
    return float(value[0]), float(value[1])


def _batch_in(x, layout: str):
    """A batch as an (N, H, W, C) NumPy view, and a function turning a result back into the
    input's type (Tensor or array) and layout."""
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {layout!r}")
    tensor = isinstance(x, Tensor)
    a = x.numpy() if tensor else np.asarray(x)
    if a.ndim == 3:
        nhwc, back = a[..., None], lambda r: r[..., 0]
    elif a.ndim == 4:
        if layout == "NHWC":
            nhwc, back = a, lambda r: r
        else:
            nhwc = a.transpose(0, 2, 3, 1)
            back = lambda r: np.ascontiguousarray(r.transpose(0, 3, 1, 2))  # noqa: E731
    else:
        raise ValueError(f"a batch must be (N, H, W) or {layout[0]}x{layout[1:]} with 4 "
                         f"dimensions, got shape {a.shape}")
    if tensor:
        return nhwc, lambda r: Tensor(back(r))
    return nhwc, back


def _sample_in(img):
    """One image as a 1-sample (1, H, W, C) array, and a function turning a result back."""
    if isinstance(img, Tensor):
        a = img.numpy()
        if a.ndim == 2:
            return a[None, :, :, None], lambda r: Tensor(r[0, :, :, 0])
        if a.ndim == 3:
            return (a.transpose(1, 2, 0)[None],
                    lambda r: Tensor(np.ascontiguousarray(r[0].transpose(2, 0, 1))))
        raise ValueError(f"a Tensor image must be (C, H, W) or (H, W), got shape {a.shape}")
    a = np.asarray(img)  # an ndarray, or anything array-like such as a PIL image
    if a.ndim == 2:
        return a[None, :, :, None], lambda r: r[0, :, :, 0]
    if a.ndim == 3:
        return a[None], lambda r: r[0]
    raise ValueError(f"an array image must be (H, W) or (H, W, C), got shape {a.shape}")


def _cast(values: np.ndarray, dtype) -> np.ndarray:
    """Float results back to the image's dtype (rounded and clipped for integer images)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)


def _fill(fill, channels: int, dtype) -> np.ndarray:
    """A fill value as a (C,) array of the image's dtype."""
    f = np.asarray(fill, dtype=np.float64).reshape(-1)
    if f.size not in (1, channels):
        raise ValueError(f"fill must be a number or one value per channel ({channels}), got "
                         f"{fill!r}")
    return _cast(np.broadcast_to(f, (channels,)), dtype)


def _bound(dtype) -> float:
    return float(np.iinfo(dtype).max) if np.dtype(dtype).kind in "ui" else 1.0


# -- kernels on (N, H, W, C) arrays: deterministic, parameters given per sample ------------------
def _pad(x, pads, fill=0, mode: str = "constant"):
    top, bottom, left, right = (int(p) for p in pads)
    if not any((top, bottom, left, right)):
        return x
    if mode != "constant":
        if mode not in ("edge", "reflect", "symmetric"):
            raise ValueError(f"padding_mode must be 'constant', 'edge', 'reflect' or "
                             f"'symmetric', got {mode!r}")
        return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), mode=mode)
    n, h, w, c = x.shape
    out = np.empty((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
    out[...] = _fill(fill, c, x.dtype)
    out[:, top:top + h, left:left + w] = x
    return out


def _crop(x, top, left, size):
    h, w = size
    top, left = np.asarray(top, np.intp).reshape(-1), np.asarray(left, np.intp).reshape(-1)
    n = x.shape[0]
    if top.size == 1 and left.size == 1:  # one window for all: a plain slice
        t, l_ = int(top[0]), int(left[0])
        return x[:, t:t + h, l_:l_ + w].copy()
    rows = top[:, None] + np.arange(h)  # (N, h)
    cols = left[:, None] + np.arange(w)  # (N, w)
    return x[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def _flip(x, mask, axis: int):
    mask = np.asarray(mask, bool).reshape(-1)
    out = x.copy()
    out[mask] = np.flip(x[mask], axis=axis)
    return out


def _warp(x, inverse, interpolation: str = "nearest", fill=0):
    """Sample x at inverse-mapped coordinates: output pixel (col, row) of sample i takes the
    input at ``inverse[i] @ (col, row, 1)`` (pixel centers at integers); outside is ``fill``."""
    n, h, w, c = x.shape
    m = np.asarray(inverse, np.float32).reshape(n, 2, 3)[:, :, :, None, None]
    cols = np.arange(w, dtype=np.float32)[None, None, :]
    rows = np.arange(h, dtype=np.float32)[None, :, None]
    sx = m[:, 0, 0] * cols + m[:, 0, 1] * rows + m[:, 0, 2]  # (N, H, W) source columns
    sy = m[:, 1, 0] * cols + m[:, 1, 1] * rows + m[:, 1, 2]
    fillv = _fill(fill, c, x.dtype)
    nidx = np.arange(n)[:, None, None]

    def gather(yi, xi):
        valid = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        v = x[nidx, np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
        return np.where(valid[..., None], v, fillv)

    if interpolation == "nearest":
        return gather(np.floor(sy + 0.5).astype(np.intp), np.floor(sx + 0.5).astype(np.intp))
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    x0, y0 = x0.astype(np.intp), y0.astype(np.intp)
    top = gather(y0, x0) * (1 - fx) + gather(y0, x0 + 1) * fx
    bottom = gather(y0 + 1, x0) * (1 - fx) + gather(y0 + 1, x0 + 1) * fx
    return _cast(top * (1 - fy) + bottom * fy, x.dtype)


def _resize(x, size, interpolation: str = "bilinear"):
    n, h, w, c = x.shape
    oh, ow = size
    if (oh, ow) == (h, w):
        return x.copy()
    if interpolation == "nearest":  # the input pixel whose area holds the output pixel's center
        ri = np.minimum(((np.arange(oh) + 0.5) * (h / oh)).astype(np.intp), h - 1)
        ci = np.minimum(((np.arange(ow) + 0.5) * (w / ow)).astype(np.intp), w - 1)
        return x[:, ri][:, :, ci]

    def weights(out_n, in_n):  # half-pixel centers (align_corners=False), edges clamped
        src = np.clip((np.arange(out_n) + 0.5) * (in_n / out_n) - 0.5, 0, in_n - 1)
        i0 = np.floor(src).astype(np.intp)
        return i0, np.minimum(i0 + 1, in_n - 1), (src - i0).astype(np.float32)

    xf = x.astype(np.float32)
    i0, i1, t = weights(oh, h)
    t = t[None, :, None, None]
    xf = xf[:, i0] * (1 - t) + xf[:, i1] * t
    j0, j1, u = weights(ow, w)
    u = u[None, None, :, None]
    return _cast(xf[:, :, j0] * (1 - u) + xf[:, :, j1] * u, x.dtype)


def _gray(xf):
    """Luma of float (N, H, W, C) images, (N, H, W, 1); the channel mean when C != 3."""
    if xf.shape[-1] == 3:
        return (xf @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    return xf.mean(axis=-1, keepdims=True)


def _adjust(x, brightness=None, contrast=None, saturation=None):
    """Per-sample factors (N,) applied in the order brightness, contrast, saturation; 1 leaves
    the image as it is."""
    bound = _bound(x.dtype)
    xf = x.astype(np.float32)
    if brightness is not None:
        xf = np.clip(xf * np.asarray(brightness, np.float32).reshape(-1, 1, 1, 1), 0, bound)
    if contrast is not None:
        f = np.asarray(contrast, np.float32).reshape(-1, 1, 1, 1)
        mean = _gray(xf).mean(axis=(1, 2, 3), keepdims=True)
        xf = np.clip(f * xf + (1 - f) * mean, 0, bound)
    if saturation is not None and xf.shape[-1] == 3:
        f = np.asarray(saturation, np.float32).reshape(-1, 1, 1, 1)
        xf = np.clip(f * xf + (1 - f) * _gray(xf), 0, bound)
    return _cast(xf, x.dtype)


def _erase(x, top, left, height, width, value=0, mask=None, noise=None):
    n, h, w, c = x.shape
    top, left = (np.asarray(a, np.intp).reshape(-1, 1, 1) for a in (top, left))
    height, width = (np.asarray(a, np.intp).reshape(-1, 1, 1) for a in (height, width))
    rows, cols = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    inside = (rows >= top) & (rows < top + height) & (cols >= left) & (cols < left + width)
    if mask is not None:
        inside &= np.asarray(mask, bool).reshape(-1, 1, 1)
    fill = noise if noise is not None else _fill(value, c, x.dtype)
    return np.where(inside[..., None], fill, x).astype(x.dtype, copy=False)


def _affine_inverse(size, angle, translate=None, scale=None, shear=None, center=None):
    """Inverse 2x3 matrices (N, 2, 3) of affine maps about the image center (see
    ``batch.affine_matrices``)."""
    h, w = size
    angle = np.atleast_1d(np.asarray(angle, np.float64))
    n = angle.shape[0]
    tx, ty = (np.zeros(n), np.zeros(n)) if translate is None else \
        (np.broadcast_to(np.asarray(t, np.float64), (n,)) for t in translate)
    s = np.ones(n) if scale is None else np.broadcast_to(np.asarray(scale, np.float64), (n,))
    shx, shy = (np.zeros(n), np.zeros(n)) if shear is None else \
        (np.broadcast_to(np.asarray(t, np.float64), (n,)) for t in shear)
    cx, cy = ((w - 1) / 2, (h - 1) / 2) if center is None else center
    a = np.radians(angle)
    cos, sin = np.cos(a), np.sin(a)
    # Forward map with y pointing down: rotation counter-clockwise on screen, then shear, scale.
    rot = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)  # (N, 2, 2)
    kx, ky = np.tan(np.radians(shx)), np.tan(np.radians(shy))
    ones = np.ones(n)
    # y-shear then x-shear: [[1, 0], [ky, 1]] then [[1, kx], [0, 1]] on the left of it
    sh = np.stack([np.stack([1 + kx * ky, kx], -1), np.stack([ky, ones], -1)], -2)
    fwd = rot @ sh * s[:, None, None]
    inv = np.linalg.inv(fwd)
    # in = c + inv @ (out - c - t)  =>  offset = c - inv @ (c + t)
    shift = np.stack([cx + tx, cy + ty], -1)[..., None]  # (N, 2, 1)
    offset = np.array([[cx], [cy]]) - inv @ shift
    return np.concatenate([inv, offset], axis=-1)


# -- random parameters ---------------------------------------------------------------------------
def _crop_params(g, n, in_size, size):
    (h, w), (th, tw) = in_size, size
    if th > h or tw > w:
        raise ValueError(f"crop size {(th, tw)} is larger than the (padded) image {(h, w)}; "
                         "pass a smaller size, padding, or pad_if_needed=True")
    return g.integers(0, h - th + 1, (n,)), g.integers(0, w - tw + 1, (n,))


def _affine_params(g, n, size, degrees, translate, scale, shear):
    h, w = size
    angle = g.uniform((n,), degrees[0], degrees[1], dtype=np.float64)
    shift = None
    if translate is not None:
        dx, dy = translate[0] * w, translate[1] * h
        shift = (np.rint(g.uniform((n,), -dx, dx, dtype=np.float64)),
                 np.rint(g.uniform((n,), -dy, dy, dtype=np.float64)))
    factor = None if scale is None else g.uniform((n,), scale[0], scale[1], dtype=np.float64)
    skew = None
    if shear is not None:
        skew = (g.uniform((n,), shear[0], shear[1], dtype=np.float64),
                g.uniform((n,), shear[2], shear[3], dtype=np.float64) if len(shear) == 4
                else np.zeros(n))
    return angle, shift, factor, skew


def _erasing_params(g, n, size, p, scale, ratio, attempts: int = 10):
    """torchvision's search (up to 10 tries for a box of the drawn area and aspect ratio that
    fits), done for all samples at once; samples where no try fits are left unerased."""
    h, w = size
    apply = g.bernoulli(p, (n,))
    area = g.uniform((n, attempts), scale[0], scale[1], dtype=np.float64) * (h * w)
    aspect = np.exp(g.uniform((n, attempts), math.log(ratio[0]), math.log(ratio[1]),
                              dtype=np.float64))
    eh = np.rint(np.sqrt(area * aspect)).astype(np.intp)
    ew = np.rint(np.sqrt(area / aspect)).astype(np.intp)
    fits = (eh < h) & (ew < w)
    first = fits.argmax(axis=1)
    rows = np.arange(n)
    eh, ew = eh[rows, first], ew[rows, first]
    u = g.uniform((n, 2), dtype=np.float64)
    top = (u[:, 0] * (h - eh + 1)).astype(np.intp)
    left = (u[:, 1] * (w - ew + 1)).astype(np.intp)
    return top, left, eh, ew, apply & fits.any(axis=1)


def _jitter_params(g, n, brightness, contrast, saturation):
    return tuple(None if r is None else g.uniform((n,), r[0], r[1], dtype=np.float32)
                 for r in (brightness, contrast, saturation))


def _jitter_range(value, name):
    if value is None or (isinstance(value, numbers.Number) and value == 0):
        return None
    return _range(value, name, center=1.0, lower=0.0)


def _shear_range(shear):
    if shear is None:
        return None
    if isinstance(shear, numbers.Number):
        return _range(shear, "shear")
    if len(shear) in (2, 4):
        return tuple(float(s) for s in shear)
    raise ValueError(f"shear must be a number, (min, max) or (xmin, xmax, ymin, ymax), got "
                     f"{shear!r}")


def _padding(padding) -> tuple[int, int, int, int]:
    """torchvision's padding argument -> (top, bottom, left, right)."""
    if padding is None:
        return 0, 0, 0, 0
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    if len(padding) == 2:  # (left/right, top/bottom)
        return int(padding[1]), int(padding[1]), int(padding[0]), int(padding[0])
    if len(padding) == 4:  # (left, top, right, bottom)
        return int(padding[1]), int(padding[3]), int(padding[0]), int(padding[2])
    raise ValueError(f"padding must be an int, (lr, tb) or (left, top, right, bottom), got "
                     f"{padding!r}")


# -- the batch forms -----------------------------------------------------------------------------
class batch:
    """Vectorized transforms of a whole batch (a namespace, used as ``transforms.batch.f``).

    Each takes an (N, C, H, W) batch with ``layout="NCHW"`` (the default) or (N, H, W, C) with
    ``layout="NHWC"``, as a NumPy array or a shendu Tensor, and returns the same. The random
    forms draw one set of parameters per sample from ``generator`` (default
    ``shendu.random.default_generator``) and apply them all in one NumPy call; the
    deterministic forms (``crop``, ``flip``, ``affine``, ``adjust``, ``erase``) take the
    parameters per sample.

    Example:
        >>> import numpy as np, shendu
        >>> x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
        >>> batch.flip(x, horizontal=[True, False])[0, 0, 0].tolist()
        [3.0, 2.0, 1.0, 0.0]
        >>> batch.random_affine(x, degrees=30, generator=shendu.random.Generator(0)).shape
        (2, 3, 4, 4)
    """

    @staticmethod
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

    @staticmethod
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

    @staticmethod
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

    @staticmethod
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

    @staticmethod
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

    @staticmethod
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

    @staticmethod
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
        return batch.flip(x, hmask, vmask, layout)

    @staticmethod
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

    @staticmethod
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

    @staticmethod
    def random_affine(x, degrees=0, translate=None, scale=None, shear=None,
                      interpolation: str = "nearest", fill=0, center=None,
                      layout: str = "NCHW", generator=None):
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
        """
        a, back = _batch_in(x, layout)
        size = a.shape[1:3]
        params = _affine_params(_gen(generator), a.shape[0], size, _range(degrees, "degrees"),
                                translate, scale, _shear_range(shear))
        inverse = _affine_inverse(size, *params, center=center)
        return back(_warp(a, inverse, _interp(interpolation), fill))

    @staticmethod
    def random_rotation(x, degrees, interpolation: str = "nearest", fill=0, center=None,
                        layout: str = "NCHW", generator=None):
        """A random rotation per sample, like ``RandomRotation`` (see ``random_affine``)."""
        return batch.random_affine(x, degrees, interpolation=interpolation, fill=fill,
                                   center=center, layout=layout, generator=generator)

    @staticmethod
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

    @staticmethod
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

    @staticmethod
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

    @staticmethod
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

    @staticmethod
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
