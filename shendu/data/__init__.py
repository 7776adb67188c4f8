"""Data: datasets, samplers, the DataLoader, IDX files and the dataset locator.

Example:
    >>> import numpy as np
    >>> from shendu.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(np.ones((6, 3), np.float32), np.arange(6))
    >>> [x.shape for x, _ in DataLoader(ds, batch_size=4)]
    [(4, 3), (2, 3)]
"""

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
    load_fashion_mnist,
    load_mnist,
    load_sample,
    search_dirs,
)
from .idx import IDXError, read_idx, write_idx
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
    "DatasetNotFoundError", "cache_dir", "search_dirs", "load_mnist", "load_fashion_mnist",
    "load_sample",
]
