"""Learning-rate schedulers (PyTorch's ``torch.optim.lr_scheduler``, same formulas and values).

A scheduler changes ``group["lr"]`` of its optimizer's parameter groups each time ``step()`` is
called (usually once per epoch, after ``optimizer.step()``). The chainable schedulers compute the
new rate from the current one, exactly as PyTorch does, so the sequences match it to the last
bit and several schedulers can act on one optimizer.

Example:
    >>> opt = shendu.optim.SGD(model.parameters(), lr=0.1)
    >>> sched = shendu.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    >>> for epoch in range(90):
    ...     train_one_epoch(); sched.step()
"""

from .base import LRScheduler
from .cycles import CosineAnnealingWarmRestarts, OneCycleLR, SequentialLR
from .decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .plateau import ReduceLROnPlateau

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
    "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR",
    "CosineAnnealingWarmRestarts", "OneCycleLR", "ReduceLROnPlateau",
]
