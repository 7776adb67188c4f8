"""Learning-rate schedulers: sequences against PyTorch, state_dict, ReduceLROnPlateau, errors."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import shendu
from shendu.optim import SGD, Adam, lr_scheduler

EPOCHS = 30


def _lambda(epoch):
    return 0.9**epoch


def _const(epoch):
    return 0.95


SCHEDULERS = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("StepLR", {"step_size": 1}),
    ("MultiStepLR", {"milestones": [3, 8, 8, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 30}),
    ("LinearLR", {"start_factor": 0.1, "total_iters": 8}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.2, "total_iters": 12}),
    ("LambdaLR", {"lr_lambda": _lambda}),
    ("MultiplicativeLR", {"lr_lambda": _const}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("PolynomialLR", {"total_iters": 20, "power": 2.0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 2, "eta_min": 0.01}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": EPOCHS + 1}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": EPOCHS + 1, "three_phase": True,
                    "anneal_strategy": "linear"}),
]


def _ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={getattr(v, '__name__', v)}" for k, v in kw.items())


def _optimizer(lib, cls="SGD"):
    """Two parameter groups with different rates, in shendu or in torch."""
    if lib is shendu:
        a, b = (shendu.Tensor(np.zeros(2), requires_grad=True) for _ in range(2))
        opt_cls = {"SGD": SGD, "Adam": Adam}[cls]
    else:
        a, b = (lib.zeros(2, requires_grad=True) for _ in range(2))
        opt_cls = getattr(lib.optim, cls)
    kw = {"momentum": 0.9} if cls == "SGD" else {}
    return opt_cls([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **kw)


def _run(opt, sched, epochs=EPOCHS):
    lrs = [sched.get_last_lr()]
    moms = [[g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]]
    for _ in range(epochs):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        moms.append([g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
    return lrs, moms


def _same(a, b):
    np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float), rtol=1e-13,
                               atol=0)


@pytest.mark.parametrize("case", SCHEDULERS, ids=[_ids(c) for c in SCHEDULERS])
def test_sequence_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, kw = case
    opt, topt = _optimizer(shendu), _optimizer(torch)
    ours = _run(opt, getattr(lr_scheduler, name)(opt, **kw))
    theirs = _run(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kw))
    _same(ours[0], theirs[0])
    assert ours[1] == theirs[1]  # momentum (cycled by OneCycleLR)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx(
        [g["lr"] for g in topt.param_groups], rel=1e-13)


def test_one_cycle_cycles_adam_beta1_like_torch():
    torch = pytest.importorskip("torch")
    opt, topt = _optimizer(shendu, "Adam"), _optimizer(torch, "Adam")
    ours = _run(opt, lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=EPOCHS + 1))
    theirs = _run(topt, torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.3,
                                                             total_steps=EPOCHS + 1))
    assert ours == theirs


def test_sequential_warmup_then_cosine_matches_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib, mod in ((shendu, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = _optimizer(lib)
        warm = mod.LinearLR(opt, start_factor=0.1, total_iters=5)
        cos = mod.CosineAnnealingLR(opt, T_max=20, eta_min=1e-4)
        results.append(_run(opt, mod.SequentialLR(opt, [warm, cos], milestones=[5]))[0])
    _same(results[0], results[1])


def test_two_chained_schedulers_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib, mod in ((shendu, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = _optimizer(lib)
        a = mod.ExponentialLR(opt, gamma=0.9)
        b = mod.MultiStepLR(opt, milestones=[5, 10], gamma=0.5)
        seq = []
        for _ in range(EPOCHS):
            opt.step()
            a.step()
            b.step()
            seq.append([g["lr"] for g in opt.param_groups])
        results.append(seq)
    _same(results[0], results[1])


@pytest.mark.parametrize("name, kw", [
    ("StepLR", {"step_size": 3}), ("MultiStepLR", {"milestones": [2, 5]}),
    ("ExponentialLR", {"gamma": 0.5}), ("CosineAnnealingLR", {"T_max": 8}),
    ("LinearLR", {"start_factor": 0.25, "total_iters": 4}),
])
def test_step_with_epoch_uses_the_closed_form_like_torch(name, kw):
    torch = pytest.importorskip("torch")
    results = []
    for lib, mod in ((shendu, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = _optimizer(lib)
        sched = getattr(mod, name)(opt, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched.step(6)
        results.append(sched.get_last_lr())
    _same(results[0], results[1])


# -- values without torch ---------------------------------------------------------------------
def test_known_values():
    opt = _optimizer(shendu)
    lrs, _ = _run(opt, lr_scheduler.StepLR(opt, step_size=2, gamma=0.1), epochs=4)
    assert [x[0] for x in lrs] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])
    opt = _optimizer(shendu)
    lrs, _ = _run(opt, lr_scheduler.CosineAnnealingLR(opt, T_max=4), epochs=4)
    expect = [0.05 * (1 + math.cos(math.pi * t / 4)) for t in range(5)]
    assert [x[0] for x in lrs] == pytest.approx(expect, abs=1e-15)
    opt = _optimizer(shendu)
    lrs, _ = _run(opt, lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2), epochs=3)
    assert [x[1] for x in lrs] == pytest.approx([0.025, 0.0375, 0.05, 0.05])
    assert opt.param_groups[1]["initial_lr"] == 0.05


# -- ReduceLROnPlateau ------------------------------------------------------------------------
PLATEAU = [
    {},
    {"mode": "min", "factor": 0.5, "patience": 2},
    {"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.1},
    {"mode": "min", "patience": 1, "threshold_mode": "abs", "threshold": 0.05, "cooldown": 2},
    {"mode": "max", "patience": 0, "threshold_mode": "abs", "min_lr": [0.01, 0.02]},
    {"factor": 0.5, "patience": 0, "min_lr": 0.02, "eps": 1e-3},
]


@pytest.mark.parametrize("kw", PLATEAU, ids=[str(k) for k in PLATEAU])
def test_reduce_on_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    metrics = list(np.concatenate([np.linspace(1.0, 0.5, 8), 0.5 + 0.02 * rng.random(22)]))
    seqs = []
    for lib, mod in ((shendu, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = _optimizer(lib)
        sched = mod.ReduceLROnPlateau(opt, **kw)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(float(m))
            seq.append(sched.get_last_lr() + [sched.num_bad_epochs, sched.cooldown_counter])
        seqs.append(seq)
    assert seqs[0] == seqs[1]


def test_reduce_on_plateau_behaviour():
    opt = _optimizer(shendu)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    for m in [1.0, 1.0, 1.0, 1.0]:  # one better, then 3 bad epochs > patience 2
        sched.step(shendu.tensor(m))  # a one-element Tensor is accepted
    assert sched.get_last_lr() == [0.05, 0.025]
    sched.step(0.5)
    assert sched.best == 0.5 and sched.num_bad_epochs == 0
    sd = sched.state_dict()
    json.dumps(sd)  # plain values only
    again = lr_scheduler.ReduceLROnPlateau(_optimizer(shendu), mode="max")
    again.load_state_dict(sd)
    assert again.mode == "min" and again.best == 0.5


# -- state_dict -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", SCHEDULERS[:13], ids=[_ids(c) for c in SCHEDULERS[:13]])
def test_state_dict_round_trip(case):
    name, kw = case
    opt = _optimizer(shendu)
    sched = getattr(lr_scheduler, name)(opt, **kw)
    for _ in range(7):
        opt.step()
        sched.step()
    osd, ssd = opt.state_dict(), sched.state_dict()
    if "lr_lambda" not in kw:
        ssd = json.loads(json.dumps(ssd))  # plain, JSON-safe values
    opt2 = _optimizer(shendu)
    sched2 = getattr(lr_scheduler, name)(opt2, **kw)  # before loading the optimizer, as in torch
    opt2.load_state_dict(osd)
    sched2.load_state_dict(ssd)
    assert sched2.get_last_lr() == sched.get_last_lr()
    a, _ = _run(opt, sched, epochs=10)
    b, _ = _run(opt2, sched2, epochs=10)
    assert a == b


def test_resume_with_last_epoch():
    opt = _optimizer(shendu)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=4)
    ref = _optimizer(shendu)
    sched = lr_scheduler.StepLR(ref, step_size=3)
    for _ in range(5):
        sched.step()
    opt.load_state_dict(ref.state_dict())
    resumed = lr_scheduler.StepLR(opt, step_size=3, last_epoch=4)
    assert resumed.last_epoch == 5
    assert resumed.get_last_lr() == sched.get_last_lr()


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, exc, pattern", [
    (lambda o: lr_scheduler.StepLR("sgd", step_size=1), TypeError, "expects a shendu.optim"),
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "step_size=0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "T_max=0"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0.0), ValueError, "start_factor=0.0"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=2.0), ValueError, "end_factor=2.0"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, "factor=1.5"),
    (lambda o: lr_scheduler.LambdaLR(o, [_lambda]), ValueError, "one lr_lambda per parameter"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor=1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="lowest"), ValueError, "'lowest'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "'x'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "one min_lr"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0=0"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], [3]), ValueError,
     "one milestone fewer"),
])
def test_errors(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make(_optimizer(shendu))


def test_one_cycle_past_the_end_is_an_error():
    opt = _optimizer(shendu)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="total_steps is 3"):
        sched.step()
