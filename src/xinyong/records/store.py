"""The run store: one embedded DuckDB database per run (a file, or memory for notebooks).

Tables:
    run_info       key/value facts about the run (scenario, seed, version, status, summary).
    sensors        the scenario's sensors, by index.
    behaviours     the scenario's behaviours, by index, with their sensor and subject kind.
    operators      who runs a scheme: name, scheme, subject kind.
    ledger_rows    every recorded event as each operator received it: day, operator, subject,
                   actor, behaviour, points and flags (the bits of
                   :class:`xinyong.primitives.codes.LedgerFlag`: 1 misattributed, 2 fabricated,
                   4 dismissed, 8 submitted through the live city's API, 16 reversed on
                   appeal). Append-only but for the reversal flag; the truth every score is
                   rebuilt from. Kept compact: writing it is most of a run's storage cost.
    listings       every change to the scheme listings: day, operator, subject, counterfactual,
                   change, reason.
    list_changes   every change to the blacklists and red lists: day, operator, list, subject,
                   counterfactual, change (warned, counselled, listed, extended, expired,
                   repaired, entered, left).
    memberships    who is on which list at the end: since, until, repeats, and whether the
                   counterfactual agrees.
    daily          one row a day: the first operator's scores and the city's events.
    daily_lists    one row per day and list: members and wrongly listed members, and running
                   totals since the first day (joined, first joined, obligations met).
    daily_services one row per day and service: uses asked for, and refused.
    daily_behaviours  occurrences per day and behaviour, with and without consequences.
    daily_operators  one row per day, operator and grade.
    standings      each operator's final standing of each subject (a cache of the ledger).
    population     each citizen's attributes; organisations: companies and government bodies.
    notices        the city's public notices: day, kind, subject, behaviour (a billboard's
                   event; -1 none) and list (the list whose joining caused it; null none).
In a split run (``--blocks``/``--workers``), ``ledger_rows`` and the per-subject tables are
views of the Parquet dataset its blocks wrote under the run folder's ``data/`` (see
:mod:`xinyong.records.dataset`).

Views:
    ledger         ledger_rows with its sensor and its flags as booleans (a column per
                   :class:`~xinyong.primitives.codes.LedgerFlag`, generated from the flags).
    events         the ledger with operator, behaviour and sensor names.
    citizens       population joined with the first operator's standing.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from xinyong.primitives.codes import FLAG_COLUMNS, flag_columns
from xinyong.scenario import Scenario

__all__ = ["RunStore", "disk_full", "store_invalidated"]

#: What a write says when there is no room: the disk, the file size limit, the quota.
_NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_NO_ROOM_WORDS = ("No space left on device", "File too large", "Disk quota exceeded")


def disk_full(exc: BaseException) -> bool:
    """Whether a failure is a write that found no room (DuckDB and Arrow say so in their
    messages)."""
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        return True
    return any(words in str(exc) for words in _NO_ROOM_WORDS)


def store_invalidated(exc: BaseException) -> bool:
    """Whether DuckDB gave up on a store (a checkpoint failed): it must be opened again."""
    return isinstance(exc, duckdb.FatalException) or "database has been invalidated" in str(exc)


_FLAGS = ", ".join(f"l.{column}" for column in FLAG_COLUMNS.values())
_SCHEMA = f"""
CREATE TABLE run_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE sensors (sensor SMALLINT PRIMARY KEY, name VARCHAR NOT NULL,
                      detect DOUBLE NOT NULL, misidentify DOUBLE NOT NULL);
CREATE TABLE behaviours (behaviour SMALLINT PRIMARY KEY, name VARCHAR NOT NULL,
                         sensor SMALLINT NOT NULL, subject VARCHAR NOT NULL, p DOUBLE NOT NULL);
CREATE TABLE operators (operator SMALLINT PRIMARY KEY, name VARCHAR NOT NULL,
                        scheme VARCHAR NOT NULL, subject VARCHAR NOT NULL);
CREATE TABLE scheme_points (operator SMALLINT NOT NULL, behaviour SMALLINT NOT NULL,
                            points INTEGER NOT NULL, severe BOOLEAN NOT NULL);
CREATE TABLE ledger_rows (day INTEGER NOT NULL, operator SMALLINT NOT NULL,
                          subject INTEGER NOT NULL, actor INTEGER NOT NULL,
                          behaviour SMALLINT NOT NULL, points INTEGER NOT NULL,
                          flags UTINYINT NOT NULL);
CREATE VIEW ledger AS
    SELECT l.day, l.operator, l.subject, l.actor, l.behaviour, b.sensor, l.points,
           {flag_columns("l.flags")}
    FROM ledger_rows l JOIN behaviours b USING (behaviour);
CREATE TABLE listings (day INTEGER NOT NULL, operator SMALLINT NOT NULL,
                       subject INTEGER NOT NULL, counterfactual BOOLEAN NOT NULL,
                       change VARCHAR NOT NULL, reason VARCHAR);
CREATE VIEW events AS
    SELECT l.day, o.name AS operator, l.subject, l.actor, b.name AS behaviour,
           s.name AS sensor, l.points, {_FLAGS}, p.severe
    FROM ledger l JOIN behaviours b USING (behaviour) JOIN sensors s ON s.sensor = l.sensor
    JOIN operators o USING (operator)
    JOIN scheme_points p ON p.operator = l.operator AND p.behaviour = l.behaviour;
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
        if path is not None:  # a split run's views read its Parquet dataset next to the file
            self.files_in(path.parent)

    def files_in(self, folder: Path) -> None:
        """Resolve the relative file paths of views (a split run's dataset) in ``folder``."""
        escaped = str(folder.resolve()).replace("'", "''")
        self.con.execute(f"SET file_search_path = '{escaped}'")

    def read_dataset(self, root: Path) -> None:
        """Make the tables a split run's blocks wrote (``root/data``) views of this store."""
        from xinyong.records.dataset import DATA, create_views

        self.files_in(root)
        self.con.execute("DROP TABLE IF EXISTS ledger_rows")
        create_views(self.con, root / DATA)

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
            "INSERT INTO behaviours VALUES (?, ?, ?, ?, ?)",
            [
                (i, b.name, sensors.index(b.sensor), b.subject, b.p)
                for i, b in enumerate(scenario.behaviours)
            ],
        )
        index = {b.name: i for i, b in enumerate(scenario.behaviours)}
        operators = scenario.all_operators()
        store.con.executemany(
            "INSERT INTO operators VALUES (?, ?, ?, ?)",
            [(i, op.name, op.scheme.name, op.scheme.subject) for i, op in enumerate(operators)],
        )
        store.con.executemany(
            "INSERT INTO scheme_points VALUES (?, ?, ?, ?)",
            [
                (i, index[r.behaviour], r.points, r.severe)
                for i, op in enumerate(operators)
                for r in op.scheme.points
            ],
        )
        store.set_info(
            scenario=scenario.model_dump_json(by_alias=True), seed=str(seed), status="running"
        )
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

    def append(
        self,
        table: str,
        rows: dict[str, np.ndarray] | pd.DataFrame,
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
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

    def count(self, table: str, where: str = "", params: list[Any] | None = None) -> int:
        """The rows of ``table`` (those ``where``, with its ``params``, chooses)."""
        row = self.con.execute(f"SELECT count(*) FROM {table} {where}", params).fetchone()
        assert row is not None  # a count always has its one row
        return int(row[0])

    def ledger_sink(self) -> tuple[Callable[[dict[str, np.ndarray]], None], Callable[[], None]]:
        """Where a ledger writer appends its chunks to ``ledger_rows`` (through a cursor of its
        own: it writes on a thread of its own), and how it closes that cursor when done."""
        cursor = self.con.cursor()

        def sink(chunk: dict[str, np.ndarray]) -> None:
            self.append("ledger_rows", chunk, cursor)

        return sink, cursor.close

    def finish(self, tables: dict[str, pd.DataFrame | None]) -> None:
        """Write the tables a finished run adds to its ledger, and the ``citizens`` view."""
        for name, frame in tables.items():
            if frame is not None:
                self.replace(name, frame)
        self.con.execute("""
            CREATE OR REPLACE VIEW citizens AS
            SELECT p.*, s.* EXCLUDE (operator, subject) FROM population p
            JOIN standings s ON s.operator = 0 AND s.subject = p.citizen""")

    def replace(self, table: str, frame: pd.DataFrame) -> None:
        """Write a whole table from a DataFrame, replacing any previous one."""
        self.con.register("_frame", frame)
        # Categorical columns (grades) are stored as text, as a split run's Parquet reads.
        text = [str(c) for c, t in frame.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
        select = (
            "*"
            if not text
            else "* REPLACE ({})".format(
                ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in text)
            )
        )
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {select} FROM _frame")
        finally:
            self.con.unregister("_frame")

    @contextmanager
    def transaction(
        self,
        con: duckdb.DuckDBPyConnection | None = None,
        commit_under: Callable[[], AbstractContextManager[Any]] | None = None,
        then: Callable[[], None] | None = None,
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction that commits when the block ends and rolls back if it raises, so a
        failure never leaves the connection inside an aborted transaction.

        Args:
            con: the connection (default the store's own).
            commit_under: a context (a lock readers take) entered for the commit alone: the
                work before it, which no other connection sees until the commit, holds
                nothing.
            then: called after the commit, still inside ``commit_under`` (what must change
                with the data, for readers to see both or neither).
        """
        con = con or self.con
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        with commit_under() if commit_under is not None else nullcontext():
            try:
                con.execute("COMMIT")
            except BaseException:  # a commit that failed (a full disk) is not left open
                with suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
            if then is not None:
                then()

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run SQL against the store and return a DataFrame."""
        return self.con.execute(sql, params or []).df()

    def close(self) -> None:
        """Close the database (flushes the file)."""
        self.con.close()
