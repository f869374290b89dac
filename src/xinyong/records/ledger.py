"""The ledger: the append-only record of events, and the scores rebuilt from it.

A score is a cache of its ledger: start, plus each day's points, clamped to the scale at the end
of each day. :func:`replay` rebuilds scores from the stored events alone, which is how tests and
``explain`` check that nothing else moved a score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xinyong.model.start import starts_vary
from xinyong.primitives.codes import NOT_COUNTED
from xinyong.records.store import RunStore
from xinyong.scenario import Operator, Scenario, ScoreScale

__all__ = ["Ledger", "UnknownCitizenError", "replay", "replay_one"]


class UnknownCitizenError(KeyError):
    """A citizen (or organisation) id that is not in the run."""

    def __str__(self) -> str:
        return str(self.args[0])


def replay(
    scale: ScoreScale,
    population: int,
    day: np.ndarray,
    subject: np.ndarray,
    points: np.ndarray,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Rebuild every subject's score from events alone.

    Args:
        scale: start, floor and ceiling.
        population: number of subjects.
        day, subject, points: the counted events, in any order.
        start: per-subject starting scores, where they differ from the scale's start (as
            :func:`xinyong.model.start.starting_scores` gives them: already on the scale).

    Returns:
        The score of each subject after the last event's day.
    """
    score = (
        np.full(population, scale.start, dtype=np.int64)
        if start is None
        else np.array(start, dtype=np.int64)
    )
    order = np.lexsort((subject, day))
    day, subject, points = day[order], subject[order], points[order]
    starts = np.flatnonzero(np.diff(day)) + 1
    for s, p in zip(np.split(subject, starts), np.split(points, starts), strict=True):
        who, inverse = np.unique(s, return_inverse=True)
        total = np.bincount(inverse, weights=p).astype(np.int64)
        score[who] = np.clip(score[who] + total, scale.floor, scale.ceiling)
    return score


def replay_one(scale: ScoreScale, start: int, events: list[tuple[int, int]]) -> int:
    """One subject's score rebuilt from its counted events: :func:`replay` for a single
    subject, in plain Python (a record's handful of events costs less than the arrays would).

    Args:
        scale: floor and ceiling.
        start: the subject's starting score (already on the scale).
        events: ``(day, points)`` of each counted event, in any order.
    """
    score = start
    day, total = None, 0
    for d, p in sorted(events):
        if d != day:
            if day is not None:
                score = min(max(score + total, scale.floor), scale.ceiling)
            day, total = d, 0
        total += p
    if day is not None:
        score = min(max(score + total, scale.floor), scale.ceiling)
    return score


class Ledger:
    """Query access to a run's events, one operator's partition at a time.

    Args:
        store: the run's store.
        scenario: the run's scenario (for each operator's scale and starting scores).
    """

    def __init__(self, store: RunStore, scenario: Scenario) -> None:
        self._store = store
        self._scenario = scenario
        self.operators = [op.name for op in scenario.all_operators()]

    def __len__(self) -> int:
        return self._store.count("ledger_rows")

    def _operator(self, operator: str | None) -> tuple[int, Operator]:
        name = operator or self.operators[0]
        if name not in self.operators:
            raise KeyError(
                f"no operator '{name}' in this run; operators: {', '.join(self.operators)}"
            )
        index = self.operators.index(name)
        return index, self._scenario.all_operators()[index]

    def events(self, subject: int | None = None, operator: str | None = None) -> pd.DataFrame:
        """One operator's events (default: the first operator's), for one subject or all of them,
        in day order, with names."""
        _, op = self._operator(operator)
        where = "WHERE operator = ?"
        params: list[object] = [op.name]
        if subject is not None:
            self.check(subject, op)
            where, params = where + " AND subject = ?", [*params, subject]
        return self._store.query(
            f"SELECT * FROM events {where} ORDER BY day, subject, actor, behaviour", params
        )

    def done_by(self, actor: int, operator: str | None = None) -> pd.DataFrame:
        """An operator's events whose actor is ``actor``, whoever they were attributed to."""
        _, op = self._operator(operator)
        self.check(actor, op)
        return self._store.query(
            "SELECT * FROM events WHERE operator = ? AND actor = ? ORDER BY day, behaviour",
            [op.name, actor],
        )

    def check(self, subject: int, op: Operator) -> None:
        """Raise :class:`UnknownCitizenError` unless ``subject`` is one of ``op``'s subjects."""
        if op.scheme.subject == "citizen":
            n, what, kind = self._scenario.citizens, "citizens", "citizen"
        else:
            n = self._store.count("organisations") if self._scenario.population else 0
            what, kind = "organisations", "organisation"
        if (
            isinstance(subject, bool)
            or not isinstance(subject, (int, np.integer))
            or not 0 <= subject < n
        ):
            raise UnknownCitizenError(
                f"{kind} {subject!r} is not in this run: {what} are numbered 0 to {n - 1}"
            )

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Any SQL over the store's tables (``ledger``, ``events``, ``listings``, ...)."""
        return self._store.query(sql, params)

    def starting_scores(self, operator: str | None = None) -> np.ndarray | None:
        """Each subject's starting score under an operator's scheme, if it is not uniform."""
        index, op = self._operator(operator)
        if not starts_vary(op.scheme):
            return None
        return (
            self._store.con.execute(  # stored with the standings (records are drawn)
                "SELECT start FROM standings WHERE operator = ? ORDER BY subject", [index]
            )
            .fetchnumpy()["start"]
            .astype(np.int64)
        )

    def replay(self, subject: int | None = None, operator: str | None = None) -> np.ndarray | int:
        """Scores rebuilt from an operator's counted events: one subject's, or all as an array."""
        index, op = self._operator(operator)
        where = f"WHERE operator = ? AND flags & {int(NOT_COUNTED)} = 0"
        params = [index]
        if subject is not None:
            where, params = where + " AND subject = ?", [*params, subject]
        cols = self._store.con.execute(
            f"SELECT day, subject, points FROM ledger_rows {where}", params
        ).fetchnumpy()
        size = self._subjects(op)
        scores = replay(
            op.scheme.score,
            size,
            cols["day"],
            cols["subject"],
            cols["points"],
            self.starting_scores(op.name),
        )
        return int(scores[subject]) if subject is not None else scores

    def _subjects(self, op: Operator) -> int:
        if op.scheme.subject == "citizen":
            return self._scenario.citizens
        return self._store.count("organisations")

    def to_parquet(self, path: str) -> None:
        """Export every operator's events (with names) to a Parquet file."""
        escaped = str(path).replace("'", "''")
        self._store.con.execute(f"COPY (SELECT * FROM events) TO '{escaped}' (FORMAT parquet)")
