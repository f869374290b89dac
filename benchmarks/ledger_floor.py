"""Benchmark: what storing a city-year's ledger costs by itself, the floor under any engine.

Simulates the reference city (or ``--scenario``) once, reads its ledger back, then stores the
same rows the two ways a run can, and prints the wall and CPU seconds of each alone, the size
on disk, and what two reads of it cost afterwards (one citizen's events, as ``explain`` asks;
every row grouped, as the daily tables do):

- ``duckdb``: appended to a fresh DuckDB store the way a whole run does (chunks of 2 million
  rows through Arrow, then a checkpoint);
- ``parquet``: written as Parquet files the way a split run's block does
  (:class:`xinyong.records.dataset.ParquetLedger`), with the store's ``ledger_rows`` a view over
  them (:meth:`RunStore.read_dataset`).

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
from xinyong.records.dataset import DATA, ParquetLedger, prepare
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
            for how in ("duckdb", "parquet"):
                folder = Path(tmp) / f"{how}-{i}"
                folder.mkdir()
                store = RunStore.create(folder / "run.duckdb", scenario, 0)
                wall, cpu = time.perf_counter(), time.process_time()
                if how == "duckdb":
                    for start in range(0, n, CHUNK):
                        store.append(
                            "ledger_rows", {k: v[start : start + CHUNK] for k, v in columns.items()}
                        )
                else:
                    prepare(folder / DATA)
                    parquet = ParquetLedger(folder / DATA, scenario, None, 0)
                    for start in range(0, n, CHUNK):
                        parquet({k: v[start : start + CHUNK] for k, v in columns.items()})
                    parquet.close()
                    store.read_dataset(folder)
                store.con.execute("CHECKPOINT")
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
                one, every = _reads(store)
                store.close()
                print(
                    f"{how:8} store: wall {wall:6.2f} s, CPU {cpu:6.2f} s (all threads), "
                    f"{size / 2**20:6.1f} MiB; reads: a citizen {one * 1e3:6.1f} ms, "
                    f"every row grouped {every * 1e3:6.1f} ms"
                )


def _reads(store: RunStore) -> tuple[float, float]:
    """Seconds to read one citizen's events, and to group every row by day and operator."""
    t = time.perf_counter()
    store.con.execute("SELECT * FROM ledger_rows WHERE subject = 12345 ORDER BY day").fetchall()
    one = time.perf_counter() - t
    t = time.perf_counter()
    store.con.execute(
        "SELECT day, operator, count(*), sum(points) FROM ledger_rows GROUP BY ALL"
    ).fetchall()
    return one, time.perf_counter() - t


if __name__ == "__main__":
    main()
