"""Fused primitives: bigger Functions that earn their place by speed or numerical stability.

* ``Linear``: x @ W (+ b) as one Function: one output allocation with the bias added in place,
  and the backward as two GEMMs plus one column sum (faster than matmul + add, measured in
  bench/compare.py).
* ``SoftmaxCrossEntropy``: log-softmax and the negative log-likelihood together, so that the
  gradient is the stable ``softmax - target`` instead of a division by tiny probabilities.
* ``SigmoidBCE``: binary cross-entropy on logits, stable for any logit magnitude.
* ``BinaryCrossEntropy``: binary cross-entropy on probabilities with PyTorch's clamps, so that
  a probability of exactly 0 or 1 (a saturated float32 sigmoid) gives a finite gradient.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import array_module
from .conv import _act_grad, _fuse_act


class Linear(Function):
    """y = x @ W^T + b (``w_layout="out_in"``, PyTorch) or x @ W + b (``"in_out"``, Keras)."""

    def forward(self, x, w, b=None, w_layout="out_in", activation=None):
        self.x, self.w, self.layout = x, w, w_layout
        self.has_b = b is not None
        wt = w.T if w_layout == "out_in" else w
        if x.ndim == 2:
            y = x @ wt
        else:
            y = (x.reshape(-1, x.shape[-1]) @ wt).reshape(x.shape[:-1] + (wt.shape[1],))
        if b is not None:
            y += b
        self.act = _fuse_act(y, activation)
        return y

    def backward(self, gy):
        nx, nw, nb = (self.needs_input_grad + (False,))[:3]
        x, w = self.x, self.w
        g2 = _act_grad(gy.reshape(-1, gy.shape[-1]), self.act)
        x2 = x.reshape(-1, x.shape[-1])
        gx = gw = gb = None
        if nx:  # dL/dx = gy W
            gx = (g2 @ w if self.layout == "out_in" else g2 @ w.T).reshape(x.shape)
        if nw:  # dL/dW = gy^T x (out, in) or x^T gy (in, out)
            gw = g2.T @ x2 if self.layout == "out_in" else x2.T @ g2
        if nb and self.has_b:
            gb = g2.sum(axis=0)
        return gx, gw, gb


class SoftmaxCrossEntropy(Function):
    """Cross-entropy of softmax(logits) against class indices or probabilities, on (M, C).

    With class indices the per-row loss is ``-sum_c a_c log p_c`` where ``a`` puts
    ``(1 - smoothing) * w[y]`` on the target class and ``smoothing / C * w[c]`` everywhere;
    with probability targets ``a = w * t``. The gradient is ``p * sum(a) - a`` in both cases.
    """

    def forward(self, logits, target, weight=None, ignore_index=-100, smoothing=0.0,
                reduction="mean"):
        xp = array_module(logits)
        m, c = logits.shape
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))
        self.logp, self.reduction, self.shape = logp, reduction, logits.shape
        rows = xp.arange(m)
        if target.dtype.kind in "iu":
            valid = target != ignore_index
            safe = xp.where(valid, target, 0)
            if target.size and (safe.min() < 0 or safe.max() >= c):
                bad = target[valid & ((target < 0) | (target >= c))]
                raise IndexError(f"cross_entropy: target class {int(bad[0])} is out of range "
                                 f"for {c} classes; targets must lie in [0, {c})")
            w_row = weight[safe] if weight is not None else xp.ones(m, logits.dtype)
            w_row = w_row * valid
            picked = logp[rows, safe]
            loss = -(1 - smoothing) * w_row * picked
            if smoothing:
                wc = weight if weight is not None else 1.0
                loss = loss - smoothing / c * (logp * wc).sum(axis=1) * valid
            self.sparse = (safe, w_row, valid, weight, smoothing)
            denom = w_row.sum()
        else:
            t = target.astype(logits.dtype, copy=False)
            if t.shape != logits.shape:
                raise ValueError(f"cross_entropy: probability targets must have the logits' "
                                 f"shape {logits.shape}, got {t.shape}")
            if smoothing:
                t = t * (1 - smoothing) + smoothing / c
            a = t * weight if weight is not None else t
            loss = -(a * logp).sum(axis=1)
            self.sparse = None
            self.a = a
            denom = m
        self.denom = denom
        if reduction == "none":
            return loss.astype(logits.dtype, copy=False)
        total = loss.sum()
        if reduction == "sum":
            return xp.asarray(total, dtype=logits.dtype)
        return xp.asarray(total / denom, dtype=logits.dtype)

    def backward(self, gy):
        xp = array_module(gy)
        p = xp.exp(self.logp)
        m, c = self.shape
        if self.sparse is not None:
            safe, w_row, valid, weight, smoothing = self.sparse
            if weight is None and not smoothing:
                g = p * w_row[:, None]  # rows ignored get 0
                g[xp.arange(m), safe] -= w_row
            else:
                a = xp.zeros((m, c), dtype=p.dtype)
                a[xp.arange(m), safe] = (1 - smoothing) * w_row
                if smoothing:
                    wc = weight if weight is not None else 1.0
                    a += (smoothing / c) * (wc * valid[:, None])
                g = p * a.sum(axis=1, keepdims=True) - a
        else:
            a = self.a
            g = p * a.sum(axis=1, keepdims=True) - a
        if self.reduction == "none":
            return g * gy[:, None], None
        scale = gy / self.denom if self.reduction == "mean" else gy
        return g * scale.astype(g.dtype, copy=False), None


class SigmoidBCE(Function):
    """Binary cross-entropy with logits: max(x,0) - x*t + log(1 + exp(-|x|)), elementwise.

    ``pos_weight`` multiplies the positive term as in PyTorch.
    """

    def forward(self, x, t, pos_weight=None):
        xp = array_module(x)
        self.x, self.t, self.pw = x, t, pos_weight
        softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # log(1 + e^-x)
        if pos_weight is None:
            return ((1 - t) * x + softplus_neg).astype(x.dtype, copy=False)
        lw = 1 + (pos_weight - 1) * t
        return ((1 - t) * x + lw * softplus_neg).astype(x.dtype, copy=False)

    def backward(self, gy):
        xp = array_module(gy)
        x, t = self.x, self.t
        e = xp.exp(-xp.abs(x))
        sig = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        if self.pw is None:
            g = sig - t
        else:  # d/dx [(1-t) x + lw log(1+e^-x)] = (1-t) - lw (1 - sig)
            lw = 1 + (self.pw - 1) * t
            g = (1 - t) - lw * (1 - sig)
        gt = None
        if self.needs_input_grad[1]:  # d/dt = -x (+ pos-weight term)
            gt = -x * gy if self.pw is None else (-x + (self.pw - 1) * xp.log1p(
                xp.exp(-xp.abs(x))) + (self.pw - 1) * xp.maximum(-x, 0)) * gy
        return (g * gy).astype(x.dtype, copy=False), gt



class BinaryCrossEntropy(Function):
    """Binary cross-entropy on probabilities: -(t max(log p, -100) + (1-t) max(log(1-p), -100)).

    As a composite, log's backward divides by p, and clamping the log does not help: at p = 0 or
    1 the gradient is 0 / 0 = NaN even where the loss is 0. Here it is PyTorch's
    (p - t) / max(p (1 - p), 1e-12), finite everywhere.
    """

    def forward(self, p, t):
        xp = array_module(p)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped at -100 right away
            logp = xp.maximum(xp.log(p), -100)
            log1mp = xp.maximum(xp.log(1 - p), -100)
        self.p, self.t, self.logp, self.log1mp = p, t, logp, log1mp
        return (-(t * logp + (1 - t) * log1mp)).astype(p.dtype, copy=False)

    def backward(self, gy):
        xp = array_module(gy)
        p, t = self.p, self.t
        gp = gy * (p - t) / xp.maximum(p * (1 - p), 1e-12)  # d/dp = (p - t) / (p (1 - p))
        gt = None
        if self.needs_input_grad[1]:  # d/dt = log(1-p) - log(p), with the same clamps
            gt = gy * (self.log1mp - self.logp)
        return gp.astype(p.dtype, copy=False), gt
