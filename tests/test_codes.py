"""The code tables and the ledger's flag bits: defined once, and read the same everywhere."""

from __future__ import annotations

import enum

import numpy as np
import pytest

from xinyong.engine.writer import LedgerWriter
from xinyong.model.sensors import Events
from xinyong.primitives import codes
from xinyong.primitives.codes import NOT_COUNTED, LedgerFlag
from xinyong.records.store import RunStore
from xinyong.scenario import load_scenario

CODE_TABLES = [
    c
    for c in vars(codes).values()
    if isinstance(c, type) and issubclass(c, codes.Code) and c is not codes.Code
]


def test_every_code_table_is_found() -> None:
    assert {c.__name__ for c in CODE_TABLES} == {
        "ListingChange",
        "ListingReason",
        "ListChange",
        "GateAction",
        "Notice",
        "NoticeHarm",
    }


@pytest.mark.parametrize("table", [*CODE_TABLES, LedgerFlag], ids=lambda t: t.__name__)
def test_a_code_table_has_unique_values_names_and_labels(table: type[enum.Enum]) -> None:
    members = list(table.__members__.items())
    values = [int(m) for _, m in members]
    assert len(set(values)) == len(values), f"{table.__name__}: a value used twice (an alias)"
    names = [name for name, _ in members]
    assert len(set(names)) == len(names)
    if table is LedgerFlag:
        assert all(v & (v - 1) == 0 for v in values), "a flag must be a single bit"
        return
    labels = [m.label for _, m in members]
    assert len(set(labels)) == len(labels), f"{table.__name__}: a label used twice"
    assert all(isinstance(label, str) and label for label in labels)


@pytest.mark.parametrize(
    "table", [t for t in CODE_TABLES if t is not codes.ListingReason], ids=lambda t: t.__name__
)
def test_indexed_tables_run_from_zero_without_gaps(table: type[codes.Code]) -> None:
    assert [int(c) for c in table] == list(range(len(table)))
    assert codes.labels(table) == tuple(c.label for c in table)


def test_a_table_with_a_gap_cannot_be_indexed() -> None:
    with pytest.raises(ValueError, match="next free number"):
        codes.labels(codes.ListingReason)  # starts at 1: 0 is "no reason"


def test_stored_values_do_not_move() -> None:
    """Stored runs hold these numbers: changing one makes old runs read wrong."""
    assert {f.name: int(f) for f in LedgerFlag} == {
        "MISATTRIBUTED": 1,
        "FABRICATED": 2,
        "DISMISSED": 4,
        "SUBMITTED": 8,
        "REVERSED": 16,
        "UNSCORED": 32,
    }
    assert int(NOT_COUNTED) == 52  # dismissed, reversed, unscored
    assert codes.LISTING_CHANGES == {0: "listed", 1: "relisted", 2: "released"}
    assert codes.REASONS == {1: "severe event", 2: "score at floor"}
    assert codes.LIST_CHANGES == {
        0: "warned",
        1: "counselled",
        2: "listed",
        3: "extended",
        4: "expired",
        5: "repaired",
        6: "entered",
        7: "left",
        8: "obligation met",
        9: "opening stock",
    }
    assert codes.ACTIONS == ("allow", "waive", "discount", "priority", "restrict", "deny")
    assert codes.NOTICE_KINDS == (
        "billboard",
        "tv",
        "published_list",
        "dial_tone",
        "poster",
        "civilized_family",
    )


def test_old_names_still_import() -> None:
    from xinyong.model.consequences import NOTICE_HARMS, NOTICE_KINDS
    from xinyong.model.gates import ACTIONS
    from xinyong.model.lists import LIST_CHANGES, LISTED, OPENED, PERFORMED

    assert (ACTIONS, NOTICE_KINDS, NOTICE_HARMS) == (
        codes.ACTIONS,
        codes.NOTICE_KINDS,
        codes.NOTICE_HARMS,
    )
    assert LIST_CHANGES == codes.LIST_CHANGES
    assert (LISTED, PERFORMED, OPENED) == (2, 8, 9)


@pytest.fixture(scope="module")
def store() -> RunStore:
    return RunStore.create(None, load_scenario("reference"), seed=1)


def test_the_ledger_view_shows_each_flag_as_its_column(store: RunStore) -> None:
    every = list(range(64))  # each bit alone, and every combination of them
    store.append(
        "ledger_rows",
        {
            "day": np.zeros(64, np.int32),
            "operator": np.zeros(64, np.int16),
            "subject": np.arange(64, dtype=np.int32),
            "actor": np.arange(64, dtype=np.int32),
            "behaviour": np.zeros(64, np.int16),
            "points": np.zeros(64, np.int32),
            "flags": np.array(every, np.uint8),
        },
    )
    columns = ", ".join(codes.FLAG_COLUMNS.values())
    rows = store.con.execute(f"SELECT subject, {columns} FROM ledger ORDER BY subject").fetchall()
    assert len(rows) == 64
    for subject, *shown in rows:
        assert shown == [bool(subject & flag) for flag in LedgerFlag], subject
    names = store.con.execute(f"SELECT subject, {columns} FROM events ORDER BY subject").fetchall()
    assert names == rows


def test_the_writer_sets_each_flag_from_its_own_column() -> None:
    """One event per flag: the row written carries that bit and no other (unscored events
    come in an append of their own)."""
    chunks: list[dict[str, np.ndarray]] = []
    writer = LedgerWriter(chunks.append, in_background=False)
    order = [f for f in LedgerFlag if f != LedgerFlag.UNSCORED]
    n = len(order)
    one = np.eye(n, dtype=bool)  # event i has flag i only
    column = {flag: one[:, i] for i, flag in enumerate(order)}
    events = Events(
        np.arange(n),
        np.arange(n),
        np.zeros(n, np.int64),
        column[LedgerFlag.MISATTRIBUTED],
        column[LedgerFlag.FABRICATED],
        column[LedgerFlag.SUBMITTED],
    )
    writer.append(
        0,
        0,
        events,
        np.zeros(n, np.int64),
        column[LedgerFlag.DISMISSED],
        column[LedgerFlag.REVERSED],
    )
    none = np.zeros(1, bool)
    lost = Events(np.zeros(1, np.int64), np.ones(1, np.int64), np.zeros(1, np.int64), none, none)
    writer.append(0, 0, lost, np.zeros(1, np.int64), none, unscored=True)
    writer.close()
    assert chunks[0]["flags"].tolist() == [int(f) for f in order] + [int(LedgerFlag.UNSCORED)]
