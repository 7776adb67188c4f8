"""``shendu.nn.utils.rnn``: variable-length batches for the recurrent layers."""

from ..layers.recurrent import (
    PackedSequence,
    pack_padded_sequence,
    pad_packed_sequence,
    pad_sequence,
)

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence"]
