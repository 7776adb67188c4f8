"""Optimizers, learning-rate schedulers and gradient clipping (``torch.optim``'s API).

Every optimizer follows PyTorch's update rule exactly and also accepts the Keras spellings
(``learning_rate=``, ``beta_1=``, ``epsilon=``, ``clipnorm=``, ...), so both styles of code run.
``get("adam")`` resolves the strings that Keras' ``compile(optimizer="adam")`` uses.

Example:
    >>> import shendu.optim as optim
    >>> opt = optim.Adam(model.parameters(), lr=1e-3)
    >>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
"""

from __future__ import annotations

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler",
    "clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_", "get",
]

_CLASSES = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
            "adadelta": Adadelta}

# Keras' defaults for optimizers named by a string (compile(optimizer="adam")); the classes keep
# PyTorch's defaults. The update rules are PyTorch's in both cases.
_KERAS_DEFAULTS = {
    "sgd": dict(lr=0.01),
    "adam": dict(lr=0.001, eps=1e-7),
    "adamw": dict(lr=0.001, eps=1e-7, weight_decay=0.004),
    "rmsprop": dict(lr=0.001, alpha=0.9, eps=1e-7),
    "adagrad": dict(lr=0.001, initial_accumulator_value=0.1, eps=1e-7),
    "adadelta": dict(lr=0.001, rho=0.95, eps=1e-7),
}


def get(identifier, **kwargs) -> Optimizer:
    """Resolve an optimizer given by name, class, Keras config dict or instance.

    A string ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", any case) gives an
    instance with Keras' default hyperparameters (e.g. Adam lr=0.001, eps=1e-7; SGD lr=0.01),
    overridden by ``kwargs``; a class is instantiated with ``kwargs`` (PyTorch defaults); an
    instance is returned as it is. Without ``params=`` in ``kwargs`` the optimizer has no
    parameters yet; add them with ``opt.add_param_group({"params": model.parameters()})``.

    Args:
        identifier: the name, class, ``{"class_name": ..., "config": {...}}`` dict or instance.
        **kwargs: options of the optimizer (``params=``, ``learning_rate=``, ...).

    Example:
        >>> opt = get("adam", params=model.parameters())
        >>> opt = get("SGD", learning_rate=0.1, momentum=0.9)
    """
    if isinstance(identifier, Optimizer):
        if kwargs:
            raise ValueError(f"optim.get: got an optimizer instance and options {sorted(kwargs)}"
                             "; options can only be given with a name or a class")
        return identifier
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(f"optim.get: a dict identifier needs 'class_name' (and 'config'), "
                             f"got keys {sorted(identifier)}")
        kwargs = {**identifier.get("config", {}), **kwargs}
        identifier = identifier["class_name"]
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _CLASSES:
            raise ValueError(f"unknown optimizer {identifier!r}; expected one of "
                             f"{sorted(_CLASSES)} (any case), an Optimizer class or instance")
        options = dict(_KERAS_DEFAULTS[key])
        if "learning_rate" in kwargs and "lr" not in kwargs:
            kwargs["lr"] = kwargs.pop("learning_rate")
        options.update(kwargs)
        return _CLASSES[key](**options)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier(**kwargs)
    raise TypeError(f"optim.get: could not interpret {identifier!r} as an optimizer; give a name "
                    f"such as 'adam', an Optimizer class or an instance")
