"""The seeds' CNN trained and run side by side with PyTorch (CPU), same machine, same run.

Network: Conv 32-64-128 3x3 ReLU, 2x2 max pooling after the first two, Dense 128 ReLU,
Dense 10; Adam(1e-3); batch 128; 28x28x1 inputs (random data of MNIST's shape: throughput
does not depend on the values). shendu runs its Keras form (channels-last) and its PyTorch
form (NCHW); PyTorch runs NCHW, its native layout.

Each measurement is a separate process (peak RSS is that framework's alone); frameworks
alternate over ``--rounds`` rounds and the best round of each is reported, with ratios of
samples per second (> 1 means shendu is faster).

Usage: python bench/cnn.py [--rounds 3] [--n 12800]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _data(n: int, channels_last: bool):
    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1) if channels_last else (n, 1, 28, 28), dtype=np.float32)
    return x, rng.integers(0, 10, n).astype(np.int64)


def shendu_keras(n: int, batch: int, infer: bool):
    import shendu
    from shendu.vision.models import seeds_cnn

    shendu.manual_seed(0)
    x, y = _data(n, True)
    model = seeds_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    if infer:
        model.predict(x[:1024], batch_size=1024)
        start = time.perf_counter()
        model.predict(x, batch_size=1024)
        return time.perf_counter() - start
    model.fit(x[:batch * 4], y[:batch * 4], batch_size=batch, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    return time.perf_counter() - start


def _torch_style(nn):
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 128, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(1152, 128), nn.ReLU(), nn.Linear(128, 10))


def _loop(lib, nn, F, model, x, y, batch, infer):
    if infer:
        with lib.no_grad():
            model.eval()
            model(x[:1024])
            start = time.perf_counter()
            for i in range(0, len(x), 1024):
                model(x[i:i + 1024])
            return time.perf_counter() - start
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def epoch(xs, ys):
        for i in range(0, len(xs), batch):
            loss = F.cross_entropy(model(xs[i:i + batch]), ys[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()

    epoch(x[:batch * 4], y[:batch * 4])
    start = time.perf_counter()
    epoch(x, y)
    return time.perf_counter() - start


def shendu_torch_style(n: int, batch: int, infer: bool):
    import shendu
    import shendu.nn as nn
    import shendu.nn.functional as F

    shendu.manual_seed(0)
    x, y = _data(n, False)
    return _loop(shendu, nn, F, _torch_style(nn), shendu.tensor(x), shendu.tensor(y), batch,
                 infer)


def torch_run(n: int, batch: int, infer: bool):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    x, y = _data(n, False)
    return _loop(torch, nn, F, _torch_style(nn), torch.from_numpy(x), torch.from_numpy(y),
                 batch, infer)


RUNNERS = {"shendu-keras": shendu_keras, "shendu-torch-style": shendu_torch_style,
           "torch": torch_run}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--n", type=int, default=12800)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--infer", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        seconds = RUNNERS[args.child](args.n, args.batch, args.infer)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"samples_per_s": args.n / seconds, "peak_rss_mib": peak}))
        return
    try:
        import torch  # noqa: F401

        names = list(RUNNERS)
    except ImportError:
        names = ["shendu-keras", "shendu-torch-style"]
    best: dict = {}
    for r in range(args.rounds):
        for mode in ("train", "infer"):
            for name in names:
                cmd = [sys.executable, __file__, "--child", name, "--n", str(args.n),
                       "--batch", str(args.batch)] + (["--infer"] if mode == "infer" else [])
                out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                res = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"round {r + 1} {mode:5s} {name:19s} {res['samples_per_s']:9.0f} "
                      f"samples/s  peak RSS {res['peak_rss_mib']:.0f} MiB", flush=True)
                key = (mode, name)
                if key not in best or res["samples_per_s"] > best[key]["samples_per_s"]:
                    best[key] = res
    print(f"\nbest of {args.rounds} rounds (seeds' CNN, {args.n} samples; training batch "
          f"{args.batch} with Adam, inference batch 1024):")
    for (mode, name), res in best.items():
        print(f"  {mode:5s} {name:19s} {res['samples_per_s']:9.0f} samples/s   peak RSS "
              f"{res['peak_rss_mib']:.0f} MiB")
    if ("train", "torch") in best:
        for mode in ("train", "infer"):
            for name in ("shendu-keras", "shendu-torch-style"):
                ratio = best[(mode, name)]["samples_per_s"] / best[(mode, "torch")][
                    "samples_per_s"]
                print(f"  {mode} ratio {name} / torch = {ratio:.3f}")


if __name__ == "__main__":
    main()
