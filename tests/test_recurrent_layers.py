"""PyTorch-style recurrent layers against torch.nn with copied weights."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
from shendu.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch = pytest.importorskip("torch")


def _pair(kind, **kw):
    torch.set_num_threads(1)
    tm = getattr(torch.nn, kind)(4, 5, **kw).double()
    sm = getattr(nn, kind)(4, 5, **kw).double()
    sm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, sm


def _state(kind, out):
    return out[0] if kind == "LSTM" else out


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True,
                                     "batch_first": True}, {"bias": False}],
                         ids=["plain", "2layer_bidir_bf", "nobias"])
def test_matches_torch_forward_and_backward(kind, kw):
    tm, sm = _pair(kind, **kw)
    x = np.random.default_rng(0).standard_normal((3, 6, 4))
    tx, sx = torch.tensor(x, requires_grad=True), sd.tensor(x, requires_grad=True)
    to, th = tm(tx)
    so, sh = sm(sx)
    np.testing.assert_allclose(so.numpy(), to.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(_state(kind, sh).numpy(), _state(kind, th).detach().numpy(),
                               atol=1e-12)
    (to.sum() + _state(kind, th).sum()).backward()
    (so.sum() + _state(kind, sh).sum()).backward()
    np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(dict(sm.named_parameters())[name].grad.numpy(),
                                   p.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_packed_sequences_match_torch(kind):
    tm, sm = _pair(kind, batch_first=True, bidirectional=True)
    x = np.random.default_rng(1).standard_normal((3, 6, 4))
    lengths = [6, 4, 2]
    tp = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first=True)
    to, th = tm(tp)
    to, tl = torch.nn.utils.rnn.pad_packed_sequence(to, batch_first=True)
    so, sh = sm(pack_padded_sequence(sd.tensor(x), lengths, batch_first=True))
    so, sl = pad_packed_sequence(so, batch_first=True)
    np.testing.assert_allclose(so.numpy(), to.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(_state(kind, sh).numpy(), _state(kind, th).detach().numpy(),
                               atol=1e-12)
    assert sl.tolist() == tl.tolist()


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(kind):
    torch.set_num_threads(1)
    tc = getattr(torch.nn, kind)(4, 5).double()
    sc = getattr(nn, kind)(4, 5).double()
    sc.load_state_dict({k: v.detach().numpy() for k, v in tc.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((3, 4))
    t_out, s_out = tc(torch.tensor(x)), sc(sd.tensor(x))
    t_h = t_out[0] if kind == "LSTMCell" else t_out
    s_h = s_out[0] if kind == "LSTMCell" else s_out
    np.testing.assert_allclose(s_h.numpy(), t_h.detach().numpy(), atol=1e-12)


def test_unbatched_input_and_initial_state():
    tm, sm = _pair("LSTM", num_layers=2)
    x = np.random.default_rng(3).standard_normal((6, 4))
    h0 = np.random.default_rng(4).standard_normal((2, 5))
    to, (th, tc) = tm(torch.tensor(x), (torch.tensor(h0), torch.tensor(h0)))
    so, (sh, sc) = sm(sd.tensor(x), (sd.tensor(h0), sd.tensor(h0)))
    assert so.shape == (6, 5) and sh.shape == (2, 5)
    np.testing.assert_allclose(so.numpy(), to.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(sc.numpy(), tc.detach().numpy(), atol=1e-12)


def test_errors_and_pad_sequence():
    lstm = nn.LSTM(4, 5)
    with pytest.raises(ValueError, match="input_size=4"):
        lstm(sd.randn(6, 3, 7))
    with pytest.raises(ValueError, match="h_0 must have shape"):
        lstm(sd.randn(6, 3, 4), (sd.zeros(1, 2, 5), sd.zeros(1, 2, 5)))
    with pytest.raises(ValueError, match="sorted"):
        pack_padded_sequence(sd.randn(5, 3, 4), [2, 5, 3])
    seqs = [sd.ones(3, 2), sd.ones(1, 2)]
    padded = pad_sequence(seqs, batch_first=True)
    assert padded.shape == (2, 3, 2) and padded.numpy()[1, 1:].sum() == 0


def test_embedding_padding_row_gets_no_gradient_like_torch():
    torch.set_num_threads(1)
    idx = np.array([[0, 1, 1], [4, 0, 2]])
    te = torch.nn.Embedding(5, 3, padding_idx=1).double()
    se = nn.Embedding(5, 3, padding_idx=1).double()
    se.load_state_dict({"weight": te.weight.detach().numpy()})
    g = np.random.default_rng(5).standard_normal((2, 3, 3))
    (te(torch.as_tensor(idx)) * torch.tensor(g)).sum().backward()
    (se(sd.tensor(idx)) * sd.tensor(g)).sum().backward()
    np.testing.assert_allclose(se.weight.grad.numpy(), te.weight.grad.numpy(), atol=1e-12)
    assert np.all(se.weight.grad.numpy()[1] == 0)
    with pytest.raises(IndexError, match="out of range for 5 embeddings"):
        se(sd.tensor(np.array([5])))
