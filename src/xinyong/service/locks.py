"""The live city's locks: one writer at a time, in the order they came, and many readers or
one writer over the city's arrays, taking turns.

Python's own locks are not fair: a thread that releases a lock and takes it again at once (an
advance, day after day) usually gets it back before the threads waiting for it are even woken,
and a submission could wait for a whole advance. These locks hand over in turn.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

__all__ = ["FairLock", "ReadWriteLock"]


class FairLock:
    """A re-entrant lock that goes to the threads waiting for it in the order they came: one
    that releases it and asks again queues behind them."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._queue: deque[int] = deque()

    def acquire(self) -> None:
        """Take the lock, after every thread that asked for it before (at once if this
        thread holds it already)."""
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            self._queue.append(me)
            while self._owner is not None or self._queue[0] != me:
                self._cond.wait()
            self._queue.popleft()
            self._owner, self._depth = me, 1

    def release(self) -> None:
        """Give the lock back (to the longest waiting thread, once every ``acquire`` of this
        thread is matched)."""
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a FairLock this thread does not hold")
            self._depth -= 1
            if not self._depth:
                self._owner = None
                self._cond.notify_all()

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


class ReadWriteLock:
    """Many readers at once, or one writer, taking turns: a waiting writer holds back new
    readers (a stream of readers cannot starve an advance), and the readers that waited for a
    writer go in before the next writer (an advance, day after day, cannot starve them)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0  # holding the read side
        self._readers_waiting = 0
        self._readers_turn = False  # a writer just left: the waiting readers go first
        self._writing = False
        self._writers_waiting = 0

    def _blocked(self) -> bool:
        return self._writing or (self._writers_waiting > 0 and not self._readers_turn)

    def acquire_read(self, blocking: bool = True) -> bool:
        """Take the read side; without ``blocking``, only if it is free at once."""
        with self._cond:
            if self._blocked():
                if not blocking:
                    return False
                self._readers_waiting += 1
                while self._blocked():
                    self._cond.wait()
                self._readers_waiting -= 1
                if not self._readers_waiting:
                    self._readers_turn = False
            self._readers += 1
            return True

    def release_read(self) -> None:
        """Give the read side back."""
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    @contextmanager
    def read(self) -> Iterator[None]:
        """Hold the read side for a block."""
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def write(self) -> Iterator[None]:
        """Hold the write side for a block (no reader holds the read side meanwhile)."""
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers or self._readers_turn:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._readers_turn = self._readers_waiting > 0
                self._cond.notify_all()
