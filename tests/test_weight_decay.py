"""Weight decay: the Keras optimizers' ``weight_decay`` is Keras 3's decoupled decay
(``w -= lr * wd * w`` before each update), checked against PyTorch optimizers that decay the
weights the same way by hand; PyTorch-style ``weight_decay`` is the L2 term on the gradient."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import regularizers as R
from shendu.keras import layers as KL
from shendu.keras import optimizers as K
from shendu.keras.models import Sequential

torch = pytest.importorskip("torch")

# (Keras class, its options, the PyTorch class and options of the same update without decay)
KERAS_VS_TORCH = [
    ("SGD", dict(learning_rate=0.05, momentum=0.9), "SGD", dict(lr=0.05, momentum=0.9)),
    ("Adam", dict(learning_rate=0.05), "Adam", dict(lr=0.05, eps=1e-7)),
    ("RMSprop", dict(learning_rate=0.01), "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-7)),
    ("Adagrad", dict(learning_rate=0.1), "Adagrad",
     dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-7)),
    ("Adadelta", dict(learning_rate=0.5), "Adadelta", dict(lr=0.5, rho=0.95, eps=1e-7)),
]


def _run(opt, p, grads):
    for g in grads:
        p.grad = sd.tensor(g)
        opt.step()
    return p.numpy()


@pytest.mark.parametrize("name, kw, tname, tkw", KERAS_VS_TORCH,
                         ids=[c[0] for c in KERAS_VS_TORCH])
def test_keras_weight_decay_is_decoupled(name, kw, tname, tkw):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(4)]
    wd, lr = 0.1, kw["learning_rate"]

    p = sd.tensor(w0.copy(), dtype="float64", requires_grad=True)
    opt = getattr(K, name)(weight_decay=wd, **kw)
    opt.add_param_group({"params": [p]})
    ours = _run(opt, p, grads)

    tp = torch.tensor(w0.copy(), requires_grad=True)
    topt = getattr(torch.optim, tname)([tp], **tkw)
    for g in grads:
        with torch.no_grad():
            tp.mul_(1 - lr * wd)  # Keras 3: decay first, by the current learning rate
        tp.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(ours, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_keras_adam_and_adamw_decay_like_torch_adamw():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(3)]
    for opt, wd in ((K.Adam(learning_rate=0.01, weight_decay=0.2), 0.2),
                    (K.AdamW(learning_rate=0.01), 0.004)):  # Keras AdamW: 0.004 by default
        p = sd.tensor(w0.copy(), dtype="float64", requires_grad=True)
        opt.add_param_group({"params": [p]})
        tp = torch.tensor(w0.copy(), requires_grad=True)
        topt = torch.optim.AdamW([tp], lr=0.01, eps=1e-7, weight_decay=wd)
        for g in grads:
            tp.grad = torch.tensor(g)
            topt.step()
        np.testing.assert_allclose(_run(opt, p, grads), tp.detach().numpy(), rtol=1e-12)


def test_keras_weight_decay_spares_weights_without_gradient():
    p, q = (sd.tensor(np.ones(3), dtype="float64", requires_grad=True) for _ in range(2))
    opt = K.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.add_param_group({"params": [p, q]})
    p.grad = sd.zeros(3, dtype="float64")
    opt.step()
    np.testing.assert_allclose(p.numpy(), 0.95)
    np.testing.assert_array_equal(q.numpy(), 1.0)
    # no weight_decay: plain updates
    r = sd.tensor(np.ones(3), dtype="float64", requires_grad=True)
    opt = K.SGD(learning_rate=0.1)
    opt.add_param_group({"params": [r]})
    r.grad = sd.zeros(3, dtype="float64")
    opt.step()
    np.testing.assert_array_equal(r.numpy(), 1.0)


def test_keras_weight_decay_in_fit():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    dense = KL.Dense(2, input_shape=(3,))
    model = Sequential([dense])
    w0, b0 = dense.kernel.numpy().astype(np.float64), dense.bias.numpy().astype(np.float64)
    model.compile(optimizer=K.SGD(learning_rate=0.1, weight_decay=0.3), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    out = x @ w0 + b0
    g_out = 2 * (out - y) / out.size
    np.testing.assert_allclose(dense.kernel.numpy(), w0 * (1 - 0.03) - 0.1 * (x.T @ g_out),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dense.bias.numpy(), b0 * (1 - 0.03) - 0.1 * g_out.sum(0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_torch_style_weight_decay_is_an_l2_penalty(name):
    """PyTorch's weight_decay=wd adds wd * w to the gradient: the same step as an
    L2(wd / 2) regularizer in the loss."""
    rng = np.random.default_rng(3)
    w0, g = rng.standard_normal(4), rng.standard_normal(4)
    a = sd.tensor(w0.copy(), dtype="float64", requires_grad=True)
    b = sd.tensor(w0.copy(), dtype="float64", requires_grad=True)
    cls = getattr(sd.optim, name)
    opt_a, opt_b = cls([a], lr=0.05, weight_decay=0.2), cls([b], lr=0.05)
    for _ in range(3):
        opt_a.zero_grad()
        opt_b.zero_grad()
        (a * sd.tensor(g)).sum().backward()
        ((b * sd.tensor(g)).sum() + R.L2(0.1)(b)).backward()
        opt_a.step()
        opt_b.step()
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
