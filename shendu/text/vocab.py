"""Vocabularies: a two-way map between tokens and integer ids, Keras's way.

Id 0 is the padding (mask) token ``""`` and id 1 the out-of-vocabulary token ``"[UNK]"``,
then the learned tokens, most frequent first (ties broken by the token, in descending order,
exactly as Keras's ``TextVectorization.adapt`` does, so the two give the same ids). Either
special token can be switched off with ``None``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["Vocabulary", "CharVocabulary"]


def _check_limits(cls_name: str, max_tokens, min_freq, n_special: int) -> None:
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(
            max_tokens, (int, np.integer)) or max_tokens <= n_special):
        raise ValueError(f"{cls_name}: max_tokens counts the {n_special} special token(s) too, "
                         f"so it must be an integer greater than {n_special}; got "
                         f"{max_tokens!r}")
    if isinstance(min_freq, bool) or not isinstance(min_freq, (int, np.integer)) or min_freq < 1:
        raise ValueError(f"{cls_name}: min_freq must be a positive integer, got {min_freq!r}")


class Vocabulary:
    """A token <-> id table with a padding token at 0 and an OOV token at 1 (by default).

    Args:
        tokens: the learned tokens in id order. A list that already starts with the special
            tokens (as ``get_vocabulary()`` returns it) is accepted as well.
        mask_token: the padding token, id 0; ``None`` for none.
        oov_token: the token unknown words map to (id 1, or 0 without a mask token); ``None``
            makes unknown tokens an error.

    Example:
        >>> vocab = Vocabulary.build([["the", "cat"], ["the", "dog"]])
        >>> vocab.get_vocabulary()
        ['', '[UNK]', 'the', 'dog', 'cat']
        >>> vocab.encode(["the", "bird"])
        array([2, 1])
    """

    def __init__(self, tokens: Iterable[str] = (), mask_token: str | None = "",
                 oov_token: str | None = "[UNK]"):
        name = type(self).__name__
        if mask_token is not None and mask_token == oov_token:
            raise ValueError(f"{name}: mask_token and oov_token must differ, both are "
                             f"{mask_token!r}")
        self.mask_token, self.oov_token = mask_token, oov_token
        specials = [t for t in (mask_token, oov_token) if t is not None]
        tokens = list(tokens)
        if specials and tokens[:len(specials)] == specials:
            tokens = tokens[len(specials):]
        for t in tokens:
            if not isinstance(t, str):
                raise TypeError(f"{name}: tokens must be strings, got {type(t).__name__}: "
                                f"{t!r}")
        self._check_tokens(tokens)
        repeated = sorted(t for t, c in Counter(tokens).items() if c > 1)
        if repeated:
            raise ValueError(f"{name}: the vocabulary repeats the token(s) {repeated[:10]}; "
                             "each token must appear once")
        misplaced = [t for t in specials if t in tokens]
        if misplaced:
            raise ValueError(f"{name}: the special token(s) {misplaced} appear among the "
                             f"learned tokens; leave them out, or put them first in this "
                             f"order: {specials}")
        self._itos = specials + tokens
        self._stoi = {t: i for i, t in enumerate(self._itos)}

    def _check_tokens(self, tokens: list) -> None:
        """Hook for subclasses that restrict what a token may be."""

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_counts(cls, counts, max_tokens: int | None = None, min_freq: int = 1,
                    mask_token: str | None = "", oov_token: str | None = "[UNK]"):
        """The vocabulary of the most frequent tokens of ``counts``.

        Args:
            counts: a mapping token -> count (e.g. a ``collections.Counter``) or an
                iterable of (token, count) pairs.
            max_tokens: the largest vocabulary size, special tokens included (Keras's
                meaning); ``None`` keeps every token.
            min_freq: tokens seen fewer times are left out.
        """
        n_special = sum(t is not None for t in (mask_token, oov_token))
        _check_limits(cls.__name__, max_tokens, min_freq, n_special)
        items = counts.items() if isinstance(counts, Mapping) else counts
        merged: Counter = Counter()
        for token, count in items:
            merged[token] += int(count)
        for special in (mask_token, oov_token):
            merged.pop(special, None)
        kept = [(c, t) for t, c in merged.items() if c >= min_freq]
        # most frequent first, ties by the token in descending order (Keras's lexsort[::-1])
        kept.sort(reverse=True)
        if max_tokens is not None:
            kept = kept[:max_tokens - n_special]
        return cls([t for _, t in kept], mask_token=mask_token, oov_token=oov_token)

    @classmethod
    def build(cls, token_sequences: Iterable[Iterable[str]], max_tokens: int | None = None,
              min_freq: int = 1, mask_token: str | None = "", oov_token: str | None = "[UNK]"):
        """Count the tokens of ``token_sequences`` (e.g. lists of words) and keep the most
        frequent; see ``from_counts``."""
        counts: Counter = Counter()
        for seq in token_sequences:
            if isinstance(seq, str):
                raise TypeError(f"{cls.__name__}.build expects sequences of tokens (lists of "
                                f"strings), got the string {seq[:40]!r}; wrap it in a list "
                                "or split it first")
            counts.update(seq)
        return cls.from_counts(counts, max_tokens, min_freq, mask_token, oov_token)

    @classmethod
    def from_chars(cls, texts, max_tokens: int | None = None, min_freq: int = 1,
                   mask_token: str | None = "", oov_token: str | None = "[UNK]"):
        """A character vocabulary (a ``CharVocabulary``) of ``texts`` (a string or an
        iterable of strings), for character-level models."""
        if isinstance(texts, str):
            texts = [texts]
        counts: Counter = Counter()
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"Vocabulary.from_chars expects strings, got "
                                f"{type(text).__name__}: {text!r}")
            counts.update(text)
        return CharVocabulary.from_counts(counts, max_tokens, min_freq, mask_token, oov_token)

    # -- lookups -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token) -> bool:
        return token in self._stoi

    def __iter__(self):
        return iter(self._itos)

    def __getitem__(self, token: str) -> int:
        return self.lookup(token)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={len(self)}, mask_token={self.mask_token!r}, "
                f"oov_token={self.oov_token!r})")

    @property
    def mask_index(self) -> int | None:
        """Id of the padding token (0), or None without one."""
        return None if self.mask_token is None else 0

    @property
    def oov_index(self) -> int | None:
        """Id unknown tokens map to, or None without an OOV token."""
        return None if self.oov_token is None else self._stoi[self.oov_token]

    @property
    def num_special_tokens(self) -> int:
        return sum(t is not None for t in (self.mask_token, self.oov_token))

    def vocabulary_size(self) -> int:
        """The number of ids, special tokens included (Keras's name for ``len``)."""
        return len(self._itos)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """Tokens in id order; without the special tokens when asked."""
        return list(self._itos if include_special_tokens else
                    self._itos[self.num_special_tokens:])

    def lookup(self, token: str) -> int:
        """The id of ``token``; the OOV id when it is unknown."""
        i = self._stoi.get(token)
        if i is not None:
            return i
        if self.oov_token is None:
            raise KeyError(f"{type(self).__name__}: token {token!r} is not in the vocabulary "
                           "and there is no OOV token (oov_token=None) to map it to")
        return self._stoi[self.oov_token]

    def lookup_token(self, index: int) -> str:
        """The token of id ``index``."""
        i = int(index)
        if not 0 <= i < len(self._itos):
            raise IndexError(f"{type(self).__name__}: id {i} is out of range for a "
                             f"vocabulary of {len(self._itos)} tokens")
        return self._itos[i]

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of a sequence of tokens, as an int64 array."""
        return np.fromiter((self.lookup(t) for t in tokens), dtype=np.int64)

    def decode(self, ids, skip_mask: bool = True) -> list:
        """Tokens of a 1-D sequence of ids; padding ids are dropped unless ``skip_mask`` is
        False."""
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"{type(self).__name__}.decode expects a 1-D sequence of ids, "
                             f"got shape {ids.shape}")
        mask = self.mask_index if skip_mask else None
        return [self.lookup_token(i) for i in ids.tolist() if i != mask]

    # -- saving --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"tokens": self.get_vocabulary(include_special_tokens=False),
                "mask_token": self.mask_token, "oov_token": self.oov_token}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def save(self, path) -> None:
        """Write the vocabulary as JSON (atomically)."""
        from ..io import atomic_write

        payload = json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                             ensure_ascii=False)

        def write(tmp):
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(payload)

        atomic_write(os.fspath(path), write)

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by ``save``."""
        with open(os.fspath(path), encoding="utf-8") as f:
            data = json.load(f)
        kinds = {"Vocabulary": Vocabulary, "CharVocabulary": CharVocabulary}
        if not isinstance(data, dict) or data.get("class_name") not in kinds or not isinstance(
                data.get("config"), dict):
            raise ValueError(f"{os.fspath(path)!r} is not a saved shendu vocabulary")
        cfg = data["config"]
        if set(cfg) - {"tokens", "mask_token", "oov_token"}:
            raise ValueError(f"{os.fspath(path)!r}: unexpected vocabulary fields "
                             f"{sorted(set(cfg) - {'tokens', 'mask_token', 'oov_token'})}")
        return kinds[data["class_name"]](**cfg)


class CharVocabulary(Vocabulary):
    """A vocabulary of single characters: ``encode`` takes a string, ``decode`` returns one.

    Made by ``Vocabulary.from_chars(text)``; the special tokens are the same as a
    ``Vocabulary``'s (an unknown character decodes as the OOV token, padding as nothing).

    Example:
        >>> vocab = Vocabulary.from_chars("hello world")
        >>> vocab.decode(vocab.encode("hello"))
        'hello'
    """

    def _check_tokens(self, tokens: list) -> None:
        bad = [t for t in tokens if len(t) != 1]
        if bad:
            raise ValueError(f"CharVocabulary: every learned token must be one character, got "
                             f"{bad[:10]}")

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text``, as an int64 array."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocabulary.encode expects a string, got "
                            f"{type(text).__name__}: {text!r}")
        return super().encode(text)

    def decode(self, ids, skip_mask: bool = True) -> str:
        """The string of a 1-D sequence of ids."""
        return "".join(super().decode(ids, skip_mask))
