"""``keras.preprocessing``: the legacy text and sequence helpers (``Tokenizer``,
``pad_sequences``) at their old addresses, so ``from keras.preprocessing.text import
Tokenizer`` keeps working with the imports changed."""

from . import sequence, text

__all__ = ["sequence", "text"]
