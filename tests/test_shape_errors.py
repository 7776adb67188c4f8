"""Shape errors that point at the cause: seeded mistakes, each message naming the module path,
the expected and the received shape, and the likely fix."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.errors import LayerIndexError, LayerTypeError, ShapeError
from shendu.keras import layers as K
from shendu.keras.models import Sequential


def _raises(fn) -> ShapeError:
    with pytest.raises(ShapeError) as info:
        fn()
    return info.value


def _says(err, *parts) -> str:
    msg = str(err)
    for p in parts:
        assert p in msg, f"{p!r} not in: {msg}"
    return msg


class Classifier(nn.Module):
    """features -> classifier, with the Flatten forgotten."""

    def __init__(self, flatten: bool = False):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
        self.classifier = nn.Sequential(OrderedDict(
            [("flat", nn.Flatten() if flatten else nn.Identity()),
             ("fc1", nn.Linear(8 * 6 * 6, 32)), ("fc2", nn.Linear(32, 10))]))

    def forward(self, x):
        return self.classifier(self.features(x))


class AutoEncoder(nn.Module):
    def __init__(self, hidden: int = 32):
        super().__init__()
        self.encoder = nn.Sequential(OrderedDict([("fc1", nn.Linear(20, hidden)),
                                                  ("act", nn.ReLU()),
                                                  ("fc2", nn.Linear(64, 8))]))

    def forward(self, x):
        return self.encoder(x)


# -- 1. a 4-D image batch into a Linear: the Flatten is missing -----------------------------------
def test_missing_flatten_before_linear():
    err = _raises(lambda: Classifier()(sd.zeros(2, 3, 8, 8)))
    _says(err, "Linear 'classifier.fc1'", "(*, 288)", "(2, 8, 6, 6)", "Flatten", "288 features")
    assert err.path == "classifier.fc1" and err.got == (2, 8, 6, 6) and err.expected == "(*, 288)"
    assert isinstance(err, ValueError)
    assert Classifier(flatten=True)(sd.zeros(2, 3, 8, 8)).shape == (2, 10)  # the fix works


# -- 2. a wrong in_features: the value that would fit ---------------------------------------------
def test_wrong_in_features_names_the_value_that_fits():
    err = _raises(lambda: AutoEncoder()(sd.zeros(4, 20)))
    _says(err, "Linear 'encoder.fc2'", "(*, 64)", "(4, 32)", "in_features=32 would fit",
          "nn.Linear(32, 8)")


# -- 3. a Keras Dense declared for flat input, given images ---------------------------------------
def test_keras_dense_given_images_hints_flatten():
    model = Sequential([K.Dense(16, input_shape=(784,), name="hidden"), K.Dense(10)])
    err = _raises(lambda: model(sd.zeros(5, 28, 28)))
    _says(err, "Dense 'hidden' (sequential", "(batch, ..., 784)", "(5, 28, 28)", "Flatten",
          "784 features, which fits")
    assert err.path.endswith(".0") and err.path.startswith(model.name)


# -- 4. channels-last data into a PyTorch Conv2d --------------------------------------------------
def test_conv2d_given_channels_last_data():
    err = _raises(lambda: Classifier()(sd.zeros(2, 8, 8, 3)))
    _says(err, "Conv2d 'features.0'", "(N, 3, H, W)", "(2, 8, 8, 3)", "channels-first",
          "x.permute(0, 3, 1, 2)")


# -- 5. channels-first data into a Keras Conv2D ---------------------------------------------------
def test_keras_conv2d_given_channels_first_data():
    model = Sequential([K.Conv2D(4, 3, input_shape=(32, 32, 3), name="c1"), K.Flatten()])
    err = _raises(lambda: model(sd.zeros(2, 3, 32, 32)))
    _says(err, "Conv2D 'c1' (sequential", "(N, H, W, 3)", "(2, 3, 32, 32)", "channels-last",
          "data_format='channels_first'")


# -- 6. one image without its batch axis ----------------------------------------------------------
def test_conv2d_given_one_image_without_batch_axis():
    err = _raises(lambda: Classifier()(sd.zeros(3, 8, 8)))
    _says(err, "Conv2d 'features.0'", "(N, C, H, W) with C=3", "(3, 8, 8)", "x[None]")


# -- 7. grayscale images without a channel axis into a Keras Conv2D -------------------------------
def test_keras_conv2d_given_grayscale_without_channel_axis():
    model = Sequential([K.Conv2D(4, 3, input_shape=(28, 28, 1), name="first")])
    err = _raises(lambda: model(sd.zeros(6, 28, 28)))
    _says(err, "Conv2D 'first'", "(N, H, W, C) with C=1", "(6, 28, 28)",
          "reshape(-1, 28, 28, 1)")


# -- 8. BatchNorm with the wrong num_features / the wrong rank ------------------------------------
def test_batchnorm_wrong_num_features_and_rank():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.bn = nn.BatchNorm2d(16)

        def forward(self, x):
            return self.bn(self.conv(x))

    net = nn.Sequential(OrderedDict([("block", Block())]))
    err = _raises(lambda: net(sd.zeros(2, 3, 7, 7)))
    _says(err, "BatchNorm2d 'block.bn'", "(N, 16, H, W)", "(2, 8, 5, 5)", "num_features=8")
    net = nn.Sequential(OrderedDict([("fc", nn.Linear(4, 4)), ("bn", nn.BatchNorm1d(4))]))
    err = _raises(lambda: net.bn(sd.zeros(2, 4, 3, 3)))
    _says(err, "BatchNorm1d 'bn'", "(N, 4)", "(2, 4, 3, 3)", "use BatchNorm2d(4)")
    err = _raises(lambda: nn.BatchNorm2d(3)(sd.zeros(2, 5, 5, 3)))
    _says(err, "(N, 3, H, W)", "(2, 5, 5, 3)", "channels-last")


# -- 9. LSTM: no batch/time axes, channels-first data, batch_first mix-up -------------------------
class Tagger(nn.Module):
    def __init__(self, batch_first: bool):
        super().__init__()
        self.rnn = nn.LSTM(4, 5, batch_first=batch_first)

    def forward(self, x, hx=None):
        return self.rnn(x, hx)[0]


def test_lstm_input_without_batch_and_time_axes():
    err = _raises(lambda: Tagger(True)(sd.zeros(4)))
    _says(err, "LSTM 'rnn'", "(N, T, 4)", "(4,)", "add the feature axis")


def test_lstm_given_channels_first_sequences():
    err = _raises(lambda: Tagger(True)(sd.zeros(2, 4, 10)))  # (N, C, L) from a Conv1d
    _says(err, "LSTM 'rnn'", "(N, T, 4)", "(2, 4, 10)", "x.transpose(1, 2)")


def test_lstm_wrong_input_size_names_the_value_that_fits():
    err = _raises(lambda: Tagger(False)(sd.zeros(6, 2, 7)))
    _says(err, "LSTM 'rnn'", "(T, N, 4)", "(6, 2, 7)", "input_size=7 would fit")


def test_lstm_batch_first_mixup_shows_through_h0():
    # (N=3, T=6, F=4) data read as (T, N, F): the batch size of h_0 gives it away
    h0 = (sd.zeros(1, 3, 5), sd.zeros(1, 3, 5))
    err = _raises(lambda: Tagger(False)(sd.zeros(3, 6, 4), h0))
    _says(err, "LSTM 'rnn'", "h_0 must have shape (1, 6, 5)", "(1, 3, 5)", "batch_first=True")
    assert Tagger(True)(sd.zeros(3, 6, 4), h0).shape == (3, 6, 5)  # the fix works


def test_keras_lstm_given_a_series_without_feature_axis():
    model = Sequential([K.LSTM(4, input_shape=(10, 1), name="rnn")], name="seq")
    err = _raises(lambda: model(sd.zeros(2, 10)))
    _says(err, "LSTM 'rnn' (seq.0)", "(batch, timesteps, 1)", "(2, 10)", "x[..., None]")


# -- 10. Embedding: float one-hot rows, ids past the vocabulary -----------------------------------
def test_embedding_index_and_dtype_errors_name_the_layer():
    net = nn.Sequential(OrderedDict([("embed", nn.Embedding(10, 3))]))
    with pytest.raises(IndexError) as info:
        net(sd.tensor(np.array([[1, 12]])))
    assert isinstance(info.value, LayerIndexError)
    _says(info.value, "Embedding 'embed'", "index 12", "10 embeddings", "(1, 2)", "13 rows")
    with pytest.raises(TypeError) as info:
        net(sd.tensor(np.eye(10, dtype=np.float32)[None] * 0.5))
    assert isinstance(info.value, LayerTypeError)
    _says(info.value, "Embedding 'embed'", "integer indices", "(1, 10, 10)")


# -- 11. Reshape / Flatten / pooling / LayerNorm contracts ----------------------------------------
def test_reshape_element_count():
    def build():  # raised while the model builds itself from input_shape
        Sequential([K.Dense(12, input_shape=(4,)), K.Reshape((3, 2, 2)), K.Reshape((5, 5))],
                   name="reshaper")

    err = _raises(build)
    _says(err, "Reshape", "(reshaper.2)", "(batch, 25 values)", "(1, 3, 2, 2)", "12 values",
          "Reshape((12,))")


def test_flatten_pooling_layernorm_rank_contracts():
    net = nn.Sequential(OrderedDict([("pool", nn.MaxPool2d(2)), ("flat", nn.Flatten()),
                                     ("norm", nn.LayerNorm(8))]))
    err = _raises(lambda: net(sd.zeros(4, 6, 6)))
    _says(err, "MaxPool2d 'pool'", "(N, C, H, W)", "(4, 6, 6)", "batch axis")
    err = _raises(lambda: net.flat(sd.zeros(5)))
    _says(err, "Flatten 'flat'", "(5,)", "already flat")
    err = _raises(lambda: net(sd.zeros(2, 1, 4, 4)))
    _says(err, "LayerNorm 'norm'", "(*, 8)", "(2, 4)", "LayerNorm(4)")


# -- paths in the error: nesting, Keras names, non-shape errors -----------------------------------
def test_path_follows_the_nesting_and_only_costs_when_raised():
    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.ModuleList([AutoEncoder(), AutoEncoder()])

        def forward(self, x):
            return self.body[1](x)

    err = _raises(lambda: Outer()(sd.zeros(4, 20)))
    assert err.path == "body.1.encoder.fc2"
    _says(err, "Linear 'body.1.encoder.fc2'", "(4, 32)")
    err = _raises(lambda: Outer().body[1].encoder.fc2(sd.zeros(4, 32)))  # called on its own
    _says(err, "Linear 'fc2'")


def test_other_errors_get_a_note_naming_the_module():
    class Broken(nn.Module):
        def forward(self, x):
            raise KeyError("boom")

    net = nn.Sequential(OrderedDict([("ok", nn.Identity()), ("bad", Broken())]))
    outer = nn.Sequential(OrderedDict([("inner", net)]))
    with pytest.raises(KeyError) as info:
        outer(sd.zeros(1))
    assert info.value.__notes__ == ["(raised in Broken 'inner.bad')"]


def test_correct_inputs_still_pass_through_every_checked_layer():
    assert Classifier(flatten=True)(sd.zeros(1, 3, 8, 8)).shape == (1, 10)
    assert nn.LSTM(4, 5)(sd.zeros(6, 4))[0].shape == (6, 5)  # unbatched (T, F)
    assert nn.MaxPool1d(2)(sd.zeros(1, 2, 6)).shape == (1, 2, 3)
    assert nn.GroupNorm(2, 4)(sd.zeros(2, 4, 3)).shape == (2, 4, 3)
    assert K.Permute((2, 1))(sd.zeros(2, 3, 4)).shape == (2, 4, 3)
    with pytest.raises(ShapeError, match=r"expects inputs with 3 dimensions.*\(2, 3\)"):
        K.Permute((2, 1))(sd.zeros(2, 3))
    with pytest.raises(ShapeError, match=r"GroupNorm .*expected 4 channels.*\(2, 6, 3\)"):
        nn.GroupNorm(2, 4)(sd.zeros(2, 6, 3))
