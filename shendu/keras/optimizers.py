"""``keras.optimizers``: the optimizers with Keras's signature and defaults.

``Adam(learning_rate=0.001)`` (or the old ``Adam(lr=0.001)``) is made without parameters;
``compile`` hands it the model's. The update rules are those of ``shendu.optim``, except
``weight_decay``, which is Keras 3's: decoupled, ``w -= learning_rate * weight_decay * w``
before each update (for every optimizer, as ``torch.optim.AdamW`` does for Adam), instead of
PyTorch's L2 term added to the gradient.
"""

from __future__ import annotations

from .. import optim
from ..optim import _KERAS_DEFAULTS

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Optimizer", "get",
           "schedules"]

Optimizer = optim.Optimizer


def _keras_class(base, key: str):
    defaults = _KERAS_DEFAULTS[key]

    def __init__(self, learning_rate=None, weight_decay=None, **kwargs):
        lr = kwargs.pop("lr", None)
        opts = {k: v for k, v in defaults.items() if k != "lr"}
        opts.update(kwargs)
        if weight_decay is not None:
            opts["weight_decay"] = weight_decay
        opts["lr"] = learning_rate if learning_rate is not None else (
            lr if lr is not None else defaults["lr"])
        opts.pop("name", None)
        base.__init__(self, None, **opts)

    def _update(self, p, grad, state, group):
        wd = group["weight_decay"]
        if wd:  # Keras 3: the weights decay directly, before the update, by lr * wd
            p.data *= 1 - group["lr"] * wd
        base._update(self, p, grad, state, group)

    def _grad(self, xp, p_data, grad, maximize, weight_decay):
        return base._grad(self, xp, p_data, grad, maximize, 0.0)  # no L2 term: decoupled

    body = {"__init__": __init__, "__module__": __name__,
            "__doc__": f"Keras's {base.__name__} (learning_rate {defaults['lr']} by default; "
                       "weight_decay decoupled, as in Keras 3)."}
    if base is not optim.AdamW:  # AdamW decouples its weight decay already, the same way
        body.update(_update=_update, _grad=_grad)
    return type(base.__name__, (base,), body)


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
