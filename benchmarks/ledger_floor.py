"""Benchmark: what storing a city-year's ledger costs by itself, the floor under any engine.

Simulates the reference city (or ``--scenario``) once, reads its ledger back, then appends the
same rows to a fresh DuckDB store the way a run does (chunks of 2 million rows through Arrow,
then a checkpoint) and prints the wall and CPU seconds of that alone, and the file's size.
A run's ledger writer does this work beside the simulation; on a 2-core machine its CPU
seconds come out of the same budget.

    python benchmarks/ledger_floor.py [--scenario NAME] [--citizens N] [--days D] [--repeat R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import xinyong
from xinyong.records.store import RunStore

CHUNK = 2_000_000  # rows per append, as the ledger writer gathers them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="reference")
    parser.add_argument("--citizens", type=int, default=None)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with xinyong.simulate(
            args.scenario, citizens=args.citizens, days=args.days, out=Path(tmp) / "run"
        ) as run:
            scenario = run.scenario
            rows = run.query("SELECT * FROM ledger_rows ORDER BY rowid")
        columns = {name: rows[name].to_numpy() for name in rows.columns}
        n = len(rows)
        print(
            f"{scenario.name}: {scenario.citizens:,} citizens x {scenario.days} days, "
            f"{n:,} ledger rows"
        )
        for i in range(args.repeat):
            path = Path(tmp) / f"store-{i}.duckdb"
            store = RunStore.create(path, scenario, 0)
            wall, cpu = time.perf_counter(), time.process_time()
            for start in range(0, n, CHUNK):
                store.append(
                    "ledger_rows", {k: v[start : start + CHUNK] for k, v in columns.items()}
                )
            store.con.execute("CHECKPOINT")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            store.close()
            print(
                f"append + checkpoint: wall {wall:6.2f} s, CPU {cpu:6.2f} s (all threads), "
                f"file {path.stat().st_size / 2**20:6.1f} MiB"
            )


if __name__ == "__main__":
    main()
