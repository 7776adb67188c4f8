"""``keras.preprocessing.sequence``: ``pad_sequences`` (also at ``keras.utils``)."""

from ...text.sequence import pad_sequences

__all__ = ["pad_sequences"]
