"""The ledger: the append-only record of events, and the scores rebuilt from it.

A score is a cache of its ledger: start, plus each day's points, clamped to the scale at the end
of each day. :func:`replay` rebuilds scores from the stored events alone, which is how tests and
``explain`` check that nothing else moved a score.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

from xinyong.scenario import ScoreScale
from xinyong.sensors import Events
from xinyong.store import RunStore

__all__ = ["Ledger", "LedgerWriter", "replay"]


class LedgerWriter:
    """Buffers the day's events and appends them to the store in large chunks.

    Chunks are written by one background thread while the simulation goes on (DuckDB releases
    the GIL), with at most one chunk in flight; :meth:`flush` returns once everything is stored.

    Args:
        store: where the ledger lives.
        points: points per behaviour index.
        sensor_of: sensor index per behaviour index.
        chunk_rows: rows to gather before writing.
    """

    def __init__(self, store: RunStore, points: np.ndarray, sensor_of: np.ndarray,
                 chunk_rows: int = 2_000_000) -> None:
        self.store = store
        self._points = points.astype(np.int32)
        self._sensor_of = sensor_of.astype(np.int16)
        self._chunk_rows = chunk_rows
        self._buffer: list[tuple[int, Events]] = []
        self._buffered = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-writer")
        self._cursor = store.con.cursor()  # the writer thread's own connection to the store
        self._in_flight: Future[None] | None = None

    def append(self, day: int, events: Events) -> None:
        """Add one day's recorded events."""
        if len(events):
            self._buffer.append((day, events))
            self._buffered += len(events)
        if self._buffered >= self._chunk_rows:
            self._submit()

    def flush(self) -> None:
        """Write everything buffered to the store, and wait until it is written."""
        self._submit()
        self._wait()

    def close(self) -> None:
        """Flush and stop the writer thread."""
        self.flush()
        self._writer.shutdown()
        self._cursor.close()

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
        self._in_flight = self._writer.submit(self.store.append, "ledger", chunk, self._cursor)

    def _chunk(self) -> dict[str, np.ndarray]:
        days = [np.full(len(e), d, dtype=np.int32) for d, e in self._buffer]
        behaviour = np.concatenate([e.behaviour for _, e in self._buffer])
        return {
            "day": np.concatenate(days),
            "subject": np.concatenate([e.subject for _, e in self._buffer]).astype(np.int32),
            "actor": np.concatenate([e.actor for _, e in self._buffer]).astype(np.int32),
            "behaviour": behaviour,
            "sensor": self._sensor_of[behaviour],
            "points": self._points[behaviour],
            "misattributed": np.concatenate([e.misattributed for _, e in self._buffer]),
        }


def replay(scale: ScoreScale, population: int, day: np.ndarray, subject: np.ndarray,
           points: np.ndarray) -> np.ndarray:
    """Rebuild every citizen's score from events alone.

    Args:
        scale: start, floor and ceiling.
        population: number of citizens.
        day, subject, points: the events, in any order.

    Returns:
        The score of each citizen after the last event's day.
    """
    score = np.full(population, scale.start, dtype=np.int64)
    order = np.lexsort((subject, day))
    day, subject, points = day[order], subject[order], points[order]
    starts = np.flatnonzero(np.diff(day)) + 1
    for s, p in zip(np.split(subject, starts), np.split(points, starts), strict=True):
        who, inverse = np.unique(s, return_inverse=True)
        total = np.bincount(inverse, weights=p).astype(np.int64)
        score[who] = np.clip(score[who] + total, scale.floor, scale.ceiling)
    return score


class Ledger:
    """Query access to a run's events.

    Args:
        store: the run's store.
        scale: the scenario's score scale, for replays.
        population: the number of citizens.
    """

    def __init__(self, store: RunStore, scale: ScoreScale, population: int) -> None:
        self._store = store
        self._scale = scale
        self._population = population

    def __len__(self) -> int:
        return int(self._store.con.execute("SELECT count(*) FROM ledger").fetchone()[0])

    def events(self, citizen: int | None = None) -> pd.DataFrame:
        """Recorded events with names, for one subject or (default) all of them, in day order."""
        where = "" if citizen is None else "WHERE subject = ?"
        params = [] if citizen is None else [citizen]
        return self._store.query(
            f"SELECT * FROM events {where} ORDER BY day, subject, actor, behaviour", params)

    def done_by(self, citizen: int) -> pd.DataFrame:
        """Recorded events whose actor is ``citizen``, whoever they were attributed to."""
        return self._store.query(
            "SELECT * FROM events WHERE actor = ? ORDER BY day, behaviour", [citizen])

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Any SQL over the store's tables (``ledger``, ``events``, ``listings``, ...)."""
        return self._store.query(sql, params)

    def replay(self, citizen: int | None = None) -> np.ndarray | int:
        """Scores rebuilt from the ledger: one citizen's, or everyone's as an array."""
        where = "" if citizen is None else "WHERE subject = ?"
        params = [] if citizen is None else [citizen]
        cols = self._store.con.execute(
            f"SELECT day, subject, points FROM ledger {where}", params).fetchnumpy()
        scores = replay(self._scale, self._population, cols["day"], cols["subject"],
                        cols["points"])
        return int(scores[citizen]) if citizen is not None else scores

    def to_parquet(self, path: str) -> None:
        """Export the events (with names) to a Parquet file."""
        self._store.con.execute(f"COPY (SELECT * FROM events) TO '{path}' (FORMAT parquet)")
