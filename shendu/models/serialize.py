"""Model configuration as JSON, rebuilt only from a closed registry of shendu's own classes.

The registry is an explicit table: a name read from a file is looked up there and nowhere
else, so loading a model can never import or run code named by the file.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..nn import layers as L
from ..nn.containers import Sequential as NNSequential
from ..tensor import Tensor
from .sequential import Sequential

__all__ = ["REGISTRY", "model_config", "model_from_config", "layer_config"]

REGISTRY = {
    "Linear": L.Linear, "Dense": L.Dense, "Flatten": L.Flatten, "Dropout": L.Dropout,
    "Identity": L.Identity, "Activation": L.Activation, "InputLayer": L.InputLayer,
    "ReLU": L.ReLU, "LeakyReLU": L.LeakyReLU, "ELU": L.ELU, "GELU": L.GELU,
    "Sigmoid": L.Sigmoid, "Tanh": L.Tanh, "Softmax": L.Softmax, "LogSoftmax": L.LogSoftmax,
    "Softplus": L.Softplus, "SiLU": L.SiLU, "ReLU6": L.ReLU6,
}

_JSON_SCALARS = (str, int, float, bool, type(None))


def _check_json(value, where: str):
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, (list, tuple)):
        return [_check_json(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _check_json(v, where) for k, v in value.items()}
    raise TypeError(f"cannot save the configuration of {where}: value {value!r} is not "
                    "JSON-serializable")


def layer_config(layer) -> dict:
    name = type(layer).__name__
    if REGISTRY.get(name) is not type(layer):
        raise TypeError(
            f"model.save(): layer {name} is not one of shendu's built-in layers, so its "
            "architecture cannot be rebuilt from a file. Save the weights instead "
            "(shendu.save(model.state_dict(), path)) and rebuild the model in code.")
    cfg = layer.get_config()
    if name == "Activation" and cfg.get("activation") is None:
        raise TypeError("model.save(): an Activation with a custom function cannot be saved")
    if name == "Dense" and cfg.get("activation") is None:
        raise TypeError(f"model.save(): Dense '{layer.name}' uses a custom activation function "
                        "that cannot be named in a file")
    return {"class_name": name, "config": _check_json(cfg, name)}


def _compile_config(model) -> dict | None:
    if not getattr(model, "compiled", False):
        return None
    loss = getattr(model, "_loss_name", None)
    spec = model._optimizer_spec
    opt = None
    if isinstance(spec, str):
        opt = {"class_name": spec, "config": {}}
    elif model.optimizer is not None:
        g = model.optimizer.param_groups[0]
        opt = {"class_name": type(model.optimizer).__name__,
               "config": {"lr": float(g["lr"])}}
    metrics = [m.name for m in model.compiled_metrics]
    if not isinstance(loss, str):
        return None
    return {"loss": loss, "optimizer": opt, "metrics": metrics}


def model_config(model) -> dict:
    if not isinstance(model, (Sequential, NNSequential)):
        raise TypeError(
            f"model.save() can rebuild Sequential models only; {type(model).__name__} is a "
            "custom class. Save its weights with shendu.save(model.state_dict(), path) and "
            "rebuild the class in code.")
    from .summary import input_shape_of

    shape = input_shape_of(model) if isinstance(model, Sequential) else None
    return {
        "format_version": 1,
        "class_name": "Sequential",
        "name": getattr(model, "name", "sequential"),
        "input_shape": None if shape is None else list(shape),
        "layers": [layer_config(m) for m in model.children()],
        "compile": _compile_config(model) if isinstance(model, Sequential) else None,
    }


def model_from_config(config: dict, compile: bool = True) -> Sequential:
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        raise ValueError("model config must describe a Sequential (class_name 'Sequential')")
    layers = []
    for i, lc in enumerate(config.get("layers", [])):
        if not isinstance(lc, dict) or not isinstance(lc.get("config", {}), dict):
            raise ValueError(f"layer {i} of the model config is malformed")
        cls = REGISTRY.get(lc.get("class_name"))
        if cls is None:
            raise ValueError(f"layer {i}: unknown class {lc.get('class_name')!r}; only shendu's "
                             f"own layers can be loaded: {sorted(REGISTRY)}")
        try:
            layers.append(cls(**lc.get("config", {})))
        except TypeError as e:
            raise ValueError(f"layer {i} ({lc.get('class_name')}): bad config: {e}") from None
    model = Sequential(layers, name=config.get("name"))
    shape = config.get("input_shape")
    if shape is not None:  # build deferred layers so the weights have somewhere to go
        if not all(isinstance(s, int) and 0 < s < 1 << 24 for s in shape):
            raise ValueError(f"invalid input_shape {shape!r} in model config")
        with no_grad():
            model.eval()
            model(Tensor(np.zeros((1,) + tuple(shape), dtype=np.float32)))
            model.train()
    comp = config.get("compile")
    if compile and comp:
        opt = comp.get("optimizer") or {"class_name": "rmsprop", "config": {}}
        from .. import optim

        optimizer = optim.get(opt["class_name"], **opt.get("config", {})) \
            if opt["class_name"].lower() in ("sgd", "adam", "adamw", "rmsprop", "adagrad",
                                             "adadelta") else "rmsprop"
        model.compile(optimizer=optimizer, loss=comp["loss"], metrics=comp.get("metrics"))
    return model
