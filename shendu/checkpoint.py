"""Checkpoints for exact resume, in the PyTorch manner and under Keras's ``BackupAndRestore``.

A checkpoint holds everything a training run's future depends on: the model's weights and
buffers, the optimizer's state, the LR scheduler, every random stream (the default one and any
stream a layer owns, e.g. a seeded Dropout), the data order and position, epoch and step, and
whatever extra the caller adds. It is one ``shendu.save`` file: safetensors + JSON, written
atomically and carrying a SHA-256 digest of its content, so a run killed at any moment leaves
either the previous checkpoint or the new one, never half of one, and a damaged file is refused.

Example (a PyTorch-style loop that survives being killed)::

    manager = shendu.checkpoint.CheckpointManager("ckpt/")
    start = manager.restore(model=net, optimizer=opt, loader=loader) or {"epoch": 0}
    for epoch in range(start["epoch"], epochs):
        for step, (x, y) in enumerate(loader):
            ...
            if step % 100 == 99:
                manager.save(model=net, optimizer=opt, loader=loader, epoch=epoch)
        manager.save(model=net, optimizer=opt, epoch=epoch + 1, loader=loader)
"""

from __future__ import annotations

import os
import re
import warnings

from . import io
from .random import Generator, default_generator

__all__ = ["capture", "restore_state", "save_checkpoint", "load_checkpoint",
           "CheckpointManager", "random_states", "set_random_states"]

_FORMAT = "shendu-checkpoint"


def random_states(model=None) -> dict:
    """The state of the default random stream and of every stream a module of ``model`` owns
    (keyed by the module's path)."""
    owned = {}
    if model is not None:
        for name, m in model.named_modules():
            g = getattr(m, "generator", None)
            if isinstance(g, Generator):
                owned[name or "."] = g.get_state()
    return {"default": default_generator.get_state(), "modules": owned}


def set_random_states(states: dict, model=None) -> None:
    """Put back what ``random_states`` returned."""
    default_generator.set_state(states["default"])
    owned = states.get("modules", {})
    if model is not None:
        for name, m in model.named_modules():
            g = getattr(m, "generator", None)
            key = name or "."
            if isinstance(g, Generator) and key in owned:
                g.set_state(owned[key])


def _scheduler_state(scheduler) -> dict:
    # functions (a LambdaLR's lambdas) cannot be stored without pickle; the code recreates them
    return {k: v for k, v in scheduler.state_dict().items() if not callable(v)}


def capture(model=None, optimizer=None, scheduler=None, loader=None, **progress) -> dict:
    """Everything needed to continue exactly, as a tree ``shendu.save`` can store.

    Args:
        model: a Module (its ``state_dict``: parameters and buffers).
        optimizer, scheduler: their ``state_dict``.
        loader: a DataLoader (or anything with ``state_dict``): the epoch's order and position.
        **progress: plain values such as ``epoch=3, step=120`` (returned by ``restore_state``).
    """
    state: dict = {"format": _FORMAT, "version": 1, "progress": progress,
                   "random": random_states(model)}
    if model is not None:
        state["model"] = dict(model.state_dict())
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = _scheduler_state(scheduler)
    if loader is not None:
        state["loader"] = loader.state_dict()
    return state


def restore_state(state: dict, model=None, optimizer=None, scheduler=None,
                  loader=None) -> dict:
    """Load a ``capture`` tree into the given objects; returns its ``progress`` values."""
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise io.UnsafeFileError("not a shendu checkpoint (no checkpoint format tag)")
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler),
                      ("loader", loader)):
        if obj is not None and name not in state:
            raise ValueError(f"the checkpoint has no {name} state, but a {name} was given to "
                             "restore; it was saved without one")
    if model is not None:
        model.load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    if loader is not None:
        loader.load_state_dict(state["loader"])
    set_random_states(state["random"], model)
    return dict(state.get("progress", {}))


def save_checkpoint(path, model=None, optimizer=None, scheduler=None, loader=None,
                    **progress) -> None:
    """Write a checkpoint file atomically (see ``capture`` for the arguments)."""
    io.save(capture(model, optimizer, scheduler, loader, **progress), path)


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, loader=None) -> dict:
    """Restore a ``save_checkpoint`` file into the given objects; returns the progress values
    (e.g. ``{"epoch": 3, "step": 120}``). Raises ``UnsafeFileError`` for a damaged file."""
    return restore_state(io.load(path), model, optimizer, scheduler, loader)


class CheckpointManager:
    """Numbered checkpoints in one folder, the newest ``max_to_keep`` kept.

    ``restore`` loads the newest checkpoint that is intact; a damaged one (its digest or
    structure does not check out) is skipped with a warning in favour of the one before it.
    If every checkpoint is damaged it raises rather than start over silently.

    Args:
        directory: the folder (created if missing).
        max_to_keep: how many checkpoints to keep (at least 1; 2 lets a damaged newest one fall
            back to the previous).
        prefix: the file name prefix.
    """

    def __init__(self, directory, max_to_keep: int = 2, prefix: str = "ckpt"):
        if not isinstance(max_to_keep, int) or max_to_keep < 1:
            raise ValueError(f"CheckpointManager: max_to_keep must be a positive integer, got "
                             f"{max_to_keep!r}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", prefix):
            raise ValueError(f"CheckpointManager: prefix must be letters, digits, '_', '.' or "
                             f"'-', got {prefix!r}")
        self.directory = os.fspath(directory)
        self.max_to_keep, self.prefix = max_to_keep, prefix
        self._pattern = re.compile(re.escape(prefix) + r"-(\d{8})\.shendu")
        os.makedirs(self.directory, exist_ok=True)

    def checkpoints(self) -> list[str]:
        """Paths of the checkpoints present, oldest first."""
        found = []
        for name in os.listdir(self.directory):
            m = self._pattern.fullmatch(name)
            if m:
                found.append((int(m.group(1)), os.path.join(self.directory, name)))
        return [p for _, p in sorted(found)]

    def _number(self, path) -> int:
        return int(self._pattern.fullmatch(os.path.basename(path)).group(1))

    def save(self, model=None, optimizer=None, scheduler=None, loader=None,
             **progress) -> str:
        """Write the next checkpoint (see ``capture``); returns its path."""
        return self.write(capture(model, optimizer, scheduler, loader, **progress))

    def write(self, state: dict) -> str:
        """Write a ``capture`` tree (possibly with extra entries) as the next checkpoint, then
        drop the ones beyond ``max_to_keep``; the new file is complete before any is dropped."""
        existing = self.checkpoints()
        number = self._number(existing[-1]) + 1 if existing else 0
        path = os.path.join(self.directory, f"{self.prefix}-{number:08d}.shendu")
        io.save(state, path)
        for old in (existing + [path])[:-self.max_to_keep]:
            os.unlink(old)
        return path

    def restore(self, model=None, optimizer=None, scheduler=None, loader=None):
        """Load the newest intact checkpoint; returns its progress values, or None when the
        folder holds no checkpoint."""
        state, path = self.load_latest()
        if state is None:
            return None
        return restore_state(state, model, optimizer, scheduler, loader)

    def load_latest(self):
        """``(state tree, path)`` of the newest intact checkpoint, or ``(None, None)``."""
        paths = self.checkpoints()
        errors = []
        for path in reversed(paths):
            try:
                state = io.load(path)
                if not isinstance(state, dict) or state.get("format") != _FORMAT:
                    raise io.UnsafeFileError(f"{path!r} is not a shendu checkpoint")
            except (io.UnsafeFileError, OSError) as e:
                errors.append(f"{os.path.basename(path)}: {e}")
                continue
            if errors:
                warnings.warn("skipped damaged checkpoint(s) and resumed from the previous "
                              f"one, {os.path.basename(path)}: " + "; ".join(errors),
                              RuntimeWarning, stacklevel=3)
            return state, path
        if paths:
            raise io.UnsafeFileError(
                f"every checkpoint in {self.directory!r} is damaged, refusing to resume from "
                "garbage: " + "; ".join(errors) + ". Delete the folder to start over.")
        return None, None

    def clear(self) -> None:
        """Delete this manager's checkpoints (and stale temporary files of interrupted saves)."""
        for path in self.checkpoints():
            os.unlink(path)
        for name in os.listdir(self.directory):
            if name.startswith(".shendu-") and name.endswith(".tmp"):
                os.unlink(os.path.join(self.directory, name))
