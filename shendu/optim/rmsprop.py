"""RMSprop (PyTorch's update rule, with momentum and the centered variant)."""

from __future__ import annotations

from ..backend import array_module
from .adam import _lerp_
from .optimizer import Optimizer, _lr_args

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), exactly as ``torch.optim.RMSprop``.

    ``v = alpha * v + (1 - alpha) * g * g``; the update divides the gradient by
    ``sqrt(v) + eps`` (``sqrt(v - mean(g)**2) + eps`` when ``centered``) and, with
    ``momentum``, goes through a buffer ``b = momentum * b + g / (sqrt(v) + eps)``.

    Args:
        params: iterable of Tensors or parameter-group dicts (see ``Optimizer``); a number here
            is taken as the learning rate and the parameters come later.
        lr: learning rate (default 1e-2, torch's; ``learning_rate=`` is the Keras spelling).
        alpha: smoothing constant of the squared-gradient average (default 0.99; Keras
            ``rho=``).
        eps: added to the denominator (default 1e-8; Keras ``epsilon=``).
        weight_decay: L2 penalty added to the gradient (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance instead of its second
            moment.
        maximize: maximize the objective instead of minimizing it.
        clipnorm, clipvalue, global_clipnorm: Keras gradient clipping (see ``Optimizer``).
        foreach: accepted for PyTorch compatibility; changes nothing.

    Example:
        >>> opt = RMSprop(model.parameters(), lr=1e-3, momentum=0.9, centered=True)
    """

    def __init__(self, params=None, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False, learning_rate: float | None = None,
                 rho: float | None = None, epsilon: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, foreach=None):
        params, lr = _lr_args("RMSprop", params, lr, 1e-2, learning_rate)
        defaults = dict(lr=lr, alpha=alpha if rho is None else rho,
                        eps=eps if epsilon is None else epsilon, weight_decay=weight_decay,
                        momentum=momentum, centered=bool(centered), maximize=bool(maximize))
        super().__init__(params, defaults, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm)

    def _checks(self):
        return self._COMMON_CHECKS + [("alpha", 0.0, None, False), ("eps", 0.0, None, False),
                                    ("momentum", 0.0, None, False)]

    def _update(self, p, grad, state, group):
        d = p.data
        xp = array_module(d)
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(d)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(d)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(d)
        state["step"] += 1
        g = self._grad(xp, d, grad, group["maximize"], group["weight_decay"])
        v = state["square_avg"]
        t = self._tmp(d, 1)
        v *= alpha
        xp.multiply(g, 1 - alpha, out=t)  # torch's addcmul: (value * g) * g
        t *= g
        v += t
        avg = self._tmp(d, 2)
        if group["centered"]:
            ga = state["grad_avg"]
            _lerp_(xp, ga, g, 1 - alpha, t)
            xp.multiply(ga, -1.0, out=t)
            t *= ga
            xp.add(v, t, out=avg)
            xp.sqrt(avg, out=avg)
        else:
            xp.sqrt(v, out=avg)
        avg += eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            xp.divide(g, avg, out=t)
            buf += t
            xp.multiply(buf, -group["lr"], out=t)
        else:
            xp.multiply(g, -group["lr"], out=t)  # torch's addcdiv: (value * g) / avg
            t /= avg
        d += t
