"""Vision: torchvision-like datasets (NumPy images), transforms (per sample and vectorized per
batch) and a small model zoo.

Example:
    >>> from shendu.vision import datasets, transforms
    >>> t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    >>> train = datasets.FashionMNIST(transform=t)  # doctest: +SKIP
"""

from . import datasets, models, transforms

__all__ = ["datasets", "models", "transforms"]
