"""The live city's error: a request it cannot carry out, with the HTTP status that says why."""

from __future__ import annotations

__all__ = ["LiveError"]


class LiveError(Exception):
    """A request the live city cannot carry out, with a status code and the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
