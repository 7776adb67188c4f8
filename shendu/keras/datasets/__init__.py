"""``keras.datasets``: ``mnist.load_data()`` etc. return uint8 arrays like Keras.

The files are looked for locally (explicit path, $SHENDU_DATA, ~/.cache/shendu/datasets,
/usr/share/datasets/<name>) and, as Keras does, downloaded when absent (into the cache folder,
verified by SHA-256 where shendu knows the hash; otherwise a clear error says what to do).
"""

from __future__ import annotations

import types

from ...data import load_cifar10, load_cifar100, load_fashion_mnist, load_mnist

__all__ = ["mnist", "fashion_mnist", "cifar10", "cifar100"]


def _module(name: str, loader, **fixed) -> types.SimpleNamespace:
    def load_data(path=None, **kwargs):
        """((x_train, y_train), (x_test, y_test)) as uint8 arrays."""
        return loader(path, download=True, **fixed, **kwargs)

    return types.SimpleNamespace(__name__=name, load_data=load_data)


mnist = _module("mnist", load_mnist)
fashion_mnist = _module("fashion_mnist", load_fashion_mnist)
cifar10 = _module("cifar10", load_cifar10)
cifar100 = _module("cifar100", load_cifar100)
