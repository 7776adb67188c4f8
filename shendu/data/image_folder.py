"""Image folders: ``root/<class name>/<image>``, one sub-folder per class.

Class names are the sub-folder names, sorted; class ``k`` is the k-th name. Images are decoded
by Pillow, an optional extra (``pip install shendu[image]`` or ``pip install pillow``); nothing
else in shendu needs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["IMG_EXTENSIONS", "find_classes", "make_dataset", "load_image", "load_image_folder"]

IMG_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff",
                  ".webp")


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading image files needs Pillow, an optional extra of shendu: "
                          "`pip install pillow` (or `pip install shendu[image]`)") from None
    return Image


def find_classes(root: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """The class names (sorted sub-folder names of ``root``) and their indices.

    Args:
        root: the folder holding one sub-folder per class.

    Raises:
        FileNotFoundError: ``root`` is not a folder or has no sub-folders.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for c in ("dog", "cat"): os.mkdir(os.path.join(root, c))
        >>> find_classes(root)
        (['cat', 'dog'], {'cat': 0, 'dog': 1})
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist or is not a folder")
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir() and
                     not e.name.startswith("."))
    if not classes:
        raise FileNotFoundError(f"image folder {root} has no class sub-folders; expected "
                                "root/<class name>/<image files>")
    return classes, {c: i for i, c in enumerate(classes)}


def make_dataset(root: str | os.PathLike, class_to_idx: dict[str, int] | None = None,
                 extensions: Sequence[str] | None = IMG_EXTENSIONS,
                 is_valid_file: Callable[[str], bool] | None = None) -> list[tuple[str, int]]:
    """The ``(path, class index)`` of every image under ``root``, sorted by class then path.

    Args:
        root: the folder holding one sub-folder per class (searched recursively).
        class_to_idx: class name to index; default from ``find_classes(root)``.
        extensions: file endings accepted (case-insensitive).
        is_valid_file: a predicate on the path, instead of ``extensions``.

    Raises:
        FileNotFoundError: a class folder has no image.

    Example:
        >>> samples = make_dataset("photos")  # doctest: +SKIP
    """
    root = Path(root)
    if class_to_idx is None:
        class_to_idx = find_classes(root)[1]
    if is_valid_file is None:
        exts = tuple(e.lower() for e in extensions or ())
        is_valid_file = lambda p: p.lower().endswith(exts)  # noqa: E731
    samples = []
    for name in sorted(class_to_idx, key=class_to_idx.get):
        files = []
        for dirpath, _, filenames in os.walk(root / name, followlinks=True):
            files += [os.path.join(dirpath, f) for f in filenames
                      if is_valid_file(os.path.join(dirpath, f))]
        if not files:
            raise FileNotFoundError(f"class folder {root / name} holds no image file (accepted "
                                    f"endings: {', '.join(extensions or ())})")
        samples += [(f, class_to_idx[name]) for f in sorted(files)]
    return samples


def load_image(path: str | os.PathLike, mode: str | None = "RGB") -> np.ndarray:
    """Decode an image file into a uint8 array with Pillow.

    Args:
        path: the file.
        mode: Pillow mode to convert to ("RGB" gives H x W x 3, "L" gives H x W, "RGBA"
            H x W x 4); ``None`` keeps the file's own mode (a 16-bit image then stays
            16-bit; a 1-bit image becomes 0/255).

    Raises:
        ImportError: Pillow is not installed.

    Example:
        >>> img = load_image("cat.png")  # doctest: +SKIP
        >>> img.shape, img.dtype  # doctest: +SKIP
        ((32, 32, 3), dtype('uint8'))
    """
    image = _pil()
    with image.open(path) as im:
        if mode is not None and im.mode != mode:
            im = im.convert(mode)
        arr = np.asarray(im)
    if arr.dtype == bool:  # mode "1"
        arr = arr.astype(np.uint8) * 255
    return arr


def load_image_folder(root: str | os.PathLike, mode: str = "RGB") -> tuple:
    """Every image of an image folder stacked into arrays (all images must share one size).

    Args:
        root: the folder holding one sub-folder per class.
        mode: Pillow mode of the images ("RGB", "L", ...).

    Returns:
        ``(x, y, classes)``: uint8 images (N, H, W, C) (or (N, H, W) for "L"), int64 labels
        (N,), and the class names.

    Raises:
        ValueError: the images have different sizes (resize them, or use
            ``shendu.vision.datasets.ImageFolder`` with a ``Resize`` transform).

    Example:
        >>> x, y, classes = load_image_folder("photos")  # doctest: +SKIP
    """
    classes, class_to_idx = find_classes(root)
    samples = make_dataset(root, class_to_idx)
    images = [load_image(p, mode) for p, _ in samples]
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(f"load_image_folder: the images under {root} have different shapes "
                         f"{sorted(shapes)[:4]}; resize them to one size, or use "
                         "shendu.vision.datasets.ImageFolder with a Resize transform")
    return np.stack(images), np.array([t for _, t in samples], dtype=np.int64), classes
