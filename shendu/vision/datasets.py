"""torchvision-style datasets: ``dataset[i]`` is ``(image, label)`` with the image a uint8 NumPy
array (H x W, or H x W x C) passed through ``transform``, like torchvision's PIL image.

The files are found as ``shendu.data.find_dataset`` finds them, ``root`` first (in its own
layout or torchvision's: ``root/MNIST/raw/``, ``root/FashionMNIST/raw/``, ``root/KMNIST/raw/``,
``root/cifar-10-batches-bin/``, ``root/cifar-100-binary/``), then ``$SHENDU_DATA``, the cache
folder and ``/usr/share/datasets``. Only when nothing is found and ``download=True`` are they
downloaded, into ``root`` in torchvision's layout (or ``$SHENDU_DATA``/the cache without root).

The array datasets keep everything in ``.data`` (uint8) and ``.targets`` (int64). Without
transforms, batches can be cut from those arrays directly, one fancy index per batch:
``DataLoader(TensorDataset(ds.data, ds.targets), batch_size=128, shuffle=True)``, then augment
the batch with ``shendu.vision.transforms.batch``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..data import cifar as _cifar
from ..data.dataset import Dataset
from ..data.datasets import find_dataset, read_idx_pair
from ..data.image_folder import IMG_EXTENSIONS, find_classes, load_image, make_dataset
from ..tensor import Tensor

__all__ = ["VisionDataset", "MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100",
           "ImageFolder"]


class VisionDataset(Dataset):
    """Base class: a root folder, a ``transform`` for images and a ``target_transform`` for
    labels.

    Args:
        root: the dataset's folder (``None``: the default places).
        transform: a function of one image (for example a ``transforms.Compose``).
        target_transform: a function of one label.

    Example:
        >>> class Two(VisionDataset):
        ...     def __len__(self): return 2
        ...     def __getitem__(self, i): return i, i
        >>> len(Two(None))
        2
    """

    def __init__(self, root: str | os.PathLike | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None):
        self.root = None if root is None else os.fspath(Path(root).expanduser())
        self.transform = transform
        self.target_transform = target_transform

    def _extra_repr(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"    Root location: {self.root}")
        lines += [f"    {line}" for line in self._extra_repr()]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class _ArrayDataset(VisionDataset):
    """Images and labels held as two arrays, ``.data`` and ``.targets``."""

    classes: list[str] = []
    data: np.ndarray
    targets: np.ndarray

    def __init__(self, root, train: bool, transform, target_transform):
        super().__init__(root, transform, target_transform)
        self.train = bool(train)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _batch_fetcher(self) -> Callable | None:
        """Without transforms: a function from an index array to the collated batch
        ``[images, labels]`` (what ``default_collate`` makes of the samples), cut with one fancy
        index per array; with a transform, ``None`` (samples go one by one)."""
        if self.transform is not None or self.target_transform is not None:
            return None
        data, targets = self.data, self.targets
        return lambda idx: [Tensor(data[idx]), Tensor(targets[idx])]

    def _extra_repr(self) -> list[str]:
        return [f"Split: {'Train' if self.train else 'Test'}"]


class MNIST(_ArrayDataset):
    """The MNIST handwritten digits: 60,000 train and 10,000 test 28 x 28 uint8 images.

    Args:
        root: a folder holding the four IDX files, in shendu's layout (``root/`` or
            ``root/mnist/``) or torchvision's (``root/MNIST/raw/``); searched first, then the
            default places. ``None``: only the default places.
        train: the training split (else the test split).
        transform: a function of one image (a uint8 28 x 28 array).
        target_transform: a function of one label (an int).
        download: when nothing is found, download into ``root/MNIST/raw/``.
        verify: refuse a download whose SHA-256 is unknown or wrong (MNIST's are not yet
            recorded in shendu, so downloading it needs ``verify=False`` for now).

    Attributes:
        data: uint8 (N, 28, 28). targets: int64 (N,). classes: the class names.

    Example:
        >>> from shendu.vision import transforms as T
        >>> ds = MNIST("data", train=False, transform=T.ToTensor())  # doctest: +SKIP
        >>> image, label = ds[0]  # doctest: +SKIP
    """

    _key, _folder = "mnist", "MNIST"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False, *, verify: bool = True):
        super().__init__(root, train, transform, target_transform)
        files = find_dataset(self._key, self.root, download=download, verify=verify,
                             fallback=True, download_dir=None if self.root is None else
                             Path(self.root) / self._folder / "raw")
        images, labels = read_idx_pair(*(files[:2] if self.train else files[2:]))
        self.data, self.targets = images, labels.astype(np.int64)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28 x 28 grayscale clothing images in 10 classes (MNIST's
    format; see ``MNIST`` for the arguments). Debian's ``dataset-fashion-mnist`` is found in
    ``/usr/share/datasets/fashion-mnist``; downloads are verified by SHA-256.

    Example:
        >>> ds = FashionMNIST(train=False)  # doctest: +SKIP
        >>> ds.classes[ds[0][1]]  # doctest: +SKIP
        'Ankle boot'
    """

    _key, _folder = "fashion-mnist", "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28 x 28 cursive Japanese characters in 10 classes (MNIST's format and
    file names; see ``MNIST`` for the arguments).

    Example:
        >>> ds = KMNIST("data")  # doctest: +SKIP
    """

    _key, _folder = "kmnist", "KMNIST"
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class CIFAR10(_ArrayDataset):
    """CIFAR-10 from its binary version: 50,000 train and 10,000 test 32 x 32 x 3 uint8 images
    in 10 classes.

    Args:
        root: a folder holding ``data_batch_1.bin`` ... ``test_batch.bin``, or a root with
            ``cifar-10-batches-bin/`` (torchvision's layout); searched first, then the default
            places. ``None``: only the default places.
        train: the training split (else the test split).
        transform: a function of one image (a uint8 32 x 32 x 3 array, channels-last).
        target_transform: a function of one label (an int).
        download: when nothing is found, download the binary archive and extract it into
            ``root/cifar-10-batches-bin/``.
        verify: refuse a download whose SHA-256 is unknown or wrong (CIFAR's are not yet
            recorded in shendu, so downloading needs ``verify=False`` for now).

    Attributes:
        data: uint8 (N, 32, 32, 3). targets: int64 (N,). classes: the class names.

    Example:
        >>> ds = CIFAR10("data", train=False)  # doctest: +SKIP
        >>> ds.data.shape  # doctest: +SKIP
        (10000, 32, 32, 3)
    """

    classes = list(_cifar.CIFAR10_CLASSES)

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False, *, verify: bool = True):
        super().__init__(root, train, transform, target_transform)
        files = find_dataset("cifar-10", self.root, download=download, verify=verify,
                             fallback=True)
        parts = [_cifar.read_cifar_bin(f) for f in (files[:5] if self.train else files[5:])]
        self.data = np.concatenate([p[0] for p in parts])
        self.targets = np.concatenate([p[1][:, 0] for p in parts]).astype(np.int64)


class CIFAR100(_ArrayDataset):
    """CIFAR-100 from its binary version: 32 x 32 x 3 uint8 images in 100 classes (grouped in 20
    superclasses). See ``CIFAR10`` for the arguments; the files are ``train.bin`` and
    ``test.bin`` (torchvision's folder: ``root/cifar-100-binary/``).

    Attributes:
        data: uint8 (N, 32, 32, 3). targets: int64 (N,) fine labels. coarse_targets: int64 (N,)
        superclass labels. classes, superclasses: the names.

    Example:
        >>> ds = CIFAR100("data")  # doctest: +SKIP
        >>> ds.superclasses[ds.coarse_targets[0]]  # doctest: +SKIP
    """

    classes = list(_cifar.CIFAR100_CLASSES)
    superclasses = list(_cifar.CIFAR100_SUPERCLASSES)

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False, *, verify: bool = True):
        super().__init__(root, train, transform, target_transform)
        files = find_dataset("cifar-100", self.root, download=download, verify=verify,
                             fallback=True)
        images, labels = _cifar.read_cifar_bin(files[0] if self.train else files[1],
                                               label_bytes=2, num_classes=(20, 100))
        self.data = images
        self.targets = labels[:, 1].astype(np.int64)
        self.coarse_targets = labels[:, 0].astype(np.int64)


class ImageFolder(VisionDataset):
    """Images in ``root/<class name>/...``, one sub-folder per class (sorted names give the
    indices), decoded with Pillow (an optional extra: ``pip install pillow``).

    Args:
        root: the folder of class folders.
        transform: a function of one image (uint8 H x W x 3, RGB, by default).
        target_transform: a function of one label.
        loader: a function from a path to an image (default: ``shendu.data.load_image``).
        is_valid_file: a predicate on paths, instead of the image file endings.

    Attributes:
        classes, class_to_idx, samples (list of (path, label)), targets (list of labels),
        imgs (the same as samples).

    Example:
        >>> from shendu.vision import transforms as T
        >>> ds = ImageFolder("photos", transform=T.Compose([T.Resize((64, 64)),
        ...                                                 T.ToTensor()]))  # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable | None = None,
                 is_valid_file: Callable[[str], bool] | None = None):
        super().__init__(root, transform, target_transform)
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx,
                                    None if is_valid_file else IMG_EXTENSIONS, is_valid_file)
        self.imgs = self.samples
        self.targets = [t for _, t in self.samples]
        self.loader = loader if loader is not None else load_image

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        img = self.loader(path)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
