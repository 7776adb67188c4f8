"""Adadelta (PyTorch's update rule)."""

from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, _lr_args

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), exactly as ``torch.optim.Adadelta``.

    ``v = rho * v + (1 - rho) * g * g``, ``delta = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho * u + (1 - rho) * delta * delta`` and ``p -= lr * delta``.

    Args:
        params: iterable of Tensors or parameter-group dicts (see ``Optimizer``); a number here
            is taken as the learning rate and the parameters come later.
        lr: scale of the update (default 1.0, torch's; ``learning_rate=`` is the Keras
            spelling).
        rho: decay rate of the running averages (default 0.9).
        eps: added inside the square roots (default 1e-6; Keras ``epsilon=``).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: maximize the objective instead of minimizing it.
        clipnorm, clipvalue, global_clipnorm: Keras gradient clipping (see ``Optimizer``).
        foreach: accepted for PyTorch compatibility; changes nothing.

    Example:
        >>> opt = Adadelta(model.parameters())
    """

    def __init__(self, params=None, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False,
                 learning_rate: float | None = None, epsilon: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, foreach=None):
        params, lr = _lr_args("Adadelta", params, lr, 1.0, learning_rate)
        defaults = dict(lr=lr, rho=rho, eps=eps if epsilon is None else epsilon,
                        weight_decay=weight_decay, maximize=bool(maximize))
        super().__init__(params, defaults, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm)

    def _checks(self):
        return self._COMMON_CHECKS + [("rho", 0.0, 1.0, False), ("eps", 0.0, None, False)]

    def _update(self, p, grad, state, group):
        d = p.data
        xp = array_module(d)
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(d)
            state["acc_delta"] = xp.zeros_like(d)
        state["step"] += 1
        g = self._grad(xp, d, grad, group["maximize"], group["weight_decay"])
        v, u = state["square_avg"], state["acc_delta"]
        t = self._tmp(d, 1)
        v *= rho
        xp.multiply(g, 1 - rho, out=t)  # torch's addcmul: (value * g) * g
        t *= g
        v += t
        std = self._tmp(d, 2)
        xp.add(v, eps, out=std)
        xp.sqrt(std, out=std)
        delta = self._tmp(d, 3)
        xp.add(u, eps, out=delta)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        xp.multiply(delta, 1 - rho, out=t)
        t *= delta
        u += t
        delta *= -group["lr"]
        d += delta
