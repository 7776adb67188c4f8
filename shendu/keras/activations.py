"""``keras.activations``: activation functions by name."""

from ..nn.activations import ACTIVATIONS, get, serialize

__all__ = ["get", "serialize", *ACTIVATIONS]

globals().update(ACTIVATIONS)
