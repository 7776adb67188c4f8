"""The ``shendu`` command: train, evaluate, predict, summary, datasets (on the shipped sample)."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import cli
from shendu.data import load_sample


def test_train_evaluate_summary_predict(tmp_path, capsys):
    model = tmp_path / "m.shendu"
    assert cli.main(["train", "--epochs", "2", "--hidden", "64", "-o", str(model)]) == 0
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "test accuracy:" in out and model.exists()
    acc = float(out.split("test accuracy:")[1].split()[0])
    assert acc > 0.85

    assert cli.main(["evaluate", str(model)]) == 0
    assert f"test accuracy {acc:.4f}" in capsys.readouterr().out  # the saved model, exactly

    assert cli.main(["summary", str(model)]) == 0
    out = capsys.readouterr().out
    assert "Dense" in out and "Total params: 50890" in out  # 784*64+64 + 64*10+10

    _, (x_test, y_test) = load_sample("mnist")
    files = []
    for i in range(3):
        np.save(tmp_path / f"d{i}.npy", x_test[i])
        files.append(str(tmp_path / f"d{i}.npy"))
    assert cli.main(["predict", str(model), *files]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    predicted = [int(line.split(": ")[1].split()[0]) for line in lines]
    assert len(predicted) == 3 and sum(p == t for p, t in zip(predicted, y_test[:3])) >= 2


def test_train_cnn_with_augmentation(tmp_path, capsys):
    model = tmp_path / "c.shendu"
    assert cli.main(["train", "--model", "lenet5", "--augment", "--epochs", "1",
                     "--batch-size", "128", "-o", str(model)]) == 0
    assert "lenet5 with augmentation" in capsys.readouterr().out
    assert cli.main(["evaluate", str(model)]) == 0
    assert "test accuracy" in capsys.readouterr().out


def test_predict_reads_png_with_pillow(tmp_path, capsys):
    pil = pytest.importorskip("PIL.Image")
    model = tmp_path / "m.shendu"
    cli.main(["train", "--epochs", "1", "--hidden", "32", "-o", str(model)])
    capsys.readouterr()
    _, (x_test, _) = load_sample("mnist")
    pil.fromarray(x_test[0]).save(tmp_path / "digit.png")
    assert cli.main(["predict", str(model), str(tmp_path / "digit.png")]) == 0
    assert "digit.png:" in capsys.readouterr().out


def test_errors_are_clear(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path / "missing.shendu")]) == 1
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.shendu").write_bytes(b"not a model at all")
    assert cli.main(["summary", str(tmp_path / "junk.shendu")]) == 1
    assert "junk.shendu" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--augment", "-o", str(tmp_path / "x.shendu")])  # mlp + augment


def test_datasets_lists_the_sample(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SHENDU_DATA", str(tmp_path))
    assert cli.main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "mnist-sample" in out and "cifar10" in out
