"""``shendu.nn``: Module, Parameter, layers, losses, initializers and ``functional`` (F).

Example:
    >>> import shendu.nn as nn
    >>> net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
"""

from . import activations, functional, init, utils
from .containers import ModuleDict, ModuleList, Sequential
from .layers import *  # noqa: F403
from .layers import __all__ as _layers_all
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .parameter import Parameter
from .tree import Tree, TreeBatch, TreeLevel, batch_trees

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "functional", "init", "utils",
    "Tree", "TreeBatch", "TreeLevel", "batch_trees",
    "activations", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss", *_layers_all,
]
