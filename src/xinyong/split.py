"""Split runs: one city simulated as blocks of citizens, with the same results as one piece.

Every random draw is addressed by (seed, stream, day, citizen), so a block draws exactly what the
whole city draws for its citizens. What crosses blocks is exchanged at the day's boundary in a
deterministic order: an event attributed to a citizen of another block (a misattribution) is
handed to that block before scoring. Blocks follow neighbourhood boundaries, so households,
collectors' beats and neighbourhoods never straddle two blocks.

This module runs the blocks one after another in one process; the same two calls per day,
:meth:`City.observe` and :meth:`City.judge`, are what workers on other cores or machines run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from xinyong.city import Block, City
from xinyong.population import generate_population
from xinyong.scenario import Scenario
from xinyong.sensors import Events
from xinyong.store import RunStore
from xinyong.streams import Streams

__all__ = ["SplitCity", "blocks", "merge", "route"]


def blocks(scenario: Scenario, seed: int, count: int) -> list[Block]:
    """Cut a city into ``count`` blocks of about equal size, at neighbourhood boundaries."""
    n = scenario.citizens
    cuts = np.linspace(0, n, count + 1).round().astype(np.int64)
    orgs = 0
    if scenario.population is not None:
        pop = generate_population(scenario.population, n, Streams(seed))
        orgs = pop.organisations
        # Move each cut to the first citizen of the neighbourhood it falls in.
        starts = np.flatnonzero(np.r_[True, pop.neighbourhood[1:] != pop.neighbourhood[:-1]])
        cuts[1:-1] = starts[np.searchsorted(starts, cuts[1:-1], side="right") - 1]
    org_cuts = np.linspace(0, orgs, count + 1).round().astype(np.int64)
    return [Block(int(cuts[i]), int(cuts[i + 1]), int(org_cuts[i]), int(org_cuts[i + 1]))
            for i in range(count)]


def route(observed: list[dict[str, Events]], blocks_: list[Block]) -> list[dict[str, Events]]:
    """Hand every observed event to the block that owns its subject.

    Blocks' events are taken in block order, so every block receives them in the same order
    however the blocks are spread over workers.
    """
    bounds = {"citizen": np.array([b.lo for b in blocks_[1:]]),
              "company": np.array([b.org_lo for b in blocks_[1:]])}
    inboxes: list[dict[str, list[Events]]] = [{} for _ in blocks_]
    for events in observed:
        for kind, e in events.items():
            owner = np.searchsorted(bounds[kind], e.subject, side="right")
            for j in range(len(blocks_)):
                inboxes[j].setdefault(kind, []).append(e.where(owner == j))
    return [{kind: Events.concat(parts) for kind, parts in inbox.items()} for inbox in inboxes]


class SplitCity:
    """A city simulated as blocks that exchange the events crossing them each day.

    Args:
        scenario: the city.
        seed: the seed.
        count: how many blocks.
        store: where every block writes its ledger (None: no ledger).
    """

    def __init__(self, scenario: Scenario, seed: int, count: int,
                 store: RunStore | None = None) -> None:
        self.blocks = blocks(scenario, seed, count)
        self.cities = [City(scenario, seed, store, block=b) for b in self.blocks]
        self.days = scenario.days

    @property
    def day(self) -> int:
        return self.cities[0].day

    def step(self) -> None:
        """One day: every block observes, events go to their subjects' blocks, blocks judge."""
        observed = [city.observe() for city in self.cities]
        for city, inbox in zip(self.cities, route(observed, self.blocks), strict=True):
            city.judge(inbox)

    def run(self, progress: Callable[[int], None] | None = None) -> City:
        """Simulate every remaining day; returns the whole city, the blocks folded together."""
        while self.day < self.days:
            self.step()
            if progress:
                progress(self.day)
        for city in self.cities:
            city.finish()
        return merge(self.cities, self.blocks)


_STANDING = ("score", "listed", "ever_listed", "listing_day", "cap_grade", "cap_until")
_LIST = ("member", "since", "until", "repeats", "stage", "stage_since")


def _take(into: np.ndarray, source: np.ndarray, own: range) -> None:
    if into.size:
        into[own.start:own.stop] = source[own.start:own.stop]


def _merge_rows(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """Daily rows of several blocks added up, key by key (every value is an integer)."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key not in merged:
            merged[key] = dict(row)
            continue
        into = merged[key]
        for column, value in row.items():
            if column not in keys:
                into[column] = into.get(column, 0) + value
    return list(merged.values())


def merge(cities: list[City], blocks_: list[Block]) -> City:
    """Fold the blocks of a finished split run into the first one, which then holds the whole
    city: each block's own subjects, and every count and log added up."""
    whole = cities[0]
    for city, block in zip(cities[1:], blocks_[1:], strict=True):
        own = {"citizen": range(block.lo, block.hi),
               "company": range(block.org_lo, block.org_hi)}
        for op, other in zip(whole.operators, city.operators, strict=True):
            mine = own[op.subject]
            for standing, theirs in ((op.standing, other.standing),
                                     (op.counterfactual, other.counterfactual)):
                for name in _STANDING:
                    _take(getattr(standing, name), getattr(theirs, name), mine)
            for book, theirs in ((op.lists, other.lists), (op.cf_lists, other.cf_lists)):
                for lst, their in zip(book.lists, theirs.lists, strict=True):
                    for name in _LIST:
                        _take(getattr(lst, name), getattr(their, name), mine)
                _take(book.black_any, theirs.black_any, mine)
            if op.covered is not None and other.covered is not None:
                op.covered |= other.covered
            op.counted += other.counted
            op.dismissed += other.dismissed
        for key in whole.totals:
            whole.totals[key] += city.totals[key]
        whole.wrongly_listed += city.wrongly_listed
        whole.occurred_by_behaviour += city.occurred_by_behaviour
        whole.occurred_daily = [a + b for a, b in zip(whole.occurred_daily,
                                                      city.occurred_daily, strict=True)]
        whole._listings += city._listings
        whole._list_changes += city._list_changes
        for key, value in city._list_members.items():
            whole._list_members[key] = whole._list_members.get(key, 0) + value
        for key, value in city._list_wrong.items():
            whole._list_wrong[key] = whole._list_wrong.get(key, 0) + value
        whole._daily += city._daily
        whole._daily_operators += city._daily_operators
        whole._daily_lists += city._daily_lists
        if whole.effects is not None and city.effects is not None:
            effects, theirs = whole.effects, city.effects
            if effects.gates is not None:
                effects.decisions += theirs.decisions
                effects.wrongly_denied += theirs.wrongly_denied
            _take(effects.children_affected, theirs.children_affected, own["citizen"])
            effects._notices += theirs._notices
            effects.daily += theirs.daily
    for op in whole.operators:
        op.recount(whole.day - 1)
    whole._daily = _merge_rows(whole._daily, ("day",))
    whole._daily_operators = _merge_rows(whole._daily_operators, ("day", "operator"))
    whole._daily_lists = [tuple(r.values()) for r in _merge_rows(
        [dict(zip(("day", "operator", "list", "members", "wrongly_listed"), r, strict=True))
         for r in whole._daily_lists], ("day", "operator", "list"))]
    if whole.effects is not None:
        whole.effects.daily = _merge_rows(whole.effects.daily, ("day",))
    whole.block = Block(0, whole.n, 0, blocks_[-1].org_hi)
    whole.whole = True
    return whole
