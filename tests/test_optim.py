"""Optimizers: update rules against PyTorch, state_dict round trips, groups, clipping, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import shendu
import shendu.optim as optim
from shendu.optim import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop

SHAPES = [(3, 4), (5,), (), (2, 1, 3)]

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "maximize": True,
             "weight_decay": 0.01}),
    ("Adam", {}),
    ("Adam", {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.3, 0.9), "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1,
                 "weight_decay": 0.1}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-4, "weight_decay": 0.1,
                  "maximize": True}),
]


def _ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _data(dtype, steps=8, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return params, grads


def _make(params):
    return [shendu.Tensor(np.array(a), requires_grad=True) for a in params]


def _set_grads(ps, gs):
    for p, g in zip(ps, gs):
        p.grad = shendu.Tensor(np.array(g))


def _assert_close(a, b, dtype):
    if dtype == np.float64:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# -- against PyTorch --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    name, kw = case
    p0, grads = _data(dtype)
    ps = _make(p0)
    tps = [torch.tensor(np.array(a), requires_grad=True) for a in p0]
    opt = getattr(optim, name)(ps, **kw)
    topt = getattr(torch.optim, name)(tps, **kw)
    arrays = [p.data for p in ps]
    for gs in grads:
        _set_grads(ps, gs)
        for t, g in zip(tps, gs):
            t.grad = torch.tensor(np.array(g))
        opt.step()
        topt.step()
        for p, t, a in zip(ps, tps, arrays):
            assert p.data is a, "the update must be in place"
            assert p.data.dtype == dtype
            _assert_close(p.data, t.detach().numpy(), dtype)
    for s in opt.state.values():
        for v in s.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == dtype, "optimizer state must not upcast"


def test_param_groups_with_different_options_match_torch():
    torch = pytest.importorskip("torch")
    p0, grads = _data(np.float64)
    ps = _make(p0)
    tps = [torch.tensor(np.array(a), requires_grad=True) for a in p0]

    def groups(q):
        return [{"params": q[:2]}, {"params": q[2:], "lr": 0.01, "momentum": 0.5}]

    opt = SGD(groups(ps), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(groups(tps), lr=0.1, momentum=0.9)
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[0]["lr"] == 0.1
    for gs in grads:
        _set_grads(ps, gs)
        for t, g in zip(tps, gs):
            t.grad = torch.tensor(np.array(g))
        opt.step()
        topt.step()
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12)


def test_params_without_grad_are_skipped_like_torch():
    torch = pytest.importorskip("torch")
    p0, grads = _data(np.float64)
    ps = _make(p0)
    tps = [torch.tensor(np.array(a), requires_grad=True) for a in p0]
    opt, topt = Adam(ps, lr=0.1), torch.optim.Adam(tps, lr=0.1)
    for k, gs in enumerate(grads):
        for i, (p, t, g) in enumerate(zip(ps, tps, gs)):
            has = (i + k) % 2 == 0
            p.grad = shendu.Tensor(np.array(g)) if has else None
            t.grad = torch.tensor(np.array(g)) if has else None
        opt.step()
        topt.step()
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12)
    steps = [opt.state[p]["step"] for p in ps]
    assert steps == [int(topt.state[t]["step"]) for t in tps]


def test_keras_spellings_match_torch_options():
    torch = pytest.importorskip("torch")
    p0, grads = _data(np.float64)
    ps = _make(p0)
    tps = [torch.tensor(np.array(a), requires_grad=True) for a in p0]
    opt = Adam(ps, learning_rate=0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-5)
    topt = torch.optim.Adam(tps, lr=0.02, betas=(0.8, 0.95), eps=1e-5)
    for gs in grads:
        _set_grads(ps, gs)
        for t, g in zip(tps, gs):
            t.grad = torch.tensor(np.array(g))
        opt.step()
        topt.step()
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12)


def test_state_dict_layout_matches_torch():
    torch = pytest.importorskip("torch")
    p0, grads = _data(np.float64)
    ps = _make(p0)
    tps = [torch.tensor(np.array(a), requires_grad=True) for a in p0]
    opt = Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.1}], amsgrad=True)
    topt = torch.optim.Adam([{"params": tps[:1]}, {"params": tps[1:], "lr": 0.1}], amsgrad=True)
    for gs in grads[:2]:
        _set_grads(ps, gs)
        for t, g in zip(tps, gs):
            t.grad = torch.tensor(np.array(g))
        opt.step()
        topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(tsd["state"][i])
        np.testing.assert_allclose(sd["state"][i]["exp_avg"], tsd["state"][i]["exp_avg"].numpy())
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        for k in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
            assert g[k] == tg[k]


# -- state_dict ---------------------------------------------------------------------------------
def _plain(x) -> bool:
    if isinstance(x, dict):
        return all(isinstance(k, (int, str)) and _plain(v) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return all(_plain(v) for v in x)
    return x is None or isinstance(x, (bool, int, float, str, np.ndarray))


def _jsonish(sd):
    """What a save through JSON + safetensors gives back: str keys, lists for tuples."""
    state = {str(k): dict(v) for k, v in sd["state"].items()}
    groups = json.loads(json.dumps(sd["param_groups"]))
    return {"state": state, "param_groups": groups}


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_state_dict_round_trip_continues_identically(case):
    name, kw = case
    p0, grads = _data(np.float64, steps=8)
    ps = _make(p0)
    opt = getattr(optim, name)(ps, **kw)
    for gs in grads[:4]:
        _set_grads(ps, gs)
        opt.step()
    sd = opt.state_dict()
    assert _plain(sd)
    ps2 = _make([p.data for p in ps])
    opt2 = getattr(optim, name)(ps2, lr=123.0)  # options come back from the state dict
    opt2.load_state_dict(_jsonish(sd))
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for gs in grads[4:]:
        _set_grads(ps, gs)
        _set_grads(ps2, gs)
        opt.step()
        opt2.step()
    for a, b in zip(ps, ps2):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_is_a_copy_and_load_casts_dtype():
    p = shendu.Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = shendu.Tensor(np.ones(3, np.float32))
    opt.step()
    sd = opt.state_dict()
    buf = sd["state"][0]["momentum_buffer"]
    opt.step()
    np.testing.assert_array_equal(buf, np.ones(3, np.float32))  # unaffected by later steps
    sd["state"][0]["momentum_buffer"] = buf.astype(np.float64)
    opt.load_state_dict(sd)
    assert opt.state[p]["momentum_buffer"].dtype == np.float32


def test_load_state_dict_errors():
    ps = _make(_data(np.float64)[0])
    opt = Adam(ps)
    with pytest.raises(ValueError, match="1 parameter groups"):
        Adam([{"params": ps[:2]}, {"params": ps[2:]}]).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="group 0 has 2 parameters"):
        Adam(ps[:2]).load_state_dict(opt.state_dict())
    for p, g in zip(ps, _data(np.float64)[1][0]):
        p.grad = shendu.Tensor(g)
    opt.step()
    sd = opt.state_dict()
    other = _make([np.zeros((4, 3)), np.zeros(5), np.zeros(()), np.zeros((2, 1, 3))])
    with pytest.raises(ValueError, match=r"shape \(3, 4\).*shape \(4, 3\)"):
        Adam(other).load_state_dict(sd)


# -- behaviour --------------------------------------------------------------------------------
def test_adam_minimizes_a_quadratic_with_autograd():
    target = np.array([1.0, -2.0, 3.0])
    x = shendu.Tensor(np.zeros(3), requires_grad=True)
    opt = Adam([x], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        loss = ((x - shendu.Tensor(target)) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(x.data, target, atol=1e-3)
    assert float(loss.item()) < 1e-5


def test_step_with_closure_returns_the_loss():
    x = shendu.Tensor(np.array([3.0]), requires_grad=True)
    opt = SGD([x], lr=0.25)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        calls.append(1)
        return loss

    with shendu.no_grad():
        loss = opt.step(closure)  # the closure runs with gradients enabled
    assert calls == [1] and float(loss.item()) == 9.0
    np.testing.assert_allclose(x.data, [1.5])  # 3 - 0.25 * 6


def test_zero_grad():
    ps = _make(_data(np.float32)[0])
    opt = SGD(ps, lr=0.1)
    _set_grads(ps, _data(np.float32)[1][0])
    grad = ps[0].grad
    opt.zero_grad(set_to_none=False)
    assert ps[0].grad is grad and not np.any(grad.data)
    opt.zero_grad()
    assert all(p.grad is None for p in ps)


def test_float32_stays_float32_without_upcast():
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta):
        p = shendu.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
        opt = cls([p], lr=0.1)
        for _ in range(3):
            p.grad = shendu.Tensor(np.full((2, 3), 0.5, np.float32))
            opt.step()
        assert p.data.dtype == np.float32, cls.__name__
        for v in opt.state[p].values():
            assert not isinstance(v, np.ndarray) or v.dtype == np.float32, cls.__name__


def test_named_parameters_are_accepted():
    ps = _make(_data(np.float64)[0])
    opt = SGD([(f"w{i}", p) for i, p in enumerate(ps)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w0", "w1", "w2", "w3"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w0", "w1", "w2", "w3"]


def test_add_param_group_and_defaults():
    ps = _make(_data(np.float64)[0])
    opt = SGD(ps[:2], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": ps[2], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    opt.add_param_group({"params": ps[3:], "learning_rate": 0.5})
    assert opt.param_groups[2]["lr"] == 0.5
    assert "SGD (" in repr(opt) and "Parameter Group 2" in repr(opt)


def test_keras_style_construction_without_params():
    opt = Adam(lr=0.001)  # the Keras seeds: Adam(lr=0.001) passed to compile()
    assert opt.param_groups == [] and opt.defaults["lr"] == 0.001
    opt.step()  # nothing to do yet
    x = shendu.Tensor(np.zeros(2), requires_grad=True)
    opt.add_param_group({"params": [x]})
    x.grad = shendu.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(x.data, [-0.001, -0.001], rtol=1e-6)
    assert Adam(0.01).defaults["lr"] == 0.01  # Keras: the learning rate comes first
    assert SGD(learning_rate=0.3).defaults["lr"] == 0.3
    assert RMSprop(rho=0.8, epsilon=1e-3).defaults["alpha"] == 0.8
    assert Adagrad(epsilon=1e-3).defaults["eps"] == 1e-3


def test_get_resolves_names_with_keras_defaults():
    for name, cls, lr in [("adam", Adam, 0.001), ("SGD", SGD, 0.01), ("RMSprop", RMSprop, 0.001),
                          ("Adagrad", Adagrad, 0.001), ("adadelta", Adadelta, 0.001),
                          ("AdamW", AdamW, 0.001)]:
        opt = optim.get(name)
        assert type(opt) is cls and opt.defaults["lr"] == lr
    assert optim.get("adam").defaults["eps"] == 1e-7
    assert optim.get("sgd", learning_rate=0.5, momentum=0.9).defaults["momentum"] == 0.9
    assert optim.get("sgd", learning_rate=0.5).defaults["lr"] == 0.5
    x = shendu.Tensor(np.zeros(2), requires_grad=True)
    opt = optim.get("adam", params=[x])
    assert opt.param_groups[0]["params"][0] is x
    assert optim.get(opt) is opt
    assert type(optim.get(SGD, params=[x])) is SGD
    assert optim.get(SGD, params=[x]).defaults["lr"] == 1e-3  # classes keep torch defaults
    cfg = {"class_name": "Adam", "config": {"learning_rate": 0.01}}
    assert optim.get(cfg).defaults["lr"] == 0.01
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        optim.get("adamax")
    with pytest.raises(TypeError, match="could not interpret"):
        optim.get(42)


# -- Keras clipping options -------------------------------------------------------------------
def test_clipnorm_clips_each_gradient_and_leaves_grad_untouched():
    a = shendu.Tensor(np.zeros(2), requires_grad=True)
    b = shendu.Tensor(np.zeros(2), requires_grad=True)
    opt = SGD([a, b], lr=1.0, clipnorm=1.0)
    a.grad = shendu.Tensor(np.array([3.0, 4.0]))  # norm 5 -> clipped to 1
    b.grad = shendu.Tensor(np.array([0.3, 0.4]))  # norm 0.5 -> unchanged
    opt.step()
    np.testing.assert_allclose(a.data, [-0.6, -0.8])
    np.testing.assert_allclose(b.data, [-0.3, -0.4])
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])


def test_global_clipnorm_and_clipvalue():
    a = shendu.Tensor(np.zeros(2), requires_grad=True)
    b = shendu.Tensor(np.zeros(1), requires_grad=True)
    opt = SGD([a, b], lr=1.0, global_clipnorm=2.5)
    a.grad = shendu.Tensor(np.array([3.0, 0.0]))
    b.grad = shendu.Tensor(np.array([4.0]))  # joint norm 5 -> everything halved
    opt.step()
    np.testing.assert_allclose(np.concatenate([a.data, b.data]), [-1.5, 0.0, -2.0])
    c = shendu.Tensor(np.zeros(3), requires_grad=True)
    opt = SGD([c], lr=1.0, clipvalue=0.5)
    c.grad = shendu.Tensor(np.array([-2.0, 0.1, 3.0]))
    opt.step()
    np.testing.assert_allclose(c.data, [0.5, -0.1, -0.5])
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm=-1"):
        Adam(clipnorm=-1)


# -- clip_grad_norm_ / clip_grad_value_ ---------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    torch = pytest.importorskip("torch")
    p0, grads = _data(dtype)
    ps = _make(p0)
    tps = [torch.tensor(np.array(a), requires_grad=True) for a in p0]
    _set_grads(ps, grads[0])
    for t, g in zip(tps, grads[0]):
        t.grad = torch.tensor(np.array(g))
    total = optim.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    assert isinstance(total, shendu.Tensor) and total.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(float(total.item()), ttotal.item(), rtol=rtol)
    for p, t in zip(ps, tps):
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    p0, grads = _data(np.float32)
    ps = _make(p0)
    tps = [torch.tensor(np.array(a), requires_grad=True) for a in p0]
    _set_grads(ps, grads[0])
    for t, g in zip(tps, grads[0]):
        t.grad = torch.tensor(np.array(g))
    optim.clip_grad_value_(ps, 0.3)
    torch.nn.utils.clip_grad_value_(tps, 0.3)
    for p, t in zip(ps, tps):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_clip_grad_norm_edge_cases():
    x = shendu.Tensor(np.zeros(3), requires_grad=True)
    assert float(optim.clip_grad_norm_([x], 1.0).item()) == 0.0  # no gradients
    x.grad = shendu.Tensor(np.array([3.0, 4.0, 0.0]))
    total = optim.clip_grad_norm_(x, 1.0)  # a single tensor is accepted
    assert float(total.item()) == 5.0
    np.testing.assert_allclose(np.linalg.norm(x.grad.data), 1.0, rtol=1e-5)
    x.grad = shendu.Tensor(np.array([np.inf, 1.0, 0.0]))
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        optim.clip_grad_norm_([x], 1.0, error_if_nonfinite=True)
    total = optim.get_total_norm([shendu.Tensor(np.array([1.0, 1.0]))], norm_type=1)
    assert float(total.item()) == 2.0


# -- errors -----------------------------------------------------------------------------------
def _p():
    return shendu.Tensor(np.zeros(2), requires_grad=True)


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: SGD([_p()], lr=-0.1), ValueError, r"SGD: invalid lr=-0\.1"),
    (lambda: Adam([_p()], lr=-1), ValueError, r"Adam: invalid lr=-1"),
    (lambda: Adam([_p()], betas=(1.0, 0.999)), ValueError, r"betas\[0\]=1\.0"),
    (lambda: Adam([_p()], betas=(0.9, -0.1)), ValueError, r"betas\[1\]=-0\.1"),
    (lambda: Adam([_p()], betas=0.9), ValueError, "betas must be a pair"),
    (lambda: Adam([_p()], eps=-1e-8), ValueError, "eps=-1e-08"),
    (lambda: AdamW([_p()], weight_decay=-0.1), ValueError, "weight_decay=-0.1"),
    (lambda: SGD([_p()], momentum=-0.5), ValueError, "momentum=-0.5"),
    (lambda: SGD([_p()], nesterov=True), ValueError, "nesterov=True requires momentum > 0"),
    (lambda: RMSprop([_p()], alpha=-0.1), ValueError, "alpha=-0.1"),
    (lambda: Adagrad([_p()], lr_decay=-1.0), ValueError, "lr_decay=-1.0"),
    (lambda: Adagrad([_p()], initial_accumulator_value=-1), ValueError,
     "initial_accumulator_value=-1"),
    (lambda: Adadelta([_p()], rho=1.5), ValueError, "rho=1.5"),
    (lambda: SGD([_p()], lr="0.1"), TypeError, "lr must be a number"),
    (lambda: SGD([{"params": [_p()], "lr": -2.0}], lr=0.1), ValueError,
     r"invalid lr=-2\.0 in parameter group 0"),
    (lambda: SGD(_p()), TypeError, "got a single Tensor of shape"),
    (lambda: SGD([]), ValueError, "empty parameter list"),
    (lambda: SGD([np.zeros(2)]), TypeError, "parameter 0 of the group is a ndarray"),
    (lambda: SGD({_p()}), TypeError, "not a set"),
    (lambda: SGD([_p() * 2]), ValueError, "non-leaf"),
    (lambda: SGD([shendu.Tensor(np.zeros(2, np.int64))]), TypeError, "floating point"),
    (lambda: SGD(0.1, lr=0.5), TypeError, "the first argument is params"),
    (lambda: SGD([_p()], lr=0.1, learning_rate=0.2), ValueError, "lr=0.1 and learning_rate=0.2"),
])
def test_error_messages_name_argument_and_value(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


def test_duplicate_parameters_are_errors():
    p, q = _p(), _p()
    with pytest.raises(ValueError, match="appears more than once"):
        SGD([p, q, p])
    opt = SGD([p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [q, p]})
    with pytest.raises(TypeError, match="expects a dict"):
        opt.add_param_group([q])
    with pytest.raises(ValueError, match="no 'params' key"):
        opt.add_param_group({"lr": 0.1})


def test_a_torch_style_subclass_with_its_own_step():
    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1, required_option=None):
            super().__init__(params, {"lr": lr, "required_option": required_option})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        with shendu.no_grad():
                            p.add_(np.sign(p.grad.data), alpha=-group["lr"])
                        self.state[p]["steps"] = self.state[p].get("steps", 0) + 1

    x = shendu.Tensor(np.array([1.0, -1.0]), requires_grad=True)
    opt = SignSGD([x], lr=0.5)
    x.grad = shendu.Tensor(np.array([3.0, -0.1]))
    opt.step()
    np.testing.assert_allclose(x.data, [0.5, -0.5])
    assert opt.state_dict()["state"] == {0: {"steps": 1}}


def test_adamw_always_decouples_after_loading():
    ps = _make(_data(np.float64)[0])
    sd = Adam(ps).state_dict()
    opt = AdamW(ps)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
