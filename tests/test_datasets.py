"""IDX files, the dataset locator, MNIST/Fashion-MNIST loading and the shipped sample.

No test touches the network: IDX fixtures are written into tmp_path, and HOME / SHENDU_DATA /
the Debian folder are pointed at empty temporary folders so the machine's own data is not found.
"""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import NAMES, isolate_data, write_idx_set

import shendu.data.datasets as datasets_mod
from shendu.data import (
    DatasetNotFoundError,
    IDXError,
    load_fashion_mnist,
    load_mnist,
    load_sample,
    read_idx,
    search_dirs,
    write_idx,
)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """HOME, SHENDU_DATA and the Debian folder all point into tmp_path."""
    return isolate_data(tmp_path, monkeypatch)


# -- IDX -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    arr = (np.arange(24) - 5).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative and np.array_equal(back, arr)


def test_idx_header_layout(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    write_idx(path, np.array([7, 8, 9], dtype=np.uint8))
    assert path.read_bytes() == b"\x00\x00\x08\x01\x00\x00\x00\x03\x07\x08\x09"
    plain = tmp_path / "noext"
    plain.write_bytes(gzip.compress(path.read_bytes()))  # gzip detected by content, not name
    assert read_idx(plain).tolist() == [7, 8, 9]
    with pytest.raises(TypeError, match="cannot store dtype int64"):
        write_idx(tmp_path / "x", np.arange(3))


@pytest.mark.parametrize("gz", [False, True])
def test_idx_truncated_file_is_refused(tmp_path, gz):
    good = tmp_path / "good"
    write_idx(good, np.zeros((10, 28, 28), np.uint8))
    data = good.read_bytes()[:-100]
    bad = tmp_path / ("truncated-idx3-ubyte" + (".gz" if gz else ""))
    bad.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(IDXError, match="truncated") as e:
        read_idx(bad)
    assert str(bad) in str(e.value) and "(10, 28, 28)" in str(e.value)
    cut = tmp_path / "cut.gz"  # a gzip stream cut short: its trailer is gone
    cut.write_bytes(gzip.compress(good.read_bytes())[:-30])
    with pytest.raises(IDXError, match="cut.gz"):
        read_idx(cut)


def test_idx_trailing_data_is_refused(tmp_path):
    path = tmp_path / "long"
    write_idx(path, np.zeros(5, np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(IDXError, match="trailing data"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_lying_header_refused_before_allocation(tmp_path, monkeypatch, gz):
    # The header claims 60000 x 2**16 x 2**16 uint8 (256 TB); the file has 100 bytes of data.
    raw = struct.pack(">BBBBIII", 0, 0, 8, 3, 60000, 2**16, 2**16) + bytes(100)
    path = tmp_path / ("liar-idx3-ubyte" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(raw) if gz else raw)

    def no_alloc(*args, **kwargs):
        raise AssertionError("read_idx allocated before checking the header against the file")

    monkeypatch.setattr("shendu.data.idx.np.empty", no_alloc)
    with pytest.raises(IDXError, match="header declares shape \\(60000, 65536, 65536\\)") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_idx_not_idx(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello world, not an idx file")
    with pytest.raises(IDXError, match="not an IDX file"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(IDXError, match="truncated IDX header"):
        read_idx(path)


# -- locator -------------------------------------------------------------------------------------
def test_not_found_names_searched_folders(isolated, monkeypatch):
    data_root = isolated / "data"
    monkeypatch.setenv("SHENDU_DATA", str(data_root))
    (data_root / "mnist").mkdir(parents=True)
    write_idx(data_root / "mnist" / "train-images-idx3-ubyte.gz", np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(DatasetNotFoundError) as e:
        load_mnist()
    msg = str(e.value)
    assert isinstance(e.value, FileNotFoundError)
    for folder in search_dirs("mnist"):
        assert str(folder) in msg
    assert str(isolated / "home" / ".cache" / "shendu" / "datasets" / "mnist") in msg
    assert str(isolated / "usr-share-datasets" / "mnist") in msg
    assert "has 1 of the 4 files" in msg and "t10k-labels-idx1-ubyte" in msg
    assert "load_sample" in msg
    with pytest.raises(DatasetNotFoundError, match="apt install dataset-fashion-mnist"):
        load_fashion_mnist()


def test_explicit_path_is_the_only_place_searched(isolated):
    write_idx_set(isolated / "home" / ".cache" / "shendu" / "datasets" / "mnist")
    assert load_mnist()[0][0].shape == (6, 28, 28)  # found in the cache
    with pytest.raises(DatasetNotFoundError, match="the folder you passed") as e:
        load_mnist(isolated / "elsewhere")
    assert str(isolated / "elsewhere") in str(e.value)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_explicit_path(isolated, gz):
    arrays = write_idx_set(isolated / "mine", gz=gz)
    (x_train, y_train), (x_test, y_test) = load_mnist(isolated / "mine")
    for got, want in zip((x_train, y_train, x_test, y_test), arrays):
        assert got.dtype == np.uint8 and np.array_equal(got, want)


def test_search_order_and_layouts(isolated, monkeypatch):
    env_root, cache = isolated / "env", isolated / "home" / ".cache" / "shendu" / "datasets"
    monkeypatch.setenv("SHENDU_DATA", str(env_root))
    write_idx_set(isolated / "usr-share-datasets" / "fashion-mnist", n_train=3)
    assert load_fashion_mnist()[0][0].shape[0] == 3  # Debian's folder
    write_idx_set(cache / "FashionMNIST" / "raw", n_train=4)  # torchvision layout, plain files
    assert load_fashion_mnist()[0][0].shape[0] == 4  # the cache wins over Debian
    write_idx_set(env_root / "fashion-mnist", n_train=5, gz=False)
    assert load_fashion_mnist()[0][0].shape[0] == 5  # $SHENDU_DATA wins over the cache
    assert load_fashion_mnist(env_root)[0][0].shape[0] == 5  # a root holding <name>/ works


def test_dotted_names_and_label_mismatch(isolated):
    folder = isolated / "dotted"
    arrays = write_idx_set(folder, gz=False)
    for name in NAMES:  # "train-images.idx3-ubyte", as some unzip tools leave them
        dotted = name.replace("-idx", ".idx")
        (folder / name).rename(folder / dotted)
    assert np.array_equal(load_mnist(folder)[1][1], arrays[3])
    write_idx(folder / "t10k-labels.idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(IDXError, match="expected 4 uint8 labels"):
        load_mnist(folder)


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SHENDU_DATA", raising=False)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_test).tolist() == [1000] * 10


# -- shipped sample ------------------------------------------------------------------------------
def test_load_sample_mnist():
    (x_train, y_train), (x_test, y_test) = load_sample("mnist")
    assert x_train.shape == (4000, 28, 28) and y_train.shape == (4000,)
    assert x_test.shape == (1000, 28, 28) and y_test.shape == (1000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert y_train.min() == 0 and y_train.max() == 9 and x_train.max() == 255
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert np.bincount(y_train[-800:], minlength=10).min() > 40  # a validation_split sees all
    x, y = load_sample("mnist", split="test")
    assert np.array_equal(x, x_test) and np.array_equal(y, y_test)


def test_sample_file_is_small_and_pickle_free():
    path = Path(datasets_mod.__file__).parent / "samples" / "mnist_5k.npz"
    assert path.stat().st_size < 2_000_000
    with np.load(path, allow_pickle=False) as z:
        assert {"images", "labels"} <= set(z.files)


def test_load_sample_errors():
    with pytest.raises(ValueError, match="unknown sample"):
        load_sample("cifar")
    with pytest.raises(ValueError, match="split must be"):
        load_sample("mnist", split="val")
