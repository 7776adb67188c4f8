"""Saving and loading Keras sequence models: Embedding, recurrent layers and their wrappers."""

import json
import struct

import numpy as np
import pytest

import shendu
from shendu.io import UnsafeFileError
from shendu.keras import layers, models

RNG = np.random.default_rng(0)


def _cases():
    return {
        "embedding_lstm": (lambda: models.Sequential([
            layers.Embedding(100, 8, mask_zero=True, input_shape=(7,)), layers.LSTM(6),
            layers.Dense(2, activation="softmax")]), RNG.integers(0, 100, (4, 7))),
        "bidirectional_gru_no_input_shape": (lambda: models.Sequential([
            layers.Embedding(50, 5), layers.Bidirectional(layers.GRU(4, return_sequences=True),
                                                          merge_mode="sum"),
            layers.SimpleRNN(3), layers.Dense(1)]), RNG.integers(0, 50, (4, 6))),
        "free_length_time_distributed": (lambda: models.Sequential([
            layers.LSTM(5, input_shape=(None, 3), return_sequences=True),
            layers.TimeDistributed(layers.Dense(2))]),
            RNG.normal(size=(4, 9, 3)).astype(np.float32)),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_sequence_model_round_trip(tmp_path, name):
    make, x = _cases()[name]
    shendu.manual_seed(0)
    model = make()
    model.compile("adam", "mse")
    want = model.predict(x)
    model.save(tmp_path / "m.shendu")
    back = models.load_model(tmp_path / "m.shendu")
    np.testing.assert_array_equal(back.predict(x), want)
    assert [type(m).__name__ for m in back.children()] == \
        [type(m).__name__ for m in model.children()]


def _edit_config(path, edit):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header["__metadata__"].pop("sha256")  # a tamperer drops (or recomputes) the digest
    config = json.loads(header["__metadata__"]["config"])
    edit(config["layers"])
    header["__metadata__"]["config"] = json.dumps(config)
    h = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + raw[8 + n:])


@pytest.mark.parametrize("edit, match", [
    (lambda ls: ls[0]["config"].update(input_dim=10 ** 9), r"embeddings of shape"),
    (lambda ls: ls[1]["config"].update(units=7), r"KerasLSTM"),
    (lambda ls: ls[1].update(class_name="KerasGRU"), r"KerasGRU"),
])
def test_tampered_sequence_config_refused_before_allocation(tmp_path, edit, match):
    make, _ = _cases()["embedding_lstm"]
    model = make()
    path = tmp_path / "m.shendu"
    model.save(path)
    _edit_config(path, edit)
    with pytest.raises(UnsafeFileError, match=match):
        models.load_model(path)


def test_wrapped_layer_must_come_from_the_registry(tmp_path):
    make, _ = _cases()["bidirectional_gru_no_input_shape"]
    path = tmp_path / "m.shendu"
    make().save(path)

    def edit(ls):
        ls[1]["config"]["layer"]["class_name"] = "os.system"
    _edit_config(path, edit)
    with pytest.raises(UnsafeFileError, match="unknown wrapped class"):
        models.load_model(path)
