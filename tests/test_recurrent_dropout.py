"""Keras's recurrent_dropout on SimpleRNN/LSTM/GRU: inactive in inference, one mask per gate
drawn once per call and kept for every step, correct gradients, and padded steps that leave
the states alone."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.keras import layers as L
from shendu.keras.models import Sequential
from shendu.testing import gradcheck

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 5, 4))
MASK = np.ones((3, 5), bool)
MASK[0, 3:] = False  # sample 0 has two padded steps at the end
MASK[2, 1] = False  # and sample 2 one in the middle
KINDS = [L.SimpleRNN, L.LSTM, L.GRU]


def _pair(cls, **kw):
    """A layer with recurrent dropout and a twin without it, sharing weights."""
    a = cls(6, recurrent_dropout=0.4, seed=1, **kw)
    b = cls(6, **kw)
    a(sd.tensor(X.astype(np.float32)))
    b(sd.tensor(X.astype(np.float32)))
    b.set_weights(a.get_weights())
    return a, b


def _numpy(t):
    return [o.numpy() for o in t] if isinstance(t, list) else [t.numpy()]


@pytest.mark.parametrize("cls", KINDS)
def test_inference_equals_the_layer_without_dropout(cls):
    a, b = _pair(cls, return_sequences=True, return_state=True, go_backwards=True)
    a.eval()
    b.eval()
    x = sd.tensor(X.astype(np.float32))
    for p, q in zip(_numpy(a(x, mask=MASK)), _numpy(b(x, mask=MASK))):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("cls", KINDS)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_step_loop_with_all_ones_masks_equals_the_fused_path(cls, go_backwards, monkeypatch):
    """Training takes the step loop; with masks that keep everything it must give the fused
    primitive's numbers, with sequence masks, initial states and return_state."""
    a, b = _pair(cls, return_sequences=True, return_state=True, go_backwards=go_backwards)
    a.double()
    b.double()
    monkeypatch.setattr(a, "_recurrent_masks",
                        lambda n, dtype: np.ones((a.gates, n, a.units), dtype))
    a.train()
    b.eval()
    states = [sd.tensor(RNG.standard_normal((3, 6))) for _ in range(a.n_states)]
    out_a = a(sd.tensor(X), mask=MASK, initial_state=states)
    out_b = b(sd.tensor(X), mask=MASK, initial_state=states)
    assert len(out_a) == len(out_b) == 1 + a.n_states
    for p, q in zip(_numpy(out_a), _numpy(out_b)):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-12)


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _reference(layer, x, masks):
    """Keras's cells in NumPy with the given per-gate masks (gates, N, units)."""
    k, rk = layer.kernel.numpy(), layer.recurrent_kernel.numpy()
    b = layer.bias.numpy()
    u, n = layer.units, x.shape[0]
    h, c = np.zeros((n, u)), np.zeros((n, u))
    b_in, b_rec = (b[0], b[1]) if b.ndim == 2 else (b, np.zeros_like(b))
    outs = []
    for t in range(x.shape[1]):
        xw = x[:, t] @ k + b_in
        rec = np.concatenate([(h * masks[g]) @ rk[:, g * u:(g + 1) * u]
                              for g in range(layer.gates)], axis=1) + b_rec
        if layer.gates == 1:
            h = np.tanh(xw + rec)
        elif layer.gates == 4:
            z = xw + rec
            i, f, o = _sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u]), _sigmoid(z[:, 3 * u:])
            c = f * c + i * np.tanh(z[:, 2 * u:3 * u])
            h = o * np.tanh(c)
        else:
            zg = _sigmoid(xw[:, :u] + rec[:, :u])
            r = _sigmoid(xw[:, u:2 * u] + rec[:, u:2 * u])
            hh = np.tanh(xw[:, 2 * u:] + r * rec[:, 2 * u:])
            h = zg * h + (1 - zg) * hh  # the carried state itself is not dropped
        outs.append(h)
    return np.stack(outs, axis=1)


@pytest.mark.parametrize("cls", KINDS)
def test_training_matches_a_reference_with_the_drawn_masks(cls, monkeypatch):
    layer = cls(6, recurrent_dropout=0.5, seed=2, return_sequences=True)
    layer(sd.tensor(X.astype(np.float32)))
    layer.double()
    drawn = []
    original = layer._recurrent_masks

    def spy(n, dtype):
        drawn.append(original(n, dtype))
        return drawn[-1]

    monkeypatch.setattr(layer, "_recurrent_masks", spy)
    layer.train()
    y = layer(sd.tensor(X)).numpy()
    assert len(drawn) == 1  # one draw per call, used at every step
    masks = drawn[0]
    assert masks.shape == (layer.gates, 3, 6)
    assert set(np.unique(masks)) <= {0.0, 2.0}  # kept units scaled by 1 / (1 - 0.5)
    np.testing.assert_allclose(y, _reference(layer, X, masks), rtol=1e-10, atol=1e-12)
    layer(sd.tensor(X))
    assert len(drawn) == 2 and not np.array_equal(drawn[0], drawn[1])  # fresh per call


def test_masks_are_constant_across_time_steps():
    """An RNN whose units evolve independently (identity recurrence, no input): a unit dropped
    once would be zero from then on, a kept one follows tanh(2 h); resampling per step would
    mix the two within one unit's trajectory."""
    layer = L.SimpleRNN(32, recurrent_dropout=0.5, seed=0, return_sequences=True)
    x = np.zeros((4, 6, 3))
    layer(sd.tensor(x.astype(np.float32)))
    layer.double()
    layer.kernel.data[...] = 0
    layer.bias.data[...] = 0
    layer.recurrent_kernel.data[...] = np.eye(32)
    layer.train()
    h0 = np.full((4, 32), 0.5)
    y = layer(sd.tensor(x), initial_state=[sd.tensor(h0)]).numpy()
    kept = np.empty((6, 4, 32))
    h = h0
    for t in range(6):
        h = np.tanh(2.0 * h)
        kept[t] = h
    kept = kept.transpose(1, 0, 2)
    dropped = np.all(y == 0, axis=1)  # (batch, units): zero at every step
    alive = np.all(np.isclose(y, kept, rtol=1e-12), axis=1)
    assert np.all(dropped ^ alive)
    assert 0.2 < dropped.mean() < 0.8


@pytest.mark.parametrize("cls", KINDS)
def test_gradcheck_with_a_fixed_seed(cls):
    layer = cls(3, recurrent_dropout=0.3, seed=5, return_sequences=True, go_backwards=True)
    x = sd.tensor(X[:2, :4], requires_grad=True)
    layer(sd.tensor(X[:2, :4].astype(np.float32)))
    layer.double()
    layer.train()
    h0 = [sd.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
          for _ in range(layer.n_states)]
    params = list(layer.parameters())

    def fn(inp, *args):
        layer.generator.manual_seed(5)  # the same masks at every evaluation
        return layer(inp, mask=MASK[:2, :4], initial_state=list(args[:layer.n_states]))

    assert gradcheck(fn, [x, *h0, *params])
    assert all(p.grad is not None for p in params)


@pytest.mark.parametrize("cls", KINDS)
def test_padded_steps_leave_the_states_untouched(cls):
    layer = cls(4, recurrent_dropout=0.5, seed=7, return_sequences=True, return_state=True)
    layer(sd.tensor(X.astype(np.float32)))
    layer.train()
    x = sd.tensor(X.astype(np.float32))
    ys, *states = layer(x, mask=MASK)
    ys = ys.numpy()
    np.testing.assert_array_equal(ys[0, 3], ys[0, 2])  # carried through the padding
    np.testing.assert_array_equal(ys[0, 4], ys[0, 2])
    np.testing.assert_array_equal(ys[2, 1], ys[2, 0])
    np.testing.assert_array_equal(states[0].numpy()[0], ys[0, 2])
    # the same masks (same seed) on the unpadded prefix give the same final state
    layer.generator.manual_seed(7)
    _, *short = layer(sd.tensor(X[:1, :3].astype(np.float32)))
    layer.generator.manual_seed(7)
    _, *full = layer(sd.tensor(X[:1].astype(np.float32)), mask=MASK[:1])
    for s, f in zip(short, full):
        np.testing.assert_allclose(s.numpy(), f.numpy(), atol=1e-6)


def test_config_errors_and_training_in_a_model():
    layer = L.LSTM(4, recurrent_dropout=0.25, seed=3)
    cfg = layer.get_config()
    assert cfg["recurrent_dropout"] == 0.25 and cfg["seed"] == 3
    clone = L.LSTM(**{k: v for k, v in cfg.items() if k != "name"})
    assert clone.recurrent_dropout == 0.25
    with pytest.raises(ValueError, match="recurrent_dropout must be in"):
        L.GRU(4, recurrent_dropout=1.0)
    with pytest.raises(ValueError, match="dropout must be in"):
        L.GRU(4, dropout=-0.1)
    with pytest.raises(NotImplementedError, match="stateful"):
        L.LSTM(4, stateful=True)
    bi = L.Bidirectional(L.GRU(3, recurrent_dropout=0.2, return_sequences=True))
    assert bi.backward_layer.recurrent_dropout == 0.2
    sd.manual_seed(0)
    tokens = np.random.default_rng(4).integers(1, 12, (16, 6))
    tokens[:4, 4:] = 0
    model = Sequential([L.Embedding(12, 5, mask_zero=True, input_shape=(6,)),
                        L.LSTM(6, dropout=0.2, recurrent_dropout=0.3),
                        L.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    y = (tokens.sum(1) % 2).astype(np.int64)
    history = model.fit(tokens, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    np.testing.assert_array_equal(model.predict(tokens), model.predict(tokens))  # no noise
