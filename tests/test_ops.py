"""One harness over the op registry (``op_specs.SPECS``) plus numerical edge cases of single ops.

For every spec: forward against NumPy in float32 and float64, backward against float64 finite
differences, float32 gradients that stay float32 all the way back, and (when PyTorch is
installed) forward and gradients against PyTorch in float64.
"""

from __future__ import annotations

import inspect
import math
import zlib

import numpy as np
import pytest
from op_specs import SPECS, make_inputs

import shendu as sd
from shendu.autograd import Function
from shendu.ops import conv, elementwise, fused, linalg, movement, norm, pool, reduce, tree
from shendu.testing import gradcheck

GRAD_SPECS = [s for s in SPECS if s.grad]
ORACLE_SPECS = [s for s in SPECS if s.oracle is not None]


def _ids(specs):
    return [s.name for s in specs]


def _seed(spec) -> int:
    return zlib.crc32(spec.name.encode())


def _as_list(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _tensors(spec, arrays, requires_grad: bool) -> list:
    return [sd.tensor(a, requires_grad=requires_grad and arg.grad and a.dtype.kind == "f")
            for arg, a in zip(spec.args, arrays)]


def _projected_loss(outs, seed: int):
    """sum_i sum(out_i * w_i) with fixed random weights w_i of each output's dtype."""
    rng = np.random.default_rng(seed)
    loss = None
    for o in outs:
        w = rng.standard_normal(o.shape).astype(o.dtype)
        term = (o * sd.tensor(w)).sum()
        loss = term if loss is None else loss + term
    return loss


# -- forward against NumPy -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("spec", SPECS, ids=_ids(SPECS))
def test_forward_matches_numpy(spec, dtype):
    arrays = make_inputs(spec, dtype, _seed(spec))
    outs = _as_list(spec.fn(*_tensors(spec, arrays, requires_grad=False)))
    refs = _as_list(spec.ref(*[a.astype(np.float64) if a.dtype.kind == "f" else a
                               for a in arrays]))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        r = np.asarray(r)
        assert isinstance(o, sd.Tensor)
        assert isinstance(o.data, np.ndarray), f"data is {type(o.data).__name__}, not an array"
        assert o.shape == r.shape
        if r.dtype.kind == "f":
            assert o.dtype == dtype, f"{spec.name}: {np.dtype(dtype)} input gave {o.dtype}"
            tol = spec.rtol32 if dtype == np.float32 else 1e-10
            np.testing.assert_allclose(o.numpy(), r, rtol=tol, atol=tol)
        else:
            assert o.dtype.kind == r.dtype.kind, f"{spec.name}: dtype {o.dtype} vs {r.dtype}"
            np.testing.assert_array_equal(o.numpy(), r)
        assert not o.requires_grad


# -- backward against finite differences ---------------------------------------------------------
@pytest.mark.parametrize("spec", GRAD_SPECS, ids=_ids(GRAD_SPECS))
def test_backward_gradcheck(spec):
    arrays = make_inputs(spec, np.float64, _seed(spec))
    tensors = _tensors(spec, arrays, requires_grad=True)
    assert any(t.requires_grad for t in tensors)
    assert all(o.requires_grad for o in _as_list(spec.fn(*tensors)))
    assert gradcheck(spec.fn, tensors)


_seen_dtypes: list = []


class _Probe(Function):
    """Identity that records the dtype of the gradient flowing back into an op's input."""

    def forward(self, x):
        return x

    def backward(self, gy):
        _seen_dtypes.append(gy.dtype)
        return gy


@pytest.mark.parametrize("spec", GRAD_SPECS, ids=_ids(GRAD_SPECS))
def test_backward_keeps_float32(spec):
    arrays = make_inputs(spec, np.float32, _seed(spec))
    leaves = _tensors(spec, arrays, requires_grad=True)
    probed = [_Probe.apply(t) if t.requires_grad else t for t in leaves]
    _seen_dtypes.clear()
    _projected_loss(_as_list(spec.fn(*probed)), _seed(spec)).backward()
    assert _seen_dtypes and all(d == np.float32 for d in _seen_dtypes), _seen_dtypes
    for t in leaves:
        if t.requires_grad:
            assert t.grad is not None and t.grad.dtype == np.float32
            assert t.grad.shape == t.shape
            assert np.isfinite(t.grad.numpy()).all()


def test_registry_covers_every_primitive():
    """A new Function in shendu.ops without a spec line fails here."""
    defined = {
        cls for mod in (elementwise, linalg, movement, reduce, conv, pool, norm, fused,
                    tree)
        for _, cls in inspect.getmembers(mod, inspect.isclass)
        if issubclass(cls, Function) and cls.__module__ == mod.__name__
        and not cls.__name__.startswith("_")
    }
    used = set()
    for spec in GRAD_SPECS:
        seen = set()  # node ids, per spec: the graph is alive while its outputs are
        arrays = make_inputs(spec, np.float64, _seed(spec))
        stack = [o._ctx for o in _as_list(spec.fn(*_tensors(spec, arrays, True)))]
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen:  # by node: a known op type may hide a new one
                continue
            seen.add(id(fn))
            used.add(type(fn))
            stack += [p._ctx for p in fn.parents if isinstance(p, sd.Tensor)]
    missing = sorted(c.__name__ for c in defined - used)
    assert not missing, f"primitives without a spec in tests/op_specs.py: {missing}"


# -- PyTorch as a second oracle ------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch1():
    """PyTorch on one thread: on tiny tensors its thread pool only costs (measured: float64
    convolutions 100x slower with 2 threads than with 1 on a 2-core machine)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.mark.parametrize("spec", ORACLE_SPECS, ids=_ids(ORACLE_SPECS))
def test_matches_torch(spec, torch1):
    torch = torch1
    arrays = make_inputs(spec, np.float64, _seed(spec))
    ours = _tensors(spec, arrays, requires_grad=spec.grad)
    theirs = [torch.tensor(a, requires_grad=spec.grad and arg.grad and a.dtype.kind == "f")
              for arg, a in zip(spec.args, arrays)]
    outs = _as_list(spec.fn(*ours))
    touts = _as_list(spec.oracle(*theirs))
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        tn = t.detach().numpy()
        assert o.shape == tn.shape
        assert o.dtype.kind == tn.dtype.kind, f"{spec.name}: dtype {o.dtype} vs torch {t.dtype}"
        np.testing.assert_allclose(o.numpy(), tn, rtol=1e-10, atol=1e-12)
    if not spec.grad:
        return
    _projected_loss(outs, _seed(spec)).backward()
    rng = np.random.default_rng(_seed(spec))
    tloss = sum((t * torch.tensor(rng.standard_normal(tuple(t.shape)))).sum() for t in touts)
    tloss.backward()
    for o, t in zip(ours, theirs):
        if t.requires_grad:
            assert o.grad is not None
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


# -- edge cases of single ops --------------------------------------------------------------------
def test_max_reduction_ties_share_the_gradient():
    x = sd.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]],
                               rtol=1e-6)


def test_maximum_and_minimum_ties_split_half_and_half():
    a = sd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = sd.tensor([1.0, 5.0, 0.0], requires_grad=True)
    (sd.maximum(a, b) + 10 * sd.minimum(a, b)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [5.5, 10.0, 1.0])
    np.testing.assert_allclose(b.grad.numpy(), [5.5, 1.0, 10.0])


def test_ties_match_torch():
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = sd.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    (x.amax(dim=1) * sd.tensor([1.0, 2.0])).sum().backward()
    (tx.amax(dim=1) * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    a, b = sd.tensor(data, requires_grad=True), sd.tensor(np.full((2, 3), 2.0), requires_grad=True)
    ta, tb = torch.tensor(data, requires_grad=True), torch.full((2, 3), 2.0, dtype=torch.float64,
                                                                 requires_grad=True)
    sd.maximum(a, b).sum().backward()
    torch.maximum(ta, tb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy())


def test_prod_gradient_is_exact_with_zeros():
    x = sd.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]], dtype="float64", requires_grad=True)
    x.prod(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])


def test_stable_at_extreme_inputs():
    big = sd.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # not only finite results
        outs = [sd.sigmoid(big), sd.softplus(big), sd.tanh(big), sd.log_softmax(big, dim=0),
                sd.softmax(big, dim=0), sd.logsumexp(big, dim=0), sd.gelu(big)]
        sum(o.sum() for o in outs).backward()
    for o in outs:
        assert np.isfinite(o.numpy()).all()
    assert np.isfinite(big.grad.numpy()).all()
    np.testing.assert_allclose(sd.sigmoid(big).numpy(), [0, 1 / (1 + math.exp(30)), 0.5,
                                                         1 / (1 + math.exp(-30)), 1], atol=1e-7)
    np.testing.assert_allclose(sd.logsumexp(big, dim=0).item(), 1000.0)


def test_logsumexp_of_all_minus_inf_is_minus_inf():
    x = sd.tensor([[-np.inf, -np.inf], [0.0, 0.0]])
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer here
        out = sd.logsumexp(x, dim=1).numpy()
    assert out[0] == -np.inf
    np.testing.assert_allclose(out[1], math.log(2))


def test_gelu_erf_accuracy():
    xs = np.linspace(-8, 8, 1601)
    expected = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in xs])
    np.testing.assert_allclose(sd.gelu(sd.tensor(xs)).numpy(), expected, rtol=1e-12, atol=1e-14)


def test_var_correction_spellings():
    x = sd.tensor([1.0, 2.0, 4.0, 7.0], dtype="float64")
    data = x.numpy()
    np.testing.assert_allclose(x.var().item(), np.var(data, ddof=1))
    np.testing.assert_allclose(x.var(unbiased=False).item(), np.var(data))
    np.testing.assert_allclose(x.var(ddof=0).item(), np.var(data))
    np.testing.assert_allclose(x.var(correction=2).item(), np.var(data, ddof=2))
    np.testing.assert_allclose(x.std(dim=0).item(), np.std(data, ddof=1))


# -- the harness's own checker ---------------------------------------------------------------
class _WrongSquare(Function):
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * self.x  # wrong on purpose: the derivative is 2x


def test_gradcheck_catches_a_wrong_backward():
    x = sd.tensor([0.5, -1.5, 2.0], dtype="float64", requires_grad=True)
    with pytest.raises(sd.testing.GradcheckError, match="input 0"):
        gradcheck(_WrongSquare.apply, [x])
    assert gradcheck(_WrongSquare.apply, [x], raise_exception=False) is False
    assert gradcheck(lambda t: t * t, [x])


def test_gradcheck_perturbs_non_contiguous_inputs():
    x = sd.Tensor(np.arange(1.0, 7.0).reshape(2, 3).T, requires_grad=True)  # a strided view
    assert not x.data.flags.c_contiguous
    assert gradcheck(lambda t: (t * t).sum(axis=0), [x])
