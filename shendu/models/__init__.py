"""Models you train with ``compile``/``fit``: Model, Sequential, callbacks, summary."""

from . import callbacks
from .backup import BackupAndRestore
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "callbacks", "BackupAndRestore"]
