"""Blacklists and red lists: violations and terms, repeats, escalation, credit repair, red lists.

Each test feeds a book hand-made events and scores, day by day, and states what the rules give.
"""

from __future__ import annotations

import numpy as np

from xinyong.lists import LIST_CHANGES, ListBook
from xinyong.scenario import Escalation, ListSpec
from xinyong.scratch import Scratch

BEHAVIOURS = {"debt": 0, "fraud": 1, "litter": 2}


class Day:
    """Drive a book one day at a time over 5 subjects with given scores."""

    def __init__(self, *specs: ListSpec, days: int = 400) -> None:
        self.book = ListBook(list(specs), BEHAVIOURS, 5, days, Scratch(5))
        self.score = np.full(5, 100, dtype=np.int64)
        self.listed = np.zeros(5, dtype=bool)

    def __call__(self, day: int, events: list[tuple[int, str]] = ()) -> set[tuple[str, int]]:
        subjects = np.array([s for s, _ in events], dtype=np.int64)
        behaviours = np.array([BEHAVIOURS[b] for _, b in events], dtype=np.int64)
        changes = self.book.update(day, subjects, behaviours, self.score, self.listed,
                                   np.empty(0, dtype=np.int64))
        return {(LIST_CHANGES[c], int(s)) for _, c, who in changes.entries for s in who}


DEBTORS = ListSpec(name="debtors", title="dishonest debtor", behaviours=["debt", "fraud"],
                   terms={"fraud": 1095}, term_days=730, repeat_extension_days=365)


def test_a_violation_lists_for_its_term_and_repeats_extend_it() -> None:
    day = Day(DEBTORS, days=2000)
    assert day(10, [(1, "debt"), (2, "fraud"), (3, "litter")]) == {("listed", 1), ("listed", 2)}
    lst = day.book.lists[0]
    assert (lst.until[1], lst.until[2]) == (740, 1105)  # 2 years, and 3 for fraud
    assert day.book.black_any[[1, 2, 3]].tolist() == [True, True, False]
    assert day(100, [(1, "debt")]) == {("extended", 1)}
    assert lst.until[1] == 740 + 365 and lst.repeats[1] == 1
    assert day(740) == set()  # the original term's end: the repeat moved it
    assert day(1104) == set()
    assert day(1105) == {("expired", 1), ("expired", 2)}
    assert not day.book.black_any.any()


def test_the_longest_term_of_the_day_wins() -> None:
    day = Day(DEBTORS)
    day(0, [(4, "debt"), (4, "fraud")])
    assert day.book.lists[0].until[4] == 1095


def test_escalation_warns_then_counsels_then_lists() -> None:
    spec = ListSpec(name="low", escalation=Escalation(below=60, counsel_after_days=5,
                                                      list_after_days=10), term_days=100)
    day = Day(spec)
    day.score[0] = 50
    assert day(3, [(0, "litter")]) == {("warned", 0)}
    for d in range(4, 8):
        assert day(d) == set()
    assert day(8) == {("counselled", 0)}
    assert day(17) == set()
    assert day(18) == {("listed", 0)}
    assert day.book.lists[0].until[0] == 118
    assert day(118) == {("expired", 0)}


def test_escalation_stops_when_the_score_recovers() -> None:
    spec = ListSpec(name="low", escalation=Escalation(below=60, counsel_after_days=5,
                                                      list_after_days=10))
    day = Day(spec)
    day.score[2] = 55
    assert day(0, [(2, "litter")]) == {("warned", 2)}
    day.score[2] = 70
    assert day(2, [(2, "litter")]) == set()
    assert day(5) == set()  # the due check finds it recovered
    assert day.book.lists[0].stage[2] == 0


def test_credit_repair_removes_early_once_the_score_recovers() -> None:
    spec = ListSpec(name="debtors", behaviours=["debt"], term_days=730,
                    repair_after_days=180, repair_min_score=90)
    day = Day(spec)
    day.score[1] = 50
    assert day(0, [(1, "debt")]) == {("listed", 1)}
    assert day(180) == set()  # the repair period is over, but 50 < 90
    day.score[1] = 95
    assert day(200, [(1, "litter")]) == {("repaired", 1)}


def test_red_list_holds_high_scorers_who_are_not_blacklisted() -> None:
    red = ListSpec(name="model-citizens", kind="red", min_score=120)
    day = Day(DEBTORS, red)
    day.score[:] = [130, 130, 100, 100, 125]
    day.listed[4] = True  # on the scheme listing: no poster
    assert day(0) == {("entered", 0), ("entered", 1)}
    assert day(1, [(1, "debt")]) == {("listed", 1), ("left", 1)}
    day.score[0] = 110
    assert day(2, [(0, "litter")]) == {("left", 0)}
    assert day.book.members("model-citizens").tolist() == []
