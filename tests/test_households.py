"""Households: members, parents and housemates of a hand-made street, and of a generated city
against a plain loop over its households."""

from __future__ import annotations

import numpy as np
import pytest

from xinyong.model.gates import GateStatus
from xinyong.model.households import Households
from xinyong.model.population import generate_population
from xinyong.primitives.streams import Streams
from xinyong.scenario import PopulationSpec

# Five homes, adults first:
#   0: a couple (0, 1) and two children (2, 3)   1: one adult (4)
#   2: a single parent (5) and a child (6)       3: two elderly (7, 8)
#   4: a couple (9, 10), a child (11) and a grandparent (12)
HOUSEHOLD = np.array([0, 0, 0, 0, 1, 2, 2, 3, 3, 4, 4, 4, 4])
ADULT = np.array([1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0], dtype=bool)
ALL_HOMES = np.arange(5)


@pytest.fixture
def street() -> Households:
    return Households.of(HOUSEHOLD, ADULT)


def _mask(*ids: int) -> np.ndarray:
    out = np.zeros(HOUSEHOLD.size, dtype=bool)
    out[list(ids)] = True
    return out


def test_the_layout_comes_from_household_ids(street: Households) -> None:
    assert street.start.tolist() == [0, 4, 5, 7, 9]
    assert street.size.tolist() == [4, 1, 2, 2, 4]


@pytest.mark.parametrize(
    "household", [[0, 1, 0], [1, 1, 2], [0, 2, 2]], ids=["apart", "not-from-0", "a-gap"]
)
def test_a_scattered_household_is_refused(household: list[int]) -> None:
    with pytest.raises(ValueError, match="sort the citizens by household"):
        Households.of(np.array(household), np.ones(3, dtype=bool))


def test_members_home_by_home(street: Households) -> None:
    assert street.members(np.array([2, 0])).tolist() == [5, 6, 0, 1, 2, 3]
    assert street.members(np.array([1, 1])).tolist() == [4, 4]
    assert street.members(np.array([], dtype=np.int64)).tolist() == []


def test_parents_are_the_adults_among_the_first_two(street: Households) -> None:
    ids, is_parent = street.parents(ALL_HOMES)
    assert is_parent.T.tolist() == [
        [True, True],
        [True, False],
        [True, False],
        [False, False],
        [True, True],
    ]
    assert ids[is_parent].tolist() == [0, 4, 5, 9, 1, 10]  # row by row: first, then second


def test_any_parent(street: Households) -> None:
    assert street.any_parent(ALL_HOMES, _mask(1)).tolist() == [True, False, False, False, False]
    # A child, a grandparent or an elderly couple is nobody's parent.
    assert not street.any_parent(ALL_HOMES, _mask(2, 7, 8, 12)).any()
    # A flag may be a function of ids, as a list's membership is.
    assert street.any_parent(ALL_HOMES, lambda ids: ids >= 9).tolist() == [
        False,
        False,
        False,
        False,
        True,
    ]


def test_all_parents(street: Households) -> None:
    assert street.all_parents(ALL_HOMES, _mask(0)).tolist() == [False, False, False, True, False]
    assert street.all_parents(ALL_HOMES, _mask(0, 1, 4)).tolist() == [
        True,
        True,
        False,
        True,
        False,
    ]


def test_anyone_else_leaves_the_citizen_out(street: Households) -> None:
    flagged = _mask(0)
    assert street.anyone_else(np.array([0, 1, 2, 4]), flagged).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert street.anyone_else(np.array([12, 11, 11]), _mask(12)).tolist() == [False, True, True]


def test_gates_ask_about_parents_through_the_households(street: Households) -> None:
    status = GateStatus(lists=[], grades={}, households=street, black=_mask(5, 12))
    everyone = np.arange(HOUSEHOLD.size)
    # The single parent 5 is blacklisted: her child 6 is flagged; the grandparent 12 is
    # nobody's parent here, so child 11 is not.
    assert np.flatnonzero(status.parent_blacklisted(everyone)).tolist() == [6]
    assert (
        not GateStatus(lists=[], grades={}, black=_mask(5)).parent_blacklisted(everyone).any()
    )  # no households: no parents


def test_a_generated_city_agrees_with_a_loop_over_its_homes() -> None:
    pop = generate_population(PopulationSpec(), 3000, Streams(4))
    homes = pop.homes
    flag = np.random.default_rng(1).random(pop.citizens) < 0.2
    members: dict[int, list[int]] = {h: [] for h in range(pop.households)}
    for c in range(pop.citizens):
        members[int(pop.household[c])].append(c)
    parents = {h: [c for c in m[:2] if pop.role[c] == 0] for h, m in members.items()}
    every = np.arange(pop.households)
    assert homes.members(every).tolist() == [c for h in every for c in members[h]]
    assert homes.any_parent(every, flag).tolist() == [
        any(flag[p] for p in parents[h]) for h in every
    ]
    assert homes.all_parents(every, flag).tolist() == [
        all(flag[p] for p in parents[h]) for h in every
    ]
    citizens = np.arange(pop.citizens)
    assert homes.anyone_else(citizens, flag).tolist() == [
        any(flag[m] for m in members[pop.household[c]] if m != c) for c in citizens
    ]
    # At most two adults per home, laid out first: the parents are all the adults.
    assert all(
        p == [c for c in m if pop.role[c] == 0]
        for p, m in zip(parents.values(), members.values(), strict=True)
    )
