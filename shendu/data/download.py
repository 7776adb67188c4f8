"""Downloading datasets: several mirrors in order, retries, a progress bar, atomic writes, and a
SHA-256 check of the *decompressed* content.

Why the decompressed content: the same data is published gzipped by several hands (Debian's
``dataset-fashion-mnist`` recompressed Zalando's files), so the ``.gz`` bytes differ between
copies while the data inside is the same. Hashing what is inside makes one table serve every
mirror and every local copy (``sha256_of`` computes that hash for a file you have).

A file whose SHA-256 is not known here is not trusted: ``download`` refuses it before touching
the network unless ``verify=False`` is passed (then the hash of what arrived is printed, to be
recorded). A download that does not match is deleted and refused with ``ChecksumError``; when
every mirror fails the error lists the URLs tried and why each failed.

Only ``urllib`` is used; the files go through a temporary file in the destination folder and
``os.replace`` (``shendu.io.atomic_write``), so an interrupted download leaves nothing behind.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import socket
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..io import atomic_write

__all__ = ["RemoteFile", "Resource", "RESOURCES", "DownloadError", "ChecksumError",
           "UnverifiedError", "download", "sha256_of"]

_CHUNK = 1 << 16
_USER_AGENT = "shendu/0.1 (+https://pypi.org/project/shendu)"


@dataclass(frozen=True)
class RemoteFile:
    """One file as the mirrors publish it.

    Args:
        name: the file name on the mirrors (``train-images-idx3-ubyte.gz``).
        sha256: SHA-256 of the decompressed content; ``None`` when not known (not trusted).
        members: for a ``.tar.gz`` archive, ``(path inside the archive, sha256 or None)`` of
            each file to extract; the archive itself is not kept.
    """

    name: str
    sha256: str | None = None
    members: tuple[tuple[str, str | None], ...] = ()

    @property
    def trusted(self) -> bool:
        """Whether every hash needed to verify this file is known."""
        if self.members:
            return all(h is not None for _, h in self.members)
        return self.sha256 is not None


@dataclass(frozen=True)
class Resource:
    """A dataset's files and the mirrors that serve them (tried in order).

    Args:
        name: the dataset's key ("mnist", "cifar-10", ...).
        mirrors: base URLs ending in "/"; a file's URL is the base plus its name.
        files: the files to fetch.

    Example:
        >>> r = Resource("toy", ("http://127.0.0.1:1/",), (RemoteFile("a.gz"),))
        >>> r.urls(r.files[0])
        ['http://127.0.0.1:1/a.gz']
    """

    name: str
    mirrors: tuple[str, ...]
    files: tuple[RemoteFile, ...]

    def urls(self, file: RemoteFile) -> list[str]:
        return [m if m.endswith(file.name) else m.rstrip("/") + "/" + file.name
                for m in self.mirrors]


# -- the table -----------------------------------------------------------------------------------
# SHA-256 of the DECOMPRESSED files. Verified: computed on this project's machines from real data.
# None: not verified here (no copy at hand, no network), so downloads of those files need
# verify=False until someone records the value from a copy they trust (`sha256_of(path)`).
#
# Fashion-MNIST: VERIFIED, computed from Debian's dataset-fashion-mnist
# (0.0~git20200523.55506a9-1, /usr/share/datasets/fashion-mnist), decompressed sizes 47,040,016 /
# 60,008 / 7,840,016 / 10,008 bytes. Debian's .gz files were recompressed: their MD5s differ from
# Zalando's published ones, the content inside is what these hashes describe.
_FASHION = (
    RemoteFile("train-images-idx3-ubyte.gz",
               "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    RemoteFile("train-labels-idx1-ubyte.gz",
               "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    RemoteFile("t10k-images-idx3-ubyte.gz",
               "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    RemoteFile("t10k-labels-idx1-ubyte.gz",
               "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
)
# MNIST: UNVERIFIED, hashes unknown here. For reference only (not checked here, and of the .gz
# files, not of their content): torchvision lists the MD5s of the original .gz files as
# f68b3c2dcbeaaa9fbdd348bbdeb94873, d53e105ee54ea40749a09fcbcd1e9432,
# 9fb629c4189551a2d022fa330f9573f3, ec29112dd5afa0611ce80d1b7f02629c (same order as below).
_MNIST = tuple(RemoteFile(n) for n in (
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz"))
# KMNIST: UNVERIFIED, hashes unknown here.
_KMNIST = _MNIST
# CIFAR: UNVERIFIED, hashes of the extracted .bin files unknown here. For reference only (not
# checked here): the CIFAR page gives the MD5 of cifar-10-binary.tar.gz as
# c32a1d4ab5d03f1284b67883e8d87530 and of cifar-100-binary.tar.gz as
# 03b5dce01913d631647c71ecec9e9cb8.
_CIFAR10 = (RemoteFile("cifar-10-binary.tar.gz", members=tuple(
    (f"cifar-10-batches-bin/{n}", None) for n in (
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
        "data_batch_5.bin", "test_batch.bin", "batches.meta.txt"))),)
_CIFAR100 = (RemoteFile("cifar-100-binary.tar.gz", members=tuple(
    (f"cifar-100-binary/{n}", None) for n in (
        "train.bin", "test.bin", "coarse_label_names.txt", "fine_label_names.txt"))),)

RESOURCES: dict[str, Resource] = {
    "mnist": Resource("mnist", ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                                "https://storage.googleapis.com/cvdf-datasets/mnist/"), _MNIST),
    "fashion-mnist": Resource("fashion-mnist", (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"), _FASHION),
    "kmnist": Resource("kmnist", ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",), _KMNIST),
    "cifar-10": Resource("cifar-10", ("https://www.cs.toronto.edu/~kriz/",), _CIFAR10),
    "cifar-100": Resource("cifar-100", ("https://www.cs.toronto.edu/~kriz/",), _CIFAR100),
}


# -- errors --------------------------------------------------------------------------------------
class DownloadError(OSError):
    """No mirror delivered a file (offline, moved, refused); the message lists the URLs tried."""


class UnverifiedError(DownloadError):
    """A file's SHA-256 is not known, so a download of it is not trusted (``verify=False``)."""


class ChecksumError(ValueError):
    """A downloaded file's decompressed content is not what the table says (or is corrupt)."""


class _Transient(Exception):
    """A failure worth retrying on the same mirror (timeout, reset, 5xx, short read)."""


class _Permanent(Exception):
    """A failure not worth retrying on this mirror (404, refused, unknown host)."""


class _Corrupt(Exception):
    """The mirror delivered bytes that do not verify; try the next mirror."""


# -- hashing -------------------------------------------------------------------------------------
def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def sha256_of(path: str | os.PathLike, decompress: bool = True) -> str:
    """SHA-256 of a file's content, decompressed first when it is gzipped (detected by content).

    This is the hash the table in ``shendu.data.download`` records.

    Args:
        path: the file.
        decompress: hash the gunzipped content of a gzip file (``False``: the raw bytes).

    Raises:
        ChecksumError: the file is gzipped but truncated or corrupt.

    Example:
        >>> import gzip, os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "x.gz")
        >>> with open(p, "wb") as f: _ = f.write(gzip.compress(b"abc"))
        >>> sha256_of(p)[:16]
        'ba7816bf8f01cfea'
    """
    try:
        return _content_sha256(Path(path), decompress)
    except _Corrupt as e:
        raise ChecksumError(f"{path}: {e}") from None


def _content_sha256(path: Path, decompress: bool = True) -> str:
    h = hashlib.sha256()
    gz = decompress and _is_gzip(path)
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise _Corrupt(f"not a valid gzip file, it is truncated or corrupt ({e})") from None
    return h.hexdigest()


# -- progress ------------------------------------------------------------------------------------
class _Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, total: int | None, enabled: bool):
        self.label, self.total, self.enabled = label, total, enabled
        self.last = 0.0

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.last < 0.1):
            return
        self.last = now
        if self.total:
            frac = min(done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            text = (f"\r{self.label}: [{bar:<30}] {frac:4.0%} {done / 1e6:.1f}/"
                    f"{self.total / 1e6:.1f} MB")
        else:
            text = f"\r{self.label}: {done / 1e6:.1f} MB"
        sys.stderr.write(text + ("\n" if final else ""))
        sys.stderr.flush()


# -- fetching ------------------------------------------------------------------------------------
def _fetch(url: str, dest: str, timeout: float, progress: bool, label: str) -> None:
    """Stream ``url`` into the file ``dest``; raise _Transient or DownloadError-worthy errors."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"download: only http(s) URLs are fetched, got {url!r}")
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as f:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            bar = _Progress(label, total, progress)
            done = 0
            while chunk := resp.read(_CHUNK):
                f.write(chunk)
                done += len(chunk)
                bar.update(done)
            bar.update(done, final=True)
    except urllib.error.HTTPError as e:
        if e.code >= 500 or e.code in (408, 429):
            raise _Transient(f"HTTP {e.code} {e.reason}") from None
        raise _Permanent(f"HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, (TimeoutError, socket.timeout, ConnectionResetError)):
            raise _Transient(f"{type(reason).__name__}: {reason}") from None
        raise _Permanent(f"{type(reason).__name__}: {reason}") from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as e:
        raise _Transient(f"{type(e).__name__}: {e}") from None
    if total is not None and done != total:
        raise _Transient(f"connection closed after {done:,} of {total:,} bytes")


def _check(content_hash: str, expected: str | None, what: str, url: str, verify: bool) -> None:
    if verify and expected is not None and content_hash != expected:
        raise _Corrupt(f"{what} from {url}: SHA-256 mismatch: expected {expected}, got "
                       f"{content_hash} (of the decompressed content); the download was deleted")
    if expected is None:
        sys.stderr.write(f"shendu: accepted {what} from {url} unchecked (verify=False); SHA-256 "
                         f"of its decompressed content: {content_hash}\n")


def _install_plain(file: RemoteFile, url: str, tmp: str, folder: Path, verify: bool) -> None:
    try:
        digest = _content_sha256(Path(tmp))
    except _Corrupt as e:
        raise _Corrupt(f"{file.name} from {url}: {e}") from None
    _check(digest, file.sha256, file.name, url, verify)
    os.replace(tmp, folder / file.name)


def _install_archive(file: RemoteFile, url: str, tmp: str, folder: Path, verify: bool) -> None:
    wanted = dict(file.members)
    found = set()
    try:
        with tarfile.open(tmp, "r:*") as tar:
            for member in tar:
                if member.name not in wanted:
                    continue
                if not member.isfile():
                    raise _Corrupt(f"{file.name} from {url}: {member.name} is not a regular "
                                   "file in the archive")
                dest = folder / member.name  # a name from our table: no path from the archive
                dest.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)

                def write(path, src=src, name=member.name):
                    h = hashlib.sha256()
                    with open(path, "wb") as out:
                        while chunk := src.read(1 << 20):
                            h.update(chunk)
                            out.write(chunk)
                    _check(h.hexdigest(), wanted[name], f"{file.name}:{name}", url, verify)

                atomic_write(dest, write)
                found.add(member.name)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise _Corrupt(f"{file.name} from {url}: not a valid .tar.gz archive, it is truncated "
                       f"or corrupt ({e})") from None
    missing = sorted(set(wanted) - found)
    if missing:
        raise _Corrupt(f"{file.name} from {url}: the archive lacks {', '.join(missing)}")


def download(resource: str | Resource, folder: str | os.PathLike, *, verify: bool = True,
             mirrors: Sequence[str] | None = None, retries: int = 2, backoff: float = 1.0,
             timeout: float = 30.0, progress: bool = True) -> list[Path]:
    """Download a dataset's files into ``folder``, trying each mirror in order.

    Each file goes to a temporary file in ``folder``, is checked (gzip and tar streams must be
    complete; the SHA-256 of the decompressed content must match the table), then is moved into
    place atomically. Archives (CIFAR) are extracted, keeping only the listed members.

    Args:
        resource: a key of ``RESOURCES`` ("mnist", "fashion-mnist", "kmnist", "cifar-10",
            "cifar-100") or a ``Resource``.
        folder: where the files go (created if needed).
        verify: refuse files whose SHA-256 is unknown or does not match. ``False`` accepts what
            arrives (still refusing corrupt gzip/tar streams) and prints its SHA-256.
        mirrors: base URLs to use instead of the resource's own.
        retries: extra attempts on one mirror after a transient failure (timeout, connection
            reset, HTTP 5xx, short read); a 404 or a refused connection moves to the next mirror.
        backoff: seconds before the first retry, doubled for each further one.
        timeout: seconds of network silence before an attempt is abandoned.
        progress: draw a progress bar on stderr.

    Returns:
        The paths written (archive members for an archive).

    Raises:
        UnverifiedError: ``verify`` is on and a file's SHA-256 is unknown (nothing is fetched).
        ChecksumError: a mirror delivered a file that does not verify, and no mirror after it
            delivered a good one.
        DownloadError: no mirror could be reached; the message lists each URL and why.

    Example:
        >>> download("fashion-mnist", "/tmp/fm")  # doctest: +SKIP
    """
    res = RESOURCES[resource] if isinstance(resource, str) else resource
    if mirrors is not None:
        res = replace(res, mirrors=tuple(mirrors))
    folder = Path(folder).expanduser()
    if verify:
        unknown = [f.name for f in res.files if not f.trusted]
        if unknown:
            raise UnverifiedError(
                f"shendu has no verified SHA-256 for {res.name}'s {', '.join(unknown)}, so it "
                "will not trust a download of it. Pass verify=False (download=True, "
                "verify=False) to accept the files unchecked (their SHA-256 is printed), or "
                f"fetch them yourself from {res.urls(res.files[0])[0]} and put them in "
                f"{folder}.")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file in res.files:
        written += _download_one(res, file, folder, verify, retries, backoff, timeout, progress)
    return written


def _download_one(res: Resource, file: RemoteFile, folder: Path, verify: bool, retries: int,
                  backoff: float, timeout: float, progress: bool) -> list[Path]:
    failures, corrupt = [], []
    for url in res.urls(file):
        for attempt in range(retries + 1):
            fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".part", dir=folder)
            os.close(fd)
            try:
                _fetch(url, tmp, timeout, progress, f"{res.name}/{file.name}")
                if file.members:
                    _install_archive(file, url, tmp, folder, verify)
                    return [folder / m for m, _ in file.members]
                _install_plain(file, url, tmp, folder, verify)
                return [folder / file.name]
            except _Transient as e:
                failures.append(f"  {url}  (attempt {attempt + 1}: {e})")
                if attempt < retries:
                    time.sleep(backoff * 2**attempt)
                    continue
            except _Permanent as e:
                failures.append(f"  {url}  ({e})")
            except _Corrupt as e:
                failures.append(f"  {url}  (corrupt or wrong content)")
                corrupt.append(str(e))
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            break
    tried = "\n".join(failures)
    if corrupt:
        raise ChecksumError("; ".join(corrupt) + f". URLs tried:\n{tried}")
    raise DownloadError(f"could not download {file.name} for {res.name}; URLs tried:\n{tried}")
