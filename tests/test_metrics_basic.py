"""shendu.metrics: stateful metrics that accumulate exactly over an epoch, and name lookup."""

import numpy as np
import pytest

import shendu
from shendu import metrics as M


def _probs(n, k, seed=0):
    p = np.random.default_rng(seed).random((n, k)).astype(np.float32)
    return p / p.sum(1, keepdims=True)


def test_accumulates_over_uneven_batches_exactly():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 37)
    p = _probs(37, 4)
    m = M.SparseCategoricalAccuracy()
    per_batch = []
    for i in range(0, 37, 16):  # 16, 16, 5
        m.update_state(y[i:i + 16], p[i:i + 16])
        per_batch.append((p[i:i + 16].argmax(1) == y[i:i + 16]).mean())
    exact = (p.argmax(1) == y).mean()
    assert m.result() == pytest.approx(exact)
    assert m.count == 37
    assert not np.isclose(np.mean(per_batch), exact)
    m.reset_state()
    assert m.result() == 0.0 and m.count == 0


def test_sparse_categorical_accuracy_label_shapes():
    p = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    for y in ([1, 0, 0], [[1], [0], [0]], np.array([1.0, 0.0, 0.0])):
        m = M.SparseCategoricalAccuracy()
        m.update_state(y, p)
        assert m.result() == pytest.approx(2 / 3)


def test_categorical_and_binary_accuracy():
    m = M.CategoricalAccuracy()
    m.update_state([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]])
    assert m.result() == 0.5 and m.name == "categorical_accuracy"
    b = M.BinaryAccuracy()
    b.update_state([[1], [0], [1], [0]], [[0.6], [0.4], [0.4], [0.7]])
    assert b.result() == 0.5
    b2 = M.BinaryAccuracy(threshold=0.65)
    b2.update_state([1, 0, 1, 0], [0.6, 0.4, 0.7, 0.7])
    assert b2.result() == 0.5


def test_sample_weight_weights_the_mean():
    m = M.SparseCategoricalAccuracy()
    m.update_state([0, 1, 1], [[0.9, 0.1], [0.9, 0.1], [0.2, 0.8]], sample_weight=[1, 3, 0])
    assert m.result() == pytest.approx(1 / 4)
    m.update_state([0], [[0.6, 0.4]], sample_weight=[4])
    assert m.result() == pytest.approx(5 / 8)


def test_mean():
    m = M.Mean("loss")
    m.update_state([1.0, 2.0, 3.0])
    m.update_state([10.0], sample_weight=[3.0])
    assert m.result() == pytest.approx((1 + 2 + 3 + 30) / 6)
    assert m.name == "loss"
    assert M.Mean().result() == 0.0


def test_accepts_tensors_and_call_returns_running_result():
    m = M.CategoricalAccuracy()
    r1 = m(shendu.tensor([[0.0, 1.0]]), shendu.tensor([[0.1, 0.9]]))
    r2 = m(shendu.tensor([[1.0, 0.0]]), shendu.tensor([[0.1, 0.9]]))
    assert (r1, r2) == (1.0, 0.5)


def test_accuracy_function_picks_the_variant_by_shapes():
    p = np.array([[0.1, 0.9], [0.8, 0.2]])
    assert M.accuracy([1, 1], p) == 0.5  # sparse labels
    assert M.accuracy([[0, 1], [0, 1]], p) == 0.5  # one-hot
    assert M.accuracy([1, 0, 1], np.array([0.7, 0.2, 0.1])) == pytest.approx(2 / 3)  # binary
    assert M.accuracy([[1], [0]], np.array([[0.7], [0.6]])) == 0.5
    assert M.accuracy(np.array([1, 2, 3]), np.array([1, 2, 4])) == pytest.approx(2 / 3)


@pytest.mark.parametrize("loss, cls", [
    ("sparse_categorical_crossentropy", M.SparseCategoricalAccuracy),
    ("categorical_crossentropy", M.CategoricalAccuracy),
    ("binary_crossentropy", M.BinaryAccuracy),
    (None, M.Accuracy),
    ("mse", M.Accuracy),
])
def test_get_accuracy_follows_the_loss(loss, cls):
    m = M.get("accuracy", loss)
    assert type(m) is cls and m.name == "accuracy"
    assert M.get("acc", loss).name == "acc"


def test_get_other_identifiers():
    assert type(M.get("categorical_accuracy")) is M.CategoricalAccuracy
    assert type(M.get("Binary_Accuracy")) is M.BinaryAccuracy
    inst = M.BinaryAccuracy(threshold=0.3)
    assert M.get(inst) is inst
    assert type(M.get(M.CategoricalAccuracy)) is M.CategoricalAccuracy
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        M.get("f1")
    with pytest.raises(TypeError, match="metric must be"):
        M.get(3)


def test_callable_metric_averaged_over_samples():
    def abs_err(y_true, y_pred):
        return np.abs(y_true.numpy() - y_pred.numpy()).mean(-1)

    m = M.get(abs_err)
    assert m.name == "abs_err"
    m.update_state(np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]]))
    m.update_state(np.array([[0.0]]), np.array([[3.0]]))
    assert m.result() == pytest.approx((0.5 + 0 + 3) / 3)


def test_keras_metrics_module_exports():
    from shendu.keras import metrics as KM

    assert KM.SparseCategoricalAccuracy is M.SparseCategoricalAccuracy
    assert KM.get is M.get
