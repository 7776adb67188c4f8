"""The downloader: mirrors, retries, checksums of the decompressed content, atomic writes.

Nothing here touches the network: a local HTTP server on 127.0.0.1 (http.server in a thread)
serves fixture files, and "offline" mirrors point at a closed localhost port.
"""

import gzip
import hashlib
import io
import socket
import tarfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from data_fixtures import NAMES, isolate_data

import shendu.data.download as dl
from shendu.data import (
    ChecksumError,
    DatasetNotFoundError,
    DownloadError,
    UnverifiedError,
    find_dataset,
    load_fashion_mnist,
    read_idx,
    sha256_of,
)
from shendu.data.download import RemoteFile, Resource, download


# -- a local HTTP server -------------------------------------------------------------------------
@pytest.fixture
def server():
    """routes[path] = a list of responses served in turn (the last one repeats); a response is
    (status, body), ("short", body) for a connection closed before Content-Length bytes, or
    ("slow", body) for a reply that waits 1 s."""
    routes, hits = {}, Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits[self.path] += 1
            plan = routes.get(self.path)
            if plan is None:
                self.send_error(404)
                return
            kind, body = plan[min(hits[self.path], len(plan)) - 1]
            if kind == "slow":
                time.sleep(1.0)
                kind = 200
            if kind == "short":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + 1000))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            if kind != 200:
                self.send_error(kind)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,),
                              daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_address[1]}", routes=routes,
                          hits=hits)
    httpd.shutdown()
    httpd.server_close()


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/"


def idx_gz(array) -> tuple[bytes, str]:
    """A gzipped IDX file and the SHA-256 of its decompressed content."""
    buf = io.BytesIO()
    arr = np.asarray(array)
    raw = bytes([0, 0, 8, arr.ndim]) + b"".join(s.to_bytes(4, "big") for s in arr.shape)
    raw += arr.astype(np.uint8).tobytes()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(raw)
    return buf.getvalue(), hashlib.sha256(raw).hexdigest()


def toy(mirrors, n=3, verified=True):
    """A two-file resource and the bodies to serve."""
    rng = np.random.default_rng(0)
    files, bodies = [], {}
    for name, arr in (("images-idx3-ubyte.gz", rng.integers(0, 256, (n, 4, 4))),
                      ("labels-idx1-ubyte.gz", rng.integers(0, 10, n))):
        body, digest = idx_gz(arr)
        files.append(RemoteFile(name, digest if verified else None))
        bodies[name] = body
    return Resource("toy", tuple(mirrors), tuple(files)), bodies


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


FAST = dict(backoff=0.0, timeout=5.0, progress=False)


# -- mirrors, retries ------------------------------------------------------------------------------
def test_first_mirror_404_then_second_mirror(server, tmp_path):
    res, bodies = toy([server.url + "/gone/", server.url + "/good/"])
    for name, body in bodies.items():
        server.routes[f"/good/{name}"] = [(200, body)]
    out = download(res, tmp_path / "toy", **FAST)
    assert [p.name for p in out] == list(bodies)
    assert read_idx(out[0]).shape == (3, 4, 4)
    assert server.hits["/gone/images-idx3-ubyte.gz"] == 1  # a 404 is not retried
    assert leftovers(tmp_path / "toy") == sorted(bodies)  # no temporary files left


def test_connection_refused_then_working_mirror(server, tmp_path):
    res, bodies = toy([closed_port_url(), server.url + "/"])
    for name, body in bodies.items():
        server.routes[f"/{name}"] = [(200, body)]
    out = download(res, tmp_path, **FAST)
    assert all(p.exists() for p in out)


def test_transient_errors_are_retried(server, tmp_path):
    res, bodies = toy([server.url + "/"])
    name = "images-idx3-ubyte.gz"
    server.routes[f"/{name}"] = [(503, b""), ("short", bodies[name][:50]), (200, bodies[name])]
    server.routes["/labels-idx1-ubyte.gz"] = [(200, bodies["labels-idx1-ubyte.gz"])]
    download(res, tmp_path, retries=2, **FAST)
    assert server.hits[f"/{name}"] == 3
    assert sha256_of(tmp_path / name) == res.files[0].sha256


def test_retries_exhausted(server, tmp_path):
    res, _ = toy([server.url + "/"])
    server.routes["/images-idx3-ubyte.gz"] = [(503, b"")]
    with pytest.raises(DownloadError) as e:
        download(res, tmp_path, retries=1, **FAST)
    msg = str(e.value)
    assert server.hits["/images-idx3-ubyte.gz"] == 2
    assert "attempt 1: HTTP 503" in msg and "attempt 2: HTTP 503" in msg
    assert leftovers(tmp_path) == []


def test_timeout_is_a_transient_failure(server, tmp_path):
    res, bodies = toy([server.url + "/"])
    server.routes["/images-idx3-ubyte.gz"] = [("slow", bodies["images-idx3-ubyte.gz"])]
    with pytest.raises(DownloadError, match="timed out"):
        download(res, tmp_path, retries=0, backoff=0.0, timeout=0.2, progress=False)


# -- verification ----------------------------------------------------------------------------------
def test_checksum_mismatch_is_refused_and_deleted(server, tmp_path):
    res, bodies = toy([server.url + "/"])
    wrong, wrong_hash = idx_gz(np.ones((3, 4, 4)))
    server.routes["/images-idx3-ubyte.gz"] = [(200, wrong)]
    with pytest.raises(ChecksumError) as e:
        download(res, tmp_path, **FAST)
    msg = str(e.value)
    assert "images-idx3-ubyte.gz" in msg and server.url in msg
    assert res.files[0].sha256 in msg and wrong_hash in msg
    assert "deleted" in msg
    assert leftovers(tmp_path) == []


def test_mismatch_on_one_mirror_falls_back_to_the_next(server, tmp_path):
    res, bodies = toy([server.url + "/bad/", server.url + "/good/"])
    for name, body in bodies.items():
        server.routes[f"/bad/{name}"] = [(200, idx_gz(np.zeros(2))[0])]
        server.routes[f"/good/{name}"] = [(200, body)]
    out = download(res, tmp_path, **FAST)
    assert [sha256_of(p) for p in out] == [f.sha256 for f in res.files]


def test_truncated_gzip_is_refused(server, tmp_path):
    res, bodies = toy([server.url + "/"])
    body = bodies["images-idx3-ubyte.gz"]
    server.routes["/images-idx3-ubyte.gz"] = [(200, body[:len(body) // 2])]
    with pytest.raises(ChecksumError, match="truncated or corrupt") as e:
        download(res, tmp_path, **FAST)
    assert "images-idx3-ubyte.gz" in str(e.value)
    assert leftovers(tmp_path) == []
    assert server.hits["/images-idx3-ubyte.gz"] == 1  # corrupt content is not retried


def test_unknown_hash_refused_before_the_network(server, tmp_path, capsys):
    res, bodies = toy([server.url + "/"], verified=False)
    for name, body in bodies.items():
        server.routes[f"/{name}"] = [(200, body)]
    with pytest.raises(UnverifiedError, match="verify=False") as e:
        download(res, tmp_path, **FAST)
    assert "no verified SHA-256" in str(e.value) and isinstance(e.value, DownloadError)
    assert sum(server.hits.values()) == 0
    out = download(res, tmp_path, verify=False, **FAST)  # accepted unchecked, hash printed
    err = capsys.readouterr().err
    assert all(p.exists() for p in out)
    assert hashlib.sha256(gzip.decompress(bodies["labels-idx1-ubyte.gz"])).hexdigest() in err


def test_progress_bar_on_stderr(server, tmp_path, capsys):
    res, bodies = toy([server.url + "/"])
    for name, body in bodies.items():
        server.routes[f"/{name}"] = [(200, body)]
    download(res, tmp_path, backoff=0.0, progress=True)
    err = capsys.readouterr().err
    assert "toy/images-idx3-ubyte.gz" in err and "100%" in err


def test_offline_message_lists_urls(tmp_path):
    mirrors = [closed_port_url(), closed_port_url()]
    res, _ = toy(mirrors)
    start = time.monotonic()
    with pytest.raises(DownloadError) as e:
        download(res, tmp_path, **FAST)
    assert time.monotonic() - start < 5  # a refused connection is not retried
    msg = str(e.value)
    for m in mirrors:
        assert m + "images-idx3-ubyte.gz" in msg
    assert "Connection" in msg or "refused" in msg


def test_only_http_urls(tmp_path):
    res, _ = toy(["file:///etc/"])
    with pytest.raises(ValueError, match="only http"):
        download(res, tmp_path, **FAST)


# -- archives (CIFAR) ------------------------------------------------------------------------------
def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_archive_members_extracted_and_verified(server, tmp_path):
    a, b = b"\x01" * 3073, b"\x02" * 3073
    body = tar_gz({"batches/a.bin": a, "batches/b.bin": b, "../evil.bin": b"x",
                   "batches/readme.html": b"<p>"})
    server.routes["/archive.tar.gz"] = [(200, body)]
    good = RemoteFile("archive.tar.gz", members=(
        ("batches/a.bin", hashlib.sha256(a).hexdigest()),
        ("batches/b.bin", hashlib.sha256(b).hexdigest())))
    res = Resource("arch", (server.url + "/",), (good,))
    out = download(res, tmp_path / "root", **FAST)
    assert [p.read_bytes() for p in out] == [a, b]
    assert leftovers(tmp_path / "root") == ["batches"]  # no archive, nothing outside
    assert leftovers(tmp_path / "root" / "batches") == ["a.bin", "b.bin"]
    assert not (tmp_path / "evil.bin").exists()

    bad = RemoteFile("archive.tar.gz", members=(("batches/a.bin", "0" * 64),))
    with pytest.raises(ChecksumError, match="batches/a.bin"):
        download(Resource("arch", (server.url + "/",), (bad,)), tmp_path / "other", **FAST)
    assert leftovers(tmp_path / "other") in ([], ["batches"])
    assert leftovers(tmp_path / "other" / "batches") == []

    server.routes["/cut.tar.gz"] = [(200, body[:len(body) // 2])]
    cut = RemoteFile("cut.tar.gz", members=good.members)
    with pytest.raises(ChecksumError, match="truncated or corrupt"):
        download(Resource("arch", (server.url + "/",), (cut,)), tmp_path / "cut", **FAST)


# -- hashing and the table -------------------------------------------------------------------------
def test_sha256_of(tmp_path):
    raw = b"hello world" * 100
    (tmp_path / "a").write_bytes(raw)
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "cut.gz").write_bytes(gzip.compress(raw)[:-10])
    want = hashlib.sha256(raw).hexdigest()
    assert sha256_of(tmp_path / "a") == sha256_of(tmp_path / "a.gz") == want
    assert sha256_of(tmp_path / "a.gz", decompress=False) != want
    with pytest.raises(ChecksumError, match="cut.gz"):
        sha256_of(tmp_path / "cut.gz")


def test_table_is_well_formed():
    for key, res in dl.RESOURCES.items():
        assert res.name == key and res.mirrors and res.files
        assert all(m.startswith(("http://", "https://")) and m.endswith("/")
                   for m in res.mirrors)
        for f in res.files:
            for h in [f.sha256] + [h for _, h in f.members]:
                assert h is None or (len(h) == 64 and int(h, 16) >= 0)
    assert all(f.trusted for f in dl.RESOURCES["fashion-mnist"].files)


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (FASHION / "t10k-labels-idx1-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_hashes_match_debian_copy():
    for f in dl.RESOURCES["fashion-mnist"].files:
        assert sha256_of(FASHION / f.name) == f.sha256, f.name


# -- through the locator ---------------------------------------------------------------------------
@pytest.fixture
def isolated(tmp_path, monkeypatch):
    return isolate_data(tmp_path, monkeypatch)


def serve_fashion_fixture(server, monkeypatch, n=5):
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n),
              rng.integers(0, 256, (2, 28, 28)), rng.integers(0, 10, 2)]
    files = []
    for name, arr in zip(NAMES, arrays):
        body, digest = idx_gz(arr)
        server.routes[f"/fm/{name}.gz"] = [(200, body)]
        files.append(RemoteFile(name + ".gz", digest))
    res = Resource("fashion-mnist", (closed_port_url(), server.url + "/fm/"), tuple(files))
    monkeypatch.setitem(dl.RESOURCES, "fashion-mnist", res)
    return arrays


def test_load_downloads_into_shendu_data(server, isolated, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", str(isolated / "data"))
    arrays = serve_fashion_fixture(server, monkeypatch)
    with pytest.raises(DatasetNotFoundError, match="download=True"):
        load_fashion_mnist()
    assert sum(server.hits.values()) == 0  # never without download=True
    (x_train, y_train), (x_test, _) = load_fashion_mnist(download=True)
    assert np.array_equal(x_train, arrays[0]) and np.array_equal(y_train, arrays[1])
    assert sorted(p.name for p in (isolated / "data" / "fashion-mnist").iterdir()) == \
        sorted(n + ".gz" for n in NAMES)
    hits = sum(server.hits.values())
    load_fashion_mnist(download=True)  # found now: no second download
    assert sum(server.hits.values()) == hits


def test_locator_offline_message(isolated, monkeypatch):
    res = Resource("fashion-mnist", (closed_port_url(),), dl.RESOURCES["fashion-mnist"].files)
    monkeypatch.setitem(dl.RESOURCES, "fashion-mnist", res)
    with pytest.raises(DatasetNotFoundError) as e:
        find_dataset("fashion-mnist", download=True)
    msg = str(e.value)
    assert str(isolated / "home" / ".cache" / "shendu" / "datasets" / "fashion-mnist") in msg
    assert str(isolated / "usr-share-datasets" / "fashion-mnist") in msg
    assert res.mirrors[0] + "train-images-idx3-ubyte.gz" in msg
    assert "The download failed" in msg and "Put the files in" in msg


def test_locator_refuses_unverified_download(isolated, monkeypatch):
    files = tuple(RemoteFile(f.name) for f in dl.RESOURCES["mnist"].files)  # no hashes
    monkeypatch.setitem(dl.RESOURCES, "mnist", Resource("mnist", (closed_port_url(),), files))
    with pytest.raises(DatasetNotFoundError) as e:  # refused before fetching anything
        find_dataset("mnist", download=True)
    assert "no verified SHA-256" in str(e.value) and "verify=False" in str(e.value)
    with pytest.raises(DatasetNotFoundError, match="The download failed"):
        find_dataset("mnist", download=True, verify=False)  # tried, offline


def test_torch_style_download_into_root_layouts(server, isolated, monkeypatch):
    from shendu.vision import datasets

    arrays = serve_fashion_fixture(server, monkeypatch)
    ds = datasets.FashionMNIST(isolated / "root", train=False, download=True)
    assert np.array_equal(ds.data, arrays[2])
    assert sorted(p.name for p in (isolated / "root" / "FashionMNIST" / "raw").iterdir()) == \
        sorted(n + ".gz" for n in NAMES)  # torchvision's layout

    rng = np.random.default_rng(0)
    members, records = {}, {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records[name] = np.concatenate([rng.integers(0, 10, (2, 1)),
                                        rng.integers(0, 256, (2, 3072))], 1).astype(np.uint8)
        members[f"cifar-10-batches-bin/{name}"] = records[name].tobytes()
    server.routes["/c/cifar-10-binary.tar.gz"] = [(200, tar_gz(members))]
    archive = RemoteFile("cifar-10-binary.tar.gz", members=tuple(
        (m, hashlib.sha256(b).hexdigest()) for m, b in members.items()))
    monkeypatch.setitem(dl.RESOURCES, "cifar-10",
                        Resource("cifar-10", (server.url + "/c/",), (archive,)))
    test = datasets.CIFAR10(isolated / "root", train=False, download=True)
    assert (isolated / "root" / "cifar-10-batches-bin" / "test_batch.bin").is_file()
    assert test.targets.tolist() == records["test_batch.bin"][:, 0].tolist()
    assert len(datasets.CIFAR10(isolated / "root")) == 10  # found now, no second download
    assert server.hits["/c/cifar-10-binary.tar.gz"] == 1
