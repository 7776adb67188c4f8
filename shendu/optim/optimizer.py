"""Optimizer: the base class that owns parameter groups and per-parameter state.

A subclass (SGD, Adam, ...) writes one method, ``_update(p, grad, state, group)``, that changes
``p.data`` in place from the gradient array ``grad``; the base class walks the groups, skips
parameters without a gradient, applies the Keras-style gradient clipping options and keeps the
state in a form that ``state_dict`` can hand out as plain Python values and NumPy arrays.

Updates work on the raw arrays (never through autograd) with the array module of the data, so the
same code runs on NumPy and CuPy, and temporaries come from a small scratch pool owned by the
optimizer, so a step allocates nothing that scales with the model after the first one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from numbers import Real
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..backend import array_module, device_of, to_device
from ..tensor import Tensor

__all__ = ["Optimizer"]

_UNSET = object()


def _is_number(x) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool)


class Optimizer:
    """Base class of all optimizers (PyTorch's API).

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (``named_parameters()``), or
            of dicts (parameter groups, each with ``"params"`` and its own options). ``None``
            makes an optimizer without parameters yet (Keras style: ``Adam(lr=0.001)`` passed to
            ``compile``); give it some later with ``add_param_group({"params": ...})``.
        defaults: the default option values of every group (``lr``, ``momentum``, ...).
        clipnorm: Keras option: clip each parameter's gradient to this L2 norm before the update.
        clipvalue: Keras option: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: Keras option: scale all gradients together so that their joint L2 norm
            is at most this value.

    Attributes:
        param_groups: list of dicts, one per group, with ``"params"`` and every option.
        state: per-parameter dict (``optimizer.state[p]``) with the buffers of the algorithm.
        defaults: the default options.

    Example:
        >>> opt = shendu.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad()
        >>> loss_fn(model(x), y).backward()
        >>> opt.step()
    """

    def __init__(self, params, defaults: dict[str, Any], *, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, got a single Tensor "
                f"of shape {tuple(params.shape)}; pass [tensor] or model.parameters()"
            )
        if isinstance(params, (str, bytes, dict)) or (
                params is not None and not isinstance(params, Iterable)):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts (e.g. "
                f"model.parameters()), got {type(params).__name__}"
            )
        self.defaults = dict(defaults)
        self._check_options(self.defaults, "defaults")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict = {}
        self._set_clipping(clipnorm, clipvalue, global_clipnorm)
        if params is None:  # parameters come later (Keras: the model's, at compile time)
            return
        _refuse_set(name, params)
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{name} got an empty parameter list; pass model.parameters() "
                             "(check that the model has parameters) or params=None to add "
                             "them later with add_param_group")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- configuration ------------------------------------------------------------------------
    def _set_clipping(self, clipnorm, clipvalue, global_clipnorm) -> None:
        name = type(self).__name__
        given = {k: v for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                   ("global_clipnorm", global_clipnorm)) if v is not None}
        if len(given) > 1:
            raise ValueError(f"{name}: only one of clipnorm, clipvalue and global_clipnorm can "
                             f"be set, got {given}")
        for k, v in given.items():
            if not _is_number(v) or not v > 0:
                raise ValueError(f"{name}: {k} must be a positive number, got {k}={v!r}")
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm

    def _check_options(self, group: dict, where: str) -> None:
        """Validate the options of a group (or the defaults); subclasses extend ``_checks``."""
        name = type(self).__name__
        for key, lo, hi, hi_open in self._checks():
            if key not in group:
                continue
            v = group[key]
            if not _is_number(v):
                raise TypeError(f"{name}: {key} must be a number, got {key}={v!r} in {where}")
            ok = v >= lo and (hi is None or (v < hi if hi_open else v <= hi))
            if not ok or math.isnan(v):
                rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}{')' if hi_open else ']'}"
                raise ValueError(f"{name}: invalid {key}={v!r} in {where}; expected {key} {rng}")

    def _checks(self) -> list[tuple]:
        """(option, low, high or None, high is open) for every numeric option to validate.

        The base class validates nothing, so a user's subclass may use any kind of option;
        shendu's optimizers start from ``_COMMON_CHECKS`` (lr and weight_decay >= 0)."""
        return []

    _COMMON_CHECKS = [("lr", 0.0, None, False), ("weight_decay", 0.0, None, False)]

    # -- parameter groups ---------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. to unfreeze layers while
        fine-tuning); options it leaves out take the optimizer's defaults.

        Example:
            >>> opt.add_param_group({"params": model.head.parameters(), "lr": 1e-4})
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group expects a dict with a 'params' key, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' key (keys: "
                             f"{sorted(param_group)})")
        group = dict(param_group)
        if "learning_rate" in group:  # Keras spelling
            lr = group.pop("learning_rate")
            if "lr" in group and group["lr"] != lr:
                raise ValueError(f"{name}: a parameter group gives both lr={group['lr']} and "
                                 f"learning_rate={lr}; give only one")
            group["lr"] = lr
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        _refuse_set(name, params)
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: some parameters come with names and some without; "
                                 "give all as (name, tensor) pairs or none")
            params = [p[1] for p in params]
            group["param_names"] = names
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but parameter {i} of the "
                                f"group is a {type(p).__name__}")
            if not p.is_leaf and not getattr(p, "_retain", False):
                raise ValueError(f"{name} can't optimize a non-leaf Tensor (parameter {i} of "
                                 f"shape {tuple(p.shape)} was computed by an operation); "
                                 "optimize the leaf it came from, or detach() it and set "
                                 "requires_grad=True")
            if p.data.dtype.kind not in "fc":
                raise TypeError(f"{name} can only optimize floating point tensors, but "
                                f"parameter {i} has dtype {p.data.dtype}")
        group["params"] = params
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            dup = next(i for i, x in enumerate(ids) if ids.index(x) != i)
            raise ValueError(f"{name}: parameter {dup} of the group (shape "
                             f"{tuple(params[dup].shape)}) appears more than once; pass each "
                             "parameter once (e.g. list(model.parameters()))")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if taken.intersection(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                raise ValueError(f"{name}: all parameter groups must be given with names or all "
                                 "without")
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_options(group, f"parameter group {len(self.param_groups)}")
        self.param_groups.append(group)
        self._init_group(group)

    def _init_group(self, group: dict) -> None:
        """Hook for optimizers that create their state eagerly (Adagrad)."""

    # -- the step -----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default, frees the memory) or to
        zeros in place (``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss
                (called with gradients enabled, before the update).

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = [[(p, p.grad.data) for p in g["params"] if p.grad is not None]
                for g in self.param_groups]
        if self.clipnorm is not None or self.clipvalue is not None or self.global_clipnorm:
            work = self._clip(work)
        for group, pairs in zip(self.param_groups, work):
            for p, grad in pairs:
                self._update(p, grad, self.state[p], group)
        return loss

    def _update(self, p: Tensor, grad, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement step() (or _update)")

    def _clip(self, work):
        """Keras clipping: new gradient arrays, the parameters' ``.grad`` are left untouched."""
        if self.clipvalue is not None:
            v = self.clipvalue
            return [[(p, array_module(g).clip(g, -v, v)) for p, g in pairs] for pairs in work]
        if self.clipnorm is not None:
            c = self.clipnorm
            out = []
            for pairs in work:
                row = []
                for p, g in pairs:
                    norm = _l2(g)
                    row.append((p, g * (c / norm) if norm > c else g))
                out.append(row)
            return out
        total = math.sqrt(sum(_l2(g) ** 2 for pairs in work for _, g in pairs))
        c = self.global_clipnorm
        if not total > c:
            return work
        scale = c / total
        return [[(p, g * scale) for p, g in pairs] for pairs in work]

    def _tmp(self, like, slot: int):
        """A scratch array shaped like ``like`` (same dtype and device) from a reused pool.

        ``slot`` keeps simultaneously live temporaries apart; a slot is valid until the next
        call with the same slot, so an update never keeps one past its own end.
        """
        key = (getattr(like, "device", None), like.dtype.str, slot)
        buf = self._scratch.get(key)
        if buf is None or buf.size < like.size:
            buf = self._scratch[key] = array_module(like).empty(like.size, like.dtype)
        return buf[: like.size].reshape(like.shape)

    def _grad(self, xp, p_data, grad, maximize: bool, weight_decay: float):
        """The gradient an update uses: negated for ``maximize``, plus ``weight_decay * p``
        (torch's L2 penalty) when set. Returns ``grad`` itself when neither applies."""
        if weight_decay != 0:
            g = self._tmp(p_data, 0)
            xp.multiply(p_data, weight_decay, out=g)
            if maximize:
                g -= grad
            else:
                g += grad
            return g
        if maximize:
            g = self._tmp(p_data, 0)
            xp.negative(grad, out=g)
            return g
        return grad

    # -- saving and loading -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain Python values and NumPy arrays (no pickle needed).

        Parameters are referred to by their position across the groups, as in PyTorch:
        ``{"state": {0: {"step": 3, "exp_avg": array}, ...}, "param_groups": [{"lr": ...,
        "params": [0, 1, ...]}, ...]}``. Arrays are copies (on the host).
        """
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: (list(v) if k == "param_names" else v)
                      for k, v in g.items() if k != "params"}
            packed["params"] = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                s = self.state.get(p)
                if s:
                    state[index[id(p)]] = {k: _to_host(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: group options and per-parameter buffers, cast to each
        parameter's dtype and device. The groups must have the same sizes as this optimizer's.

        Keys turned into strings and tuples turned into lists (a JSON round trip) are accepted.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict expects a dict with 'state' and "
                             f"'param_groups' (from state_dict()), got {type(state_dict).__name__}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter groups, this optimizer has {len(self.param_groups)}")
        for i, (g, sg) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has "
                                 f"{len(g['params'])} parameters here but {len(sg['params'])} "
                                 "in the state dict")
        id_map = {}
        for g, sg in zip(self.param_groups, saved_groups):
            for p, idx in zip(g["params"], sg["params"]):
                id_map[int(idx)] = p
        new_state: defaultdict = defaultdict(dict)
        for idx, s in state_dict.get("state", {}).items():
            p = id_map.get(int(idx))
            if p is None:
                continue
            new_state[p] = {k: _to_param(v, p, k, name, idx) for k, v in s.items()}
        new_groups = []
        for g, sg in zip(self.param_groups, saved_groups):
            ng = {}
            for k, v in sg.items():
                if k == "params":
                    continue
                if isinstance(v, list) and isinstance(g.get(k), tuple):
                    v = tuple(v)
                ng[k] = v
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k not in ("params", "param_names"):
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def _refuse_set(name: str, params) -> None:
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{name}: parameters must be given in an ordered collection (a list), "
                        "not a set: the order of a set changes between runs and the state_dict "
                        "refers to parameters by position")


def _lr_args(name: str, params, lr, default, learning_rate):
    """Resolve Keras spellings: ``learning_rate=`` for ``lr=``, and a learning rate passed as
    the first positional argument (``Adam(0.001)``), which leaves the parameters for later."""
    if _is_number(params):
        if lr != default:
            raise TypeError(f"{name}: got a number ({params}) as params and lr={lr}; the first "
                            "argument is params, pass the learning rate as lr= or "
                            "learning_rate=")
        params, lr = None, params
    if learning_rate is not None:
        if lr != default and lr != learning_rate:
            raise ValueError(f"{name}: got both lr={lr} and learning_rate={learning_rate}; "
                             "they are the same option, give only one")
        lr = learning_rate
    return params, lr


def _l2(g) -> float:
    flat = g.reshape(-1)
    return math.sqrt(float(array_module(g).dot(flat, flat)))


def _to_host(v):
    """A host copy of an array (NumPy or CuPy); other values pass through."""
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        return np.array(to_device(v, _CPU))
    return v


def _to_param(v, p: Tensor, key: str, name: str, idx):
    """A fresh copy of a saved state value on ``p``'s device, floats cast to ``p``'s dtype."""
    if not (hasattr(v, "shape") and hasattr(v, "dtype")):
        return v
    if v.ndim and tuple(v.shape) != tuple(p.shape):
        raise ValueError(f"{name}.load_state_dict: state '{key}' of parameter {idx} has shape "
                         f"{tuple(v.shape)} but the parameter has shape {tuple(p.shape)}; the "
                         "state dict comes from a different model")
    arr = to_device(v, device_of(p.data))
    if arr.dtype.kind in "fc" and p.data.dtype.kind in "fc":
        return arr.astype(p.data.dtype)  # astype copies
    return arr.copy()


_CPU = device_of(np.empty(0))
