"""``shendu.utils``: PyTorch's spelling of shendu's helpers (``shendu.utils.data``).

Example:
    >>> from shendu.utils.data import DataLoader, TensorDataset
"""

from . import data

__all__ = ["data"]
