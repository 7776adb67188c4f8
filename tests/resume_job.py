"""A small training run for the exact-resume tests: ``python resume_job.py STYLE BACKUP OUT``.

STYLE is ``keras`` (fit with BackupAndRestore) or ``torch`` (a loop with CheckpointManager).
BACKUP is the backup folder ("-" for none), OUT where the final weights go. With the
environment variable SHENDU_TEST_PAUSE set, every step sleeps that many seconds (time for the
test to kill the process mid-epoch; sleeping changes no number).
"""

import json
import os
import sys
import time

import numpy as np

import shendu


def data(n=96, d=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x[:, :3].argmax(1) + (x[:, 3] > 1)).clip(0, classes - 1).astype(np.int64)
    return x, y


def pause():
    time.sleep(float(os.environ.get("SHENDU_TEST_PAUSE", "0")))


def keras_run(backup, out):
    from shendu.keras import callbacks, layers, models

    shendu.manual_seed(1)
    x, y = data()
    model = models.Sequential([
        layers.Dense(16, activation="relu", input_shape=(12,)),
        layers.BatchNormalization(),
        layers.Dropout(0.25),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    cbs = [callbacks.LambdaCallback(on_batch_end=lambda b, logs: pause()),
           callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1),
           callbacks.EarlyStopping(monitor="loss", patience=50)]
    if backup != "-":
        cbs.append(callbacks.BackupAndRestore(backup, save_freq=5))
    hist = model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=cbs,
                     validation_split=0.25)
    shendu.save({"weights": model.state_dict(), "history": json.dumps(hist.history)}, out)


def torch_run(backup, out):
    import shendu.nn as nn
    from shendu.checkpoint import CheckpointManager
    from shendu.data import DataLoader, TensorDataset

    shendu.manual_seed(2)
    x, y = data()
    loader = DataLoader(TensorDataset(shendu.tensor(x), shendu.tensor(y)), batch_size=8,
                        shuffle=True)
    net = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = shendu.optim.Adam(net.parameters(), lr=0.01)
    sched = shendu.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    manager = CheckpointManager(backup) if backup != "-" else None
    start = (manager.restore(model=net, optimizer=opt, scheduler=sched, loader=loader)
             if manager else None) or {"epoch": 0}
    for epoch in range(start["epoch"], 5):
        net.train()
        for step, (xb, yb) in enumerate(loader):
            opt.zero_grad()
            loss_fn(net(xb), yb).backward()
            opt.step()
            pause()
            # mid-epoch backups only while the epoch has batches left
            if manager and step % 3 == 2 and loader.state_dict()["sampler"]["position"] < len(x):
                manager.save(model=net, optimizer=opt, scheduler=sched, loader=loader,
                             epoch=epoch)
        sched.step()
        if manager:
            manager.save(model=net, optimizer=opt, scheduler=sched, loader=loader,
                         epoch=epoch + 1)
    shendu.save({"weights": net.state_dict()}, out)


if __name__ == "__main__":
    style, backup_dir, out_path = sys.argv[1:4]
    (keras_run if style == "keras" else torch_run)(backup_dir, out_path)
