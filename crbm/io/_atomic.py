"""Atomic file replacement: a reader sees the old file or the new one, never half."""
from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator


@contextlib.contextmanager
def atomic_write(path: "str | os.PathLike[str]") -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success
    flush, fsync and rename it over ``path``; on any error remove it and leave
    ``path`` as it was.

    The temporary file is created with mode 0o666 less the umask, like a file
    opened with ``open(path, "wb")`` (``tempfile.mkstemp`` would make it 0o600).
    """
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temp, flags, 0o666)
            break
        except FileExistsError:  # astronomically unlikely: draw another name
            continue
        except OSError as exc:  # name the file the caller asked for, not the temp
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
