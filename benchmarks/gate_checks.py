"""Benchmark: gate checks from Python on a loaded run (target: under 100 µs on average).

python benchmarks/gate_checks.py [--scenario rongcheng] [--citizens N] [--days D]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import xinyong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--checks", type=int, default=50_000)
    args = parser.parse_args()

    run = xinyong.simulate(args.scenario, citizens=args.citizens, days=args.days, seed=1)
    services = [s.name for s in run.scenario.consequences.services]
    run.gate(services[0], 0)  # loads the gate status once
    rng = np.random.default_rng(0)
    citizens = rng.integers(0, args.citizens, args.checks).tolist()
    picks = rng.integers(0, len(services), args.checks).tolist()
    started = time.perf_counter()
    answers: dict[str, int] = {}
    for c, s in zip(citizens, picks, strict=True):
        action = run.gate(services[s], c).action
        answers[action] = answers.get(action, 0) + 1
    elapsed = time.perf_counter() - started
    print(
        f"{args.checks:,} gate checks on '{args.scenario}' ({args.citizens:,} citizens, "
        f"{len(services)} services)"
    )
    print(f"mean per check (µs)   {elapsed / args.checks * 1e6:8.1f}")
    print(f"answers               {answers}")
    run.close()


if __name__ == "__main__":
    main()
