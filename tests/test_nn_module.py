"""nn.Module and the containers: registration, traversal, modes, dtype/device moves, state
dicts, hooks, repr, and Sequential / ModuleList / ModuleDict."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
from shendu.backend import cuda_available


class Net(nn.Module):
    """Two Linear layers and a buffer, written in the old ``super(Net, self)`` style."""

    def __init__(self):
        super(Net, self).__init__()  # noqa: UP008 - the Python 2 spelling must keep working
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2)
        self.register_buffer("steps", sd.zeros(3))
        self.plain = 7  # neither a parameter nor a module

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Tied(nn.Module):
    """Two Linear layers sharing one weight, and one sub-module registered twice."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(3, 3)
        self.dec = nn.Linear(3, 3)
        self.dec.weight = self.enc.weight
        self.shared = nn.Linear(3, 3)
        self.again = self.shared

    def forward(self, x):
        return self.again(self.shared(self.dec(self.enc(x))))


def _x(*shape, seed=0, dtype=np.float32):
    return sd.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


# -- registration ---------------------------------------------------------------------------------
def test_attributes_register_parameters_modules_and_buffers():
    net = Net()
    assert list(net._modules) == ["fc1", "act", "fc2"]
    assert list(net._parameters) == []
    assert list(net._buffers) == ["steps"]
    assert isinstance(net.fc1.weight, nn.Parameter)
    assert net.fc1.weight.requires_grad
    assert net.plain == 7 and "plain" not in net._modules and "plain" not in net._buffers
    names = [n for n, _ in net.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["steps"]
    assert sum(p.numel() for p in net.parameters()) == 4 * 3 + 3 + 3 * 2 + 2
    # a Parameter assigned directly is registered on the module itself
    net.scale = nn.Parameter(sd.ones(1))
    assert "scale" in dict(net.named_parameters())
    assert "scale" in dir(net) and "fc1" in dir(net)
    # the buffer can be replaced by a new tensor and stays a buffer
    net.steps = sd.ones(3)
    assert "steps" in net._buffers and net.steps.tolist() == [1.0, 1.0, 1.0]
    del net.scale
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        net.missing  # noqa: B018


def test_register_parameter_buffer_and_module_checks():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(sd.zeros(2)))
    m.register_parameter("nothing", None)
    assert [n for n, _ in m.named_parameters()] == ["w"]
    with pytest.raises(TypeError, match="expects a Parameter"):
        m.register_parameter("bad", sd.zeros(2))
    m.register_buffer("kept", np.arange(3.0))  # arrays become tensors
    m.register_buffer("scratch", sd.zeros(2), persistent=False)
    assert isinstance(m.kept, sd.Tensor)
    assert set(dict(m.named_buffers())) == {"kept", "scratch"}
    assert set(m.state_dict()) == {"w", "kept"}  # non-persistent buffers are not saved
    m.add_module("child", nn.Linear(2, 2))
    assert "child.weight" in dict(m.named_parameters())
    with pytest.raises(TypeError, match="expects a Module"):
        m.add_module("bad", 3)


def test_assigning_before_super_init_is_a_clear_error():
    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\).*Early|Early.*super"):
        Early()


def test_shared_parameters_and_modules_are_listed_once():
    net = Tied()
    params = list(net.parameters())
    assert len(params) == len({id(p) for p in params})
    # enc.weight, enc.bias, dec.bias, shared.weight, shared.bias
    assert [n for n, _ in net.named_parameters()] == [
        "enc.weight", "enc.bias", "dec.bias", "shared.weight", "shared.bias"]
    assert [n for n, _ in net.named_children()] == ["enc", "dec", "shared"]
    assert [n for n, _ in net.named_modules()] == ["", "enc", "dec", "shared"]
    # the tied weight gets the gradient of both uses
    x = _x(2, 3)
    net(x).sum().backward()
    assert net.enc.weight.grad is not None and net.dec.weight is net.enc.weight


def test_children_modules_named_modules_and_get_submodule():
    outer = nn.Sequential(OrderedDict([("body", Net()), ("head", nn.Linear(2, 1))]))
    assert [n for n, _ in outer.named_children()] == ["body", "head"]
    assert list(outer.children()) == [outer.body, outer.head]
    names = [n for n, _ in outer.named_modules()]
    assert names == ["", "body", "body.fc1", "body.act", "body.fc2", "head"]
    assert len(list(outer.modules())) == 6
    assert outer.get_submodule("body.fc2") is outer.body.fc2
    assert outer.get_submodule("") is outer
    with pytest.raises(AttributeError, match="nope"):
        outer.get_submodule("body.nope")


def test_train_and_eval_propagate():
    net = nn.Sequential(Net(), nn.Dropout(0.5))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net[0].fc1.training


def test_zero_grad_and_requires_grad():
    net = Net()
    net(_x(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_keeps_parameter_objects_and_converts_buffers():
    net = Net()
    net(_x(5, 4)).sum().backward()
    before = list(net.parameters())
    w = net.fc1.weight.numpy().copy()
    assert net.to(sd.float64) is net
    assert list(net.parameters()) == before  # same objects: optimizers keep working
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert all(p.grad.dtype == np.float64 for p in net.parameters())
    assert net.steps.dtype == np.float64
    np.testing.assert_array_equal(net.fc1.weight.numpy(), w)
    y = net(_x(5, 4, dtype=np.float64))
    assert y.dtype == np.float64
    net.float()
    assert net.fc2.bias.dtype == np.float32
    net.to("float64")
    assert net.fc2.bias.dtype == np.float64
    net.to(dtype=np.float32)
    assert net.fc2.bias.dtype == np.float32
    # integer buffers are left alone by a float conversion
    net.register_buffer("count", sd.tensor(np.array([1, 2], dtype=np.int64)))
    net.double()
    assert net.count.dtype == np.int64


def test_to_cpu_is_a_no_op_and_cuda_without_gpu_is_a_clear_error():
    net = Net()
    w = net.fc1.weight
    assert net.to("cpu") is net and net.cpu() is net
    assert net.fc1.weight is w and isinstance(w.data, np.ndarray)
    assert net.to(sd.device("cpu")) is net
    if cuda_available():
        pytest.skip("a GPU is visible: the no-GPU error cannot be tested here")
    for call in (lambda: net.to("cuda"), lambda: net.cuda(), lambda: net.to("cuda:1")):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            call()
    assert isinstance(net.fc1.weight.data, np.ndarray)  # nothing was half-moved


def test_apply_visits_children_first_then_self():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Net"]

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    net.apply(init)
    assert np.all(net.fc1.weight.numpy() == 0.5) and np.all(net.fc2.bias.numpy() == 0)


def test_deepcopy_gives_independent_parameters():
    net = Net()
    clone = copy.deepcopy(net)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]
    nn.init.zeros_(clone.fc1.weight)
    assert net.fc1.weight.numpy().any()


# -- state dict -----------------------------------------------------------------------------------
def test_state_dict_round_trip():
    sd.manual_seed(0)
    a = Net()
    a.steps = sd.tensor([1.0, 2.0, 3.0])
    sd.manual_seed(1)
    b = Net()
    x = _x(6, 4)
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    state = a.state_dict()
    assert list(state) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(not t.requires_grad for t in state.values())
    w_b = b.fc1.weight
    missing, unexpected = b.load_state_dict(state)
    assert missing == [] and unexpected == []
    assert b.fc1.weight is w_b  # loaded in place
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert b.steps.tolist() == [1.0, 2.0, 3.0]
    # the copy does not alias the source
    nn.init.zeros_(a.fc1.weight)
    assert b.fc1.weight.numpy().any()
    # NumPy arrays are accepted as values, and are cast to the parameter's dtype
    b.load_state_dict({k: v.numpy().astype(np.float64) for k, v in a.state_dict().items()})
    assert b.fc1.weight.dtype == np.float32 and not b.fc1.weight.numpy().any()


def test_load_state_dict_strict_errors_name_every_bad_key():
    net = Net()
    state = OrderedDict(net.state_dict())
    del state["fc1.bias"]
    state["fc3.weight"] = sd.zeros(2)
    state["fc2.weight"] = sd.zeros(5, 5)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state)
    msg = str(err.value)
    assert "Net" in msg
    assert "Missing" in msg and "fc1.bias" in msg
    assert "Unexpected" in msg and "fc3.weight" in msg
    assert "fc2.weight" in msg and "(5, 5)" in msg and "(2, 3)" in msg


def test_load_state_dict_non_strict_reports_but_shapes_still_checked():
    net = Net()
    before = net.fc1.bias.numpy().copy()
    state = {k: v for k, v in Net().state_dict().items() if k != "fc1.bias"}
    state["extra"] = sd.zeros(1)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["fc1.bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(net.fc1.bias.numpy(), before)
    with pytest.raises(RuntimeError, match="fc1.weight"):
        net.load_state_dict({"fc1.weight": sd.zeros(4, 3)}, strict=False)


# -- hooks ----------------------------------------------------------------------------------------
def test_forward_hook_sees_inputs_and_output_and_can_be_removed():
    net = Net()
    calls = []

    def hook(module, inputs, output):
        calls.append((module, inputs, output.shape))

    handle = net.fc1.register_forward_hook(hook)
    x = _x(5, 4)
    net(x)
    assert len(calls) == 1
    module, inputs, shape = calls[0]
    assert module is net.fc1 and inputs[0] is x and shape == (5, 3)
    handle.remove()
    net(x)
    assert len(calls) == 1
    handle.remove()  # removing twice is harmless


def test_forward_hook_return_value_replaces_output():
    lin = nn.Linear(3, 2)
    x = _x(4, 3)
    plain = lin(x).numpy()
    h = lin.register_forward_hook(lambda m, i, o: o * 2.0)
    np.testing.assert_allclose(lin(x).numpy(), 2 * plain, rtol=1e-6)
    h.remove()
    np.testing.assert_allclose(lin(x).numpy(), plain, rtol=1e-6)


def test_forward_pre_hook_can_replace_inputs():
    lin = nn.Linear(3, 2)
    x = _x(4, 3)
    h = lin.register_forward_pre_hook(lambda m, inputs: (inputs[0] * 0.0,))
    np.testing.assert_allclose(lin(x).numpy(), np.broadcast_to(lin.bias.numpy(), (4, 2)))
    h.remove()
    assert not np.allclose(lin(x).numpy(), lin.bias.numpy())


# -- repr -----------------------------------------------------------------------------------------
def test_repr_reads_like_torch():
    text = repr(Net())
    assert text == (
        "Net(\n"
        "  (fc1): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (act): ReLU()\n"
        "  (fc2): Linear(in_features=3, out_features=2, bias=True)\n"
        ")")
    nested = repr(nn.Sequential(nn.Sequential(nn.Linear(1, 1, bias=False))))
    assert nested == (
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Linear(in_features=1, out_features=1, bias=False)\n"
        "  )\n"
        ")")
    assert repr(nn.MSELoss()) == "MSELoss(reduction='mean')"
    assert "p=0.25" in repr(nn.Dropout(0.25))


def test_forward_not_implemented_names_the_class():
    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="NoForward"):
        NoForward()(sd.zeros(1))


# -- containers -----------------------------------------------------------------------------------
def test_sequential_positional_chains_layers():
    seq = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    x = _x(5, 4)
    manual = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).numpy(), manual.numpy())
    assert len(seq) == 3
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    assert seq[-1] is seq[2]
    assert list(seq) == [seq[0], seq[1], seq[2]]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                      "2.bias"]
    # a list is accepted too
    assert len(nn.Sequential([nn.ReLU(), nn.Tanh()])) == 2


def test_sequential_ordered_dict_slicing_and_append():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(4, 3)), ("act", nn.Tanh()),
                                     ("out", nn.Linear(3, 1))]))
    assert seq.fc is seq[0] and seq.out is seq[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert head[0] is seq.fc and [n for n, _ in head.named_children()] == ["fc", "act"]
    x = _x(2, 4)
    np.testing.assert_array_equal(head(x).numpy(), seq.act(seq.fc(x)).numpy())
    assert len(seq[::2]) == 2 and seq[::2][1] is seq.out
    assert seq.append(nn.Sigmoid()) is seq
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    assert [n for n, _ in seq.named_children()][-1] == "3"
    assert seq(x).shape == (2, 1)
    with pytest.raises(TypeError, match="expects Modules.*position 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(TypeError, match="Module"):
        seq.append("relu")


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3
    assert len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh(), nn.Sigmoid()])
    assert len(layers) == 6 and isinstance(layers[-1], nn.Sigmoid)
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity) and isinstance(layers[1], nn.Linear)
    assert [n for n, _ in layers.named_children()] == [str(i) for i in range(7)]
    sub = layers[1:3]
    assert isinstance(sub, nn.ModuleList) and len(sub) == 2 and sub[0] is layers[1]
    new = nn.Linear(2, 2)
    layers[1] = new
    assert layers[1] is new and any(p is new.weight for p in layers.parameters())
    assert [type(m).__name__ for m in layers][:2] == ["Identity", "Linear"]

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)])

    assert [n for n, _ in Stack().named_parameters()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    with pytest.raises(TypeError, match="ModuleList"):
        nn.ModuleList([1])


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert len(heads) == 2 and "a" in heads and "c" not in heads
    assert list(heads) == ["a", "b"] and list(heads.keys()) == ["a", "b"]
    assert heads["b"].out_features == 3
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                        "b.bias"]
    heads["c"] = nn.Tanh()
    assert list(heads.values())[-1] is heads["c"]
    assert dict(heads.items())["a"] is heads.a
    del heads["a"]
    assert "a" not in heads and len(list(heads.parameters())) == 2
    heads.update([("d", nn.ReLU())])
    assert list(heads) == ["b", "c", "d"]
    with pytest.raises(TypeError, match="ModuleDict"):
        heads["e"] = "relu"


def test_assigning_a_plain_tensor_over_a_parameter_is_refused():
    # regression: it used to unregister the weight silently (optimizers then skipped it)
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'.*nn.Parameter"):
        lin.weight = sd.zeros(2, 2)
    assert "weight" in dict(lin.named_parameters())
    lin.weight = nn.Parameter(sd.zeros(2, 2))  # a new Parameter is fine
    assert not lin.weight.numpy().any() and "weight" in dict(lin.named_parameters())
    lin.bias = None  # and so is dropping the bias
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_registering_over_a_plain_attribute_or_with_a_dot_is_refused():
    # regression: the plain attribute used to shadow the registered tensor silently
    m = nn.Module()
    m.scale = 2.0
    with pytest.raises(KeyError, match="buffer 'scale'.*plain attribute"):
        m.register_buffer("scale", sd.ones(1))
    with pytest.raises(KeyError, match="parameter 'scale'"):
        m.register_parameter("scale", nn.Parameter(sd.ones(1)))
    with pytest.raises(KeyError, match="without '.'"):
        m.add_module("a.b", nn.ReLU())
    with pytest.raises(KeyError, match="without '.'"):
        nn.Sequential(OrderedDict([("a.b", nn.ReLU())]))
    # Linear(bias=False) lists its bias as None, like torch, so it can be registered later
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    assert list(lin.state_dict()) == ["weight"]
    lin.register_parameter("bias", nn.Parameter(sd.ones(2)))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    np.testing.assert_allclose(lin(sd.zeros(1, 3)).numpy(), [[1.0, 1.0]])
