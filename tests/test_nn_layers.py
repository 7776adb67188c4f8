"""Layers, through one harness in the spirit of Keras's ``run_layer_test``.

For every case: the output shape (and ``compute_output_shape`` where the layer has one), float32
in gives float32 out, a float64 gradient check of the input and every parameter, a JSON-able
``get_config`` that rebuilds an equivalent layer, and (where given) the forward against PyTorch.
Then the behaviour particular to Linear/Dense, Dropout, Flatten and Input.
"""

from __future__ import annotations

import numpy as np
import pytest
from layer_harness import Case, layer_input, run_layer_test

import shendu as sd
import shendu.nn as nn
from shendu.nn import activations

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _case(id, make, input_shape, output_shape, torch_ref=None, **kw) -> Case:
    """A harness case whose reference is a torch function of the input alone."""
    ref = None if torch_ref is None else (
        lambda layer, x: torch_ref(torch.tensor(x)).numpy())
    return Case(id, make, input_shape, output_shape, ref, kw)


def _t_act(name: str):
    """The torch form of a Keras activation name."""
    table = {
        "linear": lambda z: z, "relu": TF.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "softmax": lambda z: TF.softmax(z, -1), "log_softmax": lambda z: TF.log_softmax(z, -1),
        "elu": TF.elu, "selu": TF.selu, "gelu": TF.gelu, "softplus": TF.softplus,
        "softsign": TF.softsign, "swish": TF.silu, "silu": TF.silu,
        "leaky_relu": lambda z: TF.leaky_relu(z, 0.2), "relu6": TF.relu6,
        "exponential": torch.exp, "hard_sigmoid": lambda z: TF.relu6(z + 3) / 6,
    }
    return table[name]


CASES = [
    _case("Identity", lambda: nn.Identity(), (3, 4), (3, 4), lambda z: z),
    _case("Identity_ignores_args", lambda: nn.Identity(54, unused=0.1), (3, 4), (3, 4)),
    _case("Flatten", lambda: nn.Flatten(), (2, 3, 4, 2), (2, 24), lambda z: z.flatten(1)),
    _case("Flatten_start2", lambda: nn.Flatten(start_dim=2), (2, 3, 4, 2), (2, 3, 8)),
    _case("Flatten_2d", lambda: nn.Flatten(), (3, 5), (3, 5)),
    _case("Dropout_train", lambda: nn.Dropout(0.4, seed=1), (6, 5), (6, 5)),
    _case("Dropout_rate0", lambda: nn.Dropout(rate=0.0), (6, 5), (6, 5), lambda z: z),
    _case("Dropout_eval", lambda: nn.Dropout(0.5).eval(), (6, 5), (6, 5), lambda z: z),
    _case("Activation_tanh", lambda: nn.Activation("tanh"), (3, 4), (3, 4), torch.tanh),
    _case("Activation_softmax", lambda: nn.Activation("softmax"), (3, 4), (3, 4),
         lambda z: TF.softmax(z, -1)),
    _case("InputLayer", lambda: nn.InputLayer(shape=(4,)), (3, 4), (3, 4), lambda z: z),
    _case("Input", lambda: nn.Input(shape=(2, None)), (3, 2, 5), (3, 2, 5)),
    _case("ReLU", lambda: nn.ReLU(), (3, 4), (3, 4), TF.relu),
    _case("LeakyReLU_default", lambda: nn.LeakyReLU(), (3, 4), (3, 4), TF.leaky_relu),
    _case("LeakyReLU_alpha", lambda: nn.LeakyReLU(alpha=0.2), (3, 4), (3, 4),
         lambda z: TF.leaky_relu(z, 0.2)),
    _case("LeakyReLU_negative_slope", lambda: nn.LeakyReLU(negative_slope=0.1), (3, 4), (3, 4),
         lambda z: TF.leaky_relu(z, 0.1)),
    _case("ELU", lambda: nn.ELU(alpha=0.7), (3, 4), (3, 4), lambda z: TF.elu(z, 0.7)),
    _case("GELU", lambda: nn.GELU(), (3, 4), (3, 4), TF.gelu),
    _case("GELU_tanh", lambda: nn.GELU(approximate="tanh"), (3, 4), (3, 4),
         lambda z: TF.gelu(z, approximate="tanh")),
    _case("Sigmoid", lambda: nn.Sigmoid(), (3, 4), (3, 4), torch.sigmoid),
    _case("Tanh", lambda: nn.Tanh(), (3, 4), (3, 4), torch.tanh),
    _case("Softmax_dim", lambda: nn.Softmax(dim=1), (3, 4, 2), (3, 4, 2),
         lambda z: TF.softmax(z, 1)),
    _case("Softmax_axis", lambda: nn.Softmax(axis=0), (3, 4), (3, 4), lambda z: TF.softmax(z, 0)),
    _case("Softmax_default", lambda: nn.Softmax(), (3, 4), (3, 4), lambda z: TF.softmax(z, -1)),
    _case("LogSoftmax", lambda: nn.LogSoftmax(dim=-1), (3, 4), (3, 4),
         lambda z: TF.log_softmax(z, -1)),
    _case("Softplus", lambda: nn.Softplus(beta=2.0), (3, 4), (3, 4),
         lambda z: TF.softplus(z, beta=2.0)),
    _case("SiLU", lambda: nn.SiLU(), (3, 4), (3, 4), TF.silu),
    _case("ReLU6", lambda: nn.ReLU6(), (3, 4), (3, 4), TF.relu6),
    _case("Linear", lambda: nn.Linear(4, 3), (5, 4), (5, 3)),
    _case("Linear_no_bias", lambda: nn.Linear(4, 3, bias=False), (5, 4), (5, 3)),
    _case("Linear_3d", lambda: nn.Linear(4, 2), (2, 3, 4), (2, 3, 2)),
    _case("Dense_no_bias", lambda: nn.Dense(3, use_bias=False), (5, 4), (5, 3)),
    _case("Dense_input_shape", lambda: nn.Dense(3, input_shape=(4,)), (5, 4), (5, 3)),
    _case("Dense_3d", lambda: nn.Dense(2, activation="relu"), (2, 3, 4), (2, 3, 2)),
] + [_case(f"Dense_{a}", lambda a=a: nn.Dense(3, activation=a), (5, 4), (5, 3))
     for a in sorted(activations.ACTIVATIONS)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer(case):
    run_layer_test(case)


# -- Linear and Dense -----------------------------------------------------------------------------
def test_linear_matches_torch_with_copied_weights():
    lin = nn.Linear(5, 3).double()
    ref = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(lin.weight.numpy()))
        ref.bias.copy_(torch.tensor(lin.bias.numpy()))
    x = layer_input((4, 2, 5))
    xs = sd.tensor(x, dtype="float64", requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, yt = lin(xs), ref(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.numpy(), TF.linear(xt, ref.weight, ref.bias).detach().numpy(),
                               rtol=1e-12)
    v = np.random.default_rng(1).standard_normal(y.shape)
    (y * sd.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("act", sorted(activations.ACTIVATIONS))
def test_dense_matches_torch_linear_with_copied_weights(act):
    dense = nn.Dense(3, activation=act, input_shape=(4,)).double()
    assert dense.kernel.shape == (4, 3)  # Keras layout (in, out)
    x = layer_input((6, 4))
    kernel = torch.tensor(dense.kernel.numpy())
    bias = torch.tensor(dense.bias.numpy())
    expected = _t_act(act)(TF.linear(torch.tensor(x), kernel.T, bias)).numpy()
    np.testing.assert_allclose(dense(sd.tensor(x, dtype="float64")).numpy(), expected,
                               rtol=1e-10, atol=1e-12)


def test_dense_learns_its_input_size_on_first_call():
    dense = nn.Dense(8, activation="relu")
    assert not dense.built and dense.kernel is None and dense.bias is None
    assert list(dense.parameters()) == [] and dense.count_params() == 0
    y = dense(sd.randn(2, 5))
    assert dense.built and y.shape == (2, 8)
    assert dense.kernel.shape == (5, 8) and dense.bias.shape == (8,)
    assert [n for n, _ in dense.named_parameters()] == ["kernel", "bias"]
    assert dense.count_params() == 5 * 8 + 8
    assert not dense.bias.numpy().any()  # Keras's default bias initializer: zeros
    # built from input_shape= / input_dim= / batch_input_shape=, before any call
    for kw in ({"input_shape": (5,)}, {"input_shape": 5}, {"input_dim": 5},
               {"batch_input_shape": (None, 5)}):
        d = nn.Dense(8, **kw)
        assert d.built and d.kernel.shape == (5, 8), kw
        assert d.get_config()["input_shape"] == [5]
    assert nn.Dense(3, use_bias=False, input_shape=(2,)).count_params() == 6
    with pytest.raises(ValueError, match="units must be a positive integer"):
        nn.Dense(0)
    with pytest.raises(TypeError, match="unexpected keyword.*unitz"):
        nn.Dense(3, unitz=4)


def test_dense_wrong_input_size_names_layer_and_shapes():
    dense = nn.Dense(4, name="fc2", input_shape=(128,))
    with pytest.raises(ValueError) as err:
        dense(sd.zeros(32, 64))
    msg = str(err.value)
    assert "Dense 'fc2'" in msg and "(batch, 128)" in msg and "(32, 64)" in msg
    assert "previous layer" in msg
    with pytest.raises(ValueError) as err:
        dense(sd.zeros(2, 8, 4, 4))
    msg = str(err.value)
    assert "'fc2'" in msg and "(2, 8, 4, 4)" in msg and "128" in msg
    assert "Flatten" in msg and "128 features" in msg  # 8*4*4 = 128: Flatten would fit
    # a deferred Dense is checked against the size its first call fixed
    d = nn.Dense(2)
    d(sd.zeros(1, 3))
    with pytest.raises(ValueError, match=r"Dense 'dense.*'.*\(batch, 3\).*\(1, 5\)"):
        d(sd.zeros(1, 5))


def test_linear_wrong_input_size_names_layer_and_suggests_fix():
    net = nn.Sequential()
    net.add_module("fc1", nn.Linear(784, 10))
    with pytest.raises(ValueError) as err:
        net(sd.zeros(4, 1, 28, 28))
    msg = str(err.value)
    assert "Linear 'fc1'" in msg and "784" in msg and "(4, 1, 28, 28)" in msg
    assert "Flatten" in msg
    with pytest.raises(ValueError, match=r"in_features=100 would fit"):
        net(sd.zeros(4, 100))
    with pytest.raises(ValueError, match="positive sizes"):
        nn.Linear(0, 3)


def test_dense_not_trainable_freezes_parameters():
    # regression: with input_shape= the weights were built in __init__ and stayed trainable
    for d in (nn.Dense(3, input_shape=(2,), trainable=False), nn.Dense(3, trainable=False)):
        d(sd.zeros(1, 2))
        assert not any(p.requires_grad for p in d.parameters())
        assert d.trainable_weights == [] and len(d.weights) == 2
    d.trainable = True  # and the switch works after building, as in Keras
    assert all(p.requires_grad for p in d.parameters()) and len(d.trainable_weights) == 2
    d.trainable = False
    assert not any(p.requires_grad for p in d.parameters())
    assert d.get_config()["trainable"] is False


def test_layer_weights_get_and_set():
    d = nn.Dense(2, input_shape=(3,))
    k, b = d.get_weights()
    assert k.shape == (3, 2) and b.shape == (2,)
    d.set_weights([np.ones((3, 2), np.float32), np.full(2, 0.5, np.float32)])
    np.testing.assert_allclose(d(sd.ones(1, 3)).numpy(), [[3.5, 3.5]])
    with pytest.raises(ValueError, match="has 2 weights, got 1"):
        d.set_weights([k])
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        d.set_weights([k.T, b])


def test_layers_get_readable_unique_names():
    a, b = nn.Dense(2), nn.Dense(2)
    assert a.name != b.name and a.name.startswith("dense") and b.name.startswith("dense")
    assert nn.Dense(2, name="head").name == "head"
    # Keras's snake case: LeakyReLU -> leaky_re_lu, never 'leaky_re_l_u'
    assert nn.LeakyReLU().name.startswith("leaky_re_lu")
    assert nn.ReLU6().name.startswith("re_lu6")
    assert nn.InputLayer(shape=(2,)).name.startswith("input_layer")


def test_activation_layer_reprs_show_their_arguments():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Dense(3, activation="relu")) == "Dense(units=3, activation=relu)"


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown activation 'rleu'.*relu"):
        nn.Dense(3, activation="rleu")
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Activation("nope")
    with pytest.raises(TypeError, match="name or a callable"):
        nn.Activation(3)
    custom = nn.Activation(lambda z: z * 2.0)
    np.testing.assert_allclose(custom(sd.ones(2)).numpy(), [2.0, 2.0])


# -- Dropout --------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_fraction_and_scale(p):
    drop = nn.Dropout(p)
    x = sd.ones(200, 500)
    y = drop(x).numpy()
    zeroed = (y == 0).mean()
    assert abs(zeroed - p) < 0.01  # 100k draws: the std of the fraction is below 0.002
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1.0 / (1.0 - p), rtol=1e-6)
    assert y.dtype == np.float32
    assert abs(y.mean() - 1.0) < 0.03  # inverted dropout keeps the expectation


def test_dropout_train_vs_eval_and_gradient_uses_the_mask():
    drop = nn.Dropout(0.5)
    x = sd.tensor(layer_input((50, 40)), dtype="float64", requires_grad=True)
    y = drop(x)
    assert y.dtype == np.float64
    mask = y.numpy() != 0
    assert 0 < mask.mean() < 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mask * 2.0)
    drop.eval()
    assert drop(x) is x  # identity at inference
    drop.train()
    assert not np.array_equal(drop(x).numpy() != 0, mask)  # a fresh mask every call


def test_dropout_rate_0_and_1_and_bad_rates():
    x = sd.tensor(layer_input((10, 10)), requires_grad=True)
    assert nn.Dropout(0.0)(x) is x
    y = nn.Dropout(rate=1.0)(x)
    assert not y.numpy().any()
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy())) and not x.grad.numpy().any()
    assert nn.Dropout(rate=0.3).p == 0.3  # Keras's spelling
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="rate must be in"):
            nn.Dropout(bad)
    with pytest.raises(ValueError, match="probability must be in"):
        nn.functional.dropout(x, 2.0)


def test_dropout_seed_and_manual_seed_reproduce():
    x = sd.ones(20, 20)
    a = nn.Dropout(0.5, seed=3)(x).numpy()
    b = nn.Dropout(0.5, seed=3)(x).numpy()
    np.testing.assert_array_equal(a, b)
    sd.manual_seed(9)
    c = nn.Dropout(0.5)(x).numpy()
    sd.manual_seed(9)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).numpy(), c)


def test_dropout_inside_a_model_follows_model_eval():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    x = sd.ones(8, 4)
    net.eval()
    np.testing.assert_array_equal(net(x).numpy(), net[0](x).numpy())
    net.train()
    assert (net(x).numpy() == 0).mean() > 0.5


# -- shapes ---------------------------------------------------------------------------------------
def test_flatten_output_shapes():
    assert nn.Flatten().compute_output_shape((None, 2, 3, 4)) == (None, 24)
    assert nn.Flatten().compute_output_shape((None, 2, None)) == (None, None)
    assert nn.Flatten(0).compute_output_shape((5, 2, 3)) == (30,)
    assert nn.Flatten(1, 2).compute_output_shape((5, 2, 3, 4)) == (5, 6, 4)
    assert nn.Flatten(1, 2)(sd.zeros(5, 2, 3, 4)).shape == (5, 6, 4)


def test_input_layer_checks_sample_shape():
    inp = nn.Input(shape=(4,))
    assert isinstance(inp, nn.InputLayer) and inp.input_shape_declared == (4,)
    x = sd.zeros(3, 4)
    assert inp(x) is x
    with pytest.raises(ValueError, match=r"expects samples of shape \(4,\).*\(3, 5\)"):
        inp(sd.zeros(3, 5))
    with pytest.raises(ValueError, match="needs shape="):
        nn.InputLayer()
    flexible = nn.Input(shape=(None, 3))
    assert flexible(sd.zeros(2, 7, 3)).shape == (2, 7, 3)
    with pytest.raises(ValueError, match="expects samples"):
        flexible(sd.zeros(2, 7))
    net = nn.Sequential(nn.Input(shape=(4,)), nn.Dense(2))
    assert net(x).shape == (3, 2)
