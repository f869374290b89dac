"""The ledger: the append-only record of events, and the scores rebuilt from it.

A score is a cache of its ledger: start, plus each day's points, clamped to the scale at the end
of each day. :func:`replay` rebuilds scores from the stored events alone, which is how tests and
``explain`` check that nothing else moved a score.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from xinyong.model.codes import NOT_COUNTED, LedgerFlag
from xinyong.model.sensors import Events
from xinyong.model.start import starts_vary
from xinyong.primitives.clock import PhaseClock, Timed
from xinyong.records.store import RunStore
from xinyong.scenario import Operator, Scenario, ScoreScale

__all__ = ["Inline", "Ledger", "LedgerWriter", "UnknownCitizenError", "replay", "withdrawn_mask"]


class UnknownCitizenError(KeyError):
    """A citizen (or organisation) id that is not in the run."""

    def __str__(self) -> str:
        return str(self.args[0])


def withdrawn_mask(events: Events, keys: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Which of a day's recorded events were withdrawn on appeal.

    Args:
        events: the day's recorded events, in the order the ledger stores them.
        keys: one ``(subject, actor, behaviour, nth)`` per withdrawn event: the ``nth`` (from
            0) of the day's events with that subject, actor and behaviour.
    """
    mask = np.zeros(len(events), dtype=bool)
    for subject, actor, behaviour, nth in keys:
        same = np.flatnonzero(
            (events.subject == subject) & (events.actor == actor) & (events.behaviour == behaviour)
        )
        if nth < same.size:
            mask[same[nth]] = True
    return mask


class Inline(Executor):
    """An executor that runs each task at once, in the calling thread: what a worker of a
    split run that has one core to itself uses instead of a second thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class LedgerWriter:
    """Buffers the day's events and writes them in large chunks.

    Chunks are written by one background thread while the simulation goes on (DuckDB and
    Parquet release the GIL), with at most one chunk in flight; :meth:`flush` returns once
    everything is written.

    Args:
        sink: writes one chunk of ledger rows (columns day, operator, subject, actor,
            behaviour, points, flags), or a run store, whose ``ledger_rows`` table it appends.
        chunk_rows: rows to gather before writing.
        in_background: write on a thread of its own (False: in the caller's thread, for a
            worker that has one core).
    """

    def __init__(
        self,
        sink: RunStore | Callable[[dict[str, np.ndarray]], None],
        chunk_rows: int = 2_000_000,
        in_background: bool = True,
    ) -> None:
        self._cursor = None
        if isinstance(sink, RunStore):
            store = sink
            cursor = self._cursor = store.con.cursor()  # the writer thread's own connection

            def sink(chunk: dict[str, np.ndarray]) -> None:
                store.append("ledger_rows", chunk, cursor)

        self._sink = sink
        self._chunk_rows = chunk_rows
        self._buffer: list[
            tuple[int, int, Events, np.ndarray, np.ndarray, np.ndarray | None, bool]
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
        day: int,
        operator: int,
        events: Events,
        points: np.ndarray,
        dismissed: np.ndarray,
        withdrawn: np.ndarray | None = None,
        unscored: bool = False,
    ) -> None:
        """Add one day's events as one operator received them, with its points (and which
        were withdrawn on appeal: they keep their place, flagged reversed). ``unscored``:
        these events name subjects the operator does not score, and are kept flagged so."""
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
        if self._cursor is not None:
            self._cursor.close()

    def close(self) -> None:
        """Flush and stop the writer thread."""
        self.flush()
        self._writer.shutdown()
        if self._cursor is not None:
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


def replay(
    scale: ScoreScale,
    population: int,
    day: np.ndarray,
    subject: np.ndarray,
    points: np.ndarray,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Rebuild every subject's score from events alone.

    Args:
        scale: start, floor and ceiling.
        population: number of subjects.
        day, subject, points: the counted events, in any order.
        start: per-subject starting scores, where they differ from the scale's start (as
            :func:`xinyong.model.start.starting_scores` gives them: already on the scale).

    Returns:
        The score of each subject after the last event's day.
    """
    score = (
        np.full(population, scale.start, dtype=np.int64)
        if start is None
        else np.array(start, dtype=np.int64)
    )
    order = np.lexsort((subject, day))
    day, subject, points = day[order], subject[order], points[order]
    starts = np.flatnonzero(np.diff(day)) + 1
    for s, p in zip(np.split(subject, starts), np.split(points, starts), strict=True):
        who, inverse = np.unique(s, return_inverse=True)
        total = np.bincount(inverse, weights=p).astype(np.int64)
        score[who] = np.clip(score[who] + total, scale.floor, scale.ceiling)
    return score


class Ledger:
    """Query access to a run's events, one operator's partition at a time.

    Args:
        store: the run's store.
        scenario: the run's scenario (for each operator's scale and starting scores).
    """

    def __init__(self, store: RunStore, scenario: Scenario) -> None:
        self._store = store
        self._scenario = scenario
        self.operators = [op.name for op in scenario.all_operators()]

    def __len__(self) -> int:
        return int(self._store.con.execute("SELECT count(*) FROM ledger_rows").fetchone()[0])

    def _operator(self, operator: str | None) -> tuple[int, Operator]:
        name = operator or self.operators[0]
        if name not in self.operators:
            raise KeyError(
                f"no operator '{name}' in this run; operators: {', '.join(self.operators)}"
            )
        index = self.operators.index(name)
        return index, self._scenario.all_operators()[index]

    def events(self, subject: int | None = None, operator: str | None = None) -> pd.DataFrame:
        """One operator's events (default: the first operator's), for one subject or all of them,
        in day order, with names."""
        _, op = self._operator(operator)
        where, params = "WHERE operator = ?", [op.name]
        if subject is not None:
            self.check(subject, op)
            where, params = where + " AND subject = ?", [*params, subject]
        return self._store.query(
            f"SELECT * FROM events {where} ORDER BY day, subject, actor, behaviour", params
        )

    def done_by(self, actor: int, operator: str | None = None) -> pd.DataFrame:
        """An operator's events whose actor is ``actor``, whoever they were attributed to."""
        _, op = self._operator(operator)
        self.check(actor, op)
        return self._store.query(
            "SELECT * FROM events WHERE operator = ? AND actor = ? ORDER BY day, behaviour",
            [op.name, actor],
        )

    def check(self, subject: int, op: Operator) -> None:
        """Raise :class:`UnknownCitizenError` unless ``subject`` is one of ``op``'s subjects."""
        if op.scheme.subject == "citizen":
            n, what, kind = self._scenario.citizens, "citizens", "citizen"
        else:
            n = (
                int(self._store.con.execute("SELECT count(*) FROM organisations").fetchone()[0])
                if self._scenario.population
                else 0
            )
            what, kind = "organisations", "organisation"
        if (
            isinstance(subject, bool)
            or not isinstance(subject, (int, np.integer))
            or not 0 <= subject < n
        ):
            raise UnknownCitizenError(
                f"{kind} {subject!r} is not in this run: {what} are numbered 0 to {n - 1}"
            )

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Any SQL over the store's tables (``ledger``, ``events``, ``listings``, ...)."""
        return self._store.query(sql, params)

    def starting_scores(self, operator: str | None = None) -> np.ndarray | None:
        """Each subject's starting score under an operator's scheme, if it is not uniform."""
        index, op = self._operator(operator)
        if not starts_vary(op.scheme):
            return None
        return (
            self._store.con.execute(  # stored with the standings (records are drawn)
                "SELECT start FROM standings WHERE operator = ? ORDER BY subject", [index]
            )
            .fetchnumpy()["start"]
            .astype(np.int64)
        )

    def replay(self, subject: int | None = None, operator: str | None = None) -> np.ndarray | int:
        """Scores rebuilt from an operator's counted events: one subject's, or all as an array."""
        index, op = self._operator(operator)
        where = f"WHERE operator = ? AND flags & {int(NOT_COUNTED)} = 0"
        params = [index]
        if subject is not None:
            where, params = where + " AND subject = ?", [*params, subject]
        cols = self._store.con.execute(
            f"SELECT day, subject, points FROM ledger_rows {where}", params
        ).fetchnumpy()
        size = self._subjects(op)
        scores = replay(
            op.scheme.score,
            size,
            cols["day"],
            cols["subject"],
            cols["points"],
            self.starting_scores(op.name),
        )
        return int(scores[subject]) if subject is not None else scores

    def _subjects(self, op: Operator) -> int:
        if op.scheme.subject == "citizen":
            return self._scenario.citizens
        return int(self._store.con.execute("SELECT count(*) FROM organisations").fetchone()[0])

    def to_parquet(self, path: str) -> None:
        """Export every operator's events (with names) to a Parquet file."""
        escaped = str(path).replace("'", "''")
        self._store.con.execute(f"COPY (SELECT * FROM events) TO '{escaped}' (FORMAT parquet)")
