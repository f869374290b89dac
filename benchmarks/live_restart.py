"""Restart time of a live city against the days it has run.

Builds one live city (in this process) and advances it day by day; at each day of ``--at``
it closes the city and times a restart in a fresh process (from the interpreter's start to a
city ready to serve: load the last snapshot, re-simulate the days after it with the stored
submissions and decisions), then goes on from where it was.

    python benchmarks/live_restart.py [--scenario rongcheng] [--citizens 740000]
        [--at 5,9,10,90,180,270,359,365] [--snapshot-every 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xinyong.scenario import load_scenario
from xinyong.service.live import SNAPSHOT_EVERY, LiveCity

_RESTART = """
import sys, time
started = time.perf_counter()
from xinyong.service.live import SNAPSHOT_EVERY, LiveCity
live = LiveCity(sys.argv[1], snapshot_every=int(sys.argv[2]))
ready = time.perf_counter() - started
day = live.day
live.close()
print(ready, day)
"""


def restart_seconds(folder: Path, snapshot_every: int) -> tuple[float, float, int]:
    """(whole process, until ready, open day) of a restart in a fresh interpreter."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _RESTART, str(folder), str(snapshot_every)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return time.perf_counter() - started, float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--citizens", type=int, default=740_000)
    parser.add_argument("--at", default="5,9,10,90,180,270,359,365")
    parser.add_argument("--snapshot-every", type=int, default=SNAPSHOT_EVERY)
    args = parser.parse_args()
    at = sorted(int(d) for d in args.at.split(","))
    scenario = load_scenario(args.scenario).with_sizes(citizens=args.citizens, days=max(at[-1], 1))
    print(
        f"{args.scenario}, {args.citizens:,} citizens, a snapshot every {args.snapshot_every} days"
    )
    print(
        f"{'day':>5} {'advance s':>10} {'restart s (process)':>20} {'ready s':>8} "
        f"{'snapshots MiB':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "city"
        live = LiveCity(folder, scenario, seed=1, snapshot_every=args.snapshot_every)
        for day in at:
            started = time.perf_counter()
            live.advance(day - live.day)
            advanced = time.perf_counter() - started
            live.close()
            whole, ready, open_day = restart_seconds(folder, args.snapshot_every)
            assert open_day == day
            size = (
                sum(p.stat().st_size for p in (folder / "snapshots").glob("*")) / 2**20
                if (folder / "snapshots").is_dir()
                else 0.0
            )
            print(f"{day:5d} {advanced:10.1f} {whole:20.1f} {ready:8.1f} {size:14.0f}", flush=True)
            live = LiveCity(folder, snapshot_every=args.snapshot_every)
        live.close()


if __name__ == "__main__":
    main()
