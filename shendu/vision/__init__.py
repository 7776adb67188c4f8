"""Vision: torchvision-like datasets (NumPy images) and transforms, per sample and per batch.

Example:
    >>> from shendu.vision import datasets, transforms
    >>> t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    >>> train = datasets.FashionMNIST(transform=t)  # doctest: +SKIP
"""

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
