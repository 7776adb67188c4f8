"""What the sampled NaN check costs on the MLP benchmark of bench/compare.py.

Model, data and step are compare.py's (784-256-128-10, ReLU, cross-entropy, Adam, batch 128,
MNIST-shaped random data from its ``_data``). This VM's speed drifts by 20% from minute to
minute, more than the few percent measured here, so the variants run in one process on the same
model, alternating in short blocks of steps (each block of a variant next to a block of the
plain loop), and the overhead is the median over the pairs of (variant block / plain block):

  * the PyTorch-style loop under ``shendu.detect_anomaly(check_every=N)``: the loss checked
    before every backward, the gradients after every N-th;
  * the Keras-style ``fit`` with ``TerminateOnNaN(check_every=N)`` (the same check, plus a
    snapshot of buffers and random streams before each batch for the re-run of a bad batch);
  * for scale, full ``detect_anomaly()`` (every op's output and gradient checked).

It also times the check alone on the MLP's real loss and gradients, which does not drift.

Usage: python bench/nan_overhead.py [--blocks 30] [--steps 10] [--every 1 10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compare import _data  # noqa: E402

import shendu  # noqa: E402
from shendu import autograd, nn  # noqa: E402
from shendu.nn import functional as F  # noqa: E402


def _mlp():
    shendu.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def torch_style_blocks(x, y, modes: dict, blocks: int, steps: int) -> dict:
    """compare.py's training step; ``modes`` maps a name to a context manager factory. Returns
    name -> list of block times (blocks alternate between the modes)."""
    model = _mlp()
    opt = shendu.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = shendu.from_numpy(x), shendu.from_numpy(y)
    perm = np.random.default_rng(1).permutation(len(x))
    times: dict = {name: [] for name in modes}
    i = 0
    for b in range(blocks):
        names = list(modes) if b % 2 == 0 else list(modes)[::-1]
        for name in names:
            with modes[name]():
                start = time.perf_counter()
                for _ in range(steps):
                    idx = shendu.from_numpy(perm[i:i + 128])
                    i = (i + 128) % (len(x) - 128)
                    loss = F.cross_entropy(model(xt[idx]), yt[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                times[name].append(time.perf_counter() - start)
    return times


def keras_blocks(x, y, every: list, blocks: int, steps: int) -> dict:
    """compare.py's Keras-style model; each block is a ``fit`` over ``steps`` batches, plain or
    with ``TerminateOnNaN(check_every=N)``."""
    from shendu.keras.callbacks import TerminateOnNaN
    from shendu.keras.layers import Dense
    from shendu.keras.models import Sequential

    shendu.manual_seed(0)
    model = Sequential([Dense(256, activation="relu", input_shape=(784,)),
                        Dense(128, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    xs, ys = x[:128 * steps], y[:128 * steps]
    variants = {"plain": None, **{f"TerminateOnNaN({n})": n for n in every}}
    times: dict = {name: [] for name in variants}
    for b in range(blocks):
        names = list(variants) if b % 2 == 0 else list(variants)[::-1]
        for name in names:
            n = variants[name]
            cbs = [] if n is None else [TerminateOnNaN(check_every=n)]
            start = time.perf_counter()
            model.fit(xs, ys, batch_size=128, epochs=1, verbose=0, shuffle=False, callbacks=cbs)
            times[name].append(time.perf_counter() - start)
    return times


def check_cost(x, y, repeat: int = 300) -> tuple:
    """Microseconds of the check alone on the MLP's real loss and gradients: the loss test
    (every step) and the gradient test (every N-th step)."""
    model = _mlp()
    loss = F.cross_entropy(model(shendu.from_numpy(x[:128])), shendu.from_numpy(y[:128]))
    loss.backward()
    params = list(model.parameters())
    with shendu.detect_anomaly(check_every=1):
        t_loss = min(timeit.repeat(lambda: autograd._sampled_check_begin(loss), number=repeat,
                                   repeat=7)) / repeat
        t_grads = min(timeit.repeat(lambda: autograd._sampled_check_grads(params),
                                    number=repeat, repeat=7)) / repeat
    return t_loss * 1e6, t_grads * 1e6


def _report(times: dict, base: str, steps: int) -> None:
    plain = times[base]
    print(f"  {base:34s} {min(plain) / steps * 1e3:7.3f} ms/step (best block)")
    for name, ts in times.items():
        if name == base:
            continue
        ratios = [t / p for t, p in zip(ts, plain)]
        print(f"  {name:34s} {min(ts) / steps * 1e3:7.3f} ms/step (best block)   overhead: "
              f"median {100 * (statistics.median(ratios) - 1):+6.2f}%, best-vs-best "
              f"{100 * (min(ts) / min(plain) - 1):+6.2f}%")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=int, default=30, help="blocks per variant")
    p.add_argument("--steps", type=int, default=10, help="training steps per block")
    p.add_argument("--every", type=int, nargs="+", default=[1, 10])
    p.add_argument("--no-full", action="store_true", help="skip full anomaly mode")
    args = p.parse_args()
    x, y = _data(60000)
    modes = {"torch-style plain": contextlib.nullcontext}
    for n in args.every:
        modes[f"detect_anomaly(check_every={n})"] = \
            lambda n=n: shendu.detect_anomaly(check_every=n)
    if not args.no_full:
        modes["detect_anomaly() (full)"] = shendu.detect_anomaly
    torch_style_blocks(x, y, modes, 2, 5)  # warm-up
    t_torch = torch_style_blocks(x, y, modes, args.blocks, args.steps)
    keras_blocks(x, y, args.every, 1, 5)
    t_keras = keras_blocks(x, y, args.every, args.blocks, args.steps)
    t_loss, t_grads = check_cost(x, y)
    step = statistics.median(t_torch["torch-style plain"]) / args.steps * 1e6
    print(f"numpy {np.__version__}, shendu {shendu.__version__}; MLP 784-256-128-10, Adam, "
          f"batch 128; {args.blocks} blocks of {args.steps} steps per variant, alternating")
    print(f"  the check alone: loss {t_loss:.1f} us every step + gradients {t_grads:.1f} us "
          f"every N-th step; at N=1 that is {100 * (t_loss + t_grads) / step:.2f}% of the "
          f"median plain step ({step / 1e3:.3f} ms)")
    _report(t_torch, "torch-style plain", args.steps)
    _report(t_keras, "plain", args.steps)


if __name__ == "__main__":
    main()
