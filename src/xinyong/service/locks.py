"""The live city's locks and the protocol they keep, in one place (:class:`CityLocks`).

Three locks, always taken in this order and never the other way round (so no two threads
each hold what the other waits for):

1. ``writer``: one change to the city at a time, in the order they asked: a day of an
   advance, an appeal's decision and its commit, a roll-back, closing. The store's own
   connection is used only under it.
2. ``inbox``: the day open to submissions and the city they go to. Submissions take it alone
   (never the writer); what must see every submission at once (a day closing to them, an
   appeal's city replacing the old) takes it after the writer.
3. ``state``: the city's arrays, many readers or one writer. A day is applied, and history is
   rewritten, on the write side; requests read on the read side.

And a sequence number, ``generation``, that moves when history is rewritten (an upheld appeal,
a failed day): odd while a rewrite is being committed, even once the new city is served.
Readers that read the last day's copy without any lock read it before and after, and read
again if it moved (:meth:`CityLocks.consistent`).

The desks' own locks come before these three, and are never waited for by a thread holding
one of them: one appeal decided at a time (then the writer), one appeal filed at a time (no
city lock: filing never waits for the writer), one computation of the figures or of another
daily copy at a time (then the read side; a day's end, under the write side, sets the
figures without it), and the inbox's queue (held for a moment, alone).

Python's own locks are not fair: a thread that releases a lock and takes it again at once (an
advance, day after day) usually gets it back before the threads waiting for it are even woken,
and a submission could wait for a whole advance. These locks hand over in turn.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TypeVar

__all__ = ["CityLocks", "FairLock", "ReadWriteLock"]

T = TypeVar("T")
CONSISTENT_TRIES = 3  # lock-free reads of a record before it waits for a rewrite to end


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


class CityLocks:
    """One live city's locks, and the named ways of taking them (the module's protocol).

    Attributes:
        writer: one change at a time, in turn.
        inbox: the day open to submissions and the city they join.
        state: the city's arrays: many readers, or one writer.
    """

    def __init__(self) -> None:
        self.writer = FairLock()
        self.inbox = FairLock()
        self.state = ReadWriteLock()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Moves by two each time history is rewritten; odd while a rewrite is committed."""
        return self._generation

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Nothing changes the city, and no submission joins it: the writer, then the inbox."""
        with self.writer, self.inbox:
            yield

    @contextmanager
    def rewriting(self) -> Iterator[None]:
        """History rewritten (an appeal's new ledger and city, a roll-back): the arrays'
        write side, the generation odd for the block and even again after it. Call holding
        :meth:`quiet`."""
        with self.state.write():
            self._generation += 1
            try:
                yield
            finally:
                self._generation += 1

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The arrays as of the last completed day: the read side."""
        with self.state.read():
            yield

    @contextmanager
    def reading_if_free(self) -> Iterator[bool]:
        """The read side if no day is being applied now (True), else nothing (False)."""
        taken = self.state.acquire_read(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                self.state.release_read()

    def consistent(self, read: Callable[[], T]) -> T:
        """``read()`` of the last day's copy without a lock, again if history was rewritten
        meanwhile, and under the read side if it keeps being rewritten (or is now)."""
        for _ in range(CONSISTENT_TRIES):
            generation = self._generation
            if generation % 2:  # a rewrite is being committed: wait for it below
                break
            result = read()
            if self._generation == generation:
                return result
        with self.reading():
            return read()
