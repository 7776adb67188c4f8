"""``keras.datasets``: ``mnist.load_data()`` etc. return uint8 arrays like Keras.

The files are looked for locally (explicit path, $SHENDU_DATA, ~/.cache/shendu/datasets,
/usr/share/datasets/<name>); when absent, a clear error says where to put them.
"""

from __future__ import annotations

import types

from ...data import load_fashion_mnist, load_mnist

__all__ = ["mnist", "fashion_mnist"]


def _module(name: str, loader) -> types.SimpleNamespace:
    def load_data(path=None):
        """((x_train, y_train), (x_test, y_test)) as uint8 arrays."""
        return loader(path)

    return types.SimpleNamespace(__name__=name, load_data=load_data)


mnist = _module("mnist", load_mnist)
fashion_mnist = _module("fashion_mnist", load_fashion_mnist)
