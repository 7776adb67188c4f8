"""``keras.initializers``."""

from ..nn.init import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    Zeros,
    get,
)

__all__ = ["Initializer", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
           "LecunUniform", "LecunNormal", "RandomUniform", "RandomNormal", "TruncatedNormal",
           "Zeros", "Ones", "Constant", "Orthogonal", "Identity", "get"]
