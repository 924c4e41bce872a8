"""Reading streams whose length a header claims but cannot prove."""
from __future__ import annotations

from typing import BinaryIO

_FIRST_CHUNK = 1 << 16  # bytes of the first read; later ones grow with the data
_MAX_CHUNK = 1 << 20


def read_at_most(stream: BinaryIO, limit: int) -> bytearray:
    """Read up to ``limit`` bytes (fewer if the stream ends first).

    The buffer grows only with data that actually arrives, and no read asks
    for more than has arrived so far: io allocates each read's full size
    before filling it, so a 1 KiB file claiming 1 MB costs 64 KiB, not 1 MiB.
    Callers pass one byte more than they expect, to see trailing bytes.
    """
    buffer = bytearray()
    while chunk := stream.read(min(_MAX_CHUNK, max(_FIRST_CHUNK, len(buffer)),
                                   limit - len(buffer))):
        buffer += chunk
    return buffer
