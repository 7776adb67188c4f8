"""The primitive operations, one module per family.

Each primitive is a ``Function`` subclass; the public functions that call them live in
``shendu.functional`` and as Tensor methods. ``tests/op_specs.py`` lists every one.
"""

from . import elementwise, linalg, movement, reduce

__all__ = ["elementwise", "linalg", "movement", "reduce"]
