"""``keras.callbacks``."""

from ..models.backup import BackupAndRestore
from ..models.callbacks import *  # noqa: F403
from ..models.callbacks import __all__ as _callbacks

__all__ = list(_callbacks) + ["BackupAndRestore"]
