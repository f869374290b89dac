"""The live city's error: a request it cannot carry out, with the HTTP status that says why;
and how to tell a full disk, or a store that a failure has invalidated, from other failures."""

from __future__ import annotations

import errno

import duckdb

__all__ = ["LiveError", "disk_full", "store_invalidated"]

#: What a write says when there is no room: the disk, the file size limit, the quota.
_NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_NO_ROOM_WORDS = ("No space left on device", "File too large", "Disk quota exceeded")


class LiveError(Exception):
    """A request the live city cannot carry out, with a status code and the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def disk_full(exc: BaseException) -> bool:
    """Whether a failure is a write that found no room (DuckDB says so in its message)."""
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        return True
    return any(words in str(exc) for words in _NO_ROOM_WORDS)


def store_invalidated(exc: BaseException) -> bool:
    """Whether DuckDB gave up on the store (a checkpoint failed): it must be opened again."""
    return isinstance(exc, duckdb.FatalException) or "database has been invalidated" in str(exc)
