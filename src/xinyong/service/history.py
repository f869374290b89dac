"""The live city's history on disk: its snapshots, and the city rebuilt from the last one
before a day, with the stored submissions and the upheld appeals replayed on their days.

A restart, a failed day and an upheld appeal all rebuild a city this way; the same seed draws
the same numbers, so the days re-simulated come out as they were (but for what an appeal
withdrew). Every ``snapshot_every`` days an advance keeps a snapshot (:meth:`History.keep`);
older ones are thinned to one every ``KEEP_EVERY`` days, which appeals against old events start
from. A snapshot file is named by the store only once written; until then it is ``pending``,
and the clean-up of files the store does not name leaves it alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from xinyong.engine.city import City
from xinyong.engine.driver import drive
from xinyong.engine.twin import keep_twin
from xinyong.records.snapshots import (
    SNAPSHOTS,
    Pending,
    read_snapshot,
    remove_unlisted,
    write_snapshot,
)
from xinyong.service.appeals import EventId, withdrawals
from xinyong.service.errors import disk_full

if TYPE_CHECKING:
    from xinyong.service.live import LiveCity

__all__ = ["KEEP_EVERY", "KEEP_RECENT", "History"]

KEEP_EVERY = 30  # older snapshots are thinned to one every this many days (for old appeals)
KEEP_RECENT = 3  # the latest snapshots, kept whatever their day
log = logging.getLogger("xinyong.live")


class History:
    """The snapshots of one live city and the re-simulation from them (``live.history``).

    Args:
        live: the city whose history this is.
    """

    def __init__(self, live: LiveCity) -> None:
        self.live = live
        self.pending = Pending()  # snapshot files written, not yet named by the store
        self.owed = False  # a snapshot due could not be written (a full disk): the next day tries

    def _write(self, city: City) -> str | None:
        """Write a snapshot of ``city``; None if the disk has no room for it (the city goes
        on without: a restart re-simulates a little more, until one can be written)."""
        try:
            return write_snapshot(self.live.folder, city, self.pending)
        except OSError as exc:
            if not disk_full(exc):
                raise
            log.warning(
                "no room for a snapshot of day %d in '%s' (%s): the city goes on without it",
                city.day,
                self.live.folder,
                exc.strerror,
            )
            return None

    def snapshots(self, con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
        """The snapshots the store names, as (open day, file), oldest first."""
        return [
            (int(d), str(f))
            for d, f in con.execute("SELECT day, file FROM live_snapshots ORDER BY day").fetchall()
        ]

    def clean(self, con: duckdb.DuckDBPyConnection) -> None:
        """Delete the snapshot files the store does not name (but those being written)."""
        remove_unlisted(self.live.folder, {f for _, f in self.snapshots(con)}, self.pending)

    def keep(self, city: City) -> None:
        """Snapshot ``city`` if its day is one to keep, name it in the store, and thin the
        older ones: restarts need the latest, appeals one before their day. Called under the
        writer (the store's own connection), readers going on meanwhile."""
        live = self.live
        if not live.snapshot_every or (city.day % live.snapshot_every and not self.owed):
            return
        name = self._write(city)
        self.owed = name is None
        if name is None:
            return
        con = live.store.con
        try:
            con.execute("INSERT OR REPLACE INTO live_snapshots VALUES (?, ?)", [city.day, name])
            self.pending.discard([name])
            con.execute(
                "DELETE FROM live_snapshots WHERE day % ? != 0 AND day < ?",
                [KEEP_EVERY, city.day - KEEP_RECENT * live.snapshot_every],
            )
        except duckdb.Error as exc:
            if not disk_full(exc):
                raise
            self.owed = name in self.pending.names()  # not named: the clean-up deletes it
            self.pending.discard([name])
        self.clean(con)

    def rebuild(self, con: duckdb.DuckDBPyConnection, to_day: int) -> City:
        """The city at open day ``to_day``, from the last snapshot before it, with the stored
        submissions and the upheld appeals replayed; the snapshots of later days are dropped,
        and those written on the way named in the store (a restart, a failed day)."""
        con.execute("DELETE FROM live_snapshots WHERE day > ?", [to_day])
        city = self.from_snapshot(con, to_day)
        made: list[tuple[int, str]] = []
        self.run_to(city, con, to_day, None, None, made)
        if made:
            con.executemany("INSERT OR REPLACE INTO live_snapshots VALUES (?, ?)", made)
        self.pending.discard([f for _, f in made])
        self.clean(con)
        return city

    def from_snapshot(
        self, con: duckdb.DuckDBPyConnection, day: int, extra: EventId | None = None
    ) -> City:
        """The city of the last snapshot at or before ``day`` (or a new one), with the events
        upheld appeals withdrew (and ``extra``) to leave out when it goes on."""
        usable = [
            (d, f)
            for d, f in self.snapshots(con)
            if d <= day and (self.live.folder / SNAPSHOTS / f).exists()
        ]
        city = None
        for _, name in reversed(usable):  # the latest this version can read
            try:
                city = read_snapshot(self.live.folder, name)
                break
            except ValueError:
                continue
        if city is None:  # none: the city from day 0 (the submissions replay its days)
            city = City(self.live.scenario, self.live.seed, None)
        keep_twin(city)  # in the snapshot; built and caught up if it predates twins
        city.follow(self.live.scenario.timeline)  # changes made after the snapshot, on their days
        city.withdrawn = withdrawals(con, extra)
        return city

    def run_to(
        self,
        city: City,
        con: duckdb.DuckDBPyConnection,
        to_day: int,
        ledger_from: int | None,
        sink: Callable[[dict[str, np.ndarray]], None] | None,
        made: list[tuple[int, str]],
    ) -> None:
        """Simulate ``city`` up to open day ``to_day`` with the stored submissions of its days
        (the open day's too); the ledger of days from ``ledger_from`` on goes to ``sink``, and
        the snapshots written on the way are added to ``made``."""
        city.injected = {}
        # In the order they were stored (rowid: the table is only ever appended to), which is
        # the order the inbox gave them to the city: a day's events take effect in order (a
        # score held at its ceiling), so a replay must meet them as the city first did.
        rows = con.execute(
            "SELECT day, citizen, behaviour FROM live_submissions WHERE day >= ? "
            "ORDER BY day, rowid",
            [city.day],
        ).fetchnumpy()
        for d in np.unique(rows["day"]):
            on = rows["day"] == d
            city.inject(int(d), rows["citizen"][on], rows["behaviour"][on])

        def start_ledger(city: City) -> None:
            if (
                sink is not None
                and ledger_from is not None
                and city.ledger is None
                and city.day >= ledger_from
            ):
                city.write_ledger(sink, threads=False)

        def snapshot(city: City, _: object) -> None:
            if self.live.snapshot_every and city.day % self.live.snapshot_every == 0:
                name = self._write(city)
                if name is not None:
                    made.append((city.day, name))

        drive([city], to_day, before_day=start_ledger, after_day=snapshot)
        if city.ledger is not None:
            city.ledger.flush()
