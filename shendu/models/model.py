"""Model: ``compile``/``fit``/``evaluate``/``predict``/``summary`` on top of any Module.

``train_step(batch)`` is the single override point of the training loop (as in Keras): it
receives ``(x, y, sample_weight)`` and returns a dict of logs.
"""

from __future__ import annotations

import numpy as np

from .. import metrics as metrics_mod
from ..autograd import no_grad
from ..constraints import apply_constraints
from ..nn import losses as losses_mod
from ..nn.module import Module
from ..tensor import Tensor
from .adapter import make_batches, to_input
from .backup import FitRun
from .callbacks import CallbackList, History, ProgbarLogger, _fmt_logs
from .summary import summary as _summary

__all__ = ["Model"]


def _loss_name(loss) -> str | None:
    return loss if isinstance(loss, str) else getattr(loss, "name", None)


class Model(Module):
    """A Module that can be compiled and trained Keras-style.

    Example:
        >>> model = Sequential([Dense(64, activation="relu", input_shape=(784,)),
        ...                     Dense(10, activation="softmax")])
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"])
        >>> history = model.fit(x_train, y_train, epochs=5, batch_size=32)
    """

    def __init__(self, name: str | None = None):
        super().__init__()
        self.name = name or type(self).__name__.lower()
        self.optimizer = None
        self.loss = None
        self.compiled_metrics: list = []
        self.compiled_weighted_metrics: list = []
        self.stop_training = False
        self.history = None
        self._optimizer_spec = None

    # -- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, jit_compile=None, **kwargs) -> None:
        """Configure training: optimizer (name, Keras optimizer or torch-style instance),
        loss (Keras name, loss object, ``nn`` loss Module or callable) and metrics."""
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        self._optimizer_spec = optimizer
        self.optimizer = None
        # not a submodule: a loss Module must not join forward(), parameters() or state_dict()
        object.__setattr__(self, "loss", losses_mod.get(loss))
        self._loss_name = _loss_name(loss)
        self.compiled_metrics = [metrics_mod.get(m, self._loss_name) for m in (metrics or [])]
        # Keras: metrics= ignore sample weights, weighted_metrics= use them
        names = {m.name for m in self.compiled_metrics}
        self.compiled_weighted_metrics = []
        for m in weighted_metrics or []:
            wm = metrics_mod.get(m, self._loss_name)
            if wm.name in names and isinstance(m, str):
                wm.name = "weighted_" + wm.name
            self.compiled_weighted_metrics.append(wm)
        self._loss_tracker = metrics_mod.Mean("loss")
        self.compiled = True
        if self._build_if_possible():
            self._bind_optimizer()

    def _build_if_possible(self, x=None) -> bool:
        """Create deferred parameters (Keras layers learn their input size on the first call)
        from ``x`` or the declared input shape; False when the input size is still unknown.

        The optimizer must see every parameter, so it is bound only once the model is built.
        """
        if all(getattr(m, "built", True) for m in self.modules()):
            return any(True for _ in self.parameters())
        if x is None:
            shape = self._known_input_shape()
            if shape is None:
                return False
            # a free dimension (a sequence's length) is built with one step
            x = np.zeros((1,) + tuple(1 if d is None else d for d in shape), dtype=np.float32)
        was_training = self.training
        self.eval()  # no running statistics or dropout noise from the build pass
        try:
            with no_grad():
                self(to_input(x))
        finally:
            self.train(was_training)
        return True

    def _known_input_shape(self):
        """The per-sample input shape seen in a call (Sequential also trusts input_shape=)."""
        return self.__dict__.get("_input_shape")

    def _bind_optimizer(self) -> None:
        from .. import optim

        spec = self._optimizer_spec
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"model '{self.name}' has no trainable parameters yet; give the "
                             "first layer input_shape= or call the model on data first")
        if isinstance(spec, optim.Optimizer):
            # a Keras-style optimizer made without parameters gets the model's now
            if not any(g["params"] for g in spec.param_groups):
                spec.param_groups.clear()
                spec.add_param_group({"params": params})
            self.optimizer = spec
        else:
            self.optimizer = optim.get(spec, params=params)

    # -- the loss ------------------------------------------------------------------------------
    def compute_loss(self, x, y, y_pred, sample_weight=None) -> Tensor:
        """The compiled loss plus any regularization losses of the layers."""
        if isinstance(self.loss, Module):  # torch-style criterion(input, target)
            if sample_weight is not None:
                raise ValueError(
                    f"sample_weight/class_weight need a Keras-style loss, but the model was "
                    f"compiled with the torch-style {type(self.loss).__name__}, which takes no "
                    "weights; compile with a Keras loss name (e.g. "
                    "loss='sparse_categorical_crossentropy') or drop the weights")
            loss = self.loss(y_pred, y)
        else:
            loss = self.loss(y, y_pred, sample_weight=sample_weight)
        for extra in self.regularization_losses():
            loss = loss + extra
        return loss

    def regularization_losses(self) -> list:
        """The layers' regularization penalties (scalar Tensors in the graph): kernel and bias
        regularizers, and activity penalties of the last forward pass. In a PyTorch-style loop:
        ``loss = criterion(model(x), y) + sum(model.regularization_losses())``."""
        out = []
        for m in self.modules():
            fn = getattr(m, "regularization_loss", None)
            if fn is not None and m is not self:
                r = fn()
                if r is not None:
                    out.append(r)
        return out

    @property
    def losses(self) -> list:
        """Keras's ``model.losses``: the layers' regularization penalties (Tensors)."""
        return self.regularization_losses()

    def _apply_constraints(self) -> None:
        """Project constrained weights (``kernel_constraint``, ...) after an optimizer step,
        as Keras does."""
        apply_constraints(self)

    def _sample_weight(self, y, sw, class_weight):
        if class_weight is None:
            return sw
        t = y.numpy()
        idx = t.argmax(-1) if t.ndim >= 2 and t.shape[-1] > 1 else t.reshape(len(t))
        cw = np.array([class_weight.get(int(c), 1.0) for c in idx.astype(np.int64)],
                      dtype=np.float32)
        return cw if sw is None else cw * np.asarray(sw, dtype=np.float32)

    # -- steps ---------------------------------------------------------------------------------
    def train_step(self, batch) -> dict:
        """One optimization step on ``batch = (x, y, sample_weight)``; returns the logs."""
        x, y, sw = batch
        y_pred = self(x)
        if self.optimizer is None:
            self._bind_optimizer()
        loss = self.compute_loss(x, y, y_pred, sw)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self._apply_constraints()
        return self._update_metrics(loss, y, y_pred, sw)

    def test_step(self, batch) -> dict:
        x, y, sw = batch
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred, sw)
        return self._update_metrics(loss, y, y_pred, sw)

    def predict_step(self, x):
        return self(x)

    def _update_metrics(self, loss, y, y_pred, sw) -> dict:
        n = y_pred.shape[0] if y_pred.ndim else 1
        self._loss_tracker.update_state(np.full(n, float(loss.item())))
        if self.compiled_metrics or self.compiled_weighted_metrics:
            yt, yp = y.numpy(), y_pred.numpy()
            for m in self.compiled_metrics:
                m.update_state(yt, yp)
            for m in self.compiled_weighted_metrics:
                m.update_state(yt, yp, sw)
        return self._logs()

    def _logs(self, prefix: str = "") -> dict:
        logs = {prefix + "loss": self._loss_tracker.result()}
        for m in self.compiled_metrics + self.compiled_weighted_metrics:
            logs[prefix + m.name] = m.result()
        return logs

    def _reset_metrics(self) -> None:
        self._loss_tracker.reset_state()
        for m in self.compiled_metrics + self.compiled_weighted_metrics:
            m.reset_state()

    def _check_compiled(self, what: str) -> None:
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"call compile(optimizer=..., loss=...) before {what}()")

    # -- fit / evaluate / predict --------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto",
            callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, class_weight=None, sample_weight=None, initial_epoch: int = 0,
            steps_per_epoch=None, validation_batch_size=None, validation_freq: int = 1):
        """Train for ``epochs`` epochs; returns a ``History`` whose ``.history`` maps each log
        name (loss, metrics, val_*) to its per-epoch values."""
        self._check_compiled("fit")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        if validation_split and validation_data is None:
            if not isinstance(x, (np.ndarray, Tensor)):
                raise ValueError("validation_split needs array inputs; pass validation_data "
                                 "for DataLoaders")
            n = len(x)
            cut = int(n * (1.0 - validation_split))
            xa, ya = np.asarray(x), (None if y is None else np.asarray(y))
            validation_data = (xa[cut:], None if ya is None else ya[cut:])
            x, y = xa[:cut], (None if ya is None else ya[:cut])
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight)[:cut]
        train = make_batches(x, y, sample_weight, batch_size, shuffle)
        if self.optimizer is None:  # bind now, so that callbacks see the optimizer
            first = train.first_input()
            if first is not None and self._build_if_possible(first):
                self._bind_optimizer()
        val = None
        if validation_data is not None:
            vx, vy, vsw = (tuple(validation_data) + (None,))[:3] if isinstance(
                validation_data, (tuple, list)) else (validation_data, None, None)
            val = make_batches(vx, vy, vsw, validation_batch_size or batch_size, False)
        verbose = 1 if verbose == "auto" else int(verbose)
        steps = steps_per_epoch or len(train)
        self.history = History()
        # History last, as in Keras: it records what callbacks add to the logs (e.g. "lr")
        cbs = ([ProgbarLogger(verbose)] if verbose else []) + list(callbacks or []) + \
            [self.history]
        # backups go last, so that they record the state the other callbacks leave behind
        cbs = [c for c in cbs if not getattr(c, "_runs_last", False)] + \
            [c for c in cbs if getattr(c, "_runs_last", False)]
        cbl = CallbackList(cbs, self, {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        # where the run is; BackupAndRestore may move it to a backup's epoch and step
        run = self._fit_run = FitRun(initial_epoch, 0, train, cbs)
        cbl.on_train_begin()
        logs: dict = {}
        for epoch in range(run.epoch, epochs):
            run.epoch = epoch
            self.train()
            if run.step == 0:  # a resumed epoch keeps its restored running sums
                self._reset_metrics()
            cbl.on_epoch_begin(epoch)
            # a backup taken after the epoch's last batch resumes straight at its end
            batches = train if run.step == 0 or run.step < steps else ()
            for step, (bx, by, bsw) in enumerate(batches, start=run.step):
                if steps_per_epoch and step >= steps_per_epoch:
                    break
                cbl.on_train_batch_begin(step)
                bsw = self._sample_weight(by, bsw, class_weight)
                logs = self.train_step((bx, by, bsw))
                run.step = step + 1
                cbl.on_train_batch_end(step, dict(logs))
                if self.stop_training:
                    break
            run.step = 0
            logs = dict(self._logs())
            if val is not None and (epoch + 1) % validation_freq == 0:
                logs.update(self._run_eval(val, prefix="val_"))
            cbl.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbl.on_train_end(logs)
        self._fit_run = None
        return self.history

    def _run_eval(self, batches, prefix: str = "", callbacks=None) -> dict:
        self.eval()
        self._reset_metrics()
        with no_grad():
            for step, batch in enumerate(batches):
                if callbacks:
                    callbacks.on_test_batch_begin(step)
                logs = self.test_step(batch)
                if callbacks:
                    callbacks.on_test_batch_end(step, logs)
        return self._logs(prefix)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict: bool = False):
        """Loss (and metrics) over the whole data set: a float without metrics, else
        [loss, *metrics] as Keras returns them (or a dict with ``return_dict=True``)."""
        self._check_compiled("evaluate")
        batches = make_batches(x, y, sample_weight, batch_size, False)
        cbl = CallbackList(callbacks or [], self, {"steps": len(batches)})
        cbl.on_test_begin()
        logs = self._run_eval(batches, callbacks=cbl)
        cbl.on_test_end(logs)
        verbose = 1 if verbose == "auto" else int(verbose)
        if verbose:
            n = len(batches)
            print(f"{n}/{n} - " + _fmt_logs(logs))
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None) -> np.ndarray:
        """Model outputs for ``x`` as a NumPy array, computed in batches in eval mode."""
        self.eval()
        outs = []
        batches = make_batches(x, None, None, batch_size, False)
        with no_grad():
            for bx, _, _ in batches:
                outs.append(self.predict_step(bx).numpy())
        if not outs:
            return np.zeros((0,))
        return np.concatenate(outs, axis=0)

    def __call__(self, *args, **kwargs):
        if args and not isinstance(args[0], Tensor) and isinstance(args[0], (np.ndarray, list)):
            args = (to_input(args[0]),) + args[1:]
        if args and self.__dict__.get("_input_shape") is None and hasattr(args[0], "shape"):
            self._input_shape = tuple(args[0].shape[1:])
        return super().__call__(*args, **kwargs)

    # -- Keras conveniences --------------------------------------------------------------------
    def summary(self, line_length: int = 65, print_fn=print) -> None:
        print_fn(_summary(self, line_length))

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def get_weights(self) -> list:
        return [p.numpy().copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        params = list(self.parameters())
        if len(weights) != len(params):
            raise ValueError(f"model has {len(params)} weight arrays, got {len(weights)}")
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(w.shape) != tuple(p.shape):
                raise ValueError(f"weight shape mismatch: model {tuple(p.shape)}, given "
                                 f"{tuple(w.shape)}")
            p.data[...] = w

    @property
    def layers(self) -> list:
        return list(self.children())

    @property
    def weights(self) -> list:
        return list(self.parameters())

    @property
    def trainable_weights(self) -> list:
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list:
        return [p for p in self.parameters() if not p.requires_grad]

    def save(self, filepath, overwrite: bool = True) -> None:
        """Architecture (JSON) and weights (safetensors) in one file; no pickle."""
        from .. import io

        io.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        from .. import io

        io.save(self.state_dict(), filepath)

    def load_weights(self, filepath) -> None:
        from .. import io

        self.load_state_dict(io.load(filepath))

    def get_config(self) -> dict:
        return {"name": self.name}

