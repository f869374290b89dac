"""Benchmark: a city stepped a day at a time from Python and saved, against ``simulate``.

Runs the scenario (by default rongcheng, 50,000 citizens, 120 days) twice with one seed: as
``simulate`` does, and as ``xinyong.City`` does (``step()`` day by day, its behaviour-only twin
kept along, then ``save``), each timed whole in this process; and once more stepped with a
look at one citizen every ``--look`` days, as a notebook does. Target (2-core machine): the
stepped run within 1.25 × simulate's wall. Checks that both runs stored the same summary.

    python benchmarks/stepping.py [--scenario NAME] [--citizens N] [--days D] [--look K]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import xinyong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--citizens", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--look", type=int, default=10, help="days between two looks")
    args = parser.parse_args()
    sizes = {"citizens": args.citizens, "days": args.days, "seed": args.seed}

    xinyong.simulate(args.scenario, citizens=500, days=5).close()  # kernels loaded, once
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        whole = xinyong.simulate(args.scenario, out=Path(tmp) / "whole", **sizes)
        simulated = time.perf_counter() - started

        started = time.perf_counter()
        city = xinyong.City(args.scenario, **sizes)
        for _ in range(args.days):
            city.step()
        saved = city.save(Path(tmp) / "stepped")
        stepped = time.perf_counter() - started
        city.close()

        started = time.perf_counter()
        city = xinyong.City(args.scenario, **sizes)
        for day in range(args.days):
            city.step()
            if (day + 1) % args.look == 0:
                city.citizen(42)
        looked = time.perf_counter() - started
        city.close()

        drop = ("wall_seconds",)
        same = {k: v for k, v in saved.summary.items() if k not in drop} == {
            k: v for k, v in whole.summary.items() if k not in drop
        }
        whole.close()
        saved.close()
    print(f"{args.scenario}: {args.citizens:,} citizens x {args.days} days, seed {args.seed}")
    print(f"simulate               {simulated:8.2f} s")
    print(f"stepped and saved      {stepped:8.2f} s   ({stepped / simulated:.2f} x simulate)")
    print(f"stepped, a look every {args.look} days {looked:6.2f} s   (not saved)")
    print(f"same summary           {same}")
    target = stepped <= 1.25 * simulated
    print(f"target (within 1.25 x) {'met' if target else 'MISSED'}")


if __name__ == "__main__":
    main()
