"""class_weight and sample_weight with Keras-style losses (sum of weighted losses over the
batch size, as in Keras), and class weights of PyTorch-style criteria (CrossEntropyLoss
weight=, BCEWithLogitsLoss pos_weight=) inside fit, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
from shendu import regularizers as R
from shendu.keras import layers as KL
from shendu.keras import optimizers as K
from shendu.keras.models import Sequential


def _data(n=24, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, k, n)


def _frozen(last_activation="softmax", units=3, loss="categorical_crossentropy", **kw):
    """A model trained with learning rate 0: fit's loss is that of fixed weights."""
    sd.manual_seed(0)
    model = Sequential([KL.Dense(units, activation=last_activation, input_shape=(4,), **kw)])
    model.compile(optimizer=K.SGD(learning_rate=0.0), loss=loss)
    return model


def test_class_weight_with_one_hot_targets():
    x, y = _data()
    onehot = np.eye(3, dtype=np.float32)[y]
    model = _frozen()
    p = model.predict(x).astype(np.float64)
    per = -np.log(p[np.arange(len(y)), y])
    cw = {0: 0.5, 1: 3.0, 2: 1.0}
    w = np.array([cw[c] for c in y])
    hist = model.fit(x, onehot, batch_size=8, epochs=1, shuffle=False, class_weight=cw,
                     verbose=0)
    # each batch: sum(w * l) / batch_size; the epoch: the mean over batches of equal size
    expected = np.mean([(w[i:i + 8] * per[i:i + 8]).sum() / 8 for i in range(0, 24, 8)])
    assert hist.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_class_weight_with_binary_targets():
    x, y = _data(k=2)
    model = _frozen("sigmoid", 1, "binary_crossentropy")
    p = np.clip(model.predict(x)[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    w = np.where(y == 1, 4.0, 1.0)
    hist = model.fit(x, y.reshape(-1, 1).astype(np.float32), batch_size=24, epochs=1,
                     class_weight={1: 4.0}, verbose=0)  # classes left out weigh 1
    assert hist.history["loss"][0] == pytest.approx((w * per).mean(), rel=1e-4)


def test_sample_weight_column_and_validation_weights():
    x, y = _data()
    model = _frozen(loss="sparse_categorical_crossentropy")
    p = model.predict(x).astype(np.float64)
    per = -np.log(p[np.arange(len(y)), y])
    sw = np.linspace(0, 2, 24)
    hist = model.fit(x, y, batch_size=24, epochs=1, sample_weight=sw.reshape(-1, 1),
                     validation_data=(x, y, sw), verbose=0)
    assert hist.history["loss"][0] == pytest.approx((sw * per).mean(), rel=1e-5)
    assert hist.history["val_loss"][0] == pytest.approx((sw * per).mean(), rel=1e-5)
    loss = model.evaluate(x, y, sample_weight=sw, batch_size=24, verbose=0)
    assert loss == pytest.approx((sw * per).mean(), rel=1e-5)


def test_evaluate_adds_the_regularization_penalties():
    x, y = _data()
    model = _frozen(loss="sparse_categorical_crossentropy", kernel_regularizer=R.L2(0.1))
    p = model.predict(x).astype(np.float64)
    per = -np.log(p[np.arange(len(y)), y])
    penalty = 0.1 * (model.layers[0].kernel.numpy().astype(np.float64) ** 2).sum()
    loss = model.evaluate(x, y, batch_size=24, verbose=0)
    assert loss == pytest.approx(per.mean() + penalty, rel=1e-5)


def test_torch_cross_entropy_weight_inside_fit_matches_torch():
    torch = pytest.importorskip("torch")
    x, y = _data()
    weight = np.array([0.2, 1.0, 3.0], dtype=np.float32)
    sd.manual_seed(1)
    dense = KL.Dense(3, input_shape=(4,))
    model = Sequential([dense])
    model.compile(optimizer=K.SGD(learning_rate=0.5),
                  loss=nn.CrossEntropyLoss(weight=sd.tensor(weight)))
    lin = torch.nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(dense.kernel.numpy().T))
        lin.bias.copy_(torch.tensor(dense.bias.numpy()))
    hist = model.fit(x, y, batch_size=24, epochs=1, verbose=0)
    crit = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight))
    tloss = crit(lin(torch.tensor(x)), torch.tensor(y))
    tloss.backward()
    with torch.no_grad():
        for prm in lin.parameters():
            prm -= 0.5 * prm.grad
    assert hist.history["loss"][0] == pytest.approx(tloss.item(), rel=1e-5)
    np.testing.assert_allclose(dense.kernel.numpy(), lin.weight.detach().numpy().T, rtol=1e-5,
                               atol=1e-6)


def test_torch_bce_with_logits_pos_weight_inside_fit_matches_torch():
    torch = pytest.importorskip("torch")
    x, y = _data(k=2)
    t = y.reshape(-1, 1).astype(np.float32)
    model = _frozen(None, 1, nn.BCEWithLogitsLoss(pos_weight=sd.tensor([2.5])))
    logits = model.predict(x)
    hist = model.fit(x, t, batch_size=24, epochs=1, verbose=0)
    expected = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.5]))(
        torch.tensor(logits), torch.tensor(t)).item()
    assert hist.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_sample_weight_that_does_not_fit_is_a_clear_error():
    from shendu.nn import losses

    y = np.zeros((4, 3))
    pred = sd.tensor(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"mse: sample_weight of shape \(4, 3\) does not fit "
                                         r"the per-sample losses of shape \(4,\)"):
        losses.get("mse")(y, pred, sample_weight=np.ones((4, 3)))
