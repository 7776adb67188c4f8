"""Text tools: vocabularies, Keras's ``TextVectorization`` and ``Tokenizer``, and
``pad_sequences`` to batch sequences of different lengths.

Example:
    >>> from shendu.text import TextVectorization, pad_sequences
    >>> layer = TextVectorization(max_tokens=1000, output_sequence_length=8)
    >>> layer.adapt(["the cat sat", "the dog ran"])
    >>> ids = layer(["the cat ran"])
"""

from .sequence import pad_sequences
from .tokenizer import Tokenizer, text_to_word_sequence, tokenizer_from_json
from .vectorize import TextVectorization
from .vocab import CharVocabulary, Vocabulary

__all__ = ["pad_sequences", "Vocabulary", "CharVocabulary", "TextVectorization", "Tokenizer",
           "text_to_word_sequence", "tokenizer_from_json"]
