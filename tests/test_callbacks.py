"""Keras callbacks driven by fit: early stopping, checkpoints, learning-rate control, logging."""

import csv
import math
import re

import numpy as np
import pytest

import shendu
from shendu.keras import callbacks as cb
from shendu.keras.layers import Dense
from shendu.keras.optimizers import SGD
from shendu.models import Sequential


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _model(lr=0.05, seed=0):
    shendu.manual_seed(seed)
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)),
                        Dense(2, activation="softmax")])
    model.compile(optimizer=SGD(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _inject(scores, key="score"):
    """A callback that puts scores[epoch] in the logs, ahead of the callback under test."""
    def put(epoch, logs):
        logs[key] = scores[epoch]
    return cb.LambdaCallback(on_epoch_end=put)


class _Snapshots(cb.Callback):
    """Keeps the weights at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def _same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


# -- EarlyStopping ---------------------------------------------------------------------------------
def test_early_stopping_patience_and_restore_best_weights():
    x, y = _data()
    model = _model()
    snaps = _Snapshots()
    es = cb.EarlyStopping(monitor="score", patience=2, mode="min", restore_best_weights=True)
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0,
                     callbacks=[_inject([3.0, 1.0, 2.0, 2.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
                                snaps, es])
    assert hist.epoch == [0, 1, 2, 3]  # two epochs without improvement after epoch 1
    assert es.stopped_epoch == 3 and es.best == 1.0 and es.best_epoch == 1
    assert _same(model.get_weights(), snaps.weights[1])  # the best epoch's weights are back
    assert not _same(snaps.weights[3], snaps.weights[1])


def test_early_stopping_without_restore_keeps_last_weights():
    x, y = _data()
    model = _model()
    snaps = _Snapshots()
    es = cb.EarlyStopping(monitor="score", patience=1)
    model.fit(x, y, epochs=10, batch_size=16, verbose=0,
              callbacks=[_inject([1.0, 2.0, 3.0] + [0.0] * 7), snaps, es])
    assert len(snaps.weights) == 2
    assert _same(model.get_weights(), snaps.weights[-1])


def test_early_stopping_on_val_loss_and_mode_auto():
    x, y = _data()
    assert cb.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert cb.EarlyStopping(monitor="val_loss").mode == "min"
    model = _model(lr=0.0)  # nothing changes: val_loss never improves after epoch 0
    hist = model.fit(x, y, epochs=10, batch_size=16, validation_split=0.25, verbose=0,
                     callbacks=[cb.EarlyStopping(patience=3)])
    assert len(hist.history["val_loss"]) == 4


def test_early_stopping_missing_monitor_is_clear():
    x, y = _data()
    with pytest.raises(KeyError, match="val_loss"):
        _model().fit(x, y, epochs=2, verbose=0, callbacks=[cb.EarlyStopping()])


# -- ModelCheckpoint -----------------------------------------------------------------------------
def test_model_checkpoint_save_best_only_writes_on_improvement(tmp_path):
    x, y = _data()
    model = _model()
    snaps = _Snapshots()
    ckpt = cb.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}.shendu"), monitor="score",
                              save_best_only=True, mode="min")
    model.fit(x, y, epochs=5, batch_size=16, verbose=0,
              callbacks=[_inject([2.0, 1.0, 1.5, 0.5, 0.7]), snaps, ckpt])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt-1.shendu", "ckpt-2.shendu", "ckpt-4.shendu"]
    best = shendu.keras.models.load_model(tmp_path / "ckpt-4.shendu")
    assert _same(best.get_weights(), snaps.weights[3])
    np.testing.assert_array_equal(best.predict(x), Sequential.predict(_restore(snaps, 3), x))


def _restore(snaps, epoch):
    m = _model()
    m.set_weights(snaps.weights[epoch])
    return m


def test_model_checkpoint_fixed_path_keeps_the_best(tmp_path):
    x, y = _data()
    model = _model()
    snaps = _Snapshots()
    path = tmp_path / "best.shendu"
    ckpt = cb.ModelCheckpoint(path, monitor="score", save_best_only=True,
                              save_weights_only=True)
    model.fit(x, y, epochs=4, batch_size=16, verbose=0,
              callbacks=[_inject([0.9, 0.3, 0.4, 0.35]), snaps, ckpt])
    fresh = _model(seed=5)
    fresh.load_weights(path)
    assert _same(fresh.get_weights(), snaps.weights[1])
    assert not _same(model.get_weights(), snaps.weights[1])
    assert [p.name for p in tmp_path.iterdir()] == ["best.shendu"]  # no temp files left


def test_model_checkpoint_every_epoch(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_split=0.25,
              callbacks=[cb.ModelCheckpoint(str(tmp_path / "m{epoch:02d}-{val_loss:.2f}.shendu"))])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3 and all(re.fullmatch(r"m0[123]-\d\.\d\d\.shendu", n) for n in names)


# -- learning rate -------------------------------------------------------------------------------
def test_reduce_lr_on_plateau_lowers_lr():
    x, y = _data()
    model = _model(lr=0.1)
    rl = cb.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, min_lr=0.02)
    hist = model.fit(x, y, epochs=7, batch_size=16, verbose=0,
                     callbacks=[_inject([1.0] * 7), rl])
    # wait reaches patience at the end of epochs 2, 4, 6: 0.1 -> 0.05 -> 0.025 -> 0.02 (min_lr)
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.02)
    # logs["lr"] is the rate the epoch ran with (Keras logs it before reducing)
    assert hist.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_reduce_lr_on_plateau_resets_on_improvement():
    x, y = _data()
    model = _model(lr=0.1)
    rl = cb.ReduceLROnPlateau(monitor="score", factor=0.1, patience=2)
    model.fit(x, y, epochs=4, batch_size=16, verbose=0,
              callbacks=[_inject([1.0, 1.0, 0.5, 0.5]), rl])
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="factor"):
        cb.ReduceLROnPlateau(factor=1.0)


def test_learning_rate_scheduler_sets_lr_each_epoch():
    x, y = _data()
    model = _model(lr=0.1)
    seen = []
    spy = cb.LambdaCallback(on_train_batch_begin=lambda b, logs=None: seen.append(
        model.optimizer.param_groups[0]["lr"]) if b == 0 else None)
    sched = cb.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    hist = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[sched, spy])
    assert seen == pytest.approx([0.1, 0.05, 0.025])
    assert hist.history["lr"] == pytest.approx([0.1, 0.05, 0.025])


def test_learning_rate_scheduler_one_argument_and_bad_values():
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[cb.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.02)
    with pytest.raises(ValueError, match="finite"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[cb.LearningRateScheduler(lambda e, lr: float("nan"))])


def test_lr_callback_on_a_model_built_by_fit():
    x, y = _data()
    shendu.manual_seed(0)
    model = Sequential([Dense(8, activation="relu"), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[cb.LearningRateScheduler(lambda e, lr: 0.003)])
    assert model.optimizer.param_groups[0]["lr"] == 0.003
    assert sum(len(g["params"]) for g in model.optimizer.param_groups) == 4


# -- CSVLogger / TerminateOnNaN / LambdaCallback ---------------------------------------------
def test_csv_logger(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    hist = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                     callbacks=[cb.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(rows) == 4 and [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert [float(r[2]) for r in rows[1:]] == pytest.approx(hist.history["loss"])
    model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
              callbacks=[cb.CSVLogger(path, append=True)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 6 and rows.count(rows[0]) == 1  # one header only


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_terminate_on_nan(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x @ np.arange(1, 5, dtype=np.float32))[:, None] * 100
    shendu.manual_seed(0)
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile(optimizer=SGD(learning_rate=1e10), loss="mse")
    batches = []
    hist = model.fit(x, y, epochs=20, batch_size=8, verbose=0,
                     callbacks=[cb.TerminateOnNaN(), cb.LambdaCallback(
                         on_train_batch_end=lambda b, logs: batches.append(logs["loss"]))])
    assert len(hist.history["loss"]) == 1
    assert not math.isfinite(hist.history["loss"][-1])
    assert not math.isfinite(batches[-1]) and len(batches) < 8
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_lambda_callback_hooks_in_order():
    x, y = _data(20)
    events = []
    lc = cb.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda e, logs: events.append(f"epoch_begin {e}"),
        on_batch_end=lambda b, logs: events.append(f"batch {b}"),
        on_epoch_end=lambda e, logs: events.append(f"epoch_end {e} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"))
    _model().fit(x, y, epochs=2, batch_size=10, verbose=0, callbacks=[lc])
    assert events == ["train_begin", "epoch_begin 0", "batch 0", "batch 1",
                      "epoch_end 0 ['accuracy', 'loss']", "epoch_begin 1", "batch 0", "batch 1",
                      "epoch_end 1 ['accuracy', 'loss']", "train_end"]


def test_callbacks_must_be_callback_instances():
    x, y = _data(10)
    with pytest.raises(TypeError, match="Callback"):
        _model().fit(x, y, verbose=0, callbacks=[lambda *a: None])


# -- ProgbarLogger -------------------------------------------------------------------------------
def test_progbar_verbose_1(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "3/3 [==============================]" in out
    assert re.search(r"\d+(us|ms|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}", out)


def test_progbar_verbose_2_and_evaluate(capsys):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, batch_size=16, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "[" not in out
    assert re.search(r"3/3 - \d+(us|ms|s) - loss: \d\.\d{4} - accuracy: \d\.\d{4}", out)
    assert "/step" in out
    model.evaluate(x, y, batch_size=16, verbose=1)
    assert re.search(r"3/3 .*loss: \d\.\d{4} - accuracy: \d\.\d{4}", capsys.readouterr().out)
    model.fit(x, y, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""
