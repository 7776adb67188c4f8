"""What Keras-style layers share: a name, an optional declared input shape, deferred building
and a configuration that can be saved as JSON."""

from __future__ import annotations

import itertools
import re

from ... import constraints as _constraints
from ... import regularizers as _regularizers
from ...backend import get_default_dtype
from ...tensor import Tensor
from .. import activations
from .. import init as _init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Layer"]

_counters: dict[str, itertools.count] = {}


def _snake_case(cls_name: str) -> str:
    """Keras's spelling: Dense -> dense, LeakyReLU -> leaky_re_lu, Conv2D -> conv2d."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def _auto_name(cls_name: str) -> str:
    # the Keras forms of names PyTorch also uses (KerasLSTM) are called as in Keras (lstm)
    snake = _snake_case(cls_name.removeprefix("Keras"))
    n = next(_counters.setdefault(snake, itertools.count()))
    return snake if n == 0 else f"{snake}_{n}"


_SERIALIZED = (("kernel_regularizer", _regularizers), ("bias_regularizer", _regularizers),
               ("activity_regularizer", _regularizers), ("kernel_constraint", _constraints),
               ("bias_constraint", _constraints))


def _activity_penalty(regularizer, out):
    """Keras's activity loss: ``regularizer(output) / batch_size`` summed over the outputs."""
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    total = None
    for y in outputs:
        if not isinstance(y, Tensor):
            continue
        p = regularizer(y)
        if y.ndim > 0 and y.shape[0] > 0:
            p = p / float(y.shape[0])
        total = p if total is None else total + p
    return total


class Layer(Module):
    """Base of layers that build their parameters on the first call (Keras's way).

    Keyword args understood by every layer: ``name``, ``input_shape`` (without the batch
    dimension), ``input_dim``, ``batch_input_shape``, ``dtype``, ``trainable`` and
    ``activity_regularizer`` (a penalty on the layer's output, divided by the batch size, as
    in Keras). Subclasses implement ``build(input_shape)`` (shape includes the batch
    dimension) and ``forward``, and list their constructor arguments in ``get_config``.

    Regularization: ``regularization_loss()`` is the layer's own penalty (kernel and bias
    regularizers, plus the activity penalty of its last call) and ``losses`` lists those of the
    layer and its sublayers; ``Model.compute_loss`` adds them to the loss. A layer called twice
    in one forward pass keeps the activity penalty of its last call only.
    """

    def __init__(self, name: str | None = None, input_shape=None, input_dim=None,
                 batch_input_shape=None, dtype=None, trainable: bool = True,
                 activity_regularizer=None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{sorted(kwargs)}")
        self.name = name or _auto_name(type(self).__name__)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None and input_shape is None:
            input_shape = tuple(batch_input_shape)[1:]
        if isinstance(input_shape, int):
            input_shape = (input_shape,)
        self.input_shape_declared = tuple(input_shape) if input_shape is not None else None
        self.built = False
        self.trainable = trainable
        self.dtype_policy = dtype
        self.activity_regularizer = self._resolve(_regularizers, "activity_regularizer",
                                                  activity_regularizer)
        self._activity_penalty = None

    @property
    def trainable(self) -> bool:
        """Keras's switch: ``layer.trainable = False`` freezes its parameters, now or once
        built."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        object.__setattr__(self, "_trainable", bool(value))
        self.requires_grad_(bool(value))

    def add_weight(self, shape, initializer="glorot_uniform", dtype=None) -> Parameter:
        """A new Parameter drawn from a Keras initializer (name or object), frozen when the
        layer is not trainable; ``build`` assigns it to an attribute."""
        p = Parameter(_init.get(initializer)(tuple(shape), dtype or get_default_dtype()))
        return p.requires_grad_(self.trainable)

    def _kernel_options(self, activation, use_bias, kernel_initializer, bias_initializer,
                        kernel_regularizer, bias_regularizer, activity_regularizer,
                        kernel_constraint, bias_constraint) -> None:
        """The arguments every Keras kernel layer (Dense, Conv*) shares; no weights yet."""
        self.activation_name = activations.serialize(activation)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = _init.get(kernel_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        R, C = _regularizers, _constraints
        self.kernel_regularizer = self._resolve(R, "kernel_regularizer", kernel_regularizer)
        self.bias_regularizer = self._resolve(R, "bias_regularizer", bias_regularizer)
        self.activity_regularizer = self._resolve(R, "activity_regularizer",
                                                  activity_regularizer)
        self.kernel_constraint = self._resolve(C, "kernel_constraint", kernel_constraint)
        self.bias_constraint = self._resolve(C, "bias_constraint", bias_constraint)
        self.kernel = None
        self.bias = None

    def _resolve(self, area, argument: str, value):
        """``area.get(value)`` (regularizers or constraints), with errors naming the layer."""
        try:
            return area.get(value)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{type(self).__name__} '{self.name}': {argument}: {e}") from None

    def build(self, input_shape) -> None:
        self.built = True

    def _maybe_build(self, x) -> None:
        if not self.built:
            self.build(tuple(x.shape))
            self.built = True
            if not self.trainable:
                self.requires_grad_(False)

    def __call__(self, *args, **kwargs):
        if not self.built and args and hasattr(args[0], "shape"):
            self._maybe_build(args[0])
        out = super().__call__(*args, **kwargs)
        regularizer = self.__dict__.get("activity_regularizer")
        if regularizer is not None:  # replaced at every call: no graph outlives the next one
            object.__setattr__(self, "_activity_penalty", _activity_penalty(regularizer, out))
        return out

    # -- regularization ------------------------------------------------------------------------
    def regularization_loss(self):
        """This layer's own penalty as a scalar Tensor (in the graph, so it has gradients):
        kernel and bias regularizers on the current weights plus the activity penalty of the
        last call; None when there is none."""
        terms = []
        d = self.__dict__
        for weight_name, reg_name in (("kernel", "kernel_regularizer"),
                                      ("bias", "bias_regularizer")):
            reg = d.get(reg_name)
            w = self._parameters.get(weight_name) if reg is not None else None
            if w is not None:
                terms.append(reg(w))
        if d.get("_activity_penalty") is not None:
            terms.append(d["_activity_penalty"])
        if not terms:
            return None
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    @property
    def losses(self) -> list:
        """Keras's ``layer.losses``: the regularization penalties of this layer and its
        sublayers (weights as they are now, activities of the last call)."""
        out = []
        for m in self.modules():
            r = m.regularization_loss() if isinstance(m, Layer) else None
            if r is not None:
                out.append(r)
        return out

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape`` (with batch dim, None allowed); default: same."""
        return tuple(input_shape)

    def get_config(self) -> dict:
        cfg = {"name": self.name, "trainable": self.trainable}
        if self.input_shape_declared is not None:
            cfg["input_shape"] = list(self.input_shape_declared)
        d = self.__dict__
        for key, area in _SERIALIZED:  # only those set, so plain configs stay as they were
            if d.get(key) is not None:
                try:
                    cfg[key] = area.serialize(d[key])
                except TypeError as e:
                    raise TypeError(f"{type(self).__name__} '{self.name}': {key}: {e}") from None
        return cfg

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def weights(self):
        return list(self.parameters())

    @property
    def trainable_weights(self):
        return [p for p in self.parameters() if p.requires_grad]

    def get_weights(self):
        return [p.numpy().copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        params = list(self.parameters())
        if len(weights) != len(params):
            raise ValueError(f"layer '{self.name}' has {len(params)} weights, got {len(weights)}")
        for p, w in zip(params, weights):
            if tuple(p.shape) != tuple(w.shape):
                raise ValueError(f"layer '{self.name}': weight shape {tuple(p.shape)} vs "
                                 f"given {tuple(w.shape)}")
            p.data[...] = w
