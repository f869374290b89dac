"""The live city's error: a request it cannot carry out, with the HTTP status that says why.

(How to tell a full disk, or a store DuckDB gave up on, from other failures is the store's to
say: :func:`~xinyong.records.store.disk_full`, :func:`~xinyong.records.store.store_invalidated`,
imported here for the service's modules.)"""

from __future__ import annotations

from xinyong.records.store import disk_full, store_invalidated

__all__ = ["LiveError", "disk_full", "store_invalidated"]


class LiveError(Exception):
    """A request the live city cannot carry out, with a status code and the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
