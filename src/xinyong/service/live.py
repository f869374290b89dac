"""The live city: a simulated city that people and programs act on while it runs.

A class plays information collectors, a researcher plugs in external agents, a service checks
gates. The city is held in memory; everything that changes it is first made durable in its
DuckDB store, so that a process killed at any moment loses nothing it acknowledged:

- a submitted event is stored (``live_submissions``, keyed by the client's id, so a repeat is
  recognised) before it is acknowledged (:mod:`xinyong.service.inbox`); it joins the records
  of the first day whose simulation has not begun, and counts when that day is simulated;
- advancing writes each day's ledger, then the new day number, in that order, and every
  ``snapshot_every`` days a snapshot of the whole city (:mod:`xinyong.service.history`, which
  thins the older ones and rebuilds a city from them);
- an appeal and its decision are stored before they are answered.

Concurrency, by design (the locks and the order they are taken in:
:mod:`xinyong.service.locks`; only this class changes what they guard):

- **One writer.** Every change to the city (an appeal's decision, a day of an advance) holds
  the city's ``writer``, in the order they asked; the store's own connection is used only
  under it. Submissions and appeals being filed do not wait for it: the inbox stores
  submissions through its own cursor for the first day not yet begun
  (:mod:`xinyong.service.inbox`), and the appeals desk files appeals through its own.
- **Readers on their own cursors** (:meth:`LiveCity.reader`), one per thread, and on the
  city's arrays under the read side of ``state``. A day is applied (arrays and ledger) under
  its write side, so a reader sees the last completed day, never one half applied.
- **An advance is a job** on a thread of its own (:mod:`xinyong.service.advances`), one day at
  a time (:meth:`LiveCity.simulating_day`, :meth:`LiveCity.finish_day`), so readers wait at
  most one day's step; a second advance while one runs is refused.
- **Appeals** are the city's desk (:class:`xinyong.service.appeals.Appeals`), under the same
  rules: one decision at a time, an upheld one re-simulated off the writer and caught up
  under it, then committed with its city (:meth:`LiveCity.replace_history`).

On restart the city is loaded from its last snapshot, and only the days after it are
re-simulated, with the submitted events and the upheld appeals replayed on their days, which
gives back exactly the state that was lost (the same seed draws the same numbers). Ledger rows
of a day that was being written when the process died are dropped and written again.

The chilling effect needs what citizens would have done with nothing acting on them: the city
keeps its behaviour-only twin (:func:`~xinyong.engine.twin.keep_twin`, the twin a whole run
runs after the city, same seed), which every day of the city moves on by a day. The twin is
part of the city: it is in every snapshot, so a restart or an appeal's re-simulation brings it
back with the city and re-simulates its days along (nothing the system records reaches it, so
it comes out the same); a snapshot from before cities kept twins gets one built and caught up.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import duckdb

from xinyong.engine.city import City
from xinyong.engine.twin import keep_twin
from xinyong.model.gates import Decision, Gates
from xinyong.records.snapshots import write_snapshot
from xinyong.records.store import RunStore
from xinyong.scenario import Scenario, ScenarioError
from xinyong.service.advances import AdvanceJob, Advances
from xinyong.service.appeals import APPEALS_TABLE, Appeals
from xinyong.service.citizen_records import Records, frozen
from xinyong.service.errors import LiveError
from xinyong.service.failures import Failures, serving
from xinyong.service.history import History
from xinyong.service.inbox import Inbox, Receipt, Submission
from xinyong.service.locks import CityLocks
from xinyong.service.stats import DailyCopy, Figures

__all__ = ["AdvanceJob", "LiveCity", "LiveError", "Receipt", "Submission", "load_city", "open_city"]

STORE_FILE = "live.duckdb"
CURRENT_FILE = "CURRENT"  # in a base folder: the sub-folder of the city an admin last loaded
SNAPSHOT_EVERY = 10  # days between snapshots: a restart re-simulates fewer than this
_TABLES = """
CREATE TABLE IF NOT EXISTS live_submissions (
    client_id VARCHAR PRIMARY KEY, day INTEGER NOT NULL, citizen INTEGER NOT NULL,
    behaviour SMALLINT NOT NULL, submitted_by VARCHAR NOT NULL, received DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS live_snapshots (day INTEGER PRIMARY KEY, file VARCHAR NOT NULL);
ALTER TABLE appeals ADD COLUMN IF NOT EXISTS nth INTEGER DEFAULT 0;
DROP TABLE IF EXISTS ledger_staging;
CREATE INDEX IF NOT EXISTS ledger_by_subject ON ledger_rows (subject);
"""


T = TypeVar("T")


class LiveCity:
    """A city in memory, its store on disk, and the operations the HTTP service offers.

    Args:
        folder: where the store lives; an existing store is recovered.
        scenario: the scenario of a new city (ignored when recovering).
        seed: the seed of a new city.
        snapshot_every: days between snapshots of the city (0: none; a restart then
            re-simulates every day).
    """

    def __init__(
        self,
        folder: Path,
        scenario: Scenario | None = None,
        seed: int = 0,
        snapshot_every: int = SNAPSHOT_EVERY,
    ) -> None:
        self.folder = Path(folder)
        self.snapshot_every = snapshot_every
        self.failures = Failures(self)  # a full disk, a failed store: what they are answered
        self.locks = CityLocks()  # the writer, the inbox, the arrays and the generation
        self.advances = Advances(self)  # days simulated on a thread of their own
        self.records = Records(self)  # citizens' records and the notices feed
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self.history = History(self)  # snapshots, and the city rebuilt from them
        db = self.folder / STORE_FILE
        if db.exists():
            self.store = RunStore(db)
            self.scenario = self.store.scenario()
            self.seed = int(self.store.info()["seed"])
            self.store.con.execute(APPEALS_TABLE + _TABLES)
            self._recover(int(self.store.info().get("live_day", "0")))
        else:
            if scenario is None:
                raise LiveError(
                    400,
                    f"no live city at '{self.folder}' and no scenario to start "
                    f"one: give --scenario",
                )
            self.folder.mkdir(parents=True, exist_ok=True)
            self.scenario, self.seed = scenario, seed
            self.store = RunStore.create(db, scenario, seed)
            self.store.con.execute(APPEALS_TABLE + _TABLES)
            self.store.set_info(live_day="0", status="live")
            self.city = City(scenario, seed, self.store)
            keep_twin(self.city)
            if snapshot_every:  # a restart never builds the city from nothing
                self.store.con.execute(
                    "INSERT INTO live_snapshots VALUES (0, ?)",
                    [write_snapshot(self.folder, self.city)],
                )
        self._reader_root = self.store.con.cursor()  # only ever used to make readers' cursors
        self.behaviours = [b.name for b in self.scenario.behaviours]
        self.citizen_behaviours = [
            b.name for b in self.scenario.behaviours if b.subject == "citizen"
        ]
        self.inbox = Inbox(self)  # submissions, stored by group commit
        self.appeals = Appeals(self)  # filing and deciding them, re-simulating on upholding
        self.sensors = list(self.scenario.sensors)
        self._sensor_index = [self.sensors.index(b.sensor) for b in self.scenario.behaviours]
        self.services = (
            [s.name for s in self.scenario.consequences.services]
            if self.scenario.consequences
            else []
        )
        self._install(self.city)
        self.figures = Figures(self)  # the summary figures, computed once a day
        self._copies: dict[str, DailyCopy[Any]] = {}  # other reads computed once a day
        self._copies_lock = threading.Lock()

    def _install(self, city: City) -> None:
        """Make ``city`` the one served (under the write side of ``state``, or before any
        reader exists): its gate status and the open day."""
        self.city = city
        self._open_day = city.day
        self._status, self._view = frozen(city)
        citizen_ops = [op for op in city.operators if op.subject == "citizen"]
        self._gates = (
            Gates(self.scenario.consequences, citizen_ops[0].name)
            if self.scenario.consequences and citizen_ops
            else None
        )

    # -- connections ----------------------------------------------------------------------

    def reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's own cursor on the store (readers never share a connection)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._cursors_lock:
                cursor = self._reader_root.cursor()
                self._cursors.append(cursor)
            self._local.cursor = cursor
        return cursor

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read the city as of its last completed day: the arrays under the read lock, the
        store through this thread's cursor."""
        with self.locks.reading():
            yield self.reader()

    # -- recovery and re-simulation -------------------------------------------------------

    def _recover(self, day: int) -> None:
        """Load the last snapshot and re-simulate the days after it, up to ``day``."""
        con = self.store.con
        con.execute("DELETE FROM ledger_rows WHERE day >= ?", [day])  # a half-written advance
        city = self.history.rebuild(con, day)
        city.attach(self.store)
        self.city = city

    # -- time -----------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """The open day: submissions join its records; it is simulated by the next advance."""
        return self._open_day

    @serving
    def start_advance(self, days: int) -> AdvanceJob:
        """Start simulating ``days`` days on a thread of its own: :meth:`Advances.start`."""
        return self.advances.start(days)

    def job(self, job: int) -> AdvanceJob:
        """An advance job by number (404 if there is none): :meth:`Advances.get`."""
        return self.advances.get(job)

    @serving
    def advance(self, days: int) -> int:
        """Simulate ``days`` days and wait for them; returns the new open day."""
        return self.advances.run(days)

    @property
    def generation(self) -> int:
        """Moves when history is rewritten (an upheld appeal, a failed day): odd while a
        rewrite is being committed, even again once its city is served."""
        return self.locks.generation

    @property
    def view(self) -> SimpleNamespace:
        """What records read of the city as of its last completed day (a copy the next day
        does not change: :func:`~xinyong.service.citizen_records.frozen`)."""
        return self._view

    def roll_back(self) -> None:
        """After a failed day: the city goes back to its last whole day, from its store (if
        the store cannot say which, or a full disk stops the way back, the city is broken
        until it is opened again)."""
        with self.locks.quiet(), self.locks.rewriting():
            old = self.city
            if old.ledger is not None:
                old.ledger.discard()
            try:
                self._recover(int(self.store.info()["live_day"]))
            except Exception as exc:
                failures = self.failures
                failures.break_off(failures.answer(exc) or failures.failed(exc))
                return
            self._install(self.city)
            old._second_core.shutdown()

    @contextmanager
    def simulating_day(self) -> Iterator[None]:
        """A day of an advance: simulated under the writer and the arrays' write lock (readers
        see the last whole day), then snapshotted, readers going on meanwhile."""
        with self.locks.writer:
            self.inbox.close_day(self.city.day)  # submissions from now on join the next day
            with self.locks.state.write():
                yield
            self.history.keep(self.city)  # every snapshot_every days; readers go on

    def replace_history(
        self, city: City, rewrite: Callable[[duckdb.DuckDBPyConnection], None]
    ) -> None:
        """Rewrite the store's history and serve ``city`` instead of the city now, together.

        ``rewrite`` runs in a transaction on the store's connection that no reader sees;
        readers wait only for its commit and the swap of the city, made together under
        :meth:`CityLocks.rewriting`, so that none mixes the old city with the new ledger (a
        record read across them reads again). Call holding :meth:`CityLocks.quiet`.
        """
        old = self.city

        def swap() -> None:
            city.attach(self.store)
            self._install(city)

        with self.store.transaction(commit_under=self.locks.rewriting, then=swap) as con:
            rewrite(con)
        if old.ledger is not None:
            old.ledger.close()
        old._second_core.shutdown()

    def finish_day(self, city: City, _: object, last: bool = False) -> None:
        """The day's ledger durable, then the day moves: the store, the gates' copy, and the
        figures if a request asked for them during the day or an advance's ``last`` day."""
        assert city.ledger is not None
        city.ledger.flush()
        self.store.set_info(live_day=str(city.day))
        self._status, self._view = frozen(city)
        self.figures.day_done(city, last)  # under the day's write lock: no reader waits
        self._open_day = city.day

    # -- events ---------------------------------------------------------------------------

    def check_citizen(self, citizen: int) -> None:
        """Raise a 404 for an id that is not a citizen of this city."""
        if not 0 <= citizen < self.scenario.citizens:
            raise LiveError(
                404,
                f"citizen {citizen} is not in this city: citizens are numbered "
                f"0 to {self.scenario.citizens - 1}",
            )

    def sensor_of(self, behaviour: str) -> str:
        """The sensor that observes a citizen's behaviour (422 if there is no such one)."""
        if behaviour not in self.citizen_behaviours:
            raise LiveError(
                422,
                f"unknown citizen behaviour '{behaviour[:100]}'; behaviours: "
                f"{', '.join(self.citizen_behaviours)}",
            )
        return self.scenario.behaviours[self.behaviours.index(behaviour)].sensor

    def behaviour_sensor(self, behaviour: int) -> str:
        """The sensor that observes a behaviour, by the behaviour's index."""
        return self.sensors[self._sensor_index[behaviour]]

    @serving
    def submit(self, submissions: list[Submission], submitted_by: str) -> list[Receipt]:
        """Store submitted events durably for the first day not yet begun, then acknowledge
        them (the city's inbox: :class:`xinyong.service.inbox.Inbox`)."""
        return self.inbox.submit(submissions, submitted_by)

    # -- reading --------------------------------------------------------------------------

    def _check_gate(self, service: str, citizen: int) -> None:
        self.check_citizen(citizen)
        if self._gates is None:
            raise LiveError(
                409,
                f"scenario '{self.scenario.name}' has no [consequences] "
                f"table: its services check nothing",
            )
        if service not in self.services:
            raise LiveError(
                404, f"unknown service '{service[:100]}'; services: {', '.join(self.services)}"
            )

    def gate(self, service: str, citizen: int) -> Decision:
        """What a service says to a citizen now (as of the last completed day).

        Gates read a copy of what they look at, made at the end of each day, so a check never
        waits for the day being simulated, and takes no lock.
        """
        self._check_gate(service, citizen)
        return self._gates.decide(service, self._status, citizen)  # type: ignore[union-attr]  # _check_gate: set

    def once_a_day(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` over the city as it stands, at most once a day for each ``name``,
        served from that copy meanwhile (:class:`~xinyong.service.stats.DailyCopy`)."""
        with self._copies_lock:
            copy = self._copies.setdefault(name, DailyCopy(self, compute))
        return copy.get()

    @serving
    def stats(self) -> dict[str, Any]:
        """The summary figures as of ``as_of_day``, with the day open now (``open_day``):
        :meth:`Figures.get`."""
        return self.figures.get()

    @serving
    def record(self, citizen: int) -> dict[str, Any]:
        """A citizen's record as of the last completed day: :meth:`Records.record`."""
        return self.records.record(citizen)

    @property
    def notice_lists(self) -> list[str]:
        """The lists a notice can name: :attr:`Records.notice_lists`."""
        return self.records.notice_lists

    @serving
    def notices(
        self,
        limit: int,
        kind: str | None = None,
        on_list: str | None = None,
        from_day: int | None = None,
        to_day: int | None = None,
    ) -> list[dict[str, Any]]:
        """The latest notices, newest first: :meth:`Records.notices`."""
        return self.records.notices(limit, kind, on_list, from_day, to_day)

    @serving
    def notice_feed(
        self,
        limit: int,
        kind: str | None = None,
        on_list: str | None = None,
        from_day: int | None = None,
        to_day: int | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many notices match, and the latest ``limit``: :meth:`Records.notice_feed`."""
        return self.records.notice_feed(limit, kind, on_list, from_day, to_day)

    # -- policy ---------------------------------------------------------------------------

    def change(self, changes: dict[str, Any], what: str, source: str | None = None) -> int:
        """From the open day on, set each path (as ``--set``): a change of the run's timeline
        (:meth:`xinyong.engine.city.City.change`), between two days of an advance. The
        scenario with its timeline is stored before the change is answered, so a restart and
        an appeal's re-simulation make it on its day too.

        Returns:
            The day the change acts from.

        Raises:
            LiveError: 422, a path that names nothing or is fixed for a run, or a value the
                scenario refuses (nothing is changed).
        """
        with self.locks.writer, self.locks.state.write():
            try:
                self.city.change(changes, what=what, source=source)
            except ScenarioError as exc:
                raise LiveError(422, str(exc).splitlines()[0]) from None
            self.scenario = self.city.scenario
            self.store.set_info(scenario=self.scenario.model_dump_json(by_alias=True))
            return self.city.day

    # -- appeals (the desk's own module: xinyong.service.appeals) ---------------------------------

    @serving
    def file_appeal(self, citizen: int, event: str, reason: str) -> dict[str, Any]:
        """File an appeal against one event of a citizen's ledger: :meth:`Appeals.file`."""
        return self.appeals.file(citizen, event, reason)

    @serving
    def appeal(self, appeal: int) -> dict[str, Any] | None:
        """One appeal and its status (None if there is none): :meth:`Appeals.get`."""
        return self.appeals.get(appeal)

    @serving
    def decide_appeal(self, appeal: int, uphold: bool) -> dict[str, Any]:
        """Uphold (re-simulating without the event) or reject an appeal:
        :meth:`Appeals.decide`."""
        return self.appeals.decide(appeal, uphold)

    def close(self) -> None:
        """Stop a running advance (after its day), flush and close the store and every
        connection to it (DuckDB opens a file again only once all are closed)."""
        self.advances.stop()
        with self.locks.quiet():
            ledger = self.city.ledger
            if ledger is not None:
                try:
                    ledger.close()  # empty between days: a day's end flushes it
                except Exception:  # a broken store: nothing unflushed was acknowledged
                    ledger.discard()
            with self._cursors_lock:
                for cursor in [*self._cursors, self._reader_root]:
                    with suppress(duckdb.Error):
                        cursor.close()
                self._cursors.clear()
            for part in (self.inbox.close, self.appeals.close, self.store.close):
                with suppress(duckdb.Error):
                    part()


def open_city(base: Path, scenario: Scenario | None = None, seed: int = 0) -> LiveCity:
    """The live city of a base folder: the one an admin loaded last, or the base's own."""
    base = Path(base)
    pointer = base / CURRENT_FILE
    folder = base / pointer.read_text(encoding="utf-8").strip() if pointer.exists() else base
    return LiveCity(folder, scenario if not (folder / STORE_FILE).exists() else None, seed)


def load_city(base: Path, scenario: Scenario, seed: int) -> LiveCity:
    """Start a new live city in a fresh sub-folder of ``base`` and make it the current one
    (the pointer is replaced atomically, so a crash leaves one city or the other current)."""
    base = Path(base)
    taken = {p.name for p in base.glob("city-*")}
    n = 1
    while f"city-{n}" in taken:
        n += 1
    folder = base / f"city-{n}"
    try:
        live = LiveCity(folder, scenario, seed)
    except BaseException:  # a city that could not be built leaves nothing behind
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        tmp = base / (CURRENT_FILE + ".tmp")
        tmp.write_text(f"city-{n}\n", encoding="utf-8")
        os.replace(tmp, base / CURRENT_FILE)
    except BaseException:  # not current: the city before stays the one served
        live.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return live
