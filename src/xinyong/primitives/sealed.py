"""Files written whole or not at all, and checked before they are read: a live city's snapshots
and a split run's checkpoints.

A sealed file is written under a temporary name, then its length and CRC-32 in a trailer,
flushed to the disk (``fsync``) and moved into place, so that a name that exists holds a whole
file; and it is read only once its length and sum check out, so that a file cut short or
damaged on disk (a torn write, a flipped block) is refused (:class:`SealError`) rather than
read as a wrong city.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["SealError", "is_sealed", "read_sealed", "write_sealed"]

_TRAILER = struct.Struct("<8sIQ")  # the end of a sealed file: magic, CRC-32, length before it
_MAGIC = b"XYSEAL01"
_CHUNK = 2**20  # bytes read at a time to check a file's sum


class SealError(ValueError):
    """A sealed file that is cut short, damaged, or not sealed at all (written before files
    were, or by something else)."""


class _Summed:
    """A file written through, keeping the CRC-32 and length of what passed."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.crc, self.size = file, 0, 0

    def write(self, data: bytes | memoryview) -> int:
        self.crc = zlib.crc32(data, self.crc)  # without the GIL over a few KiB
        self.size += memoryview(data).nbytes
        return self.file.write(data)


def write_sealed(path: Path, dump: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` whole or not at all: ``dump`` writes the content to the file it is
    given; a failure (a full disk) leaves nothing, not even the temporary file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            summed = _Summed(f)
            dump(summed)  # type: ignore[arg-type]
            f.write(_TRAILER.pack(_MAGIC, summed.crc, summed.size))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # a platform without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check(f: BinaryIO, name: str) -> None:
    size = os.fstat(f.fileno()).st_size
    trailer = b""
    if size >= _TRAILER.size:
        f.seek(size - _TRAILER.size)
        trailer = f.read(_TRAILER.size)
    if len(trailer) != _TRAILER.size or trailer[:8] != _MAGIC:
        raise SealError(f"'{name}' is cut short, or was not written whole (no seal at its end)")
    _, crc, length = _TRAILER.unpack(trailer)
    if length != size - _TRAILER.size:
        raise SealError(f"'{name}' is cut short or padded: its length is not the one sealed")
    f.seek(0)
    got, left = 0, length
    while left:
        chunk = f.read(min(_CHUNK, left))
        if not chunk:
            break
        got = zlib.crc32(chunk, got)
        left -= len(chunk)
    if left or got != crc:
        raise SealError(f"'{name}' is damaged: its checksum differs from the one sealed")
    f.seek(0)


@contextmanager
def read_sealed(path: Path) -> Iterator[BinaryIO]:
    """The file open at its start, once its length and checksum are checked (the content
    ends where the seal begins: read it with ``pickle.load``, which stops there).

    Raises:
        SealError: the file is cut short, damaged, or not sealed.
        OSError: it cannot be opened.
    """
    with open(path, "rb") as f:
        _check(f, path.name)
        yield f


def is_sealed(path: Path) -> bool:
    """Whether ``path`` exists and is sealed whole."""
    try:
        with read_sealed(path):
            return True
    except (SealError, OSError):
        return False
