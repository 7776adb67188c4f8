"""Keras callbacks: hooks into ``fit``/``evaluate``/``predict``."""

from __future__ import annotations

import csv
import math
import os
import sys
import time

import numpy as np

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
    "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger", "TerminateOnNaN",
    "LambdaCallback",
]


class Callback:
    """Base class; override the ``on_*`` methods you need. ``self.model`` is the model.

    A callback whose decisions depend on what it has seen (a best value, a patience counter)
    lists those attributes in ``_state_keys``; ``BackupAndRestore`` saves and restores them.
    """

    _state_keys: tuple = ()

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in self._state_keys if hasattr(self, k)}

    def load_state_dict(self, state: dict) -> None:
        for k in self._state_keys:
            if k in state:
                setattr(self, k, state[k])

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


class CallbackList:
    """Calls every callback in order."""

    def __init__(self, callbacks, model, params: dict):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, name):
        if not name.startswith("on_"):
            raise AttributeError(name)
        n_args = 2 if "batch" in name or "epoch" in name else 1

        def call(*args):
            # Keras always passes logs: LambdaCallback(on_train_end=lambda logs: ...) works
            if len(args) < n_args:
                args = args + ({},)
            for cb in self.callbacks:
                getattr(cb, name)(*args)

        return call


class History(Callback):
    """Records the logs of every epoch: ``history.history["loss"]``."""

    _state_keys = ("history", "epoch")

    def __init__(self):
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _fmt_value(v) -> str:
    if isinstance(v, np.ndarray):  # per-class results (F1Score(average=None), ...)
        return np.array2string(v, precision=4, separator=" ", max_line_width=10**6)
    v = float(v)
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.4e}"


def _fmt_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {_fmt_value(v)}" for k, v in logs.items() if not isinstance(v, str))


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


class ProgbarLogger(Callback):
    """Keras's progress line: ``150/150 [=====] - 2s 11ms/step - loss: 0.31 - accuracy: 0.91``.

    ``verbose=1`` redraws one line per epoch as batches finish; ``verbose=2`` prints one
    line at the end of each epoch.
    """

    def __init__(self, verbose: int = 1, stream=None, width: int = 30):
        super().__init__()
        self.verbose, self.width = verbose, width
        self.stream = stream or sys.stdout
        self._last_draw = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()
        self.steps = self.params.get("steps") or 0
        if self.verbose:
            self.stream.write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}\n")
            self.stream.flush()

    def _dynamic(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _bar(self, done: int) -> str:
        total = self.steps
        if not total:
            return f"{done}/Unknown"
        width = len(str(total))
        frac = min(done / total, 1.0)
        filled = int(self.width * frac)
        arrow = "=" * filled if filled >= self.width else "=" * filled + ">" + \
            "." * (self.width - filled - 1)
        return f"{done:>{width}}/{total} [{arrow}]"

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose != 1 or not self._dynamic():
            return  # like Keras, a log file or pipe gets only the epoch's final line
        now = time.perf_counter()
        done = batch + 1
        if (self.steps and done >= self.steps) or now - self._last_draw < 0.1:
            return  # the epoch's last line is drawn by on_epoch_end
        self._last_draw = now
        elapsed = now - self.epoch_start
        per = elapsed / done
        if done < self.steps:
            eta = f"ETA: {_fmt_time(per * (self.steps - done))}"
        else:
            eta = f"{_fmt_time(elapsed)} {_fmt_time(per)}/step"
        line = f"\r{self._bar(done)} - {eta} - {_fmt_logs(logs or {})}"
        self.stream.write(line.ljust(getattr(self, "_last_len", 0)))
        self._last_len = len(line)
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.epoch_start
        per = elapsed / max(self.steps, 1)
        logs_s = _fmt_logs(logs or {})
        if self.verbose == 1:
            line = f"\r{self._bar(self.steps)} - {_fmt_time(elapsed)} {_fmt_time(per)}/step"
            self.stream.write(f"{line} - {logs_s}".ljust(getattr(self, "_last_len", 0)) + "\n")
        else:
            self.stream.write(f"{self.steps}/{self.steps} - {_fmt_time(elapsed)} - {logs_s} - "
                              f"{_fmt_time(elapsed)}/epoch - {_fmt_time(per)}/step\n")
        self._last_len = 0
        self.stream.flush()


def _better(mode: str, monitor: str):
    if mode == "auto":
        mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")
                         or "auc" in monitor or "f1" in monitor) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


class EarlyStopping(Callback):
    """Stop training when ``monitor`` stops improving for ``patience`` epochs."""

    _state_keys = ("wait", "stopped_epoch", "best", "best_weights", "best_epoch")

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.mode = _better(mode, monitor)
        self.min_delta = abs(min_delta) * (1 if self.mode == "max" else -1)
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch

    def _improved(self, value, ref) -> bool:
        if ref is None:
            return True
        return value - self.min_delta > ref if self.mode == "max" else value - self.min_delta < ref

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch = 0, 0
        self.best = self.baseline
        self.best_weights, self.best_epoch = None, 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r} but the logs only have "
                           f"{sorted(logs or {})}; pass validation data or change monitor")
        if epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.numpy().copy()
                                     for k, v in self.model.state_dict().items()}
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose:
                    print(f"Restoring model weights from the end of the best epoch: "
                          f"{self.best_epoch + 1}.")
                self.model.load_state_dict(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after epochs; ``save_best_only`` keeps the best."""

    _state_keys = ("best",)

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch"):
        super().__init__()
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _better(mode, monitor)
        self.best = None
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint supports save_freq='epoch' only")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                raise KeyError(f"ModelCheckpoint monitors {self.monitor!r} but the logs only "
                               f"have {sorted(logs)}")
            if self.best is not None and not (value > self.best if self.mode == "max"
                                              else value < self.best):
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved to {value:.5f}, saving "
                      f"model to {path}")
            self.best = value
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


def _get_lr(model) -> float:
    if model.optimizer is None:
        raise RuntimeError(f"model '{model.name}' has no optimizer yet: its layers are not "
                           "built; give the first layer input_shape= or call the model on a "
                           "batch before fit")
    return float(model.optimizer.param_groups[0]["lr"])


def _set_lr(model, lr: float) -> None:
    for g in model.optimizer.param_groups:
        g["lr"] = float(lr)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` plateaus (Keras's)."""

    _state_keys = ("best", "wait", "cooldown_counter")

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, \
            verbose
        self.mode = _better(mode, monitor)
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["lr"] = _get_lr(self.model)
        value = logs.get(self.monitor)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        better = self.best is None or (value < self.best - self.min_delta if self.mode == "min"
                                       else value > self.best + self.min_delta)
        if better:
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = _get_lr(self.model)
                new = max(old * self.factor, self.min_lr)
                if old > new:
                    _set_lr(self.model, new)
                    if self.verbose:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new:.4g}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start from ``schedule(epoch, lr)``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        try:
            lr = self.schedule(epoch, _get_lr(self.model))
        except TypeError:  # Keras also accepts the old one-argument schedule(epoch)
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating)) or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: schedule returned {lr!r}; expected a "
                             "finite float")
        _set_lr(self.model, float(lr))
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = _get_lr(self.model)


class CSVLogger(Callback):
    """Stream each epoch's logs to a CSV file."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename)
        self.file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.writer = None
        self._header_done = exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.DictWriter(self.file, fieldnames=["epoch", *self.keys],
                                         delimiter=self.sep)
            if not self._header_done:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.file.flush()

    def on_train_end(self, logs=None):
        self.file.close()


class TerminateOnNaN(Callback):
    """Stop training at the first NaN/Inf loss or gradient, and report where it came from.

    Keras's callback stops after a batch whose logged loss is not finite, when the optimizer
    has already written the bad values into the weights. This one also turns on the sampled
    NaN check for the batches of ``fit`` (``detect_anomaly(check_every=...)``): the loss of
    every batch is checked before ``backward()`` and the gradients of every ``check_every``-th
    batch after it, so training stops before the optimizer step. The offending batch is then
    run again under full ``detect_anomaly()``, with the layers' buffers and random streams as
    they were before it (so dropout draws the same masks), and the report names the epoch, the
    batch, the first operation that produced a non-finite value, forward or backward, its
    module path and the statistics of its inputs. The model is left as it was before the batch.

    Args:
        check_every: check the gradients every N batches (1: every batch; the loss is checked
            every batch regardless). None: only look at the logged loss, as Keras does.
        verbose: print the report (it is always kept in ``.report``; the ``AnomalyError`` of
            the re-run in ``.error``).

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[TerminateOnNaN()])
    """

    def __init__(self, check_every: int | None = 1, verbose: bool = True):
        super().__init__()
        if check_every is not None and int(check_every) < 1:
            raise ValueError(f"TerminateOnNaN: check_every must be a positive integer or None, "
                             f"got {check_every!r}")
        self.check_every = None if check_every is None else int(check_every)
        self.verbose = verbose
        self.report: str | None = None
        self.error = None
        self._epoch = 0
        self._batch = 0
        self._found = None

    def on_train_begin(self, logs=None):
        self.report, self.error, self._found = None, None, None
        model = self.model
        if self.check_every is None or model is None or not hasattr(model, "train_step"):
            return
        from ..autograd import detect_anomaly
        from ..random import Generator, default_generator

        own = model.__dict__.get("train_step")
        original = getattr(own, "_nan_guarded", None) or model.train_step
        generators = [default_generator] + [
            m.generator for m in model.modules() if isinstance(getattr(m, "generator", None),
                                                               Generator)]
        buffers = list(model.buffers())  # the Tensors stay; their data changes
        callback = self

        def guarded_train_step(batch):
            if callback.model is not model:  # left over from an earlier fit: step through
                return original(batch)
            saved = _snapshot(buffers, generators)
            try:
                with detect_anomaly(check_every=callback.check_every):
                    return original(batch)
            except Exception as err:
                from ..errors import NonFiniteError

                if not isinstance(err, NonFiniteError):
                    raise
                return callback._caught(batch, err, saved, generators)

        guarded_train_step._nan_guarded = original
        object.__setattr__(model, "train_step", guarded_train_step)
        self._installed = guarded_train_step

    def on_train_end(self, logs=None):
        model = self.model
        installed = getattr(self, "_installed", None)
        if model is not None and installed is not None and \
                model.__dict__.get("train_step") is installed:
            del model.__dict__["train_step"]
        self._installed = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self._batch = batch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        what = self._found
        if what is None and loss is not None and not math.isfinite(loss):
            what = "loss"
        if what is None:
            return
        if self.verbose:
            print(f"Batch {batch}: Invalid {what}, terminating training")
            if self.report:
                print(self.report)
        self.model.stop_training = True

    # -- the provenance report -----------------------------------------------------------------
    def _caught(self, batch, err, saved, generators) -> dict:
        """The sampled check stopped a batch before its optimizer step: find out why, restore
        the model, and hand fit the logs of a failed batch."""
        model = self.model
        after = [g.get_state() for g in generators]
        lines = [f"TerminateOnNaN: non-finite {err.what} at epoch {self._epoch + 1}, batch "
                 f"{self._batch} (the optimizer step of this batch was not taken)."]
        names = {id(p): n for n, p in model.named_parameters()}
        if err.what == "gradient":
            bad = [names.get(id(t), f"a tensor of shape {tuple(t.shape)}") for t in err.tensors]
            lines.append("  non-finite gradient of: " + ", ".join(bad))
        else:
            lines.append(f"  loss = {err.value}")
        corrupt = [n for n, p in model.named_parameters() if not _finite(p.data)]
        if corrupt:
            lines.append("  parameters that were already non-finite before this batch: "
                         + ", ".join(corrupt) + " (an earlier optimizer step wrote them; its "
                         "gradients were not checked: use check_every=1)")
        _restore(saved, generators)
        lines.append(self._rerun(batch))
        _restore(saved, None)  # the re-run updated running statistics again
        for g, state in zip(generators, after):
            g.set_state(state)
        model.zero_grad()
        self.report = "\n".join(lines)
        self._found = err.what
        model.stop_training = True
        tracker = getattr(model, "_loss_tracker", None)
        if err.what == "loss" and tracker is not None:
            n = len(batch[0]) if hasattr(batch[0], "__len__") else 1
            tracker.update_state(np.full(max(n, 1), err.value))
        return dict(model._logs()) if hasattr(model, "_logs") else {"loss": err.value}

    def _rerun(self, batch) -> str:
        """Run ``batch`` forward and backward under full anomaly mode; the report of the first
        non-finite op, or why there is none."""
        from ..autograd import detect_anomaly
        from ..errors import AnomalyError

        model = self.model
        x, y, sw = batch
        model.zero_grad()
        try:
            with detect_anomaly(), np.errstate(all="ignore"):
                y_pred = model(x)
                loss = model.compute_loss(x, y, y_pred, sw)
                loss.backward()
        except AnomalyError as e:
            self.error = e
            return "Re-run under detect_anomaly():\n" + str(e)
        except Exception as e:  # the report must not hide the original problem
            return f"Re-running the batch under detect_anomaly() failed: {e!r}"
        return ("Re-running the batch under detect_anomaly() found no non-finite value: the "
                "problem did not reproduce (a custom train_step, or randomness outside "
                "shendu's generators?)")


def _finite(a) -> bool:
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())


def _snapshot(buffers, generators):
    """What a batch changes besides the weights: buffers (running statistics) and the random
    streams (dropout); cheap enough to take before every batch (a few microseconds)."""
    return [(b, b.data.copy()) for b in buffers], [g.get_state() for g in generators]


def _restore(saved, generators) -> None:
    buffers, states = saved
    for b, data in buffers:
        if b.data.shape == data.shape and b.data.dtype == data.dtype:
            b.data[...] = data
        else:
            b.data = data.copy()
    if generators is not None:
        for g, state in zip(generators, states):
            g.set_state(state)


class LambdaCallback(Callback):
    """Callbacks from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 on_batch_begin=None, on_batch_end=None):
        super().__init__()
        fns = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
               "on_train_begin": on_train_begin, "on_train_end": on_train_end,
               "on_train_batch_begin": on_train_batch_begin or on_batch_begin,
               "on_train_batch_end": on_train_batch_end or on_batch_end}
        for name, fn in fns.items():
            if fn is not None:
                setattr(self, name, fn)
