"""Data splits and cross-validation: ``KFold``, ``StratifiedKFold``, ``train_test_split`` (the
scikit-learn semantics) and ``cross_validate``, which trains a fresh model per fold.

Shuffling is seeded: an integer ``random_state`` gives the same splits on every run and
machine; ``None`` draws from ``shendu.random.default_generator`` (so ``shendu.manual_seed``
fixes it).

Example:
    >>> import numpy as np
    >>> from shendu.model_selection import StratifiedKFold
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> [test.tolist() for _, test in StratifiedKFold(3).split(np.zeros(6), y)]
    [[0, 3], [1, 4], [2, 5]]
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import random as _random
from .tensor import Tensor

__all__ = ["KFold", "StratifiedKFold", "train_test_split", "cross_validate",
           "CrossValidationResult"]


def _rng(random_state) -> np.random.Generator:
    """A NumPy Generator from a seed, a shendu/NumPy generator, or the default stream."""
    if random_state is None:
        return _random.default_generator.rng
    if isinstance(random_state, _random.Generator):
        return random_state.rng
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int seed or a Generator, got "
                    f"{random_state!r}")


def _num_samples(x) -> int:
    if hasattr(x, "shape") and len(x.shape):
        return int(x.shape[0])
    return len(x)


def _take(a, idx: np.ndarray):
    """Rows ``idx`` of an array, Tensor or list (same kind back)."""
    if a is None:
        return None
    if isinstance(a, Tensor):
        return Tensor(a.numpy()[idx])
    if isinstance(a, np.ndarray) or hasattr(a, "__array__") and hasattr(a, "shape"):
        return a[idx]
    return [a[i] for i in idx]


def _labels_1d(y) -> np.ndarray:
    y = y.numpy() if isinstance(y, Tensor) else np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return y


class KFold:
    """K consecutive folds (shuffled first when ``shuffle``); each fold is the test set once.

    The first ``n % n_splits`` folds have one sample more. ``split`` yields sorted
    ``(train_index, test_index)`` arrays, equal to scikit-learn's for ``shuffle=False``.
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state=None):
        if not isinstance(n_splits, (int, np.integer)) or isinstance(n_splits, bool) \
                or n_splits < 2:
            raise ValueError(f"{type(self).__name__}: n_splits must be an integer >= 2, got "
                             f"{n_splits!r}")
        if not shuffle and random_state is not None:
            raise ValueError(f"{type(self).__name__}: random_state has no effect since shuffle "
                             "is False; set shuffle=True or leave random_state=None")
        self.n_splits, self.shuffle, self.random_state = int(n_splits), shuffle, random_state

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return self.n_splits

    def _test_folds(self, n: int, y=None) -> np.ndarray:
        """The fold id of each sample."""
        if self.n_splits > n:
            raise ValueError(f"cannot have n_splits={self.n_splits} greater than the number of "
                             f"samples n_samples={n}")
        order = np.arange(n)
        if self.shuffle:
            order = _rng(self.random_state).permutation(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        folds = np.empty(n, dtype=np.int64)
        folds[order] = np.repeat(np.arange(self.n_splits), sizes)
        return folds

    def split(self, x, y=None, groups=None):
        """Yield ``(train_index, test_index)`` for each fold."""
        n = _num_samples(x)
        folds = self._test_folds(n, y)
        idx = np.arange(n)
        for i in range(self.n_splits):
            yield idx[folds != i], idx[folds == i]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
                f"random_state={self.random_state!r})")


class StratifiedKFold(KFold):
    """K folds that keep each class's share in every fold (labels ``y``: class ids, strings,
    or one-hot rows).

    scikit-learn's allocation: the sorted labels are dealt round-robin to the folds, so each
    fold gets floor or ceil of its share of every class; samples of a class keep their order
    (then shuffled when ``shuffle``). Equal to scikit-learn's splits for ``shuffle=False``.
    """

    def _test_folds(self, n: int, y=None) -> np.ndarray:
        if y is None:
            raise ValueError("StratifiedKFold.split needs the labels y")
        y = _labels_1d(y)
        if y.ndim == 2:
            if not np.all((y == 0) | (y == 1)) or not np.all(y.sum(1) == 1):
                raise ValueError(f"StratifiedKFold needs class labels or one-hot rows, got y "
                                 f"of shape {y.shape}")
            y = y.argmax(1)
        if len(y) != n:
            raise ValueError(f"x has {n} samples but y has {len(y)}")
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise ValueError("StratifiedKFold needs class labels, got continuous y; use KFold")
        _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
        _, class_perm = np.unique(first, return_inverse=True)
        encoded = class_perm[inverse.ravel()]  # classes numbered by first appearance
        n_classes = len(first)
        counts = np.bincount(encoded)
        if np.all(self.n_splits > counts):
            raise ValueError(f"n_splits={self.n_splits} cannot be greater than the number of "
                             "members in each class")
        if self.n_splits > counts.min():
            warnings.warn(f"the least populated class in y has only {counts.min()} members, "
                          f"which is less than n_splits={self.n_splits}", UserWarning,
                          stacklevel=3)
        ordered = np.sort(encoded)
        allocation = np.array([np.bincount(ordered[i::self.n_splits], minlength=n_classes)
                               for i in range(self.n_splits)])
        rng = _rng(self.random_state) if self.shuffle else None
        folds = np.empty(n, dtype=np.int64)
        for c in range(n_classes):
            fold_of = np.repeat(np.arange(self.n_splits), allocation[:, c])
            if rng is not None:
                rng.shuffle(fold_of)
            folds[encoded == c] = fold_of
        return folds

    def split(self, x, y, groups=None):
        """Yield ``(train_index, test_index)`` for each fold."""
        return super().split(x, y, groups)


def _split_sizes(n: int, test_size, train_size) -> tuple[int, int]:
    """scikit-learn's sizes: fractions round the test set up and the train set down."""
    if test_size is None and train_size is None:
        test_size = 0.25
    for name, v in (("test_size", test_size), ("train_size", train_size)):
        if v is None:
            continue
        if isinstance(v, float) and not 0 < v < 1:
            raise ValueError(f"{name}={v} should be a float in (0, 1) or an int in [1, {n})")
        if isinstance(v, (int, np.integer)) and not 0 < v < n:
            raise ValueError(f"{name}={v} should be a float in (0, 1) or an int in [1, {n})")
    n_test = None if test_size is None else (
        math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size))
    n_train = None if train_size is None else (
        math.floor(train_size * n) if isinstance(train_size, float) else int(train_size))
    n_test = n - n_train if n_test is None else n_test
    n_train = n - n_test if n_train is None else n_train
    if n_train + n_test > n:
        raise ValueError(f"the sum of train and test sizes ({n_train} + {n_test}) exceeds the "
                         f"{n} samples; reduce test_size and/or train_size")
    if n_train == 0:
        raise ValueError(f"with n_samples={n}, test_size={test_size} and "
                         f"train_size={train_size}, the train set would be empty")
    return n_train, n_test


def _approximate_mode(counts: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """Integer draws per class closest to ``counts`` scaled to ``n_draws`` (largest
    remainders first, ties broken at random)."""
    continuous = counts / counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    remainder = continuous - floored
    for value in np.sort(np.unique(remainder))[::-1]:
        if need <= 0:
            break
        (inds,) = np.where(remainder == value)
        take = rng.choice(inds, size=min(len(inds), need), replace=False)
        floored[take] += 1
        need -= len(take)
    return floored.astype(np.int64)


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None,
                     shuffle: bool = True, stratify=None) -> list:
    """Split arrays (NumPy, Tensors or lists, same length) into train and test parts.

    Returns ``[a_train, a_test, b_train, b_test, ...]``. Sizes: fractions or counts (default
    test 25%). ``stratify=y`` keeps each class's share in both parts (within one sample per
    class). Without shuffling, the first samples are the train set.

    Example:
        >>> x_tr, x_te, y_tr, y_te = train_test_split(np.arange(10), np.arange(10) % 2,
        ...                                           test_size=0.2, random_state=0)
        >>> len(x_tr), len(x_te)
        (8, 2)
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    n = _num_samples(arrays[0])
    lengths = [_num_samples(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"arrays have inconsistent numbers of samples: {lengths}")
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("stratified train/test split is not implemented for shuffle=False")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    elif stratify is None:
        perm = _rng(random_state).permutation(n)
        test, train = perm[:n_test], perm[n_test:n_test + n_train]
    else:
        train, test = _stratified_split(_labels_1d(stratify), n_train, n_test,
                                        _rng(random_state))
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def _stratified_split(y, n_train: int, n_test: int, rng):
    if y.ndim == 2:
        y = y.argmax(1)
    classes, encoded = np.unique(y, return_inverse=True)
    encoded = encoded.ravel()
    counts = np.bincount(encoded)
    if counts.min() < 2:
        raise ValueError("the least populated class in stratify has only 1 member; every "
                         "class needs at least 2")
    if n_train < len(classes) or n_test < len(classes):
        raise ValueError(f"train ({n_train}) and test ({n_test}) sizes must each be at least "
                         f"the number of classes ({len(classes)})")
    test_per_class = _approximate_mode(counts, n_test, rng)
    train_per_class = _approximate_mode(counts - test_per_class, n_train, rng)
    train, test = [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(encoded == c))
        test.append(members[:test_per_class[c]])
        train.append(members[test_per_class[c]:test_per_class[c] + train_per_class[c]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


@dataclass
class CrossValidationResult:
    """What ``cross_validate`` returns.

    Attributes:
        folds: the fold id of every sample (the fold in which it was a test sample).
        splits: ``(train_index, test_index)`` per fold.
        histories: per fold, ``{name: [value per epoch]}`` from training.
        scores: per fold, ``{name: value}`` on the fold's test samples.
        mean, std: per score name, over the folds (population std, ddof=0).
        seeds: the seed each fold's model was built and trained with.
        models: the trained models when ``return_models=True``, else None.
    """

    folds: np.ndarray
    splits: list
    histories: list
    scores: list
    mean: dict
    std: dict
    seeds: list
    models: list | None = field(default=None, repr=False)

    def summary(self) -> str:
        """One line per score: ``name: mean +/- std``."""
        return "\n".join(f"{k}: {np.round(self.mean[k], 4)} +/- {np.round(self.std[k], 4)}"
                         for k in self.mean)


def _class_labels(y):
    """Labels to stratify by, or None for a regression target."""
    y = _labels_1d(y)
    if y.ndim == 2:
        if np.all((y == 0) | (y == 1)) and np.all(y.sum(1) == 1):
            return y.argmax(1)
        return None
    if y.ndim != 1:
        return None
    if y.dtype.kind in "biuOUS" or (y.dtype.kind == "f" and np.all(y == np.round(y))):
        return y
    return None


def _history_dict(h) -> dict:
    if h is None:
        return {}
    return dict(getattr(h, "history", h))


def _aggregate(scores: list) -> tuple[dict, dict]:
    mean, std = {}, {}
    for name in scores[0]:
        vals = [s.get(name) for s in scores]
        try:
            arr = np.asarray(vals, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        m, s = arr.mean(axis=0), arr.std(axis=0)
        mean[name] = float(m) if m.ndim == 0 else m
        std[name] = float(s) if s.ndim == 0 else s
    return mean, std


def _predict(model, x, batch_size: int) -> np.ndarray:
    """Model outputs as a NumPy array (``predict`` when the model has it)."""
    if hasattr(model, "predict"):
        return np.asarray(model.predict(x, batch_size=batch_size))
    from .autograd import no_grad
    from .models.adapter import to_input

    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            out = model(to_input(x))
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return out.numpy() if isinstance(out, Tensor) else np.asarray(out)


def cross_validate(build_model, x, y, k: int = 5, *, stratified: bool | None = None,
                   shuffle: bool = True, seed: int = 0, epochs: int = 1, batch_size: int = 32,
                   fit_kwargs: dict | None = None, evaluate_kwargs: dict | None = None,
                   metrics=None, validation: bool = False, verbose=0,
                   return_models: bool = False, fit_fn=None, eval_fn=None
                   ) -> CrossValidationResult:
    """Train a fresh model on each of ``k`` folds and score it on the held-out fold.

    Args:
        build_model: ``build_model()`` returns a new model: a compiled ``Model`` (trained with
            ``fit``/``evaluate``), or any model when ``fit_fn``/``eval_fn`` are given.
        x, y: samples and targets (arrays or Tensors).
        k: number of folds.
        stratified: stratify folds by class; None: when ``y`` holds class labels or one-hot
            rows (not continuous values).
        shuffle, seed: folds are shuffled with ``seed``; fold ``i``'s model is built and
            trained after ``shendu.manual_seed(seed + i)``, so a run is reproducible. The global
            random state is restored afterwards.
        epochs, batch_size, fit_kwargs: passed to ``model.fit`` (``verbose`` too).
        evaluate_kwargs: passed to ``model.evaluate`` (its logs are the fold's scores).
        metrics: extra scores on the fold's predictions, ``{name: fn(y_true, y_pred)}`` or a
            list of functions (e.g. ``shendu.metrics.roc_auc_score``).
        validation: also pass the held-out fold as ``validation_data`` (per-epoch val_* logs).
        return_models: keep the trained models in the result.
        fit_fn: torch-style training, ``fit_fn(model, (x_train, y_train), (x_test, y_test))``
            returning a history dict (or a ``History``, or None).
        eval_fn: ``eval_fn(model, x_test, y_test)`` returning ``{name: score}``.

    Returns:
        A ``CrossValidationResult`` with per-fold histories and scores, their mean and std,
        and the fold assignment of every sample.

    Example:
        >>> def build():
        ...     m = Sequential([Dense(1, activation="sigmoid", input_shape=(4,))])
        ...     m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        ...     return m
        >>> res = cross_validate(build, x, y, k=5, epochs=3)  # doctest: +SKIP
        >>> res.mean["accuracy"], res.std["accuracy"]  # doctest: +SKIP
    """
    n = _num_samples(x)
    if y is None or _num_samples(y) != n:
        raise ValueError(f"cross_validate needs targets y with one row per sample ({n})")
    labels = _class_labels(y)
    if stratified is None:
        stratified = labels is not None
    if stratified and labels is None:
        raise ValueError("stratified=True needs class labels (or one-hot rows) in y")
    cls = StratifiedKFold if stratified else KFold
    splitter = cls(k, shuffle=shuffle, random_state=seed if shuffle else None)
    splits = list(splitter.split(np.zeros(n), labels if stratified else None))
    if isinstance(metrics, dict):
        extra = dict(metrics)
    else:
        extra = {getattr(f, "__name__", f"metric_{i}"): f for i, f in enumerate(metrics or [])}
    folds = np.empty(n, dtype=np.int64)
    histories, scores, seeds, models = [], [], [], []
    saved_state = _random.get_rng_state()
    try:
        for i, (train, test) in enumerate(splits):
            folds[test] = i
            fold_seed = int(seed) + i
            _random.manual_seed(fold_seed)
            model = build_model()
            x_tr, y_tr, x_te, y_te = _take(x, train), _take(y, train), _take(x, test), \
                _take(y, test)
            if fit_fn is not None:
                history = _history_dict(fit_fn(model, (x_tr, y_tr), (x_te, y_te)))
            else:
                if not getattr(model, "compiled", False):
                    raise ValueError("build_model() must return a compiled Model (call "
                                     "model.compile(...) in it), or pass fit_fn= and eval_fn=")
                kw = dict(fit_kwargs or {})
                if validation:
                    kw.setdefault("validation_data", (x_te, y_te))
                history = _history_dict(model.fit(x_tr, y_tr, epochs=epochs,
                                                  batch_size=batch_size, verbose=verbose, **kw))
            if eval_fn is not None:
                fold_scores = dict(eval_fn(model, x_te, y_te))
            elif hasattr(model, "evaluate") and getattr(model, "compiled", False):
                ekw = {"batch_size": batch_size, "verbose": 0, **(evaluate_kwargs or {})}
                fold_scores = dict(model.evaluate(x_te, y_te, return_dict=True, **ekw))
            else:
                fold_scores = {}
            if extra:
                y_pred = _predict(model, x_te, batch_size)
                y_true = y_te.numpy() if isinstance(y_te, Tensor) else np.asarray(y_te)
                for name, fn in extra.items():
                    fold_scores[name] = fn(y_true, y_pred)
            if not fold_scores:
                raise ValueError("no scores for the fold: give a compiled Model, eval_fn= or "
                                 "metrics=")
            histories.append(history)
            scores.append(fold_scores)
            seeds.append(fold_seed)
            if return_models:
                models.append(model)
    finally:
        _random.set_rng_state(saved_state)
    mean, std = _aggregate(scores)
    return CrossValidationResult(folds, splits, histories, scores, mean, std, seeds,
                                 models if return_models else None)
