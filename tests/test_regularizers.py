"""Regularizers and constraints: penalty values (Keras's formulas), their gradients, layers that
use them (layer.losses, model.losses, compute_loss, fit), the activity penalty, constraints
after optimizer steps, and the JSON round trip through model.save / load_model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
from shendu import constraints as C
from shendu import regularizers as R
from shendu.keras import layers as KL
from shendu.keras.models import Sequential, load_model
from shendu.testing import gradcheck


def _rng(seed=0):
    return np.random.default_rng(seed)


def _t64(a, grad=True):
    return sd.tensor(np.asarray(a, dtype=np.float64), dtype="float64", requires_grad=grad)


def _np_orthogonal(w, factor, mode):
    u = w / np.sqrt(np.maximum((w ** 2).sum(1 if mode == "rows" else 0, keepdims=True), 1e-12))
    prod = u @ u.T if mode == "rows" else u.T @ u
    n = prod.shape[0]
    off = np.abs(prod * (1 - np.eye(n))).sum()
    return factor * 0.5 * off / (n * (n - 1) / 2)


# -- the penalties ------------------------------------------------------------------------------
def test_penalty_values_follow_keras():
    w = _rng(1).standard_normal((4, 3))
    x = _t64(w, grad=False)
    assert R.L1(0.1)(x).item() == pytest.approx(0.1 * np.abs(w).sum(), rel=1e-12)
    assert R.L2(0.1)(x).item() == pytest.approx(0.1 * (w ** 2).sum(), rel=1e-12)  # no 1/2
    assert R.L1L2(0.1, 0.2)(x).item() == pytest.approx(
        0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum(), rel=1e-12)
    assert R.L1L2()(x).item() == 0.0
    for mode in ("rows", "columns"):
        got = R.OrthogonalRegularizer(0.3, mode)(x).item()
        assert got == pytest.approx(_np_orthogonal(w, 0.3, mode), rel=1e-10)
    # defaults are Keras's
    assert R.L1().l1 == 0.01 and R.L2().l2 == 0.01 and R.L1L2().get_config() == {"l1": 0, "l2": 0}
    # float32 weights give a float32 penalty
    assert R.L2()(sd.tensor(w.astype(np.float32))).dtype == np.float32


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.2), R.L1L2(0.1, 0.4),
                                 R.OrthogonalRegularizer(0.5, "rows"),
                                 R.OrthogonalRegularizer(0.5, "columns")],
                         ids=["l1", "l2", "l1l2", "orth_rows", "orth_columns"])
def test_penalty_gradients(reg):
    w = _rng(2).uniform(0.2, 1.5, (4, 3)) * _rng(3).choice([-1.0, 1.0], (4, 3))
    assert gradcheck(reg, [_t64(w)])


def test_l1_gradient_at_zero_is_zero():
    x = _t64(np.array([0.0, 2.0, -3.0]))
    R.L1(1.0)(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, -1.0])


def test_get_and_config_round_trip():
    assert R.get(None) is None
    assert R.get("l2") == R.L2() and R.get("L1") == R.L1() and R.get("l1_l2") == R.L1L2()
    reg = R.L1L2(1e-5, 1e-4)
    assert R.get(reg) is reg
    cfg = json.loads(json.dumps(R.serialize(reg)))
    assert cfg == {"class_name": "L1L2", "config": {"l1": 1e-5, "l2": 1e-4}}
    assert R.get(cfg) == reg
    # Keras 3 dicts carry "module" and "registered_name": accepted, ignored
    assert R.get({"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.5},
                  "registered_name": None}) == R.L2(0.5)
    o = R.OrthogonalRegularizer(0.2, "columns")
    assert R.OrthogonalRegularizer.from_config(o.get_config()) == o

    def fn(w):
        return w.sum()

    assert R.get(fn) is fn
    with pytest.raises(ValueError, match="unknown regularizer 'l3'"):
        R.get("l3")
    with pytest.raises(ValueError, match="unknown regularizer 'os.system'"):
        R.get({"class_name": "os.system", "config": {}})
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
        R.L2(-1.0)
    with pytest.raises(TypeError, match="could not interpret 3"):
        R.get(3)
    with pytest.raises(TypeError, match="cannot be saved"):
        R.serialize(fn)


def test_constraint_values_follow_keras():
    w = _rng(4).standard_normal((5, 3)) * 3
    t = sd.tensor(w, dtype="float64")
    norms = np.sqrt((w ** 2).sum(0, keepdims=True))
    np.testing.assert_allclose(C.MaxNorm(2.0)(t).numpy(),
                               w * np.clip(norms, 0, 2.0) / (1e-7 + norms), rtol=1e-12)
    np.testing.assert_allclose(C.UnitNorm()(t).numpy(), w / (1e-7 + norms), rtol=1e-12)
    np.testing.assert_allclose(C.NonNeg()(t).numpy(), w * (w >= 0), rtol=1e-12)
    desired = 0.5 * np.clip(norms, 1.0, 2.0) + 0.5 * norms
    np.testing.assert_allclose(C.MinMaxNorm(1.0, 2.0, rate=0.5)(t).numpy(),
                               w * desired / (1e-7 + norms), rtol=1e-12)
    rows = np.sqrt((w ** 2).sum(1, keepdims=True))
    np.testing.assert_allclose(C.MaxNorm(1.0, axis=1)(t).numpy(),
                               w * np.clip(rows, 0, 1.0) / (1e-7 + rows), rtol=1e-12)
    # config round trips, axis lists survive JSON
    for c in (C.MaxNorm(3, axis=[0, 1, 2]), C.NonNeg(), C.UnitNorm(1), C.MinMaxNorm(0.5, 2, 0.3)):
        cfg = json.loads(json.dumps(C.serialize(c)))
        back = C.get(cfg)
        assert type(back) is type(c) and back.get_config() == c.get_config()
    assert isinstance(C.get("max_norm"), C.MaxNorm) and isinstance(C.get("NonNeg"), C.NonNeg)
    with pytest.raises(ValueError, match="unknown constraint 'max'"):
        C.get("max")
    with pytest.raises(ValueError, match="min_value <= max_value"):
        C.MinMaxNorm(2.0, 1.0)


# -- layers -------------------------------------------------------------------------------------
def test_keras_doc_example_layer_losses():
    # keras.io: kernel L1 term 0.25, activity L2 term 25 / batch 5 = 5
    layer = KL.Dense(5, input_dim=5, kernel_initializer="ones",
                     kernel_regularizer=R.L1(0.01), activity_regularizer=R.L2(0.01))
    layer(sd.ones(5, 5) * 2.0)
    assert sum(t.item() for t in layer.losses) == pytest.approx(5.25, rel=1e-6)
    assert layer.regularization_loss().item() == pytest.approx(5.25, rel=1e-6)


def test_layer_error_names_the_layer():
    with pytest.raises(ValueError, match=r"Dense 'fc': kernel_regularizer: unknown regularizer"):
        KL.Dense(3, kernel_regularizer="l3", name="fc")
    with pytest.raises(ValueError, match=r"Conv2D 'c': bias_constraint: unknown constraint"):
        KL.Conv2D(2, 3, bias_constraint="nope", name="c")


def _reg_model():
    model = Sequential([
        KL.Conv2D(2, 3, input_shape=(5, 5, 1), kernel_regularizer=R.L2(0.01),
                  bias_regularizer="l1", kernel_constraint=C.MaxNorm(1.5, axis=[0, 1, 2])),
        KL.Flatten(),
        KL.Dense(3, kernel_regularizer=R.L1L2(0.001, 0.002), activity_regularizer=R.L2(0.05),
                 bias_constraint=C.NonNeg()),
    ])
    for p in model.parameters():  # nonzero biases so the bias penalty matters
        p.data[...] = _rng(5).standard_normal(p.shape).astype(np.float32) * 0.5
    return model


def test_model_losses_and_compute_loss_include_the_penalties():
    model = _reg_model()
    model.compile(optimizer="sgd", loss="mse")
    conv, dense = model.layers[0], model.layers[2]
    x = _rng(6).standard_normal((4, 5, 5, 1)).astype(np.float32)
    y = _rng(7).standard_normal((4, 3)).astype(np.float32)
    y_pred = model(x)
    k, b = conv.kernel.numpy(), conv.bias.numpy()
    dk, out = dense.kernel.numpy(), y_pred.numpy()
    expected = [0.01 * (k ** 2).sum() + 0.01 * np.abs(b).sum(),
                0.001 * np.abs(dk).sum() + 0.002 * (dk ** 2).sum() + 0.05 * (out ** 2).sum() / 4]
    got = [t.item() for t in model.losses]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    loss = model.compute_loss(x, sd.tensor(y), y_pred)
    assert loss.item() == pytest.approx(((out - y) ** 2).mean() + sum(expected), rel=1e-5)
    # the penalties are in the graph: every weight gets their gradient
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_fit_step_equals_manual_computation():
    rng = _rng(8)
    # float32-exact data: fit hands the model float32 batches
    x = rng.standard_normal((6, 4)).astype(np.float32).astype(np.float64)
    y = rng.standard_normal((6, 2)).astype(np.float32).astype(np.float64)
    layer = KL.Dense(2, input_shape=(4,), kernel_regularizer=R.L2(0.1),
                     bias_regularizer=R.L1(0.2), activity_regularizer=R.L1(0.3))
    model = Sequential([layer])
    model.double()
    w0 = rng.standard_normal((4, 2))
    b0 = np.array([0.5, -0.4])
    layer.kernel.data[...], layer.bias.data[...] = w0, b0
    model.compile(optimizer=sd.keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    hist = model.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)

    out = x @ w0 + b0
    loss = ((out - y) ** 2).mean() + 0.1 * (w0 ** 2).sum() + 0.2 * np.abs(b0).sum() + \
        0.3 * np.abs(out).sum() / 6
    g_out = 2 * (out - y) / out.size + 0.3 * np.sign(out) / 6
    g_w = x.T @ g_out + 2 * 0.1 * w0
    g_b = g_out.sum(0) + 0.2 * np.sign(b0)
    assert hist.history["loss"][0] == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(layer.kernel.numpy(), w0 - 0.1 * g_w, rtol=1e-10)
    np.testing.assert_allclose(layer.bias.numpy(), b0 - 0.1 * g_b, rtol=1e-10)


def test_activity_penalty_is_replaced_each_call_and_free_of_graphs_under_no_grad():
    layer = KL.Dense(2, input_shape=(3,), activity_regularizer=R.L2(1.0))
    a = layer(sd.ones(4, 3))
    first = layer.losses[0].item()
    assert first == pytest.approx((a.numpy() ** 2).sum() / 4, rel=1e-6)
    b = layer(sd.ones(2, 3) * 2)  # replaced, not accumulated
    assert len(layer.losses) == 1
    assert layer.losses[0].item() == pytest.approx((b.numpy() ** 2).sum() / 2, rel=1e-6)
    with sd.no_grad():
        layer(sd.ones(2, 3))
    assert not layer.losses[0].requires_grad
    # any Keras layer takes activity_regularizer= and saves it
    act = KL.Activation("relu", activity_regularizer="l1")
    act(sd.tensor([[-1.0, 2.0]]))
    assert act.losses[0].item() == pytest.approx(0.02)
    assert act.get_config()["activity_regularizer"]["class_name"] == "L1"


def test_activity_regularization_layer():
    layer = KL.ActivityRegularization(l1=0.1, l2=0.2)
    x = sd.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert layer(x) is x
    assert layer.losses[0].item() == pytest.approx(
        (0.1 * 6.5 + 0.2 * (1 + 4 + 9 + 0.25)) / 2, rel=1e-6)
    cfg = layer.get_config()
    assert "activity_regularizer" not in cfg and cfg["l1"] == 0.1
    assert KL.ActivityRegularization(**cfg).get_config() == cfg


# -- constraints in training --------------------------------------------------------------------
def test_max_norm_holds_after_fit_steps():
    rng = _rng(9)
    x = rng.standard_normal((64, 6)).astype(np.float32) * 5
    y = rng.standard_normal((64, 4)).astype(np.float32) * 10
    dense = KL.Dense(4, input_shape=(6,), kernel_constraint=C.MaxNorm(0.5),
                     bias_constraint=C.NonNeg())
    model = Sequential([dense])
    model.compile(optimizer=sd.keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    norms = np.sqrt((dense.kernel.numpy() ** 2).sum(0))  # one norm per unit (Keras axis=0)
    assert np.all(norms <= 0.5 + 1e-5)
    assert np.any(norms > 0.45)  # the constraint was binding, not a no-op
    assert np.all(dense.bias.numpy() >= 0)


def test_constraints_skip_frozen_weights_and_work_in_a_torch_style_loop():
    dense = KL.Dense(3, input_shape=(2,), kernel_constraint=C.UnitNorm())
    net = nn.Sequential(dense)
    opt = sd.optim.SGD(net.parameters(), lr=0.1)
    loss = (net(sd.ones(4, 2)) ** 2).mean() + R.regularization_loss(net)
    loss.backward()
    opt.step()
    C.apply_constraints(net)
    np.testing.assert_allclose(np.sqrt((dense.kernel.numpy() ** 2).sum(0)), 1.0, rtol=1e-5)
    dense.trainable = False
    dense.kernel.data[...] = 5.0
    C.apply_constraints(net)
    assert np.all(dense.kernel.numpy() == 5.0)


def test_regularization_loss_helper_for_torch_style_models():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = KL.Dense(3, input_shape=(2,), kernel_regularizer=R.L2(0.5))
            self.b = nn.Linear(3, 1)

        def forward(self, x):
            return self.b(self.a(x))

    net = Net()
    assert R.regularization_loss(net).item() == pytest.approx(
        0.5 * (net.a.kernel.numpy() ** 2).sum(), rel=1e-6)
    assert R.regularization_loss(nn.Linear(2, 2)) == 0.0


# -- saving -------------------------------------------------------------------------------------
def test_regularizers_and_constraints_round_trip_through_save_and_load(tmp_path):
    model = _reg_model()
    model.add(KL.ActivityRegularization(l2=0.1))
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "m.shendu"
    model.save(path)
    back = load_model(path)
    for a, b in zip(model.layers, back.layers):
        assert a.get_config() == b.get_config()
    conv, dense = back.layers[0], back.layers[2]
    assert conv.kernel_regularizer == R.L2(0.01) and conv.bias_regularizer == R.L1()
    assert isinstance(conv.kernel_constraint, C.MaxNorm)
    assert conv.kernel_constraint.axis == (0, 1, 2)
    assert dense.activity_regularizer == R.L2(0.05) and isinstance(dense.bias_constraint, C.NonNeg)
    x = _rng(10).standard_normal((3, 5, 5, 1)).astype(np.float32)
    np.testing.assert_allclose(back.predict(x), model.predict(x), rtol=1e-6)
    np.testing.assert_allclose([t.item() for t in back.losses],
                               [t.item() for t in model.losses], rtol=1e-6)


def test_custom_regularizer_trains_but_cannot_be_saved(tmp_path):
    model = Sequential([KL.Dense(2, input_shape=(3,), kernel_regularizer=lambda w: (w * w).sum())])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)
    with pytest.raises(TypeError, match="Dense .*kernel_regularizer.*cannot be saved"):
        model.save(tmp_path / "m.shendu")
