"""crbm.datasets.fetch_mnist against real HTTP servers on loopback.

Only the t10k files exist locally, so the tests fetch the t10k split, with
the expected SHA-256 computed from the local files (which are re-compressed
copies: the same data as the published files, not the same gzip bytes).
"""
from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import crbm
from crbm.io import datasets
from crbm.io.datasets import FetchError, download_mnist, fetch_mnist, get_data_home

T10K = datasets.MNIST_FILES["t10k"]


@pytest.fixture(scope="module")
def checksums(mnist_dir) -> dict[str, str]:
    return {name: hashlib.sha256((mnist_dir / name).read_bytes()).hexdigest() for name in T10K}


@pytest.fixture(scope="module")
def expected(mnist_dir):
    return crbm.load_mnist(mnist_dir, split="t10k")


class Server:
    """An HTTP server in a thread, serving ``root`` with one of several faults."""

    def __init__(self, root: Path, mode: str) -> None:
        self.root, self.mode = root, mode
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.dropped: set[str] = set()
        self.release = threading.Event()  # lets a hanging handler finish at shutdown
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Range")))
                server.handle(self)

            def log_message(self, *args) -> None:  # keep pytest's output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = False  # server_close() then joins every handler
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        name = handler.path.rsplit("/", 1)[-1]
        if self.mode == "404" or not (self.root / name).is_file():
            handler.send_error(404)
            return
        if self.mode == "hang":
            self.release.wait(10)
            return
        data = (self.root / name).read_bytes()
        if self.mode == "corrupt":
            data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
        start = 0
        ranged = handler.headers.get("Range")
        if ranged and self.mode != "no-range":
            start = int(ranged.removeprefix("bytes=").rstrip("-"))
            if start >= len(data):
                handler.send_error(416)
                return
        handler.send_response(206 if start else 200)
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.send_header("Content-Length", str(len(data) - start))
        handler.end_headers()
        body = data[start:]
        if self.mode in ("drop", "no-range") and name not in self.dropped:
            # Promise the whole file, send half, hang up.
            self.dropped.add(name)
            body = body[: len(body) // 2]
            handler.close_connection = True
        handler.wfile.write(body)

    def close(self) -> None:
        if not self.thread.is_alive():
            return
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()  # joins the handler threads
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def serve(mnist_dir):
    """``serve(mode)`` starts a server; all are shut down after the test."""
    servers, before = [], set(threading.enumerate())

    def start(mode: str = "ok") -> Server:
        servers.append(Server(mnist_dir, mode))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
    assert set(threading.enumerate()) <= before  # no server or handler thread left


def fetch(home: Path, mirrors, checksums, **kwargs):
    return fetch_mnist(home, [m if isinstance(m, str) else m.url for m in mirrors],
                       split="t10k", checksums=checksums, **kwargs)


def assert_same(result, expected) -> None:
    assert all(np.array_equal(a, b) for a, b in zip(result, expected, strict=True))


def cached(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "mnist").iterdir())


def test_download_returns_what_load_mnist_returns(tmp_path, serve, checksums, expected):
    server = serve()
    images, labels = fetch(tmp_path, [server], checksums)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert_same((images, labels), expected)
    assert cached(tmp_path) == sorted(T10K)  # no .part left behind
    assert [path for path, _ in server.requests] == [f"/mnist/{name}" for name in T10K]


def test_warm_cache_makes_no_request(tmp_path, serve, checksums, expected):
    server = serve()
    fetch(tmp_path, [server], checksums)
    count = len(server.requests)
    assert_same(fetch(tmp_path, [server], checksums), expected)
    assert len(server.requests) == count
    server.close()  # nobody listening now: the cache alone must do
    assert_same(fetch(tmp_path, [server], checksums, retries=0), expected)


def test_dropped_connection_is_resumed_with_a_range_request(tmp_path, serve, checksums,
                                                            expected, mnist_dir):
    server = serve("drop")
    assert_same(fetch(tmp_path, [server], checksums), expected)
    assert cached(tmp_path) == sorted(T10K)
    for name in T10K:
        half = (mnist_dir / name).stat().st_size // 2
        assert server.requests.count((f"/mnist/{name}", None)) == 1
        assert (f"/mnist/{name}", f"bytes={half}-") in server.requests


def test_partial_file_from_an_earlier_run_is_resumed(tmp_path, serve, checksums, expected,
                                                     mnist_dir):
    (tmp_path / "mnist").mkdir()
    name = T10K[0]
    data = (mnist_dir / name).read_bytes()
    (tmp_path / "mnist" / f"{name}.part").write_bytes(data[:1000])
    server = serve()
    assert_same(fetch(tmp_path, [server], checksums), expected)
    assert server.requests[0] == (f"/mnist/{name}", "bytes=1000-")


def test_complete_partial_file_is_verified_after_a_416(tmp_path, serve, checksums, expected,
                                                       mnist_dir):
    (tmp_path / "mnist").mkdir()
    name = T10K[1]
    data = (mnist_dir / name).read_bytes()
    (tmp_path / "mnist" / f"{name}.part").write_bytes(data)  # interrupted before the rename
    server = serve()
    assert_same(fetch(tmp_path, [server], checksums), expected)
    assert (f"/mnist/{name}", f"bytes={len(data)}-") in server.requests
    assert server.requests.count((f"/mnist/{name}", None)) == 0


def test_server_without_ranges_is_retried_from_the_start(tmp_path, serve, checksums, expected):
    server = serve("no-range")  # drops the first try, then ignores Range and sends 200
    assert_same(fetch(tmp_path, [server], checksums), expected)
    assert len(server.requests) == 4


def test_bad_resumed_bytes_start_over_on_the_same_mirror(tmp_path, serve, checksums, expected,
                                                         mnist_dir):
    (tmp_path / "mnist").mkdir()
    name = T10K[0]
    (tmp_path / "mnist" / f"{name}.part").write_bytes(b"\0" * 1000)  # not the file's start
    server = serve()
    assert_same(fetch(tmp_path, [server], checksums, retries=0), expected)
    assert server.requests[:2] == [(f"/mnist/{name}", "bytes=1000-"), (f"/mnist/{name}", None)]


def test_corrupt_download_is_refused(tmp_path, serve, checksums):
    server = serve("corrupt")
    with pytest.raises(FetchError, match=rf"{T10K[0]}.*SHA-256 mismatch") as caught:
        fetch(tmp_path, [server], checksums)
    assert isinstance(caught.value, OSError)
    assert server.url in str(caught.value)
    assert cached(tmp_path) == []  # nothing under the final name, no .part either


def test_corrupt_mirror_falls_through_to_the_next(tmp_path, serve, checksums, expected):
    bad, good = serve("corrupt"), serve()
    assert_same(fetch(tmp_path, [bad, good], checksums), expected)
    assert len(bad.requests) == 2 and len(good.requests) == 2


def test_missing_file_falls_through_to_the_next_mirror(tmp_path, serve, checksums, expected):
    missing, good = serve("404"), serve()
    assert_same(fetch(tmp_path, [missing, good], checksums), expected)
    assert len(missing.requests) == 2  # one each, no retries on 404
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(tmp_path / "other", [missing], checksums)


def test_silent_server_times_out(tmp_path, serve, checksums):
    server = serve("hang")
    with pytest.raises(FetchError, match="timed out"):
        fetch(tmp_path, [server], checksums, timeout=0.2, retries=0)
    assert cached(tmp_path) == []


def test_corrupt_cached_file_is_downloaded_again(tmp_path, serve, checksums, expected):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / T10K[1]).write_bytes(b"junk")
    server = serve()
    assert_same(fetch(tmp_path, [server], checksums), expected)
    assert [path for path, _ in server.requests] == [f"/mnist/{name}" for name in T10K]


def test_environment_variables_choose_cache_and_mirrors(tmp_path, serve, checksums, expected,
                                                        monkeypatch):
    server = serve()
    monkeypatch.setenv("CRBM_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CRBM_MNIST_MIRRORS", f"http://127.0.0.1:1/nothing/ {server.url}")
    assert get_data_home() == tmp_path / "data"
    assert download_mnist(split="t10k", checksums=checksums) == tmp_path / "data" / "mnist"
    assert cached(tmp_path / "data") == sorted(T10K)
    assert_same(fetch_mnist(split="t10k", checksums=checksums), expected)


def test_default_cache_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("CRBM_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    home = get_data_home()
    if sys.platform == "win32":
        assert home == tmp_path / "crbm" / "Cache"
    elif sys.platform == "darwin":
        assert home == Path.home() / "Library" / "Caches" / "crbm"
    else:
        assert home == tmp_path / "crbm"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as XDG says
        assert get_data_home() == Path.home() / ".cache" / "crbm"
    assert get_data_home(tmp_path / "x") == tmp_path / "x"


def test_published_checksums():
    assert set(datasets.MNIST_SHA256) == {n for pair in datasets.MNIST_FILES.values() for n in pair}
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in datasets.MNIST_SHA256.values())
    assert datasets.MNIST_SHA256["t10k-labels-idx1-ubyte.gz"].startswith("f7ae60f9")


@pytest.mark.parametrize("kwargs,error,message", [
    ({"split": "test"}, ValueError, "split"),
    ({"mirrors": "http://example.com/"}, TypeError, "mirrors"),
    ({"mirrors": [b"http://example.com/"]}, TypeError, "mirrors"),
    ({"mirrors": []}, ValueError, "mirrors"),
    ({"mirrors": ["ftp://example.com/"]}, ValueError, "mirrors"),
    ({"checksums": ["abc"]}, TypeError, "checksums"),
    ({"checksums": {"t10k.gz": "0" * 64}}, ValueError, "checksums"),
    ({"checksums": {"t10k-labels-idx1-ubyte.gz": "xyz"}}, ValueError, "checksums"),
    ({"data_home": 3}, TypeError, "data_home"),
    ({"data_home": ""}, ValueError, "data_home"),
    ({"timeout": 0}, ValueError, "timeout"),
    ({"timeout": float("inf")}, ValueError, "timeout"),
    ({"timeout": "5"}, TypeError, "timeout"),
    ({"retries": -1}, ValueError, "retries"),
    ({"retries": 1.5}, TypeError, "retries"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, error, message):
    kwargs = {"data_home": tmp_path, "split": "t10k", **kwargs}
    with pytest.raises(error, match=message):
        fetch_mnist(**kwargs)
    assert not (tmp_path / "mnist").exists()  # checked before anything is touched


def test_bad_mirror_environment_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("CRBM_MNIST_MIRRORS", "not-a-url")
    with pytest.raises(ValueError, match="CRBM_MNIST_MIRRORS"):
        fetch_mnist(tmp_path, split="t10k")


def test_import_crbm_does_not_load_the_downloader(tmp_path):
    code = ("import sys, crbm; assert 'crbm.datasets' not in sys.modules; "
            "assert crbm.datasets.fetch_mnist is not None")
    # cwd outside the source tree: "python -c" imports from the working directory.
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=tmp_path)


def test_cli_mnist_auto_uses_the_cache(tmp_path, serve, checksums, monkeypatch, capsys):
    from crbm.cli import main

    server = serve()
    monkeypatch.setenv("CRBM_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CRBM_MNIST_MIRRORS", server.url)
    for name, digest in checksums.items():  # the local copies are re-compressed
        monkeypatch.setitem(datasets.MNIST_SHA256, name, digest)
    argv = ["train", "--quiet", "--mnist", "auto", "--split", "t10k", "--limit", "50",
            "--hidden", "4", "--epochs", "1", "--out", str(tmp_path / "m.npz")]
    assert main(argv) == 0
    assert "50 images" in capsys.readouterr().out
    assert cached(tmp_path / "data") == sorted(T10K)
    count = len(server.requests)
    assert main(argv) == 0  # second run: from the cache
    assert len(server.requests) == count


def test_cli_mnist_auto_reports_a_failed_download(tmp_path, serve):
    server = serve("404")
    env = {**os.environ, "CRBM_DATA": str(tmp_path), "CRBM_MNIST_MIRRORS": server.url}
    result = subprocess.run(
        [sys.executable, "-m", "crbm", "train", "--quiet", "--mnist", "auto", "--split", "t10k",
         "--hidden", "4", "--out", "m.npz"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crbm: error: could not download")
    assert "HTTP 404" in lines[0]
