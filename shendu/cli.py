"""The ``shendu`` command: train, evaluate, predict, summary, datasets.

    shendu train                      # an MLP on the MNIST sample shipped in the package
    shendu evaluate model.shendu
    shendu predict model.shendu digit.png
    shendu summary model.shendu
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

__all__ = ["main"]

_DATASETS = ("mnist-sample", "mnist", "fashion-mnist", "kmnist", "cifar10", "cifar100")
_MODELS = ("mlp", "seeds_cnn", "lenet5", "resnet20", "vgg_small")


def _load(name: str, path=None):
    """((x_train, y_train), (x_test, y_test)) as uint8 images and integer labels."""
    from . import data

    loaders = {"mnist-sample": lambda p: data.load_sample("mnist"), "mnist": data.load_mnist,
               "fashion-mnist": data.load_fashion_mnist, "kmnist": data.load_kmnist,
               "cifar10": data.load_cifar10, "cifar100": data.load_cifar100}
    if name not in loaders:
        raise SystemExit(f"unknown dataset {name!r}; choose from {', '.join(_DATASETS)}")
    (x, y), (xt, yt) = loaders[name](path)
    return (x, y.reshape(-1)), (xt, yt.reshape(-1))


def _images(x: np.ndarray) -> np.ndarray:
    """uint8 images to float32 in [0, 1], channels-last (N, H, W, C)."""
    x = x.astype(np.float32) / 255.0
    return x[..., None] if x.ndim == 3 else x


def build_mlp(hidden=(256, 128), n_in: int = 784, n_out: int = 10):
    """The seeds' kind of dense network: ReLU hidden layers and a softmax output."""
    from .keras.layers import Dense
    from .models import Sequential

    layers = [Dense(hidden[0], activation="relu", input_shape=(n_in,))]
    layers += [Dense(h, activation="relu") for h in hidden[1:]]
    layers.append(Dense(n_out, activation="softmax"))
    return Sequential(layers, name="mlp")


def _build(args, x_train: np.ndarray, n_classes: int):
    if args.model == "mlp":
        if args.augment:
            raise SystemExit("--augment needs an image model (e.g. --model seeds_cnn)")
        return build_mlp(tuple(args.hidden), int(np.prod(x_train.shape[1:])), n_classes), \
            f"MLP {'-'.join(map(str, args.hidden))}"
    from .vision import models as zoo

    flip = args.dataset not in ("mnist-sample", "mnist", "kmnist")  # digits must not mirror
    model = zoo.get(args.model, input_shape=x_train.shape[1:], num_classes=n_classes,
                    augment=args.augment, flip=flip and args.augment)
    return model, args.model + (" with augmentation" if args.augment else "")


def cmd_train(args) -> int:
    import shendu

    shendu.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = _load(args.dataset, args.data)
    x_train, x_test = _images(x_train), _images(x_test)
    if args.model == "mlp":
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    model, label = _build(args, x_train, n_classes)
    model.compile(optimizer=shendu.keras.optimizers.Adam(learning_rate=args.lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = []
    if args.cosine:
        import math

        lr0, epochs = args.lr, args.epochs
        callbacks.append(shendu.keras.callbacks.LearningRateScheduler(
            lambda e, lr: 0.5 * lr0 * (1 + math.cos(math.pi * e / epochs))))
    print(f"training {label} ({model.count_params()} parameters) on {args.dataset}: "
          f"{len(x_train)} training and {len(x_test)} test images")
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=args.validation_split, verbose=1 if args.verbose else 2,
              callbacks=callbacks)
    took = time.perf_counter() - start
    loss, acc = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    print(f"test accuracy: {acc:.4f} (loss {loss:.4f}) after {args.epochs} epochs in "
          f"{took:.1f}s")
    model.save(args.output)
    print(f"model saved to {args.output}")
    return 0


def _fit_input(model, x: np.ndarray) -> np.ndarray:
    """Images shaped as the model expects them: flat vectors for dense networks."""
    from .models.summary import input_shape_of

    shape = input_shape_of(model)
    if shape is not None and len(shape) == 1:
        return x.reshape(len(x), -1)
    return x


def _load_model(path):
    from .io import load_model

    return load_model(path)


def cmd_evaluate(args) -> int:
    model = _load_model(args.model)
    _, (x_test, y_test) = _load(args.dataset, args.data)
    loss, acc = model.evaluate(_fit_input(model, _images(x_test)), y_test, batch_size=512,
                               verbose=0)
    print(f"{args.model}: test accuracy {acc:.4f}, loss {loss:.4f} on {len(x_test)} "
          f"images of {args.dataset}")
    return 0


def _read_image(path: str) -> np.ndarray:
    """A 28x28 grayscale image in [0, 255] from .npy or an image file (needs Pillow)."""
    if path.endswith(".npy"):
        img = np.load(path, allow_pickle=False)
    else:
        try:
            from PIL import Image
        except ImportError:
            raise SystemExit(f"reading {path!r} needs Pillow (pip install pillow), or pass a "
                             ".npy file of shape (28, 28)") from None
        with Image.open(path) as im:
            img = np.asarray(im.convert("L").resize((28, 28)))
    img = np.asarray(img, dtype=np.float32)
    if img.size != 784:
        raise SystemExit(f"{path}: expected a 28x28 image, got shape {img.shape}")
    return img.reshape(28, 28)


def cmd_predict(args) -> int:
    model = _load_model(args.model)
    images = np.stack([_read_image(p) for p in args.images])
    if args.invert:
        images = 255.0 - images
    probs = model.predict(_fit_input(model, _images(images)))
    for path, p in zip(args.images, probs):
        k = int(np.argmax(p))
        print(f"{path}: {k} (p={float(p[k]):.3f})")
    return 0


def cmd_summary(args) -> int:
    _load_model(args.model).summary()
    return 0


def cmd_datasets(args) -> int:
    print("mnist-sample  shipped in the package (4,000 train / 1,000 test)")
    for name in _DATASETS[1:]:
        try:
            (x, _), (xt, _) = _load(name)
            where = f"found ({len(x)} train / {len(xt)} test)"
        except FileNotFoundError as e:
            lines = str(e).splitlines()
            where = "not found; looked in:" + "".join(
                f"\n{'':14s}{ln.strip()}" for ln in lines[1:] if ln.strip().startswith(("/", "-"))
                or ln.strip().startswith("~"))
        print(f"{name:13s} {where}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shendu", description="shendu deep learning framework")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a dense network and save it")
    t.add_argument("--dataset", default="mnist-sample", choices=_DATASETS)
    t.add_argument("--data", default=None, help="folder with the dataset files")
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--model", default="mlp", choices=_MODELS)
    t.add_argument("--augment", action="store_true", help="random shifts (and flips) in fit")
    t.add_argument("--cosine", action="store_true", help="cosine learning-rate decay")
    t.add_argument("--hidden", type=int, nargs="+", default=[256, 128], help="MLP sizes")
    t.add_argument("--validation-split", type=float, default=0.1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--output", "-o", default="model.shendu")
    t.add_argument("--verbose", action="store_true", help="redraw a progress bar per batch")
    t.set_defaults(fn=cmd_train)

    e = sub.add_parser("evaluate", help="test accuracy of a saved model")
    e.add_argument("model")
    e.add_argument("--dataset", default="mnist-sample", choices=_DATASETS)
    e.add_argument("--data", default=None)
    e.set_defaults(fn=cmd_evaluate)

    pr = sub.add_parser("predict", help="classify 28x28 images (.png/.jpg with Pillow, .npy)")
    pr.add_argument("model")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--invert", action="store_true", help="dark digits on a light background")
    pr.set_defaults(fn=cmd_predict)

    s = sub.add_parser("summary", help="print a saved model's layers")
    s.add_argument("model")
    s.set_defaults(fn=cmd_summary)

    d = sub.add_parser("datasets", help="list the datasets and where they are")
    d.set_defaults(fn=cmd_datasets)
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.fn(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"shendu {args.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


