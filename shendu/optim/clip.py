"""Gradient clipping: by the joint norm of all gradients, or by value (PyTorch's functions)."""

from __future__ import annotations

import math

from ..backend import array_module
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _grads(parameters) -> list:
    out = []
    for i, p in enumerate(_as_list(parameters)):
        if not isinstance(p, Tensor):
            raise TypeError(f"expected Tensors (e.g. model.parameters()), but item {i} is a "
                            f"{type(p).__name__}")
        if p.grad is not None:
            out.append(p.grad)
    return out


def _vector_norm(a, p: float):
    """The ``p``-norm of ``a`` flattened, as a 0-d array of ``a``'s dtype."""
    xp = array_module(a)
    flat = a.reshape(-1)
    if p == 2:
        return xp.sqrt(xp.dot(flat, flat))  # BLAS, no temporary the size of the gradient
    if p == math.inf:
        return xp.abs(flat).max() if flat.size else xp.zeros((), a.dtype)
    if p == -math.inf:
        return xp.abs(flat).min()
    if p == 0:
        return xp.asarray(xp.count_nonzero(flat), dtype=a.dtype)
    if p == 1:
        return xp.abs(flat).sum()
    return (xp.abs(flat) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector.

    Args:
        tensors: a Tensor or an iterable of Tensors (typically the gradients).
        norm_type: the order of the norm (2.0, 1.0, ``math.inf``, ...).
        error_if_nonfinite: raise if the norm is NaN or infinite.
        foreach: accepted for PyTorch compatibility; changes nothing.

    Example:
        >>> norm = get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    """
    norm_type = float(norm_type)
    arrays = [t.data if isinstance(t, Tensor) else t for t in _as_list(tensors)]
    if not arrays:
        return Tensor(0.0)
    xp = array_module(arrays[0])
    norms = xp.stack([_vector_norm(a, norm_type) for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is "
                           f"{float(total)}, so they cannot be clipped; set "
                           "error_if_nonfinite=False to clip anyway")
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale the gradients of ``parameters`` by ``max_norm / (total_norm + 1e-6)`` when that
    is below 1 (the second half of ``clip_grad_norm_``, given a norm computed already)."""
    grads = _grads(parameters)
    if not grads:
        return
    total = total_norm.data if isinstance(total_norm, Tensor) else total_norm
    xp = array_module(grads[0].data)
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        g.data *= xp.asarray(coef, dtype=g.data.dtype)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together, in place, so that their joint norm is at most ``max_norm``.

    The norm is computed over the gradients of all ``parameters`` as if they were one vector;
    when it exceeds ``max_norm`` every gradient is multiplied by ``max_norm / (norm + 1e-6)``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clipped (those
            without a gradient are skipped).
        max_norm: the largest allowed norm.
        norm_type: the order of the norm (default 2.0; ``math.inf`` for the largest entry).
        error_if_nonfinite: raise if the norm is NaN or infinite instead of clipping.
        foreach: accepted for PyTorch compatibility; changes nothing.

    Returns:
        The total norm of the gradients before clipping, as a 0-d Tensor.

    Example:
        >>> loss.backward()
        >>> clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> opt.step()
    """
    params = _as_list(parameters)
    grads = _grads(params)
    if not grads:
        return Tensor(0.0)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clip every gradient entry, in place, to ``[-clip_value, clip_value]``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clipped.
        clip_value: the largest allowed magnitude of an entry.
        foreach: accepted for PyTorch compatibility; changes nothing.

    Example:
        >>> clip_grad_value_(model.parameters(), 0.5)
    """
    v = float(clip_value)
    for g in _grads(parameters):
        xp = array_module(g.data)
        xp.clip(g.data, -v, v, out=g.data)
