"""Mixed load on a live city while an admin advances it: records, gates, events, appeals and
stats from many clients at once.

Starts ``xinyong serve`` on a free 127.0.0.1 port, advances the city a month, then for
``--seconds`` runs ``--clients`` concurrent keep-alive clients, each sending a random mix of
requests, while an admin advances the city a few days at a time (as jobs, polled) and decides
appeals now and then. A quarter of the clients check gates only, from a process of their own,
so that a gate's latency is the server's and not a busy client's. Prints requests by kind and
status class, throughput, p50/p99 latency, and the gate checks' p99 during advances. Targets:
no 5xx; gate p99 under 50 ms during an advance.

    python benchmarks/live_load.py [--citizens 100000] [--clients 32] [--seconds 60]

With ``--readers``, only readers: ``--clients`` of them (64, say) reading records, one request
in eight for the dashboard's figures, no advance: record reads must keep a p99 under 0.5 s
however costly the figures (they are computed once a day, on threads of their own).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import numpy as np

CITIZEN_KEYS = 200  # citizens 0..199 have keys c0..c199
_WEIGHTS = {"gate": 50, "record": 20, "event": 20, "appeal": 5, "stats": 5}
_READERS = {"record": 7, "figures": 1}  # --readers: one request in eight for the figures
GATE_SHARE = 0.25  # of the clients: gate checks only, from a process of their own


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Conn:
    """One keep-alive HTTP/1.1 connection (a bare client: httpx would be the bottleneck)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, key: str, body: object = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        status = await self.reader.readline()
        if not status:
            raise ConnectionError("connection closed")
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            if name.lower() == "connection" and "close" in value.lower():
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return int(status.split()[1]), payload


async def run(
    port: int,
    citizens: int,
    clients: int,
    seconds: float,
    advance_days: int,
    days_left: int,
    kinds: tuple[str, ...] = ("gate", "record", "event", "appeal", "stats"),
    admin_too: bool = True,
    weights: dict[str, int] | None = None,
) -> dict:
    results: dict[str, list[tuple[float, float, int]]] = defaultdict(list)  # start, s, status
    advancing: list[tuple[float, float]] = []  # windows when an advance job ran
    errors: Counter[str] = Counter()
    deadline = time.time() + seconds
    appeals: list[int] = []
    counter = iter(range(10**9))

    async def client(n: int) -> None:
        rng = random.Random(n)
        conn = Conn(port)
        while time.time() < deadline:
            kind = rng.choices(kinds, [(weights or _WEIGHTS)[k] for k in kinds])[0]
            c = rng.randrange(citizens)
            started = time.time()
            try:
                if kind == "gate":
                    status, _ = await conn.request("GET", f"/gates/rail/{c}", "svc")
                elif kind == "record":
                    status, _ = await conn.request("GET", f"/citizens/{c}", "ana")
                elif kind == "event":
                    status, _ = await conn.request(
                        "POST",
                        "/events",
                        "col",
                        {
                            "client_id": f"l{n}-{next(counter)}",
                            "citizen": c,
                            "behaviour": "jaywalking",
                        },
                    )
                elif kind == "stats":
                    status, _ = await conn.request("GET", "/stats", "ana")
                elif kind == "figures":
                    status, _ = await conn.request("GET", "/api/figures", "ana")
                else:  # a citizen reads its record and appeals its latest event
                    c = rng.randrange(CITIZEN_KEYS)
                    status, body = await conn.request("GET", f"/citizens/{c}", f"c{c}")
                    ledger = (
                        [
                            e
                            for op in json.loads(body)["operators"]
                            for e in op["ledger"]
                            if e["counted"]
                        ]
                        if status == 200
                        else []
                    )
                    if ledger:
                        status, body = await conn.request(
                            "POST",
                            "/appeals",
                            f"c{c}",
                            {"citizen": c, "event": ledger[-1]["event"], "reason": "not me"},
                        )
                        if status == 200:
                            appeals.append(json.loads(body)["appeal"])
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
                errors[type(exc).__name__] += 1
                conn = Conn(port)
                continue
            results[kind].append((started, time.time() - started, status))

    async def admin() -> None:
        conn = Conn(port)
        budget = days_left
        last_decision = time.time()
        while time.time() < deadline:
            if budget >= advance_days:
                began = time.time()
                status, body = await conn.request("POST", "/advance", "adm", {"days": advance_days})
                results["advance"].append((began, time.time() - began, status))
                if status == 202:
                    job = json.loads(body)["job"]
                    while True:
                        await asyncio.sleep(0.05)
                        status, body = await conn.request("GET", f"/advance/{job}", "adm")
                        if status != 200 or json.loads(body)["status"] != "running":
                            break
                    advancing.append((began, time.time()))
                    budget -= advance_days
            if appeals and time.time() - last_decision > 5:
                began = time.time()
                status, _ = await conn.request(
                    "POST", f"/appeals/{appeals.pop(0)}/decision", "adm", {"uphold": True}
                )
                results["decision"].append((began, time.time() - began, status))
                last_decision = time.time()
            await asyncio.sleep(0.5)

    started = time.time()
    await asyncio.gather(*([admin()] if admin_too else []), *(client(i) for i in range(clients)))
    return {
        "results": results,
        "advancing": advancing,
        "errors": errors,
        "wall": time.time() - started,
        "started": started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--advance-days", type=int, default=5)
    parser.add_argument(
        "--readers", action="store_true", help="readers only: records, and 1 in 8 the figures"
    )
    args = parser.parse_args()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    keys = ",".join(
        [
            "adm=admin",
            "ana=analyst",
            "svc=service:rail",
            "col=collector:camera",
            *(f"c{i}=citizen:{i}" for i in range(CITIZEN_KEYS)),
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(sys.executable).with_name("xinyong")
        log = open(Path(tmp) / "server.log", "w+")  # noqa: SIM115 - read at the end
        server = subprocess.Popen(
            [
                str(exe),
                "serve",
                "--scenario",
                args.scenario,
                "--citizens",
                str(args.citizens),
                "--run",
                str(Path(tmp) / "city"),
                "--port",
                str(port),
            ],
            env={**os.environ, "XINYONG_KEYS": keys},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            httpx.post(
                f"{url}/advance",
                json={"days": 30, "wait": True},
                headers={"X-API-Key": "adm"},
                timeout=600,
            ).raise_for_status()
            days = httpx.get(f"{url}/health").json()["day"]
            total_days = 365 if args.scenario in ("rongcheng", "reference") else days + 100
            if args.readers:
                out = asyncio.run(
                    run(
                        port,
                        args.citizens,
                        args.clients,
                        args.seconds,
                        0,
                        0,
                        tuple(_READERS),
                        admin_too=False,
                        weights=_READERS,
                    )
                )
            else:
                out = _mixed(port, args, total_days - days)
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.seek(0)
            exceptions = log.read().count("Traceback")
    _report(out, exceptions)


def _mixed(port: int, args: argparse.Namespace, days_left: int) -> dict:
    """The mixed load: gate checkers in a process of their own (so that their latencies are
    the server's, not those of a client process busy parsing records), the rest here."""
    gaters = max(1, round(args.clients * GATE_SHARE))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        gates = pool.apply_async(_gate_process, (port, args.citizens, gaters, args.seconds))
        out = asyncio.run(
            run(
                port,
                args.citizens,
                args.clients - gaters,
                args.seconds,
                args.advance_days,
                days_left,
                ("record", "event", "appeal", "stats"),
            )
        )
        out["results"]["gate"] = gates.get()
    return out


def _gate_process(
    port: int, citizens: int, clients: int, seconds: float
) -> list[tuple[float, float, int]]:
    out = asyncio.run(run(port, citizens, clients, seconds, 0, 0, ("gate",), admin_too=False))
    return out["results"]["gate"]


def _report(out: dict, exceptions: int) -> None:
    results, wall = out["results"], out["wall"]
    total = sum(len(v) for v in results.values())
    five = sum(1 for v in results.values() for _, _, s in v if s >= 500)
    print(
        f"{total:,} requests in {wall:.1f} s: {total / wall:,.0f}/s; 5xx: {five}; transport "
        f"errors: {dict(out['errors']) or 0}; server tracebacks: {exceptions}"
    )
    for kind, rows in sorted(results.items()):
        lat = np.array([d for _, d, _ in rows]) * 1e3
        classes = Counter(f"{s // 100}xx" for _, _, s in rows)
        print(
            f"  {kind:9s} {len(rows):7,}  p50 {np.percentile(lat, 50):7.1f} ms  p99 "
            f"{np.percentile(lat, 99):7.1f} ms  {dict(sorted(classes.items()))}"
        )
    deciding = [(t, t + d) for t, d, _ in results.get("decision", [])]
    for kind in ("record", "stats", "event"):  # reads and writes while an appeal is decided
        rows = results.get(kind, [])
        inside = np.array([d for t, d, _ in rows if any(a <= t <= b for a, b in deciding)])
        outside = np.array([d for t, d, _ in rows if not any(a <= t <= b for a, b in deciding)])
        if inside.size and outside.size:
            print(
                f"  {kind:9s} p99 {np.percentile(inside, 99) * 1e3:7.1f} ms while an appeal is "
                f"decided ({inside.size:,}), {np.percentile(outside, 99) * 1e3:7.1f} ms "
                f"otherwise ({outside.size:,})"
            )
    windows = out["advancing"]
    slowest = sorted(
        (
            (d, t, kind)
            for kind in ("record", "stats", "event", "appeal")
            for t, d, _ in results.get(kind, [])
        ),
        reverse=True,
    )[:8]
    if slowest:  # when the slowest came: during an advance, a decision, or neither

        def state(t: float) -> str:
            busy = [
                name
                for name, spans in (("advance", windows), ("decision", deciding))
                if any(a <= t <= b for a, b in spans)
            ]
            return "+".join(busy) or "neither"

        print(
            "  slowest: "
            + "; ".join(
                f"{kind} {d * 1e3:.0f} ms at {t - out['started']:.1f} s ({state(t)})"
                for d, t, kind in slowest
            )
        )
    during = (
        np.array([d for t, d, _ in results.get("gate", []) if any(a <= t <= b for a, b in windows)])
        * 1e3
    )
    if during.size:
        print(
            f"  gate checks during advances: {during.size:,}, p50 "
            f"{np.percentile(during, 50):.1f} ms, p99 {np.percentile(during, 99):.1f} ms "
            f"({len(windows)} advances)"
        )


if __name__ == "__main__":
    main()
