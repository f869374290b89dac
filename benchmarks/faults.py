"""Seeded fault schedules for the live city, in the style of deterministic simulation testing
(TigerBeetle's VOPR, FoundationDB's simulation): many short lives of a real server, each
drawn from a seed, with faults between and inside its operations, then every invariant.

    python benchmarks/faults.py --schedules 1000 --seed 1
    python benchmarks/faults.py --seed 17 --schedules 1 --verbose     # one schedule again

Schedule ``i`` of a run with ``--seed S`` is drawn from seed ``S + i`` alone: a failing one
prints its seed, and ``--seed S+i --schedules 1`` runs it again. Each draws:

- **client operations**: events (some sent again), batches, appeals against events in the
  records, decisions, advances (waited for, or polled as jobs), reads of records, gates and
  figures (every record's score must be its ledger's replay), a new city from a built-in
  scenario, restarts, and bursts of 8 to 64 clients at once;
- **faults**: ``kill -9`` at a crash point (``benchmarks/fault_points.py``: inside a
  snapshot's write, a day's ledger, a checkpoint, an appeal's re-simulation or commit, a
  restart's recovery...) or at a random moment; what a crash leaves (a torn snapshot, garbage
  after the write-ahead log's last entry, a snapshot damaged on disk, a half-written pointer);
  a full disk (a tmpfs of the schedule's own shrunk to what it holds, or, where none can be
  mounted, ``RLIMIT_FSIZE``), then space given back; a slow disk (every fsync and store
  write delayed).

Server processes are forked from this one, which has imported everything once (a life costs
milliseconds, not the two seconds of an import). Operations and faults follow from the seed;
where many clients run at once, or a kill is timed, the interleaving is the machine's.

After each schedule (``fault_checks.py``): every acknowledged event stored once on its day;
every acknowledged appeal and decision stored, an upheld one's event reversed; the ledger
equal to that of the city re-simulated from nothing; every snapshot that city on its day;
a restart serving that city with every score its ledger's replay; each recovery within its
bound (at most ``SNAPSHOT_EVERY`` days re-simulated, unless a snapshot was damaged or the
disk was full); no 5xx but a 507 while the disk is full, whose message names the folder and
the space needed; and the server serving again once the disk has room.

Options: ``--record`` writes each failing seed to ``tests/hostile/schedules/`` (a regression
case ``tests/test_faults.py`` runs); ``--split N`` and ``--full-disk-runs N`` add schedules for
split runs and for ``simulate`` on a full disk (``fault_runs.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests")]  # the crash points; the tests' cities

import httpx  # noqa: E402
from fault_checks import Findings, check  # noqa: E402
from fault_ops import (  # noqa: E402
    ADMIN,
    FOCUS,
    OPS,
    PROFILES,
    SIZES,
    Client,
    InvariantError,
    Life,
    book_for,
    follow_current,
    op_read,
)
from fault_points import POINTS, Plan, install  # noqa: E402
from helpers import consequence_city  # noqa: E402

from xinyong.scenario import load_scenario  # noqa: E402
from xinyong.service.auth import Keyring  # noqa: E402
from xinyong.service.live import CURRENT_FILE, SNAPSHOT_EVERY, open_city  # noqa: E402
from xinyong.views.cli.serving import run_app, switching_app  # noqa: E402
from xinyong.views.dashboard import add_dashboard  # noqa: E402, F401  # loaded once, not per life

KEYS = "adm=admin,ana=analyst"
CITIZENS, DAYS = 300, 60  # the schedules' city: small, with lists, gates, notices, responses
REGRESSIONS = ROOT / "tests" / "hostile" / "schedules"
READY_CPU_SECONDS = 60  # a server (its recovery included) answers /health within this
READY_WALL_SECONDS = 1800  # ... and within this, however loaded the machine
TMPFS_BYTES = 512 * 2**20  # the schedule's own disk, before it is shrunk
NO_TMPFS = bool(os.environ.get("XINYONG_FAULTS_NO_TMPFS"))  # RLIMIT_FSIZE instead, as unprivileged


@dataclass
class Stats:
    """Totals over the schedules."""

    schedules: int = 0
    failed: list[int] = field(default_factory=list)
    acknowledged: int = 0
    lost: int = 0
    twice: int = 0
    violations: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    disk_full_507: int = 0
    worst_restart_days: int = 0
    worst_restart_seconds: float = 0.0


# -- the disk -------------------------------------------------------------------------------


class Disk:
    """The schedule's folder on a tmpfs of its own, which a full disk shrinks to what it
    holds; where none can be mounted, file sizes limited with ``RLIMIT_FSIZE`` instead."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.tmpfs = not NO_TMPFS and (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(path)],
                capture_output=True,
            ).returncode
            == 0
        )
        self.full = False

    def fill(self, margin: int, pid: int) -> None:
        """Leave ``margin`` bytes free (tmpfs), or cap the server's files a little above the
        largest (``RLIMIT_FSIZE``)."""
        if self.tmpfs:
            st = os.statvfs(self.path)
            used = (st.f_blocks - st.f_bfree) * st.f_frsize
            size = (used + margin + 4095) // 4096 * 4096
            subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True)
        else:
            largest = max(
                (p.stat().st_size for p in self.path.rglob("*") if p.is_file()), default=0
            )
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (largest + margin, resource.RLIM_INFINITY))
        self.full = True

    def free(self, pid: int | None) -> None:
        """Give the space back."""
        if self.tmpfs:
            subprocess.run(
                ["mount", "-o", f"remount,size={TMPFS_BYTES}", str(self.path)], check=True
            )
        elif pid is not None:
            with contextlib.suppress(ProcessLookupError):  # gone already
                resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        self.full = False

    def close(self) -> None:
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


# -- a server's life ------------------------------------------------------------------------


class Server:
    """One life of the server: a process forked from this one, serving the schedule's base
    folder on the schedule's listening socket, with a plan of faults installed."""

    def __init__(
        self,
        base: Path,
        port: int,
        plan: Plan,
        log: Path,
        scenario: Path | None,
        seed: int,
    ) -> None:
        self.base, self.plan, self.log = base, plan, log
        # Bound here, listened on by the child alone: once it dies, a client is refused at
        # once instead of waiting in a queue no one serves.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)
        self.pid = os.fork()
        if self.pid == 0:  # the child serves, and never returns
            _serve(base, sock, plan, log, scenario, seed)
        sock.close()
        self.dead: int | None = None  # the wait status once reaped
        self._reaping = threading.Lock()  # a timer's kill and the clients' checks reap once

    def alive(self) -> bool:
        with self._reaping:
            if self.dead is None:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.dead = status
            return self.dead is None

    def cpu_seconds(self) -> float:
        """The CPU time the server has used (0 once it is gone)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def kill(self) -> None:
        with self._reaping:
            if self.dead is None:
                os.kill(self.pid, signal.SIGKILL)
                _, self.dead = os.waitpid(self.pid, 0)

    def stop(self) -> None:
        """SIGTERM: let the running day finish, close the store."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 120
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.kill()


def _serve(
    base: Path, sock: socket.socket, plan: Plan, log: Path, scenario: Path | None, seed: int
) -> None:
    code = 0
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        install(plan)
        chosen = load_scenario(scenario) if scenario is not None else None
        live = open_city(base, chosen, seed)
        run_app(switching_app(base, live, Keyring.from_env(KEYS), None), sockets=[sock])
    except BaseException:  # the harness reads tracebacks in the log as a violation
        traceback.print_exc()
        code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# -- the schedule ---------------------------------------------------------------------------


def run_schedule(
    seed: int, work: Path, verbose: bool = False, keep: bool = False, plant: str | None = None
) -> tuple[list[str], Life, list[Findings]]:
    """One schedule: its lives, faults and operations, then every invariant."""
    rng = random.Random(seed)
    disk = Disk(work / "disk")
    base = disk.path / "live"
    with socket.socket() as probe:  # a free port, the schedule's
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    life = Life(seed, base, url, verbose)
    scenario_file = work / "city.json"
    scenario = consequence_city(citizens=CITIZENS, days=DAYS)
    scenario_file.write_text(scenario.model_dump_json(by_alias=True))
    life.books[base.name] = book_for(base, scenario)
    life.current = base.name
    violations: list[str] = []
    server: Server | None = None
    try:
        lives = rng.randint(*SIZES["lives"])
        for n in range(lives):
            plan = dataclasses.replace(
                draw_plan(rng, first=n == 0, last=n == lives - 1), plant=plant
            )
            log = work / f"life-{n}.log"
            life.logs.append(log)
            life.say(f"life {n}: {plan}")
            began = time.perf_counter()
            server = Server(base, port, plan, log, scenario_file if n == 0 else None, seed)
            live_one(life, server, disk, plan, rng, n == lives - 1)
            life.say(f"life {n} over in {time.perf_counter() - began:.2f} s")
            if server.plan.point and not server.alive():
                life.kills[plan.point or "timer"] += 1
                life.snapshot_cut |= plan.point in (
                    "snapshot.torn",
                    "snapshot.unnamed",
                    "recovery",
                    "timer",
                )
                damage(life, rng, plan.point or "timer")
        server = Server(base, port, Plan(), work / "final.log", None, seed)
        life.logs.append(work / "final.log")
        client = Client(life, disk, server)
        try:
            wait_ready(life, client, server)
            follow_current(life)
            for _ in range(3):
                op_read(life, client, rng)
        finally:
            client.close()
            server.stop()
        violations += read_logs(life)
    except InvariantError as exc:
        violations.append(str(exc))
    except Exception as exc:  # a harness error is a failure too, with its traceback
        violations.append(f"harness: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    finally:
        if server is not None:
            server.kill()
        if sys.exc_info()[0] is not None:  # stopped: the disk goes with the schedule
            disk.close()
    findings = []
    try:
        if not violations:  # the state is only worth checking when the lives ran through
            began = time.perf_counter()
            findings = check_books(life)
            life.say(f"checked in {time.perf_counter() - began:.2f} s")
            for f in findings:
                violations += f.violations
        if violations or keep:  # the folder as the schedule left it, off the schedule's disk
            subprocess.run(["cp", "-a", str(disk.path), str(work / "kept")], check=False)
    finally:
        disk.close()  # unmounted, even when the harness is stopped
    return violations, life, findings


def draw_plan(rng: random.Random, first: bool, last: bool) -> Plan:
    roll = rng.random()
    slow = rng.choice([0.0, 0.0, 0.0, 2.0, 10.0, 30.0])
    if roll < 0.6:
        point = rng.choice([p for p in POINTS if not (first and p == "recovery")])
        arg = {
            "snapshot.torn": rng.randint(0, 20000),
            "checkpoint": rng.randint(0, 5000),
            "recovery": rng.randint(0, 200_000),
            "appeal.resimulating": rng.randint(0, 2),
        }.get(point, 0)
        return Plan(point, rng.randint(1, 3), arg, slow)
    if roll < 0.75:
        return Plan("timer", 1, rng.randint(0, 400), slow)  # killed after ARG ms by the harness
    return Plan(None, 1, 0, slow)


def live_one(
    life: Life, server: Server, disk: Disk, plan: Plan, rng: random.Random, last: bool
) -> None:
    """One life: wait for the server, run operations, fill and free the disk, until the plan
    kills it or its operations are done (then stopped, or killed)."""
    client = Client(life, disk, server)
    try:
        began = time.perf_counter()
        if not wait_ready(life, client, server):
            return
        life.say(f"ready in {time.perf_counter() - began:.2f} s")
        follow_current(life)
        full_at = rng.randrange(1, 6) if rng.random() < 0.15 else -1
        timer = None
        if plan.point == "timer":
            timer = threading.Timer(plan.arg / 1000 + 0.2, server.kill)
            timer.start()
        names = list(OPS)
        weights = [OPS[n][1] * (6 if FOCUS.get(plan.point or "") == n else 1) for n in names]
        for i in range(rng.randint(*SIZES["operations"])):
            if not server.alive():
                break
            if i == full_at:
                disk.fill(rng.choice([16 * 2**10, 256 * 2**10, 2**20]), server.pid)
                life.disk_was_full = True
                life.say(f"disk full ({'tmpfs' if disk.tmpfs else 'RLIMIT_FSIZE'})")
            if disk.full and i == full_at + 3:
                disk.free(server.pid)
                life.say("space given back")
                recovered(life, client, server)
            name = rng.choices(names, weights)[0]
            if (
                name == "decide"
                and FOCUS.get(plan.point or "") == "decide"
                and not life.book.appeals
            ):
                name = "appeal"
            began = time.perf_counter()
            OPS[name][0](life, client, rng)
            life.say(f"{name} ({time.perf_counter() - began:.2f} s)")
        if disk.full:
            disk.free(server.pid)
            life.say("space given back")
            if server.alive():
                recovered(life, client, server)
        if timer is not None:
            timer.cancel()
            timer.join()
        if server.alive():
            if plan.point and plan.point != "timer" and rng.random() < 0.5:
                server.kill()
            else:
                server.stop()
    finally:
        client.close()
        if disk.full:
            disk.free(None)


def recovered(life: Life, client: Client, server: Server) -> None:
    """Once space is back, the server serves again: an event is accepted within
    ``READY_CPU_SECONDS`` of the server's CPU (it may open its store again first)."""
    book = life.book
    began = server.cpu_seconds()
    deadline = time.monotonic() + READY_WALL_SECONDS
    while server.cpu_seconds() - began < READY_CPU_SECONDS and time.monotonic() < deadline:
        if not server.alive():
            return
        cid = life.next_id()
        body = {"client_id": cid, "citizen": 0, "behaviour": book.behaviours[0]}
        book.sent.add(cid)
        reply = client.call("POST", "/events", json=body, headers=ADMIN)
        if reply is None:
            return
        if reply.status_code == 200:
            book.events[cid] = (reply.json()["day"], 0, book.behaviours[0])
            return
        if reply.status_code == 409:  # the city has run all its days
            return
        time.sleep(0.1)
    raise InvariantError("the server did not take events again once the disk had room")


def wait_ready(life: Life, client: Client, server: Server) -> bool:
    """Wait for ``/health``; False if the plan killed the server first. The bound is on the
    server's CPU time, not the clock's: on a machine others load, a start waits its turn."""
    deadline = time.monotonic() + READY_WALL_SECONDS  # a server wedged, using no CPU at all
    while server.cpu_seconds() < READY_CPU_SECONDS and time.monotonic() < deadline:
        if not server.alive():
            if server.plan.point:
                return False
            raise InvariantError(f"the server died starting up: {tail(server.log)}")
        try:
            if client.http.get("/health", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.05)
    raise InvariantError(
        f"the server was not ready after {server.cpu_seconds():.0f} s of CPU: {tail(server.log)}"
    )


#: Crash points where no DuckDB checkpoint can be under way: a kill there may leave a commit
#: half-written after the log's last entry. (A checkpoint ends the log with its marker and
#: blocks commits until it is done, so nothing can follow the marker.)
COMMIT_IN_FLIGHT = {p for p in POINTS if p not in ("checkpoint", "recovery")}


def damage(life: Life, rng: random.Random, point: str) -> None:
    """What a crash can leave on disk beyond what the kill itself left, at ``point``."""
    folder = life.base / life.current if (life.base / CURRENT_FILE).exists() else life.base
    roll = rng.random()
    wal = folder / "live.duckdb.wal"
    snaps = sorted((folder / "snapshots").glob("*.city")) if (folder / "snapshots").is_dir() else []
    if roll < 0.15 and wal.exists() and point in COMMIT_IN_FLIGHT:
        with open(wal, "ab") as f:  # a write begun after the last commit, never finished
            f.write(rng.randbytes(rng.randint(1, 4096)))
        life.say("garbage after the WAL's last entry")
    elif roll < 0.25 and snaps:
        victim = rng.choice(snaps)
        size = victim.stat().st_size
        with open(victim, "r+b") as f:
            f.truncate(rng.randrange(size))
        life.damaged_snapshots = True
        life.say(f"snapshot {victim.name} truncated")
    elif roll < 0.3 and snaps:
        victim = rng.choice(snaps)
        with open(victim, "r+b") as f:
            f.seek(rng.randrange(victim.stat().st_size))
            f.write(rng.randbytes(64))
        life.damaged_snapshots = True
        life.say(f"snapshot {victim.name} garbled")
    elif roll < 0.35:
        (life.base / (CURRENT_FILE + ".tmp")).write_bytes(b"city-")
        life.say("a half-written CURRENT.tmp")


def read_logs(life: Life) -> list[str]:
    """Tracebacks in a server's log, and recoveries past their bound."""
    out = []
    for log in life.logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "Traceback" in text:
            out.append(f"{log.name}: a traceback: {text[text.index('Traceback') :][:1500]}")
        for line in text.splitlines():
            if line.startswith("fault: recovered day"):
                words = line.split()
                day, start, seconds = int(words[3]), int(words[5]), float(words[7])
                life.worst_recovery = max(life.worst_recovery, (day - start, seconds))
                # At most SNAPSHOT_EVERY days past the last snapshot; twice that if a kill
                # cut one short (the one before serves); unbounded once one was damaged on
                # disk, or the disk had no room for one.
                bound = 2 * SNAPSHOT_EVERY if life.snapshot_cut else SNAPSHOT_EVERY
                if day - start > bound and not (life.damaged_snapshots or life.disk_was_full):
                    out.append(
                        f"{log.name}: a restart re-simulated {day - start} days (bound {bound})"
                    )
    return out


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"


def check_books(life: Life) -> list[Findings]:
    """Run the checks in a process of their own (forked: it opens the stores; this one
    forks servers and must hold none)."""
    books = [
        b.as_json() for b in life.books.values() if (b.folder / "live.duckdb").exists() or b.events
    ]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            out = []
            for book in books:
                f = check(book)
                out.append(f.__dict__)
            payload = json.dumps(out).encode()
        except BaseException as exc:
            payload = json.dumps(
                [
                    {
                        "violations": [
                            f"checker: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
                        ]
                    }
                ]
            ).encode()
        with os.fdopen(write, "wb") as f:
            f.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return [Findings(**d) for d in json.loads(data or b"[]")]


# -- the command ----------------------------------------------------------------------------


def record_regression(seed: int, profile: str, violations: list[str]) -> Path:
    """Add a failing seed to the hostile corpus (``tests/test_faults.py`` runs it again)."""
    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    path = REGRESSIONS / f"seed-{seed}-{profile}.json"
    if not path.exists():
        found = {"seed": seed, "profile": profile, "found": [v[:500] for v in violations[:3]]}
        path.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    return path


def regressions() -> list[tuple[int, str]]:
    """The seeds of the corpus, with the profile each failed under."""
    out = []
    for path in sorted(REGRESSIONS.glob("seed-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append((int(data["seed"]), str(data.get("profile", "full"))))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="*", help="these seeds only")
    parser.add_argument(
        "--record", action="store_true", help="add failing seeds to tests/hostile/schedules"
    )
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep each schedule's folder")
    parser.add_argument(
        "--quick", action="store_true", help="smaller schedules (the test suite's profile)"
    )
    parser.add_argument("--split", type=int, default=0, help="split-run schedules too")
    parser.add_argument("--full-disk-runs", type=int, default=0, help="simulate on a full disk")
    parser.add_argument(
        "--regressions", action="store_true", help="the seeds of tests/hostile/schedules only"
    )
    parser.add_argument("--plant", choices=["lose-event"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--jobs", type=int, default=1, help="harness processes sharing the seeds (cores to use)"
    )
    parser.add_argument("--stats-to", type=Path, help=argparse.SUPPRESS)  # a job's totals
    args = parser.parse_args(argv)
    profile = "quick" if args.quick else "full"
    if args.regressions:
        plan = regressions()
    else:
        seeds = args.seeds if args.seeds else [args.seed + i for i in range(args.schedules)]
        plan = [(seed, profile) for seed in seeds]
    # Stopped (SIGTERM), the harness unwinds: the server of the moment killed, its disk
    # unmounted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    stats = _in_jobs(plan, args) if args.jobs > 1 else _schedules(plan, args)
    wall = time.perf_counter() - started
    print(
        f"{stats.schedules} schedules in {wall:.0f} s: {len(stats.failed)} failed "
        f"({stats.violations} violations); {stats.acknowledged:,} events acknowledged, "
        f"{stats.lost} lost, {stats.twice} stored twice; {stats.requests:,} answers, "
        f"{stats.disk_full_507} of them 507 on a full disk; kills: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(stats.kills.items()))}; worst recovery "
        f"{stats.worst_restart_days} days re-simulated, final restarts up to "
        f"{stats.worst_restart_seconds:.2f} s",
        flush=True,
    )
    if stats.failed:
        print(f"failed seeds: {' '.join(map(str, stats.failed))}")
    if args.stats_to is not None:
        totals = {**vars(stats), "kills": dict(stats.kills)}  # (asdict would count pairs)
        args.stats_to.write_text(json.dumps(totals), encoding="utf-8")
    runs_failed = False
    if args.split or args.full_disk_runs:  # in a process of their own: Ray does not fork
        runs = subprocess.run(
            [
                sys.executable,
                str(HERE / "fault_runs.py"),
                f"--split={args.split}",
                f"--full-disk={args.full_disk_runs}",
                f"--seed={args.seed}",
            ],
            check=False,
        )
        runs_failed = runs.returncode != 0
    return 1 if stats.failed or runs_failed else 0


def _in_jobs(plan: list[tuple[int, str]], args: argparse.Namespace) -> Stats:
    """The schedules shared among ``--jobs`` harness processes; their totals added."""
    jobs, files = [], []
    for j in range(args.jobs):
        mine = [seed for i, (seed, _) in enumerate(plan) if i % args.jobs == j]
        if not mine:
            continue
        files.append(Path(tempfile.mkstemp(prefix="faults-job-", suffix=".json")[1]))
        command = [sys.executable, str(Path(__file__).resolve()), "--seeds", *map(str, mine)]
        command += ["--stats-to", str(files[-1])]
        command += [f for f, on in (("--quick", args.quick), ("--record", args.record)) if on]
        jobs.append(subprocess.Popen(command))
    try:
        for job in jobs:
            job.wait()
    finally:  # stopped: the jobs are stopped too, and unwind as this one does
        for job in jobs:
            if job.poll() is None:
                job.terminate()
                job.wait()
    total = Stats()
    for path in files:
        part = json.loads(path.read_text(encoding="utf-8") or "{}")
        path.unlink()
        for key, value in part.items():
            if key.startswith("worst"):
                setattr(total, key, max(getattr(total, key), value))
            elif key == "kills":
                total.kills.update(value)
            else:
                setattr(total, key, getattr(total, key) + value)
    return total


def _schedules(plan: list[tuple[int, str]], args: argparse.Namespace) -> Stats:
    """Run the schedules one after another; print a line each, and the failures' seeds."""
    stats = Stats()
    for seed, profile in plan:
        SIZES.update(PROFILES[profile])
        work = Path(tempfile.mkdtemp(prefix=f"faults-{seed}-"))
        t0 = time.perf_counter()
        violations, life, findings = run_schedule(seed, work, args.verbose, args.keep, args.plant)
        stats.schedules += 1
        stats.requests += life.responses
        stats.disk_full_507 += life.disk_507
        stats.kills.update(life.kills)
        for f in findings:
            stats.acknowledged += f.acknowledged
            stats.lost += f.lost
            stats.twice += f.twice
            stats.worst_restart_seconds = max(stats.worst_restart_seconds, f.restart_seconds)
        stats.worst_restart_days = max(stats.worst_restart_days, life.worst_recovery[0])
        acked = sum(len(b.events) for b in life.books.values())
        status = "ok" if not violations else "FAILED"
        print(
            f"schedule seed {seed}: {status} ({time.perf_counter() - t0:.1f} s, "
            f"{acked} events acknowledged, kills {dict(life.kills) or 'none'})",
            flush=True,
        )
        if violations:
            stats.failed.append(seed)
            stats.violations += len(violations)
            for v in violations[:5]:
                print(f"    {v}", flush=True)
            quick = " --quick" if profile == "quick" else ""
            quick += f" --plant {args.plant}" if args.plant else ""
            print(
                f"    again: python benchmarks/faults.py --seeds {seed}{quick} --verbose",
                flush=True,
            )
            if args.record:
                print(f"    recorded: {record_regression(seed, profile, violations)}", flush=True)
        if not args.keep and not violations:
            subprocess.run(["rm", "-rf", str(work)])
    return stats


if __name__ == "__main__":
    sys.exit(main())
