"""Stochastic gradient descent, with momentum and Nesterov momentum (PyTorch's update rule)."""

from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, _lr_args

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, exactly as ``torch.optim.SGD``.

    With gradient ``g`` (negated when ``maximize``, plus ``weight_decay * p``), momentum keeps
    ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on the first step) and the update is
    ``p -= lr * (g + momentum * b if nesterov else b)``.

    Args:
        params: iterable of Tensors or parameter-group dicts (see ``Optimizer``); a number here
            is taken as the learning rate (Keras ``SGD(0.01)``) and the parameters come later.
        lr: learning rate (default 1e-3, torch's; ``learning_rate=`` is the Keras spelling).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing it.
        clipnorm, clipvalue, global_clipnorm: Keras gradient clipping (see ``Optimizer``).
        foreach, fused: accepted for PyTorch compatibility; shendu has one
            implementation, so they change nothing.

    Example:
        >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    def __init__(self, params=None, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False, learning_rate: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, foreach=None, fused=None):
        params, lr = _lr_args("SGD", params, lr, 1e-3, learning_rate)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=bool(nesterov),
                        maximize=bool(maximize))
        super().__init__(params, defaults, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm)

    def _checks(self):
        return self._COMMON_CHECKS + [("momentum", 0.0, None, False),
                                    ("dampening", float("-inf"), None, False)]

    def _check_options(self, group, where):
        super()._check_options(group, where)
        if group.get("nesterov") and (group.get("momentum", 0) <= 0
                                      or group.get("dampening", 0) != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                             f"momentum={group.get('momentum')}, "
                             f"dampening={group.get('dampening')} in {where}")

    def _update(self, p, grad, state, group):
        d = p.data
        xp = array_module(d)
        g = self._grad(xp, d, grad, group["maximize"], group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                damp = 1 - group["dampening"]
                if damp == 1:
                    buf += g
                else:
                    t = self._tmp(d, 1)
                    xp.multiply(g, damp, out=t)
                    buf += t
            if group["nesterov"]:
                t = self._tmp(d, 1)
                xp.multiply(buf, momentum, out=t)
                t += g
                g = t
            else:
                g = buf
        step = self._tmp(d, 2)
        xp.multiply(g, -group["lr"], out=step)
        d += step
