"""Data: datasets, samplers, the DataLoader, IDX and CIFAR files, image folders, the dataset
locator and the downloader (``shendu.data.download``).

Example:
    >>> import numpy as np
    >>> from shendu.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(np.ones((6, 3), np.float32), np.arange(6))
    >>> [x.shape for x, _ in DataLoader(ds, batch_size=4)]
    [(4, 3), (2, 3)]
"""

from .cifar import CIFARError, load_cifar10, load_cifar100, read_cifar_bin
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .datasets import (
    DatasetNotFoundError,
    cache_dir,
    data_home,
    find_dataset,
    load_fashion_mnist,
    load_idx_arrays,
    load_kmnist,
    load_mnist,
    load_sample,
    search_dirs,
)
from .download import ChecksumError, DownloadError, UnverifiedError, sha256_of
from .idx import IDXError, read_idx, write_idx
from .ucr import UCRFormatError, load_ucr
from .image_folder import find_classes, load_image, load_image_folder, make_dataset
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
    "DataLoader", "default_collate", "default_convert",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
    "IDXError", "read_idx", "write_idx",
    "DatasetNotFoundError", "cache_dir", "data_home", "search_dirs", "find_dataset",
    "load_mnist", "load_fashion_mnist", "load_kmnist", "load_idx_arrays", "load_sample",
    "CIFARError", "read_cifar_bin", "load_cifar10", "load_cifar100",
    "ChecksumError", "DownloadError", "UnverifiedError", "sha256_of",
    "find_classes", "make_dataset", "load_image", "load_image_folder",
    "UCRFormatError", "load_ucr",
]
