"""Keras's ``TextVectorization``: strings -> token ids (or bag-of-words vectors).

Each string is standardized (lowercased, punctuation stripped), split (on whitespace), joined
into n-grams when asked, then looked up in a vocabulary learned by ``adapt``: id 0 is padding
(``"int"`` mode only), the next id is the OOV token ``"[UNK]"``, then the tokens by falling
frequency, ties broken by the token in descending order, as in Keras.
"""

from __future__ import annotations

import string
from collections import Counter

import numpy as np

from ..nn.layers.base import Layer
from ..tensor import Tensor
from .vocab import Vocabulary

__all__ = ["TextVectorization"]

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_MODES = ("int", "multi_hot", "count", "tf_idf")
_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}
# Keras strips exactly the ASCII punctuation characters (string.punctuation)
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_OOV = "[UNK]"


def _ngrams(tokens: list, widths: tuple) -> list:
    """All n-grams of each width, grouped by width (as tf.strings.ngrams orders them)."""
    out = []
    for w in widths:
        out.extend(" ".join(tokens[i:i + w]) for i in range(len(tokens) - w + 1))
    return out


class TextVectorization(Layer):
    """Map a batch of strings to token ids (``output_mode="int"``) or to one vector per
    string (``"multi_hot"``, ``"count"``, ``"tf_idf"``).

    Args:
        max_tokens: the largest vocabulary, the padding and OOV tokens included (so ``"int"``
            mode learns at most ``max_tokens - 2`` tokens, the other modes
            ``max_tokens - 1``).
        standardize: ``"lower_and_strip_punctuation"``, ``"lower"``, ``"strip_punctuation"``,
            ``None`` or a callable str -> str.
        split: ``"whitespace"``, ``"character"``, ``None`` (the whole string is one token) or
            a callable str -> list of str.
        ngrams: ``None``, an int n (n-grams of widths 1..n) or a tuple of widths.
        output_mode: ``"int"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``"int"`` mode only: cut or pad (with 0, at the end) every
            sequence to this length; by default the batch is padded to its longest sequence.
        pad_to_max_tokens: in the vector modes, make the vectors ``max_tokens`` long even when
            the vocabulary is smaller.
        vocabulary: a list of tokens instead of ``adapt``.
        idf_weights: ``"tf_idf"`` mode with ``vocabulary``: the weight of each token.

    Shape:
        (batch,) strings -> (batch, sequence_length) int64 ids, or (batch, depth) float32.

    Unlike Keras's, the lowercasing covers all of Unicode (``str.lower``), and ``adapt`` may
    replace a vocabulary given at construction.

    Example:
        >>> layer = TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
        >>> layer(["foo qux bar", "qux baz"]).numpy()
        array([[4, 1, 3, 0],
               [1, 2, 0, 0]])
    """

    def __init__(self, max_tokens: int | None = None,
                 standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode: str = "int", output_sequence_length: int | None = None,
                 pad_to_max_tokens: bool = False, vocabulary=None, idf_weights=None,
                 sparse: bool = False, ragged: bool = False, encoding: str = "utf-8",
                 **kwargs):
        super().__init__(**kwargs)
        me = f"TextVectorization '{self.name}'"
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(
                max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise ValueError(f"{me}: max_tokens must be an integer greater than 1 or None, "
                             f"got {max_tokens!r}")
        if standardize not in (None, *_STANDARDIZE) and not callable(standardize):
            raise ValueError(f"{me}: standardize must be one of {_STANDARDIZE}, None or a "
                             f"callable, got {standardize!r}")
        if split not in (None, *_SPLIT) and not callable(split):
            raise ValueError(f"{me}: split must be one of {_SPLIT}, None or a callable, got "
                             f"{split!r}")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or isinstance(ngrams, int) and not isinstance(ngrams, bool)
                and ngrams > 0 or isinstance(ngrams, tuple) and ngrams and all(
                    isinstance(n, int) and n > 0 for n in ngrams)):
            raise ValueError(f"{me}: ngrams must be None, a positive integer or a tuple of "
                             f"them, got {ngrams!r}")
        output_mode = _ALIASES.get(output_mode, output_mode)
        if output_mode not in _MODES:
            raise ValueError(f"{me}: output_mode must be one of {_MODES}, got "
                             f"{output_mode!r}")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(f"{me}: output_sequence_length applies to output_mode='int' "
                                 f"only, got output_mode={output_mode!r}")
            if isinstance(output_sequence_length, bool) or not isinstance(
                    output_sequence_length, (int, np.integer)) or output_sequence_length < 1:
                raise ValueError(f"{me}: output_sequence_length must be a positive integer "
                                 f"or None, got {output_sequence_length!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{me}: pad_to_max_tokens=True needs max_tokens")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{me}: idf_weights apply to output_mode='tf_idf' only, got "
                             f"output_mode={output_mode!r}")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{me}: output_mode='tf_idf' with a vocabulary needs idf_weights")
        if sparse or ragged:
            raise NotImplementedError(f"{me}: sparse and ragged outputs are not supported; "
                                      "outputs are dense (padded) arrays")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.standardize, self.split, self.ngrams = standardize, split, ngrams
        self._widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.encoding = encoding
        self._vocab = self._new_vocab(())
        self._idf = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    def _new_vocab(self, tokens) -> Vocabulary:
        mask = "" if self.output_mode == "int" else None  # padding exists in int mode only
        return Vocabulary(tokens, mask_token=mask, oov_token=_OOV)

    # -- text -> tokens --------------------------------------------------------------------------
    def _tokens(self, text) -> list:
        if isinstance(text, bytes):
            text = text.decode(self.encoding)
        if not isinstance(text, str):
            raise TypeError(f"TextVectorization '{self.name}' expects strings, got "
                            f"{type(text).__name__}: {text!r}")
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.lower()
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = text.translate(_PUNCTUATION)
        elif callable(self.standardize):
            text = self.standardize(text)
        if self.split is None:
            tokens = [text]
        elif self.split == "whitespace":
            tokens = text.split()
        elif self.split == "character":
            tokens = list(text)
        else:
            tokens = list(self.split(text))
        return _ngrams(tokens, self._widths) if self._widths else tokens

    def _batch(self, inputs) -> tuple[list, bool]:
        """The strings of a batch and whether the input was a single string."""
        if isinstance(inputs, Tensor):
            inputs = inputs.data
        if isinstance(inputs, (str, bytes)):
            return [inputs], True
        arr = np.asarray(inputs, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 1:  # Keras's (batch, 1) string input
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"TextVectorization '{self.name}' expects a batch of strings of "
                             f"shape (batch,) or (batch, 1), got shape {arr.shape}")
        return arr.tolist(), False

    # -- vocabulary ----------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps: int | None = None) -> None:
        """Learn the vocabulary (and, in ``"tf_idf"`` mode, the document frequencies) from
        ``data``: a list or array of strings, or an iterable of such batches."""
        if isinstance(data, (str, bytes, list, tuple, np.ndarray, Tensor)):
            batches = [data]
        elif hasattr(data, "__iter__"):
            batches = data
        else:
            raise TypeError(f"TextVectorization '{self.name}'.adapt expects strings or an "
                            f"iterable of batches of strings, got {type(data).__name__}")
        counts: Counter = Counter()
        doc_counts: Counter = Counter()
        n_docs = 0
        for k, batch in enumerate(batches):
            if steps is not None and k >= steps:
                break
            for text in self._batch(batch)[0]:
                tokens = self._tokens(text)
                counts.update(tokens)
                doc_counts.update(set(tokens))
                n_docs += 1
        counts.pop("", None)  # the padding token is never learned, in any mode
        vocab = Vocabulary.from_counts(counts, self.max_tokens, mask_token=self._vocab.mask_token,
                                       oov_token=_OOV)
        self._vocab = vocab
        if self.output_mode == "tf_idf":
            learned = vocab.get_vocabulary(include_special_tokens=False)
            df = np.array([doc_counts[t] for t in learned], dtype=np.float64)
            idf = np.log(1.0 + n_docs / (1.0 + df))
            self._set_idf(idf, front=len(vocab) - len(learned))

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Use ``vocabulary`` (a list of tokens, optionally starting with the special tokens)
        and, in ``"tf_idf"`` mode, its ``idf_weights`` (one per listed token)."""
        me = f"TextVectorization '{self.name}'"
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{me}: output_mode='tf_idf' needs idf_weights with the vocabulary")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{me}: idf_weights apply to output_mode='tf_idf' only")
        tokens = list(np.asarray(vocabulary, dtype=object).tolist())
        if not tokens:
            raise ValueError(f"{me}: cannot set an empty vocabulary")
        if self.output_mode != "int" and "" in tokens:
            raise ValueError(f"{me}: the padding token '' cannot be part of the vocabulary in "
                             f"output_mode={self.output_mode!r}")
        try:
            vocab = self._new_vocab(tokens)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{me}: {e}") from None
        if self.max_tokens is not None and len(vocab) > self.max_tokens:
            raise ValueError(f"{me}: the vocabulary has {len(vocab)} tokens with the special "
                             f"ones, more than max_tokens={self.max_tokens}")
        self._vocab = vocab
        if idf_weights is not None:
            idf = np.asarray(idf_weights, dtype=np.float64)
            if idf.ndim != 1 or len(idf) != len(tokens):
                raise ValueError(f"{me}: idf_weights must be 1-D with one weight per token of "
                                 f"the vocabulary ({len(tokens)}), got shape {idf.shape}")
            self._set_idf(idf, front=len(vocab) - len(tokens))

    def _set_idf(self, idf: np.ndarray, front: int) -> None:
        # the special tokens without a weight of their own get the mean weight, as in Keras
        fill = float(idf.mean()) if len(idf) else 0.0
        self._idf = np.concatenate([np.full(front, fill), idf]).astype(np.float32)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens in id order (with ``""`` and ``"[UNK]"`` first unless told not to)."""
        return self._vocab.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The number of ids, the padding and OOV tokens included."""
        return len(self._vocab)

    @property
    def vocabulary(self) -> Vocabulary:
        """The learned ``Vocabulary`` (to decode ids, for example)."""
        return self._vocab

    # -- strings -> numbers --------------------------------------------------------------------
    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else len(self._vocab)

    def forward(self, inputs):
        texts, scalar = self._batch(inputs)
        vocab = self._vocab
        if self.output_mode == "int":
            seqs = [vocab.encode(self._tokens(t)) for t in texts]
            length = self.output_sequence_length
            if length is None:
                length = max((len(s) for s in seqs), default=0)
            out = np.zeros((len(seqs), length), dtype=np.int64)
            for i, s in enumerate(seqs):
                s = s[:length]
                out[i, :len(s)] = s
            return Tensor(out[0] if scalar else out)
        if len(vocab) == vocab.num_special_tokens and not self.pad_to_max_tokens:
            raise RuntimeError(f"TextVectorization '{self.name}': output_mode="
                               f"{self.output_mode!r} needs a vocabulary first; call adapt() "
                               "or pass vocabulary=")
        depth = self._depth()
        out = np.zeros((len(texts), depth), dtype=np.float32)
        for i, t in enumerate(texts):
            ids = vocab.encode(tok for tok in self._tokens(t) if tok != "")  # "" is dropped
            out[i] = np.bincount(ids, minlength=depth)[:depth]
        if self.output_mode == "multi_hot":
            np.minimum(out, 1.0, out=out)
        elif self.output_mode == "tf_idf":
            idf = np.zeros(depth, np.float32)
            if self._idf is not None:
                idf[:len(self._idf)] = self._idf[:depth]
            out *= idf
        return Tensor(out[0] if scalar else out)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        return (input_shape[0], self._depth())

    def get_config(self) -> dict:
        """Keras's fields; the vocabulary (and idf weights) learned by ``adapt`` are included
        so that ``TextVectorization(**config)`` rebuilds the same layer."""
        learned = len(self._vocab) > self._vocab.num_special_tokens
        ngrams = list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams
        return {**super().get_config(), "max_tokens": self.max_tokens,
                "standardize": self.standardize, "split": self.split, "ngrams": ngrams,
                "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary": self.get_vocabulary() if learned else None,
                "idf_weights": (self._idf.tolist() if learned and self._idf is not None
                                else None),
                "encoding": self.encoding}
