"""The IDX file format of MNIST and Fashion-MNIST (plain or gzipped).

Layout: two zero bytes, a dtype code, the number of dimensions ``ndim``, then ``ndim`` big-endian
uint32 sizes, then the data in C order, big-endian. The declared shape is checked against the
file's size before any memory is allocated for the data: a truncated file, or a header that
claims more data than the file can hold, is refused with an ``IDXError`` naming the file.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..io import atomic_write

__all__ = ["IDXError", "read_idx", "write_idx"]

_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {np.dtype(d.newbyteorder("=")) if d.itemsize > 1 else d: c for c, d in _DTYPES.items()}
_MAX_NDIM = 16
_GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes holds at most
# this many times n bytes: a physical bound to check a header against before decompressing.
_DEFLATE_MAX_RATIO = 1100
_CHUNK = 1 << 22


class IDXError(ValueError):
    """A file that is not a valid IDX file, or whose size does not match its header."""


def _header(f, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    magic = f.read(4)
    if len(magic) < 4:
        raise IDXError(f"{name}: not an IDX file (only {len(magic)} bytes, expected a 4-byte "
                       "magic number)")
    if magic[:2] != b"\x00\x00" or magic[2] not in _DTYPES:
        raise IDXError(f"{name}: not an IDX file (magic bytes {magic.hex()}, expected "
                       f"0000 + a dtype code in {sorted(hex(c) for c in _DTYPES)} + ndim)")
    ndim = magic[3]
    if not 1 <= ndim <= _MAX_NDIM:
        raise IDXError(f"{name}: IDX header declares {ndim} dimensions, expected 1 to "
                       f"{_MAX_NDIM}")
    raw = f.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise IDXError(f"{name}: truncated IDX header (expected {4 * ndim} bytes of sizes for "
                       f"{ndim} dimensions, got {len(raw)})")
    shape = struct.unpack(f">{ndim}I", raw)
    return _DTYPES[magic[2]], shape, 4 + 4 * ndim


def _gzip_isize(path: Path) -> int:
    """The gzip trailer's ISIZE: the uncompressed length modulo 2**32.

    It describes the last gzip member only; IDX files are written as one member (concatenated
    members would be refused here, with a message saying so).
    """
    with open(path, "rb") as f:
        f.seek(-4, os.SEEK_END)
        return struct.unpack("<I", f.read(4))[0]


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not, detected from its content) into a NumPy array.

    Multi-byte values are converted to native byte order; uint8 data (MNIST) stays uint8.

    Args:
        path: the file.

    Raises:
        IDXError: the file is not IDX, or its size does not match the declared shape.

    Example:
        >>> import numpy as np, tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "a-idx2-ubyte.gz")
        >>> write_idx(p, np.arange(6, dtype=np.uint8).reshape(2, 3))
        >>> read_idx(p).tolist()
        [[0, 1, 2], [3, 4, 5]]
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
    if gzipped and size < 18:  # 10-byte gzip header + 8-byte trailer
        raise IDXError(f"{path}: truncated gzip file ({size} bytes)")
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as f:
        try:
            dtype, shape, header_bytes = _header(f, str(path))
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise IDXError(f"{path}: unreadable gzip stream ({e})") from None
        payload = math.prod(shape) * dtype.itemsize
        declared = f"shape {shape} of {dtype.name} ({payload:,} bytes of data after the header)"
        if not gzipped:
            if size != header_bytes + payload:
                what = "truncated" if size < header_bytes + payload else "has trailing data"
                raise IDXError(f"{path}: {what}: the header declares {declared}, so the file "
                               f"should have {header_bytes + payload:,} bytes; it has {size:,}")
        else:
            if payload > size * _DEFLATE_MAX_RATIO:
                raise IDXError(f"{path}: the header declares {declared}, more than a gzip file "
                               f"of {size:,} bytes can hold; the file is truncated or corrupt")
            isize = _gzip_isize(path)
            if isize != (header_bytes + payload) % 2**32:
                raise IDXError(f"{path}: the header declares {declared}, so the decompressed "
                               f"file should have {header_bytes + payload:,} bytes; the gzip "
                               f"trailer says {isize:,}; the file is truncated or corrupt "
                               "(or made of several gzip members: recompress it as one)")
        out = np.empty(shape, dtype=dtype)
        view = memoryview(out.reshape(-1).view(np.uint8))
        done = 0
        try:
            while done < payload:
                n = f.readinto(view[done:done + _CHUNK])
                if not n:
                    break
                done += n
            extra = f.read(1)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXError(f"{path}: corrupt gzip stream after {done:,} of {payload:,} data "
                           f"bytes ({e})") from None
        if done < payload:
            raise IDXError(f"{path}: truncated: the header declares {declared}, but the file "
                           f"ends after {done:,} bytes of data")
        if extra:
            raise IDXError(f"{path}: has trailing data after the {declared}")
    return out.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else out


def write_idx(path: str | os.PathLike, array, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file, atomically (a crash leaves any previous file intact).

    Args:
        path: the file to write.
        array: uint8, int8, int16, int32, float32 or float64 data with 1 to 16 dimensions.
        compress: gzip the file; default: when ``path`` ends in ``.gz``.

    Example:
        >>> import numpy as np, tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
        >>> write_idx(p, np.array([3, 1, 4], dtype=np.uint8))
        >>> os.path.getsize(p)
        11
    """
    path = Path(path)
    arr = np.asarray(array)
    code = _CODES.get(np.dtype(arr.dtype.newbyteorder("=")) if arr.dtype.itemsize > 1
                      else arr.dtype)
    if code is None:
        raise TypeError(f"write_idx: IDX cannot store dtype {arr.dtype}; use one of uint8, int8, "
                        "int16, int32, float32, float64")
    if not 1 <= arr.ndim <= _MAX_NDIM or any(s >= 2**32 for s in arr.shape):
        raise ValueError(f"write_idx: IDX stores 1 to {_MAX_NDIM} dimensions of size < 2**32, "
                         f"got shape {arr.shape}")
    body = struct.pack(f">BBBB{arr.ndim}I", 0, 0, code, arr.ndim, *arr.shape)
    body += np.ascontiguousarray(arr, dtype=_DTYPES[code]).tobytes()
    if path.name.endswith(".gz") if compress is None else compress:
        body = gzip.compress(body, mtime=0)
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(body)

    atomic_write(path, write)
