"""The vision model zoo and saving CNNs: each zoo model builds in one call with the parameter
count its architecture implies, runs, learns a little, and survives model.save/load_model bit
for bit; CNN Sequentials (Keras and PyTorch styles) round-trip; tampered configs are refused
before they allocate anything."""

from __future__ import annotations

import json
import struct
import tracemalloc

import numpy as np
import pytest

import shendu as sd
from shendu import io
from shendu.io import UnsafeFileError
from shendu.keras.models import load_model
from shendu.models import Sequential
from shendu.nn import layers as L
from shendu.vision import models as VM

ZOO = ["seeds_cnn", "lenet5", "resnet20", "vgg_small"]


def _conv(k, cin, cout, bias=True):
    return k * k * cin * cout + (cout if bias else 0)


def _resnet_params(depth=20, width=16, channels=1, classes=10):
    """He et al.'s CIFAR ResNet: 3x3 convs without bias, BatchNorm (gamma and beta), 1x1
    projection shortcuts where a stage halves the size, global pooling, dense head."""
    n = (depth - 2) // 6
    total = _conv(3, channels, width, False) + 2 * width  # stem conv + BN
    cin = width
    for stage in range(3):
        cout = width * 2 ** stage
        for i in range(n):
            total += _conv(3, cin, cout, False) + _conv(3, cout, cout, False) + 4 * cout
            if stage > 0 and i == 0:
                total += _conv(1, cin, cout, False) + 2 * cout  # projection + its BN
            cin = cout
    return total + cin * classes + classes


EXPECTED_PARAMS = {
    # conv 32-64-128 (28 -> 26 -> 13 -> 11 -> 5 -> 3), dense 3*3*128 -> 128 -> 10
    "seeds_cnn": _conv(3, 1, 32) + _conv(3, 32, 64) + _conv(3, 64, 128) + (1152 * 128 + 128)
    + (128 * 10 + 10),
    # conv 6 "same" (28 -> pool 14), conv 16 valid (10 -> pool 5), dense 400 -> 120 -> 84 -> 10
    "lenet5": _conv(5, 1, 6) + _conv(5, 6, 16) + (400 * 120 + 120) + (120 * 84 + 84)
    + (84 * 10 + 10),
    "resnet20": _resnet_params(),
    # (conv-BN-ReLU) x2 per stage at widths 32-64-128, no conv bias; 28 -> 14 -> 7 -> 4
    "vgg_small": sum(_conv(3, cin, cout, False) + 2 * cout
                     for cin, cout in ((1, 32), (32, 32), (32, 64), (64, 64), (64, 128),
                                       (128, 128)))
    + (4 * 4 * 128 * 256 + 256) + (256 * 10 + 10),
}


def test_resnet20_parameter_count_is_the_known_one():
    assert _resnet_params() == 272186  # 1-channel input, 10 classes
    assert _resnet_params(channels=3) == 272474  # the CIFAR-10 ResNet-20 ("0.27M")


def _images(n=24, classes=3, seed=0):
    """Tiny learnable set: each class lights up its own horizontal band of the image."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(0, 0.3, (n, 28, 28, 1)).astype(np.float32)
    for i, c in enumerate(y):
        x[i, 2 + 8 * c:8 + 8 * c, 4:24] += 2.0
    return x, y


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_builds_in_one_call_and_runs(name):
    model = VM.get(name)
    assert model.built if hasattr(model, "built") else True
    assert model.count_params() == EXPECTED_PARAMS[name]
    assert sum(p.numel() for p in model.parameters()) == EXPECTED_PARAMS[name]
    x = np.random.default_rng(1).standard_normal((2, 28, 28, 1)).astype(np.float32)
    model.eval()
    y = model(sd.tensor(x))
    assert y.shape == (2, 10) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy().sum(-1), 1.0, rtol=1e-5)  # softmax head
    assert model.predict(x, verbose=0).shape == (2, 10)
    # the registry's aliases and arguments
    assert type(getattr(VM, name)()) is type(model)
    other = VM.get(name, input_shape=(32, 32, 3), num_classes=5)
    other.eval()
    assert other(sd.zeros(1, 32, 32, 3)).shape == (1, 5)


def test_zoo_aliases_and_unknown_names():
    assert VM.get("cnn").name == "seeds_cnn" and VM.get("VGG").name == "vgg_small"
    assert VM.get("ResNet20").count_params() == EXPECTED_PARAMS["resnet20"]
    assert VM.resnet20(depth=32).count_params() == _resnet_params(32)
    with pytest.raises(ValueError, match="unknown model 'alexnet'.*resnet20"):
        VM.get("alexnet")
    with pytest.raises(ValueError, match="6n\\+2"):
        VM.resnet20(depth=21)


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_summary(name, capsys):
    model = VM.get(name)
    model.summary()
    out = capsys.readouterr().out
    assert f"Total params: {EXPECTED_PARAMS[name]}" in out
    assert "(None, 28, 28," in out or "(None, 26, 26, 32)" in out
    assert "Conv2D" in out


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_learns_a_tiny_set(name):
    sd.manual_seed(0)
    model = VM.get(name, num_classes=3)
    x, y = _images()
    model.compile(optimizer=sd.optim.Adam(model.parameters(), lr=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=3, batch_size=12, verbose=0, shuffle=False)
    losses = hist.history["loss"]
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_save_load_round_trip_is_bit_exact(name, tmp_path):
    sd.manual_seed(1)
    model = VM.get(name)
    x, y = _images(n=8, classes=10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # moves weights and BN statistics
    path = tmp_path / f"{name}.shendu"
    model.save(path)
    back = load_model(path)
    assert type(back) is type(model) and back.count_params() == model.count_params()
    saved, loaded = model.state_dict(), back.state_dict()
    assert list(saved) == list(loaded)
    for k in saved:
        assert loaded[k].dtype == saved[k].dtype
        np.testing.assert_array_equal(loaded[k].numpy(), saved[k].numpy(), err_msg=k)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.compiled  # the compile settings travel with the model
    back.fit(x, y, epochs=1, batch_size=4, verbose=0)


def test_resnet_is_saved_through_the_zoo_registry(tmp_path):
    model = VM.resnet20(input_shape=(16, 16, 3), num_classes=4, width=8)
    path = tmp_path / "r.shendu"
    model.save(path)
    header, _ = _read_raw(path)
    config = json.loads(header["__metadata__"]["config"])
    assert config["class_name"] == "ZooModel" and config["zoo"] == "resnet20"
    kwargs = config["kwargs"]
    assert {k: kwargs[k] for k in ("input_shape", "num_classes", "depth", "width")} == {
        "input_shape": [16, 16, 3], "num_classes": 4, "depth": 20, "width": 8}
    back = load_model(path)
    x = np.random.default_rng(0).standard_normal((2, 16, 16, 3)).astype(np.float32)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.count_params() == _resnet_params(width=8, channels=3, classes=4)
    # a tampered builder argument is refused
    header["__metadata__"]["config"] = json.dumps({**config, "kwargs": {**kwargs,
                                                                        "width": 10 ** 6}})
    _write_raw(path, header, _read_raw(path)[1])
    with pytest.raises(UnsafeFileError, match="width"):
        load_model(path)


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_with_augmentation_round_trips(name, tmp_path):
    model = VM.get(name, input_shape=(24, 24, 3), num_classes=3, augment=True, flip=True)
    assert model.count_params() == VM.get(name, input_shape=(24, 24, 3),
                                           num_classes=3).count_params()
    x = np.random.default_rng(0).standard_normal((4, 24, 24, 3)).astype(np.float32)
    model.train()
    model(sd.tensor(x))  # augmentation runs in training only
    path = tmp_path / "aug.shendu"
    model.save(path)
    back = load_model(path)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


# -- saving CNN Sequentials ------------------------------------------------------------------------
def _read_raw(path):
    b = open(path, "rb").read()
    (n,) = struct.unpack("<Q", b[:8])
    return json.loads(b[8:8 + n]), b[8 + n:]


def _write_raw(path, header, data):
    """A tamperer's rewrite: the digest goes too (it could as well be recomputed), so the
    tests reach the checks behind it."""
    header.get("__metadata__", {}).pop("sha256", None)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def _keras_cnn():
    return Sequential([
        L.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        L.BatchNormalization(),
        L.MaxPooling2D(),
        L.UpSampling2D(2),
        L.Conv2DTranspose(3, 3, strides=2, padding="same"),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        L.ZeroPadding2D(1),
        L.AveragePooling2D(2, padding="same"),
        L.SpatialDropout2D(0.1),
        L.Conv2D(4, 3, data_format="channels_last", padding="same", dilation_rate=2),
        L.GlobalMaxPooling2D(keepdims=True),
        L.Dropout(0.2),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ], name="keras_cnn")


def _torch_cnn():
    return sd.nn.Sequential(
        L.Conv2d(1, 4, 3, padding=1), L.BatchNorm2d(4), L.ReLU(), L.MaxPool2d(2),
        L.Conv2d(4, 4, 3, padding="same", groups=2, bias=False), L.GroupNorm(2, 4),
        L.AvgPool2d(2), L.ConvTranspose2d(4, 2, 2, stride=2), L.Dropout2d(0.1),
        L.AdaptiveAvgPool2d((3, 3)), L.Flatten(), L.LayerNorm(18), L.Linear(18, 3))


def test_keras_cnn_round_trip(tmp_path):
    model = _keras_cnn()
    x = np.random.default_rng(0).standard_normal((6, 8, 8, 1)).astype(np.float32)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, np.arange(6) % 3, epochs=2, batch_size=3, verbose=0)
    path = tmp_path / "cnn.shendu"
    model.save(path)
    back = load_model(path)
    assert [type(m).__name__ for m in back.children()] == [
        type(m).__name__ for m in model.children()]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.layers[1].moving_mean.numpy().any()  # trained statistics, not fresh ones


def test_torch_style_cnn_round_trip(tmp_path):
    net = _torch_cnn()
    x = sd.randn(4, 1, 8, 8)
    for _ in range(2):  # train mode: the batch-norm statistics move
        net(x)
    net.eval()
    path = tmp_path / "torch_cnn.shendu"
    io.save_model(net, path)
    back = load_model(path)
    back.eval()
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    assert int(back.state_dict()["1.num_batches_tracked"].numpy()) == 2
    np.testing.assert_array_equal(back(x).numpy(), net(x).numpy())


def _tampered(tmp_path, model, edit):
    path = tmp_path / "m.shendu"
    if isinstance(model, Sequential):
        model.save(path)
    else:
        io.save_model(model, path)
    header, data = _read_raw(path)
    config = json.loads(header["__metadata__"]["config"])
    edit(config["layers"])
    header["__metadata__"]["config"] = json.dumps(config)
    _write_raw(path, header, data)
    return path


def _set(i, **kw):
    def edit(layers):
        layers[i]["config"].update(kw)
    return edit


@pytest.mark.parametrize("make, edit, msg", [
    (_keras_cnn, _set(0, filters=5), r"layer 0 \(Conv2D\).*kernel"),
    (_keras_cnn, _set(0, filters=10 ** 6), r"layer 0 \(Conv2D\)"),
    (_keras_cnn, _set(0, kernel_size=[5, 5]), r"layer 0 \(Conv2D\).*kernel"),
    (_keras_cnn, _set(0, kernel_size=[3000, 3000]), r"layer 0 \(Conv2D\)"),
    (_keras_cnn, _set(4, filters=7), r"layer 4 \(Conv2DTranspose\)"),
    (_keras_cnn, _set(3, size=[10 ** 6, 10 ** 6]), r"layer 3 \(UpSampling2D\).*exceeds"),
    (_keras_cnn, _set(3, size=[4096, 4096]), r"UpSampling2D\) would produce an output"),
    (_keras_cnn, _set(2, pool_size=[10 ** 5, 2]), r"layer 2 \(MaxPooling2D\).*exceeds"),
    (_keras_cnn, _set(6, padding=[[10 ** 5, 0], [0, 0]]), r"layer 6 \(ZeroPadding2D\)"),
    (_keras_cnn, _set(0, groups=2), r"layer 0 \(Conv2D\)"),
    (_keras_cnn, _set(1, axis=1), r"moving_mean|layer 1"),
    (_keras_cnn, _set(0, dilation_rate=[10 ** 6, 1]), r"too small|would produce an output"),
    (_keras_cnn, _set(0, padding="full"), r"layer 0 \(Conv2D\).*padding"),
    (_torch_cnn, _set(0, out_channels=10 ** 6), r"layer 0 \(Conv2d\).*weight"),
    (_torch_cnn, _set(0, kernel_size=[4000, 4000]), r"layer 0 \(Conv2d\).*weight"),
    (_torch_cnn, _set(1, num_features=10 ** 7), r"layer 1 \(BatchNorm2d\)"),
    (_torch_cnn, _set(4, groups=4), r"layer 4 \(Conv2d\)"),
    (_torch_cnn, _set(5, num_channels=10 ** 7), r"layer 5 \(GroupNorm\)"),
    (_torch_cnn, _set(7, in_channels=10 ** 6), r"layer 7 \(ConvTranspose2d\)"),
    (_torch_cnn, _set(11, normalized_shape=[10 ** 8]), r"layer 11 \(LayerNorm\)"),
])
def test_tampered_cnn_config_is_refused_before_allocating(tmp_path, make, edit, msg):
    path = _tampered(tmp_path, make(), edit)
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeFileError, match=msg):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak / 2 ** 20:.0f} MiB allocated before refusing"


def test_tampered_depth_multiplier_is_refused_before_allocating(tmp_path):
    model = Sequential([L.DepthwiseConv2D(3, input_shape=(6, 6, 4)), L.Flatten()])
    path = _tampered(tmp_path, model, _set(0, depth_multiplier=2 * 10 ** 5))
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeFileError):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak / 2 ** 20:.0f} MiB allocated before refusing"
