"""NaN provenance: detect_anomaly names the op, the phase and the module path with statistics of
the op's inputs; the sampled mode catches a bad loss or gradient before the optimizer uses it;
TerminateOnNaN re-runs the bad batch and reports it, leaving the model as it was."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.autograd import nan_check_every
from shendu.errors import AnomalyError, NonFiniteError
from shendu.keras import layers as K
from shendu.keras.callbacks import LambdaCallback, TerminateOnNaN
from shendu.keras.models import Sequential

# the NaNs and Infs these tests make on purpose are expected
pytestmark = pytest.mark.filterwarnings(
    "ignore:(divide by zero|invalid value|overflow):RuntimeWarning")


class Log(nn.Module):
    def forward(self, x):
        return x.log()


class Sqrt(nn.Module):
    def forward(self, x):
        return x.sqrt()


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.act = Log()
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(2, 1)

    def forward(self, x):
        return self.head(self.encoder(x))


def _module_stack_is_clean():
    from shendu.autograd import _state

    return not _state.module_stack


# -- full mode ------------------------------------------------------------------------------------
def test_forward_anomaly_names_op_module_path_and_input_statistics():
    net = Net()
    x = sd.tensor(np.array([[1.0, -2.0, 3.0, -4.0]], np.float32))
    net.encoder.fc1.weight.data[...] = np.eye(4)
    net.encoder.fc1.bias.data[...] = 0
    with sd.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(AnomalyError) as info:
            net(x)
    err = info.value
    assert (err.op, err.phase, err.module_path) == ("Log", "forward", "encoder.act")
    msg = str(err)
    assert "the forward of Log in Log 'encoder.act' produced a non-finite value" in msg
    assert "output 0: shape (1, 4), dtype float32, 2 nan, 0 inf" in msg
    assert "input 0: shape (1, 4), dtype float32, all finite; finite values: min -4, max 3, " \
           "mean -0.5" in msg
    assert _module_stack_is_clean() and not sd.is_anomaly_enabled()


def test_backward_anomaly_names_the_module_the_op_was_created_in():
    net = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("root", Sqrt())]))
    net.fc.weight.data[...] = np.eye(2)
    net.fc.bias.data[...] = 0
    y = None
    with sd.detect_anomaly(), np.errstate(divide="ignore"):
        y = net(sd.tensor(np.array([[0.0, 4.0]], np.float32))).sum()
        with pytest.raises(AnomalyError) as info:
            y.backward()
    err = info.value
    assert (err.op, err.phase, err.module_path) == ("Sqrt", "backward", "root")
    msg = str(err)
    assert "the backward of Sqrt in Sqrt 'root'" in msg
    assert "gradient for input 0: shape (1, 2), dtype float32, 0 nan, 1 inf" in msg
    assert "incoming gradient 0: shape (1, 2), dtype float32, all finite" in msg
    assert "input 0: shape (1, 2), dtype float32, all finite; finite values: min 0, max 4" in msg


def test_anomaly_in_a_keras_model_and_outside_any_module():
    model = Sequential([K.Dense(3, input_shape=(2,), name="d"), K.Lambda(lambda t: t.log())],
                       name="m")
    model.layers[0].kernel.data[...] = -1.0
    with sd.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(AnomalyError) as info:
            model(sd.ones(1, 2))
        assert info.value.module_path == "m.1"
        assert "Lambda 'lambda' (m.1)" in str(info.value)
        with pytest.raises(AnomalyError, match="forward of Log outside any module"):
            sd.tensor([-1.0]).log()
    assert _module_stack_is_clean()


def test_an_error_inside_a_module_leaves_the_stack_clean():
    with sd.detect_anomaly():
        with pytest.raises(ValueError):
            Net()(sd.zeros(1, 3))
        assert _module_stack_is_clean()
        assert nn.Linear(4, 1)(sd.ones(1, 4)).shape == (1, 1)  # later calls still work


# -- sampled mode ---------------------------------------------------------------------------------
def test_sampled_mode_stops_a_non_finite_loss_before_backward():
    w = sd.tensor([1.0, -1.0], requires_grad=True)
    with sd.detect_anomaly(check_every=5), np.errstate(invalid="ignore"):
        assert nan_check_every() == 5 and not sd.is_anomaly_enabled()
        loss = w.log().sum()
        with pytest.raises(NonFiniteError) as info:
            loss.backward()
    assert info.value.what == "loss" and np.isnan(info.value.value)
    assert w.grad is None  # nothing was written
    assert nan_check_every() == 0


def test_sampled_mode_checks_gradients_every_nth_backward():
    w = sd.tensor([0.0, 4.0], requires_grad=True)
    caught = 0
    with sd.detect_anomaly(check_every=3), np.errstate(divide="ignore"):
        for _ in range(6):
            w.grad = None
            try:
                w.sqrt().sum().backward()  # finite loss, infinite gradient
            except NonFiniteError as e:
                caught += 1
                assert e.what == "gradient" and e.tensors == [w]
                assert "1 inf" in str(e) and "detect_anomaly()" in str(e)
    assert caught == 2  # the 3rd and 6th of six passes, whatever the counter was before
    with sd.detect_anomaly(check_every=1), np.errstate(divide="ignore"):
        w.grad = None
        with pytest.raises(NonFiniteError):
            w.sqrt().sum().backward()
    w.grad = None
    with np.errstate(divide="ignore"):
        w.sqrt().sum().backward()  # off again: passes silently
    assert np.isinf(w.grad.numpy()[0])


def test_sampled_mode_finite_values_pass():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with sd.detect_anomaly(check_every=1):
        net(sd.ones(3, 4)).abs().sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    with pytest.raises(ValueError, match="check_every"):
        sd.detect_anomaly(check_every=0)


# -- TerminateOnNaN -------------------------------------------------------------------------------
def _sqrt_model():
    """Dense -> sqrt -> BatchNormalization -> Dense: a batch containing an all-zero row gives
    sqrt'(0) = inf in backward and a NaN kernel gradient, with a finite loss."""
    sd.manual_seed(0)
    model = Sequential([K.Dense(3, input_shape=(2,), use_bias=False, kernel_initializer="ones"),
                        K.Lambda(lambda t: t.abs().sqrt(), name="root"), K.BatchNormalization(),
                        K.Dense(1)], name="net")
    model.compile(optimizer="sgd", loss="mse")
    return model


def _sqrt_data():
    x = np.abs(np.random.default_rng(0).normal(size=(32, 2))).astype(np.float32) + 0.5
    x[17] = 0.0  # batch 2 of size 8
    y = np.ones((32, 1), np.float32)
    return x, y


def test_terminate_on_nan_reports_provenance_before_the_weights_are_hit(capsys):
    model = _sqrt_model()
    x, y = _sqrt_data()
    seen = {}

    def remember(batch, logs):
        seen[batch] = ([p.numpy().copy() for p in model.parameters()],
                       [b.numpy().copy() for b in model.buffers()])

    cb = TerminateOnNaN()
    hist = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                     callbacks=[cb, LambdaCallback(on_train_batch_end=remember)])
    out = capsys.readouterr().out
    assert "Batch 2: Invalid gradient, terminating training" in out
    assert "epoch 1, batch 2" in cb.report and "0.kernel" in cb.report
    assert cb.error is not None and (cb.error.op, cb.error.phase) == ("Sqrt", "backward")
    assert cb.error.module_path == "net.1" and "Lambda 'root' (net.1)" in cb.report
    assert len(hist.history["loss"]) == 1
    # the bad batch took no step and left no trace: the model is as after batch 1
    params, buffers = seen[1]
    for p, before in zip(model.parameters(), params):
        np.testing.assert_array_equal(p.numpy(), before)
    for b, before in zip(model.buffers(), buffers):
        np.testing.assert_array_equal(b.numpy(), before)
    assert "train_step" not in model.__dict__ and nan_check_every() == 0


def test_terminate_on_nan_restores_running_statistics_of_the_bad_batch():
    model = _sqrt_model()  # BatchNormalization in training mode updates its moving stats
    x, y = _sqrt_data()
    x[17] = np.nan  # a NaN in the data: the loss is NaN, the moving mean would be too
    stats = {}
    cb = TerminateOnNaN()
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[
        cb, LambdaCallback(on_train_batch_end=lambda b, logs: stats.setdefault(
            b, model.layers[2].moving_mean.numpy().copy()))])
    assert "Invalid loss" not in (cb.report or "") and "non-finite loss" in cb.report
    assert cb.error is not None and cb.error.phase == "forward"
    np.testing.assert_array_equal(model.layers[2].moving_mean.numpy(), stats[1])
    assert np.isfinite(model.layers[2].moving_mean.numpy()).all()


def test_terminate_on_nan_keras_mode_only_reads_the_logged_loss(capsys):
    model = _sqrt_model()
    x, y = _sqrt_data()
    x[17] = np.nan
    cb = TerminateOnNaN(check_every=None)
    with np.errstate(invalid="ignore"):
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[cb])
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    assert cb.report is None and "train_step" not in model.__dict__
    with pytest.raises(ValueError, match="check_every"):
        TerminateOnNaN(check_every=0)
