"""Training throughput of the seeds' kind of MLP, shendu against PyTorch (CPU), same machine.

Model: 784-256-128-10, ReLU, softmax cross-entropy, Adam(lr=1e-3), batch 128, on MNIST-shaped
random data (60,000 x 784 float32, labels in 0..9; throughput does not depend on the values).

Each measurement runs in its own process (so peak RSS is that framework's alone), and the
frameworks alternate over ``--rounds`` rounds; the best round of each is reported, with the
ratio shendu / PyTorch in samples per second (> 1 means shendu is faster).

Usage: python bench/compare.py [--rounds 3] [--epochs 1] [--n 60000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _data(n: int):
    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return x, y


def _torch_style_loop(lib, x, y, epochs: int, batch: int) -> float:
    """The same training loop for shendu and PyTorch: ``lib`` is either module."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = lib.from_numpy(x), lib.from_numpy(y)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = lib.from_numpy(np.random.default_rng(1).permutation(len(x)))
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def run_shendu_torch_style(x, y, epochs: int, batch: int) -> float:
    import shendu
    import shendu.nn.functional  # noqa: F401  (lib.nn.functional below)

    return _torch_style_loop(shendu, x, y, epochs, batch)


def run_shendu_keras(x, y, epochs: int, batch: int) -> float:
    import shendu
    from shendu.keras.layers import Dense
    from shendu.keras.models import Sequential

    shendu.manual_seed(0)
    model = Sequential([Dense(256, activation="relu", input_shape=(784,)),
                        Dense(128, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
    return time.perf_counter() - start


def run_torch(x, y, epochs: int, batch: int) -> float:
    import torch
    import torch.nn.functional  # noqa: F401

    return _torch_style_loop(torch, x, y, epochs, batch)


RUNNERS = {"shendu": run_shendu_torch_style, "shendu-keras": run_shendu_keras,
           "torch": run_torch}


def child(name: str, n: int, epochs: int, batch: int) -> None:
    x, y = _data(n)
    RUNNERS[name](x[:batch * 20], y[:batch * 20], 1, batch)  # warm-up
    seconds = RUNNERS[name](x, y, epochs, batch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"name": name, "samples_per_s": n * epochs / seconds,
                      "peak_rss_mib": peak}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--n", type=int, default=60000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.n, args.epochs, args.batch)
        return
    try:
        import torch  # noqa: F401

        names = ["shendu", "shendu-keras", "torch"]
    except ImportError:
        names = ["shendu", "shendu-keras"]
    best: dict = {}
    for r in range(args.rounds):
        for name in names:
            out = subprocess.run([sys.executable, __file__, "--child", name, "--n", str(args.n),
                                  "--epochs", str(args.epochs), "--batch", str(args.batch)],
                                 capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"round {r + 1}: {name:13s} {res['samples_per_s']:9.0f} samples/s, "
                  f"peak RSS {res['peak_rss_mib']:.0f} MiB")
            if name not in best or res["samples_per_s"] > best[name]["samples_per_s"]:
                best[name] = res
    print("\nbest of rounds (MLP 784-256-128-10, Adam, batch "
          f"{args.batch}, {args.n} samples x {args.epochs} epoch(s)):")
    for name, res in best.items():
        print(f"  {name:13s} {res['samples_per_s']:9.0f} samples/s   peak RSS "
              f"{res['peak_rss_mib']:.0f} MiB")
    if "torch" in best:
        for name in ("shendu", "shendu-keras"):
            ratio = best[name]["samples_per_s"] / best["torch"]["samples_per_s"]
            print(f"  ratio {name} / torch = {ratio:.3f} (target >= 1.0)")


if __name__ == "__main__":
    main()
