"""The ledger's writer: a day's recorded events, buffered and written in large chunks beside
the day, to whatever sink the run gives it (a run store, or a block's Parquet files)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Protocol

import numpy as np

from xinyong.model.sensors import Events
from xinyong.primitives.clock import Inline, PhaseClock, Timed
from xinyong.primitives.codes import LedgerFlag

__all__ = ["LedgerStore", "LedgerWriter"]

#: Writes one chunk of ledger rows, as columns.
Sink = Callable[[dict[str, np.ndarray]], None]


class LedgerStore(Protocol):
    """Where a run's ledger is stored (:class:`xinyong.records.store.RunStore`)."""

    def ledger_sink(self) -> tuple[Sink, Callable[[], None]]:
        """A sink for the writer's thread, and what to call once it has stopped."""
        ...


class LedgerWriter:
    """Buffers the day's events and writes them in large chunks.

    Chunks are written by one background thread while the simulation goes on (DuckDB and
    Parquet release the GIL), with at most one chunk in flight; :meth:`flush` returns once
    everything is written.

    Args:
        sink: writes one chunk of ledger rows (columns day, operator, subject, actor,
            behaviour, points, flags): a run store's (:meth:`RunStore.ledger_sink`), or a
            block's Parquet files.
        chunk_rows: rows to gather before writing.
        in_background: write on a thread of its own (False: in the caller's thread, for a
            worker that has one core).
        closed: called once the writer has stopped (the store's sink closes its cursor).
    """

    @classmethod
    def to(cls, store: LedgerStore) -> LedgerWriter:
        """A writer appending to ``store``'s ledger on a thread of its own."""
        sink, closed = store.ledger_sink()
        return cls(sink, closed=closed)

    def __init__(
        self,
        sink: Sink,
        chunk_rows: int = 2_000_000,
        in_background: bool = True,
        closed: Callable[[], None] | None = None,
    ) -> None:
        self._closed = closed
        self._sink = sink
        self._chunk_rows = chunk_rows
        self._buffer: list[
            tuple[int | np.ndarray, int, Events, np.ndarray, np.ndarray, np.ndarray | None, bool]
        ] = []
        self._buffered = 0
        self._writer: Executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-writer")
            if in_background
            else Inline()
        )
        self._in_flight: Future[None] | None = None

    def append(
        self,
        day: int | np.ndarray,
        operator: int,
        events: Events,
        points: np.ndarray,
        dismissed: np.ndarray,
        withdrawn: np.ndarray | None = None,
        unscored: bool = False,
    ) -> None:
        """Add one day's events as one operator received them, with its points (and which
        were withdrawn on appeal: they keep their place, flagged reversed). ``day`` may give
        each event its own day (a warm start's events from before day 0). ``unscored``: these
        events name subjects the operator does not score, and are kept flagged so."""
        if len(events):
            self._buffer.append((day, operator, events, points, dismissed, withdrawn, unscored))
            self._buffered += len(events)
        if self._buffered >= self._chunk_rows:
            self._submit()

    def time_on(self, clock: PhaseClock) -> None:
        """Count the writes' time on ``clock`` (``xinyong simulate --profile``)."""
        self._writer = Timed(self._writer, clock, "ledger (writer thread)")

    def flush(self) -> None:
        """Write everything buffered to the store, and wait until it is written."""
        self._submit()
        self._wait()

    def discard(self) -> None:
        """Drop what is buffered, let a write in flight end (its error ignored), and stop the
        writer thread: for a day that failed half-way, whose rows must not be written."""
        self._buffer, self._buffered = [], 0
        with contextlib.suppress(Exception):  # the day is being dropped anyway
            self._wait()
        self._writer.shutdown()
        if self._closed is not None:
            self._closed()

    def close(self) -> None:
        """Flush and stop the writer thread."""
        self.flush()
        self._writer.shutdown()
        if self._closed is not None:
            self._closed()

    def _wait(self) -> None:
        if self._in_flight is not None:
            self._in_flight.result()  # re-raises a failed write here, in the simulating thread
            self._in_flight = None

    def _submit(self) -> None:
        if not self._buffer:
            return
        chunk = self._chunk()
        self._buffer, self._buffered = [], 0
        self._wait()
        self._in_flight = self._writer.submit(self._sink, chunk)

    def _chunk(self) -> dict[str, np.ndarray]:
        parts = self._buffer

        def column(get: Callable[[tuple], np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate([get(p) for p in parts]).astype(dtype, copy=False)

        def flag(get: Callable[[tuple], np.ndarray | None], bit: LedgerFlag) -> np.ndarray:
            def part(p: tuple) -> np.ndarray:
                on = get(p)
                return np.zeros(len(p[2]), bool) if on is None else on

            return column(part, np.uint8) * np.uint8(bit)

        flags = flag(lambda p: p[2].misattributed, LedgerFlag.MISATTRIBUTED)
        flags |= flag(lambda p: p[2].fabricated, LedgerFlag.FABRICATED)
        flags |= flag(lambda p: p[4], LedgerFlag.DISMISSED)
        flags |= flag(lambda p: p[2].submitted, LedgerFlag.SUBMITTED)
        flags |= flag(lambda p: p[5], LedgerFlag.REVERSED)
        flags |= flag(lambda p: np.full(len(p[2]), p[6]), LedgerFlag.UNSCORED)
        return {
            "day": column(lambda p: np.full(len(p[2]), p[0]), np.int32),
            "operator": column(lambda p: np.full(len(p[2]), p[1]), np.int16),
            "subject": column(lambda p: p[2].subject, np.int32),
            "actor": column(lambda p: p[2].actor, np.int32),
            "behaviour": column(lambda p: p[2].behaviour, np.int16),
            "points": column(lambda p: p[3], np.int32),
            "flags": flags,
        }
