"""CIFAR-10 and CIFAR-100 from their binary versions (never the pickled Python versions).

CIFAR-10 (``cifar-10-batches-bin/``): ``data_batch_1.bin`` ... ``data_batch_5.bin`` and
``test_batch.bin``, each 10,000 records of 1 label byte + 3,072 pixel bytes. CIFAR-100
(``cifar-100-binary/``): ``train.bin`` (50,000 records) and ``test.bin`` (10,000), each record a
coarse label byte, a fine label byte and 3,072 pixel bytes. The pixels of a record are the red,
then green, then blue 32x32 planes, each row-major.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .datasets import find_dataset

__all__ = ["CIFARError", "read_cifar_bin", "load_cifar10", "load_cifar100",
           "CIFAR10_CLASSES", "CIFAR100_CLASSES", "CIFAR100_SUPERCLASSES"]

_PIXELS = 3 * 32 * 32

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
    "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
    "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom",
    "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
    "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
    "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank",
    "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle",
    "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm")
CIFAR100_SUPERCLASSES = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
    "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2")


class CIFARError(ValueError):
    """A file that is not a CIFAR binary file (wrong size, or labels out of range)."""


def read_cifar_bin(path: str | os.PathLike, label_bytes: int = 1,
                   num_classes: tuple[int, ...] = (10,)) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR binary file.

    Args:
        path: the ``.bin`` file.
        label_bytes: label bytes before each record's pixels: 1 for CIFAR-10, 2 for CIFAR-100
            (coarse, fine).
        num_classes: the number of classes of each label byte, to check the labels against:
            ``(10,)`` for CIFAR-10, ``(20, 100)`` for CIFAR-100.

    Returns:
        ``(images, labels)``: uint8 images (N, 32, 32, 3), channels-last, and uint8 labels of
        shape (N, label_bytes).

    Raises:
        CIFARError: the file's size is not a whole number of records, or a label is out of
            range (for example a CIFAR-100 file read as CIFAR-10).

    Example:
        >>> import numpy as np, os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "b.bin")
        >>> np.zeros(2 * 3073, np.uint8).tofile(p)
        >>> images, labels = read_cifar_bin(p)
        >>> images.shape, labels.shape
        ((2, 32, 32, 3), (2, 1))
    """
    path = Path(path)
    record = label_bytes + _PIXELS
    size = path.stat().st_size
    if size == 0 or size % record:
        raise CIFARError(f"{path}: {size:,} bytes is not a whole number of {record}-byte CIFAR "
                         f"records ({label_bytes} label byte(s) + {_PIXELS} pixel bytes); the "
                         "file is truncated or is not a CIFAR binary file (the Python "
                         "pickle versions are not read: use the binary version)")
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, record)
    labels = raw[:, :label_bytes].copy()
    for k, n in enumerate(num_classes):
        top = int(labels[:, k].max())
        if top >= n:
            raise CIFARError(f"{path}: label byte {k} holds {top}, but this dataset has {n} "
                             "classes; is this the right file (CIFAR-10 vs CIFAR-100)?")
    # Records hold the R, G, B planes: (N, 3, 32, 32) -> channels-last (N, 32, 32, 3).
    images = np.ascontiguousarray(raw[:, label_bytes:].reshape(-1, 3, 32, 32)
                                  .transpose(0, 2, 3, 1))
    return images, labels


def _concat(parts):
    images, labels = zip(*parts)
    return np.concatenate(images), np.concatenate(labels)


def load_cifar10(path: str | os.PathLike | None = None, download: bool = False,
                 verify: bool = True) -> tuple:
    """CIFAR-10 as uint8 arrays, like ``keras.datasets.cifar10.load_data()``.

    Args:
        path: the folder holding ``data_batch_1.bin`` ... ``test_batch.bin`` (or a root with
            ``cifar-10-batches-bin/``); default: search ``$SHENDU_DATA``, the cache folder and
            ``/usr/share/datasets`` (see ``shendu.data.search_dirs``).
        download: when not found, download the binary archive and extract it.
        verify: refuse a download whose SHA-256 is unknown or wrong (CIFAR's hashes are not yet
            recorded in shendu: downloading needs ``verify=False`` for now).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images (N, 32, 32, 3) channels-last and
        labels (N, 1), uint8; 50,000 train and 10,000 test samples.

    Raises:
        DatasetNotFoundError: the files are nowhere; the message says where to put them.
        CIFARError: a file is truncated or not CIFAR-10.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_cifar10()  # doctest: +SKIP
        >>> x_train.shape, y_train.shape  # doctest: +SKIP
        ((50000, 32, 32, 3), (50000, 1))
    """
    files = find_dataset("cifar-10", path, download=download, verify=verify)
    train = _concat(read_cifar_bin(f) for f in files[:5])
    test = read_cifar_bin(files[5])
    return train, test


def load_cifar100(path: str | os.PathLike | None = None, label_mode: str = "fine",
                  download: bool = False, verify: bool = True) -> tuple:
    """CIFAR-100 as uint8 arrays, like ``keras.datasets.cifar100.load_data(label_mode)``.

    Args:
        path: the folder holding ``train.bin`` and ``test.bin`` (or a root with
            ``cifar-100-binary/``); default: search as ``shendu.data.search_dirs``.
        label_mode: "fine" (100 classes) or "coarse" (20 superclasses).
        download: when not found, download the binary archive and extract it.
        verify: refuse a download whose SHA-256 is unknown or wrong.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images (N, 32, 32, 3) channels-last and
        labels (N, 1), uint8.

    Example:
        >>> (x_train, y_train), _ = load_cifar100(label_mode="coarse")  # doctest: +SKIP
        >>> int(y_train.max())  # doctest: +SKIP
        19
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"load_cifar100: label_mode must be 'fine' or 'coarse', got "
                         f"{label_mode!r}")
    column = 1 if label_mode == "fine" else 0
    files = find_dataset("cifar-100", path, download=download, verify=verify)
    out = []
    for f in files:
        images, labels = read_cifar_bin(f, label_bytes=2, num_classes=(20, 100))
        out.append((images, labels[:, column:column + 1].copy()))
    return out[0], out[1]
