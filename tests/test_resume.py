"""Exact resume: checkpoints, BackupAndRestore, SIGKILL at random moments, damaged backups."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import shendu
import shendu.nn as nn
from shendu.checkpoint import CheckpointManager, load_checkpoint, save_checkpoint
from shendu.data import DataLoader, TensorDataset
from shendu.io import UnsafeFileError
from shendu.keras import callbacks, layers, models

JOB = os.path.join(os.path.dirname(__file__), "resume_job.py")


def _env(pause=0.0):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               SHENDU_TEST_PAUSE=str(pause))
    return env


def _run(style, backup, out, pause=0.0):
    subprocess.run([sys.executable, JOB, style, str(backup), str(out)], env=_env(pause),
                   check=True, timeout=120)


def _backups(folder):
    return [n for n in os.listdir(folder) if n.endswith(".shendu")] if os.path.isdir(
        folder) else []


def _weights(path):
    return {k: v.numpy() for k, v in shendu.load(path)["weights"].items()}


@pytest.mark.parametrize("style", ["keras", "torch"])
def test_sigkill_at_random_moments_then_resume_is_bit_exact(tmp_path, style):
    ref = tmp_path / "ref.shendu"
    _run(style, "-", ref)
    backup, out = tmp_path / "backup", tmp_path / "out.shendu"
    rng = np.random.default_rng(0)
    kills = 0
    for _ in range(3):  # kill three times, each at a random moment after some backup exists
        proc = subprocess.Popen([sys.executable, JOB, style, str(backup), str(out)],
                                env=_env(0.01))
        deadline = time.monotonic() + 60
        seen = set(_backups(backup))
        while time.monotonic() < deadline and proc.poll() is None:
            if set(_backups(backup)) - seen:  # a new backup was written
                break
            time.sleep(0.005)
        time.sleep(float(rng.uniform(0.0, 0.08)))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        if out.exists():
            break
    assert kills >= 1, "the job finished before it could be killed; raise its pause"
    if not out.exists():
        _run(style, backup, out)
    got, want = _weights(out), _weights(ref)
    assert list(got) == list(want)
    for k in want:
        assert got[k].tobytes() == want[k].tobytes(), f"{k} differs after resume"
    if style == "keras":  # the History survives the kills too
        assert json.loads(shendu.load(out)["history"]) == json.loads(
            shendu.load(ref)["history"])
        assert _backups(backup) == []  # deleted once training finished


def _fit_model(seed=0):
    shendu.manual_seed(seed)
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                               layers.Dropout(0.3), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _xy(n=40):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


class _Stop(callbacks.Callback):
    """Raises at a given global batch, like a crash in the middle of an epoch."""

    def __init__(self, at):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("at", [1, 4, 5, 7, 10, 13])
def test_in_process_interrupt_then_resume_matches(tmp_path, at):
    x, y = _xy()
    ref = _fit_model()
    ref.fit(x, y, epochs=3, batch_size=8, verbose=0)
    model = _fit_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, batch_size=8, verbose=0,
                  callbacks=[_Stop(at), callbacks.BackupAndRestore(tmp_path, save_freq=2)])
    again = _fit_model()  # a new process would build the model afresh
    hist = again.fit(x, y, epochs=3, batch_size=8, verbose=0,
                     callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=2)])
    for a, b in zip(again.parameters(), ref.parameters()):
        assert a.numpy().tobytes() == b.numpy().tobytes()
    assert len(hist.history["loss"]) == 3


def test_damaged_newest_backup_falls_back_to_the_previous(tmp_path):
    x, y = _xy()
    model = _fit_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, batch_size=8, verbose=0,
                  callbacks=[_Stop(9), callbacks.BackupAndRestore(tmp_path, save_freq=2)])
    files = sorted(_backups(tmp_path))
    assert len(files) == 2
    newest = tmp_path / files[-1]
    raw = bytearray(newest.read_bytes())
    raw[-3] ^= 0xFF  # a damaged sector in the weights
    newest.write_bytes(bytes(raw))
    again = _fit_model()
    with pytest.warns(RuntimeWarning, match="damaged"):
        again.fit(x, y, epochs=3, batch_size=8, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=2)])
    ref = _fit_model()
    ref.fit(x, y, epochs=3, batch_size=8, verbose=0)
    for a, b in zip(again.parameters(), ref.parameters()):
        assert a.numpy().tobytes() == b.numpy().tobytes()


def test_every_backup_damaged_refuses_clearly(tmp_path):
    x, y = _xy()
    model = _fit_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=2, batch_size=8, verbose=0,
                  callbacks=[_Stop(6), callbacks.BackupAndRestore(tmp_path, save_freq=2)])
    for name in _backups(tmp_path):
        raw = bytearray((tmp_path / name).read_bytes())
        raw[-1] ^= 0x01
        (tmp_path / name).write_bytes(bytes(raw))
    before = [p.numpy().copy() for p in model.parameters()]
    with pytest.raises(UnsafeFileError, match="every checkpoint .* is damaged"):
        model.fit(x, y, epochs=2, batch_size=8, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=2)])
    for a, b in zip(model.parameters(), before):  # nothing was loaded into the model
        np.testing.assert_array_equal(a.numpy(), b)
    assert len(_backups(tmp_path)) == 2  # and the damaged files are left for inspection


def test_truncated_backup_is_refused(tmp_path):
    net = nn.Linear(3, 2)
    path = tmp_path / "c.shendu"
    save_checkpoint(path, model=net, epoch=4)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])
    with pytest.raises(UnsafeFileError):
        load_checkpoint(path, model=net)


def test_checkpoint_round_trip_restores_every_stream(tmp_path):
    shendu.manual_seed(3)
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    net[1].generator = shendu.random.Generator(9)  # a layer with its own stream
    opt = shendu.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    sched = shendu.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x = shendu.tensor(np.ones((2, 4), np.float32))
    net(x).sum().backward()
    opt.step()
    sched.step()
    loader = DataLoader(TensorDataset(np.arange(10.0)), batch_size=3, shuffle=True)
    it = iter(loader)
    next(it)
    save_checkpoint(tmp_path / "c.shendu", model=net, optimizer=opt, scheduler=sched,
                    loader=loader, epoch=1, step=7)
    expect = (shendu.random.default_generator.normal((3,)), net[1].generator.normal((3,)),
              [b[0].numpy() for b in it])
    shendu.manual_seed(100)
    net2 = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    net2[1].generator = shendu.random.Generator(0)
    opt2 = shendu.optim.SGD(net2.parameters(), lr=0.1, momentum=0.9)
    sched2 = shendu.optim.lr_scheduler.StepLR(opt2, step_size=1, gamma=0.5)
    loader2 = DataLoader(TensorDataset(np.arange(10.0)), batch_size=3, shuffle=True)
    progress = load_checkpoint(tmp_path / "c.shendu", model=net2, optimizer=opt2,
                               scheduler=sched2, loader=loader2)
    assert progress == {"epoch": 1, "step": 7}
    got = (shendu.random.default_generator.normal((3,)), net2[1].generator.normal((3,)),
           [b[0].numpy() for b in loader2])
    np.testing.assert_array_equal(got[0], expect[0])
    np.testing.assert_array_equal(got[1], expect[1])
    for a, b in zip(got[2], expect[2]):
        np.testing.assert_array_equal(a, b)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.05
    assert sched2.last_epoch == sched.last_epoch
    for a, b in zip(net2.parameters(), net.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    st, st2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    np.testing.assert_array_equal(st[0]["momentum_buffer"], st2[0]["momentum_buffer"])


def test_manager_keeps_the_newest_and_rejects_bad_arguments(tmp_path):
    manager = CheckpointManager(tmp_path, max_to_keep=2)
    net = nn.Linear(2, 2)
    assert manager.restore(model=net) is None
    for epoch in range(4):
        manager.save(model=net, epoch=epoch)
    names = sorted(_backups(tmp_path))
    assert names == ["ckpt-00000002.shendu", "ckpt-00000003.shendu"]
    assert manager.restore(model=net) == {"epoch": 3}
    with pytest.raises(ValueError, match="max_to_keep"):
        CheckpointManager(tmp_path, max_to_keep=0)
    with pytest.raises(ValueError, match="prefix"):
        CheckpointManager(tmp_path, prefix="../x")
    with pytest.raises(ValueError, match="no optimizer state"):
        manager.restore(model=net, optimizer=shendu.optim.SGD(net.parameters(), lr=0.1))
    manager.clear()
    assert _backups(tmp_path) == []


def test_backup_rejects_bad_save_freq(tmp_path):
    for bad in (0, -2, "batch", 1.5, True):
        with pytest.raises(ValueError, match="save_freq"):
            callbacks.BackupAndRestore(tmp_path, save_freq=bad)


def test_backup_keeps_history_and_callback_state(tmp_path):
    x, y = _xy()
    model = _fit_model()
    stop = callbacks.EarlyStopping(monitor="loss", patience=10)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0,
                  callbacks=[stop, _Stop(12), callbacks.BackupAndRestore(tmp_path)])
    saved_best = stop.best
    again = _fit_model()
    stop2 = callbacks.EarlyStopping(monitor="loss", patience=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = again.fit(x, y, epochs=4, batch_size=8, verbose=0,
                         callbacks=[stop2, callbacks.BackupAndRestore(tmp_path)])
    assert len(hist.history["loss"]) == 4 and hist.epoch == [0, 1, 2, 3]
    assert stop2.best <= saved_best


def test_fit_on_a_dataloader_resumes_mid_epoch(tmp_path):
    x, y = _xy()

    def loader():
        return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)

    ref = _fit_model()
    ref.fit(loader(), epochs=3, verbose=0)
    model = _fit_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(loader(), epochs=3, verbose=0,
                  callbacks=[_Stop(8), callbacks.BackupAndRestore(tmp_path, save_freq=3)])
    again = _fit_model()
    again.fit(loader(), epochs=3, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=3)])
    for a, b in zip(again.parameters(), ref.parameters()):
        assert a.numpy().tobytes() == b.numpy().tobytes()
