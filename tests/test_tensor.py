"""The Tensor class and the creation functions: construction, conversion, metadata, in-place
helpers, torch-style calling forms, devices and error messages."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd


# -- creation ------------------------------------------------------------------------------------
def test_tensor_from_python_data_defaults():
    assert sd.tensor([1.0, 2.0]).dtype == np.float32
    assert sd.tensor(3.5).dtype == np.float32 and sd.tensor(3.5).shape == ()
    assert sd.tensor([1, 2]).dtype == np.int64
    assert sd.tensor([True, False]).dtype == np.bool_
    assert sd.tensor([[1.0], [2.0]], dtype="float64").dtype == np.float64
    assert sd.tensor([1, 2], dtype=sd.float32).dtype == np.float32
    np.testing.assert_array_equal(sd.tensor([[1, 2], [3, 4]]).numpy(), [[1, 2], [3, 4]])


def test_tensor_copies_but_from_numpy_shares():
    a = np.arange(4.0)
    t = sd.tensor(a)
    assert t.dtype == np.float64  # an array's dtype is kept
    a[0] = 100.0
    assert t.numpy()[0] == 0.0
    s = sd.from_numpy(a)
    a[1] = 50.0
    assert s.numpy()[1] == 50.0
    assert np.shares_memory(s.numpy(), a)
    s.numpy()[2] = -1.0
    assert a[2] == -1.0
    with pytest.raises(TypeError, match="numpy.ndarray"):
        sd.from_numpy([1.0, 2.0])
    c = sd.tensor(s)
    assert not np.shares_memory(c.numpy(), a)


def test_tensor_from_list_of_tensors():
    t = sd.tensor([sd.tensor(1.0), sd.tensor(2.0)])
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


def test_requires_grad_only_for_floats():
    assert sd.tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        sd.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("make, shape, value", [
    (lambda: sd.zeros(2, 3), (2, 3), 0.0),
    (lambda: sd.zeros((2, 3)), (2, 3), 0.0),
    (lambda: sd.ones(4), (4,), 1.0),
    (lambda: sd.ones([2, 2]), (2, 2), 1.0),
    (lambda: sd.full((2, 2), 1.5), (2, 2), 1.5),
])
def test_constant_creation(make, shape, value):
    t = make()
    assert t.shape == shape and t.dtype == np.float32
    assert (t.numpy() == value).all()
    assert not t.requires_grad


def test_creation_options():
    z = sd.zeros(2, dtype=sd.float64, requires_grad=True)
    assert z.dtype == np.float64 and z.requires_grad and z.is_leaf
    assert sd.full((2,), 7).dtype == np.int64
    assert sd.full((2,), True).dtype == np.bool_
    assert sd.empty(3, 2).shape == (3, 2)
    with pytest.raises(ValueError, match="negative dimension"):
        sd.zeros(2, -1)


def test_ranges_and_eye():
    np.testing.assert_array_equal(sd.arange(5).numpy(), np.arange(5))
    assert sd.arange(5).dtype == np.int64
    np.testing.assert_array_equal(sd.arange(1, 7, 2).numpy(), [1, 3, 5])
    a = sd.arange(0, 1, 0.25)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a.numpy(), [0, 0.25, 0.5, 0.75])
    lin = sd.linspace(0, 1, 5)
    assert lin.dtype == np.float32
    np.testing.assert_allclose(lin.numpy(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(sd.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(sd.eye(2, 3).numpy(), np.eye(2, 3))


def test_random_creation():
    r = sd.rand(200, 5)
    assert r.shape == (200, 5) and r.dtype == np.float32
    assert r.numpy().min() >= 0 and r.numpy().max() < 1
    n = sd.randn(20_000)
    assert n.dtype == np.float32
    assert abs(float(n.mean().item())) < 0.05 and abs(float(n.std().item()) - 1) < 0.05
    assert sd.randn(2, 3, dtype="float64").dtype == np.float64
    i = sd.randint(2, 5, (1000,))
    assert i.dtype == np.int64 and set(np.unique(i.numpy())) == {2, 3, 4}
    j = sd.randint(5, (1000,))  # torch's randint(high, size)
    assert set(np.unique(j.numpy())) == {0, 1, 2, 3, 4}
    p = sd.randperm(10)
    assert sorted(p.tolist()) == list(range(10))


def test_like_functions():
    x = sd.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64")
    for t in (sd.zeros_like(x), sd.ones_like(x), sd.full_like(x, 2.5), sd.empty_like(x),
              sd.rand_like(x), sd.randn_like(x)):
        assert t.shape == x.shape and t.dtype == np.float64
    assert (sd.zeros_like(x).numpy() == 0).all() and (sd.ones_like(x).numpy() == 1).all()
    assert (sd.full_like(x, 2.5).numpy() == 2.5).all()
    assert sd.zeros_like(sd.tensor([1, 2])).dtype == np.int64
    assert sd.ones_like(x, dtype="float32").dtype == np.float32
    assert sd.zeros_like(x, requires_grad=True).requires_grad


def test_manual_seed_reproducibility():
    sd.manual_seed(123)
    a, b, c = sd.randn(5), sd.rand(3), sd.randint(0, 100, (4,))
    sd.manual_seed(123)
    np.testing.assert_array_equal(sd.randn(5).numpy(), a.numpy())
    np.testing.assert_array_equal(sd.rand(3).numpy(), b.numpy())
    np.testing.assert_array_equal(sd.randint(0, 100, (4,)).numpy(), c.numpy())
    sd.manual_seed(124)
    assert not np.array_equal(sd.randn(5).numpy(), a.numpy())
    assert sd.initial_seed() == 124


def test_rng_state_save_and_restore():
    state = sd.random.get_rng_state()
    a = sd.randn(4)
    sd.random.set_rng_state(state)
    np.testing.assert_array_equal(sd.randn(4).numpy(), a.numpy())


def test_explicit_generator_is_independent():
    g1, g2 = sd.random.Generator(5), sd.random.Generator(5)
    sd.randn(10)  # draws from the default stream do not disturb g1/g2
    np.testing.assert_array_equal(sd.randn(3, generator=g1).numpy(),
                                  sd.randn(3, generator=g2).numpy())


# -- conversion and metadata ----------------------------------------------------------------------
def test_numpy_item_tolist():
    x = sd.tensor([[1.0, 2.0], [3.0, 4.0]])
    arr = x.numpy()
    assert isinstance(arr, np.ndarray) and np.shares_memory(arr, x.data)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert isinstance(x.sum().numpy(), np.ndarray)  # a 0-d array, not a NumPy scalar
    s = x.sum().item()
    assert s == 10.0 and isinstance(s, float)
    assert sd.tensor([[7]]).item() == 7 and isinstance(sd.tensor([[7]]).item(), int)
    with pytest.raises(ValueError, match="one element.*\\(2, 2\\)"):
        x.item()
    assert float(sd.tensor(2.5)) == 2.5 and int(sd.tensor(3)) == 3


def test_shape_ndim_dtype_size():
    x = sd.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.dim() == 3
    assert x.dtype == np.float32 and x.dtype == sd.float32
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and sd.numel(x) == 24
    assert x.element_size() == 4


def test_transpose_property_T():
    x = sd.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T.numpy(), x.numpy().T)


def test_detach_shares_data_and_leaves_the_graph():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y.numpy())
    x.detach_()
    assert not x.requires_grad


def test_clone_copies_and_is_differentiable():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.requires_grad and not c.is_leaf
    assert not np.shares_memory(c.numpy(), x.numpy())
    (c * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_dtype_conversions():
    x = sd.tensor([1.5, -2.5])
    assert x.double().dtype == np.float64
    assert x.double().float().dtype == np.float32
    assert x.half().dtype == np.float16
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -2]
    assert x.int().dtype == np.int32
    assert x.bool().dtype == np.bool_
    assert x.to(sd.float64).dtype == np.float64
    assert x.to("float64").dtype == np.float64
    assert x.to(np.float64).dtype == np.float64
    assert x.to(sd.zeros(1, dtype="float64")).dtype == np.float64  # to(other_tensor)
    assert x.to("cpu", "float64").dtype == np.float64
    assert x.to(x.dtype) is x
    assert x.to(x.dtype, copy=True) is not x
    assert x.type() == "shendu.float32"
    assert x.type(sd.float64).dtype == np.float64
    assert x.type("torch.float64").dtype == np.float64
    with pytest.raises(TypeError, match="unknown dtype"):
        x.to("float128x")


def test_integer_conversion_leaves_the_graph():
    x = sd.tensor([1.5, 2.5], requires_grad=True)
    i = x.long()
    assert i.dtype == np.int64 and not i.requires_grad and i.grad_fn is None
    y = x.double()
    assert y.requires_grad and y.dtype == np.float64


def test_view_as_reshape_as_expand_as():
    x = sd.arange(6).float()
    y = sd.zeros(2, 3)
    assert x.view_as(y).shape == (2, 3) and x.reshape_as(y).shape == (2, 3)
    assert sd.ones(3).expand_as(y).shape == (2, 3)


def test_comparisons_return_bool_tensors():
    a, b = sd.tensor([1.0, 2.0, 3.0]), sd.tensor([1.0, 0.0, 3.0])
    for r, expected in [(a.eq(b), [True, False, True]), (a == b, [True, False, True]),
                        (a != b, [False, True, False]), (a > b, [False, True, False]),
                        (a >= 2, [False, True, True]), (a.lt(2.5), [True, True, False]),
                        (a <= b, [True, False, True])]:
        assert isinstance(r, sd.Tensor) and r.dtype == np.bool_
        assert r.tolist() == expected
    assert a.equal(sd.tensor([1.0, 2.0, 3.0])) and not a.equal(b)
    assert a.allclose(a + 1e-9)
    assert (a == b).any().item() and not (a == b).all().item()


def test_bool_of_tensor():
    assert bool(sd.tensor([1.0])) and not bool(sd.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(sd.tensor([1.0, 2.0]))


# -- in-place helpers -----------------------------------------------------------------------------
@pytest.mark.parametrize("op", [
    lambda t: t.zero_(),
    lambda t: t.add_(1.0),
    lambda t: t.mul_(2.0),
    lambda t: t.sub_(1.0),
    lambda t: t.div_(2.0),
    lambda t: t.fill_(3.0),
    lambda t: t.copy_(np.ones(2)),
    lambda t: t.clamp_(0.0, 1.0),
    lambda t: t.uniform_(),
    lambda t: t.normal_(),
], ids=["zero_", "add_", "mul_", "sub_", "div_", "fill_", "copy_", "clamp_", "uniform_",
        "normal_"])
def test_inplace_on_leaf_requiring_grad_raises_in_grad_mode(op):
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        op(x)
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    with sd.no_grad():
        assert op(x) is x


def test_inplace_results():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    data = x.data
    with sd.no_grad():
        x.add_(sd.tensor([1.0, 1.0]), alpha=2).mul_(3).sub_(1.0)
    np.testing.assert_array_equal(x.numpy(), [8.0, 11.0])
    assert x.data is data  # in place: the same array
    with sd.no_grad():
        x.zero_()
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0])
    y = sd.tensor([1.0, 2.0])  # no grad required: always allowed
    y.div_(2)
    np.testing.assert_array_equal(y.numpy(), [0.5, 1.0])
    y.clamp_(0.6, 0.9)
    np.testing.assert_allclose(y.numpy(), [0.6, 0.9])


def test_setitem():
    y = sd.zeros(3)
    y[1] = 5.0
    assert y.tolist() == [0.0, 5.0, 0.0]
    x = sd.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable"):
        x[0] = 1.0
    with sd.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


# -- len, iteration, repr -------------------------------------------------------------------------
def test_len_and_iteration():
    x = sd.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and all(isinstance(r, sd.Tensor) for r in rows)
    assert rows[2].tolist() == [5.0, 6.0]
    with pytest.raises(TypeError, match="0-d"):
        len(sd.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(sd.tensor(1.0))


def test_iteration_is_differentiable():
    x = sd.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    sum(r * (i + 1) for i, r in enumerate(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 1.0], [2.0, 2.0]])


def test_repr():
    assert repr(sd.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(sd.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=float64" in repr(sd.tensor([1.0], dtype="float64"))
    assert "requires_grad=True" in repr(sd.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(sd.tensor([1.0], requires_grad=True) * 2)
    assert repr(sd.tensor(2.5)) == "tensor(2.5)"


# -- torch-style max/min --------------------------------------------------------------------------
def test_max_with_dim_returns_values_and_indices():
    x = sd.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    r = x.max(1)
    assert r.values.tolist() == [5.0, 7.0] and r.indices.dtype == np.int64
    r = sd.max(x, 0, keepdim=True)
    assert r.values.shape == (1, 3) and r.indices.tolist() == [[1, 0, 1]]
    m = x.min(dim=0)
    assert m.values.tolist() == [1.0, 0.0, 2.0] and m.indices.tolist() == [0, 1, 0]
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])


def test_max_with_axis_returns_values_only():
    x = sd.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    v = x.max(axis=1)
    assert isinstance(v, sd.Tensor) and v.tolist() == [5.0, 7.0]
    assert sd.max(x, axis=0, keepdims=True).shape == (1, 3)
    assert x.max().item() == 7.0 and x.min().item() == 0.0
    e = sd.max(x, sd.tensor([3.0, 3.0, 3.0]))  # elementwise with a tensor
    assert e.tolist() == [[3.0, 5.0, 3.0], [7.0, 3.0, 3.0]]


# -- devices --------------------------------------------------------------------------------------
def test_cpu_device():
    x = sd.tensor([1.0], device="cpu")
    assert x.device == "cpu" and x.device == sd.device("cpu") and str(x.device) == "cpu"
    assert x.to("cpu") is x and x.cpu() is x
    assert sd.zeros(2, device="cpu").device.type == "cpu"
    assert sd.device("cuda:1").index == 1
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        sd.device("tpu")


@pytest.mark.skipif(sd.cuda.is_available(), reason="a GPU is visible")
def test_cuda_without_gpu_is_a_clear_error():
    assert not sd.cuda.is_available() and sd.cuda.device_count() == 0
    x = sd.tensor([1.0])
    for make in (lambda: sd.tensor([1.0], device="cuda"), lambda: sd.zeros(2, device="cuda:0"),
                 lambda: x.to("cuda"), lambda: x.cuda()):
        with pytest.raises(RuntimeError, match="CUDA is not available.*device='cpu'"):
            make()


# -- error messages -------------------------------------------------------------------------------
@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: a ** b, "pow"), (sd.maximum, "maximum"),
    (sd.minimum, "minimum"), (lambda a, b: sd.where(a > 0, a, b), "where"),
    (lambda a, b: a < b, "lt"), (sd.eq, "eq"),
])
def test_broadcast_error_names_op_and_shapes(op, name):
    a, b = sd.ones(2, 3), sd.ones(4)
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(2, 3\) and \(4,\) cannot be "
                                         r"broadcast.*dimension -1 is 3 in the first and 4"):
        op(a, b)


@pytest.mark.parametrize("sa, sb", [((2, 3), (4, 5)), ((3,), (4, 5)), ((2, 3), (4,)),
                                    ((2, 2, 3), (2, 4, 5))])
def test_matmul_error_names_both_shapes(sa, sb):
    with pytest.raises(ValueError, match=rf"matmul: shapes {sa!s}.* and {sb!s}.*".replace(
            "(", r"\(").replace(")", r"\)")):
        sd.ones(*sa) @ sd.ones(*sb)


def test_matmul_batch_and_scalar_errors():
    with pytest.raises(ValueError, match=r"\(2, 2, 3\) and \(3, 3, 5\).*batch"):
        sd.ones(2, 2, 3) @ sd.ones(3, 3, 5)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        sd.matmul(sd.tensor(2.0), sd.ones(2))


def test_reshape_error():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 elements\) as shape \(4, 2\)"):
        sd.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match=r"cannot broadcast shape \(2, 3\) to \(3, 3\)"):
        sd.ones(2, 3).expand(3, 3)


@pytest.mark.parametrize("op, name", [
    (lambda x: x.sum(axis=2), "sum"), (lambda x: x.mean(dim=-3), "mean"),
    (lambda x: x.max(dim=2), "max"), (lambda x: x.softmax(dim=2), "softmax"),
    (lambda x: x.argmax(dim=5), "argmax"), (lambda x: x.squeeze(2), "squeeze"),
    (lambda x: x.flatten(0, 5), "flatten"), (lambda x: x.split(1, dim=2), "split"),
    (lambda x: x.chunk(2, dim=-3), "chunk"), (lambda x: sd.stack([x, x], dim=3), "stack"),
    (lambda x: sd.gather(x, 2, sd.zeros(2, 3, dtype="int64")), "gather"),
    (lambda x: x.repeat_interleave(2, dim=2), "repeat_interleave"),
    (lambda x: sd.cat([x, x], dim=2), "cat"), (lambda x: x.unsqueeze(3), "unsqueeze"),
    (lambda x: x.transpose(0, 2), "transpose"), (lambda x: x.logsumexp(dim=4), "logsumexp"),
])
def test_bad_axis_is_an_index_error_naming_the_op(op, name):
    with pytest.raises(IndexError, match=rf"^{name}: (axis|dim) -?\d+ is out of range"):
        op(sd.ones(2, 3))


def test_other_shape_errors():
    x = sd.ones(2, 3)
    with pytest.raises(ValueError, match="permute: axes \\(0, 0\\) are not a permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match=r"cat: tensors of shapes \[\(2, 3\), \(3, 3\)\]"):
        sd.cat([x, sd.ones(3, 3)], dim=1)
    with pytest.raises(ValueError, match="stack: all tensors must have the same shape"):
        sd.stack([x, sd.ones(3, 2)])
    with pytest.raises(IndexError, match=r"index 5 is invalid for a tensor of shape \(2, 3\)"):
        x[5]
    with pytest.raises(ValueError, match="split: sizes \\[1, 1\\] add up to 2"):
        x.split([1, 1], dim=1)
    with pytest.raises(TypeError, match="gather: index must be an integer tensor"):
        sd.gather(x, 1, sd.zeros(2, 3))
    with pytest.raises(TypeError, match="got both axis=1 and dim=0"):
        sd.sum(x, axis=1, dim=0)


# -- dtype rules and argument checks of single functions ------------------------------------------
def test_integer_and_bool_reductions():
    s = sd.tensor([True, False, True]).sum()
    assert s.item() == 2 and s.dtype == np.int64
    assert sd.tensor([1, 2], dtype="int32").sum().dtype == np.int64  # as torch does
    assert sd.tensor([1, 2]).sum(dtype=sd.float32).dtype == np.float32
    with pytest.raises(TypeError, match="mean\\(\\) needs a floating tensor"):
        sd.tensor([1, 2]).mean()


def test_where_with_only_a_condition_is_nonzero():
    (idx,) = sd.where(sd.tensor([0.0, 1.0, 2.0]) > 0)
    assert idx.tolist() == [1, 2] and idx.dtype == np.int64


def test_argument_errors():
    x = sd.ones(2, 3)
    with pytest.raises(ValueError, match="one_hot: class values must lie in \\[0, 2\\)"):
        sd.one_hot(sd.tensor([0, 3]), 2)
    with pytest.raises(TypeError, match="one_hot expects integer"):
        sd.one_hot(sd.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="at least one of min or max"):
        sd.clip(x)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        sd.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="negative padding"):
        sd.pad(x, (-1, 1))
    with pytest.raises(NotImplementedError, match="reflect"):
        sd.pad(x, (1, 1), mode="reflect")
    with pytest.raises(ValueError, match="split_size must be positive"):
        x.split(0)
