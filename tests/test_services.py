"""Service uses at the point of service: each service remembers its own refusals."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from helpers import tiny_scenario

from xinyong.model.gates import GateStatus, ListView
from xinyong.model.services import ServiceUses
from xinyong.primitives import compiled
from xinyong.primitives.clock import Inline
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import Consequences, ScenarioError
from xinyong.scenario.consequences import REMEMBERING_SERVICES

N = 4000  # citizens: the first half on list "a" (refused planes), every third on "b" (trains)
DAYS = 200
ON_A = np.arange(N) < N // 2
ON_B = np.arange(N) % 3 == 0


def _status(since_b: np.ndarray | None = None) -> GateStatus:
    today = np.zeros(N, dtype=np.int32)  # listed on day 0: no refusals before it
    return GateStatus(
        lists=[
            ListView("a", "on list a", "court", "black", ON_A.copy(), today, None),
            ListView(
                "b",
                "on list b",
                "court",
                "black",
                ON_B.copy(),
                today if since_b is None else since_b,
                None,
            ),
        ],
        grades={},
    )


def _table(air: dict[str, Any], rail: dict[str, Any] | None = None) -> Consequences:
    services = [{"name": "air", "title": "a plane ticket", "uses_per_year": 7.3, **air}]
    rules = [{"service": "air", "action": "deny", "on_list": "a", "what": "no planes"}]
    if rail is not None:
        services.append({"name": "rail", "title": "a train ticket", "uses_per_year": 7.3, **rail})
        rules.append({"service": "rail", "action": "deny", "on_list": "b", "what": "no trains"})
    return Consequences(name="t", services=services, rules=rules)


def _uses(table: Consequences, seed: int = 5, since_b: np.ndarray | None = None) -> ServiceUses:
    status = _status(since_b)
    return ServiceUses(
        table, "court", status, status, N, np.full(N, 40), False, Streams(seed), DAYS, Scratch(N), 0
    )


def _day(uses: ServiceUses, day: int) -> tuple[np.ndarray, np.ndarray]:
    """One day at the gates; the citizens refused and the service each was refused at."""
    uses.check(day, Inline())
    refused = uses._unsettled  # (citizens, services, counts) until settle
    uses.settle()
    uses.reschedule()
    if refused is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return refused[0], refused[1]


def _rate(uses: ServiceUses, service: int, citizens: np.ndarray) -> np.ndarray:
    return uses.uses.rates(citizens, np.full(citizens.size, service), uses.remembers)


def test_a_train_refusal_leaves_the_plane_rate_alone_and_the_reverse() -> None:
    """Both services remember (a train refusal for long, a plane refusal for less): a citizen
    who remembers only one asks for that one less often, and for the other as before."""
    uses = _uses(
        _table(
            {"after_refusal": 0.5, "refusal_memory_days": 60},
            {"after_refusal": 0.2, "refusal_memory_days": 3650},
        )
    )
    everyone = np.arange(N)
    base = _rate(uses, 0, everyone), _rate(uses, 1, everyone)
    for day in range(60):
        _day(uses, day)
    air, rail = 1 << uses._remembering.index(0), 1 << uses._remembering.index(1)
    state = uses.remembers
    only_rail = np.flatnonzero(state == rail)
    only_air = np.flatnonzero(state == air)
    both = np.flatnonzero(state == air | rail)
    assert min(only_rail.size, only_air.size, both.size) > 20  # each kind of memory is seen
    assert np.array_equal(_rate(uses, 0, only_rail), base[0][only_rail])  # planes as before
    assert np.allclose(_rate(uses, 1, only_rail), base[1][only_rail] * 0.2)
    assert np.array_equal(_rate(uses, 1, only_air), base[1][only_air])  # trains as before
    assert np.allclose(_rate(uses, 0, only_air), base[0][only_air] * 0.5)
    assert np.allclose(_rate(uses, 0, both), base[0][both] * 0.5)
    assert np.allclose(_rate(uses, 1, both), base[1][both] * 0.2)
    nobody = np.flatnonzero(state == 0)
    assert np.array_equal(_rate(uses, 0, nobody), base[0][nobody])
    assert not state[~ON_A & ~ON_B].any()  # nobody remembers what never refused them


def test_an_opening_stock_remembers_the_refusals_of_its_years_on_the_list() -> None:
    """Members listed long before day 0 (a warm start's) have asked for trains since and been
    refused: they start remembering, and ask at the remembered rate from the first day.
    Without it, every opening member asked at the full rate and was refused in the first weeks,
    so a steady city's first year counted the stock's first refusals again."""
    old = ON_B & (np.arange(N) % 2 == 0)  # half of list b listed 2,000 days before day 0
    since = np.where(old, -2000, -1).astype(np.int32)  # the others the day before
    uses = _uses(
        _table({}, {"after_refusal": 0.2, "refusal_memory_days": 3650}), since_b=since.copy()
    )
    bit = 1 << uses._remembering.index(1)
    remembers = (uses.remembers & bit) > 0
    fresh = ON_B & ~old
    assert remembers[old].mean() > 0.95  # asked at 0.02 a day for 2,000 days: all refused
    assert remembers[fresh].mean() < 0.1  # one day: about 2 %
    assert not remembers[~ON_B].any()
    until = uses._until[uses._remembering.index(1)][old & remembers]
    assert until.min() > 0 and until.max() <= 3650  # from their latest refusal, before day 0
    refused = np.zeros(N)
    for day in range(100):
        who, service = _day(uses, day)
        np.add.at(refused, who[service == 1], 1)
    # 100 days at a fifth of 0.02 a day (0.4 each) against a first refusal within the 100
    # days (0.86) and a fifth of the rate after it
    assert refused[old].mean() < 0.6 * refused[fresh].mean()
    assert 0.25 < refused[old].mean() < 0.55


def test_each_memory_ends_on_its_own_service_s_latest_refusal() -> None:
    """Day by day, a citizen remembers service s exactly until ``refusal_memory_days[s]``
    after their latest refusal at s: a refusal at one service extends that memory only."""
    memory = {0: 9, 1: 25}
    uses = _uses(
        _table(
            {"after_refusal": 0.6, "refusal_memory_days": memory[0], "uses_per_year": 36.5},
            {"after_refusal": 1.5, "refusal_memory_days": memory[1], "uses_per_year": 36.5},
        )
    )
    last = np.full((2, N), -10_000)
    ended = 0
    for day in range(120):
        citizens, services = _day(uses, day)
        last[services, citizens] = day
        for s in (0, 1):
            bit = 1 << uses._remembering.index(s)
            remembers = (uses.remembers & bit) != 0
            assert np.array_equal(remembers, day < last[s] + memory[s]), (day, s)
            ended += int(((last[s] + memory[s]) == day).sum())
    assert ended > 100  # memories did end, service by service, while others ran on


def _refusals(air: dict[str, Any]) -> tuple[int, int]:
    """Plane refusals over the horizon, and plane uses by those never listed."""
    uses = _uses(_table({"refusal_memory_days": 30, **air}))
    for day in range(DAYS):
        _day(uses, day)
    series = uses.series()
    return int(series["denied"][:, 0].sum()), int(
        series["used"][:, 0].sum() - series["denied"][:, 0].sum()
    )


def test_a_refused_flyer_who_tries_again_is_refused_more_for_the_memory_only() -> None:
    """``after_refusal`` above 1: a refused flyer asks three times as often for 30 days after
    each refusal, each try refused again; those never refused ask as before. (Before each
    service remembered its own refusals, a factor above 1 changed nothing on its own.)"""
    once, others = _refusals({"after_refusal": 1.0})
    again, others_again = _refusals({"after_refusal": 3.0})
    # A listed flyer asks 7.3 times a year; after a refusal 21.9 a year for 30 days (about
    # 1.8 tries, each one refusal that extends the memory): most of the time is remembered.
    assert 2.0 < again / once < 3.0
    assert others_again == others  # the unlisted never remember anything: the same draws
    uses = _uses(_table({"after_refusal": 3.0, "refusal_memory_days": 30}))
    for day in range(40):
        _day(uses, day)
    remembers = np.flatnonzero(uses.remembers)
    assert remembers.size and ON_A[remembers].all()
    base = _uses(_table({"after_refusal": 1.0}))
    rate = _rate(uses, 0, remembers)
    assert np.allclose(rate, _rate(base, 0, remembers) * 3.0)


def test_a_service_that_begins_to_remember_at_a_dated_change() -> None:
    """A change that makes a service remember for the first time: refusals from that day on
    are remembered, the compiled kernels read the new table, and a pickled city (a checkpoint
    of a split run) goes on exactly as the one that was not."""
    uses = _uses(_table({}, {"after_refusal": 1.0}))
    assert not uses._remembering
    for day in range(10):
        _day(uses, day)
    assert not uses.remembers.any()
    later = _table({"after_refusal": 2.0, "refusal_memory_days": 20}, {"after_refusal": 0.3})
    uses.retune(10, later, "court")
    for day in range(10, 30):
        _day(uses, day)
    assert len(uses._remembering) == 2 and uses.remembers.any()
    copy = pickle.loads(pickle.dumps(uses))
    for day in range(30, 60):
        a, b = _day(uses, day), _day(copy, day)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.array_equal(uses.remembers, copy.remembers)
    pairs = np.arange(N * 2, dtype=np.int64)
    fast = uses.uses.next_filing(60, pairs, uses.remembers)
    was, compiled.ON = compiled.ON, False
    try:
        slow = uses.uses.next_filing(60, pairs, uses.remembers)
    finally:
        compiled.ON = was
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])


def test_a_service_that_remembers_nothing_keeps_one_state() -> None:
    """No service remembers: one state (a table of one row), and no memory kept."""
    uses = _uses(_table({}, {}))
    for day in range(30):
        _day(uses, day)
    assert uses.uses._listed_factor.size == 2 and not uses.uses.listing_matters
    assert not uses.remembers.any() and not uses._until


def test_too_many_remembering_services_are_refused_at_load() -> None:
    services = [
        {"name": f"s{i}", "title": "a thing", "uses_per_year": 1.0, "after_refusal": 0.5}
        for i in range(REMEMBERING_SERVICES + 1)
    ]
    rules = [
        {"service": s["name"], "action": "deny", "blacklisted": True, "what": "no"}
        for s in services
    ]
    with pytest.raises(ScenarioError) as caught:
        tiny_scenario(
            [{"name": "fraud", "p": 0.01, "points": -10, "sensor": "sure"}],
            consequences={"name": "t", "services": services, "rules": rules},
        )
    message = str(caught.value)
    assert "scenario 'tiny', consequences.services = " in message
    assert f"at most {REMEMBERING_SERVICES} services may remember refusals" in message
    assert "set after_refusal = 1" in message
    assert len(message.splitlines()) == 1
