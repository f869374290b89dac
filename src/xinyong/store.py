"""The run store: one embedded DuckDB database per run (a file, or memory for notebooks).

Tables:
    run_info    key/value facts about the run (scenario, seed, version, status).
    behaviours  the scenario's behaviours, by index, with their sensor and points.
    sensors     the scenario's sensors, by index.
    ledger      every recorded event: day, subject, actor, behaviour, sensor, points,
                misattributed. Append-only; the truth every score is rebuilt from.
    listings    every change to the lists: day, citizen, counterfactual, change, reason.
    daily       one row a day: mean score, grade shares, listed, events by sensor.
    citizens    each citizen's final standing (a cache of the ledger, for fast look-ups).
    events      a view of the ledger with behaviour and sensor names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from xinyong.scenario import Scenario

__all__ = ["RunStore"]

_SCHEMA = """
CREATE TABLE run_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE sensors (sensor SMALLINT PRIMARY KEY, name VARCHAR NOT NULL,
                      detect DOUBLE NOT NULL, misidentify DOUBLE NOT NULL);
CREATE TABLE behaviours (behaviour SMALLINT PRIMARY KEY, name VARCHAR NOT NULL,
                         sensor SMALLINT NOT NULL, points INTEGER NOT NULL,
                         severe BOOLEAN NOT NULL, p DOUBLE NOT NULL);
CREATE TABLE ledger (day INTEGER NOT NULL, subject INTEGER NOT NULL, actor INTEGER NOT NULL,
                     behaviour SMALLINT NOT NULL, sensor SMALLINT NOT NULL,
                     points INTEGER NOT NULL, misattributed BOOLEAN NOT NULL);
CREATE TABLE listings (day INTEGER NOT NULL, citizen INTEGER NOT NULL,
                       counterfactual BOOLEAN NOT NULL, change VARCHAR NOT NULL,
                       reason VARCHAR);
CREATE VIEW events AS
    SELECT l.day, l.subject, l.actor, b.name AS behaviour, s.name AS sensor, l.points,
           l.misattributed, b.severe
    FROM ledger l JOIN behaviours b USING (behaviour) JOIN sensors s ON s.sensor = l.sensor;
"""


class RunStore:
    """Writes and reads one run's DuckDB database.

    Args:
        path: the database file, or None for an in-memory store.
        read_only: open an existing file without the right to change it.
    """

    def __init__(self, path: Path | None, read_only: bool = False) -> None:
        self.path = path
        self.con = duckdb.connect(str(path) if path else ":memory:", read_only=read_only)

    @classmethod
    def create(cls, path: Path | None, scenario: Scenario, seed: int) -> RunStore:
        """A new store with the schema and the scenario's tables written."""
        store = cls(path)
        store.con.execute(_SCHEMA)
        sensors = list(scenario.sensors)
        store.con.executemany(
            "INSERT INTO sensors VALUES (?, ?, ?, ?)",
            [(i, n, s.detect, s.misidentify) for i, (n, s) in enumerate(scenario.sensors.items())],
        )
        store.con.executemany(
            "INSERT INTO behaviours VALUES (?, ?, ?, ?, ?, ?)",
            [(i, b.name, sensors.index(b.sensor), b.points, b.severe, b.p)
             for i, b in enumerate(scenario.behaviours)],
        )
        store.set_info(scenario=scenario.model_dump_json(), seed=str(seed), status="running")
        return store

    def set_info(self, **items: str) -> None:
        """Record facts about the run."""
        self.con.executemany("INSERT OR REPLACE INTO run_info VALUES (?, ?)", list(items.items()))

    def info(self) -> dict[str, str]:
        """All recorded facts about the run."""
        return dict(self.con.execute("SELECT key, value FROM run_info").fetchall())

    def scenario(self) -> Scenario:
        """The scenario the run was made with."""
        return Scenario.model_validate(json.loads(self.info()["scenario"]))

    def append(self, table: str, rows: dict[str, np.ndarray] | pd.DataFrame,
               con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Append rows, given as equal-length columns in the table's column order.

        Args:
            table: the table to append to.
            rows: the columns (NumPy arrays, passed without copying) or a DataFrame.
            con: the connection to write through (a writer thread passes its own cursor).
        """
        con = con or self.con
        chunk = pa.Table.from_pandas(rows) if isinstance(rows, pd.DataFrame) else pa.table(rows)
        con.register("_chunk", chunk)
        try:
            con.execute(f"INSERT INTO {table} SELECT * FROM _chunk")
        finally:
            con.unregister("_chunk")

    def replace(self, table: str, frame: pd.DataFrame) -> None:
        """Write a whole table from a DataFrame, replacing any previous one."""
        self.con.register("_frame", frame)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _frame")
        finally:
            self.con.unregister("_frame")

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run SQL against the store and return a DataFrame."""
        return self.con.execute(sql, params or []).df()

    def close(self) -> None:
        """Close the database (flushes the file)."""
        self.con.close()
