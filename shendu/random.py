"""Seedable random streams.

Every random draw in the library (initializers, dropout, shuffling, augmentation) goes through
``default_generator`` or a ``Generator`` passed explicitly, so ``shendu.manual_seed(n)`` makes a
run reproducible. Library code never calls ``np.random`` directly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator",
           "get_rng_state", "set_rng_state"]


class Generator:
    """A random stream with a seed and a state that can be saved and restored.

    Example:
        >>> g = Generator(0)
        >>> a = g.normal((2, 3))
    """

    def __init__(self, seed: int | None = None):
        if seed is None:  # fresh OS entropy, like an unseeded torch.Generator
            seed = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """A JSON-friendly snapshot of the stream (for exact resume)."""
        return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}

    def set_state(self, state: dict) -> None:
        self._seed = int(state["seed"])
        self.rng = np.random.Generator(np.random.PCG64())
        self.rng.bit_generator.state = state["bit_generator"]

    # -- draws (NumPy arrays on the host; callers move them to a device) ------------------------
    def uniform(self, shape, low=0.0, high=1.0, dtype=np.float32) -> np.ndarray:
        return self.rng.uniform(low, high, size=shape).astype(dtype, copy=False)

    def normal(self, shape, mean=0.0, std=1.0, dtype=np.float32) -> np.ndarray:
        if np.dtype(dtype) == np.float32 and mean == 0.0 and std == 1.0:
            return self.rng.standard_normal(size=shape, dtype=np.float32)
        return self.rng.normal(mean, std, size=shape).astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype=np.int64) -> np.ndarray:
        return self.rng.integers(low, high, size=shape, dtype=dtype)

    def permutation(self, n: int) -> np.ndarray:
        return self.rng.permutation(n)

    def bernoulli(self, p: float, shape) -> np.ndarray:
        return self.rng.random(size=shape, dtype=np.float32) < p


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default stream; every later draw in the library follows from it."""
    return default_generator.manual_seed(seed)


seed = manual_seed


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)
