"""``keras.models``: Sequential, Model and load_model."""

from ..io import load_model
from ..models import Model, Sequential

__all__ = ["Sequential", "Model", "load_model"]
