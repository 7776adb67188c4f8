"""Adam and AdamW (PyTorch's update rules, including AMSGrad)."""

from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, _lr_args

__all__ = ["Adam", "AdamW"]


def _lerp_(xp, start, end, weight: float, tmp) -> None:
    """``start += weight * (end - start)`` in place, with torch's two-branch lerp formula."""
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(end, tmp, out=start)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), exactly as ``torch.optim.Adam``.

    ``m = beta1 * m + (1 - beta1) * g``, ``v = beta2 * v + (1 - beta2) * g * g`` and
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``; with ``amsgrad``
    the running maximum of ``v`` replaces ``v`` in the denominator. ``weight_decay`` adds
    ``weight_decay * p`` to the gradient (L2), unless ``decoupled_weight_decay`` (AdamW).

    Args:
        params: iterable of Tensors or parameter-group dicts (see ``Optimizer``); a number here
            is taken as the learning rate (Keras ``Adam(0.001)``) and the parameters come later.
        lr: learning rate (default 1e-3; ``learning_rate=`` is the Keras spelling).
        betas: decay rates of the two moment averages (default (0.9, 0.999); Keras spells them
            ``beta_1=`` and ``beta_2=``).
        eps: added to the denominator (default 1e-8; Keras: ``epsilon=``).
        weight_decay: weight decay factor (default 0).
        amsgrad: use the AMSGrad variant.
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay the weights directly (``p *= 1 - lr * weight_decay``)
            instead of adding to the gradient; this is AdamW.
        clipnorm, clipvalue, global_clipnorm: Keras gradient clipping (see ``Optimizer``).
        foreach, fused: accepted for PyTorch compatibility; shendu has one implementation, so
            they change nothing.

    Example:
        >>> opt = Adam(model.parameters(), lr=1e-3)
        >>> opt = Adam(learning_rate=1e-3, beta_1=0.9, epsilon=1e-7)  # Keras style, for compile
    """

    def __init__(self, params=None, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 *, maximize: bool = False, decoupled_weight_decay: bool = False,
                 learning_rate: float | None = None, beta_1: float | None = None,
                 beta_2: float | None = None, epsilon: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, foreach=None, fused=None):
        name = type(self).__name__
        params, lr = _lr_args(name, params, lr, 1e-3, learning_rate)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}") \
                from None
        b1 = b1 if beta_1 is None else beta_1
        b2 = b2 if beta_2 is None else beta_2
        eps = eps if epsilon is None else epsilon
        defaults = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay,
                        amsgrad=bool(amsgrad), maximize=bool(maximize),
                        decoupled_weight_decay=bool(decoupled_weight_decay))
        super().__init__(params, defaults, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm)

    def _checks(self):
        return self._COMMON_CHECKS + [("eps", 0.0, None, False), ("betas[0]", 0.0, 1.0, True),
                                    ("betas[1]", 0.0, 1.0, True)]

    def _check_options(self, group, where):
        super()._check_options(group, where)
        if "betas" in group:
            betas = group["betas"]
            try:
                pair = tuple(betas)
            except TypeError:
                pair = ()
            if len(pair) != 2:
                raise ValueError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), "
                                 f"got {betas!r} in {where}")
            super()._check_options({"betas[0]": pair[0], "betas[1]": pair[1]}, where)

    def _update(self, p, grad, state, group):
        d = p.data
        xp = array_module(d)
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(d)
            state["exp_avg_sq"] = xp.zeros_like(d)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(d)
        state["step"] += 1
        step = state["step"]
        if group["decoupled_weight_decay"]:
            if wd != 0:
                d *= 1 - lr * wd
            g = self._grad(xp, d, grad, group["maximize"], 0.0)
        else:
            g = self._grad(xp, d, grad, group["maximize"], wd)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        t = self._tmp(d, 1)
        _lerp_(xp, m, g, 1 - beta1, t)
        v *= beta2
        xp.multiply(g, 1 - beta2, out=t)  # torch's addcmul: (value * g) * g
        t *= g
        v += t
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        denom = self._tmp(d, 2)
        xp.sqrt(v, out=denom)
        denom /= bias_correction2_sqrt
        denom += eps
        xp.multiply(m, -step_size, out=t)  # torch's addcdiv: (value * m) / denom
        t /= denom
        d += t


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), exactly as ``torch.optim.AdamW``.

    The weights decay directly, ``p *= 1 - lr * weight_decay``, before the Adam update, instead
    of the penalty going through the moment averages.

    Args:
        params: as ``Adam``.
        lr: learning rate (default 1e-3; ``learning_rate=`` is the Keras spelling).
        betas, eps, amsgrad, maximize: as ``Adam`` (Keras ``beta_1``, ``beta_2``, ``epsilon``).
        weight_decay: decoupled weight decay (default 0.01).
        clipnorm, clipvalue, global_clipnorm: Keras gradient clipping (see ``Optimizer``).

    Example:
        >>> opt = AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)
    """

    def __init__(self, params=None, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, learning_rate: float | None = None,
                 beta_1: float | None = None, beta_2: float | None = None,
                 epsilon: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 foreach=None, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, learning_rate=learning_rate,
                         beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm)

    def load_state_dict(self, state_dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decouples, whatever was saved
            group["decoupled_weight_decay"] = True
