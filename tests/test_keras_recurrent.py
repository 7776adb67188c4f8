"""Keras recurrent layers: same numbers as torch.nn with the weights laid out Keras's way,
masks from Embedding(mask_zero=True), return_sequences/return_state/go_backwards."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.keras import layers as L
from shendu.keras.models import Sequential
from shendu.testing import gradcheck

torch = pytest.importorskip("torch")
X = np.random.default_rng(0).standard_normal((3, 5, 4))


def _torch_twin(kind, layer):
    """A torch layer holding the Keras layer's weights (gate order and layout converted)."""
    torch.set_num_threads(1)
    tm = getattr(torch.nn, kind)(4, layer.units, batch_first=True).double()
    k, rk = layer.kernel.numpy(), layer.recurrent_kernel.numpy()
    b = layer.bias.numpy()
    u = layer.units
    with torch.no_grad():
        if kind == "GRU":  # Keras z, r, h -> torch r, z, n
            order = np.r_[u:2 * u, 0:u, 2 * u:3 * u]
            tm.weight_ih_l0.copy_(torch.tensor(k[:, order].T))
            tm.weight_hh_l0.copy_(torch.tensor(rk[:, order].T))
            tm.bias_ih_l0.copy_(torch.tensor(b[0, order]))
            tm.bias_hh_l0.copy_(torch.tensor(b[1, order]))
        else:
            tm.weight_ih_l0.copy_(torch.tensor(k.T))
            tm.weight_hh_l0.copy_(torch.tensor(rk.T))
            tm.bias_ih_l0.copy_(torch.tensor(b))
            tm.bias_hh_l0.zero_()
    return tm


@pytest.mark.parametrize("kind,make", [("LSTM", L.LSTM), ("GRU", L.GRU),
                                       ("RNN", L.SimpleRNN)])
def test_keras_layers_match_torch(kind, make):
    layer = make(6, return_sequences=True, return_state=True)
    layer(sd.tensor(X.astype(np.float32)))
    layer.double()
    with sd.no_grad():
        layer.bias.data[...] = np.random.default_rng(1).standard_normal(layer.bias.shape)
    outs = layer(sd.tensor(X))
    t_out, t_state = _torch_twin(kind, layer)(torch.tensor(X))
    t_h = t_state[0] if kind == "LSTM" else t_state
    np.testing.assert_allclose(outs[0].numpy(), t_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(outs[1].numpy(), t_h.detach().numpy()[0], atol=1e-12)


def test_lstm_defaults_and_gradcheck():
    layer = L.LSTM(3, input_shape=(5, 4))
    assert np.all(layer.bias.numpy()[3:6] == 1.0)  # unit_forget_bias
    layer.double()
    x = sd.tensor(X, requires_grad=True)
    assert gradcheck(lambda inp, *p: layer(inp), [x, *layer.parameters()])


def test_go_backwards_reverses_the_sequence():
    fwd = L.LSTM(3, return_sequences=True)
    fwd(sd.tensor(X.astype(np.float32)))
    back = L.LSTM(3, return_sequences=True, go_backwards=True)
    back(sd.tensor(X.astype(np.float32)))
    back.set_weights(fwd.get_weights())
    a = fwd(sd.tensor(X[:, ::-1].copy().astype(np.float32))).numpy()
    b = back(sd.tensor(X.astype(np.float32))).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_mask_zero_ignores_padding_and_bidirectional_shapes():
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, 20, (4, 6))
    tokens[0, 3:] = 0
    tokens[1, 1:] = 0
    model = Sequential([L.Embedding(20, 5, mask_zero=True, input_shape=(6,)), L.LSTM(3)])
    longer = np.concatenate([tokens, np.zeros((4, 4), np.int64)], axis=1)
    model2 = Sequential([L.Embedding(20, 5, mask_zero=True, input_shape=(10,)), L.LSTM(3)])
    model2.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(tokens), model2.predict(longer), atol=1e-6)
    bi = Sequential([L.Embedding(20, 5, mask_zero=True, input_shape=(6,)),
                     L.Bidirectional(L.GRU(4, return_sequences=True))])
    assert bi.predict(tokens).shape == (4, 6, 8)


def test_small_sequence_task_is_learned():
    rng = np.random.default_rng(3)
    lengths = rng.integers(3, 13, 256)
    x = np.zeros((256, 12), np.int64)
    for i, n in enumerate(lengths):
        x[i, :n] = rng.integers(1, 30, n)
    y = ((x > 15).sum(1) > lengths / 2).astype(np.int64)
    sd.manual_seed(0)
    model = Sequential([L.Embedding(30, 8, mask_zero=True, input_shape=(12,)), L.LSTM(8),
                        L.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.75
    assert history.history["loss"][-1] < history.history["loss"][0]
