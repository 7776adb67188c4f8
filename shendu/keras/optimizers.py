"""``keras.optimizers``: the optimizers with Keras's signature and defaults.

``Adam(learning_rate=0.001)`` (or the old ``Adam(lr=0.001)``) is made without parameters;
``compile`` hands it the model's. The update rules are those of ``shendu.optim``.
"""

from __future__ import annotations

from .. import optim
from ..optim import _KERAS_DEFAULTS

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Optimizer", "get",
           "schedules"]

Optimizer = optim.Optimizer


def _keras_class(base, key: str):
    defaults = _KERAS_DEFAULTS[key]

    def __init__(self, learning_rate=None, **kwargs):
        lr = kwargs.pop("lr", None)
        opts = {k: v for k, v in defaults.items() if k != "lr"}
        opts.update(kwargs)
        opts["lr"] = learning_rate if learning_rate is not None else (
            lr if lr is not None else defaults["lr"])
        opts.pop("name", None)
        base.__init__(self, None, **opts)

    return type(base.__name__, (base,), {"__init__": __init__, "__module__": __name__,
                                         "__doc__": f"Keras's {base.__name__} (learning_rate "
                                                    f"{defaults['lr']} by default)."})


SGD = _keras_class(optim.SGD, "sgd")
Adam = _keras_class(optim.Adam, "adam")
AdamW = _keras_class(optim.AdamW, "adamw")
RMSprop = _keras_class(optim.RMSprop, "rmsprop")
Adagrad = _keras_class(optim.Adagrad, "adagrad")
Adadelta = _keras_class(optim.Adadelta, "adadelta")


def get(identifier, **kwargs):
    return optim.get(identifier, **kwargs)


class schedules:  # noqa: N801 - Keras's module name
    """Learning-rate schedules usable as ``LearningRateScheduler`` functions."""

    class ExponentialDecay:
        def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
            self.lr0, self.steps, self.rate = initial_learning_rate, decay_steps, decay_rate
            self.staircase = staircase

        def __call__(self, step):
            p = step / self.steps
            return self.lr0 * self.rate ** (int(p) if self.staircase else p)
