"""``keras.backend``: the few helpers scripts call."""

from ..backend import get_default_dtype, set_default_dtype

__all__ = ["floatx", "set_floatx", "clear_session", "epsilon"]


def floatx() -> str:
    return str(get_default_dtype())


def set_floatx(dtype: str) -> None:
    set_default_dtype(dtype)


def epsilon() -> float:
    return 1e-7


def clear_session() -> None:
    """Keras resets its graph here; shendu has no global graph, so only layer names reset."""
    from ..nn.layers import base

    base._counters.clear()


