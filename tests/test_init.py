"""Initializers: the PyTorch-style in-place functions, the Keras-style objects and names, and
reproducibility through ``shendu.manual_seed`` and ``seed=``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
from shendu.nn import init


def _w(*shape, dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


# -- PyTorch style --------------------------------------------------------------------------------
def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    for slope in (None, 0.0, 0.2):
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope))
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.calculate_gain("swish")


def _check_uniform(a: np.ndarray, bound: float):
    assert np.abs(a).max() <= bound
    assert np.abs(a).max() > 0.99 * bound  # it does reach the bound
    assert a.mean() == pytest.approx(0.0, abs=0.02 * bound)
    assert a.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_xavier_and_kaiming_uniform_bounds_and_std():
    sd.manual_seed(0)
    w = _w(300, 200)  # fan_in 200, fan_out 300
    init.xavier_uniform_(w)
    _check_uniform(w.numpy(), math.sqrt(6 / 500))
    init.xavier_uniform_(w, gain=2.0)
    _check_uniform(w.numpy(), 2 * math.sqrt(6 / 500))
    init.kaiming_uniform_(w)  # torch's defaults: a=0, fan_in, leaky_relu -> gain sqrt(2)
    _check_uniform(w.numpy(), math.sqrt(6 / 200))
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    _check_uniform(w.numpy(), math.sqrt(6 / 300))
    init.kaiming_uniform_(w, a=math.sqrt(5))  # what torch's Linear uses: bound 1/sqrt(fan_in)
    _check_uniform(w.numpy(), 1 / math.sqrt(200))
    conv = _w(64, 16, 3, 3)  # receptive field 9: fan_in 144, fan_out 576
    init.xavier_uniform_(conv)
    _check_uniform(conv.numpy(), math.sqrt(6 / (144 + 576)))
    init.kaiming_uniform_(conv, nonlinearity="relu")
    _check_uniform(conv.numpy(), math.sqrt(6 / 144))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(w, mode="fan_avg")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(_w(10))


def test_xavier_and_kaiming_normal_std():
    sd.manual_seed(1)
    w = _w(400, 250)
    init.xavier_normal_(w)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / 650), rel=0.02)
    assert abs(w.numpy().mean()) < 0.002
    init.kaiming_normal_(w, nonlinearity="relu")
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / 250), rel=0.02)
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="tanh")
    assert w.numpy().std() == pytest.approx(5 / 3 / math.sqrt(400), rel=0.02)
    # far draws exist: it is a normal, not a truncated one
    assert np.abs(w.numpy()).max() > 3.5 * w.numpy().std()


def test_uniform_normal_trunc_normal_constant_eye():
    sd.manual_seed(2)
    w = _w(200, 300)
    init.uniform_(w, -0.5, 1.5)
    assert w.numpy().min() >= -0.5 and w.numpy().max() < 1.5
    assert w.numpy().mean() == pytest.approx(0.5, abs=0.01)
    init.normal_(w, 3.0, 0.5)
    assert w.numpy().mean() == pytest.approx(3.0, abs=0.01)
    assert w.numpy().std() == pytest.approx(0.5, rel=0.02)
    init.trunc_normal_(w, std=1.0)
    assert np.abs(w.numpy()).max() <= 2.0
    assert w.numpy().std() == pytest.approx(0.8796, rel=0.02)  # std of N(0,1) cut at +-2
    # a and b are absolute bounds, as in torch: with std=0.02 the cut at +-2 changes nothing
    init.trunc_normal_(w, std=0.02)
    assert w.numpy().std() == pytest.approx(0.02, rel=0.02)
    init.trunc_normal_(w, mean=1.0, std=1.0, a=0.5, b=1.2)
    assert w.numpy().min() >= 0.5 and w.numpy().max() <= 1.2
    init.constant_(w, 0.25)
    assert np.all(w.numpy() == 0.25)
    init.ones_(w)
    assert np.all(w.numpy() == 1)
    init.zeros_(w)
    assert not w.numpy().any()
    e = _w(3, 5)
    init.eye_(e)
    np.testing.assert_array_equal(e.numpy(), np.eye(3, 5))


def test_in_place_init_keeps_object_dtype_and_records_no_graph():
    w = _w(20, 10)
    data = w.data
    assert init.xavier_uniform_(w) is w
    assert w.data is data and w.dtype == np.float32
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    w64 = _w(20, 10, dtype=np.float64)
    init.kaiming_normal_(w64)
    assert w64.dtype == np.float64


@pytest.mark.parametrize("shape", [(8, 8), (5, 12), (12, 5), (6, 2, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    sd.manual_seed(3)
    w = _w(*shape, dtype=np.float64)
    init.orthogonal_(w)
    m = w.numpy().reshape(shape[0], -1)
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)
    init.orthogonal_(w, gain=2.0)
    m = w.numpy().reshape(shape[0], -1)
    k = min(m.shape)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 4 * np.eye(k), atol=1e-11)


def test_torch_style_generator_and_manual_seed_reproduce():
    a, b = _w(30, 20), _w(30, 20)
    sd.manual_seed(42)
    init.xavier_uniform_(a)
    sd.manual_seed(42)
    init.xavier_uniform_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    init.xavier_uniform_(b)  # the stream moved on
    assert not np.array_equal(a.numpy(), b.numpy())
    from shendu.random import Generator

    init.normal_(a, generator=Generator(7))
    init.normal_(b, generator=Generator(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # whole layers too
    sd.manual_seed(5)
    l1 = nn.Linear(6, 4)
    sd.manual_seed(5)
    l2 = nn.Linear(6, 4)
    np.testing.assert_array_equal(l1.weight.numpy(), l2.weight.numpy())
    np.testing.assert_array_equal(l1.bias.numpy(), l2.bias.numpy())


# -- Keras style ----------------------------------------------------------------------------------
def test_keras_glorot_and_he_by_name():
    sd.manual_seed(0)
    fan_in, fan_out = 300, 200  # Keras layout: (in, out)
    for name in ("glorot_uniform", "GlorotUniform", "xavier_uniform"):
        a = init.get(name)((fan_in, fan_out))
        assert isinstance(init.get(name), init.GlorotUniform)
        assert a.shape == (fan_in, fan_out) and a.dtype == np.float32
        _check_uniform(a, math.sqrt(6 / (fan_in + fan_out)))
    for name in ("he_normal", "HeNormal"):
        a = init.get(name)((fan_in, fan_out))
        assert isinstance(init.get(name), init.HeNormal)
        # a truncated normal rescaled so that its std is sqrt(2 / fan_in), cut at 2 * 1.137 std
        assert a.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
        assert np.abs(a).max() <= 2 * math.sqrt(2 / fan_in) / 0.87962566103423978 + 1e-7
    a = init.get("he_uniform")((fan_in, fan_out))
    _check_uniform(a, math.sqrt(6 / fan_in))
    a = init.get("glorot_normal")((fan_in, fan_out), dtype="float64")
    assert a.dtype == np.float64
    assert a.std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)
    a = init.get("lecun_uniform")((fan_in, fan_out))
    _check_uniform(a, math.sqrt(3 / fan_in))
    # conv kernels (kh, kw, in, out): fans include the receptive field
    k = init.get("GlorotUniform")((3, 3, 16, 64))
    _check_uniform(k, math.sqrt(6 / (9 * 16 + 9 * 64)))


def test_keras_simple_initializers():
    z = init.get("zeros")((3, 4))
    assert z.shape == (3, 4) and not z.any() and z.dtype == np.float32
    assert np.all(init.get("Ones")((2,)) == 1)
    assert np.all(init.Constant(0.5)((2, 2)) == 0.5)
    np.testing.assert_array_equal(init.get("identity")((3, 3)), np.eye(3))
    sd.manual_seed(1)
    r = init.get("random_uniform")((100, 100))
    assert r.min() >= -0.05 and r.max() <= 0.05
    n = init.RandomNormal(mean=1.0, stddev=0.1)((200, 200))
    assert n.mean() == pytest.approx(1.0, abs=0.005) and n.std() == pytest.approx(0.1, rel=0.02)
    t = init.TruncatedNormal(stddev=0.1)((200, 200))
    assert np.abs(t).max() <= 0.2 + 1e-7


@pytest.mark.parametrize("shape", [(10, 4), (4, 10), (6, 6), (3, 3, 4, 8)])
def test_keras_orthogonal(shape):
    q = init.get("orthogonal")(shape, dtype="float64")
    assert q.shape == shape
    m = q.reshape(-1, shape[-1])  # Keras: orthogonal over (prod(leading dims), out)
    if m.shape[0] >= m.shape[1]:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)
    else:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-12)


def test_keras_seed_argument_and_manual_seed():
    a = init.GlorotUniform(seed=3)((20, 10))
    b = init.get("GlorotUniform").__class__(seed=3)((20, 10))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init.GlorotUniform(seed=4)((20, 10)))
    # a seeded initializer does not depend on (nor move) the global stream
    sd.manual_seed(0)
    before = init.get("he_normal")((5, 5))
    sd.manual_seed(0)
    init.HeNormal(seed=9)((50, 50))
    np.testing.assert_array_equal(init.get("he_normal")((5, 5)), before)
    # unseeded initializers follow shendu.manual_seed
    sd.manual_seed(11)
    x = init.get("orthogonal")((6, 6))
    sd.manual_seed(11)
    np.testing.assert_array_equal(init.get("orthogonal")((6, 6)), x)
    assert init.GlorotUniform(seed=3).get_config() == {"seed": 3}


def test_get_accepts_objects_classes_and_callables_and_rejects_unknown_names():
    obj = init.HeUniform(seed=1)
    assert init.get(obj) is obj
    assert isinstance(init.get(init.Zeros), init.Zeros)

    def fn(shape, dtype=None):
        return np.full(shape, 2.0)

    assert init.get(fn) is fn
    with pytest.raises(ValueError, match="unknown initializer 'glorot_uniformm'.*glorot_uniform"):
        init.get("glorot_uniformm")
    with pytest.raises(ValueError, match="unknown initializer"):
        init.get(3)


def test_dense_uses_its_initializers():
    d = nn.Dense(4, kernel_initializer="zeros", bias_initializer="ones", input_shape=(3,))
    assert not d.kernel.numpy().any() and np.all(d.bias.numpy() == 1)
    d = nn.Dense(4, kernel_initializer=init.Orthogonal(seed=0), input_shape=(8,))
    k = d.kernel.numpy().astype(np.float64)
    np.testing.assert_allclose(k.T @ k, np.eye(4), atol=1e-6)
    with pytest.raises(ValueError, match="unknown initializer"):
        nn.Dense(4, kernel_initializer="nope")
