"""Recurrent layers as single primitives: the forward loops over time, the backward is the
BPTT loop, and everything that does not depend on the previous step runs as one GEMM over
all steps (the input projection before the loop, the weight gradients after it).

Shapes are time-major: x (T, N, I), states (N, H). Gates follow PyTorch's order (LSTM: i, f,
g, o; GRU: r, z, n). ``mask`` (T, N) marks real steps; on a padded step (mask False) the state
is carried through unchanged and its gradient passes straight back, so padding never touches
the states or the weights.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import array_module


def _sigmoid(xp, a):
    return 0.5 * (xp.tanh(0.5 * a) + 1.0)  # stable for any |a|


def _project(x, w_ih, b):
    """The input projection of every step at once: (T, N, I) @ W_ih^T + b -> (T, N, G)."""
    t, n, _ = x.shape
    xw = (x.reshape(t * n, -1) @ w_ih.T).reshape(t, n, w_ih.shape[0])
    if b is not None:
        xw += b
    return xw


def _grads(x, w_ih, h_prev, d, need):
    """Gradients that do not depend on the time loop, as single GEMMs over all steps:
    input, W_ih, W_hh and the bias, from the pre-activation gradients ``d`` (T, N, G)."""
    t, n, _ = x.shape
    d2 = d.reshape(t * n, -1)
    gx = (d2 @ w_ih).reshape(x.shape) if need[0] else None
    gw_ih = d2.T @ x.reshape(t * n, -1) if need[1] else None
    gw_hh = d2.T @ h_prev.reshape(t * n, -1) if need[2] else None
    return gx, gw_ih, gw_hh


def _steps(t: int, reverse: bool):
    return range(t - 1, -1, -1) if reverse else range(t)


class LSTM(Function):
    """One LSTM layer over a whole sequence; outputs (ys (T, N, H), h_T, c_T)."""

    def forward(self, x, w_ih, w_hh, b, h0, c0, mask=None, reverse=False):
        xp = array_module(x)
        t, n, _ = x.shape
        hs = w_hh.shape[1]
        xw = _project(x, w_ih, b)
        ys = xp.empty((t, n, hs), dtype=x.dtype)
        acts = xp.empty((t, n, 4 * hs), dtype=x.dtype)  # i, f, g, o after their activations
        cs = xp.empty((t, n, hs), dtype=x.dtype)  # c_t
        h_prev = xp.empty((t, n, hs), dtype=x.dtype)
        c_prev = xp.empty((t, n, hs), dtype=x.dtype)
        h, c = h0, c0
        for s in _steps(t, reverse):
            h_prev[s], c_prev[s] = h, c
            gates = xw[s] + h @ w_hh.T
            a = acts[s]
            a[:, :2 * hs] = _sigmoid(xp, gates[:, :2 * hs])
            a[:, 2 * hs:3 * hs] = xp.tanh(gates[:, 2 * hs:3 * hs])
            a[:, 3 * hs:] = _sigmoid(xp, gates[:, 3 * hs:])
            c_new = a[:, hs:2 * hs] * c + a[:, :hs] * a[:, 2 * hs:3 * hs]
            h_new = a[:, 3 * hs:] * xp.tanh(c_new)
            if mask is not None:
                m = mask[s][:, None]
                c_new = xp.where(m, c_new, c)
                h_new = xp.where(m, h_new, h)
            cs[s], ys[s] = c_new, h_new
            h, c = h_new, c_new
        self.saved = (x, w_ih, w_hh, acts, cs, h_prev, c_prev, mask, reverse)
        return ys, h, c

    def backward(self, gys, gh, gc):
        x, w_ih, w_hh, acts, cs, h_prev, c_prev, mask, reverse = self.saved
        xp = array_module(gys)
        t, n, _ = x.shape
        hs = w_hh.shape[1]
        dgates = xp.empty((t, n, 4 * hs), dtype=gys.dtype)
        dh, dc = gh, gc
        for s in _steps(t, not reverse):
            a = acts[s]
            i, f, g, o = a[:, :hs], a[:, hs:2 * hs], a[:, 2 * hs:3 * hs], a[:, 3 * hs:]
            dh = dh + gys[s]
            if mask is not None:
                m = mask[s][:, None]
                dh_new, dc_new, dh_keep, dc_keep = dh * m, dc * m, dh * ~m, dc * ~m
            else:
                dh_new, dc_new, dh_keep, dc_keep = dh, dc, 0.0, 0.0
            tc = xp.tanh(cs[s]) if mask is None else xp.tanh(
                f * c_prev[s] + i * g)  # c_new before masking
            dc_new = dc_new + dh_new * o * (1 - tc * tc)  # d/dc of o * tanh(c)
            d = dgates[s]
            d[:, :hs] = dc_new * g * i * (1 - i)
            d[:, hs:2 * hs] = dc_new * c_prev[s] * f * (1 - f)
            d[:, 2 * hs:3 * hs] = dc_new * i * (1 - g * g)
            d[:, 3 * hs:] = dh_new * tc * o * (1 - o)
            dh = d @ w_hh + dh_keep
            dc = dc_new * f + dc_keep
        need = self.needs_input_grad + (False,) * 6
        gx, gw_ih, gw_hh = _grads(x, w_ih, h_prev, dgates, need)
        gb = dgates.sum(axis=(0, 1)) if need[3] else None
        return gx, gw_ih, gw_hh, gb, dh, dc


class GRU(Function):
    """One GRU layer (PyTorch's formulation, "reset after"); outputs (ys (T, N, H), h_T)."""

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, mask=None, reverse=False):
        xp = array_module(x)
        t, n, _ = x.shape
        hs = w_hh.shape[1]
        xw = _project(x, w_ih, b_ih)
        ys = xp.empty((t, n, hs), dtype=x.dtype)
        acts = xp.empty((t, n, 3 * hs), dtype=x.dtype)  # r, z, n
        ghn = xp.empty((t, n, hs), dtype=x.dtype)  # W_hn h + b_hn (r multiplies it)
        h_prev = xp.empty((t, n, hs), dtype=x.dtype)
        h = h0
        for s in _steps(t, reverse):
            h_prev[s] = h
            gh = h @ w_hh.T
            if b_hh is not None:
                gh = gh + b_hh
            a = acts[s]
            a[:, :2 * hs] = _sigmoid(xp, xw[s, :, :2 * hs] + gh[:, :2 * hs])
            ghn[s] = gh[:, 2 * hs:]
            a[:, 2 * hs:] = xp.tanh(xw[s, :, 2 * hs:] + a[:, :hs] * ghn[s])
            z, nn = a[:, hs:2 * hs], a[:, 2 * hs:]
            h_new = (1 - z) * nn + z * h
            if mask is not None:
                h_new = xp.where(mask[s][:, None], h_new, h)
            ys[s] = h_new
            h = h_new
        self.saved = (x, w_ih, w_hh, acts, ghn, h_prev, mask, reverse, b_hh is not None)
        return ys, h

    def backward(self, gys, gh):
        x, w_ih, w_hh, acts, ghn, h_prev, mask, reverse, has_bhh = self.saved
        xp = array_module(gys)
        t, n, _ = x.shape
        hs = w_hh.shape[1]
        dgi = xp.empty((t, n, 3 * hs), dtype=gys.dtype)
        dgh = xp.empty((t, n, 3 * hs), dtype=gys.dtype)
        dh = gh
        for s in _steps(t, not reverse):
            a = acts[s]
            r, z, nn = a[:, :hs], a[:, hs:2 * hs], a[:, 2 * hs:]
            dh = dh + gys[s]
            if mask is not None:
                m = mask[s][:, None]
                dh_new, dh_keep = dh * m, dh * ~m
            else:
                dh_new, dh_keep = dh, 0.0
            dn = dh_new * (1 - z) * (1 - nn * nn)  # through tanh
            dz = dh_new * (h_prev[s] - nn) * z * (1 - z)
            dr = dn * ghn[s] * r * (1 - r)
            dgi[s, :, :hs], dgi[s, :, hs:2 * hs], dgi[s, :, 2 * hs:] = dr, dz, dn
            dgh[s, :, :hs], dgh[s, :, hs:2 * hs], dgh[s, :, 2 * hs:] = dr, dz, dn * r
            dh = dh_new * z + dgh[s] @ w_hh + dh_keep
        need = self.needs_input_grad + (False,) * 6
        gx, gw_ih, _ = _grads(x, w_ih, h_prev, dgi, need[:2] + (False,))
        gw_hh = dgh.reshape(t * n, -1).T @ h_prev.reshape(t * n, hs) if need[2] else None
        gb_ih = dgi.sum(axis=(0, 1)) if need[3] else None
        gb_hh = dgh.sum(axis=(0, 1)) if need[4] and has_bhh else None
        return gx, gw_ih, gw_hh, gb_ih, gb_hh, dh


class RNN(Function):
    """One Elman RNN layer, h' = act(x W_ih^T + h W_hh^T + b), act tanh or relu."""

    def forward(self, x, w_ih, w_hh, b, h0, mask=None, reverse=False, nonlinearity="tanh"):
        xp = array_module(x)
        t, n, _ = x.shape
        hs = w_hh.shape[1]
        xw = _project(x, w_ih, b)
        ys = xp.empty((t, n, hs), dtype=x.dtype)
        h_prev = xp.empty((t, n, hs), dtype=x.dtype)
        h = h0
        for s in _steps(t, reverse):
            h_prev[s] = h
            pre = xw[s] + h @ w_hh.T
            h_new = xp.tanh(pre) if nonlinearity == "tanh" else xp.maximum(pre, 0)
            if mask is not None:
                h_new = xp.where(mask[s][:, None], h_new, h)
            ys[s] = h_new
            h = h_new
        self.saved = (x, w_ih, w_hh, ys, h_prev, mask, reverse, nonlinearity)
        return ys, h

    def backward(self, gys, gh):
        x, w_ih, w_hh, ys, h_prev, mask, reverse, nonlin = self.saved
        xp = array_module(gys)
        t, n, _ = x.shape
        hs = w_hh.shape[1]
        dpre = xp.empty((t, n, hs), dtype=gys.dtype)
        dh = gh
        for s in _steps(t, not reverse):
            dh = dh + gys[s]
            if mask is not None:
                m = mask[s][:, None]
                dh_new, dh_keep = dh * m, dh * ~m
            else:
                dh_new, dh_keep = dh, 0.0
            y = ys[s]
            dpre[s] = dh_new * (1 - y * y) if nonlin == "tanh" else dh_new * (y > 0)
            dh = dpre[s] @ w_hh + dh_keep
        need = self.needs_input_grad + (False,) * 5
        gx, gw_ih, gw_hh = _grads(x, w_ih, h_prev, dpre, need)
        gb = dpre.sum(axis=(0, 1)) if need[3] else None
        return gx, gw_ih, gw_hh, gb, dh
