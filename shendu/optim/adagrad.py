"""Adagrad (PyTorch's update rule)."""

from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, _lr_args

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), exactly as ``torch.optim.Adagrad``.

    The squared gradients add up in ``s`` (starting at ``initial_accumulator_value``) and the
    update is ``p -= clr * g / (sqrt(s) + eps)`` with ``clr = lr / (1 + (t - 1) * lr_decay)``.

    Args:
        params: iterable of Tensors or parameter-group dicts (see ``Optimizer``); a number here
            is taken as the learning rate and the parameters come later.
        lr: learning rate (default 1e-2, torch's; ``learning_rate=`` is the Keras spelling).
        lr_decay: learning rate decay per step (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: starting value of the sum of squares (default 0).
        eps: added to the denominator (default 1e-10; Keras ``epsilon=``).
        maximize: maximize the objective instead of minimizing it.
        clipnorm, clipvalue, global_clipnorm: Keras gradient clipping (see ``Optimizer``).
        foreach, fused: accepted for PyTorch compatibility; they change nothing.

    Example:
        >>> opt = Adagrad(model.parameters(), lr=0.1, initial_accumulator_value=0.1)
    """

    def __init__(self, params=None, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False,
                 learning_rate: float | None = None, epsilon: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, foreach=None, fused=None):
        params, lr = _lr_args("Adagrad", params, lr, 1e-2, learning_rate)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps if epsilon is None else epsilon,
                        weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=bool(maximize))
        super().__init__(params, defaults, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm)

    def _checks(self):
        return self._COMMON_CHECKS + [("lr_decay", 0.0, None, False), ("eps", 0.0, None, False),
                                    ("initial_accumulator_value", 0.0, None, False)]

    def _init_group(self, group):
        # torch creates Adagrad's state with the optimizer, so state_dict() has it from the start
        for p in group["params"]:
            self._init_state(p, self.state[p], group)

    @staticmethod
    def _init_state(p, state, group):
        xp = array_module(p.data)
        state["step"] = 0
        state["sum"] = xp.full_like(p.data, group["initial_accumulator_value"])

    def _update(self, p, grad, state, group):
        d = p.data
        xp = array_module(d)
        if not state:
            self._init_state(p, state, group)
        state["step"] += 1
        g = self._grad(xp, d, grad, group["maximize"], group["weight_decay"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        t = self._tmp(d, 1)
        xp.multiply(g, g, out=t)
        s += t
        std = self._tmp(d, 2)
        xp.sqrt(s, out=std)
        std += group["eps"]
        xp.multiply(g, -clr, out=t)  # torch's addcdiv: (value * g) / std
        t /= std
        d += t
