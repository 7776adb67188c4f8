"""The fused primitives of ``shendu.ops.fused``: forward against NumPy formulas and backward
against float64 finite differences (``shendu.testing.gradcheck``)."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.ops import fused
from shendu.testing import gradcheck


def _t(a, grad=True):
    return sd.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


# -- Linear ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["out_in", "in_out"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("xshape", [(4,), (5, 4), (2, 3, 4)], ids=["1d", "2d", "3d"])
def test_linear_forward_and_gradcheck(layout, bias, xshape):
    rng = _rng(1)
    x = _t(rng.standard_normal(xshape))
    wa = rng.standard_normal((3, 4))
    w = _t(wa if layout == "out_in" else wa.T)
    b = _t(rng.standard_normal(3)) if bias else None
    y = fused.Linear.apply(x, w, b, w_layout=layout)
    expected = x.numpy() @ wa.T + (b.numpy() if bias else 0)
    assert y.shape == xshape[:-1] + (3,)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    inputs = [x, w] + ([b] if bias else [])
    assert gradcheck(lambda *a: fused.Linear.apply(a[0], a[1], a[2] if bias else None,
                                                   w_layout=layout), inputs)


def test_linear_frozen_weight_and_float32():
    rng = _rng(2)
    x = sd.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    w = sd.tensor(rng.standard_normal((2, 3)).astype(np.float32))  # frozen
    b = sd.tensor(np.zeros(2, np.float32), requires_grad=True)
    y = fused.Linear.apply(x, w, b)
    assert y.dtype == np.float32
    y.sum().backward()
    assert w.grad is None
    assert x.grad.dtype == np.float32 and b.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), np.ones((4, 2)) @ w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [4.0, 4.0])
    # nothing is recorded when no input needs a gradient
    assert fused.Linear.apply(sd.tensor(x.numpy()), w, None).grad_fn is None


# -- SoftmaxCrossEntropy --------------------------------------------------------------------------
def _sce_inputs(kind: str, rng):
    m, c = 6, 4
    logits = rng.standard_normal((m, c)) * 2
    weight, smoothing = None, 0.0
    if kind.startswith("probs"):
        target = rng.dirichlet(np.ones(c), m)
    else:
        target = rng.integers(0, c, m)
        if "ignore" in kind:
            target[[0, 3]] = -100
    if "weight" in kind:
        weight = rng.uniform(0.5, 2.0, c)
    if "smooth" in kind:
        smoothing = 0.2
    return logits, target, weight, smoothing


def _sce_reference(logits, target, weight, smoothing, reduction):
    """The documented formula: per row -sum_c a_c log p_c, mean divides by the sum of w[y]."""
    m, c = logits.shape
    logp = _log_softmax(logits)
    w = np.ones(c) if weight is None else weight
    if target.dtype.kind == "i":
        valid = target != -100
        safe = np.where(valid, target, 0)
        a = np.zeros((m, c))
        a[np.arange(m), safe] = (1 - smoothing) * w[safe]
        a += smoothing / c * w
        a *= valid[:, None]
        denom = (w[safe] * valid).sum()
    else:
        a = (target * (1 - smoothing) + smoothing / c) * w
        denom = m
    loss = -(a * logp).sum(1)
    return {"none": loss, "sum": loss.sum(), "mean": loss.sum() / denom}[reduction]


SCE_KINDS = ["indices", "weight", "smooth", "ignore", "weight_smooth_ignore", "probs",
             "probs_weight_smooth"]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kind", SCE_KINDS)
def test_softmax_cross_entropy_forward_and_gradcheck(kind, reduction):
    logits, target, weight, smoothing = _sce_inputs(kind, _rng(SCE_KINDS.index(kind)))

    def fn(z):
        return fused.SoftmaxCrossEntropy.apply(z, target, weight, smoothing=smoothing,
                                               reduction=reduction)

    x = _t(logits)
    out = fn(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), _sce_reference(logits, target, weight, smoothing,
                                                           reduction), rtol=1e-12)
    assert gradcheck(fn, [x])


def test_softmax_cross_entropy_float32_and_range_error():
    z = sd.tensor(_rng(3).standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    loss = fused.SoftmaxCrossEntropy.apply(z, np.array([0, 4, 2]))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    p = np.exp(_log_softmax(z.numpy().astype(np.float64)))
    np.testing.assert_allclose(z.grad.numpy(), (p - np.eye(5)[[0, 4, 2]]) / 3, atol=1e-7)
    with pytest.raises(IndexError, match="target class -1 is out of range for 5 classes"):
        fused.SoftmaxCrossEntropy.apply(z, np.array([0, -1, 2]))
    with pytest.raises(ValueError, match=r"shape \(3, 5\), got \(3, 4\)"):
        fused.SoftmaxCrossEntropy.apply(z, np.zeros((3, 4), np.float32))


# -- SigmoidBCE -----------------------------------------------------------------------------------
@pytest.mark.parametrize("pos_weight", [False, True], ids=["plain", "pos_weight"])
def test_sigmoid_bce_forward_and_gradcheck(pos_weight):
    rng = _rng(4)
    x = _t(rng.standard_normal((5, 3)) * 3)
    t = _t(rng.uniform(0, 1, (5, 3)))
    pw = rng.uniform(0.5, 3, 3) if pos_weight else None
    out = fused.SigmoidBCE.apply(x, t, pos_weight=pw)
    s = 1 / (1 + np.exp(-x.numpy()))
    tt = t.numpy()
    expected = -((1 if pw is None else pw) * tt * np.log(s) + (1 - tt) * np.log(1 - s))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda a, b: fused.SigmoidBCE.apply(a, b, pos_weight=pw), [x, t])


def test_sigmoid_bce_extreme_logits():
    x = _t([-800.0, -50.0, 50.0, 800.0])
    t = _t([1.0, 0.0, 1.0, 0.0], grad=False)
    out = fused.SigmoidBCE.apply(x, t, pos_weight=np.array(2.0))
    out.sum().backward()
    np.testing.assert_allclose(out.numpy(), [1600.0, 0.0, 0.0, 800.0], atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [-2.0, 0.0, 0.0, 1.0], atol=1e-12)


# -- BinaryCrossEntropy (on probabilities) --------------------------------------------------------
def test_binary_cross_entropy_forward_and_gradcheck():
    rng = _rng(5)
    p = _t(rng.uniform(0.05, 0.95, (4, 3)))
    t = _t(rng.uniform(0, 1, (4, 3)))
    out = fused.BinaryCrossEntropy.apply(p, t)
    pp, tt = p.numpy(), t.numpy()
    np.testing.assert_allclose(out.numpy(), -(tt * np.log(pp) + (1 - tt) * np.log(1 - pp)),
                               rtol=1e-12)
    assert gradcheck(fused.BinaryCrossEntropy.apply, [p, t], eps=1e-7)


def test_binary_cross_entropy_saturated_probabilities_have_finite_gradients():
    p = sd.tensor(np.array([0.0, 1.0, 0.0, 1.0], np.float32), requires_grad=True)
    t = sd.tensor(np.array([0.0, 1.0, 1.0, 0.0], np.float32))
    out = fused.BinaryCrossEntropy.apply(p, t)
    out.sum().backward()
    assert out.dtype == np.float32 and p.grad.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), [0.0, 0.0, 100.0, 100.0])
    assert np.all(np.isfinite(p.grad.numpy()))
    np.testing.assert_allclose(p.grad.numpy()[:2], [0.0, 0.0])
    assert p.grad.numpy()[2] < -1e11 and p.grad.numpy()[3] > 1e11
