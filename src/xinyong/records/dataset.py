"""The Parquet dataset of a split run: what the blocks write, each on its own, in parallel.

Layout, under the run folder's ``data/``::

    ledger/city=<city>/operator=<operator>/block-<b>-day-<d>.parquet
    daily_operators/city=<city>/operator=<operator>/block-<b>.parquet
    <table>/block-<b>.parquet       listings, list_changes, memberships, standings,
                                    population, organisations, notices

A ledger file holds the rows of one block, city and operator from day ``d`` until the next
checkpoint, which closes every open file: so a file is complete once a checkpoint is, and
resuming from day ``D`` deletes the files a block began on or after ``D``. A subject's city is
the city whose operator scores its district (``national`` elsewhere, or the scenario's name in a
city without districts). Every file carries all its columns; the folder names are for pruning
and for people. The run's DuckDB file reads the dataset through views (:func:`create_views`),
with paths relative to the run folder, so the folder can be moved.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from xinyong.model.population import Population
from xinyong.records.tables import subject_tables
from xinyong.scenario import Scenario

if TYPE_CHECKING:
    from xinyong.engine.city import City
    from xinyong.engine.tally import Tally

__all__ = [
    "DATA",
    "LEDGER_SCHEMA",
    "ParquetLedger",
    "cities",
    "create_views",
    "cut_back",
    "daily_operator_frames",
    "prepare",
    "write_table",
]

DATA = "data"
LEDGER_SCHEMA = pa.schema(
    [
        pa.field(name, kind, nullable=False)
        for name, kind in (
            ("day", pa.int32()),
            ("operator", pa.int16()),
            ("subject", pa.int32()),
            ("actor", pa.int32()),
            ("behaviour", pa.int16()),
            ("points", pa.int32()),
            ("flags", pa.uint8()),
        )
    ]
)
#: Tables each block writes whole at its end, one file per block.
BLOCK_TABLES = (
    "listings",
    "list_changes",
    "memberships",
    "standings",
    "population",
    "organisations",
    "notices",
    "daily_operators",
)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _safe(name: str) -> str:
    return _SAFE.sub("-", name)


def cities(scenario: Scenario) -> tuple[list[str], np.ndarray | None, list[int | None]]:
    """The cities a dataset is partitioned by.

    Returns:
        City names; each district's city index (None without a population); and each
        operator's fixed city index (None for an operator whose subjects live everywhere).
    """
    operators = scenario.all_operators()
    names: list[str] = []
    fixed: list[int | None] = []
    for op in operators:
        if op.districts is not None and op.scheme.subject == "citizen":
            if op.name not in names:
                names.append(op.name)
            fixed.append(names.index(op.name))
        else:
            fixed.append(None)
    if scenario.population is None or not names:
        return [_safe(scenario.name)], None, [0] * len(operators)
    districts = scenario.population.districts
    of_district = np.full(districts, len(names), dtype=np.int64)
    for op in operators:
        if op.districts is not None and op.scheme.subject == "citizen":
            for d in op.districts:
                if 0 <= d < districts and of_district[d] == len(names):
                    of_district[d] = names.index(op.name)
    names.append("national")
    return [_safe(n) for n in names], of_district, fixed


class ParquetLedger:
    """Writes one block's ledger chunks to the dataset, a file per city and operator.

    Args:
        folder: the dataset folder (``<run>/data``).
        scenario: the run's scenario.
        population: the block's synthetic population (for subjects' districts), or None.
        block: the block's index.
        base: per kind of subject, the city-wide id of the population's first.
    """

    def __init__(
        self,
        folder: Path,
        scenario: Scenario,
        population: Population | None,
        block: int,
        base: dict[str, int] | None = None,
    ) -> None:
        self.folder = folder / "ledger"
        self.block = block
        self.cities, self._of_district, self._fixed = cities(scenario)
        base = base or {"citizen": 0, "company": 0}
        # Per operator: the district of each of its subjects here, and the id of the first.
        self._district: list[tuple[np.ndarray, int]] | None = None
        if population is not None:
            self._district = [
                (population.district, base["citizen"])
                if op.scheme.subject == "citizen"
                else (population.org_district, base["company"])
                for op in scenario.all_operators()
            ]
        self._operators = [_safe(op.name) for op in scenario.all_operators()]
        self._writers: dict[tuple[int, int], pq.ParquetWriter] = {}

    def __call__(self, chunk: dict[str, np.ndarray]) -> None:
        """Write one chunk of ledger rows (columns as :data:`LEDGER_SCHEMA`)."""
        operator = chunk["operator"].astype(np.int64)
        if self._of_district is None or self._district is None:
            city = np.zeros(operator.size, dtype=np.int64)
        else:
            fixed = np.array([-1 if f is None else f for f in self._fixed], dtype=np.int64)
            city = fixed[operator]
            for index in np.unique(operator[city < 0]).tolist():  # by each subject's district
                rows = operator == index
                district, first = self._district[index]
                city[rows] = self._of_district[district[chunk["subject"][rows] - first]]
        key = city * len(self._operators) + operator
        table = pa.table({name: chunk[name] for name in LEDGER_SCHEMA.names}, schema=LEDGER_SCHEMA)
        if key.size and (key != key[0]).any():  # rows of several partitions: group them
            order = np.argsort(key, kind="stable")
            key = key[order]
            table = table.take(pa.array(order))
        bounds = (
            np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
            if key.size
            else np.zeros(1, dtype=np.int64)
        )
        first_day = int(chunk["day"].min()) if chunk["day"].size else 0
        for lo, hi in itertools.pairwise(bounds):
            c, o = divmod(int(key[lo]), len(self._operators))
            self._writer(c, o, first_day).write_table(table.slice(lo, hi - lo))

    def _writer(self, city: int, operator: int, day: int) -> pq.ParquetWriter:
        writer = self._writers.get((city, operator))
        if writer is None:
            where = (
                self.folder / f"city={self.cities[city]}" / f"operator={self._operators[operator]}"
            )
            where.mkdir(parents=True, exist_ok=True)
            # Dictionaries for the columns of few values only, which then need no compression
            # (nor do citizen ids, which do not compress): as small, and twice as fast.
            writer = pq.ParquetWriter(
                where / f"block-{self.block:04d}-day-{day:05d}.parquet",
                LEDGER_SCHEMA,
                compression="none",
                use_dictionary=["day", "operator", "behaviour", "points", "flags"],
                write_statistics=["day", "subject", "actor"],
            )
            self._writers[(city, operator)] = writer
        return writer

    def close(self) -> None:
        """Close every open file: each is then a complete Parquet file."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class BlockDataset:
    """One block's part of a split run's dataset: what the block
    (:class:`xinyong.engine.split.BlockRun`) writes, handed to it by the run, so that the
    engine never imports the records.

    Args:
        folder: the dataset folder (``<run>/data``); a path every worker sees.
        block: the block's index.
    """

    def __init__(self, folder: str | Path, block: int) -> None:
        self.folder, self.block = Path(folder), block
        self._parquet: ParquetLedger | None = None

    def resume(self, day: int) -> None:
        """Resume from ``day``: the files the block wrote from that day on are deleted."""
        cut_back(self.folder, self.block, day)

    def ledger(self, city: City) -> ParquetLedger:
        """The sink of the block's ledger writer (:meth:`City.write_ledger`)."""
        self._parquet = ParquetLedger(
            self.folder, city.scenario, city.population, self.block, city.base
        )
        return self._parquet

    def close(self) -> None:
        """Close the ledger's open files (a checkpoint, or the end)."""
        if self._parquet is not None:
            self._parquet.close()

    def write(self, city: City, tally: Tally) -> None:
        """At the block's end: its ledger files closed, its tables written."""
        self.close()
        for name, frame in subject_tables(city).items():
            if frame is not None:
                write_table(self.folder, name, frame, self.block)
        for op, frame in daily_operator_frames(city.scenario, tally.daily_operators):
            write_table(self.folder, "daily_operators", frame, self.block, op)


def daily_operator_frames(scenario: Scenario, rows: list[dict]) -> list[tuple[str, pd.DataFrame]]:
    """A block's own daily rows per operator (integer counts), with their partition."""
    names, _, fixed = cities(scenario)
    national = names[-1]
    out = []
    for index, op in enumerate(scenario.all_operators()):
        mine = [r for r in rows if r["operator"] == op.name]
        where = fixed[index]  # a city's own operator, or None: the national one
        city = names[where] if where is not None else national
        out.append((f"city={city}/operator={_safe(op.name)}", pd.DataFrame(mine)))
    return out


def cut_back(folder: Path, block: int, day: int) -> None:
    """Delete a block's ledger files begun on or after ``day`` (resuming from that day), and
    any table files it wrote at an end it never reached."""
    pattern = re.compile(rf"block-{block:04d}-day-(\d+)\.parquet$")
    for path in (folder / "ledger").rglob(f"block-{block:04d}-day-*.parquet"):
        found = pattern.search(path.name)
        if found and int(found.group(1)) >= day:
            path.unlink()
    for table in BLOCK_TABLES:
        for path in (folder / table).rglob(f"block-{block:04d}.parquet"):
            path.unlink()


def write_table(
    folder: Path, table: str, frame: pd.DataFrame, block: int, partition: str = ""
) -> None:
    """Write one block's rows of a table (atomically: a reader never sees half a file)."""
    where = folder / table / partition if partition else folder / table
    where.mkdir(parents=True, exist_ok=True)
    final = where / f"block-{block:04d}.parquet"
    tmp = where / f".block-{block:04d}.parquet.tmp"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    os.replace(tmp, final)


def prepare(folder: Path) -> None:
    """Create the dataset folder with an empty ledger file, so that a ledger view always has
    a file to read (a tiny run may record nothing)."""
    (folder / "ledger").mkdir(parents=True, exist_ok=True)
    empty = LEDGER_SCHEMA.empty_table()
    pq.write_table(empty, folder / "ledger" / "empty.parquet")


def create_views(con: duckdb.DuckDBPyConnection, folder: Path) -> list[str]:
    """Views over the dataset in the run's DuckDB file, by paths relative to the run folder.

    Returns:
        The tables made views.
    """
    made = []
    columns = ", ".join(LEDGER_SCHEMA.names)
    con.execute(
        f"CREATE OR REPLACE VIEW ledger_rows AS SELECT {columns} FROM read_parquet("
        f"'{DATA}/ledger/**/*.parquet', hive_partitioning = false)"
    )
    made.append("ledger_rows")
    for table in BLOCK_TABLES:
        if table == "daily_operators":
            continue  # the driver keeps the summed series; blocks' own rows are in the files
        if any((folder / table).rglob("*.parquet")):
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(
                f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet("
                f"'{DATA}/{table}/**/*.parquet', hive_partitioning = false)"
            )
            made.append(table)
    return made
