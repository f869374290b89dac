"""Crash points and a slow disk, installed in a live city's server process by the fault
harness (``benchmarks/faults.py``); never imported by xinyong itself.

A :class:`Plan` names at most one crash point, the how-many-th time it is reached that kills
the process with SIGKILL, and an argument for where inside (how many objects into a snapshot,
how many microseconds into a checkpoint); and how much every fsync and store write is delayed.
:func:`install` wraps the functions where the points are, so the process dies exactly there,
as a ``kill -9`` would leave it: a torn snapshot file, a day's ledger half written, an appeal's
re-simulation or its commit cut short, a checkpoint interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Where a server can be killed, and what each leaves behind.
POINTS = {
    "snapshot.torn": "inside a snapshot's write, after ARG objects: a torn .tmp file",
    "snapshot.unnamed": "a snapshot written and moved into place, not yet named by the store",
    "ledger.before": "a day's ledger rows about to be appended",
    "ledger.after": "a day's ledger rows appended, the day not yet moved",
    "day.moved": "the day moved in the store, the gates' copy not yet made",
    "day.mid": "half-way through a day's simulation (before its judgement)",
    "checkpoint": "ARG microseconds into a DuckDB checkpoint at a day's end",
    "appeal.resimulating": "an upheld appeal's re-simulation, after ARG ledger chunks",
    "appeal.commit": "an upheld appeal's new ledger written, its transaction not committed",
    "appeal.committed": "an upheld appeal committed and its city served, not yet answered",
    "inbox.stored": "submissions stored, not yet acknowledged",
    "recovery": "a restart re-simulating from its snapshot",
    "load.pointer": "a new city built, the CURRENT pointer not yet replaced",
}


@dataclass(frozen=True)
class Plan:
    """What to do to one server process.

    Args:
        point: the crash point (a key of :data:`POINTS`), or None.
        nth: the how-many-th time the point is reached that kills (from 1).
        arg: where inside the point (objects, chunks or microseconds).
        slow_ms: milliseconds every fsync and every store write waits first (a slow disk).
        plant: ``lose-event``: the first submissions stored lose their last event, which is
            acknowledged all the same (the harness must report it, with its seed).
    """

    point: str | None = None
    nth: int = 1
    arg: int = 0
    slow_ms: float = 0.0
    plant: str | None = None  # a bug planted on purpose, to show the harness catches it

    def __str__(self) -> str:
        kill = f"kill at {self.point} #{self.nth} ({self.arg})" if self.point else "no kill"
        return kill + (f", disk {self.slow_ms:.0f} ms slow" if self.slow_ms else "")


def die(point: str) -> None:
    """Say where, and die as ``kill -9`` kills: no clean-up, no flush."""
    os.write(2, f"fault: killed at {point}\n".encode())
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)  # not reached


def install(plan: Plan) -> None:
    """Wrap the functions where the plan's point is (and the disk's writes, if slow)."""
    from xinyong.engine.city import City
    from xinyong.records import snapshots
    from xinyong.records.store import RunStore
    from xinyong.service import history, live
    from xinyong.service.history import History
    from xinyong.service.inbox import Inbox
    from xinyong.service.live import LiveCity

    reached: Counter[str] = Counter()
    lock = threading.Lock()

    def hit(point: str) -> bool:
        """Count ``point`` reached; True the time the plan kills there."""
        if plan.point != point:
            return False
        with lock:
            reached[point] += 1
            return reached[point] == plan.nth

    if plan.slow_ms:
        real_fsync = os.fsync

        def slow_fsync(fd: int) -> None:
            time.sleep(plan.slow_ms / 1000)
            real_fsync(fd)

        os.fsync = slow_fsync  # type: ignore[assignment]

    append = RunStore.append

    planted = [plan.plant == "lose-event"]

    def appending(self: RunStore, table: str, rows: Any, con: Any = None) -> None:
        if plan.slow_ms:
            time.sleep(plan.slow_ms / 1000)
        if table == "live_submissions" and planted[0]:
            planted[0] = False
            rows = {k: v[:-1] for k, v in rows.items()}
        if table == "ledger_rows" and hit("ledger.before"):
            die("ledger.before")
        append(self, table, rows, con)
        if table == "ledger_rows" and hit("ledger.after"):
            die("ledger.after")

    RunStore.append = appending  # type: ignore[method-assign]

    set_info = RunStore.set_info

    def setting(self: RunStore, **items: str) -> None:
        set_info(self, **items)
        if "live_day" in items and hit("checkpoint"):
            threading.Timer(plan.arg / 1e6, die, args=("checkpoint",)).start()
            self.con.execute("CHECKPOINT")
            die("checkpoint")
        if "live_day" in items and hit("day.moved"):
            die("day.moved")

    RunStore.set_info = setting  # type: ignore[method-assign]

    armed = [-1]  # objects left to pickle before a torn snapshot's kill (-1: not armed)
    write = snapshots.write_snapshot

    def persistent_id(self: Any, obj: object) -> None:
        if armed[0] >= 0:
            armed[0] -= 1
            if armed[0] < 0:  # the frames written so far are in the file: torn
                die("snapshot.torn")
        return None

    snapshots._Yielding.persistent_id = persistent_id  # type: ignore[method-assign]

    def writing(folder: Any, city: Any, pending: Any = None) -> str:
        if hit("snapshot.torn"):
            armed[0] = plan.arg
        name = write(folder, city, pending)
        if hit("snapshot.unnamed"):
            die("snapshot.unnamed")
        return name

    history.write_snapshot = writing  # type: ignore[assignment]
    live.write_snapshot = writing  # type: ignore[assignment]

    judge = City.judge

    def judging(self: City, *args: Any, **kwargs: Any) -> Any:
        if self.operators and hit("day.mid"):
            die("day.mid")
        return judge(self, *args, **kwargs)

    City.judge = judging  # type: ignore[method-assign]

    run_to = History.run_to

    def running_to(
        self: History,
        city: Any,
        con: Any,
        to_day: int,
        ledger_from: int | None,
        sink: Callable[[Any], None] | None,
        made: list[tuple[int, str]],
    ) -> None:
        if sink is not None and hit("appeal.resimulating"):
            chunks = [plan.arg]
            inner = sink

            def cut(chunk: Any) -> None:
                if chunks[0] <= 0:
                    die("appeal.resimulating")
                chunks[0] -= 1
                inner(chunk)

            sink = cut
            if plan.arg == 0:
                die("appeal.resimulating")
        run_to(self, city, con, to_day, ledger_from, sink, made)

    History.run_to = running_to  # type: ignore[method-assign]

    rebuild = History.rebuild

    def rebuilding(self: History, con: Any, to_day: int) -> Any:
        started = time.perf_counter()
        if hit("recovery"):
            threading.Timer(plan.arg / 1e6, die, args=("recovery",)).start()
        city = rebuild(self, con, to_day)
        os.write(
            2,
            f"fault: recovered day {to_day} from {recovered_from[0]} in "
            f"{time.perf_counter() - started:.3f} s\n".encode(),
        )
        return city

    History.rebuild = rebuilding  # type: ignore[method-assign]
    recovered_from = [-1]
    from_snapshot = History.from_snapshot

    def from_snap(self: History, con: Any, day: int, extra: Any = None) -> Any:
        city = from_snapshot(self, con, day, extra)
        recovered_from[0] = city.day
        return city

    History.from_snapshot = from_snap  # type: ignore[method-assign]

    replace_history = LiveCity.replace_history

    def replacing(self: LiveCity, city: Any, rewrite: Callable[[Any], None]) -> None:
        kill = hit("appeal.commit")

        def rewriting(con: Any) -> None:
            rewrite(con)
            if kill:
                die("appeal.commit")

        replace_history(self, city, rewriting)
        if hit("appeal.committed"):
            die("appeal.committed")

    LiveCity.replace_history = replacing  # type: ignore[method-assign]

    store = Inbox._store

    def storing(self: Inbox, group: Any) -> None:
        store(self, group)
        if hit("inbox.stored"):
            die("inbox.stored")

    Inbox._store = storing  # type: ignore[method-assign]

    replace = os.replace

    def replacing_file(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if str(dst).endswith("CURRENT") and hit("load.pointer"):
            die("load.pointer")
        replace(src, dst, *args, **kwargs)

    os.replace = replacing_file  # type: ignore[assignment]
    sys.stderr.write(f"fault: plan {plan}\n")
