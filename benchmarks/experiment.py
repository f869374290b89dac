"""Benchmark: an experiment on local workers against the same runs one at a time.

Runs ``examples/misidentification.toml`` (by default 50,000 citizens, 2 arms × 10 seeds × 365
days) as a user does, ``xinyong experiment`` on ``--workers`` local processes, timed whole;
then one run at a time in this process, each run timed alone, as ``simulate`` runs it (the
counterfactual on a second core) and as a worker does (one core). Target (2-core machine):
the parallel wall within 1.25 × (sum of the runs' single-run times / workers). Also prints
the variance-reduction factor of pairing for each metric (how much tighter the paired
interval is than the unpaired one, in variance), which should be well above 1, and checks
that both ways give the same runs.

    python benchmarks/experiment.py [--design FILE] [--citizens N] [--days D] [--seeds K]
                                    [--workers W]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pandas as pd
import tomli_w

import xinyong
from xinyong.studies.runners import simulate_summary, simulate_summary_one_core

HERE = Path(__file__).resolve().parent
TIMES: dict[str, list[float]] = {"threads": [], "one core": []}


def timed(scenario, seed, overrides):  # type: ignore[no-untyped-def]
    """A run alone as `simulate` does it (counterfactual on a second core), timed."""
    started = time.perf_counter()
    summary = simulate_summary(scenario, seed, overrides)
    TIMES["threads"].append(time.perf_counter() - started)
    return summary


def timed_one_core(scenario, seed, overrides):  # type: ignore[no-untyped-def]
    """A run alone as an experiment's worker does it (one core), timed."""
    started = time.perf_counter()
    summary = simulate_summary_one_core(scenario, seed, overrides)
    TIMES["one core"].append(time.perf_counter() - started)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--design", type=Path, default=HERE.parent / "examples" / "misidentification.toml"
    )
    parser.add_argument("--citizens", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    design = tomllib.loads(args.design.read_text(encoding="utf-8"))
    design.update(citizens=args.citizens, days=args.days, seeds=args.seeds)
    runs = len(design["arms"]) * args.seeds
    print(
        f"{args.design.name}: {design['scenario']}, {args.citizens:,} citizens × "
        f"{args.days} days, {len(design['arms'])} arms × {args.seeds} seeds = {runs} runs"
    )

    with tempfile.TemporaryDirectory() as tmp:  # as a user runs it: the command, timed whole
        file = Path(tmp) / args.design.name
        file.write_text(tomli_w.dumps(design), encoding="utf-8")
        started = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).with_name("xinyong")),
                "experiment",
                str(file),
                "--out",
                str(Path(tmp) / "out"),
                "--workers",
                str(args.workers),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        parallel_wall = time.perf_counter() - started
        parallel_runs = pd.read_parquet(Path(tmp) / "out" / "runs.parquet")
        in_workers = sum(
            json.loads(f.read_text())["summary"]["wall_seconds"]
            for f in (Path(tmp) / "out" / "runs").glob("*.json")
        )
        effects = pd.read_csv(Path(tmp) / "out" / "effects.csv")
    started = time.perf_counter()
    serial = xinyong.experiment(design, runner=timed)
    serial_wall = time.perf_counter() - started
    xinyong.experiment(design, runner=timed_one_core)

    print(
        f"parallel wall, {args.workers} workers   {parallel_wall:8.1f} s  (the whole command: "
        f"start, runs, tables)"
    )
    print(f"one at a time, wall        {serial_wall:8.1f} s")
    for kind, times in TIMES.items():
        single = sum(times)
        print(f"sum of single-run times    {single:8.1f} s  ({single / runs:.2f} s a run; {kind})")
        ratio = parallel_wall / (single / args.workers)
        print(f"  parallel / (sum / {args.workers})     {ratio:8.2f} ×  (target ≤ 1.25)")
    ratio = parallel_wall / (in_workers / args.workers)
    print(f"sum of the runs' times in the workers {in_workers:6.1f} s  (side by side)")
    print(
        f"  parallel / (sum / {args.workers})     {ratio:8.2f} ×  (what running them in parallel "
        f"costs besides the runs)"
    )
    same = parallel_runs.equals(serial.runs)
    print(f"same runs both ways        {same}")
    print("\nvariance-reduction factor of pairing (unpaired over paired variance):")
    for row in effects.itertuples():
        print(
            f"  {row.arm} {row.metric:<24} {row.variance_reduction:10.3g}   "
            f"difference {row.mean_diff:.6g}, paired [{row.lo:.6g}, {row.hi:.6g}], "
            f"unpaired [{row.unpaired_lo:.6g}, {row.unpaired_hi:.6g}]"
        )
    if not same:
        print(pd.concat([parallel_runs, serial.runs]).drop_duplicates(keep=False))
        raise SystemExit("the parallel and serial runs differ")


if __name__ == "__main__":
    main()
