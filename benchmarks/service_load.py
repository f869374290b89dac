"""Load benchmark: gate checks and event batches against a live city on loopback.

Starts ``xinyong serve`` as its own process on a free 127.0.0.1 port, drives it from this
process with a bounded number of requests (and a time limit), prints throughput and p50/p99
latency, and stops the server. Targets (2-core machine, one server process): gate checks at
least 3,000 per second with p99 under 20 ms; event ingestion in batches of 1,000 at least
50,000 events per second, durable.

    python benchmarks/service_load.py [--citizens 100000] [--gates 20000] [--batches 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

KEYS = "adm=admin,svc=service:rail,col=collector:camera"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _drive(
    port: int, key: str, requests: list[tuple[str, str, bytes]], concurrency: int, limit_s: float
) -> tuple[np.ndarray, float]:
    """Send the requests over ``concurrency`` keep-alive connections; returns latencies (s) and
    the wall time. A bare HTTP/1.1 client on asyncio streams: httpx's client measured ~540
    requests/s here, so it, not the server, would have been the thing measured."""
    latencies: list[float] = []
    queue = iter(requests)
    deadline = time.perf_counter() + limit_s

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for method, path, body in queue:
                if time.perf_counter() > deadline:
                    return
                head = (
                    f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                started = time.perf_counter()
                writer.write(head.encode() + body)
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if not status.split()[1].startswith(b"2"):
                    raise SystemExit(f"{method} {path}: {status.decode().strip()}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return np.array(latencies), time.perf_counter() - started


def _report(name: str, unit: str, per_request: int, latencies: np.ndarray, wall: float) -> None:
    done = latencies.size
    print(f"{name}: {done:,} requests in {wall:.2f} s")
    print(f"  throughput          {done * per_request / wall:12,.0f} {unit}/s")
    print(
        f"  latency p50 / p99   {np.percentile(latencies, 50) * 1e3:8.2f} / "
        f"{np.percentile(latencies, 99) * 1e3:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--gates", type=int, default=20_000, help="gate checks to send")
    parser.add_argument("--batches", type=int, default=100, help="batches of 1,000 events")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60, help="time limit per phase")
    args = parser.parse_args()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(sys.executable).with_name("xinyong")
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
            env={**os.environ, "XINYONG_KEYS": KEYS},
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
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
            rng = np.random.default_rng(0)
            gates = [
                ("GET", f"/gates/rail/{c}", b"") for c in rng.integers(0, args.citizens, args.gates)
            ]
            lat, wall = asyncio.run(_drive(port, "svc", gates, args.concurrency, args.seconds))
            _report("gate checks", "checks", 1, lat, wall)
            batches = [
                (
                    "POST",
                    "/events/batch",
                    json.dumps(
                        {
                            "events": [
                                {
                                    "client_id": f"b{i}-{j}",
                                    "citizen": int((i * 1000 + j) % args.citizens),
                                    "behaviour": "jaywalking",
                                }
                                for j in range(1000)
                            ]
                        }
                    ).encode(),
                )
                for i in range(args.batches)
            ]
            lat, wall = asyncio.run(_drive(port, "col", batches, 4, args.seconds))
            _report("event batches of 1,000 (stored before each answer)", "events", 1000, lat, wall)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
