"""Model.compile/fit/evaluate/predict/summary and train_step, Keras style and torch style."""

import re

import numpy as np
import pytest

import shendu
from shendu import nn
from shendu.data import DataLoader, TensorDataset
from shendu.keras.layers import Dense, Dropout
from shendu.models import Model, Sequential


def _blobs(n=120, d=4, k=3, seed=0):
    """Three well-separated Gaussian blobs: an easy classification problem."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, (k, d))
    y = rng.integers(0, k, n)
    x = (centers[y] + rng.normal(0, 1, (n, d))).astype(np.float32)
    return x, y.astype(np.int64)


def _mlp(d=4, k=3, hidden=16, seed=0):
    shendu.manual_seed(seed)
    return Sequential([Dense(hidden, activation="relu", input_shape=(d,)),
                       Dense(k, activation="softmax")])


@pytest.fixture(scope="module")
def mnist():
    (x, y), (xt, yt) = shendu.data.load_sample("mnist")
    return (x.reshape(-1, 784) / 255.0, y), (xt.reshape(-1, 784) / 255.0, yt)


# -- fit lowers the loss; History ---------------------------------------------------------------
def test_fit_lowers_loss_synthetic():
    x, y = _blobs()
    model = _mlp()
    model.compile(optimizer=shendu.keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0)[0]
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    loss = hist.history["loss"]
    assert len(loss) == 15 and loss[-1] < loss[0] * 0.5
    after, acc = model.evaluate(x, y, verbose=0)
    assert after < before * 0.5 and acc > 0.9


def test_fit_lowers_loss_mnist(mnist):
    (x, y), (xt, yt) = mnist
    model = _mlp(784, 10, 32)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x[:2000], y[:2000], epochs=2, batch_size=64, verbose=0)
    assert hist.history["loss"][1] < hist.history["loss"][0] < 2.3
    _, acc = model.evaluate(xt, yt, verbose=0)
    assert acc > 0.75


def test_history_keys_and_validation_split():
    x, y = _blobs(100)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.2, verbose=0)
    assert model.history is hist
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in hist.history.values())
    assert hist.epoch == [0, 1, 2]
    # the validation set is the LAST 20% (taken before shuffling), as in Keras
    val = model.evaluate(x[80:], y[80:], verbose=0, return_dict=True)
    assert val["loss"] == pytest.approx(hist.history["val_loss"][-1], rel=1e-6)
    assert val["accuracy"] == pytest.approx(hist.history["val_accuracy"][-1])


def test_validation_data_and_freq():
    x, y = _blobs(60)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    hist = model.fit(x, y, epochs=4, batch_size=20, validation_data=(x[:30], y[:30]),
                     validation_freq=2, verbose=0)
    assert len(hist.history["loss"]) == 4
    assert len(hist.history["val_loss"]) == 2  # epochs 2 and 4 only
    val = model.evaluate(x[:30], y[:30], verbose=0)
    assert isinstance(val, float)
    assert val == pytest.approx(hist.history["val_loss"][-1], rel=1e-6)


def test_validation_split_out_of_range():
    x, y = _blobs(20)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.0, verbose=0)


# -- reproducibility ------------------------------------------------------------------------------
def _train_once(seed):
    x, y = _blobs(64)
    model = _mlp(seed=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    shendu.manual_seed(seed)
    model.fit(x, y, epochs=2, batch_size=8, shuffle=True, verbose=0)
    return model.get_weights()


def test_shuffle_reproducible_under_manual_seed():
    a, b, c = _train_once(7), _train_once(7), _train_once(8)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))


# -- sample_weight / class_weight ---------------------------------------------------------------
def _frozen_model():
    """A model trained with lr=0 so fit's logged loss is the loss of fixed weights."""
    model = _mlp(seed=3)
    model.compile(optimizer=shendu.keras.optimizers.SGD(learning_rate=0.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _per_sample_xent(model, x, y):
    p = model.predict(x).astype(np.float64)
    return -np.log(p[np.arange(len(y)), y])


def test_class_weight_scales_loss_like_keras():
    x, y = _blobs(40)
    model = _frozen_model()
    per = _per_sample_xent(model, x, y)
    cw = {0: 1.0, 1: 5.0, 2: 0.25}
    w = np.array([cw[c] for c in y])
    # Keras "sum_over_batch_size": sum(w_i * l_i) / batch_size, then batch-size-weighted mean
    hist = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, class_weight=cw, verbose=0)
    expected = sum((w[i:i + 16] * per[i:i + 16]).sum() for i in range(0, 40, 16)) / 40
    assert hist.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert not np.isclose(expected, per.mean())
    # compile(metrics=...) metrics are NOT weighted in Keras (only weighted_metrics are)
    acc = (model.predict(x).argmax(-1) == y).mean()
    assert hist.history["accuracy"][0] == pytest.approx(acc)


def test_sample_weight_in_fit_and_evaluate():
    x, y = _blobs(30)
    model = _frozen_model()
    per = _per_sample_xent(model, x, y)
    sw = np.linspace(0.0, 2.0, 30)
    hist = model.fit(x, y, batch_size=30, epochs=1, sample_weight=sw, verbose=0)
    assert hist.history["loss"][0] == pytest.approx((sw * per).mean(), rel=1e-5)
    loss, _ = model.evaluate(x, y, sample_weight=sw, batch_size=7, verbose=0)
    chunks = [(sw[i:i + 7] * per[i:i + 7]).mean() * len(sw[i:i + 7]) for i in range(0, 30, 7)]
    assert loss == pytest.approx(sum(chunks) / 30, rel=1e-5)
    # class_weight and sample_weight multiply
    hist = model.fit(x, y, batch_size=30, epochs=1, sample_weight=sw,
                     class_weight={0: 2.0, 1: 2.0, 2: 2.0}, verbose=0)
    assert hist.history["loss"][0] == pytest.approx(2 * (sw * per).mean(), rel=1e-5)


def test_weighted_metrics_use_sample_weight():
    x, y = _blobs(30)
    model = _mlp(seed=3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    sw = np.zeros(30)
    correct = model.predict(x).argmax(-1) == y
    sw[np.flatnonzero(correct)[:3]] = 1.0  # only three correct samples weigh
    logs = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(correct.mean())
    assert logs["weighted_accuracy"] == pytest.approx(1.0)


# -- initial_epoch / steps_per_epoch -----------------------------------------------------------
def test_initial_epoch_and_steps_per_epoch():
    x, y = _blobs(100)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    seen = []
    cb = shendu.keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs=None: seen.append(("epoch", e)),
        on_train_batch_end=lambda b, logs=None: seen.append(("batch", b)))
    hist = model.fit(x, y, epochs=5, initial_epoch=3, batch_size=10, steps_per_epoch=4,
                     callbacks=[cb], verbose=0)
    assert hist.epoch == [3, 4]
    assert len(hist.history["loss"]) == 2
    assert seen == [("epoch", 3)] + [("batch", i) for i in range(4)] + \
        [("epoch", 4)] + [("batch", i) for i in range(4)]


# -- DataLoader input ----------------------------------------------------------------------------
def test_fit_evaluate_predict_with_dataloader():
    x, y = _blobs(90)
    ds = TensorDataset(x, y)
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(DataLoader(ds, batch_size=16, shuffle=True), epochs=8, verbose=0,
                     validation_data=DataLoader(ds, batch_size=32))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert "val_accuracy" in hist.history
    loss, acc = model.evaluate(DataLoader(ds, batch_size=32), verbose=0)
    ref_loss, ref_acc = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(ref_loss, rel=1e-5) and acc == pytest.approx(ref_acc)
    p = model.predict(DataLoader(ds, batch_size=32))
    assert isinstance(p, np.ndarray) and p.shape == (90, 3)
    np.testing.assert_allclose(p, model.predict(x), rtol=1e-6)
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(DataLoader(ds, batch_size=16), y, verbose=0)


# -- evaluate / predict ---------------------------------------------------------------------------
def test_evaluate_return_types():
    x, y = _blobs(40)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    out = model.evaluate(x, y, verbose=0)
    assert isinstance(out, float)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    out = model.evaluate(x, y, verbose=0)
    assert isinstance(out, list) and len(out) == 2
    acc = (model.predict(x).argmax(-1) == y).mean()
    assert out[1] == pytest.approx(acc)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert d == {"loss": out[0], "accuracy": out[1]}


def test_predict_shape_and_eval_mode():
    shendu.manual_seed(0)
    model = Sequential([Dense(32, activation="relu", input_shape=(4,)), Dropout(0.9),
                        Dense(2)])
    x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    p1 = model.predict(x, batch_size=7)
    assert isinstance(p1, np.ndarray) and p1.shape == (50, 2) and p1.dtype == np.float32
    np.testing.assert_array_equal(p1, model.predict(x, batch_size=7))  # dropout is off
    np.testing.assert_allclose(p1, model.predict(x), rtol=1e-5, atol=1e-7)
    model.train()
    assert not np.allclose(model(x).numpy(), p1)  # ... while it is on in training mode


# -- losses, optimizers --------------------------------------------------------------------------
def test_torch_style_loss_module():
    x, y = _blobs()
    shendu.manual_seed(0)
    model = Sequential([Dense(16, activation="relu", input_shape=(4,)), Dense(3)])  # logits
    model.compile(optimizer="adam", loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.5
    logits = model.predict(x).astype(np.float64)
    lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    ref = (lse - logits[np.arange(len(y)), y]).mean()
    loss, acc = model.evaluate(x, y, batch_size=len(x), verbose=0)
    assert loss == pytest.approx(ref, rel=1e-5)
    assert acc == pytest.approx((logits.argmax(1) == y).mean())


def test_sample_weight_with_torch_loss_module_is_an_error():
    x, y = _blobs(20)
    model = _mlp()
    model.compile(optimizer="sgd", loss=nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(x, y, sample_weight=np.ones(20), verbose=0)


@pytest.mark.parametrize("kind", ["string", "keras", "torch"])
def test_optimizer_spellings(kind):
    x, y = _blobs()
    model = _mlp()
    if kind == "string":
        opt = "adam"
    elif kind == "keras":
        opt = shendu.keras.optimizers.Adam(lr=0.01)
        assert opt.param_groups == [] or not any(g["params"] for g in opt.param_groups)
    else:
        opt = shendu.optim.SGD(model.parameters(), lr=0.1)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    bound = {id(p) for g in model.optimizer.param_groups for p in g["params"]}
    assert bound == {id(p) for p in model.parameters()}
    if kind == "keras":
        assert model.optimizer is opt and opt.param_groups[0]["lr"] == 0.01
    if kind == "string":
        assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.001)


def test_sequential_with_input_shape_is_built_at_construction():
    model = _mlp(4, 3, 16)
    assert model.count_params() == 4 * 16 + 16 + 16 * 3 + 3  # before any call, as in Keras
    grown = Sequential()
    grown.add(Dense(8, input_shape=(4,)))
    grown.add(Dense(2))
    assert [tuple(w.shape) for w in grown.get_weights()] == [(4, 8), (8,), (8, 2), (2,)]
    opt = shendu.optim.SGD(grown.parameters(), lr=0.1)
    assert sum(len(g["params"]) for g in opt.param_groups) == 4


def test_loss_module_is_not_a_submodule():
    model = _mlp()
    model.compile(optimizer="sgd", loss=nn.CrossEntropyLoss())
    assert len(model.layers) == 2 and list(model.state_dict()) == [
        "0.kernel", "0.bias", "1.kernel", "1.bias"]
    assert isinstance(model.loss, nn.CrossEntropyLoss)


def test_deferred_model_builds_on_first_call():
    x, y = _blobs()
    shendu.manual_seed(0)
    model = Sequential([Dense(16, activation="relu"), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="not yet been built"):
        model.summary()
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert model.count_params() == 4 * 16 + 16 + 16 * 3 + 3


# -- train_step override --------------------------------------------------------------------------
def test_train_step_override_is_used():
    class Custom(Sequential):
        calls = 0

        def train_step(self, batch):
            type(self).calls += 1
            logs = super().train_step(batch)
            logs["custom"] = 42.0
            return logs

    x, y = _blobs(40)
    shendu.manual_seed(0)
    model = Custom([Dense(8, activation="relu", input_shape=(4,)),
                    Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    batch_logs = []
    cb = shendu.keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs=None: batch_logs.append(logs))
    model.fit(x, y, epochs=2, batch_size=10, callbacks=[cb], verbose=0)
    assert Custom.calls == 8
    assert all(logs["custom"] == 42.0 for logs in batch_logs)


def test_subclassed_model_with_compile_fit():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 16)
            self.fc2 = nn.Linear(16, 3)

        def forward(self, x):
            return self.fc2(shendu.relu(self.fc1(x)))

    x, y = _blobs()
    shendu.manual_seed(0)
    net = Net()
    net.compile(optimizer=shendu.optim.Adam(net.parameters(), lr=0.01),
                loss=nn.CrossEntropyLoss())
    hist = net.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.5


# -- errors ---------------------------------------------------------------------------------------
def test_fit_before_compile():
    x, y = _blobs(10)
    with pytest.raises(RuntimeError, match="compile"):
        _mlp().fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        _mlp().evaluate(x, y, verbose=0)


def test_compile_without_loss():
    with pytest.raises(ValueError, match="loss"):
        _mlp().compile(optimizer="adam")


def test_mismatched_lengths():
    x, y = _blobs(10)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="10 samples but y has 9"):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match="sample_weight has 3"):
        model.fit(x, y, sample_weight=np.ones(3), verbose=0)


@pytest.mark.parametrize("bs", [0, -4, 2.5, "8", True])
def test_bad_batch_size(bs):
    x, y = _blobs(10)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=bs, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.predict(x, batch_size=bs)


# -- metrics over the whole epoch ---------------------------------------------------------------
def test_epoch_accuracy_is_over_all_samples_not_batch_average():
    x, y = _blobs(37)  # batches of 16, 16, 5
    model = _frozen_model()
    pred = model.predict(x).argmax(-1)
    hist = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    exact = (pred == y).mean()
    batch_avg = np.mean([(pred[i:i + 16] == y[i:i + 16]).mean() for i in range(0, 37, 16)])
    assert hist.history["accuracy"][0] == pytest.approx(exact)
    assert not np.isclose(exact, batch_avg)  # the test would tell the two apart
    assert model.evaluate(x, y, batch_size=16, verbose=0)[1] == pytest.approx(exact)


@pytest.mark.parametrize("loss, y_kind, expected", [
    ("sparse_categorical_crossentropy", "sparse", "SparseCategoricalAccuracy"),
    ("categorical_crossentropy", "onehot", "CategoricalAccuracy"),
    ("binary_crossentropy", "binary", "BinaryAccuracy"),
])
def test_accuracy_resolves_by_loss(loss, y_kind, expected):
    x, y = _blobs(48)
    shendu.manual_seed(0)
    if y_kind == "binary":
        y = (y == 0).astype(np.float32).reshape(-1, 1)
        out = Dense(1, activation="sigmoid")
    else:
        out = Dense(3, activation="softmax")
        if y_kind == "onehot":
            y = shendu.keras.utils.to_categorical(y, 3)
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)), out])
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    assert type(model.compiled_metrics[0]).__name__ == expected
    hist = model.fit(x, y, epochs=1, batch_size=48, verbose=0)
    assert set(hist.history) == {"loss", "accuracy"}
    p = model.predict(x)
    if y_kind == "binary":
        ref = ((p > 0.5) == (y > 0.5)).mean()
    else:
        ref = (p.argmax(-1) == (y.argmax(-1) if y_kind == "onehot" else y)).mean()
    assert model.evaluate(x, y, verbose=0)[1] == pytest.approx(ref)


# -- summary -------------------------------------------------------------------------------------
def test_summary_table():
    model = Sequential([Dense(64, activation="relu", input_shape=(784,)),
                        Dense(64, activation="relu"), Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    rows = [ln for ln in text.splitlines() if "(Dense)" in ln]
    assert len(rows) == 3
    counts = [int(ln.split()[-1].replace(",", "")) for ln in rows]
    assert counts == [784 * 64 + 64, 64 * 64 + 64, 64 * 10 + 10]
    assert all("(None, " in ln for ln in rows)
    assert re.search(r"Total params: 55,?050", text)
    assert re.search(r"Trainable params: 55,?050", text)
    assert re.search(r"Non-trainable params: 0\b", text)
    assert model.count_params() == 55050


def test_summary_wraps_long_cells_like_keras():
    from shendu.keras.layers import Activation

    model = Sequential([Dense(4, input_shape=(3,), name="a_very_long_layer_name_indeed"),
                        Activation("relu")])
    lines = []
    model.summary(print_fn=lines.append)
    rows = "\n".join(lines).splitlines()
    i = next(k for k, ln in enumerate(rows) if ln.startswith(" a_very_long_layer_name_in"))
    assert rows[i].split()[-1] == "16" and "(None, 4)" in rows[i]
    assert rows[i + 1].strip() == "eed (Dense)"  # the rest of the cell, on its own line
    assert all(len(ln) == 65 for ln in rows[1:i + 2] if ln)


def test_summary_unbuilt_raises_clear_error():
    model = Sequential([Dense(8), Dense(2)])
    with pytest.raises(ValueError, match="input_shape"):
        model.summary()
