"""The fused recurrent primitives (LSTM, GRU, RNN): PyTorch agreement, masks, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.ops import recurrent as R
from shendu.testing import gradcheck

T, N, I, H = 5, 3, 4, 6
RNG = np.random.default_rng(0)
X = RNG.standard_normal((T, N, I))
H0, C0 = RNG.standard_normal((N, H)), RNG.standard_normal((N, H))
LENGTHS = np.array([5, 3, 1])
MASK = np.arange(T)[:, None] < LENGTHS[None, :]


def _p(a):
    return sd.tensor(a, requires_grad=True)


def _weights(kind):
    g = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    rng = np.random.default_rng(1)
    return (rng.standard_normal((g * H, I)) * 0.3, rng.standard_normal((g * H, H)) * 0.3,
            rng.standard_normal(g * H) * 0.1, rng.standard_normal(g * H) * 0.1)


def _apply(kind, x, w_ih, w_hh, b_ih, b_hh, h0, c0, **kw):
    if kind == "lstm":
        return R.LSTM.apply(x, w_ih, w_hh, b_ih + b_hh, h0, c0, **kw)
    if kind == "gru":
        return R.GRU.apply(x, w_ih, w_hh, b_ih, b_hh, h0, **kw)
    return R.RNN.apply(x, w_ih, w_hh, b_ih + b_hh, h0, **kw)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_matches_torch_outputs_and_gradients(kind):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    tm = cls(I, H).double()
    tx = torch.tensor(X, requires_grad=True)
    th0 = torch.tensor(H0[None], requires_grad=True)
    tc0 = torch.tensor(C0[None], requires_grad=True)
    if kind == "lstm":
        ty, (th, tc) = tm(tx, (th0, tc0))
        t_outs = [ty, th[0], tc[0]]
    else:
        ty, th = tm(tx, th0)
        t_outs = [ty, th[0]]
    w = {k: _p(v.detach().numpy()) for k, v in tm.named_parameters()}
    x, h0, c0 = _p(X), _p(H0), _p(C0)
    outs = _apply(kind, x, w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"],
                  w["bias_hh_l0"], h0, c0)
    grads = [RNG.standard_normal(tuple(o.shape)) for o in t_outs]
    sum((o * torch.tensor(g)).sum() for o, g in zip(t_outs, grads)).backward()
    loss = outs[0].sum() * 0
    for o, g in zip(outs, grads):
        loss = loss + (o * sd.tensor(g)).sum()
    loss.backward()
    for o, ot in zip(outs, t_outs):
        np.testing.assert_allclose(o.numpy(), ot.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(h0.grad.numpy(), th0.grad.numpy()[0], atol=1e-12)
    for k, v in tm.named_parameters():
        np.testing.assert_allclose(w[k].grad.numpy(), v.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_with_mask(kind, reverse):
    w_ih, w_hh, b_ih, b_hh = _weights(kind)
    inputs = [_p(X), _p(w_ih), _p(w_hh), _p(b_ih), _p(b_hh), _p(H0), _p(C0)]
    assert gradcheck(lambda *a: _apply(kind, *a, mask=MASK, reverse=reverse), inputs)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_padded_steps_leave_state_untouched(kind):
    """A batch with masked padding gives each sequence's state as if run alone, unpadded."""
    w = [sd.tensor(a) for a in _weights(kind)]
    outs = _apply(kind, sd.tensor(X), *w, sd.tensor(H0), sd.tensor(C0), mask=MASK)
    for j, length in enumerate(LENGTHS):
        alone = _apply(kind, sd.tensor(X[:length, j:j + 1]), *w, sd.tensor(H0[j:j + 1]),
                       sd.tensor(C0[j:j + 1]))
        for got, want in zip(outs[1:], alone[1:]):
            np.testing.assert_allclose(got.numpy()[j], want.numpy()[0], atol=1e-12)


def test_padding_gets_no_weight_gradient():
    """Changing the inputs at padded steps changes neither outputs nor gradients."""
    w_ih, w_hh, b_ih, b_hh = _weights("lstm")
    results = []
    for fill in (0.0, 5.0):
        x = X.copy()
        x[~MASK] = fill
        ps = [_p(w_ih), _p(w_hh), _p(b_ih), _p(b_hh)]
        _, h, c = _apply("lstm", sd.tensor(x), *ps, sd.tensor(H0), sd.tensor(C0), mask=MASK)
        (h.sum() + c.sum()).backward()
        results.append([p.grad.numpy() for p in ps])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-12)
