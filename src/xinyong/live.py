"""The live city: a simulated city that people and programs act on while it runs.

A class plays information collectors, a researcher plugs in external agents, a service checks
gates. The city is held in memory; everything that changes it is first made durable in its
DuckDB store, so that a process killed at any moment loses nothing it acknowledged:

- a submitted event is stored (``live_submissions``, keyed by the client's id, so a repeat is
  recognised) before it is acknowledged; it joins the records of the open day and counts when
  the day is simulated;
- advancing writes the days' ledger, then the new day number, in that order;
- an appeal and its decision are stored before they are answered.

On restart the city is rebuilt: the same seed re-simulates the days already run, with the
submitted events and the decided appeals replayed on their days, which gives back exactly the
state that was lost (and the ledger it wrote). Ledger rows of a day that was being written when
the process died are dropped and written again.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xinyong.city import City
from xinyong.consequences import live_status
from xinyong.explain import event_notes
from xinyong.gates import Decision, Gates
from xinyong.ledger import replay
from xinyong.population import citizen_name, identity_number
from xinyong.scenario import Scenario
from xinyong.store import RunStore

__all__ = ["LiveCity", "LiveError", "Receipt", "Submission", "load_city", "open_city"]

STORE_FILE = "live.duckdb"
CURRENT_FILE = "CURRENT"  # in a base folder: the sub-folder of the city an admin last loaded
_TABLES = """
CREATE TABLE IF NOT EXISTS live_submissions (
    client_id VARCHAR PRIMARY KEY, day INTEGER NOT NULL, citizen INTEGER NOT NULL,
    behaviour SMALLINT NOT NULL, submitted_by VARCHAR NOT NULL, received DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS appeals (
    appeal INTEGER PRIMARY KEY, citizen INTEGER NOT NULL, operator SMALLINT NOT NULL,
    event_day INTEGER NOT NULL, actor INTEGER NOT NULL, behaviour SMALLINT NOT NULL,
    reason VARCHAR NOT NULL, status VARCHAR NOT NULL, filed_day INTEGER NOT NULL,
    decided_day INTEGER);
"""


class LiveError(Exception):
    """A request the live city cannot carry out, with a status code and the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Submission:
    """One event submitted from outside: who did what, with the client's own id for it."""

    client_id: str
    citizen: int
    behaviour: str


@dataclass(frozen=True)
class Receipt:
    """The answer to one submission: stored for a day, or recognised as a repeat."""

    client_id: str
    status: str  # "accepted" or "duplicate"
    day: int


class LiveCity:
    """A city in memory, its store on disk, and the operations the HTTP service offers.

    Args:
        folder: where the store lives; an existing store is recovered.
        scenario: the scenario of a new city (ignored when recovering).
        seed: the seed of a new city.
    """

    def __init__(self, folder: Path, scenario: Scenario | None = None, seed: int = 0) -> None:
        self.folder = Path(folder)
        self.lock = threading.RLock()  # one writer: every change goes through this lock
        db = self.folder / STORE_FILE
        if db.exists():
            self.store = RunStore(db)
            self.scenario = self.store.scenario()
            self.seed = int(self.store.info()["seed"])
            self.store.con.execute(_TABLES)
            self._rebuild(int(self.store.info().get("live_day", "0")))
        else:
            if scenario is None:
                raise LiveError(400, f"no live city at '{self.folder}' and no scenario to start "
                                     f"one: give --scenario")
            self.folder.mkdir(parents=True, exist_ok=True)
            self.scenario, self.seed = scenario, seed
            self.store = RunStore.create(db, scenario, seed)
            self.store.con.execute(_TABLES)
            self.store.set_info(live_day="0", status="live")
            self.city = City(scenario, seed, self.store)
        self._submitted: dict[str, int] = dict(self.store.con.execute(
            "SELECT client_id, day FROM live_submissions").fetchall())
        self.behaviours = [b.name for b in self.scenario.behaviours]
        self._behaviour_index = {name: i for i, name in enumerate(self.behaviours)}
        self.sensors = list(self.scenario.sensors)
        self.services = ([s.name for s in self.scenario.consequences.services]
                         if self.scenario.consequences else [])
        self._today = [self.city.day]
        self._status = live_status(self.city.operators, self.city.population, False,
                                   self._today)
        citizen_ops = [op for op in self.city.operators if op.subject == "citizen"]
        self._gates = (Gates(self.scenario.consequences, citizen_ops[0].name)
                       if self.scenario.consequences and citizen_ops else None)

    # -- recovery -------------------------------------------------------------------------

    def _rebuild(self, day: int) -> None:
        """Re-simulate ``day`` days with the stored submissions and appeal decisions."""
        con = self.store.con
        con.execute("DELETE FROM ledger_rows WHERE day >= ?", [day])  # a half-written advance
        self.city = City(self.scenario, self.seed, None)
        submitted = con.execute("SELECT day, citizen, behaviour FROM live_submissions "
                                "ORDER BY day, received, client_id").df()
        upheld = con.execute("SELECT * FROM appeals WHERE status = 'upheld' "
                             "ORDER BY decided_day, appeal").df()
        for d in range(day):
            self._inject_day(d, submitted)
            for row in upheld[upheld.decided_day == d].itertuples():
                self._reverse(int(row.operator), int(row.citizen), int(row.event_day),
                              int(row.actor), int(row.behaviour), d)
            self.city.step()
        self._inject_day(day, submitted)
        for row in upheld[upheld.decided_day == day].itertuples():
            self._reverse(int(row.operator), int(row.citizen), int(row.event_day),
                          int(row.actor), int(row.behaviour), day)
        self.city.attach(self.store)

    def _inject_day(self, day: int, submitted: pd.DataFrame) -> None:
        rows = submitted[submitted.day == day]
        if len(rows):
            self.city.inject(day, rows["citizen"].to_numpy(), rows["behaviour"].to_numpy())

    # -- time -----------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """The open day: submissions join its records; it is simulated by the next advance."""
        return self.city.day

    def advance(self, days: int) -> int:
        """Simulate ``days`` days; returns the new open day."""
        with self.lock:
            for _ in range(days):
                if self.city.day >= self.scenario.days:
                    raise LiveError(409, f"the scenario ends after day {self.scenario.days - 1}; "
                                         f"start a longer one to go on")
                self.city.step()
                assert self.city.ledger is not None
                self.city.ledger.flush()  # the day's ledger is durable before the day moves
                self.store.set_info(live_day=str(self.city.day))
            self._today[0] = self.city.day
            return self.city.day

    # -- events ---------------------------------------------------------------------------

    def check_citizen(self, citizen: int) -> None:
        """Raise a 404 for an id that is not a citizen of this city."""
        if not 0 <= citizen < self.scenario.citizens:
            raise LiveError(404, f"citizen {citizen} is not in this city: citizens are numbered "
                                 f"0 to {self.scenario.citizens - 1}")

    def sensor_of(self, behaviour: str) -> str:
        """The sensor that observes a behaviour (422 if there is no such behaviour)."""
        if behaviour not in self.behaviours:
            raise LiveError(422, f"unknown behaviour '{behaviour}'; behaviours: "
                                 f"{', '.join(self.behaviours)}")
        return self.scenario.behaviours[self.behaviours.index(behaviour)].sensor

    def submit(self, submissions: list[Submission], submitted_by: str) -> list[Receipt]:
        """Store submitted events durably for the open day, then acknowledge them.

        A client id seen before (in this batch or any earlier one) is answered as a duplicate
        and stored once.
        """
        if not submissions:
            return []
        citizen = np.array([s.citizen for s in submissions], dtype=np.int64)
        bad = citizen[(citizen < 0) | (citizen >= self.scenario.citizens)]
        if bad.size:
            self.check_citizen(int(bad[0]))
        try:
            behaviour = np.array([self._behaviour_index[s.behaviour] for s in submissions],
                                 dtype=np.int16)
        except KeyError as exc:
            self.sensor_of(str(exc.args[0]))  # raises the 422 that names the behaviours
            raise
        ids = [s.client_id for s in submissions]
        with self.lock:
            day = self.city.day
            known = self._submitted  # client id -> day, mirrored from the store
            new: dict[str, int] = {}
            fresh = np.zeros(len(ids), dtype=bool)
            receipts = []
            for i, cid in enumerate(ids):  # a repeat within the batch is a duplicate too
                if cid in known or cid in new:
                    receipts.append(Receipt(cid, "duplicate", known.get(cid, day)))
                else:
                    new[cid] = day
                    fresh[i] = True
                    receipts.append(Receipt(cid, "accepted", day))
            if fresh.any():
                n = int(fresh.sum())
                self.store.append("live_submissions", {  # durable before the answer
                    "client_id": np.array(ids, dtype=object)[fresh],
                    "day": np.full(n, day, dtype=np.int32),
                    "citizen": citizen[fresh].astype(np.int32), "behaviour": behaviour[fresh],
                    "submitted_by": np.full(n, submitted_by, dtype=object),
                    "received": np.full(n, time.time())})
                known.update(new)  # only once stored
                self.city.inject(day, citizen[fresh], behaviour[fresh])
            return receipts

    # -- reading --------------------------------------------------------------------------

    def record(self, citizen: int) -> dict[str, Any]:
        """A citizen's record: every operator's score, grade and lists, and the ledger with the
        reason for every point; events submitted for the open day are shown as pending."""
        self.check_citizen(citizen)
        with self.lock:
            operators = []
            for op in self.city.operators:
                if op.subject != "citizen":
                    continue
                st, cf = op.standing, op.counterfactual
                grade = st.grade_names[int(st.grades(np.array([citizen]), self.day)[0])]
                events = self.store.query(
                    "SELECT l.day, l.operator AS operator_index, l.actor, "
                    "l.behaviour AS behaviour_index, b.name AS behaviour, s.name AS sensor, "
                    "l.points, l.misattributed, l.fabricated, l.dismissed, l.submitted, "
                    "l.reversed FROM ledger l JOIN behaviours b USING (behaviour) "
                    "JOIN sensors s ON s.sensor = l.sensor WHERE l.operator = ? "
                    "AND l.subject = ? ORDER BY l.day, l.behaviour", [op.index, citizen])
                operators.append({
                    "operator": op.name, "scheme": op.scheme.name,
                    "start": self._start(op.index, citizen), "floor": op.scheme.score.floor,
                    "ceiling": op.scheme.score.ceiling,
                    "score": int(st.score[citizen]), "grade": grade,
                    "listed": bool(st.listed[citizen]),
                    "listing_day": int(st.listing_day[citizen]) if st.listed[citizen] else None,
                    "counterfactual_score": int(cf.score[citizen]),
                    "counterfactual_listed": bool(cf.listed[citizen]),
                    "lists": [{"list": lst.spec.name, "kind": lst.spec.kind,
                               "since": int(lst.since[citizen]),
                               "until": int(lst.until[citizen]) if lst.spec.kind == "black"
                               else None}
                              for lst in op.lists.lists if lst.member[citizen]],
                    "replayed_score": self._replay(op.index, citizen, self.day),
                    "ledger": [_event_json(row) for row in events.itertuples()],
                })
            pending = self.store.query(
                "SELECT client_id, citizen, behaviour, submitted_by FROM live_submissions "
                "WHERE day = ? AND citizen = ?", [self.day, citizen])
            pop = self.city.population
            return {
                "citizen": citizen,
                "name": citizen_name(citizen) if pop is not None else None,
                "identity": identity_number(citizen, int(pop.age[citizen]),
                                            int(pop.district[citizen])) if pop else None,
                "day": self.day, "operators": operators,
                "pending": [{"client_id": r.client_id,
                             "behaviour": self.behaviours[int(r.behaviour)],
                             "submitted_by": r.submitted_by} for r in pending.itertuples()],
            }

    def _start(self, operator: int, citizen: int) -> int:
        """A citizen's starting score under an operator's scheme."""
        scheme = self.city.operators[operator].scheme
        if self.city.operators[operator].start is not None:  # drawn from records, or by income
            return int(self.city.operators[operator].start[citizen])
        offset = 0
        if scheme.start_by_income and self.city.population is not None:
            assert self.scenario.population is not None
            bands = list(self.scenario.population.income_bands)
            offset = scheme.start_by_income.get(
                bands[int(self.city.population.income_band[citizen])], 0)
        return min(max(scheme.score.start + offset, scheme.score.floor), scheme.score.ceiling)

    def _replay(self, operator: int, citizen: int, before_day: int) -> int:
        op = self.city.operators[operator]
        rows = self.store.con.execute(
            "SELECT day, subject, points FROM ledger WHERE operator = ? AND subject = ? "
            "AND day < ? AND NOT dismissed AND NOT reversed",
            [operator, citizen, before_day]).fetchnumpy()
        score = replay(op.scheme.score, 1, rows["day"], np.zeros(rows["day"].size, np.int64),
                       rows["points"], np.array([self._start(operator, citizen)]))
        return int(score[0])

    def gate(self, service: str, citizen: int) -> Decision:
        """What a service says to a citizen now."""
        self.check_citizen(citizen)
        if self._gates is None:
            raise LiveError(409, f"scenario '{self.scenario.name}' has no [consequences] "
                                 f"table: its services check nothing")
        if service not in self.services:
            raise LiveError(404, f"unknown service '{service}'; services: "
                                 f"{', '.join(self.services)}")
        return self._gates.decide(service, self._status, citizen)

    def stats(self) -> dict[str, Any]:
        """The city now: the summary figures so far."""
        with self.lock:
            summary = self.city.summary()
            summary["open_day"] = self.day
            summary["submitted"] = int(self.store.con.execute(
                "SELECT count(*) FROM live_submissions").fetchone()[0])
            return summary

    def notices(self, limit: int) -> list[dict[str, Any]]:
        """The latest notices, newest first."""
        from xinyong.notices import notice_text

        with self.lock:
            if self.city.effects is None:
                return []
            feed = self.city.effects.notices()
        order = np.argsort(-feed["day"], kind="stable")[:limit]
        pop = self.city.population
        out = []
        for i in order:
            c = int(feed["subject"][i])
            b = int(feed["behaviour"][i])
            identity = identity_number(c, int(pop.age[c]), int(pop.district[c])) if pop else ""
            name = citizen_name(c)
            out.append({"day": int(feed["day"][i]), "kind": str(feed["kind"][i]), "citizen": c,
                        "text": notice_text(str(feed["kind"][i]), name, identity,
                                            self.behaviours[b] if b >= 0 else None,
                                            int(feed["day"][i]))})
        return out

    # -- appeals --------------------------------------------------------------------------

    def file_appeal(self, citizen: int, event: str, reason: str) -> dict[str, Any]:
        """File an appeal against one event of a citizen's ledger (id ``day.operator.actor.
        behaviour`` as the record shows it)."""
        self.check_citizen(citizen)
        try:
            day, operator, actor, behaviour = (int(x) for x in event.split("."))
        except ValueError:
            raise LiveError(422, f"event id '{event}' is not of the form "
                                 f"day.operator.actor.behaviour (see the citizen's record)"
                            ) from None
        with self.lock:
            found = self.store.con.execute(
                "SELECT count(*) FROM ledger WHERE day = ? AND operator = ? AND subject = ? "
                "AND actor = ? AND behaviour = ?",
                [day, operator, citizen, actor, behaviour]).fetchone()[0]
            if not found:
                raise LiveError(404, f"no event '{event}' in the ledger of citizen {citizen}")
            appeal = int(self.store.con.execute(
                "SELECT coalesce(max(appeal), 0) + 1 FROM appeals").fetchone()[0])
            self.store.con.execute(
                "INSERT INTO appeals VALUES (?, ?, ?, ?, ?, ?, ?, 'filed', ?, NULL)",
                [appeal, citizen, operator, day, actor, behaviour, reason, self.day])
            return self.appeal(appeal)

    def appeal(self, appeal: int) -> dict[str, Any]:
        """One appeal and its status."""
        rows = self.store.query("SELECT * FROM appeals WHERE appeal = ?", [appeal])
        if rows.empty:
            raise LiveError(404, f"no appeal {appeal}")
        row = rows.iloc[0]
        return {"appeal": appeal, "citizen": int(row.citizen),
                "event": f"{row.event_day}.{row.operator}.{row.actor}.{row.behaviour}",
                "reason": row.reason, "status": row.status, "filed_day": int(row.filed_day),
                "decided_day": None if pd.isna(row.decided_day) else int(row.decided_day)}

    def decide_appeal(self, appeal: int, uphold: bool) -> dict[str, Any]:
        """Uphold (the event is reversed exactly, and the score recomputed) or reject."""
        with self.lock:
            current = self.appeal(appeal)
            if current["status"] != "filed":
                raise LiveError(409, f"appeal {appeal} was already {current['status']}")
            row = self.store.query("SELECT * FROM appeals WHERE appeal = ?", [appeal]).iloc[0]
            status = "upheld" if uphold else "rejected"
            self.store.con.execute("BEGIN TRANSACTION")
            self.store.con.execute(
                "UPDATE appeals SET status = ?, decided_day = ? WHERE appeal = ?",
                [status, self.day, appeal])
            if uphold:
                self.store.con.execute(
                    "UPDATE ledger_rows SET flags = flags | 16 WHERE day = ? AND operator = ? "
                    "AND subject = ? AND actor = ? AND behaviour = ?",
                    [int(row.event_day), int(row.operator), int(row.citizen), int(row.actor),
                     int(row.behaviour)])
            self.store.con.execute("COMMIT")
            if uphold:
                self._reverse(int(row.operator), int(row.citizen), int(row.event_day),
                              int(row.actor), int(row.behaviour), self.day)
            return self.appeal(appeal)

    def _reverse(self, operator: int, citizen: int, event_day: int, actor: int,
                 behaviour: int, day: int) -> None:
        """Undo one event's effect on the standing before ``day`` is simulated."""
        del actor  # the stored flag identifies the event; the replay reads it
        op = self.city.operators[operator]
        score = self._replay(operator, citizen, day)
        severe = bool(op.severe[behaviour])
        caused_listing = severe and op.standing.listing_day[citizen] == event_day
        lifted = op.standing.correct(day, citizen, score, unlist=caused_listing)
        lifted |= op.lists.lift(citizen, behaviour, event_day)
        self.city.recount(op)
        if lifted:  # behaviour responds to the lifted listing from this day on
            group = self.city.groups[op.subject]
            who = np.array([citizen])
            now = np.zeros(1, dtype=bool)
            for other in self.city.operators:
                if other.subject == op.subject:
                    now |= other.listed_any(who)
            group.listed_any[citizen] = now[0]
            group.behaviours.reschedule(day - 1, np.empty(0, dtype=np.int64), who,
                                        group.listed_any)

    def close(self) -> None:
        """Flush and close the store."""
        with self.lock:
            if self.city.ledger is not None:
                self.city.ledger.flush()
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


def _event_json(row: Any) -> dict[str, Any]:
    notes = [n.removeprefix("* ") for n in event_notes(row)]
    return {"event": f"{row.day}.{row.operator_index}.{row.actor}.{row.behaviour_index}",
            "day": int(row.day), "behaviour": row.behaviour, "sensor": row.sensor,
            "points": int(row.points), "actor": int(row.actor),
            "counted": not (row.dismissed or row.reversed), "notes": notes}
