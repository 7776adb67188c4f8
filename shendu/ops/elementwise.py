"""Elementwise primitives: arithmetic with broadcasting, unary math and activations."""

from __future__ import annotations

import math

from ..autograd import Function, _number, unbroadcast
from ..backend import array_module


def _shape(a):
    return a.shape if hasattr(a, "shape") else ()


def _broadcast_error(op: str, a, b, err: Exception) -> ValueError:
    sa, sb = tuple(_shape(a)), tuple(_shape(b))
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    bad = [i - n for i in range(n) if pa[i] != pb[i] and 1 not in (pa[i], pb[i])]
    detail = (f"dimension {bad[0]} is {pa[bad[0]]} in the first and {pb[bad[0]]} in the second"
              if bad else str(err))
    return ValueError(f"{op}: shapes {sa} and {sb} cannot be broadcast together: {detail}; "
                      "sizes must match or one of them must be 1 (compared from the last axis)")


def _data(p):
    """The array (or Python number) behind an input recorded in ``Function.parents``."""
    return p.data if hasattr(p, "requires_grad") else _number(p)


class Add(Function):
    # inputs are read back from self.parents in backward: nothing is stored on the hot path
    def forward(self, a, b):
        try:
            return a + b
        except ValueError as e:
            raise _broadcast_error("add", a, b, e) from None

    def backward(self, gy):
        na, nb = self.needs_input_grad
        pa, pb = self.parents
        return (unbroadcast(gy, pa.data.shape) if na else None,
                unbroadcast(gy, pb.data.shape) if nb else None)


class Sub(Function):
    def forward(self, a, b):
        try:
            return a - b
        except ValueError as e:
            raise _broadcast_error("sub", a, b, e) from None

    def backward(self, gy):
        na, nb = self.needs_input_grad
        pa, pb = self.parents
        return (unbroadcast(gy, pa.data.shape) if na else None,
                unbroadcast(-gy, pb.data.shape) if nb else None)


class Mul(Function):
    def forward(self, a, b):
        try:
            return a * b
        except ValueError as e:
            raise _broadcast_error("mul", a, b, e) from None

    def backward(self, gy):
        na, nb = self.needs_input_grad
        a, b = _data(self.parents[0]), _data(self.parents[1])
        return (unbroadcast(gy * b, _shape(a)) if na else None,
                unbroadcast(gy * a, _shape(b)) if nb else None)


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            self.out = a / b
        except ValueError as e:
            raise _broadcast_error("div", a, b, e) from None
        return self.out

    def backward(self, gy):
        na, nb = self.needs_input_grad
        ga = gy / self.b
        # d/db a/b = -a/b^2 = -(a/b)/b
        return (unbroadcast(ga, _shape(self.a)) if na else None,
                unbroadcast(-ga * self.out, _shape(self.b)) if nb else None)


class Pow(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            self.out = a ** b
        except ValueError as e:
            raise _broadcast_error("pow", a, b, e) from None
        return self.out

    def backward(self, gy):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        ga = gb = None
        if na:  # d/da a^b = b * a^(b-1)
            ga = unbroadcast(gy * b * a ** (b - 1), _shape(a))
        if nb:  # d/db a^b = a^b * log(a)
            xp = array_module(self.out)
            # a Python-number base would give a float64 log(a) and upcast a float32 gradient
            log_a = xp.log(xp.asarray(a, dtype=self.out.dtype))
            gb = unbroadcast(gy * self.out * log_a, _shape(b))
        return ga, gb


class _Binary(Function):
    """Shared forward for maximum/minimum: runs ``_op`` and turns shape errors readable."""

    name = "binary"

    def forward(self, a, b):
        self.sa, self.sb = _shape(a), _shape(b)
        try:
            return self._op(a, b)
        except ValueError as e:
            raise _broadcast_error(self.name, a, b, e) from None


class Maximum(_Binary):
    name = "maximum"

    def _op(self, a, b):
        xp = array_module(a) if hasattr(a, "shape") else array_module(b)
        self.pick_a = a >= b  # ties send the gradient half to each, as PyTorch does
        self.tie = a == b
        return xp.maximum(a, b)

    def backward(self, gy):
        return _minmax_backward(self, gy)


class Minimum(_Binary):
    name = "minimum"

    def _op(self, a, b):
        xp = array_module(a) if hasattr(a, "shape") else array_module(b)
        self.pick_a = a <= b
        self.tie = a == b
        return xp.minimum(a, b)

    def backward(self, gy):
        return _minmax_backward(self, gy)


def _minmax_backward(fn, gy):
    na, nb = fn.needs_input_grad
    w = fn.pick_a.astype(gy.dtype) - fn.tie.astype(gy.dtype) * 0.5  # (bool * 0.5 is float64)
    return (unbroadcast(gy * w, fn.sa) if na else None,
            unbroadcast(gy * (1 - w), fn.sb) if nb else None)


class Where(Function):
    def forward(self, cond, a, b):
        xp = array_module(cond)
        self.cond, self.sa, self.sb = cond, _shape(a), _shape(b)
        try:
            return xp.where(cond, a, b)
        except ValueError as e:
            raise _broadcast_error("where", a, b, e) from None

    def backward(self, gy):
        _, na, nb = self.needs_input_grad
        zero = gy.dtype.type(0)
        xp = array_module(gy)
        return (None,
                unbroadcast(xp.where(self.cond, gy, zero), self.sa) if na else None,
                unbroadcast(xp.where(self.cond, zero, gy), self.sb) if nb else None)


# -- unary math --------------------------------------------------------------------------------
class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Exp(Function):
    def forward(self, x):
        self.out = array_module(x).exp(x)
        return self.out

    def backward(self, gy):
        return gy * self.out  # d/dx exp(x) = exp(x)


class Log(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).log(x)

    def backward(self, gy):
        return gy / self.x


class Log1p(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).log1p(x)

    def backward(self, gy):
        return gy / (1 + self.x)


class Sqrt(Function):
    def forward(self, x):
        self.out = array_module(x).sqrt(x)
        return self.out

    def backward(self, gy):
        return gy / (2 * self.out)  # d/dx sqrt(x) = 1 / (2 sqrt(x))


class Abs(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).abs(x)

    def backward(self, gy):
        return gy * array_module(gy).sign(self.x)


class Sin(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).sin(x)

    def backward(self, gy):
        return gy * array_module(gy).cos(self.x)


class Cos(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).cos(x)

    def backward(self, gy):
        return -gy * array_module(gy).sin(self.x)


class Clip(Function):
    def forward(self, x, low=None, high=None):
        xp = array_module(x)
        self.mask = xp.ones(x.shape, dtype=bool)
        if low is not None:
            self.mask &= x >= low
        if high is not None:
            self.mask &= x <= high
        return xp.clip(x, low, high)

    def backward(self, gy):
        return gy * self.mask  # 1 inside [low, high], 0 where clipped


# -- activations -------------------------------------------------------------------------------
class ReLU(Function):
    def forward(self, x):
        self.out = array_module(x).maximum(x, 0)
        return self.out

    def backward(self, gy):
        return gy * (self.out > 0)


class LeakyReLU(Function):
    def forward(self, x, slope=0.01):
        self.mask = x > 0
        self.slope = slope
        return array_module(x).where(self.mask, x, x * slope)

    def backward(self, gy):
        return array_module(gy).where(self.mask, gy, gy * self.slope)


class ELU(Function):
    def forward(self, x, alpha=1.0):
        xp = array_module(x)
        self.mask = x > 0
        self.alpha = alpha
        self.em1 = xp.expm1(xp.minimum(x, 0))
        return xp.where(self.mask, x, alpha * self.em1)

    def backward(self, gy):
        # d/dx alpha*(e^x - 1) = alpha*e^x for x <= 0
        return array_module(gy).where(self.mask, gy, gy * (self.alpha * (self.em1 + 1)))


class Sigmoid(Function):
    def forward(self, x):
        xp = array_module(x)
        # stable for large |x|: exp of a non-positive number only
        e = xp.exp(-xp.abs(x))
        self.out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return self.out

    def backward(self, gy):
        return gy * self.out * (1 - self.out)  # s' = s (1 - s)


class Tanh(Function):
    def forward(self, x):
        self.out = array_module(x).tanh(x)
        return self.out

    def backward(self, gy):
        return gy * (1 - self.out * self.out)


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` like PyTorch."""

    def forward(self, x, beta=1.0, threshold=20.0):
        xp = array_module(x)
        self.x, self.beta = x, beta
        z = x * beta
        self.linear = z > threshold
        # log1p(exp(z)) computed as max(z,0) + log1p(exp(-|z|)) never overflows
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        return xp.where(self.linear, x, soft).astype(x.dtype, copy=False)

    def backward(self, gy):
        xp = array_module(gy)
        z = self.x * self.beta
        e = xp.exp(-xp.abs(z))
        sig = xp.where(z >= 0, 1 / (1 + e), e / (1 + e))  # d/dx softplus = sigmoid(beta x)
        return xp.where(self.linear, gy, gy * sig).astype(gy.dtype, copy=False)


# erf by Chebyshev fits (|x| <= 2: erf(x)/x in x^2; 2 < |x| < 6: erfcx in 1/x), max error ~1e-14
_ERF_SMALL = (
    0.7415552820424018, -0.3010710733865956, 0.06899483068983116, -0.013916271264721723,
    0.0024207995224328114, -0.00036586396858508276, 4.862098443240409e-05,
    -5.7492565585354285e-06, 6.113243569313682e-07, -5.899101541455523e-08,
    5.207009332266611e-09, -4.232984077365855e-10, 3.1881221319987057e-11,
    -2.2361166673704577e-12, 1.4571003523968292e-13, -9.153896069352449e-15,
)
_ERFCX_LARGE = (
    0.17652811793633807, 0.08137379533782704, -0.0024575013733778694, -6.324093536671603e-05,
    1.5519910419457747e-05, -1.0108306758183237e-06, -1.3197327738995601e-08,
    1.063536588345257e-08, -1.2284967048183019e-09, 4.970319222712124e-11,
    7.773885922074223e-12, -1.8656268895514934e-12, 1.9499832200791573e-13,
    -5.7278159782991946e-15, -2.2772518564748375e-15,
)


def _clenshaw(s, coeffs):
    b1 = b2 = 0.0
    s2 = 2 * s
    for c in coeffs[:0:-1]:
        b1, b2 = s2 * b1 - b2 + c, b1
    return s * b1 - b2 + coeffs[0]


def erf(x):
    """The error function on an array, accurate to ~1e-14 (float64) with NumPy alone."""
    xp = array_module(x)
    a = xp.abs(x)
    small = xp.minimum(a, 2.0)
    r_small = _clenshaw(small * small / 2 - 1, _ERF_SMALL) * small
    big = xp.clip(a, 2.0, 6.0)
    u = 1 / big
    r_big = 1 - _clenshaw((2 * u - 2 / 3) * 3, _ERFCX_LARGE) * xp.exp(-big * big)
    r = xp.where(a <= 2.0, r_small, r_big)
    return (xp.sign(x) * r).astype(x.dtype, copy=False)


class GELU(Function):
    """x * Phi(x); ``approximate="tanh"`` uses the tanh formula, as in PyTorch."""

    def forward(self, x, approximate="none"):
        xp = array_module(x)
        self.x, self.approx = x, approximate
        if approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            self.t = xp.tanh(k * (x + 0.044715 * x ** 3))
            return (0.5 * x * (1 + self.t)).astype(x.dtype, copy=False)
        self.cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        return x * self.cdf

    def backward(self, gy):
        xp = array_module(gy)
        x = self.x
        if self.approx == "tanh":
            k = math.sqrt(2 / math.pi)
            dt = (1 - self.t ** 2) * k * (1 + 3 * 0.044715 * x ** 2)
            return (gy * (0.5 * (1 + self.t) + 0.5 * x * dt)).astype(gy.dtype, copy=False)
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return gy * (self.cdf + x * pdf)  # d/dx x Phi(x) = Phi(x) + x phi(x)
