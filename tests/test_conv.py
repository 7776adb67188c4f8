"""Convolution, pooling and normalization primitives beyond the op registry: the max-pooling tie
rule, running statistics of batch norm, frozen inputs, geometry edge cases and clear errors.

The registry (tests/op_specs.py) checks each primitive's forward and gradients case by case;
here are the behaviours a spec line cannot express.
"""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.ops import conv as C
from shendu.testing import gradcheck


@pytest.fixture
def torch():
    """PyTorch on one thread (tiny tensors: its thread pool only costs)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def _t(a, grad=False):
    return sd.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# -- max pooling: ties ---------------------------------------------------------------------------
def test_max_pool_tie_sends_the_gradient_to_the_first_cell_of_the_window():
    x = _t(np.zeros((1, 1, 4, 4)), grad=True)  # all equal, as after a ReLU of negatives
    F.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1.0  # the top-left cell of each window, in row-major order
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)

    # a tie between the 2nd and 4th cell of a window: the 2nd (row-major) wins
    data = np.array([[0.0, 5.0], [1.0, 5.0]])[None, None]
    x = _t(data, grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("kernel, stride, padding, dilation", [
    (2, 2, 0, 1), (3, 1, 1, 1), (3, 2, 1, 1), (2, 1, 0, 1), (2, 1, 0, 2), ((3, 2), (1, 2), 0, 1)])
@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_max_pool_ties_match_torch(torch, kernel, stride, padding, dilation, layout):
    rng = np.random.default_rng(3)
    data = np.maximum(rng.integers(-2, 3, (2, 3, 6, 7)).astype(np.float64), 0)  # many ties
    data[0, 0] = 0.0  # a whole plane of ties
    v = rng.integers(-3, 4, (2, 3, 6, 7)).astype(np.float64)  # exact sums: equality below
    xt = torch.tensor(data, requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt, kernel, stride, padding, dilation)
    (yt * torch.tensor(v[:, :, :yt.shape[2], :yt.shape[3]])).sum().backward()
    if layout == "channels_first":
        x = _t(data, grad=True)
        y = F.max_pool2d(x, kernel, stride, padding, dilation)
        w = v[:, :, :y.shape[2], :y.shape[3]]
        grad = lambda: x.grad.numpy()  # noqa: E731
    else:
        x = _t(data.transpose(0, 2, 3, 1), grad=True)
        y = F.max_pool2d(x, kernel, stride, padding, dilation, data_format="channels_last")
        w = v[:, :, :y.shape[1], :y.shape[2]].transpose(0, 2, 3, 1)
        grad = lambda: x.grad.numpy().transpose(0, 3, 1, 2)  # noqa: E731
    (y * _t(w)).sum().backward()
    np.testing.assert_array_equal(grad(), xt.grad.numpy())
    # each window sends its whole gradient to exactly one cell: totals are preserved
    assert grad().sum() == w.sum()


def test_max_pool_of_relu_output_in_float32_keeps_one_winner_per_window():
    x = sd.tensor(-np.ones((2, 4, 6, 6), np.float32), requires_grad=True)
    F.max_pool2d(sd.relu(x), 3, 3).sum().backward()
    assert x.grad.dtype == np.float32
    assert not x.grad.numpy().any()  # relu's gradient is 0 below zero, winner or not
    y = sd.tensor(np.zeros((2, 4, 6, 6), np.float32), requires_grad=True)
    F.max_pool2d(y, 3, 3).sum().backward()
    g = y.grad.numpy()
    assert g.sum() == 2 * 4 * 2 * 2 and set(np.unique(g)) == {0.0, 1.0}


# -- batch norm: running statistics ---------------------------------------------------------------
def test_batch_norm_running_stats_match_torch_over_steps(torch):
    rng = np.random.default_rng(0)
    rm, rv = np.zeros(3), np.ones(3)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    g, b = rng.standard_normal(3), rng.standard_normal(3)
    for step in range(4):
        x = rng.standard_normal((5, 3, 2, 2)) * (step + 1) + step
        y = F.batch_norm(_t(x), rm, rv, _t(g), _t(b), training=True, momentum=0.2)
        yt = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, torch.tensor(g),
                                            torch.tensor(b), training=True, momentum=0.2)
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-12)
    # PyTorch's running variance is the unbiased batch variance (m / (m - 1))
    x = rng.standard_normal((4, 3, 1, 1))
    rm, rv = np.zeros(3), np.zeros(3)
    F.batch_norm(_t(x), rm, rv, training=True, momentum=1.0)
    np.testing.assert_allclose(rv, x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    np.testing.assert_allclose(rm, x.mean(axis=(0, 2, 3)), rtol=1e-12)
    # eval mode uses the running statistics and leaves them alone
    before = rv.copy()
    y = F.batch_norm(_t(x), rm, rv, training=False)
    np.testing.assert_allclose(y.numpy(), (x - rm[:, None, None]) / np.sqrt(rv[:, None, None]
                                                                            + 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(rv, before)


def test_batch_norm_keras_convention_uses_biased_variance():
    x = np.random.default_rng(1).standard_normal((6, 4))
    rm, rv = np.zeros(4), np.ones(4)
    F.batch_norm(_t(x), rm, rv, training=True, momentum=0.01, axis=-1, unbiased_running=False)
    np.testing.assert_allclose(rm, 0.01 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(rv, 0.99 + 0.01 * x.var(0), rtol=1e-12)


def test_batch_norm_running_stats_as_tensors_float32():
    rm = sd.zeros(2)
    rv = sd.ones(2)
    x = sd.tensor(np.arange(12, dtype=np.float32).reshape(3, 2, 2), requires_grad=True)
    y = F.batch_norm(x, rm, rv, training=True)
    assert y.dtype == np.float32 and rm.dtype == np.float32 and rv.dtype == np.float32
    assert rm.numpy().any()  # updated in place
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(sd.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        F.batch_norm(sd.zeros(2, 3), None, None, training=False)
    with pytest.raises(ValueError, match=r"weight has shape \(4,\).*3 channels"):
        F.batch_norm(sd.zeros(2, 3), None, None, sd.ones(4), training=True)


def test_norm_errors():
    with pytest.raises(ValueError, match="does not end with normalized_shape"):
        F.layer_norm(sd.zeros(2, 3), (4,))
    with pytest.raises(ValueError, match="not divisible by 2 groups"):
        F.group_norm(sd.zeros(2, 3, 4), 2)


# -- convolution: gradients with frozen operands ------------------------------------------------
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("frozen", ["input", "weight"])
def test_conv2d_gradient_of_one_operand_matches_torch(torch, groups, frozen):
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal((2, 4, 5, 5)), rng.standard_normal((6, 4 // groups, 3, 3)),
               rng.standard_normal(6))
    xs, ws, bs = _t(x, frozen != "input"), _t(w, frozen != "weight"), _t(b, True)
    xt, wt, bt = (torch.tensor(x, requires_grad=frozen != "input"),
                  torch.tensor(w, requires_grad=frozen != "weight"),
                  torch.tensor(b, requires_grad=True))
    v = rng.standard_normal((2, 6, 3, 3))
    (F.conv2d(xs, ws, bs, stride=2, padding=1, groups=groups) * _t(v)).sum().backward()
    (torch.nn.functional.conv2d(xt, wt, bt, 2, 1, 1, groups) * torch.tensor(v)).sum().backward()
    live, dead = ((ws, wt), xs) if frozen == "input" else ((xs, xt), ws)
    np.testing.assert_allclose(live[0].grad.numpy(), live[1].grad.numpy(), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(bs.grad.numpy(), bt.grad.numpy(), rtol=1e-10)
    assert dead.grad is None


def test_conv2d_nothing_recorded_without_grad():
    y = F.conv2d(sd.randn(1, 2, 4, 4), sd.randn(3, 2, 3, 3))
    assert y.grad_fn is None and not y.requires_grad


def test_conv2d_float32_realistic_size_matches_torch(torch):
    rng = np.random.default_rng(2)
    for cin in (1, 3, 16):  # channel-planar im2col (few channels) and window view (many)
        x = rng.standard_normal((4, cin, 12, 12)).astype(np.float32)
        w = (rng.standard_normal((8, cin, 3, 3)) / 3).astype(np.float32)
        b = rng.standard_normal(8).astype(np.float32)
        xs = sd.tensor(x, requires_grad=True)
        y = F.conv2d(xs, sd.tensor(w), sd.tensor(b), padding=1, activation="relu")
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.relu(torch.nn.functional.conv2d(xt, torch.tensor(w), torch.tensor(b),
                                                   padding=1))
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        y.sum().backward()
        yt.sum().backward()
        assert xs.grad.dtype == np.float32
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_conv2d_fused_relu_equals_relu_after_conv():
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)),
               rng.standard_normal(4))
    xs1, xs2 = _t(x, True), _t(x, True)
    ws1, ws2 = _t(w, True), _t(w, True)
    y1 = F.conv2d(xs1, ws1, _t(b), padding="same", activation="relu")
    y2 = sd.relu(F.conv2d(xs2, ws2, _t(b), padding="same"))
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    y1.sum().backward()
    y2.sum().backward()
    np.testing.assert_array_equal(xs1.grad.numpy(), xs2.grad.numpy())
    np.testing.assert_array_equal(ws1.grad.numpy(), ws2.grad.numpy())
    with pytest.raises(ValueError, match="fused activation must be None or 'relu'"):
        F.conv2d(_t(x), _t(w), activation="tanh")


# -- geometry ------------------------------------------------------------------------------------
def test_same_padding_puts_the_odd_cell_at_the_end_like_tensorflow():
    assert C.same_padding(5, 2, 1) == (0, 1)
    assert C.same_padding(5, 3, 2) == (1, 1)
    assert C.same_padding(6, 3, 2) == (0, 1)
    assert C.same_padding(4, 3, 1, dilation=2) == (2, 2)
    assert C.same_padding(7, 1, 3) == (0, 0)
    x = _t(np.ones((1, 1, 3, 3)))
    y = F.conv2d(x, _t(np.ones((1, 1, 2, 2))), padding="same").numpy()[0, 0]
    np.testing.assert_array_equal(y, [[4, 4, 2], [4, 4, 2], [2, 2, 1]])


@pytest.mark.parametrize("hw, stride", [((7, 6), 2), ((5, 5), 3), ((4, 9), (2, 3))])
def test_conv2d_same_output_is_ceil_of_input_over_stride(hw, stride):
    s = C._pair(stride)
    y = F.conv2d(sd.zeros(1, 2, *hw), sd.zeros(3, 2, 3, 3), stride=stride, padding="same")
    assert y.shape == (1, 3, -(-hw[0] // s[0]), -(-hw[1] // s[1]))


def test_avg_pool_ceil_mode_counts_explicit_padding_but_not_the_extra_cells(torch):
    # regression: with ceil_mode and count_include_pad, the divisor excluded the explicit padding
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    y = F.avg_pool2d(_t(x), 3, 2, 1, ceil_mode=True, count_include_pad=True).numpy()
    yt = torch.nn.functional.avg_pool2d(torch.tensor(x), 3, 2, 1, ceil_mode=True,
                                        count_include_pad=True).numpy()
    np.testing.assert_allclose(y, yt, rtol=1e-12)
    # the top-left window covers 2x2 real cells and 5 padded ones: divisor 9
    np.testing.assert_allclose(y[0, 0, 0, 0], (1 + 2 + 5 + 6) / 9)
    # the last window ends beyond the padded input: only 2x2 cells of it are counted
    np.testing.assert_allclose(y[0, 0, 2, 2], 16 / 4)


def test_adaptive_pool_keeps_an_axis_given_as_none():
    # regression: output_size=(None, k) raised a TypeError
    x = sd.randn(2, 3, 5, 4)
    assert F.adaptive_avg_pool2d(x, (None, 2)).shape == (2, 3, 5, 2)
    assert F.adaptive_max_pool2d(x, (3, None)).shape == (2, 3, 3, 4)
    assert F.adaptive_avg_pool2d(x, None).shape == (2, 3, 5, 4)


def test_conv1d_same_padding_keeps_length():
    y = F.conv1d(sd.randn(2, 3, 9), sd.randn(4, 3, 4), padding="same")
    assert y.shape == (2, 4, 9)
    y = F.conv1d(sd.randn(2, 9, 3), sd.randn(5, 3, 4), stride=2, padding="same",
                 data_format="channels_last")
    assert y.shape == (2, 5, 4)


def test_conv_transpose_is_the_adjoint_of_conv():
    # <conv(x), y> == <x, conv_transpose(y)> for the same kernel, stride, padding, dilation
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((4, 3, 3, 2))
    for stride, padding, dilation in ((1, 0, 1), (2, 1, 1), (2, 0, 2), ((2, 3), (1, 0), 1)):
        y = F.conv2d(_t(x), _t(w), stride=stride, padding=padding, dilation=dilation).numpy()
        g = rng.standard_normal(y.shape)
        back = F.conv_transpose2d(_t(g), _t(w), stride=stride, padding=padding,
                                  dilation=dilation).numpy()
        # the transpose may be short of the input where the conv never read (output_padding)
        xs = x[:, :, :back.shape[2], :back.shape[3]]
        np.testing.assert_allclose((y * g).sum(), (xs * back).sum(), rtol=1e-10)


def test_conv_gradcheck_with_channels_last_and_all_options_at_once():
    rng = np.random.default_rng(8)
    x = _t(rng.standard_normal((2, 6, 5, 4)), True)
    w = _t(rng.standard_normal((3, 2, 2, 4)), True)  # groups=2: (kh, kw, C/g, F)
    b = _t(rng.standard_normal(4), True)
    assert gradcheck(lambda x_, w_, b_: F.conv2d(x_, w_, b_, (2, 1), ((2, 0), (1, 1)), (1, 2), 2,
                                                 data_format="channels_last"), [x, w, b])


# -- errors ---------------------------------------------------------------------------------------
def test_conv_errors_are_clear():
    with pytest.raises(ValueError, match=r"input has 3 channels but the kernel expects 4"):
        F.conv2d(sd.zeros(1, 3, 5, 5), sd.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"not divisible by groups=2"):
        F.conv2d(sd.zeros(1, 4, 5, 5), sd.zeros(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"too small for kernel \(3, 3\)"):
        F.conv2d(sd.zeros(1, 1, 2, 2), sd.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="padding must be 'valid', 'same'"):
        F.conv2d(sd.zeros(1, 1, 4, 4), sd.zeros(1, 1, 3, 3), padding="full")
    with pytest.raises(ValueError, match="non-negative"):
        F.conv2d(sd.zeros(1, 1, 4, 4), sd.zeros(1, 1, 3, 3), padding=-1)
    with pytest.raises(ValueError, match=r"4-D input \(N, C, H, W\).*\(3, 5, 5\).*batch"):
        F.conv2d(sd.zeros(3, 5, 5), sd.zeros(1, 3, 3, 3))
    with pytest.raises(ValueError, match=r"4-D input \(N, H, W, C\)"):
        F.conv2d(sd.zeros(3, 5), sd.zeros(1, 3, 3, 3), data_format="channels_last")
    with pytest.raises(ValueError, match="data_format must be"):
        F.conv2d(sd.zeros(1, 1, 4, 4), sd.zeros(1, 1, 3, 3), data_format="NDHWC")
    with pytest.raises(ValueError, match="removes the whole output"):
        F.conv_transpose2d(sd.zeros(1, 1, 1, 1), sd.zeros(1, 1, 1, 1), padding=1)
    with pytest.raises(ValueError, match="too small for window"):
        F.max_pool2d(sd.zeros(1, 1, 2, 2), 3)
    with pytest.raises(NotImplementedError, match="return_indices"):
        F.max_pool2d(sd.zeros(1, 1, 4, 4), 2, return_indices=True)
