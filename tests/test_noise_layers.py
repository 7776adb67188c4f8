"""Noise layers: channel dropout (PyTorch Dropout1d/2d/3d, Keras SpatialDropout1D/2D/3D), alpha
dropout, Gaussian noise and Gaussian dropout. Statistics of the noise, masks constant over the
spatial axes, identity in eval mode, seeded reproducibility, gradients with fixed masks (the
layer harness) and the save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest
from layer_harness import Case, run_layer_test

import shendu as sd
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.keras import layers as KL
from shendu.keras.models import Sequential, load_model

L = nn.layers


def _same(m, x):
    return x


CASES = [
    Case("Dropout1d", lambda: L.Dropout1d(0.5), (4, 6, 5), (4, 6, 5)),
    Case("Dropout1d_unbatched", lambda: L.Dropout1d(0.4), (6, 5), (6, 5)),
    Case("Dropout2d_channels_last", lambda: L.Dropout2d(0.5, data_format="channels_last"),
         (3, 2, 2, 6), (3, 2, 2, 6)),
    Case("Dropout3d", lambda: L.Dropout3d(0.5), (2, 6, 2, 2, 2), (2, 6, 2, 2, 2)),
    Case("Dropout3d_unbatched", lambda: L.Dropout3d(0.5), (6, 2, 2, 2), (6, 2, 2, 2)),
    Case("SpatialDropout1D", lambda: L.SpatialDropout1D(0.3), (4, 5, 6), (4, 5, 6)),
    Case("SpatialDropout2D_channels_first",
         lambda: L.SpatialDropout2D(0.3, data_format="channels_first"), (4, 6, 2, 2),
         (4, 6, 2, 2)),
    Case("SpatialDropout3D", lambda: L.SpatialDropout3D(0.3), (2, 2, 2, 2, 6), (2, 2, 2, 2, 6)),
    Case("AlphaDropout", lambda: L.AlphaDropout(0.3), (4, 6), (4, 6)),
    Case("AlphaDropout_noise_shape", lambda: L.AlphaDropout(rate=0.3, noise_shape=(None, 1, 6)),
         (3, 4, 6), (3, 4, 6)),
    Case("FeatureAlphaDropout", lambda: L.FeatureAlphaDropout(0.3), (4, 6, 3), (4, 6, 3)),
    Case("GaussianNoise", lambda: L.GaussianNoise(0.5), (4, 6), (4, 6)),
    Case("GaussianDropout", lambda: L.GaussianDropout(0.3), (4, 6), (4, 6)),
    Case("AlphaDropout_eval", lambda: L.AlphaDropout(0.3).eval(), (4, 6), (4, 6), _same),
    Case("GaussianNoise_eval", lambda: L.GaussianNoise(0.5).eval(), (4, 6), (4, 6), _same),
    Case("SpatialDropout1D_eval", lambda: L.SpatialDropout1D(0.5).eval(), (2, 3, 4), (2, 3, 4),
         _same),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer(case):
    run_layer_test(case)  # shapes, float64 gradcheck with the mask fixed by the seed, config


def test_every_noise_layer_has_a_case():
    tested = {type(c.make()).__name__ for c in CASES} | {"Dropout2d", "SpatialDropout2D",
                                                          "ActivityRegularization"}
    assert set(L.noise.__all__) <= tested  # the last three: tests/test_vision_layers.py,
    # tests/test_regularizers.py


# -- masks -----------------------------------------------------------------------------------------
CHANNEL = [  # (layer, input shape, channel axis, batched)
    (lambda: L.Dropout1d(0.4), (16, 32, 5), 1, True),
    (lambda: L.Dropout1d(0.4), (32, 5), 0, False),
    (lambda: L.Dropout2d(0.4), (16, 32, 3, 3), 1, True),
    (lambda: L.Dropout3d(0.4), (16, 32, 2, 2, 2), 1, True),
    (lambda: L.Dropout3d(0.4), (32, 2, 2, 2), 0, False),
    (lambda: L.SpatialDropout1D(0.4), (16, 5, 32), 2, True),
    (lambda: L.SpatialDropout2D(0.4), (16, 3, 3, 32), 3, True),
    (lambda: L.SpatialDropout2D(0.4, data_format="channels_first"), (16, 32, 3, 3), 1, True),
    (lambda: L.SpatialDropout3D(0.4), (16, 2, 2, 2, 32), 4, True),
]


@pytest.mark.parametrize("make, shape, axis, batched", CHANNEL,
                         ids=["d1", "d1_unbatched", "d2", "d3", "d3_unbatched", "s1", "s2",
                              "s2_cf", "s3"])
def test_channel_masks_are_constant_over_spatial_positions(make, shape, axis, batched):
    sd.manual_seed(0)
    y = make()(sd.ones(*shape)).numpy()
    lead = (0, axis) if batched else (axis,)
    rest = [a for a in range(len(shape)) if a not in lead]
    per = np.moveaxis(y, list(lead), list(range(len(lead)))).reshape(
        tuple(shape[a] for a in lead) + (-1,))
    assert np.all(per == per[..., :1])  # one value per (sample, channel)
    assert set(np.unique(per)) <= {0.0, np.float32(1 / 0.6)}
    assert 0.25 < (per[..., 0] == 0).mean() < 0.55  # about p of the channels dropped
    assert rest  # the layer has spatial axes to share the mask over


def test_channel_dropout_keeps_the_mean():
    sd.manual_seed(1)
    x = np.random.default_rng(0).uniform(1, 2, (64, 200, 4)).astype(np.float32)
    y = L.Dropout1d(0.3)(sd.tensor(x)).numpy()
    assert y.mean() == pytest.approx(x.mean(), rel=0.02)


def test_channel_dropout_errors_and_p_one():
    with pytest.raises(ValueError, match=r"dropout1d expects a 2-D .* or 3-D .* got shape "
                                         r"\(2, 3, 4, 5\)"):
        L.Dropout1d(0.5)(sd.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"SpatialDropout2D 'sp' expects inputs of shape "
                                         r"\(batch, spatial, spatial, channels\), got shape"):
        L.SpatialDropout2D(0.5, name="sp")(sd.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\], got 1.5"):
        L.SpatialDropout1D(1.5)
    with pytest.raises(TypeError, match="needs a dropout rate"):
        L.SpatialDropout1D()
    assert np.all(L.Dropout2d(1.0)(sd.ones(2, 3, 2, 2)).numpy() == 0)  # PyTorch: zeros
    assert np.all(L.AlphaDropout(1.0)(sd.ones(2, 3)).numpy() == 0)
    x = sd.ones(2, 3, 2)
    assert L.Dropout1d(0.0)(x) is x


# -- alpha dropout ---------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_alpha_dropout_keeps_selu_mean_and_variance(p):
    sd.manual_seed(2)
    x = np.random.default_rng(1).standard_normal(400_000)  # SELU's fixed point: N(0, 1)
    y = L.AlphaDropout(p)(sd.tensor(x)).numpy()
    assert abs(y.mean()) < 0.01
    assert y.var() == pytest.approx(1.0, abs=0.01)
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - p) * (1 + p * alpha_p ** 2)) ** -0.5
    dropped = np.abs(y - (a * alpha_p - a * alpha_p * p)) < 1e-12  # a * alpha' + b
    assert dropped.mean() == pytest.approx(p, abs=0.01)
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] - a * alpha_p * p, rtol=1e-12)


def _torch_affine(fn, shape):
    """(a, b, dropped value) of a PyTorch alpha dropout, read off its outputs for inputs 0
    and 1: kept inputs give a * x + b, dropped ones a constant."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = torch.zeros(shape, dtype=torch.float64)
    x[1::2] = 1.0
    y = fn(x).numpy()
    zeros, ones = set(np.round(y[0::2].ravel(), 12)), set(np.round(y[1::2].ravel(), 12))
    (dropped,) = zeros & ones
    (b,) = zeros - {dropped}
    (ab,) = ones - {dropped}
    return ab - b, b, dropped


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_constants_match_torch(p):
    torch = pytest.importorskip("torch")
    for ours, theirs, shape in (
            (L.AlphaDropout(p), lambda t: torch.nn.functional.alpha_dropout(t, p, True),
             (40, 30)),
            (L.FeatureAlphaDropout(p),
             lambda t: torch.nn.functional.feature_alpha_dropout(t, p, True), (40, 30, 2))):
        a, b, dropped = _torch_affine(theirs, shape)
        x = np.zeros(shape)
        x[1::2] = 1.0
        sd.manual_seed(3)
        y = ours(sd.tensor(x)).numpy()
        kept = ~np.isclose(y, dropped, atol=1e-12, rtol=0)
        assert kept.any() and (~kept).any()
        np.testing.assert_allclose(y[kept], a * x[kept] + b, rtol=1e-12)
    # FeatureAlphaDropout drops whole channels
    sd.manual_seed(4)
    y = L.FeatureAlphaDropout(0.5)(sd.ones(8, 16, 5)).numpy()
    assert np.all(y == y[..., :1])


# -- Gaussian noise --------------------------------------------------------------------------------
def test_gaussian_noise_and_dropout_statistics():
    sd.manual_seed(5)
    x = np.random.default_rng(2).uniform(0.5, 2.0, 200_000)
    noise = L.GaussianNoise(0.3)(sd.tensor(x)).numpy() - x
    assert abs(noise.mean()) < 0.005 and noise.std() == pytest.approx(0.3, rel=0.01)
    ratio = L.GaussianDropout(0.2)(sd.tensor(x)).numpy() / x
    assert ratio.mean() == pytest.approx(1.0, abs=0.005)
    assert ratio.var() == pytest.approx(0.2 / 0.8, rel=0.02)
    with pytest.raises(ValueError, match="rate must be < 1"):
        L.GaussianDropout(1.0)
    with pytest.raises(ValueError, match="stddev must be a number >= 0, got -1"):
        L.GaussianNoise(-1)


# -- modes and seeds -------------------------------------------------------------------------------
ALL = [lambda: L.Dropout1d(0.5), lambda: L.Dropout3d(0.5), lambda: L.SpatialDropout1D(0.5),
       lambda: L.AlphaDropout(0.5), lambda: L.FeatureAlphaDropout(0.5),
       lambda: L.GaussianNoise(0.5), lambda: L.GaussianDropout(0.5)]
SHAPES = [(4, 3, 5), (2, 3, 2, 2, 2), (4, 5, 3), (4, 5), (4, 3, 5), (4, 5), (4, 5)]


@pytest.mark.parametrize("i", range(len(ALL)))
def test_identity_in_eval_and_training_argument(i):
    x = sd.ones(*SHAPES[i])
    layer = ALL[i]()
    assert not np.array_equal(layer(x).numpy(), x.numpy())  # training by default
    assert layer(x, training=False) is x
    layer.eval()
    assert layer(x) is x
    assert not np.array_equal(layer(x, training=True).numpy(), x.numpy())  # Keras's override


@pytest.mark.parametrize("i", range(len(ALL)))
def test_seeded_reproducibility(i):
    x = sd.ones(*SHAPES[i])
    layer = ALL[i]()
    sd.manual_seed(11)
    a = layer(x).numpy()
    sd.manual_seed(11)
    np.testing.assert_array_equal(layer(x).numpy(), a)
    assert not np.array_equal(layer(x).numpy(), a)  # the stream moves on


def test_seed_argument_gives_a_layer_its_own_stream():
    x = sd.ones(8, 4, 16)
    a, b, c = (KL.SpatialDropout1D(0.5, seed=7), KL.SpatialDropout1D(0.5, seed=7),
               KL.SpatialDropout1D(0.5, seed=8))
    ya = a(x).numpy()
    sd.manual_seed(0)  # the default stream does not matter
    np.testing.assert_array_equal(b(x).numpy(), ya)
    assert not np.array_equal(c(x).numpy(), ya)
    g1, g2 = KL.GaussianNoise(1.0, seed=3), KL.GaussianNoise(1.0, seed=3)
    np.testing.assert_array_equal(g1(x).numpy(), g2(x).numpy())


def test_functional_forms():
    x = sd.ones(4, 6, 3)
    assert F.alpha_dropout(x, 0.5) is x  # PyTorch: training=False by default
    assert F.feature_alpha_dropout(x, 0.5) is x
    sd.manual_seed(12)
    a = F.dropout1d(x, 0.5).numpy()
    sd.manual_seed(12)
    np.testing.assert_array_equal(L.Dropout1d(0.5)(x).numpy(), a)
    assert F.dropout2d(sd.ones(2, 3, 4, 4), 0.5, training=False).shape == (2, 3, 4, 4)
    assert F.dropout3d(sd.ones(2, 3, 2, 2, 2), 0.5).shape == (2, 3, 2, 2, 2)


def test_gradient_flows_through_the_kept_units_only():
    x = sd.ones(6, 8, 3, requires_grad=True)
    sd.manual_seed(13)
    y = L.Dropout1d(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # d(x * m)/dx = m, x = 1


# -- models ----------------------------------------------------------------------------------------
def test_keras_model_with_noise_layers_trains_and_round_trips(tmp_path):
    sd.manual_seed(14)
    model = Sequential([
        KL.Dense(8, input_shape=(4,), activation="selu", kernel_initializer="lecun_normal"),
        KL.AlphaDropout(0.1),
        KL.GaussianNoise(0.1),
        KL.GaussianDropout(0.2),
        KL.Reshape((8, 1)),
        KL.SpatialDropout1D(0.2),
        KL.Flatten(),
        KL.Dense(2),
    ])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(3).standard_normal((32, 4)).astype(np.float32)
    y = x[:, :2] * 2
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    path = tmp_path / "noise.shendu"
    model.save(path)
    back = load_model(path)
    assert [type(m).__name__ for m in back.layers] == [type(m).__name__ for m in model.layers]
    np.testing.assert_allclose(back.predict(x), model.predict(x), rtol=1e-6)  # eval: identity


def test_torch_style_layers_in_nn():
    net = nn.Sequential(nn.Conv1d(3, 4, 3), nn.Dropout1d(0.2), nn.AlphaDropout(0.1),
                        nn.FeatureAlphaDropout(0.1), nn.Flatten())
    assert net(sd.ones(2, 3, 7)).shape == (2, 20)
    net.eval()
    a = net(sd.ones(2, 3, 7)).numpy()
    np.testing.assert_array_equal(net(sd.ones(2, 3, 7)).numpy(), a)
