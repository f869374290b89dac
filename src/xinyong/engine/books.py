"""A city's books: what each day leaves behind, kept in O(the day's changes).

Two kinds of record:

- **counts that add up** — totals, the daily series, each operator's and each list's members
  and wrongly listed — integers only, so a split run's blocks add up to the whole city
  (:mod:`xinyong.engine.tally` makes the shares);
- **logs of changes** — every listing and every change to a list, real and error-free — kept
  as :class:`Batches`: named columns, one batch of subjects per day and kind of change.

The city's day (:mod:`xinyong.engine.city`) writes them; :mod:`xinyong.records.tables` reads
them by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xinyong.engine.accuracy import grade_counts
from xinyong.engine.tally import Tally
from xinyong.model.lists import JOINS, LEAVES
from xinyong.primitives.codes import ListingChange

if TYPE_CHECKING:
    from xinyong.model.operators import Judgement, OperatorState
    from xinyong.model.sensors import Events
    from xinyong.primitives.day import DayResult
    from xinyong.primitives.scratch import Scratch

__all__ = ["Batches", "Books", "operator_counts"]

_LISTED, _RELISTED, _RELEASED = (
    ListingChange.LISTED,
    ListingChange.RELISTED,
    ListingChange.RELEASED,
)
_MEMBERSHIP_FLIPS = JOINS + LEAVES
_NONE = np.empty(0, dtype=np.int64)


class Batches:
    """Rows logged a batch at a time: per batch, one value of each ``fields`` column and an
    array of each ``arrays`` column (all the same length), read back as whole columns.

    Args:
        fields: the columns with one value per batch (day, operator, ...).
        arrays: the columns with one value per row (subject, reason, ...).

    Example:
        >>> log = Batches(("day",), ("subject",))
        >>> log.add(np.array([4, 7]), day=3)
        >>> log.column("day", np.int32).tolist(), log.column("subject", np.int32).tolist()
        ([3, 3], [4, 7])
    """

    def __init__(self, fields: tuple[str, ...], arrays: tuple[str, ...]) -> None:
        self.fields, self.arrays = fields, arrays
        self._values: dict[str, list[Any]] = {name: [] for name in fields + arrays}

    def add(self, *columns: np.ndarray, **values: Any) -> None:
        """Log one batch: ``columns`` in the order of ``arrays``, ``values`` by field."""
        if columns[0].size == 0:
            return
        for name, column in zip(self.arrays, columns, strict=True):
            self._values[name].append(column)
        for name in self.fields:
            self._values[name].append(values[name])

    def column(self, name: str, dtype: Any) -> np.ndarray:
        """One column over every row logged, in ``dtype``."""
        if name in self.arrays:
            parts = self._values[name]
            return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)
        sizes = [a.size for a in self._values[self.arrays[0]]]
        return (
            np.repeat(np.array(self._values[name], dtype=dtype), sizes)
            if sizes
            else np.empty(0, dtype)
        )

    def __len__(self) -> int:
        return sum(a.size for a in self._values[self.arrays[0]])


def _wrong_change(
    scratch: Scratch, real: np.ndarray, cf: np.ndarray, real_flip: np.ndarray, cf_flip: np.ndarray
) -> int:
    """The change in 'in the real set but not the counterfactual one', from today's flips."""
    if real_flip.size == 0 and cf_flip.size == 0:
        return 0
    who = scratch.distinct(np.concatenate([real_flip, cf_flip]))
    now_real, now_cf = real[who], cf[who]
    before = (now_real ^ scratch.member(who, real_flip)) & ~(now_cf ^ scratch.member(who, cf_flip))
    return int((now_real & ~now_cf).sum()) - int(before.sum())


class Books:
    """What a city's days leave behind.

    Args:
        behaviours: how many behaviours the scenario has.
        operators: how many operators.
        sensors: the sensors' names (recorded events are counted per sensor).
        sensor_of: each behaviour's sensor index.

    Attributes:
        totals: behaviours done, events recorded, misattributed and fabricated.
        listings: every change to a scheme's listing (real and error-free): day, operator,
            counterfactual, change (:class:`~xinyong.primitives.codes.ListingChange`) per
            batch; subject (column number), reason (a
            :class:`~xinyong.primitives.codes.ListingReason`; 0, none, for a release) per row.
        list_changes: every change to a list: day, operator, list (its index in the
            operator's book), counterfactual, change
            (:class:`~xinyong.primitives.codes.ListChange`); subject per row.
    """

    def __init__(
        self, behaviours: int, operators: int, sensors: list[str], sensor_of: np.ndarray
    ) -> None:
        self.sensors, self.sensor_of = sensors, sensor_of
        self.totals = {"occurred": 0, "recorded": 0, "misattributed": 0, "fabricated": 0}
        self.occurred_by_behaviour = np.zeros(behaviours, dtype=np.int64)
        self.occurred_daily: list[np.ndarray] = []  # occurrences per behaviour, each day
        self.wrongly_listed = np.zeros(operators, dtype=np.int64)
        self.daily: list[dict[str, Any]] = []
        self.daily_operators: list[dict[str, Any]] = []
        self.daily_lists: list[dict[str, Any]] = []
        self.listings = Batches(
            ("day", "operator", "counterfactual", "change"), ("subject", "reason")
        )
        self.list_changes = Batches(
            ("day", "operator", "list", "counterfactual", "change"), ("subject",)
        )
        self._list_members: dict[tuple[int, int], int] = {}
        self._list_wrong: dict[tuple[int, int], int] = {}

    # -- the day ----------------------------------------------------------------------------

    def count_occurred(self, counts: np.ndarray) -> None:
        """Today's occurrences per behaviour."""
        self.occurred_by_behaviour += counts
        self.occurred_daily.append(counts)

    def count_operator(
        self,
        day: int,
        op: OperatorState,
        real: Judgement,
        counterfactual: Judgement,
        events: Events,
        dismissed: np.ndarray,
        scratch: Scratch,
    ) -> None:
        """One operator's day: its listings and lists, real and error-free, and its row of
        the daily series."""
        changes, cf_changes = real.listing, counterfactual.listing
        self.wrongly_listed[op.index] += _wrong_change(
            scratch,
            op.standing.listed,
            op.counterfactual.listed,
            changes.toggled(),
            cf_changes.toggled(),
        )
        for cf, judgement in ((False, real), (True, counterfactual)):
            for lst, change, who in judgement.lists.entries:
                self.list_changes.add(
                    who, day=day, operator=op.index, list=lst, counterfactual=cf, change=change
                )
        if op.lists:
            self._count_lists(day, op, real, counterfactual, scratch)
        for cf, ch in ((False, changes), (True, cf_changes)):
            for change, who, reason in (
                (_LISTED, ch.listed, ch.reason_listed),
                (_RELISTED, ch.relisted, ch.reason_relisted),
                (_RELEASED, ch.released, np.zeros(ch.released.size, np.int8)),
            ):
                self.listings.add(
                    who, reason, day=day, operator=op.index, counterfactual=cf, change=change
                )
        standing = op.standing
        row: dict[str, Any] = {
            "day": day,
            "operator": op.name,
            "covered": op.covered_total,
            "score_sum": op.score_sum(),
            "listed": int(standing.grade_counts[-1]),
            "ever_listed": standing.ever_listed_count,
            "wrongly_listed": int(self.wrongly_listed[op.index]),
            "counterfactual_listed": int(op.counterfactual.grade_counts[-1]),
            "counted": len(events) - int(dismissed.sum()),
            "dismissed": int(dismissed.sum()),
        }
        for name, count in zip(standing.grade_names, op.grade_counts(), strict=True):
            row[f"count_{name}"] = int(count)
        self.daily_operators.append(row)

    def _count_lists(
        self,
        day: int,
        op: OperatorState,
        real: Judgement,
        counterfactual: Judgement,
        scratch: Scratch,
    ) -> None:
        """Members and wrongly listed members of each list, updated from today's changes."""
        for i, (lst, cf_lst) in enumerate(zip(op.lists.lists, op.cf_lists.lists, strict=True)):
            flips = [
                np.concatenate(
                    [
                        who
                        for j, change, who in j_.lists.entries
                        if j == i and change in _MEMBERSHIP_FLIPS
                    ]
                    or [_NONE]
                )
                for j_ in (real, counterfactual)
            ]
            key = (op.index, i)
            joined_or_left = sum(
                (1 if c in JOINS else -1) * who.size
                for j, c, who in real.lists.entries
                if j == i and c in _MEMBERSHIP_FLIPS
            )
            self._list_members[key] = self._list_members.get(key, 0) + joined_or_left
            self._list_wrong[key] = self._list_wrong.get(key, 0) + _wrong_change(
                scratch, lst.member, cf_lst.member, *flips
            )
            self.daily_lists.append(
                {
                    "day": day,
                    "operator": op.name,
                    "list": lst.spec.name,
                    "members": self._list_members[key],
                    "wrongly_listed": self._list_wrong[key],
                }
            )

    def count_day(
        self,
        events: dict[str, Events],
        operators: int,
        result: DayResult,
        collectors: bool,
        effects_row: dict[str, Any] | None,
    ) -> None:
        """The day's row of the city's daily series (the first operator's figures, what was
        done and recorded, as ``result`` counts them, and what the consequences did)."""
        occurred, recorded = result.occurred, result.recorded
        mis, fab = result.misattributed, result.fabricated
        self.totals["occurred"] += occurred
        self.totals["recorded"] += recorded
        self.totals["misattributed"] += mis
        self.totals["fabricated"] += fab
        primary = self.daily_operators[-operators]
        row: dict[str, Any] = {
            k: v for k, v in primary.items() if k not in ("operator", "counted", "dismissed")
        }
        row.update(occurred=occurred, recorded=recorded, misattributed=mis)
        if collectors:
            row["fabricated"] = fab
        by_sensor = np.zeros(len(self.sensors), dtype=np.int64)
        for e in events.values():
            by_sensor += np.bincount(self.sensor_of[e.behaviour], minlength=by_sensor.size)
        for name, count in zip(self.sensors, by_sensor, strict=True):
            row[f"recorded_{name}"] = int(count)
        if effects_row is not None:
            row.update({k: v for k, v in effects_row.items() if k != "day"})
        self.daily.append(row)

    # -- results ----------------------------------------------------------------------------

    def occurrences(self) -> np.ndarray:
        """Occurrences per day (rows) and behaviour (columns) so far."""
        return np.array(self.occurred_daily, dtype=np.int64).reshape(
            len(self.occurred_daily), self.occurred_by_behaviour.size
        )

    def tally(self, counts: dict[str, Any], twin_daily: np.ndarray | None) -> Tally:
        """The tally of these books, with the city's other ``counts``."""
        return Tally(
            counts,
            daily=list(self.daily),
            daily_operators=list(self.daily_operators),
            daily_lists=list(self.daily_lists),
            occurred_daily=self.occurrences(),
            twin_daily=twin_daily,
        )


def operator_counts(op: OperatorState, day: int) -> dict[str, Any]:
    """One operator's standing now, as counts over its covered subjects (``day``: the last
    day done, for grades under caps)."""
    real, cf = op.standing, op.counterfactual
    mask = slice(None) if op.covered is None else op.covered
    return {
        "covered": op.covered_total,
        "score_sum": op.score_sum(),
        "grades": {g: int(c) for g, c in zip(real.grade_names, op.grade_counts(), strict=True)},
        "listed": int(real.listed[mask].sum()),
        "ever_listed": int(real.ever_listed[mask].sum()),
        "wrongly_listed": int((real.listed & ~cf.listed).sum()),
        "counterfactual_listed": int(cf.listed[mask].sum()),
        "counted": op.counted,
        "dismissed": op.dismissed,
        **grade_counts(op, day),
        "lists": {
            lst.spec.name: {
                "members": int(lst.member.sum()),
                "ever_listed": int((lst.since >= 0).sum()),
                "counterfactual_members": int(cf_lst.member.sum()),
                "wrongly_listed": int((lst.member & ~cf_lst.member).sum()),
                "wrongly_missing": int((~lst.member & cf_lst.member).sum()),
            }
            for lst, cf_lst in zip(op.lists.lists, op.cf_lists.lists, strict=True)
        },
    }
