"""shendu.model_selection: splits against scikit-learn, determinism, cross_validate."""

import numpy as np
import pytest

import shendu
from shendu import metrics as M
from shendu.model_selection import (
    CrossValidationResult,
    KFold,
    StratifiedKFold,
    cross_validate,
    train_test_split,
)

skms = pytest.importorskip("sklearn.model_selection")


def _labels(n=53, seed=0):
    y = np.random.default_rng(seed).choice(3, n, p=[0.6, 0.3, 0.1])
    return y


def _as_lists(splits):
    return [(tr.tolist(), te.tolist()) for tr, te in splits]


@pytest.mark.parametrize("n, k", [(10, 2), (53, 5), (7, 7)])
def test_kfold_equals_sklearn_without_shuffle(n, k):
    x = np.zeros((n, 2))
    assert _as_lists(KFold(k).split(x)) == _as_lists(skms.KFold(k).split(x))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_stratified_kfold_equals_sklearn_without_shuffle(k):
    y = _labels()
    x = np.zeros(len(y))
    assert _as_lists(StratifiedKFold(k).split(x, y)) == _as_lists(
        skms.StratifiedKFold(k).split(x, y))
    names = np.array(["cat", "ant", "bee"])[y]  # string labels, numbered by first appearance
    assert _as_lists(StratifiedKFold(k).split(x, names)) == _as_lists(
        skms.StratifiedKFold(k).split(x, names))
    onehot = np.eye(3)[y]
    assert _as_lists(StratifiedKFold(k).split(x, onehot)) == _as_lists(
        skms.StratifiedKFold(k).split(x, y))


@pytest.mark.parametrize("cls", [KFold, StratifiedKFold])
def test_shuffled_folds_partition_the_data_deterministically(cls):
    y = _labels()
    x = np.zeros(len(y))
    a = list(cls(5, shuffle=True, random_state=3).split(x, y))
    b = list(cls(5, shuffle=True, random_state=3).split(x, y))
    c = list(cls(5, shuffle=True, random_state=4).split(x, y))
    assert _as_lists(a) == _as_lists(b)
    assert _as_lists(a) != _as_lists(c)
    assert _as_lists(a) != _as_lists(cls(5).split(x, y))
    tests = np.concatenate([te for _, te in a])
    assert sorted(tests.tolist()) == list(range(len(y)))  # every sample tested exactly once
    for tr, te in a:
        assert not set(tr) & set(te) and len(tr) + len(te) == len(y)
        assert np.all(np.diff(tr) > 0) and np.all(np.diff(te) > 0)
    shendu.manual_seed(11)
    d = _as_lists(cls(5, shuffle=True).split(x, y))
    shendu.manual_seed(11)
    assert _as_lists(cls(5, shuffle=True).split(x, y)) == d  # random_state=None follows shendu


def test_stratified_folds_keep_class_shares():
    y = _labels(200)
    counts = np.bincount(y)
    for _, te in StratifiedKFold(4, shuffle=True, random_state=0).split(np.zeros(200), y):
        per_fold = np.bincount(y[te], minlength=3)
        assert np.all(np.abs(per_fold - counts / 4) <= 1)


def test_split_errors():
    with pytest.raises(ValueError, match="n_splits"):
        KFold(1)
    with pytest.raises(ValueError, match="random_state has no effect"):
        KFold(3, random_state=0)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match="continuous"):
        list(StratifiedKFold(2).split(np.zeros(4), [0.1, 0.5, 0.2, 0.3]))
    with pytest.warns(UserWarning, match="least populated class"):
        list(StratifiedKFold(3).split(np.zeros(7), [0, 0, 0, 0, 0, 1, 1]))


def test_train_test_split_sizes_and_order():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    a = train_test_split(x, y, shuffle=False, test_size=0.25)
    b = skms.train_test_split(x, y, shuffle=False, test_size=0.25)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    for kw in ({}, {"test_size": 3}, {"train_size": 0.5}, {"test_size": 0.33, "train_size": 5}):
        ours = train_test_split(x, y, random_state=0, **kw)
        ref = skms.train_test_split(x, y, random_state=0, **kw)
        assert [len(v) for v in ours] == [len(v) for v in ref]
        xtr, xte, ytr, yte = ours
        np.testing.assert_array_equal(xtr[:, 0] // 2, ytr)  # rows stay paired
        assert not set(ytr) & set(yte)
    r1 = train_test_split(y, random_state=5)
    assert [v.tolist() for v in r1] == [v.tolist() for v in train_test_split(y, random_state=5)]
    t = train_test_split(shendu.tensor(x.astype(np.float32)), list(y), random_state=1)
    assert isinstance(t[0], shendu.Tensor) and isinstance(t[2], list) and len(t[3]) == 3
    with pytest.raises(ValueError, match="exceeds"):
        train_test_split(y, test_size=6, train_size=5)
    with pytest.raises(ValueError, match="inconsistent"):
        train_test_split(x, y[:5])


def test_train_test_split_stratified():
    y = _labels(100)
    _, yte = train_test_split(y, test_size=0.3, stratify=y, random_state=0)
    _, sk_te = skms.train_test_split(y, test_size=0.3, stratify=y, random_state=0)
    assert len(yte) == len(sk_te) == 30
    assert np.all(np.abs(np.bincount(yte, minlength=3) - np.bincount(y) * 0.3) <= 1)
    with pytest.raises(ValueError, match="shuffle=False"):
        train_test_split(y, stratify=y, shuffle=False)


def _tiny_data(n=60, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, 3)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(np.float32)
    return x, y


def _build():
    from shendu.keras import layers, models

    m = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "roc_auc"])
    return m


def test_cross_validate_trains_a_fresh_model_per_fold():
    x, y = _tiny_data()
    shendu.manual_seed(123)
    before = shendu.random.get_rng_state()
    res = cross_validate(_build, x, y, k=3, epochs=2, batch_size=16, seed=7,
                         metrics={"f1": lambda t, p: M.f1_score(t, p[:, 0] > 0.5)},
                         return_models=True)
    assert isinstance(res, CrossValidationResult)
    assert shendu.random.get_rng_state() == before  # the global stream is left as it was
    assert len(res.histories) == len(res.scores) == len(res.models) == 3
    assert res.seeds == [7, 8, 9]
    assert all(len(h["loss"]) == 2 and "accuracy" in h for h in res.histories)
    # fold assignment kept: each sample's fold is the one where it was tested; stratified
    for i, (tr, te) in enumerate(res.splits):
        assert np.all(res.folds[te] == i) and np.all(res.folds[tr] != i)
    assert np.bincount(res.folds).tolist() == [20, 20, 20]
    positives = np.array([y[res.folds == i].sum() for i in range(3)])
    assert np.all(np.abs(positives - y.sum() / 3) <= 1)  # stratified by the 0/1 labels
    for name in ("loss", "accuracy", "roc_auc", "f1"):
        vals = [s[name] for s in res.scores]
        assert res.mean[name] == pytest.approx(np.mean(vals))
        assert res.std[name] == pytest.approx(np.std(vals))
    # the scores are those of the fold's own model on its test samples
    m, (_, te) = res.models[1], res.splits[1]
    p = m.predict(x[te])[:, 0]
    assert res.scores[1]["accuracy"] == pytest.approx(np.mean((p > 0.5) == y[te]))
    assert res.scores[1]["roc_auc"] == pytest.approx(M.roc_auc_score(y[te], p))
    assert res.models[0] is not res.models[1]
    assert "accuracy:" in res.summary()


def test_cross_validate_is_reproducible_and_seeded():
    x, y = _tiny_data()
    a = cross_validate(_build, x, y, k=3, epochs=1, seed=1)
    b = cross_validate(_build, x, y, k=3, epochs=1, seed=1)
    c = cross_validate(_build, x, y, k=3, epochs=1, seed=2)
    np.testing.assert_array_equal(a.folds, b.folds)
    assert a.scores == b.scores and a.histories == b.histories
    assert not np.array_equal(a.folds, c.folds)


def test_cross_validate_regression_uses_plain_kfold_and_validation_logs():
    from shendu.keras import layers, models

    x, _ = _tiny_data(30)
    y = x @ np.array([1.0, -2.0, 0.5], dtype=np.float32)

    def build():
        m = models.Sequential([layers.Dense(1, input_shape=(3,))])
        m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        return m

    res = cross_validate(build, x, y, k=3, epochs=2, batch_size=8, shuffle=False,
                         validation=True)
    np.testing.assert_array_equal(res.folds, np.repeat([0, 1, 2], 10))  # KFold, unshuffled
    assert all(len(h["val_loss"]) == 2 for h in res.histories)
    assert set(res.mean) == {"loss", "mae"}


def test_cross_validate_torch_style():
    x, y = _tiny_data()

    def build():
        return shendu.nn.Linear(3, 1)

    def fit_fn(model, train, test):
        opt = shendu.optim.SGD(model.parameters(), lr=0.5)
        xt, yt = shendu.tensor(train[0]), shendu.tensor(train[1][:, None])
        losses = []
        for _ in range(60):
            loss = shendu.nn.functional.binary_cross_entropy_with_logits(model(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return {"loss": losses}

    def eval_fn(model, xt, yt):
        with shendu.no_grad():
            logits = model(shendu.tensor(xt)).numpy()[:, 0]
        return {"accuracy": float(np.mean((logits > 0) == yt))}

    res = cross_validate(build, x, y, k=4, fit_fn=fit_fn, eval_fn=eval_fn,
                         metrics=[M.roc_auc_score])
    assert len(res.scores) == 4 and set(res.mean) == {"accuracy", "roc_auc_score"}
    assert all(len(h["loss"]) == 60 for h in res.histories)
    assert res.mean["accuracy"] > 0.7
    with pytest.raises(ValueError, match="compiled Model"):
        cross_validate(build, x, y, k=2)
