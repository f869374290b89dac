"""The clients of a fault schedule (``benchmarks/faults.py``): what they send the live
city's server, and what they keep of its answers to check afterwards (``fault_checks.py``).

Each operation draws its arguments from the schedule's random generator and checks every
answer as it comes: no 5xx but a 507 (naming the folder and the room) while the disk is full,
no event accepted twice, every record's score its ledger's replay. What the server
acknowledged is written in the city's :class:`~fault_checks.Book`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from fault_checks import Book

from xinyong.scenario import load_scenario
from xinyong.service.limits import IDLE_SECONDS
from xinyong.service.live import CURRENT_FILE

ADMIN, ANALYST = {"X-API-Key": "adm"}, {"X-API-Key": "ana"}
LOADS = [("reference", 300, 40), ("pilot-city", 300, 40)]  # cities an admin starts instead
SEVERE = "contract_breach_judgment"  # lists a citizen: an appeal worth upholding
#: How much a schedule does: lives of the server, operations a life, clients in a burst, events
#: in a batch. ``--quick`` (the test suite's 50 schedules) does less of each, the same way.
PROFILES: dict[str, dict[str, Any]] = {
    "full": {"lives": (2, 4), "operations": (3, 10), "clients": [8, 16, 32, 64], "batch": 300},
    "quick": {"lives": (2, 3), "operations": (3, 6), "clients": [8, 16], "batch": 100},
}
SIZES = dict(PROFILES["full"])


class InvariantError(Exception):
    """An invariant broken while the schedule runs."""


class Served(Protocol):
    """The server a client asks (``faults.Server``): whether it is alive."""

    def alive(self) -> bool: ...


class Room(Protocol):
    """The schedule's disk (``faults.Disk``): where it is, and whether it is full now."""

    path: Path
    full: bool


@dataclass
class Life:
    """What one schedule knows while it runs."""

    seed: int
    base: Path
    url: str
    verbose: bool
    books: dict[str, Book] = field(default_factory=dict)  # by folder name
    current: str = ""
    logs: list[Path] = field(default_factory=list)
    responses: int = 0
    disk_507: int = 0
    damaged_snapshots: bool = False
    disk_was_full: bool = False
    kills: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0
    pending_load: dict[str, Any] | None = None  # the last new city asked for
    snapshot_cut: bool = False  # a kill cut a snapshot's write short
    worst_recovery: tuple[int, float] = (0, 0.0)  # days re-simulated, seconds

    def say(self, text: str) -> None:
        if self.verbose:
            print(f"  [{self.seed}] {text}", flush=True)

    @property
    def book(self) -> Book:
        return self.books[self.current]

    def next_id(self) -> str:
        with self.lock:
            self.counter += 1
            return f"s{self.seed}-{self.counter}"


def book_for(folder: Path, scenario: Any) -> Book:
    return Book(
        folder,
        scenario.citizens,
        scenario.days,
        [b.name for b in scenario.behaviours if b.subject == "citizen"],
        [s.name for s in scenario.consequences.services] if scenario.consequences else [],
    )


class Client:
    """A client's HTTP calls, each answer checked: no 5xx but a 507 while the disk is full."""

    def __init__(self, life: Life, disk: Room, server: Served) -> None:
        self.life, self.disk, self.server = life, disk, server
        # an idle connection is dropped before the server's own idle limit (IDLE_SECONDS),
        # or a request sent on it as the server closes it meets a ReadError
        self.http = httpx.Client(
            base_url=life.url,
            timeout=httpx.Timeout(120, connect=10),
            limits=httpx.Limits(keepalive_expiry=IDLE_SECONDS / 2),
        )

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """The answer, or None if the server died meanwhile (the outcome is unknown)."""
        full = self.disk.full
        try:
            reply = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            deadline = time.monotonic() + 3
            while self.server.alive() and time.monotonic() < deadline:
                time.sleep(0.01)  # a kill under way
            if not self.server.alive():
                return None  # killed: no answer, no obligation
            raise InvariantError(
                f"{method} {path}: {type(exc).__name__} from a live server"
            ) from None
        with self.life.lock:
            self.life.responses += 1
        if reply.status_code == 507 and (full or self.disk.full):
            detail = reply.json().get("detail", "")
            if str(self.disk.path) not in detail or "MiB" not in detail:
                raise InvariantError(f"{method} {path}: 507 without the folder and space: {detail}")
            with self.life.lock:
                self.life.disk_507 += 1
            return reply
        if reply.status_code >= 500:
            raise InvariantError(f"{method} {path}: {reply.status_code} {reply.text[:300]}")
        return reply


def op_event(life: Life, client: Client, rng: random.Random) -> None:
    book = life.book
    again = book.events and rng.random() < 0.2
    cid = rng.choice(sorted(book.events)) if again else life.next_id()
    body = {
        "client_id": cid,
        "citizen": rng.randrange(book.citizens),
        "behaviour": SEVERE
        if SEVERE in book.behaviours and rng.random() < 0.1
        else rng.choice(book.behaviours),
    }
    _submit(life, client, [body], "/events", body)


def op_batch(life: Life, client: Client, rng: random.Random) -> None:
    book = life.book
    events = []
    for _ in range(rng.randint(1, SIZES["batch"])):
        old = book.events and rng.random() < 0.05
        events.append(
            {
                "client_id": rng.choice(sorted(book.events)) if old else life.next_id(),
                "citizen": rng.randrange(book.citizens),
                "behaviour": rng.choice(book.behaviours),
            }
        )
    if rng.random() < 0.2:
        events.append(dict(events[0]))  # the same id twice in one batch
    _submit(life, client, events, "/events/batch", {"events": events})


def _submit(life: Life, client: Client, events: list[dict], path: str, body: dict) -> None:
    book = life.book
    with life.lock:
        book.sent.update(e["client_id"] for e in events)
    reply = client.call("POST", path, json=body, headers=ADMIN)
    if reply is None or reply.status_code != 200:
        return
    out = reply.json()
    receipts = [out] if path == "/events" else None
    with life.lock:
        if receipts is None:  # a batch: the repeats are named, the rest accepted
            repeats = Counter(out["duplicate_ids"])
            times = Counter(e["client_id"] for e in events)
            for e in events:
                cid = e["client_id"]
                if repeats[cid] < times[cid]:  # one of them accepted: the first
                    if cid in book.events:
                        raise InvariantError(f"event {cid!r} accepted again: it was stored before")
                    book.events[cid] = (out["day"], e["citizen"], e["behaviour"])
                    repeats[cid] = times[cid]
        else:
            e = events[0]
            cid = e["client_id"]
            if out["status"] == "accepted":
                if cid in book.events:
                    raise InvariantError(f"event {cid!r} accepted again: it was stored before")
                book.events[cid] = (out["day"], e["citizen"], e["behaviour"])
            elif cid in book.events and book.events[cid][0] != out["day"]:
                raise InvariantError(
                    f"duplicate {cid!r} names day {out['day']}, not {book.events[cid][0]}"
                )


def op_advance(life: Life, client: Client, rng: random.Random) -> None:
    book = life.book
    left = book.days - book.day
    if left <= 0:
        return
    days = rng.randint(1, min(8, left))
    wait = rng.random() < 0.6
    reply = client.call("POST", "/advance", json={"days": days, "wait": wait}, headers=ADMIN)
    if reply is None or reply.status_code not in (200, 202):
        return
    job = reply.json()
    while job["status"] == "running":
        time.sleep(0.05)
        reply = client.call("GET", f"/advance/{job['job']}", headers=ADMIN)
        if reply is None:
            return
        job = reply.json()
    if job["status"] == "failed" and not (client.disk.full or life.disk_was_full):
        raise InvariantError(f"advance job failed: {job['error']}")
    if (
        job["status"] == "failed"
        and "507" not in str(job["error"])
        and "disk" not in str(job["error"])
    ):
        raise InvariantError(f"advance job failed on a full disk without saying so: {job['error']}")
    book.day = max(book.day, job["day"])


def op_read(life: Life, client: Client, rng: random.Random) -> None:
    book = life.book
    citizen = rng.randrange(book.citizens)
    kind = rng.choice(["record", "record", "gate", "stats", "notices", "figures", "health"])
    if kind == "record":
        reply = client.call("GET", f"/citizens/{citizen}", headers=ANALYST)
        if reply is not None and reply.status_code == 200:
            for op in reply.json()["operators"]:
                if op["score"] != op["replayed_score"]:
                    raise InvariantError(
                        f"citizen {citizen}'s {op['operator']} score {op['score']} is not its "
                        f"ledger's replay {op['replayed_score']}"
                    )
    elif kind == "gate" and book.services:
        client.call("GET", f"/gates/{rng.choice(book.services)}/{citizen}", headers=ANALYST)
    elif kind == "stats":
        client.call("GET", "/stats", headers=ANALYST)
    elif kind == "notices":
        client.call("GET", "/notices?limit=20", headers=ANALYST)
    elif kind == "figures":
        client.call("GET", "/api/figures", headers=ANALYST)
    else:
        client.call("GET", "/health")


def op_appeal(life: Life, client: Client, rng: random.Random) -> None:
    book = life.book
    for _ in range(6):  # a citizen with an event on record
        citizen = rng.randrange(book.citizens)
        reply = client.call("GET", f"/citizens/{citizen}", headers=ANALYST)
        if reply is None or reply.status_code != 200:
            return
        events = [e for op in reply.json()["operators"] for e in op["ledger"] if e["counted"]]
        if events:
            break
    else:
        return
    severe = [e for e in events if e["behaviour"] == SEVERE]
    event = rng.choice(severe or events)["event"]
    body = {"citizen": citizen, "event": event, "reason": f"schedule {life.seed}: not me"}
    reply = client.call("POST", "/appeals", json=body, headers=ADMIN)
    if reply is not None and reply.status_code == 200:
        book.appeals[reply.json()["appeal"]] = event


def op_decide(life: Life, client: Client, rng: random.Random) -> None:
    book = life.book
    open_ = [a for a in book.appeals if a not in book.decisions]
    if not open_ and not book.appeals:
        return
    appeal = rng.choice(open_ or sorted(book.appeals))
    uphold = rng.random() < 0.7
    reply = client.call(
        "POST", f"/appeals/{appeal}/decision", json={"uphold": uphold}, headers=ADMIN
    )
    if reply is None:
        return
    if reply.status_code == 200:
        if appeal in book.decisions:
            raise InvariantError(f"appeal {appeal} decided twice")
        book.decisions[appeal] = reply.json()["status"]
    elif reply.status_code == 409 and appeal not in book.decisions and "already" in reply.text:
        pass  # decided in a life whose answer was lost


def op_scenario(life: Life, client: Client, rng: random.Random) -> None:
    name, citizens, days = rng.choice(LOADS)
    body = {"scenario": name, "citizens": citizens, "days": days, "seed": rng.randrange(100)}
    life.pending_load = body
    reply = client.call("POST", "/scenario", json=body, headers=ADMIN)
    if reply is not None and reply.status_code == 200:
        follow_current(life)


def follow_current(life: Life) -> None:
    """The city served is the one ``CURRENT`` names (after a load, answered or not)."""
    pointer = life.base / CURRENT_FILE
    name = pointer.read_text().strip() if pointer.exists() else life.base.name
    if name not in life.books:
        load = life.pending_load
        if load is None:
            raise InvariantError(f"CURRENT names {name!r}, a city no one started")
        scenario = load_scenario(load["scenario"]).with_sizes(
            citizens=load["citizens"], days=load["days"]
        )
        life.books[name] = book_for(life.base / name, scenario)
    if name != life.current:
        life.say(f"now serving {name}")
    life.current = name


def op_burst(life: Life, client: Client, rng: random.Random) -> None:
    """Many clients at once: events, batches and reads."""
    clients = rng.choice(SIZES["clients"])
    seeds = [rng.randrange(2**31) for _ in range(clients)]
    errors: list[BaseException] = []

    def one(seed: int) -> None:
        r = random.Random(seed)
        mine = Client(life, client.disk, client.server)
        try:
            for _ in range(r.randint(1, 4)):
                r.choice([op_event, op_event, op_batch, op_read])(life, mine, r)
        except BaseException as exc:
            errors.append(exc)
        finally:
            mine.close()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, seeds))
    if errors:
        raise errors[0]


OPS: dict[str, tuple[Callable[[Life, Client, random.Random], None], int]] = {
    "event": (op_event, 6),
    "batch": (op_batch, 4),
    "advance": (op_advance, 5),
    "read": (op_read, 4),
    "appeal": (op_appeal, 3),
    "decide": (op_decide, 3),
    "burst": (op_burst, 2),
    "scenario": (op_scenario, 1),
}
#: The operations that reach each crash point, made likelier in a life that kills there.
FOCUS = {
    "snapshot.torn": "advance",
    "snapshot.unnamed": "advance",
    "ledger.before": "advance",
    "ledger.after": "advance",
    "day.moved": "advance",
    "day.mid": "advance",
    "checkpoint": "advance",
    "appeal.resimulating": "decide",
    "appeal.commit": "decide",
    "appeal.committed": "decide",
    "inbox.stored": "batch",
    "recovery": "advance",
    "load.pointer": "scenario",
}
