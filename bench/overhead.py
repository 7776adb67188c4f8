"""Per-op overhead and a dense forward+backward, side by side with PyTorch (CPU) and NumPy.

Prints, for the same machine and run:
  * the time of a small op (a + b, 32x32) in shendu, PyTorch and bare NumPy;
  * forward+backward of relu(x @ w + b).sum() for x 128x784, w 784x256 in shendu and PyTorch,
    and the time NumPy alone needs for the three GEMMs of that step (x@w, g@w.T, x.T@g).

Usage: python bench/overhead.py [--threads N]
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import shendu

try:
    import torch
except ImportError:  # the bench still reports shendu against NumPy
    torch = None


def best(fn, number: int, repeat: int = 7) -> float:
    """Best-of-``repeat`` seconds per call."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def small_op() -> dict:
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((32, 32), dtype=np.float32)
    b_np = rng.standard_normal((32, 32), dtype=np.float32)
    a, b = shendu.tensor(a_np), shendu.tensor(b_np)
    ag = shendu.tensor(a_np, requires_grad=True)
    out = {"numpy": best(lambda: a_np + b_np, 20000),
           "shendu": best(lambda: a + b, 20000),
           "shendu (requires_grad)": best(lambda: ag + b, 20000)}
    if torch is not None:
        ta, tb = torch.from_numpy(a_np), torch.from_numpy(b_np)
        tag = ta.clone().requires_grad_(True)
        out["torch"] = best(lambda: ta + tb, 20000)
        out["torch (requires_grad)"] = best(lambda: tag + tb, 20000)
    return out


def dense_step() -> dict:
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((128, 784), dtype=np.float32)
    w_np = rng.standard_normal((784, 256), dtype=np.float32) * 0.05
    b_np = rng.standard_normal((256,), dtype=np.float32)
    g_np = rng.standard_normal((128, 256), dtype=np.float32)

    def gemms():
        x_np @ w_np
        g_np @ w_np.T
        x_np.T @ g_np

    x = shendu.tensor(x_np, requires_grad=True)
    w = shendu.tensor(w_np, requires_grad=True)
    b = shendu.tensor(b_np, requires_grad=True)

    def sd_step():
        x.grad = w.grad = b.grad = None
        shendu.relu(x @ w + b).sum().backward()

    out = {"numpy 3 GEMMs": best(gemms, 200), "shendu": best(sd_step, 200)}
    if torch is not None:
        tx = torch.from_numpy(x_np).requires_grad_(True)
        tw = torch.from_numpy(w_np).requires_grad_(True)
        tb = torch.from_numpy(b_np).requires_grad_(True)

        def torch_step():
            tx.grad = tw.grad = tb.grad = None
            torch.relu(tx @ tw + tb).sum().backward()

        out["torch"] = best(torch_step, 200)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = p.parse_args()
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    print(f"numpy {np.__version__}, shendu {shendu.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'}")
    s = small_op()
    print("\nsmall op: a + b, 32x32 float32 (microseconds per call)")
    for k, v in s.items():
        print(f"  {k:24s} {v * 1e6:8.2f}")
    if "torch" in s:
        print(f"  overhead over NumPy: shendu {(s['shendu'] - s['numpy']) * 1e6:.2f} us, "
              f"torch total {s['torch'] * 1e6:.2f} us; shendu/torch time ratio "
              f"{s['shendu'] / s['torch']:.2f}")
    d = dense_step()
    print("\nrelu(x @ w + b).sum() forward+backward, x 128x784, w 784x256 (milliseconds)")
    for k, v in d.items():
        print(f"  {k:24s} {v * 1e3:8.3f}")
    print(f"  shendu / numpy-3-GEMMs = {d['shendu'] / d['numpy 3 GEMMs']:.3f} (target <= 1.10)")
    if "torch" in d:
        print(f"  shendu / torch = {d['shendu'] / d['torch']:.3f}")


if __name__ == "__main__":
    main()
