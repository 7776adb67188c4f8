"""Tools to check gradients and compare tensors, for users and for shendu's own tests."""

from __future__ import annotations

import numpy as np

from .autograd import no_grad
from .random import Generator
from .tensor import Tensor

__all__ = ["gradcheck", "GradcheckError", "assert_close"]


class GradcheckError(AssertionError):
    """The analytical gradient from backward() disagrees with finite differences."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Compare ``backward()`` with float64 central differences.

    ``fn(*inputs)`` returns a Tensor (or a tuple of them). The check projects the outputs on
    random weights ``v`` and compares d(sum(v * out))/d(input) computed both ways, for every
    input that requires grad.

    Args:
        fn: the function to check.
        inputs: Tensors (float64 recommended; those with requires_grad=True are checked) and
            other arguments passed through unchanged.
        eps: finite-difference step.
        atol, rtol: tolerances of the comparison.

    Example:
        >>> x = Tensor(np.random.rand(3, 4), requires_grad=True, dtype="float64")
        >>> gradcheck(lambda t: (t * t).sum(axis=1), [x])
        True
    """
    inputs = list(inputs)
    g = Generator(seed)
    outs = _outputs(fn, inputs)
    weights = [g.normal(o.shape, dtype=np.float64) for o in outs]
    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    live = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
    if not live:
        raise GradcheckError("gradcheck: no output requires grad; did an input have "
                             "requires_grad=True?")
    loss = None
    for o, w in live:
        term = (o * Tensor(w.astype(o.dtype))).sum()
        loss = term if loss is None else loss + term
    loss.backward()

    def projected() -> float:
        total = 0.0
        for o, w in zip(_outputs(fn, inputs), weights):
            total += float((o.data.astype(np.float64) * w).sum())
        return total

    for k, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        analytic = np.zeros(t.shape) if t.grad is None else t.grad.numpy().astype(np.float64)
        numeric = np.zeros(t.shape, dtype=np.float64)
        if not t.data.flags.c_contiguous:  # reshape(-1) must be a view for the nudges to land
            t.data = np.ascontiguousarray(t.data)
        flat = t.data.reshape(-1)
        with no_grad():
            for i in range(flat.size):
                orig = flat[i]
                flat[i] = orig + eps
                fp = projected()
                flat[i] = orig - eps
                fm = projected()
                flat[i] = orig
                numeric.reshape(-1)[i] = (fp - fm) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            err = np.abs(analytic - numeric)
            i = np.unravel_index(int(err.argmax()), err.shape) if err.ndim else ()
            msg = (f"gradcheck failed for input {k} (shape {tuple(t.shape)}): largest difference "
                   f"{err.max():.3g} at index {tuple(int(j) for j in i)}: backward gave "
                   f"{analytic[i]:.10g}, finite differences {numeric[i]:.10g}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def assert_close(actual, expected, rtol: float = 1e-5, atol: float = 1e-8, msg: str = "") -> None:
    """Assert two tensors/arrays have the same shape and close values."""
    a = actual.numpy() if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected.numpy() if isinstance(expected, Tensor) else np.asarray(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{msg}shape mismatch: {a.shape} vs {e.shape}")
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=msg)
