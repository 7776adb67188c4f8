"""Model zoo for small images, each buildable in one call (channels-last inputs, Keras layers).

    seeds_cnn     the seeds' CNN: Conv 32-64-128 3x3 ReLU, 2x2 max pooling, Dense 128, Dense 10
    lenet5        LeCun et al. 1998, with ReLU and max pooling
    resnet20      He et al. 2016 (CIFAR variant): 3 stages of 3 basic blocks, BatchNorm
    vgg_small     VGG-style: (conv-BN-ReLU) x2 + pool, three times, dropout, dense head

Example:
    >>> model = shendu.vision.models.get("resnet20", input_shape=(28, 28, 1), num_classes=10)
"""

from __future__ import annotations

import numpy as np

from ..models import Model, Sequential
from ..nn import layers as L
from ..nn.containers import ModuleList

__all__ = ["seeds_cnn", "lenet5", "resnet20", "vgg_small", "get", "MODELS", "ZooModel"]


def augmentation(input_shape, flip: bool = False) -> list:
    """Training-time augmentation layers: shifts of up to 10% (and horizontal flips)."""
    layers = [L.RandomTranslation(0.1, 0.1, fill_mode="constant",
                                  input_shape=tuple(input_shape))]
    if flip:
        layers.append(L.RandomFlip("horizontal"))
    return layers


def _head(input_shape, augment: bool, flip: bool) -> list:
    return augmentation(input_shape, flip) if augment else []


def seeds_cnn(input_shape=(28, 28, 1), num_classes: int = 10, augment: bool = False,
              flip: bool = False) -> Sequential:
    """The CNN of the seed documents (Keras Sequential)."""
    return Sequential(_head(input_shape, augment, flip) + [
        L.Conv2D(32, (3, 3), activation="relu", input_shape=tuple(input_shape)),
        L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)),
        L.Conv2D(128, (3, 3), activation="relu"),
        L.Flatten(),
        L.Dense(128, activation="relu"),
        L.Dense(num_classes, activation="softmax"),
    ], name="seeds_cnn")


def lenet5(input_shape=(28, 28, 1), num_classes: int = 10, augment: bool = False,
           flip: bool = False) -> Sequential:
    return Sequential(_head(input_shape, augment, flip) + [
        L.Conv2D(6, 5, padding="same", activation="relu", input_shape=tuple(input_shape)),
        L.MaxPooling2D(2),
        L.Conv2D(16, 5, activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(120, activation="relu"),
        L.Dense(84, activation="relu"),
        L.Dense(num_classes, activation="softmax"),
    ], name="lenet5")


def vgg_small(input_shape=(28, 28, 1), num_classes: int = 10, width: int = 32,
              dropout: float = 0.3, augment: bool = False, flip: bool = False) -> Sequential:
    layers = _head(input_shape, augment, flip)
    for i, mult in enumerate((1, 2, 4)):
        for j in range(2):
            kw = {"input_shape": tuple(input_shape)} if i == 0 and j == 0 else {}
            layers += [L.Conv2D(width * mult, 3, padding="same", use_bias=False, **kw),
                       L.BatchNormalization(), L.ReLU()]
        layers.append(L.MaxPooling2D(2, padding="same"))
    layers += [L.Flatten(), L.Dropout(dropout), L.Dense(256, activation="relu"),
               L.Dropout(dropout), L.Dense(num_classes, activation="softmax")]
    return Sequential(layers, name="vgg_small")


class BasicBlock(Model):
    """conv3x3-BN-ReLU-conv3x3-BN plus the shortcut (1x1 conv + BN when the shape changes)."""

    def __init__(self, filters: int, stride: int = 1, project: bool = False):
        super().__init__(name="basic_block")
        self.conv1 = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                              kernel_initializer="he_normal")
        self.bn1 = L.BatchNormalization(momentum=0.9, epsilon=1e-5)
        self.conv2 = L.Conv2D(filters, 3, padding="same", use_bias=False,
                              kernel_initializer="he_normal")
        self.bn2 = L.BatchNormalization(momentum=0.9, epsilon=1e-5)
        self.relu = L.ReLU()
        if project:
            self.proj = L.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 kernel_initializer="he_normal")
            self.proj_bn = L.BatchNormalization(momentum=0.9, epsilon=1e-5)
        else:
            self.proj = None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = self.proj_bn(self.proj(x)) if self.proj is not None else x
        return self.relu(out + short)


class ZooModel(Model):
    """A zoo model with a custom forward; remembers how it was built, so that ``save`` can
    store it and ``load_model`` rebuild it from shendu's own registry."""

    zoo_name = "zoo"

    def zoo_config(self) -> dict:
        return dict(self._zoo_kwargs)


class ResNet(ZooModel):
    zoo_name = "resnet20"

    def __init__(self, input_shape=(28, 28, 1), num_classes: int = 10, depth: int = 20,
                 width: int = 16, augment: bool = False, flip: bool = False):
        super().__init__(name=f"resnet{depth}")
        if (depth - 2) % 6:
            raise ValueError(f"ResNet depth must be 6n+2 (20, 32, 44, ...), got {depth}")
        n = (depth - 2) // 6
        self._zoo_kwargs = {"input_shape": list(input_shape), "num_classes": num_classes,
                            "depth": depth, "width": width, "augment": augment, "flip": flip}
        self.augment = Sequential(augmentation(input_shape, flip)) if augment else None
        self.stem = L.Conv2D(width, 3, padding="same", use_bias=False,
                             input_shape=tuple(input_shape), kernel_initializer="he_normal")
        self.stem_bn = L.BatchNormalization(momentum=0.9, epsilon=1e-5)
        self.relu = L.ReLU()
        blocks = []
        for stage, mult in enumerate((1, 2, 4)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(width * mult, stride, project=stride != 1))
        self.blocks = ModuleList(blocks)
        self.pool = L.GlobalAveragePooling2D()
        self.head = L.Dense(num_classes, activation="softmax")
        # create every weight now, as a Keras model given its input shape does
        self._build_if_possible(np.zeros((1,) + tuple(input_shape), dtype=np.float32))

    def forward(self, x):
        if self.augment is not None:
            x = self.augment(x)
        x = self.relu(self.stem_bn(self.stem(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(self.pool(x))


def resnet20(input_shape=(28, 28, 1), num_classes: int = 10, width: int = 16,
             depth: int = 20, augment: bool = False, flip: bool = False) -> ResNet:
    """ResNet-20 (or any 6n+2 ``depth``) for small images."""
    return ResNet(input_shape, num_classes, depth, width, augment, flip)


MODELS = {"seeds_cnn": seeds_cnn, "cnn": seeds_cnn, "lenet5": lenet5, "resnet20": resnet20,
          "vgg_small": vgg_small, "vgg": vgg_small}


def get(name: str, input_shape=(28, 28, 1), num_classes: int = 10, **kwargs):
    """Build a zoo model by name."""
    key = name.lower().replace("-", "_")
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    return MODELS[key](input_shape=tuple(input_shape), num_classes=num_classes, **kwargs)
