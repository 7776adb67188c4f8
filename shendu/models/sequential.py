"""Sequential: a Model that chains layers; a plain container or a Keras model to ``fit``."""

from __future__ import annotations

from collections import OrderedDict

from ..nn.containers import Sequential as _NNSequential
from ..nn.module import Module
from .model import Model
from .summary import input_shape_of

__all__ = ["Sequential"]


class Sequential(Model, _NNSequential):
    """Layers applied in order.

    Accepts a list (Keras: ``Sequential([Dense(64), Dense(10)])``), modules as arguments
    (PyTorch: ``Sequential(Linear(4, 8), ReLU())``) or an OrderedDict, and grows with ``add``.

    Example:
        >>> model = Sequential()
        >>> model.add(Dense(64, activation="relu", input_shape=(784,)))
        >>> model.add(Dense(10, activation="softmax"))
    """

    def __init__(self, *layers, name: str | None = None):
        Model.__init__(self, name=name or "sequential")
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            for key, m in layers[0].items():
                self._add(m, key)
        else:
            for i, m in enumerate(layers):
                self._add(m, str(i))
        self._build_if_possible()

    def _build_if_possible(self, x=None) -> bool:
        # Keras builds a Sequential as soon as its input shape is known (input_shape= on the
        # first layer), so parameters(), count_params() and a torch-style optimizer made from
        # model.parameters() see every layer before the first call.
        return super()._build_if_possible(x) if self._modules else False

    def _known_input_shape(self):
        return input_shape_of(self)

    def _add(self, layer, key: str) -> None:
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.add expects a layer (Module), got "
                            f"{type(layer).__name__}: {layer!r}")
        self.add_module(key, layer)

    def add(self, layer) -> None:
        """Append a layer."""
        self._add(layer, str(len(self._modules)))
        self._build_if_possible()
        if getattr(self, "compiled", False) and self.optimizer is not None:
            self.optimizer = None  # new parameters: rebind at the next step

    def pop(self) -> Module:
        if not self._modules:
            raise IndexError("pop from an empty Sequential")
        key = next(reversed(self._modules))
        return self._modules.pop(key)

    def forward(self, x):
        mask = None  # Keras's masks: made by Embedding(mask_zero=True), used by RNN layers
        for m in self._modules.values():
            if mask is not None and getattr(m, "consumes_mask", False):
                y = m(x, mask=mask)
            else:
                y = m(x)
            compute_mask = getattr(m, "compute_mask", None)
            if compute_mask is not None:
                mask = compute_mask(x, mask)
            x = y
        return x

    def get_config(self) -> dict:
        return {"name": self.name}
