"""Losses: the PyTorch classes and functions against torch (forward and d loss / d input in
float64), numerical stability, and the Keras names against Keras's formulas in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.nn import losses

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["mean", "sum", "none"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _check_against_torch(ours, theirs, x: np.ndarray, rtol=1e-10, atol=1e-12, seed=1):
    """Compare ``ours(Tensor)`` with ``theirs(torch.Tensor)``: the values, and the gradient of
    sum(out * v) with respect to the input for a fixed random v."""
    xs = sd.tensor(x, dtype="float64", requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    a, b = ours(xs), theirs(xt)
    assert a.dtype == np.float64
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
    v = _rng(seed).standard_normal(tuple(b.shape))
    (a * sd.tensor(v, dtype="float64")).sum().backward()
    (b * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)


def _both(cls, fn, **kw):
    """The class form and the functional form of one loss, as two callables."""
    return [lambda x, t: cls(**kw)(x, t), lambda x, t: fn(x, t, **kw)]


# -- regression losses ----------------------------------------------------------------------------
REGRESSION = [
    ("mse", nn.MSELoss, F.mse_loss, TF.mse_loss, {}),
    ("l1", nn.L1Loss, F.l1_loss, TF.l1_loss, {}),
    ("huber", nn.HuberLoss, F.huber_loss, TF.huber_loss, {"delta": 0.7}),
    ("huber_default", nn.HuberLoss, F.huber_loss, TF.huber_loss, {}),
    ("smooth_l1", nn.SmoothL1Loss, F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.5}),
    ("smooth_l1_beta0", nn.SmoothL1Loss, F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.0}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,cls,fn,tfn,kw", REGRESSION, ids=[r[0] for r in REGRESSION])
def test_regression_losses_match_torch(name, cls, fn, tfn, kw, reduction):
    rng = _rng(3)
    x = rng.standard_normal((6, 4)) * 2
    t = rng.standard_normal((6, 4)) * 2
    for ours in _both(cls, fn, reduction=reduction, **kw):
        _check_against_torch(lambda a, ours=ours: ours(a, sd.tensor(t)),
                             lambda a: tfn(a, torch.tensor(t), reduction=reduction, **kw), x)


def test_regression_target_shape_mismatch_is_clear():
    with pytest.raises(ValueError, match=r"input shape \(4, 1\).*target shape \(4,\).*squeeze"):
        F.mse_loss(sd.zeros(4, 1), sd.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(sd.zeros(2), sd.zeros(2), reduction="avg")


# -- binary cross-entropy -------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weight"])
def test_bce_matches_torch(reduction, weighted):
    rng = _rng(4)
    p = rng.uniform(0.02, 0.98, (5, 3))
    t = rng.uniform(0, 1, (5, 3))
    w = rng.uniform(0.5, 2, (5, 3)) if weighted else None
    tw = None if w is None else torch.tensor(w)
    for ours in (lambda a: nn.BCELoss(weight=None if w is None else sd.tensor(w),
                                      reduction=reduction)(a, sd.tensor(t)),
                 lambda a: F.binary_cross_entropy(a, sd.tensor(t), w, reduction)):
        _check_against_torch(ours, lambda a: TF.binary_cross_entropy(
            a, torch.tensor(t), weight=tw, reduction=reduction), p)


def test_bce_at_probabilities_0_and_1_matches_torch_and_stays_finite():
    # regression: the composite log gave NaN gradients (0/0) wherever p was exactly 0 or 1,
    # which a float32 sigmoid reaches for logits beyond about 17
    p = np.array([0.0, 1.0, 0.5, 0.0, 1.0, 0.3])
    t = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.2])
    _check_against_torch(
        lambda a: F.binary_cross_entropy(a, sd.tensor(t), reduction="none"),
        lambda a: TF.binary_cross_entropy(a, torch.tensor(t), reduction="none"), p,
        rtol=1e-8)  # torch's 1e-12 floor is a float32 constant
    ours = F.binary_cross_entropy(sd.tensor(p, dtype="float64"), sd.tensor(t), reduction="none")
    assert ours.numpy()[0] == 100.0 and ours.numpy()[3] == 0.0
    x = sd.tensor([[30.0, -30.0, 0.0]], requires_grad=True)  # float32: sigmoid is exactly 0/1
    loss = nn.BCELoss()(sd.sigmoid(x), sd.tensor([[1.0, 0.0, 1.0]]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.numpy()))
    with pytest.raises(ValueError, match="probabilities.*with_logits"):
        F.binary_cross_entropy(sd.tensor([1.5, 0.2]), sd.tensor([1.0, 0.0]))


BCE_LOGITS = [
    ("plain", None, None),
    ("pos_weight", "pos", None),
    ("weight", None, "w"),
    ("both", "pos", "w"),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case,pos,wt", BCE_LOGITS, ids=[c[0] for c in BCE_LOGITS])
def test_bce_with_logits_matches_torch(case, pos, wt, reduction):
    rng = _rng(5)
    x = rng.standard_normal((6, 3)) * 3
    t = rng.uniform(0, 1, (6, 3))
    pw = rng.uniform(0.5, 3, 3) if pos else None
    w = rng.uniform(0.5, 2, (6, 3)) if wt else None
    tpw = None if pw is None else torch.tensor(pw)
    tw = None if w is None else torch.tensor(w)

    def theirs(a):
        return TF.binary_cross_entropy_with_logits(a, torch.tensor(t), weight=tw,
                                                   pos_weight=tpw, reduction=reduction)

    spw = None if pw is None else sd.tensor(pw)
    sw = None if w is None else sd.tensor(w)
    cls = nn.BCEWithLogitsLoss(weight=sw, reduction=reduction, pos_weight=spw)
    _check_against_torch(lambda a: cls(a, sd.tensor(t)), theirs, x)
    _check_against_torch(lambda a: F.binary_cross_entropy_with_logits(
        a, sd.tensor(t), sw, reduction, spw), theirs, x)


def test_bce_with_logits_is_stable_at_large_logits():
    x = sd.tensor([100.0, -100.0, 100.0, -100.0, 0.0], dtype="float64", requires_grad=True)
    t = sd.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype="float64")
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    loss.sum().backward()
    assert np.all(np.isfinite(loss.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 100.0, 100.0, np.log(2)], atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0, -0.5], atol=1e-12)
    # float32 too, and with pos_weight
    x32 = sd.tensor([100.0, -100.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x32, sd.tensor([0.0, 1.0]),
                                              pos_weight=sd.tensor([3.0]))
    loss.backward()
    assert loss.dtype == np.float32 and np.isfinite(loss.item())
    assert np.all(np.isfinite(x32.grad.numpy()))
    np.testing.assert_allclose(loss.item(), (100.0 + 3 * 100.0) / 2, rtol=1e-6)


# -- cross-entropy --------------------------------------------------------------------------------
def _ce_case(kind: str, rng):
    """Logits, target and keyword arguments of one cross-entropy configuration."""
    n, c = 6, 5
    x = rng.standard_normal((n, c)) * 2
    kw: dict = {}
    if kind == "probs":
        t = rng.dirichlet(np.ones(c), n)
    elif kind == "probs_smooth_weight":
        t = rng.dirichlet(np.ones(c), n)
        kw = {"label_smoothing": 0.15, "weight": rng.uniform(0.5, 2, c)}
    elif kind == "spatial":
        x = rng.standard_normal((2, c, 3, 4))
        t = rng.integers(0, c, (2, 3, 4))
    elif kind == "spatial_probs":
        x = rng.standard_normal((2, c, 3, 4))
        t = np.moveaxis(rng.dirichlet(np.ones(c), (2, 3, 4)), -1, 1)
    elif kind == "single_sample":
        x = rng.standard_normal(c)
        t = np.array(2)
    else:
        t = rng.integers(0, c, n)
        if "ignore" in kind:
            t[[1, 4]] = -100 if kind == "ignore" else 3
            if kind == "ignore_custom":
                kw["ignore_index"] = 3
        if "weight" in kind:
            kw["weight"] = rng.uniform(0.5, 2, c)
        if "smooth" in kind:
            kw["label_smoothing"] = 0.2
    return x, t, kw


CE_KINDS = ["indices", "weight", "smooth", "ignore", "ignore_custom", "weight_smooth_ignore",
            "probs", "probs_smooth_weight", "spatial", "spatial_probs", "single_sample"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", CE_KINDS)
def test_cross_entropy_matches_torch(kind, reduction):
    x, t, kw = _ce_case(kind, _rng(CE_KINDS.index(kind)))
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    skw = {k: sd.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}

    def theirs(a):
        return TF.cross_entropy(a, torch.tensor(t), reduction=reduction, **tkw)

    _check_against_torch(lambda a: F.cross_entropy(a, sd.tensor(t), reduction=reduction, **skw),
                         theirs, x)
    crit = nn.CrossEntropyLoss(reduction=reduction, **skw)
    _check_against_torch(lambda a: crit(a, sd.tensor(t)), theirs, x)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_cross_entropy_all_rows_ignored_gives_nan_like_torch():
    x = np.zeros((2, 3))
    t = np.array([-100, -100])
    ours = F.cross_entropy(sd.tensor(x, dtype="float64"), sd.tensor(t))
    theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())


def test_cross_entropy_is_stable_for_huge_logits():
    for dtype in ("float32", "float64"):
        x = sd.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [1e4, 1e4, -1e4]], dtype=dtype,
                      requires_grad=True)
        loss = F.cross_entropy(x, sd.tensor([0, 0, 1]), reduction="none")
        loss.sum().backward()
        assert np.all(np.isfinite(loss.numpy())) and np.all(np.isfinite(x.grad.numpy()))
        np.testing.assert_allclose(loss.numpy(), [0.0, 2e4, np.log(2)], rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0], [-1, 1, 0], [0.5, -0.5, 0]],
                                   atol=1e-6)
        # probability targets and label smoothing go through the same stable path
        x.grad = None
        loss = F.cross_entropy(x, sd.tensor(np.eye(3)[[0, 0, 1]], dtype=dtype),
                               label_smoothing=0.1)
        loss.backward()
        assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.numpy()))


def test_cross_entropy_bad_targets_are_clear():
    logits = sd.zeros(4, 3)
    with pytest.raises(ValueError, match=r"class indices of shape \(4,\), got \(4, 1\).*squeeze"):
        F.cross_entropy(logits, sd.tensor(np.zeros((4, 1), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"one-hot targets must be float"):
        F.cross_entropy(logits, sd.tensor(np.zeros((4, 3), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"probability targets must match.*\(4, 3\)"):
        F.cross_entropy(logits, sd.zeros(4, 2))
    with pytest.raises(IndexError, match="target class 3 is out of range for 3 classes"):
        F.cross_entropy(logits, sd.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, sd.tensor([0, 1, 2, 0]), label_smoothing=1.5)


# -- NLL and KL -----------------------------------------------------------------------------------
NLL_KINDS = ["indices", "weight", "ignore", "weight_ignore", "spatial"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", NLL_KINDS)
def test_nll_loss_matches_torch(kind, reduction):
    rng = _rng(10 + NLL_KINDS.index(kind))
    shape, tshape = ((2, 4, 3, 2), (2, 3, 2)) if kind == "spatial" else ((6, 4), (6,))
    logp = np.log(rng.dirichlet(np.ones(4), shape[:1] + shape[2:]))
    x = np.ascontiguousarray(np.moveaxis(logp, -1, 1))
    t = rng.integers(0, 4, tshape)
    kw: dict = {}
    if "ignore" in kind:
        t.reshape(-1)[[0, 3]] = -100
    if "weight" in kind:
        kw["weight"] = rng.uniform(0.5, 2, 4)
    tkw = {k: torch.tensor(v) for k, v in kw.items()}
    skw = {k: sd.tensor(v) for k, v in kw.items()}

    def theirs(a):
        return TF.nll_loss(a, torch.tensor(t), reduction=reduction, **tkw)

    _check_against_torch(lambda a: F.nll_loss(a, sd.tensor(t), reduction=reduction, **skw),
                         theirs, x)
    crit = nn.NLLLoss(reduction=reduction, **skw)
    _check_against_torch(lambda a: crit(a, sd.tensor(t)), theirs, x)


def test_nll_loss_rejects_float_targets_and_bad_classes():
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(sd.zeros(2, 3), sd.zeros(2))
    with pytest.raises(IndexError, match="out of range for 3 classes"):
        F.nll_loss(sd.zeros(2, 3), sd.tensor([0, 5]))


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True], ids=["prob_target", "log_target"])
def test_kl_div_matches_torch(reduction, log_target):
    rng = _rng(20)
    x = np.log(rng.dirichlet(np.ones(5), 4))
    t = rng.dirichlet(np.ones(5), 4)
    t[0, 1] = 0.0  # 0 log 0 = 0
    if log_target:
        t = np.log(rng.dirichlet(np.ones(5), 4))

    def theirs(a):
        return TF.kl_div(a, torch.tensor(t), reduction=reduction, log_target=log_target)

    _check_against_torch(lambda a: F.kl_div(a, sd.tensor(t), reduction, log_target), theirs, x)
    crit = nn.KLDivLoss(reduction=reduction, log_target=log_target)
    _check_against_torch(lambda a: crit(a, sd.tensor(t)), theirs, x)


def test_loss_gradients_keep_float32():
    x = sd.randn(4, 3, requires_grad=True)
    for loss in (F.mse_loss(x, sd.zeros(4, 3)), F.cross_entropy(x, sd.tensor([0, 1, 2, 0])),
                 F.binary_cross_entropy_with_logits(x, sd.ones(4, 3))):
        x.grad = None
        loss.backward()
        assert loss.dtype == np.float32 and x.grad.dtype == np.float32


# -- Keras names ----------------------------------------------------------------------------------
_EPS = 1e-7


def _np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _keras_bce(y, p):
    p = np.clip(p, _EPS, 1 - _EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def _keras_cce(y, p):
    p = p / p.sum(-1, keepdims=True)
    return -(y * np.log(np.clip(p, _EPS, 1 - _EPS))).sum(-1)


def test_keras_get_resolves_names_and_objects():
    for name in ("mse", "mean_squared_error", "MeanSquaredError", "binary_crossentropy",
                 "categorical_crossentropy", "sparse_categorical_crossentropy", "mae", "huber",
                 "kld"):
        loss = losses.get(name)
        assert isinstance(loss, losses.KerasLoss) and loss.name == name
    crit = nn.MSELoss()
    assert losses.get(crit) is crit
    custom = losses.get(lambda y, p: ((p - y) ** 2).sum())
    assert isinstance(custom, losses.KerasLoss)
    with pytest.raises(ValueError, match="unknown loss 'msee'.*mse"):
        losses.get("msee")
    with pytest.raises(TypeError, match="loss must be"):
        losses.get(3)


def test_keras_mse_is_the_per_sample_mean_over_the_last_axis():
    rng = _rng(30)
    y, p = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    per = losses.mean_squared_error(y, sd.tensor(p, dtype="float64"))
    np.testing.assert_allclose(per.numpy(), ((y - p) ** 2).mean(-1), rtol=1e-12)
    loss = losses.get("mse")
    np.testing.assert_allclose(loss(y, sd.tensor(p, dtype="float64")).item(),
                               ((y - p) ** 2).mean(), rtol=1e-12)
    # sample_weight weighs each sample's loss, then the mean is over the batch
    sw = rng.uniform(0, 1, 5)
    np.testing.assert_allclose(loss(y, sd.tensor(p, dtype="float64"), sample_weight=sw).item(),
                               (((y - p) ** 2).mean(-1) * sw).mean(), rtol=1e-12)
    # a (N,) target against a (N, 1) prediction is accepted, as in Keras
    np.testing.assert_allclose(losses.mean_squared_error(y[:, 0], sd.tensor(p[:, :1])).numpy(),
                               (y[:, 0] - p[:, 0]) ** 2, rtol=1e-6)


def test_keras_mae_huber_and_kld_formulas():
    rng = _rng(35)
    y, p = rng.standard_normal((5, 3)) * 2, rng.standard_normal((5, 3)) * 2
    pred = sd.tensor(p, dtype="float64")
    np.testing.assert_allclose(losses.get("mae").per_sample(y, pred).numpy(),
                               np.abs(y - p).mean(-1), rtol=1e-12)
    e = np.abs(y - p)
    expected = np.where(e <= 1.0, 0.5 * e ** 2, e - 0.5).mean(-1)
    np.testing.assert_allclose(losses.huber(y, pred).numpy(), expected, rtol=1e-12)
    yt, pp = rng.dirichlet(np.ones(4), 5), rng.dirichlet(np.ones(4), 5)
    yt[0, 0] = 0.0
    yc, pc = np.clip(yt, _EPS, 1), np.clip(pp, _EPS, 1)
    np.testing.assert_allclose(losses.get("kld").per_sample(yt, sd.tensor(pp, dtype="float64"))
                               .numpy(), (yc * np.log(yc / pc)).sum(-1), rtol=1e-10)


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
def test_keras_binary_crossentropy(from_logits):
    rng = _rng(31)
    z = rng.standard_normal((6, 2)) * 3
    y = rng.integers(0, 2, (6, 2)).astype(np.float64)
    p = _np_sigmoid(z)
    expected = _keras_bce(y, p)
    pred = sd.tensor(z if from_logits else p, dtype="float64")
    got = losses.KerasLoss(losses.binary_crossentropy, from_logits=from_logits)
    assert got.get_config()["from_logits"] is from_logits
    per = got.per_sample(y, pred)
    np.testing.assert_allclose(per.numpy(), expected, rtol=1e-8)
    np.testing.assert_allclose(got(y, pred).item(), expected.mean(), rtol=1e-8)
    # clipping: a probability of exactly 0 or 1 gives the clipped value, not inf
    hard = losses.binary_crossentropy(np.array([[1.0, 0.0]]), sd.tensor([[0.0, 1.0]],
                                                                         dtype="float64"))
    np.testing.assert_allclose(hard.numpy(), [-np.log(_EPS)], rtol=1e-6)


def test_keras_binary_crossentropy_sigmoid_shortcut_is_stable():
    z = sd.tensor([[30.0, -30.0]], dtype="float64", requires_grad=True)
    per = losses.binary_crossentropy(np.array([[0.0, 1.0]]), sd.sigmoid(z))
    per.sum().backward()
    # the clipped formula would cap the loss at -log(1e-7) = 16.1; the logits path gives 30
    np.testing.assert_allclose(per.numpy(), [30.0], rtol=1e-10)
    np.testing.assert_allclose(z.grad.numpy(), [[0.5, -0.5]], rtol=1e-10)


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
def test_keras_categorical_crossentropy(from_logits):
    rng = _rng(32)
    z = rng.standard_normal((6, 4))
    y = np.eye(4)[rng.integers(0, 4, 6)]
    p = _np_softmax(z)
    pred = sd.tensor(z if from_logits else p, dtype="float64")
    per = losses.categorical_crossentropy(y, pred, from_logits=from_logits)
    np.testing.assert_allclose(per.numpy(), _keras_cce(y, p), rtol=1e-8)
    # soft targets and label smoothing (Keras smooths y towards 1/C)
    ys = rng.dirichlet(np.ones(4), 6)
    per = losses.categorical_crossentropy(ys, pred, from_logits=from_logits,
                                          label_smoothing=0.1)
    np.testing.assert_allclose(per.numpy(), _keras_cce(ys * 0.9 + 0.1 / 4, p), rtol=1e-8)
    # unnormalised probabilities are renormalised, as Keras does
    per = losses.categorical_crossentropy(y, sd.tensor(p * 3.0, dtype="float64"))
    np.testing.assert_allclose(per.numpy(), _keras_cce(y, p), rtol=1e-8)


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
def test_keras_sparse_categorical_crossentropy(from_logits):
    rng = _rng(33)
    z = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    p = _np_softmax(z)
    expected = _keras_cce(np.eye(4)[labels], p)
    pred = sd.tensor(z if from_logits else p, dtype="float64")
    for lab in (labels, labels[:, None], labels.astype(np.float32)):
        per = losses.sparse_categorical_crossentropy(lab, pred, from_logits=from_logits)
        np.testing.assert_allclose(per.numpy(), expected, rtol=1e-8)
    # sequence outputs (N, T, C): the per-sample loss averages over T
    z3 = rng.standard_normal((3, 5, 4))
    lab3 = rng.integers(0, 4, (3, 5))
    pred3 = sd.tensor(z3 if from_logits else _np_softmax(z3), dtype="float64")
    per = losses.sparse_categorical_crossentropy(lab3, pred3, from_logits=from_logits)
    np.testing.assert_allclose(per.numpy(), _keras_cce(np.eye(4)[lab3], _np_softmax(z3))
                               .mean(-1), rtol=1e-8)


def test_keras_softmax_output_shortcut_matches_clipped_formula():
    rng = _rng(34)
    z = rng.standard_normal((8, 5))
    y = np.eye(5)[rng.integers(0, 5, 8)]
    zt = sd.tensor(z, dtype="float64", requires_grad=True)
    probs = sd.softmax(zt, -1)
    assert losses._logits_under(probs, sd.ops.reduce.Softmax) is zt  # the fused path is taken
    cce = losses.categorical_crossentropy(y, probs)
    np.testing.assert_allclose(cce.numpy(), _keras_cce(y, _np_softmax(z)), rtol=1e-5)
    scce = losses.sparse_categorical_crossentropy(y.argmax(-1), probs)
    np.testing.assert_allclose(scce.numpy(), cce.numpy(), rtol=1e-5)
    # and its gradient is the stable softmax - onehot
    cce.sum().backward()
    np.testing.assert_allclose(zt.grad.numpy(), _np_softmax(z) - y, atol=1e-10)
    # float32 as used in training
    probs32 = sd.softmax(sd.tensor(z.astype(np.float32)), -1)
    np.testing.assert_allclose(losses.categorical_crossentropy(y, probs32).numpy(),
                               _keras_cce(y, _np_softmax(z)), rtol=1e-5)
    # a softmax over another axis is not a softmax over classes: the clipped formula applies
    other = sd.softmax(sd.tensor(z, dtype="float64"), 0)
    assert losses._logits_under(other, sd.ops.reduce.Softmax) is None
    np.testing.assert_allclose(losses.categorical_crossentropy(y, other).numpy(),
                               _keras_cce(y, _np_softmax(z.T).T), rtol=1e-8)


def test_keras_softmax_shortcut_stays_finite_where_probabilities_underflow():
    z = sd.tensor([[200.0, -200.0, 0.0]], dtype="float64", requires_grad=True)
    per = losses.categorical_crossentropy(np.array([[0.0, 1.0, 0.0]]), sd.softmax(z, -1))
    per.sum().backward()
    np.testing.assert_allclose(per.numpy(), [400.0], rtol=1e-10)
    assert np.all(np.isfinite(z.grad.numpy()))


def test_keras_bad_target_shapes_are_clear():
    pred = sd.softmax(sd.randn(4, 3), -1)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(np.array([0, 2, 1, 1]), pred)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(np.array([[0], [2], [1], [1]]), pred)
    with pytest.raises(ValueError, match=r"expected labels of shape \(4,\)"):
        losses.sparse_categorical_crossentropy(np.eye(3)[[0, 1, 2, 0]][:, :2], pred)
    with pytest.raises(ValueError, match="fractional.*categorical_crossentropy"):
        losses.sparse_categorical_crossentropy(np.array([0.5, 1, 2, 0]), pred)
    with pytest.raises(ValueError, match=r"y_true of shape \(4, 2\).*y_pred of shape \(4, 3\)"):
        losses.mean_squared_error(np.zeros((4, 2)), pred)


def test_keras_sparse_labels_out_of_range_and_ignore_class():
    # regression: on the probability path a label of -1 silently picked the last class
    z = _rng(36).standard_normal((3, 4))
    for pred, from_logits in ((sd.tensor(_np_softmax(z)), False), (sd.tensor(z), True)):
        with pytest.raises(IndexError, match="label -1|class -1"):
            losses.sparse_categorical_crossentropy(np.array([0, -1, 2]), pred,
                                                   from_logits=from_logits)
        per = losses.sparse_categorical_crossentropy(np.array([0, -1, 2]), pred,
                                                     from_logits=from_logits, ignore_class=-1)
        full = _keras_cce(np.eye(4)[[0, 0, 2]], _np_softmax(z))
        np.testing.assert_allclose(per.numpy(), [full[0], 0.0, full[2]], rtol=1e-5)
