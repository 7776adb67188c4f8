"""Pooling over the same window views as convolution (channels-last inside, like conv.py).

Max pooling keeps the index of the first maximum of each window (PyTorch's tie rule), so a
window of equal values (common after ReLU) sends its gradient to one input, not to all.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import array_module
from .conv import (
    _from_nhwc,
    _pair,
    _to_nhwc,
    crop_hw,
    out_size,
    pad_hw,
    resolve_padding,
    windows,
)


def _geometry(x, kernel, stride, padding, dilation, ceil_mode=False):
    n, h, w, c = x.shape
    k = _pair(kernel)
    s = _pair(stride if stride is not None else kernel)
    d = _pair(dilation)
    pads = resolve_padding(padding, (h, w), k, s, d)
    if ceil_mode:  # extra padding at the end so that a partial last window counts
        extra = []
        for n_, k_, s_, (a, b), d_ in zip((h, w), k, s, pads, d):
            eff = d_ * (k_ - 1) + 1
            out = -(-(n_ + a + b - eff) // s_) + 1
            if (out - 1) * s_ >= n_ + a:  # the last window must start inside the input
                out -= 1
            extra.append(max((out - 1) * s_ + eff - (n_ + a + b), 0))
        pads = ((pads[0][0], pads[0][1] + extra[0]), (pads[1][0], pads[1][1] + extra[1]))
    ho = out_size(h, k[0], s[0], pads[0], d[0])
    wo = out_size(w, k[1], s[1], pads[1], d[1])
    if ho <= 0 or wo <= 0:
        raise ValueError(f"pooling: input of spatial size {(h, w)} is too small for window {k} "
                         f"with stride {s} and padding {pads}")
    return k, s, d, pads, (ho, wo)


def _tap(a, i, j, s, d, out_hw):
    """Strided view of ``a`` (NHWC) at kernel offset (i, j): the input each output reads."""
    hi, wj = i * d[0], j * d[1]
    return a[:, hi:hi + s[0] * (out_hw[0] - 1) + 1:s[0], wj:wj + s[1] * (out_hw[1] - 1) + 1:s[1]]


class MaxPool2d(Function):
    """Max over each window, computed as a running maximum over the kh*kw kernel offsets
    (strided views, no window copies); ``idx`` keeps the first offset that holds the max."""

    def forward(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                layout="NHWC"):
        xp = array_module(x)
        x = _to_nhwc(x, layout)
        k, s, d, pads, out_hw = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
        xpad = pad_hw(x, pads, value=-xp.inf)
        out = _tap(xpad, 0, 0, s, d, out_hw).copy()
        idx = xp.zeros(out.shape, dtype=xp.uint8 if k[0] * k[1] < 256 else xp.int32)
        better = xp.empty(out.shape, dtype=bool)
        for p in range(1, k[0] * k[1]):
            v = _tap(xpad, p // k[1], p % k[1], s, d, out_hw)
            xp.greater(v, out, out=better)  # strict: ties keep the earlier offset (PyTorch)
            xp.maximum(out, v, out=out)
            # offsets come in increasing order, so "p where better, else idx" is a maximum
            # (masked copies, np.copyto(where=), are ten times slower)
            xp.maximum(idx, better.view(xp.uint8) * idx.dtype.type(p), out=idx)
        self.idx = idx
        self.meta = (x.shape, xpad.shape, k, s, d, pads, out_hw, layout)
        return _from_nhwc(out, layout)

    def backward(self, gy):
        xp = array_module(gy)
        xshape, pshape, k, s, d, pads, out_hw, layout = self.meta
        n, h, w, c = xshape
        g = _to_nhwc(gy, layout)
        gpad = xp.zeros(pshape, dtype=gy.dtype)
        disjoint = s[0] >= d[0] * (k[0] - 1) + 1 and s[1] >= d[1] * (k[1] - 1) + 1
        mask = xp.empty(self.idx.shape, dtype=bool)
        for p in range(k[0] * k[1]):
            tap = _tap(gpad, p // k[1], p % k[1], s, d, out_hw)
            xp.equal(self.idx, p, out=mask)
            if disjoint:  # each input cell belongs to one window: write, don't add
                xp.multiply(g, mask, out=tap)
            else:
                tap += g * mask
        return _from_nhwc(crop_hw(gpad, pads, (h, w)), layout)


class AvgPool2d(Function):
    """Average pooling; with ``count_include_pad=False`` padded positions are not counted
    (Keras's "same")."""

    def forward(self, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                count_include_pad=True, layout="NHWC"):
        xp = array_module(x)
        x = _to_nhwc(x, layout)
        k, s, d, pads, (ho, wo) = _geometry(x, kernel_size, stride, padding, 1, ceil_mode)
        n, h, w, c = x.shape
        xpad = pad_hw(x, pads)
        total = windows(xpad, k, s, d, (ho, wo)).sum(axis=(3, 4))
        if count_include_pad and not ceil_mode:
            count = xp.asarray(k[0] * k[1], dtype=x.dtype)
        else:  # count the real (unpadded) positions of each window
            ones = xp.ones((1, h, w, 1), dtype=x.dtype)
            if count_include_pad:  # ceil_mode: the explicit padding counts, its extra cells don't
                base = resolve_padding(padding, (h, w), k, s, d)
                ones = pad_hw(pad_hw(ones, base, value=1.0),
                              ((0, pads[0][1] - base[0][1]), (0, pads[1][1] - base[1][1])))
            else:
                ones = pad_hw(ones, pads)
            count = windows(ones, k, s, d, (ho, wo)).sum(axis=(3, 4))
        self.count = count
        self.meta = (x.shape, xpad.shape, k, s, d, pads, (ho, wo), layout)
        return _from_nhwc((total / count).astype(x.dtype, copy=False), layout)

    def backward(self, gy):
        xp = array_module(gy)
        xshape, pshape, k, s, d, pads, (ho, wo), layout = self.meta
        n, h, w, c = xshape
        g = (_to_nhwc(gy, layout) / self.count).astype(gy.dtype, copy=False)
        gpad = xp.zeros(pshape, dtype=gy.dtype)
        for p in range(k[0] * k[1]):  # every offset of the window receives g / count
            _tap(gpad, p // k[1], p % k[1], s, d, (ho, wo))[...] += g
        return _from_nhwc(crop_hw(gpad, pads, (h, w)), layout)
