"""Embedding layers: PyTorch's ``Embedding(num_embeddings, embedding_dim, padding_idx)`` and
Keras's ``Embedding(input_dim, output_dim, mask_zero)``, one primitive underneath."""

from __future__ import annotations

import numpy as np

from ...backend import get_default_dtype
from ...errors import LayerIndexError, LayerTypeError
from ...ops import movement as M
from ...tensor import as_tensor_data
from .. import init as _init
from ..parameter import Parameter
from .base import Layer

__all__ = ["Embedding", "KerasEmbedding"]


def _indices(layer, x, n: int) -> np.ndarray:
    idx = as_tensor_data(x)
    if idx.dtype.kind == "f":
        if not np.all(idx == np.round(idx)):
            hint = ""
            if idx.ndim >= 2 and np.all((idx == 0) | (idx == 1)):
                hint = ("these look like one-hot vectors: pass the token ids instead "
                        "(x.argmax(-1)), or use a Linear/Dense layer on one-hot inputs")
            raise LayerTypeError(layer, f"expects integer indices, got fractional values of "
                                 f"dtype {idx.dtype} in an input of shape {tuple(idx.shape)}",
                                 hint)
        idx = idx.astype(np.int64)
    elif idx.dtype.kind not in "iu":
        raise LayerTypeError(layer, f"expects integer indices, got dtype {idx.dtype} in an "
                             f"input of shape {tuple(idx.shape)}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        hint = (f"the table needs at least {int(idx.max()) + 1} rows for this input "
                f"(num_embeddings / input_dim = vocabulary size)" if bad >= n else
                "negative ids are not allowed")
        raise LayerIndexError(layer, f"index {bad} is out of range for {n} embeddings "
                              f"(valid: 0..{n - 1}), in an input of shape {tuple(idx.shape)}",
                              hint)
    return idx


class Embedding(Layer):
    """A lookup table: integer indices (*) -> vectors (*, embedding_dim).

    ``padding_idx``: that row starts at zero and gets no gradient (PyTorch).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype=None, **kwargs):
        super().__init__(**kwargs)
        if num_embeddings <= 0 or embedding_dim <= 0:
            raise ValueError(f"Embedding: sizes must be positive, got {num_embeddings}, "
                             f"{embedding_dim}")
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim),
                                         dtype or get_default_dtype()))
        _init.normal_(self.weight)  # PyTorch's N(0, 1)
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    def forward(self, x):
        idx = _indices(self, x, self.num_embeddings)
        return M.Embedding.apply(self.weight, idx, padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"

    def get_config(self) -> dict:
        return {**super().get_config(), "num_embeddings": self.num_embeddings,
                "embedding_dim": self.embedding_dim, "padding_idx": self.padding_idx}


class KerasEmbedding(Layer):
    """Keras's ``Embedding(input_dim, output_dim, mask_zero=False)``.

    With ``mask_zero=True`` index 0 is padding: ``compute_mask`` marks the real steps, and
    the recurrent layers after it in a Sequential skip the padded ones.
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 mask_zero: bool = False, input_length=None, **kwargs):
        super().__init__(**kwargs)
        self.input_dim, self.output_dim, self.mask_zero = int(input_dim), int(output_dim), \
            mask_zero
        init = _init.get(embeddings_initializer)
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), init)
        self.built = True

    def forward(self, x):
        idx = _indices(self, x, self.input_dim)
        return M.Embedding.apply(self.embeddings, idx)

    def compute_mask(self, x, mask=None):
        if not self.mask_zero:
            return None
        return as_tensor_data(x) != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim, "mask_zero": self.mask_zero}


