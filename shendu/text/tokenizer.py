"""The legacy ``keras.preprocessing.text.Tokenizer``: words -> ids by frequency.

Index 0 is reserved (never a word); with an ``oov_token`` it takes index 1; words follow by
falling count, ties in order of first appearance, as in Keras. ``num_words`` limits only the
conversions (``texts_to_sequences``...), never ``word_index``.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict, defaultdict

import numpy as np

__all__ = ["Tokenizer", "text_to_word_sequence", "tokenizer_from_json"]

_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(input_text: str, filters: str = _FILTERS, lower: bool = True,
                          split: str = " ") -> list:
    """Split a text into words: lowercase, turn the ``filters`` characters into ``split``,
    split, drop empty strings (Keras's function of the same name)."""
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in input_text.split(split) if w]


class Tokenizer:
    """Turn texts into sequences of word ids, or into bag-of-words matrices.

    Args:
        num_words: keep only the ``num_words - 1`` most frequent words in the conversions.
        filters: characters removed from the texts.
        lower: lowercase the texts.
        split: the word separator.
        char_level: every character is a token.
        oov_token: if given, it gets index 1 and unknown (or cut) words map to it instead
            of being dropped.
        analyzer: a callable text -> list of words used instead of the built-in splitting.

    Example:
        >>> tok = Tokenizer(num_words=100, oov_token="<OOV>")
        >>> tok.fit_on_texts(["The cat sat", "the dog sat"])
        >>> tok.texts_to_sequences(["the bird sat"])
        [[2, 1, 3]]
    """

    def __init__(self, num_words: int | None = None, filters: str = _FILTERS,
                 lower: bool = True, split: str = " ", char_level: bool = False,
                 oov_token: str | None = None, analyzer=None, document_count: int = 0):
        if num_words is not None and (isinstance(num_words, bool) or int(num_words) != num_words
                                      or num_words < 0):
            raise ValueError(f"Tokenizer: num_words must be a non-negative integer or None, "
                             f"got {num_words!r}")
        if analyzer is not None and not callable(analyzer):
            raise TypeError(f"Tokenizer: analyzer must be callable, got {analyzer!r}")
        self.num_words = None if num_words is None else int(num_words)
        self.filters, self.lower, self.split = filters, lower, split
        self.char_level, self.oov_token, self.analyzer = char_level, oov_token, analyzer
        self.document_count = int(document_count)
        self.word_counts: OrderedDict = OrderedDict()
        self.word_docs: defaultdict = defaultdict(int)
        self.index_docs: defaultdict = defaultdict(int)
        self.word_index: dict = {}
        self.index_word: dict = {}

    def _words(self, text) -> list:
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return list(text)
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer expects texts (strings or lists of words), got "
                            f"{type(text).__name__}: {text!r}")
        if self.analyzer is not None:
            return list(self.analyzer(text))
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts) -> None:
        """Count the words of ``texts`` (strings, or lists of words) and rebuild
        ``word_index``."""
        if isinstance(texts, str):
            raise TypeError("Tokenizer.fit_on_texts expects a list of texts, got one string; "
                            "wrap it in a list")
        for text in texts:
            self.document_count += 1
            seq = self._words(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] += 1
        # stable sort: equal counts keep their order of first appearance
        ordered = [w for w, _ in sorted(self.word_counts.items(), key=lambda kv: kv[1],
                                        reverse=True)]
        vocab = ([self.oov_token] if self.oov_token is not None else []) + ordered
        self.word_index = {w: i for i, w in enumerate(vocab, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.index_docs = defaultdict(int)
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences) -> None:
        """Count document frequencies of ids (for ``sequences_to_matrix(mode="tfidf")``)
        from sequences that are already ids."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def _oov_index(self):
        return self.word_index.get(self.oov_token) if self.oov_token is not None else None

    def texts_to_sequences(self, texts) -> list:
        """Each text as a list of word ids (unknown words dropped, or the OOV id)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        num_words, oov = self.num_words, self._oov_index()
        for text in texts:
            out = []
            for w in self._words(text):
                i = self.word_index.get(w)
                if i is not None and not (num_words and i >= num_words):
                    out.append(i)
                elif oov is not None:
                    out.append(oov)
            yield out

    def sequences_to_texts(self, sequences) -> list:
        """Each sequence of ids back to a space-joined text."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        num_words, oov = self.num_words, self._oov_index()
        for seq in sequences:
            words = []
            for i in seq:
                w = self.index_word.get(int(i))
                if w is not None and not (num_words and i >= num_words):
                    words.append(w)
                elif oov is not None:
                    words.append(self.index_word[oov])
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode: str = "binary") -> np.ndarray:
        """A (len(texts), num_words) matrix; ``mode`` is binary, count, tfidf or freq."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode: str = "binary") -> np.ndarray:
        if mode not in ("binary", "count", "tfidf", "freq"):
            raise ValueError(f"Tokenizer: mode must be binary, count, tfidf or freq, got "
                             f"{mode!r}")
        if self.num_words:
            n = self.num_words
        elif self.word_index:
            n = len(self.word_index) + 1
        else:
            raise ValueError("Tokenizer: give num_words or fit on some texts before making "
                             "a matrix")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Tokenizer: fit on some texts before using mode='tfidf'")
        x = np.zeros((len(sequences), n))
        for row, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts = Counter(int(j) for j in seq if j < n)
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:  # "tfidf": (1 + log tf) * log(1 + N / (1 + df))
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = (1 + np.log(c)) * idf
        return x

    def get_config(self) -> dict:
        """Settings and counts, JSON-friendly (Keras stores the tables as JSON strings)."""
        if self.analyzer is not None:
            raise TypeError("Tokenizer.get_config: a custom analyzer cannot be saved")
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower,
                "split": self.split, "char_level": self.char_level,
                "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts),
                "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs),
                "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs) -> str:
        """The tokenizer as a JSON string; ``tokenizer_from_json`` reads it back."""
        return json.dumps({"class_name": "Tokenizer", "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """Rebuild a ``Tokenizer`` from ``Tokenizer.to_json()``."""
    data = json.loads(json_string)
    if not isinstance(data, dict) or data.get("class_name") != "Tokenizer" or not isinstance(
            data.get("config"), dict):
        raise ValueError("tokenizer_from_json: not a Tokenizer's JSON")
    cfg = dict(data["config"])
    tables = {k: json.loads(cfg.pop(k)) for k in ("word_counts", "word_docs", "index_docs",
                                                  "index_word", "word_index")}
    tok = Tokenizer(**cfg)
    tok.word_counts = OrderedDict(tables["word_counts"])
    tok.word_docs = defaultdict(int, tables["word_docs"])
    tok.index_docs = defaultdict(int, {int(k): v for k, v in tables["index_docs"].items()})
    tok.index_word = {int(k): v for k, v in tables["index_word"].items()}
    tok.word_index = tables["word_index"]
    return tok
