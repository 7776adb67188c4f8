"""The graph walk: ordering, accumulation, freeing, grad modes, anomaly mode, aliasing, dtypes."""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest

import shendu as sd
from shendu.autograd import AnomalyError, Function
from shendu.testing import gradcheck


def _leaf(values, dtype="float64"):
    return sd.tensor(values, dtype=dtype, requires_grad=True)


# -- graph walk -----------------------------------------------------------------------------------
def test_long_chain_does_not_recurse():
    x = _leaf([1.0, 2.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # well below the graph depth
    try:
        y.sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000] * 2, rtol=1e-9)


def test_long_chain_with_retained_graph_is_collected_without_recursion():
    x = _leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y.tanh() * 1.0
    y.sum().backward(retain_graph=True)
    ref = weakref.ref(y._ctx)
    del y
    gc.collect()
    assert ref() is None


def test_diamond_runs_each_backward_after_all_its_consumers():
    # u feeds exp(u) and the sum directly: the walk must finish exp's backward before u's
    x = _leaf([0.5, 1.0])
    u = x * 2
    (u + u.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 + np.exp(2 * x.numpy())))


@pytest.mark.parametrize("build", [
    lambda u: u + u.exp(),
    lambda u: u.exp() + u,
    lambda u: (u + (u * 3).exp()) + u * u,
    lambda u: (u * u + u) * (u * 3).exp(),
], ids=["u+exp", "exp+u", "nested", "product"])
def test_diamonds_match_finite_differences(build):
    x = _leaf([0.3, -0.4])
    assert gradcheck(lambda t: build(t.sin()), [x])


def _random_dag(leaves, seed: int, stack=sd.stack):
    """Twelve random ops over two leaves; any node may feed several later ones."""
    rng = np.random.default_rng(seed)
    nodes = list(leaves)
    for _ in range(12):
        i, j = rng.integers(0, len(nodes), 2)
        p, q = nodes[i], nodes[j]
        kind = int(rng.integers(0, 6))
        if kind == 0:
            n = p + q
        elif kind == 1:
            n = p * q
        elif kind == 2:
            n = p.sin()
        elif kind == 3:
            n = p - q * 0.3
        elif kind == 4:
            n = (p * 0.5).tanh()
        else:
            n = stack([p, q]).mean(dim=0)
        nodes.append(n)
    out = nodes[-1]
    for n in nodes[-4:-1]:
        out = out + n
    return out


def _dag_leaves(make):
    return [make(np.random.default_rng(i).standard_normal(3)) for i in range(2)]


def test_random_dags_match_finite_differences():
    for seed in range(150):
        leaves = _dag_leaves(lambda d: sd.tensor(d, dtype="float64", requires_grad=True))
        assert gradcheck(lambda a, b, s=seed: _random_dag([a, b], s), leaves), seed


def test_random_dags_match_torch():
    torch = pytest.importorskip("torch")
    for seed in range(500):
        ours = _dag_leaves(lambda d: sd.tensor(d, requires_grad=True))
        theirs = _dag_leaves(lambda d: torch.tensor(d, requires_grad=True))
        _random_dag(ours, seed).sum().backward()
        _random_dag(theirs, seed, stack=torch.stack).sum().backward()
        for o, t in zip(ours, theirs):
            if t.grad is None:  # a leaf the last nodes do not depend on
                assert o.grad is None, seed
            else:
                np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-10,
                                           err_msg=f"seed {seed}")


# -- accumulation -------------------------------------------------------------------------------
def test_tensor_used_several_times_accumulates():
    x = _leaf([1.0, -2.0, 3.0])
    (x * x + x * 3 - x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 2)


def test_same_tensor_twice_in_one_op():
    x = _leaf([1.0, 2.0])
    (x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    x.grad = None
    (x * x * sd.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 40.0])


def test_grads_accumulate_across_backward_calls():
    x = _leaf([1.0, 2.0])
    (x * 3).sum().backward()
    grad_tensor = x.grad
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])
    assert x.grad is grad_tensor  # accumulated into the same tensor, as in PyTorch


def test_retain_graph_allows_a_second_backward():
    x = _leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(x.numpy()))


def test_second_backward_without_retain_graph_raises():
    x = _leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_graph_is_freed_after_backward():
    x = _leaf(np.ones(1000))
    h = x * 2
    saved = weakref.ref(h)
    loss = h.exp().sum()
    del h
    gc.collect()
    assert saved() is not None  # the graph keeps the intermediate alive until backward
    loss.backward()
    gc.collect()
    assert saved() is None
    assert loss._ctx.parents is None


def test_retain_graph_keeps_the_graph():
    x = _leaf([1.0])
    h = x * 2
    saved = weakref.ref(h)
    loss = h.exp().sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert saved() is not None


# -- grad modes -----------------------------------------------------------------------------------
def test_no_grad_context_manager():
    x = _leaf([1.0])
    with sd.no_grad():
        assert not sd.is_grad_enabled()
        y = x * 2
        with sd.enable_grad():
            assert sd.is_grad_enabled()
            z = x * 2
        assert not sd.is_grad_enabled()
    assert sd.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    assert z.requires_grad


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(KeyError):
        with sd.no_grad():
            raise KeyError("boom")
    assert sd.is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses():
    x = _leaf([1.0])

    @sd.no_grad()
    def f(t):
        return t * 2

    @sd.no_grad
    def g(t):
        """doc kept"""
        return t * 2

    assert sd.is_grad_enabled()
    assert not f(x).requires_grad
    assert not g(x).requires_grad
    assert g.__doc__ == "doc kept" and g.__name__ == "g"
    assert sd.is_grad_enabled()


def test_enable_grad_as_decorator_inside_no_grad():
    x = _leaf([1.0])

    @sd.enable_grad()
    def f(t):
        return t * 2

    @sd.enable_grad
    def g(t):
        return t * 2

    with sd.no_grad():
        assert f(x).requires_grad
        assert g(x).requires_grad
        assert not (x * 2).requires_grad


def test_set_grad_enabled_as_call_context_and_decorator():
    x = _leaf([1.0])
    sd.set_grad_enabled(False)
    try:
        assert not sd.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        sd.set_grad_enabled(True)
    assert sd.is_grad_enabled()
    with sd.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert sd.is_grad_enabled()

    @sd.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert sd.is_grad_enabled(), "decorating must not switch the mode"
    assert not f(x).requires_grad
    assert sd.is_grad_enabled()


# -- anomaly mode -------------------------------------------------------------------------------
def test_detect_anomaly_stops_at_first_nonfinite_forward():
    x = sd.tensor([1.0, -1.0], requires_grad=True)
    with sd.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(AnomalyError, match="forward of Log") as info:
            (x * 2).log().exp().sum()
    assert "non-finite" in str(info.value)
    assert not sd.is_anomaly_enabled()


def test_detect_anomaly_in_backward_names_the_op():
    x = sd.tensor([0.0, 4.0], requires_grad=True)
    y = (x.sqrt() * 3).sum()
    with sd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(AnomalyError, match="backward of Sqrt"):
            y.backward()


def test_without_anomaly_mode_nan_passes_silently():
    x = sd.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.numpy()[0])


def test_detect_anomaly_as_decorator_and_switch():
    @sd.detect_anomaly()
    def f(t):
        assert sd.is_anomaly_enabled()
        return t.log()

    with np.errstate(divide="ignore"), pytest.raises(FloatingPointError, match="Log"):
        f(sd.tensor([0.0]))
    assert not sd.is_anomaly_enabled()
    sd.set_detect_anomaly(True)
    try:
        assert sd.is_anomaly_enabled()
        assert (sd.tensor([1.0]).log() + 1).item() == 1.0  # finite values pass
    finally:
        sd.set_detect_anomaly(False)


# -- backward arguments ---------------------------------------------------------------------------
def test_backward_on_non_scalar_needs_grad():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar output.*shape \\(2,\\)"):
        (x * 2).backward()


def test_backward_with_explicit_grad():
    x = _leaf([1.0, 2.0, 3.0])
    g = np.array([1.0, 0.5, -2.0])
    (x * x).backward(grad=g)
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * g)
    g[:] = 0  # the caller's array is not aliased
    assert x.grad.numpy()[0] == 2.0
    y = _leaf([1.0, 2.0])
    (y * 3).backward(sd.tensor([1.0, 1.0], dtype="float64"))
    np.testing.assert_allclose(y.grad.numpy(), [3.0, 3.0])


def test_backward_with_grad_of_wrong_shape():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad of shape \\(3,\\).*shape \\(2,\\)"):
        (x * 2).backward(grad=np.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sd.tensor([1.0]).sum().backward()


def test_backward_on_a_leaf():
    x = _leaf([1.0, 2.0])
    x.backward(grad=np.array([3.0, 4.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_retain_grad_on_non_leaf():
    x = _leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    k = h * 5  # no retain_grad: no .grad kept
    (h * h + k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy() + 5)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * h.numpy() + 5))
    assert k.grad is None
    assert not h.is_leaf and x.is_leaf


def test_retain_grad_on_the_root():
    x = _leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    y.backward(grad=np.array([1.0, -1.0]))
    np.testing.assert_allclose(y.grad.numpy(), [1.0, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -2.0])


# -- aliasing -----------------------------------------------------------------------------------
def test_leaf_grads_never_alias_each_other():
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    w = sd.tensor([1.0, 2.0], dtype="float64")
    ((a + b) * w).sum().backward()  # Add's backward returns one array for both inputs
    assert a.grad.data is not b.grad.data
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.data[0] = 100.0
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 2.0])


def test_leaf_grad_does_not_alias_a_pending_gradient():
    # each Add hands one array to both the leaf b and the pending gradient of n; adding the
    # second Add's share into b.grad in place would change what later flows into n
    a, b = _leaf([0.5, -1.0, 2.0]), _leaf([1.5, 0.3, -0.7])
    n = b * a
    out = (n + b) * (b + n)  # (ab + b)^2
    out.sum().backward()
    av, bv = a.numpy(), b.numpy()
    np.testing.assert_allclose(b.grad.numpy(), 2 * (av * bv + bv) * (av + 1))
    np.testing.assert_allclose(a.grad.numpy(), 2 * (av * bv + bv) * bv)


def test_grads_do_not_alias_graph_inputs_or_outputs():
    x = _leaf([1.0, 2.0])
    y = x.clone()
    y.sum().backward()
    assert not np.shares_memory(x.grad.numpy(), x.numpy())
    z = _leaf([1.0, 2.0])
    z[0:2].sum().backward()  # basic indexing views the input
    assert not np.shares_memory(z.grad.numpy(), z.numpy())


# -- multi-output ops ---------------------------------------------------------------------------
def test_split_with_only_some_outputs_used():
    x = _leaf(np.arange(10.0).reshape(5, 2))
    a, b, c = x.split(2)
    (b * 3).sum().backward()
    expected = np.zeros((5, 2))
    expected[2:4] = 3
    np.testing.assert_allclose(x.grad.numpy(), expected)
    assert a.shape == (2, 2) and c.shape == (1, 2)


def test_split_outputs_used_in_different_branches():
    x = _leaf(np.arange(6.0))
    a, b, c = x.chunk(3)
    ((a * b).sum() + (c * 2).sum() + a.sum()).backward()
    xs = x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), [xs[2] + 1, xs[3] + 1, xs[0], xs[1], 2, 2])


# -- dtypes ---------------------------------------------------------------------------------------
class _Probe(Function):
    """Identity that records the dtypes of the gradients flowing through it."""

    seen: list = []

    def forward(self, x):
        return x

    def backward(self, gy):
        _Probe.seen.append(gy.dtype)
        return gy


@pytest.mark.parametrize("expr", [
    lambda x: x * 2.0,
    lambda x: 2.0 * x,
    lambda x: x / 3,
    lambda x: 3 / (x + 5),
    lambda x: x + 1,
    lambda x: 1 - x,
    lambda x: x ** 2,
    lambda x: x ** 0.5,
    lambda x: 2.0 ** x,
    lambda x: x * np.float64(2.0),
    lambda x: x / np.sqrt(np.float64(4.0)),
    lambda x: x.clamp(np.float64(0.2), np.float64(0.8)),
    lambda x: sd.leaky_relu(x - 0.5, np.float64(0.1)),
    lambda x: sd.elu(x - 0.5, alpha=np.float64(1.5)),
    lambda x: sd.maximum(x, 0.5),
    lambda x: sd.minimum(x, sd.tensor(0.5)),
    lambda x: x.clamp(0.2, 0.8),
    lambda x: sd.where(x > 0.5, x, 0.0),
    lambda x: x.mean(),
    lambda x: x.var(dim=0),
    lambda x: x.std(),
    lambda x: x.softmax(dim=-1),
    lambda x: x.log_softmax(dim=0),
    lambda x: x.logsumexp(dim=1),
    lambda x: sd.gelu(x),
    lambda x: sd.gelu(x, approximate="tanh"),
    lambda x: sd.softplus(x),
    lambda x: sd.sigmoid(x),
    lambda x: sd.elu(x),
    lambda x: x.prod(),
    lambda x: x @ x.T,
], ids=lambda f: "")
def test_float32_stays_float32(expr):
    x = sd.tensor(np.random.default_rng(0).uniform(0.1, 1.0, (3, 4)), dtype="float32",
                  requires_grad=True)
    _Probe.seen = []
    y = expr(_Probe.apply(x))
    assert y.dtype == np.float32
    (y * 1.5).sum().backward()
    assert _Probe.seen == [np.float32]
    assert x.grad.dtype == np.float32


def test_float64_grads_flow_through_dtype_casts():
    x = _leaf([1.0, 2.0])
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_backward_from_one_output_of_a_multi_output_op():
    x = _leaf(np.arange(6.0))
    _, b, _ = x.split(2)
    b.backward(grad=np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1, 2, 0, 0])
