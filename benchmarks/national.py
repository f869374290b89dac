"""Benchmark: a large city or nation for a year on Ray workers (target on the 2-core machine:
10 million citizens in at most 60 s wall and 8 GiB peak memory, per-citizen state at most 64
bytes).

Peak memory is the largest total resident memory of the driver and every Ray process, sampled
every 0.2 s. Per-citizen state is every array a city holds (scores, schedules, calendars,
scratch columns) after a month, divided by its citizens, measured in this process on a city of
``--state-citizens``.

    python benchmarks/national.py [--scenario reference] [--citizens 10000000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import ray

import xinyong
from xinyong.engine.city import City
from xinyong.engine.memory import state_bytes


def _watched() -> list[int]:
    """This process and every Ray process on the machine."""
    pids = [os.getpid()]
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                if b"ray" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(int(pid))
            except OSError:
                continue
    return pids


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    return total


class PeakMemory(threading.Thread):
    """Samples the total resident memory every 0.2 s until stopped (finding the Ray processes
    again every 2 s, so that sampling costs little); ``peak`` holds the largest."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self._stop_now = threading.Event()

    def run(self) -> None:
        pids: list[int] = []
        ticks = 0
        while not self._stop_now.wait(0.2):
            if ticks % 10 == 0:
                pids = _watched()
            ticks += 1
            self.peak = max(self.peak, _rss(pids))

    def stop(self) -> int:
        self._stop_now.set()
        self.join()
        return self.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="reference")
    parser.add_argument("--citizens", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--state-citizens", type=int, default=1_000_000)
    args = parser.parse_args()

    scenario = xinyong.load_scenario(args.scenario).with_sizes(
        citizens=args.state_citizens, days=args.days
    )
    city = City(scenario, 0, None, threads=False)  # as a worker holds it: one core
    for _ in range(min(30, scenario.days)):
        city.step()
    per_citizen = state_bytes(city) / scenario.citizens
    del city

    ray.init(
        address="local",
        num_cpus=args.workers,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    sampler = PeakMemory()
    sampler.start()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run = xinyong.simulate(
            args.scenario,
            citizens=args.citizens,
            days=args.days,
            seed=0,
            workers=args.workers,
            out=Path(tmp) / "run",
        )
        wall = time.perf_counter() - started
        s = run.summary
        rows = len(run.ledger)
        dataset = sum(f.stat().st_size for f in (Path(tmp) / "run" / "data").rglob("*"))
        run.close()
    peak = sampler.stop()
    ray.shutdown()
    citizen_days = s["citizens"] * s["days"]
    print(
        f"{args.scenario}: {s['citizens']:,} citizens x {s['days']} days on "
        f"{args.workers} worker(s)"
    )
    print(f"wall seconds                 {wall:10.2f}")
    print(f"peak memory, all processes   {peak / 2**30:10.2f} GiB")
    print(f"citizen-days / s             {citizen_days / wall:14,.0f}")
    print(f"citizen-days / s per core    {citizen_days / wall / args.workers:14,.0f}")
    print(f"ledger rows                  {rows:14,}")
    print(f"Parquet dataset              {dataset / 2**20:10.1f} MiB")
    print(
        f"per-citizen state            {per_citizen:10.1f} bytes "
        f"(measured on {args.state_citizens:,} citizens after 30 days)"
    )


if __name__ == "__main__":
    main()
