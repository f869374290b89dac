"""Benchmark: the full reference city (740,000 citizens, 365 days) with its ledger written.

Prints wall seconds, peak memory and citizen-days per second. Targets (2-core machine):
at most 10 s wall and 2 GiB peak memory. ``--scenario rongcheng`` measures the reported city
(households, companies, three operators, consequences and the chilling twin): at most 60 s and
4 GiB.

    python benchmarks/reference_city.py [--scenario NAME] [--citizens N] [--days D] [--seed S]
"""

from __future__ import annotations

import argparse
import atexit
import gc
import resource
import tempfile
import time
from pathlib import Path

import xinyong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="reference")
    parser.add_argument("--citizens", type=int, default=None)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--memory-store",
        action="store_true",
        help="keep the store in memory instead of a DuckDB file",
    )
    args = parser.parse_args()
    atexit.register(gc.freeze)  # a finished process skips walking its objects, as the CLI does

    with tempfile.TemporaryDirectory() as tmp:
        out = None if args.memory_store else Path(tmp) / "run"
        started = time.perf_counter()
        run = xinyong.simulate(
            args.scenario, citizens=args.citizens, days=args.days, seed=args.seed, out=out
        )
        wall = time.perf_counter() - started
        s = run.summary
        ledger_rows = len(run.ledger)
        size = (out / "run.duckdb").stat().st_size if out else 0
        run.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    citizen_days = s["citizens"] * s["days"]
    print(f"{args.scenario}: {s['citizens']:,} citizens x {s['days']} days, seed {s['seed']}")
    print(f"wall seconds          {wall:8.2f}   (simulate() call, ledger written)")
    print(f"peak memory (MiB)     {peak_mib:8.0f}")
    print(f"citizen-days / s      {citizen_days / wall:12,.0f}")
    print(f"events recorded       {ledger_rows:12,}")
    if size:
        print(f"store size (MiB)      {size / 2**20:8.1f}")
    print(
        f"mean score {s['mean_score']:.2f}, listed {s['listed_share']:.4%}, "
        f"wrongly listed {s['wrongly_listed']}"
    )


if __name__ == "__main__":
    main()
