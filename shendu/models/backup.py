"""Keras's ``BackupAndRestore``: a run killed at any moment continues, when started again with
the same command, from its last backup, and ends with the same weights bit for bit as a run
that was never interrupted.

A backup (a ``shendu.checkpoint`` file) holds the weights and buffers, the optimizer's state,
every random stream, the epoch's data order and position, the epoch and step, the running
metric sums, and the state of the other callbacks (History, EarlyStopping, ReduceLROnPlateau,
...). Backups are written atomically with a digest; the previous one is kept, so a damaged
newest backup falls back to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checkpoint import CheckpointManager, capture, restore_state
from .callbacks import Callback

__all__ = ["BackupAndRestore", "FitRun"]


@dataclass
class FitRun:
    """Where ``fit`` is: the epoch and the step to run next, the batches and the callbacks."""

    epoch: int
    step: int
    data: object
    callbacks: list = field(default_factory=list)


def _metric_state(metric) -> dict:
    """The running sums of a metric: its numeric attributes (numbers, arrays, lists of them)."""
    out = {}
    for k, v in vars(metric).items():
        if isinstance(v, (bool, int, float, np.ndarray, np.generic)):
            out[k] = v
        elif isinstance(v, list) and all(isinstance(e, (int, float, np.ndarray)) for e in v):
            out[k] = list(v)
    return out


def _set_metric_state(metric, state: dict) -> None:
    for k, v in state.items():
        setattr(metric, k, list(v) if isinstance(v, tuple) else v)


class BackupAndRestore(Callback):
    """Back up the training state so an interrupted ``fit`` resumes exactly.

    Start the same script again after a crash or a kill: ``fit`` restores the newest intact
    backup in ``backup_dir`` and continues from that epoch and step. When training ends
    normally the backups are deleted (``delete_checkpoint=True``).

    Args:
        backup_dir: the folder for the backups.
        save_freq: ``"epoch"`` (after each epoch), an integer N (every N batches, also in the
            middle of an epoch), or ``False`` (never save; only restore).
        double_checkpoint: keep the previous backup too, so a damaged newest one falls back to
            it (Keras's default is False; shendu keeps two because a damaged single backup
            would lose the run).
        delete_checkpoint: delete the backups once training has finished.

    Example:
        >>> model.fit(x, y, epochs=10,
        ...           callbacks=[shendu.keras.callbacks.BackupAndRestore("backup/", 100)])
    """

    _runs_last = True  # it records the state the other callbacks leave behind

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = True,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not (save_freq == "epoch" or save_freq is False or (
                isinstance(save_freq, (int, np.integer)) and not isinstance(save_freq, bool)
                and save_freq > 0)):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch', a positive number "
                             f"of batches or False, got {save_freq!r}")
        self.backup_dir, self.save_freq = backup_dir, save_freq
        self.delete_checkpoint = delete_checkpoint
        self.manager = CheckpointManager(backup_dir, max_to_keep=2 if double_checkpoint else 1,
                                         prefix="backup")
        self._batches = 0

    def _run(self) -> FitRun:
        run = getattr(self.model, "_fit_run", None)
        if run is None:
            raise RuntimeError("BackupAndRestore works inside model.fit(...callbacks=[...])")
        return run

    def _others(self, run):
        return [c for c in run.callbacks if c is not self]

    def _metrics(self):
        m = self.model
        return [m._loss_tracker] + list(m.compiled_metrics) + list(m.compiled_weighted_metrics)

    # -- restore ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._batches = 0
        state, _ = self.manager.load_latest()
        if state is None:
            return
        run, model = self._run(), self.model
        if model.optimizer is None:
            raise RuntimeError("BackupAndRestore: the model must be built before fit restores "
                               "a backup; give the first layer an input_shape")
        progress = restore_state(state, model, model.optimizer)
        if "data" in state:
            run.data.load_state_dict(state["data"])
        for metric, ms in zip(self._metrics(), state.get("metrics", [])):
            _set_metric_state(metric, ms)
        # the n-th saved callback of a class goes to the n-th one of that class now
        saved: dict = {}
        for name, cs in state.get("callbacks", []):
            saved.setdefault(name, []).append(cs)
        for cb in self._others(run):
            queue = saved.get(type(cb).__name__)
            if queue:
                cb.load_state_dict(queue.pop(0))
        run.epoch, run.step = int(progress["epoch"]), int(progress["step"])

    # -- back up ------------------------------------------------------------------------------
    def _save(self, epoch: int, step: int) -> None:
        run, model = self._run(), self.model
        state = capture(model, model.optimizer, epoch=epoch, step=step)
        if step:  # mid-epoch: the epoch's order and position, and the running metric sums
            state["data"] = run.data.state_dict()
            state["metrics"] = [_metric_state(m) for m in self._metrics()]
        state["callbacks"] = [[type(c).__name__, c.state_dict()] for c in self._others(run)]
        self.manager.write(state)

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch" or self.save_freq is False:
            return
        self._batches += 1
        if self._batches % int(self.save_freq) == 0:
            run = self._run()
            self._save(run.epoch, run.step)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq is not False:  # also with N batches: the epoch's end is a clean point
            self._save(epoch + 1, 0)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint:
            self.manager.clear()
