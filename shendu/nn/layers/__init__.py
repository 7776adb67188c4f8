"""Layers, one file per family; PyTorch and Keras forms share the same ops."""

from .activation import *  # noqa: F403
from .activation import __all__ as _act
from .base import Layer
from .conv import *  # noqa: F403
from .conv import __all__ as _conv
from .core import *  # noqa: F403
from .core import __all__ as _core
from .embedding import Embedding, KerasEmbedding
from .keras_recurrent import Bidirectional, KerasGRU, KerasLSTM, KerasSimpleRNN
from .noise import *  # noqa: F403
from .noise import __all__ as _noise
from .normalization import *  # noqa: F403
from .normalization import __all__ as _norm
from .pooling import *  # noqa: F403
from .pooling import __all__ as _pool
from .preprocessing import *  # noqa: F403
from .preprocessing import __all__ as _prep
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .reshaping import *  # noqa: F403
from .reshaping import __all__ as _reshape
from .tree import ChildSumTreeLSTM, RecursiveNN
from .wrappers import TimeDistributed

__all__ = ["Layer", *_core, *_act, *_conv, *_pool, *_norm, *_reshape, *_noise, *_prep, "RNN",
           "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "Embedding", "KerasEmbedding",
           "KerasSimpleRNN", "KerasLSTM", "KerasGRU", "Bidirectional", "TimeDistributed",
           "ChildSumTreeLSTM", "RecursiveNN"]
