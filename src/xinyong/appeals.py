"""Appeals: the id of a ledger event, the appeals table, and what an upheld appeal withdraws.

Every ledger row has a unique id, ``day.operator.subject.actor.behaviour.nth``: ``nth`` (from 0)
tells apart rows that agree on everything else (a citizen filmed jaywalking twice in a day).
Rows keep their place in the ledger, so the id of an event never changes: an upheld appeal
flags its row reversed rather than deleting it, and re-simulates the city from that day on as if
the event had never been recorded (see :meth:`xinyong.live.LiveCity.decide_appeal`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

__all__ = ["APPEALS_TABLE", "EVENT_PATTERN", "EventId", "withdrawals"]

APPEALS_TABLE = """
CREATE TABLE IF NOT EXISTS appeals (
    appeal INTEGER PRIMARY KEY, citizen INTEGER NOT NULL, operator SMALLINT NOT NULL,
    event_day INTEGER NOT NULL, actor INTEGER NOT NULL, behaviour SMALLINT NOT NULL,
    reason VARCHAR NOT NULL, status VARCHAR NOT NULL, filed_day INTEGER NOT NULL,
    decided_day INTEGER, nth INTEGER NOT NULL DEFAULT 0);
"""

#: What an event id looks like (the API's schema carries it).
EVENT_PATTERN = r"^\d{1,9}\.\d{1,4}\.\d{1,10}\.-?\d{1,10}\.\d{1,4}\.\d{1,6}$"

#: The row number of a ledger row among the rows that agree on all the rest of its id, in the
#: order they were written (a table's rowid follows it).
NTH_SQL = ("row_number() OVER (PARTITION BY day, operator, subject, actor, behaviour "
           "ORDER BY rowid) - 1")


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
        return (f"{self.day}.{self.operator}.{self.subject}.{self.actor}.{self.behaviour}."
                f"{self.nth}")

    @classmethod
    def parse(cls, text: str) -> EventId:
        """Read an id as the record shows it (ValueError if it is not one)."""
        if not re.match(EVENT_PATTERN, text):
            raise ValueError(f"event id '{text[:80]}' is not of the form day.operator.subject."
                             f"actor.behaviour.n; copy it from the citizen's record")
        day, operator, subject, actor, behaviour, nth = (int(x) for x in text.split("."))
        return cls(day, operator, subject, actor, behaviour, nth)

    def flags(self, con: duckdb.DuckDBPyConnection) -> int | None:
        """The stored flags of this row, or None if the ledger has no such row."""
        row = con.execute(
            f"SELECT flags FROM (SELECT flags, {NTH_SQL} AS nth FROM ledger_rows "
            "WHERE day = ? AND operator = ? AND subject = ? AND actor = ? AND behaviour = ?) "
            "WHERE nth = ?", [self.day, self.operator, self.subject, self.actor,
                              self.behaviour, self.nth]).fetchall()  # all: none left open
        return int(row[0][0]) if row else None


def withdrawals(con: duckdb.DuckDBPyConnection, extra: EventId | None = None
                ) -> dict[int, list[tuple[int, int, int, int]]]:
    """The events upheld appeals withdrew, as a city takes them: by day, (subject, actor,
    behaviour, nth) keys; ``extra`` adds one being decided."""
    out: dict[int, list[tuple[int, int, int, int]]] = {}
    rows = con.execute("SELECT event_day, citizen, actor, behaviour, nth FROM appeals "
                       "WHERE status = 'upheld' ORDER BY appeal").fetchall()
    if extra is not None:
        rows.append((extra.day, extra.subject, extra.actor, extra.behaviour, extra.nth))
    for day, subject, actor, behaviour, nth in rows:
        out.setdefault(int(day), []).append((int(subject), int(actor), int(behaviour),
                                             int(nth)))
    return out
