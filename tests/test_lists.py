"""Blacklists and red lists: violations and terms, repeats, escalation, credit repair, red lists.

Each test feeds a book hand-made events and scores, day by day, and states what the rules give.
"""

from __future__ import annotations

import numpy as np
import pytest

import xinyong
from xinyong.model.lists import LIST_CHANGES, ListBook
from xinyong.primitives.codes import UNTIL_MET
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import DisclosureTier, Escalation, ListSpec, ScenarioError
from xinyong.scenario.overrides import apply

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
        changes = self.book.update(
            day, subjects, behaviours, self.score, self.listed, np.empty(0, dtype=np.int64)
        )
        return {(LIST_CHANGES[c], int(s)) for _, c, who in changes.entries for s in who}


DEBTORS = ListSpec(
    name="debtors",
    title="dishonest debtor",
    behaviours=["debt", "fraud"],
    terms={"fraud": 1095},
    term_days=730,
    repeat_extension_days=365,
)


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
    spec = ListSpec(
        name="low",
        escalation=Escalation(below=60, counsel_after_days=5, list_after_days=10),
        term_days=100,
    )
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
    spec = ListSpec(
        name="low", escalation=Escalation(below=60, counsel_after_days=5, list_after_days=10)
    )
    day = Day(spec)
    day.score[2] = 55
    assert day(0, [(2, "litter")]) == {("warned", 2)}
    day.score[2] = 70
    assert day(2, [(2, "litter")]) == set()
    assert day(5) == set()  # the due check finds it recovered
    assert day.book.lists[0].stage[2] == 0


def test_credit_repair_removes_early_once_the_score_recovers() -> None:
    spec = ListSpec(
        name="debtors",
        behaviours=["debt"],
        term_days=730,
        repair_after_days=180,
        repair_min_score=90,
    )
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


def test_repeats_extend_the_term_only_up_to_the_cap() -> None:
    """Four repeats at a year each would give six years; a listing clears within five [003]."""
    capped = DEBTORS.model_copy(update={"max_term_days": 1826})
    day = Day(capped, days=3000)
    day(0, [(1, "debt")])
    for d in (100, 200, 300, 400):
        assert day(d, [(1, "debt")]) == {("extended", 1)}
    lst = day.book.lists[0]
    assert lst.until[1] == 1826 and lst.repeats[1] == 4  # not 730 + 4 * 365 = 2190
    assert day(1825) == set()
    assert day(1826) == {("expired", 1)}


def test_repair_waits_for_the_tier_minimum() -> None:
    """NDRC Order 58: a minor violation may be repaired after 90 days, a serious one after a
    year; each stays published no longer than its tier's maximum."""
    tiers = [
        DisclosureTier(name="minor", behaviours=["debt"], min_days=90, max_days=90),
        DisclosureTier(name="serious", behaviours=["fraud"], min_days=365, max_days=1095),
    ]
    spec = ListSpec(
        name="penalties",
        behaviours=["debt", "fraud"],
        tiers=tiers,
        repair_after_days=365,
        repair_min_score=50,
    )
    day = Day(spec, days=2000)
    day(0, [(1, "fraud"), (2, "debt")])
    lst = day.book.lists[0]
    assert (lst.until[1], lst.until[2]) == (1095, 90)
    day.score[1] = 40  # not corrected yet: no repair when it becomes possible
    assert day(90) == {("expired", 2)}
    assert day(365) == set()
    day.score[1] = 100
    assert day(366, [(3, "litter")]) == set()  # only looked at when due or touched
    assert day(400, [(1, "litter")]) == {("repaired", 1)}


def test_obligations_met_end_listings_early_on_the_same_day_real_and_error_free() -> None:
    spec = DEBTORS.model_copy(update={"obligation_met_per_year": 2.0})
    real, cf = Day(spec, days=800), Day(spec, days=800)
    events = [(s, "debt") for s in range(5)]
    real(0, events)
    cf(0, events)
    met = real.book.lists[0].met_on.copy()
    assert (met == cf.book.lists[0].met_on).all()  # keyed draws: the same listing, same day
    assert (met >= 1).all() and (met < 730).any()
    left: dict[int, int] = {}
    for d in range(1, 800):
        for change, who in real(d):
            assert change == "obligation met" and d == met[who]
            left[who] = d
    assert set(left) == {s for s in range(5) if met[s] < 730}


def test_opening_stock_is_drawn_at_its_share_with_running_terms() -> None:
    spec = DEBTORS.model_copy(update={"opening_share": 0.1, "obligation_met_per_year": 0.5})
    n = 20_000
    book = ListBook([spec], BEHAVIOURS, n, 365, Scratch(n), streams=Streams(3))
    book.open(np.ones(n))
    lst = book.lists[0]
    assert abs(lst.member.mean() - 0.1) < 0.01
    since = lst.since[lst.member]
    assert (since <= 0).all() and (since > -730).all()
    assert (lst.until[lst.member] == since + 730).all()
    # Older listings are rarer (some met their obligation): a decreasing age profile.
    assert (since > -365).mean() > 0.55
    changes = book.update(
        0,
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.zeros(n),
        np.zeros(n, bool),
        np.empty(0, np.int64),
    )
    assert [(LIST_CHANGES[c], who.size) for _, c, who in changes.entries] == [
        ("opening stock", int(lst.member.sum()))
    ]
    assert book.black_any.sum() == lst.member.sum()


def test_only_the_termed_share_of_listings_ends_with_its_term() -> None:
    spec = DEBTORS.model_copy(update={"termed_share": 0.3, "obligation_met_per_year": 0.01})
    n = 20_000
    book = ListBook([spec], BEHAVIOURS, n, 1200, Scratch(n), streams=Streams(5))
    cf = ListBook([spec], BEHAVIOURS, n, 1200, Scratch(n), streams=Streams(5))
    everyone, debt = np.arange(n), np.zeros(n, dtype=np.int64)
    none, zeros = np.empty(0, np.int64), np.zeros(n)
    for b in (book, cf):
        b.update(0, everyone, debt, zeros, np.zeros(n, bool), none)
    lst = book.lists[0]
    termed = lst.until < UNTIL_MET
    assert abs(termed.mean() - 0.3) < 0.015
    assert (lst.until[termed] == 730).all()
    assert (lst.until == cf.lists[0].until).all()  # keyed by subject and day: real = error-free
    book.update(100, everyone, debt, zeros, np.zeros(n, bool), none)  # a repeat extends...
    assert (lst.until[termed] == 730 + 365).all() and (lst.until[~termed] == UNTIL_MET).all()
    left = book.update(1095, none, none, zeros, np.zeros(n, bool), none)
    expired = {LIST_CHANGES[c]: who for _, c, who in left.entries}["expired"]
    assert set(expired) <= set(np.flatnonzero(termed))  # ...but only a term can end
    assert lst.member[~termed].mean() > 0.95  # the others wait for their obligation


def test_a_list_without_terms_needs_a_rate_of_meeting_obligations() -> None:
    scenario = xinyong.load_scenario("rongcheng")
    with pytest.raises(ScenarioError, match=r"termed_share.*obligation_met_per_year"):
        apply(
            scenario,
            {
                "operators.city.scheme.lists.dishonest-debtors.obligation_met_per_year": None,
                "operators.city.scheme.lists.dishonest-debtors.termed_share": 0.5,
            },
        )
