"""Matrix products. The backward of ``a @ b`` is two more GEMMs; batch dimensions broadcast."""

from __future__ import annotations

from ..autograd import Function, unbroadcast


def _matmul_error(a, b) -> ValueError:
    sa, sb = tuple(a.shape), tuple(b.shape)
    if a.ndim and b.ndim and sa[-1] != sb[-2 if b.ndim > 1 else 0]:
        k = sb[-2 if b.ndim > 1 else 0]
        return ValueError(
            f"matmul: shapes {sa} and {sb} are not aligned: the last dimension of the first "
            f"({sa[-1]}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} dimension of "
            f"the second ({k})"
        )
    return ValueError(f"matmul: shapes {sa} and {sb} cannot be multiplied (batch dimensions "
                      "must broadcast; 0-d tensors are not allowed)")


class MatMul(Function):
    """``a @ b`` for operands with at least 2 dimensions (1-D cases are reshaped by the caller)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            return a @ b
        except ValueError:
            raise _matmul_error(a, b) from None

    def backward(self, gy):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        ga = gb = None
        if na:  # dL/da = gy b^T
            ga = gy @ b.swapaxes(-1, -2)
            if ga.shape != a.shape:
                ga = unbroadcast(ga, a.shape)
        if nb:  # dL/db = a^T gy
            gb = a.swapaxes(-1, -2) @ gy
            if gb.shape != b.shape:
                gb = unbroadcast(gb, b.shape)
        return ga, gb
