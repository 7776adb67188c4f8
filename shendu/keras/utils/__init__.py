"""``keras.utils``: to_categorical, normalize, pad_sequences, set_random_seed and the legacy
``np_utils``."""

from __future__ import annotations

from ...random import manual_seed
from ...text.sequence import pad_sequences
from . import np_utils
from .np_utils import normalize, to_categorical

__all__ = ["to_categorical", "normalize", "set_random_seed", "np_utils", "pad_sequences"]


def set_random_seed(seed: int) -> None:
    """Seed every random stream shendu uses."""
    manual_seed(seed)
