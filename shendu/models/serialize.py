"""Model configuration as JSON, rebuilt only from a closed registry of shendu's own classes.

The registry is an explicit table: a name read from a file is looked up there and nowhere
else, so loading a model can never import or run code named by the file.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict

from ..nn import layers as L
from ..nn.containers import Sequential as NNSequential
from .sequential import Sequential

__all__ = ["REGISTRY", "model_config", "model_from_config", "layer_config"]

REGISTRY = {
    "Linear": L.Linear, "Dense": L.Dense, "Flatten": L.Flatten, "Dropout": L.Dropout,
    "Identity": L.Identity, "Activation": L.Activation, "InputLayer": L.InputLayer,
    "ReLU": L.ReLU, "LeakyReLU": L.LeakyReLU, "ELU": L.ELU, "GELU": L.GELU,
    "Sigmoid": L.Sigmoid, "Tanh": L.Tanh, "Softmax": L.Softmax, "LogSoftmax": L.LogSoftmax,
    "Softplus": L.Softplus, "SiLU": L.SiLU, "ReLU6": L.ReLU6,
    "Conv1d": L.Conv1d, "Conv2d": L.Conv2d, "ConvTranspose2d": L.ConvTranspose2d,
    "Conv1D": L.Conv1D, "Conv2D": L.Conv2D, "Conv2DTranspose": L.Conv2DTranspose,
    "DepthwiseConv2D": L.DepthwiseConv2D, "MaxPool1d": L.MaxPool1d, "MaxPool2d": L.MaxPool2d,
    "AvgPool1d": L.AvgPool1d, "AvgPool2d": L.AvgPool2d,
    "AdaptiveAvgPool2d": L.AdaptiveAvgPool2d, "AdaptiveMaxPool2d": L.AdaptiveMaxPool2d,
    "MaxPooling1D": L.MaxPooling1D, "MaxPooling2D": L.MaxPooling2D,
    "AveragePooling1D": L.AveragePooling1D, "AveragePooling2D": L.AveragePooling2D,
    "GlobalAveragePooling1D": L.GlobalAveragePooling1D,
    "GlobalAveragePooling2D": L.GlobalAveragePooling2D,
    "GlobalMaxPooling1D": L.GlobalMaxPooling1D, "GlobalMaxPooling2D": L.GlobalMaxPooling2D,
    "BatchNorm1d": L.BatchNorm1d, "BatchNorm2d": L.BatchNorm2d,
    "BatchNormalization": L.BatchNormalization, "LayerNorm": L.LayerNorm,
    "LayerNormalization": L.LayerNormalization, "GroupNorm": L.GroupNorm,
    "Reshape": L.Reshape, "Permute": L.Permute, "ZeroPadding2D": L.ZeroPadding2D,
    "UpSampling2D": L.UpSampling2D, "Upsample": L.Upsample, "Dropout2d": L.Dropout2d,
    "SpatialDropout2D": L.SpatialDropout2D, "Rescaling": L.Rescaling,
    "Dropout1d": L.Dropout1d, "Dropout3d": L.Dropout3d, "SpatialDropout1D": L.SpatialDropout1D,
    "SpatialDropout3D": L.SpatialDropout3D, "AlphaDropout": L.AlphaDropout,
    "FeatureAlphaDropout": L.FeatureAlphaDropout, "GaussianNoise": L.GaussianNoise,
    "GaussianDropout": L.GaussianDropout, "ActivityRegularization": L.ActivityRegularization,
    "RandomFlip": L.RandomFlip, "RandomRotation": L.RandomRotation,
    "RandomTranslation": L.RandomTranslation, "RandomZoom": L.RandomZoom,
    "RandomContrast": L.RandomContrast,
    "TimeDistributed": L.TimeDistributed, "Embedding": L.Embedding,
    "KerasEmbedding": L.KerasEmbedding, "KerasSimpleRNN": L.KerasSimpleRNN,
    "KerasLSTM": L.KerasLSTM, "KerasGRU": L.KerasGRU, "Bidirectional": L.Bidirectional,
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
    if name == "TimeDistributed":  # the wrapped layer must be a registered one as well
        cfg["layer"] = layer_config(layer.layer)
    if name == "Activation" and cfg.get("activation") is None:
        raise TypeError("model.save(): an Activation with a custom function cannot be saved")
    if name == "Dense" and cfg.get("activation") is None:
        raise TypeError(f"model.save(): Dense '{layer.name}' uses a custom activation function "
                        "that cannot be named in a file")
    return {"class_name": name, "config": _check_json(cfg, name)}


_OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")


def _builtin_metric(metric, loss_name) -> bool:
    """True when ``metrics.get(metric.name)`` rebuilds the same metric, settings included
    (an ``F1Score(average="micro")`` is not the default ``F1Score``)."""
    from .. import metrics as metrics_mod

    def settings(m):
        cfg = m.get_config() if hasattr(m, "get_config") else {}
        return json.dumps(cfg, sort_keys=True, default=repr)

    try:
        rebuilt = metrics_mod.get(metric.name, loss_name)
    except (ValueError, TypeError):
        return False
    return type(rebuilt) is type(metric) and settings(rebuilt) == settings(metric)


def _compile_config(model) -> dict | None:
    """Loss, optimizer and metrics by name; None (the model loads uncompiled) when any of
    them is custom and so cannot be named in a file."""
    if not getattr(model, "compiled", False):
        return None
    loss = getattr(model, "_loss_name", None)
    spec = model._optimizer_spec
    opt = None
    if isinstance(spec, str):
        opt = {"class_name": spec, "config": {}}
    else:
        optimizer = model.optimizer if model.optimizer is not None else spec
        g = optimizer.param_groups[0] if optimizer.param_groups else optimizer.defaults
        opt = {"class_name": type(optimizer).__name__, "config": {"lr": float(g["lr"])}}
    if opt["class_name"].lower() not in _OPTIMIZERS or not isinstance(loss, str) or not all(
            _builtin_metric(m, loss) for m in model.compiled_metrics):
        return None
    metrics = [m.name for m in model.compiled_metrics]
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
        "layers": [{**layer_config(m), "key": key} for key, m in model.named_children()],
        "compile": _compile_config(model) if isinstance(model, Sequential) else None,
    }


_MAX_INPUT_ELEMENTS = 1 << 26  # the build pass runs one sample of this shape


def _is_shape(shape) -> bool:
    """A per-sample shape: positive sizes, or None for a free one (a sequence's length)."""
    return isinstance(shape, list) and all(
        d is None or isinstance(d, int) and not isinstance(d, bool) and 0 < d < 1 << 24
        for d in shape) and math.prod(d for d in shape if d is not None) <= _MAX_INPUT_ELEMENTS


def _ints(value):
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _ints(v)


def _torch_shapes(name: str, cfg: dict) -> dict:
    """The weight shapes a PyTorch-style layer allocates in its constructor."""
    def k(n):
        ks = cfg.get("kernel_size")
        return tuple(ks) if isinstance(ks, list) else (ks,) * n

    bias = cfg.get("bias", True)
    if name == "Linear":
        out = {"weight": (cfg.get("out_features"), cfg.get("in_features"))}
        return {**out, "bias": (cfg.get("out_features"),)} if bias else out
    if name in ("Conv1d", "Conv2d"):
        o, i, g = cfg.get("out_channels"), cfg.get("in_channels"), cfg.get("groups", 1)
        n = 1 if name == "Conv1d" else 2
        if not all(isinstance(v, int) and v > 0 for v in (o, i, g)) or i % g:
            raise ValueError(f"{name}: invalid channel/group counts {(o, i, g)}")
        out = {"weight": (o, i // g) + k(n)}
        return {**out, "bias": (o,)} if bias else out
    if name == "ConvTranspose2d":
        o, i = cfg.get("out_channels"), cfg.get("in_channels")
        out = {"weight": (i, o) + k(2)}
        return {**out, "bias": (o,)} if bias else out
    if name in ("BatchNorm1d", "BatchNorm2d"):
        c = (cfg.get("num_features"),)
        return {"weight": c, "bias": c} if cfg.get("affine", True) else {}
    if name == "LayerNorm":
        ns = cfg.get("normalized_shape")
        c = tuple(ns) if isinstance(ns, list) else (ns,)
        return {"weight": c, "bias": c} if cfg.get("elementwise_affine", True) else {}
    if name == "GroupNorm":
        c = (cfg.get("num_channels"),)
        return {"weight": c, "bias": c} if cfg.get("affine", True) else {}
    if name == "Embedding":
        return {"weight": (cfg.get("num_embeddings"), cfg.get("embedding_dim"))}
    if name == "KerasEmbedding":  # allocated in the constructor, like the PyTorch layers
        return {"embeddings": (cfg.get("input_dim"), cfg.get("output_dim"))}
    return {}


_KERAS_KERNEL = {  # Keras layers: which kernel dims the config fixes (checked against the file)
    "Dense": lambda c: (None, c.get("units")),
    "Conv1D": lambda c: tuple(c.get("kernel_size", [])) + (None, c.get("filters")),
    "Conv2D": lambda c: tuple(c.get("kernel_size", [])) + (None, c.get("filters")),
    "Conv2DTranspose": lambda c: tuple(c.get("kernel_size", [])) + (c.get("filters"), None),
    "DepthwiseConv2D": lambda c: tuple(c.get("kernel_size", [])) + (1, None),
    "KerasSimpleRNN": lambda c: (None, _gates(c, 1)),
    "KerasLSTM": lambda c: (None, _gates(c, 4)),
    "KerasGRU": lambda c: (None, _gates(c, 3)),
}
# how a kernel layer is built from its kernel's input size, before its weights are loaded
_BUILD_SHAPE = {"Dense": lambda n: (None, n), "KerasSimpleRNN": lambda n: (None, None, n),
                "KerasLSTM": lambda n: (None, None, n), "KerasGRU": lambda n: (None, None, n)}


def _gates(cfg: dict, gates: int):
    units = cfg.get("units")
    return units * gates if isinstance(units, int) and units > 0 else -1
_SMALL = 4096  # bound on the integers of weightless layers (pool sizes, paddings, scales)


def _check_weights(i: int, key: str, name: str, cfg: dict, shapes: dict, built: bool):
    """Refuse a layer whose config would allocate weights other than those in the file, before
    it allocates them; returns the input shape to build a kernel layer with (else None)."""
    torch_shapes = _torch_shapes(name, cfg)
    if torch_shapes:
        for pname, want in torch_shapes.items():
            got = shapes.get(f"{key}.{pname}")
            if got != want:
                raise ValueError(f"layer {i} ({name}): config asks for {pname} of shape {want}, "
                                 f"the file holds {got}")
        return None
    if name in _KERAS_KERNEL:
        k = shapes.get(f"{key}.kernel")
        declared = cfg.get("input_shape")
        if k is None:
            if declared is not None or built:
                raise ValueError(f"layer {i} ({name}): the file holds no kernel for it")
            return None
        want = _KERAS_KERNEL[name](cfg)
        if len(k) != len(want) or any(w is not None and w != g for w, g in zip(want, k)):
            raise ValueError(f"layer {i} ({name}): config asks for a kernel like {want}, the "
                             f"file holds {k}")
        if name == "DepthwiseConv2D":  # the kernel's last axis is channels x multiplier
            dm = cfg.get("depth_multiplier", 1)
            if not isinstance(dm, int) or dm <= 0 or k[-1] % dm:
                raise ValueError(f"layer {i} (DepthwiseConv2D): depth_multiplier={dm!r} does "
                                 f"not fit the kernel of shape {k} in the file")
        if name in _BUILD_SHAPE:
            if declared is not None and declared[-1] != k[0]:
                raise ValueError(f"layer {i} ({name}): input_shape {declared} does not match "
                                 f"the kernel of shape {k} in the file")
            if name != "Dense":  # a recurrent layer: its recurrent kernel is (units, gates)
                rk, units = shapes.get(f"{key}.recurrent_kernel"), cfg.get("units")
                if rk != (units, k[1]):
                    raise ValueError(f"layer {i} ({name}): config asks for a recurrent kernel "
                                     f"of shape {(units, k[1])}, the file holds {rk}")
            return _BUILD_SHAPE[name](k[0])
        return None
    if name != "Reshape" and any(v > _SMALL for v in _ints(list(cfg.values()))):
        raise ValueError(f"layer {i} ({name}): a size in its config exceeds {_SMALL}")
    return None


def _check_activation_sizes(layers: dict, input_shape) -> None:
    """Walk the layers' output shapes for one sample before any build pass runs it, so that
    a config that would blow up an activation (a huge upsampling, say) is refused first."""
    shape = (1,) + tuple(input_shape)
    for key, layer in layers.items():
        fn = getattr(layer, "compute_output_shape", None)
        if fn is None:
            return  # a PyTorch-style layer: its weights were checked against the file
        shape = tuple(fn(shape))
        if any(d is not None and d < 0 for d in shape) or math.prod(
                d for d in shape if d is not None) > _MAX_INPUT_ELEMENTS:
            raise ValueError(f"layer {key} ({type(layer).__name__}) would produce an output of "
                             f"shape {shape} for one sample; refusing to build it")


def _check_compile(comp) -> None:
    if not (isinstance(comp, dict) and isinstance(comp.get("loss"), str)
            and isinstance(comp.get("metrics", []), list)
            and all(isinstance(m, str) for m in comp.get("metrics", []))):
        raise ValueError(f"malformed compile settings {comp!r}")
    opt = comp.get("optimizer")
    if opt is not None and not (isinstance(opt, dict) and isinstance(opt.get("class_name"), str)
                                and opt["class_name"].lower() in _OPTIMIZERS
                                and isinstance(opt.get("config", {}), dict)):
        raise ValueError(f"unknown or malformed optimizer {opt!r}; expected one of "
                         f"{list(_OPTIMIZERS)}")


_WRAPPERS = {"TimeDistributed": "layer", "Bidirectional": "forward_layer"}


def _wrapped_layer(i: int, key: str, wrapper: str, lc, weight_shapes, built: bool):
    """The layer inside a TimeDistributed or Bidirectional, rebuilt from the registry and
    checked against the file's weights like a top-level one (wrappers do not nest)."""
    if not isinstance(lc, dict) or not isinstance(lc.get("config", {}), dict):
        raise ValueError(f"layer {i} ({wrapper}): the wrapped layer is malformed")
    name, cfg = lc.get("class_name"), lc.get("config", {})
    cls = REGISTRY.get(name) if isinstance(name, str) and name not in _WRAPPERS else None
    if cls is None:
        raise ValueError(f"layer {i} ({wrapper}): unknown wrapped class {name!r}; only "
                         f"shendu's own layers can be loaded: {sorted(REGISTRY)}")
    declared = cfg.get("input_shape")
    if "input_dim" in cfg and name != "KerasEmbedding" or "batch_input_shape" in cfg or (
            declared is not None and not _is_shape(declared)):
        raise ValueError(f"layer {i} ({wrapper} of {name}): invalid input shape")
    build_shape = None
    if weight_shapes is not None:
        build_shape = _check_weights(i, f"{key}.{_WRAPPERS[wrapper]}", name, cfg,
                                     weight_shapes, built)
    return _construct(cls, cfg, build_shape, f"layer {i} ({wrapper} of {name})")


def _construct(cls, cfg: dict, build_shape, label: str):
    """The layer from its checked config, built for the file's weights when that is known."""
    try:
        layer = cls(**cfg)
        if build_shape is not None and not layer.built:
            layer.build(build_shape)
            if not layer.trainable:
                layer.requires_grad_(False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{label}: bad config: {e}") from None
    return layer


def model_from_config(config: dict, compile: bool = True, weight_shapes=None) -> Sequential:
    """Rebuild a Sequential from ``model_config``'s dict; layer classes come only from
    ``REGISTRY``. With ``weight_shapes`` (name -> shape of the arrays to load), layers are
    checked against them before any weight is allocated."""
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        raise ValueError("model config must describe a Sequential (class_name 'Sequential')")
    shape = config.get("input_shape")
    if shape is not None and not _is_shape(shape):
        raise ValueError(f"invalid input_shape {shape!r} in model config")
    name = config.get("name")
    if not isinstance(config.get("layers", []), list) or not isinstance(name, (str, type(None))):
        raise ValueError("model config: 'layers' must be a list and 'name' a string")
    layers = OrderedDict()
    for i, lc in enumerate(config.get("layers", [])):
        if not isinstance(lc, dict) or not isinstance(lc.get("config", {}), dict):
            raise ValueError(f"layer {i} of the model config is malformed")
        cls_name, cfg = lc.get("class_name"), lc.get("config", {})
        cls = REGISTRY.get(cls_name) if isinstance(cls_name, str) else None
        if cls is None:
            raise ValueError(f"layer {i}: unknown class {cls_name!r}; only shendu's "
                             f"own layers can be loaded: {sorted(REGISTRY)}")
        key = lc.get("key", str(i))
        if not isinstance(key, str) or not key or "." in key or key in layers:
            raise ValueError(f"layer {i}: invalid or repeated name {key!r}")
        if "input_dim" in cfg and cls_name != "KerasEmbedding" or "batch_input_shape" in cfg:
            # get_config writes input_shape (an Embedding's input_dim is its vocabulary size)
            raise ValueError(f"layer {i} ({cls_name}): unexpected input_dim/batch_input_shape")
        declared = cfg.get("input_shape")
        if declared is not None and not _is_shape(declared):
            raise ValueError(f"layer {i} ({cls_name}): invalid input_shape {declared!r}")
        build_shape = None
        if weight_shapes is not None:
            build_shape = _check_weights(i, key, cls_name, cfg, weight_shapes,
                                         shape is not None)
        if cls_name in _WRAPPERS:
            cfg = {**cfg, "layer": _wrapped_layer(i, key, cls_name, cfg.get("layer"),
                                                  weight_shapes,
                                                  shape is not None or declared is not None)}
        layers[key] = _construct(cls, cfg, build_shape, f"layer {i} ({cls_name})")
    first = next(iter(layers.values()), None)
    walk_from = shape if shape is not None else getattr(first, "input_shape_declared", None)
    if walk_from is not None:  # Sequential builds itself when the input shape is known
        _check_activation_sizes(layers, walk_from)
    model = Sequential(layers, name=name)
    if shape is not None:  # build deferred layers so the weights have somewhere to go
        model._build_if_possible()
    comp = config.get("compile")
    if compile and comp:
        _check_compile(comp)
        opt = comp.get("optimizer") or {"class_name": "rmsprop", "config": {}}
        from .. import optim

        optimizer = optim.get(opt["class_name"], **opt.get("config", {}))
        model.compile(optimizer=optimizer, loss=comp["loss"], metrics=comp.get("metrics"))
    return model
