"""Downloading MNIST into a local cache.

* :func:`fetch_mnist` -- one MNIST split as ``(images, labels)``, downloaded
  on first use and read from the cache afterwards.
* :func:`download_mnist` -- the same download, returning the directory.
* :func:`get_data_home` -- where crbm caches data.
* :class:`FetchError` -- a download failed on every mirror.

Only the standard library is used (``urllib``).  Every file is checked
against its published SHA-256 before it gets its final name, so the cache
never holds a partial or corrupt file under the name :func:`crbm.load_mnist`
looks for.  A warm cache needs no network: files that are present and verify
are used without any request.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Optional

import numpy as np

from crbm import __version__
from crbm._validation import check_int, check_positive_float
from crbm.io.idx import load_mnist

__all__ = [
    "FetchError", "fetch_mnist", "download_mnist", "get_data_home",
    "MNIST_FILES", "MNIST_SHA256", "MNIST_MIRRORS",
]

StrPath = str | os.PathLike[str]

# The two files of each split, images first.
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# SHA-256 of the gzip files as distributed by the original site and its
# mirrors (the values torchvision, tensorflow-datasets and others check).
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# Tried in order; the original site comes last because it is often down or
# refuses scripted downloads.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

_CHUNK = 1 << 16
# Every MNIST file is under 10 MB: a mirror sending more is broken or hostile.
_MAX_BYTES = 64 << 20
# Seconds to wait before retrying an attempt that received nothing (doubling).
_BACKOFF = 0.5
_MAX_BACKOFF = 4.0
_USER_AGENT = f"crbm/{__version__} (Python urllib)"


class FetchError(OSError):
    """A file could not be downloaded and verified from any mirror.

    The message names the file, the cache directory and, for every mirror
    tried, what went wrong (HTTP status, network error, SHA-256 mismatch).
    """


class _AttemptFailed(Exception):
    """One request went wrong on the network side; ``retry`` says whether the
    same mirror is worth asking again."""

    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.reason, self.retry = reason, retry


def get_data_home(data_home: Optional[StrPath] = None) -> Path:
    """The directory crbm caches downloaded data in (not created here).

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Use this directory.  Without it: ``$CRBM_DATA`` if set and non-empty,
        else the user cache directory -- ``%LOCALAPPDATA%\\crbm\\Cache`` on
        Windows, ``~/Library/Caches/crbm`` on macOS, and elsewhere
        ``$XDG_CACHE_HOME/crbm`` or ``~/.cache/crbm``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    TypeError
        If `data_home` is not None, a str or an os.PathLike.
    ValueError
        If `data_home` is an empty string.
    """
    if data_home is not None:
        if not isinstance(data_home, (str, os.PathLike)):
            raise TypeError(
                f"data_home must be None, a str or an os.PathLike, got {type(data_home).__name__}")
        if os.fspath(data_home) == "":
            raise ValueError("data_home must not be empty")
        return Path(data_home).expanduser()
    if os.environ.get("CRBM_DATA"):
        return Path(os.environ["CRBM_DATA"]).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        return Path(base) / "crbm" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "crbm"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says to ignore relative paths.
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "crbm"


def _check_mirrors(mirrors: object, name: str) -> tuple[str, ...]:
    """Validate base URLs and give each a trailing slash, so ``base + file`` works."""
    # A bare string is iterable too: reject it rather than try each character.
    if isinstance(mirrors, (str, bytes)) or not isinstance(mirrors, Iterable):
        raise TypeError(f"{name} must be a list of base URLs (str), got {type(mirrors).__name__}")
    checked = []
    for url in mirrors:
        if not isinstance(url, str):
            raise TypeError(f"{name} must hold str URLs, got {type(url).__name__}")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{name}: {url!r} is not an http:// or https:// URL")
        checked.append(url if url.endswith("/") else url + "/")
    if not checked:
        raise ValueError(f"{name} must hold at least one URL")
    return tuple(checked)


def _resolve_mirrors(mirrors: object) -> tuple[str, ...]:
    if mirrors is not None:
        return _check_mirrors(mirrors, "mirrors")
    from_env = os.environ.get("CRBM_MNIST_MIRRORS", "").split()
    if from_env:
        return _check_mirrors(from_env, "$CRBM_MNIST_MIRRORS")
    return MNIST_MIRRORS


def _resolve_checksums(checksums: object) -> dict[str, str]:
    """The published table with the caller's overrides laid over it."""
    table = dict(MNIST_SHA256)  # read at call time, so tests may patch the module's table
    if checksums is None:
        return table
    if not isinstance(checksums, Mapping):
        raise TypeError(
            f"checksums must be a mapping of file name to SHA-256, got {type(checksums).__name__}")
    for name, digest in checksums.items():
        if name not in MNIST_SHA256:
            raise ValueError(
                f"checksums: unknown file {name!r}; expected one of {', '.join(MNIST_SHA256)}")
        if not isinstance(digest, str) or len(digest) != 64 or not _is_hex(digest):
            raise ValueError(f"checksums[{name!r}] must be 64 hex digits, got {digest!r}")
        table[name] = digest.lower()
    return table


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out (no data for {timeout:g} s)"
    return str(exc) or type(exc).__name__


def _open(url: str, offset: int, timeout: float):
    """Send the GET (asking for bytes from ``offset`` on when resuming)."""
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            return None  # nothing after offset: the part may be complete; the hash decides
        # 4xx means this mirror does not have the file; 5xx may pass.
        raise _AttemptFailed(f"HTTP {exc.code} {exc.reason}",
                             retry=exc.code >= 500 or exc.code in (408, 429)) from None
    except urllib.error.URLError as exc:
        # No name resolution or nobody listening: asking again will not help.
        reason = exc.reason
        final = isinstance(reason, (socket.gaierror, ConnectionRefusedError))
        text = _describe(reason, timeout) if isinstance(reason, BaseException) else str(reason)
        raise _AttemptFailed(text, retry=not final) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _AttemptFailed(_describe(exc, timeout), retry=True) from None


def _content_range_start(value: Optional[str]) -> Optional[int]:
    """The first byte of ``Content-Range: bytes START-END/TOTAL``, or None."""
    try:
        unit, spec = (value or "").split(" ", 1)
        return int(spec.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


def _get(url: str, part: Path, timeout: float, received: list[int]) -> bool:
    """One request for ``url`` into ``part``, resuming from its current size.

    Returns whether ``part`` now ends with bytes of this request after bytes
    of an earlier one.  Network problems raise :class:`_AttemptFailed`; local
    file errors propagate.  ``received[0]`` counts the bytes written, also on
    failure.
    """
    offset = _size(part)
    response = _open(url, offset, timeout)
    if response is None:
        return offset > 0
    with response:
        if response.status == 206:
            start = _content_range_start(response.headers.get("Content-Range"))
            if start != offset:
                part.unlink()  # cannot tell where these bytes go: start over next time
                raise _AttemptFailed(
                    f"asked for bytes {offset}- but got Content-Range "
                    f"{response.headers.get('Content-Range')!r}", retry=True)
            mode = "ab"
        else:  # 200: the server sent the whole file (it may not do ranges)
            offset, mode = 0, "wb"
        length = response.headers.get("Content-Length", "")
        expected = int(length) if length.isdigit() else None
        if offset + (expected or 0) > _MAX_BYTES:
            raise _AttemptFailed(f"Content-Length {length} is larger than any MNIST file",
                                 retry=False)
        with open(part, mode) as out:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _AttemptFailed(_describe(exc, timeout), retry=True) from None
                if not chunk:
                    break
                if offset + received[0] + len(chunk) > _MAX_BYTES:
                    raise _AttemptFailed("more data than any MNIST file holds", retry=False)
                out.write(chunk)
                received[0] += len(chunk)
        # urllib returns a short body silently when the server hangs up early.
        if expected is not None and received[0] < expected:
            raise _AttemptFailed(
                f"connection closed after {received[0]} of {expected} bytes", retry=True)
    return offset > 0


def _commit(part: Path, final: Path) -> None:
    """Give a verified download its final name, durably and atomically."""
    with open(part, "ab") as f:
        os.fsync(f.fileno())
    os.replace(part, final)


def _fetch_file(name: str, directory: Path, mirrors: tuple[str, ...], expected: str,
                timeout: float, retries: int) -> Path:
    final = directory / name
    if final.is_file() and _sha256(final) == expected:
        return final  # warm cache: no network at all
    # Bytes arrive in NAME.part, which survives failures so the next attempt
    # (or the next call) resumes with an HTTP Range request.
    part = directory / (name + ".part")
    failures = []
    for mirror in mirrors:
        url = mirror + name
        attempt = 0
        while True:
            received = [0]
            try:
                resumed = _get(url, part, timeout, received)
                digest = _sha256(part)
                if digest == expected:
                    _commit(part, final)
                    return final
                part.unlink()
                if resumed:  # the bad bytes may predate this request: start over here
                    continue
                failures.append(f"{url}: SHA-256 mismatch (got {digest}, expected {expected})")
                break  # this mirror serves something else: try the next one
            except _AttemptFailed as failure:
                attempt += 1
                if not failure.retry or attempt > retries:
                    failures.append(f"{url}: {failure.reason}")
                    break
                if not received[0]:  # back off only when the last try got nowhere
                    time.sleep(min(_BACKOFF * 2 ** (attempt - 1), _MAX_BACKOFF))
    raise FetchError(f"could not download {name} into {directory}: " + "; ".join(failures))


def download_mnist(data_home: Optional[StrPath] = None, mirrors: Optional[Iterable[str]] = None,
                   *, split: str = "train", checksums: Optional[Mapping[str, str]] = None,
                   timeout: float = 30.0, retries: int = 3) -> Path:
    """Make sure one MNIST split is in the cache; return its directory.

    Takes the same arguments as :func:`fetch_mnist`, which calls it and then
    reads the files.

    Returns
    -------
    pathlib.Path
        ``get_data_home(data_home) / "mnist"``, holding the split's two
        verified ``.gz`` files; ``crbm.load_mnist(path, split)`` reads them.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"split must be one of {tuple(MNIST_FILES)}, got {split!r}")
    directory = get_data_home(data_home) / "mnist"
    mirror_urls = _resolve_mirrors(mirrors)
    table = _resolve_checksums(checksums)
    timeout = check_positive_float("timeout", timeout)
    retries = check_int("retries", retries, 0)
    directory.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES[split]:
        _fetch_file(name, directory, mirror_urls, table[name], timeout, retries)
    return directory


def fetch_mnist(data_home: Optional[StrPath] = None, mirrors: Optional[Iterable[str]] = None,
                *, split: str = "train", checksums: Optional[Mapping[str, str]] = None,
                timeout: float = 30.0, retries: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Load one MNIST split, downloading it into the cache on first use.

    The split's images and labels files are looked up in
    ``get_data_home(data_home) / "mnist"``.  A file that is present and
    matches its SHA-256 is used as is, without any network request.
    Otherwise it is downloaded from the first mirror that has it into
    ``NAME.part`` (resuming with an HTTP Range request where an earlier
    attempt stopped), verified, and only then renamed to ``NAME``.

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        The cache directory; see :func:`get_data_home` (``$CRBM_DATA``, else
        the user cache directory).  Created if missing.
    mirrors : list of str, optional
        Base URLs (http or https) tried in order, the file name appended to
        each.  Default: ``$CRBM_MNIST_MIRRORS`` (whitespace-separated URLs) if
        set, else :data:`MNIST_MIRRORS`.
    split : {"train", "t10k"}, default "train"
        The 60,000 training images or the 10,000 test images.
    checksums : mapping of str to str, optional
        Expected SHA-256 (hex) per file name, overriding entries of
        :data:`MNIST_SHA256` -- for private mirrors or tests.
    timeout : float, default 30
        Seconds to wait to connect, and for each read, before giving up on a
        request.
    retries : int, default 3
        Further requests per mirror after a network failure (timeout, reset,
        truncated body, HTTP 5xx), each resuming the partial file.  A mirror
        answering 4xx, refusing the connection or serving a file with the
        wrong SHA-256 is left for the next one at once.

    Returns
    -------
    images : numpy.ndarray
        uint8 array of shape (n, 28, 28), as from :func:`crbm.load_mnist`.
    labels : numpy.ndarray
        uint8 array of shape (n,).

    Raises
    ------
    FetchError
        If a file could not be downloaded and verified from any mirror; the
        message lists each mirror's failure.  Nothing is left under the
        final name; a partial ``NAME.part`` is kept for resuming.
    TypeError, ValueError
        If an argument (or ``$CRBM_MNIST_MIRRORS``) is malformed; the
        message names it.
    OSError
        If the cache directory cannot be created or written.
    IdxFormatError
        If verified files do not parse (only with overridden checksums).

    Notes
    -----
    Two processes fetching into the same cache at once may spoil each
    other's ``.part`` file; the SHA-256 check catches that and the download
    starts over, so a finished file is always correct.
    """
    directory = download_mnist(data_home, mirrors, split=split, checksums=checksums,
                               timeout=timeout, retries=retries)
    return load_mnist(directory, split=split)
