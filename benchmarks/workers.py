"""Benchmark: the same run on 1 and on 2 Ray workers (speed-up; target at least 1.6x from 1 to
2 workers on the 2-core machine), and citizen-days per second per core.

    python benchmarks/workers.py [--scenario reference] [--citizens N] [--days D]
"""

from __future__ import annotations

import argparse
import time

import ray

import xinyong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="reference")
    parser.add_argument("--citizens", type=int, default=None)
    parser.add_argument("--days", type=int, default=None)
    args = parser.parse_args()
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    walls = {}
    for workers in (1, 2):
        started = time.perf_counter()
        run = xinyong.simulate(
            args.scenario, citizens=args.citizens, days=args.days, seed=1, workers=workers
        )
        walls[workers] = time.perf_counter() - started
        s = run.summary
        run.close()
        citizen_days = s["citizens"] * s["days"]
        print(
            f"{workers} worker(s): {walls[workers]:7.2f} s, "
            f"{citizen_days / walls[workers] / workers:12,.0f} citizen-days/s per core"
        )
    print(f"speed-up 1 -> 2 workers   {walls[1] / walls[2]:.2f}x")


if __name__ == "__main__":
    main()
