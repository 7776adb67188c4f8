"""``keras.layers``: the layers under their Keras names (same classes as ``shendu.nn``)."""

from ..nn.layers import (
    ELU,
    GELU,
    Activation,
    Dense,
    Dropout,
    Flatten,
    Identity,
    Input,
    InputLayer,
    Lambda,
    Layer,
    LeakyReLU,
    ReLU,
    Softmax,
)

__all__ = ["Dense", "Dropout", "Flatten", "Activation", "Input", "InputLayer", "Lambda",
           "Layer", "ReLU", "LeakyReLU", "ELU", "GELU", "Softmax", "Identity"]
