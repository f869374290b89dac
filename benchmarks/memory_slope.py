"""Benchmark: memory per citizen, as the slope of measured peak memory over a sweep of sizes.

Each size runs in a fresh Python process, so one run's peak cannot hide in another's. The
child reports its peak resident memory (``VmHWM`` in ``/proc/self/status``: the most physical
memory the process ever held, interpreter and libraries included) and the state bytes of the
city (:func:`xinyong.engine.memory.state_bytes`: the NumPy arrays it holds, each buffer once), taken
every ``--state-every`` days: their largest over the run, and on day 30 (where the budget test
takes them). A least-squares line through (citizens, peak) gives:

- the slope: bytes of peak resident memory each further citizen costs, with a 95 % interval
  (Student's t on the slope's standard error, from the residuals of the fit);
- the intercept: the fixed cost of a run (the interpreter, NumPy, DuckDB, the scenario).

What runs in the child (``--measure``):

- ``simulate`` (default): a whole ``xinyong.simulate(...)`` as users run it: its ledger and
  tables written to a DuckDB store in a temporary folder, the counterfactual inline
  (``threads=False``), the behaviour-only twin and the summary. The state bytes come from a
  second city of the same scenario, size, seed and days, stepped with no store in the same
  child after the peak is read;
- ``worker``: what one Ray worker does with its block: a one-block ``BlockRun`` on one core,
  its ledger written to a Parquet dataset in a temporary folder, its tables and twin at the
  end (no Ray, no driver);
- ``city``: a ``City`` alone, stepped with no store (the engine's state and a day's working
  memory, no ledger).

The days matter: calendars keep each day's filings until their last entry falls due, so the
state grows over the run. Measure the horizon you extrapolate to (365 for a year).

    python benchmarks/memory_slope.py [--scenarios reference,nation]
        [--citizens 50000,100000,200000,400000] [--days 365] [--measure simulate|worker|city]
        [--seed S] [--state-every 5] [--extrapolate 1400000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MEASURES = {
    "simulate": "a whole simulate(), DuckDB store in a temporary folder",
    "worker": "one worker's block (BlockRun, one core), Parquet ledger in a temporary folder",
    "city": "a City stepped alone, no store",
}


@dataclass(frozen=True)
class Point:
    """One run of the sweep, as its child process reported it.

    Attributes:
        citizens: the population simulated.
        peak: peak resident memory of the whole process (``VmHWM``), bytes.
        imported: peak resident memory after importing xinyong, before the run, bytes.
        state: the largest state bytes of the city over the days sampled, bytes.
        state_day: the day of that largest state.
        state_30: state bytes after day 30 (0 if the run is shorter), bytes.
        wall: seconds of the measured run (not of a second city stepped for its state).
    """

    citizens: int
    peak: int
    imported: int
    state: int
    state_day: int
    state_30: int
    wall: float


@dataclass(frozen=True)
class Line:
    """A least-squares line ``y = slope * citizens + intercept`` and its 95 % half-widths."""

    slope: float
    slope_half: float
    intercept: float
    intercept_half: float
    r2: float


class StateSampler:
    """State bytes of a city taken every ``every`` days and on day 30; keeps the largest."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.largest = (0, 0)  # (bytes, day)
        self.day_30 = 0

    def __call__(self, city: object, day: int, last: bool) -> None:
        """Take the city's state bytes after ``day`` if it is a sampled day (or the last)."""
        from xinyong.engine.memory import state_bytes

        if day % self.every and day != 30 and not last:
            return
        size = state_bytes(city)
        self.largest = max(self.largest, (size, day))
        if day == 30:
            self.day_30 = size


def peak_rss() -> int:
    """This process's peak resident memory so far (``VmHWM``), in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory is measured on Linux")


def step_city(scenario: str, citizens: int, days: int, seed: int, sample: StateSampler) -> None:
    """Step a one-core city with no store through the days, sampling its state."""
    import xinyong
    from xinyong.engine.city import City

    chosen = xinyong.load_scenario(scenario).with_sizes(citizens=citizens, days=days)
    city = City(chosen, seed, None, threads=False)
    while city.day < city.days:
        city.step()
        sample(city, city.day, city.day == city.days)
    city.finish()


def run_simulate(scenario: str, citizens: int, days: int, seed: int) -> None:
    """A whole simulate(), as users run it, written to a temporary folder."""
    import xinyong

    with tempfile.TemporaryDirectory(prefix="xinyong-memory-") as tmp:
        xinyong.simulate(
            scenario, citizens=citizens, days=days, seed=seed, out=Path(tmp) / "run", threads=False
        ).close()


def run_worker(scenario: str, citizens: int, days: int, seed: int, sample: StateSampler) -> None:
    """One worker's job: a one-block run on one core, writing its Parquet dataset."""
    import xinyong
    from xinyong.engine.split import BlockRun, blocks
    from xinyong.records.dataset import BlockDataset, prepare

    chosen = xinyong.load_scenario(scenario).with_sizes(citizens=citizens, days=days)
    with tempfile.TemporaryDirectory(prefix="xinyong-memory-") as tmp:
        data = Path(tmp) / "data"
        prepare(data)
        block = BlockRun(
            chosen, seed, blocks(chosen, seed, 1), 0, BlockDataset(data, 0), threads=False
        )
        block.observe()
        while block.city.day < block.city.days:
            block.judge_then_observe(None, {})
            sample(block.city, block.city.day, block.city.day == block.city.days)
        block.finish()


def child(scenario: str, citizens: int, days: int, seed: int, measure: str, every: int) -> None:
    """Run one size, then print a JSON line: peak memory, state bytes, wall seconds."""
    import xinyong  # noqa: F401  (the fixed cost of the import is part of the baseline)

    imported = peak_rss()
    sample = StateSampler(every)
    runs: dict[str, Callable[[], None]] = {
        "simulate": lambda: run_simulate(scenario, citizens, days, seed),
        "worker": lambda: run_worker(scenario, citizens, days, seed, sample),
        "city": lambda: step_city(scenario, citizens, days, seed, sample),
    }
    started = time.perf_counter()
    runs[measure]()
    wall = time.perf_counter() - started
    peak = peak_rss()
    if measure == "simulate":  # a second city for its state, after the peak is read
        step_city(scenario, citizens, days, seed, sample)
    (state, state_day), state_30 = sample.largest, sample.day_30
    print(
        json.dumps(
            {
                "citizens": citizens,
                "peak": peak,
                "imported": imported,
                "state": state,
                "state_day": state_day,
                "state_30": state_30,
                "wall": round(wall, 3),
            }
        )
    )


def measure_one(scenario: str, citizens: int, args: argparse.Namespace) -> Point:
    """Run one size in a fresh Python process and read what it reports."""
    command = [
        sys.executable,
        __file__,
        "--child",
        scenario,
        str(citizens),
        str(args.days),
        str(args.seed),
        args.measure,
        str(args.state_every),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{scenario} at {citizens:,} citizens failed:\n{done.stderr}")
    return Point(**json.loads(done.stdout.strip().splitlines()[-1]))


def fit(citizens: list[int], values: list[int]) -> Line:
    """Least-squares line through (citizens, values), with 95 % t intervals.

    Raises:
        ValueError: fewer than three sizes (no residual left to estimate the spread from).
    """
    from scipy import stats

    if len(set(citizens)) < 3:
        raise ValueError("a slope with an interval needs at least three different sizes")
    r = stats.linregress(np.asarray(citizens, float), np.asarray(values, float))
    t = stats.t.ppf(0.975, len(citizens) - 2)
    return Line(r.slope, t * r.stderr, r.intercept, t * r.intercept_stderr, r.rvalue**2)


def print_points(points: list[Point]) -> None:
    """One line per size: what the child measured."""
    print(
        f"{'citizens':>11} {'peak RSS MiB':>13} {'after import':>13} {'largest state MiB':>18}"
        f" {'(day)':>6} {'state B/cit':>12} {'day-30 B/cit':>13} {'wall s':>7}"
    )
    for p in points:
        print(
            f"{p.citizens:>11,} {p.peak / 2**20:>13.1f} {p.imported / 2**20:>13.1f} "
            f"{p.state / 2**20:>18.1f} {p.state_day:>6} {p.state / p.citizens:>12.1f} "
            f"{p.state_30 / p.citizens:>13.1f} {p.wall:>7.2f}"
        )


def report(scenario: str, points: list[Point], args: argparse.Namespace) -> None:
    """Print the sweep's points and its fitted figures, each saying what it counts."""
    print(f"\n{scenario}: {args.days} days, seed {args.seed}, {MEASURES[args.measure]}")
    print_points(points)
    sizes = [p.citizens for p in points]
    peak = fit(sizes, [p.peak for p in points])
    state = fit(sizes, [p.state for p in points])
    print(
        f"peak resident memory per citizen (slope of peak RSS)  {peak.slope:7.1f} ± "
        f"{peak.slope_half:.1f} bytes (95 %; r² {peak.r2:.4f})"
    )
    print(
        f"fixed cost of a run (intercept of peak RSS)           {peak.intercept / 2**20:7.1f} ± "
        f"{peak.intercept_half / 2**20:.1f} MiB"
    )
    print(
        f"state bytes per citizen (slope of largest state)      {state.slope:7.1f} ± "
        f"{state.slope_half:.1f} bytes (NumPy arrays the city holds, each buffer once)"
    )
    if args.extrapolate:
        n = args.extrapolate
        low, high = (peak.slope - peak.slope_half) * n, (peak.slope + peak.slope_half) * n
        print(
            f"x {n:,} citizens: peak RSS slope {peak.slope * n / 1e9:,.0f} GB "
            f"({low / 1e9:,.0f}–{high / 1e9:,.0f} GB); largest state "
            f"{state.slope * n / 1e9:,.0f} GB"
        )


def platform() -> str:
    """The machine and the date, to print beside the figures."""
    total = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores, {int(total) / 2**20:.0f} GiB, Python "
        f"{sys.version.split()[0]}, NumPy {np.__version__}, load {load:.1f}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        scenario, citizens, days, seed, measure, every = sys.argv[2:8]
        child(scenario, int(citizens), int(days), int(seed), measure, int(every))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="reference,nation")
    parser.add_argument(
        "--citizens",
        default="50000,100000,200000,400000",
        help="sizes of the sweep, comma-separated (at least three)",
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measure", choices=sorted(MEASURES), default="simulate")
    parser.add_argument(
        "--state-every",
        type=int,
        default=5,
        help="take the state bytes every this many days (and on day 30)",
    )
    parser.add_argument(
        "--extrapolate",
        type=int,
        default=1_400_000_000,
        help="also print the slopes times this many citizens (0: not)",
    )
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.citizens.split(","))
    print(f"memory sweep: {platform()}")
    for scenario in args.scenarios.split(","):
        points = [measure_one(scenario, n, args) for n in sizes]  # one process at a time
        report(scenario, points, args)


if __name__ == "__main__":
    main()
