"""A city too large for the machine, asked of a live server: refused before it is built, or
failed while it is built, the server goes on as it was.

Starts ``xinyong serve`` (``--scenario``, ``--citizens``) on a free 127.0.0.1 port, then, as an
admin, asks ``POST /scenario`` for:

1. ``nation`` at 10,000,000 citizens × 3,650 days, as the machine is (no limit);
2. the same under a memory cap (an address-space limit, ``ulimit -v``, of ``--cap-gib``
   GiB above what the process has mapped);
3. a city the estimate lets through under that cap, whose build then runs out: once its
   folder appears and its resident memory has grown by ``--grow-mib``, the cap is lowered to
   what the process has mapped (``prlimit``), as if the machine ran out mid-build; the cap is
   raised again once the answer is in.

After each, a 1,000-citizen ``reference`` city is asked for. Prints, for each request, its
status, wall seconds, the server's resident memory (``VmRSS``) before and after, and the
small city's status and seconds. Targets: each huge city answered 507 naming the memory it
needs; the small city built at once (seconds); the process back within 100 MiB of its
resident memory before the huge request; no 5xx, no traceback in the server's log.

    python benchmarks/huge_city.py [--citizens 1000] [--cap-gib 6]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' server
from helpers import Server

ADMIN = {"X-API-Key": "adm"}
SMALL = {"scenario": "reference", "citizens": 1000, "days": 30}
HUGE = {"scenario": "nation", "citizens": 10_000_000, "days": 3650}
MIB = 2**20


def _status(pid: int, key: str) -> int:
    """A ``/proc/PID/status`` figure (``VmRSS``, ``VmSize``) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise SystemExit(f"no {key} for process {pid}")


def _ask(url: str, body: dict) -> tuple[int, float, str]:
    began = time.perf_counter()
    reply = httpx.post(f"{url}/scenario", json=body, headers=ADMIN, timeout=3600)
    return reply.status_code, time.perf_counter() - began, reply.text


def _round(
    url: str,
    pid: int,
    label: str,
    body: dict,
    during: threading.Thread | None = None,
    cap: tuple[int, int] | None = None,
) -> bool:
    """One huge request (``during`` it, a thread; after it, the address-space ``cap`` set
    again), then the small city; print what was seen. True if on target."""
    before = _status(pid, "VmRSS")
    if during is not None:
        during.start()
    status, seconds, text = _ask(url, body)
    if during is not None:
        during.join()
    if cap is not None:
        resource.prlimit(pid, resource.RLIMIT_AS, cap)
    after = _status(pid, "VmRSS")
    small_status, small_seconds, small_text = _ask(url, SMALL)
    settled = _status(pid, "VmRSS")
    print(f"{label}: {body['scenario']} {body['citizens']:,} x {body['days']:,}")
    print(f"  answered {status} in {seconds:.1f} s: {text[:400]}")
    print(
        f"  resident memory {before / MIB:,.0f} MiB before, {after / MIB:,.0f} MiB after "
        f"({(after - before) / MIB:+,.0f} MiB)"
    )
    print(
        f"  then {SMALL['citizens']:,} citizens: {small_status} in {small_seconds:.1f} s; "
        f"resident {settled / MIB:,.0f} MiB ({(settled - before) / MIB:+,.0f} MiB)"
        + ("" if small_status == 200 else f": {small_text[:300]}")
    )
    return (
        status == 507
        and small_status == 200
        and after - before < 100 * MIB
        and settled - before < 100 * MIB
    )


def _starve(pid: int, base: Path, grow: int, cap: tuple[int, int]) -> threading.Thread:
    """A thread that, once a new city's folder appears and the server has grown by ``grow``
    bytes, lowers its address-space limit to what it has mapped (the build runs out)."""

    def run() -> None:
        start = _status(pid, "VmRSS")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if list(base.glob("city-*")) and _status(pid, "VmRSS") - start > grow:
                size = _status(pid, "VmSize")
                resource.prlimit(pid, resource.RLIMIT_AS, (size, cap[1]))
                print(f"  (cap lowered to {size / MIB:,.0f} MiB mapped, mid-build)")
                return
            time.sleep(0.01)
        print("  (the build never grew: nothing lowered)")

    return threading.Thread(target=run, name="starve")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="reference")
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--cap-gib", type=float, default=6.0)
    parser.add_argument("--grow-mib", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "live", Path(args.scenario), "--citizens", str(args.citizens))
        url, pid, ok = server.url, server.proc.pid, True
        try:
            _ask(url, SMALL)  # the first new city loads what every later one shares
            ok &= _round(url, pid, "1. no cap", HUGE)
            cap = _status(pid, "VmSize") + int(args.cap_gib * 2**30)
            resource.prlimit(pid, resource.RLIMIT_AS, (cap, cap))
            print(f"(an address-space cap of {cap / 2**30:.1f} GiB: {args.cap_gib} GiB above)")
            ok &= _round(url, pid, "2. capped", HUGE)
            # The largest city the estimate lets through under the cap, from its refusal.
            _, _, text = _ask(url, HUGE)
            fits = int(text.split("choose at most about ")[1].split()[0].replace(",", ""))
            fitting = {**HUGE, "citizens": fits * 9 // 10}
            cap_now = resource.prlimit(pid, resource.RLIMIT_AS)
            starve = _starve(pid, Path(tmp) / "live", args.grow_mib * MIB, cap_now)
            ok &= _round(url, pid, "3. failed while built", fitting, starve, cap_now)
        finally:
            server.stop()
            assert server.proc.stderr is not None
            log = server.proc.stderr.read().decode(errors="replace")
    tracebacks = log.count("Traceback")
    print(f"server tracebacks: {tracebacks}")
    if tracebacks:
        print(log[log.index("Traceback") :][:3000])
    sys.exit(0 if ok and not tracebacks else 1)


if __name__ == "__main__":
    main()
