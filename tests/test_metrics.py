"""shendu.metrics against scikit-learn: every function on random predictions, and every stateful
metric fed in uneven random batches (some with no positive example, some missing classes) must
equal the sklearn function on all the data, to 1e-9 in float64."""

import warnings

import numpy as np
import pytest

from shendu import metrics as M
from shendu.metrics import functional as MF

sk = pytest.importorskip("sklearn.metrics")

TOL = 1e-9
K = 4  # classes


@pytest.fixture(autouse=True)
def _quiet():
    # both libraries warn on ill-defined values (0/0, one class); the values are what we test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def same(a, b):
    """Equal to 1e-9, NaN where the other is NaN, same kind (scalar vs array)."""
    assert np.ndim(a) == np.ndim(b), (a, b)
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                               rtol=0, atol=TOL, equal_nan=True)


def rng(seed=0):
    return np.random.default_rng(seed)


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def binary_data(n=90, seed=0):
    r = rng(seed)
    y = r.integers(0, 2, n)
    y[:15] = 0  # the first batch has no positive example
    p = np.clip(0.35 * y + 0.65 * r.random(n), 0.001, 0.999)
    return y, p, r.random(n) * 2


def multiclass_data(n=120, seed=1):
    r = rng(seed)
    y = r.integers(0, K, n)
    y[:20] = r.integers(0, 2, 20)  # the first batch has classes 0 and 1 only
    prob = softmax(r.normal(size=(n, K)) + 1.5 * np.eye(K)[y])
    return y, prob, r.random(n) * 2


def batches(n, seed=0, first=None):
    """Uneven batch slices (sizes 1..29), the first one ``first`` long when given."""
    r, out, i = rng(seed + 100), [], 0
    if first:
        out.append(slice(0, first))
        i = first
    while i < n:
        j = min(n, i + int(r.integers(1, 30)))
        out.append(slice(i, j))
        i = j
    return out


def feed(metric, y, p, w=None, first=None):
    metric.reset_state()
    for s in batches(len(y), first=first):
        metric.update_state(y[s], p[s], None if w is None else w[s])
    return metric.result()


# -- functions on arrays --------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("normalize", [True, False])
def test_accuracy_score(weighted, normalize):
    y, prob, w = multiclass_data()
    pred = prob.argmax(1)
    kw = {"sample_weight": w if weighted else None, "normalize": normalize}
    same(MF.accuracy_score(y, pred, **kw), sk.accuracy_score(y, pred, **kw))
    yl, pl = (prob > 0.3).astype(int), (rng(2).random(prob.shape) > 0.5).astype(int)
    yl[::3] = pl[::3]  # some rows right
    same(MF.accuracy_score(yl, pl, **kw), sk.accuracy_score(yl, pl, **kw))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_score(k):
    y, prob, w = multiclass_data()
    for kw in ({}, {"sample_weight": w}, {"normalize": False}):
        same(MF.top_k_accuracy_score(y, prob, k=k, **kw),
             sk.top_k_accuracy_score(y, prob, k=k, **kw))
    sub = y < 3  # a class absent from y_true: the labels must be given
    same(MF.top_k_accuracy_score(y[sub], prob[sub], k=k, labels=range(K)),
         sk.top_k_accuracy_score(y[sub], prob[sub], k=k, labels=list(range(K))))
    yb, pb, _ = binary_data()
    same(MF.top_k_accuracy_score(yb, pb, k=1), sk.top_k_accuracy_score(yb, pb, k=1))
    with pytest.raises(ValueError, match="labels="):
        MF.top_k_accuracy_score(y[sub], prob[sub], k=k)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("zero_division", ["warn", 0, 1, np.nan])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_precision_recall_fscore_multiclass(average, zero_division, beta):
    y, prob, w = multiclass_data()
    pred = prob.argmax(1)
    pred[pred == 3] = 2  # class 3 is never predicted: precision 0/0
    labels = [0, 1, 2, 3, 5]  # class 5 is absent from both: recall 0/0 too
    for kw in ({}, {"sample_weight": w}, {"labels": labels}, {"labels": [2, 0]}):
        a = MF.precision_recall_fscore_support(y, pred, beta=beta, average=average,
                                               zero_division=zero_division, **kw)
        b = sk.precision_recall_fscore_support(y, pred, beta=beta, average=average,
                                               zero_division=zero_division, **kw)
        for u, v in zip(a, b):
            if v is None:
                assert u is None
            else:
                same(u, v)


@pytest.mark.parametrize("average", ["binary", None, "micro", "macro", "weighted"])
def test_precision_recall_f1_binary(average):
    y, p, w = binary_data()
    pred = (p > 0.5).astype(int)
    for fn in ("precision_score", "recall_score", "f1_score"):
        for kw in ({}, {"sample_weight": w}, {"pos_label": 0} if average == "binary" else {}):
            same(getattr(MF, fn)(y, pred, average=average, **kw),
                 getattr(sk, fn)(y, pred, average=average, **kw))
    same(MF.fbeta_score(y, pred, beta=3, average=average),
         sk.fbeta_score(y, pred, beta=3, average=average))
    s = np.array(["no", "yes"])
    same(MF.f1_score(s[y], s[pred], pos_label="yes"), sk.f1_score(s[y], s[pred], pos_label="yes"))
    with pytest.raises(ValueError, match="average='binary'"):
        MF.f1_score([0, 1, 2], [0, 1, 1])


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "samples"])
def test_precision_recall_fscore_multilabel(average):
    r = rng(3)
    y = (r.random((50, 5)) > 0.6).astype(int)
    y[:, 4] = 0  # a label with no positive example
    pred = (r.random((50, 5)) > 0.5).astype(int)
    pred[:3] = 0  # samples with no predicted label
    for kw in ({}, {"sample_weight": r.random(50)}):
        a = MF.precision_recall_fscore_support(y, pred, average=average, zero_division=0, **kw)
        b = sk.precision_recall_fscore_support(y, pred, average=average, zero_division=0, **kw)
        for u, v in zip(a, b):
            if v is not None:
                same(u, v)
    same(MF.accuracy_score(y, pred), sk.accuracy_score(y, pred))


def test_confusion_matrices():
    y, prob, w = multiclass_data()
    pred = prob.argmax(1)
    for kw in ({}, {"labels": [3, 1, 0]}, {"labels": [0, 1, 2, 3, 7]}, {"sample_weight": w},
               {"sample_weight": (w * 3).astype(int)}):
        for norm in (None, "true", "pred", "all"):
            a = MF.confusion_matrix(y, pred, normalize=norm, **kw)
            b = sk.confusion_matrix(y, pred, normalize=norm, **kw)
            same(a, b)
            assert a.dtype == b.dtype
    names = np.array(["ant", "bee", "cat", "dog"])
    same(MF.confusion_matrix(names[y], names[pred], labels=["dog", "ant"]),
         sk.confusion_matrix(names[y], names[pred], labels=["dog", "ant"]))
    for kw in ({}, {"sample_weight": w}, {"labels": [2, 0, 5]}):
        same(MF.multilabel_confusion_matrix(y, pred, **kw),
             sk.multilabel_confusion_matrix(y, pred, **kw))
    yl, pl = (prob > 0.2).astype(int), (rng(4).random(prob.shape) > 0.5).astype(int)
    for kw in ({}, {"samplewise": True}, {"sample_weight": w}, {"labels": [3, 1]}):
        same(MF.multilabel_confusion_matrix(yl, pl, **kw),
             sk.multilabel_confusion_matrix(yl, pl, **kw))


@pytest.mark.parametrize("drop", [True, False])
@pytest.mark.parametrize("ties", [False, True])
def test_roc_and_pr_curves(drop, ties):
    y, p, w = binary_data()
    if ties:
        p = np.round(p, 1)
    for kw in ({}, {"sample_weight": w}, {"sample_weight": np.where(w > 1, w, 0.0)}):
        for a, b in zip(MF.roc_curve(y, p, drop_intermediate=drop, **kw),
                        sk.roc_curve(y, p, drop_intermediate=drop, **kw)):
            same(a, b)
        for a, b in zip(MF.precision_recall_curve(y, p, drop_intermediate=drop, **kw),
                        sk.precision_recall_curve(y, p, drop_intermediate=drop, **kw)):
            same(a, b)
    s = np.array(["neg", "pos"])[y]
    for a, b in zip(MF.roc_curve(s, p, pos_label="pos"), sk.roc_curve(s, p, pos_label="pos")):
        same(a, b)
    for a, b in zip(MF.roc_curve(np.zeros(5), p[:5]), sk.roc_curve(np.zeros(5), p[:5])):
        same(a, b)  # no positive: tpr is NaN
    same(MF.auc([0, 0.5, 1], [0, 0.8, 1]), sk.auc([0, 0.5, 1], [0, 0.8, 1]))
    with pytest.raises(ValueError, match="pos_label"):
        MF.roc_curve(s, p)


def test_roc_auc_and_average_precision_binary():
    y, p, w = binary_data()
    for kw in ({}, {"sample_weight": w}):
        same(MF.roc_auc_score(y, p, **kw), sk.roc_auc_score(y, p, **kw))
        same(MF.average_precision_score(y, p, **kw), sk.average_precision_score(y, p, **kw))
        for max_fpr in (0.1, 0.5):
            same(MF.roc_auc_score(y, p, max_fpr=max_fpr, **kw),
                 sk.roc_auc_score(y, p, max_fpr=max_fpr, **kw))
    same(MF.average_precision_score(y, p, pos_label=0), sk.average_precision_score(y, p,
                                                                                    pos_label=0))
    assert np.isnan(MF.roc_auc_score(np.zeros(6), p[:6]))  # one class: undefined
    same(MF.average_precision_score(np.zeros(6), p[:6]), sk.average_precision_score(np.zeros(6),
                                                                                    p[:6]))


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "samples"])
def test_roc_auc_and_average_precision_multilabel(average):
    r = rng(5)
    y = (r.random((70, 4)) > 0.5).astype(int)
    y[:, 3] = 0  # a label with no positive example: its ROC AUC is NaN
    y[:3] = 1 - y[3:6]  # every sample has both classes somewhere ("samples" average)
    y[:3, 3] = 0
    s = r.random((70, 4)) + 0.3 * y
    for kw in ({}, {"sample_weight": r.random(70)}):
        if average != "samples":
            same(MF.roc_auc_score(y, s, average=average, **kw),
                 sk.roc_auc_score(y, s, average=average, **kw))
        same(MF.average_precision_score(y, s, average=average, **kw),
             sk.average_precision_score(y, s, average=average, **kw))


@pytest.mark.parametrize("multi_class, average", [
    ("ovr", "macro"), ("ovr", "weighted"), ("ovr", "micro"), ("ovr", None),
    ("ovo", "macro"), ("ovo", "weighted")])
def test_roc_auc_multiclass(multi_class, average):
    y, prob, w = multiclass_data()
    same(MF.roc_auc_score(y, prob, multi_class=multi_class, average=average),
         sk.roc_auc_score(y, prob, multi_class=multi_class, average=average))
    if multi_class == "ovr":
        same(MF.roc_auc_score(y, prob, multi_class="ovr", average=average, sample_weight=w),
             sk.roc_auc_score(y, prob, multi_class="ovr", average=average, sample_weight=w))
    sub = y > 0  # class 0 absent from y_true: labels= names the columns
    pr = prob[sub] / prob[sub].sum(1, keepdims=True)
    same(MF.roc_auc_score(y[sub], pr, multi_class=multi_class, average=average, labels=range(K)),
         sk.roc_auc_score(y[sub], pr, multi_class=multi_class, average=average,
                          labels=list(range(K))))
    with pytest.raises(ValueError, match="multi_class"):
        MF.roc_auc_score(y, prob)


def test_average_precision_multiclass():
    y, prob, w = multiclass_data()
    for avg in (None, "macro", "micro", "weighted"):
        same(MF.average_precision_score(y, prob, average=avg, sample_weight=w),
             sk.average_precision_score(y, prob, average=avg, sample_weight=w))


def test_log_loss():
    y, prob, w = multiclass_data()
    for kw in ({}, {"sample_weight": w}, {"normalize": False}):
        same(MF.log_loss(y, prob, **kw), sk.log_loss(y, prob, **kw))
    extra = np.hstack([prob, np.zeros((len(y), 1))])  # a 5th class never seen in y_true
    same(MF.log_loss(y, extra, labels=range(5)), sk.log_loss(y, extra, labels=list(range(5))))
    yb, pb, wb = binary_data()
    same(MF.log_loss(yb, pb, sample_weight=wb), sk.log_loss(yb, pb, sample_weight=wb))
    same(MF.log_loss(yb, np.round(pb)), sk.log_loss(yb, np.round(pb)))  # clipped at 0 and 1
    with pytest.raises(ValueError, match="only one label"):
        MF.log_loss([1, 1], [0.3, 0.9])


@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values", "variance_weighted",
                                         [0.3, 0.7]])
def test_regression_functions(multioutput):
    r = rng(6)
    y = r.normal(size=(40, 2)) * [1, 5] + 3
    p = y + r.normal(size=(40, 2))
    w = r.random(40)
    for kw in ({}, {"sample_weight": w}):
        for fn in ("mean_squared_error", "root_mean_squared_error", "mean_absolute_error",
                   "mean_absolute_percentage_error", "r2_score"):
            if multioutput == "variance_weighted" and fn != "r2_score":
                continue
            same(getattr(MF, fn)(y, p, multioutput=multioutput, **kw),
                 getattr(sk, fn)(y, p, multioutput=multioutput, **kw))
            same(getattr(MF, fn)(y[:, 0], p[:, 0], **kw), getattr(sk, fn)(y[:, 0], p[:, 0], **kw))
    const = np.ones((5, 2))
    for ff in (True, False):
        same(MF.r2_score(const, const + [0, 1], multioutput="raw_values", force_finite=ff),
             sk.r2_score(const, const + [0, 1], multioutput="raw_values", force_finite=ff))


def test_functions_accept_tensors_and_lists():
    import shendu

    y, p, _ = binary_data()
    same(MF.roc_auc_score(shendu.tensor(y), shendu.tensor(p)), sk.roc_auc_score(y, p))
    same(MF.f1_score(list(y), list((p > 0.5).astype(int))), sk.f1_score(y, p > 0.5))


# -- stateful metrics fed batch by batch ----------------------------------------------------------
def test_binary_threshold_metrics_over_batches():
    y, p, w = binary_data()
    pred = (p > 0.5).astype(int)
    for kw, sw in (({}, None), ({"sample_weight": w}, w)):
        same(feed(M.Precision(), y, p, sw, first=15), sk.precision_score(y, pred, **kw))
        same(feed(M.Recall(), y, p, sw, first=15), sk.recall_score(y, pred, **kw))
        tn, fp, fn, tp = sk.confusion_matrix(y, pred, **kw).ravel()
        for cls, v in ((M.TruePositives, tp), (M.FalsePositives, fp), (M.TrueNegatives, tn),
                       (M.FalseNegatives, fn)):
            same(feed(cls(), y, p, sw), float(v))
        same(feed(M.BinaryAccuracy(), y, p, sw), sk.accuracy_score(y, pred, **kw))
    ts = [0.2, 0.5, 0.8]
    got = feed(M.Precision(thresholds=ts), y[:, None], p[:, None])
    same(got, [sk.precision_score(y, (p > t).astype(int)) for t in ts])
    got = feed(M.Recall(thresholds=[0.0, 0.5, 1.0]), y, p)  # evenly spaced thresholds
    same(got, [sk.recall_score(y, (p > t).astype(int)) for t in (0.0, 0.5, 1.0)])
    m = M.Precision()
    m.update_state(np.zeros(4), np.full(4, 0.1))  # nothing predicted positive yet
    assert m.result() == 0.0


def test_precision_recall_class_id_and_top_k():
    y, prob, w = multiclass_data()
    onehot = np.eye(K)[y]
    for c in range(K):
        pred = (prob[:, c] > 0.5).astype(int)
        same(feed(M.Precision(class_id=c), onehot, prob, w),
             sk.precision_score(onehot[:, c], pred, sample_weight=w, zero_division=0))
        same(feed(M.Recall(class_id=c), onehot, prob, w),
             sk.recall_score(onehot[:, c], pred, sample_weight=w, zero_division=0))
    for k in (1, 2):
        top = np.zeros_like(onehot)
        np.put_along_axis(top, np.argsort(-prob, 1)[:, :k], 1, 1)
        same(feed(M.Precision(top_k=k), onehot, prob, w),
             sk.precision_score(onehot, top, average="micro", sample_weight=w))
        same(feed(M.Recall(top_k=k), onehot, prob, w),
             sk.recall_score(onehot, top, average="micro", sample_weight=w))
    same(feed(M.Recall(top_k=1, class_id=2), onehot, prob),
         sk.recall_score(onehot[:, 2], prob.argmax(1) == 2))


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.3])
def test_fbeta_scores_over_batches(average, threshold):
    y, prob, w = multiclass_data()
    onehot = np.eye(K)[y]
    pred = np.eye(K)[prob.argmax(1)] if threshold is None else (prob > threshold).astype(int)
    for beta in (1.0, 0.5, 2.0):
        m = M.F1Score(average, threshold) if beta == 1 else M.FBetaScore(average, beta,
                                                                          threshold)
        for sw in (None, w):
            same(feed(m, onehot, prob, sw, first=20),
                 sk.fbeta_score(onehot, pred, beta=beta, average=average, sample_weight=sw,
                                zero_division=0))
    m = M.F1Score(average)  # a class never present nor predicted scores 0 (Keras and sklearn)
    got = feed(m, onehot[:20], prob[:20] * [1, 1, 0, 0])
    same(got, sk.f1_score(onehot[:20], np.eye(K)[(prob[:20] * [1, 1, 0, 0]).argmax(1)],
                          average=average, zero_division=0))


def test_keras_f1_example():
    m = M.F1Score(threshold=0.5)
    m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
                   np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    same(m.result(), [0.5, 0.8, 2 / 3])


def test_accuracy_and_top_k_metrics_over_batches():
    y, prob, w = multiclass_data()
    onehot = np.eye(K)[y]
    for sw in (None, w):
        acc = sk.accuracy_score(y, prob.argmax(1), sample_weight=sw)
        same(feed(M.SparseCategoricalAccuracy(), y, prob, sw, first=20), acc)
        same(feed(M.CategoricalAccuracy(), onehot, prob, sw), acc)
        same(feed(M.Accuracy(), y[:, None], prob, sw), acc)
        for k in (1, 2, 3):
            ref = sk.top_k_accuracy_score(y, prob, k=k, sample_weight=sw, labels=range(K))
            same(feed(M.SparseTopKCategoricalAccuracy(k), y, prob, sw, first=20), ref)
            same(feed(M.TopKCategoricalAccuracy(k), onehot, prob, sw), ref)
    tied = np.array([[0.4, 0.4, 0.2]])  # Keras: every class tied at the k-th score is a hit
    assert M.SparseTopKCategoricalAccuracy(1)([1], tied) == 1.0


def test_confusion_matrix_metric_over_batches():
    y, prob, w = multiclass_data()
    for sw in (None, w):
        got = feed(M.ConfusionMatrix(K), y, prob, sw, first=20)
        same(got, sk.confusion_matrix(y, prob.argmax(1), labels=range(K), sample_weight=sw))
    yb, pb, _ = binary_data()
    same(feed(M.ConfusionMatrix(2), yb, pb, first=15), sk.confusion_matrix(yb, pb > 0.5))


def test_exact_auc_over_batches():
    y, p, w = binary_data()
    for sw in (None, w):
        same(feed(M.ExactAUC(), y, p, sw, first=15), sk.roc_auc_score(y, p, sample_weight=sw))
        same(feed(M.ExactAUC("PR"), y[:, None], p[:, None], sw, first=15),
             sk.average_precision_score(y, p, sample_weight=sw))
    yc, prob, wc = multiclass_data()
    onehot = np.eye(K)[yc]
    for avg in ("macro", "weighted", "micro"):
        for sw in (None, wc):
            ref = sk.roc_auc_score(onehot, prob, average=avg, sample_weight=sw)
            same(feed(M.ExactAUC(multi_label=True, average=avg), yc, prob, sw, first=20), ref)
            same(feed(M.ExactAUC("PR", multi_label=True, average=avg), onehot, prob, sw),
                 sk.average_precision_score(onehot, prob, average=avg, sample_weight=sw))
    same(feed(M.ExactAUC(), onehot, prob), sk.roc_auc_score(onehot.ravel(), prob.ravel()))
    logits = np.log(p / (1 - p))
    same(feed(M.ExactAUC(from_logits=True), y, logits), sk.roc_auc_score(y, p))
    assert np.isnan(feed(M.ExactAUC(), y[:15], p[:15]))  # one class only


def _on_grid(p, n_thresholds):
    """Scores strictly between the AUC thresholds: the buckets then separate every distinct
    score, and the thresholded curve has the exact curve's points."""
    cells = np.floor(p * (n_thresholds - 1)).clip(0, n_thresholds - 2)
    return (cells + 0.5) / (n_thresholds - 1)


@pytest.mark.parametrize("n_thresholds", [3, 11, 200])
def test_keras_auc_equals_exact_roc_auc_on_grid_scores(n_thresholds):
    y, p, w = binary_data()
    g = _on_grid(p, n_thresholds)
    for sw in (None, w):
        same(feed(M.AUC(n_thresholds), y, g, sw, first=15),
             sk.roc_auc_score(y, g, sample_weight=sw))
    yc, prob, _ = multiclass_data()
    onehot, g = np.eye(K)[yc], _on_grid(prob, n_thresholds)
    same(feed(M.AUC(n_thresholds, multi_label=True), onehot, g, first=20),
         sk.roc_auc_score(onehot, g, average="macro"))
    lw = np.array([1.0, 2.0, 0.5, 3.0])
    per_label = sk.roc_auc_score(onehot, g, average=None)
    same(feed(M.AUC(n_thresholds, multi_label=True, label_weights=lw), onehot, g),
         (per_label * lw).sum() / lw.sum())
    same(feed(M.AUC(n_thresholds), onehot, g), sk.roc_auc_score(onehot.ravel(), g.ravel()))


def test_keras_auc_values_by_hand():
    # Keras's documented example: thresholds [-1e-7, 0.5, 1 + 1e-7]
    y, p, w = [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 2, 3, 4]
    assert M.AUC(num_thresholds=3)(y, p) == pytest.approx(0.75, abs=TOL)
    assert M.AUC(num_thresholds=3)(y, p, [1, 0, 0, 1]) == pytest.approx(1.0, abs=TOL)
    # weighted counts: tp = [7, 4, 0], fp = [3, 0, 0], fn = [0, 3, 7], tn = [0, 3, 3]
    cases = {("ROC", "interpolation"): (1 + 4 / 7) / 2, ("ROC", "majoring"): 1.0,
             ("ROC", "minoring"): 4 / 7, ("PR", "majoring"): 1.0, ("PR", "minoring"): 0.3,
             ("PR", "interpolation"): (0.5 * (3 + 2 * np.log(2.5)) + 4) / 7}
    for (curve, how), want in cases.items():
        m = M.AUC(num_thresholds=3, curve=curve, summation_method=how)
        assert m(y, p, w) == pytest.approx(want, abs=TOL), (curve, how)
    m = M.AUC(num_thresholds=3, from_logits=True)
    assert m(y, np.log(np.array([0.01, 0.5, 0.3, 0.9]) / (1 - np.array([0.01, 0.5, 0.3, 0.9])))) \
        == pytest.approx(0.75, abs=TOL)
    assert M.AUC(thresholds=[0.5])(y, p) == pytest.approx(0.75, abs=TOL)
    assert M.AUC().thresholds[:2] == [-1e-7, 1 / 199]


def test_keras_auc_pr_is_batch_invariant_and_near_average_precision():
    y, p, w = binary_data()
    m = M.AUC(curve="PR")
    whole = m(y, p, w)
    same(feed(M.AUC(curve="PR"), y, p, w, first=15), whole)
    assert abs(whole - sk.average_precision_score(y, p, sample_weight=w)) < 0.05


def test_regression_metrics_over_batches():
    r = rng(7)
    y = r.normal(size=(80, 3)) * [1, 4, 0.5] + [2, -1, 10]
    p = y + r.normal(size=(80, 3))
    w = r.random(80)
    for sw in (None, w):
        same(feed(M.MeanSquaredError(), y, p, sw), sk.mean_squared_error(y, p, sample_weight=sw))
        same(feed(M.MeanAbsoluteError(), y, p, sw),
             sk.mean_absolute_error(y, p, sample_weight=sw))
        same(feed(M.RootMeanSquaredError(), y[:, 0], p[:, 0], sw),
             sk.root_mean_squared_error(y[:, 0], p[:, 0], sample_weight=sw))
        same(feed(M.MeanAbsolutePercentageError(), y, p, sw),
             100 * sk.mean_absolute_percentage_error(y, p, sample_weight=sw))
        for agg, mo in (("uniform_average", "uniform_average"), (None, "raw_values"),
                        ("variance_weighted_average", "variance_weighted")):
            same(feed(M.R2Score(agg), y, p, sw), sk.r2_score(y, p, sample_weight=sw,
                                                              multioutput=mo))
        same(feed(M.R2Score(), y[:, :1], p[:, :1], sw),
             sk.r2_score(y[:, 0], p[:, 0], sample_weight=sw))
    r2 = sk.r2_score(y, p)
    same(feed(M.R2Score(num_regressors=5), y, p), 1 - (1 - r2) * 79 / (80 - 5 - 1))
    big = 1e8 + y  # a large offset: the running merge stays exact where sum-of-squares cancels
    same(feed(M.R2Score(), big, big + p - y), sk.r2_score(big, big + p - y))


def test_crossentropy_metrics_over_batches():
    y, prob, w = multiclass_data()
    onehot = np.eye(K)[y]
    logits = np.log(prob)
    for sw in (None, w):
        ref = sk.log_loss(y, prob, sample_weight=sw)
        same(feed(M.SparseCategoricalCrossentropy(), y, prob, sw, first=20), ref)
        same(feed(M.SparseCategoricalCrossentropy(from_logits=True), y, logits, sw), ref)
        same(feed(M.CategoricalCrossentropy(), onehot, prob, sw), ref)
        same(feed(M.CategoricalCrossentropy(from_logits=True), onehot, logits, sw), ref)
    yb, pb, wb = binary_data()
    for sw in (None, wb):
        ref = sk.log_loss(yb, pb, sample_weight=sw)
        same(feed(M.BinaryCrossentropy(), yb[:, None], pb[:, None], sw, first=15), ref)
        same(feed(M.BinaryCrossentropy(from_logits=True), yb, np.log(pb / (1 - pb)), sw), ref)
    m = M.BinaryCrossentropy()
    m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])  # Keras's documented example
    assert m.result() == pytest.approx(0.81492424, abs=1e-6)  # Keras computes in float32


# -- name lookup ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("AUC", M.AUC), ("auc", M.AUC), ("precision", M.Precision), ("Recall", M.Recall),
    ("f1_score", M.F1Score), ("F1Score", M.F1Score), ("fbeta_score", M.FBetaScore),
    ("mse", M.MeanSquaredError), ("mae", M.MeanAbsoluteError),
    ("rmse", M.RootMeanSquaredError), ("root_mean_squared_error", M.RootMeanSquaredError),
    ("r2_score", M.R2Score), ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", M.SparseTopKCategoricalAccuracy),
    ("binary_crossentropy", M.BinaryCrossentropy), ("true_positives", M.TruePositives),
    ("roc_auc", M.ExactAUC), ("mean_absolute_percentage_error",
                              M.MeanAbsolutePercentageError)])
def test_get_resolves_keras_names(name, cls):
    m = M.get(name)
    assert type(m) is cls and m.name == name


def test_get_config_dicts_and_default_names():
    m = M.get({"class_name": "AUC", "config": {"num_thresholds": 50, "curve": "PR"}})
    assert (m.num_thresholds, m.curve, m.name) == (50, "PR", "auc")
    assert M.ExactAUC("PR").name == "pr_auc" and M.get("pr_auc").curve == "PR"
    assert M.TopKCategoricalAccuracy().name == "top_k_categorical_accuracy"
    with pytest.raises(ValueError, match="unknown metric class"):
        M.get({"class_name": "Nope"})


def test_compile_metrics_accumulate_over_the_epoch():
    """evaluate() with batches of 7 equals sklearn on the whole predictions."""
    import shendu
    from shendu.keras import layers, models

    r = rng(8)
    x = r.normal(size=(61, 5)).astype(np.float32)
    y = (x[:, 0] + 0.5 * r.normal(size=61) > 0).astype(np.float32)
    shendu.manual_seed(0)
    model = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(5,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=["accuracy", "AUC", M.Precision(), M.Recall(), "roc_auc",
                           M.F1Score(average="micro", threshold=0.5), "binary_crossentropy"])
    logs = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    p = model.predict(x, batch_size=7).astype(np.float64)[:, 0]
    pred = (p > 0.5).astype(int)
    same(logs["accuracy"], sk.accuracy_score(y, pred))
    same(logs["precision"], sk.precision_score(y, pred, zero_division=0))
    same(logs["recall"], sk.recall_score(y, pred))
    same(logs["f1_score"], sk.f1_score(y, pred))
    same(logs["roc_auc"], sk.roc_auc_score(y, p))
    same(logs["AUC"], M.AUC()(y, p))
    assert logs["binary_crossentropy"] == pytest.approx(sk.log_loss(y, p), abs=1e-6)
    hist = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    assert set(hist) >= {"loss", "accuracy", "AUC", "precision", "recall", "roc_auc"}
