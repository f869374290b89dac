"""Appeals: the id of a ledger event, the appeals table, what an upheld appeal withdraws, and
a live city's appeals desk (filing, reading and deciding them).

Every ledger row has a unique id, ``day.operator.subject.actor.behaviour.nth``: ``nth`` (from 0)
tells apart rows that agree on everything else (a citizen filmed jaywalking twice in a day).
Rows keep their place in the ledger, so the id of an event never changes: an upheld appeal
flags its row reversed rather than deleting it, and re-simulates the city from that day on as if
the event had never been recorded (see :meth:`Appeals.decide`).
"""

from __future__ import annotations

import re
import threading
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from xinyong.primitives.codes import LedgerFlag
from xinyong.service.errors import LiveError

if TYPE_CHECKING:
    from xinyong.service.live import LiveCity

__all__ = [
    "APPEALS_TABLE",
    "EVENT_PATTERN",
    "MAX_APPEALS",
    "Appeals",
    "EventId",
    "withdrawals",
]

APPEALS_TABLE = """
CREATE TABLE IF NOT EXISTS appeals (
    appeal INTEGER PRIMARY KEY, citizen INTEGER NOT NULL, operator SMALLINT NOT NULL,
    event_day INTEGER NOT NULL, actor INTEGER NOT NULL, behaviour SMALLINT NOT NULL,
    reason VARCHAR NOT NULL, status VARCHAR NOT NULL, filed_day INTEGER NOT NULL,
    decided_day INTEGER, nth INTEGER NOT NULL DEFAULT 0);
"""

#: Appeals one event may have (each after the one before was rejected): an assumption, so that
#: a rejected appeal can be made again with a better reason, but not without end.
MAX_APPEALS = 3

#: What an event id looks like (the API's schema carries it).
EVENT_PATTERN = r"^\d{1,9}\.\d{1,4}\.\d{1,10}\.-?\d{1,10}\.\d{1,4}\.\d{1,6}$"

#: The row number of a ledger row among the rows that agree on all the rest of its id, in the
#: order they were written (a table's rowid follows it).
NTH_SQL = (
    "row_number() OVER (PARTITION BY day, operator, subject, actor, behaviour ORDER BY rowid) - 1"
)


@dataclass(frozen=True)
class EventId:
    """The unique id of one ledger row."""

    day: int
    operator: int
    subject: int
    actor: int
    behaviour: int
    nth: int

    def __str__(self) -> str:
        return f"{self.day}.{self.operator}.{self.subject}.{self.actor}.{self.behaviour}.{self.nth}"

    @classmethod
    def parse(cls, text: str) -> EventId:
        """Read an id as the record shows it (ValueError if it is not one)."""
        if not re.match(EVENT_PATTERN, text):
            raise ValueError(
                f"event id '{text[:80]}' is not of the form day.operator.subject."
                f"actor.behaviour.n; copy it from the citizen's record"
            )
        day, operator, subject, actor, behaviour, nth = (int(x) for x in text.split("."))
        return cls(day, operator, subject, actor, behaviour, nth)

    def flags(self, con: duckdb.DuckDBPyConnection) -> int | None:
        """The stored flags of this row, or None if the ledger has no such row."""
        row = con.execute(
            f"SELECT flags FROM (SELECT flags, {NTH_SQL} AS nth FROM ledger_rows "
            "WHERE day = ? AND operator = ? AND subject = ? AND actor = ? AND behaviour = ?) "
            "WHERE nth = ?",
            [self.day, self.operator, self.subject, self.actor, self.behaviour, self.nth],
        ).fetchall()  # all: none left open
        return int(row[0][0]) if row else None


def withdrawals(
    con: duckdb.DuckDBPyConnection, extra: EventId | None = None
) -> dict[int, list[tuple[int, int, int, int]]]:
    """The events upheld appeals withdrew, as a city takes them: by day, (subject, actor,
    behaviour, nth) keys; ``extra`` adds one being decided."""
    out: dict[int, list[tuple[int, int, int, int]]] = {}
    rows = con.execute(
        "SELECT event_day, citizen, actor, behaviour, nth FROM appeals "
        "WHERE status = 'upheld' ORDER BY appeal"
    ).fetchall()
    if extra is not None:
        rows.append((extra.day, extra.subject, extra.actor, extra.behaviour, extra.nth))
    for day, subject, actor, behaviour, nth in rows:
        out.setdefault(int(day), []).append((int(subject), int(actor), int(behaviour), int(nth)))
    return out


class Appeals:
    """A live city's appeals desk: files appeals against ledger events, answers what became
    of them, and decides them, an upheld one re-simulating the city without its event.

    It keeps its live city's concurrency rules (:mod:`xinyong.service.live`). Filing does not
    wait for the city's ``writer`` (a day being simulated, an upheld appeal being installed):
    appeals are filed one at a time (``_filing``) through a cursor of the desk's own, and
    stored before the answer. What a filing checks is settled only by a decision's commit,
    which another cursor sees whole or not at all: the event's row reversed, or its appeal
    no longer filed. Decisions hold the ``writer`` and the store's own connection, one at a
    time (``_deciding``); an upheld appeal's re-simulation runs on its own cursor, off the
    writer, then catches up with the days simulated meanwhile holding it.

    Args:
        live: the live city whose store, locks and re-simulation the desk works with (its
            store open).
    """

    def __init__(self, live: LiveCity) -> None:
        self.live = live
        self._deciding = threading.Lock()  # one appeal decision at a time
        self._filing = threading.Lock()  # one filing at a time: numbers handed out in turn
        self._con = live.store.con.cursor()  # the desk's own connection to the store

    def file(self, citizen: int, event: str, reason: str) -> dict[str, Any]:
        """File an appeal against one event of a citizen's ledger (its id as the record shows
        it)."""
        live = self.live
        live.check_citizen(citizen)
        try:
            key = EventId.parse(event)
        except ValueError as exc:
            raise LiveError(422, str(exc)) from None
        ops = live.city.operators
        if (
            key.subject != citizen
            or key.operator >= len(ops)
            or ops[key.operator].subject != "citizen"
        ):
            raise LiveError(404, f"no event '{event}' in the ledger of citizen {citizen}")
        with self._filing:
            con = self._con
            flags = key.flags(con)
            if flags is None:
                raise LiveError(404, f"no event '{event}' in the ledger of citizen {citizen}")
            if flags & LedgerFlag.REVERSED:
                raise LiveError(409, f"event '{event}' was already reversed on appeal")
            if flags & LedgerFlag.UNSCORED:
                raise LiveError(
                    409,
                    f"event '{event}' never counted: the scheme does not score citizen "
                    f"{citizen}, so there is nothing to appeal",
                )
            earlier = con.execute(
                "SELECT appeal, status FROM appeals WHERE citizen = ? AND "
                "operator = ? AND event_day = ? AND actor = ? AND behaviour = ? AND nth = ? "
                "ORDER BY appeal",
                [citizen, key.operator, key.day, key.actor, key.behaviour, key.nth],
            ).fetchall()
            pending = [a for a, status in earlier if status == "filed"]
            if pending:
                raise LiveError(409, f"event '{event}' is already under appeal {pending[0]}")
            if len(earlier) >= MAX_APPEALS:
                raise LiveError(
                    409,
                    f"event '{event}' was appealed {len(earlier)} times and each appeal was "
                    f"rejected (appeals {', '.join(str(a) for a, _ in earlier)}): an event "
                    f"may be appealed {MAX_APPEALS} times at most",
                )
            appeal = int(
                con.execute("SELECT coalesce(max(appeal), 0) + 1 FROM appeals").fetchall()[0][0]
            )
            con.execute(
                "INSERT INTO appeals (appeal, citizen, operator, event_day, actor, behaviour, "
                "reason, status, filed_day, decided_day, nth) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'filed', ?, NULL, ?)",
                [
                    appeal,
                    citizen,
                    key.operator,
                    key.day,
                    key.actor,
                    key.behaviour,
                    reason,
                    live.day,
                    key.nth,
                ],
            )
            return self._read(con, appeal)  # type: ignore[return-value]  # just written: it exists

    def close(self) -> None:
        """Close the desk's cursor (before the store closes)."""
        with self._filing:
            self._con.close()

    def get(self, appeal: int) -> dict[str, Any] | None:
        """One appeal and its status (None if there is none)."""
        return self._read(self.live.reader(), appeal)

    @staticmethod
    def _read(con: duckdb.DuckDBPyConnection, appeal: int) -> dict[str, Any] | None:
        row = con.execute(
            "SELECT citizen, operator, event_day, actor, behaviour, nth, reason, "
            "status, filed_day, decided_day FROM appeals WHERE appeal = ?",
            [appeal],
        ).fetchall()  # all: a result left open blocks the cursor
        if not row:
            return None
        citizen, operator, day, actor, behaviour, nth, reason, status, filed, decided = row[0]
        return {
            "appeal": appeal,
            "citizen": int(citizen),
            "event": str(EventId(day, operator, citizen, actor, behaviour, nth or 0)),
            "reason": reason,
            "status": status,
            "filed_day": int(filed),
            "decided_day": None if decided is None else int(decided),
        }

    def decide(self, appeal: int, uphold: bool) -> dict[str, Any]:
        """Uphold or reject an appeal.

        Upheld, its event is withdrawn: its ledger row is flagged reversed and the city is
        re-simulated from the last snapshot before the event's day, as if the event had never
        been recorded — scores, grades and caps, listings and escalation, lists and their
        terms, gates, notices and responses of every day since. The re-simulation runs on its
        own cursor while submissions and advances go on; then, holding the writer, it catches
        up with the days simulated meanwhile, and the new ledger of those days, the decision
        and the snapshots that still hold are committed in one transaction, and the new city
        replaces the old for readers. One decision at a time.
        """
        live = self.live
        with self._deciding:
            with live.locks.writer:
                con = live.store.con
                current = self._read(con, appeal)
                if current is None:
                    raise LiveError(404, f"no appeal {appeal}")
                if current["status"] != "filed":
                    raise LiveError(409, f"appeal {appeal} was already {current['status']}")
                if not uphold:
                    with live.store.transaction():
                        con.execute(
                            "UPDATE appeals SET status = 'rejected', decided_day = ? "
                            "WHERE appeal = ?",
                            [live.day, appeal],
                        )
                    return self._read(con, appeal)  # type: ignore[return-value]  # just written: it exists
                key = EventId.parse(current["event"])
                con.execute(
                    "CREATE OR REPLACE TABLE ledger_staging AS SELECT * FROM ledger_rows LIMIT 0"
                )
                work = con.cursor()  # the re-simulation's own connection
                day = live.day
            try:
                self._uphold(appeal, key, work, day)
            finally:
                with live.locks.writer, suppress(duckdb.Error):  # on a full disk, the next
                    work.close()  # decision (or a restart) drops the staging table
                    con.execute("DROP TABLE IF EXISTS ledger_staging")
                    live.history.clean(con)
            return self._read(live.reader(), appeal)  # type: ignore[return-value]  # just written: it exists

    def _uphold(self, appeal: int, key: EventId, work: duckdb.DuckDBPyConnection, day: int) -> None:
        """Re-simulate without ``key`` (the slow part, holding nothing), catch up and commit
        (holding the writer)."""
        live = self.live

        def sink(chunk: dict[str, np.ndarray]) -> None:
            live.store.append("ledger_staging", chunk, work)

        made: list[tuple[int, str]] = []
        try:
            self._resimulate_without(appeal, key, work, day, sink, made)
        finally:  # named by the store now, or left for the clean-up
            live.history.pending.discard([f for _, f in made])

    def _resimulate_without(
        self,
        appeal: int,
        key: EventId,
        work: duckdb.DuckDBPyConnection,
        day: int,
        sink: Any,
        made: list[tuple[int, str]],
    ) -> None:
        """Re-simulate from the snapshot before the appealed event, then install the city."""
        live = self.live
        city = live.history.from_snapshot(work, key.day, key)
        live.history.run_to(city, work, day, key.day, sink, made)
        while live.day - city.day > 1:  # catch up with advances made meanwhile, holding nothing
            live.history.run_to(city, work, live.day, key.day, sink, made)

        def rewrite(con: duckdb.DuckDBPyConnection) -> None:
            con.execute(
                "UPDATE appeals SET status = 'upheld', decided_day = ? WHERE appeal = ?",
                [live.day, appeal],
            )
            con.execute("DELETE FROM ledger_rows WHERE day >= ?", [key.day])
            con.execute("INSERT INTO ledger_rows SELECT * FROM ledger_staging")
            con.execute("DELETE FROM live_snapshots WHERE day > ?", [key.day])
            for snapshot in made:
                con.execute("INSERT OR REPLACE INTO live_snapshots VALUES (?, ?)", list(snapshot))

        # The last day or so, with advances (the writer) and submissions (the inbox) waiting:
        # the new city takes every submission stored, and none goes to the old one after.
        with live.locks.quiet():
            live.history.run_to(city, work, live.day, key.day, sink, made)
            live.replace_history(city, rewrite)
