"""Batching variable-length sequences: ``pad_sequences`` with Keras's semantics."""

from __future__ import annotations

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(sequences, maxlen: int | None = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0) -> np.ndarray:
    """Pad (and cut) a list of sequences to one length: a (num_samples, maxlen, ...) array.

    The semantics of ``keras.utils.pad_sequences``: both defaults are ``"pre"``, i.e. short
    sequences are padded at the front and long ones lose their first elements, so the most
    recent steps sit at the end, next to the prediction.

    Args:
        sequences: a list (or other sized iterable) of sequences; each is a list or array of
            numbers, or of equal-shaped arrays for multi-feature steps.
        maxlen: the output length; by default the longest sequence's length.
        dtype: dtype of the result (use ``object`` for variable-length strings).
        padding: ``"pre"`` pads before each sequence, ``"post"`` after it.
        truncating: ``"pre"`` drops the first elements of a long sequence, ``"post"`` the
            last ones.
        value: the padding value.

    Returns:
        A NumPy array of shape (len(sequences), maxlen) + the shape of one step.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
        array([[2, 3],
               [0, 4]], dtype=int32)
    """
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding must be "pre" or "post", got {padding!r}')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating must be "pre" or "post", got '
                         f"{truncating!r}")
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: sequences must be a list of sequences, got "
                         f"{type(sequences).__name__}")
    if maxlen is not None:
        if isinstance(maxlen, bool) or int(maxlen) != maxlen or maxlen < 0:
            raise ValueError(f"pad_sequences: maxlen must be a non-negative integer or None, "
                             f"got {maxlen!r}")
        maxlen = int(maxlen)
    lengths = []
    sample_shape = None  # the shape of one step, from the first non-empty sequence
    for i, s in enumerate(sequences):
        if isinstance(s, (str, bytes)) or not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: sequences must be a list of sequences (lists or "
                             f"arrays); element {i} is {type(s).__name__}: {s!r}")
        lengths.append(len(s))
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    dtype = np.dtype(dtype)
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError(f"pad_sequences: dtype {dtype} cannot hold the string padding value "
                         f"{value!r}; use dtype=object for variable-length strings")
    out = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: the steps of sequence {i} have shape "
                             f"{trunc.shape[1:]}, expected {tuple(sample_shape)} (the shape "
                             "of the first non-empty sequence's steps)")
        if padding == "post":
            out[i, :len(trunc)] = trunc
        else:
            out[i, maxlen - len(trunc):] = trunc
    return out
