"""Keras preprocessing layers: active in training only, vectorized, seeded, saved with models."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.keras import layers as L
from shendu.keras.models import Sequential, load_model


def _images(n=6, h=12, w=10, c=1, seed=0):
    return np.random.default_rng(seed).random((n, h, w, c)).astype(np.float32)


def test_rescaling_is_always_active_and_differentiable():
    layer = L.Rescaling(1 / 255, offset=-0.5)
    x = sd.tensor(np.full((2, 3), 255.0, np.float32), requires_grad=True)
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / 255)
    layer.eval()
    np.testing.assert_allclose(layer(x).numpy(), 0.5)


@pytest.mark.parametrize("make", [
    lambda: L.RandomFlip("horizontal"), lambda: L.RandomFlip("vertical"),
    lambda: L.RandomRotation(0.2), lambda: L.RandomTranslation(0.2, 0.2),
    lambda: L.RandomZoom(0.2), lambda: L.RandomContrast(0.5, value_range=None),
], ids=["flip_h", "flip_v", "rotation", "translation", "zoom", "contrast"])
def test_random_layers_change_images_in_training_only(make):
    x = _images()
    layer = make()
    y = layer(sd.tensor(x))
    assert y.shape == x.shape and y.dtype == np.float32
    assert not np.allclose(y.numpy(), x)  # six images: at least one is changed
    layer.eval()
    np.testing.assert_array_equal(layer(sd.tensor(x)).numpy(), x)


def test_random_flip_flips_whole_images():
    x = _images(n=32)
    y = L.RandomFlip("horizontal")(sd.tensor(x)).numpy()
    flipped = [np.array_equal(y[i], x[i, :, ::-1]) for i in range(len(x))]
    kept = [np.array_equal(y[i], x[i]) for i in range(len(x))]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 4 <= sum(flipped) <= 28  # p = 0.5 per image


def test_translation_with_constant_fill_moves_content():
    x = np.zeros((1, 9, 9, 1), np.float32)
    x[0, 4, 4, 0] = 1.0
    sd.manual_seed(3)
    y = L.RandomTranslation(0.3, 0.3, fill_mode="constant", interpolation="nearest")(
        sd.tensor(x)).numpy()
    assert y.sum() == pytest.approx(1.0)  # whole-pixel shifts keep the single bright pixel


@pytest.mark.parametrize("mode", ["reflect", "wrap", "nearest", "constant"])
def test_fill_modes_keep_values_in_range(mode):
    x = _images(n=4)
    y = L.RandomRotation(0.25, fill_mode=mode)(sd.tensor(x)).numpy()
    assert np.isfinite(y).all()
    assert y.min() >= -1e-6 and y.max() <= 1 + 1e-6
    if mode != "constant":  # no empty corners: rotated content fills them
        assert (y > 0).mean() > 0.98


def test_seeded_layers_repeat_their_draws():
    x = _images()
    a = L.RandomRotation(0.2, seed=7)(sd.tensor(x)).numpy()
    b = L.RandomRotation(0.2, seed=7)(sd.tensor(x)).numpy()
    np.testing.assert_array_equal(a, b)
    sd.manual_seed(1)
    c = L.RandomZoom(0.3)(sd.tensor(x)).numpy()
    sd.manual_seed(1)
    np.testing.assert_array_equal(L.RandomZoom(0.3)(sd.tensor(x)).numpy(), c)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="mode"):
        L.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="fill_mode"):
        L.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="symmetric"):
        L.RandomTranslation((-0.1, 0.2), 0.1)
    with pytest.raises(ValueError, match="expects images"):
        L.RandomFlip()(sd.tensor(np.zeros((2, 3), np.float32)))


def test_augmenting_model_fits_and_round_trips(tmp_path):
    sd.manual_seed(0)
    model = Sequential([L.RandomFlip("horizontal", input_shape=(8, 8, 1)),
                        L.RandomTranslation(0.1, 0.1, fill_mode="constant"),
                        L.Conv2D(4, 3, activation="relu"), L.Flatten(),
                        L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _images(n=12, h=8, w=8), np.arange(12) % 3
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "aug.shendu"
    model.save(path)
    again = load_model(path)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))  # eval: no augmentation
