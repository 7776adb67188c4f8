"""The numerical kernels of the transforms, on (N, H, W, C) NumPy arrays with parameters given
per sample, and the drawing of random parameters (from a ``shendu.random.Generator``)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ... import random as _random
from ...tensor import Tensor


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
    if isinstance(fill, numbers.Number) and fill == 0:
        return np.zeros(channels, dtype)
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
    # All windows as a view (N, H-h+1, W-w+1, C, h, w); one fancy index picks each sample's.
    windows = np.lib.stride_tricks.sliding_window_view(x, (h, w), axis=(1, 2))
    return np.ascontiguousarray(windows[np.arange(n), top, left].transpose(0, 2, 3, 1))


def _flip(x, mask, axis: int):
    mask = np.asarray(mask, bool).reshape(-1)
    out = x.copy()
    out[mask] = np.flip(x[mask], axis=axis)
    return out


def _fold(s, n: int, mode: str):
    """Map source coordinates that fall outside [0, n) back inside, Keras's fill modes:
    "reflect" (d c b a | a b c d | d c b a), "wrap" (a b c d | a b c d) or "nearest"."""
    if mode == "constant":
        return s
    if mode == "nearest":
        return np.clip(s, 0, n - 1)
    u = s + 0.5  # pixel edges at 0..n
    if mode == "wrap":
        return np.mod(u, n) - 0.5
    if mode == "reflect":
        u = np.mod(u, 2 * n)
        return np.where(u > n, 2 * n - u, u) - 0.5
    raise ValueError(f"fill_mode must be 'constant', 'nearest', 'reflect' or 'wrap', got "
                     f"{mode!r}")


def _warp(x, inverse, interpolation: str = "nearest", fill=0, fill_mode: str = "constant"):
    """Sample x at inverse-mapped coordinates: output pixel (col, row) of sample i takes the
    input at ``inverse[i] @ (col, row, 1)`` (pixel centers at integers); outside is ``fill``
    (or, with another ``fill_mode``, the input reflected, wrapped or extended)."""
    n, h, w, c = x.shape
    m = np.asarray(inverse, np.float32).reshape(n, 2, 3)[:, :, :, None, None]
    cols = np.arange(w, dtype=np.float32)[None, None, :]
    rows = np.arange(h, dtype=np.float32)[None, :, None]
    sx = m[:, 0, 0] * cols + m[:, 0, 1] * rows + m[:, 0, 2]  # (N, H, W) source columns
    sy = m[:, 1, 0] * cols + m[:, 1, 1] * rows + m[:, 1, 2]
    sx, sy = _fold(sx, w, fill_mode), _fold(sy, h, fill_mode)
    # A border of `fill` around each input (1 pixel before, 2 after) and coordinates clipped
    # onto it: every point outside the image reads the border, so no validity masks are needed,
    # and the four neighbours are one flat index plus fixed offsets.
    wp = w + 3
    flat = _pad(x, (1, 2, 1, 2), fill).reshape(-1, c)
    sx, sy = np.clip(sx, -1, w), np.clip(sy, -1, h)
    base = (np.arange(n, dtype=np.intp) * ((h + 3) * wp))[:, None, None] + wp + 1
    if interpolation == "nearest":
        return flat[base + np.floor(sy + 0.5).astype(np.intp) * wp +
                    np.floor(sx + 0.5).astype(np.intp)]
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    i = base + y0.astype(np.intp) * wp + x0.astype(np.intp)
    top = flat[i] * (1 - fx) + flat[i + 1] * fx
    bottom = flat[i + wp] * (1 - fx) + flat[i + wp + 1] * fx
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

    def per_sample(v, default):
        return np.full(n, default) if v is None else np.broadcast_to(np.asarray(v, float), (n,))

    tx, ty = (None, None) if translate is None else translate
    shx, shy = (None, None) if shear is None else shear
    tx, ty, s = per_sample(tx, 0.0), per_sample(ty, 0.0), per_sample(scale, 1.0)
    kx, ky = np.tan(np.radians(per_sample(shx, 0.0))), np.tan(np.radians(per_sample(shy, 0.0)))
    cx, cy = ((w - 1) / 2, (h - 1) / 2) if center is None else center
    cos, sin = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    # Forward map, y pointing down: A = s * R @ Sh with R the on-screen counter-clockwise
    # rotation [[cos, sin], [-sin, cos]] and Sh = [[1, kx], [0, 1]] @ [[1, 0], [ky, 1]].
    sh00, sh01, sh10, sh11 = 1 + kx * ky, kx, ky, np.ones(n)
    a00, a01 = s * (cos * sh00 + sin * sh10), s * (cos * sh01 + sin * sh11)
    a10, a11 = s * (-sin * sh00 + cos * sh10), s * (-sin * sh01 + cos * sh11)
    det = a00 * a11 - a01 * a10
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    # in = c + A^-1 (out - c - t): the offset is c - A^-1 (c + t)
    ox, oy = cx + tx, cy + ty
    out = np.empty((n, 2, 3))
    out[:, 0] = np.stack([i00, i01, cx - i00 * ox - i01 * oy], -1)
    out[:, 1] = np.stack([i10, i11, cy - i10 * ox - i11 * oy], -1)
    return out


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
