"""The scheduler base class and its helpers."""

from __future__ import annotations

import warnings
from typing import Any

from ..optimizer import Optimizer

__all__ = ["LRScheduler"]


def _check_optimizer(name: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name} expects a shendu.optim Optimizer as its first argument, got "
                        f"{type(optimizer).__name__}")


class LRScheduler:
    """Base class of the epoch-driven schedulers.

    Subclasses implement ``get_lr()`` (the new rate of each group, from ``last_epoch`` and the
    current rates) and may implement ``_get_closed_form_lr()`` (the rate at ``last_epoch`` from
    the base rates alone, used by the deprecated ``step(epoch)``).

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        last_epoch: index of the last epoch done; -1 (default) starts fresh. A value >= 0
            resumes and needs ``"initial_lr"`` in every parameter group.

    Attributes:
        base_lrs: each group's initial learning rate.
        last_epoch: the number of ``step()`` calls since the start, minus one.

    Example:
        >>> sched = ExponentialLR(opt, gamma=0.9)
        >>> sched.step(); sched.get_last_lr()
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{name}: parameter group {i} has no 'initial_lr', needed to "
                                   f"resume with last_epoch={last_epoch}; load the optimizer's "
                                   "state_dict first, or use last_epoch=-1 to start fresh")
        self.base_lrs: list[float] = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The new learning rate of each group at ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set the new learning rates.

        Args:
            epoch: deprecated (as in PyTorch): jump to this epoch, using the closed-form rate
                where the scheduler has one.
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn("passing an epoch to scheduler.step() is deprecated; call step() "
                          "once per epoch instead", UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise RuntimeError(f"{type(self).__name__} has {len(values)} learning rates but the "
                               f"optimizer has {len(groups)} parameter groups; create the "
                               "scheduler after adding all groups")
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = [g["lr"] for g in groups]

    def _current(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: every attribute but the optimizer, as plain Python values."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``."""
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


def _per_group(name: str, what: str, optimizer: Optimizer, value) -> list:
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name}: expected one {what} per parameter group ({n}), got "
                             f"{len(value)}")
        return list(value)
    return [value] * n
