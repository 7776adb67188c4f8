"""``shendu.keras``: the Keras-compatible facade (``import shendu as tf; tf.keras...``).

Thin adapters over ``shendu.nn``, ``shendu.optim`` and ``shendu.models`` with Keras's names,
argument spellings and defaults.
"""

from . import (
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    regularizers,
    utils,
)
from .models import Model, Sequential, load_model

__all__ = ["activations", "backend", "callbacks", "constraints", "datasets", "initializers",
           "layers", "losses", "metrics", "models", "optimizers", "preprocessing",
           "regularizers", "utils", "Model",
           "Sequential", "load_model", "Input"]

Input = layers.Input
