"""Datasets: CIFAR binary files, KMNIST, image folders, the torchvision-style classes and their
layouts. Fixtures are tiny files in the real formats written into tmp_path; HOME, SHENDU_DATA
and the Debian folder point into tmp_path so the machine's own data is not found, and nothing
touches the network (a download, if attempted, would go to a closed localhost port)."""

import socket
import sys
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import isolate_data, write_idx_set

import shendu.data.download as dl
from shendu.data import (
    CIFARError,
    DataLoader,
    DatasetNotFoundError,
    TensorDataset,
    default_collate,
    find_classes,
    load_cifar10,
    load_cifar100,
    load_image,
    load_image_folder,
    load_kmnist,
    read_cifar_bin,
    search_dirs,
)
from shendu.vision import datasets, transforms


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real data is found, and any download attempt fails at once."""
    isolate_data(tmp_path, monkeypatch)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    s.close()
    for key, res in list(dl.RESOURCES.items()):  # offline, and MNIST's hashes unknown
        files = tuple(dl.RemoteFile(f.name) for f in res.files) if key == "mnist" else res.files
        monkeypatch.setitem(dl.RESOURCES, key, dl.Resource(key, (closed,), files))
    return tmp_path


def cifar_records(n, label_bytes=1, seed=0, num_classes=(10,)):
    """n CIFAR records and the images/labels they hold (images channels-last)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = np.stack([rng.integers(0, c, n, dtype=np.uint8) for c in num_classes], axis=1)
    planes = images.transpose(0, 3, 1, 2).reshape(n, -1)  # R plane, G plane, B plane
    return np.concatenate([labels, planes], axis=1).tobytes(), images, labels


def write_cifar10(folder: Path, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for seed, name in enumerate([f"data_batch_{i}.bin" for i in range(1, 6)] +
                                ["test_batch.bin"]):
        raw, images, labels = cifar_records(n, seed=seed)
        (folder / name).write_bytes(raw)
        parts.append((images, labels))
    return parts


def write_cifar100(folder: Path, n=4):
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for seed, name in enumerate(["train.bin", "test.bin"]):
        raw, images, labels = cifar_records(n, 2, seed, (20, 100))
        (folder / name).write_bytes(raw)
        out.append((images, labels))
    return out


# -- CIFAR files -----------------------------------------------------------------------------------
def test_cifar_record_layout(tmp_path):
    img = np.zeros((32, 32, 3), np.uint8)
    img[0, 1] = (10, 20, 30)  # row 0, column 1: R=10, G=20, B=30
    record = np.concatenate([[7], img.transpose(2, 0, 1).ravel()]).astype(np.uint8)
    assert record[1 + 1] == 10 and record[1 + 1024 + 1] == 20 and record[1 + 2048 + 1] == 30
    (tmp_path / "one.bin").write_bytes(record.tobytes())
    images, labels = read_cifar_bin(tmp_path / "one.bin")
    assert images.shape == (1, 32, 32, 3) and images.flags.c_contiguous
    assert images[0, 0, 1].tolist() == [10, 20, 30] and labels.tolist() == [[7]]


def test_cifar_bad_files(tmp_path):
    raw, _, _ = cifar_records(2)
    (tmp_path / "cut.bin").write_bytes(raw[:-5])
    with pytest.raises(CIFARError, match="not a whole number of 3073-byte") as e:
        read_cifar_bin(tmp_path / "cut.bin")
    assert "cut.bin" in str(e.value)
    (tmp_path / "hundred.bin").write_bytes(cifar_records(3, 1, num_classes=(100,))[0])
    with pytest.raises(CIFARError, match="CIFAR-10 vs CIFAR-100"):
        read_cifar_bin(tmp_path / "hundred.bin")
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(CIFARError):
        read_cifar_bin(tmp_path / "empty.bin")


def test_load_cifar10_keras_form(isolated):
    parts = write_cifar10(isolated / "mine" / "cifar-10-batches-bin")
    (x_train, y_train), (x_test, y_test) = load_cifar10(isolated / "mine")
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1)
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert np.array_equal(x_train, np.concatenate([p[0] for p in parts[:5]]))
    assert np.array_equal(y_test, parts[5][1])


def test_load_cifar100_label_modes(isolated):
    (train, train_labels), _ = write_cifar100(isolated / "c100")
    (x, y_fine), (xt, _) = load_cifar100(isolated / "c100")
    (_, y_coarse), _ = load_cifar100(isolated / "c100", label_mode="coarse")
    assert np.array_equal(x, train) and xt.shape == (4, 32, 32, 3)
    assert y_fine.shape == y_coarse.shape == (4, 1) and y_fine.dtype == np.uint8
    assert np.array_equal(y_fine[:, 0], train_labels[:, 1])
    assert np.array_equal(y_coarse[:, 0], train_labels[:, 0])
    with pytest.raises(ValueError, match="label_mode"):
        load_cifar100(isolated / "c100", label_mode="medium")


def test_cifar_found_in_cache_and_not_found_message(isolated):
    with pytest.raises(DatasetNotFoundError) as e:
        load_cifar10()
    msg = str(e.value)
    for folder in search_dirs("cifar-10"):
        assert str(folder) in msg
    assert "data_batch_1.bin" in msg and "download=True" in msg
    write_cifar10(isolated / "home" / ".cache" / "shendu" / "datasets" / "cifar-10" /
                  "cifar-10-batches-bin")
    assert load_cifar10()[0][0].shape == (15, 32, 32, 3)


def test_load_kmnist(isolated, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", str(isolated / "data"))
    arrays = write_idx_set(isolated / "data" / "kmnist")
    (x, y), (xt, yt) = load_kmnist()
    assert np.array_equal(x, arrays[0]) and np.array_equal(yt, arrays[3])


# -- torchvision-style classes ---------------------------------------------------------------------
def test_mnist_torchvision_layout(isolated):
    arrays = write_idx_set(isolated / "root" / "MNIST" / "raw")
    ds = datasets.MNIST(isolated / "root", train=True)
    assert len(ds) == 6 and ds.data.shape == (6, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64 and np.array_equal(ds.targets, arrays[1])
    img, label = ds[2]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert type(label) is int and label == arrays[1][2]
    test = datasets.MNIST(isolated / "root", train=False)
    assert len(test) == 4 and np.array_equal(test.data, arrays[2])
    assert "Split: Test" in repr(test) and ds.class_to_idx["3 - three"] == 3


def test_fashion_and_kmnist_layouts(isolated):
    write_idx_set(isolated / "r" / "FashionMNIST" / "raw", n_train=5)
    write_idx_set(isolated / "r" / "KMNIST" / "raw", n_train=7)
    assert len(datasets.FashionMNIST(isolated / "r")) == 5
    assert len(datasets.KMNIST(isolated / "r")) == 7
    assert datasets.FashionMNIST.classes[9] == "Ankle boot"


def test_root_then_default_places(isolated, monkeypatch):
    write_idx_set(isolated / "home" / ".cache" / "shendu" / "datasets" / "mnist", n_train=3)
    assert len(datasets.MNIST(isolated / "empty-root")) == 3  # root searched first, then cache
    assert len(datasets.MNIST()) == 3  # root=None: the default places
    write_idx_set(isolated / "empty-root", n_train=2)
    assert len(datasets.MNIST(isolated / "empty-root")) == 2


def test_download_only_when_nothing_found(isolated):
    write_idx_set(isolated / "root" / "MNIST" / "raw")
    # found: download=True does not touch the (closed) mirrors
    assert len(datasets.MNIST(isolated / "root", download=True, verify=False)) == 6
    with pytest.raises(DatasetNotFoundError) as e:
        datasets.MNIST(isolated / "nothing", download=True, verify=False)
    msg = str(e.value)
    assert str(isolated / "nothing" / "MNIST" / "raw") in msg and "The download failed" in msg
    with pytest.raises(DatasetNotFoundError, match="no verified SHA-256"):
        datasets.MNIST(isolated / "nothing", download=True)  # verify=True: refused up front


def test_cifar_classes(isolated):
    parts = write_cifar10(isolated / "root" / "cifar-10-batches-bin", n=2)
    train = datasets.CIFAR10(isolated / "root")
    test = datasets.CIFAR10(isolated / "root", train=False)
    assert train.data.shape == (10, 32, 32, 3) and test.data.shape == (2, 32, 32, 3)
    assert np.array_equal(test.data, parts[5][0]) and test.targets.dtype == np.int64
    assert np.array_equal(test.targets, parts[5][1][:, 0])
    assert train.classes[0] == "airplane" and len(train.classes) == 10
    (_, labels), _ = write_cifar100(isolated / "root" / "cifar-100-binary")
    c100 = datasets.CIFAR100(isolated / "root")
    assert np.array_equal(c100.targets, labels[:, 1]) and \
        np.array_equal(c100.coarse_targets, labels[:, 0])
    assert len(c100.classes) == 100 and len(c100.superclasses) == 20


def test_transforms_and_dataloader(isolated):
    write_idx_set(isolated / "r", n_train=6)
    plain = datasets.MNIST(isolated / "r")
    samples = [plain[i] for i in range(4)]
    fetch = plain._batch_fetcher()  # the fast path: one fancy index per array
    batch = fetch(np.arange(4))
    ref = default_collate(samples)
    assert all(np.array_equal(a.numpy(), b.numpy()) and a.dtype == b.dtype
               for a, b in zip(batch, ref))
    fast = [y.tolist() for _, y in DataLoader(TensorDataset(plain.data, plain.targets),
                                                batch_size=4)]
    slow = [y.tolist() for _, y in DataLoader(plain, batch_size=4)]
    assert fast == slow

    ds = datasets.MNIST(isolated / "r", transform=transforms.ToTensor(),
                        target_transform=lambda y: y + 100)
    assert ds._batch_fetcher() is None
    img, label = ds[0]
    assert img.shape == (1, 28, 28) and img.dtype == np.float32 and label >= 100
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    assert x.shape == (3, 1, 28, 28) and y.dtype == np.int64


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (FASHION / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SHENDU_DATA", raising=False)
    ds = datasets.FashionMNIST(tmp_path / "root", train=False)  # root empty: falls back
    assert ds.data.shape == (10000, 28, 28) and np.bincount(ds.targets).tolist() == [1000] * 10
    img, label = ds[0]
    assert img.shape == (28, 28) and ds.classes[label] == "Ankle boot"


# -- image folders ---------------------------------------------------------------------------------
@pytest.fixture
def image_root(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    root = tmp_path / "images"
    rng = np.random.default_rng(0)
    made = {}
    for cls, n in (("dog", 2), ("cat", 3)):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            arr = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            pil.fromarray(arr).save(root / cls / f"{i}.png")
            made[(cls, i)] = arr
    pil.fromarray(np.full((6, 5), 77, np.uint8)).save(root / "cat" / "gray.PNG")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return root, made


def test_image_folder(image_root):
    root, made = image_root
    assert find_classes(root) == (["cat", "dog"], {"cat": 0, "dog": 1})
    ds = datasets.ImageFolder(root)
    assert ds.classes == ["cat", "dog"] and ds.targets == [0, 0, 0, 0, 1, 1]
    assert [Path(p).name for p, _ in ds.samples] == ["0.png", "1.png", "2.png", "gray.PNG",
                                                     "0.png", "1.png"]
    img, label = ds[4]
    assert label == 1 and img.dtype == np.uint8 and np.array_equal(img, made[("dog", 0)])
    gray, _ = ds[3]
    assert gray.shape == (6, 5, 3) and (gray == 77).all()  # converted to RGB
    assert load_image(ds.samples[3][0], mode="L").shape == (6, 5)
    t = datasets.ImageFolder(root, transform=transforms.Compose([transforms.Resize((8, 8)),
                                                                 transforms.ToTensor()]))
    assert t[0][0].shape == (3, 8, 8)
    x, y, classes = load_image_folder(root)
    assert x.shape == (6, 6, 5, 3) and y.tolist() == [0, 0, 0, 0, 1, 1] and classes == ["cat",
                                                                                        "dog"]


def test_image_folder_errors(image_root, tmp_path):
    root, _ = image_root
    (root / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no image"):
        datasets.ImageFolder(root)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.ImageFolder(tmp_path / "missing")


def test_pillow_missing_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match="pip install pillow"):
        load_image(tmp_path / "x.png")
