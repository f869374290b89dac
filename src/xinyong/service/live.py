"""The live city: a simulated city that people and programs act on while it runs.

A class plays information collectors, a researcher plugs in external agents, a service checks
gates. The city is held in memory; everything that changes it is first made durable in its
DuckDB store, so that a process killed at any moment loses nothing it acknowledged:

- a submitted event is stored (``live_submissions``, keyed by the client's id, so a repeat is
  recognised) before it is acknowledged (:mod:`xinyong.service.inbox`); it joins the records
  of the first day whose simulation has not begun, and counts when that day is simulated;
- advancing writes each day's ledger, then the new day number, in that order, and every
  ``snapshot_every`` days a snapshot of the whole city (:mod:`xinyong.records.snapshots`; older ones
  are thinned to one every ``KEEP_EVERY`` days);
- an appeal and its decision are stored before they are answered.

Concurrency, by design:

- **One writer.** Every change (an appeal, a day of an advance) holds ``writer``, in the
  order they asked (:class:`~xinyong.service.locks.FairLock`: an advance
  asking again after each day queues behind the changes that came meanwhile); the store's own
  connection is used only under it. Submissions do not wait for it: the inbox stores them
  through its own cursor for the first day not yet begun (:mod:`xinyong.service.inbox`).
- **Readers on their own cursors**, one per thread, and on the city's arrays under the read
  side of ``state``. A day is applied (arrays and ledger) under its write side, so a reader
  sees the last completed day, never one half applied.
- **An advance is a job** on a thread of its own (:meth:`LiveCity.start_advance`), one day at
  a time, so readers wait at most one day's step; a second advance while one runs is refused.
- **Appeals** are the city's desk (:class:`xinyong.service.appeals.Appeals`), under the same
  rules: one decision at a time, an upheld one re-simulated off the writer and caught up under it.

On restart the city is loaded from its last snapshot, and only the days after it are
re-simulated, with the submitted events and the upheld appeals replayed on their days, which
gives back exactly the state that was lost (the same seed draws the same numbers). Ledger rows
of a day that was being written when the process died are dropped and written again.

The chilling effect needs what citizens would have done with nothing acting on them: the city
keeps its behaviour-only twin (:meth:`City.keep_twin`, the twin a whole run runs after the
city, same seed), which every day of the city moves on by a day. The twin is part of the city:
it is in every snapshot, so a restart or an appeal's re-simulation brings it back with the
city and re-simulates its days along (nothing the system records reaches it, so it comes out
the same); a snapshot from before cities kept twins gets one built and caught up.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np

from xinyong.engine.city import City
from xinyong.engine.driver import drive
from xinyong.model.codes import FLAG_COLUMNS, NOT_COUNTED
from xinyong.model.consequences import live_status, notice_lists
from xinyong.model.gates import Decision, Gates, GateStatus
from xinyong.model.population import citizen_name, identity_number
from xinyong.records.explain import event_notes
from xinyong.records.ledger import replay
from xinyong.records.snapshots import Pending, read_snapshot, remove_unlisted, write_snapshot
from xinyong.records.store import RunStore
from xinyong.scenario import Scenario
from xinyong.service.appeals import APPEALS_TABLE, Appeals, EventId, withdrawals
from xinyong.service.errors import LiveError
from xinyong.service.inbox import Inbox, Receipt, Submission
from xinyong.service.locks import FairLock, ReadWriteLock

__all__ = ["AdvanceJob", "LiveCity", "LiveError", "Receipt", "Submission",
           "load_city", "open_city"]

STORE_FILE = "live.duckdb"
CURRENT_FILE = "CURRENT"  # in a base folder: the sub-folder of the city an admin last loaded
SNAPSHOT_EVERY = 10  # days between snapshots: a restart re-simulates fewer than this
KEEP_EVERY = 30  # older snapshots are thinned to one every this many days (for old appeals)
KEEP_RECENT = 3  # the latest snapshots, kept whatever their day
_TABLES = """
CREATE TABLE IF NOT EXISTS live_submissions (
    client_id VARCHAR PRIMARY KEY, day INTEGER NOT NULL, citizen INTEGER NOT NULL,
    behaviour SMALLINT NOT NULL, submitted_by VARCHAR NOT NULL, received DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS live_snapshots (day INTEGER PRIMARY KEY, file VARCHAR NOT NULL);
ALTER TABLE appeals ADD COLUMN IF NOT EXISTS nth INTEGER DEFAULT 0;
DROP TABLE IF EXISTS ledger_staging;
"""


@dataclass
class AdvanceJob:
    """An advance running (or run) on its own thread: from which day to which, and where."""

    job: int
    start_day: int
    target_day: int
    day: int
    status: str = "running"  # running, done, failed or stopped
    error: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        """The job as the API shows it."""
        return {"job": self.job, "status": self.status, "start_day": self.start_day,
                "target_day": self.target_day, "day": self.day, "error": self.error}


class LiveCity:
    """A city in memory, its store on disk, and the operations the HTTP service offers.

    Args:
        folder: where the store lives; an existing store is recovered.
        scenario: the scenario of a new city (ignored when recovering).
        seed: the seed of a new city.
        snapshot_every: days between snapshots of the city (0: none; a restart then
            re-simulates every day).
    """

    def __init__(self, folder: Path, scenario: Scenario | None = None, seed: int = 0,
                 snapshot_every: int = SNAPSHOT_EVERY) -> None:
        self.folder = Path(folder)
        self.snapshot_every = snapshot_every
        self.writer = FairLock()  # one writer: every change goes through it, in turn
        self.state = ReadWriteLock()  # the city's arrays: read by requests, written by a day
        self._jobs: dict[int, AdvanceJob] = {}
        self._jobs_lock = threading.Lock()
        self._stopping = threading.Event()
        self.appeals = Appeals(self)  # filing and deciding them, re-simulating on upholding
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._pending = Pending()  # snapshot files written, not yet named by the store
        db = self.folder / STORE_FILE
        if db.exists():
            self.store = RunStore(db)
            self.scenario = self.store.scenario()
            self.seed = int(self.store.info()["seed"])
            self.store.con.execute(APPEALS_TABLE + _TABLES)
            self._recover(int(self.store.info().get("live_day", "0")))
        else:
            if scenario is None:
                raise LiveError(400, f"no live city at '{self.folder}' and no scenario to start "
                                     f"one: give --scenario")
            self.folder.mkdir(parents=True, exist_ok=True)
            self.scenario, self.seed = scenario, seed
            self.store = RunStore.create(db, scenario, seed)
            self.store.con.execute(APPEALS_TABLE + _TABLES)
            self.store.set_info(live_day="0", status="live")
            self.city = City(scenario, seed, self.store)
            self.city.keep_twin()
            if snapshot_every:  # a restart never builds the city from nothing
                self.store.con.execute("INSERT INTO live_snapshots VALUES (0, ?)",
                                       [write_snapshot(self.folder, self.city)])
        self._reader_root = self.store.con.cursor()  # only ever used to make readers' cursors
        self.behaviours = [b.name for b in self.scenario.behaviours]
        self.citizen_behaviours = [b.name for b in self.scenario.behaviours
                                   if b.subject == "citizen"]
        self.inbox = Inbox(self)  # submissions, stored by group commit
        self.sensors = list(self.scenario.sensors)
        self._sensor_index = [self.sensors.index(b.sensor) for b in self.scenario.behaviours]
        self.services = ([s.name for s in self.scenario.consequences.services]
                         if self.scenario.consequences else [])
        self._open_day = self.city.day
        # Moves when history is rewritten (an upheld appeal, a failed day): odd while an
        # appeal's new ledger is being committed, even again once its city is served.
        self._generation = 0
        self._stats: tuple[int, int, dict[str, Any]] | None = None  # generation, day, summary
        self._install(self.city)

    def _install(self, city: City) -> None:
        """Make ``city`` the one served (under the write side of ``state``, or before any
        reader exists): its gate status and the open day."""
        self.city = city
        self._open_day = city.day
        self._status, self._view = frozen(city)
        citizen_ops = [op for op in city.operators if op.subject == "citizen"]
        self._gates = (Gates(self.scenario.consequences, citizen_ops[0].name)
                       if self.scenario.consequences and citizen_ops else None)

    # -- connections ----------------------------------------------------------------------

    def _reader(self) -> duckdb.DuckDBPyConnection:
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
        with self.state.read():
            yield self._reader()

    # -- recovery and re-simulation -------------------------------------------------------

    def _snapshots(self, con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
        return [(int(d), str(f)) for d, f in con.execute(
            "SELECT day, file FROM live_snapshots ORDER BY day").fetchall()]

    def _recover(self, day: int) -> None:
        """Load the last snapshot and re-simulate the days after it, up to ``day``."""
        con = self.store.con
        con.execute("DELETE FROM ledger_rows WHERE day >= ?", [day])  # a half-written advance
        con.execute("DELETE FROM live_snapshots WHERE day > ?", [day])
        city, made = self._resimulate(con, day)
        if made:
            con.executemany("INSERT OR REPLACE INTO live_snapshots VALUES (?, ?)", made)
        self._pending.discard([f for _, f in made])
        remove_unlisted(self.folder, {f for _, f in self._snapshots(con)}, self._pending)
        city.attach(self.store)
        self.city = city

    def _resimulate(self, con: duckdb.DuckDBPyConnection, to_day: int
                    ) -> tuple[City, list[tuple[int, str]]]:
        """The city at open day ``to_day``, from the last snapshot before it, with the stored
        submissions and the upheld appeals replayed; and the snapshots written on the way."""
        city = self._from_snapshot(con, to_day)
        made: list[tuple[int, str]] = []
        self._run_to(city, con, to_day, None, None, made)
        return city, made

    def _from_snapshot(self, con: duckdb.DuckDBPyConnection, day: int,
                       extra: EventId | None = None) -> City:
        """The city of the last snapshot at or before ``day`` (or a new one), with the events
        upheld appeals withdrew (and ``extra``) to leave out when it goes on."""
        usable = [(d, f) for d, f in self._snapshots(con)
                  if d <= day and (self.folder / "snapshots" / f).exists()]
        city = None
        for _, name in reversed(usable):  # the latest this version can read
            try:
                city = read_snapshot(self.folder, name)
                break
            except ValueError:
                continue
        if city is None:  # none: the city from day 0 (the submissions replay its days)
            city = City(self.scenario, self.seed, None)
        city.keep_twin()  # in the snapshot; built and caught up if it predates twins
        city.withdrawn = withdrawals(con, extra)
        return city

    def _run_to(self, city: City, con: duckdb.DuckDBPyConnection, to_day: int,
                ledger_from: int | None, sink: Callable[[dict[str, np.ndarray]], None] | None,
                made: list[tuple[int, str]]) -> None:
        """Simulate ``city`` up to open day ``to_day`` with the stored submissions of its days
        (the open day's too); the ledger of days from ``ledger_from`` on goes to ``sink``, and
        the snapshots written on the way are added to ``made``."""
        city.injected = {}
        rows = con.execute("SELECT day, citizen, behaviour FROM live_submissions WHERE day >= ? "
                           "ORDER BY day, received, client_id", [city.day]).fetchnumpy()
        for d in np.unique(rows["day"]):
            on = rows["day"] == d
            city.inject(int(d), rows["citizen"][on], rows["behaviour"][on])
        def start_ledger(city: City) -> None:
            if sink is not None and ledger_from is not None and city.ledger is None \
                    and city.day >= ledger_from:
                city.write_ledger(sink, threads=False)

        def snapshot(city: City, _: object) -> None:
            if self.snapshot_every and city.day % self.snapshot_every == 0:
                made.append((city.day, write_snapshot(self.folder, city, self._pending)))

        drive([city], to_day, before_day=start_ledger, after_day=snapshot)
        if city.ledger is not None:
            city.ledger.flush()

    # -- time -----------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """The open day: submissions join its records; it is simulated by the next advance."""
        return self._open_day

    def start_advance(self, days: int) -> AdvanceJob:
        """Start simulating ``days`` days on a thread of its own; returns the job.

        Raises:
            LiveError: 409 if an advance is running, or if the scenario ends before.
        """
        with self._jobs_lock:
            running = [j for j in self._jobs.values() if j.status == "running"]
            if running:
                raise LiveError(409, f"advance job {running[0].job} is running (day "
                                     f"{running[0].day} of {running[0].target_day}): wait for "
                                     f"it, GET /advance/{running[0].job}")
            day = self.day
            if day + days > self.scenario.days:
                raise LiveError(409, f"the scenario ends after day {self.scenario.days - 1}: "
                                     f"the city is at day {day}, so at most "
                                     f"{self.scenario.days - day} more days; start a longer "
                                     f"one to go on")
            job = AdvanceJob(max(self._jobs, default=0) + 1, day, day + days, day)
            job.thread = threading.Thread(target=self._run_job, args=(job,),
                                          name=f"advance-{job.job}", daemon=True)
            self._jobs[job.job] = job
            for old in sorted(self._jobs)[:-100]:  # keep the last hundred
                del self._jobs[old]
            job.thread.start()
            return job

    def job(self, job: int) -> AdvanceJob:
        """An advance job by number (404 if there is none)."""
        with self._jobs_lock:
            found = self._jobs.get(job)
        if found is None:
            raise LiveError(404, f"no advance job {job}")
        return found

    def advance(self, days: int) -> int:
        """Simulate ``days`` days and wait for them; returns the new open day."""
        job = self.start_advance(days)
        assert job.thread is not None
        job.thread.join()
        if job.status != "done":
            raise LiveError(500 if job.status == "failed" else 409,
                            f"advance job {job.job} {job.status}: {job.error}")
        return job.day

    def _run_job(self, job: AdvanceJob) -> None:
        def done(day: int) -> None:
            job.day = day

        try:
            drive(lambda: [self.city], job.target_day, guard=self._one_day,
                  after_day=self._day_done, stop=self._stopping.is_set, progress=done)
            if job.day < job.target_day:
                job.status, job.error = "stopped", "the server is stopping"
                return
            job.status = "done"
        except Exception as exc:  # the job reports it; the city goes back to its last whole day
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            with self.writer, self.inbox.lock, self.state.write():
                old = self.city
                if old.ledger is not None:
                    old.ledger.discard()
                self._recover(int(self.store.info()["live_day"]))
                self._install(self.city)
                self._generation += 2
                old._second_core.shutdown()

    @contextmanager
    def _one_day(self) -> Iterator[None]:
        """A day of an advance: simulated under the writer and the arrays' write lock (readers
        see the last whole day), then snapshotted, readers going on meanwhile."""
        with self.writer:
            self.inbox.close_day(self.city.day)  # submissions from now on join the next day
            with self.state.write():
                yield
            if self.snapshot_every and self.city.day % self.snapshot_every == 0:
                name = write_snapshot(self.folder, self.city, self._pending)  # readers go on
                con = self.store.con
                con.execute("INSERT OR REPLACE INTO live_snapshots VALUES (?, ?)",
                            [self.city.day, name])
                self._pending.discard([name])
                # Thin the older ones: restarts need the latest, appeals one before their day.
                con.execute("DELETE FROM live_snapshots WHERE day % ? != 0 AND day < ?",
                            [KEEP_EVERY, self.city.day - KEEP_RECENT * self.snapshot_every])
                remove_unlisted(self.folder, {f for _, f in self._snapshots(con)},
                                self._pending)

    def _day_done(self, city: City, _: object) -> None:
        """The day's ledger durable, then the day moves: the store, the gates' copy."""
        assert city.ledger is not None
        city.ledger.flush()
        self.store.set_info(live_day=str(city.day))
        self._status, self._view = frozen(city)
        self._open_day = city.day

    # -- events ---------------------------------------------------------------------------

    def check_citizen(self, citizen: int) -> None:
        """Raise a 404 for an id that is not a citizen of this city."""
        if not 0 <= citizen < self.scenario.citizens:
            raise LiveError(404, f"citizen {citizen} is not in this city: citizens are numbered "
                                 f"0 to {self.scenario.citizens - 1}")

    def sensor_of(self, behaviour: str) -> str:
        """The sensor that observes a citizen's behaviour (422 if there is no such one)."""
        if behaviour not in self.citizen_behaviours:
            raise LiveError(422, f"unknown citizen behaviour '{behaviour[:100]}'; behaviours: "
                                 f"{', '.join(self.citizen_behaviours)}")
        return self.scenario.behaviours[self.behaviours.index(behaviour)].sensor

    def submit(self, submissions: list[Submission], submitted_by: str) -> list[Receipt]:
        """Store submitted events durably for the first day not yet begun, then acknowledge
        them (the city's inbox: :class:`xinyong.service.inbox.Inbox`)."""
        return self.inbox.submit(submissions, submitted_by)

    # -- reading --------------------------------------------------------------------------

    def record(self, citizen: int) -> dict[str, Any]:
        """A citizen's record: every operator's score, grade and lists, and the ledger with the
        reason for every point; events submitted for the open day are shown as pending.

        The standing is read from the copy made at the end of the last completed day (no
        lock: a day being simulated does not hold it up), the ledger up to the same day; if
        an upheld appeal rewrote history in between (the generation moved), it is read again,
        and while an appeal's new ledger is being committed, under the read lock after it.
        """
        self.check_citizen(citizen)
        for _ in range(3):
            generation, view = self._generation, self._view
            if generation % 2:  # an appeal's new ledger is being committed: wait for it
                break
            record = self._with_ledger(self._standing(citizen, view), citizen, view.day)
            if self._generation == generation:
                return record
        with self.state.read():  # rare: history being (or thrice) rewritten; read it whole
            view = self._view
            return self._with_ledger(self._standing(citizen, view), citizen, view.day)

    def _standing(self, citizen: int, view: SimpleNamespace) -> dict[str, Any]:
        """What the city's columns said of a citizen at the end of its last day (``view``:
        :func:`frozen`)."""
        operators = []
        day = view.day
        for op in view.operators:
            st, cf = op.standing, op.counterfactual
            operators.append({
                "operator": op.name, "scheme": op.scheme.name,
                "start": self._start(op.index, citizen), "floor": op.scheme.score.floor,
                "ceiling": op.scheme.score.ceiling,
                "score": int(st.score[citizen]),
                "grade": st.grade_names[int(st.grades(np.array([citizen]), day)[0])],
                "listed": bool(st.listed[citizen]),
                "listing_day": int(st.listing_day[citizen]) if st.listed[citizen] else None,
                "counterfactual_score": int(cf.score[citizen]),
                "counterfactual_listed": bool(cf.listed[citizen]),
                "lists": [{"list": lst.spec.name, "kind": lst.spec.kind,
                           "since": int(lst.since[citizen]),
                           "until": int(lst.until[citizen]) if lst.spec.kind == "black"
                           else None,
                           "repeats": int(lst.repeats[citizen]),
                           "error_free": bool(cf_member[citizen])}
                          for lst, cf_member in zip(op.lists.lists, op.cf_members,
                                                    strict=True) if lst.member[citizen]],
                "error_free_lists": [lst.spec.name for lst, cf_member in zip(
                    op.lists.lists, op.cf_members, strict=True)
                    if cf_member[citizen] and not lst.member[citizen]],
                "grade_capped_until": int(st.cap_until[citizen])
                if st.capped and st.cap_until[citizen] > day else None,
                "index": op.index,
            })
        pop = view.population
        return {
            "citizen": citizen,
            "name": citizen_name(citizen) if pop is not None else None,
            "identity": identity_number(citizen, int(pop.age[citizen]),
                                        int(pop.district[citizen])) if pop else None,
            "day": day, "operators": operators,
        }

    def _with_ledger(self, standing: dict[str, Any], citizen: int, day: int
                     ) -> dict[str, Any]:
        """The record: the standing with each operator's ledger up to ``day`` and the score
        replayed from it, and the events pending for the open day."""
        con = self._reader()
        # Plain tuples in the order written (rowid), numbered in Python: a window function and
        # DataFrames cost more than the rest of the record together.
        rows = con.execute("SELECT operator, day, behaviour, actor, rowid, points, flags "
                           "FROM ledger_rows WHERE subject = ? AND day < ?",
                           [citizen, day]).fetchall()
        rows.sort()
        by_operator: dict[int, list[dict[str, Any]]] = {}
        counted: dict[int, list[tuple[int, int]]] = {}
        nth, previous = 0, None
        for operator, d, behaviour, actor, _, points, flags in rows:
            same = (operator, d, behaviour, actor)
            nth = nth + 1 if same == previous else 0
            previous = same
            event = EventId(d, operator, citizen, actor, behaviour, nth)
            by_operator.setdefault(operator, []).append(
                _event_json(event, self.behaviours[behaviour],
                            self.sensors[self._sensor_index[behaviour]], points, flags))
            if not flags & NOT_COUNTED:
                counted.setdefault(operator, []).append((d, points))
        operators = []
        for entry in standing["operators"]:
            entry = dict(entry)
            index = entry.pop("index")
            mine = np.array(counted.get(index, []), dtype=np.int64).reshape(-1, 2)
            scale = self.city.operators[index].scheme.score
            entry["replayed_score"] = int(replay(
                scale, 1, mine[:, 0], np.zeros(len(mine), np.int64), mine[:, 1],
                np.array([entry["start"]]))[0])
            entry["ledger"] = by_operator.get(index, [])
            operators.append(entry)
        pending = con.execute(
            "SELECT client_id, behaviour, submitted_by FROM live_submissions "
            "WHERE day = ? AND citizen = ?", [day, citizen]).fetchall()
        return {**standing, "operators": operators,
                "pending": [{"client_id": cid, "behaviour": self.behaviours[int(b)],
                             "submitted_by": by} for cid, b, by in pending]}

    def _start(self, operator: int, citizen: int) -> int:
        """A citizen's starting score under an operator's scheme (as :mod:`xinyong.model.start`
        gave the city)."""
        op = self.city.operators[operator]
        return int(op.start[citizen]) if op.start is not None else op.scheme.score.start

    def _check_gate(self, service: str, citizen: int) -> None:
        self.check_citizen(citizen)
        if self._gates is None:
            raise LiveError(409, f"scenario '{self.scenario.name}' has no [consequences] "
                                 f"table: its services check nothing")
        if service not in self.services:
            raise LiveError(404, f"unknown service '{service[:100]}'; services: "
                                 f"{', '.join(self.services)}")

    def gate(self, service: str, citizen: int) -> Decision:
        """What a service says to a citizen now (as of the last completed day).

        Gates read a copy of what they look at, made at the end of each day, so a check never
        waits for the day being simulated, and takes no lock.
        """
        self._check_gate(service, citizen)
        return self._gates.decide(service, self._status, citizen)  # type: ignore[union-attr]

    def stats(self) -> dict[str, Any]:
        """The summary figures as of ``as_of_day`` (the days simulated when they were
        computed), with the day open now (``open_day``).

        They are computed at most once a day, under the read lock; while a day is simulated,
        those of the day before are served (``as_of_day`` one less than ``open_day``) rather
        than wait for it, unless they are older still, or history was rewritten since.
        """
        cached = self._stats
        if cached is None or cached[0] != self._generation or cached[1] < self.day - 1:
            with self.state.read():
                cached = self._stats = (self._generation, self.day, self.city.summary())
        elif cached[1] < self.day and self.state.acquire_read(blocking=False):
            try:
                cached = self._stats = (self._generation, self.day, self.city.summary())
            finally:
                self.state.release_read()
        _, as_of, summary = cached
        submitted = self._reader().execute("SELECT count(*) FROM live_submissions").fetchall()
        return {**summary, "as_of_day": as_of, "open_day": self.day,
                "submitted": int(submitted[0][0])}

    @property
    def notice_lists(self) -> list[str]:
        """The lists a notice can name: each citizen scheme's listing and each list."""
        return notice_lists(self.scenario.all_operators())

    def notices(self, limit: int, kind: str | None = None, on_list: str | None = None,
                from_day: int | None = None, to_day: int | None = None
                ) -> list[dict[str, Any]]:
        """The latest notices, newest first: of one kind, caused by one list, between two
        days (inclusive), if given.

        Raises:
            LiveError: 422 for a kind of notice that does not exist, 404 for a list the city
                does not have (the message names them).
        """
        return self.notice_feed(limit, kind, on_list, from_day, to_day)[1]

    def notice_feed(self, limit: int, kind: str | None = None, on_list: str | None = None,
                    from_day: int | None = None, to_day: int | None = None
                    ) -> tuple[int, list[dict[str, Any]]]:
        """How many notices match, and the latest ``limit`` of them (see :meth:`notices`)."""
        from xinyong.model.codes import NOTICE_KINDS
        from xinyong.records.notices import notice_text

        if kind is not None and kind not in NOTICE_KINDS:
            raise LiveError(422, f"{kind[:100]!r} is not a kind of notice: choose one of "
                                 f"{', '.join(NOTICE_KINDS)}")
        if on_list is not None and on_list not in self.notice_lists:
            raise LiveError(404, f"{on_list[:100]!r} is not a list of this city: choose one of "
                                 f"{', '.join(self.notice_lists) or '(none: it has no lists)'}")
        with self.state.read():
            if self.city.effects is None:
                return 0, []
            feed = self.city.effects.notices()
            pop = self.city.population
        keep = np.ones(feed["day"].size, dtype=bool)
        for column, value in (("kind", kind), ("list", on_list)):
            if value is not None:
                keep &= feed[column] == value
        if from_day is not None:
            keep &= feed["day"] >= from_day
        if to_day is not None:
            keep &= feed["day"] <= to_day
        chosen = np.flatnonzero(keep)
        order = chosen[np.argsort(-feed["day"][chosen], kind="stable")[:limit]]
        out = []
        for i in order:
            c = int(feed["subject"][i])
            b = int(feed["behaviour"][i])
            identity = identity_number(c, int(pop.age[c]), int(pop.district[c])) if pop else ""
            name = citizen_name(c)
            out.append({"day": int(feed["day"][i]), "kind": str(feed["kind"][i]), "citizen": c,
                        "list": feed["list"][i],
                        "text": notice_text(str(feed["kind"][i]), name, identity,
                                            self.behaviours[b] if b >= 0 else None,
                                            int(feed["day"][i]))})
        return chosen.size, out

    # -- appeals (the desk's own module: xinyong.service.appeals) ---------------------------------

    def file_appeal(self, citizen: int, event: str, reason: str) -> dict[str, Any]:
        """File an appeal against one event of a citizen's ledger: :meth:`Appeals.file`."""
        return self.appeals.file(citizen, event, reason)

    def appeal(self, appeal: int) -> dict[str, Any] | None:
        """One appeal and its status (None if there is none): :meth:`Appeals.get`."""
        return self.appeals.get(appeal)

    def decide_appeal(self, appeal: int, uphold: bool) -> dict[str, Any]:
        """Uphold (re-simulating without the event) or reject an appeal:
        :meth:`Appeals.decide`."""
        return self.appeals.decide(appeal, uphold)

    def close(self) -> None:
        """Stop a running advance (after its day), flush and close the store."""
        self._stopping.set()
        with self._jobs_lock:
            threads = [j.thread for j in self._jobs.values() if j.thread is not None]
        for thread in threads:
            thread.join(timeout=600)
        with self.writer, self.inbox.lock:
            if self.city.ledger is not None:
                self.city.ledger.flush()
            with self._cursors_lock:
                for cursor in self._cursors:
                    cursor.close()
                self._cursors.clear()
            self.inbox.close()
            self.store.close()


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
    live = LiveCity(base / f"city-{n}", scenario, seed)
    tmp = base / (CURRENT_FILE + ".tmp")
    tmp.write_text(f"city-{n}\n", encoding="utf-8")
    os.replace(tmp, base / CURRENT_FILE)
    return live


def frozen(city: City) -> tuple[GateStatus, SimpleNamespace]:
    """The city as of its last completed day, on copies of the columns that gates and records
    read (scores, listings, lists and their terms, grade caps, the error-free standing): its
    gate status, and what records read, which the next day does not change. About a dozen
    columns over citizens: a millisecond per 100,000."""
    shims = []
    for op in city.operators:
        if op.subject != "citizen":
            continue
        standing = copy.copy(op.standing)
        for name in ("score", "listed", "listing_day", "cap_grade", "cap_until"):
            setattr(standing, name, getattr(op.standing, name).copy())
        book = copy.copy(op.lists)
        book.lists = []
        for lst in op.lists.lists:
            frozen = copy.copy(lst)
            frozen.member, frozen.since, frozen.until, frozen.repeats = (
                lst.member.copy(), lst.since.copy(), lst.until.copy(), lst.repeats.copy())
            book.lists.append(frozen)
        cf = op.counterfactual
        shims.append(SimpleNamespace(
            subject="citizen", name=op.name, scheme=op.scheme, index=op.index,
            standing=standing, lists=book, covered=op.covered,
            counterfactual=SimpleNamespace(score=cf.score.copy(), listed=cf.listed.copy()),
            cf_members=[lst.member.copy() for lst in op.cf_lists.lists]))
    status = live_status(shims, city.population, False, [city.day])  # type: ignore[arg-type]
    return status, SimpleNamespace(day=city.day, operators=shims, population=city.population)


def _event_json(event: EventId, behaviour: str, sensor: str, points: int, flags: int
                ) -> dict[str, Any]:
    row = SimpleNamespace(actor=event.actor, **{column: bool(flags & flag)
                                                for flag, column in FLAG_COLUMNS.items()})
    notes = [n.removeprefix("* ") for n in event_notes(row)]
    return {"event": str(event), "day": event.day, "behaviour": behaviour, "sensor": sensor,
            "points": int(points), "actor": event.actor, "counted": not flags & NOT_COUNTED,
            "notes": notes}
