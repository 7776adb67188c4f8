"""TimeDistributed: shapes, equality with a manual fold of time into the batch, gradients,
Keras masks, and save/load of a model that contains it."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import shendu as sd
from shendu.io import UnsafeFileError
from shendu.keras import layers as L
from shendu.keras.models import Sequential, load_model
from shendu.nn.layers import TimeDistributed
from shendu.testing import gradcheck

X = np.random.default_rng(0).standard_normal((2, 3, 4))


def test_shapes_and_equality_with_a_manual_reshape():
    td = L.TimeDistributed(L.Dense(5, activation="tanh"))
    assert L.TimeDistributed is TimeDistributed
    y = td(sd.tensor(X.astype(np.float32)))
    assert tuple(y.shape) == (2, 3, 5) and y.dtype == np.float32
    manual = td.layer(sd.tensor(X.reshape(6, 4).astype(np.float32))).numpy().reshape(2, 3, 5)
    np.testing.assert_array_equal(y.numpy(), manual)
    assert td.compute_output_shape((2, 3, 4)) == (2, 3, 5)
    assert td.compute_output_shape((None, 3, 4)) == (None, 3, 5)
    assert td.compute_output_shape((None, None, 4)) == (None, None, 5)
    conv = TimeDistributed(L.Conv2D(2, 3, padding="same"))  # a video: (N, T, H, W, C)
    assert tuple(conv(sd.zeros(2, 3, 6, 6, 1)).shape) == (2, 3, 6, 6, 2)
    assert conv.compute_output_shape((None, 3, 6, 6, 1)) == (None, 3, 6, 6, 2)


def test_declared_input_shape_builds_the_wrapped_layer():
    td = TimeDistributed(L.Dense(5), input_shape=(3, 4))
    assert td.built and td.layer.built
    assert [tuple(p.shape) for p in td.parameters()] == [(4, 5), (5,)]
    model = Sequential([td])
    assert model.count_params() == 25


def test_gradcheck_float64():
    td = TimeDistributed(L.Dense(3, activation="tanh"))
    td(sd.tensor(X.astype(np.float32)))
    td.double()
    x = sd.tensor(X, requires_grad=True)
    params = list(td.parameters())
    assert gradcheck(lambda inp, *p: td(inp), [x, *params])
    assert all(p.grad is not None for p in params)


def test_errors_name_the_layer():
    with pytest.raises(TypeError, match="wraps a layer"):
        TimeDistributed("dense")
    td = TimeDistributed(L.Dense(2), name="td")
    with pytest.raises(ValueError, match="'td'.*at least 3 dimensions"):
        td(sd.zeros(4, 3))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        td.compute_output_shape((None, 3))


def test_time_mask_passes_through_to_the_lstm():
    rng = np.random.default_rng(1)
    tokens = rng.integers(1, 20, (3, 4))
    tokens[0, 2:] = 0
    longer = np.concatenate([tokens, np.zeros((3, 3), np.int64)], axis=1)

    def make(n):
        return Sequential([L.Embedding(20, 5, mask_zero=True, input_shape=(n,)),
                           L.TimeDistributed(L.Dense(6, activation="relu")), L.LSTM(3)])

    short, long_ = make(4), make(7)
    long_.set_weights(short.get_weights())
    # the padding steps are skipped, so trailing zeros change nothing
    np.testing.assert_allclose(short.predict(tokens), long_.predict(longer), atol=1e-6)
    td = list(short.children())[1]
    mask = tokens != 0
    np.testing.assert_array_equal(td.compute_mask(sd.zeros(3, 4, 5), mask), mask)


def test_wrapped_layer_mask_is_unfolded():
    words = np.array([[[3, 0], [0, 0]], [[1, 2], [4, 0]]])  # (batch, sentences, words)
    td = TimeDistributed(L.Embedding(9, 2, mask_zero=True))
    assert tuple(td(sd.tensor(words)).shape) == (2, 2, 2, 2)
    np.testing.assert_array_equal(td.compute_mask(words), words != 0)
    dense = TimeDistributed(L.Dense(2))
    # a per-word mask reduces to a per-step one after a layer that makes no mask
    np.testing.assert_array_equal(dense.compute_mask(np.zeros((2, 2, 3)), words != 0),
                                  [[True, False], [True, True]])
    assert dense.compute_mask(np.zeros((2, 2, 3)), None) is None


def _model():
    model = Sequential([
        L.TimeDistributed(L.Dense(8, activation="relu"), input_shape=(3, 4)),
        L.TimeDistributed(L.Dense(2)),
        L.Flatten(),
        L.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_save_load_round_trip(tmp_path):
    sd.manual_seed(0)
    model = _model()
    x = X.astype(np.float32)
    model.fit(x, np.array([0, 1]), epochs=2, batch_size=2, verbose=0)
    path = tmp_path / "td.shendu"
    model.save(path)
    back = load_model(path)
    np.testing.assert_array_equal(back.predict(x), model.predict(x))
    first = list(back.children())[0]
    assert isinstance(first, TimeDistributed) and type(first.layer).__name__ == "Dense"
    assert first.layer.units == 8 and first.layer.activation_name == "relu"


def test_save_refuses_unregistered_wrapped_layers(tmp_path):
    class Twice(L.Layer):  # a user's own layer: not in the registry
        def forward(self, x):
            return x * 2

    model = Sequential([L.TimeDistributed(Twice(), input_shape=(3, 4))])
    assert tuple(model(sd.zeros(1, 3, 4)).shape) == (1, 3, 4)
    with pytest.raises(TypeError, match="not one of shendu's built-in layers"):
        model.save(tmp_path / "m.shendu")


def _rewrite_config(path, fn):
    """Change the JSON config inside a saved model file (its header is the safetensors one)."""
    from shendu import io

    meta, arrays = io._read_container(path, "model")
    config = json.loads(meta["config"])
    fn(config)
    io._write_container(path, arrays, {**meta, "config": json.dumps(config)})


@pytest.mark.parametrize("edit,message", [
    (lambda c: c["layers"][0]["config"]["layer"].update(class_name="Popen"), "unknown wrapped"),
    (lambda c: c["layers"][0]["config"].update(layer=copy.deepcopy(c["layers"][0])),
     "unknown wrapped"),
    (lambda c: c["layers"][0]["config"]["layer"]["config"].update(units=9), "kernel"),
    (lambda c: c["layers"][0]["config"].update(layer=[1, 2]), "malformed"),
])
def test_load_refuses_tampered_wrapped_layers(tmp_path, edit, message):
    path = tmp_path / "td.shendu"
    _model().save(path)
    _rewrite_config(path, edit)
    with pytest.raises(UnsafeFileError, match=message):
        load_model(path)
