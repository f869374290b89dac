"""The invariants a fault schedule must leave standing, checked on a live city's folder after
its server is gone (``benchmarks/faults.py``).

- Every acknowledged event is stored once, on the day its receipt named.
- Every acknowledged appeal is stored; every acknowledged decision holds, an upheld one with
  its event flagged reversed.
- The stored ledger is the ledger of the city re-simulated from nothing with the stored
  submissions and upheld appeals (no row lost, none twice).
- Every snapshot the store names is that re-simulated city on its day.
- A restart serves that city, and each of its scores is its ledger's replay.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np

from xinyong.engine.city import City
from xinyong.engine.twin import keep_twin
from xinyong.primitives.codes import LedgerFlag
from xinyong.records.ledger import replay
from xinyong.records.snapshots import read_snapshot
from xinyong.scenario import Scenario
from xinyong.service.appeals import EventId, withdrawals
from xinyong.service.history import History
from xinyong.service.live import STORE_FILE, LiveCity

LEDGER = "day, operator, subject, actor, behaviour, points, flags"


@dataclass
class Book:
    """What one live city acknowledged to the harness's clients.

    Args:
        folder: the city's folder.
        citizens: its citizens.
        days: its horizon.
        behaviours: its citizens' behaviours, which events may name.
        services: its services (gates).
    """

    folder: Path
    citizens: int
    days: int
    behaviours: list[str]
    services: list[str]
    events: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # id: day, who, what
    sent: set[str] = field(default_factory=set)  # every client id sent, answered or not
    appeals: dict[int, str] = field(default_factory=dict)  # appeal: event
    decisions: dict[int, str] = field(default_factory=dict)  # appeal: upheld or rejected
    day: int = 0  # the open day last acknowledged

    def as_json(self) -> dict[str, Any]:
        """The book as the checker process reads it."""
        return {
            "folder": str(self.folder),
            "events": self.events,
            "appeals": {str(k): v for k, v in self.appeals.items()},
            "decisions": {str(k): v for k, v in self.decisions.items()},
        }


@dataclass
class Findings:
    """What the checks found on one city: violations, and counts for the totals."""

    violations: list[str] = field(default_factory=list)
    acknowledged: int = 0
    lost: int = 0
    twice: int = 0
    restart_seconds: float = 0.0


def check(book: dict[str, Any]) -> Findings:
    """Every invariant on one city's folder (its server stopped)."""
    found = Findings()
    folder = Path(book["folder"])
    if not (folder / STORE_FILE).exists():
        found.violations.append(f"{folder.name}: no store, but it acknowledged requests")
        return found
    with duckdb.connect(str(folder / STORE_FILE), read_only=True) as con:
        _acknowledged(con, book, found)
        rebuilt = _ledger_and_snapshots(con, folder, found)
    _restart(folder, rebuilt, found)
    return found


def _acknowledged(con: duckdb.DuckDBPyConnection, book: dict[str, Any], found: Findings) -> None:
    behaviours = [
        r[0] for r in con.execute("SELECT name FROM behaviours ORDER BY behaviour").fetchall()
    ]
    stored = {
        cid: (int(day), int(who), behaviours[int(b)])
        for cid, day, who, b in con.execute(
            "SELECT client_id, day, citizen, behaviour FROM live_submissions"
        ).fetchall()
    }
    name = Path(book["folder"]).name
    found.acknowledged = len(book["events"])
    for cid, acked in book["events"].items():
        if cid not in stored:
            found.lost += 1
            found.violations.append(f"{name}: acknowledged event {cid!r} {acked} is not stored")
        elif tuple(stored[cid]) != tuple(acked):
            found.violations.append(
                f"{name}: event {cid!r} acknowledged as {tuple(acked)}, stored as {stored[cid]}"
            )
    appeals = dict(
        (int(a), (s, int(d), int(o), int(c), int(ac), int(b), int(n or 0)))
        for a, s, d, o, c, ac, b, n in con.execute(
            "SELECT appeal, status, event_day, operator, citizen, actor, behaviour, nth "
            "FROM appeals"
        ).fetchall()
    )
    for appeal, event in book["appeals"].items():
        row = appeals.get(int(appeal))
        if row is None or str(EventId(*row[1:])) != event:
            found.violations.append(f"{name}: acknowledged appeal {appeal} ({event}) is not stored")
    for appeal, status in book["decisions"].items():
        row = appeals.get(int(appeal))
        if row is None or row[0] != status:
            found.violations.append(
                f"{name}: appeal {appeal} acknowledged {status}, stored "
                f"{row[0] if row else 'nothing'}"
            )
        elif status == "upheld":
            flags = EventId(*row[1:]).flags(con)
            if flags is None or not flags & LedgerFlag.REVERSED:
                found.violations.append(f"{name}: upheld appeal {appeal}'s event is not reversed")


def _ledger_and_snapshots(con: duckdb.DuckDBPyConnection, folder: Path, found: Findings) -> City:
    """Re-simulate the city from nothing with what the store holds; its ledger must be the
    stored one, and each named snapshot the city on its day."""
    info = dict(con.execute("SELECT key, value FROM run_info").fetchall())
    scenario = Scenario.model_validate(json.loads(info["scenario"]))
    seed, open_day = int(info["seed"]), int(info.get("live_day", "0"))
    snapshots = dict(con.execute("SELECT day, file FROM live_snapshots").fetchall())
    name = folder.name
    with tempfile.TemporaryDirectory() as scratch:
        history = History(  # type: ignore[arg-type]
            SimpleNamespace(folder=Path(scratch), scenario=scenario, seed=seed, snapshot_every=0)
        )
        city = City(scenario, seed, None)
        keep_twin(city)
        city.withdrawn = withdrawals(con)
        chunks: list[dict[str, np.ndarray]] = []
        days = sorted({d for d in snapshots if d <= open_day} | {open_day})
        latest = max((d for d in snapshots if d <= open_day), default=None)
        for day in days:
            history.run_to(city, con, day, 0, chunks.append, [])
            if day in snapshots:  # the one a restart reads whole, the others' standings
                _snapshot_agrees(folder, snapshots[day], city, name, found, whole=day == latest)
        if city.ledger is not None:
            city.ledger.close()
    columns = LEDGER.split(", ")
    rebuilt = (
        list(zip(*(np.concatenate([c[k] for c in chunks]).tolist() for k in columns), strict=True))
        if chunks
        else []
    )
    kept = con.execute(
        f"SELECT {LEDGER} FROM ledger_rows WHERE day < ? ORDER BY rowid", [open_day]
    ).fetchall()
    if kept != rebuilt:
        extra = _multiset_minus(kept, rebuilt)
        missing = _multiset_minus(rebuilt, kept)
        found.twice += len(extra)
        if extra or missing:
            found.violations.append(
                f"{name}: the stored ledger has {len(extra)} rows the re-simulation does not "
                f"and lacks {len(missing)} it has (first: {(extra or missing)[0]})"
            )
        else:
            found.violations.append(f"{name}: the stored ledger's rows are out of order")
    return city


def _snapshot_agrees(
    folder: Path, file: str, city: City, name: str, found: Findings, whole: bool
) -> None:
    from helpers import city_differences

    try:
        snap = read_snapshot(folder, file)
    except (ValueError, OSError) as exc:  # a damaged one is passed over by a restart
        if "cannot be read" not in str(exc):
            found.violations.append(f"{name}: snapshot {file}: {exc}")
        return
    keep_twin(snap)
    if whole:
        differ = city_differences(snap, city)
    else:
        differ = [
            f"{op.name}.{column}"
            for op, other in zip(snap.operators, city.operators, strict=True)
            for column in ("score", "listed")
            if not np.array_equal(getattr(op.standing, column), getattr(other.standing, column))
        ]
    if differ:
        found.violations.append(
            f"{name}: snapshot {file} differs from the city re-simulated to day {city.day} "
            f"at {len(differ)} paths, first {differ[0]}"
        )


def _restart(folder: Path, rebuilt: City, found: Findings) -> None:
    """A restart: its city is the re-simulated one and each score its ledger's replay."""
    from helpers import city_differences

    name = folder.name
    started = time.perf_counter()
    live = LiveCity(folder)
    found.restart_seconds = time.perf_counter() - started
    try:
        differ = city_differences(live.city, rebuilt)
        if differ:
            found.violations.append(
                f"{name}: the restarted city differs from the re-simulated one at "
                f"{len(differ)} paths, first {differ[0]}"
            )
        con = live.store.con
        for op in live.city.operators:
            rows = con.execute(
                "SELECT day, subject, points FROM ledger WHERE operator = ? AND day < ? "
                "AND NOT dismissed AND NOT reversed AND NOT unscored",
                [op.index, live.day],
            ).fetchnumpy()
            expected = replay(
                op.scheme.score, op.n, rows["day"], rows["subject"], rows["points"], op.start
            )
            wrong = int(np.sum(expected != op.standing.score))
            if wrong:
                found.violations.append(
                    f"{name}: {wrong} scores of operator {op.name} differ from the ledger's replay"
                )
    finally:
        live.close()


def _multiset_minus(a: list[tuple], b: list[tuple]) -> list[tuple]:
    left = Counter(a) - Counter(b)
    return sorted(left.elements())
