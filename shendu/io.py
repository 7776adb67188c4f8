"""Saving and loading without pickle: safetensors for arrays, JSON for everything else.

* ``save(obj, path)`` / ``load(path)``: state dicts and other trees of dicts, lists, numbers,
  strings and tensors (an optimizer's ``state_dict()`` included).
* ``save_model(model, path)`` / ``load_model(path)``: a Sequential's architecture as JSON
  (classes named from shendu's own closed registry, never imported by name) plus its weights.

Files are written atomically (temporary file in the same folder, fsync, ``os.replace``, fsync
of the folder), so a crash mid-save leaves the previous file intact. Before any array is read,
the header is checked: declared dtypes, shapes and byte ranges must agree with each other and
with the file's real size; anything else is refused with ``UnsafeFileError``. Every file also
records a SHA-256 digest of its content, checked on load, so a corrupted copy is refused rather
than loaded as garbage.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load", "save_model", "load_model", "UnsafeFileError", "atomic_write"]

_MAX_HEADER = 100 * 1024 * 1024
_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8,
           "I16": np.int16, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "BOOL": np.bool_,
           "U16": np.uint16, "U32": np.uint32, "U64": np.uint64}
_FORMAT_KEY = "shendu_format"
_DIGEST_KEY = "sha256"


class UnsafeFileError(ValueError):
    """A file that is not what it claims to be (truncated, tampered, foreign or hostile)."""


# -- atomic writes -----------------------------------------------------------------------------
def atomic_write(path, write_fn) -> None:
    """Call ``write_fn(tmp_path)`` then move the result over ``path`` atomically."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {path!r}: the folder {folder!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".shendu-", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        write_fn(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # some filesystems cannot fsync a folder; the replace itself is atomic
        pass


def _contiguous(a: np.ndarray) -> np.ndarray:
    # not np.ascontiguousarray: it turns 0-d arrays (e.g. num_batches_tracked) into 1-d ones
    return a if a.flags.c_contiguous else a.copy(order="C")


# -- trees <-> (JSON, arrays) ------------------------------------------------------------------
def _encode(obj, arrays: dict, prefix: str):
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray):
        key = base = prefix or "value"
        n = 0
        while key in arrays:  # {"a.b": x, "a": {"b": y}} must not share a name
            n += 1
            key = f"{base}#{n}"
        data = obj.numpy() if isinstance(obj, Tensor) else obj
        arrays[key] = _contiguous(data)
        return {"__tensor__" if isinstance(obj, Tensor) else "__array__": key}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__} "
                                f"at {prefix or 'the top level'}")
            items.append([k, _encode(v, arrays, f"{prefix}.{k}" if prefix else str(k))])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        enc = [_encode(v, arrays, f"{prefix}.{i}" if prefix else str(i))
               for i, v in enumerate(obj)]
        return {"__tuple__": enc} if isinstance(obj, tuple) else enc
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save: cannot store a {type(obj).__name__} at {prefix or 'the top level'} "
                    "without pickle; only dicts, lists, tuples, numbers, strings, None, "
                    "tensors and arrays can be saved")


def _decode(node, arrays: dict):
    if isinstance(node, dict):
        if "__tensor__" in node or "__array__" in node:
            key = node.get("__tensor__", node.get("__array__"))
            if key not in arrays:
                raise UnsafeFileError(f"the file's structure refers to a missing array {key!r}")
            arr = arrays[key]
            return Tensor(arr) if "__tensor__" in node else arr
        if "__dict__" in node:
            return {_key(k): _decode(v, arrays) for k, v in node["__dict__"]}
        if "__tuple__" in node:
            return tuple(_decode(v, arrays) for v in node["__tuple__"])
        raise UnsafeFileError(f"unknown node in the file's structure: {sorted(node)}")
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    return node


def _key(k):
    if not isinstance(k, (str, int)) or isinstance(k, bool):
        raise UnsafeFileError(f"the file's structure has a dict key of type {type(k).__name__}")
    return k


# -- the safetensors container -----------------------------------------------------------------
def _digest(arrays: dict, metadata: dict) -> str:
    """SHA-256 over the metadata and every array's name, dtype, shape and bytes: a flipped bit
    anywhere in a file makes it disagree with the digest stored in its header."""
    h = hashlib.sha256()
    for k in sorted(metadata):
        if k != _DIGEST_KEY:
            h.update(json.dumps([k, metadata[k]]).encode())
    for k in sorted(arrays):
        a = arrays[k]
        h.update(json.dumps([k, a.dtype.str, list(a.shape)]).encode())
        h.update(_contiguous(a).reshape(-1).view(np.uint8))
    return h.hexdigest()


def _write_container(path, arrays: dict, metadata: dict) -> None:
    from safetensors.numpy import save_file

    metadata = dict(metadata)
    metadata[_DIGEST_KEY] = _digest(arrays, metadata)

    def write(tmp):
        save_file(arrays, tmp, metadata=metadata)

    atomic_write(path, write)


def _read_header(path) -> tuple[dict, int]:
    """Parse and check the safetensors header; returns (header, data offset)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise UnsafeFileError(f"{path!r} is too short ({size} bytes) to be a shendu file")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise UnsafeFileError(f"{path!r} is not a shendu/safetensors file or is truncated: "
                                  f"its header claims {n} bytes, the file has {size}")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise UnsafeFileError(f"{path!r}: the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise UnsafeFileError(f"{path!r}: the header is not a JSON object")
    data_len = size - 8 - n
    spans = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise UnsafeFileError(f"{path!r}: malformed entry for tensor {key!r}")
        dt = _DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
        shape, offs = info["shape"], info["data_offsets"]
        if dt is None:
            raise UnsafeFileError(f"{path!r}: tensor {key!r} has unsupported dtype "
                                  f"{info['dtype']!r}")
        if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
            raise UnsafeFileError(f"{path!r}: tensor {key!r} has an invalid shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int)
                                                                   for o in offs)):
            raise UnsafeFileError(f"{path!r}: tensor {key!r} has invalid offsets {offs!r}")
        nbytes = math.prod(shape) * np.dtype(dt).itemsize  # Python ints: no overflow
        if offs[0] < 0 or offs[1] - offs[0] != nbytes or offs[1] > data_len:
            raise UnsafeFileError(
                f"{path!r} is truncated or tampered: tensor {key!r} declares shape {shape} "
                f"({nbytes} bytes) at bytes {offs}, but the data section has {data_len} bytes")
        spans.append(tuple(offs))
    spans.sort()
    end = 0
    for a, b in spans:
        if a < end:
            raise UnsafeFileError(f"{path!r}: tensors overlap in the data section")
        end = b
    if end != data_len:
        raise UnsafeFileError(f"{path!r}: {data_len - end} unexplained bytes after the tensors "
                              "(truncated or tampered file)")
    return header, 8 + n


def _read_container(path, expect_format: str | None = None) -> tuple[dict, dict]:
    header, _ = _read_header(path)
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise UnsafeFileError(f"{os.fspath(path)!r}: the header's __metadata__ must map "
                              "names to strings")
    fmt = meta.get(_FORMAT_KEY)
    if fmt is None:
        raise UnsafeFileError(f"{os.fspath(path)!r} is a safetensors file but not one written "
                              "by shendu (no shendu format tag); load plain safetensors with "
                              "safetensors.numpy.load_file")
    if expect_format and fmt != expect_format:
        raise UnsafeFileError(f"{os.fspath(path)!r} holds a {fmt!r}, expected {expect_format!r}")
    from safetensors.numpy import load_file

    try:
        arrays = load_file(os.fspath(path))
    except Exception as e:  # the library's own checks, should ours have missed something
        raise UnsafeFileError(f"{os.fspath(path)!r} could not be read: {e}") from None
    saved = meta.get(_DIGEST_KEY)  # files written before digests existed have none
    if saved is not None and saved != _digest(arrays, meta):
        raise UnsafeFileError(f"{os.fspath(path)!r} is corrupted: its content does not match "
                              "the SHA-256 digest recorded when it was saved (a damaged disk "
                              "or copy, or an edit); refusing to load it")
    return meta, arrays


# -- public API --------------------------------------------------------------------------------
def save(obj, path) -> None:
    """Save a state dict (or any tree of dicts/lists/numbers/strings/tensors) to ``path``.

    Example:
        >>> shendu.save(model.state_dict(), "weights.shendu")
        >>> model.load_state_dict(shendu.load("weights.shendu"))
    """
    arrays: dict = {}
    tree = _encode(obj, arrays, "")
    meta = {_FORMAT_KEY: "tree", "tree": json.dumps(tree)}
    _write_container(path, arrays, meta)


def load(path, map_location=None, weights_only: bool = True):
    """Load what ``save`` wrote. Never runs code from the file (there is no pickle)."""
    meta, arrays = _read_container(path)
    if meta.get(_FORMAT_KEY) == "model":
        raise UnsafeFileError(f"{os.fspath(path)!r} holds a whole model; use "
                              "shendu.keras.models.load_model")
    try:
        return _decode(json.loads(meta["tree"]), arrays)
    except UnsafeFileError:
        raise
    except (KeyError, ValueError, TypeError, RecursionError) as e:
        raise UnsafeFileError(f"{os.fspath(path)!r}: missing or corrupt structure "
                              f"({type(e).__name__}: {e})") from None


def save_model(model, path, overwrite: bool = True) -> None:
    """Architecture + weights (+ compile settings) of a Sequential in one file."""
    from .models.serialize import model_config

    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False")
    if hasattr(model, "zoo_config"):  # a model-zoo network: its builder and arguments
        from .models.serialize import _compile_config

        config = {"format_version": 1, "class_name": "ZooModel", "zoo": model.zoo_name,
                  "kwargs": model.zoo_config(), "compile": _compile_config(model)}
    else:
        config = model_config(model)
    arrays = {k: _contiguous(v.numpy()) for k, v in model.state_dict().items()}
    meta = {_FORMAT_KEY: "model", "config": json.dumps(config)}
    _write_container(path, arrays, meta)


_ZOO_LIMITS = {"num_classes": 100000, "depth": 110, "width": 256}


def _zoo_from_config(config: dict, compile: bool):
    """Rebuild a model-zoo network; its builder comes from the zoo's closed table."""
    from .models.serialize import _check_compile, _is_shape
    from .vision.models import MODELS

    name, kwargs = config.get("zoo"), config.get("kwargs")
    if name not in MODELS or not isinstance(kwargs, dict):
        raise ValueError(f"unknown zoo model {name!r}; expected one of {sorted(MODELS)}")
    for k, v in kwargs.items():
        if k == "input_shape":
            if not _is_shape(v):
                raise ValueError(f"invalid input_shape {v!r}")
        elif k in ("augment", "flip"):
            if not isinstance(v, bool):
                raise ValueError(f"zoo model {name}: {k} must be true or false, got {v!r}")
        elif k not in _ZOO_LIMITS or not isinstance(v, int) or not 0 < v <= _ZOO_LIMITS[k]:
            raise ValueError(f"zoo model {name}: invalid argument {k}={v!r}")
    model = MODELS[name](**kwargs)
    comp = config.get("compile")
    if compile and comp:
        _check_compile(comp)
        from . import optim

        opt = comp.get("optimizer") or {"class_name": "rmsprop", "config": {}}
        model.compile(optimizer=optim.get(opt["class_name"], **opt.get("config", {})),
                      loss=comp["loss"], metrics=comp.get("metrics"))
    return model


def load_model(path, compile: bool = True, custom_objects=None):
    """Rebuild a model saved by ``model.save``: classes come only from shendu's registry."""
    from .models.serialize import model_from_config

    if custom_objects:
        raise ValueError("custom_objects are not supported: shendu rebuilds models only from "
                         "its own classes, so that loading a file never runs foreign code")
    meta, arrays = _read_container(path, "model")
    try:
        config = json.loads(meta["config"])
        # the file's weight shapes bound what the config may allocate
        shapes = {k: tuple(v.shape) for k, v in arrays.items()}
        if isinstance(config, dict) and config.get("class_name") == "ZooModel":
            model = _zoo_from_config(config, compile)
        else:
            model = model_from_config(config, compile=compile, weight_shapes=shapes)
        model.load_state_dict({k: Tensor(v) for k, v in arrays.items()})
    except (KeyError, ValueError, TypeError, RuntimeError, RecursionError) as e:
        raise UnsafeFileError(f"{os.fspath(path)!r}: the model in the file cannot be rebuilt: "
                              f"{e}") from None
    return model
